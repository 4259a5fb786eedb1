//! Image input: an image, inline or by URL, reaches the upstream.

use switchboard_core::{ContentPart, Message, Role};

use crate::cases::assertions::{CheckResult, check_answer};
use crate::cases::harness::CaseRun;
use crate::fixtures::WireFixtures;

impl<F: WireFixtures + ?Sized> CaseRun<'_, F> {
    /// An answer to a request with `image`, which must reach the upstream.
    pub(super) async fn image(&mut self, image: ContentPart) -> CheckResult {
        let sc = self.fx.image_input();
        let server = self.chat_server(&sc.response).await;
        let provider = self.build(&server).await?;
        let mut req = self.request();
        req.messages = vec![Message {
            role: Role::User,
            content: vec![ContentPart::text("What is in this image?"), image.clone()],
            ..Message::user("")
        }];
        let resp = self.chat_ok(&*provider, &req).await?;
        check_answer(&resp, &sc, false)?;
        let body = self.upstream_body(&server).await?;
        self.fx.image_sent(&body, &image)
    }
}

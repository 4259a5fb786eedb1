//! The same-format fast path through the router: a request in the client's
//! own wire format goes to providers that
//! [`forward`](switchboard_core::Provider::forward) it, and through the
//! full path on the same targets when one of them does not.

use switchboard_core::{
    ChatResponse, ChatStream, Error, ForwardRequest, ForwardedReply, ForwardedStream,
};

use super::{Routed, Router, Target, answered_by};
use crate::config::types::FallbackOn;
use crate::registry::Generation;
use crate::validated::Validated;

/// A chat answer from [`Switchboard::chat_forward`](crate::Switchboard::chat_forward).
#[derive(Debug)]
pub enum Forwarded {
    /// Forwarded: the upstream's answer, in the caller's wire format as it
    /// came.
    Reply(Routed<ForwardedReply>),
    /// Through the full path, because a target's provider does not forward
    /// the request: the answer in the core vocabulary, to encode.
    Parsed(Routed<ChatResponse>),
}

/// A streamed chat answer from
/// [`Switchboard::chat_forward_stream`](crate::Switchboard::chat_forward_stream).
pub enum StreamForwarded {
    /// Forwarded: the upstream's events, in the caller's wire format as
    /// they came.
    Frames(Routed<ForwardedStream>),
    /// Through the full path, because a target's provider does not forward
    /// the request: events in the core vocabulary, to encode.
    Events(Routed<ChatStream>),
}

impl std::fmt::Debug for StreamForwarded {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StreamForwarded::Frames(r) => f.debug_tuple("Frames").field(&r.route).finish(),
            StreamForwarded::Events(r) => f.debug_tuple("Events").field(&r.route).finish(),
        }
    }
}

impl Router {
    /// A chat answer for a request in the client's own wire format:
    /// forwarded when every target's provider
    /// [`forwards`](switchboard_core::Provider::forwards) it, else through
    /// the full path (the same targets, resolved once).
    pub(crate) async fn chat_forward_validated(
        &self,
        request: Validated<ForwardRequest>,
    ) -> Result<Forwarded, Error> {
        let generation = self.registry.generation();
        let (targets, fallback_on, forwards) = forward_targets(&generation, &request)?;
        if forwards {
            let (reply, route) = self
                .run(&generation, targets, fallback_on, request, None, |p, r| {
                    p.forward(r)
                })
                .await?;
            return Ok(Forwarded::Reply(Routed {
                value: reply,
                route,
            }));
        }
        let (response, route) = self
            .run(
                &generation,
                targets,
                fallback_on,
                request.into_parsed(),
                None,
                |p, r| p.chat(r),
            )
            .await?;
        Ok(Forwarded::Parsed(answered_by(response, route)))
    }

    /// [`chat_forward_validated`](Self::chat_forward_validated) for a
    /// streamed answer: routed as
    /// [`chat_stream`](Self::chat_stream) routes (fallback only before the
    /// first event, the same deadlines and health).
    pub(crate) async fn chat_forward_stream_validated(
        &self,
        request: Validated<ForwardRequest>,
    ) -> Result<StreamForwarded, Error> {
        let generation = self.registry.generation();
        let (targets, fallback_on, forwards) = forward_targets(&generation, &request)?;
        if forwards {
            let routed = self
                .stream_on(generation, targets, fallback_on, request, |p, r| {
                    p.forward_stream(r)
                })
                .await?;
            return Ok(StreamForwarded::Frames(routed));
        }
        let routed = self
            .stream_on(
                generation,
                targets,
                fallback_on,
                request.into_parsed(),
                |p, r| p.chat_stream(r),
            )
            .await?;
        Ok(StreamForwarded::Events(routed))
    }
}

/// The request's targets, and whether every one of them forwards it.
fn forward_targets(
    generation: &Generation,
    request: &Validated<ForwardRequest>,
) -> Result<(Vec<Target>, FallbackOn, bool), Error> {
    let r = request.get();
    let (targets, fallback_on) = generation.routes.resolve(generation, &r.request.model)?;
    let forwards = targets.iter().all(|t| {
        t.instance
            .provider()
            .is_some_and(|p| p.forwards(&t.model, r))
    });
    Ok((targets, fallback_on, forwards))
}

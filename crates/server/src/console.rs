//! The web console at `/ui` (the `console` feature): the embedded assets of
//! `switchboard-console`, with their content type, ETag (`If-None-Match`
//! answers 304), `Cache-Control` and a strict `Content-Security-Policy`.
//! Static files only, so no admin token is needed to load them; every API
//! call the page makes carries the token itself. `/ui` and `/ui/` are the
//! page; an unknown file (or any `..`) is a 404.

use axum::Router;
use axum::extract::Path;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use switchboard_console::{Asset, CACHE_CONTROL, CONTENT_SECURITY_POLICY};

use crate::state::SharedState;

/// `/ui`, `/ui/` and `/ui/{*path}`.
pub(crate) fn routes() -> Router<SharedState> {
    Router::new()
        .route("/ui", get(index))
        .route("/ui/", get(index))
        .route("/ui/{*path}", get(file))
}

async fn index(headers: HeaderMap) -> Response {
    serve(switchboard_console::asset(""), &headers)
}

async fn file(Path(path): Path<String>, headers: HeaderMap) -> Response {
    serve(switchboard_console::asset(&path), &headers)
}

fn serve(asset: Option<&'static Asset>, headers: &HeaderMap) -> Response {
    let Some(asset) = asset else {
        let mut r = (
            StatusCode::NOT_FOUND,
            [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
            "no such file in the console\n",
        )
            .into_response();
        secure(r.headers_mut());
        return r;
    };
    let etag = HeaderValue::from_str(&asset.etag()).ok();
    let fresh = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| asset.matches(v));
    let mut r = if fresh {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        (
            [(
                header::CONTENT_TYPE,
                HeaderValue::from_static(asset.content_type),
            )],
            asset.body,
        )
            .into_response()
    };
    let h = r.headers_mut();
    if let Some(etag) = etag {
        h.insert(header::ETAG, etag);
    }
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static(CACHE_CONTROL),
    );
    secure(h);
    r
}

/// The headers every console answer carries.
fn secure(h: &mut HeaderMap) {
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CONTENT_SECURITY_POLICY),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
}

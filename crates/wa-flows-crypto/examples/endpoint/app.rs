//! The HTTP side of the endpoint: one `POST /` handler that checks, decrypts, answers and
//! encrypts, and maps every failure to a status through the library.
//!
//! Order of the checks, each with the status and the plain-text body it answers:
//!
//! | check | refused with |
//! |---|---|
//! | `Content-Type` is `application/json` (parameters such as `charset` ignored) | 415 `unsupported_media_type` |
//! | the body is readable and at most 1 MiB | 413 `body_too_large` / 400 `unreadable_body` |
//! | `X-Hub-Signature-256`, when `APP_SECRET` is set | 432 `invalid_signature` |
//! | the body decrypts (JSON, base64, RSA-OAEP, AES-GCM) and holds a request with an `action` | 421 `malformed` / `key_unwrap` / `payload_auth` |
//!
//! A request that passes all of them is answered `200`, `Content-Type: text/plain`, with the
//! base64 of the encrypted answer. Logs name the status, the action or the error code, and
//! the time taken; never a key, a secret, a plaintext or a file name.

use std::sync::Arc;
use std::time::Instant;

use axum::Router;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use wa_flows_crypto::{Action, Error, FlowPrivateKey, decrypt_request, verify_signature};
use zeroize::Zeroizing;

#[path = "flow.rs"]
mod flow;
#[path = "media.rs"]
mod media;

pub(crate) use self::media::MediaOptions;

/// The largest request body read. WhatsApp's requests are a few KiB (about 1 KiB more per
/// uploaded file); anything near this is not from WhatsApp.
pub(crate) const MAX_BODY_BYTES: usize = 1024 * 1024;

/// Everything the endpoint needs, read once at start-up.
pub(crate) struct Settings {
    /// The business private key, parsed once.
    pub(crate) key: FlowPrivateKey,
    /// The Meta app secret; when set, every request must carry a valid `X-Hub-Signature-256`.
    pub(crate) app_secret: Option<Zeroizing<Vec<u8>>>,
    /// How media is downloaded.
    pub(crate) media: MediaOptions,
}

/// The shared state of the handler.
struct App {
    key: FlowPrivateKey,
    app_secret: Option<Zeroizing<Vec<u8>>>,
    media: media::MediaClient,
}

/// The endpoint's routes: `POST /` for WhatsApp, `GET /` for a human or a load balancer.
///
/// # Errors
/// A message if the HTTP client for the media CDN cannot be set up (its TLS configuration).
pub(crate) fn router(settings: Settings) -> Result<Router, String> {
    let app = Arc::new(App {
        key: settings.key,
        app_secret: settings.app_secret,
        media: media::MediaClient::new(settings.media)?,
    });
    Ok(Router::new()
        .route("/", post(flow_endpoint).get(health))
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .with_state(app))
}

async fn health() -> &'static str {
    "WhatsApp Flows endpoint: POST encrypted flow requests here.\n"
}

/// Why a request was refused: the status and the stable code sent as the body and logged.
#[derive(Debug)]
struct Refusal {
    status: StatusCode,
    code: &'static str,
}

impl Refusal {
    const fn new(status: StatusCode, code: &'static str) -> Self {
        Self { status, code }
    }
}

impl From<Error> for Refusal {
    /// The library decides the status: 421 undecryptable, 432 bad signature, 500 bad key.
    fn from(error: Error) -> Self {
        let status = error
            .http_status()
            .and_then(|status| StatusCode::from_u16(status).ok())
            .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        Self::new(status, error.code())
    }
}

/// A request answered: the encrypted answer, and the action for the log.
struct Answer {
    body: String,
    action: &'static str,
}

async fn flow_endpoint(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let started = Instant::now();
    let (status, body, what) = match handle(&app, &headers, body).await {
        Ok(answer) => (StatusCode::OK, answer.body, answer.action),
        Err(refusal) => (refusal.status, refusal.code.to_owned(), refusal.code),
    };
    eprintln!(
        "flow endpoint: {} {what} {:.1?}",
        status.as_u16(),
        started.elapsed()
    );
    (
        status,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        body,
    )
        .into_response()
}

async fn handle(
    app: &Arc<App>,
    headers: &HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Answer, Refusal> {
    if !is_json(headers) {
        return Err(Refusal::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
        ));
    }
    let body = body.map_err(|rejection| match rejection.status() {
        StatusCode::PAYLOAD_TOO_LARGE => {
            Refusal::new(StatusCode::PAYLOAD_TOO_LARGE, "body_too_large")
        }
        _ => Refusal::new(StatusCode::BAD_REQUEST, "unreadable_body"),
    })?;

    // The signature covers the raw bytes, exactly as received: verify before parsing anything.
    if let Some(app_secret) = &app.app_secret {
        // Missing → "" (refused as missing); not visible ASCII → "?" (refused as malformed).
        let signature = headers
            .get("x-hub-signature-256")
            .map_or("", |value| value.to_str().unwrap_or("?"));
        verify_signature(&body, signature, app_secret)?;
    }

    // The RSA private operation takes about a millisecond: keep it off the async workers.
    let state = Arc::clone(app);
    let decrypted = tokio::task::spawn_blocking(move || decrypt_request(&state.key, &body))
        .await
        .map_err(|_| Refusal::new(StatusCode::INTERNAL_SERVER_ERROR, "internal"))??;
    let request = decrypted.request()?;
    let action = match request.action {
        Action::Ping => "ping",
        Action::Init => "INIT",
        Action::DataExchange => "data_exchange",
        Action::Back => "BACK",
        // Not echoed: it is text from the request.
        _ => "other",
    };
    let response = flow::respond(&request, &app.media).await;
    Ok(Answer {
        body: decrypted.encrypt_response(response.as_bytes()),
        action,
    })
}

/// Whether the request says its body is JSON: `application/json`, any case, any parameters.
fn is_json(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.split(';').next())
        .is_some_and(|media_type| media_type.trim().eq_ignore_ascii_case("application/json"))
}

//! The HTTP side of the endpoint: one `POST /` handler that checks, decrypts, answers and
//! encrypts, and maps every failure to a status through the library.
//!
//! Order of the checks, each with the status and the plain-text body it answers:
//!
//! | check | refused with |
//! |---|---|
//! | `Content-Type` is `application/json` (parameters such as `charset` ignored) | 415 `unsupported_media_type` |
//! | the body is readable and at most 1 MiB | 413 `body_too_large` / 400 `unreadable_body` |
//! | `X-Hub-Signature-256`, when `APP_SECRET` is set (or `PREVIOUS_APP_SECRET`) | 432 `invalid_signature` |
//! | the body decrypts with the key or the previous key (JSON, base64, RSA-OAEP, AES-GCM) into a JSON object with an `action` | 421 `malformed` / `key_unwrap` / `payload_auth` |
//! | data API 4.0's `flow_token_signature`, under `FLOW_TOKEN_SIGNATURE` | 427 `invalid_flow_token_signature` |
//!
//! Every check is the library's one-call tier, [`FlowEndpoint::open`]; this file only maps its
//! outcome to HTTP.
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
use wa_flows_crypto::{Action, Error, FlowEndpoint, FlowKeyRing, FlowTokenSignaturePolicy};
use zeroize::Zeroizing;

use crate::flow;
use crate::media::{MediaClient, MediaOptions};

/// The largest request body read. WhatsApp's requests are a few KiB (about 1 KiB more per
/// uploaded file); anything near this is not from WhatsApp.
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

/// Everything the endpoint needs, read once at start-up.
pub struct Settings {
    /// The business private keys, newest first, parsed once.
    pub keys: FlowKeyRing,
    /// The Meta app secrets, newest first; when there is one, every request must carry a valid
    /// `X-Hub-Signature-256`.
    pub app_secrets: Vec<Zeroizing<Vec<u8>>>,
    /// What to do with data API 4.0's `flow_token_signature`.
    pub flow_token_signature: FlowTokenSignaturePolicy,
    /// How media is downloaded.
    pub media: MediaOptions,
}

/// The shared state of the handler.
struct App {
    endpoint: FlowEndpoint,
    media: MediaClient,
}

/// The endpoint's routes: `POST /` for WhatsApp, `GET /` for a human or a load balancer.
///
/// # Errors
/// A message if the configuration is refused by the library (an empty app secret, say) or the
/// HTTP client for the media CDN cannot be set up (its TLS configuration).
pub fn router(settings: Settings) -> Result<Router, String> {
    let secrets: Vec<&[u8]> = settings.app_secrets.iter().map(|s| s.as_slice()).collect();
    let endpoint = FlowEndpoint::new(settings.keys, &secrets, settings.flow_token_signature)
        .map_err(|error| format!("{error} ({})", error.code()))?;
    let app = Arc::new(App {
        endpoint,
        media: MediaClient::new(settings.media)?,
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

    // Missing → None (refused as missing); not visible ASCII → "?" (refused as malformed).
    let signature = headers
        .get("x-hub-signature-256")
        .map(|value| value.to_str().unwrap_or("?").to_owned());
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |since| {
            i64::try_from(since.as_secs()).unwrap_or(i64::MAX)
        });
    // Signature, decryption, the flow request and its token signature, in the library's order.
    // The RSA private operation takes about a millisecond: keep it off the async workers.
    let state = Arc::clone(app);
    let opened =
        tokio::task::spawn_blocking(move || state.endpoint.open(&body, signature.as_deref(), now))
            .await
            .map_err(|_| Refusal::new(StatusCode::INTERNAL_SERVER_ERROR, "internal"))??;
    let request = opened.flow();
    let action = match request.action {
        Action::Ping => "ping",
        Action::Init => "INIT",
        Action::DataExchange => "data_exchange",
        Action::Back => "BACK",
        // Not echoed: it is text from the request.
        _ => "other",
    };
    if let Some(automatic) = opened.automatic_response() {
        if let Some(notification) = request.error_notification() {
            // WhatsApp's error names are short upper-case codes; log nothing else of the request.
            let error: String = notification
                .error
                .or(notification.error_key)
                .unwrap_or_default()
                .chars()
                .filter(|c| c.is_ascii_alphanumeric() || *c == '_')
                .take(64)
                .collect();
            eprintln!("flow endpoint: WhatsApp reports an error in our last answer: {error}");
        }
        return Ok(Answer {
            body: opened.respond(automatic.as_bytes()),
            action,
        });
    }
    let response = flow::respond(request, &app.media).await;
    Ok(Answer {
        body: opened.respond(response.as_bytes()),
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

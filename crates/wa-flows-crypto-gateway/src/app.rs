//! The HTTP side: `POST` (any path) for WhatsApp, `GET /healthz` and `GET /readyz` for the
//! platform. Every protocol decision is the core's `FlowEndpoint`; this module only moves
//! bytes, keeps time and counts.

use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use axum::Router;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use http_body_util::BodyExt as _;
use tokio::sync::Semaphore;
use wa_flows_crypto::{Action, FlowEndpoint, OpenedRequest};

use crate::media::Media;
use crate::metrics::Metrics;
use crate::upstream::{FlowHeaders, Reply, Upstream};

/// The state shared by every request.
#[derive(Debug)]
pub(crate) struct App {
    /// Set once the keys are loaded; until then requests are refused with 500 and `/readyz`
    /// answers 503.
    pub(crate) endpoint: OnceLock<Arc<FlowEndpoint>>,
    pub(crate) upstream: Upstream,
    pub(crate) media: Option<Media>,
    pub(crate) metrics: Arc<Metrics>,
    pub(crate) permits: Semaphore,
    pub(crate) deadline: Duration,
    pub(crate) max_body_bytes: usize,
    pub(crate) forward_error_notifications: bool,
}

pub(crate) fn router(app: Arc<App>) -> Router {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .fallback(flow)
        .with_state(app)
}

pub(crate) fn metrics_router(metrics: Arc<Metrics>) -> Router {
    Router::new()
        .route(
            "/metrics",
            get(|State(metrics): State<Arc<Metrics>>| async move {
                (
                    [(header::CONTENT_TYPE, crate::metrics::CONTENT_TYPE)],
                    metrics.encode(),
                )
            }),
        )
        .with_state(metrics)
}

async fn healthz() -> &'static str {
    "ok\n"
}

async fn readyz(State(app): State<Arc<App>>) -> Response {
    if app.endpoint.get().is_some() {
        (StatusCode::OK, "ready\n").into_response()
    } else {
        (
            StatusCode::SERVICE_UNAVAILABLE,
            "not ready: the private key is not loaded yet\n",
        )
            .into_response()
    }
}

/// What happened to one request: what is answered, logged and counted.
struct Outcome {
    status: StatusCode,
    /// The base64 body for a 200 or an encrypted 427; empty otherwise.
    body: String,
    /// The metric label.
    action: &'static str,
    /// `ok`, a core error code, or one of the gateway's (`upstream_timeout`, …).
    code: &'static str,
    key_index: Option<usize>,
    decrypt: Option<Duration>,
    upstream: Option<Duration>,
}

impl Outcome {
    fn refused(status: StatusCode, code: &'static str) -> Self {
        Self {
            status,
            body: String::new(),
            action: "none",
            code,
            key_index: None,
            decrypt: None,
            upstream: None,
        }
    }
}

/// Decrements the in-flight gauge however the handler ends (a client that hangs up drops the
/// future).
struct InFlight(Arc<Metrics>);

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.in_flight.dec();
    }
}

async fn flow(
    State(app): State<Arc<App>>,
    method: Method,
    headers: HeaderMap,
    body: Body,
) -> Response {
    if method != Method::POST {
        return StatusCode::METHOD_NOT_ALLOWED.into_response();
    }
    let started = Instant::now();
    app.metrics.in_flight.inc();
    let _in_flight = InFlight(Arc::clone(&app.metrics));
    let outcome = handle(&app, &headers, body, started).await;
    app.metrics.request(outcome.action, outcome.status.as_u16());
    let ms = |took: Duration| took.as_secs_f64() * 1000.0;
    let total_ms = ms(started.elapsed());
    let status = outcome.status.as_u16();
    // Never the flow token, the data, a key or a secret: only what is needed to operate.
    if outcome.status.is_server_error() {
        tracing::warn!(
            status,
            action = outcome.action,
            code = outcome.code,
            key_index = outcome.key_index,
            decrypt_ms = outcome.decrypt.map(ms),
            upstream_ms = outcome.upstream.map(ms),
            total_ms,
            "request"
        );
    } else {
        tracing::info!(
            status,
            action = outcome.action,
            code = outcome.code,
            key_index = outcome.key_index,
            decrypt_ms = outcome.decrypt.map(ms),
            upstream_ms = outcome.upstream.map(ms),
            total_ms,
            "request"
        );
    }
    if outcome.body.is_empty() {
        outcome.status.into_response()
    } else {
        (
            outcome.status,
            [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
            outcome.body,
        )
            .into_response()
    }
}

async fn handle(app: &Arc<App>, headers: &HeaderMap, body: Body, started: Instant) -> Outcome {
    // The body is read within the deadline too: a client that trickles it is cut off.
    let limited = http_body_util::Limited::new(body, app.max_body_bytes);
    let body = match tokio::time::timeout(app.deadline, limited.collect()).await {
        Ok(Ok(collected)) => collected.to_bytes(),
        Ok(Err(error)) if error.is::<http_body_util::LengthLimitError>() => {
            return Outcome::refused(StatusCode::PAYLOAD_TOO_LARGE, "body_too_large");
        }
        Ok(Err(_)) => return Outcome::refused(StatusCode::BAD_REQUEST, "unreadable_body"),
        Err(_) => return Outcome::refused(StatusCode::REQUEST_TIMEOUT, "body_timeout"),
    };
    let Some(endpoint) = app.endpoint.get().cloned() else {
        return Outcome::refused(StatusCode::INTERNAL_SERVER_ERROR, "key_unavailable");
    };
    // More requests than permits wait for a turn, within the deadline.
    let Ok(Ok(_permit)) = tokio::time::timeout(app.deadline, app.permits.acquire()).await else {
        return Outcome::refused(StatusCode::SERVICE_UNAVAILABLE, "overloaded");
    };

    // Missing → "" (refused as missing); not visible ASCII → "?" (refused as malformed).
    let signature = headers
        .get("x-hub-signature-256")
        .map(|value| value.to_str().unwrap_or("?").to_owned());
    let decrypt_started = Instant::now();
    // The RSA private operation takes about a millisecond: keep it off the async workers.
    let opened =
        tokio::task::spawn_blocking(move || endpoint.open(&body, signature.as_deref(), unix_now()))
            .await;
    let decrypt = decrypt_started.elapsed();
    app.metrics.decrypt(decrypt);
    let opened = match opened {
        Ok(Ok(opened)) => opened,
        Ok(Err(error)) => {
            let status = error
                .http_status()
                .and_then(|status| StatusCode::from_u16(status).ok())
                .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            return Outcome {
                decrypt: Some(decrypt),
                ..Outcome::refused(status, error.code())
            };
        }
        Err(_) => {
            return Outcome {
                decrypt: Some(decrypt),
                ..Outcome::refused(StatusCode::INTERNAL_SERVER_ERROR, "internal")
            };
        }
    };
    let key_index = opened.decrypted().key_index();
    app.metrics.key_index(key_index);
    let mut outcome = answer(app, &opened, started).await;
    outcome.key_index = Some(key_index);
    outcome.decrypt = Some(decrypt);
    outcome
}

/// The answer to a request that passed every check.
async fn answer(app: &App, opened: &OpenedRequest, started: Instant) -> Outcome {
    let flow = opened.flow();
    let action = action_label(opened);
    let encrypted = |status: StatusCode, body: String, code: &'static str| Outcome {
        status,
        body,
        action,
        code,
        key_index: None,
        decrypt: None,
        upstream: None,
    };
    let failed = |code: &'static str| Outcome {
        action,
        ..Outcome::refused(StatusCode::INTERNAL_SERVER_ERROR, code)
    };
    let remaining = app.deadline.saturating_sub(started.elapsed());
    let headers = FlowHeaders {
        flow_token: flow.flow_token.as_deref(),
        action: flow.action.as_wire(),
        key_index: opened.decrypted().key_index(),
    };
    let Ok(mut view) = serde_json::to_value(flow) else {
        return failed("internal");
    };

    if let Some(automatic) = opened.automatic_response() {
        // Pings and error notifications are answered here; error notifications also go to
        // the upstream, when asked, for its logs (its answer does not change ours).
        let mut upstream = None;
        if flow.is_error_notification() && app.forward_error_notifications {
            let upstream_started = Instant::now();
            let result = app
                .upstream
                .call(view.to_string().into_bytes(), &headers, remaining)
                .await;
            let took = upstream_started.elapsed();
            let outcome = match &result {
                Ok(Reply::Answer(_)) => "ok",
                Ok(Reply::FlowTokenError(_)) => "flow_token_error",
                Err(failure) => failure.code(),
            };
            app.metrics.upstream(outcome, took);
            if let Err(failure) = result {
                tracing::warn!(
                    code = failure.code(),
                    "the upstream did not take an error notification"
                );
            }
            upstream = Some(took);
        }
        return Outcome {
            upstream,
            ..encrypted(StatusCode::OK, opened.respond(automatic.as_bytes()), "ok")
        };
    }

    if let Some(media) = &app.media
        && let Some(data) = view.get_mut("data")
    {
        match tokio::time::timeout(remaining, media.hand_over(data, &app.metrics)).await {
            Ok(Ok(())) => {}
            Ok(Err(code)) => return failed(code),
            Err(_) => return failed("media_timeout"),
        }
    }

    let remaining = app.deadline.saturating_sub(started.elapsed());
    let upstream_started = Instant::now();
    let result = app
        .upstream
        .call(view.to_string().into_bytes(), &headers, remaining)
        .await;
    let took = upstream_started.elapsed();
    let outcome = match result {
        Ok(Reply::Answer(answer)) => {
            app.metrics.upstream("ok", took);
            encrypted(StatusCode::OK, opened.respond(&answer), "ok")
        }
        Ok(Reply::FlowTokenError(message)) => {
            app.metrics.upstream("flow_token_error", took);
            let (status, body) = opened.flow_token_error(&message);
            let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            encrypted(status, body, "upstream_flow_token_error")
        }
        Err(failure) => {
            app.metrics.upstream(failure.code(), took);
            if let crate::upstream::Failure::ErrorStatus(status) = failure {
                tracing::warn!(upstream_status = status, "the upstream answered an error");
            }
            failed(match failure {
                crate::upstream::Failure::Timeout => "upstream_timeout",
                crate::upstream::Failure::Unreachable => "upstream_unreachable",
                crate::upstream::Failure::ErrorStatus(_) => "upstream_error_status",
                crate::upstream::Failure::InvalidAnswer => "upstream_invalid_answer",
            })
        }
    };
    Outcome {
        upstream: Some(took),
        ..outcome
    }
}

/// The `action` label: a fixed set, so that a client cannot grow the metrics.
fn action_label(opened: &OpenedRequest) -> &'static str {
    let flow = opened.flow();
    if flow.is_error_notification() {
        return "error_notification";
    }
    match flow.action {
        Action::Ping => "ping",
        Action::Init => "INIT",
        Action::DataExchange => "data_exchange",
        Action::Back => "BACK",
        _ => "other",
    }
}

fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |since| {
            i64::try_from(since.as_secs()).unwrap_or(i64::MAX)
        })
}

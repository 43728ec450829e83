//! The call to the upstream: the decrypted request as JSON, and what its answer means.
//!
//! Headers sent with every call:
//!
//! | header | when | value |
//! |---|---|---|
//! | `Content-Type` | always | `application/json` |
//! | `X-Gateway-Signature-256` | `UPSTREAM_SECRET` is set | `sha256=` and the 64 lower-case hex digits of HMAC-SHA256(`UPSTREAM_SECRET`, raw body): the format of Meta's `X-Hub-Signature-256` |
//! | `X-Flow-Token` | `--forward-headers`, and the token is visible ASCII | the request's `flow_token` |
//! | `X-Flow-Action` | `--forward-headers` | `INIT`, `data_exchange`, `BACK`, `ping`, or the action as sent |
//! | `X-Flow-Key-Index` | `--forward-headers` | `0` for the current key, `1` for the previous one |

use std::time::Duration;

use axum::http::HeaderValue;
use reqwest::header::CONTENT_TYPE;
use serde_json::Value;

/// The header that authenticates the gateway to the upstream.
pub const SIGNATURE_HEADER: &str = "x-gateway-signature-256";
/// The flow token (with `--forward-headers`).
pub const FLOW_TOKEN_HEADER: &str = "x-flow-token";
/// The action (with `--forward-headers`).
pub const ACTION_HEADER: &str = "x-flow-action";
/// The index of the key that decrypted the request (with `--forward-headers`).
pub const KEY_INDEX_HEADER: &str = "x-flow-key-index";

/// The message shown when the upstream answers 427 without a usable `error_msg`.
pub const DEFAULT_FLOW_TOKEN_ERROR: &str = "This flow is no longer available.";

/// What the upstream's answer means for WhatsApp.
#[derive(Debug)]
pub(crate) enum Reply {
    /// 2xx with a JSON body: encrypt it and answer 200.
    Answer(Vec<u8>),
    /// 427: the flow token is invalid or expired; answer 427 with this `error_msg`.
    FlowTokenError(String),
}

/// Why the upstream gave no usable answer (every one of them is a 500 for WhatsApp).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Failure {
    /// No answer within the deadline.
    Timeout,
    /// Connection refused, reset, DNS, TLS…
    Unreachable,
    /// A status other than 2xx and 427.
    ErrorStatus(u16),
    /// 2xx, but the body is not JSON or is too large.
    InvalidAnswer,
}

impl Failure {
    /// A stable code for logs and metrics.
    pub(crate) fn code(self) -> &'static str {
        match self {
            Failure::Timeout => "timeout",
            Failure::Unreachable => "unreachable",
            Failure::ErrorStatus(_) => "error_status",
            Failure::InvalidAnswer => "invalid_answer",
        }
    }
}

/// Headers describing the request, for `--forward-headers`.
#[derive(Debug, Default)]
pub(crate) struct FlowHeaders<'a> {
    pub(crate) flow_token: Option<&'a str>,
    pub(crate) action: &'a str,
    pub(crate) key_index: usize,
}

/// The HTTP client for the upstream, shared by every request.
#[derive(Clone, Debug)]
pub(crate) struct Upstream {
    http: reqwest::Client,
    url: reqwest::Url,
    secret: Option<std::sync::Arc<zeroize::Zeroizing<Vec<u8>>>>,
    forward_headers: bool,
    max_response_bytes: usize,
}

impl Upstream {
    pub(crate) fn new(
        url: &str,
        secret: Option<zeroize::Zeroizing<Vec<u8>>>,
        forward_headers: bool,
        max_response_bytes: usize,
    ) -> Result<Self, String> {
        let parsed = reqwest::Url::parse(url).map_err(|error| {
            format!(
                "--upstream {}: not a URL ({error})",
                crate::config::redact_userinfo(url)
            )
        })?;
        if !matches!(parsed.scheme(), "http" | "https") {
            return Err(format!(
                "--upstream {}: not an http:// or https:// URL",
                crate::config::redact_userinfo(url)
            ));
        }
        let http = reqwest::Client::builder()
            // A redirect would turn the POST into a GET somewhere else: never follow one.
            .redirect(reqwest::redirect::Policy::none())
            // The upstream is usually next to the gateway; proxies from the environment are
            // not used (a proxy would see the plaintext).
            .no_proxy()
            .connect_timeout(Duration::from_secs(5))
            .user_agent(concat!(
                "wa-flows-crypto-gateway/",
                env!("CARGO_PKG_VERSION")
            ))
            .build()
            .map_err(|error| format!("cannot set up the HTTP client for the upstream: {error}"))?;
        Ok(Self {
            http,
            url: parsed,
            secret: secret.map(std::sync::Arc::new),
            forward_headers,
            max_response_bytes,
        })
    }

    /// POSTs `body` and reads the answer, all within `timeout`.
    pub(crate) async fn call(
        &self,
        body: Vec<u8>,
        headers: &FlowHeaders<'_>,
        timeout: Duration,
    ) -> Result<Reply, Failure> {
        match tokio::time::timeout(timeout, self.call_inner(body, headers)).await {
            Ok(result) => result,
            Err(_) => Err(Failure::Timeout),
        }
    }

    async fn call_inner(&self, body: Vec<u8>, headers: &FlowHeaders<'_>) -> Result<Reply, Failure> {
        let mut request = self
            .http
            .post(self.url.clone())
            .header(CONTENT_TYPE, "application/json");
        if let Some(secret) = &self.secret {
            request = request.header(SIGNATURE_HEADER, wa_flows_crypto::sign(&body, secret));
        }
        if self.forward_headers {
            if let Some(token) = headers
                .flow_token
                .and_then(|token| HeaderValue::from_str(token).ok())
            {
                request = request.header(FLOW_TOKEN_HEADER, token);
            }
            if let Ok(action) = HeaderValue::from_str(headers.action) {
                request = request.header(ACTION_HEADER, action);
            }
            request = request.header(KEY_INDEX_HEADER, headers.key_index.to_string());
        }
        let mut response = request
            .body(body)
            .send()
            .await
            .map_err(|_| Failure::Unreachable)?;
        let status = response.status().as_u16();
        let mut answer = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(|_| Failure::Unreachable)? {
            if answer.len().saturating_add(chunk.len()) > self.max_response_bytes {
                return Err(if (200..300).contains(&status) {
                    Failure::InvalidAnswer
                } else {
                    Failure::ErrorStatus(status)
                });
            }
            answer.extend_from_slice(&chunk);
        }
        match status {
            200..=299 => {
                // Encrypt only JSON: an HTML error page from a platform must not reach the
                // user's phone as a "screen".
                if serde_json::from_slice::<Value>(&answer).is_err() {
                    return Err(Failure::InvalidAnswer);
                }
                Ok(Reply::Answer(answer))
            }
            427 => Ok(Reply::FlowTokenError(error_msg(&answer))),
            other => Err(Failure::ErrorStatus(other)),
        }
    }
}

/// `error_msg` from a 427 answer's JSON body, or the default message.
fn error_msg(body: &[u8]) -> String {
    serde_json::from_slice::<Value>(body)
        .ok()
        .and_then(|value| {
            value
                .get("error_msg")
                .and_then(Value::as_str)
                .map(str::to_owned)
        })
        .filter(|message| !message.trim().is_empty())
        .unwrap_or_else(|| DEFAULT_FLOW_TOKEN_ERROR.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_msg_comes_from_the_body_or_the_default() {
        assert_eq!(error_msg(br#"{"error_msg":"expired"}"#), "expired");
        for body in [
            &b""[..],
            b"<html>",
            br#"{"error_msg":3}"#,
            br#"{"error_msg":" "}"#,
        ] {
            assert_eq!(error_msg(body), DEFAULT_FLOW_TOKEN_ERROR);
        }
    }

    #[test]
    fn only_http_urls_are_upstreams() {
        assert!(Upstream::new("ftp://x/", None, false, 10).is_err());
        assert!(Upstream::new("not a url", None, false, 10).is_err());
        let error = Upstream::new("file://u:secret@x/", None, false, 10).unwrap_err();
        assert!(!error.contains("secret"), "{error}");
        assert!(Upstream::new("http://127.0.0.1:1/flow", None, false, 10).is_ok());
    }
}

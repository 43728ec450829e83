//! check-endpoint: plays WhatsApp against a running endpoint and reports what it got.

use std::fmt::Write as _;
use std::path::Path;
use std::time::{Duration, Instant};

use wa_flows_crypto::client::{self, ClientSession};
use wa_flows_crypto::flow::PING_RESPONSE;
use wa_flows_crypto::{AesKey, EncryptedRequest, FlowPrivateKey, FlowPublicKey, sign};

use crate::error::{CliError, CliResult};
use crate::input::{AppSecretArgs, Limit, read_file};

const PING: &str = r#"{"version":"3.0","action":"ping"}"#;
const INIT: &str =
    r#"{"version":"3.0","action":"INIT","flow_token":"wa-flows-crypto-check-endpoint"}"#;
/// A secret that is certainly not the endpoint's, for the bad-signature check.
const WRONG_SECRET: &[u8] = b"wa-flows-crypto: deliberately not the app secret";

/// One row of the report.
struct Outcome {
    name: &'static str,
    expected: &'static str,
    /// `None` when the check was skipped.
    passed: Option<bool>,
    detail: String,
    elapsed: Duration,
}

/// An HTTP answer.
struct Answer {
    status: u16,
    body: String,
}

/// `check-endpoint`.
pub(crate) fn check_endpoint(
    url: &str,
    public_key: &Path,
    secret: &AppSecretArgs,
    timeout: Duration,
) -> CliResult {
    if !(url.starts_with("http://") || url.starts_with("https://")) {
        return Err(CliError::usage(format!(
            "{} is not an http:// or https:// URL",
            redact_userinfo(url)
        )));
    }
    let public_key = load_public_key(public_key)?;
    let secret = secret.read()?;
    let secret = secret.as_ref().map(|s| s.as_slice());
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(timeout))
        .build()
        .into();
    let printable_url = redact_userinfo(url);
    let post = |body: &str, signature: Option<String>| -> Result<Answer, String> {
        let mut request = agent
            .post(url)
            .header("Content-Type", "application/json")
            .header("User-Agent", "wa-flows-crypto check-endpoint");
        if let Some(signature) = signature {
            request = request.header("X-Hub-Signature-256", signature);
        }
        let mut response = request
            .send(body)
            .map_err(|err| format!("no answer: {err}").replace(url, &printable_url))?;
        let status = response.status().as_u16();
        let body = response
            .body_mut()
            .read_to_string()
            .map_err(|err| format!("HTTP {status}, unreadable body: {err}"))?;
        Ok(Answer { status, body })
    };
    let good_signature = |body: &str| secret.map(|secret| sign(body.as_bytes(), secret));

    let mut outcomes = Vec::new();

    // 1. Health check.
    outcomes.push(timed(
        "ping",
        "200, {\"data\":{\"status\":\"active\"}}",
        || {
            let (body, session) = client::seal_request(&public_key, PING.as_bytes())
                .map_err(|err| err.to_string())?;
            let answer = post(&body, good_signature(&body))?;
            let plaintext = open_answer(&public_key, &session, &answer, 200)?;
            let got: serde_json::Value = serde_json::from_slice(&plaintext)
                .map_err(|_| format!("the answer is not JSON: {}", lossy(&plaintext)))?;
            let want: serde_json::Value =
                serde_json::from_str(PING_RESPONSE).map_err(|err| err.to_string())?;
            if got == want {
                Ok("answered as WhatsApp expects".to_owned())
            } else {
                Err(format!("answered {got} instead of {PING_RESPONSE}"))
            }
        },
    ));

    // 2. The flow is opened.
    outcomes.push(timed("INIT round trip", "200, a screen, encrypted", || {
        let (body, session) =
            client::seal_request(&public_key, INIT.as_bytes()).map_err(|err| err.to_string())?;
        let answer = post(&body, good_signature(&body))?;
        let plaintext = open_answer(&public_key, &session, &answer, 200)?;
        let got: serde_json::Value = serde_json::from_slice(&plaintext)
            .map_err(|_| format!("the answer is not JSON: {}", lossy(&plaintext)))?;
        match got.get("screen").and_then(serde_json::Value::as_str) {
            Some(screen) => Ok(format!("opened screen {screen}")),
            None if got.is_object() => Err(format!(
                "the answer has no \"screen\" to show: {}",
                truncate(&got.to_string())
            )),
            None => Err(format!(
                "the answer is not a JSON object: {}",
                truncate(&got.to_string())
            )),
        }
    }));

    // 3. A payload altered in transit must be refused with 421.
    outcomes.push(timed("tampered payload", "421", || {
        let (request, _) = client::seal_request_parts(&public_key, PING.as_bytes())
            .map_err(|err| err.to_string())?;
        let mut data = request.encrypted_flow_data().to_vec();
        if let Some(byte) = data.first_mut() {
            *byte ^= 0x01;
        }
        let tampered = EncryptedRequest::from_parts(
            data,
            request.encrypted_aes_key().to_vec(),
            *request.initial_vector(),
        )
        .map_err(|err| err.to_string())?
        .to_json();
        expect_status(&post(&tampered, good_signature(&tampered))?, 421)
    }));

    // 4. A key wrapped for another public key (a rotated key) must be refused with 421.
    outcomes.push(timed("key for another public key", "421", || {
        let (request, _) = client::seal_request_parts(&public_key, PING.as_bytes())
            .map_err(|err| err.to_string())?;
        let mut wrapped = request.encrypted_aes_key().to_vec();
        let middle = wrapped.len() / 2;
        if let Some(byte) = wrapped.get_mut(middle) {
            *byte ^= 0x01;
        }
        let other = EncryptedRequest::from_parts(
            request.encrypted_flow_data().to_vec(),
            wrapped,
            *request.initial_vector(),
        )
        .map_err(|err| err.to_string())?
        .to_json();
        expect_status(&post(&other, good_signature(&other))?, 421)
    }));

    // 5. A badly signed request must be refused with 432.
    if secret.is_some() {
        outcomes.push(timed("bad signature", "432", || {
            let (body, _) = client::seal_request(&public_key, PING.as_bytes())
                .map_err(|err| err.to_string())?;
            let signature = sign(body.as_bytes(), WRONG_SECRET);
            expect_status(&post(&body, Some(signature))?, 432)
        }));
    } else {
        outcomes.push(Outcome {
            name: "bad signature",
            expected: "432",
            passed: None,
            detail: "skipped: give --app-secret-env VAR to check signatures".to_owned(),
            elapsed: Duration::ZERO,
        });
    }

    print!("{}", report(&printable_url, &public_key, &outcomes));
    let failed = outcomes.iter().filter(|o| o.passed == Some(false)).count();
    if failed == 0 {
        Ok(())
    } else {
        Err(CliError::new(
            "check_failed",
            format!(
                "{failed} of {} checks failed: the endpoint does not answer as WhatsApp expects \
                 (see the table above)",
                outcomes.iter().filter(|o| o.passed.is_some()).count()
            ),
        ))
    }
}

/// The public key from a public key file (or from a private key file without passphrase).
fn load_public_key(path: &Path) -> CliResult<FlowPublicKey> {
    let bytes = zeroize::Zeroizing::new(read_file(path, Limit::Key)?);
    match FlowPublicKey::from_pem(bytes.as_slice()) {
        Ok(key) => Ok(key),
        Err(public_err) => match FlowPrivateKey::from_pem(bytes.as_slice(), None) {
            Ok(private) => Ok(private.public_key()),
            Err(_) => Err(CliError::new(
                public_err.code(),
                format!("{}: {public_err}", path.display()),
            )),
        },
    }
}

fn timed(
    name: &'static str,
    expected: &'static str,
    check: impl FnOnce() -> Result<String, String>,
) -> Outcome {
    let started = Instant::now();
    let result = check();
    let elapsed = started.elapsed();
    let (passed, detail) = match result {
        Ok(detail) => (Some(true), detail),
        Err(detail) => (Some(false), detail),
    };
    Outcome {
        name,
        expected,
        passed,
        detail,
        elapsed,
    }
}

fn expect_status(answer: &Answer, want: u16) -> Result<String, String> {
    if answer.status == want {
        Ok(format!("refused with {want}"))
    } else {
        Err(format!(
            "answered HTTP {} (body: {}) instead of {want}",
            answer.status,
            truncate(&answer.body)
        ))
    }
}

/// Checks the status and opens the encrypted answer, explaining the usual mistakes.
fn open_answer(
    public_key: &FlowPublicKey,
    session: &ClientSession,
    answer: &Answer,
    want: u16,
) -> Result<Vec<u8>, String> {
    if answer.status != want {
        return Err(format!(
            "answered HTTP {} (body: {}) instead of {want}",
            answer.status,
            truncate(&answer.body)
        ));
    }
    match session.open_response(&answer.body) {
        Ok(plaintext) => Ok(plaintext),
        Err(err) => {
            let trimmed = answer.body.trim_start();
            if trimmed.starts_with('{') {
                return Err(format!(
                    "answered plain JSON ({}); encrypt it and send the base64 text",
                    truncate(&answer.body)
                ));
            }
            if answered_with_request_iv(public_key, session, &answer.body) {
                return Err(
                    "the answer is encrypted with the request's IV as is: encrypt with every bit \
                     of the IV inverted"
                        .to_owned(),
                );
            }
            Err(format!(
                "the answer does not decrypt ({}): {err}",
                err.code()
            ))
        }
    }
}

/// Whether `body` opens with the request's key and the request's IV without inversion (the
/// most common endpoint bug).
fn answered_with_request_iv(
    public_key: &FlowPublicKey,
    session: &ClientSession,
    body: &str,
) -> bool {
    let key = session.response_key();
    let inverted = key.request_iv().map(|byte| !byte);
    // A session whose "request IV" is the inverted IV opens answers sealed with the original.
    client::seal_request_with(public_key, b"", AesKey::new(*key.aes_key()), inverted)
        .and_then(|(_, wrong)| wrong.open_response(body))
        .is_ok()
}

fn lossy(bytes: &[u8]) -> String {
    truncate(&String::from_utf8_lossy(bytes))
}

fn truncate(text: &str) -> String {
    const MAX: usize = 80;
    let text = text.trim();
    match text.char_indices().nth(MAX) {
        Some((at, _)) => format!("{}…", text.get(..at).unwrap_or(text)),
        None => text.to_owned(),
    }
}

/// `url` with any `user:password@` replaced by `***@`, for printing: a URL given with
/// credentials must not put them in a terminal, a CI log or a bug report.
fn redact_userinfo(url: &str) -> String {
    let (scheme, rest) = url.split_once("://").unwrap_or(("", url));
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(authority_end);
    match authority.rfind('@') {
        Some(at) => {
            let host = authority.get(at + 1..).unwrap_or_default();
            let separator = if scheme.is_empty() { "" } else { "://" };
            format!("{scheme}{separator}***@{host}{tail}")
        }
        None => url.to_owned(),
    }
}

fn report(url: &str, public_key: &FlowPublicKey, outcomes: &[Outcome]) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "endpoint:    {url}");
    let _ = writeln!(out, "public key:  {}", public_key.fingerprint());
    if url.starts_with("http://") {
        let _ = writeln!(out, "note:        WhatsApp only calls https:// endpoints");
    }
    let _ = writeln!(out);
    let _ = writeln!(
        out,
        "{:<28} {:<36} {:<6} {:>7}  DETAIL",
        "CHECK", "EXPECTED", "RESULT", "TIME"
    );
    for outcome in outcomes {
        let result = match outcome.passed {
            Some(true) => "pass",
            Some(false) => "FAIL",
            None => "skip",
        };
        let _ = writeln!(
            out,
            "{:<28} {:<36} {:<6} {:>4} ms  {}",
            outcome.name,
            outcome.expected,
            result,
            outcome.elapsed.as_millis(),
            outcome.detail
        );
    }
    let passed = outcomes.iter().filter(|o| o.passed == Some(true)).count();
    let failed = outcomes.iter().filter(|o| o.passed == Some(false)).count();
    let skipped = outcomes.iter().filter(|o| o.passed.is_none()).count();
    let _ = writeln!(out);
    let _ = writeln!(out, "{passed} passed, {failed} failed, {skipped} skipped");
    out
}

#[cfg(test)]
mod tests {
    use super::redact_userinfo;

    #[test]
    fn userinfo_is_redacted_and_nothing_else_changes() {
        for (given, printed) in [
            ("http://user:pass@host/flows", "http://***@host/flows"),
            (
                "https://token@host:8443/a@b?c=d@e",
                "https://***@host:8443/a@b?c=d@e",
            ),
            ("https://u:p@w@host", "https://***@host"),
            ("https://host/flows", "https://host/flows"),
            ("https://host/a@b", "https://host/a@b"),
            ("u:p@host/x", "***@host/x"),
        ] {
            assert_eq!(redact_userinfo(given), printed);
        }
    }
}

//! check-endpoint: plays WhatsApp against a running endpoint and reports what it got.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use wa_flows_crypto::client::{self, ClientSession};
use wa_flows_crypto::endpoint::FlowTokenSignaturePolicy;
use wa_flows_crypto::flow::{ERROR_ACKNOWLEDGEMENT, PING_RESPONSE};
use wa_flows_crypto::{AesKey, EncryptedRequest, FlowPrivateKey, FlowPublicKey, sign};
use zeroize::Zeroizing;

use crate::error::{CliError, CliResult};
use crate::input::{AppSecretArgs, Limit, read_file};

const PING: &str = r#"{"version":"3.0","action":"ping"}"#;
/// The flow token every check sends: any endpoint accepts an INIT with an unknown token.
const FLOW_TOKEN: &str = "wa-flows-crypto-check-endpoint";
/// A secret that is certainly not the endpoint's, for the bad-signature checks.
const WRONG_SECRET: &[u8] = b"wa-flows-crypto: deliberately not the app secret";
/// How long a valid flow token signature lives, and how long ago the expired one ran out: far
/// beyond the 60 s leeway either way, so a skewed clock on either side does not decide.
const TOKEN_LIFETIME: i64 = 3600;

/// `check-endpoint`'s options.
#[derive(clap::Args, Debug)]
pub(crate) struct CheckArgs {
    /// The endpoint URL.
    url: String,
    /// The public key uploaded for the endpoint (a private key file works too).
    #[arg(long, value_name = "FILE")]
    public_key: PathBuf,
    /// The public key being rotated out: a request encrypted for it must still be answered.
    #[arg(long, value_name = "FILE")]
    previous_public_key: Option<PathBuf>,
    /// The app secrets, newest first; a second one is the secret being rotated out, and a
    /// body signed with it must still be answered.
    #[command(flatten)]
    secret: AppSecretArgs,
    /// What the endpoint does with data API 4.0's flow_token_signature (its
    /// FLOW_TOKEN_SIGNATURE): verify it when present, require it, or ignore it.
    #[arg(long, value_name = "POLICY", default_value = "if_present",
          value_parser = ["if_present", "required", "off"])]
    flow_token_signature: String,
    /// Seconds to wait for each answer.
    #[arg(long, value_name = "SECONDS", default_value_t = 10)]
    timeout: u64,
}

/// One row of the report.
struct Outcome {
    name: &'static str,
    expected: &'static str,
    /// `None` when the check was skipped.
    passed: Option<bool>,
    detail: String,
    elapsed: Duration,
}

impl Outcome {
    fn skipped(name: &'static str, expected: &'static str, why: &str) -> Self {
        Self {
            name,
            expected,
            passed: None,
            detail: format!("skipped: {why}"),
            elapsed: Duration::ZERO,
        }
    }
}

/// An HTTP answer.
struct Answer {
    status: u16,
    body: String,
}

/// What every check shares: the endpoint, its keys and secrets, and the HTTP client.
struct Endpoint<'a> {
    url: &'a str,
    printable_url: String,
    agent: ureq::Agent,
    public_key: FlowPublicKey,
    secrets: Vec<Zeroizing<Vec<u8>>>,
    policy: FlowTokenSignaturePolicy,
    now: i64,
}

impl Endpoint<'_> {
    fn post(&self, body: &str, signature: Option<String>) -> Result<Answer, String> {
        let mut request = self
            .agent
            .post(self.url)
            .header("Content-Type", "application/json")
            .header("User-Agent", "wa-flows-crypto check-endpoint");
        if let Some(signature) = signature {
            request = request.header("X-Hub-Signature-256", signature);
        }
        let mut response = request
            .send(body)
            .map_err(|err| format!("no answer: {err}").replace(self.url, &self.printable_url))?;
        let status = response.status().as_u16();
        let body = response
            .body_mut()
            .read_to_string()
            .map_err(|err| format!("HTTP {status}, unreadable body: {err}"))?;
        Ok(Answer { status, body })
    }

    /// The header WhatsApp would send with `body`: signed with the newest secret, if any.
    fn signature(&self, body: &str) -> Option<String> {
        self.secrets
            .first()
            .map(|secret| sign(body.as_bytes(), secret))
    }

    /// Seals `plaintext` for `public_key`, posts it signed, and opens the 200 answer.
    fn round_trip(
        &self,
        public_key: &FlowPublicKey,
        plaintext: &str,
        signature: impl FnOnce(&str) -> Option<String>,
    ) -> Result<serde_json::Value, String> {
        let (body, session) =
            client::seal_request(public_key, plaintext.as_bytes()).map_err(|e| e.to_string())?;
        let answer = self.post(&body, signature(&body))?;
        let plaintext = open_answer(public_key, &session, &answer, 200)?;
        serde_json::from_slice(&plaintext)
            .map_err(|_| format!("the answer is not JSON: {}", lossy(&plaintext)))
    }

    /// Posts `plaintext` sealed for the endpoint's key and signed, and expects `status`.
    fn refused(&self, plaintext: &str, status: u16) -> Result<String, String> {
        let (body, _) = client::seal_request(&self.public_key, plaintext.as_bytes())
            .map_err(|e| e.to_string())?;
        expect_status(&self.post(&body, self.signature(&body))?, status)
    }

    /// An INIT as a data API 4.0 client sends it: the flow token and, when `token_signature`
    /// is given, its `flow_token_signature`.
    fn init(token_signature: Option<String>) -> String {
        let mut request = serde_json::json!({
            "version": "3.0",
            "action": "INIT",
            "flow_token": FLOW_TOKEN,
        });
        with_token_signature(&mut request, token_signature);
        request.to_string()
    }

    /// A valid flow token signature, made with the newest secret; `None` without one.
    fn valid_token_signature(&self) -> Option<String> {
        let secret = self.secrets.first()?;
        Some(client::sign_flow_token(
            FLOW_TOKEN,
            secret,
            Some(self.now + TOKEN_LIFETIME),
        ))
    }

    /// What the round trips carry as `flow_token_signature`: a valid one when the endpoint
    /// requires it, as a data API 4.0 client would, and none (a 3.0 client) otherwise.
    fn round_trip_token_signature(&self) -> Option<String> {
        (self.policy == FlowTokenSignaturePolicy::Required)
            .then(|| self.valid_token_signature())
            .flatten()
    }
}

/// `check-endpoint`.
pub(crate) fn check_endpoint(args: &CheckArgs) -> CliResult {
    let url = args.url.as_str();
    if !(url.starts_with("http://") || url.starts_with("https://")) {
        return Err(CliError::usage(format!(
            "{} is not an http:// or https:// URL",
            redact_userinfo(url)
        )));
    }
    let policy = FlowTokenSignaturePolicy::from_name(&args.flow_token_signature)
        .ok_or_else(|| CliError::usage("unknown --flow-token-signature"))?;
    let secrets = args.secret.read_all()?;
    if policy == FlowTokenSignaturePolicy::Required && secrets.is_empty() {
        return Err(CliError::usage(
            "--flow-token-signature required needs the app secret (--app-secret-env VAR): \
             the endpoint checks the signature with it",
        ));
    }
    let previous_public_key = args
        .previous_public_key
        .as_deref()
        .map(load_public_key)
        .transpose()?;
    let endpoint = Endpoint {
        url,
        printable_url: redact_userinfo(url),
        agent: ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(args.timeout)))
            .build()
            .into(),
        public_key: load_public_key(&args.public_key)?,
        secrets,
        policy,
        now: unix_now(),
    };
    let outcomes = run_checks(&endpoint, previous_public_key.as_ref());

    print!(
        "{}",
        report(&endpoint.printable_url, &endpoint.public_key, &outcomes)
    );
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

fn run_checks(
    endpoint: &Endpoint<'_>,
    previous_public_key: Option<&FlowPublicKey>,
) -> Vec<Outcome> {
    let key = &endpoint.public_key;
    let signed = |body: &str| endpoint.signature(body);
    let mut outcomes = Vec::new();

    // Health check.
    outcomes.push(timed(
        "ping",
        "200, {\"data\":{\"status\":\"active\"}}",
        || expect_json(&endpoint.round_trip(key, PING, signed)?, PING_RESPONSE),
    ));

    // The flow is opened.
    outcomes.push(timed("INIT round trip", "200, a screen, encrypted", || {
        let init = Endpoint::init(endpoint.round_trip_token_signature());
        expect_screen(&endpoint.round_trip(key, &init, signed)?)
    }));

    // A client's error notification, even one with only `error_key`, is acknowledged.
    outcomes.push(timed(
        "error notification",
        "200, {\"data\":{\"acknowledged\":true}}",
        || {
            let mut notification = serde_json::json!({
                "version": "3.0",
                "action": "data_exchange",
                "screen": "WELCOME",
                "flow_token": FLOW_TOKEN,
                "data": {"error_key": "wa-flows-crypto-check-endpoint"},
            });
            with_token_signature(&mut notification, endpoint.round_trip_token_signature());
            let notification = notification.to_string();
            expect_json(
                &endpoint.round_trip(key, &notification, signed)?,
                ERROR_ACKNOWLEDGEMENT,
            )
        },
    ));

    // A payload altered in transit must be refused with 421.
    outcomes.push(timed("tampered payload", "421", || {
        let (request, _) =
            client::seal_request_parts(key, PING.as_bytes()).map_err(|err| err.to_string())?;
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
        expect_status(&endpoint.post(&tampered, signed(&tampered))?, 421)
    }));

    // A key wrapped for another public key (one the endpoint does not have) must be refused
    // with 421, which makes WhatsApp fetch the public key again.
    outcomes.push(timed("key for another public key", "421", || {
        let (request, _) =
            client::seal_request_parts(key, PING.as_bytes()).map_err(|err| err.to_string())?;
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
        expect_status(&endpoint.post(&other, signed(&other))?, 421)
    }));

    // Key rotation: clients that cached the previous public key are still answered.
    outcomes.push(match previous_public_key {
        Some(previous) => timed("previous public key", "200, answered", || {
            expect_json(&endpoint.round_trip(previous, PING, signed)?, PING_RESPONSE)
                .map(|_| "a request for the previous key was answered".to_owned())
        }),
        None => Outcome::skipped(
            "previous public key",
            "200, answered",
            "give --previous-public-key FILE to check key rotation",
        ),
    });

    let no_secret = "give --app-secret-env VAR to check signatures";
    // A badly signed request must be refused with 432.
    outcomes.push(if endpoint.secrets.is_empty() {
        Outcome::skipped("bad signature", "432", no_secret)
    } else {
        timed("bad signature", "432", || {
            let (body, _) =
                client::seal_request(key, PING.as_bytes()).map_err(|err| err.to_string())?;
            let signature = sign(body.as_bytes(), WRONG_SECRET);
            expect_status(&endpoint.post(&body, Some(signature))?, 432)
        })
    });

    // App-secret rotation: a body signed with the previous secret is still answered.
    outcomes.push(match endpoint.secrets.get(1) {
        Some(previous) => timed("previous app secret", "200, answered", || {
            expect_json(
                &endpoint.round_trip(key, PING, |body| Some(sign(body.as_bytes(), previous)))?,
                PING_RESPONSE,
            )
            .map(|_| "a body signed with the previous secret was answered".to_owned())
        }),
        None => Outcome::skipped(
            "previous app secret",
            "200, answered",
            "give a second --app-secret-env VAR to check secret rotation",
        ),
    });

    outcomes.extend(flow_token_signature_checks(endpoint));
    outcomes
}

/// Data API 4.0: the flow token signature, under the endpoint's policy.
fn flow_token_signature_checks(endpoint: &Endpoint<'_>) -> Vec<Outcome> {
    let key = &endpoint.public_key;
    let signed = |body: &str| endpoint.signature(body);
    let mut outcomes = Vec::new();
    let Some(secret) = endpoint.secrets.first() else {
        let why = "give --app-secret-env VAR to check data API 4.0 flow token signatures";
        for (name, expected) in [
            ("token signature valid", "200, a screen"),
            ("token signature forged", "427"),
            ("token signature expired", "427"),
            ("token signature other token", "427"),
            ("token signature missing", "427"),
        ] {
            outcomes.push(Outcome::skipped(name, expected, why));
        }
        return outcomes;
    };
    let (expires, expired) = (endpoint.now + TOKEN_LIFETIME, endpoint.now - TOKEN_LIFETIME);
    let init_signed = |flow_token: &str, secret: &[u8], exp: i64| {
        Endpoint::init(Some(client::sign_flow_token(flow_token, secret, Some(exp))))
    };
    outcomes.push(timed("token signature valid", "200, a screen", || {
        let init = init_signed(FLOW_TOKEN, secret, expires);
        expect_screen(&endpoint.round_trip(key, &init, signed)?)
    }));
    if endpoint.policy == FlowTokenSignaturePolicy::Off {
        let why = "the endpoint does not check flow token signatures (--flow-token-signature off)";
        for name in [
            "token signature forged",
            "token signature expired",
            "token signature other token",
            "token signature missing",
        ] {
            outcomes.push(Outcome::skipped(name, "427", why));
        }
        return outcomes;
    }
    outcomes.push(timed("token signature forged", "427", || {
        endpoint.refused(&init_signed(FLOW_TOKEN, WRONG_SECRET, expires), 427)
    }));
    outcomes.push(timed("token signature expired", "427", || {
        endpoint.refused(&init_signed(FLOW_TOKEN, secret, expired), 427)
    }));
    outcomes.push(timed("token signature other token", "427", || {
        endpoint.refused(&init_signed("another-flow-token", secret, expires), 427)
    }));
    outcomes.push(if endpoint.policy == FlowTokenSignaturePolicy::Required {
        timed("token signature missing", "427", || {
            endpoint.refused(&Endpoint::init(None), 427)
        })
    } else {
        Outcome::skipped(
            "token signature missing",
            "427",
            "the endpoint accepts requests without one (--flow-token-signature if_present)",
        )
    });
    outcomes
}

fn with_token_signature(request: &mut serde_json::Value, jwt: Option<String>) {
    if let (Some(object), Some(jwt)) = (request.as_object_mut(), jwt) {
        object.insert("flow_token_signature".to_owned(), jwt.into());
    }
}

fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |since| {
            i64::try_from(since.as_secs()).unwrap_or(i64::MAX)
        })
}

/// Whether the answer is, as JSON, exactly `want`.
fn expect_json(got: &serde_json::Value, want: &str) -> Result<String, String> {
    let want_value: serde_json::Value = serde_json::from_str(want).map_err(|e| e.to_string())?;
    if *got == want_value {
        Ok("answered as WhatsApp expects".to_owned())
    } else {
        Err(format!(
            "answered {} instead of {want}",
            truncate(&got.to_string())
        ))
    }
}

/// Whether the answer names a screen to show.
fn expect_screen(got: &serde_json::Value) -> Result<String, String> {
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
}

/// The public key from a public key file (or from a private key file without passphrase).
fn load_public_key(path: &Path) -> CliResult<FlowPublicKey> {
    let bytes = Zeroizing::new(read_file(path, Limit::Key)?);
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

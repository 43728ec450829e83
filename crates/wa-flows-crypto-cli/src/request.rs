//! decrypt-request, encrypt-response, verify-signature.

use std::io::Write;
use std::path::Path;

use wa_flows_crypto::{FlowRequest, decrypt_request as core_decrypt_request, verify_signature_any};

use crate::error::{CliError, CliResult};
use crate::input::{AppSecretArgs, KeyArgs, Limit, read_input, reads_stdin};

/// Writes `text` and a newline to standard output.
pub(crate) fn print_line(text: &str) -> CliResult {
    let mut stdout = std::io::stdout().lock();
    stdout
        .write_all(text.as_bytes())
        .and_then(|()| stdout.write_all(b"\n"))
        .and_then(|()| stdout.flush())
        .map_err(|err| CliError::io("write", Path::new("standard output"), &err))
}

/// `decrypt-request`: prints the decrypted JSON text, exactly as sent (or pretty-printed).
/// With several keys, a request opened by an older one is reported on standard error.
pub(crate) fn decrypt_request(key: &KeyArgs, request: Option<&str>, pretty: bool) -> CliResult {
    let ring = key.load_ring()?;
    let body = read_input(request, "request body", Limit::Body)?;
    let decrypted = ring.decrypt_request(&body)?;
    if decrypted.key_index() > 0 {
        eprintln!(
            "opened by --key number {} (an older key: this client still caches its public key)",
            decrypted.key_index() + 1
        );
    }
    let plaintext = decrypted.plaintext();
    if pretty
        && let Ok(value) = serde_json::from_str::<serde_json::Value>(plaintext)
        && let Ok(text) = serde_json::to_string_pretty(&value)
    {
        return print_line(&text);
    }
    print_line(plaintext)
}

/// `encrypt-response`: prints the base64 body WhatsApp expects for `request`.
pub(crate) fn encrypt_response(key: &KeyArgs, request: &str, response: Option<&str>) -> CliResult {
    if reads_stdin(Some(request)) && reads_stdin(response) {
        return Err(CliError::usage(
            "the request and the response cannot both come from standard input: give one of \
             them as a file or as JSON text",
        ));
    }
    let key = key.load()?;
    let body = read_input(Some(request), "request body", Limit::Body)?;
    let response = read_input(response, "response", Limit::Body)?;
    let decrypted = core_decrypt_request(&body, &key)?;
    print_line(&decrypted.encrypt_response(&response))
}

/// `verify-signature`: checks `X-Hub-Signature-256` against the raw body.
pub(crate) fn verify_signature(
    secret: &AppSecretArgs,
    header: &str,
    body: Option<&str>,
) -> CliResult {
    let secrets = require_secrets(secret)?;
    let body = read_input(body, "request body", Limit::Body)?;
    let views: Vec<&[u8]> = secrets.iter().map(|s| s.as_slice()).collect();
    let matched = verify_signature_any(&body, header, &views)?;
    if views.len() > 1 {
        return print_line(&format!(
            "valid: the X-Hub-Signature-256 header matches the body and app secret number {}",
            matched + 1
        ));
    }
    print_line("valid: the X-Hub-Signature-256 header matches the body and the app secret")
}

fn require_secrets(secret: &AppSecretArgs) -> CliResult<Vec<zeroize::Zeroizing<Vec<u8>>>> {
    let secrets = secret.read_all()?;
    if secrets.is_empty() {
        return Err(CliError::usage(
            "give the app secret with --app-secret-env VAR or --app-secret-file FILE",
        ));
    }
    Ok(secrets)
}

/// `verify-flow-token`: checks a decrypted request's data API 4.0 `flow_token_signature` and
/// prints `verified` or `absent`.
pub(crate) fn verify_flow_token(
    secret: &AppSecretArgs,
    now: Option<i64>,
    request: Option<&str>,
) -> CliResult {
    let secrets = require_secrets(secret)?;
    let text = read_input(request, "decrypted request", Limit::Body)?;
    let text = String::from_utf8(text)
        .map_err(|_| CliError::new("malformed", "malformed input: the request is not UTF-8"))?;
    let now = match now {
        Some(now) => now,
        None => std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |since| {
                i64::try_from(since.as_secs()).unwrap_or(i64::MAX)
            }),
    };
    let views: Vec<&[u8]> = secrets.iter().map(|s| s.as_slice()).collect();
    let outcome = FlowRequest::from_json(&text)?.verify_flow_token_signature(&views, now)?;
    print_line(outcome.as_str())
}

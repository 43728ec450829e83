//! decrypt-request, encrypt-response, verify-signature.

use std::io::Write;
use std::path::Path;

use wa_flows_crypto::{decrypt_request as core_decrypt_request, verify_signature as core_verify};

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
pub(crate) fn decrypt_request(key: &KeyArgs, request: Option<&str>, pretty: bool) -> CliResult {
    let key = key.load()?;
    let body = read_input(request, "request body", Limit::Body)?;
    let decrypted = core_decrypt_request(&key, &body)?;
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
    let decrypted = core_decrypt_request(&key, &body)?;
    print_line(&decrypted.encrypt_response(&response))
}

/// `verify-signature`: checks `X-Hub-Signature-256` against the raw body.
pub(crate) fn verify_signature(
    secret: &AppSecretArgs,
    header: &str,
    body: Option<&str>,
) -> CliResult {
    let secret = secret.read()?.ok_or_else(|| {
        CliError::usage("give the app secret with --app-secret-env VAR or --app-secret-file FILE")
    })?;
    let body = read_input(body, "request body", Limit::Body)?;
    core_verify(&body, header, &secret)?;
    print_line("valid: the X-Hub-Signature-256 header matches the body and the app secret")
}

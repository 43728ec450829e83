//! Data API 4.0's `flow_token_signature` (an HS256 JWT): `verify_flow_token_signature` against
//! an independent reading of the same rules (`flow_common::judge_jwt`: OpenSSL's HMAC, the
//! `base64` crate's encoder as the canonical-form check, `serde_json::Value`), and against
//! JWTs made without the core's signer.
//!
//! Input: a mode byte, the clock (8 bytes, big-endian `i64`), up to three app secrets (a count
//! byte, then a length byte and the bytes of each; an empty one is a configuration error),
//! then per mode (mode byte % 3):
//! - 0: a flow token (length byte, bytes) and the JWT text (the rest), put in a request;
//! - 1: the whole decrypted request text (the rest);
//! - 2: a JWT built here from fuzzed claims (the token, optional `exp` and `nbf` as offsets
//!   from the clock, an extra header member, an extra claim), signed with one of the secrets,
//!   then maybe one character of its header, payload or signature replaced; or (flag 64)
//!   fuzzed header and payload text (a length byte, then the rest), signed with a secret.
//!
//! Rules: never a panic; a refusal is `invalid_configuration` (500) exactly when the secrets
//! are none or one is empty, `malformed` (421) only when the text is not a flow request, and
//! otherwise `invalid_flow_token_signature` (427); `verified` only for a JWT the independent
//! reading accepts, and always for one it accepts (but for duplicate member names, which the
//! core refuses and `Value` hides); the built JWT verifies exactly as its claims say, and with
//! any character changed never does.

#![no_main]

#[path = "diff_common.rs"]
mod diff_common;
#[path = "flow_common.rs"]
mod flow_common;

use diff_common::Input;
use flow_common::{JwtVerdict, flow_request_value, hs256_jwt, judge_jwt};
use serde_json::{Value, json};
use wa_flows_crypto::{Error, FlowTokenError, FlowTokenSignature, verify_flow_token_signature};

/// Where the core's f64 clock arithmetic is exact, so the claims' times are judged exactly.
const EXACT_TIME: u64 = 1 << 52;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let mut input = Input(data);
    let mode = input.byte();
    let now = i64::from_be_bytes(input.array());
    let secrets = input.byte_strings(4, 33);
    let secrets: Vec<&[u8]> = secrets.iter().map(Vec::as_slice).collect();
    match mode % 3 {
        0 => {
            let len = usize::from(input.byte());
            let token = String::from_utf8_lossy(input.bytes(len)).into_owned();
            let jwt = String::from_utf8_lossy(input.rest()).into_owned();
            let request = json!({
                "version": "4.0", "action": "INIT", "flow_token": token,
                "flow_token_signature": jwt,
            });
            let outcome = verify_flow_token_signature(&request.to_string(), &secrets, now);
            check_against_judge(&outcome, &jwt, &token, &secrets, now);
        }
        1 => {
            let Ok(text) = core::str::from_utf8(input.rest()) else {
                return;
            };
            let outcome = verify_flow_token_signature(text, &secrets, now);
            let Some(request) = flow_request_value(text) else {
                assert!(
                    matches!(outcome, Err(Error::Malformed(_))),
                    "not a flow request, but {outcome:?}"
                );
                return;
            };
            match (
                request.get("flow_token_signature"),
                request.get("flow_token"),
            ) {
                (Some(Value::String(jwt)), Some(Value::String(token))) => {
                    check_against_judge(&outcome, jwt, token, &secrets, now);
                }
                (None, _) if configured(&secrets) => {
                    assert_eq!(outcome, Ok(FlowTokenSignature::Absent));
                }
                (Some(_), _) if configured(&secrets) => assert!(
                    matches!(outcome, Err(Error::InvalidFlowTokenSignature(_))),
                    "a signature that is not a string, or no token: {outcome:?}"
                ),
                _ => assert_configuration_error(&outcome),
            }
        }
        _ => built(&mut input, &secrets, now),
    }
});

fn configured(secrets: &[&[u8]]) -> bool {
    !secrets.is_empty() && secrets.iter().all(|secret| !secret.is_empty())
}

fn assert_configuration_error(outcome: &Result<FlowTokenSignature, Error>) {
    let error = outcome.as_ref().unwrap_err();
    assert_eq!(
        (error.code(), error.http_status()),
        ("invalid_configuration", Some(500))
    );
}

/// A flow request carrying `jwt` and `token`: the core's outcome must be the judge's.
fn check_against_judge(
    outcome: &Result<FlowTokenSignature, Error>,
    jwt: &str,
    token: &str,
    secrets: &[&[u8]],
    now: i64,
) {
    if !configured(secrets) {
        return assert_configuration_error(outcome);
    }
    match (outcome, judge_jwt(jwt, token, secrets, now)) {
        (Ok(FlowTokenSignature::Verified), JwtVerdict::Valid) => {}
        (Err(Error::InvalidFlowTokenSignature(_)), JwtVerdict::Invalid) => {}
        // The one rule `Value` cannot see: the core refuses a segment whose JSON names a
        // member twice, as that segment not being a JSON object.
        (
            Err(Error::InvalidFlowTokenSignature(FlowTokenError::Malformed(
                "the header is not a base64url JSON object"
                | "the payload is not a base64url JSON object",
            ))),
            JwtVerdict::ValidButDuplicateNames,
        ) => {}
        (outcome, verdict) => panic!("the core says {outcome:?}, the judge {verdict:?}"),
    }
    if let Err(error) = outcome {
        assert_eq!(error.http_status(), Some(427));
    }
}

/// Mode 2: a JWT made here, verified as made, then changed in one character.
fn built(input: &mut Input<'_>, secrets: &[&[u8]], now: i64) {
    if !configured(secrets) {
        return;
    }
    let flags = input.byte();
    let signer = secrets[usize::from(input.byte()) % secrets.len()];
    let len = usize::from(input.byte() % 64);
    let token = String::from_utf8_lossy(input.bytes(len)).into_owned();
    let exp_offset = i64::from(i16::from_be_bytes(input.array()));
    let nbf_offset = i64::from(i16::from_be_bytes(input.array()));
    let (exp, nbf) = (
        now.saturating_add(exp_offset),
        now.saturating_add(nbf_offset),
    );
    if flags & 64 != 0 {
        // Fuzzed header and payload text, authentically signed: the rules after the HMAC
        // (`crit`, the signed token, the claims' types, duplicate names) judged by the judge.
        let len = usize::from(input.byte());
        let header = String::from_utf8_lossy(input.bytes(len)).into_owned();
        let payload = String::from_utf8_lossy(input.rest()).into_owned();
        let jwt = hs256_jwt(&header, &payload, signer);
        let request = json!({
            "version": "4.0", "action": "INIT", "flow_token": token, "flow_token_signature": jwt,
        });
        let outcome = verify_flow_token_signature(&request.to_string(), secrets, now);
        return check_against_judge(&outcome, &jwt, &token, secrets, now);
    }
    let mut header = json!({"alg": "HS256"});
    if flags & 1 != 0 {
        header["typ"] = "JWT".into();
    }
    if flags & 2 != 0 {
        header["kid"] = String::from_utf8_lossy(input.bytes(8)).into();
    }
    let mut claims = json!({"flow_token": token});
    if flags & 4 != 0 {
        claims["exp"] = exp.into();
    }
    if flags & 8 != 0 {
        claims["nbf"] = nbf.into();
    }
    if flags & 16 != 0 {
        claims["iat"] = now.into();
    }
    let jwt = hs256_jwt(&header.to_string(), &claims.to_string(), signer);
    let request = |jwt: &str| {
        json!({
            "version": "4.0", "action": "data_exchange", "flow_token": token,
            "flow_token_signature": jwt,
        })
        .to_string()
    };
    let outcome = verify_flow_token_signature(&request(&jwt), secrets, now);
    // What the claims say, in exact arithmetic: `exp` must be after now − 60 s, `nbf` at most
    // now + 60 s, and `exp` is looked at first.
    let expired = flags & 4 != 0 && i128::from(exp) <= i128::from(now) - 60;
    let early = flags & 8 != 0 && i128::from(nbf) > i128::from(now) + 60;
    let exact = now.unsigned_abs() < EXACT_TIME;
    match outcome {
        Ok(FlowTokenSignature::Verified) => assert!(!exact || !(expired || early)),
        Err(Error::InvalidFlowTokenSignature(FlowTokenError::Expired)) => {
            assert!(!exact || expired);
        }
        Err(Error::InvalidFlowTokenSignature(FlowTokenError::NotYetValid)) => {
            assert!(!exact || (early && !expired));
        }
        other => panic!("a JWT made with a configured secret: {other:?}"),
    }
    if flags & 32 == 0 {
        return;
    }
    // One character of the header, payload or signature replaced by another.
    let position = input.u16() % jwt.len();
    let replacement = match input.byte() {
        byte @ 0..=0x7f => char::from(byte),
        _ => 'é',
    };
    if jwt.as_bytes()[position] == replacement as u8 && replacement.is_ascii() {
        return;
    }
    let mut changed = jwt.clone();
    changed.replace_range(position..=position, replacement.encode_utf8(&mut [0; 4]));
    let outcome = verify_flow_token_signature(&request(&changed), secrets, now);
    let Err(error) = &outcome else {
        panic!("{changed:?} (from {jwt:?}) verifies: {outcome:?}");
    };
    assert_eq!(
        (error.code(), error.http_status()),
        ("invalid_flow_token_signature", Some(427))
    );
}

//! `FlowEndpoint`, every step of a POST in order (the `X-Hub-Signature-256` header, decryption
//! with a key ring, the flow request, the flow-token signature under the policy), over a ring
//! of two fixed keys from `tests/vectors/keys/` (`rsa2048_pkcs8.pem` newest, `rsa2048_other.pem`
//! older).
//!
//! Input: a mode byte (bits 0–1: the policy, `if_present`, `required`, `off`, `if_present`;
//! bits 2–3: the kind of request below; bit 4: a structured plaintext; bits 5–6: the header),
//! up to two app secrets (a count byte, then a length byte and the bytes of each), the clock (8
//! bytes), then per kind:
//! - 0: a raw body (the rest) and a header (a length byte, then the text; 0: none);
//! - 1, 3: a request sealed with the core's `client` module (fuzzed AES key and IV) for the
//!   newest key, the older one or a stranger (`rsa3072_pkcs8.pem`), of a fuzzed plaintext;
//! - 2: the steps after decryption (`open_decrypted`) on `DecryptedRequest::from_parts`, as a
//!   host that decrypts with its own primitives calls them (no RSA: thousands of times faster).
//!
//! The header is the right one (made with OpenSSL's HMAC), the right one with one hex digit
//! changed, none, or fuzzed text. A structured plaintext is a flow request built here: an
//! action, maybe a flow token, and a `flow_token_signature` that is absent, a JWT made with
//! one of the secrets (`flow_common::hs256_jwt`), that JWT with its last character changed, one
//! made with a secret not configured, or not a string.
//!
//! Rules: a configuration the core refuses is `invalid_configuration` (500) exactly when a
//! secret is empty or `required` has no secret; every refused request has status 432 (then the
//! header does not authenticate the body), 421 or 427, in the documented order; a correctly
//! signed request sealed for a ring key, whose plaintext is a flow request, opens with that
//! key's index and the plaintext sent, with the flow-token outcome the built request calls for;
//! its response and its 427 flow-token error open on the client side to what was encrypted.

#![no_main]

#[path = "diff_common.rs"]
mod diff_common;
#[path = "flow_common.rs"]
mod flow_common;

use std::sync::OnceLock;

use diff_common::Input;
use flow_common::{flow_request_value, header_authenticates, hmac_sha256, hs256_jwt};
use serde_json::{Value, json};
use wa_flows_crypto::client::{ClientSession, seal_request_with};
use wa_flows_crypto::{
    AesKey, DecryptedRequest, Error, FlowEndpoint, FlowKeyRing, FlowPrivateKey, FlowTokenSignature,
    FlowTokenSignaturePolicy, OpenedRequest, ResponseKey,
};

const NEWEST_PEM: &[u8] = include_bytes!("../../tests/vectors/keys/rsa2048_pkcs8.pem");
const OLDER_PEM: &[u8] = include_bytes!("../../tests/vectors/keys/rsa2048_other.pem");
const STRANGER_PEM: &[u8] = include_bytes!("../../tests/vectors/keys/rsa3072_pkcs8.pem");

/// The ring's two keys, then the stranger.
fn keys() -> &'static [FlowPrivateKey; 3] {
    static KEYS: OnceLock<[FlowPrivateKey; 3]> = OnceLock::new();
    KEYS.get_or_init(|| {
        let keys = [NEWEST_PEM, OLDER_PEM, STRANGER_PEM]
            .map(|pem| FlowPrivateKey::from_pem(pem, None).unwrap());
        // Three different keys, or "which key opened it" means nothing.
        assert_ne!(keys[0].public_key_der(), keys[1].public_key_der());
        assert_ne!(keys[1].public_key_der(), keys[2].public_key_der());
        keys
    })
}

/// What a built flow request should come to, after decryption.
#[derive(Debug, PartialEq)]
enum Expected {
    /// Opened, with this flow-token outcome.
    Open(Option<FlowTokenSignature>),
    /// Refused with this status.
    Status(u16),
}

/// A flow request built from the input, and what the endpoint must make of it.
fn structured(
    input: &mut Input<'_>,
    secrets: &[&[u8]],
    policy: FlowTokenSignaturePolicy,
) -> (Vec<u8>, Expected) {
    let choice = input.byte();
    let action = match choice % 6 {
        0 => "ping".to_owned(),
        1 => "INIT".to_owned(),
        2 => "data_exchange".to_owned(),
        3 => "BACK".to_owned(),
        4 => "Ping".to_owned(),
        _ => String::from_utf8_lossy(input.bytes(6)).into_owned(),
    };
    let is_ping = action.eq_ignore_ascii_case("ping");
    let mut request = json!({"version": "4.0", "action": action});
    let token = (choice & 8 != 0).then(|| String::from_utf8_lossy(input.bytes(10)).into_owned());
    if let Some(token) = &token {
        request["flow_token"] = token.as_str().into();
    }
    if choice & 16 != 0 {
        request["data"] = json!({"error": "INVALID_SCREEN_TRANSITION"});
    }
    let signer = secrets
        .get(usize::from(input.byte()) % secrets.len().max(1))
        .copied()
        .unwrap_or(b"no secret is configured");
    let jwt = |secret: &[u8]| {
        let claims = json!({"flow_token": token.as_deref().unwrap_or("absent")}).to_string();
        hs256_jwt(r#"{"alg":"HS256","typ":"JWT"}"#, &claims, secret)
    };
    // Whether the signature holds (`None`: there is none).
    let holds = match (choice >> 5) % 5 {
        0 => None,
        1 => {
            request["flow_token_signature"] = jwt(signer).into();
            Some(token.is_some())
        }
        2 => {
            let mut changed = jwt(signer);
            let last = changed.pop().unwrap();
            changed.push(if last == 'A' { 'B' } else { 'A' });
            request["flow_token_signature"] = changed.into();
            Some(false)
        }
        3 => {
            let mut foreign = b"not configured:".to_vec();
            secrets.iter().for_each(|secret| foreign.extend(*secret));
            request["flow_token_signature"] = jwt(&foreign).into();
            Some(false)
        }
        _ => {
            request["flow_token_signature"] = 1.into();
            Some(false)
        }
    };
    let checked = policy != FlowTokenSignaturePolicy::Off && !secrets.is_empty();
    let expected = match (checked, holds) {
        (false, _) => Expected::Open(None),
        (true, Some(true)) => Expected::Open(Some(FlowTokenSignature::Verified)),
        (true, Some(false)) => Expected::Status(427),
        (true, None) if policy == FlowTokenSignaturePolicy::Required && !is_ping => {
            Expected::Status(427)
        }
        (true, None) => Expected::Open(Some(FlowTokenSignature::Absent)),
    };
    (request.to_string().into_bytes(), expected)
}

/// What a plaintext that decrypted must come to: built ones as built, raw ones as
/// `serde_json::Value` reads them (not a flow request: 421; one: opened or 427).
fn check_opened(
    outcome: &Result<OpenedRequest, Error>,
    plaintext: &[u8],
    expected: Option<&Expected>,
    session: &ClientSession,
) {
    let request = core::str::from_utf8(plaintext)
        .ok()
        .and_then(flow_request_value);
    match (outcome, expected) {
        (Err(error), _) if request.is_none() => assert_eq!(
            (error.code(), error.http_status()),
            ("malformed", Some(421)),
            "not a flow request"
        ),
        (Ok(opened), _) if request.is_none() => {
            panic!("{:?} opened as {:?}", plaintext, opened.flow())
        }
        (Err(error), Some(Expected::Status(status))) => {
            assert_eq!(error.http_status(), Some(*status), "{error:?}");
        }
        (Ok(opened), Some(Expected::Open(outcome))) => {
            assert_eq!(opened.flow_token_signature(), *outcome);
        }
        (Err(error), None) => assert_eq!(error.http_status(), Some(427), "{error:?}"),
        (Ok(_), None) => {}
        (outcome, Some(expected)) => panic!("{outcome:?}, but {expected:?}"),
    }
    let (Ok(opened), Some(request)) = (outcome, request) else {
        return;
    };
    assert_eq!(opened.decrypted().plaintext().as_bytes(), plaintext);
    let action = request["action"].as_str().unwrap();
    assert!(opened.flow().action.as_wire().eq_ignore_ascii_case(action));
    let ping = action.eq_ignore_ascii_case("ping");
    assert_eq!(opened.flow().is_ping(), ping);
    if ping {
        assert_eq!(
            opened.automatic_response(),
            Some(wa_flows_crypto::flow::PING_RESPONSE)
        );
    }
    // The answers open on the client side, as sent.
    let answer = format!("{{\"data\":{{\"n\":{}}}}}", plaintext.len());
    assert_eq!(
        session.open_response(&opened.respond(answer.as_bytes())),
        Ok(answer.into_bytes())
    );
    let (status, body) = opened.flow_token_error("the flow token expired");
    assert_eq!(status, 427);
    let error: Value = serde_json::from_slice(&session.open_response(&body).unwrap()).unwrap();
    assert_eq!(error, json!({"error_msg": "the flow token expired"}));
}

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let mut input = Input(data);
    let mode = input.byte();
    let policy = [
        FlowTokenSignaturePolicy::IfPresent,
        FlowTokenSignaturePolicy::Required,
        FlowTokenSignaturePolicy::Off,
        FlowTokenSignaturePolicy::IfPresent,
    ][usize::from(mode % 4)];
    let secrets = input.byte_strings(3, 17);
    let secrets: Vec<&[u8]> = secrets.iter().map(Vec::as_slice).collect();
    let now = i64::from_be_bytes(input.array());
    let [newest, older, stranger] = keys();
    let ring = FlowKeyRing::new(vec![newest.clone(), older.clone()]).unwrap();
    let endpoint = match FlowEndpoint::new(ring, &secrets, policy) {
        Ok(endpoint) => endpoint,
        Err(error) => {
            assert_eq!(
                (error.code(), error.http_status()),
                ("invalid_configuration", Some(500))
            );
            assert!(
                secrets.iter().any(|secret| secret.is_empty())
                    || (secrets.is_empty() && policy == FlowTokenSignaturePolicy::Required)
            );
            return;
        }
    };
    assert!(secrets.iter().all(|secret| !secret.is_empty()));
    assert_eq!(endpoint.keys().len(), 2);
    let kind = (mode >> 2) % 4;
    if kind == 0 {
        let len = usize::from(input.byte());
        let header = (len != 0).then(|| String::from_utf8_lossy(input.bytes(len - 1)));
        let body = input.rest();
        let Err(error) = endpoint.open(body, header.as_deref(), now) else {
            panic!("a fuzzed body opened");
        };
        let authentic = secrets.is_empty()
            || header_authenticates(body, header.as_deref().unwrap_or(""), &secrets);
        match error.http_status() {
            Some(432) => assert!(!authentic, "{error:?}"),
            Some(421) => assert!(authentic, "{error:?}"),
            _ => panic!("{error:?}"),
        }
        return;
    }
    let (aes_key, iv): ([u8; 16], [u8; 16]) = (input.array(), input.array());
    let key_choice = usize::from(input.byte() % 3);
    let header_choice = (mode >> 5) % 4;
    let signer = secrets
        .get(usize::from(input.byte()) % secrets.len().max(1))
        .copied();
    let fuzzed_header = {
        let len = usize::from(input.byte() % 80);
        String::from_utf8_lossy(input.bytes(len)).into_owned()
    };
    let (plaintext, expected) = if mode & 16 != 0 {
        let (plaintext, expected) = structured(&mut input, &secrets, policy);
        (plaintext, Some(expected))
    } else {
        (input.rest().to_vec(), None)
    };
    if kind == 2 {
        let response_key = ResponseKey::new(AesKey::new(aes_key), iv);
        let session = ClientSession::from(response_key.clone());
        let Ok(text) = String::from_utf8(plaintext.clone()) else {
            return;
        };
        let decrypted = match DecryptedRequest::from_parts(text, response_key, key_choice) {
            Ok(decrypted) => decrypted,
            Err(error) => {
                assert_eq!(error.code(), "malformed");
                let object = serde_json::from_slice::<Value>(&plaintext);
                assert!(!object.is_ok_and(|value| value.is_object()), "{error:?}");
                return;
            }
        };
        let outcome = endpoint.open_decrypted(decrypted, now);
        if let Ok(opened) = &outcome {
            assert_eq!(opened.decrypted().key_index(), key_choice);
        }
        return check_opened(&outcome, &plaintext, expected.as_ref(), &session);
    }
    let recipient = [newest, older, stranger][key_choice];
    let (request, session) = seal_request_with(
        &recipient.public_key(),
        &plaintext,
        AesKey::new(aes_key),
        iv,
    )
    .unwrap();
    let body = request.to_json();
    let right = signer.map(|secret| {
        let tag = hmac_sha256(secret, body.as_bytes());
        format!(
            "sha256={}",
            tag.iter().map(|b| format!("{b:02x}")).collect::<String>()
        )
    });
    let header = match (header_choice, right) {
        (0, right) => right,
        (1, Some(mut right)) => {
            let last = right.pop().unwrap();
            right.push(if last == '0' { '1' } else { '0' });
            Some(right)
        }
        (1, None) | (2, _) => None,
        _ => Some(fuzzed_header),
    };
    let outcome = endpoint.open(body.as_bytes(), header.as_deref(), now);
    let authentic = secrets.is_empty()
        || header_authenticates(body.as_bytes(), header.as_deref().unwrap_or(""), &secrets);
    if !authentic {
        let error = outcome.unwrap_err();
        return assert_eq!(
            (error.code(), error.http_status()),
            ("invalid_signature", Some(432))
        );
    }
    if key_choice == 2 {
        let error = outcome.unwrap_err();
        return assert_eq!(
            (error.code(), error.http_status()),
            ("key_unwrap", Some(421))
        );
    }
    if let Ok(opened) = &outcome {
        assert_eq!(opened.decrypted().key_index(), key_choice);
    }
    check_opened(&outcome, &plaintext, expected.as_ref(), &session);
});

//! Properties over arbitrary payloads: the WhatsApp side and the endpoint side agree, and any
//! change to a sealed request makes it fail.

// Test code: a failed fixture or assertion should stop the run loudly.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::sync::OnceLock;

use proptest::prelude::*;
use wa_flows_crypto::client::{seal_request, seal_request_parts};
use wa_flows_crypto::{EncryptedRequest, FlowPrivateKey, RsaEngine, decrypt_request};

fn key(engine: RsaEngine) -> FlowPrivateKey {
    static KEY: OnceLock<FlowPrivateKey> = OnceLock::new();
    KEY.get_or_init(|| {
        let pem = std::fs::read(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../tests/vectors/keys/rsa2048_pkcs8.pem"
        ))
        .unwrap();
        FlowPrivateKey::from_pem(pem, None).unwrap()
    })
    .clone()
    .with_engine(engine)
    .unwrap()
}

/// Arbitrary text inside a flow request: every payload must be a JSON object.
fn as_request(text: &str) -> String {
    serde_json::json!({"version": "3.0", "action": "data_exchange", "data": {"text": text}})
        .to_string()
}

fn engines() -> impl Strategy<Value = RsaEngine> {
    proptest::sample::select(RsaEngine::available())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn seal_decrypt_answer_open_round_trips(
        payload in "\\PC{0,600}",
        response in proptest::collection::vec(any::<u8>(), 0..2048),
        engine in engines(),
    ) {
        let key = key(engine);
        let (body, session) = seal_request(&key.public_key(), as_request(&payload).as_bytes()).unwrap();
        let request = decrypt_request(body.as_bytes(), &key).unwrap();
        prop_assert_eq!(request.plaintext(), as_request(&payload));
        let answer = request.encrypt_response(&response);
        prop_assert_eq!(session.open_response(&answer).unwrap(), response);
    }

    #[test]
    fn flipping_any_byte_of_the_body_fails(
        payload in "\\PC{1,200}",
        position in any::<prop::sample::Index>(),
        mask in 1u8..=255,
        engine in engines(),
    ) {
        let key = key(engine);
        let (body, _) = seal_request(&key.public_key(), as_request(&payload).as_bytes()).unwrap();
        let mut bytes = body.into_bytes();
        let at = position.index(bytes.len());
        bytes[at] ^= mask;
        let error = decrypt_request(&bytes, &key).unwrap_err();
        prop_assert!(matches!(error.code(), "malformed" | "key_unwrap" | "payload_auth"), "{}", error);
        prop_assert_eq!(error.http_status(), Some(421));
    }

    #[test]
    fn flipping_any_bit_of_a_decoded_field_fails_with_its_own_code(
        payload in "\\PC{1,200}",
        field in 0usize..3,
        position in any::<prop::sample::Index>(),
        bit in 0u8..8,
        engine in engines(),
    ) {
        let key = key(engine);
        let (request, _) = seal_request_parts(&key.public_key(), as_request(&payload).as_bytes()).unwrap();
        let mut data = request.encrypted_flow_data().to_vec();
        let mut wrapped = request.encrypted_aes_key().to_vec();
        let mut iv = *request.initial_vector();
        let (target, expected): (&mut [u8], &str) = match field {
            0 => (&mut data, "payload_auth"),
            1 => (&mut wrapped, "key_unwrap"),
            _ => (&mut iv, "payload_auth"),
        };
        let at = position.index(target.len());
        target[at] ^= 1 << bit;
        let tampered = EncryptedRequest::from_parts(data, wrapped, iv).unwrap();
        let error = tampered.decrypt(&key).unwrap_err();
        prop_assert_eq!(error.code(), expected);
    }

    #[test]
    fn arbitrary_bodies_never_panic_and_get_a_request_level_code(
        body in proptest::collection::vec(any::<u8>(), 0..512),
    ) {
        let key = key(RsaEngine::available()[0]);
        if let Err(error) = decrypt_request(&body, &key) {
            prop_assert_eq!(error.http_status(), Some(421));
        }
    }
}

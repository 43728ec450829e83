//! Every request, response and signature vector in `tests/vectors/`, through every RSA
//! engine compiled in.

// Test code: a failed fixture or assertion should stop the run loudly.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use std::collections::BTreeSet;

use wa_flows_crypto::{
    DecryptedRequest, EncryptedRequest, Error, FlowPrivateKey, ResponseKey, RsaEngine,
    decrypt_payload, decrypt_request, encrypt_response, unwrap_aes_key, verify_signature,
};

fn load_key(vector: &serde_json::Value, engine: RsaEngine) -> Result<FlowPrivateKey, Error> {
    let pem = common::read(vector["key"].as_str().unwrap());
    let passphrase = vector["passphrase"].as_str().map(str::as_bytes);
    let key = if vector["key"].as_str().unwrap().ends_with(".der") {
        FlowPrivateKey::from_der(&pem, passphrase)?
    } else {
        FlowPrivateKey::from_pem(&pem, passphrase)?
    };
    key.with_engine(engine)
}

fn run(vector: &serde_json::Value, engine: RsaEngine) -> Result<DecryptedRequest, Error> {
    let key = load_key(vector, engine)?;
    assert_eq!(key.engine(), engine);
    let body = serde_json::to_vec(&vector["request"]).unwrap();
    decrypt_request(&body, &key)
}

#[test]
fn every_request_vector_through_every_engine() {
    let vectors = common::vectors("requests.json");
    let mut names = BTreeSet::new();
    for engine in RsaEngine::available() {
        for vector in &vectors {
            let name = vector["name"].as_str().unwrap();
            names.insert(name);
            let expect = &vector["expect"];
            let result = run(vector, *engine);
            if expect["ok"].as_bool().unwrap() {
                let request = result.unwrap_or_else(|e| panic!("{name} ({engine:?}): {e}"));
                assert_eq!(
                    request.plaintext(),
                    expect["plaintext"].as_str().unwrap(),
                    "{name}"
                );
                let key = request.response_key();
                assert_eq!(
                    hex::encode(key.aes_key()),
                    expect["aes_key_hex"].as_str().unwrap()
                );
                assert_eq!(
                    hex::encode(key.request_iv()),
                    expect["iv_hex"].as_str().unwrap()
                );
                // The typed view parses every real request.
                request.request().unwrap();
            } else {
                let error = result.expect_err(name);
                assert_eq!(
                    error.code(),
                    expect["error"].as_str().unwrap(),
                    "{name} ({engine:?}): {error}"
                );
            }
        }
    }
    assert!(
        names.len() >= 30,
        "only {} request vectors ran",
        names.len()
    );
}

#[test]
fn the_two_steps_give_the_same_result_as_the_one_call() {
    for vector in common::vectors("requests.json") {
        if !vector["expect"]["ok"].as_bool().unwrap() {
            continue;
        }
        let key = load_key(&vector, RsaEngine::available()[0]).unwrap();
        let body = serde_json::to_vec(&vector["request"]).unwrap();
        let request = EncryptedRequest::from_json(&body).unwrap();
        let aes_key = unwrap_aes_key(request.encrypted_aes_key(), &key).unwrap();
        // A host that unwrapped the key elsewhere hands the raw bytes over.
        let aes_key = wa_flows_crypto::AesKey::from_slice(aes_key.as_bytes()).unwrap();
        let decrypted = decrypt_payload(&request, &aes_key).unwrap();
        assert_eq!(
            decrypted.plaintext(),
            vector["expect"]["plaintext"].as_str().unwrap()
        );
    }
}

#[test]
fn body_can_be_given_as_parsed_json() {
    let vector = &common::vectors("requests.json")[0];
    let key = load_key(vector, RsaEngine::available()[0]).unwrap();
    let request = EncryptedRequest::from_json_value(&vector["request"]).unwrap();
    assert_eq!(
        request.decrypt(&key).unwrap().plaintext(),
        vector["expect"]["plaintext"].as_str().unwrap()
    );
}

#[test]
fn every_response_vector_is_byte_exact() {
    let vectors = common::vectors("responses.json");
    for vector in &vectors {
        let key = ResponseKey::from_slices(
            &hex::decode(vector["aes_key_hex"].as_str().unwrap()).unwrap(),
            &hex::decode(vector["request_iv_hex"].as_str().unwrap()).unwrap(),
        )
        .unwrap();
        let body = encrypt_response(vector["plaintext"].as_str().unwrap().as_bytes(), &key);
        assert_eq!(
            body,
            vector["expected_body"].as_str().unwrap(),
            "{}",
            vector["name"]
        );
    }
}

#[test]
fn every_signature_vector() {
    use base64::Engine as _;
    for vector in common::vectors("signatures.json") {
        let body = base64::engine::general_purpose::STANDARD
            .decode(vector["body_b64"].as_str().unwrap())
            .unwrap();
        let secret = vector["app_secret"].as_str().unwrap().as_bytes();
        let header = vector["header"].as_str().unwrap();
        let result = verify_signature(&body, header, secret);
        let name = vector["name"].as_str().unwrap();
        if vector["valid"].as_bool().unwrap() {
            result.unwrap_or_else(|e| panic!("{name}: {e}"));
            assert!(header.eq_ignore_ascii_case(&wa_flows_crypto::sign(&body, secret)));
        } else {
            let error = result.expect_err(name);
            assert_eq!(error.code(), "invalid_signature", "{name}");
            assert_eq!(error.http_status(), Some(432));
        }
    }
}

#[test]
fn responses_answer_requests_from_the_vectors() {
    // The whole exchange on a real vector: decrypt, answer, and open the answer as the client.
    let vector = &common::vectors("requests.json")[0];
    let request = run(vector, RsaEngine::available()[0]).unwrap();
    let body = request.encrypt_response(wa_flows_crypto::flow::PING_RESPONSE.as_bytes());
    let expected = encrypt_response(
        wa_flows_crypto::flow::PING_RESPONSE.as_bytes(),
        request.response_key(),
    );
    assert_eq!(body, expected);
    assert_ne!(
        request.response_key().response_iv(),
        *request.response_key().request_iv()
    );
}

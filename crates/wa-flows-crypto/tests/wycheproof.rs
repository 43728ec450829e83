//! Wycheproof vectors against the primitives exactly as this crate uses them: RSA-OAEP
//! SHA-256/MGF1-SHA-256 through `unwrap_aes_key` (both engines), AES-128-GCM with 16-byte IVs
//! through `decrypt_payload` and `ResponseKey`, HMAC-SHA256 through `sign`/`verify_signature`.

// Test code: a failed fixture or assertion should stop the run loudly.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use base64::Engine as _;
use wa_flows_crypto::client::ClientSession;
use wa_flows_crypto::{
    AesKey, EncryptedRequest, Error, FlowPrivateKey, ResponseKey, RsaEngine, decrypt_payload, sign,
    unwrap_aes_key, verify_signature,
};
use wycheproof::TestResult;

#[test]
fn rsa_oaep_sha256_mgf1_sha256() {
    use wycheproof::rsa_oaep::{TestName, TestSet};
    let mut checked = 0;
    for name in [
        TestName::Rsa2048Sha256Mgf1Sha256,
        TestName::Rsa3072Sha256Mgf1Sha256,
        TestName::Rsa4096Sha256Mgf1Sha256,
    ] {
        let set = TestSet::load(name).unwrap();
        for group in &set.test_groups {
            let key = FlowPrivateKey::from_der(&group.pkcs8, None).unwrap();
            for engine in RsaEngine::available() {
                let key = key.clone().with_engine(*engine).unwrap();
                for test in &group.tests {
                    let result = unwrap_aes_key(&test.ct, &key);
                    let decryptable = test.result != TestResult::Invalid && test.label.is_empty();
                    let id = format!("{name:?} #{} {engine:?} ({})", test.tc_id, test.comment);
                    match (decryptable, test.pt.len(), result) {
                        (true, 16, Ok(aes_key)) => {
                            assert_eq!(aes_key.as_bytes(), &test.pt[..], "{id}")
                        }
                        // A valid OAEP message that is not an AES-128 key is the protocol's
                        // `malformed`, never a silent success.
                        (true, _, Err(Error::Malformed(_))) => {}
                        // Labelled messages are undecryptable without the label, and invalid
                        // ones must fail: both as one indistinguishable error.
                        (false, _, Err(Error::KeyUnwrap)) => {}
                        (_, _, other) => panic!("{id}: unexpected {other:?}"),
                    }
                    checked += 1;
                }
            }
        }
    }
    assert!(checked > 100, "only {checked} RSA-OAEP cases ran");
}

#[test]
fn aes_128_gcm_with_16_byte_ivs() {
    use wycheproof::aead::{TestName, TestSet};
    let set = TestSet::load(TestName::AesGcm).unwrap();
    let mut checked = 0;
    for group in &set.test_groups {
        // The protocol uses AES-128, a 128-bit IV, a 128-bit tag and no associated data.
        if group.key_size != 128 || group.nonce_size != 128 || group.tag_size != 128 {
            continue;
        }
        for test in group.tests.iter().filter(|test| test.aad.is_empty()) {
            let id = format!("AES-GCM #{} ({})", test.tc_id, test.comment);
            let aes_key = AesKey::from_slice(&test.key).unwrap();
            let iv: [u8; 16] = test.nonce[..].try_into().unwrap();
            let mut sealed = test.ct.to_vec();
            sealed.extend_from_slice(&test.tag);

            // Decryption, as a request.
            let request = EncryptedRequest::from_parts(sealed.clone(), vec![1], iv).unwrap();
            let opened = decrypt_payload(&request, &aes_key);
            match (test.result, opened) {
                (TestResult::Invalid, Err(Error::PayloadAuth)) => {}
                (TestResult::Valid, Ok(decrypted)) => {
                    assert_eq!(decrypted.plaintext().as_bytes(), &test.pt[..], "{id}")
                }
                // Authentic but not a UTF-8 JSON object (no request is anything else): refused
                // after authentication, not as forged.
                (TestResult::Valid, Err(Error::Malformed(_))) => {
                    let is_object = std::str::from_utf8(&test.pt)
                        .ok()
                        .and_then(|text| serde_json::from_str::<serde_json::Value>(text).ok())
                        .is_some_and(|value| value.is_object());
                    assert!(!is_object, "{id}")
                }
                (_, other) => panic!("{id}: unexpected {other:?}"),
            }

            // The same AES-GCM open without the request's JSON rule: the client side opening a
            // response sealed under this IV (a response IV is the request IV inverted).
            let session = ClientSession::from(ResponseKey::new(aes_key.clone(), iv.map(|b| !b)));
            let body = base64::engine::general_purpose::STANDARD.encode(&sealed);
            match (test.result, session.open_response(&body)) {
                (TestResult::Valid, Ok(plaintext)) => assert_eq!(plaintext, test.pt[..], "{id}"),
                (TestResult::Invalid, Err(Error::PayloadAuth)) => {}
                (_, other) => panic!("{id}: the open gave {other:?}"),
            }

            // Encryption, as a response: a response IV is the request IV inverted.
            if test.result == TestResult::Valid {
                let response_key = ResponseKey::new(aes_key.clone(), iv.map(|b| !b));
                assert_eq!(response_key.encrypt_to_bytes(&test.pt), sealed, "{id}");
            }
            checked += 1;
        }
    }
    assert!(checked >= 10, "only {checked} AES-GCM cases ran");
}

#[test]
fn hmac_sha256() {
    use wycheproof::mac::{TestName, TestSet};
    let set = TestSet::load(TestName::HmacSha256).unwrap();
    let mut checked = 0;
    for group in set.test_groups.iter().filter(|group| group.tag_size == 256) {
        for test in &group.tests {
            let id = format!("HMAC-SHA256 #{} ({})", test.tc_id, test.comment);
            let header = format!("sha256={}", hex::encode(&test.tag));
            let verified = verify_signature(&test.msg, &header, &test.key);
            match test.result {
                TestResult::Valid => {
                    assert_eq!(sign(&test.msg, &test.key), header, "{id}");
                    verified.unwrap_or_else(|e| panic!("{id}: {e}"));
                }
                _ => assert_eq!(verified.unwrap_err().code(), "invalid_signature", "{id}"),
            }
            checked += 1;
        }
    }
    assert!(checked >= 50, "only {checked} HMAC cases ran");
}

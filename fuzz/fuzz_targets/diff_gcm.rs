//! AES-128-GCM with WhatsApp's 16-byte IV (a non-standard length: J0 is GHASH-derived), no
//! associated data, `ciphertext ‖ tag`: the core's `decrypt_payload` and `encrypt_response`
//! against OpenSSL's `EVP_aes_128_gcm` (`symm::encrypt_aead` / `decrypt_aead`).
//!
//! Input: a mode byte, the 16-byte key, the 16-byte IV, then per mode (mode byte % 4):
//! - 0: plaintext: OpenSSL seals it, the core opens it;
//! - 1: plaintext sealed by OpenSSL, then up to three fuzzer-chosen changes (flip, cut,
//!   insert) to the ciphertext or tag;
//! - 2/3: fuzzer-chosen `ciphertext ‖ tag`.
//!
//! Rules: when OpenSSL's tag check fails, the core says `payload_auth`; when it passes, the core
//! returns the same plaintext if it is a request payload (UTF-8 text holding one JSON object:
//! the expected difference, since the core refuses any other plaintext as `malformed` with the
//! message naming which of the two rules failed). Whether a plaintext is a request payload is
//! `serde_json::Value`'s opinion (`diff_common::is_request_payload`), not the core's visitor
//! written out again; where `Value` cannot say (an unpaired surrogate escape, nesting past
//! serde_json's limit of 128), either answer is taken, with the same plaintext or the
//! not-an-object message. A `ciphertext ‖ tag` shorter than the tag is
//! `malformed` before any cryptography. In every mode the response direction is checked too:
//! the core's `encrypt_response` (the IV with every bit inverted) is byte for byte OpenSSL's
//! encryption under that IV, and OpenSSL opens it to the same plaintext.

#![no_main]

#[path = "diff_common.rs"]
mod diff_common;

use diff_common::{Input, is_request_payload};
use openssl::symm::{Cipher, decrypt_aead, encrypt_aead};
use wa_flows_crypto::{AesKey, EncryptedRequest, Error, ResponseKey, decrypt_payload};

const TAG_LEN: usize = 16;

fn openssl_seal(key: &[u8; 16], iv: &[u8; 16], plaintext: &[u8]) -> Vec<u8> {
    let mut tag = [0u8; TAG_LEN];
    let mut sealed = encrypt_aead(
        Cipher::aes_128_gcm(),
        key,
        Some(iv),
        &[],
        plaintext,
        &mut tag,
    )
    .unwrap();
    sealed.extend_from_slice(&tag);
    sealed
}

fn openssl_open(key: &[u8; 16], iv: &[u8; 16], sealed: &[u8]) -> Option<Vec<u8>> {
    let (ciphertext, tag) = sealed.split_at_checked(sealed.len().checked_sub(TAG_LEN)?)?;
    decrypt_aead(Cipher::aes_128_gcm(), key, Some(iv), &[], ciphertext, tag).ok()
}

/// The request direction: the core against OpenSSL on one `ciphertext ‖ tag`.
fn compare_request(key: &[u8; 16], iv: &[u8; 16], sealed: &[u8]) {
    let result = EncryptedRequest::from_parts(sealed.to_vec(), vec![1], *iv)
        .and_then(|request| decrypt_payload(&request, &AesKey::new(*key)));
    if sealed.len() < TAG_LEN {
        assert_eq!(
            result.map(|_| ()),
            Err(Error::Malformed(
                "`encrypted_flow_data` is shorter than its 16-byte AES-GCM tag"
            ))
        );
        return;
    }
    let opened = openssl_open(key, iv, sealed);
    let Some(plaintext) = opened else {
        return assert_eq!(
            result.map(|_| ()),
            Err(Error::PayloadAuth),
            "OpenSSL refuses the tag"
        );
    };
    // The expected difference: authentic, but not a request payload.
    let not_a_payload = if core::str::from_utf8(&plaintext).is_err() {
        "the decrypted payload is not UTF-8 text"
    } else {
        "the decrypted payload is not a JSON object"
    };
    match (is_request_payload(&plaintext), result) {
        (Some(true) | None, Ok(decrypted)) => {
            assert_eq!(decrypted.plaintext().as_bytes(), plaintext.as_slice());
            assert_eq!(decrypted.response_key().request_iv(), iv);
            assert_eq!(decrypted.response_key().aes_key(), key);
        }
        (Some(false) | None, Err(error)) => assert_eq!(error, Error::Malformed(not_a_payload)),
        (Some(true), Err(error)) => panic!("OpenSSL opens a request payload: {error:?}"),
        (Some(false), Ok(_)) => panic!("the core accepts what serde_json's Value calls no payload"),
    }
}

/// The response direction: the core seals, OpenSSL opens (and seals the same bytes).
fn compare_response(key: &[u8; 16], iv: &[u8; 16], plaintext: &[u8]) {
    let response_key = ResponseKey::new(AesKey::new(*key), *iv);
    let inverted = iv.map(|b| !b);
    assert_eq!(response_key.response_iv(), inverted);
    let sealed = response_key.encrypt_to_bytes(plaintext);
    assert_eq!(sealed, openssl_seal(key, &inverted, plaintext));
    assert_eq!(
        openssl_open(key, &inverted, &sealed).as_deref(),
        Some(plaintext)
    );
    // Under the request IV itself it must not open (the inversion is real).
    if inverted != *iv {
        assert_eq!(openssl_open(key, iv, &sealed), None);
    }
}

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let mut input = Input(data);
    let mode = input.byte();
    let key: [u8; 16] = input.array();
    let iv: [u8; 16] = input.array();
    match mode % 4 {
        0 => {
            let plaintext = input.rest();
            compare_request(&key, &iv, &openssl_seal(&key, &iv, plaintext));
            compare_response(&key, &iv, plaintext);
        }
        1 => {
            let changes: Vec<[u8; 4]> = (0..input.byte() % 4).map(|_| input.array()).collect();
            let plaintext = input.rest();
            let mut sealed = openssl_seal(&key, &iv, plaintext);
            for [kind, high, low, value] in changes {
                let at = usize::from(high) << 8 | usize::from(low);
                match kind % 3 {
                    0 if !sealed.is_empty() => {
                        let at = at % sealed.len();
                        sealed[at] ^= value | 1;
                    }
                    1 => sealed.truncate(at % (sealed.len() + 1)),
                    _ => sealed.insert(at % (sealed.len() + 1), value),
                }
            }
            compare_request(&key, &iv, &sealed);
            compare_response(&key, &iv, plaintext);
        }
        _ => {
            let sealed = input.rest();
            compare_request(&key, &iv, sealed);
            compare_response(&key, &iv, sealed);
        }
    }
});

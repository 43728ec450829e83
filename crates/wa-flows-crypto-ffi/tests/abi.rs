//! The C ABI driven the way a C host drives it: raw pointers, lengths, out-parameters and
//! handles, wrong sizes and NULLs included. Native runs check the results; under Miri
//! (`scripts/miri.sh`) the same calls are checked for undefined behaviour: every read and
//! write through a caller's pointer stays inside what the caller gave, handles are freed
//! exactly once, and no error leaves a dangling pointer. RSA runs in aws-lc (C, which Miri
//! cannot interpret), so these tests keep to what is Rust end to end: signatures, media,
//! responses and payloads, handles, error messages.
#![allow(
    unsafe_code,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic,
    reason = "a test of a C ABI: it calls it as C does, and fails loudly"
)]

use core::ptr;

use serde_json::Value;
use wa_flows_crypto::{AesKey, ResponseKey};
use wa_flows_crypto_ffi::*;

const MEDIA_JSON: &str = include_str!("../../../tests/vectors/media.json");

fn media_case(name: &str) -> (String, &'static [u8]) {
    let cases: Value = serde_json::from_str(MEDIA_JSON).unwrap();
    let case = cases["vectors"]
        .as_array()
        .unwrap()
        .iter()
        .find(|case| case["name"] == name)
        .unwrap();
    let file: &'static [u8] = match name {
        "size_17" => include_bytes!("../../../tests/vectors/media/size_17.enc"),
        "size_1000" => include_bytes!("../../../tests/vectors/media/size_1000.enc"),
        "bad_padding_authentic_mac" => {
            include_bytes!("../../../tests/vectors/media/bad_padding_authentic_mac.enc")
        }
        _ => panic!("no such file here"),
    };
    (case["metadata"].to_string(), file)
}

fn plaintext_of(name: &str) -> &'static [u8] {
    match name {
        "size_17" => include_bytes!("../../../tests/vectors/media/size_17.bin"),
        "size_1000" => include_bytes!("../../../tests/vectors/media/size_1000.bin"),
        _ => panic!("no such file here"),
    }
}

fn metadata(json: &str) -> *mut wfc_media_metadata {
    let mut handle = ptr::null_mut();
    // SAFETY: a valid buffer and out-parameter.
    let status = unsafe { wfc_media_metadata_from_json(json.as_ptr(), json.len(), &mut handle) };
    assert_eq!(status, wfc_status::Ok);
    assert!(!handle.is_null());
    handle
}

fn last_error() -> String {
    // SAFETY: a buffer of the length the library reports, and an out-parameter.
    unsafe {
        let mut message = vec![0u8; wfc_last_error_message_len()];
        let mut written = 0;
        let status = wfc_last_error_message(message.as_mut_ptr(), message.len(), &mut written);
        assert_eq!(status, wfc_status::Ok);
        message.truncate(written);
        String::from_utf8(message).unwrap()
    }
}

#[test]
fn signatures_are_written_and_checked_within_the_callers_buffers() {
    let (body, secret) = (b"{\"hello\":1}", b"app secret");
    // SAFETY: every buffer and length below belongs together; NULLs are where tested.
    unsafe {
        let mut header = vec![0u8; WFC_SIGNATURE_HEADER_LEN];
        let mut written = 0;
        let short = wfc_sign(
            body.as_ptr(),
            body.len(),
            secret.as_ptr(),
            secret.len(),
            header.as_mut_ptr(),
            header.len() - 1,
            &mut written,
        );
        assert_eq!(short, wfc_status::BufferTooSmall);
        let status = wfc_sign(
            body.as_ptr(),
            body.len(),
            secret.as_ptr(),
            secret.len(),
            header.as_mut_ptr(),
            header.len(),
            &mut written,
        );
        assert_eq!(
            (status, written),
            (wfc_status::Ok, WFC_SIGNATURE_HEADER_LEN)
        );
        assert_eq!(header, wa_flows_crypto::sign(body, secret).into_bytes());

        let verify = |header: &[u8]| {
            wfc_verify_signature(
                body.as_ptr(),
                body.len(),
                header.as_ptr(),
                header.len(),
                secret.as_ptr(),
                secret.len(),
            )
        };
        assert_eq!(verify(&header), wfc_status::Ok);
        let mut forged = header.clone();
        *forged.last_mut().unwrap() ^= 1;
        assert_eq!(verify(&forged), wfc_status::InvalidSignature);
        assert_eq!(verify(&[0xff, 0xfe]), wfc_status::InvalidSignature);
        assert_eq!(
            wfc_verify_signature(
                ptr::null(),
                3,
                header.as_ptr(),
                header.len(),
                secret.as_ptr(),
                secret.len()
            ),
            wfc_status::NullParameter
        );
        assert!(last_error().contains("body"));
        // NULL with length 0 is the empty body.
        let empty = wa_flows_crypto::sign(b"", secret);
        assert_eq!(
            wfc_verify_signature(
                ptr::null(),
                0,
                empty.as_ptr(),
                empty.len(),
                secret.as_ptr(),
                secret.len()
            ),
            wfc_status::Ok
        );

        let secrets = [
            wfc_bytes {
                data: b"old".as_ptr(),
                len: 3,
            },
            wfc_bytes {
                data: secret.as_ptr(),
                len: secret.len(),
            },
        ];
        let mut index = usize::MAX;
        let status = wfc_verify_signature_any(
            body.as_ptr(),
            body.len(),
            header.as_ptr(),
            header.len(),
            secrets.as_ptr(),
            secrets.len(),
            &mut index,
        );
        assert_eq!((status, index), (wfc_status::Ok, 1));
        let holes = [wfc_bytes {
            data: ptr::null(),
            len: 5,
        }];
        let status = wfc_verify_signature_any(
            body.as_ptr(),
            body.len(),
            header.as_ptr(),
            header.len(),
            holes.as_ptr(),
            1,
            &mut index,
        );
        assert_eq!(status, wfc_status::NullParameter);
    }
}

#[test]
fn a_one_shot_media_decryption_writes_only_into_the_buffer_it_is_given() {
    for name in ["size_17", "size_1000"] {
        let (json, file) = media_case(name);
        let metadata = metadata(&json);
        // SAFETY: buffers with their lengths; the handle is live until freed at the end.
        unsafe {
            let max = wfc_decrypt_media_content_max_len(file.len());
            // Exactly max, and a buffer just big enough for the plaintext but under max
            // (the library then decrypts into its own memory and copies).
            for cap in [max, plaintext_of(name).len()] {
                let mut out = vec![0xaau8; cap];
                let mut written = usize::MAX;
                let status = wfc_decrypt_media_content(
                    metadata,
                    file.as_ptr(),
                    file.len(),
                    out.as_mut_ptr(),
                    out.len(),
                    &mut written,
                );
                assert_eq!(status, wfc_status::Ok, "{name} cap {cap}");
                assert_eq!(&out[..written], plaintext_of(name));
            }
            let mut small = vec![0u8; plaintext_of(name).len().saturating_sub(1)];
            let mut written = 0;
            let status = wfc_decrypt_media_content(
                metadata,
                file.as_ptr(),
                file.len(),
                small.as_mut_ptr(),
                small.len(),
                &mut written,
            );
            assert_eq!(status, wfc_status::BufferTooSmall);

            let mut buffer = file.to_vec();
            let mut plaintext_len = 0;
            let status = wfc_decrypt_media_content_in_place(
                metadata,
                buffer.as_mut_ptr(),
                buffer.len(),
                &mut plaintext_len,
            );
            assert_eq!(status, wfc_status::Ok);
            assert_eq!(&buffer[..plaintext_len], plaintext_of(name));
            wfc_media_metadata_free(metadata);
        }
    }
}

#[test]
fn a_failed_media_check_zeroes_what_was_decrypted() {
    let (json, file) = media_case("bad_padding_authentic_mac");
    let metadata = metadata(&json);
    // SAFETY: as above.
    unsafe {
        let max = wfc_decrypt_media_content_max_len(file.len());
        let mut out = vec![0xaau8; max];
        let mut written = 0;
        let status = wfc_decrypt_media_content(
            metadata,
            file.as_ptr(),
            file.len(),
            out.as_mut_ptr(),
            out.len(),
            &mut written,
        );
        assert_eq!(status, wfc_status::Padding);
        // Decrypted straight into `out` (it is max_len long), then zeroed; the rest untouched.
        assert!(
            out.iter().all(|&byte| byte == 0 || byte == 0xaa),
            "plaintext left behind"
        );
        assert!(
            out.contains(&0),
            "nothing was decrypted into out: the test misses its path"
        );
        let mut buffer = file.to_vec();
        let status = wfc_decrypt_media_content_in_place(
            metadata,
            buffer.as_mut_ptr(),
            buffer.len(),
            &mut written,
        );
        assert_eq!(status, wfc_status::Padding);
        assert!(buffer.iter().all(|&byte| byte == 0));
        wfc_media_metadata_free(metadata);
    }
}

#[test]
fn streaming_handles_release_exactly_the_plaintext_and_refuse_use_after_finish() {
    let name = "size_1000";
    let (json, file) = media_case(name);
    let metadata = metadata(&json);
    // SAFETY: handles are used only between their _new and _free; buffers with lengths.
    unsafe {
        // Miri interprets every AES block and hash round: there, fewer and larger chunks.
        let chunks: &[usize] = if cfg!(miri) {
            &[7, 333]
        } else {
            &[1, 7, 16, 333, 1000]
        };
        for &chunk in chunks {
            let mut decryptor = ptr::null_mut();
            assert_eq!(
                wfc_media_decryptor_new(metadata, &mut decryptor),
                wfc_status::Ok
            );
            let mut plaintext = Vec::new();
            for piece in file.chunks(chunk) {
                let len = wfc_media_decryptor_update_len(decryptor, piece.len());
                assert!(len <= wfc_media_decryptor_max_update_len(piece.len()));
                let mut out = vec![0u8; len];
                let mut written = usize::MAX;
                let status = wfc_media_decryptor_update(
                    decryptor,
                    piece.as_ptr(),
                    piece.len(),
                    out.as_mut_ptr(),
                    out.len(),
                    &mut written,
                );
                assert_eq!((status, written), (wfc_status::Ok, len));
                plaintext.extend_from_slice(&out);
            }
            let mut out = vec![0u8; WFC_MEDIA_FINISH_MAX_LEN];
            let mut written = 0;
            assert_eq!(
                wfc_media_decryptor_finish(decryptor, out.as_mut_ptr(), out.len(), &mut written),
                wfc_status::Ok
            );
            plaintext.extend_from_slice(&out[..written]);
            assert_eq!(plaintext, plaintext_of(name), "chunks of {chunk}");
            assert_eq!(
                wfc_media_decryptor_finish(decryptor, out.as_mut_ptr(), out.len(), &mut written),
                wfc_status::AlreadyFinished
            );
            assert_eq!(wfc_media_decryptor_update_len(decryptor, 1), 0);
            wfc_media_decryptor_free(decryptor);
        }
        // A buffer too small consumes nothing: the same chunk goes through afterwards.
        let mut decryptor = ptr::null_mut();
        assert_eq!(
            wfc_media_decryptor_new(metadata, &mut decryptor),
            wfc_status::Ok
        );
        let mut written = 0;
        let mut none = [0u8; 0];
        let status = wfc_media_decryptor_update(
            decryptor,
            file.as_ptr(),
            64,
            none.as_mut_ptr(),
            0,
            &mut written,
        );
        assert_eq!(status, wfc_status::BufferTooSmall);
        let mut out = vec![0u8; 64];
        assert_eq!(
            wfc_media_decryptor_update(
                decryptor,
                file.as_ptr(),
                64,
                out.as_mut_ptr(),
                out.len(),
                &mut written
            ),
            wfc_status::Ok
        );
        wfc_media_decryptor_free(decryptor);

        let mut verifier = ptr::null_mut();
        assert_eq!(
            wfc_media_verifier_new(metadata, &mut verifier),
            wfc_status::Ok
        );
        for piece in file.chunks(100) {
            assert_eq!(
                wfc_media_verifier_update(verifier, piece.as_ptr(), piece.len()),
                wfc_status::Ok
            );
        }
        assert_eq!(wfc_media_verifier_finish(verifier), wfc_status::Ok);
        assert_eq!(
            wfc_media_verifier_update(verifier, file.as_ptr(), 1),
            wfc_status::AlreadyFinished
        );
        wfc_media_verifier_free(verifier);

        // Freeing NULL does nothing, as free() does; NULL handles are refused.
        wfc_media_decryptor_free(ptr::null_mut());
        wfc_media_verifier_free(ptr::null_mut());
        wfc_media_metadata_free(ptr::null_mut());
        let status = wfc_media_decryptor_update(
            ptr::null_mut(),
            file.as_ptr(),
            1,
            out.as_mut_ptr(),
            out.len(),
            &mut written,
        );
        assert_eq!(status, wfc_status::NullParameter);
        wfc_media_metadata_free(metadata);
    }
}

#[test]
fn responses_are_sealed_into_exactly_their_length() {
    let (aes_key, iv) = ([0x11u8; WFC_AES_KEY_LEN], [0x22u8; WFC_IV_LEN]);
    let answer = br#"{"screen":"SUCCESS","data":{"ok":true}}"#;
    // SAFETY: buffers with their lengths; the key handle lives until freed.
    unsafe {
        let mut key = ptr::null_mut();
        assert_eq!(
            wfc_response_key_new(
                aes_key.as_ptr(),
                aes_key.len(),
                iv.as_ptr(),
                iv.len(),
                &mut key
            ),
            wfc_status::Ok
        );
        let len = wfc_encrypt_response_len(answer.len());
        let mut out = vec![0u8; len];
        let mut written = 0;
        assert_eq!(
            wfc_encrypt_response(
                answer.as_ptr(),
                answer.len(),
                key,
                out.as_mut_ptr(),
                len - 1,
                &mut written
            ),
            wfc_status::BufferTooSmall
        );
        assert_eq!(
            wfc_encrypt_response(
                answer.as_ptr(),
                answer.len(),
                key,
                out.as_mut_ptr(),
                len,
                &mut written
            ),
            wfc_status::Ok
        );
        assert_eq!(written, len);
        let expected = ResponseKey::new(AesKey::new(aes_key), iv).encrypt(answer);
        assert_eq!(out, expected.into_bytes());
        wfc_response_key_free(key);

        let mut refused = ptr::null_mut();
        let status =
            wfc_response_key_new(aes_key.as_ptr(), 15, iv.as_ptr(), iv.len(), &mut refused);
        assert_eq!(status, wfc_status::Malformed);
        assert!(refused.is_null());
        assert!(last_error().contains("16"));
    }
}

#[test]
fn a_payload_opens_with_its_aes_key_and_hands_out_its_plaintext_by_length() {
    let aes_key = [0x33u8; WFC_AES_KEY_LEN];
    let plaintext = br#"{"version":"3.0","action":"ping"}"#;
    // A request is sealed as a response is, under the IV inverted: an all-zero IV, so its
    // base64 is plain to write, and an all-ones one to seal with.
    let sealed = ResponseKey::new(AesKey::new(aes_key), [0xff; WFC_IV_LEN]).encrypt(plaintext);
    let (wrapped_key, zero_iv) = (format!("{}==", "A".repeat(342)), "A".repeat(22) + "==");
    let body = format!(
        r#"{{"encrypted_flow_data":"{sealed}","encrypted_aes_key":"{wrapped_key}","initial_vector":"{zero_iv}"}}"#
    );
    // SAFETY: buffers with their lengths; handles live until freed.
    unsafe {
        let mut request = ptr::null_mut();
        assert_eq!(
            wfc_encrypted_request_from_json(body.as_ptr(), body.len(), &mut request),
            wfc_status::Ok
        );
        let mut decrypted = ptr::null_mut();
        let mut wrong = aes_key;
        wrong[0] ^= 1;
        assert_eq!(
            wfc_decrypt_payload(request, wrong.as_ptr(), wrong.len(), &mut decrypted),
            wfc_status::PayloadAuth
        );
        assert!(decrypted.is_null());
        assert_eq!(
            wfc_decrypt_payload(request, aes_key.as_ptr(), aes_key.len(), &mut decrypted),
            wfc_status::Ok
        );
        let len = wfc_decrypted_request_plaintext_len(decrypted);
        let mut out = vec![0u8; len];
        let mut written = 0;
        assert_eq!(
            wfc_decrypted_request_plaintext(decrypted, out.as_mut_ptr(), len, &mut written),
            wfc_status::Ok
        );
        assert_eq!(&out[..written], plaintext);
        wfc_decrypted_request_free(decrypted);
        wfc_encrypted_request_free(request);
    }
}

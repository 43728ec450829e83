//! The wasm exports, tested inside a JavaScript engine with wasm-bindgen-test (Node):
//! `cargo test --target wasm32-unknown-unknown -p wa-flows-crypto-wasm` with
//! `CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER=wasm-bindgen-test-runner`.
#![cfg(all(target_arch = "wasm32", target_os = "unknown"))]
// A test file: clippy.toml allows these inside `#[test]` functions, but does not recognise
// `#[wasm_bindgen_test]` ones or their helpers.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use serde_json::Value;
use wa_flows_crypto_wasm::{
    WasmMediaDecryptor, WasmMediaVerifier, WasmPrivateKey, decrypt_media_content, encrypt_response,
    host_unwrapped, internal_error, parse_request, request_from_parts, sign, verify_signature,
};
use wasm_bindgen::{JsCast as _, JsValue};
use wasm_bindgen_test::wasm_bindgen_test;

const REQUESTS: &str = include_str!("../../../tests/vectors/requests.json");
const RESPONSES: &str = include_str!("../../../tests/vectors/responses.json");
const SIGNATURES: &str = include_str!("../../../tests/vectors/signatures.json");
const MEDIA: &str = include_str!("../../../tests/vectors/media.json");

fn key_file(name: &str) -> &'static [u8] {
    match name {
        "keys/rsa2048_pkcs8.pem" => {
            include_bytes!("../../../tests/vectors/keys/rsa2048_pkcs8.pem")
        }
        "keys/rsa2048_pkcs1.pem" => {
            include_bytes!("../../../tests/vectors/keys/rsa2048_pkcs1.pem")
        }
        "keys/rsa2048_pkcs8.der" => {
            include_bytes!("../../../tests/vectors/keys/rsa2048_pkcs8.der")
        }
        "keys/rsa2048_pkcs8_des3.pem" => {
            include_bytes!("../../../tests/vectors/keys/rsa2048_pkcs8_des3.pem")
        }
        "keys/rsa2048_pkcs8_aes256.pem" => {
            include_bytes!("../../../tests/vectors/keys/rsa2048_pkcs8_aes256.pem")
        }
        "keys/rsa2048_legacy_des3.pem" => {
            include_bytes!("../../../tests/vectors/keys/rsa2048_legacy_des3.pem")
        }
        "keys/rsa2048_legacy_aes256.pem" => {
            include_bytes!("../../../tests/vectors/keys/rsa2048_legacy_aes256.pem")
        }
        "keys/rsa2048_public.pem" => {
            include_bytes!("../../../tests/vectors/keys/rsa2048_public.pem")
        }
        "keys/rsa2048_other.pem" => {
            include_bytes!("../../../tests/vectors/keys/rsa2048_other.pem")
        }
        "keys/rsa3072_pkcs8.pem" => {
            include_bytes!("../../../tests/vectors/keys/rsa3072_pkcs8.pem")
        }
        "keys/rsa4096_pkcs8.pem" => {
            include_bytes!("../../../tests/vectors/keys/rsa4096_pkcs8.pem")
        }
        other => panic!("no key file {other} in this test"),
    }
}

fn media_file(name: &str) -> Vec<u8> {
    macro_rules! files {
        ($($file:literal),* $(,)?) => {
            match name {
                $(concat!("media/", $file) => include_bytes!(concat!("../../../tests/vectors/media/", $file)).to_vec(),)*
                other => panic!("no media file {other} in this test"),
            }
        };
    }
    files!(
        "size_0.enc",
        "size_0.bin",
        "size_1.enc",
        "size_1.bin",
        "size_15.enc",
        "size_15.bin",
        "size_16.enc",
        "size_16.bin",
        "size_17.enc",
        "size_17.bin",
        "size_32.enc",
        "size_32.bin",
        "size_1000.enc",
        "size_1000.bin",
        "size_4097.enc",
        "size_4097.bin",
        "size_65536.enc",
        "size_65536.bin",
        "size_1048579.enc",
        "size_1048579.bin",
        "tampered_file_hash_checked.enc",
        "tampered_file_rehashed.enc",
        "tampered_mac_rehashed.enc",
        "wrong_hmac_key.enc",
        "wrong_plaintext_hash.enc",
        "bad_padding_authentic_mac.enc",
        "wrong_encryption_key.enc",
        "file_shorter_than_mac.enc",
        "ciphertext_not_block_multiple.enc",
        "iv_15_bytes.enc",
        "encryption_key_16_bytes.enc",
        "bad_base64_metadata.enc",
        "empty_ciphertext.enc",
    )
}

fn vectors(json: &str) -> Vec<Value> {
    let file: Value = serde_json::from_str(json).unwrap();
    file["vectors"].as_array().unwrap().clone()
}

/// The `code` and `httpStatus` of a thrown error, checking it is a real `Error`.
fn code_of(error: &JsValue) -> (String, JsValue) {
    assert!(
        error.is_instance_of::<js_sys::Error>(),
        "not an Error: {error:?}"
    );
    let name = js_sys::Reflect::get(error, &"name".into()).unwrap();
    assert_eq!(name.as_string().as_deref(), Some("FlowCryptoError"));
    let code = js_sys::Reflect::get(error, &"code".into()).unwrap();
    let status = js_sys::Reflect::get(error, &"httpStatus".into()).unwrap();
    (code.as_string().unwrap(), status)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The whole request path through the portable engine, for one body form.
fn decrypt(vector: &Value, body: &JsValue) -> Result<(String, String, String), JsValue> {
    let file = vector["key"].as_str().unwrap();
    let passphrase = vector["passphrase"]
        .as_str()
        .map(|p| p.as_bytes().to_vec().into_boxed_slice());
    let key = if file.ends_with(".der") {
        WasmPrivateKey::from_der(key_file(file), passphrase)?
    } else {
        WasmPrivateKey::from_pem(key_file(file), passphrase)?
    };
    let request = parse_request(body)?;
    let aes_key = key.unwrap_aes_key(&request.encrypted_aes_key())?;
    let plaintext = request.decrypt_payload(&aes_key)?;
    Ok((plaintext, hex(&aes_key), hex(&request.initial_vector())))
}

#[wasm_bindgen_test]
fn every_request_vector_as_text_and_as_object() {
    for vector in vectors(REQUESTS) {
        let name = vector["name"].as_str().unwrap();
        let text = vector["request"].to_string();
        let object = js_sys::JSON::parse(&text).unwrap();
        let bytes = JsValue::from(js_sys::Uint8Array::from(text.as_bytes()));
        let expect = &vector["expect"];
        for body in [JsValue::from_str(&text), object, bytes] {
            match decrypt(&vector, &body) {
                Ok((plaintext, aes_key, iv)) => {
                    assert_eq!(expect["ok"], true, "{name}: decrypted, expected an error");
                    assert_eq!(plaintext, expect["plaintext"].as_str().unwrap(), "{name}");
                    assert_eq!(aes_key, expect["aes_key_hex"].as_str().unwrap(), "{name}");
                    assert_eq!(iv, expect["iv_hex"].as_str().unwrap(), "{name}");
                }
                Err(error) => {
                    let (code, status) = code_of(&error);
                    assert_eq!(expect["ok"], false, "{name}: {code}");
                    assert_eq!(code, expect["error"].as_str().unwrap(), "{name}");
                    let wanted = if code == "invalid_key" { 500 } else { 421 };
                    assert_eq!(status.as_f64(), Some(f64::from(wanted)), "{name}");
                }
            }
        }
    }
}

#[wasm_bindgen_test]
fn a_host_key_of_the_wrong_length_is_malformed() {
    let vector = &vectors(REQUESTS)[0];
    let request = parse_request(&JsValue::from_str(&vector["request"].to_string())).unwrap();
    let error = request.decrypt_payload(&[0; 32]).unwrap_err();
    assert_eq!(code_of(&error).0, "malformed");
    let error = request.decrypt_payload(&[0; 16]).unwrap_err();
    assert_eq!(code_of(&error).0, "payload_auth");
}

/// The host path: fields decoded by the host, the payload opened by the host.
#[wasm_bindgen_test]
fn host_decoded_parts_and_host_opened_payloads_get_the_core_checks() {
    let vector = vectors(REQUESTS)
        .into_iter()
        .find(|vector| vector["expect"]["ok"] == true)
        .unwrap();
    let fields = &vector["request"];
    let flow_data = decode_base64(fields["encrypted_flow_data"].as_str().unwrap());
    let wrapped = decode_base64(fields["encrypted_aes_key"].as_str().unwrap());
    let iv = decode_base64(fields["initial_vector"].as_str().unwrap());
    let plaintext = vector["expect"]["plaintext"].as_str().unwrap();
    let aes_key = decode_hex(vector["expect"]["aes_key_hex"].as_str().unwrap());

    let request = request_from_parts(flow_data.clone(), wrapped.clone(), &iv).unwrap();
    assert_eq!(hex(&request.initial_vector()), vector["expect"]["iv_hex"]);
    let opened = Some(plaintext.as_bytes().to_vec());
    assert_eq!(
        request.decrypt_payload_opened(&aes_key, opened).unwrap(),
        plaintext
    );
    // A failed open, a result of the wrong length, bytes that are not UTF-8, a wrong key size.
    // (AES key, what the host's open returned, the code the core answers with)
    type Case<'a> = (&'a [u8], Option<Vec<u8>>, &'a str);
    let cases: [Case<'_>; 4] = [
        (&aes_key, None, "payload_auth"),
        (&aes_key, Some(b"{}".to_vec()), "payload_auth"),
        (&aes_key, Some(vec![0xff; plaintext.len()]), "malformed"),
        (&[0; 32], Some(plaintext.as_bytes().to_vec()), "malformed"),
    ];
    for (key, opened, code) in cases {
        let error = request.decrypt_payload_opened(key, opened).unwrap_err();
        assert_eq!(code_of(&error).0, code);
    }

    for (flow_data, wrapped, iv) in [
        (flow_data.clone(), wrapped.clone(), &iv[..12]),
        (flow_data[..15].to_vec(), wrapped.clone(), &iv[..]),
        (flow_data, Vec::new(), &iv[..]),
    ] {
        let error = request_from_parts(flow_data, wrapped, iv).err().unwrap();
        assert_eq!(code_of(&error).0, "malformed");
    }
}

#[wasm_bindgen_test]
fn non_object_bodies_are_malformed() {
    for body in [JsValue::NULL, JsValue::from(7), js_sys::Array::new().into()] {
        let error = parse_request(&body).err().unwrap();
        assert_eq!(code_of(&error).0, "malformed");
    }
}

#[wasm_bindgen_test]
fn every_response_vector() {
    for vector in vectors(RESPONSES) {
        let key = decode_hex(vector["aes_key_hex"].as_str().unwrap());
        let iv = decode_hex(vector["request_iv_hex"].as_str().unwrap());
        let body =
            encrypt_response(vector["plaintext"].as_str().unwrap().as_bytes(), &key, &iv).unwrap();
        assert_eq!(body, vector["expected_body"].as_str().unwrap());
    }
    let error = encrypt_response(b"{}", &[0; 15], &[0; 16]).unwrap_err();
    assert_eq!(code_of(&error).0, "malformed");
}

#[wasm_bindgen_test]
fn every_signature_vector() {
    for vector in vectors(SIGNATURES) {
        let body = decode_base64(vector["body_b64"].as_str().unwrap());
        let header = vector["header"].as_str().map(str::to_owned);
        let secret = vector["app_secret"].as_str().unwrap().as_bytes();
        assert_eq!(
            verify_signature(&body, header, secret).unwrap(),
            vector["valid"].as_bool().unwrap(),
            "{}",
            vector["name"]
        );
    }
    assert!(!verify_signature(b"{}", None, b"secret").unwrap());
    // An empty secret is the core's `invalid_configuration`, thrown rather than `false`.
    let error = verify_signature(b"{}", None, b"").unwrap_err();
    let (code, status) = code_of(&error);
    assert_eq!(
        (code.as_str(), status.as_f64()),
        ("invalid_configuration", Some(500.0))
    );
}

#[wasm_bindgen_test]
fn generate_refuses_every_number_that_is_not_a_supported_size() {
    for bits in [
        4_294_967_296.0 + 2048.0,
        -2048.0,
        2048.5,
        f64::NAN,
        f64::INFINITY,
        f64::NEG_INFINITY,
        1024.0,
        0.0,
    ] {
        let error = WasmPrivateKey::generate(Some(bits)).err().unwrap();
        assert_eq!(code_of(&error).0, "invalid_key", "{bits}");
    }
}

#[wasm_bindgen_test]
fn every_media_vector_one_shot_and_streaming() {
    for vector in vectors(MEDIA) {
        let name = vector["name"].as_str().unwrap();
        let file = media_file(vector["file"].as_str().unwrap());
        let metadata = js_sys::JSON::parse(&vector["metadata"].to_string()).unwrap();
        let one_shot = decrypt_media_content(file.clone(), &metadata);

        let streamed = (|| {
            let mut decryptor = WasmMediaDecryptor::new(&metadata)?;
            let mut out = Vec::new();
            for chunk in file.chunks(7919) {
                out.extend(decryptor.update(chunk)?.to_vec());
            }
            out.extend(decryptor.finish()?);
            assert!(decryptor.finish().is_err(), "a second finish must fail");
            Ok::<_, JsValue>(out)
        })();

        let expect = &vector["expect"];
        if expect["ok"] == true {
            let plaintext = media_file(expect["plaintext_file"].as_str().unwrap());
            assert_eq!(one_shot.unwrap(), plaintext, "{name}");
            assert_eq!(streamed.unwrap(), plaintext, "{name}");
        } else {
            let (code, status) = code_of(&one_shot.unwrap_err());
            let (streamed_code, _) = code_of(&streamed.unwrap_err());
            assert_eq!(code, streamed_code, "{name}");
            match expect["error"].as_str().unwrap() {
                "padding_or_plaintext_hash" => {
                    assert!(["padding", "plaintext_hash_mismatch"].contains(&code.as_str()))
                }
                wanted => assert_eq!(code, wanted, "{name}"),
            }
            if code == "malformed" {
                assert_eq!(status.as_f64(), Some(421.0));
            } else {
                assert!(status.is_null(), "{name}: media errors have no HTTP status");
            }
        }
    }
}

#[wasm_bindgen_test]
fn keys_export_and_reload() {
    let key = WasmPrivateKey::from_pem(key_file("keys/rsa2048_pkcs1.pem"), None).unwrap();
    assert_eq!(key.bits(), 2048);
    let public = String::from_utf8(key_file("keys/rsa2048_public.pem").to_vec()).unwrap();
    assert_eq!(key.public_key_pem().trim(), public.trim());
    let der = key.private_key_der().unwrap();
    let again = WasmPrivateKey::from_der(&der, None).unwrap();
    assert_eq!(again.public_key_fingerprint(), key.public_key_fingerprint());
    let error = WasmPrivateKey::from_pem(key_file("keys/rsa2048_public.pem"), None)
        .err()
        .unwrap();
    assert_eq!(code_of(&error).0, "invalid_key");
}

fn decode_hex(text: &str) -> Vec<u8> {
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).unwrap())
        .collect()
}

fn decode_base64(text: &str) -> Vec<u8> {
    let js = js_sys::global();
    let atob: js_sys::Function = js_sys::Reflect::get(&js, &"atob".into()).unwrap().into();
    let binary = atob
        .call1(&JsValue::NULL, &text.into())
        .unwrap()
        .as_string()
        .unwrap();
    binary.chars().map(|c| c as u8).collect()
}

/// What a host engine's unwrap returned goes through the core: a failure is `key_unwrap`, a
/// wrong length `malformed`, as the portable engine answers.
#[wasm_bindgen_test]
fn host_unwrapped_keys_get_the_core_checks() {
    assert_eq!(host_unwrapped(Some(vec![7; 16])).unwrap(), vec![7; 16]);
    let failed = host_unwrapped(None).unwrap_err();
    assert_eq!(code_of(&failed).0, "key_unwrap");
    assert_eq!(code_of(&failed).1, JsValue::from(421));
    let short = host_unwrapped(Some(vec![7; 15])).unwrap_err();
    assert_eq!(code_of(&short).0, "malformed");
}

#[wasm_bindgen_test]
fn internal_errors_come_from_the_core() {
    for stale in [false, true] {
        let error = internal_error(stale);
        assert_eq!(code_of(&error).0, "internal");
        assert_eq!(code_of(&error).1, JsValue::from(500));
        let message = error.unchecked_ref::<js_sys::Error>().message();
        let expected = if stale {
            wa_flows_crypto::InternalError::Stale
        } else {
            wa_flows_crypto::InternalError::Restarted
        };
        assert_eq!(String::from(message), expected.to_string());
    }
}

#[wasm_bindgen_test]
fn sign_is_the_header_verify_signature_accepts() {
    let header = sign(b"{}", b"secret");
    assert_eq!(header, wa_flows_crypto::sign(b"{}", b"secret"));
    assert!(verify_signature(b"{}", Some(header), b"secret").unwrap());
}

#[wasm_bindgen_test]
fn media_verifier_checks_without_decrypting() {
    let sealed = wa_flows_crypto::client::seal_media_with(b"a document", [1; 32], [2; 32], [3; 16]);
    let metadata = JsValue::from(sealed.metadata.to_json());
    let mut verifier = WasmMediaVerifier::new(&metadata).unwrap();
    for chunk in sealed.cdn_file.chunks(5) {
        verifier.update(chunk).unwrap();
    }
    verifier.finish().unwrap();
    assert_eq!(
        code_of(&verifier.finish().unwrap_err()).0,
        "already_finished"
    );
    assert_eq!(
        code_of(&verifier.update(b"").unwrap_err()).0,
        "already_finished"
    );

    let mut tampered = sealed.cdn_file.clone();
    tampered[0] ^= 1;
    let mut verifier = WasmMediaVerifier::new(&metadata).unwrap();
    verifier.update(&tampered).unwrap();
    assert_eq!(
        code_of(&verifier.finish().unwrap_err()).0,
        "encrypted_hash_mismatch"
    );
}

#[wasm_bindgen_test]
fn public_key_der_is_the_fingerprinted_spki() {
    let key = WasmPrivateKey::from_pem(key_file("keys/rsa2048_pkcs8.pem"), None).unwrap();
    let der = key.public_key_der();
    assert_eq!(der.first(), Some(&0x30));
    let core = wa_flows_crypto::FlowPrivateKey::from_pem(key_file("keys/rsa2048_pkcs8.pem"), None)
        .unwrap();
    assert_eq!(der, core.public_key_der());
}

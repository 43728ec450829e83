//! What every fuzz target checks. Not just "no crash": each target asserts the library's
//! invariants (a round trip returns its input, streaming equals one-shot, nothing succeeds
//! unless every check passed, and every error code is one of the documented set).
//!
//! `tests/regressions.rs` replays `fuzz/regressions/` through these same functions.

// A harness asserts: a broken invariant must stop the fuzzer loudly, at the failing input.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    missing_docs
)]

use std::sync::OnceLock;

use wa_flows_crypto::client::{self, ClientSession, SealedMedia};
// (`hmac` and `sha2` are used in `sealed_ciphertext`.)
use wa_flows_crypto::media::{
    MediaDecryptor, MediaMetadata, MediaVerifier, decrypt_media_content,
    decrypt_media_content_in_place,
};
use wa_flows_crypto::{
    AesKey, EncryptedRequest, Error, ErrorKind, FlowPrivateKey, FlowPublicKey, ResponseKey,
    decrypt_request, encrypt_response, sign, verify_signature,
};

const KEY_PEM: &[u8] = include_bytes!("../../../tests/vectors/keys/rsa2048_pkcs8.pem");
const PASSPHRASE: &[u8] = b"flows-public-passphrase";
const REQUEST_PLAINTEXT: &str =
    r#"{"version":"3.0","action":"data_exchange","screen":"A","flow_token":"t","data":{"x":1}}"#;
const MEDIA_PLAINTEXT: &[u8] = b"\x89PNG\r\n\x1a\n a small picture, longer than two blocks";

fn key() -> &'static FlowPrivateKey {
    static KEY: OnceLock<FlowPrivateKey> = OnceLock::new();
    KEY.get_or_init(|| FlowPrivateKey::from_pem(KEY_PEM, None).unwrap())
}

fn sealed_request() -> &'static EncryptedRequest {
    static REQUEST: OnceLock<EncryptedRequest> = OnceLock::new();
    REQUEST.get_or_init(|| {
        client::seal_request_parts(&key().public_key(), REQUEST_PLAINTEXT.as_bytes())
            .unwrap()
            .0
    })
}

fn sealed_media() -> &'static SealedMedia {
    static MEDIA: OnceLock<SealedMedia> = OnceLock::new();
    MEDIA.get_or_init(|| client::seal_media_with(MEDIA_PLAINTEXT, [1; 32], [2; 32], [3; 16]))
}

/// Every error's code must be one of the documented set, and its kind must round-trip.
fn assert_documented(error: &Error) {
    let kind = ErrorKind::from_code(error.code()).expect("undocumented error code");
    assert_eq!(kind, error.kind());
    assert!(!error.to_string().is_empty());
}

fn assert_request_level(error: &Error) {
    assert_documented(error);
    assert!(
        matches!(error.code(), "malformed" | "key_unwrap" | "payload_auth"),
        "{error:?} is not a request-level error"
    );
    assert_eq!(error.http_status(), Some(421));
}

/// A byte cursor over the fuzzer's input.
struct Input<'a>(&'a [u8]);

impl<'a> Input<'a> {
    fn byte(&mut self) -> u8 {
        match self.0.split_first() {
            Some((first, rest)) => {
                self.0 = rest;
                *first
            }
            None => 0,
        }
    }

    fn u16(&mut self) -> usize {
        usize::from(self.byte()) << 8 | usize::from(self.byte())
    }

    fn bytes(&mut self, n: usize) -> &'a [u8] {
        let (head, rest) = self.0.split_at(n.min(self.0.len()));
        self.0 = rest;
        head
    }

    fn rest(&mut self) -> &'a [u8] {
        self.bytes(self.0.len())
    }
}

/// Key parsing in every mode: PEM or DER, with or without a passphrase.
pub fn private_key(data: &[u8]) {
    let mut input = Input(data);
    let mode = input.byte();
    let bytes = input.rest();
    let passphrase = (mode & 1 == 1).then_some(PASSPHRASE);
    let result = if mode & 2 == 0 {
        FlowPrivateKey::from_pem(bytes, passphrase)
    } else {
        FlowPrivateKey::from_der(bytes, passphrase)
    };
    match result {
        Ok(key) => {
            assert!((2048..=8192).contains(&key.bits()));
            let public = FlowPublicKey::from_pem(key.public_key_pem()).unwrap();
            assert_eq!(public.fingerprint(), key.public_key_fingerprint());
            // An exported key loads back as the same key.
            let again = FlowPrivateKey::from_der(&key.private_key_der().unwrap(), None).unwrap();
            assert_eq!(again.public_key_der(), key.public_key_der());
        }
        Err(error) => {
            assert_documented(&error);
            assert_eq!(error.code(), "invalid_key");
        }
    }
    // Public keys go through the same PEM reader.
    if let Err(error) = FlowPublicKey::from_pem(bytes) {
        assert_eq!(error.code(), "invalid_key");
    }
}

/// Encrypted PKCS#8 keys whose KDF and cipher parameters come from the fuzzer: every
/// parameter the KDF crates take on trust (scrypt's N, r and p, PBKDF2's iterations, the key
/// length, the salt) is searched, not just the one that once panicked (scrypt N = 0).
/// Parameters outside the documented caps must be refused before any derivation.
pub fn encrypted_key_kdf(data: &[u8]) {
    use der::Encode as _;
    use pkcs8::pkcs5::pbes2::{self, Kdf, Pbkdf2Params, Pbkdf2Prf, Salt, ScryptParams};
    use wa_flows_crypto::key::{MAX_PBKDF2_ITERATIONS, MAX_SCRYPT_N_TIMES_R, MAX_SCRYPT_WORK};

    let mut input = Input(data);
    let selector = input.byte();
    // `Salt::new` panics over its 32-byte maximum (decoding refuses longer ones cleanly).
    let salt_len = usize::from(input.byte()) % (Salt::MAX_LEN + 1);
    let Ok(salt) = Salt::new(input.bytes(salt_len)) else {
        return;
    };
    let key_length = (input.byte() & 1 == 1).then(|| input.u16() as u16);
    let (kdf, within_caps) = if selector & 1 == 0 {
        let iterations =
            u32::from_be_bytes([input.byte(), input.byte(), input.byte(), input.byte()])
                % (MAX_PBKDF2_ITERATIONS * 2);
        let prf = match selector >> 1 & 3 {
            0 => Pbkdf2Prf::HmacWithSha1,
            1 => Pbkdf2Prf::HmacWithSha224,
            2 => Pbkdf2Prf::HmacWithSha256,
            _ => Pbkdf2Prf::HmacWithSha512,
        };
        let within = (1..=MAX_PBKDF2_ITERATIONS).contains(&iterations);
        let params = Pbkdf2Params {
            salt,
            iteration_count: iterations,
            key_length,
            prf,
        };
        (Kdf::Pbkdf2(params), within)
    } else {
        // N is a power of two most of the time, so that the fuzzer reaches the derivation.
        let n_byte = input.byte();
        let n = if n_byte & 0x80 == 0 {
            1u64.checked_shl(u32::from(n_byte % 64)).unwrap_or(0)
        } else {
            u64::from_be_bytes(core::array::from_fn(|_| input.byte()))
        };
        let r = input.u16() as u16 % 32;
        let p = input.u16() as u16 % 512;
        let n_times_r = n.saturating_mul(u64::from(r));
        let within = n >= 2
            && n.is_power_of_two()
            && r > 0
            && p > 0
            && n_times_r <= MAX_SCRYPT_N_TIMES_R
            && n_times_r.saturating_mul(u64::from(p)) <= MAX_SCRYPT_WORK;
        let params = ScryptParams {
            salt,
            cost_parameter: n,
            block_size: r,
            parallelization: p,
            key_length,
        };
        (Kdf::Scrypt(params), within)
    };
    let iv: [u8; 16] = core::array::from_fn(|_| input.byte());
    let nonce: [u8; 12] = core::array::from_fn(|i| iv[i]);
    let des_iv: [u8; 8] = core::array::from_fn(|i| iv[i]);
    let encryption = match selector >> 3 & 7 {
        0 => pbes2::EncryptionScheme::Aes128Cbc { iv },
        1 => pbes2::EncryptionScheme::Aes192Cbc { iv },
        2 | 3 => pbes2::EncryptionScheme::Aes256Cbc { iv },
        4 => pbes2::EncryptionScheme::Aes128Gcm { nonce },
        5 => pbes2::EncryptionScheme::Aes256Gcm { nonce },
        _ => pbes2::EncryptionScheme::DesEde3Cbc { iv: des_iv },
    };
    let Ok(encrypted_data) = der::asn1::OctetString::new(input.rest().to_vec()) else {
        return;
    };
    let info = pkcs8::EncryptedPrivateKeyInfoOwned {
        encryption_algorithm: pbes2::Parameters { kdf, encryption }.into(),
        encrypted_data,
    };
    let Ok(der) = info.to_der() else {
        return;
    };
    match FlowPrivateKey::from_der(&der, Some(PASSPHRASE)) {
        Ok(key) => assert!(within_caps && (2048..=8192).contains(&key.bits())),
        Err(error) => {
            assert_documented(&error);
            assert_eq!(error.code(), "invalid_key");
            if !within_caps {
                assert!(
                    matches!(
                        error,
                        Error::InvalidKey(wa_flows_crypto::KeyError::UnsupportedEncryption(_))
                    ),
                    "parameters outside the caps reached the KDF: {error:?}"
                );
            }
        }
    }
}

/// Raw bytes as a request body: never a success, always a request-level error.
pub fn request_body(data: &[u8]) {
    match decrypt_request(data, key()) {
        Ok(request) => panic!("a forged request decrypted: {:?}", request.plaintext()),
        Err(error) => assert_request_level(&error),
    }
}

/// A valid request, mutated field by field or as JSON text: success if and only if nothing
/// that matters changed, and then with the original plaintext.
pub fn request_mutated(data: &[u8]) {
    let original = sealed_request();
    let mut input = Input(data);
    let mut fields = [
        original.encrypted_flow_data().to_vec(),
        original.encrypted_aes_key().to_vec(),
        original.initial_vector().to_vec(),
    ];
    let as_text = input.byte() & 1 == 1;
    for _ in 0..(input.byte() % 4) {
        let field = &mut fields[usize::from(input.byte()) % 3];
        let at = input.u16();
        let value = input.byte();
        match input.byte() % 3 {
            0 if !field.is_empty() => {
                let at = at % field.len();
                field[at] ^= value | 1;
            }
            1 => field.truncate(at % (field.len() + 1)),
            _ => field.insert(at % (field.len() + 1), value),
        }
    }
    let unchanged = fields[0] == original.encrypted_flow_data()
        && fields[1] == original.encrypted_aes_key()
        && fields[2] == original.initial_vector();
    // With `as_text`, the rest of the input is spliced into the JSON body.
    let splice_at = input.u16();
    let splice = if as_text { input.rest() } else { &[] };
    let rebuilt = match <[u8; 16]>::try_from(fields[2].as_slice()) {
        Ok(iv) => EncryptedRequest::from_parts(fields[0].clone(), fields[1].clone(), iv),
        Err(_) => Err(Error::Malformed("the IV is not 16 bytes")),
    };
    let result = rebuilt.and_then(|request| {
        let decrypted = if as_text {
            let mut body = request.to_json().into_bytes();
            let at = splice_at % (body.len() + 1);
            body.splice(at..at, splice.iter().copied());
            decrypt_request(&body, key())
        } else {
            request.decrypt(key())
        };
        decrypted.map(|decrypted| assert_eq!(decrypted.plaintext(), REQUEST_PLAINTEXT))
    });
    match result {
        // Spliced whitespace may leave the request intact; changed fields never decrypt.
        Ok(()) => assert!(unchanged, "a changed request decrypted"),
        Err(error) => {
            assert_request_level(&error);
            assert!(
                !unchanged || !splice.is_empty(),
                "the unchanged request failed: {error:?}"
            );
        }
    }
}

/// Any key, IV and body: the response opens to the same bytes on the WhatsApp side, and its
/// base64 has the exact expected length.
pub fn response_round_trip(data: &[u8]) {
    let mut input = Input(data);
    let aes_key: [u8; 16] = input.bytes(16).try_into().unwrap_or([0; 16]);
    let iv: [u8; 16] = input.bytes(16).try_into().unwrap_or([0; 16]);
    let plaintext = input.rest();
    let response_key = ResponseKey::new(AesKey::new(aes_key), iv);
    let body = encrypt_response(plaintext, &response_key);
    assert_eq!(body.len(), (plaintext.len() + 16).div_ceil(3) * 4);
    let session = ClientSession::from(response_key.clone());
    assert_eq!(session.open_response(&body).unwrap(), plaintext);
    // The same bytes sealed as a request (IV inverted twice) open as one.
    let sealed = ResponseKey::new(AesKey::new(aes_key), iv.map(|b| !b)).encrypt_to_bytes(plaintext);
    let request = EncryptedRequest::from_parts(sealed, vec![1], iv).unwrap();
    match wa_flows_crypto::decrypt_payload(&request, &AesKey::new(aes_key)) {
        Ok(decrypted) => assert_eq!(decrypted.plaintext().as_bytes(), plaintext),
        Err(error) => {
            // A request payload must be a UTF-8 JSON object; a response may be anything.
            let is_object = std::str::from_utf8(plaintext)
                .ok()
                .and_then(|text| serde_json::from_str::<serde_json::Value>(text).ok())
                .is_some_and(|value| value.is_object());
            assert!(!is_object, "{error:?}");
            assert_eq!(error.code(), "malformed");
        }
    }
}

/// Every way of decrypting media gives the same answer.
fn decrypt_every_way(
    file: &[u8],
    metadata: &MediaMetadata,
    chunking: &[u8],
) -> Result<Vec<u8>, Error> {
    let one_shot = decrypt_media_content(file, metadata);

    let mut buffer = file.to_vec();
    let in_place =
        decrypt_media_content_in_place(&mut buffer, metadata).map(|n| buffer[..n].to_vec());
    assert_eq!(one_shot, in_place);

    let mut decryptor = MediaDecryptor::new(metadata);
    let mut verifier = MediaVerifier::new(metadata);
    let mut streamed = Vec::new();
    let mut rest = file;
    let mut sizes = chunking.iter().cycle();
    while !rest.is_empty() {
        let size = sizes.next().map_or(rest.len(), |&s| usize::from(s) * 3 + 1);
        let (chunk, tail) = rest.split_at(size.min(rest.len()));
        let released = decryptor.update_output_len(chunk.len());
        let before = streamed.len();
        decryptor.update(chunk, &mut streamed);
        assert_eq!(streamed.len() - before, released);
        assert_eq!(released % 16, 0);
        verifier.update(chunk);
        rest = tail;
    }
    let streamed = decryptor.finish(&mut streamed).map(|()| streamed);
    assert_eq!(one_shot, streamed, "streaming and one-shot disagree");

    let verified = verifier.finish();
    match &one_shot {
        Ok(_) | Err(Error::Padding | Error::PlaintextHashMismatch) => assert_eq!(verified, Ok(())),
        Err(error) => assert_eq!(verified.as_ref().err(), Some(error)),
    }
    if let Err(error) = &one_shot {
        assert_documented(error);
        let request_level = error.code() == "malformed";
        assert_eq!(error.http_status().is_some(), request_level, "{error:?}");
    }
    one_shot
}

/// A valid sealed file with mutations of the file and the metadata (or, in one mode,
/// fuzzer-chosen ciphertext under an authentic MAC, so CBC and padding are reached), decrypted
/// one-shot, in place, streamed in fuzzer-chosen chunks and verified.
pub fn media(data: &[u8]) {
    let original = sealed_media();
    let mut input = Input(data);
    let mode = input.byte();
    let chunking = input.bytes(8).to_vec();
    if mode % 4 == 3 {
        // Arbitrary ciphertext, sealed with a real MAC and hashes: reaches CBC and padding.
        let sealed = sealed_ciphertext(input.rest());
        let result = decrypt_every_way(&sealed.0, &sealed.1, &chunking);
        if let Err(error) = result {
            assert!(
                matches!(
                    error.code(),
                    "padding" | "plaintext_hash_mismatch" | "malformed"
                ),
                "{error:?}"
            );
        }
        return;
    }
    let mut file = original.cdn_file.clone();
    let mut parts = [
        *original.metadata.encryption_key(),
        *original.metadata.hmac_key(),
        *original.metadata.plaintext_hash(),
        *original.metadata.encrypted_hash(),
    ];
    let mut iv = *original.metadata.iv();
    for _ in 0..(input.byte() % 4) {
        let target = input.byte() % 7;
        let at = input.u16();
        let value = input.byte();
        match target {
            0 if !file.is_empty() => {
                let at = at % file.len();
                file[at] ^= value | 1;
            }
            1 => file.truncate(at % (file.len() + 1)),
            2 => file.insert(at % (file.len() + 1), value),
            3..=5 => parts[usize::from(target - 2)][at % 32] ^= value | 1,
            _ => iv[at % 16] ^= value | 1,
        }
    }
    let unchanged = file == original.cdn_file
        && parts[0] == *original.metadata.encryption_key()
        && parts[1] == *original.metadata.hmac_key()
        && parts[2] == *original.metadata.plaintext_hash()
        && parts[3] == *original.metadata.encrypted_hash()
        && iv == *original.metadata.iv();
    let metadata = MediaMetadata::from_parts(parts[0], parts[1], iv, parts[2], parts[3]);
    match decrypt_every_way(&file, &metadata, &chunking) {
        Ok(plaintext) => {
            assert!(unchanged, "changed media decrypted");
            assert_eq!(plaintext, MEDIA_PLAINTEXT);
        }
        Err(error) => assert!(!unchanged, "unchanged media failed: {error:?}"),
    }
}

/// Puts `raw` (cut or padded to whole blocks) under an authentic MAC and a matching
/// encrypted hash, the way the WhatsApp client would if it had encrypted garbage.
fn sealed_ciphertext(raw: &[u8]) -> (Vec<u8>, MediaMetadata) {
    use hmac::{KeyInit as _, Mac as _};
    use sha2::Digest as _;
    let (hmac_key, iv) = ([5u8; 32], [6u8; 16]);
    let blocks = (raw.len() / 16).max(1);
    let mut file = raw.get(..blocks * 16).unwrap_or_default().to_vec();
    file.resize(blocks * 16, 0);
    let mut mac = <hmac::Hmac<sha2::Sha256>>::new_from_slice(&hmac_key).unwrap();
    mac.update(&iv);
    mac.update(&file);
    file.extend_from_slice(&mac.finalize().into_bytes()[..10]);
    let encrypted_hash: [u8; 32] = sha2::Sha256::digest(&file).into();
    let metadata = MediaMetadata::from_parts([4; 32], hmac_key, iv, [7; 32], encrypted_hash);
    (file, metadata)
}

/// The metadata JSON parser: a success round-trips through `to_json`.
pub fn media_metadata(data: &[u8]) {
    match MediaMetadata::from_json(data) {
        Ok(metadata) => {
            let again = MediaMetadata::from_json(metadata.to_json().as_bytes()).unwrap();
            assert_eq!(again.encryption_key(), metadata.encryption_key());
            assert_eq!(again.hmac_key(), metadata.hmac_key());
            assert_eq!(again.iv(), metadata.iv());
            assert_eq!(again.plaintext_hash(), metadata.plaintext_hash());
            assert_eq!(again.encrypted_hash(), metadata.encrypted_hash());
        }
        Err(error) => {
            assert_documented(&error);
            assert_eq!(error.code(), "malformed");
        }
    }
}

/// Signature headers: only the exact signature verifies (case and surrounding whitespace
/// aside), and a fresh signature always does.
pub fn signature(data: &[u8]) {
    let mut input = Input(data);
    let secret_len = usize::from(input.byte());
    let secret = input.bytes(secret_len);
    let header_len = usize::from(input.byte());
    let header = String::from_utf8_lossy(input.bytes(header_len)).into_owned();
    let body = input.rest();
    let expected = sign(body, secret);
    if secret.is_empty() {
        // An empty secret is public: refused as configuration, whatever the header.
        for header in [&expected, &header] {
            let error = verify_signature(body, header, secret).unwrap_err();
            assert_eq!(error.code(), "invalid_configuration");
            assert_eq!(error.http_status(), Some(500));
        }
        return;
    }
    verify_signature(body, &expected, secret).unwrap();
    match verify_signature(body, &header, secret) {
        Ok(()) => assert!(
            header.trim().eq_ignore_ascii_case(&expected),
            "{header:?} verified"
        ),
        Err(error) => {
            assert_documented(&error);
            assert_eq!(error.code(), "invalid_signature");
            assert_eq!(error.http_status(), Some(432));
        }
    }
}

/// A fuzz target's body.
pub type Target = fn(&[u8]);

/// Every target by name, for the regression replay.
pub const TARGETS: &[(&str, Target)] = &[
    ("private_key", private_key),
    ("encrypted_key_kdf", encrypted_key_kdf),
    ("request_body", request_body),
    ("request_mutated", request_mutated),
    ("response_round_trip", response_round_trip),
    ("media", media),
    ("media_metadata", media_metadata),
    ("signature", signature),
];

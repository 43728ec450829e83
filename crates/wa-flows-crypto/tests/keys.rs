//! Loading every key a user may hold, and refusing everything else with a useful error.

// Test code: a failed fixture or assertion should stop the run loudly.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use wa_flows_crypto::key::KeySource;
use wa_flows_crypto::{Error, FlowPrivateKey, FlowPublicKey, KeyError};

fn test_data(name: &str) -> Vec<u8> {
    std::fs::read(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/data")
            .join(name),
    )
    .unwrap()
}

fn passphrase() -> Vec<u8> {
    common::passphrase().into_bytes()
}

fn reference() -> FlowPrivateKey {
    FlowPrivateKey::from_pem(common::read("keys/rsa2048_pkcs8.pem"), None).unwrap()
}

#[test]
fn every_encoding_of_the_vector_key_is_the_same_key() {
    let expected = reference().public_key_pem();
    let pass = passphrase();
    let cases: [(&str, Option<&[u8]>, KeySource); 7] = [
        ("keys/rsa2048_pkcs8.pem", None, KeySource::Pkcs8Pem),
        ("keys/rsa2048_pkcs1.pem", None, KeySource::Pkcs1Pem),
        ("keys/rsa2048_pkcs8.der", None, KeySource::Pkcs8Der),
        (
            "keys/rsa2048_pkcs8_des3.pem",
            Some(&pass),
            KeySource::EncryptedPkcs8Pem,
        ),
        (
            "keys/rsa2048_pkcs8_aes256.pem",
            Some(&pass),
            KeySource::EncryptedPkcs8Pem,
        ),
        (
            "keys/rsa2048_legacy_des3.pem",
            Some(&pass),
            KeySource::LegacyEncryptedPem,
        ),
        (
            "keys/rsa2048_legacy_aes256.pem",
            Some(&pass),
            KeySource::LegacyEncryptedPem,
        ),
    ];
    for (file, passphrase, source) in cases {
        let bytes = common::read(file);
        let key = if file.ends_with(".der") {
            FlowPrivateKey::from_der(&bytes, passphrase)
        } else {
            FlowPrivateKey::from_pem(&bytes, passphrase)
        }
        .unwrap_or_else(|e| panic!("{file}: {e}"));
        assert_eq!(key.public_key_pem(), expected, "{file}");
        assert_eq!(key.source(), source, "{file}");
        assert_eq!(key.bits(), 2048);
    }
    // DER handed to from_pem is recognised too.
    let der = common::read("keys/rsa2048_pkcs8.der");
    assert_eq!(
        FlowPrivateKey::from_pem(&der, None)
            .unwrap()
            .public_key_pem(),
        expected
    );
}

#[test]
fn the_public_key_matches_the_vector_file() {
    let public = String::from_utf8(common::read("keys/rsa2048_public.pem")).unwrap();
    assert_eq!(reference().public_key_pem(), public);
    let parsed = FlowPublicKey::from_pem(&public).unwrap();
    assert_eq!(parsed.fingerprint(), reference().public_key_fingerprint());
    assert_eq!(parsed.to_pem(), public);
}

#[test]
fn pem_damaged_by_environment_variables_still_loads() {
    let clean = String::from_utf8(common::read("keys/rsa2048_legacy_des3.pem")).unwrap();
    let expected = reference().public_key_pem();
    let pass = passphrase();
    for damaged in [
        clean.replace('\n', "\\n"),
        clean.replace('\n', "\r\n"),
        clean.replace('\n', " "),
        format!("\"{}\"", clean.trim().replace('\n', "\\n")),
        format!("  '{clean}'\n\n"),
    ] {
        let key = FlowPrivateKey::from_pem(&damaged, Some(&pass))
            .unwrap_or_else(|e| panic!("{damaged:?}: {e}"));
        assert_eq!(key.public_key_pem(), expected);
    }
}

#[test]
fn bad_keys_get_precise_errors() {
    let pass = passphrase();
    let invalid = |result: Result<FlowPrivateKey, Error>| match result {
        Err(Error::InvalidKey(problem)) => problem,
        other => panic!("expected invalid_key, got {other:?}"),
    };
    assert_eq!(
        invalid(FlowPrivateKey::from_pem(
            common::read("keys/rsa2048_legacy_des3.pem"),
            None
        )),
        KeyError::PassphraseRequired
    );
    assert_eq!(
        invalid(FlowPrivateKey::from_pem(
            common::read("keys/rsa2048_pkcs8_aes256.pem"),
            None
        )),
        KeyError::PassphraseRequired
    );
    assert_eq!(
        invalid(FlowPrivateKey::from_pem(
            common::read("keys/rsa2048_pkcs8_des3.pem"),
            Some(b"nope")
        )),
        KeyError::WrongPassphrase
    );
    for wrong in [b"nope".as_slice(), b"flows-public-passphrasf", b"x"] {
        assert_eq!(
            invalid(FlowPrivateKey::from_pem(
                common::read("keys/rsa2048_legacy_des3.pem"),
                Some(wrong)
            )),
            KeyError::WrongPassphrase
        );
        assert_eq!(
            invalid(FlowPrivateKey::from_pem(
                common::read("keys/rsa2048_legacy_aes256.pem"),
                Some(wrong)
            )),
            KeyError::WrongPassphrase
        );
    }
    assert_eq!(
        invalid(FlowPrivateKey::from_pem(
            common::read("keys/rsa2048_public.pem"),
            Some(&pass)
        )),
        KeyError::PublicKeyGiven
    );
    let public_der = reference().public_key_der().to_vec();
    assert_eq!(
        invalid(FlowPrivateKey::from_der(&public_der, None)),
        KeyError::PublicKeyGiven
    );
    assert_eq!(
        invalid(FlowPrivateKey::from_pem("", None)),
        KeyError::NotAKey
    );
    assert_eq!(
        invalid(FlowPrivateKey::from_pem("hello", None)),
        KeyError::NotAKey
    );
    assert_eq!(
        invalid(FlowPrivateKey::from_der(
            &[0x30, 0x03, 0x02, 0x01, 0x00],
            None
        )),
        KeyError::NotAKey
    );
    for (file, what) in [
        ("ec_p256_pkcs8.pem", "an EC key"),
        ("ec_p256_sec1.pem", "an EC key"),
        ("ed25519.pem", "an Ed25519 key"),
    ] {
        assert_eq!(
            invalid(FlowPrivateKey::from_pem(test_data(file), None)),
            KeyError::NotRsa(what),
            "{file}"
        );
    }
    // A certificate alone is a public key, not the private one.
    assert_eq!(
        invalid(FlowPrivateKey::from_pem(test_data("cert.pem"), None)),
        KeyError::PublicKeyGiven
    );
    // A truncated key.
    let clean = String::from_utf8(common::read("keys/rsa2048_pkcs1.pem")).unwrap();
    let cut = clean.replace("-----END RSA PRIVATE KEY-----", "");
    assert!(matches!(
        invalid(FlowPrivateKey::from_pem(cut, None)),
        KeyError::Corrupt(_)
    ));
    let error =
        FlowPrivateKey::from_pem(common::read("keys/rsa2048_public.pem"), None).unwrap_err();
    assert_eq!(error.code(), "invalid_key");
    assert_eq!(error.http_status(), Some(500));
    assert!(error.to_string().contains("private key"), "{error}");
}

#[test]
fn small_keys_are_refused_with_their_size() {
    let small = test_data("rsa1024_pkcs1.pem");
    match FlowPrivateKey::from_pem(small, None) {
        Err(Error::InvalidKey(KeyError::UnsupportedSize { bits })) => assert_eq!(bits, 1024),
        other => panic!("expected UnsupportedSize, got {other:?}"),
    }
}

#[test]
fn generating_an_unsupported_size_says_which_sizes_can_be_generated() {
    for bits in [0, 1024, 2047, 2049, 8192, usize::MAX] {
        let error = FlowPrivateKey::generate_with_bits(bits).unwrap_err();
        assert_eq!(
            error,
            Error::InvalidKey(KeyError::UnsupportedGenerationSize { bits })
        );
        let message = error.to_string();
        // 8192 bits loads but cannot be generated: the message must not claim it is accepted.
        assert!(
            message.contains("2048") && message.contains("4096"),
            "{message}"
        );
        assert!(!message.contains("8192 bits are accepted"), "{message}");
    }
}

#[test]
fn larger_keys_load() {
    for (file, bits) in [
        ("keys/rsa3072_pkcs8.pem", 3072),
        ("keys/rsa4096_pkcs8.pem", 4096),
    ] {
        assert_eq!(
            FlowPrivateKey::from_pem(common::read(file), None)
                .unwrap()
                .bits(),
            bits
        );
    }
}

#[test]
fn exported_private_keys_load_back() {
    let key = reference();
    let plain = key.private_key_pem(None).unwrap();
    assert!(plain.starts_with("-----BEGIN PRIVATE KEY-----\n"));
    assert_eq!(
        FlowPrivateKey::from_pem(plain.as_bytes(), None)
            .unwrap()
            .public_key_pem(),
        key.public_key_pem()
    );
    let encrypted = key.private_key_pem(Some(b"s3cret")).unwrap();
    assert!(encrypted.starts_with("-----BEGIN ENCRYPTED PRIVATE KEY-----\n"));
    let again = FlowPrivateKey::from_pem(encrypted.as_bytes(), Some(b"s3cret")).unwrap();
    assert_eq!(again.public_key_pem(), key.public_key_pem());
    assert_eq!(
        FlowPrivateKey::from_pem(encrypted.as_bytes(), Some(b"wrong")).unwrap_err(),
        Error::InvalidKey(KeyError::WrongPassphrase)
    );
    let der = key.private_key_der().unwrap();
    assert_eq!(
        FlowPrivateKey::from_der(&der, None)
            .unwrap()
            .public_key_pem(),
        key.public_key_pem()
    );
}

#[test]
fn generated_keys_work_and_are_distinct() {
    let a = FlowPrivateKey::generate().unwrap();
    let b = FlowPrivateKey::generate().unwrap();
    assert_eq!(a.bits(), 2048);
    assert_ne!(a.public_key_fingerprint(), b.public_key_fingerprint());
    assert_eq!(a.source(), KeySource::Generated);
    let (body, session) =
        wa_flows_crypto::client::seal_request(&a.public_key(), b"{\"action\":\"ping\"}").unwrap();
    let request = wa_flows_crypto::decrypt_request(body.as_bytes(), &a).unwrap();
    assert_eq!(
        session
            .open_response(&request.encrypt_response(b"ok"))
            .unwrap(),
        b"ok"
    );
    assert_eq!(
        wa_flows_crypto::decrypt_request(body.as_bytes(), &b).unwrap_err(),
        Error::KeyUnwrap
    );
}

#[test]
fn debug_output_never_shows_key_material() {
    let key = reference();
    let debug = format!("{key:?}");
    assert!(debug.contains("bits: 2048"), "{debug}");
    let der = key.private_key_der().unwrap();
    // No long run of the private key's bytes, in any common rendering, appears.
    let hex = hex::encode(&der[40..60]);
    assert!(!debug.contains(&hex));
    assert!(!debug.to_lowercase().contains("prime"));
}

#[test]
fn fingerprint_is_sha256_of_spki_der() {
    use sha2::Digest as _;
    let key = reference();
    assert_eq!(
        key.public_key_fingerprint(),
        hex::encode(sha2::Sha256::digest(key.public_key_der()))
    );
}

#[test]
fn scrypt_sha1_prf_and_every_legacy_aes_size_load() {
    let expected = String::from_utf8(test_data("rsa2048_scrypt_src_public.pem")).unwrap();
    for file in [
        "rsa2048_scrypt_src.pem",
        "rsa2048_pkcs8_scrypt.pem",
        "rsa2048_pkcs8_aes128_sha1prf.pem",
        "rsa2048_legacy_aes128.pem",
        "rsa2048_legacy_aes192.pem",
    ] {
        let key = FlowPrivateKey::from_pem(test_data(file), Some(b"scrypt-pass"))
            .unwrap_or_else(|e| panic!("{file}: {e}"));
        assert_eq!(key.public_key_pem(), expected, "{file}");
    }
    // A certificate in front of the key (a common bundle) is skipped.
    let mut bundle = test_data("cert.pem");
    bundle.extend(test_data("rsa2048_scrypt_src.pem"));
    assert_eq!(
        FlowPrivateKey::from_pem(bundle, None)
            .unwrap()
            .public_key_pem(),
        expected
    );
}

#[test]
fn key_derivation_costs_are_bounded() {
    use der::{Decode as _, Encode as _};
    use pkcs8::pkcs5::EncryptionScheme;
    use pkcs8::pkcs5::pbes2::Kdf;
    let pem = String::from_utf8(common::read("keys/rsa2048_pkcs8_aes256.pem")).unwrap();
    let (_, der) = der::pem::decode_vec(pem.as_bytes()).unwrap();
    let mut info = pkcs8::EncryptedPrivateKeyInfoOwned::from_der(&der).unwrap();
    let EncryptionScheme::Pbes2(params) = &mut info.encryption_algorithm else {
        panic!("the vector key is PBES2");
    };
    let Kdf::Pbkdf2(pbkdf2) = &mut params.kdf else {
        panic!("the vector key uses PBKDF2");
    };
    pbkdf2.iteration_count = 2_000_000_000;
    let patched = info.to_der().unwrap();
    // Refused before any of the two billion iterations run.
    assert_eq!(
        FlowPrivateKey::from_der(&patched, Some(&passphrase())).unwrap_err(),
        Error::InvalidKey(KeyError::UnsupportedEncryption(
            "PBKDF2 with more than 2 million iterations"
        ))
    );
}

#[test]
fn a_multi_prime_key_is_refused_as_such() {
    // OpenSSL loads it and `openssl rsa -check` passes it (found by the diff_private_key fuzz
    // target): the refusal must say why, not call a valid key inconsistent.
    let pem = test_data("rsa2048_three_primes.pem");
    let error = FlowPrivateKey::from_pem(&pem, None).unwrap_err();
    assert!(
        matches!(error, Error::InvalidKey(KeyError::Corrupt(_))),
        "{error:?}"
    );
    assert!(
        error.to_string().contains("more than two primes"),
        "{error}"
    );
}

#[test]
fn a_key_whose_primes_are_equal_is_refused_by_every_engine() {
    // n = p², which the portable loader used to accept and then failed on at export.
    let pem = test_data("rsa2048_equal_primes.pem");
    let error = FlowPrivateKey::from_pem(&pem, None).unwrap_err();
    assert!(
        matches!(error, Error::InvalidKey(KeyError::Corrupt(_))),
        "{error:?}"
    );
    assert!(error.to_string().contains("primes are equal"), "{error}");
}

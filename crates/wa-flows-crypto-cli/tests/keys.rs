//! keygen → public-key (every format) → a request sealed for that key → decrypt-request;
//! inspect-key.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use common::{run, s, vectors};
use wa_flows_crypto::{FlowPublicKey, client};

const VAR: &str = "WFC_TEST_KEYGEN_PASSPHRASE";
const PASSPHRASE: &str = "a passphrase for the keygen test";

/// Decodes `application/x-www-form-urlencoded` text (independently of the tool's encoder).
fn form_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' => {
                out.push(u8::from_str_radix(&text[i + 1..i + 3], 16).unwrap());
                i += 2;
            }
            byte => {
                assert!(
                    byte.is_ascii_alphanumeric() || b"*-._".contains(&byte),
                    "{:?} must be percent-encoded",
                    char::from(byte)
                );
                out.push(byte);
            }
        }
        i += 1;
    }
    String::from_utf8(out).unwrap()
}

/// The PEM inside one `public-key` output.
fn pem_from(format: &str, output: &str) -> String {
    match format {
        "pem" => output.to_owned(),
        "json" => serde_json::from_str::<String>(output).unwrap(),
        "meta" => form_decode(output.strip_prefix("business_public_key=").unwrap()),
        "gupshup" | "woztell" => {
            let value: serde_json::Value = serde_json::from_str(output).unwrap();
            let object = value.as_object().unwrap();
            assert_eq!(object.len(), 1, "{format}: {output}");
            let field = if format == "gupshup" {
                "public_key"
            } else {
                "publicKey"
            };
            object[field].as_str().unwrap().to_owned()
        }
        _ => unreachable!(),
    }
}

#[test]
fn keygen_public_key_seal_decrypt_round_trip_for_every_format() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("keys");
    let envs = [(VAR, PASSPHRASE)];
    let printed = run(
        &["keygen", "--out", s(&out), "--passphrase-env", VAR],
        None,
        &envs,
    )
    .ok("keygen");
    assert!(printed.contains("next:"), "{printed}");
    let private = out.join("private.pem");
    let public = std::fs::read_to_string(out.join("public.pem")).unwrap();
    assert!(public.starts_with("-----BEGIN PUBLIC KEY-----\n"));
    let private_text = std::fs::read_to_string(&private).unwrap();
    assert!(private_text.starts_with("-----BEGIN ENCRYPTED PRIVATE KEY-----"));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&private).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    let fingerprint = FlowPublicKey::from_pem(&public).unwrap().fingerprint();
    assert!(printed.contains(&fingerprint));

    for format in ["pem", "json", "meta", "gupshup", "woztell"] {
        let result = run(
            &[
                "public-key",
                "--key",
                s(&private),
                "--passphrase-env",
                VAR,
                "--format",
                format,
            ],
            None,
            &envs,
        );
        let output = result.ok(format);
        assert!(
            result.stderr.contains(&fingerprint),
            "{format}: {}",
            result.stderr
        );
        let pem = pem_from(format, &output);
        assert_eq!(pem, public, "{format}");

        // WhatsApp seals a request for the key the provider received.
        let uploaded = FlowPublicKey::from_pem(&pem).unwrap();
        let plaintext = format!(
            r#"{{"version":"3.0","action":"data_exchange","screen":"S","data":{{"format":"{format}"}}}}"#
        );
        let (body, _) = client::seal_request(&uploaded, plaintext.as_bytes()).unwrap();
        let decrypted = run(
            &[
                "decrypt-request",
                "--key",
                s(&private),
                "--passphrase-env",
                VAR,
                "-",
            ],
            Some(body.as_bytes()),
            &envs,
        )
        .ok(format);
        assert_eq!(decrypted, format!("{plaintext}\n"), "{format}");
    }

    // The public key file itself is accepted by public-key too.
    let from_public = run(
        &["public-key", "--key", s(&out.join("public.pem"))],
        None,
        &[],
    );
    assert_eq!(from_public.ok("public key file"), public);

    // A wrong passphrase.
    run(
        &["public-key", "--key", s(&private), "--passphrase-env", VAR],
        None,
        &[(VAR, "not it")],
    )
    .fails_with("invalid_key", "wrong passphrase");

    // keygen never overwrites.
    let again = run(&["keygen", "--out", s(&out)], None, &[]);
    again.fails_with("exists", "second keygen");
    assert_eq!(std::fs::read_to_string(&private).unwrap(), private_text);
}

#[test]
fn keygen_without_passphrase_and_bits() {
    let dir = tempfile::tempdir().unwrap();
    run(&["keygen", "--out", s(dir.path())], None, &[]).ok("keygen");
    let private = std::fs::read_to_string(dir.path().join("private.pem")).unwrap();
    assert!(private.starts_with("-----BEGIN PRIVATE KEY-----"));
    let inspect = run(
        &["inspect-key", "--key", s(&dir.path().join("private.pem"))],
        None,
        &[],
    )
    .ok("inspect");
    assert!(inspect.contains("bits:         2048"), "{inspect}");
    assert!(inspect.contains("encrypted:    no"), "{inspect}");
    assert!(inspect.contains("OK for WhatsApp Flows"), "{inspect}");

    // An empty passphrase never silently gives an unencrypted key.
    let empty = dir.path().join("empty");
    let refused = run(
        &["keygen", "--out", s(&empty), "--passphrase-env", VAR],
        None,
        &[(VAR, "")],
    );
    assert_eq!(refused.code, 2, "{}", refused.stderr);
    assert!(!empty.join("private.pem").exists());

    let bad_bits = run(
        &[
            "keygen",
            "--out",
            s(&dir.path().join("x")),
            "--bits",
            "1024",
        ],
        None,
        &[],
    );
    assert_eq!(bad_bits.code, 2);
    assert!(!dir.path().join("x").exists());
}

#[test]
fn inspect_key_reports_format_encryption_size_and_advice() {
    let keys = vectors().join("keys");
    let envs = [(VAR, "flows-public-passphrase")];
    let encrypted = run(
        &[
            "inspect-key",
            "--key",
            s(&keys.join("rsa2048_legacy_des3.pem")),
            "--passphrase-env",
            VAR,
        ],
        None,
        &envs,
    )
    .ok("legacy");
    assert!(encrypted.contains("encrypted:    yes"), "{encrypted}");
    assert!(encrypted.contains("bits:         2048"), "{encrypted}");
    let reference =
        FlowPublicKey::from_pem(std::fs::read(keys.join("rsa2048_public.pem")).unwrap())
            .unwrap()
            .fingerprint();
    assert!(encrypted.contains(&reference), "{encrypted}");

    let big = run(
        &["inspect-key", "--key", s(&keys.join("rsa4096_pkcs8.pem"))],
        None,
        &[],
    )
    .ok("4096");
    assert!(big.contains("bits:         4096"), "{big}");
    assert!(big.contains("advice:") && big.contains("2048"), "{big}");
    assert!(!big.contains("OK for WhatsApp Flows"), "{big}");

    let public = run(
        &["inspect-key", "--key", s(&keys.join("rsa2048_public.pem"))],
        None,
        &[],
    )
    .ok("public");
    assert!(
        public.contains("public key") && public.contains(&reference),
        "{public}"
    );

    run(
        &[
            "inspect-key",
            "--key",
            s(&keys.join("rsa2048_pkcs8_aes256.pem")),
        ],
        None,
        &[],
    )
    .fails_with("invalid_key", "missing passphrase");
}

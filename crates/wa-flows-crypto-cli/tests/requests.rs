//! decrypt-request, encrypt-response and verify-signature on the shared vectors.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use base64::Engine as _;
use common::{run, s, vector_list, vectors};
use wa_flows_crypto::{AesKey, FlowPrivateKey, ResponseKey, client};

const PASSPHRASE_VAR: &str = "WFC_TEST_PASSPHRASE";

#[test]
fn every_request_vector_through_decrypt_request() {
    let dir = tempfile::tempdir().unwrap();
    let list = vector_list("requests.json");
    assert!(list.len() >= 30, "the vectors file lost vectors");
    for (index, vector) in list.iter().enumerate() {
        let name = vector["name"].as_str().unwrap();
        let key = vectors().join(vector["key"].as_str().unwrap());
        let body = serde_json::to_string(&vector["request"]).unwrap();
        let mut args = vec!["decrypt-request", "--key", s(&key)];
        let mut envs = Vec::new();
        if let Some(passphrase) = vector["passphrase"].as_str() {
            args.extend(["--passphrase-env", PASSPHRASE_VAR]);
            envs.push((PASSPHRASE_VAR, passphrase));
        }
        // Alternate between a file and standard input.
        let file = dir.path().join(format!("{name}.json"));
        let result = if index % 2 == 0 {
            std::fs::write(&file, &body).unwrap();
            args.push(s(&file));
            run(&args, None, &envs)
        } else {
            args.push("-");
            run(&args, Some(body.as_bytes()), &envs)
        };
        let expect = &vector["expect"];
        if expect["ok"].as_bool().unwrap() {
            let stdout = result.ok(name);
            assert_eq!(
                stdout,
                format!("{}\n", expect["plaintext"].as_str().unwrap()),
                "{name}"
            );
            assert!(result.stderr.is_empty(), "{name}: {}", result.stderr);
        } else {
            let code = expect["error"].as_str().unwrap();
            if name == "wrapped_key_wrong_length" {
                // The vectors README allows either.
                result.fails_with_any(&["malformed", "key_unwrap"], name);
            } else {
                result.fails_with(code, name);
            }
        }
    }
}

#[test]
fn decrypt_request_takes_json_text_and_pretty_prints() {
    let vector = vector_list("requests.json")
        .into_iter()
        .find(|v| v["name"] == "init")
        .unwrap();
    let key = vectors().join("keys/rsa2048_pkcs8.pem");
    let body = serde_json::to_string(&vector["request"]).unwrap();
    let plain = run(&["decrypt-request", "--key", s(&key), &body], None, &[]).ok("literal");
    assert_eq!(
        plain,
        format!("{}\n", vector["expect"]["plaintext"].as_str().unwrap())
    );

    let pretty = run(
        &["decrypt-request", "--key", s(&key), "--pretty", &body],
        None,
        &[],
    )
    .ok("pretty");
    let expected: serde_json::Value =
        serde_json::from_str(vector["expect"]["plaintext"].as_str().unwrap()).unwrap();
    assert_eq!(
        pretty,
        format!("{}\n", serde_json::to_string_pretty(&expected).unwrap())
    );

    // The key may also come from an environment variable.
    let pem = std::fs::read_to_string(&key).unwrap();
    let from_env = run(
        &["decrypt-request", "--key-env", "WFC_TEST_KEY", &body],
        None,
        &[("WFC_TEST_KEY", &pem.replace('\n', "\\n"))],
    )
    .ok("key from env");
    assert_eq!(from_env, plain);
}

#[test]
fn key_and_input_problems_have_codes() {
    let key = vectors().join("keys/rsa2048_pkcs8_des3.pem");
    let body = r#"{"encrypted_flow_data":"AAAA"}"#;
    // An unset passphrase variable is a usage error.
    let unset = run(
        &[
            "decrypt-request",
            "--key",
            s(&key),
            "--passphrase-env",
            "WFC_TEST_UNSET_VAR",
            body,
        ],
        None,
        &[],
    );
    assert_eq!(unset.code, 2, "{}", unset.stderr);
    assert_eq!(common::error_code(&unset.stderr).as_deref(), Some("usage"));
    // A missing key file.
    run(
        &["decrypt-request", "--key", "/nonexistent/key.pem", body],
        None,
        &[],
    )
    .fails_with("io", "missing key file");
    // No key at all: clap's usage error.
    let no_key = run(&["decrypt-request", body], None, &[]);
    assert_eq!(no_key.code, 2);
    // The passphrase may come from a file (its trailing newline ignored).
    let dir = tempfile::tempdir().unwrap();
    let passphrase_file = dir.path().join("passphrase");
    std::fs::write(&passphrase_file, "flows-public-passphrase\n").unwrap();
    run(
        &[
            "decrypt-request",
            "--key",
            s(&key),
            "--passphrase-file",
            s(&passphrase_file),
            body,
        ],
        None,
        &[],
    )
    .fails_with("malformed", "key loads, body is malformed");
}

#[test]
fn encrypt_response_matches_responses_json() {
    let dir = tempfile::tempdir().unwrap();
    let key_path = vectors().join("keys/rsa2048_pkcs8.pem");
    let key = FlowPrivateKey::from_pem(std::fs::read(&key_path).unwrap(), None).unwrap();
    let list = vector_list("responses.json");
    assert!(!list.is_empty());
    for (index, vector) in list.iter().enumerate() {
        let name = vector["name"].as_str().unwrap();
        let aes_key = hex::decode(vector["aes_key_hex"].as_str().unwrap()).unwrap();
        let iv: [u8; 16] = hex::decode(vector["request_iv_hex"].as_str().unwrap())
            .unwrap()
            .try_into()
            .unwrap();
        // A request WhatsApp would send with that key and IV.
        let (request, _) = client::seal_request_with(
            &key.public_key(),
            br#"{"version":"3.0","action":"ping"}"#,
            AesKey::from_slice(&aes_key).unwrap(),
            iv,
        )
        .unwrap();
        let request_file = dir.path().join(format!("{name}.request.json"));
        std::fs::write(&request_file, request.to_json()).unwrap();
        let plaintext = vector["plaintext"].as_str().unwrap();
        let args = [
            "encrypt-response",
            "--key",
            s(&key_path),
            "--request",
            s(&request_file),
        ];
        let result = if index % 2 == 0 {
            let response_file = dir.path().join(format!("{name}.response"));
            std::fs::write(&response_file, plaintext).unwrap();
            let mut args = args.to_vec();
            args.push(s(&response_file));
            run(&args, None, &[])
        } else {
            run(&args, Some(plaintext.as_bytes()), &[])
        };
        assert_eq!(
            result.ok(name),
            format!("{}\n", vector["expected_body"].as_str().unwrap()),
            "{name}"
        );

        // The response is encrypted byte for byte: a trailing newline is kept.
        let with_newline = format!("{plaintext}\n");
        let exact = run(&args, Some(with_newline.as_bytes()), &[]).ok(name);
        let expected = ResponseKey::from_slices(&aes_key, &iv)
            .unwrap()
            .encrypt(with_newline.as_bytes());
        assert_eq!(exact, format!("{expected}\n"), "{name}");
        assert_ne!(expected, vector["expected_body"].as_str().unwrap());
    }
}

#[test]
fn encrypt_response_refuses_a_request_it_cannot_decrypt() {
    let other = vectors().join("keys/rsa2048_other.pem");
    let vector = vector_list("requests.json")
        .into_iter()
        .find(|v| v["name"] == "ping")
        .unwrap();
    let body = serde_json::to_string(&vector["request"]).unwrap();
    run(
        &[
            "encrypt-response",
            "--key",
            s(&other),
            "--request",
            &body,
            r#"{"data":{}}"#,
        ],
        None,
        &[],
    )
    .fails_with("key_unwrap", "wrong key");
    // Both from standard input is a usage error.
    let both = run(
        &["encrypt-response", "--key", s(&other), "--request", "-"],
        Some(b"{}"),
        &[],
    );
    assert_eq!(both.code, 2, "{}", both.stderr);
}

#[test]
fn verify_signature_on_signatures_json() {
    let dir = tempfile::tempdir().unwrap();
    let list = vector_list("signatures.json");
    assert!(list.iter().any(|v| v["valid"] == true) && list.iter().any(|v| v["valid"] == false));
    for (index, vector) in list.iter().enumerate() {
        let name = vector["name"].as_str().unwrap();
        let body = base64::engine::general_purpose::STANDARD
            .decode(vector["body_b64"].as_str().unwrap())
            .unwrap();
        let header = vector["header"].as_str().unwrap();
        let secret = vector["app_secret"].as_str().unwrap();
        let header_arg = format!("--header={header}");
        let envs = [("WFC_TEST_APP_SECRET", secret)];
        let args = [
            "verify-signature",
            "--app-secret-env",
            "WFC_TEST_APP_SECRET",
            &header_arg,
        ];
        let result = if index % 2 == 0 {
            let file = dir.path().join(format!("{name}.body"));
            std::fs::write(&file, &body).unwrap();
            let mut args = args.to_vec();
            args.push(s(&file));
            run(&args, None, &envs)
        } else {
            run(&args, Some(&body), &envs)
        };
        if vector["valid"].as_bool().unwrap() {
            assert!(result.ok(name).starts_with("valid"), "{name}");
        } else {
            result.fails_with("invalid_signature", name);
        }
    }
}

#[test]
fn verify_signature_needs_a_secret_from_env_or_file() {
    let vector = vector_list("signatures.json")
        .into_iter()
        .find(|v| v["name"] == "valid")
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let body_file = dir.path().join("body");
    std::fs::write(
        &body_file,
        base64::engine::general_purpose::STANDARD
            .decode(vector["body_b64"].as_str().unwrap())
            .unwrap(),
    )
    .unwrap();
    let header = format!("--header={}", vector["header"].as_str().unwrap());
    let secret_file = dir.path().join("secret");
    std::fs::write(
        &secret_file,
        format!("{}\n", vector["app_secret"].as_str().unwrap()),
    )
    .unwrap();
    run(
        &[
            "verify-signature",
            "--app-secret-file",
            s(&secret_file),
            &header,
            s(&body_file),
        ],
        None,
        &[],
    )
    .ok("secret from file");
    let missing = run(&["verify-signature", &header, s(&body_file)], None, &[]);
    assert_eq!(missing.code, 2, "{}", missing.stderr);
    assert_eq!(
        common::error_code(&missing.stderr).as_deref(),
        Some("usage")
    );
}

#[test]
fn every_command_has_help_with_an_example() {
    for command in [
        "keygen",
        "public-key",
        "inspect-key",
        "decrypt-request",
        "encrypt-response",
        "decrypt-media",
        "verify-signature",
        "check-endpoint",
        "demo",
    ] {
        let help = run(&[command, "--help"], None, &[]).ok(command);
        assert!(
            help.contains("Example"),
            "{command} --help has no example:\n{help}"
        );
        assert!(help.contains("wa-flows-crypto "), "{command}: {help}");
    }
    let top = run(&["--help"], None, &[]).ok("top-level help");
    assert!(top.contains("check-endpoint") && top.contains("demo"));
    assert_eq!(run(&[], None, &[]).code, 2);
    assert_eq!(run(&["no-such-command"], None, &[]).code, 2);
}

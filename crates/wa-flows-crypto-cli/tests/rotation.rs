//! Data API 4.0 and rotation from the command line: verify-flow-token on every flow-token
//! vector, decrypt-request with an old and a new key, verify-signature with two secrets.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use common::{run, s, vector_list, vectors};

#[test]
fn verify_flow_token_on_every_vector() {
    let list = vector_list("flow_token.json");
    assert!(list.len() >= 41);
    for vector in &list {
        let name = vector["name"].as_str().unwrap();
        let secret = vector["app_secret"].as_str().unwrap();
        let now = vector["now"].as_i64().unwrap().to_string();
        let result = run(
            &[
                "verify-flow-token",
                "--app-secret-env",
                "APP_SECRET",
                "--now",
                &now,
                "-",
            ],
            Some(vector["request"].as_str().unwrap().as_bytes()),
            &[("APP_SECRET", secret)],
        );
        let expect = &vector["expect"];
        if expect["ok"].as_bool().unwrap() {
            assert_eq!(
                result.ok(name).trim(),
                expect["signature"].as_str().unwrap(),
                "{name}"
            );
        } else {
            result.fails_with(expect["error"].as_str().unwrap(), name);
        }
    }
}

#[test]
fn the_previous_app_secret_verifies_while_rotating() {
    let vector = vector_list("flow_token.json")
        .into_iter()
        .find(|vector| vector["name"] == "valid")
        .unwrap();
    let now = vector["now"].as_i64().unwrap().to_string();
    let request = vector["request"].as_str().unwrap().as_bytes();
    let old = vector["app_secret"].as_str().unwrap();
    let args = [
        "verify-flow-token",
        "--app-secret-env",
        "NEW_SECRET",
        "--app-secret-env",
        "OLD_SECRET",
        "--now",
        &now,
        "-",
    ];
    let both = run(
        &args,
        Some(request),
        &[("NEW_SECRET", "new"), ("OLD_SECRET", old)],
    );
    assert_eq!(both.ok("both secrets").trim(), "verified");
    let only_new = run(
        &args[..3]
            .iter()
            .chain(&args[5..])
            .copied()
            .collect::<Vec<_>>(),
        Some(request),
        &[("NEW_SECRET", "new")],
    );
    only_new.fails_with("invalid_flow_token_signature", "only the new secret");

    let signature = vector_list("signatures.json")
        .into_iter()
        .find(|vector| vector["name"] == "valid")
        .unwrap();
    let body = base64_decode(signature["body_b64"].as_str().unwrap());
    let header = signature["header"].as_str().unwrap();
    let secret = signature["app_secret"].as_str().unwrap();
    let result = run(
        &[
            "verify-signature",
            "--app-secret-env",
            "NEW",
            "--app-secret-env",
            "OLD",
            "--header",
            header,
            "-",
        ],
        Some(&body),
        &[("NEW", "new"), ("OLD", secret)],
    );
    assert!(result.ok("two secrets").contains("app secret number 2"));
}

#[test]
fn decrypt_request_tries_each_key_newest_first() {
    let request = vector_list("requests.json")
        .into_iter()
        .find(|vector| vector["name"] == "init")
        .unwrap();
    let body = serde_json::to_vec(&request["request"]).unwrap();
    let old = vectors().join("keys/rsa2048_pkcs8.pem");
    let new = vectors().join("keys/rsa2048_other.pem");
    let result = run(
        &["decrypt-request", "--key", s(&new), "--key", s(&old), "-"],
        Some(&body),
        &[],
    );
    assert_eq!(
        result.ok("ring").trim_end(),
        request["expect"]["plaintext"].as_str().unwrap()
    );
    assert!(
        result.stderr.contains("--key number 2"),
        "{}",
        result.stderr
    );
    run(
        &["decrypt-request", "--key", s(&new), "-"],
        Some(&body),
        &[],
    )
    .fails_with("key_unwrap", "the new key alone");
    let two = run(
        &["inspect-key", "--key", s(&new), "--key", s(&old)],
        None,
        &[],
    );
    assert_eq!(two.code, 2, "a usage error: {}", two.stderr);
    assert!(two.stderr.starts_with("error[usage]: "), "{}", two.stderr);
}

fn base64_decode(text: &str) -> Vec<u8> {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD
        .decode(text)
        .unwrap()
}

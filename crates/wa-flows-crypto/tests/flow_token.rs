//! Data API 4.0 `flow_token_signature`: every vector in `tests/vectors/flow_token.json`
//! (PyJWT and hand-made JWTs), and secret rotation.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use wa_flows_crypto::client::sign_flow_token;
use wa_flows_crypto::{FlowTokenSignature, verify_flow_token_signature};

fn secrets_of(vector: &serde_json::Value) -> Vec<Vec<u8>> {
    match &vector["app_secret"] {
        serde_json::Value::String(secret) => vec![secret.as_bytes().to_vec()],
        serde_json::Value::Array(secrets) => secrets
            .iter()
            .map(|secret| secret.as_str().unwrap().as_bytes().to_vec())
            .collect(),
        other => panic!("app_secret is {other}"),
    }
}

#[test]
fn every_flow_token_vector() {
    let vectors = common::vectors("flow_token.json");
    assert!(vectors.len() >= 41, "the vectors file lost vectors");
    for vector in &vectors {
        let name = vector["name"].as_str().unwrap();
        let request = vector["request"].as_str().unwrap();
        let secrets = secrets_of(vector);
        let secrets: Vec<&[u8]> = secrets.iter().map(Vec::as_slice).collect();
        let now = vector["now"].as_i64().unwrap();
        let outcome = verify_flow_token_signature(request, &secrets, now);
        let expect = &vector["expect"];
        if expect["ok"].as_bool().unwrap() {
            let want = expect["signature"].as_str().unwrap();
            assert_eq!(outcome.map(FlowTokenSignature::as_str), Ok(want), "{name}");
        } else {
            let error = outcome.expect_err(name);
            assert_eq!(error.code(), expect["error"].as_str().unwrap(), "{name}");
            assert_eq!(error.http_status(), Some(427), "{name}");
        }
    }
}

#[test]
fn an_old_secret_still_verifies_while_rotating() {
    let jwt = sign_flow_token("flow-7", b"old secret", None);
    let request = serde_json::json!({
        "version": "4.0", "action": "data_exchange", "flow_token": "flow-7",
        "flow_token_signature": jwt,
    })
    .to_string();
    let rotating: [&[u8]; 2] = [b"new secret", b"old secret"];
    assert_eq!(
        verify_flow_token_signature(&request, &rotating, 0),
        Ok(FlowTokenSignature::Verified)
    );
    let error = verify_flow_token_signature(&request, &[b"new secret"], 0).unwrap_err();
    assert_eq!(error.code(), "invalid_flow_token_signature");
}

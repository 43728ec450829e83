//! The `wa-flows-crypto-gateway` binary: configured from the environment, JSON logs without
//! secrets or plaintext, SIGTERM stops it cleanly.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use common::{APP_SECRET, PythonUpstream, UPSTREAM_SECRET, client, exchange, key_path};
use serde_json::{Value, json};

const ENV: [&str; 9] = [
    "PRIVATE_KEY",
    "PRIVATE_KEY_FILE",
    "PASSPHRASE",
    "PREVIOUS_PRIVATE_KEY",
    "PREVIOUS_PRIVATE_KEY_FILE",
    "PREVIOUS_PASSPHRASE",
    "PREVIOUS_APP_SECRET",
    "FLOW_TOKEN_SIGNATURE",
    "UPSTREAM_SECRET",
];

fn gateway(args: &[&str], envs: &[(&str, &str)]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_wa-flows-crypto-gateway"));
    command
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for var in ENV.iter().chain(&["APP_SECRET"]) {
        command.env_remove(var);
    }
    for (name, value) in envs {
        command.env(name, value);
    }
    command
}

#[test]
fn a_set_but_empty_app_secret_refuses_to_start() {
    let key = key_path("rsa2048_pkcs8.pem");
    let output = gateway(
        &[
            "--listen",
            "127.0.0.1:0",
            "--upstream",
            "http://127.0.0.1:9/flow",
        ],
        &[
            ("PRIVATE_KEY_FILE", key.to_str().unwrap()),
            ("APP_SECRET", ""),
        ],
    )
    .output()
    .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(stderr.contains("APP_SECRET is set but empty"), "{stderr}");

    // FLOW_TOKEN_SIGNATURE=required without an app secret: the core refuses the configuration.
    let output = gateway(
        &[
            "--listen",
            "127.0.0.1:0",
            "--upstream",
            "http://127.0.0.1:9/flow",
        ],
        &[
            ("PRIVATE_KEY_FILE", key.to_str().unwrap()),
            ("FLOW_TOKEN_SIGNATURE", "required"),
        ],
    )
    .output()
    .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(stderr.contains("invalid_configuration"), "{stderr}");
}

/// Reads the JSON log lines of `child` on a thread; returns the listening address.
fn listening(child: &mut Child) -> (String, mpsc::Receiver<String>) {
    let (tx, rx) = mpsc::channel();
    let stderr = child.stderr.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    loop {
        let line = rx
            .recv_timeout(Duration::from_secs(20))
            .expect("the gateway logs `listening`");
        let event: Value =
            serde_json::from_str(&line).unwrap_or_else(|_| panic!("not JSON: {line}"));
        if event["message"] == "listening" {
            return (event["address"].as_str().unwrap().to_owned(), rx);
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn configured_from_the_environment_logs_json_and_stops_on_sigterm() {
    let upstream = PythonUpstream::start(Some(UPSTREAM_SECRET));
    let key_pem = std::fs::read_to_string(key_path("rsa2048_pkcs8.pem")).unwrap();
    let previous = key_path("rsa2048_other.pem");
    let app_secret = std::str::from_utf8(APP_SECRET).unwrap();
    let mut child = gateway(
        &[
            "--listen",
            "127.0.0.1:0",
            "--upstream",
            &upstream.url(),
            "--forward-headers",
        ],
        &[
            ("PRIVATE_KEY", &key_pem),
            ("PREVIOUS_PRIVATE_KEY_FILE", previous.to_str().unwrap()),
            ("APP_SECRET", app_secret),
            ("PREVIOUS_APP_SECRET", "previous-secret"),
            ("FLOW_TOKEN_SIGNATURE", "required"),
            ("UPSTREAM_SECRET", UPSTREAM_SECRET),
        ],
    )
    .spawn()
    .unwrap();
    let (address, logs) = listening(&mut child);
    let url = format!("http://{address}/");
    let http = client();
    let ready = http
        .get(format!("http://{address}/readyz"))
        .send()
        .await
        .unwrap();
    assert_eq!(ready.status(), 200);

    let token = "secret-flow-token-value";
    let request = json!({
        "version": "4.0", "action": "data_exchange", "screen": "FORM", "flow_token": token,
        "flow_token_signature": wa_flows_crypto::client::sign_flow_token(token, APP_SECRET, None),
        "data": {"mode": "echo", "card": "plaintext-card-number"},
    });
    let (answer, session) = exchange(&http, &url, &request).await;
    assert_eq!(answer.status, 200);
    assert_eq!(
        answer.open(&session)["data"]["request"]["flow_token"],
        token
    );
    // Required: a 4.0 request without a token signature is 427.
    let unsigned = json!({"version": "4.0", "action": "INIT", "flow_token": token});
    let (answer, _) = exchange(&http, &url, &unsigned).await;
    assert_eq!(answer.status, 427);

    let pid = child.id().to_string();
    let killed = Command::new("kill").args(["-TERM", &pid]).status().unwrap();
    assert!(killed.success());
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(0), "SIGTERM is a clean stop");
    let rest: Vec<String> = logs.iter().collect();
    let events: Vec<Value> = rest
        .iter()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    let requests: Vec<&Value> = events
        .iter()
        .filter(|e| e["message"] == "request")
        .collect();
    assert_eq!(requests.len(), 2, "{rest:?}");
    assert_eq!(requests[0]["status"], 200);
    assert_eq!(requests[0]["action"], "data_exchange");
    assert_eq!(requests[0]["key_index"], 0);
    assert_eq!(requests[1]["status"], 427);
    assert_eq!(requests[1]["code"], "invalid_flow_token_signature");
    assert!(events.iter().any(|e| e["message"] == "stopped"), "{rest:?}");
    let all = rest.join("\n");
    for secret in [
        app_secret,
        UPSTREAM_SECRET,
        token,
        "plaintext-card-number",
        "PRIVATE KEY",
    ] {
        assert!(!all.contains(secret), "{secret} logged:\n{all}");
    }
}

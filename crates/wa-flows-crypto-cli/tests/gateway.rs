//! `wa-flows-crypto gateway` in front of the gateway crate's Python upstream
//! (crates/wa-flows-crypto-gateway/tests/upstream.py), checked with `check-endpoint`.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use common::{run, s, vectors};

const SECRET: &str = "app-secret-for-the-gateway-test";
const SECRET_VAR: &str = "WFC_TEST_GATEWAY_APP_SECRET";
const PREVIOUS_SECRET: &str = "the-gateway-app-secret-before-the-reset";
const PREVIOUS_SECRET_VAR: &str = "WFC_TEST_GATEWAY_PREVIOUS_APP_SECRET";

/// Kills the child when dropped, whatever the test did.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn python_upstream() -> (Running, u16) {
    let script =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../wa-flows-crypto-gateway/tests/upstream.py");
    let mut child = Command::new("python3")
        .arg(script)
        .env_remove("UPSTREAM_SECRET")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let port = line
        .trim()
        .strip_prefix("listening on ")
        .unwrap()
        .parse()
        .unwrap();
    (Running(child), port)
}

#[test]
fn check_endpoint_passes_against_the_gateway() {
    let (_upstream, port) = python_upstream();
    let upstream = format!("http://127.0.0.1:{port}/flow");
    let key = vectors().join("keys/rsa2048_pkcs8.pem");
    let mut command = Command::new(env!("CARGO_BIN_EXE_wa-flows-crypto"));
    command
        .args([
            "gateway",
            "--listen",
            "127.0.0.1:0",
            "--upstream",
            &upstream,
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    for var in [
        "PRIVATE_KEY",
        "PASSPHRASE",
        "PREVIOUS_PRIVATE_KEY",
        "PREVIOUS_PASSPHRASE",
        "FLOW_TOKEN_SIGNATURE",
        "UPSTREAM_SECRET",
    ] {
        command.env_remove(var);
    }
    // Mid-rotation: the previous key and app secret still work.
    let previous_key = vectors().join("keys/rsa2048_other.pem");
    command
        .env("PRIVATE_KEY_FILE", &key)
        .env("PREVIOUS_PRIVATE_KEY_FILE", &previous_key)
        .env("APP_SECRET", SECRET)
        .env("PREVIOUS_APP_SECRET", PREVIOUS_SECRET);
    let mut gateway = Running(command.spawn().unwrap());

    // The first JSON log line with "message":"listening" names the address.
    let (tx, rx) = mpsc::channel();
    let stderr = gateway.0.stderr.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let address = loop {
        let line = rx
            .recv_timeout(Duration::from_secs(30))
            .expect("the gateway logs `listening`");
        let event: serde_json::Value = serde_json::from_str(&line).unwrap();
        if event["message"] == "listening" {
            break event["address"].as_str().unwrap().to_owned();
        }
    };

    let public = vectors().join("keys/rsa2048_public.pem");
    let url = format!("http://{address}/flows");
    let checked = run(
        &[
            "check-endpoint",
            &url,
            "--public-key",
            s(&public),
            "--previous-public-key",
            s(&previous_key),
            "--app-secret-env",
            SECRET_VAR,
            "--app-secret-env",
            PREVIOUS_SECRET_VAR,
            "--timeout",
            "20",
        ],
        None,
        &[(SECRET_VAR, SECRET), (PREVIOUS_SECRET_VAR, PREVIOUS_SECRET)],
    );
    let stdout = checked.ok("check-endpoint against the gateway");
    // Every check but "token signature missing", which a gateway under if_present skips.
    assert!(
        stdout.contains("12 passed, 0 failed, 1 skipped"),
        "{stdout}"
    );
    assert!(stdout.contains("opened screen WELCOME"), "{stdout}");

    // A set but empty APP_SECRET is refused before anything listens.
    let refused = run(
        &[
            "gateway",
            "--listen",
            "127.0.0.1:0",
            "--upstream",
            &upstream,
        ],
        None,
        &[("PRIVATE_KEY_FILE", s(&key)), ("APP_SECRET", "")],
    );
    refused.fails_with("gateway", "empty APP_SECRET");
}

//! check-endpoint against small endpoints started on 127.0.0.1 by the test: one that answers
//! correctly, one that forgets to invert the IV, one that ignores signatures.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::Arc;

use common::{run, s, vectors};
use wa_flows_crypto::flow::PING_RESPONSE;
use wa_flows_crypto::{
    Action, AesKey, FlowPrivateKey, ResponseKey, decrypt_request, verify_signature,
};

const SECRET: &str = "app-secret-for-the-check-endpoint-test";
const SECRET_VAR: &str = "WFC_TEST_CHECK_APP_SECRET";

#[derive(Clone, Copy, PartialEq, Eq)]
enum Behaviour {
    Correct,
    /// Encrypts the answer with the request's IV as is (the classic bug).
    SameIv,
    /// Never checks X-Hub-Signature-256.
    IgnoresSignature,
}

/// Starts an endpoint on 127.0.0.1 and returns its URL.
fn start(behaviour: Behaviour, secret: Option<&'static str>) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let address = listener.local_addr().unwrap();
    assert!(address.ip().is_loopback());
    let key = Arc::new(
        FlowPrivateKey::from_pem(
            std::fs::read(vectors().join("keys/rsa2048_pkcs8.pem")).unwrap(),
            None,
        )
        .unwrap(),
    );
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let _ = serve(stream, &key, behaviour, secret);
        }
    });
    format!("http://{address}/flows")
}

/// Minimal HTTP/1.1: one request per connection.
fn serve(
    stream: TcpStream,
    key: &FlowPrivateKey,
    behaviour: Behaviour,
    secret: Option<&str>,
) -> std::io::Result<()> {
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut line = String::new();
    reader.read_line(&mut line)?;
    assert!(line.starts_with("POST /flows HTTP/1.1"), "{line:?}");
    let mut length = 0;
    let mut signature = String::new();
    loop {
        line.clear();
        reader.read_line(&mut line)?;
        let header = line.trim_end();
        if header.is_empty() {
            break;
        }
        let (name, value) = header.split_once(':').unwrap();
        match name.to_ascii_lowercase().as_str() {
            "content-length" => length = value.trim().parse().unwrap(),
            "x-hub-signature-256" => signature = value.trim().to_owned(),
            _ => {}
        }
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body)?;
    let (status, answer) = respond(&body, &signature, key, behaviour, secret);
    let mut stream = stream;
    write!(
        stream,
        "HTTP/1.1 {status} X\r\nContent-Type: text/plain\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{answer}",
        answer.len()
    )?;
    stream.flush()
}

fn respond(
    body: &[u8],
    signature: &str,
    key: &FlowPrivateKey,
    behaviour: Behaviour,
    secret: Option<&str>,
) -> (u16, String) {
    if let Some(secret) = secret
        && behaviour != Behaviour::IgnoresSignature
        && let Err(err) = verify_signature(body, signature, secret.as_bytes())
    {
        return (err.http_status().unwrap(), String::new());
    }
    let decrypted = match decrypt_request(body, key) {
        Ok(decrypted) => decrypted,
        Err(err) => return (err.http_status().unwrap_or(500), String::new()),
    };
    let request = decrypted.request().unwrap();
    let answer = match request.action {
        Action::Ping => PING_RESPONSE.to_owned(),
        Action::Init => r#"{"screen":"WELCOME","data":{"greeting":"hello"}}"#.to_owned(),
        _ => r#"{"screen":"NEXT","data":{}}"#.to_owned(),
    };
    let encrypted = match behaviour {
        Behaviour::SameIv => {
            let correct = decrypted.response_key();
            // A key whose "inverted" IV is the request's own IV.
            let wrong = ResponseKey::new(
                AesKey::new(*correct.aes_key()),
                correct.request_iv().map(|byte| !byte),
            );
            wrong.encrypt(answer.as_bytes())
        }
        Behaviour::Correct | Behaviour::IgnoresSignature => {
            decrypted.encrypt_response(answer.as_bytes())
        }
    };
    (200, encrypted)
}

/// The table row of `check`.
fn row<'a>(stdout: &'a str, check: &str) -> &'a str {
    stdout
        .lines()
        .find(|line| line.starts_with(check))
        .unwrap_or_else(|| panic!("no row {check} in\n{stdout}"))
}

fn passed(row: &str) -> bool {
    assert!(row.contains(" pass ") != row.contains(" FAIL "), "{row}");
    row.contains(" pass ")
}

fn check(url: &str, with_secret: bool) -> common::Run {
    let public = vectors().join("keys/rsa2048_public.pem");
    let mut args = vec![
        "check-endpoint",
        url,
        "--public-key",
        s(&public),
        "--timeout",
        "20",
    ];
    if with_secret {
        args.extend(["--app-secret-env", SECRET_VAR]);
    }
    run(&args, None, &[(SECRET_VAR, SECRET)])
}

#[test]
fn a_correct_endpoint_passes_every_check() {
    let url = start(Behaviour::Correct, Some(SECRET));
    let result = check(&url, true);
    let stdout = result.ok("correct endpoint");
    for name in [
        "ping",
        "INIT round trip",
        "tampered payload",
        "key for another public key",
        "bad signature",
    ] {
        assert!(passed(row(&stdout, name)), "{name}:\n{stdout}");
    }
    assert!(
        row(&stdout, "INIT round trip").contains("WELCOME"),
        "{stdout}"
    );
    assert!(stdout.contains("5 passed, 0 failed, 0 skipped"), "{stdout}");

    // Without the secret the signature check is skipped, and unsigned requests are refused
    // by this endpoint: every check then fails except the skipped one.
    let unsigned = check(&url, false);
    unsigned.fails_after_report("check_failed");
    assert!(
        unsigned
            .stdout_text()
            .contains("0 passed, 4 failed, 1 skipped"),
        "{}",
        unsigned.stdout_text()
    );
}

#[test]
fn a_correct_endpoint_without_signatures_passes_with_the_signature_check_skipped() {
    let url = start(Behaviour::Correct, None);
    let stdout = check(&url, false).ok("no secret");
    assert!(row(&stdout, "bad signature").contains(" skip "), "{stdout}");
    assert!(stdout.contains("4 passed, 0 failed, 1 skipped"), "{stdout}");
}

#[test]
fn an_endpoint_that_does_not_invert_the_iv_fails() {
    let url = start(Behaviour::SameIv, None);
    let result = check(&url, false);
    result.fails_after_report("check_failed");
    let stdout = result.stdout_text();
    let ping = row(&stdout, "ping");
    assert!(!passed(ping), "{stdout}");
    assert!(
        ping.contains("inverted"),
        "the diagnosis should name the IV: {ping}"
    );
    assert!(!passed(row(&stdout, "INIT round trip")), "{stdout}");
    assert!(passed(row(&stdout, "tampered payload")), "{stdout}");
    assert!(stdout.contains("2 passed, 2 failed, 1 skipped"), "{stdout}");
}

#[test]
fn an_endpoint_that_ignores_signatures_fails_the_signature_check() {
    let url = start(Behaviour::IgnoresSignature, Some(SECRET));
    let result = check(&url, true);
    result.fails_after_report("check_failed");
    let stdout = result.stdout_text();
    assert!(!passed(row(&stdout, "bad signature")), "{stdout}");
    assert!(passed(row(&stdout, "ping")), "{stdout}");
    assert!(stdout.contains("4 passed, 1 failed, 0 skipped"), "{stdout}");
}

#[test]
fn nothing_listening_fails_every_check() {
    let port = {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let result = check(&format!("http://127.0.0.1:{port}/flows"), false);
    result.fails_after_report("check_failed");
    let stdout = result.stdout_text();
    assert!(stdout.contains("0 passed, 4 failed, 1 skipped"), "{stdout}");
    assert!(row(&stdout, "ping").contains("no answer"), "{stdout}");
    // Not a URL: a usage error.
    assert_eq!(check("ftp://127.0.0.1/", false).code, 2);
}

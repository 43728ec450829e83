//! check-endpoint against small endpoints started on 127.0.0.1 by the test, on the core's
//! one-call tier: one that answers correctly (two keys, two secrets, flow token signatures
//! checked when present), one that requires flow token signatures, and one each with a classic
//! bug: the IV not inverted, signatures ignored, flow token signatures ignored.
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
use wa_flows_crypto::{
    Action, AesKey, FlowEndpoint, FlowKeyRing, FlowPrivateKey, FlowTokenSignaturePolicy,
    ResponseKey, sign,
};

const SECRET: &str = "app-secret-for-the-check-endpoint-test";
const PREVIOUS_SECRET: &str = "the-app-secret-before-the-reset";
const SECRET_VAR: &str = "WFC_TEST_CHECK_APP_SECRET";
const PREVIOUS_SECRET_VAR: &str = "WFC_TEST_CHECK_PREVIOUS_APP_SECRET";

#[derive(Clone, Copy, PartialEq, Eq)]
enum Behaviour {
    Correct,
    /// Encrypts the answer with the request's IV as is (the classic bug).
    SameIv,
    /// Never checks X-Hub-Signature-256 (it behaves as if every header matched).
    IgnoresSignature,
}

struct Server {
    endpoint: FlowEndpoint,
    behaviour: Behaviour,
}

fn key(name: &str) -> FlowPrivateKey {
    FlowPrivateKey::from_pem(
        std::fs::read(vectors().join("keys").join(name)).unwrap(),
        None,
    )
    .unwrap()
}

/// Starts an endpoint on 127.0.0.1 with the current key (and the previous one when
/// `rotating`), `secrets`, and `policy`, and returns its URL.
fn start(
    behaviour: Behaviour,
    secrets: &[&str],
    policy: FlowTokenSignaturePolicy,
    rotating: bool,
) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let address = listener.local_addr().unwrap();
    assert!(address.ip().is_loopback());
    let mut keys = vec![key("rsa2048_pkcs8.pem")];
    if rotating {
        keys.push(key("rsa2048_other.pem"));
    }
    let secrets: Vec<&[u8]> = secrets.iter().map(|s| s.as_bytes()).collect();
    let server = Arc::new(Server {
        endpoint: FlowEndpoint::new(FlowKeyRing::new(keys).unwrap(), &secrets, policy).unwrap(),
        behaviour,
    });
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let _ = serve(stream, &server);
        }
    });
    format!("http://{address}/flows")
}

/// Minimal HTTP/1.1: one request per connection.
fn serve(stream: TcpStream, server: &Server) -> std::io::Result<()> {
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut line = String::new();
    reader.read_line(&mut line)?;
    assert!(line.starts_with("POST /flows HTTP/1.1"), "{line:?}");
    let mut length = 0;
    let mut signature = None;
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
            "x-hub-signature-256" => signature = Some(value.trim().to_owned()),
            _ => {}
        }
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body)?;
    let (status, answer) = respond(&body, signature, server);
    let mut stream = stream;
    write!(
        stream,
        "HTTP/1.1 {status} X\r\nContent-Type: text/plain\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{answer}",
        answer.len()
    )?;
    stream.flush()
}

fn respond(body: &[u8], signature: Option<String>, server: &Server) -> (u16, String) {
    let signature = match server.behaviour {
        Behaviour::IgnoresSignature => Some(sign(body, SECRET.as_bytes())),
        Behaviour::Correct | Behaviour::SameIv => signature,
    };
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let opened = match server
        .endpoint
        .open(body, signature.as_deref(), i64::try_from(now).unwrap())
    {
        Ok(opened) => opened,
        Err(err) => return (err.http_status().unwrap_or(500), err.code().to_owned()),
    };
    let answer = match opened.automatic_response() {
        Some(automatic) => automatic.to_owned(),
        None if opened.flow().action == Action::Init => {
            r#"{"screen":"WELCOME","data":{"greeting":"hello"}}"#.to_owned()
        }
        None => r#"{"screen":"NEXT","data":{}}"#.to_owned(),
    };
    let encrypted = match server.behaviour {
        Behaviour::SameIv => {
            let correct = opened.decrypted().response_key();
            // A key whose "inverted" IV is the request's own IV.
            let wrong = ResponseKey::new(
                AesKey::new(*correct.aes_key()),
                correct.request_iv().map(|byte| !byte),
            );
            wrong.encrypt(answer.as_bytes())
        }
        Behaviour::Correct | Behaviour::IgnoresSignature => opened.respond(answer.as_bytes()),
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

/// What check-endpoint is told.
#[derive(Clone, Copy)]
struct Told {
    /// How many app secrets: 0, 1 (the current) or 2 (and the previous).
    secrets: usize,
    previous_key: bool,
    policy: &'static str,
}

const TOLD_EVERYTHING: Told = Told {
    secrets: 2,
    previous_key: true,
    policy: "if_present",
};
const TOLD_NOTHING: Told = Told {
    secrets: 0,
    previous_key: false,
    policy: "if_present",
};

fn check(url: &str, told: Told) -> common::Run {
    let public = vectors().join("keys/rsa2048_public.pem");
    let previous = vectors().join("keys/rsa2048_other.pem");
    let mut args = vec![
        "check-endpoint",
        url,
        "--public-key",
        s(&public),
        "--timeout",
        "20",
        "--flow-token-signature",
        told.policy,
    ];
    if told.previous_key {
        args.extend(["--previous-public-key", s(&previous)]);
    }
    for var in [SECRET_VAR, PREVIOUS_SECRET_VAR].iter().take(told.secrets) {
        args.extend(["--app-secret-env", var]);
    }
    run(
        &args,
        None,
        &[(SECRET_VAR, SECRET), (PREVIOUS_SECRET_VAR, PREVIOUS_SECRET)],
    )
}

const ALL_CHECKS: [&str; 13] = [
    "ping",
    "INIT round trip",
    "error notification",
    "tampered payload",
    "key for another public key",
    "previous public key",
    "bad signature",
    "previous app secret",
    "token signature valid",
    "token signature forged",
    "token signature expired",
    "token signature other token",
    "token signature missing",
];

#[test]
fn a_correct_endpoint_passes_every_check() {
    let url = start(
        Behaviour::Correct,
        &[SECRET, PREVIOUS_SECRET],
        FlowTokenSignaturePolicy::IfPresent,
        true,
    );
    let result = check(&url, TOLD_EVERYTHING);
    let stdout = result.ok("correct endpoint");
    for name in ALL_CHECKS {
        let row = row(&stdout, name);
        if name == "token signature missing" {
            assert!(row.contains(" skip "), "{row}");
        } else {
            assert!(passed(row), "{name}:\n{stdout}");
        }
    }
    assert!(
        row(&stdout, "INIT round trip").contains("WELCOME"),
        "{stdout}"
    );
    assert!(
        stdout.contains("12 passed, 0 failed, 1 skipped"),
        "{stdout}"
    );

    // Without the secrets the signature checks are skipped, and unsigned requests are refused
    // by this endpoint with 432: every check that runs then fails.
    let unsigned = check(&url, TOLD_NOTHING);
    unsigned.fails_after_report("check_failed");
    assert!(
        unsigned
            .stdout_text()
            .contains("0 passed, 5 failed, 8 skipped"),
        "{}",
        unsigned.stdout_text()
    );
}

#[test]
fn an_endpoint_that_requires_flow_token_signatures_passes_when_told() {
    let url = start(
        Behaviour::Correct,
        &[SECRET],
        FlowTokenSignaturePolicy::Required,
        false,
    );
    let told = Told {
        secrets: 1,
        previous_key: false,
        policy: "required",
    };
    let stdout = check(&url, told).ok("required");
    assert!(passed(row(&stdout, "token signature missing")), "{stdout}");
    assert!(
        stdout.contains("11 passed, 0 failed, 2 skipped"),
        "{stdout}"
    );

    // Told the endpoint only checks signatures when present, the round trips go unsigned and
    // are refused with 427.
    let told_if_present = check(
        &url,
        Told {
            policy: "if_present",
            ..told
        },
    );
    told_if_present.fails_after_report("check_failed");
    let stdout = told_if_present.stdout_text();
    assert!(!passed(row(&stdout, "INIT round trip")), "{stdout}");
    assert!(row(&stdout, "INIT round trip").contains("427"), "{stdout}");
    // A required policy without the secret to sign with is a usage error.
    let no_secret = check(&url, Told { secrets: 0, ..told });
    assert_eq!(no_secret.code, 2, "{}", no_secret.stderr);
}

#[test]
fn a_correct_endpoint_without_signatures_passes_with_the_signature_checks_skipped() {
    let url = start(
        Behaviour::Correct,
        &[],
        FlowTokenSignaturePolicy::IfPresent,
        false,
    );
    let stdout = check(&url, TOLD_NOTHING).ok("no secret");
    assert!(row(&stdout, "bad signature").contains(" skip "), "{stdout}");
    assert!(stdout.contains("5 passed, 0 failed, 8 skipped"), "{stdout}");
}

#[test]
fn an_endpoint_without_the_previous_key_or_secret_fails_the_rotation_checks() {
    let url = start(
        Behaviour::Correct,
        &[SECRET],
        FlowTokenSignaturePolicy::IfPresent,
        false,
    );
    let result = check(&url, TOLD_EVERYTHING);
    result.fails_after_report("check_failed");
    let stdout = result.stdout_text();
    let previous_key = row(&stdout, "previous public key");
    assert!(
        !passed(previous_key) && previous_key.contains("421"),
        "{stdout}"
    );
    let previous_secret = row(&stdout, "previous app secret");
    assert!(
        !passed(previous_secret) && previous_secret.contains("432"),
        "{stdout}"
    );
    assert!(
        stdout.contains("10 passed, 2 failed, 1 skipped"),
        "{stdout}"
    );
}

#[test]
fn an_endpoint_that_ignores_flow_token_signatures_fails_the_4_0_checks() {
    let url = start(
        Behaviour::Correct,
        &[SECRET, PREVIOUS_SECRET],
        FlowTokenSignaturePolicy::Off,
        true,
    );
    let result = check(&url, TOLD_EVERYTHING);
    result.fails_after_report("check_failed");
    let stdout = result.stdout_text();
    for name in [
        "token signature forged",
        "token signature expired",
        "token signature other token",
    ] {
        let row = row(&stdout, name);
        assert!(!passed(row) && row.contains("HTTP 200"), "{stdout}");
    }
    assert!(stdout.contains("9 passed, 3 failed, 1 skipped"), "{stdout}");
    // Told the endpoint is `off`, those checks are skipped and the rest pass.
    let told_off = check(
        &url,
        Told {
            policy: "off",
            ..TOLD_EVERYTHING
        },
    );
    assert!(
        told_off
            .ok("told off")
            .contains("9 passed, 0 failed, 4 skipped"),
        "{}",
        told_off.stdout_text()
    );
}

#[test]
fn an_endpoint_that_does_not_invert_the_iv_fails() {
    let url = start(
        Behaviour::SameIv,
        &[],
        FlowTokenSignaturePolicy::IfPresent,
        false,
    );
    let result = check(&url, TOLD_NOTHING);
    result.fails_after_report("check_failed");
    let stdout = result.stdout_text();
    let ping = row(&stdout, "ping");
    assert!(!passed(ping), "{stdout}");
    assert!(
        ping.contains("inverted"),
        "the diagnosis should name the IV: {ping}"
    );
    assert!(!passed(row(&stdout, "INIT round trip")), "{stdout}");
    assert!(!passed(row(&stdout, "error notification")), "{stdout}");
    assert!(passed(row(&stdout, "tampered payload")), "{stdout}");
    assert!(stdout.contains("2 passed, 3 failed, 8 skipped"), "{stdout}");
}

#[test]
fn an_endpoint_that_ignores_signatures_fails_the_signature_check() {
    let url = start(
        Behaviour::IgnoresSignature,
        &[SECRET],
        FlowTokenSignaturePolicy::IfPresent,
        false,
    );
    let told = Told {
        secrets: 1,
        previous_key: false,
        policy: "if_present",
    };
    let result = check(&url, told);
    result.fails_after_report("check_failed");
    let stdout = result.stdout_text();
    assert!(!passed(row(&stdout, "bad signature")), "{stdout}");
    assert!(passed(row(&stdout, "ping")), "{stdout}");
    assert!(stdout.contains("9 passed, 1 failed, 3 skipped"), "{stdout}");
}

#[test]
fn nothing_listening_fails_every_check() {
    let port = {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let result = check(&format!("http://127.0.0.1:{port}/flows"), TOLD_NOTHING);
    result.fails_after_report("check_failed");
    let stdout = result.stdout_text();
    assert!(stdout.contains("0 passed, 5 failed, 8 skipped"), "{stdout}");
    assert!(row(&stdout, "ping").contains("no answer"), "{stdout}");
    // Not a URL: a usage error.
    assert_eq!(check("ftp://127.0.0.1/", TOLD_NOTHING).code, 2);
}

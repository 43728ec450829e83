//! Hostile callers and careless operators: endless inputs, absurd numbers, empty secrets,
//! credentials in URLs, and signals in the middle of a decryption.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{listing, run, s, vector_list, vectors};

/// A file that never ends.
const ENDLESS: &str = "/dev/zero";

fn media_metadata_file(dir: &Path) -> std::path::PathBuf {
    let vector = vector_list("media.json")
        .into_iter()
        .find(|vector| vector["name"] == "size_1048579")
        .unwrap();
    let path = dir.join("metadata.json");
    std::fs::write(&path, serde_json::to_string(&vector["metadata"]).unwrap()).unwrap();
    path
}

#[test]
fn every_input_read_is_capped() {
    let key = vectors().join("keys/rsa2048_pkcs8.pem");
    let cases: [(&str, Vec<&str>); 6] = [
        ("key file", vec!["inspect-key", "--key", ENDLESS]),
        (
            "passphrase file",
            vec![
                "inspect-key",
                "--key",
                s(&key),
                "--passphrase-file",
                ENDLESS,
            ],
        ),
        (
            "request body",
            vec!["decrypt-request", "--key", s(&key), ENDLESS],
        ),
        (
            "app secret file",
            vec![
                "verify-signature",
                "--app-secret-file",
                ENDLESS,
                "--header",
                "sha256=00",
                "-",
            ],
        ),
        (
            "metadata",
            vec![
                "decrypt-media",
                "--metadata",
                ENDLESS,
                "--in",
                ENDLESS,
                "--out",
                "/nonexistent/x",
            ],
        ),
        (
            "public key",
            vec![
                "check-endpoint",
                "http://127.0.0.1:9/",
                "--public-key",
                ENDLESS,
            ],
        ),
    ];
    for (what, args) in cases {
        let started = Instant::now();
        let result = run(&args, Some(b"{}"), &[]);
        result.fails_with("too_large", what);
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "{what}: took {:?}",
            started.elapsed()
        );
    }
}

#[test]
fn an_endless_request_on_standard_input_is_refused() {
    let key = vectors().join("keys/rsa2048_pkcs8.pem");
    let child = Command::new(env!("CARGO_BIN_EXE_wa-flows-crypto"))
        .args(["decrypt-request", "--key", s(&key), "-"])
        .stdin(std::fs::File::open(ENDLESS).unwrap())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .output()
        .unwrap();
    let stderr = String::from_utf8(child.stderr).unwrap();
    assert_eq!(child.status.code(), Some(1), "{stderr}");
    assert!(stderr.starts_with("error[too_large]: "), "{stderr}");
}

#[test]
fn an_endless_media_file_stops_at_the_cap_and_leaves_nothing() {
    let work = tempfile::tempdir().unwrap();
    let metadata = media_metadata_file(work.path());
    let out_dir = work.path().join("out");
    std::fs::create_dir(&out_dir).unwrap();
    let out = out_dir.join("plain.bin");
    for max_size in [None, Some("1000000")] {
        let mut args = vec![
            "decrypt-media",
            "--metadata",
            s(&metadata),
            "--in",
            ENDLESS,
            "--out",
            s(&out),
        ];
        if let Some(max) = max_size {
            args.extend(["--max-size", max]);
        }
        let started = Instant::now();
        run(&args, None, &[]).fails_with("too_large", "/dev/zero");
        assert!(started.elapsed() < Duration::from_secs(30));
        assert!(listing(&out_dir).is_empty(), "{:?}", listing(&out_dir));
    }
    // A regular file over --max-size is refused before anything is written.
    let input = vectors().join("media/size_1048579.enc");
    run(
        &[
            "decrypt-media",
            "--metadata",
            s(&metadata),
            "--in",
            s(&input),
            "--out",
            s(&out),
            "--max-size",
            "1048576",
        ],
        None,
        &[],
    )
    .fails_with("too_large", "--max-size under the file");
    // ...and one at most --max-size decrypts.
    let size = std::fs::metadata(&input).unwrap().len().to_string();
    run(
        &[
            "decrypt-media",
            "--metadata",
            s(&metadata),
            "--in",
            s(&input),
            "--out",
            s(&out),
            "--max-size",
            &size,
        ],
        None,
        &[],
    )
    .ok("--max-size equal to the file");
}

#[test]
fn absurd_demo_sizes_are_usage_errors_not_panics() {
    for size in [
        "18446744073709551615",
        "4000000000",
        "67108865",
        "-1",
        "1e9",
    ] {
        let result = run(&["demo", "--media-size", size], None, &[]);
        assert_eq!(result.code, 2, "{size}: {}", result.stderr);
        assert!(
            !result.stderr.contains("panicked"),
            "{size}: {}",
            result.stderr
        );
    }
}

#[test]
fn an_empty_app_secret_is_a_configuration_error() {
    let body = b"{}";
    let header = "sha256=".to_owned() + &hex_hmac_of_empty_key(body);
    let result = run(
        &[
            "verify-signature",
            "--app-secret-env",
            "EMPTY_SECRET",
            "--header",
            &header,
            "-",
        ],
        Some(body),
        &[("EMPTY_SECRET", "")],
    );
    result.fails_with("invalid_configuration", "empty --app-secret-env");
    let work = tempfile::tempdir().unwrap();
    let empty = work.path().join("secret");
    std::fs::write(&empty, "\n").unwrap();
    run(
        &[
            "verify-signature",
            "--app-secret-file",
            s(&empty),
            "--header",
            &header,
            "-",
        ],
        Some(body),
        &[],
    )
    .fails_with("invalid_configuration", "empty --app-secret-file");
}

/// HMAC-SHA256 with an empty key, computed by the library's own client side so that the test
/// would pass if an empty secret were (wrongly) accepted.
fn hex_hmac_of_empty_key(body: &[u8]) -> String {
    let header = wa_flows_crypto::sign(body, b"");
    header.trim_start_matches("sha256=").to_owned()
}

#[test]
fn check_endpoint_never_prints_url_credentials() {
    let public = vectors().join("keys/rsa2048_public.pem");
    // Port 9 on loopback (discard) refuses or drops the connection: every check fails.
    let result = run(
        &[
            "check-endpoint",
            "http://flowuser:s3cr3t-pa55@127.0.0.1:9/flows",
            "--public-key",
            s(&public),
            "--timeout",
            "2",
        ],
        None,
        &[],
    );
    assert_ne!(result.code, 0);
    let everything = result.stdout_text() + &result.stderr;
    assert!(!everything.contains("s3cr3t-pa55"), "{everything}");
    assert!(!everything.contains("flowuser"), "{everything}");
    assert!(everything.contains("***@127.0.0.1:9"), "{everything}");
}

/// Starts `decrypt-media` reading from a FIFO, feeds it half a file so that unverified
/// plaintext is on disk, sends `signal`, and checks that nothing is left beside `--out`.
#[cfg(unix)]
fn interrupted_mid_stream(signal: &str, exit_code: i32) {
    let work = tempfile::tempdir().unwrap();
    let metadata = media_metadata_file(work.path());
    let fifo = work.path().join("in.fifo");
    assert!(
        Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap()
            .success()
    );
    let out_dir = work.path().join("out");
    std::fs::create_dir(&out_dir).unwrap();
    let out = out_dir.join("plain.bin");
    let child = Command::new(env!("CARGO_BIN_EXE_wa-flows-crypto"))
        .args([
            "decrypt-media",
            "--metadata",
            s(&metadata),
            "--in",
            s(&fifo),
            "--out",
            s(&out),
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let file = std::fs::read(vectors().join("media/size_1048579.enc")).unwrap();
    let mut writer = std::fs::OpenOptions::new().write(true).open(&fifo).unwrap();
    writer.write_all(&file[..file.len() / 2]).unwrap();
    writer.flush().unwrap();
    // Wait until the unverified plaintext is on disk: the signal must find something to remove.
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let partial = std::fs::read_dir(&out_dir)
            .unwrap()
            .filter_map(Result::ok)
            .any(|entry| entry.metadata().map(|m| m.len() > 0).unwrap_or(false));
        if partial {
            break;
        }
        assert!(Instant::now() < deadline, "no partial plaintext appeared");
        std::thread::sleep(Duration::from_millis(20));
    }
    let pid = child.id().to_string();
    assert!(
        Command::new("kill")
            .args([signal, &pid])
            .status()
            .unwrap()
            .success()
    );
    let output = child.wait_with_output().unwrap();
    drop(writer);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(exit_code), "{signal}: {stderr}");
    assert!(
        stderr.contains("removed the unverified plaintext"),
        "{signal}: {stderr}"
    );
    assert!(
        listing(&out_dir).is_empty(),
        "{signal}: left {:?}",
        listing(&out_dir)
    );
}

#[cfg(unix)]
#[test]
fn signals_mid_stream_leave_no_plaintext() {
    interrupted_mid_stream("-INT", 130);
    interrupted_mid_stream("-TERM", 143);
    interrupted_mid_stream("-HUP", 129);
}

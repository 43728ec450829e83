//! Helpers shared by the integration tests: they run the built binary.
#![allow(
    dead_code,
    unreachable_pub,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic
)]

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

/// The test vectors (`tests/vectors/` in the repository).
pub fn vectors() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/vectors")
}

/// A vectors file, parsed.
pub fn load(name: &str) -> serde_json::Value {
    let text = std::fs::read_to_string(vectors().join(name)).unwrap();
    serde_json::from_str(&text).unwrap()
}

/// The vectors of a vectors file.
pub fn vector_list(name: &str) -> Vec<serde_json::Value> {
    load(name)["vectors"].as_array().unwrap().clone()
}

/// The result of one run of the binary.
pub struct Run {
    pub code: i32,
    pub stdout: Vec<u8>,
    pub stderr: String,
}

impl Run {
    pub fn stdout_text(&self) -> String {
        String::from_utf8(self.stdout.clone()).unwrap()
    }

    /// Asserts success and returns stdout as text.
    pub fn ok(&self, context: &str) -> String {
        assert_eq!(
            self.code, 0,
            "{context}: expected success, got exit {} with stderr {}",
            self.code, self.stderr
        );
        self.stdout_text()
    }

    /// Asserts `error[<code>]: …` on one stderr line, exit 1 and nothing on stdout.
    pub fn fails_with(&self, code: &str, context: &str) {
        self.fails_with_any(&[code], context);
    }

    /// Exit 1 with `error[<code>]: …` on stderr, output on stdout allowed (a report).
    pub fn fails_after_report(&self, code: &str) {
        assert_eq!(self.code, 1, "expected exit 1, stderr {}", self.stderr);
        assert_eq!(
            error_code(&self.stderr).as_deref(),
            Some(code),
            "{}",
            self.stderr
        );
        assert_eq!(
            self.stderr.trim_end().lines().count(),
            1,
            "{:?}",
            self.stderr
        );
    }

    /// As [`fails_with`](Self::fails_with), accepting any of `codes`.
    pub fn fails_with_any(&self, codes: &[&str], context: &str) {
        assert_eq!(
            self.code, 1,
            "{context}: expected exit 1, stderr {}",
            self.stderr
        );
        let found = error_code(&self.stderr);
        assert!(
            codes.iter().any(|code| found.as_deref() == Some(*code)),
            "{context}: expected error[{codes:?}], got stderr {:?}",
            self.stderr
        );
        assert_eq!(
            self.stderr.trim_end().lines().count(),
            1,
            "{context}: the error is not one line: {:?}",
            self.stderr
        );
        assert!(
            self.stdout.is_empty(),
            "{context}: output on failure: {:?}",
            self.stdout_text()
        );
    }
}

/// The `<code>` of a stderr that is `error[<code>]: <message>`.
pub fn error_code(stderr: &str) -> Option<String> {
    let rest = stderr.strip_prefix("error[")?;
    let (code, message) = rest.split_once("]: ")?;
    (!message.trim().is_empty()).then(|| code.to_owned())
}

/// Runs the binary with `args`, feeding `stdin` (or nothing) and setting `envs`.
pub fn run(args: &[&str], stdin: Option<&[u8]>, envs: &[(&str, &str)]) -> Run {
    let mut command = Command::new(env!("CARGO_BIN_EXE_wa-flows-crypto"));
    command
        .args(args)
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for var in [
        "HTTP_PROXY",
        "http_proxy",
        "HTTPS_PROXY",
        "https_proxy",
        "ALL_PROXY",
        "all_proxy",
    ] {
        command.env_remove(var);
    }
    for (name, value) in envs {
        command.env(name, value);
    }
    let mut child = command.spawn().unwrap();
    if let Some(input) = stdin {
        let mut pipe = child.stdin.take().unwrap();
        // The tool may exit before reading (a usage error): a closed pipe is not a failure.
        if let Err(err) = pipe.write_all(input) {
            assert_eq!(err.kind(), std::io::ErrorKind::BrokenPipe, "{err}");
        }
    }
    let Output {
        status,
        stdout,
        stderr,
    } = child.wait_with_output().unwrap();
    Run {
        code: status.code().unwrap_or(-1),
        stdout,
        stderr: String::from_utf8(stderr).unwrap(),
    }
}

/// The names of the files in `dir`, sorted.
pub fn listing(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// Path as &str.
pub fn s(path: &Path) -> &str {
    path.to_str().unwrap()
}

//! The tool's one error type: a stable code, a message that says what to do, an exit status.

use std::fmt;
use std::path::Path;

/// Exit status of a failed command (a usage error exits 2, as clap's own errors do).
pub(crate) const EXIT_FAILURE: u8 = 1;
/// Exit status of a usage error.
pub(crate) const EXIT_USAGE: u8 = 2;

/// What went wrong, printed as `error[<code>]: <message>`.
///
/// `code` is the core's stable error code (`malformed`, `key_unwrap`, …) whenever the core
/// refused something; the tool adds `io` (a file could not be read or written), `exists` (an
/// output file is already there), `http` (the endpoint could not be reached), `check_failed`
/// (check-endpoint found a problem) and `usage`.
#[derive(Debug)]
pub(crate) struct CliError {
    code: &'static str,
    message: String,
    exit: u8,
}

impl CliError {
    pub(crate) fn new(code: &'static str, message: impl Into<String>) -> Self {
        CliError {
            code,
            message: message.into(),
            exit: EXIT_FAILURE,
        }
    }

    pub(crate) fn usage(message: impl Into<String>) -> Self {
        CliError {
            code: "usage",
            message: message.into(),
            exit: EXIT_USAGE,
        }
    }

    /// An I/O error about `path`, with what the tool was doing.
    pub(crate) fn io(doing: &str, path: &Path, err: &std::io::Error) -> Self {
        CliError::new("io", format!("cannot {doing} {}: {err}", path.display()))
    }

    /// Appends advice to the message.
    pub(crate) fn with_hint(mut self, hint: &str) -> Self {
        self.message.push_str(" (");
        self.message.push_str(hint);
        self.message.push(')');
        self
    }

    pub(crate) fn code(&self) -> &'static str {
        self.code
    }

    pub(crate) fn exit_status(&self) -> u8 {
        self.exit
    }
}

impl fmt::Display for CliError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl From<wa_flows_crypto::Error> for CliError {
    fn from(err: wa_flows_crypto::Error) -> Self {
        CliError::new(err.code(), err.to_string())
    }
}

pub(crate) type CliResult<T = ()> = Result<T, CliError>;

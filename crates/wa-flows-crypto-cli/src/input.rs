//! Where inputs come from: files, standard input, JSON text on the command line, and secrets
//! from files or environment variables (never from argv).

use std::io::{IsTerminal, Read};
use std::path::{Path, PathBuf};

use clap::Args;
use wa_flows_crypto::{FlowPrivateKey, KeyError};
use zeroize::Zeroizing;

use crate::error::{CliError, CliResult};

/// Reads a whole file.
pub(crate) fn read_file(path: &Path) -> CliResult<Vec<u8>> {
    std::fs::read(path).map_err(|err| CliError::io("read", path, &err))
}

/// Reads standard input to the end; refuses to wait on a terminal.
pub(crate) fn read_stdin(what: &str) -> CliResult<Vec<u8>> {
    let mut stdin = std::io::stdin();
    if stdin.is_terminal() {
        return Err(CliError::usage(format!(
            "no {what} given: pass a file, JSON text, or pipe it into standard input (`-`)"
        )));
    }
    let mut buffer = Vec::new();
    stdin
        .read_to_end(&mut buffer)
        .map_err(|err| CliError::io("read", Path::new("standard input"), &err))?;
    Ok(buffer)
}

/// An argument that is a file, `-` (standard input, also when absent) or JSON text
/// (recognised by its leading `{`).
pub(crate) fn read_input(arg: Option<&str>, what: &str) -> CliResult<Vec<u8>> {
    match arg {
        None | Some("-") => read_stdin(what),
        Some(text) if text.trim_start().starts_with('{') => Ok(text.as_bytes().to_vec()),
        Some(path) => read_file(Path::new(path)),
    }
}

/// Whether an input argument will read standard input.
pub(crate) fn reads_stdin(arg: Option<&str>) -> bool {
    matches!(arg, None | Some("-"))
}

/// A secret from an environment variable or a file. A single trailing newline of a file is
/// dropped (editors add one).
pub(crate) fn read_secret(
    env: Option<&str>,
    file: Option<&Path>,
    what: &str,
) -> CliResult<Option<Zeroizing<Vec<u8>>>> {
    if let Some(var) = env {
        return match std::env::var_os(var) {
            Some(value) => Ok(Some(Zeroizing::new(value.into_encoded_bytes()))),
            None => Err(CliError::usage(format!(
                "the environment variable {var} (the {what}) is not set; export it first"
            ))),
        };
    }
    if let Some(path) = file {
        let mut bytes = Zeroizing::new(read_file(path)?);
        if bytes.last() == Some(&b'\n') {
            bytes.pop();
            if bytes.last() == Some(&b'\r') {
                bytes.pop();
            }
        }
        return Ok(Some(bytes));
    }
    Ok(None)
}

/// Where the private key and its passphrase come from.
#[derive(Args, Debug)]
pub(crate) struct KeyArgs {
    /// The private key: PEM (PKCS#1 or PKCS#8, encrypted or not) or DER.
    #[arg(long, value_name = "FILE", required_unless_present = "key_env")]
    key: Option<PathBuf>,
    /// Read the private key PEM from this environment variable instead of a file (`\n`
    /// escapes are repaired).
    #[arg(long, value_name = "VAR", conflicts_with = "key")]
    key_env: Option<String>,
    #[command(flatten)]
    passphrase: PassphraseArgs,
}

/// Where a key's passphrase comes from.
#[derive(Args, Debug)]
pub(crate) struct PassphraseArgs {
    /// Read the key's passphrase from this environment variable.
    #[arg(long, value_name = "VAR")]
    passphrase_env: Option<String>,
    /// Read the key's passphrase from this file (a trailing newline is ignored).
    #[arg(long, value_name = "FILE", conflicts_with = "passphrase_env")]
    passphrase_file: Option<PathBuf>,
}

impl PassphraseArgs {
    pub(crate) fn read(&self) -> CliResult<Option<Zeroizing<Vec<u8>>>> {
        read_secret(
            self.passphrase_env.as_deref(),
            self.passphrase_file.as_deref(),
            "key passphrase",
        )
    }
}

impl KeyArgs {
    /// The key file's path, when the key comes from a file.
    pub(crate) fn path(&self) -> Option<&Path> {
        self.key.as_deref()
    }

    /// The key's bytes, from the file or the environment variable.
    pub(crate) fn read_bytes(&self) -> CliResult<Zeroizing<Vec<u8>>> {
        match (&self.key, &self.key_env) {
            (Some(path), _) => Ok(Zeroizing::new(read_file(path)?)),
            (None, Some(var)) => match std::env::var_os(var) {
                Some(value) => Ok(Zeroizing::new(value.into_encoded_bytes())),
                None => Err(CliError::usage(format!(
                    "the environment variable {var} (the private key) is not set"
                ))),
            },
            (None, None) => Err(CliError::usage("give the private key with --key FILE")),
        }
    }

    /// Loads the private key.
    pub(crate) fn load(&self) -> CliResult<FlowPrivateKey> {
        let bytes = self.read_bytes()?;
        let passphrase = self.passphrase.read()?;
        FlowPrivateKey::from_pem(bytes.as_slice(), passphrase.as_ref().map(|p| p.as_slice()))
            .map_err(|err| {
                let needs_passphrase = matches!(
                    err,
                    wa_flows_crypto::Error::InvalidKey(
                        KeyError::PassphraseRequired | KeyError::WrongPassphrase
                    )
                );
                let mut cli = CliError::from(err);
                if needs_passphrase {
                    cli = cli
                        .with_hint("pass it with --passphrase-env VAR or --passphrase-file FILE");
                }
                cli
            })
    }
}

/// Where an app secret comes from.
#[derive(Args, Debug)]
pub(crate) struct AppSecretArgs {
    /// Read the Meta app secret from this environment variable.
    #[arg(long, value_name = "VAR")]
    pub(crate) app_secret_env: Option<String>,
    /// Read the Meta app secret from this file (a trailing newline is ignored).
    #[arg(long, value_name = "FILE", conflicts_with = "app_secret_env")]
    pub(crate) app_secret_file: Option<PathBuf>,
}

impl AppSecretArgs {
    pub(crate) fn read(&self) -> CliResult<Option<Zeroizing<Vec<u8>>>> {
        read_secret(
            self.app_secret_env.as_deref(),
            self.app_secret_file.as_deref(),
            "app secret",
        )
    }
}

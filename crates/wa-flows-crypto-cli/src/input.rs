//! Where inputs come from: files, standard input, JSON text on the command line, and secrets
//! from files or environment variables (never from argv).

use std::io::{IsTerminal, Read};
use std::path::{Path, PathBuf};

use clap::Args;
use wa_flows_crypto::{FlowKeyRing, FlowPrivateKey, KeyError};
use zeroize::Zeroizing;

use crate::error::{CliError, CliResult};

/// The most any one input may hold, so that `/dev/zero` or a wrong path to a disk image is an
/// error instead of all the memory. Each is far above what the input ever is in practice.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Limit {
    /// A private or public key file: an 8192-bit PEM is under 7 KiB.
    Key,
    /// A passphrase or app secret file.
    Secret,
    /// `encryption_metadata` JSON, or a whole PhotoPicker entry holding it.
    Metadata,
    /// A request body or an encrypted response: a Flow request is kilobytes.
    Body,
}

impl Limit {
    /// The cap in bytes; the CLI's help text states the same figures.
    pub(crate) const fn bytes(self) -> u64 {
        match self {
            Limit::Key => 64 * 1024,
            Limit::Secret => 4 * 1024,
            Limit::Metadata => 64 * 1024,
            Limit::Body => 16 * 1024 * 1024,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Limit::Key => "64 KiB",
            Limit::Secret => "4 KiB",
            Limit::Metadata => "64 KiB",
            Limit::Body => "16 MiB",
        }
    }
}

/// Reads all of `reader`, refusing more than `limit` bytes without reading past it.
fn read_bounded(reader: impl Read, limit: Limit, source: &Path) -> CliResult<Vec<u8>> {
    let mut buffer = Vec::new();
    reader
        .take(limit.bytes() + 1)
        .read_to_end(&mut buffer)
        .map_err(|err| CliError::io("read", source, &err))?;
    if buffer.len() as u64 > limit.bytes() {
        return Err(CliError::new(
            "too_large",
            format!(
                "{} holds more than {}, more than this input can be; check the path",
                source.display(),
                limit.name()
            ),
        ));
    }
    Ok(buffer)
}

/// Reads a whole file of at most `limit` bytes.
pub(crate) fn read_file(path: &Path, limit: Limit) -> CliResult<Vec<u8>> {
    let file = std::fs::File::open(path).map_err(|err| CliError::io("read", path, &err))?;
    read_bounded(file, limit, path)
}

/// Reads standard input to the end (at most `limit` bytes); refuses to wait on a terminal.
pub(crate) fn read_stdin(what: &str, limit: Limit) -> CliResult<Vec<u8>> {
    let stdin = std::io::stdin();
    if stdin.is_terminal() {
        return Err(CliError::usage(format!(
            "no {what} given: pass a file, JSON text, or pipe it into standard input (`-`)"
        )));
    }
    read_bounded(stdin.lock(), limit, Path::new("standard input"))
}

/// An argument that is a file, `-` (standard input, also when absent) or JSON text
/// (recognised by its leading `{`).
pub(crate) fn read_input(arg: Option<&str>, what: &str, limit: Limit) -> CliResult<Vec<u8>> {
    match arg {
        None | Some("-") => read_stdin(what, limit),
        Some(text) if text.trim_start().starts_with('{') => Ok(text.as_bytes().to_vec()),
        Some(path) => read_file(Path::new(path), limit),
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
        let mut bytes = Zeroizing::new(read_file(path, Limit::Secret)?);
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
    /// The private key: PEM (PKCS#1 or PKCS#8, encrypted or not) or DER. decrypt-request
    /// takes it more than once, newest first, while a key is being rotated out.
    #[arg(long, value_name = "FILE", required_unless_present = "key_env")]
    key: Vec<PathBuf>,
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
        self.key.first().map(PathBuf::as_path)
    }

    /// The key's bytes, from the file or the environment variable.
    pub(crate) fn read_bytes(&self) -> CliResult<Zeroizing<Vec<u8>>> {
        match (self.key.as_slice(), &self.key_env) {
            ([path], _) => Ok(Zeroizing::new(read_file(path, Limit::Key)?)),
            ([_, _, ..], _) => Err(CliError::usage(
                "this command takes one --key; only decrypt-request takes several",
            )),
            ([], Some(var)) => match std::env::var_os(var) {
                Some(value) => Ok(Zeroizing::new(value.into_encoded_bytes())),
                None => Err(CliError::usage(format!(
                    "the environment variable {var} (the private key) is not set"
                ))),
            },
            ([], None) => Err(CliError::usage("give the private key with --key FILE")),
        }
    }

    /// Loads every `--key` (newest first) into a ring; the passphrase serves each.
    pub(crate) fn load_ring(&self) -> CliResult<FlowKeyRing> {
        if self.key.len() < 2 {
            return Ok(FlowKeyRing::from(self.load()?));
        }
        let passphrase = self.passphrase.read()?;
        let keys = self
            .key
            .iter()
            .map(|path| {
                let bytes = Zeroizing::new(read_file(path, Limit::Key)?);
                Self::parse(&bytes, passphrase.as_ref().map(|p| p.as_slice()))
                    .map_err(|err| err.with_hint(&format!("in {}", path.display())))
            })
            .collect::<CliResult<Vec<_>>>()?;
        Ok(FlowKeyRing::new(keys)?)
    }

    /// Loads the private key.
    pub(crate) fn load(&self) -> CliResult<FlowPrivateKey> {
        let bytes = self.read_bytes()?;
        let passphrase = self.passphrase.read()?;
        Self::parse(&bytes, passphrase.as_ref().map(|p| p.as_slice()))
    }

    fn parse(bytes: &[u8], passphrase: Option<&[u8]>) -> CliResult<FlowPrivateKey> {
        FlowPrivateKey::from_pem(bytes, passphrase).map_err(|err| {
            let needs_passphrase = matches!(
                err,
                wa_flows_crypto::Error::InvalidKey(
                    KeyError::PassphraseRequired | KeyError::WrongPassphrase
                )
            );
            let mut cli = CliError::from(err);
            if needs_passphrase {
                cli = cli.with_hint("pass it with --passphrase-env VAR or --passphrase-file FILE");
            }
            cli
        })
    }
}

/// Where the app secrets come from. Each option may be repeated, newest first, while a reset
/// app secret is being rotated out; every one of them is accepted.
#[derive(Args, Debug)]
pub(crate) struct AppSecretArgs {
    /// Read the Meta app secret from this environment variable (repeatable, newest first).
    #[arg(long, value_name = "VAR")]
    pub(crate) app_secret_env: Vec<String>,
    /// Read the Meta app secret from this file, a trailing newline ignored (repeatable).
    #[arg(long, value_name = "FILE")]
    pub(crate) app_secret_file: Vec<PathBuf>,
}

impl AppSecretArgs {
    /// Every app secret named, environment variables first. A named but empty one is refused
    /// here already, by the core's own check, because the core refuses to verify with it.
    pub(crate) fn read_all(&self) -> CliResult<Vec<Zeroizing<Vec<u8>>>> {
        let from_env = self
            .app_secret_env
            .iter()
            .map(|var| read_secret(Some(var), None, "app secret"));
        let from_files = self
            .app_secret_file
            .iter()
            .map(|path| read_secret(None, Some(path), "app secret"));
        let secrets: Vec<_> = from_env
            .chain(from_files)
            .filter_map(Result::transpose)
            .collect::<CliResult<_>>()?;
        let views: Vec<&[u8]> = secrets.iter().map(|s| s.as_slice()).collect();
        if !views.is_empty() {
            wa_flows_crypto::signature::check_app_secrets(&views)?;
        }
        Ok(secrets)
    }
}

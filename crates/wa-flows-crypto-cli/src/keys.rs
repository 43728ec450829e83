//! keygen, public-key, inspect-key.

use std::fmt::Write as _;
use std::fs::OpenOptions;
use std::io::{IsTerminal, Write};
use std::path::Path;
use std::time::Instant;

use clap::ValueEnum;
use wa_flows_crypto::{FlowPrivateKey, FlowPublicKey};

use crate::error::{CliError, CliResult};
use crate::input::{KeyArgs, PassphraseArgs};

/// The key size WhatsApp Flows expects.
const EXPECTED_BITS: usize = 2048;

/// `keygen`: writes `private.pem` (0600) and `public.pem` into `dir`, refusing to overwrite.
pub(crate) fn keygen(dir: &Path, bits: usize, passphrase: &PassphraseArgs) -> CliResult {
    let passphrase = passphrase.read()?;
    if passphrase.as_ref().is_some_and(|p| p.is_empty()) {
        return Err(CliError::usage(
            "the passphrase is empty: set it, or leave out --passphrase-env/--passphrase-file              to write an unencrypted key",
        ));
    }
    let passphrase = passphrase.as_ref();
    let private_path = dir.join("private.pem");
    let public_path = dir.join("public.pem");
    for path in [&private_path, &public_path] {
        if path.exists() {
            return Err(CliError::new(
                "exists",
                format!(
                    "{} already exists; keygen never overwrites a key: choose another --out \
                     directory or move the old key away first",
                    path.display()
                ),
            ));
        }
    }
    std::fs::create_dir_all(dir).map_err(|err| CliError::io("create the directory", dir, &err))?;

    let started = Instant::now();
    let key = FlowPrivateKey::generate_with_bits(bits)?;
    let took = started.elapsed();
    let private_pem = key.private_key_pem(passphrase.map(|p| p.as_slice()))?;

    write_new(&private_path, private_pem.as_bytes(), 0o600)?;
    if let Err(err) = write_new(&public_path, key.public_key_pem().as_bytes(), 0o644) {
        // Do not leave half a key pair behind.
        let _ = std::fs::remove_file(&private_path);
        return Err(err);
    }

    let protection = if passphrase.is_some() {
        "PKCS#8, encrypted with your passphrase (PBES2, AES-256-CBC)"
    } else {
        "PKCS#8, NOT encrypted: keep the file private"
    };
    let private_shown = private_path.display();
    let public_shown = public_path.display();
    let mut out = String::new();
    let _ = writeln!(
        out,
        "wrote {private_shown} ({bits}-bit RSA private key, {protection}; mode 0600)"
    );
    let _ = writeln!(out, "wrote {public_shown} (the public key to upload)");
    let _ = writeln!(
        out,
        "fingerprint (SHA-256 of the public key): {}",
        key.public_key_fingerprint()
    );
    let _ = writeln!(out, "generated in {} ms", took.as_millis());
    let _ = writeln!(out);
    let _ = writeln!(out, "next:");
    let _ = writeln!(
        out,
        "  1. give {private_shown} to your endpoint (a file or an environment variable); never \
         commit it"
    );
    let _ = writeln!(
        out,
        "  2. upload the public key: wa-flows-crypto public-key --key {private_shown} --format \
         meta   (or gupshup, woztell, json, pem)"
    );
    let _ = writeln!(
        out,
        "  3. check the running endpoint: wa-flows-crypto check-endpoint https://your.host/flows \
         --public-key {public_shown}"
    );
    print!("{out}");
    Ok(())
}

/// Creates `path` (which must not exist) with `mode` on Unix and writes `bytes`.
fn write_new(path: &Path, bytes: &[u8], mode: u32) -> CliResult {
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(mode);
    }
    #[cfg(not(unix))]
    let _ = mode;
    let mut file = options.open(path).map_err(|err| {
        if err.kind() == std::io::ErrorKind::AlreadyExists {
            CliError::new(
                "exists",
                format!(
                    "{} already exists; refusing to overwrite it",
                    path.display()
                ),
            )
        } else {
            CliError::io("create", path, &err)
        }
    })?;
    file.write_all(bytes)
        .and_then(|()| file.sync_all())
        .map_err(|err| CliError::io("write", path, &err))
}

/// The upload forms of a public key.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub(crate) enum PublicKeyFormat {
    /// SPKI PEM (`-----BEGIN PUBLIC KEY-----`).
    Pem,
    /// The PEM as one JSON string with `\n` escapes.
    Json,
    /// The form-encoded body for Meta's Graph API: `business_public_key=…`.
    Meta,
    /// The JSON body for Gupshup's set-public-key API: `{"public_key": …}`.
    Gupshup,
    /// The JSON body for Woztell's business encryption API: `{"publicKey": …}`.
    Woztell,
}

/// A private key, or a public key when that is all the file holds.
enum AnyKey {
    Private(Box<FlowPrivateKey>),
    Public(FlowPublicKey),
}

impl AnyKey {
    fn load(args: &KeyArgs) -> CliResult<Self> {
        match args.load() {
            Ok(key) => Ok(AnyKey::Private(Box::new(key))),
            Err(err) if err.code() == "invalid_key" => {
                // A public key is enough for public-key and inspect-key.
                let bytes = args.read_bytes()?;
                match FlowPublicKey::from_pem(bytes.as_slice()) {
                    Ok(public) => Ok(AnyKey::Public(public)),
                    Err(_) => Err(err),
                }
            }
            Err(err) => Err(err),
        }
    }

    fn public_pem(&self) -> String {
        match self {
            AnyKey::Private(key) => key.public_key_pem(),
            AnyKey::Public(key) => key.to_pem(),
        }
    }

    fn fingerprint(&self) -> String {
        match self {
            AnyKey::Private(key) => key.public_key_fingerprint(),
            AnyKey::Public(key) => key.fingerprint(),
        }
    }
}

/// `public-key`: the upload body on stdout, the fingerprint on stderr.
pub(crate) fn public_key(args: &KeyArgs, format: PublicKeyFormat) -> CliResult {
    let key = AnyKey::load(args)?;
    let pem = key.public_pem();
    let body = render_public_key(&pem, format)?;
    let mut stdout = std::io::stdout().lock();
    let terminal = stdout.is_terminal();
    stdout
        .write_all(body.as_bytes())
        .and_then(|()| {
            if terminal && !body.ends_with('\n') {
                stdout.write_all(b"\n")
            } else {
                Ok(())
            }
        })
        .and_then(|()| stdout.flush())
        .map_err(|err| CliError::io("write", Path::new("standard output"), &err))?;
    eprintln!(
        "fingerprint (SHA-256 of the public key DER): {}",
        key.fingerprint()
    );
    match format {
        PublicKeyFormat::Meta => eprintln!(
            "upload: save this body to body.txt, then\n  curl -X POST \
             \"https://graph.facebook.com/v21.0/$PHONE_NUMBER_ID/whatsapp_business_encryption\" \
             -H \"Authorization: Bearer $ACCESS_TOKEN\" --data-binary @body.txt"
        ),
        PublicKeyFormat::Gupshup => {
            eprintln!("upload: send this JSON body to Gupshup's set-public-key API")
        }
        PublicKeyFormat::Woztell => {
            eprintln!("upload: send this JSON body to Woztell's business encryption API")
        }
        PublicKeyFormat::Pem | PublicKeyFormat::Json => {}
    }
    Ok(())
}

/// The public key PEM in the requested form (no trailing newline except PEM's own).
pub(crate) fn render_public_key(pem: &str, format: PublicKeyFormat) -> CliResult<String> {
    let json = |value: serde_json::Value| {
        serde_json::to_string(&value)
            .map_err(|err| CliError::new("io", format!("cannot encode JSON: {err}")))
    };
    match format {
        PublicKeyFormat::Pem => Ok(pem.to_owned()),
        PublicKeyFormat::Json => json(serde_json::Value::String(pem.to_owned())),
        PublicKeyFormat::Meta => Ok(format!("business_public_key={}", form_urlencode(pem))),
        PublicKeyFormat::Gupshup => json(serde_json::json!({ "public_key": pem })),
        PublicKeyFormat::Woztell => json(serde_json::json!({ "publicKey": pem })),
    }
}

/// `application/x-www-form-urlencoded` encoding of one value (WHATWG byte serializer).
fn form_urlencode(value: &str) -> String {
    let mut out = String::with_capacity(value.len() * 3 / 2);
    for &byte in value.as_bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'*' | b'-' | b'.' | b'_' => {
                out.push(char::from(byte));
            }
            b' ' => out.push('+'),
            _ => {
                let _ = write!(out, "%{byte:02X}");
            }
        }
    }
    out
}

/// `inspect-key`: what the key is, and whether it suits WhatsApp Flows.
pub(crate) fn inspect_key(args: &KeyArgs) -> CliResult {
    let key = AnyKey::load(args)?;
    let mut out = String::new();
    let mut advice = Vec::new();
    match &key {
        AnyKey::Private(private) => {
            let source = private.source();
            let _ = writeln!(out, "kind:         RSA private key");
            let _ = writeln!(out, "format:       {}", source.description());
            let _ = writeln!(
                out,
                "encrypted:    {}",
                if source.is_encrypted() { "yes" } else { "no" }
            );
            let _ = writeln!(out, "bits:         {}", private.bits());
            let _ = writeln!(out, "fingerprint:  {}", private.public_key_fingerprint());
            let _ = writeln!(out, "rsa engine:   {}", private.engine().name());
            if private.bits() != EXPECTED_BITS {
                advice.push(format!(
                    "this is a {}-bit key; WhatsApp Flows expects 2048 bits (larger keys make \
                     every request slower and some providers refuse them): generate one with \
                     `wa-flows-crypto keygen --out DIR`",
                    private.bits()
                ));
            }
            if !source.is_encrypted()
                && let Some(path) = args.path()
                && let Some(note) = loose_permissions(path)
            {
                advice.push(note);
            }
        }
        AnyKey::Public(public) => {
            let _ = writeln!(out, "kind:         RSA public key (SPKI)");
            let _ = writeln!(out, "fingerprint:  {}", public.fingerprint());
            advice.push(
                "this is a public key: upload it to your provider; the endpoint needs the \
                 private key it was derived from"
                    .to_owned(),
            );
        }
    }
    if advice.is_empty() {
        let _ = writeln!(out, "verdict:      OK for WhatsApp Flows");
    } else {
        for line in advice {
            let _ = writeln!(out, "advice:       {line}");
        }
    }
    print!("{out}");
    Ok(())
}

/// A warning when an unencrypted private key file is readable by others.
#[cfg(unix)]
fn loose_permissions(path: &Path) -> Option<String> {
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(path).ok()?.permissions().mode();
    (mode & 0o077 != 0).then(|| {
        format!(
            "the unencrypted key file is readable by other users (mode {:o}): chmod 600 {}",
            mode & 0o777,
            path.display()
        )
    })
}

#[cfg(not(unix))]
fn loose_permissions(_path: &Path) -> Option<String> {
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn form_encoding_escapes_pem_characters() {
        assert_eq!(
            form_urlencode("-----BEGIN PUBLIC KEY-----\nab+/=\n"),
            "-----BEGIN+PUBLIC+KEY-----%0Aab%2B%2F%3D%0A"
        );
    }
}

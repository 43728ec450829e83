//! Start-up configuration from the environment, as Meta's own sample endpoint reads it.
//!
//! | variable | meaning |
//! |---|---|
//! | `PRIVATE_KEY` | the private key's PEM text (`\n` escapes, CRLF and quotes are repaired) |
//! | `PRIVATE_KEY_FILE` | or the path of a key file: PEM or DER, PKCS#1 or PKCS#8 |
//! | `PASSPHRASE` | the key's passphrase, if it is encrypted |
//! | `APP_SECRET` | the Meta app secret; when set, `X-Hub-Signature-256` is required |
//! | `PORT` | the TCP port (default 3000; 0 picks a free one) |
//! | `HOST` | the address to listen on (default `0.0.0.0`) |
//! | `MEDIA_ALLOW_HTTP` | `1` to accept `http://` `cdn_url`s (local tests only; default `0`) |
//!
//! Empty variables count as unset. Every problem is reported with the variable's name, and
//! nothing is ever printed of a key, a passphrase or a secret.

use std::ffi::OsString;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use wa_flows_crypto::FlowPrivateKey;
use zeroize::Zeroizing;

use crate::app::{MediaOptions, Settings};

/// The port Meta's sample endpoint uses.
const DEFAULT_PORT: u16 = 3000;

/// What `main` needs to start.
pub(crate) struct StartUp {
    pub(crate) settings: Settings,
    pub(crate) address: SocketAddr,
}

/// Reads and checks the whole configuration, parsing the key once.
///
/// # Errors
/// A message naming the variable at fault and what to do about it.
pub(crate) fn from_env() -> Result<StartUp, String> {
    let key = read_key()?;
    let app_secret = var_bytes("APP_SECRET");
    if app_secret.is_none() {
        eprintln!(
            "flow endpoint: warning: APP_SECRET is not set, so requests are not authenticated: \
             anyone with your public key can call this endpoint"
        );
    }
    let port = match var_text("PORT")? {
        None => DEFAULT_PORT,
        Some(port) => port
            .trim()
            .parse()
            .map_err(|_| format!("PORT={port:?} is not a port number (0 to 65535)"))?,
    };
    let host = match var_text("HOST")? {
        None => IpAddr::V4(Ipv4Addr::UNSPECIFIED),
        Some(host) => host
            .trim()
            .parse()
            .map_err(|_| format!("HOST={host:?} is not an IP address (e.g. 0.0.0.0 or ::1)"))?,
    };
    let allow_http = match var_text("MEDIA_ALLOW_HTTP")?.as_deref().map(str::trim) {
        None | Some("0" | "false") => false,
        Some("1" | "true") => true,
        Some(other) => return Err(format!("MEDIA_ALLOW_HTTP={other:?} is not 0 or 1")),
    };
    Ok(StartUp {
        settings: Settings {
            key,
            app_secret,
            media: MediaOptions { allow_http },
        },
        address: SocketAddr::new(host, port),
    })
}

/// `PRIVATE_KEY` or `PRIVATE_KEY_FILE`, with `PASSPHRASE`.
fn read_key() -> Result<FlowPrivateKey, String> {
    let passphrase = var_bytes("PASSPHRASE");
    let (source, bytes) = match (var_bytes("PRIVATE_KEY"), var_text("PRIVATE_KEY_FILE")?) {
        (Some(_), Some(_)) => {
            return Err("set PRIVATE_KEY or PRIVATE_KEY_FILE, not both".to_owned());
        }
        (None, None) => {
            return Err("no private key: set PRIVATE_KEY to the key's PEM text, or \
                        PRIVATE_KEY_FILE to the path of the key file (make one with \
                        `wa-flows-crypto keygen --out keys/`, then upload keys/public.pem)"
                .to_owned());
        }
        (Some(pem), None) => ("PRIVATE_KEY".to_owned(), pem),
        (None, Some(path)) => {
            let bytes = std::fs::read(&path)
                .map_err(|error| format!("PRIVATE_KEY_FILE={path:?} cannot be read: {error}"))?;
            (format!("PRIVATE_KEY_FILE={path:?}"), Zeroizing::new(bytes))
        }
    };
    FlowPrivateKey::from_pem(bytes.as_slice(), passphrase.as_ref().map(|p| p.as_slice()))
        .map_err(|error| format!("{source}: {error} ({})", error.code()))
}

/// A variable's bytes, wiped when dropped; `None` when unset or empty.
fn var_bytes(name: &str) -> Option<Zeroizing<Vec<u8>>> {
    std::env::var_os(name)
        .map(|value| Zeroizing::new(OsString::into_encoded_bytes(value)))
        .filter(|value| !value.is_empty())
}

/// A variable that must be text; `None` when unset or empty.
fn var_text(name: &str) -> Result<Option<String>, String> {
    match std::env::var_os(name) {
        None => Ok(None),
        Some(value) if value.is_empty() => Ok(None),
        Some(value) => value
            .into_string()
            .map(Some)
            .map_err(|_| format!("{name} is not valid UTF-8")),
    }
}

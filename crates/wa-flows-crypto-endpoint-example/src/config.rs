//! Start-up configuration from the environment, as Meta's own sample endpoint reads it.
//!
//! | variable | meaning |
//! |---|---|
//! | `PRIVATE_KEY` | the private key's PEM text (`\n` escapes, CRLF and quotes are repaired) |
//! | `PRIVATE_KEY_FILE` | or the path of a key file: PEM or DER, PKCS#1 or PKCS#8 |
//! | `PASSPHRASE` | the key's passphrase, if it is encrypted |
//! | `PREVIOUS_PRIVATE_KEY`, `PREVIOUS_PRIVATE_KEY_FILE`, `PREVIOUS_PASSPHRASE` | the key being rotated out, tried second |
//! | `APP_SECRET` | the Meta app secret; when set, `X-Hub-Signature-256` is required |
//! | `PREVIOUS_APP_SECRET` | the app secret being rotated out, also accepted |
//! | `FLOW_TOKEN_SIGNATURE` | `if_present` (default), `required` or `off` |
//! | `PORT` | the TCP port (default 3000; 0 picks a free one) |
//! | `HOST` | the address to listen on (default `0.0.0.0`) |
//! | `MEDIA_ALLOW_HTTP` | `1` to accept `http://` `cdn_url`s (local tests only; default `0`) |
//!
//! Empty variables count as unset, except the app secrets: a set but empty `APP_SECRET` is a
//! configuration error, because it would leave the endpoint open to forged requests. Every
//! problem is reported with the variable's name, and nothing is ever printed of a key, a
//! passphrase or a secret.

use std::ffi::OsString;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use wa_flows_crypto::{FlowKeyRing, FlowPrivateKey, FlowTokenSignaturePolicy};
use zeroize::Zeroizing;

use crate::app::Settings;
use crate::media::MediaOptions;

/// The port Meta's sample endpoint uses.
const DEFAULT_PORT: u16 = 3000;

/// What `main` needs to start.
pub struct StartUp {
    /// The endpoint's configuration.
    pub settings: Settings,
    /// Where to listen.
    pub address: SocketAddr,
}

/// Reads and checks the whole configuration, parsing the key once.
///
/// # Errors
/// A message naming the variable at fault and what to do about it.
pub fn from_env() -> Result<StartUp, String> {
    let mut keys = vec![read_key("")?];
    if has_key("PREVIOUS_") {
        keys.push(read_key("PREVIOUS_")?);
    }
    let keys = FlowKeyRing::new(keys).map_err(|error| error.to_string())?;
    let mut app_secrets = Vec::new();
    for name in ["APP_SECRET", "PREVIOUS_APP_SECRET"] {
        match std::env::var_os(name) {
            None => {}
            Some(value) if value.is_empty() => {
                return Err(format!(
                    "{name} is set but empty: set it to the Meta app secret, or unset it"
                ));
            }
            Some(value) => app_secrets.push(Zeroizing::new(value.into_encoded_bytes())),
        }
    }
    if app_secrets.len() == 1 && std::env::var_os("APP_SECRET").is_none() {
        return Err("PREVIOUS_APP_SECRET is set without APP_SECRET".to_owned());
    }
    let flow_token_signature = match var_text("FLOW_TOKEN_SIGNATURE")? {
        None => FlowTokenSignaturePolicy::default(),
        Some(name) => FlowTokenSignaturePolicy::from_name(name.trim()).ok_or_else(|| {
            format!("FLOW_TOKEN_SIGNATURE={name:?} is not if_present, required or off")
        })?,
    };
    if app_secrets.is_empty() {
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
            keys,
            app_secrets,
            flow_token_signature,
            media: MediaOptions { allow_http },
        },
        address: SocketAddr::new(host, port),
    })
}

/// Whether `{prefix}PRIVATE_KEY` or `{prefix}PRIVATE_KEY_FILE` is set.
fn has_key(prefix: &str) -> bool {
    var_bytes(&format!("{prefix}PRIVATE_KEY")).is_some()
        || var_bytes(&format!("{prefix}PRIVATE_KEY_FILE")).is_some()
}

/// `{prefix}PRIVATE_KEY` or `{prefix}PRIVATE_KEY_FILE`, with `{prefix}PASSPHRASE`.
fn read_key(prefix: &str) -> Result<FlowPrivateKey, String> {
    let (pem_var, file_var) = (
        format!("{prefix}PRIVATE_KEY"),
        format!("{prefix}PRIVATE_KEY_FILE"),
    );
    let passphrase = var_bytes(&format!("{prefix}PASSPHRASE"));
    let (source, bytes) = match (var_bytes(&pem_var), var_text(&file_var)?) {
        (Some(_), Some(_)) => {
            return Err(format!("set {pem_var} or {file_var}, not both"));
        }
        (None, None) => {
            return Err("no private key: set PRIVATE_KEY to the key's PEM text, or \
                        PRIVATE_KEY_FILE to the path of the key file (make one with \
                        `wa-flows-crypto keygen --out keys/`, then upload keys/public.pem)"
                .to_owned());
        }
        (Some(pem), None) => (pem_var, pem),
        (None, Some(path)) => {
            let bytes = std::fs::read(&path)
                .map_err(|error| format!("{file_var}={path:?} cannot be read: {error}"))?;
            (format!("{file_var}={path:?}"), Zeroizing::new(bytes))
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

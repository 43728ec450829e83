//! The gateway's configuration: flags for what is not secret, the environment for what is.
//!
//! | variable | meaning |
//! |---|---|
//! | `PRIVATE_KEY` | the private key's PEM text (`\n` escapes, CRLF and quotes are repaired by the core) |
//! | `PRIVATE_KEY_FILE` | or the path of a key file: PEM or DER, PKCS#1 or PKCS#8 |
//! | `PASSPHRASE` | the key's passphrase, if it is encrypted |
//! | `PREVIOUS_PRIVATE_KEY` / `PREVIOUS_PRIVATE_KEY_FILE` | the key being rotated out, still accepted |
//! | `PREVIOUS_PASSPHRASE` | its passphrase |
//! | `APP_SECRET` | the Meta app secret: `X-Hub-Signature-256` is then required |
//! | `PREVIOUS_APP_SECRET` | the app secret being rotated out, still accepted |
//! | `FLOW_TOKEN_SIGNATURE` | `if_present` (default), `required` or `off` |
//! | `UPSTREAM_SECRET` | when set, every call to the upstream carries `X-Gateway-Signature-256` |
//!
//! A variable that is set must not be empty: an empty `APP_SECRET` is almost always a
//! deployment mistake (a missing secret in a template), and it would otherwise switch the
//! signature check off silently. Nothing of a key, a passphrase or a secret is ever logged or
//! put in an error message.

use std::ffi::OsString;
use std::fmt;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use wa_flows_crypto::{FlowPrivateKey, FlowTokenSignaturePolicy};
use zeroize::Zeroizing;

/// WhatsApp waits 10 seconds for an answer; the default deadline leaves it 2.
pub const DEFAULT_DEADLINE: Duration = Duration::from_secs(8);
/// The largest request body read. WhatsApp's requests are a few KiB (about 1 KiB more per
/// uploaded file).
pub const DEFAULT_MAX_BODY_BYTES: usize = 1024 * 1024;
/// The largest upstream answer read.
pub const DEFAULT_MAX_UPSTREAM_RESPONSE_BYTES: usize = 1024 * 1024;
/// Requests handled at once; more wait for a turn (within the deadline).
pub const DEFAULT_MAX_CONCURRENCY: usize = 128;
/// WhatsApp limits uploads to 25 MiB; the CDN file adds at most one block of padding and the
/// 10-byte MAC.
pub const DEFAULT_MAX_MEDIA_BYTES: u64 = 25 * 1024 * 1024 + 16 + 10;
/// How often a key file that cannot be loaded is tried again.
pub const DEFAULT_KEY_RETRY: Duration = Duration::from_secs(5);

/// A configuration problem, found before anything listens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError(pub String);

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ConfigError {}

/// Where a private key comes from.
#[derive(Clone)]
pub enum KeySource {
    /// PEM text from a variable (named for messages).
    Pem {
        /// The variable's name, for messages.
        variable: &'static str,
        /// The PEM text, wiped when dropped.
        pem: Zeroizing<Vec<u8>>,
    },
    /// A key file, read at start-up and, while it cannot be loaded, again every few seconds
    /// (a secret volume mounted after the container started).
    File {
        /// The variable's name, for messages.
        variable: &'static str,
        /// The path.
        path: PathBuf,
    },
}

/// A private key to load, with its passphrase.
#[derive(Clone)]
pub struct KeySpec {
    /// Where the key comes from.
    pub source: KeySource,
    /// Its passphrase, if encrypted.
    pub passphrase: Option<Zeroizing<Vec<u8>>>,
}

impl fmt::Debug for KeySpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let source = match &self.source {
            KeySource::Pem { variable, .. } => format!("{variable} (PEM text)"),
            KeySource::File { variable, path } => format!("{variable}={}", path.display()),
        };
        f.debug_struct("KeySpec")
            .field("source", &source)
            .field(
                "passphrase",
                &self.passphrase.as_ref().map(|_| "<redacted>"),
            )
            .finish()
    }
}

/// Why a key could not be loaded.
#[derive(Debug, Clone)]
pub struct KeyLoadError {
    /// A message naming the variable (never the key).
    pub message: String,
    /// Whether trying again later may succeed: a key file may appear or be completed; PEM text
    /// in a variable cannot change.
    pub retryable: bool,
}

impl KeySpec {
    /// A key given as PEM text in `variable`.
    pub fn pem(variable: &'static str, pem: impl Into<Vec<u8>>) -> Self {
        Self {
            source: KeySource::Pem {
                variable,
                pem: Zeroizing::new(pem.into()),
            },
            passphrase: None,
        }
    }

    /// A key file named by `variable`.
    pub fn file(variable: &'static str, path: impl Into<PathBuf>) -> Self {
        Self {
            source: KeySource::File {
                variable,
                path: path.into(),
            },
            passphrase: None,
        }
    }

    /// Reads and parses the key (the parse is the core's: PEM or DER, PKCS#1 or PKCS#8,
    /// encrypted or not).
    ///
    /// # Errors
    /// A message naming the variable and the core's error code.
    pub fn load(&self) -> Result<FlowPrivateKey, KeyLoadError> {
        let passphrase = self.passphrase.as_ref().map(|p| p.as_slice());
        let (what, bytes, retryable) = match &self.source {
            KeySource::Pem { variable, pem } => ((*variable).to_owned(), pem.clone(), false),
            KeySource::File { variable, path } => {
                let what = format!("{variable}={}", path.display());
                let bytes = std::fs::read(path).map_err(|error| KeyLoadError {
                    message: format!("{what} cannot be read: {error}"),
                    retryable: true,
                })?;
                (what, Zeroizing::new(bytes), true)
            }
        };
        FlowPrivateKey::from_pem(bytes.as_slice(), passphrase).map_err(|error| KeyLoadError {
            message: format!("{what}: {error} ({})", error.code()),
            retryable,
        })
    }
}

/// Media handling for PhotoPicker / DocumentPicker uploads.
#[derive(Clone, Debug)]
pub struct MediaConfig {
    /// Where verified files are written (created if missing).
    pub dir: PathBuf,
    /// Accept `http://` `cdn_url`s: for tests against a fake CDN on loopback only.
    pub allow_http: bool,
    /// The largest CDN file downloaded.
    pub max_bytes: u64,
}

/// Everything the gateway needs, checked before anything listens.
#[derive(Clone)]
pub struct Config {
    /// Where WhatsApp's calls arrive.
    pub listen: SocketAddr,
    /// Where Prometheus scrapes `/metrics`; `None` for no metrics listener.
    pub metrics_listen: Option<SocketAddr>,
    /// The URL every decrypted request is POSTed to.
    pub upstream: String,
    /// The time from a request's arrival to its answer, media and upstream included.
    pub deadline: Duration,
    /// The largest request body read (413 above it).
    pub max_body_bytes: usize,
    /// The largest upstream answer read (500 above it).
    pub max_upstream_response_bytes: usize,
    /// Requests handled at once; more wait for a turn, and get 503 if none comes before the
    /// deadline.
    pub max_concurrency: usize,
    /// The current key.
    pub key: KeySpec,
    /// The previous key, still accepted while WhatsApp moves to the new one.
    pub previous_key: Option<KeySpec>,
    /// App secrets, newest first (empty: signatures are not checked).
    pub app_secrets: Vec<Zeroizing<Vec<u8>>>,
    /// What to do with data API 4.0's `flow_token_signature`.
    pub flow_token_signature: FlowTokenSignaturePolicy,
    /// The secret that signs the gateway's calls to the upstream.
    pub upstream_secret: Option<Zeroizing<Vec<u8>>>,
    /// Send `X-Flow-Token`, `X-Flow-Action` and `X-Flow-Key-Index` to the upstream.
    pub forward_headers: bool,
    /// POST error notifications to the upstream too (the gateway acknowledges them itself).
    pub forward_error_notifications: bool,
    /// Media handling; `None` leaves uploads as WhatsApp sent them.
    pub media: Option<MediaConfig>,
    /// How often a key file that cannot be loaded yet is tried again.
    pub key_retry: Duration,
}

impl Config {
    /// A configuration with the defaults: listening on `listen`, forwarding to `upstream`,
    /// with `key`, no app secret and no options.
    pub fn new(listen: SocketAddr, upstream: impl Into<String>, key: KeySpec) -> Self {
        Self {
            listen,
            metrics_listen: None,
            upstream: upstream.into(),
            deadline: DEFAULT_DEADLINE,
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
            max_upstream_response_bytes: DEFAULT_MAX_UPSTREAM_RESPONSE_BYTES,
            max_concurrency: DEFAULT_MAX_CONCURRENCY,
            key,
            previous_key: None,
            app_secrets: Vec::new(),
            flow_token_signature: FlowTokenSignaturePolicy::IfPresent,
            upstream_secret: None,
            forward_headers: false,
            forward_error_notifications: false,
            media: None,
            key_retry: DEFAULT_KEY_RETRY,
        }
    }
}

impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Config")
            .field("listen", &self.listen)
            .field("metrics_listen", &self.metrics_listen)
            .field("upstream", &"<redacted: may hold a webhook secret>")
            .field("deadline", &self.deadline)
            .field("max_body_bytes", &self.max_body_bytes)
            .field("max_concurrency", &self.max_concurrency)
            .field("key", &self.key)
            .field("previous_key", &self.previous_key)
            .field("app_secrets", &self.app_secrets.len())
            .field("flow_token_signature", &self.flow_token_signature)
            .field("upstream_secret", &self.upstream_secret.is_some())
            .field("forward_headers", &self.forward_headers)
            .field(
                "forward_error_notifications",
                &self.forward_error_notifications,
            )
            .field("media", &self.media)
            .finish()
    }
}

/// The secret part of the configuration, read from the environment.
#[derive(Clone, Debug)]
pub struct EnvSecrets {
    /// The current key.
    pub key: KeySpec,
    /// The previous key.
    pub previous_key: Option<KeySpec>,
    /// App secrets, newest first.
    pub app_secrets: Vec<Zeroizing<Vec<u8>>>,
    /// `FLOW_TOKEN_SIGNATURE`.
    pub flow_token_signature: FlowTokenSignaturePolicy,
    /// `UPSTREAM_SECRET`.
    pub upstream_secret: Option<Zeroizing<Vec<u8>>>,
}

impl EnvSecrets {
    /// Reads the process environment.
    ///
    /// # Errors
    /// As [`from_lookup`](Self::from_lookup).
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| std::env::var_os(name))
    }

    /// Reads the variables through `lookup` (the environment, or a map in tests).
    ///
    /// # Errors
    /// A message naming the variable at fault: no key or two, a set but empty variable, a
    /// `FLOW_TOKEN_SIGNATURE` that is not a policy name, a previous secret without a current one.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<OsString>) -> Result<Self, ConfigError> {
        let bytes = |name: &'static str| -> Result<Option<Zeroizing<Vec<u8>>>, ConfigError> {
            match lookup(name) {
                None => Ok(None),
                Some(value) if value.is_empty() => Err(ConfigError(format!(
                    "{name} is set but empty: give it a value or unset it"
                ))),
                Some(value) => Ok(Some(Zeroizing::new(value.into_encoded_bytes()))),
            }
        };
        let text = |name: &'static str| -> Result<Option<String>, ConfigError> {
            bytes(name)?
                .map(|value| {
                    String::from_utf8(value.to_vec())
                        .map_err(|_| ConfigError(format!("{name} is not valid UTF-8")))
                })
                .transpose()
        };
        let key_spec = |pem_var: &'static str,
                        file_var: &'static str,
                        passphrase_var: &'static str|
         -> Result<Option<KeySpec>, ConfigError> {
            let passphrase = bytes(passphrase_var)?;
            let spec = match (bytes(pem_var)?, text(file_var)?) {
                (Some(_), Some(_)) => {
                    return Err(ConfigError(format!(
                        "set {pem_var} or {file_var}, not both"
                    )));
                }
                (None, None) => {
                    if passphrase.is_some() {
                        return Err(ConfigError(format!(
                            "{passphrase_var} is set but neither {pem_var} nor {file_var} is"
                        )));
                    }
                    return Ok(None);
                }
                (Some(pem), None) => KeySpec::pem(pem_var, pem.to_vec()),
                (None, Some(path)) => KeySpec::file(file_var, path),
            };
            Ok(Some(KeySpec { passphrase, ..spec }))
        };
        let key = key_spec("PRIVATE_KEY", "PRIVATE_KEY_FILE", "PASSPHRASE")?.ok_or_else(|| {
            ConfigError(
                "no private key: set PRIVATE_KEY to the key's PEM text, or PRIVATE_KEY_FILE to \
                 the path of the key file (make one with `wa-flows-crypto keygen --out keys/`, \
                 then upload keys/public.pem)"
                    .to_owned(),
            )
        })?;
        let previous_key = key_spec(
            "PREVIOUS_PRIVATE_KEY",
            "PREVIOUS_PRIVATE_KEY_FILE",
            "PREVIOUS_PASSPHRASE",
        )?;
        let mut app_secrets = Vec::new();
        let app_secret = bytes("APP_SECRET")?;
        let previous_app_secret = bytes("PREVIOUS_APP_SECRET")?;
        match (app_secret, previous_app_secret) {
            (None, Some(_)) => {
                return Err(ConfigError(
                    "PREVIOUS_APP_SECRET is set but APP_SECRET is not".to_owned(),
                ));
            }
            (current, previous) => app_secrets.extend(current.into_iter().chain(previous)),
        }
        let flow_token_signature = match text("FLOW_TOKEN_SIGNATURE")? {
            None => FlowTokenSignaturePolicy::IfPresent,
            Some(name) => FlowTokenSignaturePolicy::from_name(name.trim()).ok_or_else(|| {
                ConfigError(format!(
                    "FLOW_TOKEN_SIGNATURE={name:?} is not if_present, required or off"
                ))
            })?,
        };
        Ok(Self {
            key,
            previous_key,
            app_secrets,
            flow_token_signature,
            upstream_secret: bytes("UPSTREAM_SECRET")?,
        })
    }
}

/// `url` with any `user:password@` replaced by `***@`, for logs and messages.
pub(crate) fn redact_userinfo(url: &str) -> String {
    let (scheme, rest) = url.split_once("://").unwrap_or(("", url));
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(authority_end);
    match authority.rfind('@') {
        Some(at) => {
            let host = authority.get(at + 1..).unwrap_or_default();
            let separator = if scheme.is_empty() { "" } else { "://" };
            format!("{scheme}{separator}***@{host}{tail}")
        }
        None => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn read(vars: &[(&str, &str)]) -> Result<EnvSecrets, ConfigError> {
        let map: HashMap<String, OsString> = vars
            .iter()
            .map(|(k, v)| ((*k).to_owned(), OsString::from(v)))
            .collect();
        EnvSecrets::from_lookup(|name| map.get(name).cloned())
    }

    #[test]
    fn a_set_but_empty_secret_is_refused() {
        for var in [
            "APP_SECRET",
            "PREVIOUS_APP_SECRET",
            "UPSTREAM_SECRET",
            "PASSPHRASE",
        ] {
            let error = read(&[
                ("PRIVATE_KEY_FILE", "/k.pem"),
                ("APP_SECRET", "s"),
                (var, ""),
            ])
            .unwrap_err();
            assert!(
                error.0.contains(var) && error.0.contains("empty"),
                "{error}"
            );
        }
    }

    #[test]
    fn keys_secrets_and_policy_are_read() {
        assert!(read(&[]).unwrap_err().0.contains("no private key"));
        assert!(
            read(&[("PRIVATE_KEY", "x"), ("PRIVATE_KEY_FILE", "y")])
                .unwrap_err()
                .0
                .contains("not both")
        );
        assert!(
            read(&[("PRIVATE_KEY", "x"), ("PREVIOUS_APP_SECRET", "old")])
                .unwrap_err()
                .0
                .contains("APP_SECRET is not")
        );
        assert!(
            read(&[("PRIVATE_KEY", "x"), ("FLOW_TOKEN_SIGNATURE", "maybe")])
                .unwrap_err()
                .0
                .contains("FLOW_TOKEN_SIGNATURE")
        );
        let secrets = read(&[
            ("PRIVATE_KEY_FILE", "/new.pem"),
            ("PREVIOUS_PRIVATE_KEY", "pem"),
            ("PREVIOUS_PASSPHRASE", "pw"),
            ("APP_SECRET", "new"),
            ("PREVIOUS_APP_SECRET", "old"),
            ("FLOW_TOKEN_SIGNATURE", "required"),
        ])
        .unwrap();
        let got: Vec<&[u8]> = secrets.app_secrets.iter().map(|s| s.as_slice()).collect();
        assert_eq!(got, [&b"new"[..], b"old"]);
        assert_eq!(
            secrets.flow_token_signature,
            FlowTokenSignaturePolicy::Required
        );
        assert!(matches!(secrets.key.source, KeySource::File { .. }));
        let previous = secrets.previous_key.unwrap();
        assert!(matches!(previous.source, KeySource::Pem { .. }));
        assert_eq!(previous.passphrase.as_ref().unwrap().as_slice(), b"pw");
        // Debug never shows a secret.
        let debug = format!("{previous:?}");
        assert!(!debug.contains("pw") && !debug.contains("pem\""), "{debug}");
    }

    #[test]
    fn userinfo_is_redacted() {
        assert_eq!(
            redact_userinfo("https://u:p@hook.example/x"),
            "https://***@hook.example/x"
        );
        assert_eq!(redact_userinfo("http://h/a@b"), "http://h/a@b");
    }
}

//! One error type for every operation, with a stable code and a recommended HTTP status.
//!
//! Messages say what went wrong and what to do about it; none of them carries key material,
//! plaintext or anything else taken from the input.

use core::fmt;

/// Everything that can go wrong in this crate.
///
/// Match on [`Error::kind`] (or compare [`Error::code`]) rather than on the variants when the
/// detail does not matter: the variants may gain detail, the kinds and codes never change.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Error {
    /// The input is not what the protocol allows: a missing field, a wrong JSON type, bad
    /// base64, a key, IV or hash of the wrong length, a ciphertext too short to hold its tag.
    /// The text names the field and the rule it broke.
    Malformed(&'static str),
    /// RSA-OAEP-SHA256 could not unwrap the AES key: the request was encrypted for another
    /// public key, or with other padding.
    KeyUnwrap,
    /// AES-128-GCM authentication of the request payload failed: it was altered, or the IV or
    /// the AES key does not belong to it.
    PayloadAuth,
    /// The private key cannot be used.
    InvalidKey(KeyError),
    /// The `X-Hub-Signature-256` header does not authenticate the body.
    InvalidSignature(SignatureError),
    /// Data API 4.0: the request's `flow_token_signature` is present but does not hold.
    InvalidFlowTokenSignature(FlowTokenError),
    /// Media: the SHA-256 of the CDN file is not the `encrypted_hash` of the metadata.
    EncryptedHashMismatch,
    /// Media: the 10-byte HMAC-SHA256 at the end of the CDN file does not authenticate it.
    HmacMismatch,
    /// Media: the decrypted file does not end in valid PKCS#7 padding.
    Padding,
    /// Media: the SHA-256 of the decrypted file is not the `plaintext_hash` of the metadata.
    PlaintextHashMismatch,
    /// The endpoint is configured in a way that would open it to forgery or cannot work: an
    /// empty app secret, an empty list of secrets or keys. A server problem, answered 500.
    InvalidConfiguration(&'static str),
    /// A streaming media decryptor or verifier was used after it finished. In Rust `finish`
    /// consumes it; bindings whose objects outlive `finish` report this instead.
    AlreadyFinished,
}

/// Why a private key was refused.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum KeyError {
    /// Neither a PEM block nor DER that holds a private key was found.
    NotAKey,
    /// The key is encrypted and no passphrase was given.
    PassphraseRequired,
    /// The passphrase does not decrypt the key.
    WrongPassphrase,
    /// A public key was given where the private key is needed.
    PublicKeyGiven,
    /// The key is not an RSA key; the text names what it is.
    NotRsa(&'static str),
    /// The RSA modulus of a key given to load is under 2048 or over 8192 bits.
    UnsupportedSize {
        /// The size of the key that was given, in bits.
        bits: usize,
    },
    /// A key of this size cannot be generated: [`crate::FlowPrivateKey::generate_with_bits`]
    /// makes 2048-, 3072- or 4096-bit keys. Bindings report any unrepresentable or negative
    /// size as this too, with `bits` saturated.
    UnsupportedGenerationSize {
        /// The size that was asked for, in bits.
        bits: usize,
    },
    /// The key is encrypted with a scheme this crate does not read; the text names it.
    UnsupportedEncryption(&'static str),
    /// The key decodes but is not a consistent RSA private key; the text says what is wrong.
    Corrupt(&'static str),
}

/// Why a request signature was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum SignatureError {
    /// The header is absent or empty.
    Missing,
    /// The header is not `sha256=` followed by 64 hexadecimal digits.
    Malformed,
    /// The header is well formed but does not match the body and app secret.
    Mismatch,
}

/// Why a `flow_token_signature` was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum FlowTokenError {
    /// Not a compact JWS of canonical base64url JSON objects, or a field of the wrong type;
    /// the text says which.
    Malformed(&'static str),
    /// The header's `alg` is missing or not exactly `HS256`.
    Algorithm,
    /// The header has `crit`: an extension this verifier does not implement.
    Critical,
    /// The HMAC does not verify with any of the app secrets.
    Mismatch,
    /// The signed `flow_token` is missing, not a string, or not the request's.
    TokenMismatch,
    /// `exp` has passed (beyond the 60 s leeway).
    Expired,
    /// `nbf` is still ahead (beyond the 60 s leeway).
    NotYetValid,
    /// Over 16 KiB.
    TooLarge,
}

/// A failure of a binding's runtime, not of the input or the configuration: the code
/// `internal` (HTTP 500). The protocol never produces it, so it is no [`ErrorKind`]; it lives
/// here so that a binding whose runtime can fail and be restarted (the WebAssembly module of
/// the npm package) reports it with the same text as every other error, taken from the core.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum InternalError {
    /// The runtime failed during this call (a WebAssembly trap) and was replaced; the call
    /// failed, a retry runs in the fresh instance.
    Restarted,
    /// The object belonged to a runtime instance that failed and was replaced.
    Stale,
}

impl InternalError {
    /// The code bindings report it with.
    pub const CODE: &'static str = "internal";
    /// A server problem: answer 500.
    pub const HTTP_STATUS: u16 = 500;
}

impl fmt::Display for InternalError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            InternalError::Restarted => {
                "internal error: the WebAssembly module trapped and was restarted; this call \
                 failed, retry it"
            }
            InternalError::Stale => {
                "internal error: this object belonged to a WebAssembly instance that trapped \
                 and was replaced; start again"
            }
        })
    }
}

impl std::error::Error for InternalError {}

/// The stable classification of an [`Error`]: one per code string.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// `malformed`
    Malformed,
    /// `key_unwrap`
    KeyUnwrap,
    /// `payload_auth`
    PayloadAuth,
    /// `invalid_key`
    InvalidKey,
    /// `invalid_signature`
    InvalidSignature,
    /// `invalid_flow_token_signature`
    InvalidFlowTokenSignature,
    /// `encrypted_hash_mismatch`
    EncryptedHashMismatch,
    /// `hmac_mismatch`
    HmacMismatch,
    /// `padding`
    Padding,
    /// `plaintext_hash_mismatch`
    PlaintextHashMismatch,
    /// `invalid_configuration`
    InvalidConfiguration,
    /// `already_finished`
    AlreadyFinished,
}

impl ErrorKind {
    /// Every kind, in the order of their codes' documentation.
    pub const ALL: [ErrorKind; 12] = [
        ErrorKind::Malformed,
        ErrorKind::KeyUnwrap,
        ErrorKind::PayloadAuth,
        ErrorKind::InvalidKey,
        ErrorKind::InvalidSignature,
        ErrorKind::InvalidFlowTokenSignature,
        ErrorKind::EncryptedHashMismatch,
        ErrorKind::HmacMismatch,
        ErrorKind::Padding,
        ErrorKind::PlaintextHashMismatch,
        ErrorKind::InvalidConfiguration,
        ErrorKind::AlreadyFinished,
    ];

    /// The stable code string, the same in every language binding.
    pub const fn code(self) -> &'static str {
        match self {
            ErrorKind::Malformed => "malformed",
            ErrorKind::KeyUnwrap => "key_unwrap",
            ErrorKind::PayloadAuth => "payload_auth",
            ErrorKind::InvalidKey => "invalid_key",
            ErrorKind::InvalidSignature => "invalid_signature",
            ErrorKind::InvalidFlowTokenSignature => "invalid_flow_token_signature",
            ErrorKind::EncryptedHashMismatch => "encrypted_hash_mismatch",
            ErrorKind::HmacMismatch => "hmac_mismatch",
            ErrorKind::Padding => "padding",
            ErrorKind::PlaintextHashMismatch => "plaintext_hash_mismatch",
            ErrorKind::InvalidConfiguration => "invalid_configuration",
            ErrorKind::AlreadyFinished => "already_finished",
        }
    }

    /// The HTTP status an endpoint should answer with, for request-level errors.
    ///
    /// - 421 for anything that stops decryption of a request: WhatsApp then re-fetches the
    ///   business public key and retries, which is what heals a rotated key;
    /// - 432 for a bad request signature;
    /// - 427 for a bad `flow_token_signature` (data API 4.0): the flow token is not to be
    ///   trusted, and WhatsApp shows the user that the flow has expired;
    /// - 500 for an unusable private key or an unsafe configuration (an empty app secret): a
    ///   server misconfiguration, never the client's fault.
    ///
    /// Media errors are not request-level (`None`): the request itself decrypted, so answer
    /// it, typically with an error screen.
    pub const fn http_status(self) -> Option<u16> {
        match self {
            ErrorKind::Malformed | ErrorKind::KeyUnwrap | ErrorKind::PayloadAuth => Some(421),
            ErrorKind::InvalidSignature => Some(432),
            ErrorKind::InvalidFlowTokenSignature => Some(427),
            ErrorKind::InvalidKey | ErrorKind::InvalidConfiguration => Some(500),
            ErrorKind::EncryptedHashMismatch
            | ErrorKind::HmacMismatch
            | ErrorKind::Padding
            | ErrorKind::PlaintextHashMismatch
            | ErrorKind::AlreadyFinished => None,
        }
    }

    /// The kind whose [`code`](Self::code) is `code`, if any.
    pub fn from_code(code: &str) -> Option<ErrorKind> {
        ErrorKind::ALL.into_iter().find(|kind| kind.code() == code)
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl Error {
    /// The stable classification of this error.
    pub const fn kind(&self) -> ErrorKind {
        match self {
            Error::Malformed(_) => ErrorKind::Malformed,
            Error::KeyUnwrap => ErrorKind::KeyUnwrap,
            Error::PayloadAuth => ErrorKind::PayloadAuth,
            Error::InvalidKey(_) => ErrorKind::InvalidKey,
            Error::InvalidSignature(_) => ErrorKind::InvalidSignature,
            Error::InvalidFlowTokenSignature(_) => ErrorKind::InvalidFlowTokenSignature,
            Error::EncryptedHashMismatch => ErrorKind::EncryptedHashMismatch,
            Error::HmacMismatch => ErrorKind::HmacMismatch,
            Error::Padding => ErrorKind::Padding,
            Error::PlaintextHashMismatch => ErrorKind::PlaintextHashMismatch,
            Error::InvalidConfiguration(_) => ErrorKind::InvalidConfiguration,
            Error::AlreadyFinished => ErrorKind::AlreadyFinished,
        }
    }

    /// The stable code string (`malformed`, `key_unwrap`, …), the same in every binding.
    ///
    /// ```
    /// use wa_flows_crypto::Error;
    /// assert_eq!(Error::KeyUnwrap.code(), "key_unwrap");
    /// ```
    pub const fn code(&self) -> &'static str {
        self.kind().code()
    }

    /// The recommended HTTP status; see [`ErrorKind::http_status`].
    ///
    /// ```
    /// use wa_flows_crypto::Error;
    /// assert_eq!(Error::PayloadAuth.http_status(), Some(421));
    /// assert_eq!(Error::HmacMismatch.http_status(), None);
    /// ```
    pub const fn http_status(&self) -> Option<u16> {
        self.kind().http_status()
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Malformed(what) => write!(f, "malformed input: {what}"),
            Error::KeyUnwrap => f.write_str(
                "the AES key could not be unwrapped with RSA-OAEP-SHA256: the request was \
                 encrypted for a different public key; upload this private key's public key \
                 (answering 421 makes WhatsApp fetch it again)",
            ),
            Error::PayloadAuth => f.write_str(
                "the request payload failed AES-GCM authentication: it was altered in transit, \
                 or its initial_vector or key does not belong to it",
            ),
            Error::InvalidKey(problem) => write!(f, "invalid private key: {problem}"),
            Error::InvalidSignature(problem) => write!(f, "invalid request signature: {problem}"),
            Error::InvalidFlowTokenSignature(problem) => {
                write!(f, "invalid flow_token_signature: {problem}")
            }
            Error::EncryptedHashMismatch => f.write_str(
                "the media file's SHA-256 is not its encrypted_hash: the download is incomplete \
                 or belongs to other metadata",
            ),
            Error::HmacMismatch => f.write_str(
                "the media file's HMAC does not match: the file was altered or the hmac_key is \
                 not its own",
            ),
            Error::Padding => f.write_str(
                "the decrypted media does not end in valid PKCS#7 padding: the encryption_key \
                 is not the file's own",
            ),
            Error::PlaintextHashMismatch => f.write_str(
                "the decrypted media's SHA-256 is not its plaintext_hash: the encryption_key is \
                 not the file's own",
            ),
            Error::InvalidConfiguration(what) => write!(f, "invalid configuration: {what}"),
            Error::AlreadyFinished => f.write_str(
                "this media decryptor or verifier has already finished; start a new one for \
                 another file",
            ),
        }
    }
}

impl fmt::Display for KeyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            KeyError::NotAKey => f.write_str(
                "no RSA private key found; give the PEM text (-----BEGIN PRIVATE KEY----- or \
                 -----BEGIN RSA PRIVATE KEY-----) or its DER bytes",
            ),
            KeyError::PassphraseRequired => {
                f.write_str("the key is encrypted; give the passphrase it was created with")
            }
            KeyError::WrongPassphrase => f.write_str(
                "the passphrase does not decrypt the key; check it for typos and stray \
                 whitespace",
            ),
            KeyError::PublicKeyGiven => f.write_str(
                "this is a public key; the endpoint needs the private key it was derived from",
            ),
            KeyError::NotRsa(what) => write!(
                f,
                "this is {what}, not an RSA key; WhatsApp Flows needs a 2048-bit RSA key \
                 (openssl genrsa -out private.pem 2048)"
            ),
            KeyError::UnsupportedSize { bits } => write!(
                f,
                "this is a {bits}-bit RSA key, outside the 2048 to 8192 bits this library \
                 loads; WhatsApp Flows expects 2048 bits: openssl genrsa -out private.pem 2048"
            ),
            KeyError::UnsupportedGenerationSize { bits } => write!(
                f,
                "cannot generate a {bits}-bit RSA key; generate 2048 bits (what WhatsApp Flows \
                 expects), 3072 or 4096 bits"
            ),
            KeyError::UnsupportedEncryption(what) => write!(
                f,
                "the key is encrypted with {what}, which is not supported; re-encrypt it: \
                 openssl pkcs8 -topk8 -v2 aes-256-cbc -in old.pem -out private.pem"
            ),
            KeyError::Corrupt(what) => write!(f, "the key is damaged: {what}"),
        }
    }
}

impl fmt::Display for SignatureError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            SignatureError::Missing => "the X-Hub-Signature-256 header is missing or empty",
            SignatureError::Malformed => {
                "the X-Hub-Signature-256 header is not `sha256=` followed by 64 hex digits"
            }
            SignatureError::Mismatch => {
                "the X-Hub-Signature-256 header does not match the body: verify the raw body \
                 bytes (before any JSON parsing) with your app secret"
            }
        })
    }
}

impl fmt::Display for FlowTokenError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FlowTokenError::Malformed(what) => f.write_str(what),
            FlowTokenError::Algorithm => f.write_str("the JWT's alg is not HS256"),
            FlowTokenError::Critical => f.write_str("the JWT header has crit, which is refused"),
            FlowTokenError::Mismatch => f.write_str(
                "the JWT's HMAC does not verify with the app secret (or any of them, when \
                 rotating)",
            ),
            FlowTokenError::TokenMismatch => {
                f.write_str("the signed flow_token is not this request's flow_token")
            }
            FlowTokenError::Expired => f.write_str("the JWT has expired (exp)"),
            FlowTokenError::NotYetValid => f.write_str("the JWT is not valid yet (nbf)"),
            FlowTokenError::TooLarge => f.write_str("the JWT is over 16 KiB"),
        }
    }
}

impl std::error::Error for Error {}
impl std::error::Error for FlowTokenError {}
impl std::error::Error for KeyError {}
impl std::error::Error for SignatureError {}

impl From<KeyError> for Error {
    fn from(problem: KeyError) -> Self {
        Error::InvalidKey(problem)
    }
}

impl From<FlowTokenError> for Error {
    fn from(problem: FlowTokenError) -> Self {
        Error::InvalidFlowTokenSignature(problem)
    }
}

impl From<SignatureError> for Error {
    fn from(problem: SignatureError) -> Self {
        Error::InvalidSignature(problem)
    }
}

/// The result type of this crate.
pub type Result<T, E = Error> = core::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip_and_are_distinct() {
        for kind in ErrorKind::ALL {
            assert_eq!(ErrorKind::from_code(kind.code()), Some(kind));
        }
        let mut codes: Vec<_> = ErrorKind::ALL.iter().map(|k| k.code()).collect();
        codes.sort_unstable();
        codes.dedup();
        assert_eq!(codes.len(), ErrorKind::ALL.len());
        assert_eq!(ErrorKind::from_code("nope"), None);
        // `internal` is a binding's runtime failure, never a kind of the core.
        assert_eq!(ErrorKind::from_code(InternalError::CODE), None);
    }

    #[test]
    fn every_signature_and_flow_token_failure_has_its_own_words() {
        let signature = [
            SignatureError::Missing,
            SignatureError::Malformed,
            SignatureError::Mismatch,
        ]
        .map(|problem| Error::InvalidSignature(problem).to_string());
        for message in &signature {
            assert!(message.starts_with("invalid request signature: the X-Hub-Signature-256 "));
        }
        let flow_token = [
            FlowTokenError::Malformed("the JWT is not three dot-separated parts"),
            FlowTokenError::Algorithm,
            FlowTokenError::Critical,
            FlowTokenError::Mismatch,
            FlowTokenError::TokenMismatch,
            FlowTokenError::Expired,
            FlowTokenError::NotYetValid,
            FlowTokenError::TooLarge,
        ]
        .map(|problem| Error::InvalidFlowTokenSignature(problem).to_string());
        for message in &flow_token {
            let words = message
                .strip_prefix("invalid flow_token_signature: the ")
                .unwrap();
            assert!(words.len() > 10, "{message}");
        }
        let mut all: Vec<&String> = signature.iter().chain(&flow_token).collect();
        all.sort_unstable();
        all.dedup();
        assert_eq!(all.len(), signature.len() + flow_token.len());
        // A kind displays as its stable code.
        for kind in ErrorKind::ALL {
            assert_eq!(kind.to_string(), kind.code());
        }
    }

    #[test]
    fn internal_errors_say_what_happened_and_what_to_do() {
        // The npm package shows these words as they are: each names the failure and the remedy.
        let restarted = InternalError::Restarted.to_string();
        assert!(restarted.starts_with("internal error: ") && restarted.ends_with("retry it"));
        let stale = InternalError::Stale.to_string();
        assert!(stale.starts_with("internal error: ") && stale.ends_with("start again"));
    }

    #[test]
    fn statuses_follow_the_protocol() {
        assert_eq!(Error::Malformed("x").http_status(), Some(421));
        assert_eq!(Error::KeyUnwrap.http_status(), Some(421));
        assert_eq!(Error::PayloadAuth.http_status(), Some(421));
        assert_eq!(
            Error::InvalidSignature(SignatureError::Mismatch).http_status(),
            Some(432)
        );
        assert_eq!(
            Error::InvalidKey(KeyError::WrongPassphrase).http_status(),
            Some(500)
        );
        assert_eq!(Error::Padding.http_status(), None);
    }
}

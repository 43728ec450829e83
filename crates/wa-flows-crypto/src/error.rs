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
    /// Media: the SHA-256 of the CDN file is not the `encrypted_hash` of the metadata.
    EncryptedHashMismatch,
    /// Media: the 10-byte HMAC-SHA256 at the end of the CDN file does not authenticate it.
    HmacMismatch,
    /// Media: the decrypted file does not end in valid PKCS#7 padding.
    Padding,
    /// Media: the SHA-256 of the decrypted file is not the `plaintext_hash` of the metadata.
    PlaintextHashMismatch,
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
    /// The RSA modulus is smaller than 2048 bits (or larger than this crate supports).
    UnsupportedSize {
        /// The size of the key that was given, in bits.
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
    /// `encrypted_hash_mismatch`
    EncryptedHashMismatch,
    /// `hmac_mismatch`
    HmacMismatch,
    /// `padding`
    Padding,
    /// `plaintext_hash_mismatch`
    PlaintextHashMismatch,
}

impl ErrorKind {
    /// Every kind, in the order of their codes' documentation.
    pub const ALL: [ErrorKind; 9] = [
        ErrorKind::Malformed,
        ErrorKind::KeyUnwrap,
        ErrorKind::PayloadAuth,
        ErrorKind::InvalidKey,
        ErrorKind::InvalidSignature,
        ErrorKind::EncryptedHashMismatch,
        ErrorKind::HmacMismatch,
        ErrorKind::Padding,
        ErrorKind::PlaintextHashMismatch,
    ];

    /// The stable code string, the same in every language binding.
    pub const fn code(self) -> &'static str {
        match self {
            ErrorKind::Malformed => "malformed",
            ErrorKind::KeyUnwrap => "key_unwrap",
            ErrorKind::PayloadAuth => "payload_auth",
            ErrorKind::InvalidKey => "invalid_key",
            ErrorKind::InvalidSignature => "invalid_signature",
            ErrorKind::EncryptedHashMismatch => "encrypted_hash_mismatch",
            ErrorKind::HmacMismatch => "hmac_mismatch",
            ErrorKind::Padding => "padding",
            ErrorKind::PlaintextHashMismatch => "plaintext_hash_mismatch",
        }
    }

    /// The HTTP status an endpoint should answer with, for request-level errors.
    ///
    /// - 421 for anything that stops decryption of a request: WhatsApp then re-fetches the
    ///   business public key and retries, which is what heals a rotated key;
    /// - 432 for a bad request signature;
    /// - 500 for an unusable private key: a server misconfiguration, never the client's fault.
    ///
    /// Media errors are not request-level (`None`): the request itself decrypted, so answer
    /// it, typically with an error screen.
    pub const fn http_status(self) -> Option<u16> {
        match self {
            ErrorKind::Malformed | ErrorKind::KeyUnwrap | ErrorKind::PayloadAuth => Some(421),
            ErrorKind::InvalidSignature => Some(432),
            ErrorKind::InvalidKey => Some(500),
            ErrorKind::EncryptedHashMismatch
            | ErrorKind::HmacMismatch
            | ErrorKind::Padding
            | ErrorKind::PlaintextHashMismatch => None,
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
            Error::EncryptedHashMismatch => ErrorKind::EncryptedHashMismatch,
            Error::HmacMismatch => ErrorKind::HmacMismatch,
            Error::Padding => ErrorKind::Padding,
            Error::PlaintextHashMismatch => ErrorKind::PlaintextHashMismatch,
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
                "this is a {bits}-bit RSA key; WhatsApp Flows expects 2048 bits (keys from 2048 \
                 to 8192 bits are accepted): openssl genrsa -out private.pem 2048"
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

impl std::error::Error for Error {}
impl std::error::Error for KeyError {}
impl std::error::Error for SignatureError {}

impl From<KeyError> for Error {
    fn from(problem: KeyError) -> Self {
        Error::InvalidKey(problem)
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

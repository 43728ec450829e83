//! `X-Hub-Signature-256`: HMAC-SHA256 of the raw body with the app secret.

use hmac::{Hmac, KeyInit as _, Mac as _};
use sha2::Sha256;

use crate::encoding::{decode_hex, encode_hex};
use crate::error::{Result, SignatureError};

const PREFIX: &str = "sha256=";

/// Verifies an `X-Hub-Signature-256` header against the raw request body.
///
/// Give the body exactly as received, before any JSON parsing. The comparison is constant
/// time. Hex digits may be upper or lower case; surrounding whitespace is ignored.
///
/// ```
/// use wa_flows_crypto::{sign, verify_signature};
///
/// let body = br#"{"encrypted_flow_data":"..."}"#;
/// let header = sign(body, b"app secret");
/// assert!(verify_signature(body, &header, b"app secret").is_ok());
/// assert_eq!(
///     verify_signature(b"other", &header, b"app secret").unwrap_err().http_status(),
///     Some(432)
/// );
/// ```
///
/// # Errors
/// [`crate::Error::InvalidSignature`]: missing or empty header, a header that is not
/// `sha256=` and 64 hex digits, or a mismatch. All answer HTTP 432.
pub fn verify_signature(raw_body: &[u8], header_value: &str, app_secret: &[u8]) -> Result<()> {
    let header = header_value.trim();
    if header.is_empty() {
        return Err(SignatureError::Missing.into());
    }
    let hex = header
        .get(..PREFIX.len())
        .filter(|prefix| prefix.eq_ignore_ascii_case(PREFIX))
        .and_then(|_| header.get(PREFIX.len()..))
        .ok_or(SignatureError::Malformed)?;
    let expected = decode_hex_32(hex).ok_or(SignatureError::Malformed)?;
    mac(raw_body, app_secret)
        .verify_slice(&expected)
        .map_err(|_| SignatureError::Mismatch.into())
}

/// The `X-Hub-Signature-256` header value for `raw_body`: `sha256=<lowercase hex>`.
pub fn sign(raw_body: &[u8], app_secret: &[u8]) -> String {
    let tag = mac(raw_body, app_secret).finalize().into_bytes();
    format!("{PREFIX}{}", encode_hex(&tag))
}

fn mac(raw_body: &[u8], app_secret: &[u8]) -> Hmac<Sha256> {
    // HMAC accepts keys of any length, so this never takes the error branch.
    let mut mac = <Hmac<Sha256> as hmac::KeyInit>::new_from_slice(app_secret)
        .unwrap_or_else(|_| <Hmac<Sha256>>::new(&Default::default()));
    mac.update(raw_body);
    mac
}

fn decode_hex_32(text: &str) -> Option<[u8; 32]> {
    decode_hex(text).and_then(|bytes| <[u8; 32]>::try_from(bytes).ok())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Error;

    #[test]
    fn classifies_bad_headers() {
        let header = sign(b"body", b"secret");
        assert!(verify_signature(b"body", &header, b"secret").is_ok());
        assert!(verify_signature(b"body", &format!("  {header}\n"), b"secret").is_ok());
        assert!(verify_signature(b"body", &header.to_uppercase(), b"secret").is_ok());
        let cases = [
            ("", SignatureError::Missing),
            ("   ", SignatureError::Missing),
            ("sha256=", SignatureError::Malformed),
            ("sha1=00", SignatureError::Malformed),
            ("sha256=+0", SignatureError::Malformed),
            ("é", SignatureError::Malformed),
        ];
        for (header, problem) in cases {
            assert_eq!(
                verify_signature(b"body", header, b"secret"),
                Err(Error::InvalidSignature(problem)),
                "{header:?}"
            );
        }
        assert_eq!(
            verify_signature(b"body!", &header, b"secret"),
            Err(Error::InvalidSignature(SignatureError::Mismatch))
        );
    }
}

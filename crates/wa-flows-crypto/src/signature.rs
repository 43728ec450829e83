//! `X-Hub-Signature-256`: HMAC-SHA256 of the raw body with the app secret.

use hmac::{Hmac, KeyInit as _, Mac as _};
use sha2::Sha256;
use subtle::{Choice, ConditionallySelectable as _, ConstantTimeEq as _};

use crate::encoding::{decode_hex, encode_hex};
use crate::error::{Error, Result, SignatureError};

mod flow_token;
pub(crate) use self::flow_token::sign as sign_flow_token;
pub use self::flow_token::{
    CLOCK_LEEWAY_SECONDS, FlowTokenSignature, MAX_FLOW_TOKEN_SIGNATURE_LEN,
    verify_flow_token_signature,
};

const PREFIX: &str = "sha256=";

/// Why an empty app secret is refused, shared by every verifier that takes one.
pub(crate) const EMPTY_APP_SECRET: &str =
    "the app secret is empty; set it to the Meta app secret (App settings > Basic)";

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
/// - [`crate::Error::InvalidConfiguration`] (HTTP 500) for an empty `app_secret`: anyone can
///   compute that HMAC, so a deployment whose secret variable is set but empty would accept
///   forged requests.
/// - [`crate::Error::InvalidSignature`]: missing or empty header, a header that is not
///   `sha256=` and 64 hex digits, or a mismatch. All answer HTTP 432.
pub fn verify_signature(raw_body: &[u8], header_value: &str, app_secret: &[u8]) -> Result<()> {
    verify_signature_any(raw_body, header_value, &[app_secret]).map(|_| ())
}

/// As [`verify_signature`], accepting any of several app secrets, for rotation: after the app
/// secret is reset, Meta signs with the new one while requests signed with the old may still
/// arrive. Returns the index of the secret that matched, so an operator can tell when the old
/// one is no longer used. Every secret is compared, in constant time, whichever matches.
///
/// ```
/// use wa_flows_crypto::{sign, verify_signature_any};
///
/// let body = b"{}";
/// let secrets: [&[u8]; 2] = [b"new secret", b"old secret"];
/// assert_eq!(verify_signature_any(body, &sign(body, b"old secret"), &secrets)?, 1);
/// # Ok::<(), wa_flows_crypto::Error>(())
/// ```
///
/// # Errors
/// As [`verify_signature`]; also [`crate::Error::InvalidConfiguration`] for an empty list.
pub fn verify_signature_any(
    raw_body: &[u8],
    header_value: &str,
    app_secrets: &[&[u8]],
) -> Result<usize> {
    check_app_secrets(app_secrets)?;
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
    let mut matched = Choice::from(0);
    let mut index_matched = 0u64;
    for (index, secret) in (0u64..).zip(app_secrets) {
        let tag = mac(raw_body, secret).finalize().into_bytes();
        let this = tag.as_slice().ct_eq(expected.as_slice());
        // The first match wins; later ones change neither the answer nor the time taken.
        index_matched.conditional_assign(&index, this & !matched);
        matched |= this;
    }
    if bool::from(matched) {
        Ok(usize::try_from(index_matched).unwrap_or_default())
    } else {
        Err(SignatureError::Mismatch.into())
    }
}

/// Refuses an empty list of app secrets, or an empty secret in it: an empty key is public.
/// Every verifier that takes secrets runs this first; call it to refuse a configuration at
/// start-up, before any request arrives.
///
/// # Errors
/// [`crate::Error::InvalidConfiguration`] (HTTP 500).
pub fn check_app_secrets(app_secrets: &[&[u8]]) -> Result<()> {
    if app_secrets.is_empty() {
        return Err(Error::InvalidConfiguration(
            "no app secret is configured; give the Meta app secret",
        ));
    }
    if app_secrets.iter().any(|secret| secret.is_empty()) {
        return Err(Error::InvalidConfiguration(EMPTY_APP_SECRET));
    }
    Ok(())
}

/// The length of every header [`sign`] writes: `sha256=` and 64 hex digits.
pub const SIGNATURE_HEADER_LEN: usize = PREFIX.len() + 64;

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

    #[test]
    fn every_header_sign_writes_is_signature_header_len_long() {
        for body in [&b""[..], b"body", &[0xff; 1000]] {
            assert_eq!(sign(body, b"secret").len(), SIGNATURE_HEADER_LEN);
        }
        assert_eq!(SIGNATURE_HEADER_LEN, 71);
    }

    #[test]
    fn the_index_is_that_of_the_first_secret_that_matches() {
        let secrets: [&[u8]; 3] = [b"newest", b"previous", b"oldest"];
        for (index, secret) in secrets.iter().enumerate() {
            let header = sign(b"body", secret);
            assert_eq!(verify_signature_any(b"body", &header, &secrets), Ok(index));
        }
        // The same secret twice (a rotation that re-used it): the first position, whatever
        // comes after.
        let repeated: [&[u8]; 4] = [b"other", b"same", b"same", b"same"];
        let header = sign(b"body", b"same");
        assert_eq!(verify_signature_any(b"body", &header, &repeated), Ok(1));
        assert_eq!(
            verify_signature_any(b"body", &sign(b"body", b"none of them"), &repeated),
            Err(Error::InvalidSignature(SignatureError::Mismatch))
        );
    }

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

    #[test]
    fn refuses_an_empty_secret_even_with_its_own_signature() {
        let header = sign(b"body", b"");
        let refused = verify_signature(b"body", &header, b"").unwrap_err();
        assert_eq!(refused.code(), "invalid_configuration");
        assert_eq!(refused.http_status(), Some(500));
    }
}

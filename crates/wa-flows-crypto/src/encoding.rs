//! Base64 and hex as the protocol uses them.

use base64::Engine as _;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};

use crate::error::{Error, Result};

/// Standard alphabet; `=` padding accepted but not required, since some senders strip it.
/// Whitespace and the URL-safe alphabet are refused: the protocol never produces them.
const STANDARD_LENIENT_PADDING: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// Decodes a base64 field, naming it in the error.
pub(crate) fn decode_base64(text: impl AsRef<[u8]>, error: &'static str) -> Result<Vec<u8>> {
    STANDARD_LENIENT_PADDING
        .decode(text)
        .map_err(|_| Error::Malformed(error))
}

/// Decodes a base64 field that must hold exactly `N` bytes.
pub(crate) fn decode_base64_array<const N: usize>(
    text: impl AsRef<[u8]>,
    error: &'static str,
) -> Result<[u8; N]> {
    let bytes = zeroize::Zeroizing::new(decode_base64(text, error)?);
    <[u8; N]>::try_from(bytes.as_slice()).map_err(|_| Error::Malformed(error))
}

/// Standard base64 with padding, as WhatsApp sends and expects it.
pub(crate) fn encode_base64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// Lowercase hexadecimal.
pub(crate) fn encode_hex(bytes: &[u8]) -> String {
    use core::fmt::Write as _;
    let mut out = String::with_capacity(bytes.len() * 2);
    for byte in bytes {
        // Writing to a String cannot fail.
        let _ = write!(out, "{byte:02x}");
    }
    out
}

/// Strict hexadecimal (either case, no sign, no separators).
pub(crate) fn decode_hex(text: &str) -> Option<Vec<u8>> {
    fn nibble(digit: u8) -> Option<u8> {
        match digit {
            b'0'..=b'9' => Some(digit - b'0'),
            b'a'..=b'f' => Some(digit - b'a' + 10),
            b'A'..=b'F' => Some(digit - b'A' + 10),
            _ => None,
        }
    }
    let digits = text.as_bytes();
    if !digits.len().is_multiple_of(2) {
        return None;
    }
    digits
        .chunks_exact(2)
        .map(|pair| match pair {
            [high, low] => Some(nibble(*high)? << 4 | nibble(*low)?),
            _ => None,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_padding_is_optional_but_alphabet_is_strict() {
        assert_eq!(decode_base64("AAE=", "x").unwrap(), [0, 1]);
        assert_eq!(decode_base64("AAE", "x").unwrap(), [0, 1]);
        assert!(decode_base64("AA-_", "x").is_err());
        assert!(decode_base64("AA E=", "x").is_err());
        assert!(decode_base64_array::<3>("AAE=", "x").is_err());
    }

    #[test]
    fn hex_decoding_is_strict() {
        assert_eq!(decode_hex("00fF"), Some(vec![0, 255]));
        assert_eq!(decode_hex("0"), None);
        assert_eq!(decode_hex("+f"), None);
        assert_eq!(decode_hex("zz"), None);
    }

    #[test]
    fn hex_is_lowercase() {
        assert_eq!(encode_hex(&[0x00, 0xab, 0xff]), "00abff");
    }
}

//! PEM as users really paste it: through environment variables, JSON strings and dashboards.
//!
//! Keys arrive with literal `\n` sequences, CRLF line ends, newlines turned into spaces, or
//! wrapped in quotes. Rather than asking users to repair them, we read the armour by its
//! `-----BEGIN …-----` / `-----END …-----` markers and treat everything between as
//! whitespace-separated tokens: `Name: value` headers, then base64.

use base64::Engine as _;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use zeroize::Zeroizing;

use crate::error::KeyError;

/// One armoured block.
pub(crate) struct PemBlock {
    pub(crate) label: String,
    /// `(name, value)` pairs such as `("Proc-Type", "4,ENCRYPTED")`, in order.
    pub(crate) headers: Vec<(String, String)>,
    pub(crate) der: Zeroizing<Vec<u8>>,
}

impl PemBlock {
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(key, _)| key.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.as_str())
    }
}

const BEGIN: &str = "-----BEGIN ";
const DASHES: &str = "-----";

const PEM_BASE64: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// Whether `input` looks like PEM at all (as opposed to DER bytes).
pub(crate) fn looks_like_pem(input: &[u8]) -> bool {
    input.windows(BEGIN.len()).any(|w| w == BEGIN.as_bytes())
}

/// Repairs the damage that environment variables and JSON do to PEM text.
fn normalize(text: &str) -> Zeroizing<String> {
    let mut text = text.trim();
    // Surrounding quotes, possibly nested ('"…"') from shell and dotenv layers.
    loop {
        let stripped = ["\"", "'", "`"].iter().find_map(|quote| {
            text.strip_prefix(quote)
                .and_then(|rest| rest.strip_suffix(quote))
        });
        match stripped {
            Some(inner) => text = inner.trim(),
            None => break,
        }
    }
    Zeroizing::new(
        text.replace("\\r\\n", "\n")
            .replace("\\n", "\n")
            .replace("\\r", "\n")
            .replace('\r', "\n"),
    )
}

/// Every armoured block in `text`, in order. Blocks whose base64 does not decode are reported
/// as corrupt only if no block decodes.
pub(crate) fn parse_blocks(text: &str) -> Result<Vec<PemBlock>, KeyError> {
    let text = normalize(text);
    let mut rest: &str = &text;
    let mut blocks = Vec::new();
    let mut undecodable = false;
    while let Some(start) = rest.find(BEGIN) {
        let after_begin = rest.get(start + BEGIN.len()..).unwrap_or_default();
        let Some(label_end) = after_begin.find(DASHES) else {
            break;
        };
        let label = after_begin.get(..label_end).unwrap_or_default().trim();
        let body_and_rest = after_begin
            .get(label_end + DASHES.len()..)
            .unwrap_or_default();
        let end_marker = format!("-----END {label}-----");
        let Some(body_end) = body_and_rest.find(&end_marker) else {
            return Err(KeyError::Corrupt(
                "the PEM text has a BEGIN line without its END line; copy the whole key",
            ));
        };
        let body = body_and_rest.get(..body_end).unwrap_or_default();
        match parse_body(body) {
            Some((headers, der)) => blocks.push(PemBlock {
                label: label.to_owned(),
                headers,
                der,
            }),
            None => undecodable = true,
        }
        rest = body_and_rest
            .get(body_end + end_marker.len()..)
            .unwrap_or_default();
    }
    if blocks.is_empty() && undecodable {
        return Err(KeyError::Corrupt(
            "the base64 between the PEM BEGIN and END lines does not decode; the key was \
             truncated or altered when it was copied",
        ));
    }
    Ok(blocks)
}

type Headers = Vec<(String, String)>;

fn parse_body(body: &str) -> Option<(Headers, Zeroizing<Vec<u8>>)> {
    let mut headers = Vec::new();
    let mut base64 = Zeroizing::new(String::with_capacity(body.len()));
    let mut tokens = body.split_whitespace().peekable();
    while let Some(token) = tokens.next() {
        // Base64 never contains ':', so a colon marks an RFC 1421 header.
        if let Some((name, value)) = token.split_once(':') {
            let value = if value.is_empty() {
                tokens.next().unwrap_or_default()
            } else {
                value
            };
            headers.push((name.to_owned(), value.to_owned()));
        } else {
            base64.push_str(token);
        }
    }
    let der = PEM_BASE64.decode(base64.as_bytes()).ok()?;
    Some((headers, Zeroizing::new(der)))
}

#[cfg(test)]
mod tests {
    use super::*;

    const BODY: &str = "MIIBOgIBAAJBAKj34GkxFhD90vcNLYLInFEX6Ppy1tPf9Cnzj4p4WGeKLs1Pt8Qu\nKUpRKfFLfRYC9AIKjbJTWit+CqvjWYzvQwECAwEAAQ==";

    fn pem(label: &str, body: &str) -> String {
        format!("-----BEGIN {label}-----\n{body}\n-----END {label}-----\n")
    }

    #[test]
    fn reads_damaged_pem_the_same_as_clean_pem() {
        let clean = pem("RSA PRIVATE KEY", BODY);
        let expected = parse_blocks(&clean).unwrap();
        assert_eq!(expected.len(), 1);
        let variants = [
            clean.replace('\n', "\\n"),
            clean.replace('\n', "\r\n"),
            clean.replace('\n', " "),
            format!("\"{}\"", clean.replace('\n', "\\n")),
            format!("  '{clean}'  "),
            clean.replace('\n', "\\r\\n"),
        ];
        for variant in variants {
            let blocks = parse_blocks(&variant).unwrap();
            assert_eq!(blocks.len(), 1, "{variant:?}");
            assert_eq!(blocks[0].label, "RSA PRIVATE KEY");
            assert_eq!(*blocks[0].der, *expected[0].der, "{variant:?}");
        }
    }

    #[test]
    fn reads_headers_even_when_newlines_became_spaces() {
        let body = format!(
            "Proc-Type: 4,ENCRYPTED\nDEK-Info: AES-256-CBC,00112233445566778899AABBCCDDEEFF\n\n{BODY}"
        );
        let text = pem("RSA PRIVATE KEY", &body).replace('\n', " ");
        let blocks = parse_blocks(&text).unwrap();
        assert_eq!(blocks[0].header("proc-type"), Some("4,ENCRYPTED"));
        assert_eq!(
            blocks[0].header("DEK-Info"),
            Some("AES-256-CBC,00112233445566778899AABBCCDDEEFF")
        );
    }

    #[test]
    fn reports_truncation() {
        let clean = pem("PRIVATE KEY", BODY);
        let truncated = clean.get(..clean.len() - 20).unwrap();
        assert!(matches!(parse_blocks(truncated), Err(KeyError::Corrupt(_))));
        assert!(parse_blocks("no pem here").unwrap().is_empty());
        assert!(matches!(
            parse_blocks(&pem("PRIVATE KEY", "@@@@")),
            Err(KeyError::Corrupt(_))
        ));
    }
}

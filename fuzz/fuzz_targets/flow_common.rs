//! What the flow targets (`flow_token`, `flow_endpoint`, `flow_request`) share: an HS256 JWT
//! made and judged without the core (OpenSSL's HMAC, the `base64` crate, `serde_json::Value`),
//! the `X-Hub-Signature-256` check the same way, and the flow-request rule as
//! `serde_json::Value` sees it. Included with `#[path]` by each target, next to
//! `diff_common.rs` (for its byte cursor).

#![allow(dead_code)]

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use openssl::hash::MessageDigest;
use openssl::pkey::PKey;
use openssl::sign::Signer;
use serde_json::Value;

/// HMAC-SHA256 by OpenSSL (`secret` must not be empty: OpenSSL refuses an empty HMAC key).
pub fn hmac_sha256(secret: &[u8], data: &[u8]) -> Vec<u8> {
    let key = PKey::hmac(secret).unwrap();
    let mut signer = Signer::new(MessageDigest::sha256(), &key).unwrap();
    signer.sign_oneshot_to_vec(data).unwrap()
}

/// A compact JWS over exactly this header and payload text, HS256 with `secret`.
pub fn hs256_jwt(header: &str, payload: &str, secret: &[u8]) -> String {
    let signed = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header),
        URL_SAFE_NO_PAD.encode(payload)
    );
    let tag = hmac_sha256(secret, signed.as_bytes());
    format!("{signed}.{}", URL_SAFE_NO_PAD.encode(tag))
}

/// The bytes of a base64url segment, when it is the canonical unpadded encoding of them: the
/// decoder here is lenient (padding, trailing bits), and canonical means re-encoding gives the
/// text back.
fn canonical_base64url(segment: &str) -> Option<Vec<u8>> {
    const LENIENT: GeneralPurpose = GeneralPurpose::new(
        &base64::alphabet::URL_SAFE,
        GeneralPurposeConfig::new()
            .with_decode_padding_mode(DecodePaddingMode::Indifferent)
            .with_decode_allow_trailing_bits(true),
    );
    let bytes = LENIENT.decode(segment).ok()?;
    (URL_SAFE_NO_PAD.encode(&bytes) == segment).then_some(bytes)
}

/// How many object members the JSON text holds at every depth, counted as the parser reads
/// them (duplicates included), or `None` when it is not JSON.
fn members_read(bytes: &[u8]) -> Option<usize> {
    struct Count;
    impl<'de> serde::de::DeserializeSeed<'de> for Count {
        type Value = usize;
        fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<usize, D::Error> {
            d.deserialize_any(Count)
        }
    }
    impl<'de> serde::de::Visitor<'de> for Count {
        type Value = usize;
        fn expecting(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
            f.write_str("JSON")
        }
        fn visit_bool<E>(self, _: bool) -> Result<usize, E> {
            Ok(0)
        }
        fn visit_i64<E>(self, _: i64) -> Result<usize, E> {
            Ok(0)
        }
        fn visit_u64<E>(self, _: u64) -> Result<usize, E> {
            Ok(0)
        }
        fn visit_f64<E>(self, _: f64) -> Result<usize, E> {
            Ok(0)
        }
        fn visit_str<E>(self, _: &str) -> Result<usize, E> {
            Ok(0)
        }
        fn visit_unit<E>(self) -> Result<usize, E> {
            Ok(0)
        }
        fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<usize, A::Error> {
            let mut total = 0;
            while let Some(inner) = seq.next_element_seed(Count)? {
                total += inner;
            }
            Ok(total)
        }
        fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<usize, A::Error> {
            let mut total = 0;
            while map.next_key::<serde::de::IgnoredAny>()?.is_some() {
                total += 1 + map.next_value_seed(Count)?;
            }
            Ok(total)
        }
    }
    let mut deserializer = serde_json::Deserializer::from_slice(bytes);
    let count = serde::de::DeserializeSeed::deserialize(Count, &mut deserializer).ok()?;
    deserializer.end().ok().map(|()| count)
}

/// How many object members a parsed value holds at every depth (a duplicate name kept once).
fn members_kept(value: &Value) -> usize {
    match value {
        Value::Array(items) => items.iter().map(members_kept).sum(),
        Value::Object(object) => object.values().map(|v| 1 + members_kept(v)).sum(),
        _ => 0,
    }
}

/// Whether some object in the JSON text names a member twice (the parsed value kept fewer
/// members than the text has).
pub fn has_duplicate_names(bytes: &[u8]) -> bool {
    match (members_read(bytes), serde_json::from_slice::<Value>(bytes)) {
        (Some(read), Ok(value)) => read != members_kept(&value),
        _ => false,
    }
}

/// What an independent reading of a `flow_token_signature` says.
#[derive(Debug, PartialEq, Eq)]
pub enum JwtVerdict {
    /// Every rule holds (`HS256`, no `crit`, canonical base64url, one of the secrets, the
    /// token, the time), with `serde_json::Value` as the JSON reader.
    Valid,
    /// As `Valid`, but the header or payload names a member twice: the core refuses that
    /// (`Value` keeps the last one).
    ValidButDuplicateNames,
    /// Some rule fails.
    Invalid,
}

/// The verdict on `jwt` for a request whose `flow_token` is `token`, with `secrets` (none
/// empty) at `now`, the claims' times compared exactly (i128 against the 60 s leeway, not as
/// f64: so only for clocks and claims within ±2^52, where the core's f64 is exact too).
pub fn judge_jwt(jwt: &str, token: &str, secrets: &[&[u8]], now: i64) -> JwtVerdict {
    let verdict = (|| {
        if jwt.len() > 16 * 1024 {
            return None;
        }
        let parts: Vec<&str> = jwt.split('.').collect();
        let [header_b64, payload_b64, signature_b64] = parts[..] else {
            return None;
        };
        let header_bytes = canonical_base64url(header_b64)?;
        let header = serde_json::from_slice::<Value>(&header_bytes).ok()?;
        let header = header.as_object()?;
        if header.get("alg") != Some(&Value::from("HS256")) || header.contains_key("crit") {
            return None;
        }
        let signature = canonical_base64url(signature_b64)?;
        let signed = format!("{header_b64}.{payload_b64}");
        if !secrets
            .iter()
            .any(|secret| hmac_sha256(secret, signed.as_bytes()) == signature)
        {
            return None;
        }
        let payload_bytes = canonical_base64url(payload_b64)?;
        let payload = serde_json::from_slice::<Value>(&payload_bytes).ok()?;
        let payload = payload.as_object()?;
        if payload.get("flow_token").and_then(Value::as_str) != Some(token) {
            return None;
        }
        let (earliest, latest) = (i128::from(now) - 60, i128::from(now) + 60);
        for name in ["exp", "nbf"] {
            match payload.get(name) {
                None => {}
                Some(Value::Number(n)) => {
                    let time = n.as_f64().unwrap();
                    let expired = name == "exp" && time <= earliest as f64;
                    if expired || (name == "nbf" && time > latest as f64) {
                        return None;
                    }
                }
                Some(_) => return None,
            }
        }
        Some(has_duplicate_names(&header_bytes) || has_duplicate_names(&payload_bytes))
    })();
    match verdict {
        None => JwtVerdict::Invalid,
        Some(false) => JwtVerdict::Valid,
        Some(true) => JwtVerdict::ValidButDuplicateNames,
    }
}

/// Whether an `X-Hub-Signature-256` header authenticates `body` with one of `secrets`: after
/// surrounding whitespace, `sha256=` in any case and the HMAC in hex digits of either case.
pub fn header_authenticates(body: &[u8], header: &str, secrets: &[&[u8]]) -> bool {
    let header = header.trim();
    let Some((prefix, hex)) = header.split_at_checked(7) else {
        return false;
    };
    prefix.eq_ignore_ascii_case("sha256=")
        && secrets.iter().any(|secret| {
            let expected: String = hmac_sha256(secret, body)
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect();
            hex.eq_ignore_ascii_case(&expected)
        })
}

/// The flow-request rule as `serde_json::Value` sees it: a JSON object with a string
/// `action`, and `version`, `screen` and `flow_token` each absent, `null` or a string.
pub fn flow_request_value(text: &str) -> Option<serde_json::Map<String, Value>> {
    let Ok(Value::Object(object)) = serde_json::from_str::<Value>(text) else {
        return None;
    };
    if !object.get("action").is_some_and(Value::is_string) {
        return None;
    }
    ["version", "screen", "flow_token"]
        .iter()
        .all(|name| {
            matches!(
                object.get(*name),
                None | Some(Value::Null | Value::String(_))
            )
        })
        .then_some(object)
}

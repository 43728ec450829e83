//! Data API 4.0: `flow_token_signature`, an HS256 JWT (JWS compact form) over the flow token,
//! made by Flows with the Meta app secret.
//!
//! The verifier is strict where JWT libraries are lenient, because every leniency has been an
//! attack somewhere: only `HS256` (no `none`, no algorithm confusion), no `crit`, canonical
//! unpadded base64url only, no duplicate member names, and the token compared byte for byte.

use hmac::Mac as _;
use serde_json::{Map, Value};
use subtle::ConstantTimeEq as _;

use crate::error::{FlowTokenError, Result};
use crate::flow::FlowRequest;

use super::{check_app_secrets, mac};

/// The most bytes a `flow_token_signature` may hold; anything longer is refused unread.
pub const MAX_FLOW_TOKEN_SIGNATURE_LEN: usize = 16 * 1024;

/// How far `exp` and `nbf` may be off the caller's clock, in seconds.
pub const CLOCK_LEEWAY_SECONDS: i64 = 60;

const ALGORITHM: &str = "HS256";
const HMAC_LEN: usize = 32;

/// The outcome of a verification that did not fail.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum FlowTokenSignature {
    /// The request carries a `flow_token_signature`, and it holds: HS256 with one of the app
    /// secrets, over this request's `flow_token`, within its `exp`/`nbf`.
    Verified,
    /// The request carries no `flow_token_signature` (data API 3.0, or a ping).
    Absent,
}

impl FlowTokenSignature {
    /// `"verified"` or `"absent"`, the same in every binding.
    pub const fn as_str(self) -> &'static str {
        match self {
            FlowTokenSignature::Verified => "verified",
            FlowTokenSignature::Absent => "absent",
        }
    }
}

impl core::fmt::Display for FlowTokenSignature {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Verifies the `flow_token_signature` of a decrypted request (its JSON text).
///
/// `app_secrets` are the Meta app secrets to accept, newest first: more than one while a reset
/// secret is being rotated out. `now` is the caller's clock in Unix seconds; the core reads no
/// clock of its own.
///
/// ```
/// use wa_flows_crypto::client::sign_flow_token;
/// use wa_flows_crypto::{FlowTokenSignature, verify_flow_token_signature};
///
/// let jwt = sign_flow_token("flow-1", b"app secret", None);
/// let request = serde_json::json!({
///     "version": "4.0", "action": "INIT", "flow_token": "flow-1", "flow_token_signature": jwt,
/// })
/// .to_string();
/// let now = 1_767_286_945;
/// let outcome = verify_flow_token_signature(&request, &[b"app secret"], now)?;
/// assert_eq!(outcome, FlowTokenSignature::Verified);
/// let forged = verify_flow_token_signature(&request, &[b"another secret"], now).unwrap_err();
/// assert_eq!((forged.code(), forged.http_status()), ("invalid_flow_token_signature", Some(427)));
/// # Ok::<(), wa_flows_crypto::Error>(())
/// ```
///
/// # Errors
/// - [`crate::Error::InvalidFlowTokenSignature`] (HTTP 427) when the field is present but anything
///   about it is wrong;
/// - [`crate::Error::Malformed`] when `plaintext` is not a flow request (see [`FlowRequest::from_json`]);
/// - [`crate::Error::InvalidConfiguration`] for an empty list of secrets or an empty secret.
pub fn verify_flow_token_signature(
    plaintext: &str,
    app_secrets: &[&[u8]],
    now: i64,
) -> Result<FlowTokenSignature> {
    FlowRequest::from_json(plaintext)?.verify_flow_token_signature(app_secrets, now)
}

impl FlowRequest {
    /// Verifies this request's `flow_token_signature`; see [`verify_flow_token_signature`].
    ///
    /// # Errors
    /// As [`verify_flow_token_signature`].
    pub fn verify_flow_token_signature(
        &self,
        app_secrets: &[&[u8]],
        now: i64,
    ) -> Result<FlowTokenSignature> {
        check_app_secrets(app_secrets)?;
        let Some(field) = &self.flow_token_signature else {
            return Ok(FlowTokenSignature::Absent);
        };
        let Value::String(jwt) = field else {
            return Err(FlowTokenError::Malformed("the field is not a string").into());
        };
        let expected_token = self
            .flow_token
            .as_deref()
            .ok_or(FlowTokenError::Malformed("the request has no flow_token"))?;
        verify_jwt(jwt, expected_token, app_secrets, now)?;
        Ok(FlowTokenSignature::Verified)
    }
}

fn verify_jwt(jwt: &str, expected_token: &str, secrets: &[&[u8]], now: i64) -> Result<()> {
    if jwt.len() > MAX_FLOW_TOKEN_SIGNATURE_LEN {
        return Err(FlowTokenError::TooLarge.into());
    }
    let mut segments = jwt.split('.');
    let (Some(header_b64), Some(payload_b64), Some(signature_b64), None) = (
        segments.next(),
        segments.next(),
        segments.next(),
        segments.next(),
    ) else {
        return Err(FlowTokenError::Malformed("not three dot-separated segments").into());
    };
    let header = object_from_segment(header_b64, "the header is not a base64url JSON object")?;
    match header.get("alg") {
        Some(Value::String(alg)) if alg == ALGORITHM => {}
        _ => return Err(FlowTokenError::Algorithm.into()),
    }
    if header.contains_key("crit") {
        return Err(FlowTokenError::Critical.into());
    }
    let signature = decode_base64url(signature_b64)
        .ok_or(FlowTokenError::Malformed("the signature is not base64url"))?;
    if signature.len() != HMAC_LEN {
        return Err(FlowTokenError::Mismatch.into());
    }
    // The signed input is the two segments as sent, up to the second dot.
    let signed = jwt
        .get(..header_b64.len() + 1 + payload_b64.len())
        .unwrap_or_default();
    if !any_secret_signs(signed.as_bytes(), &signature, secrets) {
        return Err(FlowTokenError::Mismatch.into());
    }
    // Only an authentic payload is parsed.
    let payload = object_from_segment(payload_b64, "the payload is not a base64url JSON object")?;
    let Some(Value::String(signed_token)) = payload.get("flow_token") else {
        return Err(FlowTokenError::TokenMismatch.into());
    };
    let equal: bool = signed_token
        .as_bytes()
        .ct_eq(expected_token.as_bytes())
        .into();
    if !equal {
        return Err(FlowTokenError::TokenMismatch.into());
    }
    check_time(&payload, now)
}

/// Whether any secret's HMAC equals `signature`. Every secret is tried, so the time taken does
/// not tell which one matched.
fn any_secret_signs(signed: &[u8], signature: &[u8], secrets: &[&[u8]]) -> bool {
    let mut matched = subtle::Choice::from(0);
    for secret in secrets {
        matched |= mac(signed, secret)
            .finalize()
            .into_bytes()
            .as_slice()
            .ct_eq(signature);
    }
    matched.into()
}

fn check_time(payload: &Map<String, Value>, now: i64) -> Result<()> {
    let claim = |name: &str| -> Result<Option<f64>> {
        match payload.get(name) {
            None => Ok(None),
            Some(Value::Number(number)) => Ok(number.as_f64()),
            Some(_) => Err(FlowTokenError::Malformed("exp or nbf is not a number").into()),
        }
    };
    // Unix seconds are exact in f64 for 285 million years either way.
    #[allow(clippy::cast_precision_loss)]
    let (earliest, latest) = (
        now.saturating_sub(CLOCK_LEEWAY_SECONDS) as f64,
        now.saturating_add(CLOCK_LEEWAY_SECONDS) as f64,
    );
    if let Some(exp) = claim("exp")?
        && exp <= earliest
    {
        return Err(FlowTokenError::Expired.into());
    }
    if let Some(nbf) = claim("nbf")?
        && nbf > latest
    {
        return Err(FlowTokenError::NotYetValid.into());
    }
    Ok(())
}

/// Canonical unpadded base64url: no `=`, no `+` or `/`, no whitespace, no set unused bits.
fn decode_base64url(text: &str) -> Option<Vec<u8>> {
    use base64::Engine as _;
    use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
    const STRICT: GeneralPurpose = GeneralPurpose::new(
        &base64::alphabet::URL_SAFE,
        GeneralPurposeConfig::new()
            .with_decode_padding_mode(DecodePaddingMode::RequireNone)
            .with_decode_allow_trailing_bits(false),
    );
    STRICT.decode(text).ok()
}

fn object_from_segment(segment: &str, error: &'static str) -> Result<Map<String, Value>> {
    let bytes = decode_base64url(segment).ok_or(FlowTokenError::Malformed(error))?;
    match serde_json::from_slice::<UniqueKeys>(&bytes) {
        Ok(UniqueKeys(Value::Object(object))) => Ok(object),
        _ => Err(FlowTokenError::Malformed(error).into()),
    }
}

/// JSON in which no object, at any depth, names a member twice: `{"flow_token":"evil",
/// "flow_token":"good"}` means different things to different parsers.
struct UniqueKeys(Value);

impl<'de> serde::Deserialize<'de> for UniqueKeys {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer
            .deserialize_any(UniqueKeysVisitor)
            .map(UniqueKeys)
    }
}

struct UniqueKeysVisitor;

impl<'de> serde::de::Visitor<'de> for UniqueKeysVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("JSON without duplicate member names")
    }

    fn visit_bool<E>(self, value: bool) -> Result<Value, E> {
        Ok(Value::Bool(value))
    }

    fn visit_i64<E>(self, value: i64) -> Result<Value, E> {
        Ok(Value::from(value))
    }

    fn visit_u64<E>(self, value: u64) -> Result<Value, E> {
        Ok(Value::from(value))
    }

    fn visit_f64<E>(self, value: f64) -> Result<Value, E> {
        Ok(Value::from(value))
    }

    fn visit_str<E>(self, value: &str) -> Result<Value, E> {
        Ok(Value::String(value.to_owned()))
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::new();
        while let Some(UniqueKeys(item)) = seq.next_element()? {
            items.push(item);
        }
        Ok(Value::Array(items))
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut object = Map::new();
        while let Some(name) = map.next_key::<String>()? {
            let UniqueKeys(value) = map.next_value()?;
            if object.insert(name, value).is_some() {
                return Err(serde::de::Error::custom("duplicate member name"));
            }
        }
        Ok(Value::Object(object))
    }
}

/// A `flow_token_signature` as Flows makes it: HS256 over `{"flow_token": …}` (and `exp`,
/// when given), for clients and tests.
pub(crate) fn sign(flow_token: &str, app_secret: &[u8], exp: Option<i64>) -> String {
    use base64::Engine as _;
    let encode = |bytes: &[u8]| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes);
    let mut claims = Map::new();
    claims.insert(
        "flow_token".to_owned(),
        Value::String(flow_token.to_owned()),
    );
    if let Some(exp) = exp {
        claims.insert("exp".to_owned(), Value::from(exp));
    }
    let header = encode(br#"{"alg":"HS256","typ":"JWT"}"#);
    let payload = encode(Value::Object(claims).to_string().as_bytes());
    let signed = format!("{header}.{payload}");
    let signature = encode(&mac(signed.as_bytes(), app_secret).finalize().into_bytes());
    format!("{signed}.{signature}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request_with(signature: Value, token: Option<&str>) -> String {
        let mut object = serde_json::json!({"version": "4.0", "action": "INIT"});
        if let Some(token) = token {
            object["flow_token"] = token.into();
        }
        object["flow_token_signature"] = signature;
        object.to_string()
    }

    #[test]
    fn round_trips_and_refuses_each_rule() {
        let now = 1_800_000_000;
        let good = sign("t", b"s", Some(now + 10));
        let verify = |text: &str| verify_flow_token_signature(text, &[b"old", b"s"], now);
        assert_eq!(
            verify(&request_with(good.clone().into(), Some("t"))),
            Ok(FlowTokenSignature::Verified)
        );
        assert_eq!(
            verify(r#"{"action":"ping"}"#),
            Ok(FlowTokenSignature::Absent)
        );
        for (signature, token) in [
            (Value::from(good.clone()), Some("u")),
            (Value::from(good.clone()), None),
            (Value::Null, Some("t")),
            (Value::from(sign("t", b"s", Some(now - 61))), Some("t")),
            (Value::from(format!("{good}.")), Some("t")),
            (
                Value::from("x".repeat(MAX_FLOW_TOKEN_SIGNATURE_LEN + 1)),
                Some("t"),
            ),
        ] {
            let error = verify(&request_with(signature.clone(), token)).unwrap_err();
            assert_eq!(error.code(), "invalid_flow_token_signature", "{signature}");
            assert_eq!(error.http_status(), Some(427));
        }
        assert!(
            verify(&request_with(
                sign("t", b"s", Some(now - 59)).into(),
                Some("t")
            ))
            .is_ok(),
            "inside the leeway"
        );
    }

    /// A JWS over exactly this header and payload text, made with `secret`.
    fn jws(header: &str, payload: &str, secret: &[u8]) -> String {
        use base64::Engine as _;
        let encode = |bytes: &[u8]| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes);
        let signing_input = format!(
            "{}.{}",
            encode(header.as_bytes()),
            encode(payload.as_bytes())
        );
        let tag = mac(signing_input.as_bytes(), secret)
            .finalize()
            .into_bytes();
        format!("{signing_input}.{}", encode(&tag))
    }

    fn problem(jwt: &str, now: i64) -> Option<FlowTokenError> {
        match verify_flow_token_signature(&request_with(jwt.into(), Some("t")), &[b"s"], now) {
            Ok(_) => None,
            Err(crate::Error::InvalidFlowTokenSignature(problem)) => Some(problem),
            Err(other) => panic!("{other:?}"),
        }
    }

    #[test]
    fn each_claim_is_read_with_its_json_type_and_its_exact_bounds() {
        let now = 1_800_000_000;
        let header = r#"{"alg":"HS256","typ":"JWT"}"#;
        let with = |claims: &str| jws(header, &format!(r#"{{"flow_token":"t"{claims}}}"#), b"s");
        // exp in the past by more than the leeway, as a negative integer and as a float.
        assert_eq!(
            problem(&with(r#","exp":-1"#), now),
            Some(FlowTokenError::Expired)
        );
        assert_eq!(
            problem(&with(r#","exp":1799990000.5"#), now),
            Some(FlowTokenError::Expired)
        );
        assert_eq!(problem(&with(r#","exp":1800000000.5"#), now), None);
        // nbf up to the leeway ahead is valid, one second more is not.
        assert_eq!(problem(&with(r#","nbf":1800000060"#), now), None);
        assert_eq!(
            problem(&with(r#","nbf":1800000061"#), now),
            Some(FlowTokenError::NotYetValid)
        );
        // Other claims are ignored whatever their type; escaped strings are read unescaped.
        assert_eq!(
            problem(&with(r#","admin":true,"n":null,"neg":-3,"f":0.5"#), now),
            None
        );
        assert_eq!(
            problem(
                &jws(
                    r#"{"alg":"HS\u0032\u0035\u0036"}"#,
                    r#"{"flow_token":"\u0074"}"#,
                    b"s"
                ),
                now
            ),
            None
        );
        // At most 16 KiB: exactly that is read (and is malformed here), one byte more is not.
        let at_limit = "a".repeat(MAX_FLOW_TOKEN_SIGNATURE_LEN);
        assert!(matches!(
            problem(&at_limit, now),
            Some(FlowTokenError::Malformed(_))
        ));
        assert_eq!(
            problem(&format!("{at_limit}a"), now),
            Some(FlowTokenError::TooLarge)
        );
    }

    #[test]
    fn duplicate_free_json_keeps_every_value() {
        let text = r#"{"b":true,"f":false,"n":null,"i":-7,"u":7,"x":1.25,"s":"\u00e9t\u00e9","a":[1,{"k":"v"}]}"#;
        let UniqueKeys(value) = serde_json::from_str(text).unwrap();
        assert_eq!(value, serde_json::from_str::<Value>(text).unwrap());
    }

    #[test]
    fn outcomes_display_as_their_names() {
        assert_eq!(FlowTokenSignature::Verified.to_string(), "verified");
        assert_eq!(FlowTokenSignature::Absent.to_string(), "absent");
    }

    #[test]
    fn secrets_must_be_configured() {
        let text = request_with(sign("t", b"s", None).into(), Some("t"));
        for secrets in [&[][..], &[&b""[..]][..], &[&b"s"[..], &b""[..]][..]] {
            assert_eq!(
                verify_flow_token_signature(&text, secrets, 0)
                    .unwrap_err()
                    .code(),
                "invalid_configuration"
            );
        }
    }

    #[test]
    fn duplicate_names_are_refused_at_any_depth() {
        for text in [
            r#"{"a":1,"a":2}"#,
            r#"{"a":{"b":1,"b":1}}"#,
            r#"[{"c":1,"c":1}]"#,
        ] {
            assert!(serde_json::from_str::<UniqueKeys>(text).is_err(), "{text}");
        }
        assert!(serde_json::from_str::<UniqueKeys>(r#"{"a":{"a":1},"b":[1,{"a":2}]}"#).is_ok());
    }
}

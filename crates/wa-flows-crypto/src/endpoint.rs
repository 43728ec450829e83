//! The one-call tier: every step of a Flows endpoint, in order, configured once.
//!
//! Every binding's `FlowEndpoint` is this type, so the order of the checks and the status of
//! each failure are decided here once: the request signature (432), decryption (421), the
//! flow request itself (421), then the flow token signature (427).

use zeroize::Zeroizing;

use crate::error::{Error, Result};
use crate::flow::{ERROR_ACKNOWLEDGEMENT, FlowRequest, PING_RESPONSE};
use crate::key::FlowKeyRing;
use crate::request::DecryptedRequest;
use crate::response::ResponseKey;
use crate::signature::{FlowTokenSignature, check_app_secrets, verify_signature_any};

/// What to do with data API 4.0's `flow_token_signature`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum FlowTokenSignaturePolicy {
    /// Verify it when the request carries one; accept requests without (data API 3.0).
    #[default]
    IfPresent,
    /// Every request but a ping must carry a valid one.
    Required,
    /// Do not look at it.
    Off,
}

impl FlowTokenSignaturePolicy {
    /// The policy named `if_present`, `required` or `off`, as configuration spells it.
    pub fn from_name(name: &str) -> Option<Self> {
        match name {
            "if_present" => Some(Self::IfPresent),
            "required" => Some(Self::Required),
            "off" => Some(Self::Off),
            _ => None,
        }
    }

    /// `if_present`, `required` or `off`.
    pub const fn name(self) -> &'static str {
        match self {
            Self::IfPresent => "if_present",
            Self::Required => "required",
            Self::Off => "off",
        }
    }
}

/// A Flows endpoint's cryptography, configured once at start-up and shared by every request.
///
/// ```
/// use wa_flows_crypto::client::{seal_request, sign_flow_token};
/// use wa_flows_crypto::endpoint::{FlowEndpoint, FlowTokenSignaturePolicy};
/// use wa_flows_crypto::{sign, FlowPrivateKey};
///
/// let key = FlowPrivateKey::generate()?;
/// let endpoint = FlowEndpoint::new(key.clone(), &[b"app secret"], FlowTokenSignaturePolicy::Required)?;
///
/// // What WhatsApp sends: a 4.0 request, sealed for the public key and signed.
/// let request = serde_json::json!({
///     "version": "4.0", "action": "INIT", "flow_token": "flow-1",
///     "flow_token_signature": sign_flow_token("flow-1", b"app secret", None),
/// });
/// let (body, session) = seal_request(&key.public_key(), request.to_string().as_bytes())?;
/// let header = sign(body.as_bytes(), b"app secret");
///
/// let opened = endpoint.open(body.as_bytes(), Some(&header), 1_767_286_945)?;
/// assert_eq!(opened.flow().flow_token.as_deref(), Some("flow-1"));
/// let answer = opened.respond(br#"{"screen":"WELCOME","data":{}}"#);
/// assert_eq!(session.open_response(&answer)?, br#"{"screen":"WELCOME","data":{}}"#);
///
/// let forged = endpoint.open(body.as_bytes(), Some("sha256=00"), 0).unwrap_err();
/// assert_eq!(forged.http_status(), Some(432));
/// # Ok::<(), wa_flows_crypto::Error>(())
/// ```
#[derive(Clone)]
pub struct FlowEndpoint {
    keys: FlowKeyRing,
    app_secrets: Vec<Zeroizing<Vec<u8>>>,
    policy: FlowTokenSignaturePolicy,
}

impl FlowEndpoint {
    /// An endpoint with a key or key ring (newest first), zero or more app secrets (newest
    /// first) and a flow-token-signature policy.
    ///
    /// With no app secret, request signatures are not checked (a deployment that has not
    /// configured its secret yet) and no flow token signature can be: the policy must then be
    /// `Off` or `IfPresent`, which checks nothing.
    ///
    /// # Errors
    /// [`Error::InvalidConfiguration`] (500) for an empty secret, or `Required` without one.
    pub fn new(
        keys: impl Into<FlowKeyRing>,
        app_secrets: &[&[u8]],
        policy: FlowTokenSignaturePolicy,
    ) -> Result<Self> {
        if !app_secrets.is_empty() {
            check_app_secrets(app_secrets)?;
        } else if policy == FlowTokenSignaturePolicy::Required {
            return Err(Error::InvalidConfiguration(
                "flow_token_signature is required, but no app secret is configured to verify it",
            ));
        }
        Ok(Self {
            keys: keys.into(),
            app_secrets: app_secrets
                .iter()
                .map(|secret| Zeroizing::new(secret.to_vec()))
                .collect(),
            policy,
        })
    }

    /// The keys, newest first.
    pub fn keys(&self) -> &FlowKeyRing {
        &self.keys
    }

    /// The flow-token-signature policy.
    pub fn policy(&self) -> FlowTokenSignaturePolicy {
        self.policy
    }

    /// Runs every step on one POST: the `X-Hub-Signature-256` header (when app secrets are
    /// configured), decryption with the key ring, the flow request, and the flow token
    /// signature under the policy. `now` is the caller's clock in Unix seconds.
    ///
    /// # Errors
    /// Each with its HTTP status ([`Error::http_status`]): [`Error::InvalidSignature`] (432),
    /// [`Error::Malformed`], [`Error::KeyUnwrap`], [`Error::PayloadAuth`] (421),
    /// [`Error::InvalidFlowTokenSignature`] (427).
    pub fn open(
        &self,
        raw_body: &[u8],
        signature_header: Option<&str>,
        now: i64,
    ) -> Result<OpenedRequest> {
        self.verify_request_signature(raw_body, signature_header)?;
        let decrypted = self.keys.decrypt_request(raw_body)?;
        self.open_decrypted(decrypted, now)
    }

    /// Step one of [`open`](Self::open) on its own: the `X-Hub-Signature-256` header against
    /// the raw body with every app secret (nothing to check when none is configured). For a
    /// host that decrypts with its own primitives in between and then calls
    /// [`open_decrypted`](Self::open_decrypted), so that the steps keep the core's order.
    ///
    /// # Errors
    /// [`Error::InvalidSignature`] (432).
    pub fn verify_request_signature(
        &self,
        raw_body: &[u8],
        signature_header: Option<&str>,
    ) -> Result<()> {
        let secrets = self.secrets();
        if !secrets.is_empty() {
            verify_signature_any(raw_body, signature_header.unwrap_or_default(), &secrets)?;
        }
        Ok(())
    }

    /// The steps of [`open`](Self::open) after decryption: the flow request and the flow token
    /// signature under the policy, on a request this endpoint's keys opened.
    ///
    /// # Errors
    /// [`Error::Malformed`] (421), [`Error::InvalidFlowTokenSignature`] (427).
    pub fn open_decrypted(&self, decrypted: DecryptedRequest, now: i64) -> Result<OpenedRequest> {
        let secrets = self.secrets();
        let flow = decrypted.request()?;
        let flow_token_signature = match self.policy {
            FlowTokenSignaturePolicy::Off => None,
            _ if secrets.is_empty() => None,
            FlowTokenSignaturePolicy::IfPresent => {
                Some(flow.verify_flow_token_signature(&secrets, now)?)
            }
            FlowTokenSignaturePolicy::Required => {
                let outcome = flow.verify_flow_token_signature(&secrets, now)?;
                if outcome == FlowTokenSignature::Absent && !flow.is_ping() {
                    return Err(crate::error::FlowTokenError::Malformed(
                        "the request has no flow_token_signature, and it is required",
                    )
                    .into());
                }
                Some(outcome)
            }
        };
        Ok(OpenedRequest {
            decrypted,
            flow,
            flow_token_signature,
        })
    }

    fn secrets(&self) -> Vec<&[u8]> {
        self.app_secrets.iter().map(|s| s.as_slice()).collect()
    }
}

impl core::fmt::Debug for FlowEndpoint {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("FlowEndpoint")
            .field("keys", &self.keys.len())
            .field("app_secrets", &self.app_secrets.len())
            .field("policy", &self.policy)
            .finish()
    }
}

/// A request that passed every step of [`FlowEndpoint::open`].
#[derive(Clone, Debug)]
pub struct OpenedRequest {
    decrypted: DecryptedRequest,
    flow: FlowRequest,
    flow_token_signature: Option<FlowTokenSignature>,
}

impl OpenedRequest {
    /// The typed view of the request.
    pub fn flow(&self) -> &FlowRequest {
        &self.flow
    }

    /// The decrypted request: its plaintext, response key and key index.
    pub fn decrypted(&self) -> &DecryptedRequest {
        &self.decrypted
    }

    /// What the flow token signature check found (`None` when the policy is off or no app
    /// secret is configured).
    pub fn flow_token_signature(&self) -> Option<FlowTokenSignature> {
        self.flow_token_signature
    }

    /// The answer the protocol fixes, when there is one: [`PING_RESPONSE`] for a ping,
    /// [`ERROR_ACKNOWLEDGEMENT`] for an error notification. Send it with
    /// [`respond`](Self::respond) instead of calling the flow's own logic.
    pub fn automatic_response(&self) -> Option<&'static str> {
        self.flow.automatic_response()
    }

    /// Encrypts the answer; the result is the HTTP body (`text/plain`, status 200).
    pub fn respond(&self, answer: &[u8]) -> String {
        self.decrypted.encrypt_response(answer)
    }

    /// The answer for a flow token the application itself finds expired or invalid: status
    /// 427 and the encrypted `{"error_msg": …}` WhatsApp shows the user.
    pub fn flow_token_error(&self, error_msg: &str) -> (u16, String) {
        flow_token_error_response(self.decrypted.response_key(), error_msg)
    }
}

/// Status 427 and the encrypted `{"error_msg": …}` body, for a flow token the application
/// finds expired or invalid (WhatsApp then shows `error_msg` and closes the flow).
pub fn flow_token_error_response(response_key: &ResponseKey, error_msg: &str) -> (u16, String) {
    let body = serde_json::json!({ "error_msg": error_msg }).to_string();
    (
        FLOW_TOKEN_ERROR_STATUS,
        response_key.encrypt(body.as_bytes()),
    )
}

/// The HTTP status of an invalid or expired flow token.
pub const FLOW_TOKEN_ERROR_STATUS: u16 = 427;

impl FlowRequest {
    /// The answer the protocol fixes for this request, if any: [`PING_RESPONSE`] for a ping,
    /// [`ERROR_ACKNOWLEDGEMENT`] for an error notification.
    pub fn automatic_response(&self) -> Option<&'static str> {
        if self.is_ping() {
            Some(PING_RESPONSE)
        } else if self.is_error_notification() {
            Some(ERROR_ACKNOWLEDGEMENT)
        } else {
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::client::{seal_request, sign_flow_token};
    use crate::{FlowPrivateKey, sign};

    fn body_for(
        key: &FlowPrivateKey,
        request: &serde_json::Value,
    ) -> (String, crate::client::ClientSession) {
        seal_request(&key.public_key(), request.to_string().as_bytes()).unwrap()
    }

    #[test]
    fn each_step_fails_with_its_status_in_order() {
        let (new, old) = (
            FlowPrivateKey::generate().unwrap(),
            FlowPrivateKey::generate().unwrap(),
        );
        let ring = FlowKeyRing::new(vec![new, old.clone()]).unwrap();
        let secrets: [&[u8]; 2] = [b"new", b"old"];
        let endpoint =
            FlowEndpoint::new(ring, &secrets, FlowTokenSignaturePolicy::Required).unwrap();
        let signed = serde_json::json!({
            "version": "4.0", "action": "data_exchange", "flow_token": "t",
            "flow_token_signature": sign_flow_token("t", b"old", None),
        });
        let (body, session) = body_for(&old, &signed);
        let header = sign(body.as_bytes(), b"old");
        let opened = endpoint.open(body.as_bytes(), Some(&header), 0).unwrap();
        assert_eq!(opened.decrypted().key_index(), 1);
        assert_eq!(
            opened.flow_token_signature(),
            Some(FlowTokenSignature::Verified)
        );
        assert_eq!(opened.automatic_response(), None);
        let (status, answer) = opened.flow_token_error("expired");
        assert_eq!(status, 427);
        assert_eq!(
            session.open_response(&answer).unwrap(),
            br#"{"error_msg":"expired"}"#
        );

        // 432 before anything is decrypted, even for a body that would not decrypt.
        assert_eq!(
            endpoint.open(b"junk", None, 0).unwrap_err().http_status(),
            Some(432)
        );
        let junk_header = sign(b"junk", b"new");
        assert_eq!(
            endpoint
                .open(b"junk", Some(&junk_header), 0)
                .unwrap_err()
                .http_status(),
            Some(421)
        );
        // Required: a request without a token signature is 427, a ping is not.
        let unsigned = serde_json::json!({"version": "4.0", "action": "INIT", "flow_token": "t"});
        let (body, _) = body_for(&old, &unsigned);
        let header = sign(body.as_bytes(), b"new");
        assert_eq!(
            endpoint
                .open(body.as_bytes(), Some(&header), 0)
                .unwrap_err()
                .http_status(),
            Some(427)
        );
        let (body, _) = body_for(
            &old,
            &serde_json::json!({"version": "3.0", "action": "ping"}),
        );
        let header = sign(body.as_bytes(), b"new");
        let ping = endpoint.open(body.as_bytes(), Some(&header), 0).unwrap();
        assert_eq!(ping.automatic_response(), Some(PING_RESPONSE));
    }

    #[test]
    fn the_separate_steps_give_what_open_gives() {
        let key = FlowPrivateKey::generate().unwrap();
        let secrets: [&[u8]; 1] = [b"secret"];
        let endpoint =
            FlowEndpoint::new(key.clone(), &secrets, FlowTokenSignaturePolicy::Required).unwrap();
        let request = serde_json::json!({
            "version": "4.0", "action": "INIT", "flow_token": "t",
            "flow_token_signature": sign_flow_token("t", b"secret", None),
        });
        let (body, _) = body_for(&key, &request);
        let header = sign(body.as_bytes(), b"secret");
        let whole = endpoint.open(body.as_bytes(), Some(&header), 0).unwrap();
        endpoint
            .verify_request_signature(body.as_bytes(), Some(&header))
            .unwrap();
        let (plaintext, response_key) = key.decrypt_request(body.as_bytes()).unwrap().into_parts();
        let rebuilt = DecryptedRequest::from_parts(plaintext, response_key, 0).unwrap();
        let stepwise = endpoint.open_decrypted(rebuilt, 0).unwrap();
        assert_eq!(stepwise.flow(), whole.flow());
        assert_eq!(
            stepwise.flow_token_signature(),
            whole.flow_token_signature()
        );
        assert_eq!(stepwise.respond(b"{}"), whole.respond(b"{}"));
        assert_eq!(
            endpoint
                .verify_request_signature(body.as_bytes(), Some("sha256=00"))
                .unwrap_err()
                .http_status(),
            Some(432)
        );
        // The rule every decryption applies holds for rebuilt requests too.
        let key_again = whole.decrypted().response_key().clone();
        for not_an_object in ["[1]", "\"ping\"", "", "{} x"] {
            assert!(matches!(
                DecryptedRequest::from_parts(not_an_object.to_owned(), key_again.clone(), 0),
                Err(Error::Malformed(_))
            ));
        }
        // And the later steps still refuse: here a token signed with another secret.
        let forged = serde_json::json!({
            "version": "4.0", "action": "INIT", "flow_token": "t",
            "flow_token_signature": sign_flow_token("t", b"other", None),
        });
        let rebuilt = DecryptedRequest::from_parts(forged.to_string(), key_again, 0).unwrap();
        assert_eq!(
            endpoint
                .open_decrypted(rebuilt, 0)
                .unwrap_err()
                .http_status(),
            Some(427)
        );
    }

    #[test]
    fn configuration_errors_are_500() {
        let key = FlowPrivateKey::generate().unwrap();
        for (secrets, policy) in [
            (&[&b""[..]][..], FlowTokenSignaturePolicy::IfPresent),
            (&[][..], FlowTokenSignaturePolicy::Required),
        ] {
            let error = FlowEndpoint::new(key.clone(), secrets, policy).unwrap_err();
            assert_eq!(error.http_status(), Some(500));
        }
        assert!(FlowEndpoint::new(key, &[], FlowTokenSignaturePolicy::IfPresent).is_ok());
        for policy in [
            FlowTokenSignaturePolicy::IfPresent,
            FlowTokenSignaturePolicy::Required,
            FlowTokenSignaturePolicy::Off,
        ] {
            assert_eq!(
                FlowTokenSignaturePolicy::from_name(policy.name()),
                Some(policy)
            );
        }
    }

    #[test]
    fn without_app_secrets_nothing_is_verified_and_answers_still_decrypt() {
        let key = FlowPrivateKey::generate().unwrap();
        let endpoint =
            FlowEndpoint::new(key.clone(), &[], FlowTokenSignaturePolicy::IfPresent).unwrap();
        assert_eq!(
            format!("{endpoint:?}"),
            "FlowEndpoint { keys: 1, app_secrets: 0, policy: IfPresent }"
        );
        // A token signature with no secret to check it against gets no verdict, not a 427.
        let request = serde_json::json!({
            "version": "4.0", "action": "INIT", "flow_token": "t",
            "flow_token_signature": sign_flow_token("t", b"a secret it does not have", None),
        });
        let (body, session) = body_for(&key, &request);
        let opened = endpoint.open(body.as_bytes(), None, 0).unwrap();
        assert_eq!(opened.flow_token_signature(), None);
        let answer = opened.respond(br#"{"screen":"S","data":{}}"#);
        assert_eq!(
            session.open_response(&answer).unwrap(),
            br#"{"screen":"S","data":{}}"#
        );
        let secret: [&[u8]; 1] = [b"hunter2"];
        for policy in [
            FlowTokenSignaturePolicy::Off,
            FlowTokenSignaturePolicy::IfPresent,
            FlowTokenSignaturePolicy::Required,
        ] {
            let endpoint = FlowEndpoint::new(key.clone(), &secret, policy).unwrap();
            assert_eq!(endpoint.policy(), policy);
            assert!(!format!("{endpoint:?}").contains("hunter2"));
        }
    }

    #[test]
    fn error_notifications_with_only_a_key_are_acknowledged() {
        let request =
            FlowRequest::from_json(r#"{"action":"data_exchange","data":{"error_key":"k"}}"#)
                .unwrap();
        assert_eq!(request.automatic_response(), Some(ERROR_ACKNOWLEDGEMENT));
    }
}

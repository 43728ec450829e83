//! The decrypted request as a Flows endpoint sees it, and the fixed answers the protocol
//! defines.

use serde_json::Value;

use crate::error::{Error, Result};

/// The answer to a health check (`action: ping`).
pub const PING_RESPONSE: &str = r#"{"data":{"status":"active"}}"#;

/// The answer to an error notification (a request whose `data` carries `error`).
pub const ERROR_ACKNOWLEDGEMENT: &str = r#"{"data":{"acknowledged":true}}"#;

/// What the user (or WhatsApp) did.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Action {
    /// A health check; answer [`PING_RESPONSE`].
    Ping,
    /// The flow was opened.
    Init,
    /// A screen submitted data.
    DataExchange,
    /// The user pressed back (only when the screen asks for it).
    Back,
    /// An action this crate does not know yet, kept as sent.
    Other(String),
}

impl Action {
    /// Reads the wire name: `ping`, `INIT`, `data_exchange`, `BACK` (case-insensitive).
    pub fn from_wire(name: &str) -> Self {
        if name.eq_ignore_ascii_case("ping") {
            Action::Ping
        } else if name.eq_ignore_ascii_case("INIT") {
            Action::Init
        } else if name.eq_ignore_ascii_case("data_exchange") {
            Action::DataExchange
        } else if name.eq_ignore_ascii_case("BACK") {
            Action::Back
        } else {
            Action::Other(name.to_owned())
        }
    }

    /// The wire name as WhatsApp writes it.
    pub fn as_wire(&self) -> &str {
        match self {
            Action::Ping => "ping",
            Action::Init => "INIT",
            Action::DataExchange => "data_exchange",
            Action::Back => "BACK",
            Action::Other(name) => name,
        }
    }
}

/// An error that WhatsApp reports about the endpoint's previous answer: `data` carries
/// `error`, `error_key`, or both.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ErrorNotification {
    /// `data.error`, e.g. `INVALID_SCREEN_TRANSITION`, when present.
    pub error: Option<String>,
    /// `data.error_message`, when present.
    pub error_message: Option<String>,
    /// `data.error_key`, when present.
    pub error_key: Option<String>,
}

/// A typed view of a decrypted request.
///
/// ```
/// use wa_flows_crypto::{Action, FlowRequest};
///
/// let request = FlowRequest::from_json(
///     r#"{"version":"3.0","action":"data_exchange","screen":"A","flow_token":"t","data":{"x":1}}"#,
/// )?;
/// assert_eq!(request.action, Action::DataExchange);
/// assert_eq!(request.data["x"], 1);
/// assert!(!request.is_ping());
/// # Ok::<(), wa_flows_crypto::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct FlowRequest {
    /// The protocol version, e.g. `3.0`.
    pub version: Option<String>,
    /// What happened.
    pub action: Action,
    /// The screen that sent the request (`data_exchange`, `BACK`).
    pub screen: Option<String>,
    /// The screen's data; `Value::Null` when absent.
    pub data: Value,
    /// The token the business issued when it sent the flow.
    pub flow_token: Option<String>,
    /// Data API 4.0: the `flow_token_signature` field as sent, of any JSON type (`None` when
    /// absent). Check it with [`FlowRequest::verify_flow_token_signature`].
    pub flow_token_signature: Option<Value>,
}

impl FlowRequest {
    /// Parses the decrypted JSON text.
    ///
    /// # Errors
    /// [`Error::Malformed`] if it is not a JSON object with a string `action`, or if
    /// `version`, `screen` or `flow_token` is present but not a string.
    pub fn from_json(plaintext: &str) -> Result<Self> {
        let value: Value = serde_json::from_str(plaintext)
            .map_err(|_| Error::Malformed("the decrypted request is not JSON"))?;
        Self::from_value(value)
    }

    /// As [`from_json`](Self::from_json), from parsed JSON.
    ///
    /// # Errors
    /// As [`from_json`](Self::from_json).
    pub fn from_value(value: Value) -> Result<Self> {
        let Value::Object(mut object) = value else {
            return Err(Error::Malformed(
                "the decrypted request is not a JSON object",
            ));
        };
        let action = match object.get("action") {
            Some(Value::String(action)) => Action::from_wire(action),
            Some(_) => return Err(Error::Malformed("`action` is not a string")),
            None => return Err(Error::Malformed("the decrypted request has no `action`")),
        };
        let mut text = |name: &str, error: &'static str| match object.remove(name) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(text)) => Ok(Some(text)),
            Some(_) => Err(Error::Malformed(error)),
        };
        let version = text("version", "`version` is not a string")?;
        let screen = text("screen", "`screen` is not a string")?;
        let flow_token = text("flow_token", "`flow_token` is not a string")?;
        let data = object.remove("data").unwrap_or(Value::Null);
        let flow_token_signature = object.remove("flow_token_signature");
        Ok(Self {
            version,
            action,
            screen,
            data,
            flow_token,
            flow_token_signature,
        })
    }

    /// Whether this is a health check, to be answered with [`PING_RESPONSE`].
    pub fn is_ping(&self) -> bool {
        self.action == Action::Ping
    }

    /// The error WhatsApp reports, if this request is an error notification: its `data`
    /// holds a string `error` or `error_key` (some clients send only the key). Answer it with
    /// [`ERROR_ACKNOWLEDGEMENT`].
    pub fn error_notification(&self) -> Option<ErrorNotification> {
        let text = |name: &str| {
            self.data
                .get(name)
                .and_then(Value::as_str)
                .map(str::to_owned)
        };
        let (error, error_key) = (text("error"), text("error_key"));
        if error.is_none() && error_key.is_none() {
            return None;
        }
        Some(ErrorNotification {
            error,
            error_message: text("error_message"),
            error_key,
        })
    }

    /// Whether this request is an error notification.
    pub fn is_error_notification(&self) -> bool {
        self.error_notification().is_some()
    }
}

/// The view every binding builds its `FlowRequest` from, so that none re-derives a rule:
/// `action` as the core names it (`ping`, `INIT`, `data_exchange`, `BACK`, or an unknown one as
/// sent), `screen`, `data`, `flow_token`, `version`, `is_ping`, and `error_notification`
/// (`null` or `{error, error_message, error_key}`).
///
/// ```
/// use wa_flows_crypto::FlowRequest;
/// let request = FlowRequest::from_json(r#"{"action":"init","data":{"error_key":"k"}}"#)?;
/// let view = serde_json::to_value(&request).unwrap();
/// assert_eq!(view["action"], "INIT");
/// assert_eq!(view["error_notification"]["error_key"], "k");
/// # Ok::<(), wa_flows_crypto::Error>(())
/// ```
impl serde::Serialize for FlowRequest {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct as _;
        let notification = self.error_notification().map(|notification| {
            serde_json::json!({
                "error": notification.error,
                "error_message": notification.error_message,
                "error_key": notification.error_key,
            })
        });
        let mut view = serializer.serialize_struct("FlowRequest", 7)?;
        view.serialize_field("action", self.action.as_wire())?;
        view.serialize_field("screen", &self.screen)?;
        view.serialize_field("data", &self.data)?;
        view.serialize_field("flow_token", &self.flow_token)?;
        view.serialize_field("version", &self.version)?;
        view.serialize_field("is_ping", &self.is_ping())?;
        view.serialize_field("error_notification", &notification)?;
        view.end()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_every_action_and_keeps_unknown_ones() {
        for (wire, action) in [
            ("ping", Action::Ping),
            ("INIT", Action::Init),
            ("data_exchange", Action::DataExchange),
            ("BACK", Action::Back),
        ] {
            assert_eq!(Action::from_wire(wire), action);
            assert_eq!(action.as_wire(), wire);
        }
        assert_eq!(
            Action::from_wire("navigate"),
            Action::Other("navigate".into())
        );
    }

    #[test]
    fn detects_error_notifications() {
        let request = FlowRequest::from_json(
            r#"{"version":"3.0","action":"data_exchange","flow_token":"t",
                "data":{"error":"INVALID_SCREEN_TRANSITION","error_message":"screen X not found"}}"#,
        )
        .unwrap();
        let notification = request.error_notification().unwrap();
        assert_eq!(
            notification.error.as_deref(),
            Some("INVALID_SCREEN_TRANSITION")
        );
        assert_eq!(
            notification.error_message.as_deref(),
            Some("screen X not found")
        );
        assert_eq!(notification.error_key, None);
        let only_key = FlowRequest::from_json(
            r#"{"action":"data_exchange","data":{"error_key":"flow.error.timeout"}}"#,
        )
        .unwrap()
        .error_notification()
        .unwrap();
        assert_eq!(only_key.error, None);
        assert_eq!(only_key.error_key.as_deref(), Some("flow.error.timeout"));
        for data in [r#"{"error":1}"#, r#"{"x":"y"}"#, "null", "[]"] {
            let text = format!(r#"{{"action":"data_exchange","data":{data}}}"#);
            assert!(
                !FlowRequest::from_json(&text)
                    .unwrap()
                    .is_error_notification(),
                "{data}"
            );
        }
        let ping = FlowRequest::from_json(r#"{"action":"ping"}"#).unwrap();
        assert!(ping.is_ping() && !ping.is_error_notification());
    }

    #[test]
    fn refuses_wrong_types() {
        for text in [
            "[]",
            "{}",
            r#"{"action":1}"#,
            r#"{"action":"INIT","screen":3}"#,
            "not json",
        ] {
            assert_eq!(
                FlowRequest::from_json(text).unwrap_err().code(),
                "malformed",
                "{text}"
            );
        }
    }
}

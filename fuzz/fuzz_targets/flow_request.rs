//! `FlowRequest::from_json`, the typed view of a decrypted request, against
//! `serde_json::Value` as the reader (`flow_common::flow_request_value`) and against the
//! request-payload rule every decryption applies (`DecryptedRequest::from_parts`).
//!
//! Input: the decrypted text (bytes that are not UTF-8 are not text: `from_json` takes `&str`).
//!
//! Rules: never a panic; accepted exactly when `Value` reads a JSON object with a string
//! `action` and `version`, `screen`, `flow_token` each absent, `null` or a string; refused
//! always as `malformed` (421). An accepted request has every field as `Value` reads it (the
//! action as `Action::from_wire` names it, `data` as sent or `null`, the
//! `flow_token_signature` of any type), `from_value` gives the same request, its error
//! notification is `data.error` / `data.error_key` when either is a string, and its serialized
//! view says all that again. Every accepted text also passes the payload rule; the other way
//! is an expected difference: the payload rule only scans numbers, so `{"n":1e400}` is a
//! payload that `Value` (and so the flow request) refuses as out of range, and it needs no
//! `action`. Duplicate member names read as `Value` reads them, on both sides: the last wins.

#![no_main]

#[path = "flow_common.rs"]
mod flow_common;

use flow_common::flow_request_value;
use serde_json::Value;
use wa_flows_crypto::flow::{ERROR_ACKNOWLEDGEMENT, PING_RESPONSE};
use wa_flows_crypto::{Action, AesKey, DecryptedRequest, FlowRequest, ResponseKey};

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let Ok(text) = core::str::from_utf8(data) else {
        return;
    };
    let parsed = FlowRequest::from_json(text);
    let payload = DecryptedRequest::from_parts(
        text.to_owned(),
        ResponseKey::new(AesKey::new([0; 16]), [0; 16]),
        0,
    );
    let Some(object) = flow_request_value(text) else {
        let error = parsed.unwrap_err();
        assert_eq!(
            (error.code(), error.http_status()),
            ("malformed", Some(421))
        );
        if let Err(error) = payload {
            assert_eq!(error.code(), "malformed");
        }
        return;
    };
    let request = parsed.unwrap();
    assert!(payload.is_ok(), "a flow request that is no request payload");
    assert_eq!(
        FlowRequest::from_value(Value::Object(object.clone())).as_ref(),
        Ok(&request)
    );
    let text_field = |name: &str| object.get(name).and_then(Value::as_str).map(str::to_owned);
    let action = text_field("action").unwrap();
    assert_eq!(request.action, Action::from_wire(&action));
    let known = ["ping", "INIT", "data_exchange", "BACK"]
        .into_iter()
        .find(|wire| wire.eq_ignore_ascii_case(&action));
    assert_eq!(request.action.as_wire(), known.unwrap_or(&action));
    assert_eq!(matches!(request.action, Action::Other(_)), known.is_none());
    assert_eq!(request.is_ping(), action.eq_ignore_ascii_case("ping"));
    assert_eq!(request.version, text_field("version"));
    assert_eq!(request.screen, text_field("screen"));
    assert_eq!(request.flow_token, text_field("flow_token"));
    assert_eq!(
        request.data,
        object.get("data").cloned().unwrap_or(Value::Null)
    );
    assert_eq!(
        request.flow_token_signature,
        object.get("flow_token_signature").cloned()
    );
    let data_text = |name: &str| request.data.get(name).and_then(Value::as_str);
    let notification = request.error_notification();
    assert_eq!(
        notification.is_some(),
        data_text("error").is_some() || data_text("error_key").is_some()
    );
    if let Some(notification) = &notification {
        assert_eq!(notification.error.as_deref(), data_text("error"));
        assert_eq!(notification.error_key.as_deref(), data_text("error_key"));
        assert_eq!(
            notification.error_message.as_deref(),
            data_text("error_message")
        );
    }
    let automatic = if request.is_ping() {
        Some(PING_RESPONSE)
    } else if notification.is_some() {
        Some(ERROR_ACKNOWLEDGEMENT)
    } else {
        None
    };
    assert_eq!(request.automatic_response(), automatic);
    let view = serde_json::to_value(&request).unwrap();
    assert_eq!(view["action"], request.action.as_wire());
    assert_eq!(view["is_ping"], request.is_ping());
    assert_eq!(view["data"], request.data);
    assert_eq!(
        view["flow_token"],
        object.get("flow_token").cloned().unwrap_or(Value::Null)
    );
    assert_eq!(view["error_notification"].is_null(), notification.is_none());
});

//! Data API 4.0, key rotation and the one-call tier: the flow token signature, the key ring,
//! the flow view and `FlowEndpoint`, as the core has them.

use js_sys::{Array, Uint8Array};
use wa_flows_crypto::endpoint::{FlowEndpoint, FlowTokenSignaturePolicy, OpenedRequest};
use wa_flows_crypto::{
    DecryptedRequest, EncryptedRequest, Error, FlowKeyRing, FlowPrivateKey, FlowRequest,
    ResponseKey,
};
use wasm_bindgen::prelude::*;
use zeroize::Zeroizing;

use crate::error::{IntoJs as _, to_js};
use crate::input::JsonInput;

const REQUEST_FIELDS: [&str; 3] = ["encrypted_flow_data", "encrypted_aes_key", "initial_vector"];

/// The byte strings of a JavaScript array (the npm package passes fresh `Uint8Array` copies).
fn byte_list(list: &Array) -> Vec<Zeroizing<Vec<u8>>> {
    list.iter()
        .map(|item| {
            Zeroizing::new(
                item.dyn_into::<Uint8Array>()
                    .map(|b| b.to_vec())
                    .unwrap_or_default(),
            )
        })
        .collect()
}

fn slices(list: &[Zeroizing<Vec<u8>>]) -> Vec<&[u8]> {
    list.iter().map(|item| item.as_slice()).collect()
}

/// Seconds as the core's `i64`: a JavaScript number rounded down (the npm package passes a
/// finite number).
#[allow(clippy::cast_possible_truncation)]
fn seconds(now: f64) -> i64 {
    now.floor() as i64
}

/// Data API 4.0: verifies the decrypted request's `flow_token_signature`; `"verified"` or
/// `"absent"`.
///
/// # Errors
/// `invalid_flow_token_signature`, `malformed`, `invalid_configuration`, as the core reports.
#[wasm_bindgen(js_name = verifyFlowTokenSignature)]
pub fn verify_flow_token_signature(
    plaintext: &[u8],
    app_secrets: &Array,
    now: f64,
) -> Result<String, JsValue> {
    let secrets = byte_list(app_secrets);
    let plaintext = core::str::from_utf8(plaintext)
        .map_err(|_| to_js(&Error::Malformed("the decrypted request is not UTF-8 text")))?;
    wa_flows_crypto::verify_flow_token_signature(plaintext, &slices(&secrets), seconds(now))
        .into_js()
        .map(|outcome| outcome.as_str().to_owned())
}

/// A `flow_token_signature` as WhatsApp makes it, for clients and tests.
#[wasm_bindgen(js_name = signFlowToken)]
pub fn sign_flow_token(flow_token: &str, app_secret: &[u8], exp: Option<f64>) -> String {
    wa_flows_crypto::client::sign_flow_token(flow_token, app_secret, exp.map(seconds))
}

/// Which of `app_secrets` authenticates `raw_body` (`undefined` when none does).
///
/// # Errors
/// `invalid_configuration` for no secrets or an empty one.
#[wasm_bindgen(js_name = verifySignatureAny)]
pub fn verify_signature_any(
    raw_body: &[u8],
    header: Option<String>,
    app_secrets: &Array,
) -> Result<Option<usize>, JsValue> {
    let secrets = byte_list(app_secrets);
    match wa_flows_crypto::verify_signature_any(
        raw_body,
        header.as_deref().unwrap_or(""),
        &slices(&secrets),
    ) {
        Ok(index) => Ok(Some(index)),
        Err(error) if error.kind() == wa_flows_crypto::ErrorKind::InvalidSignature => Ok(None),
        Err(error) => Err(to_js(&error)),
    }
}

/// The core's view of a decrypted request as JSON text: `{action, screen, data, flow_token,
/// version, is_ping, error_notification}`.
///
/// # Errors
/// `malformed` if it is not a flow request.
#[wasm_bindgen(js_name = flowView)]
pub fn flow_view(plaintext: &str) -> Result<String, JsValue> {
    FlowRequest::from_json(plaintext)
        .into_js()
        .and_then(|flow| view(&flow))
}

fn view(flow: &FlowRequest) -> Result<String, JsValue> {
    serde_json::to_string(flow).map_err(|_| to_js(&Error::Malformed("the flow view is not JSON")))
}

/// The answer the protocol fixes for this decrypted request, if any.
///
/// # Errors
/// `malformed` if it is not a flow request.
#[wasm_bindgen(js_name = automaticResponse)]
pub fn automatic_response(plaintext: &str) -> Result<Option<String>, JsValue> {
    FlowRequest::from_json(plaintext)
        .into_js()
        .map(|flow| flow.automatic_response().map(str::to_owned))
}

/// The answer to a ping.
#[wasm_bindgen(js_name = pingResponse)]
pub fn ping_response() -> String {
    wa_flows_crypto::flow::PING_RESPONSE.to_owned()
}

/// The answer to an error notification.
#[wasm_bindgen(js_name = errorAcknowledgement)]
pub fn error_acknowledgement() -> String {
    wa_flows_crypto::flow::ERROR_ACKNOWLEDGEMENT.to_owned()
}

/// The core's `FlowKeyRing`, built from the keys' PKCS#8 DER, newest first.
#[wasm_bindgen]
pub struct WasmKeyRing {
    inner: FlowKeyRing,
}

fn ring_of(ders: &Array) -> Result<FlowKeyRing, JsValue> {
    let keys = byte_list(ders)
        .iter()
        .map(|der| FlowPrivateKey::from_der(der, None))
        .collect::<wa_flows_crypto::Result<Vec<_>>>()
        .into_js()?;
    FlowKeyRing::new(keys).into_js()
}

#[wasm_bindgen]
impl WasmKeyRing {
    /// # Errors
    /// `invalid_configuration` for an empty list.
    #[wasm_bindgen(constructor)]
    pub fn new(ders: &Array) -> Result<WasmKeyRing, JsValue> {
        ring_of(ders).map(|inner| WasmKeyRing { inner })
    }

    /// Decrypts a body (text, bytes or parsed object) with the first key whose unwrap succeeds.
    ///
    /// # Errors
    /// As the core's `FlowKeyRing::decrypt`.
    #[wasm_bindgen(js_name = decryptRequest)]
    pub fn decrypt_request(&self, body: &JsValue) -> Result<WasmDecrypted, JsValue> {
        let parsed = match &JsonInput::from_js(body, &REQUEST_FIELDS) {
            JsonInput::Text(bytes) => EncryptedRequest::from_json(bytes),
            JsonInput::Value(value) => EncryptedRequest::from_json_value(value),
        };
        let request = parsed.into_js()?;
        self.inner
            .decrypt(&request)
            .into_js()
            .map(|inner| WasmDecrypted { inner })
    }
}

/// A request the ring decrypted.
#[wasm_bindgen]
pub struct WasmDecrypted {
    inner: DecryptedRequest,
}

#[wasm_bindgen]
impl WasmDecrypted {
    /// The decrypted JSON text.
    #[wasm_bindgen(getter)]
    pub fn plaintext(&self) -> String {
        self.inner.plaintext().to_owned()
    }

    /// Which key of the ring opened it.
    #[wasm_bindgen(getter, js_name = keyIndex)]
    pub fn key_index(&self) -> usize {
        self.inner.key_index()
    }

    /// The AES key.
    #[wasm_bindgen(getter, js_name = aesKey)]
    pub fn aes_key(&self) -> Vec<u8> {
        self.inner.response_key().aes_key().to_vec()
    }

    /// The request IV.
    #[wasm_bindgen(getter)]
    pub fn iv(&self) -> Vec<u8> {
        self.inner.response_key().request_iv().to_vec()
    }
}

/// The core's `FlowEndpoint`.
#[wasm_bindgen]
pub struct WasmEndpoint {
    inner: FlowEndpoint,
}

#[wasm_bindgen]
impl WasmEndpoint {
    /// `app_secrets` `undefined` for none; `policy` by name.
    ///
    /// # Errors
    /// `invalid_configuration` as the core reports it, or for an unknown policy.
    #[wasm_bindgen(constructor)]
    pub fn new(
        ders: &Array,
        app_secrets: Option<Array>,
        policy: &str,
    ) -> Result<WasmEndpoint, JsValue> {
        let ring = ring_of(ders)?;
        let policy = FlowTokenSignaturePolicy::from_name(policy).ok_or_else(|| {
            to_js(&Error::InvalidConfiguration(
                "flow_token_signature must be \"if_present\", \"required\" or \"off\"",
            ))
        })?;
        let secrets = app_secrets.as_ref().map(byte_list);
        if secrets.as_ref().is_some_and(Vec::is_empty) {
            return Err(to_js(&Error::InvalidConfiguration(
                "app_secret is an empty list; give at least one app secret, or none to not check request signatures",
            )));
        }
        let secrets = secrets.unwrap_or_default();
        FlowEndpoint::new(ring, &slices(&secrets), policy)
            .into_js()
            .map(|inner| WasmEndpoint { inner })
    }

    /// Every step on one POST, in the core's order.
    ///
    /// # Errors
    /// 432, 421 or 427 errors as the core reports them.
    pub fn open(
        &self,
        raw_body: &[u8],
        header: Option<String>,
        now: f64,
    ) -> Result<WasmOpened, JsValue> {
        self.inner
            .open(raw_body, header.as_deref(), seconds(now))
            .into_js()
            .map(|inner| WasmOpened { inner })
    }

    /// Step one alone, for a host that decrypts with the platform's primitives and then calls
    /// `openDecrypted`.
    ///
    /// # Errors
    /// `invalid_signature` (432) as the core reports it.
    #[wasm_bindgen(js_name = verifyRequestSignature)]
    pub fn verify_request_signature(
        &self,
        raw_body: &[u8],
        header: Option<String>,
    ) -> Result<(), JsValue> {
        self.inner
            .verify_request_signature(raw_body, header.as_deref())
            .into_js()
    }

    /// The steps after decryption, on the parts of a request the host decrypted.
    ///
    /// # Errors
    /// `malformed` (421) or `invalid_flow_token_signature` (427) as the core reports them.
    #[wasm_bindgen(js_name = openDecrypted)]
    pub fn open_decrypted(
        &self,
        plaintext: String,
        aes_key: &[u8],
        iv: &[u8],
        key_index: usize,
        now: f64,
    ) -> Result<WasmOpened, JsValue> {
        let response_key = ResponseKey::from_slices(aes_key, iv).into_js()?;
        let decrypted =
            DecryptedRequest::from_parts(plaintext, response_key, key_index).into_js()?;
        self.inner
            .open_decrypted(decrypted, seconds(now))
            .into_js()
            .map(|inner| WasmOpened { inner })
    }
}

/// A request that passed every step.
#[wasm_bindgen]
pub struct WasmOpened {
    inner: OpenedRequest,
}

#[wasm_bindgen]
impl WasmOpened {
    /// The decrypted JSON text.
    #[wasm_bindgen(getter)]
    pub fn plaintext(&self) -> String {
        self.inner.decrypted().plaintext().to_owned()
    }

    /// The flow view as JSON text.
    ///
    /// # Errors
    /// Never in practice.
    #[wasm_bindgen(getter)]
    pub fn flow(&self) -> Result<String, JsValue> {
        view(self.inner.flow())
    }

    /// Which key opened it.
    #[wasm_bindgen(getter, js_name = keyIndex)]
    pub fn key_index(&self) -> usize {
        self.inner.decrypted().key_index()
    }

    /// `"verified"`, `"absent"` or `undefined` (not checked).
    #[wasm_bindgen(getter, js_name = flowTokenSignature)]
    pub fn flow_token_signature(&self) -> Option<String> {
        self.inner
            .flow_token_signature()
            .map(|s| s.as_str().to_owned())
    }

    /// The protocol's fixed answer, if any.
    #[wasm_bindgen(getter, js_name = automaticResponse)]
    pub fn automatic_response(&self) -> Option<String> {
        self.inner.automatic_response().map(str::to_owned)
    }

    /// The response AES key.
    #[wasm_bindgen(getter, js_name = aesKey)]
    pub fn aes_key(&self) -> Vec<u8> {
        self.inner.decrypted().response_key().aes_key().to_vec()
    }

    /// The request IV.
    #[wasm_bindgen(getter)]
    pub fn iv(&self) -> Vec<u8> {
        self.inner.decrypted().response_key().request_iv().to_vec()
    }
}

/// The 427 body (the encrypted `{"error_msg": …}`) for a flow token the application refuses.
///
/// # Errors
/// `malformed` unless the key and IV are 16 bytes each.
#[wasm_bindgen(js_name = flowTokenErrorResponse)]
pub fn flow_token_error_response(
    message: &str,
    aes_key: &[u8],
    iv: &[u8],
) -> Result<String, JsValue> {
    ResponseKey::from_slices(aes_key, iv)
        .into_js()
        .map(|key| wa_flows_crypto::endpoint::flow_token_error_response(&key, message).1)
}

/// The HTTP status of [`flow_token_error_response`] (427).
#[wasm_bindgen(js_name = flowTokenErrorStatus)]
pub fn flow_token_error_status() -> u16 {
    wa_flows_crypto::endpoint::FLOW_TOKEN_ERROR_STATUS
}

//! Requests, responses and signatures.

use js_sys::Uint8Array;
use wa_flows_crypto::{AesKey, EncryptedRequest, Error, ErrorKind, ResponseKey};
use wasm_bindgen::prelude::*;
use zeroize::Zeroize as _;

use crate::error::{IntoJs as _, to_js};
use crate::input::{JsonInput, field_names};

const REQUEST_FIELDS: [&str; 3] = ["encrypted_flow_data", "encrypted_aes_key", "initial_vector"];

/// A request body, parsed and length-checked by the core, not yet decrypted.
///
/// The two steps are separate so the host can do the RSA unwrap with its own engine between
/// them: [`unwrap_aes_key`](Self::unwrap_aes_key) is the portable engine.
#[wasm_bindgen]
pub struct WasmRequest {
    inner: EncryptedRequest,
}

/// Parses a request body: a JSON string, its UTF-8 bytes (`Uint8Array`/`ArrayBuffer`), or
/// the object a web framework parsed from it.
///
/// # Errors
/// `malformed` as the core reports it.
#[wasm_bindgen(js_name = parseRequest)]
pub fn parse_request(body: &JsValue) -> Result<WasmRequest, JsValue> {
    let parsed = match &JsonInput::from_js(body, &REQUEST_FIELDS) {
        JsonInput::Text(bytes) => EncryptedRequest::from_json(bytes),
        JsonInput::Value(value) => EncryptedRequest::from_json_value(value),
    };
    parsed.into_js().map(|inner| WasmRequest { inner })
}

/// The properties [`parse_request`] reads from an object body, for a host that copies them
/// (each read once) into a plain object before handing it over.
#[wasm_bindgen(js_name = requestFields)]
pub fn request_fields() -> js_sys::Array {
    field_names(&REQUEST_FIELDS)
}

/// Builds a request from fields the host decoded itself (the npm package does, with the
/// platform's base64 decoder, for bodies it has checked are canonical); the core runs the
/// same length checks as for a parsed body.
///
/// # Errors
/// `malformed` as [`EncryptedRequest::from_base64`] reports it for these decoded fields.
#[wasm_bindgen(js_name = requestFromParts)]
pub fn request_from_parts(
    encrypted_flow_data: Vec<u8>,
    encrypted_aes_key: Vec<u8>,
    initial_vector: &[u8],
) -> Result<WasmRequest, JsValue> {
    let initial_vector = <[u8; wa_flows_crypto::request::IV_LEN]>::try_from(initial_vector)
        .map_err(|_| {
            to_js(&Error::Malformed(
                "`initial_vector` must be base64 of 16 bytes",
            ))
        })?;
    EncryptedRequest::from_parts(encrypted_flow_data, encrypted_aes_key, initial_vector)
        .into_js()
        .map(|inner| WasmRequest { inner })
}

#[wasm_bindgen]
impl WasmRequest {
    /// The RSA-OAEP-wrapped AES key, for a host engine to unwrap.
    #[wasm_bindgen(getter, js_name = encryptedAesKey)]
    pub fn encrypted_aes_key(&self) -> Vec<u8> {
        self.inner.encrypted_aes_key().to_vec()
    }

    /// The 16-byte IV of the request.
    #[wasm_bindgen(getter, js_name = initialVector)]
    pub fn initial_vector(&self) -> Vec<u8> {
        self.inner.initial_vector().to_vec()
    }

    /// Where the tag starts in [`encrypted_flow_data`](Self::encrypted_flow_data), for a host
    /// AES-GCM that takes ciphertext and tag apart (`node:crypto`).
    #[wasm_bindgen(getter, js_name = ciphertextLength)]
    pub fn ciphertext_length(&self) -> usize {
        // The core refused every body too short to hold its tag.
        self.inner
            .encrypted_flow_data()
            .len()
            .saturating_sub(wa_flows_crypto::request::TAG_LEN)
    }

    /// The AES-GCM ciphertext followed by its 16-byte tag, for a host engine to open (its
    /// result then goes to [`decrypt_payload_opened`](Self::decrypt_payload_opened)).
    #[wasm_bindgen(getter, js_name = encryptedFlowData)]
    pub fn encrypted_flow_data(&self) -> Uint8Array {
        Uint8Array::from(self.inner.encrypted_flow_data())
    }

    /// Step two with the host's AES-128-GCM (`node:crypto`, WebCrypto): the host opened
    /// [`encrypted_flow_data`](Self::encrypted_flow_data) itself and passes the plaintext, or
    /// `undefined` if the tag did not verify; the core checks the rest
    /// ([`wa_flows_crypto::decrypt_payload_with`]) and returns the plaintext JSON text.
    ///
    /// # Errors
    /// As [`decrypt_payload`](Self::decrypt_payload); `undefined` is `payload_auth`.
    #[wasm_bindgen(js_name = decryptPayloadOpened)]
    pub fn decrypt_payload_opened(
        &self,
        aes_key: &[u8],
        plaintext: Option<Vec<u8>>,
    ) -> Result<String, JsValue> {
        let aes_key = host_aes_key(aes_key)?;
        wa_flows_crypto::decrypt_payload_with(&self.inner, &aes_key, |_, _, _, _| {
            plaintext.ok_or(())
        })
        .into_js()
        .map(|decrypted| decrypted.into_parts().0)
    }

    /// As [`decrypt_payload_opened`](Self::decrypt_payload_opened), returning nothing: for a
    /// host that turns the plaintext it holds (which the core has now checked, UTF-8 and all)
    /// into text itself, faster than a string crosses out of wasm.
    ///
    /// # Errors
    /// As [`decrypt_payload_opened`](Self::decrypt_payload_opened).
    #[wasm_bindgen(js_name = checkPayloadOpened)]
    pub fn check_payload_opened(
        &self,
        aes_key: &[u8],
        plaintext: Option<Vec<u8>>,
    ) -> Result<(), JsValue> {
        self.decrypt_payload_opened(aes_key, plaintext).map(drop)
    }

    /// Step two: opens the payload with an AES key unwrapped by either engine and returns
    /// the plaintext JSON text.
    ///
    /// # Errors
    /// `malformed` if `aes_key` is not 16 bytes (the same error the portable engine's step
    /// one gives) or the plaintext is not UTF-8; `payload_auth` if it does not authenticate.
    #[wasm_bindgen(js_name = decryptPayload)]
    pub fn decrypt_payload(&self, aes_key: &[u8]) -> Result<String, JsValue> {
        let aes_key = host_aes_key(aes_key)?;
        wa_flows_crypto::decrypt_payload(&self.inner, &aes_key)
            .into_js()
            .map(|decrypted| decrypted.into_parts().0)
    }
}

/// An AES key unwrapped by a host engine: 16 bytes, or the error the portable engine's step
/// one gives for any other length.
fn host_aes_key(aes_key: &[u8]) -> Result<AesKey, JsValue> {
    AesKey::from_unwrapped(aes_key).into_js()
}

/// Step one with the host's RSA-OAEP (`node:crypto`, WebCrypto): the host passes what its
/// unwrap returned, or `undefined` if it failed; the core turns that into the AES key or into
/// the error the portable engine gives ([`WasmPrivateKey::unwrap_aes_key`](crate::WasmPrivateKey::unwrap_aes_key)).
///
/// # Errors
/// `key_unwrap` for `undefined`; `malformed` unless the output is 16 bytes.
#[wasm_bindgen(js_name = hostUnwrapped)]
pub fn host_unwrapped(unwrapped: Option<Vec<u8>>) -> Result<Vec<u8>, JsValue> {
    let mut unwrapped = unwrapped.ok_or_else(|| to_js(&Error::KeyUnwrap))?;
    let aes_key = host_aes_key(&unwrapped);
    unwrapped.zeroize();
    aes_key.map(|aes_key| aes_key.as_bytes().to_vec())
}

/// The `X-Hub-Signature-256` header value for `raw_body` (`sha256=` and lowercase hex), as
/// Meta computes it with the app secret: for clients and tests.
#[wasm_bindgen]
pub fn sign(raw_body: &[u8], app_secret: &[u8]) -> String {
    wa_flows_crypto::sign(raw_body, app_secret)
}

/// Encrypts a response with the request's AES key and IV; returns the base64 body.
///
/// # Errors
/// `malformed` unless the key and IV are 16 bytes each.
#[wasm_bindgen(js_name = encryptResponse)]
pub fn encrypt_response(response: &[u8], aes_key: &[u8], iv: &[u8]) -> Result<String, JsValue> {
    ResponseKey::from_slices(aes_key, iv)
        .into_js()
        .map(|key| wa_flows_crypto::encrypt_response(response, &key))
}

/// The IV a response is sealed with, for a host that runs AES-128-GCM itself (`node:crypto`)
/// and base64-encodes ciphertext ‖ tag: the request's IV with every bit inverted.
///
/// # Errors
/// `malformed` unless the key and IV are 16 bytes each, as for [`encrypt_response`].
#[wasm_bindgen(js_name = responseIv)]
pub fn response_iv(aes_key: &[u8], iv: &[u8]) -> Result<Vec<u8>, JsValue> {
    ResponseKey::from_slices(aes_key, iv)
        .into_js()
        .map(|key| key.response_iv().to_vec())
}

/// Whether `header` (an `X-Hub-Signature-256` value) authenticates `raw_body` with
/// `app_secret`. A missing header is `undefined`/`null`.
///
/// Every `invalid_signature` answer of the core is `false`; any other error is thrown.
///
/// # Errors
/// `invalid_configuration` for an empty `app_secret`, as the core reports it.
#[wasm_bindgen(js_name = verifySignature)]
pub fn verify_signature(
    raw_body: &[u8],
    header: Option<String>,
    app_secret: &[u8],
) -> Result<bool, JsValue> {
    match wa_flows_crypto::verify_signature(raw_body, header.as_deref().unwrap_or(""), app_secret) {
        Ok(()) => Ok(true),
        Err(error) if error.kind() == ErrorKind::InvalidSignature => Ok(false),
        Err(error) => Err(to_js(&error)),
    }
}

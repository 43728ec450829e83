//! The core's errors as JavaScript `Error` objects with `code` and `httpStatus`.

use wasm_bindgen::JsValue;

/// The name every error thrown by this crate carries; the npm wrapper recognises it.
pub(crate) const ERROR_NAME: &str = "FlowCryptoError";

/// Converts a core error into a thrown JavaScript `Error` named `FlowCryptoError`.
///
/// The message is the core's `Display` text, which never carries key material or input data.
pub(crate) fn to_js(error: &wa_flows_crypto::Error) -> JsValue {
    let object = js_sys::Error::new(&error.to_string());
    object.set_name(ERROR_NAME);
    let status = error.http_status().map_or(JsValue::NULL, JsValue::from);
    // Setting a property on a fresh, ordinary Error object cannot fail.
    let _ = js_sys::Reflect::set(&object, &"code".into(), &error.code().into());
    let _ = js_sys::Reflect::set(&object, &"httpStatus".into(), &status);
    object.into()
}

/// `Result` with the core's error converted for JavaScript.
pub(crate) trait IntoJs<T> {
    /// Converts the error, if any.
    fn into_js(self) -> Result<T, JsValue>;
}

impl<T> IntoJs<T> for wa_flows_crypto::Result<T> {
    fn into_js(self) -> Result<T, JsValue> {
        self.map_err(|error| to_js(&error))
    }
}

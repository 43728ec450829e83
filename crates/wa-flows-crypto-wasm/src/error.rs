//! The core's errors as JavaScript `Error` objects with `code` and `httpStatus`.

use wa_flows_crypto::InternalError;
use wasm_bindgen::prelude::*;

/// The name every error thrown by this crate carries; the npm wrapper recognises it.
pub(crate) const ERROR_NAME: &str = "FlowCryptoError";

/// Converts a core error into a thrown JavaScript `Error` named `FlowCryptoError`.
///
/// The message is the core's `Display` text, which never carries key material or input data.
pub(crate) fn to_js(error: &wa_flows_crypto::Error) -> JsValue {
    error_object(
        &error.to_string(),
        error.code(),
        error.http_status().map_or(JsValue::NULL, JsValue::from),
    )
}

fn error_object(message: &str, code: &str, status: JsValue) -> JsValue {
    let object = js_sys::Error::new(message);
    object.set_name(ERROR_NAME);
    // Setting a property on a fresh, ordinary Error object cannot fail.
    let _ = js_sys::Reflect::set(&object, &"code".into(), &code.into());
    let _ = js_sys::Reflect::set(&object, &"httpStatus".into(), &status);
    object.into()
}

/// The core's `internal` error, returned (not thrown), for the host to keep: after a trap it
/// reports the failure without calling into the instance that trapped. `stale` selects the
/// text for an object of a replaced instance, else the one for the call that trapped.
#[wasm_bindgen(js_name = internalError)]
pub fn internal_error(stale: bool) -> JsValue {
    let error = if stale {
        InternalError::Stale
    } else {
        InternalError::Restarted
    };
    error_object(
        &error.to_string(),
        InternalError::CODE,
        InternalError::HTTP_STATUS.into(),
    )
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

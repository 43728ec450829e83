//! JSON inputs that arrive from JavaScript as text, bytes, or an object a framework parsed.
//!
//! Text and bytes go to the core's JSON parser as they are. For an object, only the fields
//! the core reads are copied into a `serde_json::Value`, keeping their JavaScript type class
//! (string or not, present or not), so the core's own checks run on it and report exactly
//! what they report for the same body as text.

use js_sys::{Array, ArrayBuffer, Reflect, Uint8Array};
use serde_json::{Map, Value};
use wasm_bindgen::{JsCast as _, JsValue};
use zeroize::Zeroize as _;

/// A JSON document from JavaScript.
pub(crate) enum JsonInput {
    /// UTF-8 text (from a string, a `Uint8Array` or an `ArrayBuffer`).
    Text(Vec<u8>),
    /// An already-parsed value.
    Value(Value),
}

impl JsonInput {
    /// Reads `input`, taking from an object only the properties named in `fields`.
    pub(crate) fn from_js(input: &JsValue, fields: &[&str]) -> Self {
        if let Some(text) = input.as_string() {
            return JsonInput::Text(text.into_bytes());
        }
        if let Some(bytes) = input.dyn_ref::<Uint8Array>() {
            return JsonInput::Text(bytes.to_vec());
        }
        if let Some(buffer) = input.dyn_ref::<ArrayBuffer>() {
            return JsonInput::Text(Uint8Array::new(buffer).to_vec());
        }
        if !input.is_object() || Array::is_array(input) {
            // `null`, numbers, booleans, arrays: the core answers "not a JSON object".
            return JsonInput::Value(Value::Null);
        }
        let mut map = Map::new();
        for &name in fields {
            let value = Reflect::get(input, &JsValue::from_str(name)).unwrap_or(JsValue::UNDEFINED);
            if value.is_undefined() {
                continue;
            }
            // Any non-string stands in as `false`: the core only asks "is it a string?".
            let value = value.as_string().map_or(Value::Bool(false), Value::String);
            map.insert(name.to_owned(), value);
        }
        JsonInput::Value(Value::Object(map))
    }
}

/// `fields` as a JavaScript array of strings.
pub(crate) fn field_names(fields: &[&str]) -> Array {
    fields.iter().map(|&name| JsValue::from_str(name)).collect()
}

impl Drop for JsonInput {
    fn drop(&mut self) {
        // The media metadata carries keys; wipe the copies made here.
        match self {
            JsonInput::Text(bytes) => bytes.zeroize(),
            JsonInput::Value(Value::Object(map)) => {
                for value in map.values_mut() {
                    if let Value::String(text) = value {
                        text.zeroize();
                    }
                }
            }
            JsonInput::Value(_) => {}
        }
    }
}

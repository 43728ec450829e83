//! Media files: one-shot and streaming decryption.

use js_sys::Uint8Array;
use wa_flows_crypto::Error;
use wa_flows_crypto::media::{MediaDecryptor, MediaMetadata};
use wasm_bindgen::prelude::*;
use zeroize::Zeroize as _;

use crate::error::{IntoJs as _, to_js};
use crate::input::JsonInput;

const METADATA_FIELDS: [&str; 5] = [
    "encryption_key",
    "hmac_key",
    "iv",
    "plaintext_hash",
    "encrypted_hash",
];

fn metadata(value: &JsValue) -> Result<MediaMetadata, JsValue> {
    match &JsonInput::from_js(value, &METADATA_FIELDS) {
        JsonInput::Text(bytes) => MediaMetadata::from_json(bytes),
        JsonInput::Value(value) => MediaMetadata::from_json_value(value),
    }
    .into_js()
}

/// Decrypts and verifies a whole CDN file; `encryption_metadata` is the object from the
/// flow request (or its JSON text). Nothing is returned unless every check passed.
///
/// The file is copied into linear memory once and decrypted there in place.
///
/// # Errors
/// `malformed`, `encrypted_hash_mismatch`, `hmac_mismatch`, `padding`,
/// `plaintext_hash_mismatch`, as the core reports them.
#[wasm_bindgen(js_name = decryptMediaContent)]
pub fn decrypt_media_content(
    mut cdn_file: Vec<u8>,
    encryption_metadata: &JsValue,
) -> Result<Vec<u8>, JsValue> {
    let metadata = metadata(encryption_metadata)?;
    let len = wa_flows_crypto::media::decrypt_media_content_in_place(&mut cdn_file, &metadata)
        .into_js()?;
    // The core zeroed everything after the plaintext; nothing secret is cut off here.
    cdn_file.truncate(len);
    Ok(cdn_file)
}

/// Streaming decryption in constant memory.
///
/// Plaintext returned by [`update`](Self::update) is **unverified** until
/// [`finish`](Self::finish) returns; on any error, discard everything released so far.
#[wasm_bindgen]
pub struct WasmMediaDecryptor {
    inner: Option<MediaDecryptor>,
    out: Vec<u8>,
}

#[wasm_bindgen]
impl WasmMediaDecryptor {
    /// Starts decrypting a file described by `encryption_metadata`.
    ///
    /// # Errors
    /// `malformed` if the metadata is not valid.
    #[wasm_bindgen(constructor)]
    pub fn new(encryption_metadata: &JsValue) -> Result<WasmMediaDecryptor, JsValue> {
        let metadata = metadata(encryption_metadata)?;
        Ok(WasmMediaDecryptor {
            inner: Some(MediaDecryptor::new(&metadata)),
            out: Vec::new(),
        })
    }

    /// Feeds the next chunk of the CDN file; returns the plaintext it releases (a multiple of
    /// 16 bytes, possibly empty), unverified.
    ///
    /// # Errors
    /// `malformed` if the decryptor has already finished.
    pub fn update(&mut self, chunk: &[u8]) -> Result<Uint8Array, JsValue> {
        let decryptor = self.inner.as_mut().ok_or_else(finished)?;
        self.out.clear();
        decryptor.update(chunk, &mut self.out);
        let released = Uint8Array::from(self.out.as_slice());
        self.out.zeroize();
        Ok(released)
    }

    /// Ends the file: runs every check and returns the last plaintext bytes (at most 15).
    ///
    /// # Errors
    /// As [`decrypt_media_content`]; `malformed` if called twice.
    pub fn finish(&mut self) -> Result<Vec<u8>, JsValue> {
        let decryptor = self.inner.take().ok_or_else(finished)?;
        let mut last = Vec::new();
        decryptor.finish(&mut last).into_js()?;
        Ok(last)
    }

    /// How many bytes of the CDN file have been fed so far.
    #[wasm_bindgen(getter, js_name = bytesProcessed)]
    pub fn bytes_processed(&self) -> f64 {
        // Exact up to 2^53 bytes.
        self.inner
            .as_ref()
            .map_or(0.0, |decryptor| decryptor.bytes_processed() as f64)
    }
}

fn finished() -> JsValue {
    to_js(&Error::Malformed(
        "the media decryptor has already finished",
    ))
}

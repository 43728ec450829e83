//! Media files: one-shot and streaming decryption.

use js_sys::Uint8Array;
use wa_flows_crypto::Error;
use wa_flows_crypto::media::{
    MediaDecryptor, MediaMetadata, MediaStreamSplit, MediaVerifier, checks,
};
use wasm_bindgen::prelude::*;
use zeroize::Zeroize as _;

use crate::error::{IntoJs as _, to_js};
use crate::input::{JsonInput, field_names};

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

/// The properties read from an object `encryption_metadata`, for a host that copies them
/// (each read once) into a plain object before handing it over.
#[wasm_bindgen(js_name = mediaMetadataFields)]
pub fn media_metadata_fields() -> js_sys::Array {
    field_names(&METADATA_FIELDS)
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
    /// `already_finished` if the decryptor has already finished.
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
    /// As [`decrypt_media_content`]; `already_finished` if called twice.
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

/// Streaming verification of a CDN file (its hash and MAC) without decrypting it, for a
/// server that stores or forwards the encrypted file.
#[wasm_bindgen]
pub struct WasmMediaVerifier {
    inner: Option<MediaVerifier>,
}

#[wasm_bindgen]
impl WasmMediaVerifier {
    /// Starts verifying a file described by `encryption_metadata`.
    ///
    /// # Errors
    /// `malformed` if the metadata is not valid.
    #[wasm_bindgen(constructor)]
    pub fn new(encryption_metadata: &JsValue) -> Result<WasmMediaVerifier, JsValue> {
        let metadata = metadata(encryption_metadata)?;
        Ok(WasmMediaVerifier {
            inner: Some(MediaVerifier::new(&metadata)),
        })
    }

    /// Feeds the next chunk of the CDN file.
    ///
    /// # Errors
    /// `already_finished` if the verifier has already finished.
    pub fn update(&mut self, chunk: &[u8]) -> Result<(), JsValue> {
        self.inner.as_mut().ok_or_else(finished)?.update(chunk);
        Ok(())
    }

    /// Ends the file and runs the checks: lengths, file hash, MAC.
    ///
    /// # Errors
    /// `malformed`, `encrypted_hash_mismatch`, `hmac_mismatch` as the core reports them;
    /// `already_finished` if called twice.
    pub fn finish(&mut self) -> Result<(), JsValue> {
        self.inner.take().ok_or_else(finished)?.finish().into_js()
    }
}

fn finished() -> JsValue {
    to_js(&Error::AlreadyFinished)
}

/// A file's `encryption_metadata`, parsed by the core, for a host that computes SHA-256,
/// HMAC-SHA256 and AES-256-CBC itself (`node:crypto` in Node) and hands the outputs to the
/// core's checks ([`wa_flows_crypto::media::checks`]). Run them in the order of the methods
/// below; each throws the error the wasm path throws for the same file.
#[wasm_bindgen]
pub struct WasmMediaMetadata {
    inner: MediaMetadata,
}

#[wasm_bindgen]
impl WasmMediaMetadata {
    /// Parses `encryption_metadata` (object or JSON text).
    ///
    /// # Errors
    /// `malformed` if the metadata is not valid.
    #[wasm_bindgen(constructor)]
    pub fn new(encryption_metadata: &JsValue) -> Result<WasmMediaMetadata, JsValue> {
        metadata(encryption_metadata).map(|inner| WasmMediaMetadata { inner })
    }

    /// The AES-256 key (32 bytes), for the host's AES-256-CBC.
    #[wasm_bindgen(getter, js_name = encryptionKey)]
    pub fn encryption_key(&self) -> Vec<u8> {
        self.inner.encryption_key().to_vec()
    }

    /// The HMAC-SHA256 key (32 bytes).
    #[wasm_bindgen(getter, js_name = hmacKey)]
    pub fn hmac_key(&self) -> Vec<u8> {
        self.inner.hmac_key().to_vec()
    }

    /// The IV (16 bytes): AES-256-CBC's, and the first bytes the HMAC covers.
    #[wasm_bindgen(getter)]
    pub fn iv(&self) -> Vec<u8> {
        self.inner.iv().to_vec()
    }

    /// Check 2: SHA-256 of the whole CDN file.
    ///
    /// # Errors
    /// `encrypted_hash_mismatch` if it differs (or is not 32 bytes).
    #[wasm_bindgen(js_name = checkEncryptedHash)]
    pub fn check_encrypted_hash(&self, computed: &[u8]) -> Result<(), JsValue> {
        let computed =
            <&[u8; 32]>::try_from(computed).map_err(|_| to_js(&Error::EncryptedHashMismatch))?;
        checks::check_encrypted_hash(&self.inner, computed).into_js()
    }

    /// Check 3: HMAC-SHA256(hmac_key, iv ‖ ciphertext) (whole or truncated) against the
    /// file's 10-byte `tag`.
    ///
    /// # Errors
    /// `hmac_mismatch` if they differ (or `tag` is not 10 bytes).
    #[wasm_bindgen(js_name = checkMac)]
    pub fn check_mac(&self, computed: &[u8], tag: &[u8]) -> Result<(), JsValue> {
        let tag =
            <&[u8; checks::MAC_LEN]>::try_from(tag).map_err(|_| to_js(&Error::HmacMismatch))?;
        checks::check_mac(computed, tag).into_js()
    }

    /// Check 5: SHA-256 of the unpadded plaintext.
    ///
    /// # Errors
    /// `plaintext_hash_mismatch` if it differs (or is not 32 bytes).
    #[wasm_bindgen(js_name = checkPlaintextHash)]
    pub fn check_plaintext_hash(&self, computed: &[u8]) -> Result<(), JsValue> {
        let computed =
            <&[u8; 32]>::try_from(computed).map_err(|_| to_js(&Error::PlaintextHashMismatch))?;
        checks::check_plaintext_hash(&self.inner, computed).into_js()
    }
}

/// How a file streamed through a host's primitives splits ([`MediaStreamSplit`]): which bytes
/// are ciphertext to authenticate and decrypt now, and which the host holds back. The host
/// then hands its outputs to a [`WasmMediaMetadata`]'s checks and [`media_check_padding`],
/// in the order of their numbers.
#[wasm_bindgen]
pub struct WasmMediaStreamSplit {
    inner: Option<MediaStreamSplit>,
}

impl Default for WasmMediaStreamSplit {
    fn default() -> Self {
        Self::new()
    }
}

#[wasm_bindgen]
impl WasmMediaStreamSplit {
    /// Starts a file.
    #[wasm_bindgen(constructor)]
    pub fn new() -> WasmMediaStreamSplit {
        WasmMediaStreamSplit {
            inner: Some(MediaStreamSplit::new()),
        }
    }

    /// Feeds `chunk_len` more bytes; returns how many at the start of (held ‖ chunk) are
    /// ciphertext to process now. The host holds back the rest.
    ///
    /// # Errors
    /// `already_finished` after [`finish`](Self::finish).
    pub fn update(&mut self, chunk_len: u32) -> Result<u32, JsValue> {
        let split = self.inner.as_mut().ok_or_else(finished)?;
        // A wasm32 usize is a u32, so the count fits back.
        #[allow(clippy::cast_possible_truncation)]
        Ok(split.update(chunk_len as usize) as u32)
    }

    /// How many bytes the host holds back now.
    #[wasm_bindgen(getter, js_name = heldLength)]
    pub fn held_length(&self) -> usize {
        self.inner.as_ref().map_or(0, MediaStreamSplit::held_len)
    }

    /// Check 1, at the end of the file: its length rules. Returns the length of the last
    /// ciphertext block at the start of the held bytes; the MAC follows it.
    ///
    /// # Errors
    /// `malformed` as the core reports it; `already_finished` if called twice.
    pub fn finish(&mut self) -> Result<usize, JsValue> {
        self.inner.take().ok_or_else(finished)?.finish().into_js()
    }
}

/// Check 1: the length rules of a CDN file of `file_len` bytes; returns the ciphertext length.
///
/// # Errors
/// `malformed` as the core reports it (or if `file_len` is not a length).
#[wasm_bindgen(js_name = mediaCiphertextLength)]
pub fn media_ciphertext_length(file_len: f64) -> Result<f64, JsValue> {
    // Lengths of JavaScript buffers are integers below 2^53.
    if !((0.0..=9_007_199_254_740_991.0).contains(&file_len) && file_len.fract() == 0.0) {
        return Err(to_js(&Error::Malformed("the media file is too large")));
    }
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let file_len = file_len as u64;
    #[allow(clippy::cast_precision_loss)]
    checks::ciphertext_len(file_len)
        .into_js()
        .map(|len| len as f64)
}

/// Where the last block starts in a decrypted ciphertext of `ciphertext_len` bytes (as
/// [`media_ciphertext_length`] returned it): the block to hand to [`media_check_padding`].
#[wasm_bindgen(js_name = mediaLastBlockStart)]
pub fn media_last_block_start(ciphertext_len: f64) -> f64 {
    // A length the core accepted is a positive multiple of the block; anything else stays
    // where it is, and the padding check refuses the short block it yields.
    (ciphertext_len - checks::BLOCK_LEN as f64).max(0.0)
}

/// Check 4: the PKCS#7 padding of the last decrypted block; returns how many of its 16 bytes
/// are data.
///
/// # Errors
/// `padding` if it is not valid padding (or `last_block` is not 16 bytes).
#[wasm_bindgen(js_name = mediaCheckPadding)]
pub fn media_check_padding(last_block: &[u8]) -> Result<usize, JsValue> {
    let block =
        <&[u8; checks::BLOCK_LEN]>::try_from(last_block).map_err(|_| to_js(&Error::Padding))?;
    checks::check_padding(block).into_js()
}

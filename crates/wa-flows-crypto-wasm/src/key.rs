//! The business private key.

use wa_flows_crypto::{FlowPrivateKey, KeyError};
use wasm_bindgen::prelude::*;

use crate::error::IntoJs as _;

/// A parsed RSA private key (the core's `FlowPrivateKey`), wrapped by the npm package's
/// `FlowPrivateKey` class.
#[wasm_bindgen]
pub struct WasmPrivateKey {
    pub(crate) inner: FlowPrivateKey,
}

#[wasm_bindgen]
impl WasmPrivateKey {
    /// Loads a PEM key in any supported encoding (PKCS#1, PKCS#8, encrypted or not).
    ///
    /// # Errors
    /// `invalid_key` as the core reports it.
    #[wasm_bindgen(js_name = fromPem)]
    pub fn from_pem(pem: &[u8], passphrase: Option<Box<[u8]>>) -> Result<WasmPrivateKey, JsValue> {
        FlowPrivateKey::from_pem(pem, passphrase.as_deref())
            .into_js()
            .map(|inner| WasmPrivateKey { inner })
    }

    /// Loads a DER key (PKCS#1, PKCS#8 or encrypted PKCS#8).
    ///
    /// # Errors
    /// `invalid_key` as the core reports it.
    #[wasm_bindgen(js_name = fromDer)]
    pub fn from_der(der: &[u8], passphrase: Option<Box<[u8]>>) -> Result<WasmPrivateKey, JsValue> {
        FlowPrivateKey::from_der(der, passphrase.as_deref())
            .into_js()
            .map(|inner| WasmPrivateKey { inner })
    }

    /// Generates a new key of `bits` bits (2048, 3072 or 4096) with the portable engine; with
    /// `undefined`, the core's default size (what WhatsApp expects).
    ///
    /// `bits` is any JavaScript number: one that is not a whole number of bits (negative,
    /// fractional, NaN, infinite, beyond `usize`) is refused like any other unsupported size,
    /// never truncated into one (2^32 + 2048 is not 2048).
    ///
    /// # Errors
    /// `invalid_key` for every size but those three.
    pub fn generate(bits: Option<f64>) -> Result<WasmPrivateKey, JsValue> {
        let key = match bits.map(|bits| (bits, whole_bits(bits))) {
            None => FlowPrivateKey::generate(),
            Some((_, Some(bits))) => FlowPrivateKey::generate_with_bits(bits),
            Some((bits, None)) => Err(KeyError::UnsupportedGenerationSize {
                bits: saturated_bits(bits),
            }
            .into()),
        };
        key.into_js().map(|inner| WasmPrivateKey { inner })
    }

    /// The public key as SPKI PEM.
    #[wasm_bindgen(js_name = publicKeyPem)]
    pub fn public_key_pem(&self) -> String {
        self.inner.public_key_pem()
    }

    /// The public key as SPKI DER.
    #[wasm_bindgen(js_name = publicKeyDer)]
    pub fn public_key_der(&self) -> Vec<u8> {
        self.inner.public_key_der().to_vec()
    }

    /// The SHA-256 fingerprint of the public key's SPKI DER, lowercase hex.
    #[wasm_bindgen(js_name = publicKeyFingerprint)]
    pub fn public_key_fingerprint(&self) -> String {
        self.inner.public_key_fingerprint()
    }

    /// The private key as PKCS#8 PEM, encrypted when a non-empty passphrase is given.
    ///
    /// # Errors
    /// `invalid_key` if encoding fails (practically never).
    #[wasm_bindgen(js_name = privateKeyPem)]
    pub fn private_key_pem(&self, passphrase: Option<Box<[u8]>>) -> Result<String, JsValue> {
        self.inner
            .private_key_pem(passphrase.as_deref())
            .into_js()
            .map(|pem| String::clone(&pem))
    }

    /// The private key as unencrypted PKCS#8 DER, to import into `node:crypto` or WebCrypto.
    ///
    /// # Errors
    /// `invalid_key` if encoding fails (practically never).
    #[wasm_bindgen(js_name = privateKeyDer)]
    pub fn private_key_der(&self) -> Result<Vec<u8>, JsValue> {
        self.inner
            .private_key_der()
            .into_js()
            .map(|der| Vec::clone(&der))
    }

    /// Step one with the portable engine (RustCrypto `rsa`, constant time, blinded): unwraps
    /// the request's AES key.
    ///
    /// # Errors
    /// `key_unwrap`, or `malformed` if the unwrapped key is not 16 bytes.
    #[wasm_bindgen(js_name = unwrapAesKey)]
    pub fn unwrap_aes_key(&self, encrypted_aes_key: &[u8]) -> Result<Vec<u8>, JsValue> {
        wa_flows_crypto::unwrap_aes_key(encrypted_aes_key, &self.inner)
            .into_js()
            .map(|aes_key| aes_key.as_bytes().to_vec())
    }

    /// The modulus size in bits.
    #[wasm_bindgen(getter)]
    pub fn bits(&self) -> usize {
        self.inner.bits()
    }
}

/// `bits` as a `usize` if it is exactly one.
fn whole_bits(bits: f64) -> Option<usize> {
    // `usize::MAX as f64` rounds up to 2^32 on wasm32 (2^64 elsewhere), itself not a `usize`.
    #[allow(clippy::cast_precision_loss)]
    let limit = usize::MAX as f64;
    if bits.fract() == 0.0 && (0.0..limit).contains(&bits) {
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        Some(bits as usize)
    } else {
        None
    }
}

/// The size reported for a `bits` that is not a `usize`: 0 for NaN, negative and fractional
/// values, `usize::MAX` above it (the core's documented saturation).
fn saturated_bits(bits: f64) -> usize {
    if bits.fract() == 0.0 && bits > 0.0 {
        usize::MAX
    } else {
        0
    }
}

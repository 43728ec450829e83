//! Encrypting the answer: AES-128-GCM with the request's key and its IV with every bit
//! inverted, sent as base64(ciphertext || tag).

use core::fmt;

use aes_gcm::aead::{AeadInOut as _, KeyInit as _};

use crate::encoding::encode_base64;
use crate::error::Result;
use crate::request::{AES_KEY_LEN, Aes128Gcm16, AesKey, IV_LEN, TAG_LEN, aes_128_gcm_open};

/// What a response is encrypted with: the request's AES key and IV. Keep it only for the
/// life of the request; it is zeroized on drop and `Debug` does not show the key.
#[derive(Clone, PartialEq, Eq)]
pub struct ResponseKey {
    aes_key: AesKey,
    request_iv: [u8; IV_LEN],
}

impl ResponseKey {
    /// The key of a request decrypted with `aes_key` and `request_iv`.
    pub fn new(aes_key: AesKey, request_iv: [u8; IV_LEN]) -> Self {
        Self {
            aes_key,
            request_iv,
        }
    }

    /// From raw slices, for hosts that keep the key and IV themselves.
    ///
    /// # Errors
    /// [`crate::Error::Malformed`] unless both are 16 bytes.
    pub fn from_slices(aes_key: &[u8], request_iv: &[u8]) -> Result<Self> {
        let aes_key = AesKey::from_slice(aes_key)?;
        let request_iv = <[u8; IV_LEN]>::try_from(request_iv)
            .map_err(|_| crate::Error::Malformed("the request IV must be 16 bytes"))?;
        Ok(Self::new(aes_key, request_iv))
    }

    /// The request's AES-128 key.
    pub fn aes_key(&self) -> &[u8; AES_KEY_LEN] {
        self.aes_key.as_bytes()
    }

    /// The request's IV, as it arrived.
    pub fn request_iv(&self) -> &[u8; IV_LEN] {
        &self.request_iv
    }

    /// The IV of the response: the request IV with every bit inverted.
    pub fn response_iv(&self) -> [u8; IV_LEN] {
        self.request_iv.map(|byte| !byte)
    }

    /// Encrypts `response` and returns the HTTP body: base64(ciphertext || tag).
    pub fn encrypt(&self, response: &[u8]) -> String {
        encode_base64(&self.encrypt_to_bytes(response))
    }

    /// Encrypts `response` and returns ciphertext || tag, without base64.
    pub fn encrypt_to_bytes(&self, response: &[u8]) -> Vec<u8> {
        let cipher = Aes128Gcm16::new(&(*self.aes_key.as_bytes()).into());
        let mut buffer = Vec::with_capacity(response.len() + crate::request::TAG_LEN);
        buffer.extend_from_slice(response);
        // GCM refuses only messages over 64 GiB, which no HTTP response reaches; returning
        // the (empty) ciphertext instead of panicking keeps the function infallible for
        // every realistic input, and WhatsApp rejects an empty body.
        match cipher.encrypt_inout_detached(
            &self.response_iv().into(),
            &[],
            buffer.as_mut_slice().into(),
        ) {
            Ok(tag) => {
                buffer.extend_from_slice(&tag);
                buffer
            }
            Err(_) => Vec::new(),
        }
    }

    /// Opens a response encrypted with this key: what the WhatsApp client does.
    pub(crate) fn decrypt_response_bytes(&self, body: &[u8]) -> Result<Vec<u8>> {
        let (ciphertext, tag) =
            body.split_last_chunk::<TAG_LEN>()
                .ok_or(crate::Error::Malformed(
                    "the response is shorter than its 16-byte AES-GCM tag",
                ))?;
        aes_128_gcm_open(
            self.aes_key.as_bytes(),
            &self.response_iv(),
            ciphertext,
            tag,
        )
        .map_err(|_| crate::Error::PayloadAuth)
    }
}

impl fmt::Debug for ResponseKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ResponseKey").finish_non_exhaustive()
    }
}

/// Encrypts a response body for the request `response_key` came from.
///
/// Takes bytes so the caller controls serialization; returns the base64 text to send with
/// `Content-Type: text/plain`.
///
/// ```
/// use wa_flows_crypto::{encrypt_response, AesKey, ResponseKey};
///
/// let key = ResponseKey::new(AesKey::new([7; 16]), [1; 16]);
/// let body = encrypt_response(br#"{"data":{"status":"active"}}"#, &key);
/// assert_eq!(body.len(), 60); // base64 of 28 bytes of ciphertext and a 16-byte tag
/// ```
pub fn encrypt_response(response: &[u8], response_key: &ResponseKey) -> String {
    response_key.encrypt(response)
}

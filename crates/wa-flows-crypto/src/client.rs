//! The WhatsApp side of the protocol: seal requests for a business public key and open the
//! endpoint's answers. Use it to test an endpoint end to end; this crate's own tests, CLI and
//! examples do.

use crate::encoding::decode_base64;
use crate::error::{Error, Result};
use crate::key::FlowPublicKey;
use crate::request::{AesKey, EncryptedRequest, IV_LEN};
use crate::response::ResponseKey;
mod media;
pub use self::media::{SealedMedia, seal_media, seal_media_with};

/// A `flow_token_signature` as Flows makes it for data API 4.0: an HS256 JWT whose payload is
/// `{"flow_token": …}`, plus `exp` when given (Unix seconds).
pub fn sign_flow_token(flow_token: &str, app_secret: &[u8], exp: Option<i64>) -> String {
    crate::signature::sign_flow_token(flow_token, app_secret, exp)
}

/// What the client keeps after sending a request: the key that opens the answer.
#[derive(Clone, Debug)]
pub struct ClientSession {
    response_key: ResponseKey,
}

impl ClientSession {
    /// Opens the endpoint's base64 response body, as the WhatsApp client does.
    ///
    /// # Errors
    /// [`Error::Malformed`] if the body is not base64 or too short; [`Error::PayloadAuth`] if
    /// it does not authenticate (for instance because the endpoint did not invert the IV).
    pub fn open_response(&self, body: &str) -> Result<Vec<u8>> {
        let bytes = decode_base64(body.trim(), "the response body is not base64")?;
        self.response_key.decrypt_response_bytes(&bytes)
    }

    /// The key and IV of the request, as the endpoint should have derived them.
    pub fn response_key(&self) -> &ResponseKey {
        &self.response_key
    }
}

impl From<ResponseKey> for ClientSession {
    /// A session for a request whose AES key and IV are known (from test vectors, say).
    fn from(response_key: ResponseKey) -> Self {
        Self { response_key }
    }
}

/// Seals `plaintext` (the request JSON) for `public_key` with a fresh AES key and IV, and
/// returns the POST body and the session that opens the answer.
///
/// # Errors
/// Only if the operating system's random number generator fails.
pub fn seal_request(
    public_key: &FlowPublicKey,
    plaintext: &[u8],
) -> Result<(String, ClientSession)> {
    let (request, session) = seal_request_parts(public_key, plaintext)?;
    Ok((request.to_json(), session))
}

/// As [`seal_request`], returning the request before JSON encoding (to tamper with it in
/// tests, say).
///
/// # Errors
/// As [`seal_request`].
pub fn seal_request_parts(
    public_key: &FlowPublicKey,
    plaintext: &[u8],
) -> Result<(EncryptedRequest, ClientSession)> {
    let mut key = [0u8; 16];
    let mut iv = [0u8; IV_LEN];
    getrandom::fill(&mut key)
        .and_then(|()| getrandom::fill(&mut iv))
        .map_err(|_| Error::Malformed("the operating system random number generator failed"))?;
    seal_request_with(public_key, plaintext, AesKey::new(key), iv)
}

/// Seals with a chosen AES key and IV (the RSA-OAEP step stays randomized).
///
/// # Errors
/// As [`seal_request`].
pub fn seal_request_with(
    public_key: &FlowPublicKey,
    plaintext: &[u8],
    aes_key: AesKey,
    iv: [u8; IV_LEN],
) -> Result<(EncryptedRequest, ClientSession)> {
    let encrypted_aes_key = public_key.oaep_encrypt(aes_key.as_bytes())?;
    // A request is a response with the IV inverted twice: reuse the one sealing routine.
    let inverted = ResponseKey::new(aes_key.clone(), iv.map(|byte| !byte));
    let encrypted_flow_data = inverted.encrypt_to_bytes(plaintext);
    let request = EncryptedRequest::from_parts(encrypted_flow_data, encrypted_aes_key, iv)?;
    let session = ClientSession {
        response_key: ResponseKey::new(aes_key, iv),
    };
    Ok((request, session))
}

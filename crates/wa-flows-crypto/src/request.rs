//! Decrypting a Flows request: RSA-OAEP-SHA256 unwraps the AES key, AES-128-GCM with a 16-byte
//! IV opens the payload.

use core::fmt;

use aes_gcm::aead::consts::U16;
use aes_gcm::aead::{AeadInOut as _, KeyInit as _};
use aes_gcm::aes::Aes128;
use zeroize::Zeroizing;

use crate::encoding::{decode_base64, decode_base64_array, encode_base64};
use crate::error::{Error, Result};
use crate::flow::FlowRequest;
use crate::key::FlowPrivateKey;
use crate::response::ResponseKey;

/// AES-128-GCM with the 16-byte nonce WhatsApp uses (not the usual 12).
pub(crate) type Aes128Gcm16 = aes_gcm::AesGcm<Aes128, U16>;

/// Length of the AES-GCM tag at the end of `encrypted_flow_data`.
pub const TAG_LEN: usize = 16;
/// Length of the AES key WhatsApp wraps (AES-128).
pub const AES_KEY_LEN: usize = 16;
/// Length of `initial_vector`.
pub const IV_LEN: usize = 16;

/// The AES-128 key of one request, unwrapped from `encrypted_aes_key`. Zeroized on drop;
/// `Debug` does not show it.
#[derive(Clone, PartialEq, Eq)]
pub struct AesKey(Zeroizing<[u8; AES_KEY_LEN]>);

impl AesKey {
    /// Wraps 16 raw key bytes.
    pub fn new(bytes: [u8; AES_KEY_LEN]) -> Self {
        Self(Zeroizing::new(bytes))
    }

    /// Takes a key unwrapped elsewhere (WebCrypto, a KMS or an HSM).
    ///
    /// # Errors
    /// [`Error::Malformed`] unless `bytes` is exactly 16 bytes long.
    pub fn from_slice(bytes: &[u8]) -> Result<Self> {
        <[u8; AES_KEY_LEN]>::try_from(bytes)
            .map(Self::new)
            .map_err(|_| Error::Malformed("the AES key must be 16 bytes (AES-128)"))
    }

    /// Takes the output of an RSA-OAEP unwrap done elsewhere (`node:crypto`, WebCrypto), so a
    /// host engine's wrong-length output fails exactly as [`unwrap_aes_key`]'s does.
    ///
    /// # Errors
    /// [`Error::Malformed`] unless `bytes` is exactly 16 bytes long.
    pub fn from_unwrapped(bytes: &[u8]) -> Result<Self> {
        <[u8; AES_KEY_LEN]>::try_from(bytes)
            .map(Self::new)
            .map_err(|_| {
                Error::Malformed("the unwrapped AES key is not 16 bytes; WhatsApp uses AES-128")
            })
    }

    /// The raw key bytes.
    pub fn as_bytes(&self) -> &[u8; AES_KEY_LEN] {
        &self.0
    }
}

impl fmt::Debug for AesKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("AesKey(<redacted>)")
    }
}

/// The three fields of a request body, decoded and length-checked, not yet decrypted.
#[derive(Clone, PartialEq, Eq)]
pub struct EncryptedRequest {
    encrypted_flow_data: Vec<u8>,
    encrypted_aes_key: Vec<u8>,
    initial_vector: [u8; IV_LEN],
}

impl EncryptedRequest {
    /// Parses the raw POST body: a JSON object with the base64 fields `encrypted_flow_data`,
    /// `encrypted_aes_key` and `initial_vector`. Other fields are ignored.
    ///
    /// # Errors
    /// [`Error::Malformed`] naming the field that is missing, not a string, not base64 or of
    /// the wrong length.
    pub fn from_json(body: &[u8]) -> Result<Self> {
        let value: serde_json::Value = serde_json::from_slice(body)
            .map_err(|_| Error::Malformed("the request body is not JSON"))?;
        Self::from_json_value(&value)
    }

    /// As [`from_json`](Self::from_json), for a body a web framework already parsed.
    ///
    /// # Errors
    /// As [`from_json`](Self::from_json).
    pub fn from_json_value(body: &serde_json::Value) -> Result<Self> {
        let object = body
            .as_object()
            .ok_or(Error::Malformed("the request body is not a JSON object"))?;
        let field = |name: &str, missing: &'static str, not_string: &'static str| {
            object
                .get(name)
                .ok_or(Error::Malformed(missing))?
                .as_str()
                .ok_or(Error::Malformed(not_string))
        };
        Self::from_base64(
            field(
                "encrypted_flow_data",
                "the field `encrypted_flow_data` is missing",
                "the field `encrypted_flow_data` is not a string",
            )?,
            field(
                "encrypted_aes_key",
                "the field `encrypted_aes_key` is missing",
                "the field `encrypted_aes_key` is not a string",
            )?,
            field(
                "initial_vector",
                "the field `initial_vector` is missing",
                "the field `initial_vector` is not a string",
            )?,
        )
    }

    /// Decodes the three base64 fields (as text or bytes: a host whose framework already parsed
    /// the body hands them over without building JSON again).
    ///
    /// # Errors
    /// As [`from_json`](Self::from_json).
    pub fn from_base64(
        encrypted_flow_data: impl AsRef<[u8]>,
        encrypted_aes_key: impl AsRef<[u8]>,
        initial_vector: impl AsRef<[u8]>,
    ) -> Result<Self> {
        let initial_vector = decode_base64_array::<IV_LEN>(
            initial_vector,
            "`initial_vector` must be base64 of 16 bytes",
        )?;
        let encrypted_aes_key =
            decode_base64(encrypted_aes_key, "`encrypted_aes_key` is not valid base64")?;
        let encrypted_flow_data = decode_base64(
            encrypted_flow_data,
            "`encrypted_flow_data` is not valid base64",
        )?;
        Self::from_parts(encrypted_flow_data, encrypted_aes_key, initial_vector)
    }

    /// Builds a request from decoded fields.
    ///
    /// # Errors
    /// [`Error::Malformed`] if `encrypted_flow_data` is shorter than its 16-byte tag or
    /// `encrypted_aes_key` is empty.
    pub fn from_parts(
        encrypted_flow_data: Vec<u8>,
        encrypted_aes_key: Vec<u8>,
        initial_vector: [u8; IV_LEN],
    ) -> Result<Self> {
        if encrypted_flow_data.len() < TAG_LEN {
            return Err(Error::Malformed(
                "`encrypted_flow_data` is shorter than its 16-byte AES-GCM tag",
            ));
        }
        if encrypted_aes_key.is_empty() {
            return Err(Error::Malformed("`encrypted_aes_key` is empty"));
        }
        Ok(Self {
            encrypted_flow_data,
            encrypted_aes_key,
            initial_vector,
        })
    }

    /// The AES-GCM ciphertext followed by its 16-byte tag.
    pub fn encrypted_flow_data(&self) -> &[u8] {
        &self.encrypted_flow_data
    }

    /// The RSA-OAEP-wrapped AES key.
    pub fn encrypted_aes_key(&self) -> &[u8] {
        &self.encrypted_aes_key
    }

    /// The 16-byte AES-GCM IV.
    pub fn initial_vector(&self) -> &[u8; IV_LEN] {
        &self.initial_vector
    }

    /// The request body as WhatsApp sends it (compact JSON, standard base64).
    pub fn to_json(&self) -> String {
        serde_json::json!({
            "encrypted_flow_data": encode_base64(&self.encrypted_flow_data),
            "encrypted_aes_key": encode_base64(&self.encrypted_aes_key),
            "initial_vector": encode_base64(&self.initial_vector),
        })
        .to_string()
    }

    /// Decrypts with `key`; see [`decrypt_request`].
    ///
    /// # Errors
    /// As [`decrypt_request`].
    pub fn decrypt(&self, key: &FlowPrivateKey) -> Result<DecryptedRequest> {
        let aes_key = unwrap_aes_key(&self.encrypted_aes_key, key)?;
        decrypt_payload(self, &aes_key)
    }
}

impl fmt::Debug for EncryptedRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EncryptedRequest")
            .field("encrypted_flow_data_len", &self.encrypted_flow_data.len())
            .field("encrypted_aes_key_len", &self.encrypted_aes_key.len())
            .finish_non_exhaustive()
    }
}

/// A decrypted request: its plaintext JSON text and the key to answer it with.
#[derive(Clone)]
pub struct DecryptedRequest {
    plaintext: String,
    response_key: ResponseKey,
    key_index: usize,
}

impl DecryptedRequest {
    /// Which key of a [`FlowKeyRing`](crate::FlowKeyRing) opened the request (0, the newest,
    /// for a single key). A request opened by an older key means that client still caches
    /// the older public key.
    pub fn key_index(&self) -> usize {
        self.key_index
    }

    pub(crate) fn with_key_index(mut self, key_index: usize) -> Self {
        self.key_index = key_index;
        self
    }

    /// The decrypted JSON text, exactly as WhatsApp sent it.
    pub fn plaintext(&self) -> &str {
        &self.plaintext
    }

    /// The key and IV that [`encrypt_response`](Self::encrypt_response) uses.
    pub fn response_key(&self) -> &ResponseKey {
        &self.response_key
    }

    /// Splits into the plaintext and the response key.
    pub fn into_parts(self) -> (String, ResponseKey) {
        (self.plaintext, self.response_key)
    }

    /// Puts back together what [`into_parts`](Self::into_parts) split, with the index of the
    /// key that opened it: for a host that decrypted through the separate steps and kept only
    /// the parts. The plaintext must pass the rule every decryption applies.
    ///
    /// # Errors
    /// [`Error::Malformed`] unless the plaintext is one JSON object.
    pub fn from_parts(
        plaintext: String,
        response_key: ResponseKey,
        key_index: usize,
    ) -> Result<Self> {
        if !is_json_object(&plaintext) {
            return Err(Error::Malformed(
                "the decrypted payload is not a JSON object",
            ));
        }
        Ok(Self {
            plaintext,
            response_key,
            key_index,
        })
    }

    /// The plaintext parsed into the typed view of a Flows request.
    ///
    /// # Errors
    /// [`Error::Malformed`] if the plaintext is not a JSON object with a string `action`.
    pub fn request(&self) -> Result<FlowRequest> {
        FlowRequest::from_json(&self.plaintext)
    }

    /// Encrypts the response body; see [`crate::encrypt_response`].
    pub fn encrypt_response(&self, response: &[u8]) -> String {
        self.response_key.encrypt(response)
    }
}

impl fmt::Debug for DecryptedRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DecryptedRequest")
            .field("plaintext_len", &self.plaintext.len())
            .finish_non_exhaustive()
    }
}

/// Decrypts a Flows request from the raw POST body.
///
/// Every length and encoding is checked before any cryptography runs. The plaintext is
/// returned only if the AES-GCM tag verifies and it is valid UTF-8.
///
/// ```
/// use wa_flows_crypto::{client, decrypt_request, FlowPrivateKey};
///
/// # let pem = include_bytes!(concat!(env!("CARGO_MANIFEST_DIR"),
/// #     "/tests/data/rsa2048_scrypt_src.pem"));
/// let key = FlowPrivateKey::from_pem(&pem, None)?;
/// // What WhatsApp would send:
/// let (body, session) = client::seal_request(&key.public_key(), br#"{"version":"3.0","action":"ping"}"#)?;
///
/// let request = decrypt_request(body.as_bytes(), &key)?;
/// assert!(request.request()?.is_ping());
/// let answer = request.encrypt_response(wa_flows_crypto::flow::PING_RESPONSE.as_bytes());
///
/// assert_eq!(session.open_response(&answer)?, wa_flows_crypto::flow::PING_RESPONSE.as_bytes());
/// # Ok::<(), wa_flows_crypto::Error>(())
/// ```
///
/// # Errors
/// - [`Error::Malformed`]: the body is not the protocol's JSON, a field is not base64, the IV
///   or unwrapped key is not 16 bytes, the payload is shorter than its tag, or the payload is
///   not a UTF-8 JSON object;
/// - [`Error::KeyUnwrap`]: the AES key was not encrypted for this private key;
/// - [`Error::PayloadAuth`]: the payload does not authenticate.
///
/// All three answer HTTP 421.
pub fn decrypt_request(body: &[u8], key: &FlowPrivateKey) -> Result<DecryptedRequest> {
    EncryptedRequest::from_json(body)?.decrypt(key)
}

/// Step one on its own: unwraps the AES key with RSA-OAEP-SHA256 (MGF1-SHA256, no label).
///
/// # Errors
/// [`Error::KeyUnwrap`] when the padding does not check out; [`Error::Malformed`] when it
/// does but the key inside is not 16 bytes.
pub fn unwrap_aes_key(encrypted_aes_key: &[u8], key: &FlowPrivateKey) -> Result<AesKey> {
    let unwrapped = key.oaep_decrypt(encrypted_aes_key)?;
    AesKey::from_unwrapped(&unwrapped)
}

/// Step two on its own: opens `encrypted_flow_data` with an AES key unwrapped by
/// [`unwrap_aes_key`] or by the host (WebCrypto, a KMS, an HSM).
///
/// # Errors
/// [`Error::PayloadAuth`] if the tag does not verify; [`Error::Malformed`] if the plaintext
/// is not a UTF-8 JSON object.
pub fn decrypt_payload(request: &EncryptedRequest, aes_key: &AesKey) -> Result<DecryptedRequest> {
    decrypt_payload_with(request, aes_key, aes_128_gcm_open)
}

/// AES-128-GCM open with a 16-byte nonce and no associated data: the one implementation behind
/// request payloads and (on the client side) responses.
pub(crate) fn aes_128_gcm_open(
    key: &[u8; AES_KEY_LEN],
    iv: &[u8; IV_LEN],
    ciphertext: &[u8],
    tag: &[u8; TAG_LEN],
) -> core::result::Result<Vec<u8>, aes_gcm::aead::Error> {
    let cipher = Aes128Gcm16::new(&(*key).into());
    let mut buffer = ciphertext.to_vec();
    // aes-gcm verifies the tag before it decrypts, and leaves the buffer encrypted on failure.
    cipher
        .decrypt_inout_detached(
            &(*iv).into(),
            &[],
            buffer.as_mut_slice().into(),
            &(*tag).into(),
        )
        .map(|()| buffer)
}

/// Step two with the host's AES-GCM: the core splits `encrypted_flow_data` into ciphertext and
/// tag, calls `open(aes_key, iv, ciphertext, tag)`, and applies its rules to what comes back.
///
/// For hosts with a faster AES-128-GCM than this crate's portable one (the npm package uses
/// `node:crypto` in Node). `open` must be AES-128-GCM with the 16-byte IV as the nonce, no
/// associated data and the 16-byte tag; it returns the plaintext, or any error if the tag does
/// not verify. The core keeps every rule: the lengths, the mapping of any failure of `open`
/// (whatever its error) to [`Error::PayloadAuth`], a plaintext whose length is not the
/// ciphertext's (a host bug) likewise, and the check that the plaintext is a UTF-8 JSON object. [`decrypt_payload`] is this
/// function with the crate's own AES-GCM.
///
/// # Errors
/// [`Error::PayloadAuth`] if `open` fails or returns a plaintext of the wrong length;
/// [`Error::Malformed`] if the plaintext is not a UTF-8 JSON object.
///
/// # Example
/// ```
/// use wa_flows_crypto::{client, decrypt_payload_with, unwrap_aes_key, EncryptedRequest, FlowPrivateKey};
///
/// # let pem = include_bytes!(concat!(env!("CARGO_MANIFEST_DIR"),
/// #     "/tests/data/rsa2048_scrypt_src.pem"));
/// let key = FlowPrivateKey::from_pem(&pem, None)?;
/// let (body, _session) = client::seal_request(&key.public_key(), br#"{"action":"ping"}"#)?;
/// let request = EncryptedRequest::from_json(body.as_bytes())?;
/// let aes_key = unwrap_aes_key(request.encrypted_aes_key(), &key)?;
///
/// // A host whose AES-GCM refuses the tag: the core answers `payload_auth`.
/// let refused = decrypt_payload_with(&request, &aes_key, |_key, _iv, _ciphertext, _tag| {
///     Err("the host's tag check failed")
/// });
/// assert_eq!(refused.unwrap_err().code(), "payload_auth");
///
/// // A host that opens it (here, for brevity, with the crate's own AES-GCM).
/// let opened = decrypt_payload_with(&request, &aes_key, |_key, _iv, _ciphertext, _tag| {
///     wa_flows_crypto::decrypt_payload(&request, &aes_key).map(|r| r.plaintext().as_bytes().to_vec())
/// })?;
/// assert_eq!(opened.plaintext(), r#"{"action":"ping"}"#);
/// # Ok::<(), wa_flows_crypto::Error>(())
/// ```
pub fn decrypt_payload_with<E>(
    request: &EncryptedRequest,
    aes_key: &AesKey,
    open: impl FnOnce(
        &[u8; AES_KEY_LEN],
        &[u8; IV_LEN],
        &[u8],
        &[u8; TAG_LEN],
    ) -> core::result::Result<Vec<u8>, E>,
) -> Result<DecryptedRequest> {
    let (ciphertext, tag) = request
        .encrypted_flow_data
        .split_last_chunk::<TAG_LEN>()
        .ok_or(Error::Malformed(
            "`encrypted_flow_data` is shorter than its 16-byte AES-GCM tag",
        ))?;
    let mut buffer = open(aes_key.as_bytes(), &request.initial_vector, ciphertext, tag)
        .map_err(|_| Error::PayloadAuth)?;
    if buffer.len() != ciphertext.len() {
        zeroize::Zeroize::zeroize(&mut buffer);
        return Err(Error::PayloadAuth);
    }
    let mut plaintext = String::from_utf8(buffer).map_err(|error| {
        zeroize::Zeroize::zeroize(&mut error.into_bytes());
        Error::Malformed("the decrypted payload is not UTF-8 text")
    })?;
    if !is_json_object(&plaintext) {
        zeroize::Zeroize::zeroize(&mut plaintext);
        return Err(Error::Malformed(
            "the decrypted payload is not a JSON object",
        ));
    }
    Ok(DecryptedRequest {
        plaintext,
        response_key: ResponseKey::new(aes_key.clone(), request.initial_vector),
        key_index: 0,
    })
}

/// Whether `text` is one JSON object and nothing else, checked without building it: every
/// request is an object, so anything else (an array, a string, trailing bytes) is refused here
/// for every caller, instead of surfacing later as each binding's own JSON error.
fn is_json_object(text: &str) -> bool {
    struct ObjectOnly;
    impl<'de> serde::de::Visitor<'de> for ObjectOnly {
        type Value = ();
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a JSON object")
        }
        fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
            while map
                .next_entry::<serde::de::IgnoredAny, serde::de::IgnoredAny>()?
                .is_some()
            {}
            Ok(())
        }
    }
    let mut deserializer = serde_json::Deserializer::from_str(text);
    serde::Deserializer::deserialize_map(&mut deserializer, ObjectOnly).is_ok()
        && deserializer.end().is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sealed(plaintext: &[u8]) -> (EncryptedRequest, AesKey) {
        let aes_key = AesKey::new([7; AES_KEY_LEN]);
        let iv = [9; IV_LEN];
        let cipher = Aes128Gcm16::new(&(*aes_key.as_bytes()).into());
        let mut data = plaintext.to_vec();
        let tag = cipher
            .encrypt_inout_detached(&iv.into(), &[], data.as_mut_slice().into())
            .unwrap();
        data.extend_from_slice(&tag);
        (
            EncryptedRequest::from_parts(data, vec![1], iv).unwrap(),
            aes_key,
        )
    }

    #[test]
    fn an_aes_key_never_shows_its_bytes() {
        let key = AesKey::new([0xAB; AES_KEY_LEN]);
        assert_eq!(format!("{key:?}"), "AesKey(<redacted>)");
        assert_eq!(format!("{key:#?}"), "AesKey(<redacted>)");
        // A parsed request shows its sizes only, and so does a decrypted one.
        let (request, aes_key) = sealed(b"{}");
        let decrypted = decrypt_payload(&request, &aes_key).unwrap();
        assert_eq!(
            format!("{decrypted:?}"),
            "DecryptedRequest { plaintext_len: 2, .. }"
        );
        assert_eq!(
            format!("{:?}", decrypted.response_key()),
            "ResponseKey { .. }"
        );
        assert_eq!(
            format!("{request:?}"),
            format!(
                "EncryptedRequest {{ encrypted_flow_data_len: {}, encrypted_aes_key_len: {}, .. }}",
                request.encrypted_flow_data().len(),
                request.encrypted_aes_key().len()
            )
        );
    }

    #[test]
    fn the_host_sees_the_split_request_and_its_failures_are_payload_auth() {
        let (request, aes_key) = sealed(b"{\"action\":\"ping\"}");
        let opened = decrypt_payload_with(&request, &aes_key, |key, iv, ciphertext, tag| {
            assert_eq!(key, aes_key.as_bytes());
            assert_eq!(iv, request.initial_vector());
            assert_eq!(
                ciphertext.len() + TAG_LEN,
                request.encrypted_flow_data().len()
            );
            assert_eq!(&request.encrypted_flow_data()[ciphertext.len()..], tag);
            Ok::<_, ()>(b"{\"action\":\"ping\"}".to_vec())
        })
        .unwrap();
        assert_eq!(opened.plaintext(), "{\"action\":\"ping\"}");
        assert_eq!(opened.response_key().request_iv(), request.initial_vector());

        let refused = decrypt_payload_with(&request, &aes_key, |_, _, _, _| Err("no"));
        assert_eq!(refused.unwrap_err(), Error::PayloadAuth);
        // A host returning a plaintext of another length is not trusted.
        let short = decrypt_payload_with(&request, &aes_key, |_, _, c, _| {
            Ok::<_, ()>(vec![b'a'; c.len() - 1])
        });
        assert_eq!(short.unwrap_err(), Error::PayloadAuth);
        // The UTF-8 rule is the core's, whoever decrypted.
        let binary = decrypt_payload_with(&request, &aes_key, |_, _, c, _| {
            Ok::<_, ()>(vec![0xff; c.len()])
        });
        assert_eq!(
            binary.unwrap_err(),
            Error::Malformed("the decrypted payload is not UTF-8 text")
        );
    }

    #[test]
    fn decrypt_payload_is_decrypt_payload_with_the_crates_aes_gcm() {
        let (request, aes_key) = sealed("{\"é\":1}".as_bytes());
        assert_eq!(
            decrypt_payload(&request, &aes_key).unwrap().plaintext(),
            "{\"é\":1}"
        );
        let mut tampered = request.encrypted_flow_data().to_vec();
        tampered[0] ^= 1;
        let tampered =
            EncryptedRequest::from_parts(tampered, vec![1], *request.initial_vector()).unwrap();
        assert_eq!(
            decrypt_payload(&tampered, &aes_key).unwrap_err(),
            Error::PayloadAuth
        );
        let (binary, aes_key) = sealed(&[0xc3, 0x28]);
        assert_eq!(
            decrypt_payload(&binary, &aes_key).unwrap_err(),
            Error::Malformed("the decrypted payload is not UTF-8 text")
        );
    }
}

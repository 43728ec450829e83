//! Requests and responses: decrypt_request, the two separate steps, encrypt_response.

use wa_flows_crypto::{AesKey, DecryptedRequest, EncryptedRequest, ResponseKey};

use crate::ffi::{base64_len, free, guard, guard_value, handle, handle_out, input, out_buf};
use crate::key::{wfc_key_ring, wfc_private_key};
use crate::status::wfc_status;

/// The length of the AES-128 key of a request.
pub const WFC_AES_KEY_LEN: usize = 16;
/// The length of a request's `initial_vector`.
pub const WFC_IV_LEN: usize = 16;
/// The length of the AES-GCM tag appended to a response before base64.
pub const WFC_TAG_LEN: usize = 16;
// cbindgen writes only literals into the header; the core's values are the rule.
const _: () = assert!(
    WFC_AES_KEY_LEN == wa_flows_crypto::request::AES_KEY_LEN
        && WFC_IV_LEN == wa_flows_crypto::request::IV_LEN
        && WFC_TAG_LEN == wa_flows_crypto::request::TAG_LEN
);

/// A decrypted request: its plaintext JSON text and the key to answer it with. Immutable;
/// the AES key is zeroized by wfc_decrypted_request_free().
pub struct wfc_decrypted_request(pub(crate) DecryptedRequest);

/// The key and IV a response is encrypted with, kept apart from its request (for hosts that
/// answer later or store the key themselves). Immutable; zeroized by wfc_response_key_free().
pub struct wfc_response_key(ResponseKey);

/// A request body parsed and length-checked but not decrypted: for hosts that unwrap the AES
/// key themselves (an HSM, a KMS) and then call wfc_decrypt_payload(). Immutable.
pub struct wfc_encrypted_request(EncryptedRequest);

/// Decrypts a Flows request from the raw POST body (the JSON object with
/// `encrypted_flow_data`, `encrypted_aes_key`, `initial_vector`).
///
/// On success `*request_out` holds the decrypted request, to release with
/// wfc_decrypted_request_free().
///
/// Errors (all answered with wfc_status_http_status() = 421): `WFC_STATUS_MALFORMED` (not the
/// protocol's JSON, bad base64, wrong lengths, not UTF-8), `WFC_STATUS_KEY_UNWRAP` (encrypted
/// for another public key), `WFC_STATUS_PAYLOAD_AUTH` (the payload does not authenticate).
///
/// # Safety
/// Every pointer follows the conventions at the top of this header.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn wfc_decrypt_request(
    body: *const u8,
    body_len: usize,
    key: *const wfc_private_key,
    request_out: *mut *mut wfc_decrypted_request,
) -> wfc_status {
    guard(|| {
        // SAFETY: header conventions.
        let (key, body, out) = unsafe {
            (
                handle(key, "key")?,
                input(body, body_len, "body")?,
                handle_out(request_out, "request_out")?,
            )
        };
        out.put(wfc_decrypted_request(wa_flows_crypto::decrypt_request(
            body, &key.0,
        )?));
        Ok(())
    })
}

/// As wfc_decrypt_request(), with the first key of the ring whose RSA-OAEP unwrap succeeds;
/// wfc_decrypted_request_key_index() then says which one. When none does, the status is
/// `WFC_STATUS_KEY_UNWRAP` (421: WhatsApp re-fetches the public key).
///
/// # Safety
/// Every pointer follows the conventions at the top of this header.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn wfc_key_ring_decrypt_request(
    body: *const u8,
    body_len: usize,
    ring: *const wfc_key_ring,
    request_out: *mut *mut wfc_decrypted_request,
) -> wfc_status {
    guard(|| {
        // SAFETY: header conventions.
        let (ring, body, out) = unsafe {
            (
                handle(ring, "ring")?,
                input(body, body_len, "body")?,
                handle_out(request_out, "request_out")?,
            )
        };
        out.put(wfc_decrypted_request(ring.0.decrypt_request(body)?));
        Ok(())
    })
}

/// Which key of the ring opened the request (0, the newest, for wfc_decrypt_request()), or 0
/// if `request` is NULL.
///
/// # Safety
/// Every pointer follows the conventions at the top of this header.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn wfc_decrypted_request_key_index(
    request: *const wfc_decrypted_request,
) -> usize {
    guard_value(0, || {
        // SAFETY: header conventions: NULL or a live handle.
        unsafe { request.as_ref() }.map_or(0, |request| request.0.key_index())
    })
}

/// Releases a decrypted request and zeroizes its key. NULL is a no-op.
///
/// # Safety
/// Every pointer follows the conventions at the top of this header.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn wfc_decrypted_request_free(request: *mut wfc_decrypted_request) {
    // SAFETY: header conventions: NULL or a live handle, not used afterwards.
    guard_value((), || unsafe { free(request) })
}

/// The exact length of the plaintext, or 0 if `request` is NULL.
///
/// # Safety
/// Every pointer follows the conventions at the top of this header.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn wfc_decrypted_request_plaintext_len(
    request: *const wfc_decrypted_request,
) -> usize {
    guard_value(0, || {
        // SAFETY: header conventions: NULL or a live handle.
        unsafe { handle(request, "request") }.map_or(0, |r| r.0.plaintext().len())
    })
}

/// The decrypted JSON text (UTF-8, exactly as WhatsApp sent it).
///
/// # Safety
/// Every pointer follows the conventions at the top of this header.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn wfc_decrypted_request_plaintext(
    request: *const wfc_decrypted_request,
    out: *mut u8,
    out_cap: usize,
    out_len: *mut usize,
) -> wfc_status {
    guard(|| {
        // SAFETY: header conventions.
        let (request, out) =
            unsafe { (handle(request, "request")?, out_buf(out, out_cap, out_len)?) };
        out.put(request.0.plaintext().as_bytes())
    })
}

/// The request's AES-128 key (#WFC_AES_KEY_LEN bytes): a secret, wipe it when done.
///
/// # Safety
/// Every pointer follows the conventions at the top of this header.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn wfc_decrypted_request_aes_key(
    request: *const wfc_decrypted_request,
    out: *mut u8,
    out_cap: usize,
    out_len: *mut usize,
) -> wfc_status {
    guard(|| {
        // SAFETY: header conventions.
        let (request, out) =
            unsafe { (handle(request, "request")?, out_buf(out, out_cap, out_len)?) };
        out.put(request.0.response_key().aes_key())
    })
}

/// The request's `initial_vector` (#WFC_IV_LEN bytes), as it arrived.
///
/// # Safety
/// Every pointer follows the conventions at the top of this header.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn wfc_decrypted_request_iv(
    request: *const wfc_decrypted_request,
    out: *mut u8,
    out_cap: usize,
    out_len: *mut usize,
) -> wfc_status {
    guard(|| {
        // SAFETY: header conventions.
        let (request, out) =
            unsafe { (handle(request, "request")?, out_buf(out, out_cap, out_len)?) };
        out.put(request.0.response_key().request_iv())
    })
}

/// A new response key handle with the request's key and IV, independent of `request`
/// (release it with wfc_response_key_free()).
///
/// # Safety
/// Every pointer follows the conventions at the top of this header.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn wfc_decrypted_request_response_key(
    request: *const wfc_decrypted_request,
    key_out: *mut *mut wfc_response_key,
) -> wfc_status {
    guard(|| {
        // SAFETY: header conventions.
        let (request, out) =
            unsafe { (handle(request, "request")?, handle_out(key_out, "key_out")?) };
        out.put(wfc_response_key(request.0.response_key().clone()));
        Ok(())
    })
}

/// The exact length of the body wfc_encrypt_response() or
/// wfc_decrypted_request_encrypt_response() produce for a response of `response_len` bytes:
/// base64 of `response_len` + #WFC_TAG_LEN bytes. Pure.
#[unsafe(no_mangle)]
pub extern "C" fn wfc_encrypt_response_len(response_len: usize) -> usize {
    guard_value(usize::MAX, || {
        response_len
            .checked_add(WFC_TAG_LEN)
            .map_or(usize::MAX, base64_len)
    })
}

/// Encrypts the response body (the caller serializes it, usually JSON) for this request and
/// writes the HTTP body to send (base64 text, `Content-Type: text/plain`).
///
/// # Safety
/// Every pointer follows the conventions at the top of this header.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn wfc_decrypted_request_encrypt_response(
    request: *const wfc_decrypted_request,
    response: *const u8,
    response_len: usize,
    out: *mut u8,
    out_cap: usize,
    out_len: *mut usize,
) -> wfc_status {
    guard(|| {
        // SAFETY: header conventions.
        let (request, response, mut out) = unsafe {
            (
                handle(request, "request")?,
                input(response, response_len, "response")?,
                out_buf(out, out_cap, out_len)?,
            )
        };
        out.reserve(wfc_encrypt_response_len(response.len()))?;
        out.put(request.0.encrypt_response(response).as_bytes())
    })
}

/// A response key from a request's raw AES key (#WFC_AES_KEY_LEN bytes) and IV (#WFC_IV_LEN
/// bytes), for hosts that keep them between decrypting and answering.
///
/// Errors: `WFC_STATUS_MALFORMED` unless both are 16 bytes.
///
/// # Safety
/// Every pointer follows the conventions at the top of this header.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn wfc_response_key_new(
    aes_key: *const u8,
    aes_key_len: usize,
    iv: *const u8,
    iv_len: usize,
    key_out: *mut *mut wfc_response_key,
) -> wfc_status {
    guard(|| {
        // SAFETY: header conventions.
        let (aes_key, iv, out) = unsafe {
            (
                input(aes_key, aes_key_len, "aes_key")?,
                input(iv, iv_len, "iv")?,
                handle_out(key_out, "key_out")?,
            )
        };
        out.put(wfc_response_key(ResponseKey::from_slices(aes_key, iv)?));
        Ok(())
    })
}

/// Releases a response key and zeroizes it. NULL is a no-op.
///
/// # Safety
/// Every pointer follows the conventions at the top of this header.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn wfc_response_key_free(key: *mut wfc_response_key) {
    // SAFETY: header conventions: NULL or a live handle, not used afterwards.
    guard_value((), || unsafe { free(key) })
}

/// Encrypts a response body with `key`: AES-128-GCM with the request's key and its IV with
/// every bit inverted; writes base64(ciphertext || tag), wfc_encrypt_response_len() bytes.
///
/// # Safety
/// Every pointer follows the conventions at the top of this header.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn wfc_encrypt_response(
    response: *const u8,
    response_len: usize,
    key: *const wfc_response_key,
    out: *mut u8,
    out_cap: usize,
    out_len: *mut usize,
) -> wfc_status {
    guard(|| {
        // SAFETY: header conventions.
        let (key, response, mut out) = unsafe {
            (
                handle(key, "key")?,
                input(response, response_len, "response")?,
                out_buf(out, out_cap, out_len)?,
            )
        };
        out.reserve(wfc_encrypt_response_len(response.len()))?;
        out.put(wa_flows_crypto::encrypt_response(response, &key.0).as_bytes())
    })
}

/// Parses a request body without decrypting it (step zero of the separate steps).
///
/// Errors: `WFC_STATUS_MALFORMED`, naming the field.
///
/// # Safety
/// Every pointer follows the conventions at the top of this header.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn wfc_encrypted_request_from_json(
    body: *const u8,
    body_len: usize,
    request_out: *mut *mut wfc_encrypted_request,
) -> wfc_status {
    guard(|| {
        // SAFETY: header conventions.
        let (body, out) = unsafe {
            (
                input(body, body_len, "body")?,
                handle_out(request_out, "request_out")?,
            )
        };
        out.put(wfc_encrypted_request(EncryptedRequest::from_json(body)?));
        Ok(())
    })
}

/// Builds a request from its three base64 fields, for hosts whose framework already parsed
/// the body: the same request, and the same errors, as wfc_encrypted_request_from_json() on a
/// body holding these strings.
///
/// Errors: `WFC_STATUS_MALFORMED`, naming the field.
///
/// # Safety
/// Every pointer follows the conventions at the top of this header.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn wfc_encrypted_request_from_base64(
    encrypted_flow_data: *const u8,
    encrypted_flow_data_len: usize,
    encrypted_aes_key: *const u8,
    encrypted_aes_key_len: usize,
    initial_vector: *const u8,
    initial_vector_len: usize,
    request_out: *mut *mut wfc_encrypted_request,
) -> wfc_status {
    guard(|| {
        // SAFETY: header conventions.
        let (flow_data, aes_key, iv, out) = unsafe {
            (
                input(
                    encrypted_flow_data,
                    encrypted_flow_data_len,
                    "encrypted_flow_data",
                )?,
                input(
                    encrypted_aes_key,
                    encrypted_aes_key_len,
                    "encrypted_aes_key",
                )?,
                input(initial_vector, initial_vector_len, "initial_vector")?,
                handle_out(request_out, "request_out")?,
            )
        };
        out.put(wfc_encrypted_request(EncryptedRequest::from_base64(
            flow_data, aes_key, iv,
        )?));
        Ok(())
    })
}

/// Decrypts a parsed request: both steps, as wfc_decrypt_request() does with the body.
///
/// Errors: as wfc_decrypt_request(), parsing aside.
///
/// # Safety
/// Every pointer follows the conventions at the top of this header.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn wfc_encrypted_request_decrypt(
    request: *const wfc_encrypted_request,
    key: *const wfc_private_key,
    request_out: *mut *mut wfc_decrypted_request,
) -> wfc_status {
    guard(|| {
        // SAFETY: header conventions.
        let (request, key, out) = unsafe {
            (
                handle(request, "request")?,
                handle(key, "key")?,
                handle_out(request_out, "request_out")?,
            )
        };
        out.put(wfc_decrypted_request(request.0.decrypt(&key.0)?));
        Ok(())
    })
}

/// As wfc_encrypted_request_decrypt(), with the first key of the ring whose RSA-OAEP unwrap
/// succeeds (see wfc_key_ring_decrypt_request()).
///
/// # Safety
/// Every pointer follows the conventions at the top of this header.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn wfc_key_ring_decrypt(
    request: *const wfc_encrypted_request,
    ring: *const wfc_key_ring,
    request_out: *mut *mut wfc_decrypted_request,
) -> wfc_status {
    guard(|| {
        // SAFETY: header conventions.
        let (request, ring, out) = unsafe {
            (
                handle(request, "request")?,
                handle(ring, "ring")?,
                handle_out(request_out, "request_out")?,
            )
        };
        out.put(wfc_decrypted_request(ring.0.decrypt(&request.0)?));
        Ok(())
    })
}

/// Releases a parsed request. NULL is a no-op.
///
/// # Safety
/// Every pointer follows the conventions at the top of this header.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn wfc_encrypted_request_free(request: *mut wfc_encrypted_request) {
    // SAFETY: header conventions: NULL or a live handle, not used afterwards.
    guard_value((), || unsafe { free(request) })
}

/// The exact length of wfc_encrypted_request_encrypted_aes_key(), or 0 if `request` is NULL.
///
/// # Safety
/// Every pointer follows the conventions at the top of this header.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn wfc_encrypted_request_encrypted_aes_key_len(
    request: *const wfc_encrypted_request,
) -> usize {
    guard_value(0, || {
        // SAFETY: header conventions: NULL or a live handle.
        unsafe { handle(request, "request") }.map_or(0, |r| r.0.encrypted_aes_key().len())
    })
}

/// The RSA-OAEP-wrapped AES key of the request (decoded from base64), to unwrap with
/// wfc_unwrap_aes_key() or elsewhere.
///
/// # Safety
/// Every pointer follows the conventions at the top of this header.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn wfc_encrypted_request_encrypted_aes_key(
    request: *const wfc_encrypted_request,
    out: *mut u8,
    out_cap: usize,
    out_len: *mut usize,
) -> wfc_status {
    guard(|| {
        // SAFETY: header conventions.
        let (request, out) =
            unsafe { (handle(request, "request")?, out_buf(out, out_cap, out_len)?) };
        out.put(request.0.encrypted_aes_key())
    })
}

/// Step one on its own: unwraps the AES key with RSA-OAEP-SHA256 (MGF1-SHA256, no label) and
/// writes its #WFC_AES_KEY_LEN bytes (a secret: wipe it when done).
///
/// Errors: `WFC_STATUS_KEY_UNWRAP` when the padding does not check out;
/// `WFC_STATUS_MALFORMED` when it does but the key inside is not 16 bytes.
///
/// # Safety
/// Every pointer follows the conventions at the top of this header.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn wfc_unwrap_aes_key(
    encrypted_aes_key: *const u8,
    encrypted_aes_key_len: usize,
    key: *const wfc_private_key,
    out: *mut u8,
    out_cap: usize,
    out_len: *mut usize,
) -> wfc_status {
    guard(|| {
        // SAFETY: header conventions.
        let (key, wrapped, mut out) = unsafe {
            (
                handle(key, "key")?,
                input(
                    encrypted_aes_key,
                    encrypted_aes_key_len,
                    "encrypted_aes_key",
                )?,
                out_buf(out, out_cap, out_len)?,
            )
        };
        out.reserve(WFC_AES_KEY_LEN)?;
        let aes_key = wa_flows_crypto::unwrap_aes_key(wrapped, &key.0)?;
        out.put(aes_key.as_bytes())
    })
}

/// Step two on its own: opens the request's `encrypted_flow_data` with an AES key unwrapped
/// by wfc_unwrap_aes_key() or by the host (#WFC_AES_KEY_LEN bytes).
///
/// Errors: `WFC_STATUS_MALFORMED` (key not 16 bytes, plaintext not UTF-8),
/// `WFC_STATUS_PAYLOAD_AUTH` (the tag does not verify).
///
/// # Safety
/// Every pointer follows the conventions at the top of this header.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn wfc_decrypt_payload(
    request: *const wfc_encrypted_request,
    aes_key: *const u8,
    aes_key_len: usize,
    request_out: *mut *mut wfc_decrypted_request,
) -> wfc_status {
    guard(|| {
        // SAFETY: header conventions.
        let (request, aes_key, out) = unsafe {
            (
                handle(request, "request")?,
                input(aes_key, aes_key_len, "aes_key")?,
                handle_out(request_out, "request_out")?,
            )
        };
        let aes_key = AesKey::from_slice(aes_key)?;
        out.put(wfc_decrypted_request(wa_flows_crypto::decrypt_payload(
            &request.0, &aes_key,
        )?));
        Ok(())
    })
}

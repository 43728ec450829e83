//! The one-call tier: a configured endpoint that runs every step on a POST, and the typed view
//! of a flow request.

use wa_flows_crypto::endpoint::{FLOW_TOKEN_ERROR_STATUS, FlowEndpoint, FlowTokenSignaturePolicy};
use wa_flows_crypto::{FlowRequest, FlowTokenSignature, OpenedRequest};

use crate::ffi::{
    Failure, free, guard, guard_value, handle, handle_out, input, inputs, optional_input, out_buf,
    wfc_bytes,
};
use crate::key::wfc_key_ring;
use crate::request::wfc_decrypted_request;
use crate::status::wfc_status;

/// The HTTP status of an invalid or expired flow token (see wfc_opened_request_flow_token_error()).
pub const WFC_FLOW_TOKEN_ERROR_STATUS: u16 = 427;
// cbindgen writes only literals into the header; the core's value is the rule.
const _: () = assert!(WFC_FLOW_TOKEN_ERROR_STATUS == FLOW_TOKEN_ERROR_STATUS);

/// What wfc_flow_endpoint_open() does with data API 4.0's `flow_token_signature`. Passed as a
/// plain integer, so that any number is safe: an unknown one is `WFC_STATUS_INVALID_CONFIGURATION`.
#[repr(u32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum wfc_flow_token_signature_policy {
    /// Verify it when present; accept requests without (data API 3.0). The default.
    IfPresent = 0,
    /// Every request but a ping must carry a valid one.
    Required = 1,
    /// Do not look at it.
    Off = 2,
}

/// A Flows endpoint's cryptography, configured once: a key ring, app secrets and a
/// flow-token-signature policy. Immutable and safe to share between threads.
pub struct wfc_flow_endpoint(FlowEndpoint);

/// A request that passed every step of wfc_flow_endpoint_open(). Immutable.
pub struct wfc_opened_request(OpenedRequest);

/// Makes an endpoint. `app_secrets` may be empty (NULL, 0): request signatures are then not
/// checked. `policy` is a #wfc_flow_token_signature_policy. The endpoint keeps its own copies of
/// the keys and secrets. Release it with wfc_flow_endpoint_free().
///
/// Errors: `WFC_STATUS_INVALID_CONFIGURATION` for an empty secret, an unknown policy, or
/// `required` without a secret.
///
/// # Safety
/// Every pointer follows the conventions at the top of this header.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn wfc_flow_endpoint_new(
    ring: *const wfc_key_ring,
    app_secrets: *const wfc_bytes,
    app_secrets_count: usize,
    policy: u32,
    endpoint_out: *mut *mut wfc_flow_endpoint,
) -> wfc_status {
    guard(|| {
        // SAFETY: header conventions.
        let (ring, secrets, out) = unsafe {
            (
                handle(ring, "ring")?,
                inputs(app_secrets, app_secrets_count, "app_secrets")?,
                handle_out(endpoint_out, "endpoint_out")?,
            )
        };
        let policy = match policy {
            0 => FlowTokenSignaturePolicy::IfPresent,
            1 => FlowTokenSignaturePolicy::Required,
            2 => FlowTokenSignaturePolicy::Off,
            _ => {
                return Err(wa_flows_crypto::Error::InvalidConfiguration(
                    "the flow token signature policy is not one of if_present, required, off",
                )
                .into());
            }
        };
        out.put(wfc_flow_endpoint(FlowEndpoint::new(
            ring.0.clone(),
            &secrets,
            policy,
        )?));
        Ok(())
    })
}

/// Releases an endpoint and zeroizes its keys and secrets. NULL is a no-op.
///
/// # Safety
/// Every pointer follows the conventions at the top of this header.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn wfc_flow_endpoint_free(endpoint: *mut wfc_flow_endpoint) {
    // SAFETY: header conventions: NULL or a live handle, not used afterwards.
    guard_value((), || unsafe { free(endpoint) })
}

/// Runs every step on one POST, in order: the `X-Hub-Signature-256` header (`signature_header`
/// may be NULL when absent), decryption with the key ring, the flow request, and the flow token
/// signature. `now` is the caller's clock in Unix seconds. On success `*opened_out` holds the
/// opened request, to release with wfc_opened_request_free().
///
/// Errors, each with its wfc_status_http_status(): `WFC_STATUS_INVALID_SIGNATURE` (432),
/// `WFC_STATUS_MALFORMED`, `WFC_STATUS_KEY_UNWRAP`, `WFC_STATUS_PAYLOAD_AUTH` (421),
/// `WFC_STATUS_INVALID_FLOW_TOKEN_SIGNATURE` (427).
///
/// # Safety
/// Every pointer follows the conventions at the top of this header.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn wfc_flow_endpoint_open(
    endpoint: *const wfc_flow_endpoint,
    body: *const u8,
    body_len: usize,
    signature_header: *const u8,
    signature_header_len: usize,
    now: i64,
    opened_out: *mut *mut wfc_opened_request,
) -> wfc_status {
    guard(|| {
        // SAFETY: header conventions.
        let (endpoint, body, header, out) = unsafe {
            (
                handle(endpoint, "endpoint")?,
                input(body, body_len, "body")?,
                optional_input(signature_header, signature_header_len, "signature_header")?,
                handle_out(opened_out, "opened_out")?,
            )
        };
        let header = header.map(String::from_utf8_lossy);
        out.put(wfc_opened_request(endpoint.0.open(
            body,
            header.as_deref(),
            now,
        )?));
        Ok(())
    })
}

/// Releases an opened request and zeroizes its key. NULL is a no-op.
///
/// # Safety
/// Every pointer follows the conventions at the top of this header.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn wfc_opened_request_free(opened: *mut wfc_opened_request) {
    // SAFETY: header conventions: NULL or a live handle, not used afterwards.
    guard_value((), || unsafe { free(opened) })
}

/// The typed view of the request as JSON text (see wfc_decrypted_request_flow()).
///
/// # Safety
/// Every pointer follows the conventions at the top of this header.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn wfc_opened_request_flow(
    opened: *const wfc_opened_request,
    out: *mut u8,
    out_cap: usize,
    out_len: *mut usize,
) -> wfc_status {
    guard(|| {
        // SAFETY: header conventions.
        let (opened, out) = unsafe { (handle(opened, "opened")?, out_buf(out, out_cap, out_len)?) };
        out.put(view(opened.0.flow())?.as_bytes())
    })
}

/// The decrypted JSON text, exactly as WhatsApp sent it.
///
/// # Safety
/// Every pointer follows the conventions at the top of this header.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn wfc_opened_request_plaintext(
    opened: *const wfc_opened_request,
    out: *mut u8,
    out_cap: usize,
    out_len: *mut usize,
) -> wfc_status {
    guard(|| {
        // SAFETY: header conventions.
        let (opened, out) = unsafe { (handle(opened, "opened")?, out_buf(out, out_cap, out_len)?) };
        out.put(opened.0.decrypted().plaintext().as_bytes())
    })
}

/// Which key of the ring opened the request (0 is the newest), or 0 if `opened` is NULL.
///
/// # Safety
/// Every pointer follows the conventions at the top of this header.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn wfc_opened_request_key_index(opened: *const wfc_opened_request) -> usize {
    guard_value(0, || {
        // SAFETY: header conventions: NULL or a live handle.
        unsafe { opened.as_ref() }.map_or(0, |opened| opened.0.decrypted().key_index())
    })
}

/// What the flow token signature check found: a #wfc_flow_token_signature value
/// (`WFC_FLOW_TOKEN_SIGNATURE_VERIFIED` or `_ABSENT`), or 0 when it was not checked (policy
/// `off`, or no app secret), or `opened` is NULL.
///
/// # Safety
/// Every pointer follows the conventions at the top of this header.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn wfc_opened_request_flow_token_signature(
    opened: *const wfc_opened_request,
) -> u32 {
    guard_value(0, || {
        // SAFETY: header conventions: NULL or a live handle.
        let opened = unsafe { opened.as_ref() };
        match opened.and_then(|opened| opened.0.flow_token_signature()) {
            Some(FlowTokenSignature::Verified) => {
                crate::signature::wfc_flow_token_signature::Verified as u32
            }
            Some(FlowTokenSignature::Absent) => {
                crate::signature::wfc_flow_token_signature::Absent as u32
            }
            None => 0,
        }
    })
}

/// The answer the protocol fixes for this request, if any: `{"data":{"status":"active"}}` for
/// a ping, `{"data":{"acknowledged":true}}` for an error notification. Writes nothing and sets
/// `*out_len` to 0 when the flow must answer itself. Encrypt it with
/// wfc_opened_request_respond().
///
/// # Safety
/// Every pointer follows the conventions at the top of this header.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn wfc_opened_request_automatic_response(
    opened: *const wfc_opened_request,
    out: *mut u8,
    out_cap: usize,
    out_len: *mut usize,
) -> wfc_status {
    guard(|| {
        // SAFETY: header conventions.
        let (opened, out) = unsafe { (handle(opened, "opened")?, out_buf(out, out_cap, out_len)?) };
        out.put(opened.0.automatic_response().unwrap_or_default().as_bytes())
    })
}

/// Encrypts the answer: the HTTP body (base64, `text/plain`, status 200), of exactly
/// wfc_encrypt_response_len(answer_len) bytes.
///
/// # Safety
/// Every pointer follows the conventions at the top of this header.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn wfc_opened_request_respond(
    opened: *const wfc_opened_request,
    answer: *const u8,
    answer_len: usize,
    out: *mut u8,
    out_cap: usize,
    out_len: *mut usize,
) -> wfc_status {
    guard(|| {
        // SAFETY: header conventions.
        let (opened, answer, mut out) = unsafe {
            (
                handle(opened, "opened")?,
                input(answer, answer_len, "answer")?,
                out_buf(out, out_cap, out_len)?,
            )
        };
        out.reserve(crate::request::wfc_encrypt_response_len(answer.len()))?;
        out.put(opened.0.respond(answer).as_bytes())
    })
}

/// The body to send with status #WFC_FLOW_TOKEN_ERROR_STATUS (427) for a flow token the
/// application itself finds expired or invalid: the encrypted `{"error_msg": …}`, which
/// WhatsApp shows the user. `error_msg` is UTF-8 text.
///
/// # Safety
/// Every pointer follows the conventions at the top of this header.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn wfc_opened_request_flow_token_error(
    opened: *const wfc_opened_request,
    error_msg: *const u8,
    error_msg_len: usize,
    out: *mut u8,
    out_cap: usize,
    out_len: *mut usize,
) -> wfc_status {
    guard(|| {
        // SAFETY: header conventions.
        let (opened, message, out) = unsafe {
            (
                handle(opened, "opened")?,
                input(error_msg, error_msg_len, "error_msg")?,
                out_buf(out, out_cap, out_len)?,
            )
        };
        let message = core::str::from_utf8(message)
            .map_err(|_| Failure::malformed("error_msg is not UTF-8 text"))?;
        let (_status, body) = opened.0.flow_token_error(message);
        out.put(body.as_bytes())
    })
}

/// The typed view of a decrypted request, as JSON text: `action` as the library names it
/// (`ping`, `INIT`, `data_exchange`, `BACK`, or an unknown one as sent), `screen`, `data`,
/// `flow_token`, `version`, `is_ping`, and `error_notification` (`null` or
/// `{error, error_message, error_key}`). A call with `out_cap` 0 reports the length needed.
///
/// Errors: `WFC_STATUS_MALFORMED` (421) when the request has no string `action`, or a
/// `screen`, `flow_token` or `version` that is not a string.
///
/// # Safety
/// Every pointer follows the conventions at the top of this header.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn wfc_decrypted_request_flow(
    request: *const wfc_decrypted_request,
    out: *mut u8,
    out_cap: usize,
    out_len: *mut usize,
) -> wfc_status {
    guard(|| {
        // SAFETY: header conventions.
        let (request, out) =
            unsafe { (handle(request, "request")?, out_buf(out, out_cap, out_len)?) };
        out.put(view(&request.0.request()?)?.as_bytes())
    })
}

fn view(flow: &FlowRequest) -> Result<String, Failure> {
    serde_json::to_string(flow)
        .map_err(|_| Failure::malformed("the flow request cannot be written as JSON"))
}

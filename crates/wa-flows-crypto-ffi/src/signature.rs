//! `X-Hub-Signature-256` request signatures.

use wa_flows_crypto::FlowTokenSignature;

use crate::ffi::{guard, input, inputs, out_buf, value_out, wfc_bytes};
use crate::status::wfc_status;

/// The length of the header wfc_sign() writes: `sha256=` and 64 hex digits.
pub const WFC_SIGNATURE_HEADER_LEN: usize = 71;
const _: () = assert!(WFC_SIGNATURE_HEADER_LEN == wa_flows_crypto::signature::SIGNATURE_HEADER_LEN);

/// Verifies an `X-Hub-Signature-256` header value against the raw request body (exactly as
/// received, before any JSON parsing) with the app secret. Constant-time comparison; hex digits
/// in either case; surrounding whitespace ignored.
///
/// Returns `WFC_STATUS_OK` if it matches, `WFC_STATUS_INVALID_SIGNATURE` (HTTP 432) if the
/// header is missing, empty, malformed or does not match, and `WFC_STATUS_INVALID_CONFIGURATION`
/// (HTTP 500) for an empty app secret, which anyone could sign with.
///
/// # Safety
/// Every pointer follows the conventions at the top of this header.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn wfc_verify_signature(
    body: *const u8,
    body_len: usize,
    header: *const u8,
    header_len: usize,
    app_secret: *const u8,
    app_secret_len: usize,
) -> wfc_status {
    guard(|| {
        // SAFETY: header conventions.
        let (body, header, app_secret) = unsafe {
            (
                input(body, body_len, "body")?,
                input(header, header_len, "header")?,
                input(app_secret, app_secret_len, "app_secret")?,
            )
        };
        // Invalid UTF-8 becomes U+FFFD, which the core rejects as a malformed header.
        let header = String::from_utf8_lossy(header);
        wa_flows_crypto::verify_signature(body, &header, app_secret)?;
        Ok(())
    })
}

/// Writes the `X-Hub-Signature-256` header value for `body` (#WFC_SIGNATURE_HEADER_LEN bytes:
/// `sha256=` and lowercase hex): what WhatsApp sends, for tests and for clients.
///
/// # Safety
/// Every pointer follows the conventions at the top of this header.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn wfc_sign(
    body: *const u8,
    body_len: usize,
    app_secret: *const u8,
    app_secret_len: usize,
    out: *mut u8,
    out_cap: usize,
    out_len: *mut usize,
) -> wfc_status {
    guard(|| {
        // SAFETY: header conventions.
        let (body, app_secret, mut out) = unsafe {
            (
                input(body, body_len, "body")?,
                input(app_secret, app_secret_len, "app_secret")?,
                out_buf(out, out_cap, out_len)?,
            )
        };
        out.reserve(WFC_SIGNATURE_HEADER_LEN)?;
        out.put(wa_flows_crypto::sign(body, app_secret).as_bytes())
    })
}

/// As wfc_verify_signature(), accepting any of `app_secrets_count` app secrets (newest first),
/// for rotation after the app secret is reset. Every secret is compared, in constant time.
///
/// `matched_index_out` may be NULL; otherwise, on success, it receives the index of the secret
/// that matched (so that an operator can tell when the old one is no longer used).
///
/// Errors: as wfc_verify_signature(), and `WFC_STATUS_INVALID_CONFIGURATION` for no secrets or
/// an empty one.
///
/// # Safety
/// Every pointer follows the conventions at the top of this header.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn wfc_verify_signature_any(
    body: *const u8,
    body_len: usize,
    header: *const u8,
    header_len: usize,
    app_secrets: *const wfc_bytes,
    app_secrets_count: usize,
    matched_index_out: *mut usize,
) -> wfc_status {
    guard(|| {
        // SAFETY: header conventions.
        let (body, header, secrets) = unsafe {
            (
                input(body, body_len, "body")?,
                input(header, header_len, "header")?,
                inputs(app_secrets, app_secrets_count, "app_secrets")?,
            )
        };
        let header = String::from_utf8_lossy(header);
        let matched = wa_flows_crypto::verify_signature_any(body, &header, &secrets)?;
        if !matched_index_out.is_null() {
            // SAFETY: non-NULL, so by the header's conventions writable for one size_t.
            unsafe { value_out(matched_index_out, "matched_index_out")? }.put(matched);
        }
        Ok(())
    })
}

/// The outcome of wfc_verify_flow_token_signature() when it returns `WFC_STATUS_OK`.
#[repr(u32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum wfc_flow_token_signature {
    /// The request's `flow_token_signature` holds.
    Verified = 1,
    /// The request has no `flow_token_signature` (data API 3.0, or a ping).
    Absent = 2,
}

/// Data API 4.0: verifies the `flow_token_signature` of a decrypted request (its JSON text,
/// wfc_decrypted_request_plaintext()): an HS256 JWT over the request's `flow_token`, made with
/// the Meta app secret. `app_secrets` are the secrets to accept, newest first; `now` is the
/// caller's clock in Unix seconds (`exp` and `nbf` get 60 s of leeway).
///
/// On `WFC_STATUS_OK`, `*outcome_out` says whether the signature was verified or absent.
///
/// Errors: `WFC_STATUS_INVALID_FLOW_TOKEN_SIGNATURE` (HTTP 427) when the field is present but
/// wrong in any way; `WFC_STATUS_MALFORMED` when `request` is not a flow request;
/// `WFC_STATUS_INVALID_CONFIGURATION` for no secrets or an empty one.
///
/// # Safety
/// Every pointer follows the conventions at the top of this header.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn wfc_verify_flow_token_signature(
    request: *const u8,
    request_len: usize,
    app_secrets: *const wfc_bytes,
    app_secrets_count: usize,
    now: i64,
    outcome_out: *mut wfc_flow_token_signature,
) -> wfc_status {
    guard(|| {
        // SAFETY: header conventions.
        let (request, secrets, out) = unsafe {
            (
                input(request, request_len, "request")?,
                inputs(app_secrets, app_secrets_count, "app_secrets")?,
                value_out(outcome_out, "outcome_out")?,
            )
        };
        let request = core::str::from_utf8(request)
            .map_err(|_| wa_flows_crypto::Error::Malformed("the request is not UTF-8 text"))?;
        let outcome = wa_flows_crypto::verify_flow_token_signature(request, &secrets, now)?;
        out.put(match outcome {
            FlowTokenSignature::Verified => wfc_flow_token_signature::Verified,
            FlowTokenSignature::Absent => wfc_flow_token_signature::Absent,
        });
        Ok(())
    })
}

/// Writes a `flow_token_signature` as Flows makes it (an HS256 JWT over `{"flow_token": …}`),
/// for clients and tests. `exp` is included when `has_exp` is non-zero. A call with `out_cap`
/// 0 returns `WFC_STATUS_BUFFER_TOO_SMALL` with the length needed in `*out_len`.
///
/// # Safety
/// Every pointer follows the conventions at the top of this header.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn wfc_sign_flow_token(
    flow_token: *const u8,
    flow_token_len: usize,
    app_secret: *const u8,
    app_secret_len: usize,
    has_exp: u8,
    exp: i64,
    out: *mut u8,
    out_cap: usize,
    out_len: *mut usize,
) -> wfc_status {
    guard(|| {
        // SAFETY: header conventions.
        let (token, app_secret, out) = unsafe {
            (
                input(flow_token, flow_token_len, "flow_token")?,
                input(app_secret, app_secret_len, "app_secret")?,
                out_buf(out, out_cap, out_len)?,
            )
        };
        let token = core::str::from_utf8(token)
            .map_err(|_| wa_flows_crypto::Error::Malformed("the flow token is not UTF-8 text"))?;
        let jwt = wa_flows_crypto::client::sign_flow_token(
            token,
            app_secret,
            (has_exp != 0).then_some(exp),
        );
        out.put(jwt.as_bytes())
    })
}

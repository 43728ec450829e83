//! `X-Hub-Signature-256` request signatures.

use crate::ffi::{guard, input, out_buf};
use crate::status::wfc_status;

/// The length of the header wfc_sign() writes: `sha256=` and 64 hex digits.
pub const WFC_SIGNATURE_HEADER_LEN: usize = 71;

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

//! Status codes, their strings and HTTP statuses, and the per-thread last error message.

use core::ffi::c_char;

use wa_flows_crypto::ErrorKind;

use crate::ffi::{Failure, guard_value, out_buf};

/// The result of every fallible function. The numbers are part of the ABI: they never change
/// and are never reused.
///
/// Statuses 1 to 99 are the core library's error codes (the same strings in every language
/// binding, see wfc_status_str()); 100 and above exist only at the C boundary.
#[repr(u32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum wfc_status {
    /// Success.
    Ok = 0,
    /// `malformed`: the input is not what the protocol allows (missing field, bad base64, wrong
    /// length, a ciphertext too short). HTTP 421.
    Malformed = 1,
    /// `key_unwrap`: RSA-OAEP-SHA256 could not unwrap the AES key (the request was encrypted
    /// for another public key). HTTP 421.
    KeyUnwrap = 2,
    /// `payload_auth`: AES-GCM authentication of the request payload failed. HTTP 421.
    PayloadAuth = 3,
    /// `invalid_key`: the private key cannot be loaded or used. HTTP 500.
    InvalidKey = 4,
    /// `invalid_signature`: the X-Hub-Signature-256 header does not authenticate the body.
    /// HTTP 432.
    InvalidSignature = 5,
    /// `encrypted_hash_mismatch`: media, the CDN file is not the one the metadata describes.
    EncryptedHashMismatch = 6,
    /// `hmac_mismatch`: media, the file's HMAC does not verify.
    HmacMismatch = 7,
    /// `padding`: media, the decrypted file has no valid PKCS#7 padding.
    Padding = 8,
    /// `plaintext_hash_mismatch`: media, the decrypted file's SHA-256 is not `plaintext_hash`.
    PlaintextHashMismatch = 9,
    /// `invalid_configuration`: the call is configured unsafely or cannot work (an empty app
    /// secret, an empty list of secrets or keys). HTTP 500.
    InvalidConfiguration = 10,
    /// `invalid_flow_token_signature`: data API 4.0, the request's `flow_token_signature` is
    /// present but does not hold. HTTP 427.
    InvalidFlowTokenSignature = 11,
    /// `already_finished`: a media decryptor or verifier was used after it finished.
    AlreadyFinished = 12,
    /// `null_parameter`: a required pointer was NULL (or an input pointer was NULL with a
    /// non-zero length). The message names the parameter.
    NullParameter = 100,
    /// `buffer_too_small`: `out_cap` is smaller than the output; `*out_len` holds the length
    /// needed. Nothing else was written; call again with a larger buffer.
    BufferTooSmall = 101,
    /// `panic`: a bug inside the library was caught at the boundary. Please report it.
    Panic = 102,
}

impl wfc_status {
    pub(crate) const ALL: [wfc_status; 16] = [
        wfc_status::Ok,
        wfc_status::Malformed,
        wfc_status::KeyUnwrap,
        wfc_status::PayloadAuth,
        wfc_status::InvalidKey,
        wfc_status::InvalidSignature,
        wfc_status::EncryptedHashMismatch,
        wfc_status::HmacMismatch,
        wfc_status::Padding,
        wfc_status::PlaintextHashMismatch,
        wfc_status::InvalidConfiguration,
        wfc_status::InvalidFlowTokenSignature,
        wfc_status::AlreadyFinished,
        wfc_status::NullParameter,
        wfc_status::BufferTooSmall,
        wfc_status::Panic,
    ];

    /// The status of a core error kind.
    pub(crate) fn from_kind(kind: ErrorKind) -> wfc_status {
        match kind {
            ErrorKind::Malformed => wfc_status::Malformed,
            ErrorKind::KeyUnwrap => wfc_status::KeyUnwrap,
            ErrorKind::PayloadAuth => wfc_status::PayloadAuth,
            ErrorKind::InvalidKey => wfc_status::InvalidKey,
            ErrorKind::InvalidSignature => wfc_status::InvalidSignature,
            ErrorKind::EncryptedHashMismatch => wfc_status::EncryptedHashMismatch,
            ErrorKind::HmacMismatch => wfc_status::HmacMismatch,
            ErrorKind::Padding => wfc_status::Padding,
            ErrorKind::PlaintextHashMismatch => wfc_status::PlaintextHashMismatch,
            ErrorKind::InvalidConfiguration => wfc_status::InvalidConfiguration,
            ErrorKind::InvalidFlowTokenSignature => wfc_status::InvalidFlowTokenSignature,
            ErrorKind::AlreadyFinished => wfc_status::AlreadyFinished,
            // A kind added to the core without a status here: the test
            // `every_core_kind_has_its_own_status` fails until one is added.
            _ => wfc_status::Malformed,
        }
    }

    fn from_u32(value: u32) -> Option<wfc_status> {
        wfc_status::ALL
            .into_iter()
            .find(|status| *status as u32 == value)
    }

    /// The stable code string, NUL-terminated.
    pub(crate) const fn code(self) -> &'static core::ffi::CStr {
        match self {
            wfc_status::Ok => c"ok",
            wfc_status::Malformed => c"malformed",
            wfc_status::KeyUnwrap => c"key_unwrap",
            wfc_status::PayloadAuth => c"payload_auth",
            wfc_status::InvalidKey => c"invalid_key",
            wfc_status::InvalidSignature => c"invalid_signature",
            wfc_status::EncryptedHashMismatch => c"encrypted_hash_mismatch",
            wfc_status::HmacMismatch => c"hmac_mismatch",
            wfc_status::Padding => c"padding",
            wfc_status::PlaintextHashMismatch => c"plaintext_hash_mismatch",
            wfc_status::InvalidConfiguration => c"invalid_configuration",
            wfc_status::InvalidFlowTokenSignature => c"invalid_flow_token_signature",
            wfc_status::AlreadyFinished => c"already_finished",
            wfc_status::NullParameter => c"null_parameter",
            wfc_status::BufferTooSmall => c"buffer_too_small",
            wfc_status::Panic => c"panic",
        }
    }

    fn http_status(self) -> u16 {
        match self {
            wfc_status::Ok | wfc_status::BufferTooSmall => 0,
            wfc_status::NullParameter | wfc_status::Panic => 500,
            core => core
                .code()
                .to_str()
                .ok()
                .and_then(ErrorKind::from_code)
                .and_then(ErrorKind::http_status)
                .unwrap_or(0),
        }
    }
}

/// The stable code string of a status (`"ok"`, `"malformed"`, `"key_unwrap"`, ...,
/// `"null_parameter"`, `"buffer_too_small"`, `"panic"`): a static NUL-terminated string, never
/// freed. An unknown number gives `"unknown"`.
///
/// `status` is a #wfc_status value (taken as a plain integer so that any number is safe).
#[unsafe(no_mangle)]
pub extern "C" fn wfc_status_str(status: u32) -> *const c_char {
    guard_value(c"unknown".as_ptr(), || {
        wfc_status::from_u32(status)
            .map(wfc_status::code)
            .unwrap_or(c"unknown")
            .as_ptr()
    })
}

/// The HTTP status an endpoint should answer with when a call failed with `status`:
/// 421 for `malformed`, `key_unwrap` and `payload_auth` (WhatsApp then re-fetches the public
/// key); 432 for `invalid_signature`; 500 for `invalid_key`, `null_parameter` and `panic`
/// (server-side problems). 0 for `ok`, `buffer_too_small`, the media errors (they are not
/// request-level: answer the request, with an error screen) and unknown numbers.
#[unsafe(no_mangle)]
pub extern "C" fn wfc_status_http_status(status: u32) -> u16 {
    guard_value(0, || {
        wfc_status::from_u32(status).map_or(0, wfc_status::http_status)
    })
}

/// Copies the human-readable message of the last call on this thread that did not return
/// `WFC_STATUS_OK` (UTF-8, not NUL-terminated) into `out`. It says what went wrong and what to
/// do, and never contains key material or input data. Empty if no call failed yet on this
/// thread. Calling this function does not change the message.
///
/// # Safety
/// Every pointer follows the conventions at the top of this header.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn wfc_last_error_message(
    out: *mut u8,
    out_cap: usize,
    out_len: *mut usize,
) -> wfc_status {
    // Not through `guard`: a failure here must not replace the message being read.
    let result = std::panic::catch_unwind(|| {
        // SAFETY: the caller passes `out` valid for `out_cap` bytes and `out_len` valid or NULL.
        let out = unsafe { out_buf(out, out_cap, out_len) }?;
        crate::ffi::with_last_error(|message| out.put(message.as_bytes()))
    });
    match result {
        Ok(Ok(())) => wfc_status::Ok,
        Ok(Err(Failure { status, .. })) => status,
        Err(_) => wfc_status::Panic,
    }
}

/// The length in bytes of the message wfc_last_error_message() would copy out now.
#[unsafe(no_mangle)]
pub extern "C" fn wfc_last_error_message_len() -> usize {
    std::panic::catch_unwind(|| crate::ffi::with_last_error(|message| message.len())).unwrap_or(0)
}

/// The version of the library, e.g. `"0.1.0"`: a static NUL-terminated string.
#[unsafe(no_mangle)]
pub extern "C" fn wfc_version() -> *const c_char {
    const VERSION: &core::ffi::CStr = match core::ffi::CStr::from_bytes_with_nul(
        concat!(env!("CARGO_PKG_VERSION"), "\0").as_bytes(),
    ) {
        Ok(version) => version,
        Err(_) => c"unknown",
    };
    guard_value(VERSION.as_ptr(), || VERSION.as_ptr())
}

/// Panics inside the guard every entry point uses, to test the boundary. Not exported: the
/// shipped library has no way to panic on purpose.
#[cfg(test)]
fn deliberate_panic() -> wfc_status {
    crate::ffi::guard(|| -> Result<(), Failure> {
        #[allow(clippy::panic)]
        {
            panic!("a deliberate panic to test the boundary")
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_core_kind_has_its_own_status() {
        let mut seen = Vec::new();
        for kind in ErrorKind::ALL {
            let status = wfc_status::from_kind(kind);
            assert_eq!(status.code().to_str().unwrap(), kind.code());
            assert_eq!(
                status.http_status(),
                kind.http_status().unwrap_or(0),
                "{kind:?}"
            );
            assert!(!seen.contains(&status));
            seen.push(status);
        }
    }

    #[test]
    fn numbers_are_stable() {
        let numbers: Vec<u32> = wfc_status::ALL.iter().map(|s| *s as u32).collect();
        assert_eq!(
            numbers,
            [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 100, 101, 102]
        );
        assert_eq!(wfc_status::from_u32(55), None);
        assert_eq!(wfc_status_http_status(55), 0);
        assert_eq!(wfc_status_http_status(5), 432);
        assert_eq!(wfc_status_http_status(6), 0);
    }

    #[test]
    fn panics_are_caught() {
        assert_eq!(deliberate_panic(), wfc_status::Panic);
        assert!(crate::ffi::with_last_error(|m| m.contains("panic")));
    }
}

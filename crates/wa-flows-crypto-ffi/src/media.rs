//! Media: the files of `PhotoPicker` and `DocumentPicker`, one-shot and streaming.

use wa_flows_crypto::media::{decrypt_media_content_into, max_plaintext_len};
use wa_flows_crypto::{
    MediaDecryptor, MediaMetadata, MediaVerifier, decrypt_media_content,
    decrypt_media_content_in_place,
};
use zeroize::{Zeroize as _, Zeroizing};

use crate::ffi::{
    Failure, free, guard, guard_value, handle, handle_mut, handle_out, input, out_buf, value_out,
};
use crate::status::wfc_status;

/// The most plaintext wfc_media_decryptor_finish() writes; its `out_cap` must be at least this.
pub const WFC_MEDIA_FINISH_MAX_LEN: usize = 15;
const _: () =
    assert!(WFC_MEDIA_FINISH_MAX_LEN == wa_flows_crypto::MediaDecryptor::MAX_FINISH_OUTPUT);
const _: () = assert!(WFC_MEDIA_FINISH_MAX_LEN == MediaDecryptor::MAX_FINISH_OUTPUT);

/// The `encryption_metadata` of one uploaded file: keys, IV and hashes. Immutable; the keys
/// are zeroized by wfc_media_metadata_free().
pub struct wfc_media_metadata(MediaMetadata);

/// Decrypts a CDN file fed in chunks. Mutable state: one thread at a time.
///
/// **The plaintext released by wfc_media_decryptor_update() is NOT VERIFIED** until
/// wfc_media_decryptor_finish() returns `WFC_STATUS_OK`: do not parse, serve or act on it
/// before; if finish fails, discard (and overwrite) all of it. Prefer
/// wfc_decrypt_media_content() when the file fits in memory.
pub struct wfc_media_decryptor {
    state: Option<MediaDecryptor>,
    /// The bytes fed in all, kept once `state` is gone.
    total: u64,
}

/// Verifies a CDN file fed in chunks without decrypting it (verify first, decrypt on a second
/// read). Mutable state: one thread at a time.
pub struct wfc_media_verifier(Option<MediaVerifier>);

fn spent() -> Failure {
    wa_flows_crypto::Error::AlreadyFinished.into()
}

/// Parses `encryption_metadata` JSON exactly as it arrives in the flow request (the object
/// with `encryption_key`, `hmac_key`, `iv`, `plaintext_hash`, `encrypted_hash`).
///
/// Errors: `WFC_STATUS_MALFORMED`, naming the field.
///
/// # Safety
/// Every pointer follows the conventions at the top of this header.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn wfc_media_metadata_from_json(
    json: *const u8,
    json_len: usize,
    metadata_out: *mut *mut wfc_media_metadata,
) -> wfc_status {
    guard(|| {
        // SAFETY: header conventions.
        let (json, out) = unsafe {
            (
                input(json, json_len, "json")?,
                handle_out(metadata_out, "metadata_out")?,
            )
        };
        out.put(wfc_media_metadata(MediaMetadata::from_json(json)?));
        Ok(())
    })
}

/// Releases metadata and zeroizes its keys. NULL is a no-op.
///
/// # Safety
/// Every pointer follows the conventions at the top of this header.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn wfc_media_metadata_free(metadata: *mut wfc_media_metadata) {
    // SAFETY: header conventions: NULL or a live handle, not used afterwards.
    guard_value((), || unsafe { free(metadata) })
}

/// An upper bound on the plaintext of a CDN file of `cdn_file_len` bytes (the file less its
/// 10-byte MAC and at least one padding byte); always enough for wfc_decrypt_media_content().
/// Pure.
#[unsafe(no_mangle)]
pub extern "C" fn wfc_decrypt_media_content_max_len(cdn_file_len: usize) -> usize {
    guard_value(0, || max_plaintext_len(cdn_file_len))
}

/// Decrypts a whole CDN file and verifies it; leaves plaintext in `out` only if every check
/// passed (file hash, MAC, padding, plaintext hash, in that order).
///
/// With `out_cap` at least wfc_decrypt_media_content_max_len(cdn_file_len) the plaintext is
/// decrypted straight into `out` (on a failed check, what was written is zeroed again) and the
/// call never returns `WFC_STATUS_BUFFER_TOO_SMALL`; with less, the file is decrypted and
/// verified first, `out` is written only on success, and `*out_len` receives the exact length
/// if it does not fit.
///
/// Errors: `WFC_STATUS_MALFORMED` (impossible length), `WFC_STATUS_ENCRYPTED_HASH_MISMATCH`,
/// `WFC_STATUS_HMAC_MISMATCH`, `WFC_STATUS_PADDING`, `WFC_STATUS_PLAINTEXT_HASH_MISMATCH`.
/// None is a request-level error (wfc_status_http_status() is 0): answer the request with an
/// error screen.
///
/// # Safety
/// Every pointer follows the conventions at the top of this header.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn wfc_decrypt_media_content(
    metadata: *const wfc_media_metadata,
    cdn_file: *const u8,
    cdn_file_len: usize,
    out: *mut u8,
    out_cap: usize,
    out_len: *mut usize,
) -> wfc_status {
    guard(|| {
        // SAFETY: header conventions.
        let (metadata, cdn_file, mut out) = unsafe {
            (
                handle(metadata, "metadata")?,
                input(cdn_file, cdn_file_len, "cdn_file")?,
                out_buf(out, out_cap, out_len)?,
            )
        };
        if out.buffer().len() >= max_plaintext_len(cdn_file.len()) {
            // Straight into the caller's memory: the plaintext is written once.
            let written = decrypt_media_content_into(cdn_file, &metadata.0, out.buffer())?;
            out.finish(written);
            return Ok(());
        }
        let plaintext = Zeroizing::new(decrypt_media_content(cdn_file, &metadata.0)?);
        out.put(&plaintext)
    })
}

/// Decrypts a whole CDN file inside its own buffer and verifies it, without a second
/// allocation: on success the plaintext is `buffer[0 .. *plaintext_len]` and the rest of the
/// buffer is zero.
///
/// Errors: as wfc_decrypt_media_content(). A `WFC_STATUS_MALFORMED` length error leaves the
/// buffer as it was; any other failure **zeroes the whole buffer** (it was decrypted in the
/// same pass that verified it), so keep a copy of the file if you need it after a failure.
///
/// # Safety
/// Every pointer follows the conventions at the top of this header.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn wfc_decrypt_media_content_in_place(
    metadata: *const wfc_media_metadata,
    buffer: *mut u8,
    buffer_len: usize,
    plaintext_len: *mut usize,
) -> wfc_status {
    guard(|| {
        // SAFETY: header conventions; `buffer` is read and written, `out_buf` with a separate
        // length slot would alias it, so the length goes through `value_out`.
        let (metadata, length) = unsafe {
            (
                handle(metadata, "metadata")?,
                value_out(plaintext_len, "plaintext_len")?,
            )
        };
        let mut sink = 0usize;
        // SAFETY: `buffer` valid for reads and writes of `buffer_len` bytes (header);
        // `sink` is a local, so the view does not alias `plaintext_len`.
        let mut view = unsafe { out_buf(buffer, buffer_len, &mut sink) }
            .map_err(|_| Failure::null("buffer"))?;
        let n = decrypt_media_content_in_place(view.buffer(), &metadata.0)?;
        length.put(n);
        Ok(())
    })
}

/// Starts decrypting a file with these keys; `*decryptor_out` is released with
/// wfc_media_decryptor_free(). The decryptor copies the keys: `metadata` may be freed.
///
/// # Safety
/// Every pointer follows the conventions at the top of this header.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn wfc_media_decryptor_new(
    metadata: *const wfc_media_metadata,
    decryptor_out: *mut *mut wfc_media_decryptor,
) -> wfc_status {
    guard(|| {
        // SAFETY: header conventions.
        let (metadata, out) = unsafe {
            (
                handle(metadata, "metadata")?,
                handle_out(decryptor_out, "decryptor_out")?,
            )
        };
        out.put(wfc_media_decryptor {
            state: Some(MediaDecryptor::new(&metadata.0)),
            total: 0,
        });
        Ok(())
    })
}

/// Releases a decryptor and zeroizes its state. NULL is a no-op.
///
/// # Safety
/// Every pointer follows the conventions at the top of this header.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn wfc_media_decryptor_free(decryptor: *mut wfc_media_decryptor) {
    // SAFETY: header conventions: NULL or a live handle, not used afterwards.
    guard_value((), || unsafe { free(decryptor) })
}

/// An upper bound on what one wfc_media_decryptor_update() with `chunk_len` bytes writes,
/// whatever was fed before (at most `chunk_len` + 15). Pure.
#[unsafe(no_mangle)]
pub extern "C" fn wfc_media_decryptor_max_update_len(chunk_len: usize) -> usize {
    guard_value(usize::MAX, || MediaDecryptor::max_update_output(chunk_len))
}

/// Exactly how many bytes the next wfc_media_decryptor_update() with `chunk_len` bytes
/// writes; 0 if `decryptor` is NULL or finished.
///
/// # Safety
/// Every pointer follows the conventions at the top of this header.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn wfc_media_decryptor_update_len(
    decryptor: *const wfc_media_decryptor,
    chunk_len: usize,
) -> usize {
    guard_value(0, || {
        // SAFETY: header conventions: NULL or a live handle.
        unsafe { handle(decryptor, "decryptor") }
            .ok()
            .and_then(|d| d.state.as_ref())
            .map_or(0, |d| d.update_output_len(chunk_len))
    })
}

/// Feeds the next chunk of the CDN file (any size, including 0) and writes the plaintext it
/// releases (wfc_media_decryptor_update_len() bytes, a multiple of 16; possibly 0).
/// **Unverified until wfc_media_decryptor_finish() returns `WFC_STATUS_OK`.**
///
/// On `WFC_STATUS_BUFFER_TOO_SMALL` nothing was consumed: call again with a larger buffer.
/// `WFC_STATUS_ALREADY_FINISHED` if the decryptor has already finished.
///
/// # Safety
/// Every pointer follows the conventions at the top of this header.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn wfc_media_decryptor_update(
    decryptor: *mut wfc_media_decryptor,
    chunk: *const u8,
    chunk_len: usize,
    out: *mut u8,
    out_cap: usize,
    out_len: *mut usize,
) -> wfc_status {
    guard(|| {
        // SAFETY: header conventions.
        let (decryptor, chunk, mut out) = unsafe {
            (
                handle_mut(decryptor, "decryptor")?,
                input(chunk, chunk_len, "chunk")?,
                out_buf(out, out_cap, out_len)?,
            )
        };
        let handle = decryptor;
        let decryptor = handle.state.as_mut().ok_or_else(spent)?;
        out.reserve(decryptor.update_output_len(chunk.len()))?;
        let n = decryptor.update_into(chunk, out.buffer())?;
        handle.total = decryptor.bytes_processed();
        out.finish(n);
        Ok(())
    })
}

/// How many bytes of the CDN file have been fed so far (the total, once finished); 0 if
/// `decryptor` is NULL.
///
/// # Safety
/// Every pointer follows the conventions at the top of this header.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn wfc_media_decryptor_bytes_processed(
    decryptor: *const wfc_media_decryptor,
) -> u64 {
    guard_value(0, || {
        // SAFETY: header conventions: NULL or a live handle.
        unsafe { handle(decryptor, "decryptor") }.map_or(0, |d| d.total)
    })
}

/// Ends the file: runs every check (lengths, file hash, MAC, padding, plaintext hash) and, if
/// all pass, writes the last plaintext bytes (at most #WFC_MEDIA_FINISH_MAX_LEN).
///
/// `out_cap` must be at least #WFC_MEDIA_FINISH_MAX_LEN (checked first:
/// `WFC_STATUS_BUFFER_TOO_SMALL` then, and the decryptor is left as it was). After any other
/// return the decryptor is finished: further calls give `WFC_STATUS_ALREADY_FINISHED`; free it.
/// On an error, discard all the plaintext released so far.
///
/// # Safety
/// Every pointer follows the conventions at the top of this header.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn wfc_media_decryptor_finish(
    decryptor: *mut wfc_media_decryptor,
    out: *mut u8,
    out_cap: usize,
    out_len: *mut usize,
) -> wfc_status {
    guard(|| {
        // SAFETY: header conventions.
        let (decryptor, mut out) = unsafe {
            (
                handle_mut(decryptor, "decryptor")?,
                out_buf(out, out_cap, out_len)?,
            )
        };
        if decryptor.state.is_none() {
            return Err(spent());
        }
        out.reserve(WFC_MEDIA_FINISH_MAX_LEN)?;
        let state = decryptor.state.take().ok_or_else(spent)?;
        let mut last = [0u8; WFC_MEDIA_FINISH_MAX_LEN];
        let n = state.finish_into(&mut last)?;
        let result = out.put(last.get(..n).unwrap_or_default());
        last.zeroize();
        result
    })
}

/// Starts verifying a file with these keys; `*verifier_out` is released with
/// wfc_media_verifier_free().
///
/// # Safety
/// Every pointer follows the conventions at the top of this header.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn wfc_media_verifier_new(
    metadata: *const wfc_media_metadata,
    verifier_out: *mut *mut wfc_media_verifier,
) -> wfc_status {
    guard(|| {
        // SAFETY: header conventions.
        let (metadata, out) = unsafe {
            (
                handle(metadata, "metadata")?,
                handle_out(verifier_out, "verifier_out")?,
            )
        };
        out.put(wfc_media_verifier(Some(MediaVerifier::new(&metadata.0))));
        Ok(())
    })
}

/// Releases a verifier. NULL is a no-op.
///
/// # Safety
/// Every pointer follows the conventions at the top of this header.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn wfc_media_verifier_free(verifier: *mut wfc_media_verifier) {
    // SAFETY: header conventions: NULL or a live handle, not used afterwards.
    guard_value((), || unsafe { free(verifier) })
}

/// Feeds the next chunk of the CDN file. `WFC_STATUS_ALREADY_FINISHED` if already finished.
///
/// # Safety
/// Every pointer follows the conventions at the top of this header.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn wfc_media_verifier_update(
    verifier: *mut wfc_media_verifier,
    chunk: *const u8,
    chunk_len: usize,
) -> wfc_status {
    guard(|| {
        // SAFETY: header conventions.
        let (verifier, chunk) = unsafe {
            (
                handle_mut(verifier, "verifier")?,
                input(chunk, chunk_len, "chunk")?,
            )
        };
        verifier.0.as_mut().ok_or_else(spent)?.update(chunk);
        Ok(())
    })
}

/// Ends the file and runs every check, as wfc_media_decryptor_finish() but without
/// decrypting. The verifier is finished afterwards.
///
/// # Safety
/// Every pointer follows the conventions at the top of this header.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn wfc_media_verifier_finish(
    verifier: *mut wfc_media_verifier,
) -> wfc_status {
    guard(|| {
        // SAFETY: header conventions.
        let verifier = unsafe { handle_mut(verifier, "verifier") }?;
        verifier.0.take().ok_or_else(spent)?.finish()?;
        Ok(())
    })
}

//! The C ABI called as a careless C host would: NULL for any pointer, lengths that do not fit,
//! output buffers of every capacity. Invariants: every status is a documented one; NULL and
//! short buffers are reported, never dereferenced or overrun; a `BUFFER_TOO_SMALL` reports the
//! exact length that then succeeds; nothing is written on failure; results equal the core's.
//!
//! `tests/c_abi_regressions.rs` replays `fuzz/regressions/c_abi/` through it.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    missing_docs,
    // It calls the C ABI through raw pointers, as a C host does.
    unsafe_code
)]

use std::ptr;
use std::sync::OnceLock;

use wa_flows_crypto_ffi::*;

const KEY_PEM: &[u8] = include_bytes!("../../../tests/vectors/keys/rsa2048_pkcs8.pem");
const SENTINEL: u8 = 0xA5;

struct Key(*mut wfc_private_key);
// SAFETY: keys are immutable and documented as usable from many threads.
unsafe impl Send for Key {}
// SAFETY: as above.
unsafe impl Sync for Key {}

fn key() -> *const wfc_private_key {
    static KEY: OnceLock<Key> = OnceLock::new();
    KEY.get_or_init(|| {
        let mut key = ptr::null_mut();
        // SAFETY: valid pointers and lengths.
        let status = unsafe {
            wfc_private_key_from_pem(KEY_PEM.as_ptr(), KEY_PEM.len(), ptr::null(), 0, &mut key)
        };
        assert_eq!(status, wfc_status::Ok);
        Key(key)
    })
    .0
}

fn documented(status: wfc_status) {
    let code = wfc_status_str(status as u32);
    assert!(!code.is_null());
    // SAFETY: wfc_status_str returns a static NUL-terminated string.
    let code = unsafe { std::ffi::CStr::from_ptr(code) }.to_str().unwrap();
    // The core's codes, from the core (a hand-kept list here went stale once), and the four
    // the C boundary adds.
    let core_code = wa_flows_crypto::ErrorKind::from_code(code).is_some();
    let boundary_code = ["ok", "null_parameter", "buffer_too_small", "panic"].contains(&code);
    assert!(core_code || boundary_code, "undocumented status {code}");
    assert_ne!(status, wfc_status::Panic, "a panic reached the boundary");
}

struct Input<'a>(&'a [u8]);

impl<'a> Input<'a> {
    fn byte(&mut self) -> u8 {
        match self.0.split_first() {
            Some((first, rest)) => {
                self.0 = rest;
                *first
            }
            None => 0,
        }
    }

    fn bytes(&mut self) -> &'a [u8] {
        let n = usize::from(self.byte()) << 8 | usize::from(self.byte());
        let (head, rest) = self.0.split_at(n.min(self.0.len()));
        self.0 = rest;
        head
    }
}

/// A pointer for `bytes`, or NULL when `null` (keeping the claimed length, which the library
/// must then refuse unless it is 0).
fn pointer(bytes: &[u8], null: bool) -> *const u8 {
    if null { ptr::null() } else { bytes.as_ptr() }
}

/// Calls a copy-out function with a buffer of `cap` bytes (or NULL), then checks the rules.
fn copy_out(
    cap: usize,
    null_out: bool,
    null_len: bool,
    call: impl Fn(*mut u8, usize, *mut usize) -> wfc_status,
) -> Option<Vec<u8>> {
    let mut buffer = vec![SENTINEL; cap];
    let mut len = usize::MAX;
    let out = if null_out {
        ptr::null_mut()
    } else {
        buffer.as_mut_ptr()
    };
    let len_ptr = if null_len {
        ptr::null_mut()
    } else {
        &mut len as *mut usize
    };
    let status = call(out, if null_out { cap } else { buffer.len() }, len_ptr);
    documented(status);
    match status {
        wfc_status::Ok => {
            assert!(!null_len && (!null_out || cap == 0 || len == 0));
            assert!(len <= cap);
            assert!(
                buffer[len..].iter().all(|&b| b == SENTINEL),
                "wrote past out_len"
            );
            Some(buffer[..len].to_vec())
        }
        wfc_status::BufferTooSmall => {
            assert!(len > cap, "BUFFER_TOO_SMALL must report the needed length");
            assert!(buffer.iter().all(|&b| b == SENTINEL), "wrote on failure");
            // The reported length is enough.
            let mut exact = vec![SENTINEL; len];
            let mut exact_len = 0;
            assert_eq!(
                call(exact.as_mut_ptr(), exact.len(), &mut exact_len),
                wfc_status::Ok
            );
            assert_eq!(exact_len, len);
            Some(exact)
        }
        _ => {
            assert!(buffer.iter().all(|&b| b == SENTINEL), "wrote on failure");
            None
        }
    }
}

pub fn c_abi(data: &[u8]) {
    let mut input = Input(data);
    let flags = input.byte();
    let cap = usize::from(input.byte()) * 3;
    let null_in = flags & 1 != 0;
    let null_out = flags & 2 != 0;
    let null_len = flags & 4 != 0;
    match input.byte() % 6 {
        0 => {
            // Key loading, then the public key copied out.
            let bytes = input.bytes();
            let passphrase = input.bytes();
            let mut handle = ptr::null_mut();
            // SAFETY: pointers are NULL or valid for their lengths.
            let status = unsafe {
                wfc_private_key_from_pem(
                    pointer(bytes, null_in),
                    bytes.len(),
                    passphrase.as_ptr(),
                    passphrase.len(),
                    if flags & 8 != 0 {
                        ptr::null_mut()
                    } else {
                        &mut handle
                    },
                )
            };
            documented(status);
            if status == wfc_status::Ok {
                let public = copy_out(cap, null_out, null_len, |out, cap, len| {
                    // SAFETY: a live handle and a buffer of `cap` bytes (or NULL).
                    unsafe { wfc_private_key_public_pem(handle, out, cap, len) }
                });
                let expected = wa_flows_crypto::FlowPrivateKey::from_pem(bytes, Some(passphrase))
                    .unwrap()
                    .public_key_pem();
                if let Some(public) = public {
                    assert_eq!(public, expected.as_bytes());
                }
            } else {
                assert!(handle.is_null(), "a handle was written on failure");
            }
            // SAFETY: NULL or a handle from the call above, freed once.
            unsafe { wfc_private_key_free(handle) };
        }
        1 => {
            // A request body, then its plaintext copied out.
            let body = input.bytes();
            let mut request = ptr::null_mut();
            // SAFETY: pointers are NULL or valid for their lengths.
            let status = unsafe {
                wfc_decrypt_request(pointer(body, null_in), body.len(), key(), &mut request)
            };
            documented(status);
            if status == wfc_status::Ok {
                copy_out(cap, null_out, null_len, |out, cap, len| {
                    // SAFETY: a live handle and a buffer of `cap` bytes (or NULL).
                    unsafe { wfc_decrypted_request_plaintext(request, out, cap, len) }
                });
            }
            // SAFETY: NULL or a live handle, freed once.
            unsafe { wfc_decrypted_request_free(request) };
            // A NULL key is reported, never dereferenced.
            let mut other = ptr::null_mut();
            // SAFETY: a NULL key is part of what is tested.
            let status =
                unsafe { wfc_decrypt_request(body.as_ptr(), body.len(), ptr::null(), &mut other) };
            assert_eq!(status, wfc_status::NullParameter);
        }
        2 => {
            // Response encryption with any key and IV lengths.
            let aes_key = input.bytes();
            let iv = input.bytes();
            let response = input.bytes();
            let mut handle = ptr::null_mut();
            // SAFETY: pointers are NULL or valid for their lengths.
            let status = unsafe {
                wfc_response_key_new(
                    pointer(aes_key, null_in),
                    aes_key.len(),
                    iv.as_ptr(),
                    iv.len(),
                    &mut handle,
                )
            };
            documented(status);
            if status == wfc_status::Ok {
                let body = copy_out(cap, null_out, null_len, |out, cap, len| {
                    // SAFETY: a live handle, input valid for its length, buffer of `cap` bytes.
                    unsafe {
                        wfc_encrypt_response(
                            response.as_ptr(),
                            response.len(),
                            handle,
                            out,
                            cap,
                            len,
                        )
                    }
                });
                let core_key = wa_flows_crypto::ResponseKey::from_slices(aes_key, iv).unwrap();
                if let Some(body) = body {
                    assert_eq!(body, core_key.encrypt(response).as_bytes());
                }
                assert!(
                    wfc_encrypt_response_len(response.len()) >= core_key.encrypt(response).len()
                );
            } else {
                assert!(aes_key.len() != 16 || iv.len() != 16 || null_in);
            }
            // SAFETY: NULL or a live handle, freed once.
            unsafe { wfc_response_key_free(handle) };
        }
        3 => {
            // Signatures.
            let body = input.bytes();
            let header = input.bytes();
            let secret = input.bytes();
            // SAFETY: pointers are NULL or valid for their lengths.
            let status = unsafe {
                wfc_verify_signature(
                    pointer(body, null_in),
                    body.len(),
                    header.as_ptr(),
                    header.len(),
                    secret.as_ptr(),
                    secret.len(),
                )
            };
            documented(status);
            // A NULL body with a length is refused first, as a NULL parameter.
            let body_passed = !null_in || body.is_empty();
            if secret.is_empty() && body_passed {
                // An empty app secret is public: refused as configuration, whatever the header.
                assert_eq!(status, wfc_status::InvalidConfiguration);
            }
            let signed = copy_out(cap, null_out, null_len, |out, cap, len| {
                // SAFETY: inputs valid for their lengths, buffer of `cap` bytes (or NULL).
                unsafe {
                    wfc_sign(
                        body.as_ptr(),
                        body.len(),
                        secret.as_ptr(),
                        secret.len(),
                        out,
                        cap,
                        len,
                    )
                }
            });
            if let Some(signed) = signed {
                assert_eq!(signed, wa_flows_crypto::sign(body, secret).as_bytes());
            }
        }
        _ => {
            // Media metadata, then streaming with caller buffers of fuzzer-chosen sizes.
            let json = input.bytes();
            let file = input.bytes();
            let mut metadata = ptr::null_mut();
            // SAFETY: pointers are NULL or valid for their lengths.
            let status = unsafe {
                wfc_media_metadata_from_json(pointer(json, null_in), json.len(), &mut metadata)
            };
            documented(status);
            if status == wfc_status::Ok {
                let mut decryptor = ptr::null_mut();
                // SAFETY: a live metadata handle.
                let status = unsafe { wfc_media_decryptor_new(metadata, &mut decryptor) };
                assert_eq!(status, wfc_status::Ok);
                for chunk in file.chunks(usize::from(flags >> 4) + 1) {
                    let mut out = vec![SENTINEL; cap];
                    let mut len = 0;
                    // SAFETY: a live decryptor, input valid, buffer of `cap` bytes.
                    let status = unsafe {
                        wfc_media_decryptor_update(
                            decryptor,
                            chunk.as_ptr(),
                            chunk.len(),
                            out.as_mut_ptr(),
                            out.len(),
                            &mut len,
                        )
                    };
                    documented(status);
                    match status {
                        wfc_status::Ok => {
                            assert!(len <= wfc_media_decryptor_max_update_len(chunk.len()));
                            assert!(out[len..].iter().all(|&b| b == SENTINEL));
                        }
                        wfc_status::BufferTooSmall => {
                            assert!(len > cap);
                            assert!(out.iter().all(|&b| b == SENTINEL), "wrote on failure");
                            break;
                        }
                        _ => break,
                    }
                }
                let mut out = vec![SENTINEL; cap];
                let mut len = 0;
                // SAFETY: a live decryptor and a buffer of `cap` bytes.
                let status = unsafe {
                    wfc_media_decryptor_finish(decryptor, out.as_mut_ptr(), out.len(), &mut len)
                };
                documented(status);
                // SAFETY: live handles, freed once.
                unsafe {
                    wfc_media_decryptor_free(decryptor);
                    wfc_media_metadata_free(metadata);
                }
            } else {
                assert!(metadata.is_null());
            }
        }
    }
}

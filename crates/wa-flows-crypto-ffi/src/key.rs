//! The business private key.

use wa_flows_crypto::{FlowKeyRing, FlowPrivateKey};

use crate::ffi::{free, guard, guard_value, handle, handle_out, input, optional_input, out_buf};
use crate::status::wfc_status;

/// The size wfc_private_key_generate() uses when `bits` is 0, and the one WhatsApp Flows
/// expects.
pub const WFC_DEFAULT_KEY_BITS: usize = 2048;
const _: () = assert!(WFC_DEFAULT_KEY_BITS == wa_flows_crypto::key::DEFAULT_KEY_BITS);

/// The length of wfc_private_key_public_fingerprint(): 64 lowercase hex digits.
pub const WFC_FINGERPRINT_LEN: usize = 64;

/// The business private key (RSA, 2048 to 8192 bits).
///
/// Immutable once loaded and safe to use from many threads at once: load it once at start-up
/// and share it. Its key material is zeroized by wfc_private_key_free().
pub struct wfc_private_key(pub(crate) FlowPrivateKey);

/// Loads a private key from PEM text (PKCS#1 `RSA PRIVATE KEY`, PKCS#8 `PRIVATE KEY`,
/// `ENCRYPTED PRIVATE KEY`, legacy OpenSSL `Proc-Type: 4,ENCRYPTED`), or DER if the input has
/// no PEM armour. Repairs what environment variables do to PEM (literal `\n`, CRLF, quotes).
///
/// `passphrase` may be NULL (no passphrase); it is needed only for encrypted keys, and an
/// empty one counts as none. On success `*key_out` holds a new key to release with
/// wfc_private_key_free().
///
/// Errors: `WFC_STATUS_INVALID_KEY` (not a key, a public key, not RSA, missing or wrong
/// passphrase, under 2048 bits; the message says which and what to do).
///
/// # Safety
/// Every pointer follows the conventions at the top of this header.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn wfc_private_key_from_pem(
    pem: *const u8,
    pem_len: usize,
    passphrase: *const u8,
    passphrase_len: usize,
    key_out: *mut *mut wfc_private_key,
) -> wfc_status {
    guard(|| {
        // SAFETY: header conventions: inputs valid for their lengths, `key_out` writable.
        let (pem, passphrase, out) = unsafe {
            (
                input(pem, pem_len, "pem")?,
                optional_input(passphrase, passphrase_len, "passphrase")?,
                handle_out(key_out, "key_out")?,
            )
        };
        out.put(wfc_private_key(FlowPrivateKey::from_pem(pem, passphrase)?));
        Ok(())
    })
}

/// Loads a private key from DER: PKCS#8 `PrivateKeyInfo`, PKCS#8 `EncryptedPrivateKeyInfo`
/// (needs `passphrase`) or PKCS#1 `RSAPrivateKey`. Otherwise as wfc_private_key_from_pem().
///
/// # Safety
/// Every pointer follows the conventions at the top of this header.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn wfc_private_key_from_der(
    der: *const u8,
    der_len: usize,
    passphrase: *const u8,
    passphrase_len: usize,
    key_out: *mut *mut wfc_private_key,
) -> wfc_status {
    guard(|| {
        // SAFETY: header conventions: inputs valid for their lengths, `key_out` writable.
        let (der, passphrase, out) = unsafe {
            (
                input(der, der_len, "der")?,
                optional_input(passphrase, passphrase_len, "passphrase")?,
                handle_out(key_out, "key_out")?,
            )
        };
        out.put(wfc_private_key(FlowPrivateKey::from_der(der, passphrase)?));
        Ok(())
    })
}

/// Generates a new key of `bits` bits: 2048, 3072 or 4096, or 0 for #WFC_DEFAULT_KEY_BITS.
///
/// Errors: `WFC_STATUS_INVALID_KEY` for other sizes or if the system RNG fails.
///
/// # Safety
/// Every pointer follows the conventions at the top of this header.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn wfc_private_key_generate(
    bits: usize,
    key_out: *mut *mut wfc_private_key,
) -> wfc_status {
    guard(|| {
        // SAFETY: header conventions: `key_out` writable.
        let out = unsafe { handle_out(key_out, "key_out") }?;
        let bits = if bits == 0 {
            WFC_DEFAULT_KEY_BITS
        } else {
            bits
        };
        out.put(wfc_private_key(FlowPrivateKey::generate_with_bits(bits)?));
        Ok(())
    })
}

/// Releases a key and zeroizes its material. NULL is a no-op.
///
/// # Safety
/// Every pointer follows the conventions at the top of this header.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn wfc_private_key_free(key: *mut wfc_private_key) {
    // SAFETY: header conventions: NULL or a live key, not used afterwards.
    guard_value((), || unsafe { free(key) })
}

/// The modulus size in bits (2048 for the keys WhatsApp expects), or 0 if `key` is NULL.
///
/// # Safety
/// Every pointer follows the conventions at the top of this header.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn wfc_private_key_bits(key: *const wfc_private_key) -> usize {
    guard_value(0, || {
        // SAFETY: header conventions: NULL or a live key.
        unsafe { handle(key, "key") }.map_or(0, |key| key.0.bits())
    })
}

/// The exact length of wfc_private_key_public_pem(), or 0 if `key` is NULL.
///
/// # Safety
/// Every pointer follows the conventions at the top of this header.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn wfc_private_key_public_pem_len(key: *const wfc_private_key) -> usize {
    guard_value(0, || {
        // SAFETY: header conventions: NULL or a live key.
        unsafe { handle(key, "key") }.map_or(0, |key| key.0.public_key_pem().len())
    })
}

/// The public key as SPKI PEM (`-----BEGIN PUBLIC KEY-----`, LF line ends): the form Meta's
/// Graph API and providers want uploaded.
///
/// # Safety
/// Every pointer follows the conventions at the top of this header.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn wfc_private_key_public_pem(
    key: *const wfc_private_key,
    out: *mut u8,
    out_cap: usize,
    out_len: *mut usize,
) -> wfc_status {
    guard(|| {
        // SAFETY: header conventions.
        let (key, out) = unsafe { (handle(key, "key")?, out_buf(out, out_cap, out_len)?) };
        out.put(key.0.public_key_pem().as_bytes())
    })
}

/// The exact length of wfc_private_key_public_der(), or 0 if `key` is NULL.
///
/// # Safety
/// Every pointer follows the conventions at the top of this header.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn wfc_private_key_public_der_len(key: *const wfc_private_key) -> usize {
    guard_value(0, || {
        // SAFETY: header conventions: NULL or a live key.
        unsafe { handle(key, "key") }.map_or(0, |key| key.0.public_key_der().len())
    })
}

/// The public key as SPKI DER.
///
/// # Safety
/// Every pointer follows the conventions at the top of this header.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn wfc_private_key_public_der(
    key: *const wfc_private_key,
    out: *mut u8,
    out_cap: usize,
    out_len: *mut usize,
) -> wfc_status {
    guard(|| {
        // SAFETY: header conventions.
        let (key, out) = unsafe { (handle(key, "key")?, out_buf(out, out_cap, out_len)?) };
        out.put(key.0.public_key_der())
    })
}

/// The SHA-256 fingerprint of the public key's SPKI DER as #WFC_FINGERPRINT_LEN lowercase hex
/// digits: the same as `openssl pkey -pubout -outform DER -in private.pem | sha256sum`.
///
/// # Safety
/// Every pointer follows the conventions at the top of this header.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn wfc_private_key_public_fingerprint(
    key: *const wfc_private_key,
    out: *mut u8,
    out_cap: usize,
    out_len: *mut usize,
) -> wfc_status {
    guard(|| {
        // SAFETY: header conventions.
        let (key, out) = unsafe { (handle(key, "key")?, out_buf(out, out_cap, out_len)?) };
        out.put(key.0.public_key_fingerprint().as_bytes())
    })
}

/// The length of a PEM block with `label` around `der_len` bytes, as the core writes it
/// (64-character lines, LF).
fn pem_len(label: &str, der_len: usize) -> usize {
    let body = crate::ffi::base64_len(der_len);
    let lines = body.div_ceil(64);
    // "-----BEGIN " label "-----\n" body+newlines "-----END " label "-----\n"
    body.saturating_add(lines)
        .saturating_add(11 + 6 + 9 + 6)
        .saturating_add(label.len().saturating_mul(2))
}

/// Slack for the PBES2 parameters of an encrypted PKCS#8 key (OIDs, salt, IV, iteration count)
/// and the block padding: the real overhead is about 100 bytes.
const ENCRYPTION_OVERHEAD: usize = 256;

/// An upper bound on the length of wfc_private_key_private_pem() with or without a passphrase,
/// or 0 if `key` is NULL. Cheap: it does not encrypt.
///
/// # Safety
/// Every pointer follows the conventions at the top of this header.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn wfc_private_key_private_pem_max_len(key: *const wfc_private_key) -> usize {
    guard_value(0, || {
        // SAFETY: header conventions: NULL or a live key.
        let Ok(key) = (unsafe { handle(key, "key") }) else {
            return 0;
        };
        key.0.private_key_der().map_or(0, |der| {
            pem_len(
                "ENCRYPTED PRIVATE KEY",
                der.len().saturating_add(ENCRYPTION_OVERHEAD),
            )
        })
    })
}

/// The private key as PKCS#8 PEM, encrypted with PBES2 (PBKDF2-HMAC-SHA256, 600 000
/// iterations, AES-256-CBC) when `passphrase` is given and not empty (NULL: unencrypted).
///
/// wfc_private_key_private_pem_max_len() always suffices. The output is a secret: wipe it
/// when done. Encrypting takes a few hundred milliseconds (PBKDF2).
///
/// # Safety
/// Every pointer follows the conventions at the top of this header.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn wfc_private_key_private_pem(
    key: *const wfc_private_key,
    passphrase: *const u8,
    passphrase_len: usize,
    out: *mut u8,
    out_cap: usize,
    out_len: *mut usize,
) -> wfc_status {
    guard(|| {
        // SAFETY: header conventions.
        let (key, passphrase, out) = unsafe {
            (
                handle(key, "key")?,
                optional_input(passphrase, passphrase_len, "passphrase")?,
                out_buf(out, out_cap, out_len)?,
            )
        };
        let pem = key.0.private_key_pem(passphrase)?;
        out.put(pem.as_bytes())
    })
}

/// The exact length of wfc_private_key_private_der(), or 0 if `key` is NULL.
///
/// # Safety
/// Every pointer follows the conventions at the top of this header.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn wfc_private_key_private_der_len(key: *const wfc_private_key) -> usize {
    guard_value(0, || {
        // SAFETY: header conventions: NULL or a live key.
        unsafe { handle(key, "key") }
            .ok()
            .and_then(|key| key.0.private_key_der().ok())
            .map_or(0, |der| der.len())
    })
}

/// The private key as unencrypted PKCS#8 DER. The output is a secret: wipe it when done.
///
/// # Safety
/// Every pointer follows the conventions at the top of this header.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn wfc_private_key_private_der(
    key: *const wfc_private_key,
    out: *mut u8,
    out_cap: usize,
    out_len: *mut usize,
) -> wfc_status {
    guard(|| {
        // SAFETY: header conventions.
        let (key, out) = unsafe { (handle(key, "key")?, out_buf(out, out_cap, out_len)?) };
        let der = key.0.private_key_der()?;
        out.put(&der)
    })
}

/// The business's private keys, newest first, for key rotation: wfc_key_ring_decrypt_request()
/// tries them in order. Immutable and safe to share between threads, like a key.
pub struct wfc_key_ring(pub(crate) FlowKeyRing);

/// Makes a key ring of `keys_count` keys, newest first. The ring holds its own copies: the
/// keys may be freed afterwards. On success `*ring_out` holds a ring to release with
/// wfc_key_ring_free().
///
/// Errors: `WFC_STATUS_INVALID_CONFIGURATION` for an empty list; `WFC_STATUS_NULL_PARAMETER`
/// for a NULL key in it.
///
/// # Safety
/// Every pointer follows the conventions at the top of this header; `keys` is NULL (only with
/// a count of 0) or points to `keys_count` key handles.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn wfc_key_ring_new(
    keys: *const *const wfc_private_key,
    keys_count: usize,
    ring_out: *mut *mut wfc_key_ring,
) -> wfc_status {
    guard(|| {
        // SAFETY: header conventions.
        let out = unsafe { handle_out(ring_out, "ring_out")? };
        let handles: &[*const wfc_private_key] = if keys.is_null() {
            if keys_count != 0 {
                return Err(crate::ffi::Failure::null("keys"));
            }
            &[]
        } else {
            if keys_count > isize::MAX as usize / core::mem::size_of::<*const wfc_private_key>() {
                return Err(crate::ffi::Failure::malformed("keys_count is too large"));
            }
            // SAFETY: non-NULL and, by the header's conventions, readable for `keys_count`
            // pointers.
            unsafe { core::slice::from_raw_parts(keys, keys_count) }
        };
        let keys = handles
            .iter()
            // SAFETY: each is NULL or a live key handle (header conventions).
            .map(|key| unsafe { handle(*key, "keys") }.map(|key| key.0.clone()))
            .collect::<Result<Vec<_>, _>>()?;
        out.put(wfc_key_ring(FlowKeyRing::new(keys)?));
        Ok(())
    })
}

/// Releases a key ring and zeroizes its keys. NULL is a no-op.
///
/// # Safety
/// Every pointer follows the conventions at the top of this header.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn wfc_key_ring_free(ring: *mut wfc_key_ring) {
    // SAFETY: header conventions: NULL or a live handle, not used afterwards.
    guard_value((), || unsafe { free(ring) })
}

/// How many keys the ring holds, or 0 if `ring` is NULL.
///
/// # Safety
/// Every pointer follows the conventions at the top of this header.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn wfc_key_ring_len(ring: *const wfc_key_ring) -> usize {
    guard_value(0, || {
        // SAFETY: header conventions: NULL or a live handle.
        unsafe { ring.as_ref() }.map_or(0, |ring| ring.0.len())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    #[cfg_attr(
        miri,
        ignore = "key generation runs in aws-lc, C that Miri cannot interpret"
    )]
    fn pem_len_matches_the_core() {
        let key = wfc_private_key(FlowPrivateKey::generate().unwrap());
        let plain = key.0.private_key_pem(None).unwrap();
        let der = key.0.private_key_der().unwrap();
        assert_eq!(pem_len("PRIVATE KEY", der.len()), plain.len());
        assert_eq!(
            pem_len("PUBLIC KEY", key.0.public_key_der().len()),
            key.0.public_key_pem().len()
        );
        // SAFETY: a live key.
        let max = unsafe { wfc_private_key_private_pem_max_len(&key) };
        let encrypted = key.0.private_key_pem(Some(b"pw")).unwrap();
        assert!(encrypted.len() <= max && plain.len() <= max);
    }
}

//! The media checks on their own, for a host that computes the heavy primitives itself.
//!
//! [`decrypt_media_content`](super::decrypt_media_content) and [`MediaDecryptor`](super::MediaDecryptor)
//! compute SHA-256, HMAC-SHA256 and AES-256-CBC in this crate. A host with faster primitives
//! (the npm package in Node has OpenSSL's) can compute them itself and hand the *outputs* to
//! the functions here, which are the very checks those entry points run — same rules, same
//! constant-time comparisons, same [`Error`]s and messages. Nothing here is a second copy: the
//! fused engine calls these functions too.
//!
//! Run them in this order, which is the protocol's (and stop at the first error):
//!
//! 1. [`ciphertext_len`] on the file's length ([`Error::Malformed`]);
//! 2. [`check_encrypted_hash`] with SHA-256 of the whole CDN file ([`Error::EncryptedHashMismatch`]);
//! 3. [`check_mac`] with HMAC-SHA256(`hmac_key`, `iv` ‖ ciphertext) ([`Error::HmacMismatch`]);
//! 4. AES-256-CBC-decrypt the ciphertext **without** removing padding, then [`check_padding`]
//!    on the last plaintext block ([`Error::Padding`]): it returns how many of its bytes are data;
//! 5. [`check_plaintext_hash`] with SHA-256 of the unpadded plaintext ([`Error::PlaintextHashMismatch`]).
//!
//! Release the plaintext only after step 5 passed.
//!
//! # Example
//! ```
//! use hmac::{Hmac, KeyInit as _, Mac as _};
//! use sha2::{Digest as _, Sha256};
//! use wa_flows_crypto::client;
//! use wa_flows_crypto::media::checks;
//!
//! let sealed = client::seal_media_with(b"hello", [1; 32], [2; 32], [3; 16]);
//! let (file, meta) = (&sealed.cdn_file, &sealed.metadata);
//!
//! // 1. Lengths.
//! let ciphertext_len = checks::ciphertext_len(file.len() as u64)? as usize;
//! let (ciphertext, tag) = file.split_at(ciphertext_len);
//! // 2. The file hash, computed by the host.
//! checks::check_encrypted_hash(meta, &Sha256::digest(file).into())?;
//! // 3. The MAC, computed by the host (the whole HMAC or its first 10 bytes).
//! let mut mac = Hmac::<Sha256>::new_from_slice(meta.hmac_key()).unwrap();
//! mac.update(meta.iv());
//! mac.update(ciphertext);
//! checks::check_mac(&mac.finalize().into_bytes(), tag.try_into().unwrap())?;
//! // 4. The host decrypts without removing the padding.
//! use aes::cipher::{BlockModeDecrypt as _, KeyIvInit as _, array::Array};
//! let mut padded = ciphertext.to_vec();
//! let mut cbc = cbc::Decryptor::<aes::Aes256>::new(
//!     Array::cast_from_core(meta.encryption_key()),
//!     Array::cast_from_core(meta.iv()),
//! );
//! cbc.decrypt_blocks(Array::slice_as_chunks_mut(&mut padded).0);
//! let (body, last) = padded.split_at(padded.len() - 16);
//! let data_len = checks::check_padding(last.try_into().unwrap())?;
//! let plaintext = [body, &last[..data_len]].concat();
//! // 5. The plaintext hash.
//! checks::check_plaintext_hash(meta, &Sha256::digest(&plaintext).into())?;
//! assert_eq!(plaintext, b"hello");
//! # Ok::<(), wa_flows_crypto::Error>(())
//! ```

use subtle::ConstantTimeEq as _;

use super::MediaMetadata;
use crate::error::{Error, Result};

/// Length of the truncated HMAC-SHA256 at the end of the CDN file.
pub const MAC_LEN: usize = 10;
/// AES block length; the ciphertext is a whole number of blocks.
pub const BLOCK_LEN: usize = 16;

/// Checks the length rules of a CDN file of `file_len` bytes; returns the ciphertext length
/// (the file without its 10-byte MAC).
///
/// These run before any hash, so a truncated download is `malformed`, not a hash mismatch.
///
/// # Errors
/// [`Error::Malformed`] if the file is not longer than its MAC, or the ciphertext is not a
/// whole number of 16-byte blocks.
///
/// # Example
/// ```
/// use wa_flows_crypto::media::checks::ciphertext_len;
/// assert_eq!(ciphertext_len(26)?, 16);
/// assert_eq!(ciphertext_len(27).unwrap_err().code(), "malformed");
/// # Ok::<(), wa_flows_crypto::Error>(())
/// ```
pub fn ciphertext_len(file_len: u64) -> Result<u64> {
    let Some(ciphertext_len) = file_len.checked_sub(MAC_LEN as u64) else {
        return Err(Error::Malformed(
            "the media file is shorter than its 10-byte HMAC",
        ));
    };
    if ciphertext_len == 0 {
        return Err(Error::Malformed(
            "the media file holds no ciphertext before its HMAC",
        ));
    }
    if !ciphertext_len.is_multiple_of(BLOCK_LEN as u64) {
        return Err(Error::Malformed(
            "the media ciphertext is not a whole number of 16-byte AES blocks",
        ));
    }
    Ok(ciphertext_len)
}

/// Checks SHA-256 of the whole CDN file (ciphertext and MAC) against `encrypted_hash`, in
/// constant time.
///
/// # Errors
/// [`Error::EncryptedHashMismatch`] if they differ.
pub fn check_encrypted_hash(metadata: &MediaMetadata, computed: &[u8; 32]) -> Result<()> {
    if bool::from(computed.ct_eq(metadata.encrypted_hash())) {
        Ok(())
    } else {
        Err(Error::EncryptedHashMismatch)
    }
}

/// Checks the file's 10-byte MAC `tag` against `computed`, HMAC-SHA256(`hmac_key`, `iv` ‖
/// ciphertext): the whole 32-byte HMAC or its first 10 bytes. Compared in constant time.
///
/// # Errors
/// [`Error::HmacMismatch`] if they differ, or if `computed` is shorter than 10 bytes or
/// longer than 32 (no HMAC-SHA256 is).
pub fn check_mac(computed: &[u8], tag: &[u8; MAC_LEN]) -> Result<()> {
    let prefix = computed
        .first_chunk::<MAC_LEN>()
        .filter(|_| computed.len() <= 32)
        .ok_or(Error::HmacMismatch)?;
    if bool::from(prefix.ct_eq(tag)) {
        Ok(())
    } else {
        Err(Error::HmacMismatch)
    }
}

/// Checks the PKCS#7 padding of the last decrypted block; returns how many of its bytes are
/// data (0 to 15).
///
/// Call it only after [`check_mac`] passed, so its timing cannot serve as a padding oracle.
///
/// # Errors
/// [`Error::Padding`] if the block does not end in valid PKCS#7 padding (1 to 16 bytes, all
/// equal to the padding length).
///
/// # Example
/// ```
/// use wa_flows_crypto::media::checks::check_padding;
/// let mut block = [b'x'; 16];
/// block[13..].fill(3);
/// assert_eq!(check_padding(&block)?, 13);
/// assert_eq!(check_padding(&[0; 16]).unwrap_err().code(), "padding");
/// # Ok::<(), wa_flows_crypto::Error>(())
/// ```
pub fn check_padding(last_block: &[u8; BLOCK_LEN]) -> Result<usize> {
    let &[.., last] = last_block;
    let pad = usize::from(last);
    let data_len = BLOCK_LEN.checked_sub(pad).ok_or(Error::Padding)?;
    let valid = pad != 0
        && last_block
            .iter()
            .skip(data_len)
            .all(|&b| usize::from(b) == pad);
    if valid {
        Ok(data_len)
    } else {
        Err(Error::Padding)
    }
}

/// Checks SHA-256 of the unpadded plaintext against `plaintext_hash`, in constant time.
///
/// # Errors
/// [`Error::PlaintextHashMismatch`] if they differ.
pub fn check_plaintext_hash(metadata: &MediaMetadata, computed: &[u8; 32]) -> Result<()> {
    if bool::from(computed.ct_eq(metadata.plaintext_hash())) {
        Ok(())
    } else {
        Err(Error::PlaintextHashMismatch)
    }
}

#[cfg(test)]
mod tests {
    use sha2::{Digest as _, Sha256};

    use super::*;
    use crate::client::seal_media_with;
    use crate::media::decrypt_media_content;

    #[test]
    fn length_rules() {
        assert!(ciphertext_len(0).is_err());
        assert!(ciphertext_len(9).is_err());
        assert!(ciphertext_len(10).is_err());
        assert!(ciphertext_len(25).is_err());
        assert_eq!(ciphertext_len(26).unwrap(), 16);
        assert!(ciphertext_len(27).is_err());
        assert_eq!(ciphertext_len(42).unwrap(), 32);
        assert_eq!(
            ciphertext_len(9),
            Err(Error::Malformed(
                "the media file is shorter than its 10-byte HMAC"
            ))
        );
        assert_eq!(
            ciphertext_len(10),
            Err(Error::Malformed(
                "the media file holds no ciphertext before its HMAC"
            ))
        );
    }

    #[test]
    fn padding_rules() {
        let mut block = [7u8; 16];
        block[15] = 1;
        assert_eq!(check_padding(&block), Ok(15));
        assert_eq!(check_padding(&[16; 16]), Ok(0));
        assert_eq!(check_padding(&[0; 16]), Err(Error::Padding));
        assert_eq!(check_padding(&[17; 16]), Err(Error::Padding));
        assert_eq!(check_padding(&[255; 16]), Err(Error::Padding));
        let mut block = [3u8; 16];
        block[13] = 2;
        assert_eq!(check_padding(&block), Err(Error::Padding));
        block[13] = 3;
        assert_eq!(check_padding(&block), Ok(13));
    }

    #[test]
    fn mac_accepts_the_whole_hmac_or_its_prefix_and_nothing_else() {
        let full: [u8; 32] = core::array::from_fn(|i| i as u8);
        let tag: [u8; MAC_LEN] = core::array::from_fn(|i| i as u8);
        assert_eq!(check_mac(&full, &tag), Ok(()));
        assert_eq!(check_mac(&full[..10], &tag), Ok(()));
        assert_eq!(check_mac(&full[..9], &tag), Err(Error::HmacMismatch));
        assert_eq!(check_mac(&[], &tag), Err(Error::HmacMismatch));
        assert_eq!(check_mac(&[0; 33], &[0; MAC_LEN]), Err(Error::HmacMismatch));
        let mut wrong = full;
        wrong[9] ^= 1;
        assert_eq!(check_mac(&wrong, &tag), Err(Error::HmacMismatch));
        // Bytes after the tenth are not part of the tag.
        let mut later = full;
        later[20] ^= 1;
        assert_eq!(check_mac(&later, &tag), Ok(()));
    }

    #[test]
    fn hashes_are_checked_against_their_own_field() {
        let sealed = seal_media_with(b"some file", [1; 32], [2; 32], [3; 16]);
        let meta = &sealed.metadata;
        let file_hash: [u8; 32] = Sha256::digest(&sealed.cdn_file).into();
        let plain_hash: [u8; 32] = Sha256::digest(b"some file").into();
        assert_eq!(check_encrypted_hash(meta, &file_hash), Ok(()));
        assert_eq!(check_plaintext_hash(meta, &plain_hash), Ok(()));
        assert_eq!(
            check_encrypted_hash(meta, &plain_hash),
            Err(Error::EncryptedHashMismatch)
        );
        assert_eq!(
            check_plaintext_hash(meta, &file_hash),
            Err(Error::PlaintextHashMismatch)
        );
    }

    fn cbc_no_padding(meta: &MediaMetadata, ciphertext: &[u8]) -> Vec<u8> {
        use aes::cipher::array::Array;
        use aes::cipher::{BlockModeDecrypt as _, KeyIvInit as _};
        let mut padded = ciphertext.to_vec();
        let mut cbc = cbc::Decryptor::<aes::Aes256>::new(
            Array::cast_from_core(meta.encryption_key()),
            Array::cast_from_core(meta.iv()),
        );
        cbc.decrypt_blocks(Array::slice_as_chunks_mut(&mut padded).0);
        padded
    }

    /// The checks driven by a host (here RustCrypto standing in for it) decide every file
    /// exactly as the fused engine does.
    #[test]
    fn host_driven_checks_agree_with_the_engine() {
        use hmac::{Hmac, KeyInit as _, Mac as _};

        fn host(file: &[u8], meta: &MediaMetadata) -> Result<Vec<u8>> {
            let len = usize::try_from(ciphertext_len(file.len() as u64)?).unwrap();
            let (ciphertext, tag) = file.split_at(len);
            check_encrypted_hash(meta, &Sha256::digest(file).into())?;
            let mut mac = Hmac::<Sha256>::new_from_slice(meta.hmac_key()).unwrap();
            mac.update(meta.iv());
            mac.update(ciphertext);
            check_mac(&mac.finalize().into_bytes(), tag.try_into().unwrap())?;
            let padded = cbc_no_padding(meta, ciphertext);
            let (body, last) = padded.split_at(padded.len() - BLOCK_LEN);
            let n = check_padding(last.try_into().unwrap())?;
            let plaintext = [body, &last[..n]].concat();
            check_plaintext_hash(meta, &Sha256::digest(&plaintext).into())?;
            Ok(plaintext)
        }

        for len in [0usize, 1, 15, 16, 17, 100, 40_000] {
            let plaintext: Vec<u8> = (0..len).map(|i| (i * 13 + 1) as u8).collect();
            let sealed = seal_media_with(&plaintext, [4; 32], [5; 32], [6; 16]);
            let meta = &sealed.metadata;
            let mut cases = vec![sealed.cdn_file.clone()];
            for at in [0, sealed.cdn_file.len() / 2, sealed.cdn_file.len() - 1] {
                let mut tampered = sealed.cdn_file.clone();
                tampered[at] ^= 0x20;
                cases.push(tampered);
            }
            cases.push(sealed.cdn_file[..sealed.cdn_file.len() - 1].to_vec());
            cases.push(Vec::new());
            for file in &cases {
                assert_eq!(host(file, meta), decrypt_media_content(file, meta));
                // With the file hash made to match, the MAC decides.
                let rehashed = MediaMetadata::from_parts(
                    *meta.encryption_key(),
                    *meta.hmac_key(),
                    *meta.iv(),
                    *meta.plaintext_hash(),
                    Sha256::digest(file).into(),
                );
                assert_eq!(
                    host(file, &rehashed),
                    decrypt_media_content(file, &rehashed)
                );
            }
            // A wrong encryption key: padding or plaintext hash, the same for both.
            let wrong_key = MediaMetadata::from_parts(
                [9; 32],
                *meta.hmac_key(),
                *meta.iv(),
                *meta.plaintext_hash(),
                *meta.encrypted_hash(),
            );
            let result = host(&sealed.cdn_file, &wrong_key);
            assert!(matches!(
                result,
                Err(Error::Padding | Error::PlaintextHashMismatch)
            ));
            assert_eq!(result, decrypt_media_content(&sealed.cdn_file, &wrong_key));
        }
    }
}

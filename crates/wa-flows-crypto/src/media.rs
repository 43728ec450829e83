//! Media: the files users upload through `PhotoPicker` and `DocumentPicker`.
//!
//! WhatsApp uploads each file to its CDN encrypted, and sends its `cdn_url` and its
//! `encryption_metadata` ([`MediaMetadata`]) in the flow request. The CDN file is
//!
//! ```text
//! AES-256-CBC(encryption_key, iv, file ‖ PKCS#7 padding) ‖ HMAC-SHA256(hmac_key, iv ‖ ciphertext)[..10]
//! ```
//!
//! and decrypting it runs four checks, in this order, each with its own [`Error`]:
//!
//! | check | error |
//! |---|---|
//! | the file is at least one block and the MAC long, and the ciphertext is whole blocks | [`Error::Malformed`] |
//! | SHA-256 of the whole CDN file is `encrypted_hash` | [`Error::EncryptedHashMismatch`] |
//! | the 10-byte MAC (compared in constant time) | [`Error::HmacMismatch`] |
//! | AES-256-CBC decryption and PKCS#7 padding | [`Error::Padding`] |
//! | SHA-256 of the plaintext is `plaintext_hash` | [`Error::PlaintextHashMismatch`] |
//!
//! Three ways to read a file, all built on the same fused loop and giving the same result and
//! the same error for the same file:
//!
//! - [`decrypt_media_content`]: the whole file in memory, the plaintext in a new `Vec`;
//!   returns nothing unless every check passed.
//! - [`decrypt_media_content_in_place`]: the plaintext overwrites the file in the caller's
//!   buffer, without a second allocation; [`decrypt_media_content_into`] writes it to another
//!   buffer the caller owns.
//! - [`MediaDecryptor`]: chunk by chunk, in constant memory; **plaintext is released before it
//!   is verified** and confirmed only by [`MediaDecryptor::finish`]. [`MediaVerifier`] checks a
//!   file without decrypting it, for verify-then-decrypt over two reads.
//!
//! A host with faster primitives of its own (the npm package in Node) computes SHA-256,
//! HMAC-SHA256 and AES-256-CBC itself and hands their outputs to [`checks`]: the same checks
//! the three ways above run, so the rules exist once.
//!
//! WhatsApp limits uploads to 25 MiB (and 30 files per request); this module does not enforce
//! a size limit itself, so bound what you download before calling it.
//!
//! # Speed
//!
//! Each piece of 16 KiB is hashed, authenticated, decrypted and hashed again while it is in
//! the L1 cache, instead of making four passes over a 25 MiB file. SHA-256 uses the SHA
//! extensions and AES the AES instructions when the CPU has them (detected at run time). With
//! the `parallel` feature, [`decrypt_media_content`] shares files of 256 KiB or more between
//! the calling thread and a second one: each runs one and a half of the three SHA-256 passes.
//!
//! On one thread, every way runs within a few percent of the primitives alone on cached data
//! (the `media_limit` program in `benches/`). The exception is [`decrypt_media_content`] on
//! files beyond what WhatsApp sends: its output is a new buffer the size of the file, and
//! above glibc's 32 MiB mmap threshold every call takes fresh pages from the kernel, whose
//! first-touch faults cost about a fifth more at 64 MiB. Decrypt such files in place or
//! stream them.
//!
//! # Security notes
//!
//! - The MAC and both hashes are compared in constant time. Padding is inspected only after
//!   the MAC verified, so it is no padding oracle.
//! - Keys are wiped when [`MediaMetadata`] and the decryption state are dropped; the one-shot
//!   functions wipe any plaintext they produced when a check fails.
//! - Error messages carry no key, plaintext or other input data.
//! - Media errors are not request-level errors: the request decrypted, so answer it (with an
//!   error screen) rather than with HTTP 421 ([`Error::http_status`] is `None`).

pub mod checks;
mod engine;
mod metadata;
#[cfg(feature = "parallel")]
mod parallel;
mod stream;

use zeroize::{Zeroize, Zeroizing};

pub(crate) use self::engine::new_mac;
use self::engine::{
    BLOCK_LEN, Engine, MAC_LEN, Parts, Sink, SliceSink, ciphertext_len, decrypt_into,
};
pub use self::metadata::MediaMetadata;
pub use self::stream::{MediaDecryptor, MediaStreamSplit, MediaVerifier};
use crate::error::{Error, Result};

/// Decrypts a whole CDN file and verifies it.
///
/// `cdn_file` is the file downloaded from the upload's `cdn_url`; `metadata` its
/// `encryption_metadata`. Returns the plaintext only if every check passed (see the
/// [module documentation](self) for the checks and their order).
///
/// # Errors
/// - [`Error::Malformed`] if the file is shorter than 26 bytes or its ciphertext is not a
///   whole number of 16-byte blocks (checked before anything else);
/// - [`Error::EncryptedHashMismatch`] if it is not the file the metadata describes (an
///   incomplete download, or someone else's file);
/// - [`Error::HmacMismatch`] if the file was altered or `hmac_key` is not its own;
/// - [`Error::Padding`] or [`Error::PlaintextHashMismatch`] if `encryption_key` is not its own.
///
/// # Example
/// ```
/// use wa_flows_crypto::client;
/// use wa_flows_crypto::media::decrypt_media_content;
///
/// // What WhatsApp does: encrypt the file, upload it, send the metadata.
/// let sealed = client::seal_media_with(b"\x89PNG...", [1; 32], [2; 32], [3; 16]);
///
/// // What the endpoint does.
/// let plaintext = decrypt_media_content(&sealed.cdn_file, &sealed.metadata)?;
/// assert_eq!(plaintext, b"\x89PNG...");
///
/// let mut tampered = sealed.cdn_file.clone();
/// tampered[3] ^= 0x40;
/// let err = decrypt_media_content(&tampered, &sealed.metadata).unwrap_err();
/// assert_eq!(err.code(), "encrypted_hash_mismatch");
/// # Ok::<(), wa_flows_crypto::Error>(())
/// ```
pub fn decrypt_media_content(cdn_file: &[u8], metadata: &MediaMetadata) -> Result<Vec<u8>> {
    let ciphertext_len = usize::try_from(ciphertext_len(cdn_file.len() as u64)?)
        .map_err(|_| Error::Malformed("the media file is too large"))?;
    // Wiped on drop, so an error leaves no plaintext behind. The capacity is exact, so the
    // vector never reallocates (which would leave unwiped copies).
    let mut plaintext = Zeroizing::new(Vec::with_capacity(ciphertext_len));
    decrypt_to(cdn_file, metadata, &mut *plaintext)?;
    Ok(core::mem::take(&mut *plaintext))
}

/// The most plaintext a CDN file of `cdn_file_len` bytes can hold: the file less its 10-byte
/// MAC and at least one padding byte. What [`decrypt_media_content_into`] needs.
///
/// ```
/// use wa_flows_crypto::media::max_plaintext_len;
/// assert_eq!(max_plaintext_len(26), 15);
/// assert_eq!(max_plaintext_len(5), 0);
/// ```
pub const fn max_plaintext_len(cdn_file_len: usize) -> usize {
    cdn_file_len.saturating_sub(MAC_LEN + 1)
}

/// Decrypts a whole CDN file into the caller's buffer and verifies it; returns the plaintext
/// length `n`: the plaintext is then `out[..n]`. For hosts that own the output memory (C,
/// Python), so the plaintext is written once, where it is wanted.
///
/// # Errors
/// As [`decrypt_media_content`], checked first; then [`Error::Malformed`] if `out` is shorter
/// than [`max_plaintext_len`]`(cdn_file.len())`. On any error after the length checks, the
/// bytes this call wrote to `out` are zeroed: no plaintext is left behind unless every check
/// passed.
///
/// # Example
/// ```
/// use wa_flows_crypto::client;
/// use wa_flows_crypto::media::{decrypt_media_content_into, max_plaintext_len};
///
/// let sealed = client::seal_media_with(b"GIF89a...", [1; 32], [2; 32], [3; 16]);
/// let mut out = vec![0; max_plaintext_len(sealed.cdn_file.len())];
/// let n = decrypt_media_content_into(&sealed.cdn_file, &sealed.metadata, &mut out)?;
/// assert_eq!(&out[..n], b"GIF89a...");
/// # Ok::<(), wa_flows_crypto::Error>(())
/// ```
pub fn decrypt_media_content_into(
    cdn_file: &[u8],
    metadata: &MediaMetadata,
    out: &mut [u8],
) -> Result<usize> {
    ciphertext_len(cdn_file.len() as u64)?;
    if out.len() < max_plaintext_len(cdn_file.len()) {
        return Err(Error::Malformed(
            "the output buffer is smaller than max_plaintext_len(the file's length)",
        ));
    }
    let mut sink = SliceSink::new(out);
    match decrypt_to(cdn_file, metadata, &mut sink) {
        Ok(()) => Ok(sink.written()),
        Err(error) => {
            sink.restart();
            Err(error)
        }
    }
}

/// The one-shot pass into `sink`, on two threads when that pays: the plaintext, once every
/// check passed. On an error `sink` may hold unverified plaintext: the caller wipes it.
fn decrypt_to(
    cdn_file: &[u8],
    metadata: &MediaMetadata,
    sink: &mut (impl Sink + Send),
) -> Result<()> {
    let ciphertext_len = ciphertext_len(cdn_file.len() as u64)?;
    let ciphertext_len = usize::try_from(ciphertext_len)
        .map_err(|_| Error::Malformed("the media file is too large"))?;
    let (ciphertext, tag) = cdn_file.split_at(ciphertext_len.min(cdn_file.len()));
    let (body, last) = ciphertext.split_at(ciphertext_len.saturating_sub(BLOCK_LEN));
    let (Some(last), Some(tag)) = (last.first_chunk(), tag.first_chunk()) else {
        return Err(Error::Malformed("the media file is too large"));
    };

    #[cfg(feature = "parallel")]
    let on_two_threads = parallel::decrypt(metadata, cdn_file, body, last, tag, sink);
    #[cfg(not(feature = "parallel"))]
    let on_two_threads: Option<Result<engine::LastBlock>> = None;
    let last = match on_two_threads {
        Some(result) => result?,
        None => {
            let mut engine = Engine::new(metadata);
            decrypt_into(body, sink, |input, output| {
                engine.absorb_into(input, output)
            });
            engine.finish(last, tag)?
        }
    };
    let plaintext = last.plaintext();
    for (dst, src) in sink.append(plaintext.len()).iter_mut().zip(plaintext) {
        *dst = *src;
    }
    Ok(())
}

/// Decrypts a whole CDN file inside its own buffer and verifies it; returns the plaintext
/// length `n`: the plaintext is then `cdn_file[..n]`, and the bytes after it are zero.
///
/// Use it to avoid a second allocation of the file's size. Checks and errors are those of
/// [`decrypt_media_content`].
///
/// # Errors
/// As [`decrypt_media_content`]. A [`Error::Malformed`] length error leaves the buffer as it
/// was; any other error **zeroes the whole buffer** (it was decrypted in the same pass that
/// verified it, and unverified plaintext must not be left behind), so keep a copy of the
/// file if you need it after a failure.
///
/// # Example
/// ```
/// use wa_flows_crypto::client;
/// use wa_flows_crypto::media::decrypt_media_content_in_place;
///
/// let sealed = client::seal_media_with(b"%PDF-1.7 ...", [1; 32], [2; 32], [3; 16]);
/// let mut buffer = sealed.cdn_file.clone();
/// let n = decrypt_media_content_in_place(&mut buffer, &sealed.metadata)?;
/// assert_eq!(&buffer[..n], b"%PDF-1.7 ...");
/// # Ok::<(), wa_flows_crypto::Error>(())
/// ```
pub fn decrypt_media_content_in_place(
    cdn_file: &mut [u8],
    metadata: &MediaMetadata,
) -> Result<usize> {
    let Parts { body, last, tag } = Parts::split(cdn_file)?;
    let body_len = body.len();
    let mut engine = Engine::new(metadata);
    engine.absorb(body);
    let result = engine.finish(&last, &tag);
    match result {
        Ok(last) => {
            let plaintext = last.plaintext();
            let end = body_len.saturating_add(plaintext.len());
            match cdn_file.get_mut(body_len..end) {
                Some(region) => region.copy_from_slice(plaintext),
                None => {
                    cdn_file.zeroize();
                    return Err(Error::Malformed("the media file is too large"));
                }
            }
            if let Some(rest) = cdn_file.get_mut(end..) {
                rest.zeroize();
            }
            Ok(end)
        }
        Err(error) => {
            cdn_file.zeroize();
            Err(error)
        }
    }
}

#[cfg(test)]
mod tests {
    use sha2::Digest as _;

    use super::engine::CHUNK_LEN;
    use super::*;
    use crate::client::seal_media_with;

    #[test]
    fn every_path_agrees_on_every_tamper() {
        // 300 000 bytes takes the second-thread path with the `parallel` feature.
        for len in [
            0usize,
            1,
            15,
            16,
            17,
            100,
            CHUNK_LEN + 5,
            3 * CHUNK_LEN,
            300_000,
        ] {
            let plaintext: Vec<u8> = (0..len).map(|i| (i * 7 + 3) as u8).collect();
            let sealed = seal_media_with(&plaintext, [1; 32], [2; 32], [3; 16]);
            assert_eq!(
                decrypt_media_content(&sealed.cdn_file, &sealed.metadata).unwrap(),
                plaintext
            );
            let mut buffer = sealed.cdn_file.clone();
            let n = decrypt_media_content_in_place(&mut buffer, &sealed.metadata).unwrap();
            assert_eq!(buffer[..n], plaintext[..]);
            assert!(buffer[n..].iter().all(|&b| b == 0));

            // The parallel path hashes the first quarter of the file on the helper thread and
            // the rest on the calling one: tamper in both parts, and in the MAC.
            let file_len = sealed.cdn_file.len();
            for at in [file_len / 8, file_len / 2, file_len - 1] {
                let mut tampered = sealed.cdn_file.clone();
                tampered[at] ^= 1;
                assert_eq!(
                    decrypt_media_content(&tampered, &sealed.metadata),
                    Err(Error::EncryptedHashMismatch)
                );
                let mut buffer = tampered.clone();
                assert_eq!(
                    decrypt_media_content_in_place(&mut buffer, &sealed.metadata),
                    Err(Error::EncryptedHashMismatch)
                );
                assert!(buffer.iter().all(|&b| b == 0));
            }
            let mut tampered = sealed.cdn_file.clone();
            tampered[file_len / 2] ^= 1;

            // With the file hash updated to match, the MAC catches it.
            let rehashed = MediaMetadata::from_parts(
                *sealed.metadata.encryption_key(),
                *sealed.metadata.hmac_key(),
                *sealed.metadata.iv(),
                *sealed.metadata.plaintext_hash(),
                sha2::Sha256::digest(&tampered).into(),
            );
            assert_eq!(
                decrypt_media_content(&tampered, &rehashed),
                Err(Error::HmacMismatch)
            );
            // A wrong plaintext hash is caught last.
            let wrong_plaintext_hash = MediaMetadata::from_parts(
                *sealed.metadata.encryption_key(),
                *sealed.metadata.hmac_key(),
                *sealed.metadata.iv(),
                [0; 32],
                *sealed.metadata.encrypted_hash(),
            );
            assert_eq!(
                decrypt_media_content(&sealed.cdn_file, &wrong_plaintext_hash),
                Err(Error::PlaintextHashMismatch)
            );
        }
    }

    #[test]
    fn length_errors_leave_the_buffer_alone() {
        let metadata = MediaMetadata::from_parts([0; 32], [0; 32], [0; 16], [0; 32], [0; 32]);
        for len in [0usize, 9, 10, 11, 25, 27, 41] {
            let mut buffer = vec![0x55; len];
            assert!(matches!(
                decrypt_media_content_in_place(&mut buffer, &metadata),
                Err(Error::Malformed(_))
            ));
            assert!(buffer.iter().all(|&b| b == 0x55));
            assert!(matches!(
                decrypt_media_content(&buffer, &metadata),
                Err(Error::Malformed(_))
            ));
        }
    }
}

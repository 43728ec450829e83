//! The one pass every media entry point shares.
//!
//! The CDN file is `ciphertext ‖ mac`, where `mac` is the first 10 bytes of
//! HMAC-SHA256(hmac_key, iv ‖ ciphertext). Every entry point (one-shot, in place, streaming)
//! feeds the ciphertext *except its last block* through the [`Engine`] in cache-sized pieces:
//! [`Engine::absorb`] decrypts in place, [`Engine::absorb_into`] into an output buffer. Each
//! piece is hashed (file hash), authenticated (HMAC), decrypted and hashed again (plaintext
//! hash) while it is still in the L1 cache. The last block and the MAC go
//! to [`Engine::finish`], which runs the checks in the protocol's order: file hash, MAC,
//! padding, plaintext hash. The `parallel` one-shot runs the same two halves,
//! [`Authenticator`] and [`Decryption`], on two threads.

use aes::Aes256;
use aes::cipher::array::Array;
use aes::cipher::{BlockModeDecrypt, KeyIvInit};
use hmac::{Hmac, KeyInit, Mac};
use sha2::{Digest, Sha256};
use zeroize::{Zeroize as _, Zeroizing};

use super::MediaMetadata;
use super::checks::{check_encrypted_hash, check_mac, check_padding, check_plaintext_hash};
use crate::error::{Error, Result};

pub(crate) use super::checks::{BLOCK_LEN, MAC_LEN, ciphertext_len};
/// How much data one step of the fused loop touches: small enough that the piece stays in the
/// L1 data cache between the four passes over it (file hash, HMAC, decrypt, plaintext hash).
pub(crate) const CHUNK_LEN: usize = 16 * 1024;

/// HMAC-SHA256 keyed with a 32-byte key, without a fallible constructor.
///
/// HMAC pads keys shorter than the hash's 64-byte block with zeros, so keying it with the
/// zero-extended 64-byte key is the same function; the fixed-size constructor cannot fail.
pub(crate) fn new_mac(key: &[u8; 32]) -> Hmac<Sha256> {
    let mut block = Zeroizing::new([0u8; 64]);
    for (dst, src) in block.iter_mut().zip(key) {
        *dst = *src;
    }
    <Hmac<Sha256> as KeyInit>::new(Array::cast_from_core(&block))
}

/// The first [`MAC_LEN`] bytes of a finished HMAC.
fn truncated_tag(mac: Hmac<Sha256>) -> [u8; MAC_LEN] {
    let full = mac.finalize().into_bytes();
    let mut tag = [0u8; MAC_LEN];
    for (dst, src) in tag.iter_mut().zip(full.iter()) {
        *dst = *src;
    }
    tag
}

/// A CDN file split into its parts, after the length checks.
pub(crate) struct Parts<'a> {
    /// Every ciphertext block but the last.
    pub(crate) body: &'a mut [u8],
    /// The last ciphertext block (it holds the padding).
    pub(crate) last: [u8; BLOCK_LEN],
    /// The truncated HMAC.
    pub(crate) tag: [u8; MAC_LEN],
}

impl<'a> Parts<'a> {
    /// Splits a whole CDN file held in a mutable buffer.
    pub(crate) fn split(file: &'a mut [u8]) -> Result<Self> {
        let ciphertext_len = ciphertext_len(file.len() as u64)?;
        let body_len = usize::try_from(ciphertext_len)
            .ok()
            .and_then(|len| len.checked_sub(BLOCK_LEN))
            .ok_or(Error::Malformed("the media file is too large"))?;
        let (body, rest) = file
            .split_at_mut_checked(body_len)
            .ok_or(Error::Malformed("the media file is too large"))?;
        let (last, rest) = rest
            .split_first_chunk::<BLOCK_LEN>()
            .ok_or(Error::Malformed("the media file is too large"))?;
        let tag = rest
            .first_chunk::<MAC_LEN>()
            .ok_or(Error::Malformed("the media file is too large"))?;
        Ok(Parts {
            body,
            last: *last,
            tag: *tag,
        })
    }
}

/// File hash and MAC: what [`super::MediaVerifier`] needs and [`Engine`] builds on.
pub(crate) struct Authenticator {
    /// `None` when the file hash is computed elsewhere (the `parallel` one-shot).
    file_hash: Option<Sha256>,
    mac: Hmac<Sha256>,
    metadata: MediaMetadata,
}

impl Authenticator {
    pub(crate) fn new(metadata: &MediaMetadata, hash_file: bool) -> Self {
        let mut mac = new_mac(metadata.hmac_key());
        Mac::update(&mut mac, metadata.iv());
        Authenticator {
            file_hash: hash_file.then(Sha256::new),
            mac,
            metadata: metadata.clone(),
        }
    }

    /// Absorbs ciphertext (never the MAC).
    pub(crate) fn absorb(&mut self, ciphertext: &[u8]) {
        if let Some(file_hash) = self.file_hash.as_mut() {
            Digest::update(file_hash, ciphertext);
        }
        Mac::update(&mut self.mac, ciphertext);
    }

    /// Absorbs the ciphertext not yet seen (`tail`), then checks the file hash and the MAC, in
    /// that order. `file_digest` is the file hash computed elsewhere, if it was.
    pub(crate) fn verify(
        mut self,
        tail: &[u8],
        tag: &[u8; MAC_LEN],
        file_digest: Option<[u8; 32]>,
    ) -> Result<()> {
        self.absorb(tail);
        let digest: [u8; 32] = match self.file_hash.take() {
            Some(mut file_hash) => {
                Digest::update(&mut file_hash, tag);
                file_hash.finalize().into()
            }
            // Fails closed: without a digest the file hash cannot match.
            None => file_digest.unwrap_or([0; 32]),
        };
        check_encrypted_hash(&self.metadata, &digest)?;
        check_mac(&truncated_tag(self.mac), tag)
    }
}

/// The decrypted last block: up to 15 plaintext bytes once the padding is removed.
pub(crate) struct LastBlock {
    block: Zeroizing<[u8; BLOCK_LEN]>,
    len: usize,
}

impl LastBlock {
    pub(crate) fn plaintext(&self) -> &[u8] {
        self.block.get(..self.len).unwrap_or_default()
    }
}

/// AES-256-CBC decryption and the plaintext hash: the half of the pass that needs neither
/// the MAC nor the file hash, so the `parallel` one-shot runs it on its own thread.
pub(crate) struct Decryption {
    cipher: cbc::Decryptor<Aes256>,
    plaintext_hash: Sha256,
    metadata: MediaMetadata,
}

impl Decryption {
    pub(crate) fn new(metadata: &MediaMetadata) -> Self {
        Decryption {
            cipher: cbc::Decryptor::<Aes256>::new(
                Array::cast_from_core(metadata.encryption_key()),
                Array::cast_from_core(metadata.iv()),
            ),
            plaintext_hash: Sha256::new(),
            metadata: metadata.clone(),
        }
    }

    /// Decrypts whole blocks in place and hashes the plaintext; callers pass pieces of at
    /// most [`CHUNK_LEN`] so the hash reads what the cipher just wrote from the L1 cache.
    ///
    /// A length that is not a multiple of 16 is a bug in the caller; the trailing partial
    /// block would be hashed undecrypted, so the result fails closed.
    pub(crate) fn absorb(&mut self, piece: &mut [u8]) {
        debug_assert!(piece.len().is_multiple_of(BLOCK_LEN));
        let (blocks, _partial) = Array::slice_as_chunks_mut(piece);
        self.cipher.decrypt_blocks(blocks);
        Digest::update(&mut self.plaintext_hash, &*piece);
    }

    /// Like [`absorb`](Self::absorb), but reads the ciphertext where it lies and writes the
    /// plaintext to `plaintext`, of the same length: copying a piece first would make a pass
    /// that waits on memory, where the hash before it overlaps the loads with its rounds.
    ///
    /// Unequal lengths are a bug in the caller; nothing is decrypted then, the CBC chain breaks
    /// and the plaintext hash fails closed.
    pub(crate) fn absorb_into(&mut self, ciphertext: &[u8], plaintext: &mut [u8]) {
        debug_assert_eq!(ciphertext.len(), plaintext.len());
        let (input, _partial) = Array::slice_as_chunks(ciphertext);
        let (output, _partial) = Array::slice_as_chunks_mut(plaintext);
        // Fails only on unequal lengths, having decrypted nothing: see above.
        let _ = self.cipher.decrypt_blocks_b2b(input, output);
        Digest::update(&mut self.plaintext_hash, &*plaintext);
    }

    /// Decrypts the last block, then checks the padding and the plaintext hash, in that
    /// order. Call it only once the file hash and the MAC verified: padding is no oracle.
    pub(crate) fn finish(mut self, last: &[u8; BLOCK_LEN]) -> Result<LastBlock> {
        let mut block = Zeroizing::new(*last);
        self.cipher
            .decrypt_block(Array::cast_from_core_mut(&mut block));
        let len = check_padding(&block)?;
        let last = LastBlock { block, len };
        Digest::update(&mut self.plaintext_hash, last.plaintext());
        let digest: [u8; 32] = self.plaintext_hash.finalize().into();
        check_plaintext_hash(&self.metadata, &digest)?;
        Ok(last)
    }
}

/// The fused per-chunk pass on one thread: file hash, HMAC, AES-256-CBC decryption,
/// plaintext hash.
pub(crate) struct Engine {
    auth: Authenticator,
    decryption: Decryption,
}

impl Engine {
    pub(crate) fn new(metadata: &MediaMetadata) -> Self {
        Engine {
            auth: Authenticator::new(metadata, true),
            decryption: Decryption::new(metadata),
        }
    }

    /// Decrypts `buf` in place: whole ciphertext blocks, never the file's last block.
    pub(crate) fn absorb(&mut self, buf: &mut [u8]) {
        for piece in buf.chunks_mut(CHUNK_LEN) {
            self.auth.absorb(piece);
            self.decryption.absorb(piece);
        }
    }

    /// Decrypts one piece of at most [`CHUNK_LEN`] bytes (whole blocks, never the file's last
    /// block) into `plaintext`, of the same length; [`decrypt_into`] cuts the pieces.
    pub(crate) fn absorb_into(&mut self, ciphertext: &[u8], plaintext: &mut [u8]) {
        self.auth.absorb(ciphertext);
        self.decryption.absorb_into(ciphertext, plaintext);
    }

    /// Takes the file's last ciphertext block and its MAC, and runs every check in the
    /// protocol's order: file hash, MAC, padding, plaintext hash.
    pub(crate) fn finish(self, last: &[u8; BLOCK_LEN], tag: &[u8; MAC_LEN]) -> Result<LastBlock> {
        self.auth.verify(last, tag, None)?;
        self.decryption.finish(last)
    }
}

/// Where plaintext goes: a growing `Vec`, or a caller's fixed buffer (streaming).
pub(crate) trait Sink {
    /// Appends `len` bytes and returns them, for the plaintext to be written to.
    fn append(&mut self, len: usize) -> &mut [u8];
    /// Wipes everything appended so far and starts again from empty.
    fn restart(&mut self);
}

impl Sink for Vec<u8> {
    fn append(&mut self, len: usize) -> &mut [u8] {
        let start = self.len();
        self.resize(start.saturating_add(len), 0);
        self.get_mut(start..).unwrap_or_default()
    }

    fn restart(&mut self) {
        // Zeroes the contents and empties the vector, keeping its allocation.
        self.zeroize();
    }
}

/// A caller's fixed buffer, filled from its start.
pub(crate) struct SliceSink<'a> {
    out: &'a mut [u8],
    written: usize,
}

impl<'a> SliceSink<'a> {
    pub(crate) fn new(out: &'a mut [u8]) -> Self {
        SliceSink { out, written: 0 }
    }

    /// How many bytes have been appended.
    pub(crate) const fn written(&self) -> usize {
        self.written
    }
}

impl Sink for SliceSink<'_> {
    fn append(&mut self, len: usize) -> &mut [u8] {
        let end = self.written.saturating_add(len);
        match self.out.get_mut(self.written..end) {
            Some(region) => {
                self.written = end;
                region
            }
            // Unreachable: the capacity is checked before feeding. Decrypting nothing breaks
            // the CBC chain and the plaintext hash, so the checks fail closed.
            None => &mut [],
        }
    }

    fn restart(&mut self) {
        if let Some(written) = self.out.get_mut(..self.written) {
            written.zeroize();
        }
        self.written = 0;
    }
}

/// Hands each cache-sized piece of `ciphertext`, with the place `sink` appends for it, to
/// `absorb`, which decrypts the one into the other.
pub(crate) fn decrypt_into(
    ciphertext: &[u8],
    sink: &mut impl Sink,
    mut absorb: impl FnMut(&[u8], &mut [u8]),
) {
    for piece in ciphertext.chunks(CHUNK_LEN) {
        absorb(piece, sink.append(piece.len()));
    }
}

/// The hold-back policy: of `held` bytes kept and `incoming` new ones, how many may be released,
/// keeping at least `keep` and releasing a multiple of `align`.
pub(crate) const fn releasable(held: usize, incoming: usize, keep: usize, align: usize) -> usize {
    held.saturating_add(incoming).saturating_sub(keep) / align * align
}

/// Bytes received but not yet released: what a streaming pass must hold back.
///
/// The streaming decryptor keeps the last 10 bytes (they may be the MAC) and at least one more
/// byte (the last ciphertext block, which holds the padding, is released only by `finish`), and
/// releases whole blocks; the verifier keeps only the 10 bytes.
pub(crate) struct Held {
    bytes: [u8; Held::CAPACITY],
    len: usize,
}

impl Held {
    /// The most any policy keeps: `keep + align - 1` = (10 + 1) + 16 - 1.
    pub(crate) const CAPACITY: usize = MAC_LEN + BLOCK_LEN;

    pub(crate) const fn new() -> Self {
        Held {
            bytes: [0; Held::CAPACITY],
            len: 0,
        }
    }

    pub(crate) fn as_slice(&self) -> &[u8] {
        self.bytes.get(..self.len).unwrap_or_default()
    }

    /// How many bytes feeding `incoming` more bytes will release under the policy.
    pub(crate) const fn releasable(&self, incoming: usize, keep: usize, align: usize) -> usize {
        releasable(self.len, incoming, keep, align)
    }

    /// Feeds `chunk`: passes the bytes that may be released, in order, to `release` (straight
    /// from `chunk` where possible, so big chunks are not copied here), and keeps the rest.
    /// Exactly [`Held::releasable`] bytes are released in total.
    pub(crate) fn feed(
        &mut self,
        mut chunk: &[u8],
        keep: usize,
        align: usize,
        mut release: impl FnMut(&[u8]),
    ) {
        loop {
            let releasable = self.releasable(chunk.len(), keep, align);
            if releasable == 0 {
                break;
            }
            if self.len == 0 {
                let (now, rest) = chunk.split_at(releasable.min(chunk.len()));
                release(now);
                chunk = rest;
            } else if self.len < align {
                // Complete the held partial block from the chunk.
                let (fill, rest) = chunk.split_at((align - self.len).min(chunk.len()));
                self.push(fill);
                chunk = rest;
            } else {
                let now = releasable.min(self.len / align * align);
                release(self.bytes.get(..now).unwrap_or_default());
                self.bytes.rotate_left(now.min(Held::CAPACITY));
                self.len -= now.min(self.len);
            }
        }
        self.push(chunk);
    }

    fn push(&mut self, bytes: &[u8]) {
        let end = self.len.saturating_add(bytes.len());
        debug_assert!(end <= Held::CAPACITY);
        if let Some(dst) = self.bytes.get_mut(self.len..end) {
            dst.copy_from_slice(bytes);
            self.len = end;
        }
        // Otherwise (impossible by the policy) the bytes are dropped; the byte count then
        // disagrees with what is held and `finish` fails closed.
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zero_extended_hmac_key_is_the_same_function() {
        let key = [0x5a; 32];
        let mut ours = new_mac(&key);
        let mut reference = <Hmac<Sha256> as KeyInit>::new_from_slice(&key).unwrap();
        Mac::update(&mut ours, b"iv and ciphertext");
        Mac::update(&mut reference, b"iv and ciphertext");
        assert_eq!(
            ours.finalize().into_bytes(),
            reference.finalize().into_bytes()
        );
    }

    #[test]
    fn held_releases_exactly_what_it_promises() {
        for (keep, align) in [(MAC_LEN + 1, BLOCK_LEN), (MAC_LEN, 1)] {
            for first in 0..40 {
                for second in 0..70 {
                    let mut held = Held::new();
                    let data: Vec<u8> = (0..(first + second) as u32).map(|i| i as u8).collect();
                    let mut released = Vec::new();
                    let (a, b) = data.split_at(first);
                    let expect_a = held.releasable(a.len(), keep, align);
                    held.feed(a, keep, align, |bytes| {
                        assert_eq!(bytes.len() % align, 0);
                        released.extend_from_slice(bytes)
                    });
                    assert_eq!(released.len(), expect_a);
                    let expect_b = held.releasable(b.len(), keep, align);
                    held.feed(b, keep, align, |bytes| released.extend_from_slice(bytes));
                    assert_eq!(released.len(), expect_a + expect_b);
                    released.extend_from_slice(held.as_slice());
                    assert_eq!(released, data);
                    assert!(held.as_slice().len() < keep + align);
                    if data.len() >= keep {
                        assert!(held.as_slice().len() >= keep);
                    }
                }
            }
        }
    }
}

//! Streaming: decrypt or verify a media file chunk by chunk, in constant memory.

use core::fmt;

use super::MediaMetadata;
use super::engine::{
    Authenticator, BLOCK_LEN, CHUNK_LEN, Engine, Held, MAC_LEN, Sink, SliceSink, ciphertext_len,
    decrypt_into, releasable,
};
use crate::error::{Error, Result};

/// What the decryptor holds back: the 10 bytes that may be the MAC, plus at least one byte of
/// the last ciphertext block (it holds the padding, so only `finish` may release it).
const DECRYPTOR_KEEP: usize = MAC_LEN + 1;
/// What the verifier holds back: the 10 bytes that may be the MAC.
const VERIFIER_KEEP: usize = MAC_LEN;

/// Decrypts a media file fed in chunks of any size, in memory proportional to the chunk.
///
/// <div class="warning">
///
/// **The plaintext released by [`update`](Self::update) is NOT VERIFIED.** The file hash, the
/// MAC, the padding and the plaintext hash can only be checked at the end of the file, by
/// [`finish`](Self::finish). Until `finish` returns `Ok`, treat everything released so far as
/// untrusted scratch data: do not parse it, serve it, or act on it. If `finish` returns an
/// error, **discard (and ideally overwrite) all of it**. When you can, decrypt the whole file
/// with [`decrypt_media_content`](super::decrypt_media_content), or verify the file first with
/// [`MediaVerifier`] and decrypt it on a second read.
///
/// </div>
///
/// `finish` runs the same checks, in the same order, as the one-shot functions (file hash, MAC,
/// padding, plaintext hash), so a damaged file fails with the same error code whichever way it
/// is read. The decryptor holds back the last 26 bytes it has seen (the MAC and the final,
/// padded ciphertext block); `finish` releases the final plaintext bytes.
///
/// # Example
/// ```
/// use wa_flows_crypto::client;
/// use wa_flows_crypto::media::MediaDecryptor;
///
/// let sealed = client::seal_media_with(b"a picture, say", [1; 32], [2; 32], [3; 16]);
///
/// let mut decryptor = MediaDecryptor::new(&sealed.metadata);
/// let mut plaintext = Vec::new();
/// for chunk in sealed.cdn_file.chunks(7) {
///     decryptor.update(chunk, &mut plaintext); // unverified so far
/// }
/// decryptor.finish(&mut plaintext)?; // now verified
/// assert_eq!(plaintext, b"a picture, say");
/// # Ok::<(), wa_flows_crypto::Error>(())
/// ```
pub struct MediaDecryptor {
    engine: Engine,
    held: Held,
    bytes_processed: u64,
}

impl MediaDecryptor {
    /// The most plaintext [`finish`](Self::finish) releases: the last block minus at least one
    /// padding byte.
    pub const MAX_FINISH_OUTPUT: usize = BLOCK_LEN - 1;

    /// Starts decrypting a file with these keys.
    pub fn new(metadata: &MediaMetadata) -> Self {
        MediaDecryptor {
            engine: Engine::new(metadata),
            held: Held::new(),
            bytes_processed: 0,
        }
    }

    /// An upper bound on what one [`update`](Self::update) with a chunk of `chunk_len` bytes
    /// releases, whatever was fed before: a multiple of 16, at most `chunk_len + 15`.
    ///
    /// ```
    /// use wa_flows_crypto::media::MediaDecryptor;
    /// assert_eq!(MediaDecryptor::max_update_output(0), 0);
    /// assert_eq!(MediaDecryptor::max_update_output(1), 16);
    /// assert_eq!(MediaDecryptor::max_update_output(65536), 65536);
    /// ```
    pub const fn max_update_output(chunk_len: usize) -> usize {
        // At most 26 bytes are held; 11 stay held: (26 + chunk_len - 11) rounded down to 16.
        chunk_len.saturating_add(Held::CAPACITY - DECRYPTOR_KEEP) / BLOCK_LEN * BLOCK_LEN
    }

    /// Exactly how many bytes the next [`update`](Self::update) with a chunk of `chunk_len`
    /// bytes releases.
    pub const fn update_output_len(&self, chunk_len: usize) -> usize {
        self.held.releasable(chunk_len, DECRYPTOR_KEEP, BLOCK_LEN)
    }

    /// How many bytes of the CDN file have been fed so far.
    pub const fn bytes_processed(&self) -> u64 {
        self.bytes_processed
    }

    /// Feeds the next `chunk` of the CDN file (any size, including empty) and appends the
    /// plaintext it releases to `out` ([`update_output_len`](Self::update_output_len) bytes,
    /// a multiple of 16).
    ///
    /// <div class="warning">The appended plaintext is unverified until
    /// <code>finish</code> returns <code>Ok</code>; see the type's documentation.</div>
    pub fn update(&mut self, chunk: &[u8], out: &mut Vec<u8>) {
        out.reserve(self.update_output_len(chunk.len()));
        self.feed(chunk, out);
    }

    /// Like [`update`](Self::update), but writes the released plaintext to the start of `out`
    /// and returns its length; for callers that own fixed buffers (C, WebAssembly).
    /// `out.len() >=` [`max_update_output`](Self::max_update_output)`(chunk.len())` always
    /// suffices.
    ///
    /// <div class="warning">The written plaintext is unverified until
    /// <code>finish</code> returns <code>Ok</code>; see the type's documentation.</div>
    ///
    /// # Errors
    /// [`Error::Malformed`] if `out` is shorter than
    /// [`update_output_len`](Self::update_output_len)`(chunk.len())`; nothing is consumed then,
    /// so the call can be repeated with a larger buffer.
    ///
    /// # Example
    /// ```
    /// use wa_flows_crypto::client;
    /// use wa_flows_crypto::media::MediaDecryptor;
    ///
    /// let sealed = client::seal_media_with(&[9; 100], [1; 32], [2; 32], [3; 16]);
    /// let mut decryptor = MediaDecryptor::new(&sealed.metadata);
    /// let mut buffer = [0u8; MediaDecryptor::max_update_output(64)];
    /// let mut plaintext = Vec::new();
    /// for chunk in sealed.cdn_file.chunks(64) {
    ///     let n = decryptor.update_into(chunk, &mut buffer)?;
    ///     plaintext.extend_from_slice(&buffer[..n]);
    /// }
    /// let mut last = [0u8; MediaDecryptor::MAX_FINISH_OUTPUT];
    /// let n = decryptor.finish_into(&mut last)?;
    /// plaintext.extend_from_slice(&last[..n]);
    /// assert_eq!(plaintext, [9; 100]);
    /// # Ok::<(), wa_flows_crypto::Error>(())
    /// ```
    pub fn update_into(&mut self, chunk: &[u8], out: &mut [u8]) -> Result<usize> {
        let needed = self.update_output_len(chunk.len());
        if out.len() < needed {
            return Err(Error::Malformed(
                "the output buffer is smaller than MediaDecryptor::update_output_len(chunk length)",
            ));
        }
        let mut sink = SliceSink::new(out);
        self.feed(chunk, &mut sink);
        Ok(sink.written())
    }

    fn feed(&mut self, chunk: &[u8], sink: &mut impl Sink) {
        self.bytes_processed = self.bytes_processed.saturating_add(chunk.len() as u64);
        let engine = &mut self.engine;
        self.held
            .feed(chunk, DECRYPTOR_KEEP, BLOCK_LEN, |released: &[u8]| {
                decrypt_into(released, sink, |input, output| {
                    engine.absorb_into(input, output)
                });
            });
    }

    /// Ends the file: runs every check (lengths, file hash, MAC, padding, plaintext hash, in
    /// that order) and, if all pass, appends the last plaintext bytes (at most 15) to `out`.
    ///
    /// # Errors
    /// [`Error::Malformed`] if the file's length is impossible (shorter than the MAC, no
    /// ciphertext, or ciphertext not a whole number of blocks);
    /// [`Error::EncryptedHashMismatch`], [`Error::HmacMismatch`], [`Error::Padding`],
    /// [`Error::PlaintextHashMismatch`] as for
    /// [`decrypt_media_content`](super::decrypt_media_content). On any error, discard all the
    /// plaintext released so far.
    pub fn finish(self, out: &mut Vec<u8>) -> Result<()> {
        let last = self.finish_checks()?;
        out.extend_from_slice(last.plaintext());
        Ok(())
    }

    /// Like [`finish`](Self::finish), but writes the last plaintext bytes to the start of `out`
    /// and returns how many there are.
    ///
    /// # Errors
    /// [`Error::Malformed`] if `out` is shorter than
    /// [`MAX_FINISH_OUTPUT`](Self::MAX_FINISH_OUTPUT) (checked first); otherwise as
    /// [`finish`](Self::finish).
    pub fn finish_into(self, out: &mut [u8]) -> Result<usize> {
        if out.len() < Self::MAX_FINISH_OUTPUT {
            return Err(Error::Malformed(
                "the output buffer is smaller than MediaDecryptor::MAX_FINISH_OUTPUT",
            ));
        }
        let last = self.finish_checks()?;
        let plaintext = last.plaintext();
        let region = out
            .get_mut(..plaintext.len())
            .ok_or(Error::Malformed("the output buffer is too small"))?;
        region.copy_from_slice(plaintext);
        Ok(plaintext.len())
    }

    fn finish_checks(self) -> Result<super::engine::LastBlock> {
        ciphertext_len(self.bytes_processed)?;
        let (last, tag) = self
            .held
            .as_slice()
            .split_first_chunk::<BLOCK_LEN>()
            .and_then(|(last, rest)| Some((last, rest.first_chunk::<MAC_LEN>()?)))
            .ok_or(Error::Malformed("the media file is incomplete"))?;
        self.engine.finish(last, tag)
    }
}

impl fmt::Debug for MediaDecryptor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MediaDecryptor")
            .field("bytes_processed", &self.bytes_processed)
            .finish_non_exhaustive()
    }
}

/// Verifies a media file fed in chunks, without decrypting it: file hash, MAC and length rules.
///
/// For callers that can read the file twice (from disk, or by downloading it again) and want
/// to release no plaintext at all before the file is known to be authentic: verify it with
/// `MediaVerifier`, then decrypt it with [`MediaDecryptor`] on the second read. (That second
/// pass still checks everything, padding and plaintext hash included.)
///
/// # Example
/// ```
/// use wa_flows_crypto::client;
/// use wa_flows_crypto::media::MediaVerifier;
///
/// let sealed = client::seal_media_with(b"a document", [1; 32], [2; 32], [3; 16]);
/// let mut verifier = MediaVerifier::new(&sealed.metadata);
/// for chunk in sealed.cdn_file.chunks(5) {
///     verifier.update(chunk);
/// }
/// verifier.finish()?;
///
/// let mut tampered = sealed.cdn_file.clone();
/// tampered[0] ^= 1;
/// let mut verifier = MediaVerifier::new(&sealed.metadata);
/// verifier.update(&tampered);
/// assert_eq!(verifier.finish().unwrap_err().code(), "encrypted_hash_mismatch");
/// # Ok::<(), wa_flows_crypto::Error>(())
/// ```
pub struct MediaVerifier {
    auth: Authenticator,
    held: Held,
    bytes_processed: u64,
}

impl MediaVerifier {
    /// Starts verifying a file with this metadata.
    pub fn new(metadata: &MediaMetadata) -> Self {
        MediaVerifier {
            auth: Authenticator::new(metadata, true),
            held: Held::new(),
            bytes_processed: 0,
        }
    }

    /// Feeds the next `chunk` of the CDN file (any size, including empty).
    pub fn update(&mut self, chunk: &[u8]) {
        self.bytes_processed = self.bytes_processed.saturating_add(chunk.len() as u64);
        let auth = &mut self.auth;
        self.held.feed(chunk, VERIFIER_KEEP, 1, |released: &[u8]| {
            for piece in released.chunks(CHUNK_LEN) {
                auth.absorb(piece);
            }
        });
    }

    /// How many bytes of the CDN file have been fed so far.
    pub const fn bytes_processed(&self) -> u64 {
        self.bytes_processed
    }

    /// Ends the file and checks it: lengths, then file hash, then MAC.
    ///
    /// # Errors
    /// [`Error::Malformed`] if the file's length is impossible,
    /// [`Error::EncryptedHashMismatch`] or [`Error::HmacMismatch`] if it is not authentic.
    pub fn finish(self) -> Result<()> {
        ciphertext_len(self.bytes_processed)?;
        let tag = self
            .held
            .as_slice()
            .first_chunk::<MAC_LEN>()
            .ok_or(Error::Malformed("the media file is incomplete"))?;
        self.auth.verify(&[], tag, None)
    }
}

impl fmt::Debug for MediaVerifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MediaVerifier")
            .field("bytes_processed", &self.bytes_processed)
            .finish_non_exhaustive()
    }
}

/// How a media file fed in chunks splits, for a streaming decryptor whose primitives run
/// elsewhere (a platform's AES-256-CBC, HMAC-SHA256 and SHA-256, as in Node): which bytes are
/// ciphertext to authenticate and decrypt now, and which to hold back until the end (the MAC,
/// and the last block, whose padding only [`finish`](Self::finish) may release).
///
/// It counts; the caller keeps the held bytes (at most 26), and hands its primitives' outputs
/// to [`checks`](super::checks) at the end, in the order `finish` documents. The split is
/// [`MediaDecryptor`]'s, so both release the same plaintext for the same chunks.
///
/// # Example
/// ```
/// use wa_flows_crypto::media::MediaStreamSplit;
///
/// let mut split = MediaStreamSplit::new();
/// // 100 bytes arrive: nothing was held, so the first 80 are ciphertext to process now.
/// assert_eq!(split.update(100), 80);
/// assert_eq!(split.held_len(), 20);
/// // 6 more: of the 26 held ones none can go (the last block and the MAC may be all of them).
/// assert_eq!(split.update(6), 0);
/// // The file ended: held[..16] is the last ciphertext block, held[16..] the MAC.
/// assert_eq!(split.finish()?, 16);
/// # Ok::<(), wa_flows_crypto::Error>(())
/// ```
#[derive(Clone, Debug, Default)]
pub struct MediaStreamSplit {
    held_len: usize,
    bytes_processed: u64,
}

impl MediaStreamSplit {
    /// Starts a file.
    pub const fn new() -> Self {
        MediaStreamSplit {
            held_len: 0,
            bytes_processed: 0,
        }
    }

    /// Feeds `chunk_len` more bytes of the CDN file. Returns how many bytes at the start of
    /// (the held bytes ‖ the chunk) are ciphertext to authenticate and decrypt now, a multiple
    /// of 16; the caller holds the rest back ([`held_len`](Self::held_len) bytes).
    pub fn update(&mut self, chunk_len: usize) -> usize {
        let released = releasable(self.held_len, chunk_len, DECRYPTOR_KEEP, BLOCK_LEN);
        self.held_len = self.held_len.saturating_add(chunk_len) - released;
        self.bytes_processed = self.bytes_processed.saturating_add(chunk_len as u64);
        released
    }

    /// How many bytes the caller holds back now: at most 26.
    pub const fn held_len(&self) -> usize {
        self.held_len
    }

    /// How many bytes of the CDN file have been fed so far.
    pub const fn bytes_processed(&self) -> u64 {
        self.bytes_processed
    }

    /// Ends the file and checks its length rules. Returns the length of the last ciphertext
    /// block at the start of the held bytes; the MAC follows it. The caller then runs, in this
    /// order, [`check_encrypted_hash`](super::checks::check_encrypted_hash),
    /// [`check_mac`](super::checks::check_mac) (after authenticating the last block),
    /// [`check_padding`](super::checks::check_padding) on the decrypted last block, and
    /// [`check_plaintext_hash`](super::checks::check_plaintext_hash): the order and the errors
    /// of [`MediaDecryptor::finish`].
    ///
    /// # Errors
    /// [`Error::Malformed`] if the file's length is impossible, as for
    /// [`MediaDecryptor::finish`].
    pub fn finish(&self) -> Result<usize> {
        ciphertext_len(self.bytes_processed)?;
        if self.held_len == BLOCK_LEN + MAC_LEN {
            Ok(BLOCK_LEN)
        } else {
            Err(Error::Malformed("the media file is incomplete"))
        }
    }
}

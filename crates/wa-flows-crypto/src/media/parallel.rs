//! The `parallel` one-shot: the pass split over two threads.
//!
//! Decrypting a file costs three SHA-256 chains of the same length (the file hash, the HMAC
//! and the plaintext hash) and one AES-256-CBC pass about five times cheaper than one of them.
//! Each chain is sequential, but a chain's state can move between threads, so the work is
//! shared out by McNaughton's wrap-around rule: the helper thread hashes the first part of the
//! file, hands the hash state over, then decrypts and hashes the plaintext; the calling thread
//! computes the HMAC, then takes the file hash state over and hashes the rest of the file.
//! Each thread then runs about 1.75 chains, where handing one whole hash to the helper left
//! two chains and the decryption on one thread; neither waits for the other, as the state is
//! handed over long before the HMAC is done.
//!
//! The checks still run afterwards, on the calling thread, in the protocol's order.

use sha2::{Digest, Sha256};

use super::MediaMetadata;
use super::engine::{Authenticator, BLOCK_LEN, Decryption, LastBlock, MAC_LEN, Sink, decrypt_into};
use crate::error::Result;

/// Files at least this long are decrypted on two threads: below it, starting a thread costs
/// more than it saves.
const PARALLEL_MIN_LEN: usize = 256 * 1024;

/// The helper hashes the first `1 / HELPER_FILE_HASH_SHARE` of the file. Balancing the two
/// threads puts it at `1 - D / 2H`, where `H` is the time of one SHA-256 pass and `D` that of
/// the helper's decryption (into the output) and plaintext hash; here `D / H` is about 1.5 (SHA
/// extensions and AES-NI), so a quarter. A quarter measured best among sixteenths with
/// `benches/media.rs` on 1 and 16 MiB files.
const HELPER_FILE_HASH_SHARE: usize = 4;

/// Runs the pass on two threads and the checks on this one. `None` if the file is too short
/// to gain from it or no thread could be started (the caller then runs the single-threaded
/// pass; `plaintext` is untouched).
pub(super) fn decrypt(
    metadata: &MediaMetadata,
    cdn_file: &[u8],
    body: &[u8],
    last: &[u8; BLOCK_LEN],
    tag: &[u8; MAC_LEN],
    plaintext: &mut (impl Sink + Send),
) -> Option<Result<LastBlock>> {
    if cdn_file.len() < PARALLEL_MIN_LEN {
        return None;
    }
    // A multiple of SHA-256's 64-byte block, so neither thread buffers a partial block.
    let split = (cdn_file.len() / HELPER_FILE_HASH_SHARE) & !63;
    let (head, tail) = cdn_file.split_at(split.min(cdn_file.len()));

    let helper_plaintext = &mut *plaintext;
    let (auth, file_digest, decryption) = std::thread::scope(|scope| {
        let (handover, receive_file_hash) = std::sync::mpsc::sync_channel(1);
        let helper = std::thread::Builder::new()
            .name("wa-flows-crypto media".into())
            .spawn_scoped(scope, move || {
                let mut file_hash = Sha256::new();
                Digest::update(&mut file_hash, head);
                // Fails only if the calling thread is gone, and then nobody needs it.
                let _ = handover.send(file_hash);
                let mut decryption = Decryption::new(metadata);
                decrypt_into(body, helper_plaintext, |input, output| {
                    decryption.absorb_into(input, output)
                });
                #[cfg(test)]
                tests::panic_if_injected();
                decryption
            })
            .ok()?;

        let mut auth = Authenticator::new(metadata, false);
        auth.absorb(body);
        // The helper cannot fail before sending; recomputing keeps this path panic-free.
        let mut file_hash = receive_file_hash
            .recv()
            .unwrap_or_else(|_| Sha256::new_with_prefix(head));
        Digest::update(&mut file_hash, tail);
        let file_digest: [u8; 32] = file_hash.finalize().into();
        Some((auth, file_digest, helper.join()))
    })?;

    let result = auth.verify(last, tag, Some(file_digest)).and_then(|()| {
        match decryption {
            Ok(decryption) => decryption.finish(last),
            // The helper panicked (not expected: it only hashes and decrypts). Its plaintext
            // may be incomplete, so decrypt again here rather than fail.
            Err(_) => {
                plaintext.restart();
                let mut decryption = Decryption::new(metadata);
                decrypt_into(body, plaintext, |input, output| {
                    decryption.absorb_into(input, output)
                });
                decryption.finish(last)
            }
        }
    });
    #[cfg(test)]
    tests::PASSES_ON_TWO_THREADS.with(|passes| passes.set(passes.get() + 1));
    Some(result)
}

#[cfg(test)]
mod tests {
    use core::cell::Cell;
    use core::sync::atomic::{AtomicBool, Ordering};

    use crate::client;
    use crate::media::{decrypt_media_content, decrypt_media_content_into, max_plaintext_len};

    /// Makes the helper thread panic once it has written its whole share of the plaintext: the
    /// recovery path, which nothing else reaches. Tests that decrypt large files meanwhile take
    /// that path too, and pass all the same.
    static HELPER_PANICS: AtomicBool = AtomicBool::new(false);

    std::thread_local! {
        /// How many one-shot passes this thread ran on two threads (per thread, so that tests
        /// running at the same time do not count each other's).
        pub(super) static PASSES_ON_TWO_THREADS: Cell<usize> = const { Cell::new(0) };
    }

    pub(super) fn panic_if_injected() {
        assert!(
            !HELPER_PANICS.load(Ordering::SeqCst),
            "injected: the media helper thread panicked"
        );
    }

    #[test]
    fn a_helper_thread_that_panics_leaves_the_plaintext_once_and_whole() {
        let plaintext: Vec<u8> = (0..super::PARALLEL_MIN_LEN + 1000)
            .map(|i| (i % 251) as u8)
            .collect();
        let sealed = client::seal_media_with(&plaintext, [1; 32], [2; 32], [3; 16]);
        let mut out = vec![0xAA; max_plaintext_len(sealed.cdn_file.len())];
        HELPER_PANICS.store(true, Ordering::SeqCst);
        let into_vec = decrypt_media_content(&sealed.cdn_file, &sealed.metadata);
        let into_slice = decrypt_media_content_into(&sealed.cdn_file, &sealed.metadata, &mut out);
        HELPER_PANICS.store(false, Ordering::SeqCst);
        // The helper's plaintext is wiped and written again, not appended to.
        assert!(into_vec.unwrap() == plaintext);
        assert_eq!(into_slice.unwrap(), plaintext.len());
        assert!(out[..plaintext.len()] == plaintext[..]);
    }

    #[test]
    fn files_from_256_kib_are_decrypted_on_two_threads_and_smaller_ones_on_one() {
        // 32 and 16 bytes short of the threshold give CDN files just below and just above it
        // (PKCS#7 pads to the next 16 bytes, then 10 bytes of MAC follow).
        for plaintext_len in [super::PARALLEL_MIN_LEN - 32, super::PARALLEL_MIN_LEN - 16] {
            let plaintext = vec![0x42; plaintext_len];
            let sealed = client::seal_media_with(&plaintext, [4; 32], [5; 32], [6; 16]);
            let on_two_threads = sealed.cdn_file.len() >= super::PARALLEL_MIN_LEN;
            assert_eq!(
                on_two_threads,
                plaintext_len == super::PARALLEL_MIN_LEN - 16
            );
            let before = PASSES_ON_TWO_THREADS.with(Cell::get);
            assert!(
                decrypt_media_content(&sealed.cdn_file, &sealed.metadata).unwrap() == plaintext
            );
            let passes = PASSES_ON_TWO_THREADS.with(Cell::get) - before;
            assert_eq!(
                passes,
                usize::from(on_two_threads),
                "{} bytes",
                sealed.cdn_file.len()
            );
        }
    }
}

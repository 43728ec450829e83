//! Media decryption: the shared vectors through every entry point, property tests against the
//! client-side sealer, and a 64 MiB streaming run.

// Test helpers outside `#[test]` functions are not covered by clippy.toml's test allowances.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::path::PathBuf;

use proptest::prelude::*;
use serde_json::Value;
use sha2::{Digest, Sha256};
use wa_flows_crypto::Error;
use wa_flows_crypto::client::{SealedMedia, seal_media, seal_media_with};
use wa_flows_crypto::media::{
    MediaDecryptor, MediaMetadata, MediaStreamSplit, MediaVerifier, checks, decrypt_media_content,
    decrypt_media_content_in_place, decrypt_media_content_into, max_plaintext_len,
};

fn vectors_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/vectors")
}

/// Chunk sizes the streaming paths are tried with (0 means "the whole file at once").
const CHUNK_SIZES: [usize; 10] = [1, 2, 7, 10, 16, 26, 27, 1000, 65536, 0];

fn chunks(file: &[u8], size: usize) -> Vec<&[u8]> {
    if size == 0 {
        vec![file]
    } else {
        file.chunks(size).collect()
    }
}

/// Streaming with `update` (growing `Vec`); also checks the output-size promises.
fn stream(file_chunks: &[&[u8]], metadata: &MediaMetadata) -> Result<Vec<u8>, Error> {
    let mut decryptor = MediaDecryptor::new(metadata);
    let mut out = Vec::new();
    for chunk in file_chunks {
        let before = out.len();
        let expected = decryptor.update_output_len(chunk.len());
        assert!(expected <= MediaDecryptor::max_update_output(chunk.len()));
        decryptor.update(chunk, &mut out);
        assert_eq!(out.len() - before, expected);
        assert_eq!(expected % 16, 0);
    }
    let fed: usize = file_chunks.iter().map(|c| c.len()).sum();
    assert_eq!(decryptor.bytes_processed(), fed as u64);
    // The MAC and at least one byte of the last block are never released before `finish`.
    assert!(out.len() + 11 <= fed || out.is_empty());
    decryptor.finish(&mut out)?;
    Ok(out)
}

/// Streaming with `update_into` and `finish_into` into exactly-sized caller buffers.
fn stream_into(file_chunks: &[&[u8]], metadata: &MediaMetadata) -> Result<Vec<u8>, Error> {
    let mut decryptor = MediaDecryptor::new(metadata);
    let mut out = Vec::new();
    for chunk in file_chunks {
        let needed = decryptor.update_output_len(chunk.len());
        if needed > 0 {
            // One byte short is refused and changes nothing.
            let mut small = vec![0u8; needed - 1];
            assert!(matches!(
                decryptor.update_into(chunk, &mut small),
                Err(Error::Malformed(_))
            ));
            assert_eq!(decryptor.update_output_len(chunk.len()), needed);
        }
        let mut buffer = vec![0u8; MediaDecryptor::max_update_output(chunk.len())];
        let n = decryptor.update_into(chunk, &mut buffer).unwrap();
        assert_eq!(n, needed);
        out.extend_from_slice(&buffer[..n]);
    }
    let mut last = [0u8; MediaDecryptor::MAX_FINISH_OUTPUT];
    let n = decryptor.finish_into(&mut last)?;
    out.extend_from_slice(&last[..n]);
    Ok(out)
}

fn verify(file_chunks: &[&[u8]], metadata: &MediaMetadata) -> Result<(), Error> {
    let mut verifier = MediaVerifier::new(metadata);
    for chunk in file_chunks {
        verifier.update(chunk);
    }
    verifier.finish()
}

/// A streaming decryptor as a platform builds one (Node's, over node:crypto): its own
/// primitives (RustCrypto's here), the core's [`MediaStreamSplit`] to split the file, and the
/// core's [`checks`] at the end. Asserts that it releases what [`MediaDecryptor`] releases.
fn split_stream(file_chunks: &[&[u8]], metadata: &MediaMetadata) -> Result<Vec<u8>, Error> {
    use aes::cipher::{BlockModeDecrypt, KeyIvInit};
    use hmac::{KeyInit, Mac};

    let mut split = MediaStreamSplit::new();
    let mut decryptor = MediaDecryptor::new(metadata);
    let mut file_hash = Sha256::new();
    let mut mac = hmac::Hmac::<Sha256>::new_from_slice(metadata.hmac_key()).unwrap();
    mac.update(metadata.iv());
    let mut cbc = cbc::Decryptor::<aes::Aes256>::new(
        &(*metadata.encryption_key()).into(),
        &(*metadata.iv()).into(),
    );
    let mut plaintext_hash = Sha256::new();
    let mut held = Vec::new();
    let mut plaintext = Vec::new();
    for chunk in file_chunks {
        file_hash.update(chunk);
        let released = split.update(chunk.len());
        assert_eq!(released, decryptor.update_output_len(chunk.len()));
        let mut joined = std::mem::take(&mut held);
        joined.extend_from_slice(chunk);
        let (ciphertext, rest) = joined.split_at(released);
        held = rest.to_vec();
        assert_eq!(held.len(), split.held_len());
        mac.update(ciphertext);
        for block in ciphertext.chunks_exact(16) {
            let mut block = aes::Block::try_from(block).unwrap();
            cbc.decrypt_block(&mut block);
            plaintext_hash.update(block);
            plaintext.extend_from_slice(&block);
        }
        let mut reference = Vec::new();
        decryptor.update(chunk, &mut reference);
        assert_eq!(plaintext[plaintext.len() - released..], reference[..]);
    }
    assert_eq!(split.bytes_processed(), decryptor.bytes_processed());
    let last_len = split.finish()?;
    let (last, tag) = held.split_at(last_len);
    checks::check_encrypted_hash(metadata, &file_hash.finalize().into())?;
    mac.update(last);
    checks::check_mac(&mac.finalize().into_bytes(), tag.try_into().unwrap())?;
    let mut last = aes::Block::try_from(last).unwrap();
    cbc.decrypt_block(&mut last);
    let kept = checks::check_padding(&last.into())?;
    plaintext_hash.update(&last[..kept]);
    checks::check_plaintext_hash(metadata, &plaintext_hash.finalize().into())?;
    plaintext.extend_from_slice(&last[..kept]);
    Ok(plaintext)
}

fn in_place(file: &[u8], metadata: &MediaMetadata) -> Result<Vec<u8>, Error> {
    let mut buffer = file.to_vec();
    match decrypt_media_content_in_place(&mut buffer, metadata) {
        Ok(n) => {
            assert!(buffer[n..].iter().all(|&b| b == 0));
            buffer.truncate(n);
            Ok(buffer)
        }
        Err(error) => {
            if !matches!(error, Error::Malformed(_)) {
                assert!(buffer.iter().all(|&b| b == 0), "plaintext left behind");
            } else {
                assert_eq!(buffer, file, "a length error must not touch the buffer");
            }
            Err(error)
        }
    }
}

/// Into a caller's buffer of exactly the maximum size (filled with a marker first): on an
/// error, no byte of plaintext is left, and a length error writes nothing.
fn into(file: &[u8], metadata: &MediaMetadata) -> Result<Vec<u8>, Error> {
    let mut out = vec![0xA5; max_plaintext_len(file.len())];
    match decrypt_media_content_into(file, metadata, &mut out) {
        Ok(n) => {
            out.truncate(n);
            Ok(out)
        }
        Err(error) => {
            if matches!(error, Error::Malformed(_)) {
                assert!(out.iter().all(|&b| b == 0xA5), "a length error wrote");
            } else {
                assert!(
                    out.iter().all(|&b| b == 0xA5 || b == 0),
                    "plaintext left behind"
                );
            }
            Err(error)
        }
    }
}

/// Runs `file` through every entry point with every chunking; asserts they all agree, and
/// that the verifier agrees on the checks it makes. Returns the common result.
fn every_path(file: &[u8], metadata: &MediaMetadata) -> Result<Vec<u8>, Error> {
    let one_shot = decrypt_media_content(file, metadata);
    assert_eq!(in_place(file, metadata), one_shot, "in place");
    assert_eq!(into(file, metadata), one_shot, "into a caller's buffer");
    for size in CHUNK_SIZES {
        let file_chunks = chunks(file, size);
        assert_eq!(
            stream(&file_chunks, metadata),
            one_shot,
            "update, chunks of {size}"
        );
        assert_eq!(
            stream_into(&file_chunks, metadata),
            one_shot,
            "update_into, chunks of {size}"
        );
        assert_eq!(
            split_stream(&file_chunks, metadata),
            one_shot,
            "MediaStreamSplit, chunks of {size}"
        );
        let verified = verify(&file_chunks, metadata);
        match &one_shot {
            Ok(_) | Err(Error::Padding | Error::PlaintextHashMismatch) => {
                assert_eq!(verified, Ok(()), "verifier, chunks of {size}")
            }
            Err(error) => assert_eq!(verified.as_ref(), Err(error), "verifier, chunks of {size}"),
        }
    }
    one_shot
}

fn expect_code(result: &Result<impl Sized, Error>, expected: &str, name: &str) {
    let code = match result {
        Ok(_) => "ok",
        Err(error) => error.code(),
    };
    let accepted = match expected {
        "padding_or_plaintext_hash" => ["padding", "plaintext_hash_mismatch"].contains(&code),
        other => other == code,
    };
    assert!(accepted, "{name}: expected {expected}, got {code}");
}

/// `max_update_output` is the least buffer that always suffices: the decryptor holds back at most
/// 26 bytes (the 10-byte MAC, one byte of the last block, a partial block of up to 15), and from
/// that state every chunk length reaches the bound.
#[test]
fn max_update_output_is_reached_from_the_fullest_hold_back() {
    let sealed = seal_media_with(&[7; 200], [1; 32], [2; 32], [3; 16]);
    for chunk_len in [0, 1, 5, 15, 16, 17, 100] {
        let mut decryptor = MediaDecryptor::new(&sealed.metadata);
        let mut out = Vec::new();
        decryptor.update(&sealed.cdn_file[..26], &mut out);
        assert!(out.is_empty(), "26 bytes are all held back");
        let bound = MediaDecryptor::max_update_output(chunk_len);
        assert_eq!(decryptor.update_output_len(chunk_len), bound);
        assert_eq!(bound, chunk_len.next_multiple_of(16));
    }
}

/// `MAX_FINISH_OUTPUT` is the least buffer `finish_into` needs: the last block holds up to 15
/// bytes of plaintext (its padding takes at least one), and a file whose length leaves 15 in it
/// fills exactly that.
#[test]
fn finish_releases_up_to_max_finish_output_and_no_more() {
    assert_eq!(MediaDecryptor::MAX_FINISH_OUTPUT, 15);
    for plaintext_len in [0, 1, 15, 16, 31, 47] {
        let plaintext = vec![9; plaintext_len];
        let sealed = seal_media_with(&plaintext, [1; 32], [2; 32], [3; 16]);
        let mut decryptor = MediaDecryptor::new(&sealed.metadata);
        let mut out = Vec::new();
        decryptor.update(&sealed.cdn_file, &mut out);
        let mut last = [0u8; MediaDecryptor::MAX_FINISH_OUTPUT];
        let n = decryptor.finish_into(&mut last).unwrap();
        assert_eq!(n, plaintext_len % 16, "{plaintext_len} bytes");
        out.extend_from_slice(&last[..n]);
        assert_eq!(out, plaintext);
    }
}

#[test]
fn shared_vectors() {
    let dir = vectors_dir();
    let text = std::fs::read_to_string(dir.join("media.json")).unwrap();
    let vectors: Value = serde_json::from_str(&text).unwrap();
    let vectors = vectors["vectors"].as_array().unwrap();
    assert!(vectors.len() >= 21);
    let mut checked_ok = 0;
    for vector in vectors {
        let name = vector["name"].as_str().unwrap();
        let file = std::fs::read(dir.join(vector["file"].as_str().unwrap())).unwrap();
        let expect = &vector["expect"];

        // Both metadata readers agree.
        let from_value = MediaMetadata::from_json_value(&vector["metadata"]);
        let raw = serde_json::to_vec(&vector["metadata"]).unwrap();
        let from_json = MediaMetadata::from_json(&raw);
        assert_eq!(from_value.is_ok(), from_json.is_ok(), "{name}");
        let result = from_value.and_then(|metadata| {
            let json = from_json.unwrap();
            assert_eq!(json.encryption_key(), metadata.encryption_key());
            assert_eq!(json.encrypted_hash(), metadata.encrypted_hash());
            every_path(&file, &metadata)
        });

        if expect["ok"].as_bool().unwrap() {
            let plaintext =
                std::fs::read(dir.join(expect["plaintext_file"].as_str().unwrap())).unwrap();
            assert_eq!(result.as_deref(), Ok(&plaintext[..]), "{name}");
            checked_ok += 1;
        } else {
            expect_code(&result, expect["error"].as_str().unwrap(), name);
        }
    }
    assert!(checked_ok >= 8);
}

#[test]
fn metadata_from_json_is_strict_about_types_and_lengths() {
    let sealed = seal_media_with(b"x", [1; 32], [2; 32], [3; 16]);
    let good: Value = serde_json::from_str(&sealed.metadata.to_json()).unwrap();
    for field in [
        "encryption_key",
        "hmac_key",
        "iv",
        "plaintext_hash",
        "encrypted_hash",
    ] {
        for bad in [
            Value::Null,
            Value::from(1),
            Value::from(vec!["AAAA"]),
            Value::from("AAAA"),
            Value::from("not base64!"),
            Value::from(good[field].as_str().unwrap().replace('=', "") + "AAAA"),
        ] {
            let mut value = good.clone();
            value[field] = bad;
            let error = MediaMetadata::from_json_value(&value).unwrap_err();
            assert!(
                matches!(error, Error::Malformed(text) if text.contains(field)),
                "{field}"
            );
            let error = MediaMetadata::from_json(value.to_string().as_bytes()).unwrap_err();
            assert!(matches!(error, Error::Malformed(_)));
        }
        let mut value = good.clone();
        value.as_object_mut().unwrap().remove(field);
        assert!(MediaMetadata::from_json_value(&value).is_err());
    }
    // Extra fields are ignored; missing padding is accepted.
    let mut value = good.clone();
    value["media_id"] = Value::from(42);
    let unpadded = value["iv"]
        .as_str()
        .unwrap()
        .trim_end_matches('=')
        .to_owned();
    value["iv"] = Value::from(unpadded);
    let metadata = MediaMetadata::from_json(value.to_string().as_bytes()).unwrap();
    assert_eq!(
        decrypt_media_content(&sealed.cdn_file, &metadata).unwrap(),
        b"x"
    );
    for not_an_object in ["[]", "\"x\"", "1", "null", "", "{", "{} {}"] {
        assert!(matches!(
            MediaMetadata::from_json(not_an_object.as_bytes()),
            Err(Error::Malformed(_))
        ));
    }
}

#[test]
fn debug_output_never_shows_keys() {
    let sealed = seal_media(b"secret picture").unwrap();
    let text = format!("{sealed:?} {:?}", sealed.metadata);
    // What it does show: the file's size and the metadata's own (redacted) view.
    assert!(
        text.starts_with(&format!(
            "SealedMedia {{ cdn_file_len: {}, metadata: {:?} }}",
            sealed.cdn_file.len(),
            sealed.metadata
        )),
        "{text}"
    );
    for secret in [
        sealed.metadata.encryption_key().as_slice(),
        sealed.metadata.hmac_key().as_slice(),
    ] {
        assert!(!text.contains(&hex::encode(secret)));
        assert!(!text.contains(&format!("{secret:?}")));
        assert!(!text.contains(&format!("{:?}", &secret[..4])));
    }
}

#[test]
fn random_keys_differ_and_round_trip() {
    let a = seal_media(b"same plaintext").unwrap();
    let b = seal_media(b"same plaintext").unwrap();
    assert_ne!(a.metadata.encryption_key(), b.metadata.encryption_key());
    assert_ne!(a.metadata.hmac_key(), b.metadata.hmac_key());
    assert_ne!(a.cdn_file, b.cdn_file);
    assert_eq!(
        every_path(&a.cdn_file, &a.metadata).unwrap(),
        b"same plaintext"
    );
}

/// Builds a CDN file from raw (unpadded) plaintext blocks, authentic except for its padding.
fn seal_raw_blocks(blocks: &[u8], key: [u8; 32], hmac_key: [u8; 32], iv: [u8; 16]) -> SealedMedia {
    use aes::cipher::array::Array;
    use aes::cipher::{BlockModeEncrypt, KeyIvInit};
    use hmac::{KeyInit, Mac};
    assert_eq!(blocks.len() % 16, 0);
    let mut file = blocks.to_vec();
    let mut cipher = cbc::Encryptor::<aes::Aes256>::new(&key.into(), &iv.into());
    let (blocks_view, _) = Array::slice_as_chunks_mut(&mut file);
    cipher.encrypt_blocks(blocks_view);
    let mut mac = <hmac::Hmac<Sha256> as KeyInit>::new_from_slice(&hmac_key).unwrap();
    mac.update(&iv);
    mac.update(&file);
    file.extend_from_slice(&mac.finalize().into_bytes()[..10]);
    let encrypted_hash = Sha256::digest(&file).into();
    let plaintext_hash = Sha256::digest(blocks).into();
    SealedMedia {
        metadata: MediaMetadata::from_parts(key, hmac_key, iv, plaintext_hash, encrypted_hash),
        cdn_file: file,
    }
}

/// The metadata with one field replaced.
fn with_field(metadata: &MediaMetadata, field: usize, flip: (usize, u8)) -> MediaMetadata {
    let mut key = *metadata.encryption_key();
    let mut hmac_key = *metadata.hmac_key();
    let mut iv = *metadata.iv();
    let mut plaintext_hash = *metadata.plaintext_hash();
    let mut encrypted_hash = *metadata.encrypted_hash();
    let target: &mut [u8] = match field {
        0 => &mut key,
        1 => &mut hmac_key,
        2 => &mut iv,
        3 => &mut plaintext_hash,
        _ => &mut encrypted_hash,
    };
    let at = flip.0 % target.len();
    target[at] ^= flip.1;
    MediaMetadata::from_parts(key, hmac_key, iv, plaintext_hash, encrypted_hash)
}

fn rehashed(metadata: &MediaMetadata, file: &[u8]) -> MediaMetadata {
    MediaMetadata::from_parts(
        *metadata.encryption_key(),
        *metadata.hmac_key(),
        *metadata.iv(),
        *metadata.plaintext_hash(),
        Sha256::digest(file).into(),
    )
}

/// Splits `file` at the given (sorted, deduplicated) cut points.
fn cut<'a>(file: &'a [u8], cuts: &[usize]) -> Vec<&'a [u8]> {
    let mut points: Vec<usize> = cuts.iter().map(|c| c % (file.len() + 1)).collect();
    points.sort_unstable();
    let mut out = Vec::new();
    let mut start = 0;
    for point in points {
        out.push(&file[start..point]); // empty chunks included on purpose
        start = point;
    }
    out.push(&file[start..]);
    out
}

fn keys() -> impl Strategy<Value = ([u8; 32], [u8; 32], [u8; 16])> {
    (any::<[u8; 32]>(), any::<[u8; 32]>(), any::<[u8; 16]>())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn random_chunkings_give_the_one_shot_result(
        plaintext in proptest::collection::vec(any::<u8>(), 0..3000),
        (key, hmac_key, iv) in keys(),
        cuts in proptest::collection::vec(any::<usize>(), 0..12),
    ) {
        let sealed = seal_media_with(&plaintext, key, hmac_key, iv);
        let metadata = &sealed.metadata;
        prop_assert_eq!(decrypt_media_content(&sealed.cdn_file, metadata), Ok(plaintext.clone()));
        let file_chunks = cut(&sealed.cdn_file, &cuts);
        prop_assert_eq!(stream(&file_chunks, metadata), Ok(plaintext.clone()));
        prop_assert_eq!(stream_into(&file_chunks, metadata), Ok(plaintext.clone()));
        prop_assert_eq!(split_stream(&file_chunks, metadata), Ok(plaintext.clone()));
        prop_assert_eq!(verify(&file_chunks, metadata), Ok(()));
        prop_assert_eq!(in_place(&sealed.cdn_file, metadata), Ok(plaintext.clone()));
        prop_assert_eq!(into(&sealed.cdn_file, metadata), Ok(plaintext.clone()));
        let mut short = vec![0; max_plaintext_len(sealed.cdn_file.len()).saturating_sub(1)];
        prop_assert!(matches!(
            decrypt_media_content_into(&sealed.cdn_file, metadata, &mut short),
            Err(Error::Malformed(_))
        ));
        // The metadata survives its JSON form.
        let again = MediaMetadata::from_json(metadata.to_json().as_bytes()).unwrap();
        prop_assert_eq!(decrypt_media_content(&sealed.cdn_file, &again), Ok(plaintext.clone()));
    }

    #[test]
    fn flipping_any_file_byte_fails_with_the_right_code(
        plaintext in proptest::collection::vec(any::<u8>(), 0..200),
        (key, hmac_key, iv) in keys(),
        at in any::<usize>(),
        mask in 1u8..,
        cuts in proptest::collection::vec(any::<usize>(), 0..6),
    ) {
        let sealed = seal_media_with(&plaintext, key, hmac_key, iv);
        let mut file = sealed.cdn_file.clone();
        let at = at % file.len();
        file[at] ^= mask;
        // The file hash catches it first...
        prop_assert_eq!(every_path(&file, &sealed.metadata), Err(Error::EncryptedHashMismatch));
        // ...and with the hash updated to match, the MAC does.
        let rehashed = rehashed(&sealed.metadata, &file);
        prop_assert_eq!(every_path(&file, &rehashed), Err(Error::HmacMismatch));
        let file_chunks = cut(&file, &cuts);
        prop_assert_eq!(stream(&file_chunks, &rehashed), Err(Error::HmacMismatch));
    }

    #[test]
    fn changing_any_metadata_field_fails_with_the_right_code(
        plaintext in proptest::collection::vec(any::<u8>(), 0..200),
        (key, hmac_key, iv) in keys(),
        field in 0usize..5,
        at in any::<usize>(),
        mask in 1u8..,
        cuts in proptest::collection::vec(any::<usize>(), 0..6),
    ) {
        let sealed = seal_media_with(&plaintext, key, hmac_key, iv);
        let metadata = with_field(&sealed.metadata, field, (at, mask));
        let result = every_path(&sealed.cdn_file, &metadata);
        let file_chunks = cut(&sealed.cdn_file, &cuts);
        prop_assert_eq!(&stream(&file_chunks, &metadata), &result);
        match field {
            0 => prop_assert!(matches!(result, Err(Error::Padding | Error::PlaintextHashMismatch))),
            1 | 2 => prop_assert_eq!(result, Err(Error::HmacMismatch)),
            3 => prop_assert_eq!(result, Err(Error::PlaintextHashMismatch)),
            _ => prop_assert_eq!(result, Err(Error::EncryptedHashMismatch)),
        }
    }

    #[test]
    fn wrong_lengths_are_malformed_before_any_hash(
        plaintext in proptest::collection::vec(any::<u8>(), 0..100),
        (key, hmac_key, iv) in keys(),
        new_len in 0usize..160,
    ) {
        let sealed = seal_media_with(&plaintext, key, hmac_key, iv);
        let mut file = sealed.cdn_file.clone();
        file.resize(new_len, 0x42);
        // Even with a matching file hash, a bad length is reported as malformed.
        let metadata = rehashed(&sealed.metadata, &file);
        let result = every_path(&file, &metadata);
        let bad_length = new_len < 26 || (new_len - 10) % 16 != 0;
        if bad_length {
            prop_assert!(matches!(result, Err(Error::Malformed(_))), "{:?}", result);
        } else {
            prop_assert!(!matches!(result, Err(Error::Malformed(_))));
        }
    }

    #[test]
    fn bad_padding_under_an_authentic_mac_is_padding(
        blocks in proptest::collection::vec(any::<[u8; 16]>(), 1..8),
        bad_pad in prop_oneof![Just(0u8), 17u8..],
        (key, hmac_key, iv) in keys(),
    ) {
        let mut raw: Vec<u8> = blocks.concat();
        *raw.last_mut().unwrap() = bad_pad;
        let sealed = seal_raw_blocks(&raw, key, hmac_key, iv);
        prop_assert_eq!(every_path(&sealed.cdn_file, &sealed.metadata), Err(Error::Padding));
    }

    #[test]
    fn garbage_never_panics_and_every_path_agrees(
        file in proptest::collection::vec(any::<u8>(), 0..300),
        (key, hmac_key, iv) in keys(),
        hashes in any::<([u8; 32], [u8; 32])>(),
        rehash in any::<bool>(),
    ) {
        let metadata = MediaMetadata::from_parts(key, hmac_key, iv, hashes.0, hashes.1);
        let metadata = if rehash { rehashed(&metadata, &file) } else { metadata };
        let result = every_path(&file, &metadata);
        prop_assert!(result.is_err());
    }
}

/// A deterministic plaintext generator (xorshift64*), so the 64 MiB file need not be kept
/// around to check the output.
struct Generator(u64);

impl Generator {
    fn fill(&mut self, out: &mut [u8]) {
        for word in out.chunks_mut(8) {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            let bytes = self.0.wrapping_mul(0x2545_f491_4f6c_dd1d).to_le_bytes();
            word.copy_from_slice(&bytes[..word.len()]);
        }
    }
}

#[test]
fn streams_64_mib_in_constant_memory() {
    const LEN: usize = 64 * 1024 * 1024 + 5;
    let mut expected_hash = Sha256::new();
    let sealed = {
        let mut plaintext = Vec::with_capacity(LEN);
        let mut generator = Generator(0x9e37_79b9_7f4a_7c15);
        let mut piece = vec![0u8; 1 << 20];
        while plaintext.len() < LEN {
            let n = piece.len().min(LEN - plaintext.len());
            generator.fill(&mut piece[..n]);
            expected_hash.update(&piece[..n]);
            plaintext.extend_from_slice(&piece[..n]);
        }
        seal_media_with(&plaintext, [7; 32], [8; 32], [9; 16])
        // The plaintext is dropped here: only the CDN file stays.
    };
    let expected_hash: [u8; 32] = expected_hash.finalize().into();
    assert_eq!(sealed.metadata.plaintext_hash(), &expected_hash);

    // Odd chunk size, output into one reused buffer, hashed and regenerated on the fly.
    const CHUNK: usize = 1_000_003;
    let mut decryptor = MediaDecryptor::new(&sealed.metadata);
    let mut buffer = vec![0u8; MediaDecryptor::max_update_output(CHUNK)];
    let mut check = vec![0u8; buffer.len()];
    let mut generator = Generator(0x9e37_79b9_7f4a_7c15);
    let mut output_hash = Sha256::new();
    let mut released = 0usize;
    for chunk in sealed.cdn_file.chunks(CHUNK) {
        let n = decryptor.update_into(chunk, &mut buffer).unwrap();
        output_hash.update(&buffer[..n]);
        // Compare against the generator in 8-byte-aligned steps (n is a multiple of 16).
        generator.fill(&mut check[..n]);
        assert!(
            buffer[..n] == check[..n],
            "plaintext differs near byte {released}"
        );
        released += n;
    }
    let mut last = [0u8; MediaDecryptor::MAX_FINISH_OUTPUT];
    let n = decryptor.finish_into(&mut last).unwrap();
    output_hash.update(&last[..n]);
    released += n;
    assert_eq!(released, LEN);
    let output_hash: [u8; 32] = output_hash.finalize().into();
    assert_eq!(output_hash, expected_hash);

    // The verifier agrees, and one flipped byte deep inside is caught by every reader.
    let mut verifier = MediaVerifier::new(&sealed.metadata);
    for chunk in sealed.cdn_file.chunks(CHUNK) {
        verifier.update(chunk);
    }
    verifier.finish().unwrap();

    let mut file = sealed.cdn_file;
    file[40 * 1024 * 1024 + 3] ^= 0x10;
    let mut decryptor = MediaDecryptor::new(&sealed.metadata);
    for chunk in file.chunks(CHUNK) {
        decryptor.update_into(chunk, &mut buffer).unwrap();
    }
    assert_eq!(
        decryptor.finish_into(&mut last),
        Err(Error::EncryptedHashMismatch)
    );
    assert_eq!(
        decrypt_media_content_in_place(&mut file, &sealed.metadata),
        Err(Error::EncryptedHashMismatch)
    );
}

#[test]
fn the_output_bound_is_the_file_less_its_mac_and_one_padding_byte() {
    for (file_len, bound) in [(0, 0), (5, 0), (11, 0), (12, 1), (26, 15), (42, 31)] {
        assert_eq!(max_plaintext_len(file_len), bound, "{file_len}");
    }
    // The bound is reached: 15 bytes pad to one block with a single padding byte.
    let sealed = seal_media(&[7; 15]).unwrap();
    assert_eq!(max_plaintext_len(sealed.cdn_file.len()), 15);
    let mut out = [0; 15];
    assert_eq!(
        decrypt_media_content_into(&sealed.cdn_file, &sealed.metadata, &mut out),
        Ok(15)
    );
    assert_eq!(out, [7; 15]);
}

//! The media pipeline: the core's `decrypt_media_content` (and the in-place form) against each
//! check computed with OpenSSL's primitives, in the protocol's order.
//!
//! The CDN file is built with OpenSSL from fuzzer-chosen keys, IV and plaintext:
//! AES-256-CBC with PKCS#7 padding, then the first 10 bytes of HMAC-SHA256(hmac_key, iv ‖
//! ciphertext); `plaintext_hash` and `encrypted_hash` are SHA-256 of the plaintext and of the
//! whole file. The metadata reaches the core as the `encryption_metadata` JSON (base64
//! fields), as in a flow request. Then up to four fuzzer-chosen changes to the file or to a
//! metadata field, and optionally the MAC and/or the file hash recomputed over the changed
//! file (so the later checks are reached with damaged data), or (mode 3) a fuzzer-chosen
//! ciphertext under a real MAC and hashes (so padding and the plaintext hash get arbitrary
//! blocks).
//!
//! OpenSSL's verdict, first failing check wins: the length rules (`malformed`), SHA-256 of the
//! file (`encrypted_hash_mismatch`), the truncated HMAC (`hmac_mismatch`), `EVP_DecryptFinal`'s
//! PKCS#7 padding check (`padding`), SHA-256 of the plaintext (`plaintext_hash_mismatch`).
//! The core must give the same error, or the same plaintext. No expected differences.

#![no_main]

#[path = "diff_common.rs"]
mod diff_common;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use diff_common::Input;
use openssl::hash::MessageDigest;
use openssl::pkey::PKey;
use openssl::sha::sha256;
use openssl::sign::Signer;
use openssl::symm::{Cipher, decrypt, encrypt};
use wa_flows_crypto::Error;
use wa_flows_crypto::media::{
    MediaMetadata, decrypt_media_content, decrypt_media_content_in_place,
};

const MAC_LEN: usize = 10;

struct Sealed {
    file: Vec<u8>,
    encryption_key: [u8; 32],
    hmac_key: [u8; 32],
    iv: [u8; 16],
    plaintext_hash: [u8; 32],
    encrypted_hash: [u8; 32],
}

fn hmac(key: &[u8; 32], iv: &[u8; 16], ciphertext: &[u8]) -> [u8; 32] {
    let key = PKey::hmac(key).unwrap();
    let mut signer = Signer::new(MessageDigest::sha256(), &key).unwrap();
    signer.update(iv).unwrap();
    signer.update(ciphertext).unwrap();
    signer.sign_to_vec().unwrap().try_into().unwrap()
}

fn seal_mac(sealed: &mut Sealed, ciphertext_len: usize) {
    let ciphertext_len = ciphertext_len.min(sealed.file.len());
    let mac = hmac(&sealed.hmac_key, &sealed.iv, &sealed.file[..ciphertext_len]);
    sealed.file.truncate(ciphertext_len);
    sealed.file.extend_from_slice(&mac[..MAC_LEN]);
}

/// OpenSSL's answer, check by check in the protocol's order.
fn openssl_verdict(sealed: &Sealed) -> Result<Vec<u8>, Error> {
    let file = &sealed.file;
    let ciphertext_len = match file.len().checked_sub(MAC_LEN) {
        None => {
            return Err(Error::Malformed(
                "the media file is shorter than its 10-byte HMAC",
            ));
        }
        Some(0) => {
            return Err(Error::Malformed(
                "the media file holds no ciphertext before its HMAC",
            ));
        }
        Some(n) if n % 16 != 0 => {
            return Err(Error::Malformed(
                "the media ciphertext is not a whole number of 16-byte AES blocks",
            ));
        }
        Some(n) => n,
    };
    let (ciphertext, tag) = file.split_at(ciphertext_len);
    if sha256(file) != sealed.encrypted_hash {
        return Err(Error::EncryptedHashMismatch);
    }
    if hmac(&sealed.hmac_key, &sealed.iv, ciphertext)[..MAC_LEN] != *tag {
        return Err(Error::HmacMismatch);
    }
    let plaintext = decrypt(
        Cipher::aes_256_cbc(),
        &sealed.encryption_key,
        Some(&sealed.iv),
        ciphertext,
    )
    .map_err(|_| Error::Padding)?;
    if sha256(&plaintext) != sealed.plaintext_hash {
        return Err(Error::PlaintextHashMismatch);
    }
    Ok(plaintext)
}

fn metadata_json(sealed: &Sealed) -> String {
    serde_json::json!({
        "encryption_key": STANDARD.encode(sealed.encryption_key),
        "hmac_key": STANDARD.encode(sealed.hmac_key),
        "iv": STANDARD.encode(sealed.iv),
        "plaintext_hash": STANDARD.encode(sealed.plaintext_hash),
        "encrypted_hash": STANDARD.encode(sealed.encrypted_hash),
    })
    .to_string()
}

fn compare(sealed: &Sealed) {
    let metadata = MediaMetadata::from_json(metadata_json(sealed).as_bytes()).unwrap();
    assert_eq!(metadata.encryption_key(), &sealed.encryption_key);
    assert_eq!(metadata.hmac_key(), &sealed.hmac_key);
    assert_eq!(metadata.iv(), &sealed.iv);
    assert_eq!(metadata.plaintext_hash(), &sealed.plaintext_hash);
    assert_eq!(metadata.encrypted_hash(), &sealed.encrypted_hash);
    let expected = openssl_verdict(sealed);
    let got = decrypt_media_content(&sealed.file, &metadata);
    assert_eq!(got, expected, "one-shot");
    let mut buffer = sealed.file.clone();
    let in_place =
        decrypt_media_content_in_place(&mut buffer, &metadata).map(|n| buffer[..n].to_vec());
    assert_eq!(in_place, expected, "in place");
}

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let mut input = Input(data);
    let mode = input.byte();
    let encryption_key: [u8; 32] = input.array();
    let hmac_key: [u8; 32] = input.array();
    let iv: [u8; 16] = input.array();
    let changes: Vec<[u8; 4]> = (0..input.byte() % 5).map(|_| input.array()).collect();
    let raw = input.rest();

    let mut sealed = if mode % 4 == 3 {
        // Arbitrary ciphertext (cut to whole blocks) under a real MAC and file hash; the
        // plaintext hash is OpenSSL's, when its padding check passes.
        let blocks = (raw.len() / 16).max(1);
        let mut file = raw.get(..blocks * 16).unwrap_or_default().to_vec();
        file.resize(blocks * 16, 0);
        let plaintext_hash = decrypt(Cipher::aes_256_cbc(), &encryption_key, Some(&iv), &file)
            .map(|p| sha256(&p))
            .unwrap_or([0; 32]);
        let mut sealed = Sealed {
            file,
            encryption_key,
            hmac_key,
            iv,
            plaintext_hash,
            encrypted_hash: [0; 32],
        };
        seal_mac(&mut sealed, blocks * 16);
        sealed.encrypted_hash = sha256(&sealed.file);
        sealed
    } else {
        let ciphertext = encrypt(Cipher::aes_256_cbc(), &encryption_key, Some(&iv), raw).unwrap();
        assert_eq!(ciphertext.len(), (raw.len() / 16 + 1) * 16);
        let mut sealed = Sealed {
            file: ciphertext,
            encryption_key,
            hmac_key,
            iv,
            plaintext_hash: sha256(raw),
            encrypted_hash: [0; 32],
        };
        seal_mac(&mut sealed, raw.len() / 16 * 16 + 16);
        sealed.encrypted_hash = sha256(&sealed.file);
        sealed
    };

    for [kind, high, low, value] in changes {
        let at = usize::from(high) << 8 | usize::from(low);
        let value = value | 1;
        let file = &mut sealed.file;
        match kind % 9 {
            0 if !file.is_empty() => {
                let at = at % file.len();
                file[at] ^= value;
            }
            1 => file.truncate(at % (file.len() + 1)),
            2 => file.insert(at % (file.len() + 1), value),
            3 => sealed.encryption_key[at % 32] ^= value,
            4 => sealed.hmac_key[at % 32] ^= value,
            5 => sealed.iv[at % 16] ^= value,
            6 => sealed.plaintext_hash[at % 32] ^= value,
            7 => sealed.encrypted_hash[at % 32] ^= value,
            _ => {}
        }
    }
    // Re-authenticate the changed file (mode bit 2) and/or re-hash it (bit 3), so that a
    // change reaches the MAC, padding and plaintext-hash checks.
    if mode & 4 != 0 && sealed.file.len() > MAC_LEN {
        let ciphertext_len = sealed.file.len() - MAC_LEN;
        seal_mac(&mut sealed, ciphertext_len);
    }
    if mode & 8 != 0 {
        sealed.encrypted_hash = sha256(&sealed.file);
    }
    compare(&sealed);
});

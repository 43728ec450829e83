//! RSA-OAEP-SHA256 (MGF1-SHA256, empty label) unwrap: the core's `unwrap_aes_key`, in both
//! engines, against OpenSSL's `EVP_PKEY_decrypt` with the same 2048-bit key.
//!
//! Modes (first byte % 4):
//! - 0: fuzzer-chosen ciphertext;
//! - 1: a fuzzer-chosen message of 0..=190 bytes, encrypted by OpenSSL;
//! - 2: the same, then one fuzzer-chosen change to the ciphertext (flip, cut, insert);
//! - 3: a hand-built OAEP encoding with fuzzer-chosen seed, message and damage (the leading
//!   byte, the label hash, the zero padding, the 0x01 separator), raw-RSA-encrypted by
//!   OpenSSL: this is what reaches every branch of the padding check.
//!
//! Rule: the core succeeds iff OpenSSL decrypts and the message is 16 bytes, with the same
//! bytes; an OpenSSL success of another length is the core's `malformed` (the AES key must be
//! 16 bytes), every OpenSSL failure is the core's `key_unwrap`.
//!
//! One expected difference: OpenSSL reads a ciphertext shorter than the modulus as a number
//! with leading zeros; the core (like aws-lc and BoringSSL) requires exactly 256 bytes. That
//! case must fail in the core as `key_unwrap`, and the ciphertext left-padded to 256 bytes must
//! then give both sides the same answer again.

#![no_main]

#[path = "diff_common.rs"]
mod diff_common;

use diff_common::{Input, core_keys, openssl_key};
use openssl::md::Md;
use openssl::pkey_ctx::PkeyCtx;
use openssl::rsa::Padding;
use wa_flows_crypto::{Error, unwrap_aes_key};

const MODULUS_LEN: usize = 256;
const HASH_LEN: usize = 32;
const MAX_MESSAGE: usize = MODULUS_LEN - 2 * HASH_LEN - 2;

fn openssl_ctx(encrypt: bool) -> PkeyCtx<openssl::pkey::Private> {
    let mut ctx = PkeyCtx::new(openssl_key()).unwrap();
    if encrypt {
        ctx.encrypt_init().unwrap();
    } else {
        ctx.decrypt_init().unwrap();
    }
    ctx.set_rsa_padding(Padding::PKCS1_OAEP).unwrap();
    ctx.set_rsa_oaep_md(Md::sha256()).unwrap();
    ctx.set_rsa_mgf1_md(Md::sha256()).unwrap();
    ctx
}

fn openssl_decrypt(ciphertext: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    openssl_ctx(false)
        .decrypt_to_vec(ciphertext, &mut out)
        .ok()
        .map(|_| out)
}

fn openssl_encrypt(message: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    openssl_ctx(true).encrypt_to_vec(message, &mut out).unwrap();
    assert_eq!(out.len(), MODULUS_LEN);
    out
}

fn mgf1(seed: &[u8], len: usize) -> Vec<u8> {
    let mut mask = Vec::with_capacity(len + HASH_LEN);
    let mut counter = 0u32;
    while mask.len() < len {
        let mut hasher = openssl::sha::Sha256::new();
        hasher.update(seed);
        hasher.update(&counter.to_be_bytes());
        mask.extend_from_slice(&hasher.finish());
        counter += 1;
    }
    mask.truncate(len);
    mask
}

/// RFC 8017 EME-OAEP encoding of `message` with `seed`, then the fuzzer's damage.
fn oaep_encoding(input: &mut Input<'_>) -> Vec<u8> {
    let damage = input.byte();
    let seed: [u8; HASH_LEN] = input.array();
    let at = input.u16();
    let value = input.byte() | 1;
    let message_len = usize::from(input.byte()) % (MAX_MESSAGE + 1);
    let message = input.bytes(message_len);
    let db_len = MODULUS_LEN - HASH_LEN - 1;
    let mut db = Vec::with_capacity(db_len);
    db.extend_from_slice(&openssl::sha::sha256(b""));
    db.resize(db_len - message.len() - 1, 0);
    db.push(1);
    db.extend_from_slice(message);
    let separator = db_len - message.len() - 1;
    match damage % 8 {
        // The label hash.
        1 => db[at % HASH_LEN] ^= value,
        // The zero padding, or the separator itself.
        2 => {
            let span = separator + 1 - HASH_LEN;
            db[HASH_LEN + at % span] ^= value;
        }
        // The separator made zero: the padding then runs into the message.
        3 => db[separator] = 0,
        // Anywhere in the data block.
        4 => db[at % db_len] ^= value,
        _ => {}
    }
    let db_mask = mgf1(&seed, db_len);
    let masked_db: Vec<u8> = db.iter().zip(&db_mask).map(|(a, b)| a ^ b).collect();
    let seed_mask = mgf1(&masked_db, HASH_LEN);
    let mut encoded = Vec::with_capacity(MODULUS_LEN);
    // The leading byte must be zero; a small non-zero one keeps the number below n.
    encoded.push(if damage % 8 == 5 { value & 0x3f } else { 0 });
    encoded.extend(seed.iter().zip(&seed_mask).map(|(a, b)| a ^ b));
    encoded.extend_from_slice(&masked_db);
    if damage % 8 == 6 {
        // Damage in the masked seed.
        encoded[1 + at % HASH_LEN] ^= value;
    }
    encoded
}

/// Raw RSA with the public key: `encoded` must be below the modulus.
fn raw_encrypt(encoded: &[u8]) -> Option<Vec<u8>> {
    let rsa = openssl_key().rsa().unwrap();
    let mut out = vec![0; MODULUS_LEN];
    let n = rsa.public_encrypt(encoded, &mut out, Padding::NONE).ok()?;
    assert_eq!(n, MODULUS_LEN);
    Some(out)
}

/// Both engines against OpenSSL on one ciphertext.
fn compare(ciphertext: &[u8]) {
    let expected = openssl_decrypt(ciphertext);
    if ciphertext.len() < MODULUS_LEN && expected.is_some() {
        // The one expected difference: see the top of the file.
        for (engine, key) in core_keys() {
            assert_eq!(
                unwrap_aes_key(ciphertext, key).map(|k| *k.as_bytes()),
                Err(Error::KeyUnwrap),
                "{engine:?} on a {}-byte ciphertext",
                ciphertext.len()
            );
        }
        let mut padded = vec![0; MODULUS_LEN - ciphertext.len()];
        padded.extend_from_slice(ciphertext);
        assert_eq!(openssl_decrypt(&padded), expected);
        return compare(&padded);
    }
    for (engine, key) in core_keys() {
        let got = unwrap_aes_key(ciphertext, key);
        match &expected {
            Some(message) if message.len() == 16 => {
                let got = got.unwrap_or_else(|e| panic!("{engine:?}: OpenSSL decrypts, {e:?}"));
                assert_eq!(got.as_bytes().as_slice(), message.as_slice(), "{engine:?}");
            }
            Some(message) => {
                let error = got.map(|_| ()).unwrap_err();
                assert_eq!(
                    error,
                    Error::Malformed(
                        "the unwrapped AES key is not 16 bytes; WhatsApp uses AES-128"
                    ),
                    "{engine:?} on a {}-byte message",
                    message.len()
                );
            }
            None => assert_eq!(
                got.map(|_| ()),
                Err(Error::KeyUnwrap),
                "{engine:?}: OpenSSL refuses this ciphertext"
            ),
        }
    }
}

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let mut input = Input(data);
    match input.byte() % 4 {
        0 => compare(input.rest()),
        mode @ (1 | 2) => {
            let change = input.byte();
            let at = input.u16();
            let value = input.byte();
            let message = input.bytes(MAX_MESSAGE);
            let mut ciphertext = openssl_encrypt(message);
            assert_eq!(openssl_decrypt(&ciphertext).as_deref(), Some(message));
            if mode == 2 {
                match change % 4 {
                    0 => ciphertext[at % MODULUS_LEN] ^= value | 1,
                    1 => ciphertext.truncate(at % MODULUS_LEN),
                    2 => ciphertext.insert(at % (MODULUS_LEN + 1), value),
                    // Leading zero bytes dropped: the short form OpenSSL still reads.
                    _ => {
                        let zeros = ciphertext.iter().take_while(|&&b| b == 0).count();
                        ciphertext.drain(..zeros.max(usize::from(value % 2)));
                    }
                }
            }
            compare(&ciphertext);
        }
        _ => {
            let encoded = oaep_encoding(&mut input);
            if let Some(ciphertext) = raw_encrypt(&encoded) {
                compare(&ciphertext);
            }
        }
    }
});

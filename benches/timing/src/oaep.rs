//! RSA-OAEP (SHA-256, MGF1-SHA-256, empty label) blocks built by hand, so that each class of
//! bad ciphertext is wrong in exactly one place and everything else about it is valid.

use dudect_bencher::BenchRng;
use dudect_bencher::rand::Rng;
use rsa::traits::PublicKeyParts;
use rsa::{BoxedUint, RsaPublicKey};
use sha2::{Digest, Sha256};

const MODULUS_LEN: usize = 256;
const HASH_LEN: usize = 32;
const AES_KEY_LEN: usize = 16;

/// What is wrong with a ciphertext.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Flaw {
    /// Nothing: the block decodes to a 16-byte AES key.
    None,
    /// The encoded message's first byte (which must be 0) is 1..=0x7f.
    FirstByte,
    /// The label hash inside the block is SHA-256 of a label other than the empty one.
    LabelHash,
    /// A valid block, encrypted to another key (and below this key's modulus).
    WrongKey,
    /// Uniformly random bytes below the modulus.
    Random,
}

/// MGF1 with SHA-256 (RFC 8017, B.2.1).
fn mgf1(seed: &[u8], len: usize) -> Vec<u8> {
    let mut mask = Vec::with_capacity(len + HASH_LEN);
    for counter in 0u32.. {
        if mask.len() >= len {
            break;
        }
        let mut hash = Sha256::new();
        hash.update(seed);
        hash.update(counter.to_be_bytes());
        mask.extend_from_slice(&hash.finalize());
    }
    mask.truncate(len);
    mask
}

/// EME-OAEP encoding (RFC 8017, 7.1.1 step 2) of `message` with `first` as the leading byte
/// and `label_hash` in the data block.
fn encode(rng: &mut BenchRng, message: &[u8], label_hash: &[u8], first: u8) -> Vec<u8> {
    let db_len = MODULUS_LEN - HASH_LEN - 1;
    let mut db = Vec::with_capacity(db_len);
    db.extend_from_slice(label_hash);
    db.resize(db_len - message.len() - 1, 0);
    db.push(1);
    db.extend_from_slice(message);
    let mut seed = [0u8; HASH_LEN];
    rng.fill_bytes(&mut seed);
    for (byte, mask) in db.iter_mut().zip(mgf1(&seed, db_len)) {
        *byte ^= mask;
    }
    for (byte, mask) in seed.iter_mut().zip(mgf1(&db, HASH_LEN)) {
        *byte ^= mask;
    }
    let mut block = Vec::with_capacity(MODULUS_LEN);
    block.push(first);
    block.extend_from_slice(&seed);
    block.extend_from_slice(&db);
    block
}

/// The textbook RSA encryption of `block` (already below the modulus).
fn raw_encrypt(public: &RsaPublicKey, block: &[u8]) -> Option<Vec<u8>> {
    let precision = u32::try_from(MODULUS_LEN * 8).ok()?;
    let m = BoxedUint::from_be_slice(block, precision).ok()?;
    let c = rsa::hazmat::rsa_encrypt(public, &m).ok()?;
    Some(c.to_be_bytes().into_vec())
}

fn below_modulus(public: &RsaPublicKey, bytes: &[u8]) -> bool {
    let n = public.n().to_be_bytes();
    bytes.len() == n.len() && bytes < &n[..]
}

/// A ciphertext for `public` with `flaw`; for [`Flaw::WrongKey`], made for `other` instead.
pub(crate) fn ciphertext(
    rng: &mut BenchRng,
    public: &RsaPublicKey,
    other: &RsaPublicKey,
    flaw: Flaw,
) -> Option<Vec<u8>> {
    let mut message = [0u8; AES_KEY_LEN];
    rng.fill_bytes(&mut message);
    let empty_label_hash = Sha256::digest(b"");
    loop {
        let candidate = match flaw {
            Flaw::None => raw_encrypt(public, &encode(rng, &message, &empty_label_hash, 0)),
            Flaw::FirstByte => {
                let first = rng.next_u32().to_le_bytes()[0] % 0x7f + 1;
                raw_encrypt(public, &encode(rng, &message, &empty_label_hash, first))
            }
            Flaw::LabelHash => {
                let other_label_hash = Sha256::digest(b"not the empty label");
                raw_encrypt(public, &encode(rng, &message, &other_label_hash, 0))
            }
            Flaw::WrongKey => raw_encrypt(other, &encode(rng, &message, &empty_label_hash, 0)),
            Flaw::Random => {
                let mut bytes = vec![0u8; MODULUS_LEN];
                rng.fill_bytes(&mut bytes);
                Some(bytes)
            }
        }?;
        // Above the modulus the unwrap refuses on public data alone; such inputs are not in
        // question here, so they are drawn again.
        if below_modulus(public, &candidate) {
            return Some(candidate);
        }
    }
}

/// Distinct ciphertexts per class.
const POOL: usize = 2048;

const KEY_PEM: &str = include_str!("../../../tests/vectors/keys/rsa2048_pkcs8.pem");
const OTHER_KEY_PEM: &str = include_str!("../../../tests/vectors/keys/rsa2048_other.pem");

fn public_of(key: &wa_flows_crypto::FlowPrivateKey) -> RsaPublicKey {
    use rsa::pkcs8::DecodePublicKey as _;
    RsaPublicKey::from_public_key_der(key.public_key_der()).expect("the key's public half")
}

/// Valid ciphertexts against ciphertexts with `flaw`, unwrapped by `engine`.
pub(crate) fn bench(
    runner: &mut dudect_bencher::CtRunner,
    rng: &mut BenchRng,
    engine: wa_flows_crypto::RsaEngine,
    flaw: Flaw,
) {
    use wa_flows_crypto::{FlowPrivateKey, unwrap_aes_key};
    let key = FlowPrivateKey::from_pem(KEY_PEM, None)
        .and_then(|key| key.with_engine(engine))
        .expect("the test key in this engine");
    let other = FlowPrivateKey::from_pem(OTHER_KEY_PEM, None).expect("the other test key");
    let (public, other_public) = (public_of(&key), public_of(&other));
    // Raw RSA encryption here costs about as much as the unwrap under test, so ciphertexts
    // come from a pool per class; each batch copies its inputs out of them afresh, so both
    // classes are still timed from the same kind of fresh memory (see `measure`).
    let mut pool = |flaw| -> Vec<Vec<u8>> {
        (0..POOL)
            .map(|_| ciphertext(rng, &public, &other_public, flaw).expect("a ciphertext"))
            .collect()
    };
    let (valid, flawed) = (pool(Flaw::None), pool(flaw));
    let per_class = super::samples_per_class("WFC_TIMING_RSA_SAMPLES");
    super::measure(
        runner,
        rng,
        per_class,
        |rng, class| {
            let pool = match class {
                dudect_bencher::Class::Left => &valid,
                dudect_bencher::Class::Right => &flawed,
            };
            let index = usize::try_from(rng.next_u64() % POOL as u64).unwrap_or_default();
            pool.get(index).cloned().unwrap_or_default()
        },
        |class| match class {
            dudect_bencher::Class::Left => Ok(()),
            dudect_bencher::Class::Right => Err("key_unwrap"),
        },
        |ciphertext| unwrap_aes_key(ciphertext, &key),
    );
}

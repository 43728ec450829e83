//! WhatsApp's side of media uploads: encrypting a file the way the CDN serves it.

use core::fmt;

use aes::Aes256;
use aes::cipher::array::Array;
use aes::cipher::{BlockModeEncrypt, KeyIvInit};
use hmac::Mac;
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use crate::error::{Error, Result};
use crate::media::{MediaMetadata, new_mac};

/// An encrypted media file as WhatsApp uploads it, with the metadata it sends to the endpoint.
#[derive(Clone)]
pub struct SealedMedia {
    /// The CDN file: AES-256-CBC ciphertext followed by the 10-byte truncated HMAC-SHA256.
    pub cdn_file: Vec<u8>,
    /// The `encryption_metadata` (see [`MediaMetadata::to_json`] for its JSON form).
    pub metadata: MediaMetadata,
}

impl fmt::Debug for SealedMedia {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SealedMedia")
            .field("cdn_file_len", &self.cdn_file.len())
            .field("metadata", &self.metadata)
            .finish()
    }
}

/// Encrypts `plaintext` as WhatsApp does for a PhotoPicker / DocumentPicker upload, with fresh
/// random keys and IV from the operating system.
///
/// # Errors
/// [`Error::Malformed`] if the operating system's random number generator fails (there is no
/// better-fitting code; it does not happen on supported systems).
///
/// # Example
/// ```
/// use wa_flows_crypto::client;
/// use wa_flows_crypto::media::decrypt_media_content;
///
/// let sealed = client::seal_media(b"hello")?;
/// let metadata_json = sealed.metadata.to_json(); // what the flow request carries
/// # let _ = metadata_json;
/// assert_eq!(decrypt_media_content(&sealed.cdn_file, &sealed.metadata)?, b"hello");
/// # Ok::<(), wa_flows_crypto::Error>(())
/// ```
pub fn seal_media(plaintext: &[u8]) -> Result<SealedMedia> {
    // One buffer for all the secrets, wiped when done.
    let mut random = Zeroizing::new([0u8; 32 + 32 + 16]);
    getrandom::fill(&mut *random)
        .map_err(|_| Error::Malformed("the operating system random number generator failed"))?;
    let (encryption_key, rest) = random.split_first_chunk::<32>().ok_or(RNG_LAYOUT)?;
    let (hmac_key, rest) = rest.split_first_chunk::<32>().ok_or(RNG_LAYOUT)?;
    let iv = rest.first_chunk::<16>().ok_or(RNG_LAYOUT)?;
    Ok(seal_media_with(plaintext, *encryption_key, *hmac_key, *iv))
}

const RNG_LAYOUT: Error = Error::Malformed("the random key material has the wrong length");

/// Encrypts `plaintext` with the given keys and IV: deterministic, for tests and vectors.
///
/// Never reuse keys or an IV for real uploads; use [`seal_media`].
///
/// # Example
/// ```
/// use wa_flows_crypto::client;
///
/// let sealed = client::seal_media_with(b"0123456789abcdef", [1; 32], [2; 32], [3; 16]);
/// // 16 bytes of plaintext + a full block of padding + the 10-byte MAC.
/// assert_eq!(sealed.cdn_file.len(), 16 + 16 + 10);
/// ```
pub fn seal_media_with(
    plaintext: &[u8],
    encryption_key: [u8; 32],
    hmac_key: [u8; 32],
    iv: [u8; 16],
) -> SealedMedia {
    const BLOCK: usize = 16;
    let padding = BLOCK - plaintext.len() % BLOCK;
    let padded_len = plaintext.len() + padding;
    let mut cdn_file = Vec::with_capacity(padded_len + 10);
    cdn_file.extend_from_slice(plaintext);
    cdn_file.resize(padded_len, u8::try_from(padding).unwrap_or(0));

    let mut cipher = cbc::Encryptor::<Aes256>::new(
        Array::cast_from_core(&encryption_key),
        Array::cast_from_core(&iv),
    );
    let (blocks, _none) = Array::slice_as_chunks_mut(&mut cdn_file);
    cipher.encrypt_blocks(blocks);

    let mut mac = new_mac(&hmac_key);
    Mac::update(&mut mac, &iv);
    Mac::update(&mut mac, &cdn_file);
    let tag = mac.finalize().into_bytes();
    cdn_file.extend(tag.iter().take(10));

    let plaintext_hash: [u8; 32] = Sha256::digest(plaintext).into();
    let encrypted_hash: [u8; 32] = Sha256::digest(&cdn_file).into();
    SealedMedia {
        cdn_file,
        metadata: MediaMetadata::from_parts(
            encryption_key,
            hmac_key,
            iv,
            plaintext_hash,
            encrypted_hash,
        ),
    }
}

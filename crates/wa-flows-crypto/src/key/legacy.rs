//! OpenSSL's pre-PKCS#8 encrypted PEM (`Proc-Type: 4,ENCRYPTED` + `DEK-Info`).
//!
//! OpenSSL 1.x `genrsa -des3` and Meta's own key generator write this. The key is derived with
//! `EVP_BytesToKey` (MD5, one iteration, the first 8 bytes of the IV as salt) and the DER is
//! encrypted with CBC and PKCS#7 padding.

use aes::cipher::{BlockModeDecrypt, KeyIvInit, block_padding::Pkcs7};
use md5::{Digest, Md5};
use zeroize::Zeroizing;

use super::pem::PemBlock;
use crate::encoding::decode_hex;
use crate::error::KeyError;

/// The ciphers OpenSSL writes in `DEK-Info`.
#[derive(Clone, Copy)]
enum DekCipher {
    DesEde3,
    Aes128,
    Aes192,
    Aes256,
}

impl DekCipher {
    fn from_name(name: &str) -> Option<Self> {
        match name.to_ascii_uppercase().as_str() {
            "DES-EDE3-CBC" => Some(Self::DesEde3),
            "AES-128-CBC" => Some(Self::Aes128),
            "AES-192-CBC" => Some(Self::Aes192),
            "AES-256-CBC" => Some(Self::Aes256),
            _ => None,
        }
    }

    const fn key_len(self) -> usize {
        match self {
            Self::DesEde3 | Self::Aes192 => 24,
            Self::Aes128 => 16,
            Self::Aes256 => 32,
        }
    }

    const fn iv_len(self) -> usize {
        match self {
            Self::DesEde3 => 8,
            _ => 16,
        }
    }
}

/// Whether the block carries the legacy encryption headers.
pub(crate) fn is_encrypted(block: &PemBlock) -> bool {
    block
        .header("Proc-Type")
        .is_some_and(|value| value.to_ascii_uppercase().ends_with("ENCRYPTED"))
}

/// Decrypts a legacy encrypted block into the PKCS#1 DER it protects.
pub(crate) fn decrypt(block: &PemBlock, passphrase: &[u8]) -> Result<Zeroizing<Vec<u8>>, KeyError> {
    let dek_info = block.header("DEK-Info").ok_or(KeyError::Corrupt(
        "the key says Proc-Type: 4,ENCRYPTED but has no DEK-Info header",
    ))?;
    let (cipher_name, iv_hex) = dek_info
        .split_once(',')
        .ok_or(KeyError::Corrupt("the DEK-Info header is not `CIPHER,IV`"))?;
    let cipher =
        DekCipher::from_name(cipher_name.trim()).ok_or(KeyError::UnsupportedEncryption(
            "a legacy PEM cipher other than DES-EDE3-CBC or AES-128/192/256-CBC",
        ))?;
    let iv = decode_hex(iv_hex.trim())
        .filter(|iv| iv.len() == cipher.iv_len())
        .ok_or(KeyError::Corrupt(
            "the DEK-Info IV is not hexadecimal of the cipher's block size",
        ))?;
    let salt = iv
        .get(..8)
        .ok_or(KeyError::Corrupt("the DEK-Info IV is too short"))?;
    let key = evp_bytes_to_key(passphrase, salt, cipher.key_len());

    let mut buffer = Zeroizing::new(block.der.to_vec());
    let plaintext_len = match cipher {
        DekCipher::DesEde3 => cbc_decrypt::<des::TdesEde3>(&key, &iv, &mut buffer),
        DekCipher::Aes128 => cbc_decrypt::<aes::Aes128>(&key, &iv, &mut buffer),
        DekCipher::Aes192 => cbc_decrypt::<aes::Aes192>(&key, &iv, &mut buffer),
        DekCipher::Aes256 => cbc_decrypt::<aes::Aes256>(&key, &iv, &mut buffer),
    }
    // A wrong passphrase almost always breaks the padding; when it does not, the DER check
    // that follows catches it.
    .ok_or(KeyError::WrongPassphrase)?;
    buffer.truncate(plaintext_len);
    Ok(buffer)
}

fn cbc_decrypt<C>(key: &[u8], iv: &[u8], buffer: &mut [u8]) -> Option<usize>
where
    C: aes::cipher::BlockCipherDecrypt + aes::cipher::KeyInit,
    cbc::Decryptor<C>: KeyIvInit,
{
    let decryptor = cbc::Decryptor::<C>::new_from_slices(key, iv).ok()?;
    decryptor
        .decrypt_padded::<Pkcs7>(buffer)
        .ok()
        .map(<[u8]>::len)
}

/// OpenSSL's `EVP_BytesToKey` with MD5 and one iteration.
fn evp_bytes_to_key(passphrase: &[u8], salt: &[u8], key_len: usize) -> Zeroizing<Vec<u8>> {
    let mut key = Zeroizing::new(Vec::with_capacity(key_len + 16));
    let mut previous: Option<Zeroizing<[u8; 16]>> = None;
    while key.len() < key_len {
        let mut md5 = Md5::new();
        if let Some(previous) = &previous {
            md5.update(previous.as_slice());
        }
        md5.update(passphrase);
        md5.update(salt);
        let digest = Zeroizing::new(<[u8; 16]>::from(md5.finalize()));
        key.extend_from_slice(digest.as_slice());
        previous = Some(digest);
    }
    key.truncate(key_len);
    key
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn evp_bytes_to_key_matches_openssl() {
        // openssl enc -aes-256-cbc -P -md md5 -pass pass:password -S 0001020304050607
        let key = evp_bytes_to_key(b"password", &[0, 1, 2, 3, 4, 5, 6, 7], 32);
        assert_eq!(
            hex::encode(&*key),
            "b03096345e805d3aa4392d2e72791dfb13e12d3f61094a3fc347ace86b99ada6"
        );
        let key = evp_bytes_to_key(b"password", &[0, 1, 2, 3, 4, 5, 6, 7], 24);
        assert_eq!(
            hex::encode(&*key),
            "b03096345e805d3aa4392d2e72791dfb13e12d3f61094a3f"
        );
    }
}

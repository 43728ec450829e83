//! `encryption_metadata`: the keys and hashes that come with each uploaded file.

use core::fmt;

use serde_json::Value;
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

use crate::encoding::{decode_base64_array, encode_base64, encode_hex};
use crate::error::{Error, Result};

/// The `encryption_metadata` of one PhotoPicker / DocumentPicker file: the keys to decrypt it
/// and the hashes that prove it is complete and authentic.
///
/// In a flow request each uploaded file arrives as
///
/// ```json
/// {
///   "file_name": "IMG_5237.jpg",
///   "media_id": "…",
///   "cdn_url": "https://…",
///   "encryption_metadata": {
///     "encryption_key": "…", "hmac_key": "…", "iv": "…",
///     "plaintext_hash": "…", "encrypted_hash": "…"
///   }
/// }
/// ```
///
/// Build a `MediaMetadata` from the `encryption_metadata` object (with [`from_json`] or
/// [`from_json_value`]), download `cdn_url`, and give both to
/// [`decrypt_media_content`](super::decrypt_media_content).
///
/// The keys are wiped from memory when the value is dropped, and `Debug` never prints them.
///
/// [`from_json`]: MediaMetadata::from_json
/// [`from_json_value`]: MediaMetadata::from_json_value
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct MediaMetadata {
    encryption_key: [u8; 32],
    hmac_key: [u8; 32],
    iv: [u8; 16],
    plaintext_hash: [u8; 32],
    encrypted_hash: [u8; 32],
}

/// One base64 field of `encryption_metadata` and the errors that name it.
struct Field {
    name: &'static str,
    missing: &'static str,
    invalid: &'static str,
}

const ENCRYPTION_KEY: Field = Field {
    name: "encryption_key",
    missing: "encryption_metadata.encryption_key is missing or not a string",
    invalid: "encryption_metadata.encryption_key is not 32 bytes of standard base64",
};
const HMAC_KEY: Field = Field {
    name: "hmac_key",
    missing: "encryption_metadata.hmac_key is missing or not a string",
    invalid: "encryption_metadata.hmac_key is not 32 bytes of standard base64",
};
const IV: Field = Field {
    name: "iv",
    missing: "encryption_metadata.iv is missing or not a string",
    invalid: "encryption_metadata.iv is not 16 bytes of standard base64",
};
const PLAINTEXT_HASH: Field = Field {
    name: "plaintext_hash",
    missing: "encryption_metadata.plaintext_hash is missing or not a string",
    invalid: "encryption_metadata.plaintext_hash is not 32 bytes of standard base64",
};
const ENCRYPTED_HASH: Field = Field {
    name: "encrypted_hash",
    missing: "encryption_metadata.encrypted_hash is missing or not a string",
    invalid: "encryption_metadata.encrypted_hash is not 32 bytes of standard base64",
};

/// Wipes every string of a parsed JSON document when dropped (the keys' base64 is in there).
struct WipedOnDrop(Value);

impl Drop for WipedOnDrop {
    fn drop(&mut self) {
        wipe_strings(&mut self.0);
    }
}

/// Zeroes and empties every string in `value`, however deeply nested.
fn wipe_strings(value: &mut Value) {
    match value {
        Value::String(text) => text.zeroize(),
        Value::Array(items) => items.iter_mut().for_each(wipe_strings),
        Value::Object(map) => map.values_mut().for_each(wipe_strings),
        Value::Null | Value::Bool(_) | Value::Number(_) => {}
    }
}

impl MediaMetadata {
    /// Reads the `encryption_metadata` JSON object exactly as it arrives in the flow request.
    ///
    /// Fields other than the five below are ignored. Each of `encryption_key`, `hmac_key`
    /// (32 bytes), `iv` (16 bytes), `plaintext_hash` and `encrypted_hash` (32 bytes) must be a
    /// standard-alphabet base64 string of exactly that length.
    ///
    /// # Errors
    /// [`Error::Malformed`] naming the field, if the text is not a JSON object, a field is
    /// missing or not a string, or is not base64 of the right length.
    ///
    /// # Example
    /// ```
    /// use wa_flows_crypto::media::MediaMetadata;
    ///
    /// let json = br#"{
    ///     "encryption_key": "zCLtkYmVQ8SZWLZwQyOTQPTuMWdWpbNdjx6E3lgktKc=",
    ///     "hmac_key": "08OjzQ+EOl/cYmWqUI/WxYtv+rJYgc0TEi88Jcrohsw=",
    ///     "iv": "8LssZgPFGEuZWSavSYB2VA==",
    ///     "plaintext_hash": "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=",
    ///     "encrypted_hash": "3lTsCAJWju8RNjoXVlD880as8WgOkYierp4xtzPsVks="
    /// }"#;
    /// let metadata = MediaMetadata::from_json(json)?;
    /// assert_eq!(metadata.iv().len(), 16);
    ///
    /// let err = MediaMetadata::from_json(br#"{"encryption_key": 7}"#).unwrap_err();
    /// assert_eq!(err.code(), "malformed");
    /// # Ok::<(), wa_flows_crypto::Error>(())
    /// ```
    pub fn from_json(json: &[u8]) -> Result<Self> {
        let value = serde_json::from_slice::<Value>(json)
            .map_err(|_| Error::Malformed("encryption_metadata is not valid JSON"))?;
        let value = WipedOnDrop(value);
        Self::from_json_value(&value.0)
    }

    /// Reads an already parsed `encryption_metadata` object; see [`from_json`](Self::from_json).
    ///
    /// # Errors
    /// [`Error::Malformed`] naming the field, as for [`from_json`](Self::from_json).
    ///
    /// # Example
    /// ```
    /// use wa_flows_crypto::media::MediaMetadata;
    ///
    /// let request: serde_json::Value = serde_json::from_str(r#"{"photo": [{
    ///     "file_name": "cat.jpg",
    ///     "encryption_metadata": {
    ///         "encryption_key": "zCLtkYmVQ8SZWLZwQyOTQPTuMWdWpbNdjx6E3lgktKc=",
    ///         "hmac_key": "08OjzQ+EOl/cYmWqUI/WxYtv+rJYgc0TEi88Jcrohsw=",
    ///         "iv": "8LssZgPFGEuZWSavSYB2VA==",
    ///         "plaintext_hash": "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=",
    ///         "encrypted_hash": "3lTsCAJWju8RNjoXVlD880as8WgOkYierp4xtzPsVks="
    ///     }
    /// }]}"#).unwrap();
    /// let metadata = MediaMetadata::from_json_value(&request["photo"][0]["encryption_metadata"])?;
    /// # let _ = metadata;
    /// # Ok::<(), wa_flows_crypto::Error>(())
    /// ```
    pub fn from_json_value(value: &Value) -> Result<Self> {
        let object = value
            .as_object()
            .ok_or(Error::Malformed("encryption_metadata is not a JSON object"))?;
        let field = |field: &Field| {
            object
                .get(field.name)
                .and_then(Value::as_str)
                .ok_or(Error::Malformed(field.missing))
        };
        Ok(MediaMetadata {
            encryption_key: decode_base64_array(field(&ENCRYPTION_KEY)?, ENCRYPTION_KEY.invalid)?,
            hmac_key: decode_base64_array(field(&HMAC_KEY)?, HMAC_KEY.invalid)?,
            iv: decode_base64_array(field(&IV)?, IV.invalid)?,
            plaintext_hash: decode_base64_array(field(&PLAINTEXT_HASH)?, PLAINTEXT_HASH.invalid)?,
            encrypted_hash: decode_base64_array(field(&ENCRYPTED_HASH)?, ENCRYPTED_HASH.invalid)?,
        })
    }

    /// Builds the metadata from its five base64 fields, as separate strings.
    ///
    /// # Errors
    /// [`Error::Malformed`] naming the first field that is not standard base64 of its length.
    ///
    /// # Example
    /// ```
    /// use wa_flows_crypto::media::MediaMetadata;
    ///
    /// let metadata = MediaMetadata::from_base64(
    ///     "zCLtkYmVQ8SZWLZwQyOTQPTuMWdWpbNdjx6E3lgktKc=",
    ///     "08OjzQ+EOl/cYmWqUI/WxYtv+rJYgc0TEi88Jcrohsw=",
    ///     "8LssZgPFGEuZWSavSYB2VA==",
    ///     "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=",
    ///     "3lTsCAJWju8RNjoXVlD880as8WgOkYierp4xtzPsVks=",
    /// )?;
    /// assert_eq!(metadata.plaintext_hash()[0], 0xe3);
    /// # Ok::<(), wa_flows_crypto::Error>(())
    /// ```
    pub fn from_base64(
        encryption_key: &str,
        hmac_key: &str,
        iv: &str,
        plaintext_hash: &str,
        encrypted_hash: &str,
    ) -> Result<Self> {
        Ok(MediaMetadata {
            encryption_key: decode_base64_array(encryption_key, ENCRYPTION_KEY.invalid)?,
            hmac_key: decode_base64_array(hmac_key, HMAC_KEY.invalid)?,
            iv: decode_base64_array(iv, IV.invalid)?,
            plaintext_hash: decode_base64_array(plaintext_hash, PLAINTEXT_HASH.invalid)?,
            encrypted_hash: decode_base64_array(encrypted_hash, ENCRYPTED_HASH.invalid)?,
        })
    }

    /// Builds the metadata from raw bytes.
    ///
    /// # Example
    /// ```
    /// use wa_flows_crypto::media::MediaMetadata;
    ///
    /// let metadata = MediaMetadata::from_parts([1; 32], [2; 32], [3; 16], [4; 32], [5; 32]);
    /// assert_eq!(metadata.hmac_key(), &[2; 32]);
    /// ```
    pub const fn from_parts(
        encryption_key: [u8; 32],
        hmac_key: [u8; 32],
        iv: [u8; 16],
        plaintext_hash: [u8; 32],
        encrypted_hash: [u8; 32],
    ) -> Self {
        MediaMetadata {
            encryption_key,
            hmac_key,
            iv,
            plaintext_hash,
            encrypted_hash,
        }
    }

    /// The AES-256-CBC key (secret).
    pub const fn encryption_key(&self) -> &[u8; 32] {
        &self.encryption_key
    }

    /// The HMAC-SHA256 key (secret).
    pub const fn hmac_key(&self) -> &[u8; 32] {
        &self.hmac_key
    }

    /// The AES-CBC initialisation vector.
    pub const fn iv(&self) -> &[u8; 16] {
        &self.iv
    }

    /// SHA-256 of the decrypted file.
    pub const fn plaintext_hash(&self) -> &[u8; 32] {
        &self.plaintext_hash
    }

    /// SHA-256 of the whole CDN file (ciphertext and MAC).
    pub const fn encrypted_hash(&self) -> &[u8; 32] {
        &self.encrypted_hash
    }

    /// The `encryption_metadata` JSON object, as WhatsApp sends it (standard base64 with
    /// padding). The text holds the keys: treat it as a secret.
    ///
    /// # Example
    /// ```
    /// use wa_flows_crypto::media::MediaMetadata;
    ///
    /// let metadata = MediaMetadata::from_parts([1; 32], [2; 32], [3; 16], [4; 32], [5; 32]);
    /// let json = metadata.to_json();
    /// let again = MediaMetadata::from_json(json.as_bytes())?;
    /// assert_eq!(again.encryption_key(), metadata.encryption_key());
    /// # Ok::<(), wa_flows_crypto::Error>(())
    /// ```
    pub fn to_json(&self) -> String {
        let encryption_key = Zeroizing::new(encode_base64(&self.encryption_key));
        let hmac_key = Zeroizing::new(encode_base64(&self.hmac_key));
        // Base64 needs no JSON escaping.
        format!(
            "{{\"encryption_key\":\"{}\",\"hmac_key\":\"{}\",\"iv\":\"{}\",\
             \"plaintext_hash\":\"{}\",\"encrypted_hash\":\"{}\"}}",
            *encryption_key,
            *hmac_key,
            encode_base64(&self.iv),
            encode_base64(&self.plaintext_hash),
            encode_base64(&self.encrypted_hash),
        )
    }
}

impl fmt::Debug for MediaMetadata {
    /// Shows only `encrypted_hash`, which names the CDN file; the keys, the IV and the
    /// plaintext hash are redacted.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MediaMetadata")
            .field("encryption_key", &"<redacted>")
            .field("hmac_key", &"<redacted>")
            .field("iv", &"<redacted>")
            .field("plaintext_hash", &"<redacted>")
            .field("encrypted_hash", &encode_hex(&self.encrypted_hash))
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> MediaMetadata {
        MediaMetadata::from_parts([0xaa; 32], [0xbb; 32], [0xcc; 16], [0xdd; 32], [0xee; 32])
    }

    #[test]
    fn wipe_strings_empties_every_string_at_any_depth() {
        let mut value = serde_json::json!({
            "encryption_key": "a2V5",
            "nested": {"list": ["aG1hYw==", 7, null, {"iv": "aXY="}], "flag": true},
        });
        wipe_strings(&mut value);
        assert_eq!(
            value,
            serde_json::json!({
                "encryption_key": "",
                "nested": {"list": ["", 7, null, {"iv": ""}], "flag": true},
            })
        );
    }

    #[test]
    fn debug_is_redacted() {
        let text = format!("{:?}", sample());
        assert!(!text.contains("aa"), "{text}");
        assert!(!text.contains("bb"), "{text}");
        assert!(!text.contains("170"), "{text}");
        assert!(text.contains(&"ee".repeat(32)), "{text}");
    }

    #[test]
    fn json_round_trip_and_field_errors() {
        let metadata = sample();
        let json = metadata.to_json();
        let again = MediaMetadata::from_json(json.as_bytes()).unwrap();
        assert_eq!(again.encryption_key(), metadata.encryption_key());
        assert_eq!(again.hmac_key(), metadata.hmac_key());
        assert_eq!(again.iv(), metadata.iv());
        assert_eq!(again.plaintext_hash(), metadata.plaintext_hash());
        assert_eq!(again.encrypted_hash(), metadata.encrypted_hash());

        let mut value: Value = serde_json::from_str(&json).unwrap();
        value["extra"] = Value::from(1);
        value["iv"] = Value::from(16);
        assert_eq!(
            MediaMetadata::from_json_value(&value).unwrap_err(),
            Error::Malformed(IV.missing)
        );
        value["iv"] = Value::from("AAAA");
        assert_eq!(
            MediaMetadata::from_json_value(&value).unwrap_err(),
            Error::Malformed(IV.invalid)
        );
        assert!(MediaMetadata::from_json(b"[]").is_err());
        assert!(MediaMetadata::from_json(b"{").is_err());
        assert!(MediaMetadata::from_json(json.replace('}', "}x").as_bytes()).is_err());
    }
}

//! What the differential targets (`diff_*`) share: the byte cursor, the fixed test key on both
//! sides, and the core's rule for request payloads. Included with `#[path]` by each target, so
//! OpenSSL stays out of the harness crate (which the main workspace builds on stable).

#![allow(dead_code)]

use std::sync::OnceLock;

use openssl::pkey::{PKey, Private};
use wa_flows_crypto::{FlowPrivateKey, RsaEngine};

/// The fixed 2048-bit test key of `tests/vectors/`.
pub const KEY_PEM: &[u8] = include_bytes!("../../tests/vectors/keys/rsa2048_pkcs8.pem");

/// The passphrase of every encrypted key in `tests/vectors/keys/`.
pub const PASSPHRASE: &[u8] = b"flows-public-passphrase";

/// The test key in the core, once per engine: aws-lc and RustCrypto.
pub fn core_keys() -> &'static [(RsaEngine, FlowPrivateKey); 2] {
    static KEYS: OnceLock<[(RsaEngine, FlowPrivateKey); 2]> = OnceLock::new();
    KEYS.get_or_init(|| {
        let key = FlowPrivateKey::from_pem(KEY_PEM, None).unwrap();
        let aws_lc = key.clone().with_engine(RsaEngine::AwsLc).unwrap();
        let rust = key.with_engine(RsaEngine::RustCrypto).unwrap();
        assert_eq!(aws_lc.engine(), RsaEngine::AwsLc);
        assert_eq!(rust.engine(), RsaEngine::RustCrypto);
        [(RsaEngine::AwsLc, aws_lc), (RsaEngine::RustCrypto, rust)]
    })
}

/// The same key in OpenSSL.
pub fn openssl_key() -> &'static PKey<Private> {
    static KEY: OnceLock<PKey<Private>> = OnceLock::new();
    KEY.get_or_init(|| {
        let key = PKey::private_key_from_pem(KEY_PEM).unwrap();
        // Both sides must hold the same key, or nothing below compares anything.
        assert_eq!(
            key.public_key_to_der().unwrap(),
            core_keys()[0].1.public_key_der()
        );
        key
    })
}

/// A byte cursor over the fuzzer's input (missing bytes read as zero).
pub struct Input<'a>(pub &'a [u8]);

impl<'a> Input<'a> {
    pub fn byte(&mut self) -> u8 {
        match self.0.split_first() {
            Some((first, rest)) => {
                self.0 = rest;
                *first
            }
            None => 0,
        }
    }

    pub fn u16(&mut self) -> usize {
        usize::from(self.byte()) << 8 | usize::from(self.byte())
    }

    pub fn bytes(&mut self, n: usize) -> &'a [u8] {
        let (head, rest) = self.0.split_at(n.min(self.0.len()));
        self.0 = rest;
        head
    }

    pub fn array<const N: usize>(&mut self) -> [u8; N] {
        core::array::from_fn(|_| self.byte())
    }

    pub fn rest(&mut self) -> &'a [u8] {
        self.bytes(self.0.len())
    }
}

/// The core's rule for a decrypted request payload, written out independently: UTF-8 text
/// that is exactly one JSON object (any members, nested to serde_json's default depth of
/// 128), with nothing but whitespace after it. Numbers are only scanned, never converted, so
/// `1e400` is fine (as it is in the core, which never builds a `Value`).
pub fn is_request_payload(plaintext: &[u8]) -> bool {
    struct ObjectOnly;
    impl<'de> serde::de::Visitor<'de> for ObjectOnly {
        type Value = ();
        fn expecting(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
            f.write_str("a JSON object")
        }
        fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
            while map
                .next_entry::<serde::de::IgnoredAny, serde::de::IgnoredAny>()?
                .is_some()
            {}
            Ok(())
        }
    }
    let Ok(text) = core::str::from_utf8(plaintext) else {
        return false;
    };
    let mut deserializer = serde_json::Deserializer::from_str(text);
    serde::Deserializer::deserialize_map(&mut deserializer, ObjectOnly).is_ok()
        && deserializer.end().is_ok()
}

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

    /// Fewer than `count_below` byte strings, each shorter than `len_below` bytes: a count
    /// byte, then a length byte before each string (app secrets, say).
    pub fn byte_strings(&mut self, count_below: u8, len_below: u8) -> Vec<Vec<u8>> {
        (0..self.byte() % count_below)
            .map(|_| {
                let len = usize::from(self.byte() % len_below);
                self.bytes(len).to_vec()
            })
            .collect()
    }
}

/// Whether a decrypted plaintext is a request payload (UTF-8 text that is exactly one JSON
/// object, with nothing but whitespace after it), as `serde_json::Value` reads it: an opinion
/// independent of the core's rule, which scans the text with a serde visitor and builds no
/// value. `None` where `Value` cannot say, which are the known differences, each narrow:
/// - a number beyond f64 (`1e400`): the core only scans it, `Value` refuses it as out of
///   range; such a number is replaced by `0` and the text read again (so the rest of it is
///   still judged);
/// - a `\u` escape that is an unpaired UTF-16 surrogate (`"\ud800"`): the core checks escapes
///   in member names but only scans them in values, `Value` refuses both: `None`;
/// - nesting deeper than 128: `Value` stops at serde_json's recursion limit, the core's
///   scan of a member's value has none: `None`.
///
/// Duplicate member names are no difference (both read them; `Value` keeps the last).
pub fn is_request_payload(plaintext: &[u8]) -> Option<bool> {
    let Ok(text) = core::str::from_utf8(plaintext) else {
        return Some(false);
    };
    let mut text = text.to_owned();
    for _ in 0..64 {
        let error = match serde_json::from_str::<serde_json::Value>(&text) {
            Ok(value) => return Some(value.is_object()),
            Err(error) => error,
        };
        let message = error.to_string();
        if message.starts_with("recursion limit exceeded")
            || message.starts_with("lone leading surrogate in hex escape")
            || message.starts_with("unexpected end of hex escape")
        {
            return None;
        }
        if !message.starts_with("number out of range") {
            return Some(false);
        }
        // serde_json's line and column (1-based, in bytes) end at the number's last byte.
        let line_start: usize = text
            .split_inclusive('\n')
            .take(error.line() - 1)
            .map(str::len)
            .sum();
        let is_number_byte = |b: &u8| b.is_ascii_digit() || b"+-.eE".contains(b);
        let bytes = text.as_bytes();
        let mut end = (line_start + error.column()).min(bytes.len());
        end += bytes[end..]
            .iter()
            .take_while(|b| is_number_byte(b))
            .count();
        let start = end
            - bytes[..end]
                .iter()
                .rev()
                .take_while(|b| is_number_byte(b))
                .count();
        if start == end {
            return None;
        }
        text.replace_range(start..end, "0");
    }
    None
}

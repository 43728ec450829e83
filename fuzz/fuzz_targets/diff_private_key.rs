//! Private-key parsing: `FlowPrivateKey::from_pem` / `from_der` against OpenSSL's readers
//! (`PEM_read_bio_PrivateKey` with a passphrase callback, `d2i_AutoPrivateKey`,
//! `d2i_RSAPrivateKey`, `d2i_PKCS8PrivateKey_bio`).
//!
//! Input: a mode byte (bit 0: give the vectors' passphrase; bit 1: DER instead of PEM), then
//! the key bytes. When both accept, they must hold the same key: the same SPKI DER (so the
//! same n and e) and size. Anything else must be one of the expected differences below, each
//! a narrow predicate checked against OpenSSL's own view of the key; everything else panics.
//!
//! Expected differences (the core refuses, OpenSSL accepts):
//! - size: the key's modulus is under 2048 or over 8192 bits (by OpenSSL's `RSA_bits`), and
//!   the core says `UnsupportedSize` with exactly that size;
//! - not RSA: OpenSSL's key type is not `rsaEncryption` (EC, DSA, Ed25519, RSA-PSS...), and
//!   the core says `NotRsa` (or `NotAKey` for DER that is not PKCS#8, such as SEC1
//!   `ECPrivateKey`: the core reads PKCS#8 and PKCS#1 DER only, so it sees no algorithm);
//! - p == q: OpenSSL loads such a key (n = p², factored by a square root), the core refuses it
//!   with its "two of the key's primes are equal" message;
//! - inconsistent parameters: OpenSSL loads without checking, but its own `RSA_check_key`
//!   refuses the key, and the core says `Corrupt` (the `rsa` crate's or aws-lc's check);
//! - KDF cost: an encrypted PKCS#8 key whose PBKDF2 or scrypt parameters are over the core's
//!   caps (`key::MAX_*`, low under `cfg(fuzzing)`), which the core refuses before deriving;
//! - multi-prime keys (RFC 8017 `otherPrimeInfos`, by OpenSSL's own PKCS#1 encoding of the
//!   key): the `rsa` crate and aws-lc read two primes only, and the core says so;
//! - non-strict DER: bytes after the DER element, or an encoding that is not OpenSSL's own
//!   (an INTEGER with its sign bit set, which OpenSSL's d2i reads as positive), which the core
//!   refuses as undecodable (`NotAKey`, "does not decode", or `WrongPassphrase` inside a legacy
//!   encrypted block, whose content the target decrypts with OpenSSL's primitives): the
//!   element alone, or OpenSSL's strict re-encoding, must then get the same answer from both;
//!   an encrypted PKCS#8 key OpenSSL opens but the core calls a wrong passphrase likewise;
//! - PEM text the core cannot read as text: not UTF-8, or with a `BEGIN` line whose `END` line
//!   is missing anywhere in it (the core reports truncation, OpenSSL reads the blocks before);
//! - bytes OpenSSL's line reader drops (after a NUL; trailing bytes up to `' '` as a signed C
//!   `char`), when they make the core refuse the text: compared again on what OpenSSL saw;
//! - OpenSSL tries an empty passphrase when none is given (the core says
//!   `PassphraseRequired`).
//!
//! And the other way (the core accepts what OpenSSL refuses as given): the core repairs PEM
//! damaged by environment variables (literal `\n`, `\r\n`, CR, quotes, spaces for newlines),
//! reads header names and the `Proc-Type` value case-insensitively, ignores headers of
//! unencrypted blocks, takes the first private-key block of several. The target re-renders the
//! first private-key block the way the core reads it (canonical PEM) and OpenSSL must accept
//! that rendering, with the same key, whenever the core accepts the original.
//!
//! What is independent of the core, and what cannot be: the base64 of a block is decoded by
//! the `pem-rfc7468` crate (a strict RFC 7468 reader) from the canonical rendering, and that
//! rendering is read again by OpenSSL's PEM reader (headers, legacy encryption, the key): the
//! target decodes no PEM itself. What stays written out here is only the repair the core does
//! on purpose and no standard reader does, as narrow steps: `normalize` (the environment
//! variable damage: quotes, literal `\n`, CR) and, in `pem_view`, finding the blocks (the
//! first private-key label of several, a `BEGIN` without its `END`) and splitting a block's
//! body at whitespace into `Name: value` headers and base64 (newlines that became spaces).
//! `openssl_lines` is a model of the reference (OpenSSL's line reader), not of the core.

#![no_main]

#[path = "diff_common.rs"]
mod diff_common;

use diff_common::{Input, PASSPHRASE};
use openssl::pkey::{Id, PKey, Private};
use openssl::rsa::Rsa;
use wa_flows_crypto::key::{
    MAX_KEY_BITS, MAX_PBKDF2_ITERATIONS, MAX_SCRYPT_N_TIMES_R, MAX_SCRYPT_WORK, MIN_KEY_BITS,
};
use wa_flows_crypto::{Error, FlowPrivateKey, KeyError};

/// The labels at which the core stops looking: it loads or refuses the first of them.
const PRIVATE_LABELS: &[&str] = &[
    "RSA PRIVATE KEY",
    "PRIVATE KEY",
    "ENCRYPTED PRIVATE KEY",
    "EC PRIVATE KEY",
    "DSA PRIVATE KEY",
    "OPENSSH PRIVATE KEY",
];

/// What the core's PEM reader makes of `text`: its repair written out from its documented
/// rules, the decoding done by `pem-rfc7468` (see `render`).
enum PemView {
    /// A `BEGIN` line without its `END` line somewhere: the core refuses the text.
    Truncated,
    /// No private-key block decodes.
    NoPrivateKey,
    /// The first private-key block, rendered as canonical PEM, and its DER.
    First {
        canonical: String,
        der: Vec<u8>,
        /// For a legacy encrypted block: its `DEK-Info` cipher and IV.
        legacy: Option<(String, String)>,
    },
}

fn normalize(text: &str) -> String {
    let mut text = text.trim();
    loop {
        let stripped = ["\"", "'", "`"].iter().find_map(|quote| {
            text.strip_prefix(quote)
                .and_then(|rest| rest.strip_suffix(quote))
        });
        match stripped {
            Some(inner) => text = inner.trim(),
            None => break,
        }
    }
    text.replace("\\r\\n", "\n")
        .replace("\\n", "\n")
        .replace("\\r", "\n")
        .replace('\r', "\n")
}

fn pem_view(text: &str) -> PemView {
    let text = normalize(text);
    let mut rest: &str = &text;
    let mut first = None;
    while let Some(start) = rest.find("-----BEGIN ") {
        let after_begin = &rest[start + "-----BEGIN ".len()..];
        let Some(label_end) = after_begin.find("-----") else {
            break;
        };
        let label = after_begin[..label_end].trim();
        let body_and_rest = &after_begin[label_end + 5..];
        let end_marker = format!("-----END {label}-----");
        let Some(body_end) = body_and_rest.find(&end_marker) else {
            return PemView::Truncated;
        };
        if first.is_none() && PRIVATE_LABELS.contains(&label) {
            let mut headers = Vec::new();
            let mut base64 = String::new();
            let mut tokens = body_and_rest[..body_end].split_whitespace();
            while let Some(token) = tokens.next() {
                if let Some((name, value)) = token.split_once(':') {
                    let value = if value.is_empty() {
                        tokens.next().unwrap_or_default()
                    } else {
                        value
                    };
                    headers.push((name.to_owned(), value.to_owned()));
                } else {
                    base64.push_str(token);
                }
            }
            if let Some(view) = render(label, &headers, &base64) {
                first = Some(view);
            }
        }
        rest = &body_and_rest[body_end + end_marker.len()..];
    }
    first.unwrap_or(PemView::NoPrivateKey)
}

/// The block rendered as canonical PEM from its base64 text (padded with `=` to a multiple of
/// four, which the core does not require, and wrapped at 64 columns), and its DER as the
/// `pem-rfc7468` crate decodes that rendering: the target decodes no base64 itself. `None`
/// when the base64 does not decode.
fn render(label: &str, headers: &[(String, String)], base64: &str) -> Option<PemView> {
    let header = |name: &str| {
        headers
            .iter()
            .find(|(key, _)| key.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.as_str())
    };
    let mut padded = base64.to_owned();
    while padded.len() % 4 != 0 {
        padded.push('=');
    }
    let mut lines = String::new();
    for line in padded.as_bytes().chunks(64) {
        lines.push_str(core::str::from_utf8(line).ok()?);
        lines.push('\n');
    }
    let (begin, end) = (
        format!("-----BEGIN {label}-----\n"),
        format!("-----END {label}-----\n"),
    );
    // RFC 7468 has no headers: the DER comes from the block without them.
    let strict = format!("{begin}{lines}{end}");
    let (decoded_label, der) = pem_rfc7468::decode_vec(strict.as_bytes()).ok()?;
    assert_eq!(decoded_label, label);
    let encrypted = label == "RSA PRIVATE KEY"
        && header("Proc-Type").is_some_and(|v| v.to_ascii_uppercase().ends_with("ENCRYPTED"));
    let mut canonical = begin;
    let mut legacy = None;
    if encrypted {
        let dek_info = header("DEK-Info").unwrap_or_default();
        let (cipher, iv) = dek_info.split_once(',').unwrap_or((dek_info, ""));
        let (cipher, iv) = (cipher.trim().to_ascii_uppercase(), iv.trim().to_owned());
        canonical.push_str(&format!(
            "Proc-Type: 4,ENCRYPTED\nDEK-Info: {cipher},{iv}\n\n"
        ));
        legacy = Some((cipher, iv));
    }
    canonical.push_str(&lines);
    canonical.push_str(&end);
    Some(PemView::First {
        canonical,
        der,
        legacy,
    })
}

fn openssl_pem(pem: &[u8], passphrase: Option<&[u8]>) -> Option<PKey<Private>> {
    PKey::private_key_from_pem_callback(pem, |buffer| match passphrase {
        Some(p) if p.len() <= buffer.len() => {
            buffer[..p.len()].copy_from_slice(p);
            Ok(p.len())
        }
        _ => Err(openssl::error::ErrorStack::get()),
    })
    .ok()
}

fn openssl_der(der: &[u8], passphrase: Option<&[u8]>) -> Option<PKey<Private>> {
    PKey::private_key_from_der(der)
        .ok()
        .or_else(|| {
            Rsa::private_key_from_der(der)
                .ok()
                .and_then(|rsa| PKey::from_rsa(rsa).ok())
        })
        .or_else(|| passphrase.and_then(|p| PKey::private_key_from_pkcs8_passphrase(der, p).ok()))
}

/// The PKCS#1 DER inside a legacy encrypted block, decrypted with OpenSSL's primitives
/// (`EVP_BytesToKey` with MD5 and the IV's first 8 bytes as salt, then CBC with PKCS#7).
fn legacy_inner(cipher: &str, iv: &str, der: &[u8], passphrase: Option<&[u8]>) -> Option<Vec<u8>> {
    use openssl::symm::Cipher;
    let cipher = match cipher {
        "DES-EDE3-CBC" => Cipher::des_ede3_cbc(),
        "AES-128-CBC" => Cipher::aes_128_cbc(),
        "AES-192-CBC" => Cipher::aes_192_cbc(),
        "AES-256-CBC" => Cipher::aes_256_cbc(),
        _ => return None,
    };
    let iv = (0..iv.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(iv.get(i..i + 2)?, 16).ok())
        .collect::<Option<Vec<u8>>>()?;
    if iv.len() != cipher.iv_len()? {
        return None;
    }
    let key = openssl::pkcs5::bytes_to_key(
        cipher,
        openssl::hash::MessageDigest::md5(),
        passphrase?,
        Some(&iv[..8]),
        1,
    )
    .ok()?;
    openssl::symm::decrypt(cipher, &key.key, Some(&iv), der).ok()
}

/// Whether `der` is an encrypted PKCS#8 key whose KDF parameters are over the core's caps.
fn kdf_over_caps(der: &[u8]) -> bool {
    use pkcs8::der::Decode as _;
    let Ok(info) = pkcs8::EncryptedPrivateKeyInfoRef::from_der(der) else {
        return false;
    };
    let Some(params) = info.encryption_algorithm.pbes2() else {
        return false;
    };
    if let Some(pbkdf2) = params.kdf.pbkdf2() {
        return !(1..=MAX_PBKDF2_ITERATIONS).contains(&pbkdf2.iteration_count);
    }
    if let Some(scrypt) = params.kdf.scrypt() {
        let n = scrypt.cost_parameter;
        let n_times_r = n.saturating_mul(u64::from(scrypt.block_size));
        return n < 2
            || !n.is_power_of_two()
            || scrypt.block_size == 0
            || scrypt.parallelization == 0
            || n_times_r > MAX_SCRYPT_N_TIMES_R
            || n_times_r.saturating_mul(u64::from(scrypt.parallelization)) > MAX_SCRYPT_WORK;
    }
    false
}

/// The first DER element of `der` (definite length), when bytes follow it.
fn outer_element(der: &[u8]) -> Option<&[u8]> {
    let (&first, rest) = der.get(1..)?.split_first()?;
    let (len, header) = match first {
        0..=0x7f => (usize::from(first), 2),
        0x81..=0x84 => {
            let n = usize::from(first & 0x7f);
            let len = rest
                .get(..n)?
                .iter()
                .fold(0usize, |acc, &b| acc << 8 | usize::from(b));
            (len, 2 + n)
        }
        _ => return None,
    };
    let end = header.checked_add(len)?;
    (end < der.len()).then(|| &der[..end])
}

/// Whether OpenSSL's key has more than two primes (RFC 8017 `otherPrimeInfos`), by its own
/// PKCS#1 encoding of the key.
fn is_multi_prime(rsa: &Rsa<Private>) -> bool {
    use pkcs1::der::Decode as _;
    let der = rsa.private_key_to_der().unwrap();
    pkcs1::RsaPrivateKeyRef::from_der(&der).is_ok_and(|key| key.version() == pkcs1::Version::Multi)
}

/// The core refused, OpenSSL loaded `openssl`: only the expected differences may explain it.
fn explain_refusal(
    error: &Error,
    openssl: &PKey<Private>,
    der: Option<&[u8]>,
    passphrase: Option<&[u8]>,
    wrapped: bool,
) {
    let Error::InvalidKey(problem) = error else {
        panic!("not invalid_key: {error:?}");
    };
    // The core's answers for DER it cannot decode; inside a decrypted legacy block (`wrapped`)
    // it says `WrongPassphrase`, since garbage from a wrong passphrase looks the same.
    let undecodable = matches!(
        problem,
        KeyError::NotAKey
            | KeyError::Corrupt(
                "the PKCS#8 structure does not decode"
                    | "the RSA private key structure does not decode"
            )
    ) || (wrapped && matches!(problem, KeyError::WrongPassphrase));
    if let Some(prefix) = der.and_then(outer_element) {
        // Bytes after the DER element: OpenSSL's d2i readers ignore them, the core's strict
        // DER refuses the whole (as not a key in DER, as a block that does not decode in PEM).
        // The element alone must then give both sides the same answer. An encrypted PKCS#8
        // key is read with one decode of the `pkcs8` crate, which cannot tell broken DER from
        // an unknown scheme: the core says "unrecognised scheme" for both.
        let encrypted_element = {
            use pkcs8::der::Decode as _;
            pkcs8::EncryptedPrivateKeyInfoRef::from_der(prefix).is_ok()
        };
        assert!(
            undecodable
                || (encrypted_element
                    && problem
                        == &KeyError::UnsupportedEncryption(
                            "an unrecognised PKCS#8 encryption scheme"
                        )),
            "{problem:?}"
        );
        let core = FlowPrivateKey::from_der(prefix, passphrase);
        return compare(
            &core,
            openssl_der(prefix, passphrase).as_ref(),
            Some(prefix),
            passphrase,
            false,
        );
    }
    if let (true, Some(der), Ok(rsa)) = (undecodable, der, openssl.rsa()) {
        // OpenSSL's readers are lenient (an INTEGER with its sign bit set read as positive,
        // BER lengths): where the core's strict DER refuses bytes that are not OpenSSL's own
        // encoding of the key it read, that strict encoding must get the same answer from both.
        let pkcs1 = rsa.private_key_to_der().unwrap();
        let pkcs8 = openssl.private_key_to_pkcs8().unwrap();
        if der != pkcs1.as_slice() && der != pkcs8.as_slice() {
            let core = FlowPrivateKey::from_der(&pkcs1, None);
            return compare(
                &core,
                openssl_der(&pkcs1, None).as_ref(),
                Some(&pkcs1),
                None,
                false,
            );
        }
    }
    if openssl.id() != Id::RSA {
        // `NotRsa`, or `NotAKey` for DER that is not PKCS#8 (SEC1 `ECPrivateKey`, a DSA key):
        // the core reads only PKCS#8 and PKCS#1 DER, so it never sees an algorithm there.
        let traditional_der = der.is_some_and(|der| {
            use pkcs8::der::Decode as _;
            pkcs8::PrivateKeyInfoRef::from_der(der).is_err()
        });
        assert!(
            matches!(problem, KeyError::NotRsa(_))
                || (traditional_der && matches!(problem, KeyError::NotAKey)),
            "OpenSSL loads a {:?} key: {problem:?}",
            openssl.id()
        );
        return;
    }
    let rsa = openssl.rsa().unwrap();
    let bits = rsa.n().num_bits() as usize;
    if !(MIN_KEY_BITS..=MAX_KEY_BITS).contains(&bits) {
        assert_eq!(problem, &KeyError::UnsupportedSize { bits });
        return;
    }
    if matches!(problem, KeyError::PassphraseRequired) && passphrase.is_none() {
        // OpenSSL tried the empty passphrase, and it was the key's.
        return;
    }
    if der.is_some_and(kdf_over_caps) {
        assert!(
            matches!(problem, KeyError::UnsupportedEncryption(_)),
            "{problem:?}"
        );
        return;
    }
    if let (Some(p), Some(q)) = (rsa.p(), rsa.q()) {
        if p == q {
            assert_eq!(
                problem,
                &KeyError::Corrupt(
                    "two of the key's primes are equal (n = p squared, which anyone can factor)"
                )
            );
            return;
        }
    }
    if is_multi_prime(&rsa) {
        // The `rsa` crate (and aws-lc) read two-prime keys only, and the core says so.
        assert!(
            problem
                == &KeyError::Corrupt(
                    "the key has more than two primes (multi-prime RSA), which is not supported: \
                     use a two-prime key, such as `openssl genrsa` makes"
                )
                || (wrapped && problem == &KeyError::WrongPassphrase),
            "{problem:?}"
        );
        return;
    }
    if !rsa.check_key().unwrap_or(false) {
        // (Inside a legacy block the core reports any such refusal as a wrong passphrase.)
        assert!(
            (wrapped && matches!(problem, KeyError::WrongPassphrase))
                || matches!(
                    problem,
                    KeyError::Corrupt(
                        "the RSA parameters are inconsistent (n, e, d and the primes do not match)"
                            | "aws-lc rejected the key's parameters"
                    )
                ),
            "OpenSSL's RSA_check_key refuses it, but the core says {problem:?}"
        );
        return;
    }
    let encrypted_pkcs8 = der.is_some_and(|der| {
        use pkcs8::der::Decode as _;
        pkcs8::EncryptedPrivateKeyInfoRef::from_der(der).is_ok()
    });
    if encrypted_pkcs8 && passphrase.is_some() && matches!(problem, KeyError::WrongPassphrase) {
        // OpenSSL decrypted an encrypted PKCS#8 key whose inner DER the core's strict reader
        // refuses (it calls that a wrong passphrase): the key itself, strictly encoded, must
        // then be accepted by both.
        let pkcs1 = rsa.private_key_to_der().unwrap();
        let core = FlowPrivateKey::from_der(&pkcs1, None);
        return compare(&core, Some(openssl), Some(&pkcs1), None, false);
    }
    panic!("the core refuses a {bits}-bit RSA key that OpenSSL loads and checks: {problem:?}");
}

fn compare(
    core: &Result<FlowPrivateKey, Error>,
    openssl: Option<&PKey<Private>>,
    der: Option<&[u8]>,
    passphrase: Option<&[u8]>,
    wrapped: bool,
) {
    match (core, openssl) {
        (Ok(key), Some(openssl)) => {
            assert_eq!(openssl.id(), Id::RSA);
            assert_eq!(
                key.public_key_der(),
                openssl.public_key_to_der().unwrap().as_slice(),
                "a different key"
            );
            assert_eq!(key.bits(), openssl.bits() as usize);
            assert!((MIN_KEY_BITS..=MAX_KEY_BITS).contains(&key.bits()));
        }
        (Ok(key), None) => panic!(
            "the core accepts a {}-bit key that OpenSSL refuses",
            key.bits()
        ),
        (Err(error), None) => assert_eq!(error.code(), "invalid_key", "{error:?}"),
        (Err(error), Some(openssl)) => explain_refusal(error, openssl, der, passphrase, wrapped),
    }
}

/// `text` as OpenSSL's PEM reader sees it: a line at a time as C strings (cut at a NUL), and
/// with the trailing bytes of each line that are at most `' '` as a C `char` stripped (its
/// `PEM_FLAG_EAY_COMPATIBLE` rule: spaces, control bytes, and every byte of 0x80 and above).
fn openssl_lines(text: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(text.len());
    for line in text.split_inclusive(|&b| b == b'\n') {
        let newline = line.ends_with(b"\n");
        let mut line = line.strip_suffix(b"\n").unwrap_or(line);
        if let Some(nul) = line.iter().position(|&b| b == 0) {
            line = &line[..nul];
        }
        while let [rest @ .., last] = line {
            if *last > b' ' && *last < 0x80 {
                break;
            }
            line = rest;
        }
        out.extend_from_slice(line);
        if newline {
            out.push(b'\n');
        }
    }
    out
}

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let mut input = Input(data);
    let mode = input.byte();
    check(mode, input.rest());
});

fn check(mode: u8, bytes: &[u8]) {
    let passphrase = (mode & 1 == 1).then_some(PASSPHRASE);
    let as_pem = mode & 2 == 0 && bytes.windows(11).any(|w| w == b"-----BEGIN ");
    if mode & 2 != 0 || !as_pem {
        // DER (also what from_pem does without PEM armour).
        let core = if mode & 2 == 0 {
            FlowPrivateKey::from_pem(bytes, passphrase)
        } else {
            FlowPrivateKey::from_der(bytes, passphrase)
        };
        let openssl = openssl_der(bytes, passphrase);
        compare(&core, openssl.as_ref(), Some(bytes), passphrase, false);
        return;
    }
    let core = FlowPrivateKey::from_pem(bytes, passphrase);
    let view = match core::str::from_utf8(bytes) {
        Ok(text) => Some(pem_view(text)),
        Err(_) => None,
    };
    match &view {
        Some(PemView::First {
            canonical,
            der,
            legacy,
        }) => {
            let openssl = openssl_pem(canonical.as_bytes(), passphrase);
            // The DER the expected differences look at: a legacy block's decrypted content.
            let (inner, wrapped) = match legacy {
                Some((cipher, iv)) => (legacy_inner(cipher, iv, der, passphrase), true),
                None => (Some(der.clone()), false),
            };
            compare(
                &core,
                openssl.as_ref(),
                inner.as_deref(),
                passphrase,
                wrapped,
            );
        }
        _ => {
            let problem = match &core {
                Ok(key) => panic!(
                    "the core accepts a {}-bit key in text without a private-key block",
                    key.bits()
                ),
                Err(error) => error,
            };
            assert_eq!(problem.code(), "invalid_key");
            // OpenSSL may still read something from the raw text: only when the core could
            // not read it as text at all.
            if let Some(openssl) = openssl_pem(bytes, passphrase) {
                let seen = openssl_lines(bytes);
                if seen != bytes {
                    // OpenSSL drops bytes at the end of lines (see `openssl_lines`) that make
                    // the core refuse the text: compare again on the text OpenSSL saw.
                    return check(mode, &seen);
                }
                match &view {
                    None => assert_eq!(
                        problem,
                        &Error::InvalidKey(KeyError::Corrupt("the PEM text is not valid UTF-8"))
                    ),
                    Some(PemView::Truncated) => assert_eq!(
                        problem,
                        &Error::InvalidKey(KeyError::Corrupt(
                            "the PEM text has a BEGIN line without its END line; copy the whole key"
                        ))
                    ),
                    _ => explain_refusal(problem, &openssl, None, passphrase, false),
                }
            }
        }
    }
}

//! The three compares of secret MACs: the `X-Hub-Signature-256` header, the media file's
//! 10-byte MAC and the flow token's JWS signature. An input of a class is right, or wrong at
//! the first or last byte of what is compared (the place an early-exit compare would give
//! away), or wrong everywhere.
//!
//! Every input has its own secret, so the values sent (a header, a tag, a JWS) are uniformly
//! random in every class and differ only in how they relate to the secret. With one secret,
//! the right value would be one fixed string and the wrong ones would vary: the parsing of
//! the sent value (hex, base64url), which is public, would then time differently per class
//! and hide what is in question, the compare.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use dudect_bencher::rand::Rng;
use dudect_bencher::{BenchRng, Class, CtRunner};
use hmac::{Hmac, KeyInit as _, Mac as _};
use sha2::Sha256;
use wa_flows_crypto::FlowRequest;
use wa_flows_crypto::media::checks::check_mac;

/// Where a compared value differs from the right one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Variant {
    Match,
    FirstByte,
    LastByte,
    Random,
}

fn random_bytes<const N: usize>(rng: &mut BenchRng) -> [u8; N] {
    let mut bytes = [0u8; N];
    rng.fill_bytes(&mut bytes);
    bytes
}

/// A nonzero byte to XOR in, so the flawed byte always differs.
fn nonzero(rng: &mut BenchRng) -> u8 {
    (rng.next_u32() % 255 + 1) as u8
}

/// `right` as `variant` says.
fn vary<const N: usize>(rng: &mut BenchRng, right: [u8; N], variant: Variant) -> [u8; N] {
    let mut bytes = right;
    match variant {
        Variant::Match => {}
        Variant::FirstByte => {
            if let Some(first) = bytes.first_mut() {
                *first ^= nonzero(rng);
            }
        }
        Variant::LastByte => {
            if let Some(last) = bytes.last_mut() {
                *last ^= nonzero(rng);
            }
        }
        Variant::Random => {
            while bytes == right {
                bytes = random_bytes(rng);
            }
        }
    }
    bytes
}

fn variant_of(class: Class, (left, right): (Variant, Variant)) -> Variant {
    match class {
        Class::Left => left,
        Class::Right => right,
    }
}

fn hmac_sha256(key: &[u8], data: &[u8]) -> [u8; 32] {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes any key");
    mac.update(data);
    mac.finalize().into_bytes().into()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}

/// `verify_signature` on a 1 KiB body, headers that match or differ at one place.
pub(crate) fn signature(runner: &mut CtRunner, rng: &mut BenchRng, left: Variant, right: Variant) {
    let body: [u8; 1024] = random_bytes(rng);
    super::measure(
        runner,
        rng,
        super::samples_per_class("WFC_TIMING_SAMPLES"),
        |rng, class| {
            let secret: [u8; 32] = random_bytes(rng);
            let sent = vary(
                rng,
                hmac_sha256(&secret, &body),
                variant_of(class, (left, right)),
            );
            (secret, format!("sha256={}", hex(&sent)))
        },
        |class| match variant_of(class, (left, right)) {
            Variant::Match => Ok(()),
            _ => Err("invalid_signature"),
        },
        |(secret, header)| wa_flows_crypto::verify_signature(&body, header, secret),
    );
}

/// `media::checks::check_mac`: computed HMACs against file tags that match them or not.
pub(crate) fn media_mac(runner: &mut CtRunner, rng: &mut BenchRng, left: Variant, right: Variant) {
    super::measure(
        runner,
        rng,
        super::samples_per_class("WFC_TIMING_SAMPLES"),
        |rng, class| {
            let computed: [u8; 32] = random_bytes(rng);
            let tag = computed[..10].try_into().expect("10 of 32 bytes");
            (computed, vary(rng, tag, variant_of(class, (left, right))))
        },
        |class| match variant_of(class, (left, right)) {
            Variant::Match => Ok(()),
            _ => Err("hmac_mismatch"),
        },
        |(computed, tag)| check_mac(computed, tag),
    );
}

/// `FlowRequest::verify_flow_token_signature`: requests whose JWS signature is wrong at one
/// place or everywhere. A right signature is not a class: only an authentic payload is
/// parsed, so it takes longer by design, and tells the sender only what the 427 tells it.
pub(crate) fn flow_token(runner: &mut CtRunner, rng: &mut BenchRng, left: Variant, right: Variant) {
    assert!(
        left != Variant::Match && right != Variant::Match,
        "see the doc comment"
    );
    let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"HS256","typ":"JWT"}"#);
    let flow_token = "flows-builder-5a2c0c1b";
    let claims = format!(r#"{{"flow_token":"{flow_token}","exp":4102444800}}"#);
    let signed = format!("{header}.{}", URL_SAFE_NO_PAD.encode(claims));
    let now = 1_800_000_000;
    super::measure(
        runner,
        rng,
        super::samples_per_class("WFC_TIMING_SAMPLES"),
        |rng, class| {
            let secret: [u8; 32] = random_bytes(rng);
            let right_signature = hmac_sha256(&secret, signed.as_bytes());
            let sent = vary(rng, right_signature, variant_of(class, (left, right)));
            let signature = URL_SAFE_NO_PAD.encode(sent);
            let plaintext = format!(
                r#"{{"version":"4.0","action":"data_exchange","screen":"S","data":{{}},"flow_token":"{flow_token}","flow_token_signature":"{signed}.{signature}"}}"#
            );
            (
                secret,
                FlowRequest::from_json(&plaintext).expect("a flow request"),
            )
        },
        |_| Err("invalid_flow_token_signature"),
        |(secret, request)| request.verify_flow_token_signature(&[secret], now),
    );
}

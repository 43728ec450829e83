//! dudect timing tests (Reparaz, Balasch, Verbauwhede, "Dude, is my code constant time?",
//! DATE 2017) of every place where the library compares or decodes something secret:
//! the RSA-OAEP unwrap in both engines, the `X-Hub-Signature-256` compare, the media MAC
//! compare and the flow-token (JWS) signature compare.
//!
//! Each bench times one operation on two classes of input, interleaved in a random order
//! drawn from a fixed seed, and dudect-bencher reports Welch's t over the raw timings and over
//! 100 cropped percentiles of them: |t| < 4.5 is the pass mark. `benches/timing/run.sh` runs
//! them and writes `docs/evidence/timing.md`.
//!
//! Measurements per class: `WFC_TIMING_SAMPLES` (default 10⁶) for the compares,
//! `WFC_TIMING_RSA_SAMPLES` (default 10⁶) for the RSA unwrap.
#![allow(
    clippy::expect_used,
    clippy::panic,
    reason = "a measurement program: a fixture that does not do what its class says must stop \
              the run loudly, or the run would measure the wrong thing"
)]

mod compare;
mod oaep;

use dudect_bencher::rand::Rng;
use dudect_bencher::{BenchRng, Class, CtRunner, ctbench_main_with_seeds};

/// How many measurements each class gets, from `variable` (default 10⁶).
fn samples_per_class(variable: &str) -> usize {
    std::env::var(variable)
        .ok()
        .and_then(|value| value.parse().ok())
        .unwrap_or(1_000_000)
}

/// Exactly `per_class` of each class, in a random order: a class never runs in a block, so
/// drift of the machine over time falls on both alike.
fn schedule(rng: &mut BenchRng, per_class: usize) -> Vec<Class> {
    let mut classes: Vec<Class> = (0..2 * per_class)
        .map(|i| {
            if i < per_class {
                Class::Left
            } else {
                Class::Right
            }
        })
        .collect();
    for i in (1..classes.len()).rev() {
        let j = (rng.next_u64() % (i as u64 + 1)) as usize;
        classes.swap(i, j);
    }
    classes
}

/// Inputs made and then timed together: a batch is made fresh for each stretch of the
/// schedule, in one buffer, in schedule order, so both classes come from the same code, the
/// same allocations and the same memory. (Fixed pools, one per class, showed |t| up to 40
/// between two classes of the same compare, with a sign that changed from run to run: where
/// each pool happened to lie in memory, not what it held.)
const BATCH: usize = 4096;

/// How many inputs of each class are checked to have the outcome their class says.
const CHECKED: usize = 512;

/// Times `operation` on inputs that `make` draws for their class, `per_class` of each.
/// `outcome` is what `operation` must give on an input of a class: `Ok` or an error code.
fn measure<T, R>(
    runner: &mut CtRunner,
    rng: &mut BenchRng,
    per_class: usize,
    mut make: impl FnMut(&mut BenchRng, Class) -> T,
    outcome: impl Fn(Class) -> Result<(), &'static str>,
    operation: impl Fn(&T) -> wa_flows_crypto::Result<R>,
) {
    let classes = schedule(rng, per_class);
    for (batch_index, batch) in classes.chunks(BATCH).enumerate() {
        let inputs: Vec<(Class, T)> = batch
            .iter()
            .map(|&class| (class, make(rng, class)))
            .collect();
        if batch_index * BATCH < 2 * CHECKED {
            for (class, input) in &inputs {
                let got = operation(input).map(|_| ()).map_err(|error| error.code());
                assert_eq!(got, outcome(*class), "an input not of its class");
            }
        }
        for (class, input) in &inputs {
            // Timed: the call up to its verdict. Building and dropping the value that carries
            // the verdict (an `Ok`, or an `Err` of another layout) differs by a few cycles
            // between accept and reject; that tells the sender what the HTTP status does, and
            // with it in the timing, dudect's cropped tests flag `signature_match_vs_*` at
            // |t| ≈ 20-30 after 10⁵ measurements while every mismatch-against-mismatch pair
            // passes: the accept/reject split itself, not the compare. See timing.md.
            runner.run_one(*class, || operation(input).is_ok());
        }
    }
}

macro_rules! oaep_benches {
    ($($name:ident: $engine:ident, $flaw:ident;)+) => {$(
        fn $name(runner: &mut CtRunner, rng: &mut BenchRng) {
            oaep::bench(runner, rng, wa_flows_crypto::RsaEngine::$engine, oaep::Flaw::$flaw);
        }
    )+};
}

oaep_benches! {
    oaep_aws_lc_valid_vs_first_byte: AwsLc, FirstByte;
    oaep_aws_lc_valid_vs_label_hash: AwsLc, LabelHash;
    oaep_aws_lc_valid_vs_wrong_key: AwsLc, WrongKey;
    oaep_aws_lc_valid_vs_random: AwsLc, Random;
    oaep_rustcrypto_valid_vs_first_byte: RustCrypto, FirstByte;
    oaep_rustcrypto_valid_vs_label_hash: RustCrypto, LabelHash;
    oaep_rustcrypto_valid_vs_wrong_key: RustCrypto, WrongKey;
    oaep_rustcrypto_valid_vs_random: RustCrypto, Random;
}

macro_rules! compare_benches {
    ($($name:ident: $function:ident, $left:ident, $right:ident;)+) => {$(
        fn $name(runner: &mut CtRunner, rng: &mut BenchRng) {
            compare::$function(runner, rng, compare::Variant::$left, compare::Variant::$right);
        }
    )+};
}

compare_benches! {
    signature_match_vs_first_byte: signature, Match, FirstByte;
    signature_match_vs_last_byte: signature, Match, LastByte;
    signature_first_byte_vs_last_byte: signature, FirstByte, LastByte;
    media_mac_match_vs_first_byte: media_mac, Match, FirstByte;
    media_mac_match_vs_last_byte: media_mac, Match, LastByte;
    media_mac_first_byte_vs_last_byte: media_mac, FirstByte, LastByte;
    flow_token_first_byte_vs_last_byte: flow_token, FirstByte, LastByte;
    flow_token_first_byte_vs_random: flow_token, FirstByte, Random;
    flow_token_last_byte_vs_random: flow_token, LastByte, Random;
}

ctbench_main_with_seeds!(
    (flow_token_first_byte_vs_last_byte, Some(0x5eed_0001)),
    (flow_token_first_byte_vs_random, Some(0x5eed_0002)),
    (flow_token_last_byte_vs_random, Some(0x5eed_0003)),
    (media_mac_first_byte_vs_last_byte, Some(0x5eed_0004)),
    (media_mac_match_vs_first_byte, Some(0x5eed_0005)),
    (media_mac_match_vs_last_byte, Some(0x5eed_0006)),
    (oaep_aws_lc_valid_vs_first_byte, Some(0x5eed_0007)),
    (oaep_aws_lc_valid_vs_label_hash, Some(0x5eed_0008)),
    (oaep_aws_lc_valid_vs_random, Some(0x5eed_0009)),
    (oaep_aws_lc_valid_vs_wrong_key, Some(0x5eed_000a)),
    (oaep_rustcrypto_valid_vs_first_byte, Some(0x5eed_000b)),
    (oaep_rustcrypto_valid_vs_label_hash, Some(0x5eed_000c)),
    (oaep_rustcrypto_valid_vs_random, Some(0x5eed_000d)),
    (oaep_rustcrypto_valid_vs_wrong_key, Some(0x5eed_000e)),
    (signature_first_byte_vs_last_byte, Some(0x5eed_000f)),
    (signature_match_vs_first_byte, Some(0x5eed_0010)),
    (signature_match_vs_last_byte, Some(0x5eed_0011))
);

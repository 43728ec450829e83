//! Key loading per format: the cost an endpoint pays once at start-up (and a serverless one
//! on every cold start).

// Test code: a failed fixture or assertion should stop the run loudly.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use criterion::{Criterion, criterion_group, criterion_main};
use wa_flows_crypto::FlowPrivateKey;

fn vectors(relative: &str) -> Vec<u8> {
    std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/vectors/").to_owned() + relative)
        .expect("tests/vectors/ is in the repository")
}

fn load_keys(c: &mut Criterion) {
    let passphrase = b"flows-public-passphrase".as_slice();
    let mut group = c.benchmark_group("key_load");
    for (name, file, passphrase) in [
        ("pkcs8_pem", "keys/rsa2048_pkcs8.pem", None),
        ("pkcs1_pem", "keys/rsa2048_pkcs1.pem", None),
        ("pkcs8_der", "keys/rsa2048_pkcs8.der", None),
        (
            "legacy_des3_pem",
            "keys/rsa2048_legacy_des3.pem",
            Some(passphrase),
        ),
        (
            "pkcs8_aes256_pem",
            "keys/rsa2048_pkcs8_aes256.pem",
            Some(passphrase),
        ),
        ("pkcs8_4096_pem", "keys/rsa4096_pkcs8.pem", None),
    ] {
        let bytes = vectors(file);
        group.bench_function(name, |b| {
            b.iter(|| FlowPrivateKey::from_pem(&bytes, passphrase).expect("vector key loads"))
        });
    }
    group.finish();
}

criterion_group!(benches, load_keys);
criterion_main!(benches);

//! decrypt_request per key size and RSA engine, and encrypt_response per body size: the
//! per-request cost of an endpoint. Success paths only.

// Test code: a failed fixture or assertion should stop the run loudly.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use wa_flows_crypto::{
    AesKey, FlowPrivateKey, ResponseKey, RsaEngine, client, decrypt_request, encrypt_response,
};

fn key(relative: &str) -> FlowPrivateKey {
    let pem = std::fs::read(
        concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/vectors/").to_owned() + relative,
    )
    .expect("tests/vectors/ is in the repository");
    FlowPrivateKey::from_pem(pem, None).expect("vector key loads")
}

fn decrypt(c: &mut Criterion) {
    let mut group = c.benchmark_group("decrypt_request");
    let payload = br#"{"version":"3.0","action":"data_exchange","screen":"APPOINTMENT","flow_token":"flow-token-public","data":{"department":"shopping","location":"1","date":"2024-01-01"}}"#;
    for (bits, file) in [
        (2048, "keys/rsa2048_pkcs8.pem"),
        (3072, "keys/rsa3072_pkcs8.pem"),
        (4096, "keys/rsa4096_pkcs8.pem"),
    ] {
        let loaded = key(file);
        let (body, _) = client::seal_request(&loaded.public_key(), payload).expect("seal");
        for engine in RsaEngine::available() {
            let key = loaded
                .clone()
                .with_engine(*engine)
                .expect("engine is compiled in");
            group.bench_with_input(
                BenchmarkId::new(engine.name(), bits),
                body.as_bytes(),
                |b, body| b.iter(|| decrypt_request(body, &key).expect("vector decrypts")),
            );
        }
    }
    group.finish();
}

fn encrypt(c: &mut Criterion) {
    let mut group = c.benchmark_group("encrypt_response");
    let response_key = ResponseKey::new(AesKey::new([7; 16]), [9; 16]);
    for size in [500usize, 10_000, 100_000] {
        let body = vec![b'x'; size];
        group.throughput(Throughput::Bytes(size as u64));
        group.bench_with_input(BenchmarkId::from_parameter(size), &body, |b, body| {
            b.iter(|| encrypt_response(body, &response_key))
        });
    }
    group.finish();
}

criterion_group!(benches, decrypt, encrypt);
criterion_main!(benches);

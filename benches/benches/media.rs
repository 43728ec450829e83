//! Media decryption throughput (bytes/s) on the success path: one-shot (two threads with the
//! `parallel` feature, from 256 KiB), in place, streaming in 64 KiB chunks, and verify-only.

// Benchmark code: a broken fixture should stop the run loudly.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use wa_flows_crypto::client::seal_media_with;
use wa_flows_crypto::media::{
    MediaDecryptor, MediaVerifier, decrypt_media_content, decrypt_media_content_in_place,
};

const SIZES: [(usize, &str); 4] = [
    (64 << 10, "64KiB"),
    (1 << 20, "1MiB"),
    (16 << 20, "16MiB"),
    (64 << 20, "64MiB"),
];

fn media(c: &mut Criterion) {
    let mut group = c.benchmark_group("media");
    for (size, label) in SIZES {
        let plaintext: Vec<u8> = (0..size).map(|i| (i * 31 % 251) as u8).collect();
        let sealed = seal_media_with(&plaintext, [1; 32], [2; 32], [3; 16]);
        let metadata = &sealed.metadata;
        let file = &sealed.cdn_file;
        group.throughput(Throughput::Bytes(file.len() as u64));
        group.sample_size(if size >= 16 << 20 { 10 } else { 30 });

        group.bench_function(BenchmarkId::new("one_shot", label), |b| {
            b.iter(|| decrypt_media_content(file, metadata).unwrap())
        });
        let mut buffer = file.clone();
        group.bench_function(BenchmarkId::new("in_place", label), |b| {
            b.iter(|| {
                buffer.copy_from_slice(file);
                decrypt_media_content_in_place(&mut buffer, metadata).unwrap()
            })
        });
        let mut out = Vec::with_capacity(1 << 17);
        group.bench_function(BenchmarkId::new("streaming_64KiB", label), |b| {
            b.iter(|| {
                let mut decryptor = MediaDecryptor::new(metadata);
                for chunk in file.chunks(64 << 10) {
                    out.clear();
                    decryptor.update(chunk, &mut out);
                }
                out.clear();
                decryptor.finish(&mut out).unwrap();
            })
        });
        group.bench_function(BenchmarkId::new("verify_only", label), |b| {
            b.iter(|| {
                let mut verifier = MediaVerifier::new(metadata);
                for chunk in file.chunks(64 << 10) {
                    verifier.update(chunk);
                }
                verifier.finish().unwrap();
            })
        });
    }
    group.finish();
}

criterion_group!(benches, media);
criterion_main!(benches);

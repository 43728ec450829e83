// A measurement driver: a broken fixture should stop it loudly.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

//! The Rust side of the cross-runtime comparison (`benches/compare/`).
//!
//! ```sh
//! compare gen DIR                 # the shared inputs: key, sealed requests, response, media
//! compare bench DIR [SECONDS]     # medians of the Rust API on them, as JSON on stdout
//! compare mem DIR SIZE MODE       # one media run in this process (MODE: idle|oneshot|stream);
//!                                 # the orchestrator reads the child's peak RSS
//! ```

use std::io::Read as _;
use std::path::Path;
use std::time::Instant;
use wa_flows_crypto_benches::peak_rss_kib;

use wa_flows_crypto::media::{MediaDecryptor, MediaMetadata, decrypt_media_content};
use wa_flows_crypto::{FlowPrivateKey, ResponseKey, client, decrypt_request, encrypt_response};

/// Sizes of the media inputs, MiB.
const MEDIA_MIB: [usize; 2] = [1, 16];
/// Chunk size of streaming runs in every runtime.
const CHUNK: usize = 64 << 10;

fn read(dir: &Path, name: &str) -> Vec<u8> {
    std::fs::read(dir.join(name)).unwrap_or_else(|e| panic!("{}: {e}", dir.join(name).display()))
}

/// A flow request plaintext of about `size` bytes (a data_exchange with a padded field).
fn request_json(size: usize) -> String {
    let head = r#"{"version":"3.0","action":"data_exchange","screen":"APPOINTMENT","flow_token":"flow-token-4f1c2a","data":{"department":"shopping","location":"1","date":"2024-01-01","note":""#;
    let tail = r#""}}"#;
    let pad = size.saturating_sub(head.len() + tail.len());
    let filler: String = (0..pad)
        .map(|i| char::from(b'a' + (i * 7 % 26) as u8))
        .collect();
    format!("{head}{filler}{tail}")
}

/// A response JSON of about `size` bytes: a screen with a list of options.
fn response_json(size: usize) -> String {
    let mut items = Vec::new();
    let mut length = 0;
    let mut i = 0;
    while length < size.saturating_sub(80) {
        let item =
            format!(r#"{{"id":"option-{i:04}","title":"Option number {i:04} of the list"}}"#);
        length += item.len() + 1;
        items.push(item);
        i += 1;
    }
    format!(
        r#"{{"screen":"SUMMARY","data":{{"status":"active","options":[{}]}}}}"#,
        items.join(",")
    )
}

fn generate(dir: &Path) {
    std::fs::create_dir_all(dir).unwrap();
    let key = FlowPrivateKey::generate_with_bits(2048).unwrap();
    std::fs::write(
        dir.join("key.pem"),
        key.private_key_pem(None).unwrap().as_bytes(),
    )
    .unwrap();
    std::fs::write(dir.join("public.pem"), key.public_key_pem()).unwrap();
    for (name, size) in [("request_small", 300), ("request_large", 200_000)] {
        let plaintext = request_json(size);
        let (body, _) = client::seal_request(&key.public_key(), plaintext.as_bytes()).unwrap();
        std::fs::write(dir.join(format!("{name}.json")), body).unwrap();
    }
    std::fs::write(dir.join("response.json"), response_json(10_000)).unwrap();
    for mib in MEDIA_MIB {
        // Incompressible-looking bytes, deterministic.
        let mut state = 0x9e37_79b9_7f4a_7c15u64;
        let plaintext: Vec<u8> = (0..mib << 20)
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                (state >> 32) as u8
            })
            .collect();
        let sealed = client::seal_media(&plaintext).unwrap();
        std::fs::write(dir.join(format!("media_{mib}m.enc")), &sealed.cdn_file).unwrap();
        std::fs::write(
            dir.join(format!("media_{mib}m.json")),
            sealed.metadata.to_json(),
        )
        .unwrap();
    }
}

/// Median seconds per call: calibrated batches, `ROUNDS` rounds, about `seconds` in all.
fn measure(seconds: f64, mut f: impl FnMut()) -> (f64, usize) {
    const ROUNDS: usize = 7;
    // Warm-up and calibration: at least one call, about 10 % of the budget.
    let start = Instant::now();
    let mut calls = 0usize;
    while calls == 0 || start.elapsed().as_secs_f64() < seconds / 10.0 {
        f();
        calls += 1;
    }
    let per_call = start.elapsed().as_secs_f64() / calls as f64;
    let batch = ((seconds * 0.9 / ROUNDS as f64) / per_call)
        .round()
        .max(1.0) as usize;
    let mut times: Vec<f64> = (0..ROUNDS)
        .map(|_| {
            let t = Instant::now();
            for _ in 0..batch {
                f();
            }
            t.elapsed().as_secs_f64() / batch as f64
        })
        .collect();
    times.sort_by(f64::total_cmp);
    (times[ROUNDS / 2], batch * ROUNDS)
}

fn bench(dir: &Path, seconds: f64) {
    let pem = read(dir, "key.pem");
    let key = FlowPrivateKey::from_pem(&pem, None).unwrap();
    let mut results = Vec::new();
    let mut push = |op: &str, impl_: &str, (median, n): (f64, usize), bytes: Option<usize>| {
        let mut entry = format!(
            r#"{{"op":"{op}","impl":"{impl_}","median_s":{median:e},"ops_per_s":{:e},"n":{n}"#,
            1.0 / median
        );
        if let Some(bytes) = bytes {
            entry += &format!(r#","mb_per_s":{:e}"#, bytes as f64 / median / 1e6);
        }
        entry += "}";
        eprintln!("  rust {op:<22} {:>12.1} ops/s", 1.0 / median);
        results.push(entry);
    };

    push(
        "key_load",
        "rust",
        measure(seconds, || {
            std::hint::black_box(FlowPrivateKey::from_pem(&pem, None).unwrap());
        }),
        None,
    );
    let mut response_key: Option<ResponseKey> = None;
    for (op, file) in [
        ("decrypt_request_300b", "request_small.json"),
        ("decrypt_request_200kb", "request_large.json"),
    ] {
        let body = read(dir, file);
        let decrypted = decrypt_request(&body, &key).unwrap();
        decrypted.request().unwrap();
        response_key.get_or_insert_with(|| decrypted.response_key().clone());
        push(
            op,
            "rust",
            measure(seconds, || {
                let request = decrypt_request(&body, &key).unwrap();
                std::hint::black_box(request.request().unwrap());
            }),
            None,
        );
    }
    let response = read(dir, "response.json");
    let response_key = response_key.unwrap();
    push(
        "encrypt_response_10kb",
        "rust",
        measure(seconds, || {
            std::hint::black_box(encrypt_response(&response, &response_key));
        }),
        Some(response.len()),
    );
    for mib in MEDIA_MIB {
        let file = read(dir, &format!("media_{mib}m.enc"));
        let metadata = MediaMetadata::from_json(&read(dir, &format!("media_{mib}m.json"))).unwrap();
        push(
            &format!("media_{mib}mib"),
            "rust",
            measure(seconds, || {
                std::hint::black_box(decrypt_media_content(&file, &metadata).unwrap());
            }),
            Some(file.len()),
        );
        push(
            &format!("media_{mib}mib_stream"),
            "rust",
            measure(seconds, || {
                std::hint::black_box(stream(&file, &metadata));
            }),
            Some(file.len()),
        );
    }
    println!(
        r#"{{"runtime":"rust","version":"wa-flows-crypto {}","results":[{}]}}"#,
        env!("CARGO_PKG_VERSION"),
        results.join(",")
    );
}

/// Streams `file` through a [`MediaDecryptor`] in 64 KiB chunks; returns the plaintext length.
fn stream(file: &[u8], metadata: &MediaMetadata) -> usize {
    let mut decryptor = MediaDecryptor::new(metadata);
    let mut out = Vec::with_capacity(CHUNK + 64);
    let mut total = 0;
    for chunk in file.chunks(CHUNK) {
        out.clear();
        decryptor.update(chunk, &mut out);
        total += out.len();
    }
    out.clear();
    decryptor.finish(&mut out).unwrap();
    total + out.len()
}

/// One media run, for the parent's peak-RSS reading. Streaming reads the file from disk in
/// chunks, as a server would from the network; the others load it whole.
fn memory(dir: &Path, mib: &str, mode: &str) {
    let metadata = MediaMetadata::from_json(&read(dir, &format!("media_{mib}m.json"))).unwrap();
    let path = dir.join(format!("media_{mib}m.enc"));
    let n = match mode {
        "idle" => read(dir, &format!("media_{mib}m.enc")).len(),
        "oneshot" => decrypt_media_content(&std::fs::read(&path).unwrap(), &metadata)
            .unwrap()
            .len(),
        "stream" => {
            let mut decryptor = MediaDecryptor::new(&metadata);
            let mut input = std::fs::File::open(&path).unwrap();
            let mut chunk = vec![0u8; CHUNK];
            let mut out = Vec::with_capacity(CHUNK + 64);
            let mut total = 0;
            loop {
                let n = input.read(&mut chunk).unwrap();
                if n == 0 {
                    break;
                }
                out.clear();
                decryptor.update(&chunk[..n], &mut out);
                total += out.len();
            }
            out.clear();
            decryptor.finish(&mut out).unwrap();
            total + out.len()
        }
        other => panic!("unknown mode {other}"),
    };
    println!(r#"{{"bytes":{n},"peak_rss_kib":{}}}"#, peak_rss_kib());
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let usage = "usage: compare gen DIR | bench DIR [SECONDS] | mem DIR SIZE idle|oneshot|stream";
    match (args.get(1).map(String::as_str), args.get(2)) {
        (Some("gen"), Some(dir)) => generate(Path::new(dir)),
        (Some("bench"), Some(dir)) => bench(
            Path::new(dir),
            args.get(3)
                .map_or(1.5, |s| s.parse().expect("SECONDS is a number")),
        ),
        (Some("mem"), Some(dir)) => memory(
            Path::new(dir),
            args.get(3).expect(usage),
            args.get(4).expect(usage),
        ),
        _ => {
            eprintln!("{usage}");
            std::process::exit(2);
        }
    }
}

//! Replays every input in `fuzz/regressions/<target>/` (inputs that once broke a fuzz target)
//! through the same invariant checks the fuzz targets run, plus the shared vectors as seeds.

// Test code: a failed fixture or assertion should stop the run loudly.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use wa_flows_crypto_fuzz_harness::harness;

use std::path::Path;

#[test]
fn every_regression_input_passes_its_target() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/regressions");
    // A missing folder would make this test pass while replaying nothing.
    assert!(
        root.join("README.md").is_file(),
        "{} is missing: the regression corpus must be checked in",
        root.display()
    );
    let mut replayed = 0;
    for (name, target) in harness::TARGETS {
        let Ok(entries) = std::fs::read_dir(root.join(name)) else {
            continue;
        };
        for entry in entries {
            let path = entry.unwrap().path();
            let input = std::fs::read(&path).unwrap();
            let outcome = std::panic::catch_unwind(|| target(&input));
            assert!(outcome.is_ok(), "{} breaks {name}", path.display());
            replayed += 1;
        }
    }
    assert!(replayed > 0, "no regression input was replayed");
    println!("replayed {replayed} regression inputs");
}

#[test]
fn shared_vectors_pass_as_seeds() {
    let vectors = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/vectors");
    for entry in std::fs::read_dir(vectors.join("keys")).unwrap() {
        let bytes = std::fs::read(entry.unwrap().path()).unwrap();
        for mode in 0u8..4 {
            let mut input = vec![mode];
            input.extend_from_slice(&bytes);
            harness::private_key(&input);
        }
    }
    let requests: serde_json::Value =
        serde_json::from_slice(&std::fs::read(vectors.join("requests.json")).unwrap()).unwrap();
    for vector in requests["vectors"].as_array().unwrap() {
        // The harness key is rsa2048_pkcs8.pem: only requests that must fail with it are seeds.
        if vector["expect"]["ok"] == false && vector["key"] == "keys/rsa2048_pkcs8.pem" {
            harness::request_body(&serde_json::to_vec(&vector["request"]).unwrap());
        }
    }
    let media: serde_json::Value =
        serde_json::from_slice(&std::fs::read(vectors.join("media.json")).unwrap()).unwrap();
    for vector in media["vectors"].as_array().unwrap() {
        harness::media_metadata(&serde_json::to_vec(&vector["metadata"]).unwrap());
    }
    for seed in [
        &b""[..],
        b"\x00",
        b"\x01\x05\x00\x10\x07\x02",
        &[3; 64],
        &[0xff; 300],
    ] {
        for (_, target) in harness::TARGETS {
            target(seed);
        }
    }
}

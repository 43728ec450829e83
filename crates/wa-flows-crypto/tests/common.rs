//! Shared helpers: loading the repository's `tests/vectors/`.
#![allow(dead_code, unreachable_pub, missing_docs)]
// Test code: a failed fixture or assertion should stop the run loudly.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::path::PathBuf;

use serde_json::Value;

pub fn vectors_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/vectors")
}

pub fn load(name: &str) -> Value {
    let path = vectors_dir().join(name);
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|error| panic!("cannot read {}: {error}", path.display()));
    serde_json::from_str(&text).unwrap()
}

pub fn read(relative: &str) -> Vec<u8> {
    std::fs::read(vectors_dir().join(relative)).unwrap()
}

pub fn vectors(name: &str) -> Vec<Value> {
    let file = load(name);
    let vectors = file["vectors"].as_array().unwrap().clone();
    assert!(!vectors.is_empty(), "{name} has no vectors");
    vectors
}

pub fn passphrase() -> String {
    load("requests.json")["passphrase"]
        .as_str()
        .unwrap()
        .to_owned()
}

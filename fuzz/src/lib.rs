//! The fuzz targets' bodies. `harness.rs` holds the invariants of every target that only needs
//! the core; the core's `tests/fuzz_regressions.rs` includes the same file to replay
//! `regressions/` under a plain `cargo test`.

#[path = "harness.rs"]
pub mod harness;

#[path = "c_abi.rs"]
pub mod c_abi;

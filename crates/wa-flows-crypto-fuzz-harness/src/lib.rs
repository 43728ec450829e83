//! The fuzz targets' bodies, in one crate that `fuzz/` (cargo-fuzz, nightly) and this crate's
//! own tests (the replay of `fuzz/regressions/`, stable) both link, so that a target and its
//! replay can never check different things.
//!
//! [`harness`] holds the invariants of every target that only needs the core; [`c_abi`] calls
//! the C ABI as a careless C host would.

pub mod c_abi;
pub mod harness;

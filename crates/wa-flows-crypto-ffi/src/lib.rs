//! The C ABI of [`wa_flows_crypto`]: the header is `bindings/c/include/wa_flows_crypto.h`.
//!
//! Conventions follow rustls-ffi: every symbol is prefixed `wfc_`; objects are opaque handles
//! created through a `T **out` parameter and released with `_free` (which accepts NULL); every
//! function returns a numbered [`wfc_status`]; outputs go to caller buffers
//! `(out, out_cap, out_len)` and `WFC_STATUS_BUFFER_TOO_SMALL` reports the length needed; every
//! pointer is checked for NULL before use and every entry point catches panics.
//!
//! This crate is the only one in the workspace with `unsafe` code (it dereferences the C
//! caller's pointers); each `unsafe` block carries a `SAFETY:` comment that names the contract
//! in the header that makes it sound.
// The one crate allowed `unsafe` (the workspace denies it): the lints below keep it reviewable.
#![allow(unsafe_code)]
#![deny(unsafe_op_in_unsafe_fn, clippy::missing_safety_doc)]
#![warn(clippy::undocumented_unsafe_blocks)]
// The C names are the API: `wfc_private_key`, not `WfcPrivateKey`.
#![allow(non_camel_case_types)]

mod endpoint;
mod ffi;
mod key;
mod media;
mod request;
mod signature;
mod status;

pub use endpoint::*;
pub use ffi::wfc_bytes;
pub use key::*;
pub use media::*;
pub use request::*;
pub use signature::*;
pub use status::*;

//! WebAssembly bindings for [`wa_flows_crypto`], the low level under the `wa-flows-crypto` npm
//! package (`bindings/node`).
//!
//! This crate converts types and errors; every check is the core's. The npm package's
//! hand-written wrapper modules give these exports their public names (`FlowPrivateKey`,
//! `decryptRequest`, …), route the RSA unwrap to `node:crypto` or WebCrypto when the platform
//! has it (with [`WasmPrivateKey::unwrap_aes_key`] as the portable engine), and turn the errors
//! thrown here into `FlowCryptoError` instances.
//!
//! Errors are thrown as JavaScript `Error` objects named `FlowCryptoError` with a `code`
//! (the core's [`Error::code`](wa_flows_crypto::Error::code)) and an `httpStatus` (a number, or
//! `null` for media errors).

mod error;
mod flow;
mod input;
mod key;
mod media;
mod request;

pub use error::internal_error;
pub use flow::{
    WasmDecrypted, WasmEndpoint, WasmKeyRing, WasmOpened, automatic_response,
    error_acknowledgement, flow_token_error_response, flow_token_error_status, flow_view,
    ping_response, sign_flow_token, verify_flow_token_signature, verify_signature_any,
};
pub use key::WasmPrivateKey;
pub use media::{
    WasmMediaDecryptor, WasmMediaMetadata, WasmMediaStreamSplit, WasmMediaVerifier,
    decrypt_media_content, media_check_padding, media_ciphertext_length, media_last_block_start,
    media_metadata_fields,
};
pub use request::{
    WasmRequest, encrypt_response, host_unwrapped, parse_request, request_fields,
    request_from_parts, response_iv, sign, verify_signature,
};

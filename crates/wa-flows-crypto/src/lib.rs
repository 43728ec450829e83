#![doc = include_str!("../README.md")]
#![cfg_attr(docsrs, feature(doc_cfg))]

pub mod client;
mod encoding;
pub mod endpoint;
pub mod error;
pub mod flow;
pub mod key;
pub mod media;
pub mod request;
pub mod response;
pub mod signature;

pub use endpoint::{FlowEndpoint, FlowTokenSignaturePolicy, OpenedRequest};
pub use error::{
    Error, ErrorKind, FlowTokenError, InternalError, KeyError, Result, SignatureError,
};
pub use flow::{Action, FlowRequest};
pub use key::{FlowKeyRing, FlowPrivateKey, FlowPublicKey, RsaEngine};
pub use media::{
    MediaDecryptor, MediaMetadata, MediaVerifier, decrypt_media_content,
    decrypt_media_content_in_place,
};
pub use request::{
    AesKey, DecryptedRequest, EncryptedRequest, decrypt_payload, decrypt_payload_with,
    decrypt_request, unwrap_aes_key,
};
pub use response::{ResponseKey, encrypt_response};
pub use signature::{
    FlowTokenSignature, sign, verify_flow_token_signature, verify_signature, verify_signature_any,
};

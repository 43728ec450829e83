//! A complete WhatsApp Flows endpoint on `wa-flows-crypto`: axum, one route, a two-screen flow
//! with a PhotoPicker, key and app-secret rotation and data API 4.0 flow token signatures.
//!
//! The binary (`src/main.rs`) reads its configuration from the environment ([`config`]) and
//! serves [`app::router`]. `README.md` beside this crate is the specification every example
//! endpoint follows.

pub mod app;
pub mod config;
mod flow;
mod media;

pub use media::MediaOptions;

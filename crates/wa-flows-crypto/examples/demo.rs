//! The whole exchange on a fresh key, as WhatsApp and an endpoint would run it.
//!
//! ```sh
//! cargo run -p wa-flows-crypto --example demo
//! ```

// Test code: a failed fixture or assertion should stop the run loudly.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::time::Instant;

use wa_flows_crypto::flow::PING_RESPONSE;
use wa_flows_crypto::{FlowPrivateKey, client, decrypt_request};

fn main() -> Result<(), wa_flows_crypto::Error> {
    let started = Instant::now();
    let key = FlowPrivateKey::generate()?;
    println!(
        "generated a {}-bit key in {:.1?}",
        key.bits(),
        started.elapsed()
    );
    println!(
        "public key to upload (fingerprint {}):\n{}",
        key.public_key_fingerprint(),
        key.public_key_pem()
    );

    let plaintext = br#"{"version":"3.0","action":"ping"}"#;
    let (body, session) = client::seal_request(&key.public_key(), plaintext)?;
    println!(
        "WhatsApp sends {} bytes: {}…",
        body.len(),
        body.get(..72).unwrap_or(&body)
    );

    let started = Instant::now();
    let request = decrypt_request(body.as_bytes(), &key)?;
    println!(
        "decrypted in {:.1?}: {}",
        started.elapsed(),
        request.plaintext()
    );

    let flow_request = request.request()?;
    let answer = if flow_request.is_ping() {
        PING_RESPONSE
    } else {
        "{}"
    };
    let started = Instant::now();
    let response_body = request.encrypt_response(answer.as_bytes());
    println!("answered in {:.1?}: {response_body}", started.elapsed());

    let opened = session.open_response(&response_body)?;
    println!(
        "WhatsApp opens the answer: {}",
        String::from_utf8_lossy(&opened)
    );
    Ok(())
}

//! demo: the whole exchange on a fresh key, with nothing but this binary.

use std::fmt::Write as _;
use std::time::{Duration, Instant};

use wa_flows_crypto::{
    FlowPrivateKey, MediaDecryptor, client, decrypt_media_content, decrypt_request,
};

use crate::error::{CliError, CliResult};

const REQUEST: &str = r#"{"version":"3.0","action":"data_exchange","screen":"APPOINTMENT","flow_token":"demo-flow-token","data":{"department":"dental","date":"2025-06-12"}}"#;
const CHUNK: usize = 64 * 1024;
/// The largest `--media-size`: the demo holds the file and its plaintext in memory, and 64 MiB
/// is already well past WhatsApp's 25 MiB upload cap.
pub(crate) const MAX_MEDIA_SIZE: u64 = 64 * 1024 * 1024;

/// Runs `step`, prints its line with the time it took, and returns its value.
fn step<T>(
    out: &mut String,
    number: usize,
    what: &str,
    run: impl FnOnce() -> CliResult<T>,
) -> CliResult<(T, Duration)> {
    let started = Instant::now();
    let value = run()?;
    let took = started.elapsed();
    let _ = writeln!(out, "{number:>2}. {what:<62} {:>10}", millis(took));
    Ok((value, took))
}

fn millis(took: Duration) -> String {
    format!("{:.3} ms", took.as_secs_f64() * 1e3)
}

fn excerpt(text: &str) -> String {
    const MAX: usize = 72;
    match text.char_indices().nth(MAX) {
        Some((at, _)) => format!("{}…", text.get(..at).unwrap_or(text)),
        None => text.to_owned(),
    }
}

fn mismatch(what: &str) -> CliError {
    CliError::new(
        "demo_failed",
        format!("{what}: the round trip did not give back the input"),
    )
}

/// `demo`.
pub(crate) fn demo(media_len: usize) -> CliResult {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "wa-flows-crypto demo: the whole WhatsApp Flows exchange on a fresh key\n"
    );

    // The business side: a key pair, the public half uploaded to WhatsApp.
    let (key, _) = step(&mut out, 1, "endpoint: generate a 2048-bit RSA key", || {
        Ok(FlowPrivateKey::generate()?)
    })?;
    let public = key.public_key();
    let _ = writeln!(
        out,
        "    public key fingerprint {}",
        key.public_key_fingerprint()
    );

    // WhatsApp seals a request for that public key.
    let ((body, session), _) = step(
        &mut out,
        2,
        "WhatsApp: seal a data_exchange request (AES-GCM + RSA-OAEP)",
        || Ok(client::seal_request(&public, REQUEST.as_bytes())?),
    )?;
    let _ = writeln!(out, "    POST body {}", excerpt(&body));

    // The endpoint decrypts it.
    let (decrypted, _) = step(&mut out, 3, "endpoint: decrypt_request", || {
        Ok(decrypt_request(body.as_bytes(), &key)?)
    })?;
    if decrypted.plaintext() != REQUEST {
        return Err(mismatch("request"));
    }
    let _ = writeln!(out, "    plaintext {}", excerpt(decrypted.plaintext()));

    // ... answers it ...
    let (answer, _) = step(
        &mut out,
        4,
        "endpoint: answer with the next screen (encrypt_response)",
        || {
            let request = decrypted.request()?;
            let response = serde_json::json!({
                "screen": "CONFIRM",
                "data": { "received": request.data, "flow_token": request.flow_token },
            })
            .to_string();
            Ok((decrypted.encrypt_response(response.as_bytes()), response))
        },
    )?;
    let (encrypted_answer, answer_plaintext) = answer;
    let _ = writeln!(out, "    response body {}", excerpt(&encrypted_answer));

    // ... and WhatsApp opens the answer with the inverted IV.
    let (opened, _) = step(
        &mut out,
        5,
        "WhatsApp: open the answer (inverted IV)",
        || Ok(session.open_response(&encrypted_answer)?),
    )?;
    if opened != answer_plaintext.as_bytes() {
        return Err(mismatch("response"));
    }
    let _ = writeln!(out, "    opened {}", excerpt(&answer_plaintext));

    // Media: WhatsApp encrypts an uploaded photo, the endpoint downloads and decrypts it.
    let photo: Vec<u8> = (0..media_len)
        .map(|i| (i.wrapping_mul(31) ^ (i >> 8)) as u8)
        .collect();
    let mib = media_len as f64 / (1024.0 * 1024.0);
    let (sealed, _) = step(
        &mut out,
        6,
        &format!("WhatsApp: seal a {mib:.1} MiB photo (AES-256-CBC + HMAC)"),
        || Ok(client::seal_media(&photo)?),
    )?;
    let _ = writeln!(
        out,
        "    encryption_metadata {}",
        excerpt(&sealed.metadata.to_json())
    );

    let (streamed, took) = step(
        &mut out,
        7,
        "endpoint: decrypt it streaming (MediaDecryptor, 64 KiB)",
        || {
            let mut decryptor = MediaDecryptor::new(&sealed.metadata);
            let mut plaintext = Vec::with_capacity(sealed.cdn_file.len());
            for chunk in sealed.cdn_file.chunks(CHUNK) {
                decryptor.update(chunk, &mut plaintext);
            }
            decryptor.finish(&mut plaintext)?;
            Ok(plaintext)
        },
    )?;
    if streamed != photo {
        return Err(mismatch("streamed media"));
    }
    let _ = writeln!(out, "    verified, {}", throughput(media_len, took));

    let (whole, took) = step(
        &mut out,
        8,
        "endpoint: decrypt it in one call (decrypt_media_content)",
        || Ok(decrypt_media_content(&sealed.cdn_file, &sealed.metadata)?),
    )?;
    if whole != photo {
        return Err(mismatch("media"));
    }
    let _ = writeln!(out, "    verified, {}", throughput(media_len, took));

    let (code, _) = step(
        &mut out,
        9,
        "endpoint: refuse the photo with one bit flipped",
        || {
            let mut damaged = sealed.cdn_file.clone();
            if let Some(byte) = damaged.first_mut() {
                *byte ^= 0x01;
            }
            match decrypt_media_content(&damaged, &sealed.metadata) {
                Ok(_) => Err(CliError::new(
                    "demo_failed",
                    "a damaged media file was accepted",
                )),
                Err(err) => Ok(err.code()),
            }
        },
    )?;
    let _ = writeln!(out, "    refused: error[{code}]");

    let _ = writeln!(
        out,
        "\nnext: wa-flows-crypto keygen --out keys/   then   wa-flows-crypto --help"
    );
    print!("{out}");
    Ok(())
}

fn throughput(bytes: usize, took: Duration) -> String {
    let seconds = took.as_secs_f64();
    if seconds <= 0.0 {
        return "too fast to measure".to_owned();
    }
    format!("{:.0} MiB/s", bytes as f64 / (1024.0 * 1024.0) / seconds)
}

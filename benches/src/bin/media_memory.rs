// A measurement driver: a broken fixture should stop it loudly.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

//! Peak memory of media decryption, measured in a small driver program (Linux: `VmHWM`).
//!
//! ```sh
//! cargo run --release -p wa-flows-crypto-benches --bin media_memory -- 64
//! ```
//! seals a 64 MiB file to a temporary path, then measures, each in a fresh process: streaming
//! it from disk in 64 KiB chunks (peak RSS), and in-place one-shot decryption (peak RSS over
//! the file buffer itself).

use std::io::{Read as _, Write as _};
use std::process::Command;
use wa_flows_crypto_benches::peak_rss_kib;

use wa_flows_crypto::media::{MediaDecryptor, MediaMetadata, decrypt_media_content_in_place};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    match args.get(1).map(String::as_str) {
        Some("stream") => {
            let (file, metadata) = (&args[2], std::fs::read(&args[3])?);
            let metadata = MediaMetadata::from_json(&metadata)?;
            let mut decryptor = MediaDecryptor::new(&metadata);
            let mut input = std::fs::File::open(file)?;
            let mut chunk = vec![0u8; 64 << 10];
            let mut out = Vec::with_capacity(128 << 10);
            let mut total = 0usize;
            loop {
                let n = input.read(&mut chunk)?;
                if n == 0 {
                    break;
                }
                out.clear();
                decryptor.update(&chunk[..n], &mut out);
                total += out.len();
            }
            out.clear();
            decryptor.finish(&mut out)?;
            total += out.len();
            println!(
                "stream: {total} plaintext bytes, peak RSS {} KiB",
                peak_rss_kib()
            );
        }
        Some("in-place") => {
            let (file, metadata) = (&args[2], std::fs::read(&args[3])?);
            let metadata = MediaMetadata::from_json(&metadata)?;
            let mut buffer = std::fs::read(file)?;
            let before = peak_rss_kib();
            let n = decrypt_media_content_in_place(&mut buffer, &metadata)?;
            let after = peak_rss_kib();
            println!(
                "in-place: {n} plaintext bytes, peak RSS {after} KiB, {} KiB over the loaded file",
                after.saturating_sub(before)
            );
        }
        _ => {
            let mib: usize = args.get(1).map_or(Ok(64), |a| a.parse())?;
            let dir = std::env::temp_dir().join(format!("wfc-media-memory-{}", std::process::id()));
            std::fs::create_dir_all(&dir)?;
            let (file, metadata) = (dir.join("file.enc"), dir.join("metadata.json"));
            {
                let plaintext: Vec<u8> = (0..mib << 20).map(|i| (i * 31 % 251) as u8).collect();
                let sealed = wa_flows_crypto::client::seal_media(&plaintext)?;
                std::fs::File::create(&file)?.write_all(&sealed.cdn_file)?;
                std::fs::write(&metadata, sealed.metadata.to_json())?;
            }
            println!("{mib} MiB file sealed");
            let me = std::env::current_exe()?;
            for mode in ["stream", "in-place"] {
                let status = Command::new(&me)
                    .arg(mode)
                    .arg(&file)
                    .arg(&metadata)
                    .status()?;
                if !status.success() {
                    return Err(format!("{mode} failed").into());
                }
            }
            std::fs::remove_dir_all(&dir)?;
        }
    }
    Ok(())
}

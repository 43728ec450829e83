//! decrypt-media: streaming, and no unverified plaintext left behind.

use std::fs::File;
use std::io::{IsTerminal, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use tempfile::NamedTempFile;
use wa_flows_crypto::{MediaDecryptor, MediaMetadata};

use crate::error::{CliError, CliResult};
use crate::input::{Limit, read_input};

/// How much of the CDN file is read at a time.
const CHUNK: usize = 256 * 1024;
/// Files at least this large get a progress bar on a terminal without `--progress`.
const PROGRESS_THRESHOLD: u64 = 16 * 1024 * 1024;

/// The default `--max-size`: WhatsApp caps uploads at 25 MiB, and the CDN file adds at most
/// 16 bytes of padding and the 10-byte MAC.
pub(crate) const DEFAULT_MAX_SIZE: u64 = 25 * 1024 * 1024 + 16 + 10;

/// The temporary file holding unverified plaintext, while there is one. The signal thread
/// deletes it; the main thread holds the lock while it renames the file into place, so a
/// signal never deletes a verified output or leaves an unverified one.
static UNVERIFIED: Mutex<Option<PathBuf>> = Mutex::new(None);

fn set_unverified(path: Option<PathBuf>) {
    let mut slot = UNVERIFIED
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    *slot = path;
}

/// On SIGINT, SIGTERM or SIGHUP, deletes the unverified plaintext and exits as the signal
/// would (128 + its number). Without this the default action kills the process before
/// `NamedTempFile`'s destructor runs, and the plaintext stays next to `--out`.
#[cfg(unix)]
fn remove_unverified_on_signals() -> CliResult {
    use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
    let mut signals = signal_hook::iterator::Signals::new([SIGINT, SIGTERM, SIGHUP])
        .map_err(|err| CliError::new("io", format!("cannot install signal handlers: {err}")))?;
    std::thread::spawn(move || {
        if let Some(signal) = signals.forever().next() {
            let slot = UNVERIFIED
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner());
            if let Some(path) = slot.as_ref() {
                let _ = std::fs::OpenOptions::new()
                    .write(true)
                    .open(path)
                    .and_then(|file| file.set_len(0));
                let _ = std::fs::remove_file(path);
                eprintln!("interrupted: removed the unverified plaintext");
            }
            std::process::exit(128 + signal);
        }
    });
    Ok(())
}

#[cfg(not(unix))]
fn remove_unverified_on_signals() -> CliResult {
    Ok(())
}

/// Reads `encryption_metadata`: the object itself, or any object holding it under
/// `encryption_metadata` (a whole PhotoPicker entry, say).
pub(crate) fn load_metadata(arg: &str) -> CliResult<MediaMetadata> {
    let bytes = zeroize::Zeroizing::new(read_input(
        Some(arg),
        "encryption_metadata",
        Limit::Metadata,
    )?);
    let value: serde_json::Value = serde_json::from_slice(&bytes).map_err(|err| {
        CliError::new(
            "malformed",
            format!("malformed input: the metadata is not valid JSON ({err})"),
        )
    })?;
    let metadata = value.get("encryption_metadata").unwrap_or(&value);
    Ok(MediaMetadata::from_json_value(metadata)?)
}

/// `decrypt-media`.
pub(crate) fn decrypt_media(
    metadata: &str,
    input: &Path,
    output: &Path,
    progress: bool,
    force: bool,
    max_size: u64,
) -> CliResult {
    let metadata = load_metadata(metadata)?;
    if !force && output.exists() {
        return Err(CliError::new(
            "exists",
            format!(
                "{} already exists; choose another --out or pass --force to replace it",
                output.display()
            ),
        ));
    }
    let mut source = File::open(input).map_err(|err| CliError::io("open", input, &err))?;
    let total = source.metadata().map(|m| m.len()).unwrap_or(0);
    if total > max_size {
        return Err(too_large(max_size));
    }
    remove_unverified_on_signals()?;

    let directory = match output.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    };
    // The plaintext goes to a temporary file next to the destination (mode 0600), renamed
    // only after `finish` verified everything; dropping it on any error deletes it.
    let mut temp = tempfile::Builder::new()
        .prefix(".wa-flows-crypto-")
        .suffix(".partial")
        .tempfile_in(directory)
        .map_err(|err| CliError::io("create a temporary file in", directory, &err))?;
    set_unverified(Some(temp.path().to_path_buf()));

    let bar = progress_bar(total, progress);
    let result = stream(&mut source, &mut temp, &metadata, &bar, max_size);
    bar.finish_and_clear();
    if let Err(err) = result {
        discard(temp);
        set_unverified(None);
        return Err(err);
    }

    let persisted = {
        let mut slot = UNVERIFIED
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let persisted = if force {
            temp.persist(output).map_err(|err| err.file)
        } else {
            temp.persist_noclobber(output).map_err(|err| err.file)
        };
        if persisted.is_ok() {
            *slot = None;
        }
        persisted
    };
    match persisted {
        Ok(_) => {
            eprintln!(
                "verified and wrote {} ({} bytes)",
                output.display(),
                std::fs::metadata(output).map(|m| m.len()).unwrap_or(0)
            );
            Ok(())
        }
        Err(temp) => {
            discard(temp);
            set_unverified(None);
            Err(CliError::new(
                "io",
                format!(
                    "cannot move the verified plaintext to {} (does it exist now? pass --force \
                     to replace it)",
                    output.display()
                ),
            ))
        }
    }
}

/// Decrypts `source` into `sink`, verifying everything at the end.
fn stream(
    source: &mut File,
    sink: &mut NamedTempFile,
    metadata: &MediaMetadata,
    bar: &ProgressBar,
    max_size: u64,
) -> CliResult {
    let input_error =
        |err: std::io::Error| CliError::new("io", format!("cannot read the media file: {err}"));
    let output_error = |err: std::io::Error| {
        CliError::new(
            "io",
            format!("cannot write the temporary plaintext file: {err}"),
        )
    };
    let mut decryptor = MediaDecryptor::new(metadata);
    let mut chunk = vec![0u8; CHUNK];
    let mut plaintext = zeroize::Zeroizing::new(Vec::with_capacity(CHUNK + 32));
    let mut seen: u64 = 0;
    loop {
        let read = match source.read(&mut chunk) {
            Ok(0) => break,
            Ok(read) => read,
            Err(err) if err.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(err) => return Err(input_error(err)),
        };
        // A pipe or device has no length to check up front: stop at the first byte over.
        seen = seen.saturating_add(read as u64);
        if seen > max_size {
            return Err(too_large(max_size));
        }
        let piece = chunk.get(..read).unwrap_or_default();
        plaintext.clear();
        decryptor.update(piece, &mut plaintext);
        sink.write_all(&plaintext).map_err(output_error)?;
        bar.inc(read as u64);
    }
    plaintext.clear();
    decryptor.finish(&mut plaintext)?;
    sink.write_all(&plaintext).map_err(output_error)?;
    sink.as_file_mut().sync_all().map_err(output_error)?;
    Ok(())
}

fn too_large(max_size: u64) -> CliError {
    CliError::new(
        "too_large",
        format!(
            "the media file is larger than --max-size ({max_size} bytes); WhatsApp caps \
             uploads at 25 MiB, so this is not a Flows media file (raise --max-size if it is)"
        ),
    )
}

/// Empties and deletes the temporary file holding unverified plaintext.
fn discard(temp: NamedTempFile) {
    let _ = temp.as_file().set_len(0);
    let _ = temp.close();
}

fn progress_bar(total: u64, requested: bool) -> ProgressBar {
    let terminal = std::io::stderr().is_terminal();
    if !(terminal && (requested || total >= PROGRESS_THRESHOLD)) {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr());
    if let Ok(style) = ProgressStyle::with_template(
        "{spinner} decrypting [{bar:40}] {bytes}/{total_bytes} ({bytes_per_sec}, {eta})",
    ) {
        bar.set_style(style.progress_chars("=> "));
    }
    bar
}

//! PhotoPicker / DocumentPicker uploads (`--media-dir`): each file is downloaded from its
//! `cdn_url`, decrypted as it arrives with the core's streaming `MediaDecryptor`, written to a
//! hidden temporary file, and renamed into the media directory only after `finish` verified
//! it (file hash, HMAC, padding, plaintext hash). The upstream then gets, in place of each
//! upload,
//!
//! ```json
//! {"file_name": "IMG_5237.jpg", "media_id": "…", "path": "/var/lib/flows/media/3f…9a.jpg",
//!  "size": 48213, "sha256": "<hex of the decrypted file>"}
//! ```
//!
//! that is the upload with `cdn_url` and `encryption_metadata` removed and `path`, `size` and
//! `sha256` added; every other field is kept as sent. An upload is a `data` field whose value
//! is an array of objects each holding `cdn_url` and `encryption_metadata`.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{Map, Value};
use sha2::{Digest as _, Sha256};
use tokio::io::AsyncWriteExt as _;
use tokio::task::JoinSet;
use wa_flows_crypto::{MediaDecryptor, MediaMetadata};
use zeroize::Zeroizing;

use crate::config::MediaConfig;
use crate::metrics::Metrics;

/// WhatsApp sends at most 30 files per request.
pub(crate) const MAX_FILES: usize = 30;

/// Why an upload could not be handed over. Every one is a 500 for WhatsApp.
pub(crate) type MediaError = &'static str;

/// Downloads and verifies media, shared by every request.
#[derive(Clone, Debug)]
pub(crate) struct Media {
    http: reqwest::Client,
    config: Arc<MediaConfig>,
}

impl Media {
    pub(crate) fn new(config: MediaConfig) -> Result<Self, String> {
        std::fs::create_dir_all(&config.dir).map_err(|error| {
            format!(
                "--media-dir {}: cannot be created: {error}",
                config.dir.display()
            )
        })?;
        let allow_http = config.allow_http;
        // A few redirects, never from https to http.
        let redirects = reqwest::redirect::Policy::custom(move |attempt| {
            let scheme_ok = attempt.url().scheme() == "https"
                || (allow_http && attempt.url().scheme() == "http");
            if attempt.previous().len() >= 3 || !scheme_ok {
                attempt.stop()
            } else {
                attempt.follow()
            }
        });
        let http = reqwest::Client::builder()
            .redirect(redirects)
            .no_proxy()
            .connect_timeout(Duration::from_secs(5))
            .read_timeout(Duration::from_secs(5))
            .build()
            .map_err(|error| format!("cannot set up the HTTP client for media: {error}"))?;
        Ok(Self {
            http,
            config: Arc::new(config),
        })
    }

    /// Replaces every upload in `data` by its verified local file. Files written for a
    /// request that then fails are removed.
    pub(crate) async fn hand_over(
        &self,
        data: &mut Value,
        metrics: &Metrics,
    ) -> Result<(), MediaError> {
        let Some(fields) = data.as_object_mut() else {
            return Ok(());
        };
        let mut jobs = Vec::new();
        for (name, value) in fields.iter() {
            if let Some(uploads) = value.as_array().filter(|items| is_upload_list(items)) {
                for (index, upload) in uploads.iter().enumerate() {
                    jobs.push((name.clone(), index, parse_upload(upload)));
                }
            }
        }
        if jobs.is_empty() {
            return Ok(());
        }
        if jobs.len() > MAX_FILES {
            return Err("too_many_files");
        }
        // Every file this request writes, removed unless the request reaches the upstream
        // (also when the deadline drops this future and so aborts the downloads).
        let cleanup = Cleanup::default();
        let mut tasks = JoinSet::new();
        for (field, index, upload) in jobs {
            let media = self.clone();
            let files = Arc::clone(&cleanup.0);
            tasks.spawn(async move {
                let result = match upload {
                    Ok((url, metadata, extension)) => {
                        media.fetch(&url, &metadata, &extension, &files).await
                    }
                    Err(code) => Err(code),
                };
                (field, index, result)
            });
        }
        let mut written = Vec::new();
        let mut failure = None;
        while let Some(joined) = tasks.join_next().await {
            match joined {
                Ok((field, index, Ok(file))) => {
                    metrics.media_file("ok");
                    written.push((field, index, file));
                }
                Ok((_, _, Err(code))) => {
                    metrics.media_file(code);
                    failure.get_or_insert(code);
                }
                Err(_) => {
                    failure.get_or_insert("internal");
                }
            }
        }
        if let Some(code) = failure {
            return Err(code);
        }
        for (field, index, file) in written {
            let entry = fields
                .get_mut(&field)
                .and_then(|value| value.get_mut(index))
                .and_then(Value::as_object_mut)
                .ok_or("internal")?;
            entry.remove("cdn_url");
            entry.remove("encryption_metadata");
            entry.insert(
                "path".to_owned(),
                Value::String(file.path.to_string_lossy().into_owned()),
            );
            entry.insert("size".to_owned(), Value::from(file.size));
            entry.insert("sha256".to_owned(), Value::String(file.sha256));
        }
        cleanup.disarm();
        Ok(())
    }

    /// Downloads one file, decrypts it into a hidden temporary file, verifies it, and renames
    /// it into place.
    async fn fetch(
        &self,
        url: &str,
        metadata: &MediaMetadata,
        extension: &str,
        files: &Mutex<Vec<PathBuf>>,
    ) -> Result<LocalFile, MediaError> {
        let allowed =
            url.starts_with("https://") || (self.config.allow_http && url.starts_with("http://"));
        if !allowed {
            return Err("cdn_url_refused");
        }
        let name = random_name()?;
        let final_path = self.config.dir.join(format!("{name}{extension}"));
        let partial = self.config.dir.join(format!(".{name}.partial"));
        // Registered before it exists: removed whatever happens, even if this task is aborted.
        register(files, partial.clone());
        let (size, sha256) = self.download(url, metadata, &partial).await?;
        // Synchronous, with no await in between: a file renamed is a file registered.
        std::fs::rename(&partial, &final_path).map_err(|_| "media_dir_write")?;
        register(files, final_path.clone());
        Ok(LocalFile {
            path: final_path,
            size,
            sha256,
        })
    }

    async fn download(
        &self,
        url: &str,
        metadata: &MediaMetadata,
        partial: &Path,
    ) -> Result<(u64, String), MediaError> {
        let mut response = self
            .http
            .get(url)
            .send()
            .await
            .map_err(|_| "download_failed")?;
        if !response.status().is_success() {
            return Err("download_failed");
        }
        let max = self.config.max_bytes;
        if response.content_length().is_some_and(|len| len > max) {
            return Err("too_large");
        }
        let mut file = tokio::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(partial)
            .await
            .map_err(|_| "media_dir_write")?;
        let mut decryptor = MediaDecryptor::new(metadata);
        let mut hasher = Sha256::new();
        let mut size = 0u64;
        let mut received = 0u64;
        let mut plaintext = Zeroizing::new(Vec::new());
        while let Some(chunk) = response.chunk().await.map_err(|_| "download_failed")? {
            received = received.saturating_add(chunk.len() as u64);
            if received > max {
                return Err("too_large");
            }
            plaintext.clear();
            // NOT VERIFIED yet: it goes to the hidden .partial file only, which is removed
            // unless finish() passes.
            decryptor.update(&chunk, &mut plaintext);
            hasher.update(plaintext.as_slice());
            size = size.saturating_add(plaintext.len() as u64);
            file.write_all(&plaintext)
                .await
                .map_err(|_| "media_dir_write")?;
        }
        plaintext.clear();
        decryptor
            .finish(&mut plaintext)
            .map_err(|error| error.code())?;
        hasher.update(plaintext.as_slice());
        size = size.saturating_add(plaintext.len() as u64);
        file.write_all(&plaintext)
            .await
            .map_err(|_| "media_dir_write")?;
        file.flush().await.map_err(|_| "media_dir_write")?;
        file.sync_all().await.map_err(|_| "media_dir_write")?;
        Ok((size, hex::encode(hasher.finalize())))
    }
}

fn register(files: &Mutex<Vec<PathBuf>>, path: PathBuf) {
    files
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .push(path);
}

/// The files of one request: removed when dropped, unless disarmed.
#[derive(Default)]
struct Cleanup(Arc<Mutex<Vec<PathBuf>>>);

impl Cleanup {
    fn disarm(&self) {
        self.0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clear();
    }
}

impl Drop for Cleanup {
    fn drop(&mut self) {
        let files = self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        for path in files.iter() {
            // Renamed already, or never created: nothing to do.
            let _ = std::fs::remove_file(path);
        }
    }
}

/// A verified file in the media directory.
#[derive(Debug)]
struct LocalFile {
    path: PathBuf,
    size: u64,
    sha256: String,
}

/// Whether a `data` value is a list of uploads: a non-empty array of objects that each hold
/// `cdn_url` and `encryption_metadata`.
fn is_upload_list(items: &[Value]) -> bool {
    !items.is_empty()
        && items.iter().all(|item| {
            item.as_object().is_some_and(|object: &Map<String, Value>| {
                object.contains_key("cdn_url") && object.contains_key("encryption_metadata")
            })
        })
}

/// The `cdn_url`, the parsed `encryption_metadata` and a safe file extension of one upload.
fn parse_upload(upload: &Value) -> Result<(String, MediaMetadata, String), MediaError> {
    let url = upload
        .get("cdn_url")
        .and_then(Value::as_str)
        .ok_or("malformed_upload")?;
    let metadata = upload
        .get("encryption_metadata")
        .ok_or("malformed_upload")
        .and_then(|value| MediaMetadata::from_json_value(value).map_err(|error| error.code()))?;
    let extension = upload
        .get("file_name")
        .and_then(Value::as_str)
        .map(safe_extension)
        .unwrap_or_default();
    Ok((url.to_owned(), metadata, extension))
}

/// `.jpg` for `IMG 1.JPG`: a dot and at most 10 ASCII letters or digits, lower-cased, or
/// nothing. The file name itself never becomes part of a path.
fn safe_extension(file_name: &str) -> String {
    match file_name.rsplit_once('.') {
        Some((stem, extension))
            if !stem.is_empty()
                && !extension.is_empty()
                && extension.len() <= 10
                && extension.bytes().all(|byte| byte.is_ascii_alphanumeric()) =>
        {
            format!(".{}", extension.to_ascii_lowercase())
        }
        _ => String::new(),
    }
}

/// 128 random bits in hex.
fn random_name() -> Result<String, MediaError> {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes).map_err(|_| "internal")?;
    Ok(hex::encode(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extensions_are_safe() {
        assert_eq!(safe_extension("IMG_1.JPG"), ".jpg");
        assert_eq!(safe_extension("report.final.pdf"), ".pdf");
        for name in [
            "noext",
            ".bashrc",
            "a.",
            "x./../../etc",
            "a.tar gz",
            "a.abcdefghijk",
        ] {
            assert_eq!(safe_extension(name), "", "{name}");
        }
    }

    #[test]
    fn upload_lists_are_recognised() {
        let upload = serde_json::json!({"cdn_url": "https://x", "encryption_metadata": {}});
        assert!(is_upload_list(&[upload.clone(), upload.clone()]));
        assert!(!is_upload_list(&[]));
        assert!(!is_upload_list(&[
            upload,
            serde_json::json!({"cdn_url": "x"})
        ]));
        assert!(!is_upload_list(&[serde_json::json!("text")]));
    }
}

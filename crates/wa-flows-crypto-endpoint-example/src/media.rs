//! PhotoPicker uploads: download each file from its `cdn_url` and decrypt it as it arrives
//! with the streaming `MediaDecryptor`, keeping only its size and SHA-256.

use std::time::Duration;

use reqwest::redirect;
use serde_json::Value;
use sha2::{Digest as _, Sha256};
use tokio::task::JoinSet;
use wa_flows_crypto::{MediaDecryptor, MediaMetadata};
use zeroize::Zeroizing;

/// WhatsApp sends at most 30 files per request.
pub(crate) const MAX_PHOTOS: usize = 30;
/// WhatsApp limits uploads to 25 MiB; the CDN file adds at most one block of padding and the
/// 10-byte MAC.
pub(crate) const MAX_CDN_FILE_BYTES: u64 = 25 * 1024 * 1024 + 16 + 10;
/// How long one download may take, connection included.
const DOWNLOAD_TIMEOUT: Duration = Duration::from_secs(30);

/// How media is downloaded.
#[derive(Clone, Copy, Debug, Default)]
pub struct MediaOptions {
    /// Accept `http://` as well as `https://` `cdn_url`s: for local tests against a fake CDN
    /// only. Anyone who has the public key can send a request, so with it on (and no
    /// `APP_SECRET`) anyone can make the endpoint fetch plain-HTTP URLs.
    pub allow_http: bool,
}

/// What the endpoint keeps of one decrypted photo.
#[derive(Clone, Debug)]
pub(crate) struct PhotoSummary {
    pub(crate) file_name: String,
    pub(crate) size: u64,
    /// SHA-256 of the decrypted file, lower-case hex.
    pub(crate) sha256: String,
}

/// The first photo that could not be read, and why.
#[derive(Clone, Debug)]
pub(crate) struct PhotoFailure {
    pub(crate) file_name: String,
    /// `malformed` (the upload's JSON), `cdn_url_refused`, `download_failed`, `too_large`, or
    /// a media error code of the library (`encrypted_hash_mismatch`, `hmac_mismatch`,
    /// `padding`, `plaintext_hash_mismatch`).
    pub(crate) code: &'static str,
}

/// A shared HTTP client for the CDN (it keeps connections open between downloads).
#[derive(Clone, Debug)]
pub(crate) struct MediaClient {
    http: reqwest::Client,
    options: MediaOptions,
}

impl MediaClient {
    pub(crate) fn new(options: MediaOptions) -> Result<Self, String> {
        let allow_http = options.allow_http;
        // Follow a few redirects, never from https to http.
        let redirects = redirect::Policy::custom(move |attempt| {
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
            .connect_timeout(Duration::from_secs(10))
            .timeout(DOWNLOAD_TIMEOUT)
            .build()
            .map_err(|error| format!("cannot set up the HTTP client for media: {error}"))?;
        Ok(Self { http, options })
    }

    /// Reads every upload of a PhotoPicker (in parallel): its summaries in request order, or
    /// the first failure in request order.
    pub(crate) async fn read_all(
        &self,
        photos: &[Value],
    ) -> Result<Vec<PhotoSummary>, PhotoFailure> {
        let mut tasks = JoinSet::new();
        for (index, photo) in photos.iter().enumerate() {
            let file_name = photo
                .get("file_name")
                .and_then(Value::as_str)
                .map_or_else(|| format!("#{}", index + 1), str::to_owned);
            let upload = parse_upload(photo);
            let client = self.clone();
            tasks.spawn(async move {
                let result = match upload {
                    Ok((url, metadata)) => client.read(&url, &metadata).await,
                    Err(code) => Err(code),
                };
                (index, file_name, result)
            });
        }
        let mut results: Vec<Option<_>> = photos.iter().map(|_| None).collect();
        while let Some(joined) = tasks.join_next().await {
            let internal = || PhotoFailure {
                file_name: String::new(),
                code: "internal",
            };
            let (index, file_name, result) = joined.map_err(|_| internal())?;
            *results.get_mut(index).ok_or_else(internal)? = Some((file_name, result));
        }
        results
            .into_iter()
            .map(|slot| match slot {
                Some((file_name, Ok((size, sha256)))) => Ok(PhotoSummary {
                    file_name,
                    size,
                    sha256,
                }),
                Some((file_name, Err(code))) => Err(PhotoFailure { file_name, code }),
                None => Err(PhotoFailure {
                    file_name: String::new(),
                    code: "internal",
                }),
            })
            .collect()
    }

    /// Downloads one file and decrypts it chunk by chunk: its size and SHA-256 (hex).
    async fn read(
        &self,
        url: &str,
        metadata: &MediaMetadata,
    ) -> Result<(u64, String), &'static str> {
        let allowed =
            url.starts_with("https://") || (self.options.allow_http && url.starts_with("http://"));
        if !allowed {
            return Err("cdn_url_refused");
        }
        let mut response = self
            .http
            .get(url)
            .send()
            .await
            .map_err(|_| "download_failed")?;
        if !response.status().is_success() {
            return Err("download_failed");
        }
        if response
            .content_length()
            .is_some_and(|len| len > MAX_CDN_FILE_BYTES)
        {
            return Err("too_large");
        }

        let mut decryptor = MediaDecryptor::new(metadata);
        let mut hasher = Sha256::new();
        let mut size = 0u64;
        let mut received = 0u64;
        // Wiped when dropped, whatever happens.
        let mut plaintext = Zeroizing::new(Vec::new());
        while let Some(chunk) = response.chunk().await.map_err(|_| "download_failed")? {
            received = received.saturating_add(chunk.len() as u64);
            if received > MAX_CDN_FILE_BYTES {
                return Err("too_large");
            }
            plaintext.clear();
            // NOT VERIFIED yet: only hashed here; the hash is thrown away unless finish() is Ok.
            decryptor.update(&chunk, &mut plaintext);
            hasher.update(plaintext.as_slice());
            size = size.saturating_add(plaintext.len() as u64);
        }
        plaintext.clear();
        decryptor
            .finish(&mut plaintext)
            .map_err(|error| error.code())?;
        hasher.update(plaintext.as_slice());
        size = size.saturating_add(plaintext.len() as u64);
        Ok((size, hex::encode(hasher.finalize())))
    }
}

/// The `cdn_url` and `encryption_metadata` of one upload.
fn parse_upload(photo: &Value) -> Result<(String, MediaMetadata), &'static str> {
    let url = photo
        .get("cdn_url")
        .and_then(Value::as_str)
        .ok_or("malformed")?;
    let metadata = photo
        .get("encryption_metadata")
        .ok_or("malformed")
        .and_then(|value| MediaMetadata::from_json_value(value).map_err(|error| error.code()))?;
    Ok((url.to_owned(), metadata))
}

//! End to end: the endpoint example called exactly as WhatsApp calls it, with the core's
//! `client` sealing requests and media.
//!
//! The protocol tests run the example's router in-process on 127.0.0.1, next to a fake CDN on
//! another loopback port. The start-up tests run the example binary that `cargo test` builds.
#![allow(missing_docs)]
// Test code: a failed fixture or assertion should stop the run loudly.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use wa_flows_crypto_endpoint_example::{MediaOptions, app};

use std::collections::HashMap;
use std::io::{BufRead as _, BufReader, Read as _};
use std::path::PathBuf;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, OnceLock, mpsc};
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::get;
use reqwest::header::{CONTENT_TYPE, HeaderValue};
use serde_json::{Value, json};
use sha2::{Digest as _, Sha256};
use tokio::net::TcpListener;
use wa_flows_crypto::client::{self, ClientSession};
use wa_flows_crypto::{
    EncryptedRequest, FlowKeyRing, FlowPrivateKey, FlowPublicKey, FlowTokenSignaturePolicy, sign,
};
use zeroize::Zeroizing;

const APP_SECRET: &[u8] = b"test app secret";
/// Every scenario ends well within this; a hang fails the test instead of blocking CI.
const SCENARIO_LIMIT: Duration = Duration::from_secs(180);

/// One key for the whole test binary: generating RSA keys is slow.
fn key() -> &'static FlowPrivateKey {
    static KEY: OnceLock<FlowPrivateKey> = OnceLock::new();
    KEY.get_or_init(|| FlowPrivateKey::generate().unwrap())
}

// ---------------------------------------------------------------------------------------------
// Servers started in-process; each is stopped when dropped.

struct Running {
    base: String,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Running {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn serve(router: Router) -> Running {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let task = tokio::spawn(async move {
        axum::serve(listener, router).await.unwrap();
    });
    Running {
        base: format!("http://{address}/"),
        task,
    }
}

/// The example's router, as `main` builds it, with a fake CDN allowed over plain HTTP.
async fn endpoint(app_secret: Option<&[u8]>) -> Running {
    endpoint_with(
        FlowKeyRing::from(key().clone()),
        app_secret.into_iter().collect(),
        FlowTokenSignaturePolicy::IfPresent,
    )
    .await
}

/// The router with keys (newest first), app secrets (newest first) and a token policy.
async fn endpoint_with(
    keys: FlowKeyRing,
    app_secrets: Vec<&[u8]>,
    flow_token_signature: FlowTokenSignaturePolicy,
) -> Running {
    let router = app::router(app::Settings {
        keys,
        app_secrets: app_secrets
            .into_iter()
            .map(|secret| Zeroizing::new(secret.to_vec()))
            .collect(),
        flow_token_signature,
        media: MediaOptions { allow_http: true },
    })
    .unwrap();
    serve(router).await
}

/// A CDN serving `files` at `/media/{name}`.
async fn cdn(files: HashMap<String, Vec<u8>>) -> Running {
    let router =
        Router::new()
            .route(
                "/media/{name}",
                get(
                    |State(files): State<Arc<HashMap<String, Vec<u8>>>>,
                     Path(name): Path<String>| async move {
                        match files.get(&name) {
                            Some(bytes) => (StatusCode::OK, bytes.clone()).into_response(),
                            None => StatusCode::NOT_FOUND.into_response(),
                        }
                    },
                ),
            )
            .with_state(Arc::new(files));
    serve(router).await
}

// ---------------------------------------------------------------------------------------------
// WhatsApp's side.

struct Reply {
    status: u16,
    content_type: String,
    body: String,
}

#[derive(Clone)]
struct WhatsApp {
    http: reqwest::Client,
    url: String,
    public_key: FlowPublicKey,
    app_secret: Option<Vec<u8>>,
}

impl WhatsApp {
    fn new(url: &str, app_secret: Option<&[u8]>) -> Self {
        Self {
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(60))
                .build()
                .unwrap(),
            url: url.to_owned(),
            public_key: key().public_key(),
            app_secret: app_secret.map(<[u8]>::to_vec),
        }
    }

    async fn post(
        &self,
        body: Vec<u8>,
        content_type: Option<&str>,
        signature: Option<HeaderValue>,
    ) -> Reply {
        let mut request = self.http.post(&self.url).body(body);
        if let Some(content_type) = content_type {
            request = request.header(CONTENT_TYPE, content_type);
        }
        if let Some(signature) = signature {
            request = request.header("X-Hub-Signature-256", signature);
        }
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        let content_type = response
            .headers()
            .get(CONTENT_TYPE)
            .map(|value| value.to_str().unwrap().to_owned())
            .unwrap_or_default();
        Reply {
            status,
            content_type,
            body: response.text().await.unwrap(),
        }
    }

    /// Posts `body` as WhatsApp does: JSON, signed with the app secret when there is one.
    async fn post_signed(&self, body: Vec<u8>) -> Reply {
        let signature = self
            .app_secret
            .as_ref()
            .map(|secret| HeaderValue::from_str(&sign(&body, secret)).unwrap());
        self.post(body, Some("application/json"), signature).await
    }

    fn seal(&self, plaintext: &Value) -> (String, ClientSession) {
        client::seal_request(&self.public_key, plaintext.to_string().as_bytes()).unwrap()
    }

    /// A whole exchange: seal, sign, post, check 200 text/plain, open the answer.
    async fn call(&self, plaintext: &Value) -> Value {
        let (body, session) = self.seal(plaintext);
        let reply = self.post_signed(body.into_bytes()).await;
        assert_eq!(reply.status, 200, "{plaintext}: {}", reply.body);
        assert!(
            reply.content_type.starts_with("text/plain"),
            "{}",
            reply.content_type
        );
        let opened = session.open_response(&reply.body).unwrap();
        serde_json::from_slice(&opened).unwrap()
    }

    /// Checks a refusal: its status, the error code as its body, and text/plain.
    fn expect_refused(&self, reply: Reply, status: u16, code: &str) {
        assert_eq!((reply.status, reply.body.as_str()), (status, code));
        assert!(reply.content_type.starts_with("text/plain"));
    }
}

/// Runs `scenario` with a bound on its time.
async fn bounded<F: std::future::Future<Output = ()>>(scenario: F) {
    tokio::time::timeout(SCENARIO_LIMIT, scenario)
        .await
        .expect("the scenario took too long");
}

fn ping() -> Value {
    json!({"version": "3.0", "action": "ping"})
}

fn profile(error_message: &str) -> Value {
    json!({"screen": "PROFILE", "data": {"error_message": error_message}})
}

/// Bytes that are not all alike, of any length.
fn pattern(len: usize, seed: u32) -> Vec<u8> {
    (0..len)
        .map(|i| ((i as u32).wrapping_add(seed).wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect()
}

fn upload(file_name: &str, cdn_url: &str, metadata: &wa_flows_crypto::MediaMetadata) -> Value {
    json!({
        "file_name": file_name,
        "media_id": format!("media-{file_name}"),
        "cdn_url": cdn_url,
        "encryption_metadata": serde_json::from_str::<Value>(&metadata.to_json()).unwrap(),
    })
}

fn submit(photos: Value) -> Value {
    json!({
        "version": "3.0", "action": "data_exchange", "screen": "PROFILE",
        "flow_token": "token-1", "data": {"name": "Ada", "photos": photos},
    })
}

// ---------------------------------------------------------------------------------------------
// The protocol and the flow.

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn answers_the_flow_as_documented() {
    bounded(async {
        let server = endpoint(Some(APP_SECRET)).await;
        let wa = WhatsApp::new(&server.base, Some(APP_SECRET));

        assert_eq!(
            wa.call(&ping()).await,
            json!({"data": {"status": "active"}})
        );
        let init = json!({"version": "3.0", "action": "INIT", "flow_token": "token-1"});
        assert_eq!(wa.call(&init).await, profile(""));
        let back =
            json!({"version": "3.0", "action": "BACK", "screen": "SUMMARY", "flow_token": "t"});
        assert_eq!(wa.call(&back).await, profile(""));
        let notification = json!({
            "version": "3.0", "action": "data_exchange", "screen": "SUMMARY", "flow_token": "t",
            "data": {"error": "INVALID_SCREEN_TRANSITION", "error_message": "no such screen"},
        });
        assert_eq!(
            wa.call(&notification).await,
            json!({"data": {"acknowledged": true}})
        );
        let done = json!({
            "version": "3.0", "action": "data_exchange", "screen": "SUMMARY",
            "flow_token": "token-1", "data": {},
        });
        assert_eq!(
            wa.call(&done).await,
            json!({"screen": "SUCCESS", "data": {"extension_message_response":
                {"params": {"flow_token": "token-1"}}}})
        );
        let unknown_screen = json!({"version": "3.0", "action": "data_exchange", "screen": "X"});
        assert_eq!(wa.call(&unknown_screen).await, profile("unknown screen"));
        let unknown_action = json!({"version": "3.0", "action": "navigate"});
        assert_eq!(
            wa.call(&unknown_action).await,
            profile("unsupported action")
        );
        // No photos at all is a valid submission.
        assert_eq!(
            wa.call(&submit(json!([]))).await,
            json!({"screen": "SUMMARY", "data": {"name": "Ada", "photo_count": 0,
                "total_bytes": 0, "photos": [], "summary": "0 photos, 0 bytes"}})
        );
        assert_eq!(
            wa.call(&submit(json!("photo.jpg"))).await,
            profile("photos is not a list")
        );
        let too_many: Vec<Value> = (0..31).map(|i| json!({"file_name": i})).collect();
        assert_eq!(
            wa.call(&submit(Value::Array(too_many))).await,
            profile("too many photos: at most 30")
        );

        let health = reqwest::get(&server.base).await.unwrap();
        assert_eq!(health.status().as_u16(), 200);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn decrypts_three_photos_byte_for_byte() {
    bounded(async {
        let photos = [
            ("IMG_0001.jpg", pattern(1, 1)),
            ("IMG_0002.png", pattern(70_001, 2)),
            ("IMG_0003.heic", pattern(1_500_017, 3)),
        ];
        let sealed: Vec<_> = photos
            .iter()
            .map(|(_, plaintext)| client::seal_media(plaintext).unwrap())
            .collect();
        let mut files = HashMap::new();
        for (i, media) in sealed.iter().enumerate() {
            files.insert(format!("ok{i}"), media.cdn_file.clone());
        }
        let mut tampered = sealed[1].cdn_file.clone();
        tampered[100] ^= 0x20;
        files.insert("tampered".to_owned(), tampered);
        let cdn = cdn(files).await;
        let server = endpoint(Some(APP_SECRET)).await;
        let wa = WhatsApp::new(&server.base, Some(APP_SECRET));
        let url = |name: &str| format!("{}media/{name}", cdn.base);

        let uploads: Vec<Value> = photos
            .iter()
            .zip(&sealed)
            .enumerate()
            .map(|(i, ((name, _), media))| upload(name, &url(&format!("ok{i}")), &media.metadata))
            .collect();
        let answer = wa.call(&submit(Value::Array(uploads.clone()))).await;
        let total: usize = photos.iter().map(|(_, plaintext)| plaintext.len()).sum();
        let expected_photos: Vec<Value> = photos
            .iter()
            .map(|(name, plaintext)| {
                json!({"file_name": name, "size": plaintext.len(),
                    "sha256": hex::encode(Sha256::digest(plaintext))})
            })
            .collect();
        assert_eq!(
            answer,
            json!({"screen": "SUMMARY", "data": {
                "name": "Ada", "photo_count": 3, "total_bytes": total,
                "photos": expected_photos, "summary": format!("3 photos, {total} bytes"),
            }})
        );

        // The first photo that cannot be read, in request order, sends the user back.
        let mut bad = uploads.clone();
        bad[1]["cdn_url"] = json!(url("tampered"));
        assert_eq!(
            wa.call(&submit(Value::Array(bad))).await,
            profile("could not read photo IMG_0002.png: encrypted_hash_mismatch")
        );
        let mut swapped = uploads.clone();
        swapped[2]["encryption_metadata"] = uploads[0]["encryption_metadata"].clone();
        assert_eq!(
            wa.call(&submit(Value::Array(swapped))).await,
            profile("could not read photo IMG_0003.heic: encrypted_hash_mismatch")
        );
        let mut missing = uploads.clone();
        missing[0]["cdn_url"] = json!(url("nothing-here"));
        missing[2]["cdn_url"] = json!(url("tampered"));
        assert_eq!(
            wa.call(&submit(Value::Array(missing))).await,
            profile("could not read photo IMG_0001.jpg: download_failed")
        );
        let mut ftp = uploads.clone();
        ftp[0]["cdn_url"] = json!("ftp://127.0.0.1/media/ok0");
        assert_eq!(
            wa.call(&submit(Value::Array(ftp))).await,
            profile("could not read photo IMG_0001.jpg: cdn_url_refused")
        );
        let mut no_metadata = uploads;
        no_metadata[1]["encryption_metadata"]["hmac_key"] = json!("short");
        assert_eq!(
            wa.call(&submit(Value::Array(no_metadata))).await,
            profile("could not read photo IMG_0002.png: malformed")
        );
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refuses_what_it_cannot_trust() {
    bounded(async {
        let server = endpoint(Some(APP_SECRET)).await;
        let wa = WhatsApp::new(&server.base, Some(APP_SECRET));

        // Tampered in transit: the payload, or the wrapped key.
        let (request, _) =
            client::seal_request_parts(&wa.public_key, ping().to_string().as_bytes()).unwrap();
        let mut data = request.encrypted_flow_data().to_vec();
        data[3] ^= 1;
        let tampered = EncryptedRequest::from_parts(
            data,
            request.encrypted_aes_key().to_vec(),
            *request.initial_vector(),
        )
        .unwrap();
        let reply = wa.post_signed(tampered.to_json().into_bytes()).await;
        wa.expect_refused(reply, 421, "payload_auth");
        let other_key = FlowPrivateKey::generate().unwrap().public_key();
        let (for_other_key, _) =
            client::seal_request(&other_key, ping().to_string().as_bytes()).unwrap();
        let reply = wa.post_signed(for_other_key.into_bytes()).await;
        wa.expect_refused(reply, 421, "key_unwrap");

        // Truncated, signed as received: undecryptable.
        let (body, _) = wa.seal(&ping());
        let truncated = body.as_bytes()[..body.len() / 2].to_vec();
        let reply = wa.post_signed(truncated).await;
        wa.expect_refused(reply, 421, "malformed");
        let reply = wa.post_signed(Vec::new()).await;
        wa.expect_refused(reply, 421, "malformed");
        // Decrypts, but is no flow request.
        for plaintext in ["hello", "{}", r#"{"action": 3}"#] {
            let (body, _) = client::seal_request(&wa.public_key, plaintext.as_bytes()).unwrap();
            let reply = wa.post_signed(body.into_bytes()).await;
            wa.expect_refused(reply, 421, "malformed");
        }

        // Signatures: wrong, missing, odd; never a crash.
        let (body, _) = wa.seal(&ping());
        let wrong = HeaderValue::from_str(&sign(body.as_bytes(), b"not the secret")).unwrap();
        let odd = [
            wrong,
            HeaderValue::from_static("sha256=zz"),
            HeaderValue::from_static("sha1=0000"),
            HeaderValue::from_static(""),
            HeaderValue::from_bytes(b"sha256=\xff\xfe").unwrap(),
        ];
        for signature in odd {
            let reply = wa
                .post(
                    body.clone().into_bytes(),
                    Some("application/json"),
                    Some(signature),
                )
                .await;
            wa.expect_refused(reply, 432, "invalid_signature");
        }
        let reply = wa
            .post(body.clone().into_bytes(), Some("application/json"), None)
            .await;
        wa.expect_refused(reply, 432, "invalid_signature");
        let mut altered = body.clone().into_bytes();
        altered.push(b' ');
        let signature = HeaderValue::from_str(&sign(body.as_bytes(), APP_SECRET)).unwrap();
        let reply = wa
            .post(altered, Some("application/json"), Some(signature))
            .await;
        wa.expect_refused(reply, 432, "invalid_signature");

        // Content-Type: JSON in any case and with parameters, nothing else.
        for content_type in [
            None,
            Some("text/plain"),
            Some("application/x-www-form-urlencoded"),
        ] {
            let (body, _) = wa.seal(&ping());
            let signature = HeaderValue::from_str(&sign(body.as_bytes(), APP_SECRET)).unwrap();
            let reply = wa
                .post(body.into_bytes(), content_type, Some(signature))
                .await;
            wa.expect_refused(reply, 415, "unsupported_media_type");
        }
        for content_type in ["application/json; charset=utf-8", "Application/JSON"] {
            let (body, session) = wa.seal(&ping());
            let signature = HeaderValue::from_str(&sign(body.as_bytes(), APP_SECRET)).unwrap();
            let reply = wa
                .post(body.into_bytes(), Some(content_type), Some(signature))
                .await;
            assert_eq!(reply.status, 200, "{content_type}");
            session.open_response(&reply.body).unwrap();
        }

        // Far larger than any request WhatsApp sends.
        let huge = vec![b'a'; app::MAX_BODY_BYTES + 1];
        let reply = wa.post_signed(huge).await;
        wa.expect_refused(reply, 413, "body_too_large");

        // After all that, the endpoint still answers.
        assert_eq!(
            wa.call(&ping()).await,
            json!({"data": {"status": "active"}})
        );
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_an_app_secret_signatures_are_not_required() {
    bounded(async {
        let server = endpoint(None).await;
        let wa = WhatsApp::new(&server.base, None);
        assert_eq!(
            wa.call(&ping()).await,
            json!({"data": {"status": "active"}})
        );
        // A header is ignored, whatever it holds.
        let (body, session) = wa.seal(&ping());
        let reply = wa
            .post(
                body.into_bytes(),
                Some("application/json"),
                Some(HeaderValue::from_static("sha256=zz")),
            )
            .await;
        assert_eq!(reply.status, 200);
        session.open_response(&reply.body).unwrap();
        // The other checks still apply.
        let (body, _) = wa.seal(&ping());
        let reply = wa.post_signed(body.as_bytes()[..100].to_vec()).await;
        wa.expect_refused(reply, 421, "malformed");
        let (body, _) = wa.seal(&ping());
        let reply = wa.post(body.into_bytes(), Some("text/plain"), None).await;
        wa.expect_refused(reply, 415, "unsupported_media_type");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rotation_and_data_api_4() {
    bounded(async {
        const OLD_SECRET: &[u8] = b"the app secret before the reset";
        let new_key = FlowPrivateKey::generate().unwrap();
        let ring = FlowKeyRing::new(vec![new_key.clone(), key().clone()]).unwrap();
        let server = endpoint_with(
            ring,
            vec![APP_SECRET, OLD_SECRET],
            FlowTokenSignaturePolicy::IfPresent,
        )
        .await;
        // A client that still caches the previous public key, signing with the old secret.
        let old_client = WhatsApp::new(&server.base, Some(OLD_SECRET));
        assert_eq!(
            old_client.call(&ping()).await,
            json!({"data": {"status": "active"}})
        );
        let mut new_client = WhatsApp::new(&server.base, Some(APP_SECRET));
        new_client.public_key = new_key.public_key();
        let init = json!({"version": "3.0", "action": "INIT", "flow_token": "t"});
        assert_eq!(new_client.call(&init).await, profile(""));

        // Data API 4.0: a valid token signature, then forged, expired and for another token.
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs() as i64;
        let signed = |jwt: String| {
            json!({"version": "4.0", "action": "INIT", "flow_token": "flow-1",
                   "flow_token_signature": jwt})
        };
        let valid = signed(client::sign_flow_token(
            "flow-1",
            OLD_SECRET,
            Some(now + 600),
        ));
        assert_eq!(new_client.call(&valid).await, profile(""));
        for bad in [
            signed(client::sign_flow_token("flow-1", b"forged", None)),
            signed(client::sign_flow_token(
                "flow-1",
                APP_SECRET,
                Some(now - 3600),
            )),
            signed(client::sign_flow_token("flow-2", APP_SECRET, None)),
        ] {
            let (body, _) = new_client.seal(&bad);
            let reply = new_client.post_signed(body.into_bytes()).await;
            new_client.expect_refused(reply, 427, "invalid_flow_token_signature");
        }
        // An error notification that carries only error_key is acknowledged.
        let notification = json!({"version": "3.0", "action": "data_exchange", "screen": "PROFILE",
                                  "flow_token": "t", "data": {"error_key": "flow.timeout"}});
        assert_eq!(
            new_client.call(&notification).await,
            json!({"data": {"acknowledged": true}})
        );

        // Required: a 4.0 request without a token signature is 427; a ping is not.
        let strict = endpoint_with(
            FlowKeyRing::from(key().clone()),
            vec![APP_SECRET],
            FlowTokenSignaturePolicy::Required,
        )
        .await;
        let wa = WhatsApp::new(&strict.base, Some(APP_SECRET));
        let (body, _) = wa.seal(&init);
        let reply = wa.post_signed(body.into_bytes()).await;
        wa.expect_refused(reply, 427, "invalid_flow_token_signature");
        assert_eq!(
            wa.call(&ping()).await,
            json!({"data": {"status": "active"}})
        );
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn answers_200_concurrent_requests() {
    bounded(async {
        let server = endpoint(Some(APP_SECRET)).await;
        let wa = Arc::new(WhatsApp::new(&server.base, Some(APP_SECRET)));
        let mut tasks = tokio::task::JoinSet::new();
        for i in 0..200 {
            let wa = Arc::clone(&wa);
            tasks.spawn(async move {
                let (request, expected) = match i % 3 {
                    0 => (ping(), json!({"data": {"status": "active"}})),
                    1 => (
                        json!({"version": "3.0", "action": "INIT", "flow_token": format!("t{i}")}),
                        profile(""),
                    ),
                    _ => {
                        let token = format!("token-{i}");
                        (
                            json!({"version": "3.0", "action": "data_exchange",
                                "screen": "SUMMARY", "flow_token": token, "data": {}}),
                            json!({"screen": "SUCCESS", "data": {"extension_message_response":
                                {"params": {"flow_token": token}}}}),
                        )
                    }
                };
                // `call` checks the status and the Content-Type and opens the answer with
                // this request's own key: a mixed-up answer would not open.
                assert_eq!(wa.call(&request).await, expected, "request {i}");
            });
        }
        let mut answered = 0;
        while let Some(result) = tasks.join_next().await {
            result.unwrap();
            answered += 1;
        }
        assert_eq!(answered, 200);
    })
    .await;
}

// ---------------------------------------------------------------------------------------------
// Start-up, through the example binary.

/// The example binary cargo built for this test.
fn example_binary() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_endpoint"))
}

/// The example with none of its variables inherited.
fn example() -> Command {
    let mut command = Command::new(example_binary());
    for name in [
        "PRIVATE_KEY",
        "PRIVATE_KEY_FILE",
        "PASSPHRASE",
        "PREVIOUS_PRIVATE_KEY",
        "PREVIOUS_PRIVATE_KEY_FILE",
        "PREVIOUS_PASSPHRASE",
        "APP_SECRET",
        "PREVIOUS_APP_SECRET",
        "FLOW_TOKEN_SIGNATURE",
        "PORT",
        "HOST",
        "MEDIA_ALLOW_HTTP",
    ] {
        command.env_remove(name);
    }
    command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    command
}

/// Killed when dropped, so a failing test leaves no process behind.
struct ChildGuard(Child);

impl Drop for ChildGuard {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Runs the example, which must exit (within a bound); its status and standard error.
fn run_to_exit(mut command: Command) -> (ExitStatus, String) {
    let mut child = ChildGuard(command.spawn().unwrap());
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.0.try_wait().unwrap() {
            break status;
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "the example did not exit"
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    let mut stderr = String::new();
    child
        .0
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    (status, stderr)
}

/// A file in a fresh directory of its own, removed when dropped.
struct TempFile(PathBuf);

impl TempFile {
    fn new(name: &str, bytes: &[u8]) -> Self {
        static COUNTER: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let dir = std::env::temp_dir().join(format!(
            "wa-flows-crypto-endpoint-test-{}-{n}",
            std::process::id()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join(name);
        std::fs::write(&path, bytes).unwrap();
        Self(path)
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        if let Some(dir) = self.0.parent() {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}

#[test]
fn refuses_to_start_with_a_clear_message() {
    const PASSPHRASE: &str = "correct horse battery staple";
    const WRONG: &str = "wrong passphrase 12345";
    let encrypted = key().private_key_pem(Some(PASSPHRASE.as_bytes())).unwrap();
    let missing_file = std::env::temp_dir().join("wa-flows-crypto-no-such-key.pem");

    let encrypted = encrypted.as_str();
    let missing_file = missing_file.to_str().unwrap();
    let public_pem = key().public_key_pem();
    let cases: Vec<(Vec<(&str, &str)>, &str)> = vec![
        (vec![], "no private key: set PRIVATE_KEY"),
        (
            vec![("PRIVATE_KEY", "not a key")],
            "PRIVATE_KEY: invalid private key: no RSA private key found",
        ),
        (vec![("PRIVATE_KEY", &public_pem)], "(invalid_key)"),
        (
            vec![("PRIVATE_KEY", encrypted)],
            "the key is encrypted; give the passphrase",
        ),
        (
            vec![("PRIVATE_KEY", encrypted), ("PASSPHRASE", WRONG)],
            "the passphrase does not decrypt the key",
        ),
        (vec![("PRIVATE_KEY_FILE", missing_file)], "cannot be read"),
        (
            vec![("PRIVATE_KEY", "x"), ("PRIVATE_KEY_FILE", missing_file)],
            "not both",
        ),
        (
            vec![
                ("PRIVATE_KEY", encrypted),
                ("PASSPHRASE", PASSPHRASE),
                ("PORT", "http"),
            ],
            "PORT=\"http\" is not a port number",
        ),
        (
            vec![
                ("PRIVATE_KEY", encrypted),
                ("PASSPHRASE", PASSPHRASE),
                ("HOST", "localhost:80"),
            ],
            "is not an IP address",
        ),
        // A secret variable that is set but empty would disable the signature check.
        (
            vec![
                ("PRIVATE_KEY", encrypted),
                ("PASSPHRASE", PASSPHRASE),
                ("APP_SECRET", ""),
            ],
            "APP_SECRET is set but empty",
        ),
        (
            vec![
                ("PRIVATE_KEY", encrypted),
                ("PASSPHRASE", PASSPHRASE),
                ("FLOW_TOKEN_SIGNATURE", "always"),
            ],
            "is not if_present, required or off",
        ),
        (
            vec![
                ("PRIVATE_KEY", encrypted),
                ("PASSPHRASE", PASSPHRASE),
                ("FLOW_TOKEN_SIGNATURE", "required"),
            ],
            "no app secret is configured",
        ),
        (
            vec![
                ("PRIVATE_KEY", encrypted),
                ("PASSPHRASE", PASSPHRASE),
                ("PREVIOUS_PRIVATE_KEY", "not a key"),
            ],
            "PREVIOUS_PRIVATE_KEY: invalid private key",
        ),
    ];

    for (vars, expected) in cases {
        let mut command = example();
        for (name, value) in vars {
            command.env(name, value);
        }
        let (status, stderr) = run_to_exit(command);
        assert!(!status.success(), "started anyway: {stderr}");
        assert!(
            stderr.contains("refusing to start") && stderr.contains(expected),
            "expected {expected:?} in {stderr:?}"
        );
        // Never a secret (nor any of the key's text) in the logs.
        assert!(!stderr.contains(PASSPHRASE) && !stderr.contains(WRONG));
        for pem in [encrypted, public_pem.as_str()] {
            let body_line = pem.lines().nth(2).unwrap();
            assert!(!stderr.contains(body_line), "{stderr}");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn starts_with_a_key_from_the_environment() {
    bounded(async {
        // PEM pasted into one line with `\n` escapes, encrypted, as some hosts store it.
        const PASSPHRASE: &str = "correct horse battery staple";
        let pem = key().private_key_pem(Some(PASSPHRASE.as_bytes())).unwrap();
        let escaped = pem.trim_end().replace('\n', "\\n");
        let der = key().private_key_der().unwrap();
        let der_file = TempFile::new("private.der", &der);

        let mut from_text = example();
        from_text
            .env("PRIVATE_KEY", &escaped)
            .env("PASSPHRASE", PASSPHRASE);
        let mut from_der_file = example();
        from_der_file.env("PRIVATE_KEY_FILE", &der_file.0);
        for (mut command, secret) in [(from_text, Some(APP_SECRET)), (from_der_file, None)] {
            command.env("HOST", "127.0.0.1").env("PORT", "0");
            if let Some(secret) = secret {
                command.env("APP_SECRET", std::str::from_utf8(secret).unwrap());
            }
            let mut child = ChildGuard(command.spawn().unwrap());
            // Read standard error on a thread until the example says where it listens.
            let stderr = child.0.stderr.take().unwrap();
            let (lines, received) = mpsc::channel();
            std::thread::spawn(move || {
                for line in BufReader::new(stderr).lines() {
                    let Ok(line) = line else { break };
                    if lines.send(line).is_err() {
                        break;
                    }
                }
            });
            let deadline = Instant::now() + Duration::from_secs(60);
            let url = loop {
                let left = deadline.saturating_duration_since(Instant::now());
                let line = received
                    .recv_timeout(left)
                    .expect("the example did not say where it listens");
                assert!(!line.contains(PASSPHRASE) && !line.contains(pem.lines().nth(2).unwrap()));
                if let Some(rest) = line.split("listening on ").nth(1) {
                    break rest.split_whitespace().next().unwrap().to_owned();
                }
            };
            assert!(url.starts_with("http://127.0.0.1:"), "{url}");
            let wa = WhatsApp::new(&url, secret);
            assert_eq!(
                wa.call(&ping()).await,
                json!({"data": {"status": "active"}})
            );
            if secret.is_some() {
                let (body, _) = wa.seal(&ping());
                let reply = wa
                    .post(body.into_bytes(), Some("application/json"), None)
                    .await;
                wa.expect_refused(reply, 432, "invalid_signature");
            }
            drop(child);
        }
    })
    .await;
}

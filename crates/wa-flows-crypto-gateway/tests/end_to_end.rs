//! End to end on 127.0.0.1: the core's client simulator (WhatsApp) → the gateway → the Python
//! upstream in tests/upstream.py (standard library only, no crypto).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use std::time::{Duration, Instant};

use common::{
    APP_SECRET, PREVIOUS_APP_SECRET, PythonUpstream, RunningGateway, UPSTREAM_SECRET, client,
    config, current_key, exchange, post, previous_key, seal,
};
use serde_json::{Value, json};
use wa_flows_crypto::client::{seal_media, seal_request_parts, sign_flow_token};
use wa_flows_crypto::flow::{ERROR_ACKNOWLEDGEMENT, PING_RESPONSE};
use wa_flows_crypto::{EncryptedRequest, FlowPrivateKey};
use wa_flows_crypto_gateway::upstream::DEFAULT_FLOW_TOKEN_ERROR;

fn data_exchange_4(token: &str, secret: &[u8], data: Value) -> Value {
    json!({
        "version": "4.0", "action": "data_exchange", "screen": "FORM", "flow_token": token,
        "flow_token_signature": sign_flow_token(token, secret, None), "data": data,
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ping_init_data_exchange_and_error_notifications() {
    let upstream = PythonUpstream::start(Some(UPSTREAM_SECRET));
    let gateway = RunningGateway::start(config(&upstream.url())).await;
    let http = client();

    // Ping: answered by the gateway itself.
    let (answer, session) = exchange(
        &http,
        &gateway.url,
        &json!({"version": "3.0", "action": "ping"}),
    )
    .await;
    assert_eq!(answer.status, 200);
    assert_eq!(
        answer.open(&session),
        serde_json::from_str::<Value>(PING_RESPONSE).unwrap()
    );

    // INIT, data API 3.0: the upstream's screen comes back encrypted.
    let (answer, session) = exchange(
        &http,
        &gateway.url,
        &json!({"version": "3.0", "action": "INIT", "flow_token": "flow-3"}),
    )
    .await;
    assert_eq!(answer.status, 200);
    assert_eq!(answer.open(&session)["screen"], "WELCOME");

    // data_exchange, data API 4.0 with a signed flow token: the upstream sees the plain view.
    let request = data_exchange_4("flow-4", APP_SECRET, json!({"mode": "echo", "name": "Ada"}));
    let (answer, session) = exchange(&http, &gateway.url, &request).await;
    assert_eq!(answer.status, 200);
    let echoed = answer.open(&session);
    assert_eq!(echoed["screen"], "ECHO");
    let seen = &echoed["data"]["request"];
    assert_eq!(seen["action"], "data_exchange");
    assert_eq!(seen["screen"], "FORM");
    assert_eq!(seen["flow_token"], "flow-4");
    assert_eq!(seen["version"], "4.0");
    assert_eq!(seen["data"], json!({"mode": "echo", "name": "Ada"}));
    assert_eq!(seen["is_ping"], false);
    assert_eq!(seen["error_notification"], Value::Null);
    // The upstream never sees ciphertext, the token signature, a key or a secret.
    let seen_text = seen.to_string();
    for hidden in [
        "encrypted_flow_data",
        "encrypted_aes_key",
        "initial_vector",
        "flow_token_signature",
    ] {
        assert!(!seen_text.contains(hidden), "{hidden} in {seen_text}");
    }
    let headers = &echoed["data"]["headers"];
    assert_eq!(headers["x-flow-token"], "flow-4");
    assert_eq!(headers["x-flow-action"], "data_exchange");
    assert_eq!(headers["x-flow-key-index"], "0");
    // upstream.py answered, so it verified X-Gateway-Signature-256 with UPSTREAM_SECRET.
    assert!(
        headers["x-gateway-signature-256"]
            .as_str()
            .unwrap()
            .starts_with("sha256=")
    );
    assert!(headers.get("x-hub-signature-256").is_none());

    // An error notification: acknowledged by the gateway, and forwarded for the logs.
    let notification = json!({
        "version": "3.0", "action": "data_exchange", "screen": "FORM", "flow_token": "flow-3",
        "data": {"error": "INVALID_SCREEN_TRANSITION", "error_message": "no screen X"},
    });
    let (answer, session) = exchange(&http, &gateway.url, &notification).await;
    assert_eq!(answer.status, 200);
    assert_eq!(
        answer.open(&session),
        serde_json::from_str::<Value>(ERROR_ACKNOWLEDGEMENT).unwrap()
    );

    let received = upstream.received().await;
    let actions: Vec<&str> = received
        .iter()
        .map(|r| r["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions,
        ["INIT", "data_exchange", "data_exchange"],
        "no ping upstream"
    );
    assert_eq!(
        received[2]["error_notification"]["error"],
        "INVALID_SCREEN_TRANSITION"
    );

    let metrics = gateway.metrics().await;
    for line in [
        r#"wa_flows_gateway_requests_total{action="ping",status="200"} 1"#,
        r#"wa_flows_gateway_requests_total{action="INIT",status="200"} 1"#,
        r#"wa_flows_gateway_requests_total{action="error_notification",status="200"} 1"#,
        r#"wa_flows_gateway_key_index_total{key_index="0"} 4"#,
        "wa_flows_gateway_decrypt_seconds_count 4",
        r#"wa_flows_gateway_upstream_seconds_count{outcome="ok"} 3"#,
        "wa_flows_gateway_ready 1",
    ] {
        assert!(
            metrics.lines().any(|l| l == line),
            "no {line} in\n{metrics}"
        );
    }
    gateway.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn upstream_answers_427_and_errors() {
    let upstream = PythonUpstream::start(Some(UPSTREAM_SECRET));
    let gateway = RunningGateway::start(config(&upstream.url())).await;
    let http = client();

    let request = |mode: &str| data_exchange_4("t", APP_SECRET, json!({"mode": mode}));
    let (answer, session) = exchange(&http, &gateway.url, &request("expired")).await;
    assert_eq!(answer.status, 427);
    assert_eq!(
        answer.open(&session),
        json!({"error_msg": "Your booking session expired"})
    );

    let (answer, session) =
        exchange(&http, &gateway.url, &request("expired_without_message")).await;
    assert_eq!(answer.status, 427);
    assert_eq!(
        answer.open(&session),
        json!({"error_msg": DEFAULT_FLOW_TOKEN_ERROR})
    );

    for mode in ["fail", "not_json"] {
        let (answer, _) = exchange(&http, &gateway.url, &request(mode)).await;
        assert_eq!((answer.status, answer.body.as_str()), (500, ""), "{mode}");
    }
    gateway.stop().await.unwrap();

    // An upstream that checks the signature refuses a gateway without the secret: 401 → 500.
    let mut unsigned = config(&upstream.url());
    unsigned.upstream_secret = None;
    let gateway = RunningGateway::start(unsigned).await;
    let (answer, _) = exchange(&http, &gateway.url, &request("echo")).await;
    assert_eq!(answer.status, 500);
    gateway.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_upstream_is_500_within_the_deadline() {
    let upstream = PythonUpstream::start(Some(UPSTREAM_SECRET));
    let mut config = config(&upstream.url());
    config.deadline = Duration::from_millis(800);
    let gateway = RunningGateway::start(config).await;
    let http = client();
    let request = data_exchange_4("t", APP_SECRET, json!({"mode": "slow", "seconds": 3}));
    let started = Instant::now();
    let (answer, _) = exchange(&http, &gateway.url, &request).await;
    let took = started.elapsed();
    assert_eq!((answer.status, answer.body.as_str()), (500, ""));
    assert!(took >= Duration::from_millis(700), "{took:?}");
    // Well before the upstream would answer (3 s), with room for a loaded machine.
    assert!(took < Duration::from_millis(2500), "{took:?}");
    let metrics = gateway.metrics().await;
    assert!(
        metrics.contains(r#"wa_flows_gateway_upstream_seconds_count{outcome="timeout"} 1"#),
        "{metrics}"
    );
    gateway.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_upstream_is_500() {
    // A port that was free a moment ago: nothing listens there.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let gateway = RunningGateway::start(config(&format!("http://127.0.0.1:{port}/flow"))).await;
    let http = client();
    let (answer, _) = exchange(
        &http,
        &gateway.url,
        &data_exchange_4("t", APP_SECRET, json!({})),
    )
    .await;
    assert_eq!((answer.status, answer.body.as_str()), (500, ""));
    // A ping does not need the upstream.
    let (answer, _) = exchange(
        &http,
        &gateway.url,
        &json!({"version": "3.0", "action": "ping"}),
    )
    .await;
    assert_eq!(answer.status, 200);
    let metrics = gateway.metrics().await;
    assert!(
        metrics.contains(r#"wa_flows_gateway_upstream_seconds_count{outcome="unreachable"} 1"#),
        "{metrics}"
    );
    gateway.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refusals_carry_the_library_statuses_and_never_reach_the_upstream() {
    let upstream = PythonUpstream::start(Some(UPSTREAM_SECRET));
    let gateway = RunningGateway::start(config(&upstream.url())).await;
    let http = client();
    let public = current_key().public_key();
    let init = json!({"version": "3.0", "action": "INIT", "flow_token": "t"});

    // Tampered in transit: 421.
    let (request, _) = seal_request_parts(&public, init.to_string().as_bytes()).unwrap();
    let mut data = request.encrypted_flow_data().to_vec();
    data[0] ^= 1;
    let tampered = EncryptedRequest::from_parts(
        data,
        request.encrypted_aes_key().to_vec(),
        *request.initial_vector(),
    )
    .unwrap()
    .to_json();
    let signature = wa_flows_crypto::sign(tampered.as_bytes(), APP_SECRET);
    let answer = post(&http, &gateway.url, &tampered, Some(&signature)).await;
    assert_eq!((answer.status, answer.body.as_str()), (421, ""));

    // Sealed for a key the gateway does not have: 421.
    let stranger = FlowPrivateKey::from_pem(
        std::fs::read(common::key_path("rsa3072_pkcs8.pem")).unwrap(),
        None,
    )
    .unwrap();
    let sealed = seal(&stranger.public_key(), &init, Some(APP_SECRET));
    let answer = post(
        &http,
        &gateway.url,
        &sealed.body,
        sealed.signature.as_deref(),
    )
    .await;
    assert_eq!((answer.status, answer.body.as_str()), (421, ""));

    // Signed with another secret, or not signed: 432.
    let sealed = seal(&public, &init, Some(b"not the app secret"));
    let answer = post(
        &http,
        &gateway.url,
        &sealed.body,
        sealed.signature.as_deref(),
    )
    .await;
    assert_eq!((answer.status, answer.body.as_str()), (432, ""));
    let answer = post(&http, &gateway.url, &sealed.body, None).await;
    assert_eq!((answer.status, answer.body.as_str()), (432, ""));

    // A 4.0 flow token signed with another secret: 427, empty body.
    let forged = data_exchange_4("t", b"not the app secret", json!({"mode": "echo"}));
    let (answer, _) = exchange(&http, &gateway.url, &forged).await;
    assert_eq!((answer.status, answer.body.as_str()), (427, ""));

    // Larger than the body limit: 413.
    let huge = "x".repeat(wa_flows_crypto_gateway::config::DEFAULT_MAX_BODY_BYTES + 1);
    let answer = post(&http, &gateway.url, &huge, None).await;
    assert_eq!(answer.status, 413);

    assert!(upstream.received().await.is_empty());
    let metrics = gateway.metrics().await;
    for line in [
        r#"wa_flows_gateway_requests_total{action="none",status="421"} 2"#,
        r#"wa_flows_gateway_requests_total{action="none",status="432"} 2"#,
        r#"wa_flows_gateway_requests_total{action="none",status="427"} 1"#,
    ] {
        assert!(
            metrics.lines().any(|l| l == line),
            "no {line} in\n{metrics}"
        );
    }
    gateway.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_previous_key_and_the_previous_secret_are_accepted() {
    let upstream = PythonUpstream::start(Some(UPSTREAM_SECRET));
    let gateway = RunningGateway::start(config(&upstream.url())).await;
    let http = client();
    let request = data_exchange_4("old-flow", PREVIOUS_APP_SECRET, json!({"mode": "echo"}));
    let sealed = seal(
        &previous_key().public_key(),
        &request,
        Some(PREVIOUS_APP_SECRET),
    );
    let answer = post(
        &http,
        &gateway.url,
        &sealed.body,
        sealed.signature.as_deref(),
    )
    .await;
    assert_eq!(answer.status, 200);
    let echoed = answer.open(&sealed.session);
    assert_eq!(echoed["data"]["headers"]["x-flow-key-index"], "1");
    assert_eq!(echoed["data"]["request"]["flow_token"], "old-flow");
    let metrics = gateway.metrics().await;
    assert!(
        metrics.contains(r#"wa_flows_gateway_key_index_total{key_index="1"} 1"#),
        "{metrics}"
    );
    gateway.stop().await.unwrap();

    // Without the previous key configured, the same request is 421.
    let mut current_only = config(&upstream.url());
    current_only.previous_key = None;
    let gateway = RunningGateway::start(current_only).await;
    let sealed = seal(
        &previous_key().public_key(),
        &request,
        Some(PREVIOUS_APP_SECRET),
    );
    let answer = post(
        &http,
        &gateway.url,
        &sealed.body,
        sealed.signature.as_deref(),
    )
    .await;
    assert_eq!(answer.status, 421);
    gateway.stop().await.unwrap();
}

/// A loopback "CDN" serving `files` at /0, /1, …
async fn start_cdn(files: Vec<Vec<u8>>) -> String {
    use axum::extract::Path;
    let files = std::sync::Arc::new(files);
    let router = axum::Router::new().route(
        "/{index}",
        axum::routing::get(move |Path(index): Path<usize>| {
            let files = std::sync::Arc::clone(&files);
            async move { files.get(index).cloned().unwrap_or_default() }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router).await });
    format!("http://{address}")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn media_is_handed_over_byte_for_byte() {
    let upstream = PythonUpstream::start(Some(UPSTREAM_SECRET));
    let dir = tempfile::tempdir().unwrap();
    let photo: Vec<u8> = (0..300_000u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    let document = b"%PDF-1.7 a small document".to_vec();
    let sealed_photo = seal_media(&photo).unwrap();
    let sealed_document = seal_media(&document).unwrap();
    let mut corrupt = seal_media(b"will be altered").unwrap();
    corrupt.cdn_file[3] ^= 1;
    let cdn = start_cdn(vec![
        sealed_photo.cdn_file.clone(),
        sealed_document.cdn_file.clone(),
        corrupt.cdn_file.clone(),
    ])
    .await;
    let upload = |index: usize, name: &str, sealed: &wa_flows_crypto::client::SealedMedia| {
        json!({
            "file_name": name, "media_id": format!("media-{index}"),
            "cdn_url": format!("{cdn}/{index}"),
            "encryption_metadata": serde_json::from_str::<Value>(&sealed.metadata.to_json()).unwrap(),
        })
    };
    let mut config = config(&upstream.url());
    config.media = Some(wa_flows_crypto_gateway::MediaConfig {
        dir: dir.path().to_owned(),
        allow_http: true,
        max_bytes: wa_flows_crypto_gateway::config::DEFAULT_MAX_MEDIA_BYTES,
    });
    let gateway = RunningGateway::start(config.clone()).await;
    let http = client();

    let request = data_exchange_4(
        "t",
        APP_SECRET,
        json!({
            "mode": "echo",
            "photos": [upload(0, "IMG_0001.JPG", &sealed_photo)],
            "documents": [upload(1, "contract.pdf", &sealed_document)],
            "note": "not an upload",
        }),
    );
    let (answer, session) = exchange(&http, &gateway.url, &request).await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    let data = answer.open(&session)["data"]["request"]["data"].clone();
    assert_eq!(data["note"], "not an upload");
    for (field, name, media_id, plaintext, extension) in [
        ("photos", "IMG_0001.JPG", "media-0", &photo, ".jpg"),
        ("documents", "contract.pdf", "media-1", &document, ".pdf"),
    ] {
        let entry = data[field][0].as_object().unwrap();
        let mut keys: Vec<&str> = entry.keys().map(String::as_str).collect();
        keys.sort_unstable();
        assert_eq!(
            keys,
            ["file_name", "media_id", "path", "sha256", "size"],
            "{entry:?}"
        );
        assert_eq!(entry["file_name"], name);
        assert_eq!(entry["media_id"], media_id);
        assert_eq!(entry["size"], plaintext.len());
        let path = std::path::Path::new(entry["path"].as_str().unwrap());
        assert_eq!(path.parent().unwrap(), dir.path());
        assert!(path.to_str().unwrap().ends_with(extension), "{path:?}");
        assert_eq!(&std::fs::read(path).unwrap(), plaintext, "{field}");
        use sha2::Digest as _;
        assert_eq!(
            entry["sha256"],
            hex::encode(sha2::Sha256::digest(plaintext))
        );
    }
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 2);

    // One upload that fails verification fails the request, and leaves no file behind.
    let before: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    let request = data_exchange_4(
        "t",
        APP_SECRET,
        json!({"mode": "echo", "photos": [upload(0, "a.jpg", &sealed_photo), upload(2, "b.jpg", &corrupt)]}),
    );
    let (answer, _) = exchange(&http, &gateway.url, &request).await;
    assert_eq!((answer.status, answer.body.as_str()), (500, ""));
    let after: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(before.len(), after.len(), "{after:?}");
    let metrics = gateway.metrics().await;
    assert!(
        metrics
            .contains(r#"wa_flows_gateway_media_files_total{outcome="encrypted_hash_mismatch"} 1"#),
        "{metrics}"
    );
    gateway.stop().await.unwrap();

    // Without --allow-http-media an http:// cdn_url is refused.
    config.media.as_mut().unwrap().allow_http = false;
    let gateway = RunningGateway::start(config).await;
    let request = data_exchange_4(
        "t",
        APP_SECRET,
        json!({"photos": [upload(0, "a.jpg", &sealed_photo)]}),
    );
    let (answer, _) = exchange(&http, &gateway.url, &request).await;
    assert_eq!(answer.status, 500);
    assert_eq!(
        upstream.received().await.len(),
        1,
        "only the first media request went upstream"
    );
    gateway.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_hundred_concurrent_requests_without_an_error() {
    let upstream = PythonUpstream::start(Some(UPSTREAM_SECRET));
    let gateway = RunningGateway::start(config(&upstream.url())).await;
    let http = client();
    let public = current_key().public_key();
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..200 {
        let (http, url, public) = (http.clone(), gateway.url.clone(), public.clone());
        tasks.spawn(async move {
            let token = format!("flow-{i}");
            let request = data_exchange_4(&token, APP_SECRET, json!({"mode": "echo", "i": i}));
            let sealed = seal(&public, &request, Some(APP_SECRET));
            let answer = post(&http, &url, &sealed.body, sealed.signature.as_deref()).await;
            assert_eq!(answer.status, 200, "request {i}");
            let echoed = answer.open(&sealed.session);
            assert_eq!(echoed["data"]["request"]["data"]["i"], i);
            assert_eq!(echoed["data"]["request"]["flow_token"], token.as_str());
        });
    }
    let mut ok = 0;
    while let Some(joined) = tasks.join_next().await {
        joined.unwrap();
        ok += 1;
    }
    assert_eq!(ok, 200);
    let metrics = gateway.metrics().await;
    assert!(
        metrics.contains(
            r#"wa_flows_gateway_requests_total{action="data_exchange",status="200"} 200"#
        ),
        "{metrics}"
    );
    assert!(
        metrics.contains("wa_flows_gateway_in_flight 0"),
        "{metrics}"
    );
    gateway.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_drains_the_requests_in_flight() {
    let upstream = PythonUpstream::start(Some(UPSTREAM_SECRET));
    let gateway = RunningGateway::start(config(&upstream.url())).await;
    let http = client();
    let url = gateway.url.clone();
    let slow = tokio::spawn({
        let http = http.clone();
        async move {
            let request = data_exchange_4("t", APP_SECRET, json!({"mode": "slow", "seconds": 1.5}));
            exchange(&http, &url, &request).await
        }
    });
    tokio::time::sleep(Duration::from_millis(500)).await;
    let base = gateway.base.clone();
    let started = Instant::now();
    gateway.stop().await.unwrap();
    assert!(
        started.elapsed() >= Duration::from_millis(500),
        "stopped before the request was answered"
    );
    let (answer, session) = slow.await.unwrap();
    assert_eq!(answer.status, 200);
    assert_eq!(answer.open(&session)["screen"], "SLOW");
    // Stopped: nothing listens any more.
    assert!(http.get(format!("{base}/healthz")).send().await.is_err());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn not_ready_until_the_key_file_is_there() {
    let upstream = PythonUpstream::start(Some(UPSTREAM_SECRET));
    let dir = tempfile::tempdir().unwrap();
    let key_file = dir.path().join("private.pem");
    let mut config = config(&upstream.url());
    config.key = wa_flows_crypto_gateway::KeySpec::file("PRIVATE_KEY_FILE", &key_file);
    config.key_retry = Duration::from_millis(100);
    let gateway = RunningGateway::start(config).await;
    let http = client();
    let get = |path: &str| http.get(format!("{}{path}", gateway.base)).send();
    assert_eq!(get("/healthz").await.unwrap().status(), 200);
    assert_eq!(get("/readyz").await.unwrap().status(), 503);
    let init = json!({"version": "3.0", "action": "INIT", "flow_token": "t"});
    let (answer, _) = exchange(&http, &gateway.url, &init).await;
    assert_eq!((answer.status, answer.body.as_str()), (500, ""));
    assert!(gateway.metrics().await.contains("wa_flows_gateway_ready 0"));

    std::fs::copy(common::key_path("rsa2048_pkcs8.pem"), &key_file).unwrap();
    let deadline = Instant::now() + Duration::from_secs(5);
    while get("/readyz").await.unwrap().status() != 200 {
        assert!(Instant::now() < deadline, "never ready");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let (answer, session) = exchange(&http, &gateway.url, &init).await;
    assert_eq!(answer.status, 200);
    assert_eq!(answer.open(&session)["screen"], "WELCOME");
    gateway.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_key_file_that_arrives_with_a_refused_configuration_stops_the_gateway() {
    let dir = tempfile::tempdir().unwrap();
    let key_file = dir.path().join("private.pem");
    let mut config = config("http://127.0.0.1:9/flow");
    config.key = wa_flows_crypto_gateway::KeySpec::file("PRIVATE_KEY_FILE", &key_file);
    config.previous_key = None;
    config.key_retry = Duration::from_millis(100);
    // `required` with no app secret to verify tokens with: the core refuses it.
    config.app_secrets.clear();
    config.flow_token_signature = wa_flows_crypto::FlowTokenSignaturePolicy::Required;
    let gateway = wa_flows_crypto_gateway::Gateway::bind(config)
        .await
        .unwrap();
    assert!(!gateway.is_ready());
    let serving = tokio::spawn(gateway.serve(std::future::pending()));
    std::fs::copy(common::key_path("rsa2048_pkcs8.pem"), &key_file).unwrap();
    let stopped = tokio::time::timeout(Duration::from_secs(10), serving)
        .await
        .expect("the gateway stops by itself")
        .unwrap();
    let error = stopped.unwrap_err();
    assert!(error.0.contains("invalid_configuration"), "{error}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stalled_media_download_is_500_within_the_deadline_and_leaves_no_file() {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    let upstream = PythonUpstream::start(Some(UPSTREAM_SECRET));
    let sealed = seal_media(&vec![7u8; 100_000]).unwrap();
    // A CDN that sends half the file, then nothing.
    let cdn = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let cdn_address = cdn.local_addr().unwrap();
    let half = sealed.cdn_file[..sealed.cdn_file.len() / 2].to_vec();
    let total = sealed.cdn_file.len();
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = cdn.accept().await {
            let half = half.clone();
            tokio::spawn(async move {
                let mut request = [0u8; 4096];
                let _ = stream.read(&mut request).await;
                let head = format!("HTTP/1.1 200 OK\r\nContent-Length: {total}\r\n\r\n");
                let _ = stream.write_all(head.as_bytes()).await;
                let _ = stream.write_all(&half).await;
                tokio::time::sleep(Duration::from_secs(10)).await;
            });
        }
    });
    let dir = tempfile::tempdir().unwrap();
    let mut config = config(&upstream.url());
    config.deadline = Duration::from_millis(700);
    config.media = Some(wa_flows_crypto_gateway::MediaConfig {
        dir: dir.path().to_owned(),
        allow_http: true,
        max_bytes: wa_flows_crypto_gateway::config::DEFAULT_MAX_MEDIA_BYTES,
    });
    let gateway = RunningGateway::start(config).await;
    let upload = json!({
        "file_name": "a.jpg", "cdn_url": format!("http://{cdn_address}/stalls"),
        "encryption_metadata": serde_json::from_str::<Value>(&sealed.metadata.to_json()).unwrap(),
    });
    let request = data_exchange_4("t", APP_SECRET, json!({"photos": [upload]}));
    let started = Instant::now();
    let (answer, _) = exchange(&client(), &gateway.url, &request).await;
    assert_eq!((answer.status, answer.body.as_str()), (500, ""));
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );
    let left: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert!(left.is_empty(), "{left:?}");
    assert!(upstream.received().await.is_empty());
    gateway.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_body_that_trickles_is_cut_off_at_the_deadline() {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    let mut config = config("http://127.0.0.1:9/flow");
    config.deadline = Duration::from_millis(500);
    let gateway = RunningGateway::start(config).await;
    let address = gateway.base.trim_start_matches("http://").to_owned();
    let mut stream = tokio::net::TcpStream::connect(&address).await.unwrap();
    let started = Instant::now();
    stream
        .write_all(b"POST /flows HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{\"encrypted")
        .await
        .unwrap();
    let mut answer = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(5), stream.read_to_end(&mut answer)).await;
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer:?}");
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );
    gateway.stop().await.unwrap();
}

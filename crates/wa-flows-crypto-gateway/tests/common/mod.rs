//! Shared by the end-to-end tests: the Python upstream, a gateway on 127.0.0.1, and
//! WhatsApp's side of the exchange (the core's client simulator).
#![allow(
    dead_code,
    unreachable_pub,
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use serde_json::Value;
use wa_flows_crypto::client::{ClientSession, seal_request};
use wa_flows_crypto::{FlowPrivateKey, FlowPublicKey};
use wa_flows_crypto_gateway::{Config, Gateway, KeySpec};

pub const APP_SECRET: &[u8] = b"gateway-test-app-secret";
pub const PREVIOUS_APP_SECRET: &[u8] = b"gateway-test-previous-app-secret";
pub const UPSTREAM_SECRET: &str = "gateway-test-upstream-secret";

/// `tests/vectors/keys/NAME` at the repository's root.
pub fn key_path(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/vectors/keys")
        .join(name)
}

/// The current key (the gateway reads it from its file).
pub fn current_key() -> FlowPrivateKey {
    FlowPrivateKey::from_pem(std::fs::read(key_path("rsa2048_pkcs8.pem")).unwrap(), None).unwrap()
}

/// The previous key.
pub fn previous_key() -> FlowPrivateKey {
    FlowPrivateKey::from_pem(std::fs::read(key_path("rsa2048_other.pem")).unwrap(), None).unwrap()
}

/// The Python upstream (tests/upstream.py), stopped when dropped.
pub struct PythonUpstream {
    child: Child,
    pub port: u16,
}

impl PythonUpstream {
    pub fn start(secret: Option<&str>) -> Self {
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/upstream.py");
        let mut command = Command::new("python3");
        command
            .arg(script)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .env_remove("UPSTREAM_SECRET");
        if let Some(secret) = secret {
            command.env("UPSTREAM_SECRET", secret);
        }
        let mut child = command.spawn().expect("python3 runs tests/upstream.py");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let port = line
            .trim()
            .strip_prefix("listening on ")
            .unwrap_or_else(|| panic!("upstream.py said {line:?}"))
            .parse()
            .unwrap();
        Self { child, port }
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}/flow", self.port)
    }

    /// Every request the upstream received.
    pub async fn received(&self) -> Vec<Value> {
        let text = client()
            .get(format!("http://127.0.0.1:{}/received", self.port))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        serde_json::from_str::<Value>(&text)
            .unwrap()
            .as_array()
            .unwrap()
            .clone()
    }
}

impl Drop for PythonUpstream {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A configuration for a gateway on 127.0.0.1 with both keys, both app secrets, the
/// upstream secret, forwarded headers and error notifications.
pub fn config(upstream: &str) -> Config {
    let listen: SocketAddr = "127.0.0.1:0".parse().unwrap();
    let mut config = Config::new(
        listen,
        upstream,
        KeySpec::file("PRIVATE_KEY_FILE", key_path("rsa2048_pkcs8.pem")),
    );
    config.previous_key = Some(KeySpec::file(
        "PREVIOUS_PRIVATE_KEY_FILE",
        key_path("rsa2048_other.pem"),
    ));
    config.app_secrets = vec![
        APP_SECRET.to_vec().into(),
        PREVIOUS_APP_SECRET.to_vec().into(),
    ];
    config.upstream_secret = Some(UPSTREAM_SECRET.as_bytes().to_vec().into());
    config.forward_headers = true;
    config.forward_error_notifications = true;
    config.metrics_listen = Some(listen);
    config
}

/// A running gateway, stopped (and drained) by [`RunningGateway::stop`].
pub struct RunningGateway {
    pub url: String,
    pub base: String,
    pub metrics_url: Option<String>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<Result<(), wa_flows_crypto_gateway::GatewayError>>,
}

impl RunningGateway {
    pub async fn start(config: Config) -> Self {
        let gateway = Gateway::bind(config).await.unwrap();
        let address = gateway.local_addr().unwrap();
        assert!(address.ip().is_loopback());
        let metrics_url = gateway
            .metrics_addr()
            .map(|address| format!("http://{address}/metrics"));
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(gateway.serve(async move {
            let _ = stopped.await;
        }));
        Self {
            url: format!("http://{address}/flows"),
            base: format!("http://{address}"),
            metrics_url,
            stop: Some(stop),
            task,
        }
    }

    /// Asks the gateway to stop and waits for it.
    pub async fn stop(mut self) -> Result<(), wa_flows_crypto_gateway::GatewayError> {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        (&mut self.task).await.unwrap()
    }

    pub async fn metrics(&self) -> String {
        client()
            .get(self.metrics_url.as_ref().unwrap())
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap()
    }
}

/// An HTTP client that never uses a proxy.
pub fn client() -> reqwest::Client {
    reqwest::Client::builder().no_proxy().build().unwrap()
}

/// WhatsApp's side: a request sealed for `public_key`, signed with `secret`.
pub struct Sealed {
    pub body: String,
    pub signature: Option<String>,
    pub session: ClientSession,
}

pub fn seal(public_key: &FlowPublicKey, request: &Value, secret: Option<&[u8]>) -> Sealed {
    let (body, session) = seal_request(public_key, request.to_string().as_bytes()).unwrap();
    let signature = secret.map(|secret| wa_flows_crypto::sign(body.as_bytes(), secret));
    Sealed {
        body,
        signature,
        session,
    }
}

/// An answer: its status and body.
pub struct Answer {
    pub status: u16,
    pub body: String,
}

impl Answer {
    /// Opens an encrypted answer with the request's session.
    pub fn open(&self, session: &ClientSession) -> Value {
        let plaintext = session
            .open_response(&self.body)
            .unwrap_or_else(|error| panic!("status {}: {error}: {:?}", self.status, self.body));
        serde_json::from_slice(&plaintext).unwrap()
    }
}

pub async fn post(
    client: &reqwest::Client,
    url: &str,
    body: &str,
    signature: Option<&str>,
) -> Answer {
    let mut request = client
        .post(url)
        .header("Content-Type", "application/json")
        .body(body.to_owned());
    if let Some(signature) = signature {
        request = request.header("X-Hub-Signature-256", signature);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let body = response.text().await.unwrap();
    Answer { status, body }
}

/// Seals, signs with the current app secret, posts, returns the answer and the session.
pub async fn exchange(
    client: &reqwest::Client,
    url: &str,
    request: &Value,
) -> (Answer, ClientSession) {
    let sealed = seal(&current_key().public_key(), request, Some(APP_SECRET));
    let answer = post(client, url, &sealed.body, sealed.signature.as_deref()).await;
    (answer, sealed.session)
}

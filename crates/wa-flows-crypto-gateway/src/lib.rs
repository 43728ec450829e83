#![doc = include_str!("../README.md")]

mod app;
pub mod args;
pub mod config;
mod media;
mod metrics;
pub mod upstream;

use std::future::Future;
use std::net::SocketAddr;
use std::sync::{Arc, OnceLock};

use tokio::net::TcpListener;
use tokio::sync::{Semaphore, watch};
use wa_flows_crypto::{FlowEndpoint, FlowKeyRing};

pub use crate::args::{GatewayArgs, run};
pub use crate::config::{Config, ConfigError, EnvSecrets, KeySource, KeySpec, MediaConfig};

/// Why the gateway could not start or stopped with an error. The message names what to fix
/// and never holds a key or a secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GatewayError(pub String);

impl std::fmt::Display for GatewayError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for GatewayError {}

impl From<ConfigError> for GatewayError {
    fn from(error: ConfigError) -> Self {
        Self(error.0)
    }
}

/// A gateway bound to its addresses, not yet serving.
#[derive(Debug)]
pub struct Gateway {
    listener: TcpListener,
    metrics_listener: Option<TcpListener>,
    app: Arc<app::App>,
    config: Config,
}

/// Builds the endpoint from the configured keys and secrets.
enum Load {
    Ready(Arc<FlowEndpoint>),
    /// A key file is missing or incomplete: try again later.
    NotYet(String),
}

fn load_endpoint(config: &Config) -> Result<Load, GatewayError> {
    let mut keys = Vec::new();
    for spec in std::iter::once(&config.key).chain(config.previous_key.as_ref()) {
        match spec.load() {
            Ok(key) => keys.push(key),
            Err(error) if error.retryable => return Ok(Load::NotYet(error.message)),
            Err(error) => return Err(GatewayError(error.message)),
        }
    }
    let ring = FlowKeyRing::new(keys).map_err(|error| GatewayError(error.to_string()))?;
    let secrets: Vec<&[u8]> = config.app_secrets.iter().map(|s| s.as_slice()).collect();
    FlowEndpoint::new(ring, &secrets, config.flow_token_signature)
        .map(|endpoint| Load::Ready(Arc::new(endpoint)))
        .map_err(|error| GatewayError(format!("{error} ({})", error.code())))
}

impl Gateway {
    /// Checks the configuration, loads the keys (or notes that a key file is not there yet),
    /// and binds the listeners.
    ///
    /// # Errors
    /// A configuration that cannot work (a key in a variable that does not parse, an
    /// upstream that is not an http(s) URL, a media directory that cannot be created, a
    /// policy that needs an app secret without one), or an address that cannot be bound.
    pub async fn bind(config: Config) -> Result<Self, GatewayError> {
        let upstream = upstream::Upstream::new(
            &config.upstream,
            config.upstream_secret.clone(),
            config.forward_headers,
            config.max_upstream_response_bytes,
        )
        .map_err(GatewayError)?;
        let media = config
            .media
            .clone()
            .map(media::Media::new)
            .transpose()
            .map_err(GatewayError)?;
        if config.max_concurrency == 0 {
            return Err(GatewayError(
                "--max-concurrency must be at least 1".to_owned(),
            ));
        }
        let metrics = metrics::Metrics::new();
        let endpoint = OnceLock::new();
        match load_endpoint(&config)? {
            Load::Ready(ready) => {
                let _ = endpoint.set(ready);
                metrics.set_ready();
            }
            Load::NotYet(message) => {
                tracing::warn!(
                    reason = message.as_str(),
                    retry_seconds = config.key_retry.as_secs_f64(),
                    "the private key cannot be loaded yet: not ready, trying again"
                );
            }
        }
        let listener = TcpListener::bind(config.listen).await.map_err(|error| {
            GatewayError(format!("cannot listen on {}: {error}", config.listen))
        })?;
        let metrics_listener = match config.metrics_listen {
            None => None,
            Some(address) => Some(TcpListener::bind(address).await.map_err(|error| {
                GatewayError(format!("cannot listen on {address} for metrics: {error}"))
            })?),
        };
        let app = Arc::new(app::App {
            endpoint,
            upstream,
            media,
            metrics,
            permits: Semaphore::new(config.max_concurrency),
            deadline: config.deadline,
            max_body_bytes: config.max_body_bytes,
            forward_error_notifications: config.forward_error_notifications,
        });
        Ok(Self {
            listener,
            metrics_listener,
            app,
            config,
        })
    }

    /// The address WhatsApp's calls arrive on (the real port when bound to port 0).
    ///
    /// # Errors
    /// If the operating system cannot say.
    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// The metrics listener's address, if there is one.
    pub fn metrics_addr(&self) -> Option<SocketAddr> {
        self.metrics_listener
            .as_ref()
            .and_then(|listener| listener.local_addr().ok())
    }

    /// Whether the keys are loaded (what `/readyz` answers).
    pub fn is_ready(&self) -> bool {
        self.app.endpoint.get().is_some()
    }

    /// Serves until `shutdown` completes, then stops accepting connections and waits for the
    /// requests in flight to be answered.
    ///
    /// # Errors
    /// A key file that appeared but cannot be used (a wrong passphrase, a policy the core
    /// refuses), or a listener that failed.
    pub async fn serve(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> Result<(), GatewayError> {
        let Self {
            listener,
            metrics_listener,
            app,
            config,
        } = self;
        let address = listener
            .local_addr()
            .map_err(|error| GatewayError(format!("cannot read the listening address: {error}")))?;
        let (stop, stopped) = watch::channel(false);
        let stop = Arc::new(stop);
        {
            let stop = Arc::clone(&stop);
            tokio::spawn(async move {
                shutdown.await;
                let _ = stop.send(true);
            });
        }
        let until_stopped = |mut stopped: watch::Receiver<bool>| async move {
            let _ = stopped.wait_for(|stop| *stop).await;
        };

        // A key file that is not there yet: try again until it is, or it turns out unusable.
        let (fatal_tx, mut fatal_rx) = watch::channel(None::<GatewayError>);
        if app.endpoint.get().is_none() {
            let app = Arc::clone(&app);
            let stop = Arc::clone(&stop);
            let mut stopped = stopped.clone();
            let config = config.clone();
            tokio::spawn(async move {
                loop {
                    tokio::select! {
                        () = tokio::time::sleep(config.key_retry) => {}
                        _ = stopped.wait_for(|stop| *stop) => return,
                    }
                    match load_endpoint(&config) {
                        Ok(Load::Ready(endpoint)) => {
                            let _ = app.endpoint.set(endpoint);
                            app.metrics.set_ready();
                            tracing::info!("the private key is loaded: ready");
                            return;
                        }
                        Ok(Load::NotYet(message)) => {
                            tracing::warn!(
                                reason = message.as_str(),
                                "the private key cannot be loaded yet"
                            );
                        }
                        Err(error) => {
                            tracing::error!(
                                reason = error.0.as_str(),
                                "the private key cannot be used: stopping"
                            );
                            let _ = fatal_tx.send(Some(error));
                            let _ = stop.send(true);
                            return;
                        }
                    }
                }
            });
        }

        let metrics_address = metrics_listener
            .as_ref()
            .and_then(|listener| listener.local_addr().ok())
            .map(|address| address.to_string());
        let metrics_task = metrics_listener.map(|listener| {
            let router = app::metrics_router(Arc::clone(&app.metrics));
            let stopped = stopped.clone();
            tokio::spawn(async move {
                axum::serve(listener, router)
                    .with_graceful_shutdown(until_stopped(stopped))
                    .await
            })
        });

        tracing::info!(
            address = %address,
            metrics = metrics_address.as_deref(),
            // Only the origin: a webhook URL's path is often its secret.
            upstream = upstream_origin(&config.upstream).as_str(),
            keys = 1 + usize::from(config.previous_key.is_some()),
            app_secrets = config.app_secrets.len(),
            flow_token_signature = config.flow_token_signature.name(),
            deadline_ms = u64::try_from(config.deadline.as_millis()).unwrap_or(u64::MAX),
            media = config.media.is_some(),
            ready = app.endpoint.get().is_some(),
            "listening"
        );
        if config.app_secrets.is_empty() {
            tracing::warn!(
                "APP_SECRET is not set, so requests are not authenticated: anyone with your \
                 public key can call this gateway"
            );
        }

        let served = axum::serve(listener, app::router(Arc::clone(&app)))
            .with_graceful_shutdown(until_stopped(stopped.clone()))
            .await
            .map_err(|error| GatewayError(format!("server error: {error}")));
        let _ = stop.send(true);
        if let Some(task) = metrics_task {
            match task.await {
                Ok(Ok(())) => {}
                Ok(Err(error)) => {
                    return Err(GatewayError(format!("metrics server error: {error}")));
                }
                Err(_) => return Err(GatewayError("the metrics server panicked".to_owned())),
            }
        }
        served?;
        if let Some(error) = fatal_rx.borrow_and_update().clone() {
            return Err(error);
        }
        tracing::info!("stopped");
        Ok(())
    }
}

/// `scheme://host:port` of a URL, for the logs.
fn upstream_origin(url: &str) -> String {
    reqwest::Url::parse(url)
        .map_or_else(|_| "?".to_owned(), |url| url.origin().ascii_serialization())
}

/// Binds with `config` and serves until `shutdown` completes (see [`Gateway`]).
///
/// # Errors
/// As [`Gateway::bind`] and [`Gateway::serve`].
pub async fn serve(
    config: Config,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), GatewayError> {
    Gateway::bind(config).await?.serve(shutdown).await
}

/// Structured JSON logs on standard error, one object per line, at `level` and above.
///
/// Does nothing if a subscriber is already installed (a test, an embedding program).
pub fn init_logging(level: tracing::Level) {
    let _ = tracing_subscriber::fmt()
        .json()
        .flatten_event(true)
        .with_current_span(false)
        .with_span_list(false)
        .with_max_level(level)
        .with_writer(std::io::stderr)
        .try_init();
}

/// Ctrl-C, or SIGTERM (what `kill`, Docker and Kubernetes send).
pub async fn shutdown_signal() {
    #[cfg(unix)]
    if let Ok(mut terminate) =
        tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
    {
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = terminate.recv() => {}
        }
        return;
    }
    let _ = tokio::signal::ctrl_c().await;
}

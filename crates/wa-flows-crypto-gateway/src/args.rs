//! The command line, shared by the `wa-flows-crypto-gateway` binary and
//! `wa-flows-crypto gateway`: flags for what is not secret, the environment for the rest.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use crate::config::{
    Config, DEFAULT_KEY_RETRY, DEFAULT_MAX_BODY_BYTES, DEFAULT_MAX_CONCURRENCY,
    DEFAULT_MAX_MEDIA_BYTES, DEFAULT_MAX_UPSTREAM_RESPONSE_BYTES, EnvSecrets, MediaConfig,
};
use crate::{GatewayError, init_logging, serve, shutdown_signal};

/// The longest deadline accepted: WhatsApp gives up after 10 seconds.
const MAX_DEADLINE: Duration = Duration::from_millis(9_500);

/// Options of the gateway. Keys and secrets come from the environment (`PRIVATE_KEY` or
/// `PRIVATE_KEY_FILE`, `PASSPHRASE`, `PREVIOUS_PRIVATE_KEY` or `PREVIOUS_PRIVATE_KEY_FILE`,
/// `PREVIOUS_PASSPHRASE`, `APP_SECRET`, `PREVIOUS_APP_SECRET`, `FLOW_TOKEN_SIGNATURE`,
/// `UPSTREAM_SECRET`), never from the command line.
#[derive(clap::Args, Debug, Clone)]
pub struct GatewayArgs {
    /// The address WhatsApp's calls arrive on (POST, any path).
    #[arg(long, value_name = "ADDR", default_value = "0.0.0.0:3000")]
    pub listen: SocketAddr,
    /// The URL each decrypted request is POSTed to as JSON.
    #[arg(long, value_name = "URL")]
    pub upstream: String,
    /// Seconds from a request's arrival to its answer, media download and upstream included;
    /// past it WhatsApp gets 500. At most 9.5 (WhatsApp waits 10).
    #[arg(long, value_name = "SECONDS", default_value = "8", value_parser = parse_deadline)]
    pub deadline: Duration,
    /// The largest request body accepted (413 above it).
    #[arg(long, value_name = "BYTES", default_value_t = DEFAULT_MAX_BODY_BYTES)]
    pub max_body_bytes: usize,
    /// The largest upstream answer read (500 above it).
    #[arg(long, value_name = "BYTES", default_value_t = DEFAULT_MAX_UPSTREAM_RESPONSE_BYTES)]
    pub max_upstream_response_bytes: usize,
    /// Requests handled at once; more wait for a turn, and get 503 if none comes within the
    /// deadline.
    #[arg(long, value_name = "N", default_value_t = DEFAULT_MAX_CONCURRENCY,
          value_parser = parse_concurrency)]
    pub max_concurrency: usize,
    /// Serve Prometheus metrics at http://ADDR/metrics (a separate listener; keep it private).
    #[arg(long, value_name = "ADDR")]
    pub metrics_listen: Option<SocketAddr>,
    /// Send X-Flow-Token, X-Flow-Action and X-Flow-Key-Index to the upstream.
    #[arg(long)]
    pub forward_headers: bool,
    /// Also POST error notifications to the upstream (the gateway acknowledges them itself).
    #[arg(long)]
    pub forward_error_notifications: bool,
    /// Download, verify and decrypt PhotoPicker / DocumentPicker uploads into DIR, and give
    /// the upstream each file's path instead of its encryption_metadata.
    #[arg(long, value_name = "DIR")]
    pub media_dir: Option<PathBuf>,
    /// Accept http:// cdn_url values (tests against a local fake CDN only).
    #[arg(long, requires = "media_dir")]
    pub allow_http_media: bool,
    /// The largest media file downloaded (WhatsApp's 25 MiB, plus padding and MAC).
    #[arg(long, value_name = "BYTES", default_value_t = DEFAULT_MAX_MEDIA_BYTES)]
    pub max_media_bytes: u64,
    /// Seconds between attempts to load a key file that is not there yet (/readyz answers
    /// 503 meanwhile).
    #[arg(long, value_name = "SECONDS", default_value_t = DEFAULT_KEY_RETRY.as_secs())]
    pub key_retry: u64,
    /// trace, debug, info, warn or error.
    #[arg(long, value_name = "LEVEL", default_value = "info")]
    pub log_level: tracing::Level,
}

impl GatewayArgs {
    /// The full configuration: these options and `secrets`.
    pub fn into_config(self, secrets: EnvSecrets) -> Config {
        let mut config = Config::new(self.listen, self.upstream, secrets.key);
        config.metrics_listen = self.metrics_listen;
        config.deadline = self.deadline;
        config.max_body_bytes = self.max_body_bytes;
        config.max_upstream_response_bytes = self.max_upstream_response_bytes;
        config.max_concurrency = self.max_concurrency;
        config.previous_key = secrets.previous_key;
        config.app_secrets = secrets.app_secrets;
        config.flow_token_signature = secrets.flow_token_signature;
        config.upstream_secret = secrets.upstream_secret;
        config.forward_headers = self.forward_headers;
        config.forward_error_notifications = self.forward_error_notifications;
        config.media = self.media_dir.map(|dir| MediaConfig {
            dir,
            allow_http: self.allow_http_media,
            max_bytes: self.max_media_bytes,
        });
        config.key_retry = Duration::from_secs(self.key_retry.max(1));
        config
    }
}

/// Runs the gateway in the foreground until Ctrl-C or SIGTERM: reads the environment, starts
/// the JSON logs and a Tokio runtime, serves, and drains the requests in flight.
///
/// # Errors
/// The configuration or start-up problem, as a message naming what to fix.
pub fn run(args: GatewayArgs) -> Result<(), GatewayError> {
    init_logging(args.log_level);
    let secrets = EnvSecrets::from_env()?;
    let config = args.into_config(secrets);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|error| GatewayError(format!("cannot start the async runtime: {error}")))?;
    runtime.block_on(serve(config, shutdown_signal()))
}

fn parse_deadline(text: &str) -> Result<Duration, String> {
    let seconds: f64 = text
        .trim()
        .parse()
        .map_err(|_| format!("{text:?} is not a number of seconds"))?;
    let deadline = Duration::try_from_secs_f64(seconds)
        .map_err(|_| format!("{text:?} is not a number of seconds"))?;
    if deadline.is_zero() || deadline > MAX_DEADLINE {
        return Err("give more than 0 and at most 9.5 seconds (WhatsApp waits 10)".to_owned());
    }
    Ok(deadline)
}

fn parse_concurrency(text: &str) -> Result<usize, String> {
    match text.trim().parse::<usize>() {
        Ok(n) if (1..=Semaphore::MAX_PERMITS).contains(&n) => Ok(n),
        _ => Err(format!("{text:?} is not a number of requests, at least 1")),
    }
}

use tokio::sync::Semaphore;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deadlines_are_checked() {
        assert_eq!(parse_deadline("0.25").unwrap(), Duration::from_millis(250));
        assert_eq!(parse_deadline("8").unwrap(), Duration::from_secs(8));
        for bad in ["0", "-1", "10", "x", "NaN", "inf"] {
            assert!(parse_deadline(bad).is_err(), "{bad}");
        }
        assert!(parse_concurrency("0").is_err());
        assert_eq!(parse_concurrency("200").unwrap(), 200);
    }
}

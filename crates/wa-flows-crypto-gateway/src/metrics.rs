//! Prometheus metrics (OpenMetrics text), served on their own listener at `/metrics`.
//!
//! | metric | type | labels |
//! |---|---|---|
//! | `wa_flows_gateway_requests_total` | counter | `action` (`ping`, `INIT`, `data_exchange`, `BACK`, `error_notification`, `other`, or `none` when the request was refused before it was read), `status` (the HTTP status answered) |
//! | `wa_flows_gateway_decrypt_seconds` | histogram | — (signature, decryption and token checks) |
//! | `wa_flows_gateway_upstream_seconds` | histogram | `outcome` (`ok`, `flow_token_error`, `error_status`, `invalid_answer`, `timeout`, `unreachable`) |
//! | `wa_flows_gateway_key_index_total` | counter | `key_index` (`0` the current key, `1` the previous one) |
//! | `wa_flows_gateway_media_files_total` | counter | `outcome` (`ok` or an error code) |
//! | `wa_flows_gateway_in_flight` | gauge | — |
//! | `wa_flows_gateway_ready` | gauge | — (1 once the key is loaded) |

use std::sync::Arc;
use std::time::Duration;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    action: &'static str,
    status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OutcomeLabels {
    outcome: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct KeyIndexLabels {
    key_index: u64,
}

/// The gateway's metrics and the registry that encodes them.
#[derive(Debug)]
pub(crate) struct Metrics {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    decrypt_seconds: Histogram,
    upstream_seconds: Family<OutcomeLabels, Histogram>,
    key_index: Family<KeyIndexLabels, Counter>,
    media_files: Family<OutcomeLabels, Counter>,
    pub(crate) in_flight: Gauge,
    ready: Gauge,
}

/// Buckets for the latencies, from a tenth of a millisecond to WhatsApp's 10 seconds.
const BUCKETS: [f64; 14] = [
    0.0001, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0,
];

impl Metrics {
    pub(crate) fn new() -> Arc<Self> {
        let mut registry = Registry::with_prefix("wa_flows_gateway");
        let requests = Family::<RequestLabels, Counter>::default();
        registry.register(
            "requests",
            "Flow requests answered, by action and HTTP status",
            requests.clone(),
        );
        let decrypt_seconds = Histogram::new(BUCKETS);
        registry.register(
            "decrypt_seconds",
            "Time to check the signature, decrypt and check the flow token",
            decrypt_seconds.clone(),
        );
        let upstream_seconds =
            Family::<OutcomeLabels, Histogram>::new_with_constructor(|| Histogram::new(BUCKETS));
        registry.register(
            "upstream_seconds",
            "Time the upstream took to answer, by outcome",
            upstream_seconds.clone(),
        );
        let key_index = Family::<KeyIndexLabels, Counter>::default();
        registry.register(
            "key_index",
            "Requests decrypted, by the index of the key that opened them (0 = current)",
            key_index.clone(),
        );
        let media_files = Family::<OutcomeLabels, Counter>::default();
        registry.register(
            "media_files",
            "Media files downloaded and verified, by outcome",
            media_files.clone(),
        );
        let in_flight = Gauge::default();
        registry.register(
            "in_flight",
            "Flow requests being handled",
            in_flight.clone(),
        );
        let ready = Gauge::default();
        registry.register("ready", "1 once the private key is loaded", ready.clone());
        Arc::new(Self {
            registry,
            requests,
            decrypt_seconds,
            upstream_seconds,
            key_index,
            media_files,
            in_flight,
            ready,
        })
    }

    pub(crate) fn request(&self, action: &'static str, status: u16) {
        self.requests
            .get_or_create(&RequestLabels { action, status })
            .inc();
    }

    pub(crate) fn decrypt(&self, took: Duration) {
        self.decrypt_seconds.observe(took.as_secs_f64());
    }

    pub(crate) fn upstream(&self, outcome: &'static str, took: Duration) {
        self.upstream_seconds
            .get_or_create(&OutcomeLabels { outcome })
            .observe(took.as_secs_f64());
    }

    pub(crate) fn key_index(&self, index: usize) {
        self.key_index
            .get_or_create(&KeyIndexLabels {
                key_index: u64::try_from(index).unwrap_or(u64::MAX),
            })
            .inc();
    }

    pub(crate) fn media_file(&self, outcome: &'static str) {
        self.media_files
            .get_or_create(&OutcomeLabels { outcome })
            .inc();
    }

    pub(crate) fn set_ready(&self) {
        self.ready.set(1);
    }

    /// The OpenMetrics text.
    pub(crate) fn encode(&self) -> String {
        let mut out = String::new();
        // Writing to a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut out, &self.registry);
        out
    }
}

/// The content type of [`Metrics::encode`].
pub(crate) const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

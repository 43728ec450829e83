//! `gateway`: the decryption gateway of the `wa-flows-crypto-gateway` crate, in the foreground
//! (the same options as the `wa-flows-crypto-gateway` binary).

pub(crate) use wa_flows_crypto_gateway::GatewayArgs;

use crate::error::{CliError, CliResult};

pub(crate) const AFTER_HELP: &str = "Keys and secrets come from the environment: PRIVATE_KEY or \
    PRIVATE_KEY_FILE, PASSPHRASE, PREVIOUS_PRIVATE_KEY or PREVIOUS_PRIVATE_KEY_FILE, \
    PREVIOUS_PASSPHRASE, APP_SECRET, PREVIOUS_APP_SECRET, FLOW_TOKEN_SIGNATURE \
    (if_present|required|off), UPSTREAM_SECRET.\n\nExample:\n  \
    PRIVATE_KEY_FILE=keys/private.pem APP_SECRET=… wa-flows-crypto gateway \
    --listen 0.0.0.0:3000 --upstream http://127.0.0.1:8080/flow\n\n\
    Logs are JSON lines on standard error; Ctrl-C or SIGTERM stops it after the requests in \
    flight are answered.";

/// Serves until Ctrl-C or SIGTERM; a configuration problem is `error[gateway]`.
pub(crate) fn gateway(args: GatewayArgs) -> CliResult {
    wa_flows_crypto_gateway::run(args).map_err(|err| CliError::new("gateway", err.to_string()))
}

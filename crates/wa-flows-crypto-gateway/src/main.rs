//! `wa-flows-crypto-gateway`: a decryption gateway for WhatsApp Flows. See the crate's
//! README for the configuration.

use std::process::ExitCode;

use clap::Parser;

#[derive(Parser, Debug)]
#[command(
    name = "wa-flows-crypto-gateway",
    version,
    about = "A WhatsApp Flows decryption gateway: WhatsApp's encrypted calls in, plain JSON to \
             --upstream out",
    after_help = "Keys and secrets come from the environment: PRIVATE_KEY or PRIVATE_KEY_FILE, \
                  PASSPHRASE, PREVIOUS_PRIVATE_KEY or PREVIOUS_PRIVATE_KEY_FILE, \
                  PREVIOUS_PASSPHRASE, APP_SECRET, PREVIOUS_APP_SECRET, FLOW_TOKEN_SIGNATURE \
                  (if_present|required|off), UPSTREAM_SECRET.\n\nExample:\n  \
                  PRIVATE_KEY_FILE=keys/private.pem APP_SECRET=… wa-flows-crypto-gateway \
                  --listen 0.0.0.0:3000 --upstream http://127.0.0.1:8080/flow"
)]
struct Cli {
    #[command(flatten)]
    gateway: wa_flows_crypto_gateway::GatewayArgs,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match wa_flows_crypto_gateway::run(cli.gateway) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("wa-flows-crypto-gateway: refusing to start or stopped: {error}");
            ExitCode::FAILURE
        }
    }
}

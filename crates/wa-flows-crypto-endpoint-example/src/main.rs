//! A complete WhatsApp Flows endpoint: axum, one route, a two-screen flow with a PhotoPicker.
//!
//! ```sh
//! wa-flows-crypto keygen --out keys/          # or: openssl genrsa -out keys/private.pem 2048
//! PRIVATE_KEY_FILE=keys/private.pem APP_SECRET=… \
//!     cargo run -p wa-flows-crypto-endpoint-example
//! ```
//!
//! See this crate's `README.md` for the configuration and the flow's behaviour.

use std::process::ExitCode;

use wa_flows_crypto_endpoint_example::{app, config};

fn main() -> ExitCode {
    // Parse the key (and everything else) before anything listens.
    let startup = match config::from_env() {
        Ok(startup) => startup,
        Err(message) => {
            eprintln!("flow endpoint: refusing to start: {message}");
            return ExitCode::FAILURE;
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("flow endpoint: cannot start the async runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(serve(startup)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("flow endpoint: {message}");
            ExitCode::FAILURE
        }
    }
}

async fn serve(startup: config::StartUp) -> Result<(), String> {
    let fingerprint = startup.settings.keys.newest().public_key_fingerprint();
    let keys = startup.settings.keys.len();
    let secrets = startup.settings.app_secrets.len();
    let policy = startup.settings.flow_token_signature.name();
    let router =
        app::router(startup.settings).map_err(|message| format!("refusing to start: {message}"))?;
    let listener = tokio::net::TcpListener::bind(startup.address)
        .await
        .map_err(|error| format!("cannot listen on {}: {error}", startup.address))?;
    let address = listener
        .local_addr()
        .map_err(|error| format!("cannot read the listening address: {error}"))?;
    eprintln!(
        "flow endpoint: listening on http://{address}/ (public key {fingerprint}, {keys} \
         key(s), {secrets} app secret(s), signature check {}, flow_token_signature {policy})",
        if secrets > 0 { "on" } else { "off" }
    );
    axum::serve(listener, router)
        .with_graceful_shutdown(shutdown_signal())
        .await
        .map_err(|error| format!("server error: {error}"))?;
    eprintln!("flow endpoint: stopped");
    Ok(())
}

/// Ctrl-C, or SIGTERM (what `kill`, Docker and Kubernetes send).
async fn shutdown_signal() {
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

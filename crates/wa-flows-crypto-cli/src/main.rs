//! `wa-flows-crypto`: keys in the form each provider wants, captured requests decrypted,
//! responses encrypted, media files decrypted, signatures verified, endpoints checked.
//!
//! Failures print one line `error[<code>]: <message>` on standard error and exit 1; usage
//! errors exit 2. Secrets (passphrases, app secrets) come from files or environment
//! variables, never from the command line.

mod check;
mod demo;
mod dist;
mod error;
mod gateway;
mod input;
mod keys;
mod media;
mod request;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{CommandFactory, Parser, Subcommand};

use crate::error::{CliResult, EXIT_USAGE};
use crate::input::{AppSecretArgs, KeyArgs, PassphraseArgs};
use crate::keys::PublicKeyFormat;

#[derive(Parser, Debug)]
#[command(
    name = "wa-flows-crypto",
    // The commit comes from build.rs: `git rev-parse --short HEAD`, or "unknown".
    version = concat!(env!("CARGO_PKG_VERSION"), " (", env!("WFC_BUILD_COMMIT"), ")"),
    about = "The cryptography of a WhatsApp Flows endpoint, from the command line",
    long_about = "The cryptography of a WhatsApp Flows endpoint, from the command line: keys \
                  in the form each provider wants, captured requests decrypted, responses \
                  encrypted, media files decrypted, signatures verified, running endpoints \
                  checked.\n\nFailures print `error[<code>]: <message>` and exit 1; usage \
                  errors exit 2. Secrets come from files or environment variables, never from \
                  the command line.\n\nInputs are capped, so that a wrong path (a device, a disk \
                  image) fails with error[too_large] instead of exhausting memory: key files 64 \
                  KiB, passphrase and app secret files 4 KiB, metadata 64 KiB, request and \
                  response bodies 16 MiB, media files 25 MiB plus padding and MAC (--max-size).",
    after_help = "Start here:\n  wa-flows-crypto demo\n  wa-flows-crypto keygen --out keys/\n  \
                  wa-flows-crypto <COMMAND> --help"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Generate a 2048-bit key pair: private.pem (mode 0600) and public.pem.
    #[command(
        after_help = "Example:\n  export KEY_PASSPHRASE='correct horse battery staple'\n  \
                            wa-flows-crypto keygen --out keys/ --passphrase-env KEY_PASSPHRASE"
    )]
    Keygen {
        /// The directory to write private.pem and public.pem into (created if missing).
        #[arg(long, value_name = "DIR", default_value = ".")]
        out: PathBuf,
        /// The key size; WhatsApp Flows expects 2048.
        #[arg(long, default_value_t = 2048, value_parser = parse_bits)]
        bits: usize,
        #[command(flatten)]
        passphrase: PassphraseArgs,
    },

    /// Print the public key in the form a provider's upload API takes, and its fingerprint.
    #[command(
        name = "public-key",
        after_help = "Examples:\n  wa-flows-crypto public-key --key private.pem\n  \
                      wa-flows-crypto public-key --key private.pem --format meta > body.txt\n  \
                      wa-flows-crypto public-key --key private.pem --format gupshup\n\n\
                      The fingerprint (SHA-256 of the public key DER) goes to standard error."
    )]
    PublicKey {
        #[command(flatten)]
        key: KeyArgs,
        /// pem: the PEM; json: one JSON string with \n escapes; meta: the form-encoded
        /// `business_public_key=` body for the Graph API; gupshup: `{"public_key": …}`;
        /// woztell: `{"publicKey": …}`.
        #[arg(long, value_enum, default_value_t = PublicKeyFormat::Pem)]
        format: PublicKeyFormat,
    },

    /// Show a key's format, encryption, size and fingerprint, with advice.
    #[command(
        name = "inspect-key",
        after_help = "Example:\n  wa-flows-crypto inspect-key --key private.pem --passphrase-env KEY_PASSPHRASE"
    )]
    InspectKey {
        #[command(flatten)]
        key: KeyArgs,
    },

    /// Decrypt a captured request body and print its JSON.
    #[command(
        name = "decrypt-request",
        after_help = "Examples:\n  wa-flows-crypto decrypt-request --key private.pem request.json\n  \
                      pbpaste | wa-flows-crypto decrypt-request --key private.pem -\n\n\
                      REQUEST is a file, `-` for standard input, or the JSON body itself."
    )]
    DecryptRequest {
        #[command(flatten)]
        key: KeyArgs,
        /// Pretty-print the JSON instead of printing it exactly as sent.
        #[arg(long)]
        pretty: bool,
        /// The POST body: a file, `-` (standard input, the default) or the JSON text.
        #[arg(value_name = "REQUEST|-")]
        request: Option<String>,
    },

    /// Encrypt a response for a captured request: prints the base64 body WhatsApp expects.
    #[command(
        name = "encrypt-response",
        after_help = "Example:\n  wa-flows-crypto encrypt-response --key private.pem --request request.json \
                      '{\"data\":{\"status\":\"active\"}}'\n\n\
                      The response bytes are encrypted exactly as given."
    )]
    EncryptResponse {
        #[command(flatten)]
        key: KeyArgs,
        /// The request it answers: a file, `-` or the JSON text.
        #[arg(long, value_name = "REQUEST")]
        request: String,
        /// The response: a file, `-` (standard input, the default) or the JSON text.
        #[arg(value_name = "RESPONSE|-")]
        response: Option<String>,
    },

    /// Decrypt and verify a media file downloaded from the CDN (PhotoPicker, DocumentPicker).
    #[command(
        name = "decrypt-media",
        after_help = "Example:\n  wa-flows-crypto decrypt-media --metadata encryption_metadata.json \
                      --in photo.enc --out photo.jpg\n\n\
                      The plaintext is written to a temporary file next to --out and renamed only \
                      after every check passed (file hash, HMAC, padding, plaintext hash); on \
                      failure nothing is left behind. The metadata may also be a whole media \
                      entry holding `encryption_metadata`. Prefer a file for the metadata: the \
                      command line is visible to other users."
    )]
    DecryptMedia {
        /// The `encryption_metadata`: a file, `-` or the JSON text.
        #[arg(long, value_name = "FILE|JSON")]
        metadata: String,
        /// The encrypted file from the CDN.
        #[arg(long = "in", value_name = "FILE.enc")]
        input: PathBuf,
        /// Where to write the verified plaintext.
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
        /// Show a progress bar (on a terminal; automatic for files of 16 MiB or more).
        #[arg(long)]
        progress: bool,
        /// Refuse a CDN file larger than this many bytes, stopping at the first byte over.
        /// The default is WhatsApp's 25 MiB upload cap plus padding and MAC.
        #[arg(long, value_name = "BYTES", default_value_t = media::DEFAULT_MAX_SIZE)]
        max_size: u64,
        /// Replace --out if it exists.
        #[arg(long)]
        force: bool,
    },

    /// Verify an X-Hub-Signature-256 header against the raw request body.
    #[command(
        name = "verify-signature",
        after_help = "Example:\n  export APP_SECRET=…\n  wa-flows-crypto verify-signature \
                      --app-secret-env APP_SECRET --header 'sha256=3b7e…' body.json"
    )]
    VerifySignature {
        #[command(flatten)]
        secret: AppSecretArgs,
        /// The X-Hub-Signature-256 header value (`sha256=` and 64 hex digits).
        #[arg(long, value_name = "VALUE", allow_hyphen_values = true)]
        header: String,
        /// The raw body, byte for byte: a file, `-` (standard input, the default) or the JSON text.
        #[arg(value_name = "BODY|-")]
        body: Option<String>,
    },

    /// Verify the data API 4.0 flow_token_signature of a decrypted request.
    #[command(
        name = "verify-flow-token",
        after_help = "Example:\n  wa-flows-crypto decrypt-request --key private.pem request.json \
                      | wa-flows-crypto verify-flow-token --app-secret-env APP_SECRET -\n\n\
                      Prints `verified` (an HS256 JWT over this request's flow_token, made with \
                      the app secret, within its exp/nbf and 60 s of leeway) or `absent` (no \
                      flow_token_signature: data API 3.0, or a ping). Anything else is \
                      error[invalid_flow_token_signature], exit 1: answer such a request with \
                      HTTP 427. Repeat --app-secret-env while rotating the app secret."
    )]
    VerifyFlowToken {
        #[command(flatten)]
        secret: AppSecretArgs,
        /// The clock, in Unix seconds (default: now).
        #[arg(long, value_name = "SECONDS", allow_hyphen_values = true)]
        now: Option<i64>,
        /// The decrypted request JSON: a file, `-` (standard input, the default) or the text.
        #[arg(value_name = "FILE|-")]
        request: Option<String>,
    },

    /// Play WhatsApp against a running endpoint and print a pass/fail table.
    #[command(
        name = "check-endpoint",
        after_help = "Example:\n  export APP_SECRET=… OLD_APP_SECRET=…\n  wa-flows-crypto check-endpoint \
                      https://example.com/flows --public-key public.pem --app-secret-env APP_SECRET\n  \
                      wa-flows-crypto check-endpoint https://example.com/flows --public-key new.pem \
                      --previous-public-key old.pem --app-secret-env APP_SECRET --app-secret-env \
                      OLD_APP_SECRET --flow-token-signature required\n\n\
                      Checks: ping answered with {\"data\":{\"status\":\"active\"}}; INIT answered \
                      with a screen; an error notification acknowledged; a tampered payload and a \
                      key for another public key refused with 421; with --previous-public-key, a \
                      request for the previous key answered. With an app secret (good requests are \
                      then signed): a badly signed request refused with 432; a body signed with \
                      the second secret answered; data API 4.0 flow token signatures: a valid one \
                      accepted, a forged, expired or other token's one refused with 427 (and, \
                      with required, a missing one). Exit status 1 if any check fails."
    )]
    CheckEndpoint(check::CheckArgs),

    /// Run the decryption gateway: WhatsApp's encrypted calls in, plain JSON to --upstream.
    #[command(after_help = gateway::AFTER_HELP)]
    Gateway(gateway::GatewayArgs),

    /// Show the whole exchange on a fresh key, with timings: the place to start.
    #[command(after_help = "Example:\n  wa-flows-crypto demo\n  \
                            cargo run -p wa-flows-crypto-cli --release -- demo")]
    Demo {
        /// Size of the demo media file in bytes, at most 64 MiB.
        #[arg(long, value_name = "BYTES", default_value_t = 4 * 1024 * 1024,
              value_parser = clap::value_parser!(u64).range(0..=demo::MAX_MEDIA_SIZE))]
        media_size: u64,
    },

    /// Print a shell completion script (bash, zsh, fish, elvish, powershell) on standard output.
    #[command(
        hide = true,
        after_help = "Example:\n  wa-flows-crypto completions bash > /etc/bash_completion.d/wa-flows-crypto"
    )]
    Completions {
        /// The shell to complete for.
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },

    /// Print the man page (roff) on standard output.
    #[command(
        hide = true,
        after_help = "Example:\n  wa-flows-crypto man > wa-flows-crypto.1 && man -l wa-flows-crypto.1"
    )]
    Man,
}

/// The key sizes keygen offers.
fn parse_bits(text: &str) -> Result<usize, String> {
    match text {
        "2048" => Ok(2048),
        "3072" => Ok(3072),
        "4096" => Ok(4096),
        _ => Err("choose 2048 (what WhatsApp Flows expects), 3072 or 4096".to_owned()),
    }
}

fn run(command: Command) -> CliResult {
    match command {
        Command::Keygen {
            out,
            bits,
            passphrase,
        } => keys::keygen(&out, bits, &passphrase),
        Command::PublicKey { key, format } => keys::public_key(&key, format),
        Command::InspectKey { key } => keys::inspect_key(&key),
        Command::DecryptRequest {
            key,
            pretty,
            request,
        } => request::decrypt_request(&key, request.as_deref(), pretty),
        Command::EncryptResponse {
            key,
            request,
            response,
        } => request::encrypt_response(&key, &request, response.as_deref()),
        Command::DecryptMedia {
            metadata,
            input,
            out,
            progress,
            force,
            max_size,
        } => media::decrypt_media(&metadata, &input, &out, progress, force, max_size),
        Command::VerifySignature {
            secret,
            header,
            body,
        } => request::verify_signature(&secret, &header, body.as_deref()),
        Command::VerifyFlowToken {
            secret,
            now,
            request,
        } => request::verify_flow_token(&secret, now, request.as_deref()),
        Command::CheckEndpoint(args) => check::check_endpoint(&args),
        Command::Gateway(args) => gateway::gateway(args),
        Command::Demo { media_size } => {
            // The parser capped it at MAX_MEDIA_SIZE, which fits in usize on every target.
            demo::demo(usize::try_from(media_size).unwrap_or(usize::MAX))
        }
        Command::Completions { shell } => dist::completions(shell, &mut Cli::command()),
        Command::Man => dist::man(Cli::command()),
    }
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(err) => {
            // --help and --version print and exit 0; real usage errors exit 2.
            let _ = err.print();
            return if err.use_stderr() {
                ExitCode::from(EXIT_USAGE)
            } else {
                ExitCode::SUCCESS
            };
        }
    };
    match run(cli.command) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error[{}]: {err}", err.code());
            ExitCode::from(err.exit_status())
        }
    }
}

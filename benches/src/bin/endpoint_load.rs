// A measurement driver: a broken fixture should stop it loudly.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

//! The load generator of `benches/endpoints/`: WhatsApp's side of the protocol against one
//! running endpoint, over keep-alive HTTP/1.1 on 127.0.0.1.
//!
//! ```sh
//! endpoint_load URL --public-key PEM [--app-secret-env VAR] [--connections 1,16,64]
//!               [--seconds 5] [--warmup 1] [--label NAME] [--round N]
//! ```
//!
//! One JSON line per concurrency on stdout: requests/s, p50/p99 latency, errors, and how many
//! answers were decrypted and checked. Exits 1 if any request was not answered 200 or a checked
//! answer did not open to the expected screen.

use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::TcpStream;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use wa_flows_crypto::FlowPublicKey;
use wa_flows_crypto::client::{ClientSession, seal_request};

/// Bodies sealed per kind: each connection walks the pool from its own offset, so reuse does not
/// make consecutive requests identical (no endpoint caches, but a request is never resent back to
/// back on one connection either).
const POOL_PER_KIND: usize = 64;
/// Large requests are sealed fewer times: 200 KB each.
const LARGE_POOL: usize = 8;
/// One request in this many is the large one.
const LARGE_EVERY: u64 = 50;
/// One answer in this many is decrypted and checked (opening every one would measure the
/// client's AES, not the server).
const CHECK_EVERY: u64 = 8;

#[derive(Clone, Copy)]
enum Kind {
    Ping,
    Init,
    Profile,
    Large,
}

impl Kind {
    /// What the decrypted answer must contain.
    fn expect(self) -> &'static str {
        match self {
            Self::Ping => "\"active\"",
            Self::Init => "\"PROFILE\"",
            Self::Profile | Self::Large => "\"SUMMARY\"",
        }
    }

    /// The plaintext. The flow's `PROFILE` submit answers `SUMMARY` with the name echoed, so the
    /// ~1 KB name is also ~1 KB of answer; the large request's bulk is a field the flow ignores,
    /// so it costs the server decryption and parsing but not a large answer.
    fn plaintext(self, n: usize) -> String {
        let token = format!("bench-token-{n}");
        match self {
            Self::Ping => r#"{"version":"3.0","action":"ping"}"#.to_string(),
            Self::Init => format!(r#"{{"version":"3.0","action":"INIT","flow_token":"{token}"}}"#),
            Self::Profile => {
                let name = filler(1000, n);
                format!(
                    r#"{{"version":"3.0","action":"data_exchange","screen":"PROFILE","flow_token":"{token}","data":{{"name":"{name}"}}}}"#
                )
            }
            Self::Large => {
                let notes = filler(200_000, n);
                format!(
                    r#"{{"version":"3.0","action":"data_exchange","screen":"PROFILE","flow_token":"{token}","data":{{"name":"Ada","notes":"{notes}"}}}}"#
                )
            }
        }
    }
}

/// ASCII letters varying with `seed`, JSON-safe.
fn filler(len: usize, seed: usize) -> String {
    (0..len)
        .map(|i| char::from(b'a' + u8::try_from((i * 7 + seed) % 26).unwrap()))
        .collect()
}

/// A ready HTTP request (head and body in one buffer) and the session that opens its answer.
struct Sealed {
    bytes: Vec<u8>,
    session: ClientSession,
    kind: Kind,
}

struct Pool {
    ping: Vec<Sealed>,
    init: Vec<Sealed>,
    profile: Vec<Sealed>,
    large: Vec<Sealed>,
}

impl Pool {
    fn new(public_key: &FlowPublicKey, app_secret: Option<&[u8]>, host: &str) -> Self {
        let seal = |kind: Kind, count: usize| -> Vec<Sealed> {
            (0..count)
                .map(|n| {
                    let (body, session) =
                        seal_request(public_key, kind.plaintext(n).as_bytes()).unwrap();
                    let mut head = format!(
                        "POST / HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n",
                        body.len()
                    );
                    if let Some(secret) = app_secret {
                        head.push_str(&format!(
                            "X-Hub-Signature-256: {}\r\n",
                            wa_flows_crypto::sign(body.as_bytes(), secret)
                        ));
                    }
                    head.push_str("\r\n");
                    let mut bytes = head.into_bytes();
                    bytes.extend_from_slice(body.as_bytes());
                    Sealed {
                        bytes,
                        session,
                        kind,
                    }
                })
                .collect()
        };
        Self {
            ping: seal(Kind::Ping, POOL_PER_KIND),
            init: seal(Kind::Init, POOL_PER_KIND),
            profile: seal(Kind::Profile, POOL_PER_KIND),
            large: seal(Kind::Large, LARGE_POOL),
        }
    }

    /// The fixed mix: of every 50 requests, one large, the rest ping, INIT and PROFILE in turn.
    fn pick(&self, i: u64) -> &Sealed {
        let slot = i % LARGE_EVERY;
        let round = usize::try_from(i / LARGE_EVERY).unwrap();
        if slot == 0 {
            return &self.large[round % self.large.len()];
        }
        let within = usize::try_from(slot).unwrap();
        let list = match slot % 3 {
            0 => &self.ping,
            1 => &self.init,
            _ => &self.profile,
        };
        &list[(round * 17 + within) % list.len()]
    }
}

struct Response {
    status: u16,
    body: Vec<u8>,
    close: bool,
}

/// Reads one HTTP/1.1 response: Content-Length or chunked bodies, as the servers under test send.
fn read_response(reader: &mut BufReader<TcpStream>) -> std::io::Result<Response> {
    let mut line = String::new();
    if reader.read_line(&mut line)? == 0 {
        return Err(std::io::ErrorKind::UnexpectedEof.into());
    }
    let status: u16 = line
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| std::io::Error::other(format!("bad status line {line:?}")))?;
    let mut length = None;
    let mut chunked = false;
    let mut close = false;
    loop {
        line.clear();
        if reader.read_line(&mut line)? == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        let header = line.trim_end();
        if header.is_empty() {
            break;
        }
        if let Some((name, value)) = header.split_once(':') {
            let value = value.trim();
            match name.to_ascii_lowercase().as_str() {
                "content-length" => length = value.parse::<usize>().ok(),
                "transfer-encoding" => chunked = value.eq_ignore_ascii_case("chunked"),
                "connection" => close = value.eq_ignore_ascii_case("close"),
                _ => {}
            }
        }
    }
    let mut body = Vec::new();
    if chunked {
        loop {
            line.clear();
            reader.read_line(&mut line)?;
            let size = usize::from_str_radix(line.trim().split(';').next().unwrap_or(""), 16)
                .map_err(|_| std::io::Error::other("bad chunk size"))?;
            let start = body.len();
            body.resize(start + size + 2, 0);
            reader.read_exact(&mut body[start..])?;
            body.truncate(start + size);
            if size == 0 {
                break;
            }
        }
    } else if let Some(length) = length {
        body.resize(length, 0);
        reader.read_exact(&mut body)?;
    } else {
        reader.read_to_end(&mut body)?;
        close = true;
    }
    Ok(Response {
        status,
        body,
        close,
    })
}

#[derive(Default)]
struct Tally {
    latencies_us: Vec<u32>,
    errors: u64,
    checked: u64,
    first_error: Option<String>,
}

impl Tally {
    fn fail(&mut self, message: String) {
        self.errors += 1;
        self.first_error.get_or_insert(message);
    }
}

fn connect(addr: &str) -> BufReader<TcpStream> {
    let stream = TcpStream::connect(addr).unwrap_or_else(|e| panic!("connect {addr}: {e}"));
    stream.set_nodelay(true).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    BufReader::with_capacity(64 << 10, stream)
}

/// One connection: requests back to back until `stop`, each timed from the first byte written to
/// the last byte read.
fn connection(addr: &str, pool: &Pool, offset: u64, stop: &AtomicBool, record: bool) -> Tally {
    let mut tally = Tally::default();
    let mut reader = connect(addr);
    let mut i = offset;
    while !stop.load(Ordering::Relaxed) {
        let sealed = pool.pick(i);
        let started = Instant::now();
        let outcome = reader
            .get_mut()
            .write_all(&sealed.bytes)
            .and_then(|()| read_response(&mut reader));
        let elapsed = started.elapsed();
        match outcome {
            Ok(response) => {
                if record {
                    tally
                        .latencies_us
                        .push(u32::try_from(elapsed.as_micros()).unwrap_or(u32::MAX));
                }
                if response.status != 200 {
                    let body = String::from_utf8_lossy(&response.body);
                    tally.fail(format!("status {} ({})", response.status, body.trim()));
                } else if i.is_multiple_of(CHECK_EVERY) {
                    check(&mut tally, sealed, &response.body);
                }
                if response.close {
                    reader = connect(addr);
                }
            }
            Err(e) => {
                tally.fail(format!("connection: {e}"));
                reader = connect(addr);
            }
        }
        i += 1;
    }
    tally
}

fn check(tally: &mut Tally, sealed: &Sealed, body: &[u8]) {
    let text = String::from_utf8_lossy(body);
    match sealed.session.open_response(&text) {
        Ok(plain) if String::from_utf8_lossy(&plain).contains(sealed.kind.expect()) => {
            tally.checked += 1;
        }
        Ok(plain) => tally.fail(format!(
            "unexpected answer {:.200}",
            String::from_utf8_lossy(&plain)
        )),
        Err(e) => tally.fail(format!("answer does not open: {e}")),
    }
}

/// Runs `connections` threads for `seconds`; returns their merged tallies and the wall time.
fn run(
    addr: &str,
    pool: &Arc<Pool>,
    connections: usize,
    seconds: f64,
    record: bool,
) -> (Tally, f64) {
    let stop = Arc::new(AtomicBool::new(false));
    // Spread the connections over the mix so they are not in lockstep on the large request.
    let offsets = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let handles: Vec<_> = (0..connections)
        .map(|_| {
            let (pool, stop, offsets, addr) = (
                pool.clone(),
                stop.clone(),
                offsets.clone(),
                addr.to_string(),
            );
            std::thread::spawn(move || {
                let offset = offsets.fetch_add(1, Ordering::Relaxed) * 7919;
                connection(&addr, &pool, offset, &stop, record)
            })
        })
        .collect();
    std::thread::sleep(Duration::from_secs_f64(seconds));
    stop.store(true, Ordering::Relaxed);
    let mut all = Tally::default();
    for handle in handles {
        let tally = handle.join().unwrap();
        all.latencies_us.extend(tally.latencies_us);
        all.errors += tally.errors;
        all.checked += tally.checked;
        if all.first_error.is_none() {
            all.first_error = tally.first_error;
        }
    }
    // The last requests finish after `stop`: the wall time runs until every thread joined.
    (all, started.elapsed().as_secs_f64())
}

fn percentile_ms(sorted_us: &[u32], p: f64) -> f64 {
    if sorted_us.is_empty() {
        return f64::NAN;
    }
    let rank = ((p / 100.0) * sorted_us.len() as f64).ceil() as usize;
    f64::from(sorted_us[rank.clamp(1, sorted_us.len()) - 1]) / 1000.0
}

fn json_string(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if u32::from(c) < 0x20 => out.push_str(&format!("\\u{:04x}", u32::from(c))),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn main() {
    let mut args = std::env::args().skip(1);
    let mut url = None;
    let mut public_key = None;
    let mut app_secret = None;
    let mut connections = vec![1, 16, 64];
    let mut seconds = 5.0;
    let mut warmup = 1.0;
    let mut label = String::from("endpoint");
    let mut round = 0u32;
    while let Some(arg) = args.next() {
        let mut value = || args.next().unwrap_or_else(|| panic!("{arg} needs a value"));
        match arg.as_str() {
            "--public-key" => public_key = Some(value()),
            "--app-secret-env" => {
                let var = value();
                app_secret = Some(std::env::var(&var).unwrap_or_else(|_| panic!("{var} unset")));
            }
            "--connections" => {
                connections = value().split(',').map(|n| n.parse().unwrap()).collect();
            }
            "--seconds" => seconds = value().parse().unwrap(),
            "--warmup" => warmup = value().parse().unwrap(),
            "--label" => label = value(),
            "--round" => round = value().parse().unwrap(),
            _ if url.is_none() && !arg.starts_with('-') => url = Some(arg),
            _ => panic!("unknown argument {arg}"),
        }
    }
    let url = url.expect("usage: endpoint_load URL --public-key PEM [options]");
    let addr = url
        .strip_prefix("http://")
        .expect("an http:// URL")
        .trim_end_matches('/')
        .to_string();
    assert!(
        addr.starts_with("127.0.0.1:"),
        "traffic stays on 127.0.0.1, not {addr}"
    );
    let pem = std::fs::read(public_key.expect("--public-key PEM")).unwrap();
    let public_key = FlowPublicKey::from_pem(pem).unwrap();
    let pool = Arc::new(Pool::new(
        &public_key,
        app_secret.as_deref().map(str::as_bytes),
        &addr,
    ));

    let mut failed = false;
    for &n in &connections {
        if warmup > 0.0 {
            let (tally, _) = run(&addr, &pool, n, warmup, false);
            if let Some(e) = &tally.first_error {
                eprintln!(
                    "{label}: warm-up at {n} connections: {} errors, first: {e}",
                    tally.errors
                );
                failed = true;
            }
        }
        let (mut tally, wall) = run(&addr, &pool, n, seconds, true);
        tally.latencies_us.sort_unstable();
        let requests = tally.latencies_us.len();
        println!(
            "{{\"label\":{},\"round\":{round},\"connections\":{n},\"seconds\":{wall:.3},\"requests\":{requests},\"rps\":{:.1},\"p50_ms\":{:.3},\"p99_ms\":{:.3},\"errors\":{},\"checked\":{},\"first_error\":{}}}",
            json_string(&label),
            requests as f64 / wall,
            percentile_ms(&tally.latencies_us, 50.0),
            percentile_ms(&tally.latencies_us, 99.0),
            tally.errors,
            tally.checked,
            tally
                .first_error
                .as_deref()
                .map_or_else(|| "null".to_string(), json_string),
        );
        if let Some(e) = &tally.first_error {
            eprintln!(
                "{label}: {n} connections: {} errors, first: {e}",
                tally.errors
            );
            failed = true;
        }
    }
    std::process::exit(i32::from(failed));
}

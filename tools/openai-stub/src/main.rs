//! `openai-stub`: serve the stub OpenAI-compatible API on 127.0.0.1 until
//! killed. The first line on stdout is the base URL, e.g.
//! `http://127.0.0.1:PORT/v1`; see the library docs for the routes.
//!
//! The other flags make it misbehave as a model server can, for the tests
//! of servers assay starts itself (`engine: command`): slow to become
//! ready, dead at start, dead or hung mid-run, deaf to SIGTERM.

use clap::Parser;
use openai_stub::StubServer;
use std::io::Write;
use std::net::SocketAddr;
use std::process::ExitCode;
use std::time::Duration;

/// A local OpenAI-compatible server that answers every completion request
/// with the same reply (or, asked for echoed prompt log-probabilities, with
/// deterministic ones), at once or after a fixed latency.
#[derive(Parser)]
#[command(version)]
struct Args {
    /// Port on 127.0.0.1 to listen on (0 picks a free one).
    #[arg(long, default_value_t = 0)]
    port: u16,
    /// Milliseconds to wait before each reply.
    #[arg(long, default_value_t = 0)]
    latency_ms: u64,
    /// Milliseconds to wait before listening (a server loading its model).
    #[arg(long, default_value_t = 0)]
    ready_delay_ms: u64,
    /// Exit with status 1 at once, saying why on stderr (a server that cannot start).
    #[arg(long)]
    exit_at_start: bool,
    /// Exit with status 3 when the N-th completion request arrives, before
    /// answering it (a server crashing mid-run). Completion requests then
    /// wait until `GET /v1/models` was asked once.
    #[arg(long, value_name = "N")]
    crash_after: Option<u64>,
    /// Stop itself with SIGSTOP when the N-th completion request arrives,
    /// before answering it (a server hung mid-run: alive, answering
    /// nothing). Completion requests then wait until `GET /v1/models` was
    /// asked once.
    #[arg(long, value_name = "N", conflicts_with = "crash_after")]
    freeze_after: Option<u64>,
    /// Keep running on SIGTERM (only SIGKILL stops it).
    #[arg(long)]
    ignore_sigterm: bool,
    /// Print its pid and the `CUDA_VISIBLE_DEVICES` it was given on stdout at start.
    #[arg(long)]
    report_env: bool,
}

fn main() -> ExitCode {
    let args = Args::parse();
    if args.report_env {
        let visible = std::env::var("CUDA_VISIBLE_DEVICES").unwrap_or_else(|_| "unset".into());
        println!("openai-stub: pid={} CUDA_VISIBLE_DEVICES={visible}", std::process::id());
    }
    if args.exit_at_start {
        eprintln!("openai-stub: exiting at start, as --exit-at-start asks");
        return ExitCode::FAILURE;
    }
    // Registering a handler replaces SIGTERM's default action (exit); the
    // runtime keeps it registered for the life of the process.
    let signals = tokio::runtime::Builder::new_current_thread().enable_io().build().expect("a runtime for signals");
    let _sigterm = args
        .ignore_sigterm
        .then(|| signals.block_on(async { tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) }));
    std::thread::sleep(Duration::from_millis(args.ready_delay_ms));
    let addr = SocketAddr::from(([127, 0, 0, 1], args.port));
    // Misbehaving as a model server, it serves nothing before its readiness
    // is checked: requests retried early would otherwise count toward
    // `--crash-after` and `--freeze-after` before the check sees it up.
    let latency = Duration::from_millis(args.latency_ms);
    let misbehaves = args.crash_after.is_some() || args.freeze_after.is_some();
    let bound = if misbehaves { StubServer::bind_held(addr, latency) } else { StubServer::bind(addr, latency) };
    let server = match bound {
        Ok(server) => server,
        Err(e) => {
            eprintln!("openai-stub: cannot listen on {addr}: {e}");
            return ExitCode::FAILURE;
        }
    };
    let mut stdout = std::io::stdout();
    if writeln!(stdout, "{}", server.url()).and_then(|()| stdout.flush()).is_err() {
        return ExitCode::FAILURE;
    }
    loop {
        match args.crash_after.or(args.freeze_after) {
            Some(n) if server.requests() >= n && args.crash_after.is_some() => {
                eprintln!("openai-stub: crashing at request {n}, as --crash-after asks");
                std::process::exit(3);
            }
            Some(n) if server.requests() >= n => {
                eprintln!("openai-stub: freezing at request {n}, as --freeze-after asks");
                let pid = std::process::id().to_string();
                let _ = std::process::Command::new("kill").args(["-STOP", &pid]).status();
            }
            Some(_) => std::thread::sleep(Duration::from_millis(5)),
            None => std::thread::park(),
        }
    }
}

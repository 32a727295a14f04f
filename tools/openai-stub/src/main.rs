//! `openai-stub`: serve the stub OpenAI-compatible API on 127.0.0.1 until
//! killed. The first line on stdout is the base URL, e.g.
//! `http://127.0.0.1:PORT/v1`; see the library docs for the routes.

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
}

fn main() -> ExitCode {
    let args = Args::parse();
    let addr = SocketAddr::from(([127, 0, 0, 1], args.port));
    let server = match StubServer::bind(addr, Duration::from_millis(args.latency_ms)) {
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
        std::thread::park();
    }
}

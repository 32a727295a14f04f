//! The host's own overhead: `assay bench` with the `mcq` plugin against a
//! local OpenAI-compatible server on 127.0.0.1 that answers at once, for
//! 10k, 100k and 1M samples: 10,000 questions with 1, 10 and 100 rollouts
//! (set `ASSAY_BENCH_SIZES=10000,100000` for fewer); then against a server
//! that takes 100 ms per reply at concurrency 256, where the ideal wall
//! time is samples × 0.1 s / 256. Then the same questions by
//! log-likelihood (`mode: loglikelihood`, base-model API): each sample
//! scores its 4 continuations in one request, the server echoing the
//! prompts with a log-probability per token (10k and 100k samples; not
//! with `ASSAY_BENCH_PLUGIN`).
//!
//! Reported per run: samples per second, the `assay` process's CPU time
//! (user + system) per sample (and per scored continuation), and its peak
//! RSS. The server runs in this process, so its CPU is not counted against
//! assay.
//!
//! Run with `cargo bench -p assay --bench throughput` after
//! `scripts/build-plugins.sh`. `ASSAY_BENCH_PLUGIN=path.wasm` runs another
//! plugin reading the same records (`question`, `choices`, `answer` as an
//! index), e.g. the Python `mcq` template (`scripts/measure-python.sh`).
// Tests and benchmarks report on stdout, and their helpers are no API.
#![allow(unreachable_pub, clippy::print_stdout, clippy::print_stderr)]

use nix::sys::resource::{UsageWho, getrusage};
use openai_stub::StubServer;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

// The built-plugin lookup the end-to-end tests use (and `ASSAY_TEST_PLUGIN_DIR`).
#[path = "../../tests/support/fixtures.rs"]
#[allow(dead_code)]
mod fixtures;

const CONCURRENCY: usize = 256;

/// Options per question: the continuations a log-likelihood sample scores.
const OPTIONS: usize = 4;

/// How the samples are asked.
#[derive(Clone, Copy)]
enum Kind {
    /// The model writes a reply (chat API).
    Generation,
    /// The options' continuations are scored in one request (text API, echo).
    Loglikelihood,
}

/// Questions in the dataset; larger runs add rollouts.
const QUESTIONS: usize = 10_000;

fn main() {
    let sizes: Vec<usize> = std::env::var("ASSAY_BENCH_SIZES")
        .ok()
        .map(|v| v.split(',').filter_map(|n| n.trim().parse().ok()).collect())
        .unwrap_or_else(|| vec![10_000, 100_000, 1_000_000]);
    // Compile the plugin into the on-disk cache first, as any earlier run
    // would have: the runs measure a cached load (0.14 s of compiling for
    // the Rust `mcq`, several seconds for a Python component).
    let warm = Command::new(env!("CARGO_BIN_EXE_assay")).args(["plugin", "info"]).arg(plugin()).output().unwrap();
    assert!(warm.status.success(), "{}", String::from_utf8_lossy(&warm.stderr));
    let instant = StubServer::start(Duration::ZERO);
    println!("| run | server | samples | wall s | samples/s | CPU µs/sample | CPU µs/continuation | peak RSS MiB |");
    println!("|---|---|---:|---:|---:|---:|---:|---:|");
    for &n in &sizes {
        report(Kind::Generation, "instant", n, &run(&instant, Kind::Generation, n));
    }
    let slow = StubServer::start(Duration::from_millis(100));
    let n = 10_000;
    let measured = run(&slow, Kind::Generation, n);
    report(Kind::Generation, "100 ms", n, &measured);
    // A million log-likelihood samples would move some 14 GB of echoed
    // prompts; another plugin may have no log-likelihood mode.
    let loglikelihood_sizes = match std::env::var_os("ASSAY_BENCH_PLUGIN") {
        None => sizes.iter().copied().filter(|&n| n <= 100_000).collect(),
        Some(_) => Vec::new(),
    };
    for n in loglikelihood_sizes {
        report(Kind::Loglikelihood, "instant", n, &run(&instant, Kind::Loglikelihood, n));
    }
    let ideal = n as f64 * 0.1 / CONCURRENCY as f64;
    println!(
        "\n100 ms server, concurrency {CONCURRENCY}: {:.2} s against an ideal {ideal:.2} s ({:+.1}%)",
        measured.wall,
        (measured.wall / ideal - 1.0) * 100.0
    );
}

/// The plugin run: `$ASSAY_BENCH_PLUGIN`, else the built `mcq`.
fn plugin() -> PathBuf {
    std::env::var_os("ASSAY_BENCH_PLUGIN").map_or_else(|| fixtures::plugin("mcq"), PathBuf::from)
}

/// What one `assay bench` run cost.
struct Measured {
    wall: f64,
    cpu: f64,
    peak_rss_kib: u64,
}

fn report(kind: Kind, server: &str, n: usize, m: &Measured) {
    let per_sample = m.cpu / n as f64 * 1e6;
    let (label, per_continuation) = match kind {
        Kind::Generation => ("generation", "-".to_string()),
        Kind::Loglikelihood => ("log-likelihood, 4 options", format!("{:.1}", per_sample / OPTIONS as f64)),
    };
    println!(
        "| {label} | {server} | {n} | {:.2} | {:.0} | {per_sample:.1} | {per_continuation} | {:.0} |",
        m.wall,
        n as f64 / m.wall,
        m.peak_rss_kib as f64 / 1024.0
    );
}

/// Run `assay bench` on `n` samples of `kind` against `server`.
fn run(server: &StubServer, kind: Kind, n: usize) -> Measured {
    let dir = tempfile::tempdir().unwrap();
    let questions = n.min(QUESTIONS);
    write_dataset(&dir.path().join("questions.jsonl"), questions);
    let (model, env) = match kind {
        Kind::Generation => ("", ""),
        Kind::Loglikelihood => {
            (", use_chat_template: false", ", capabilities: [loglikelihood], env_args: {mode: loglikelihood}")
        }
    };
    let config = format!(
        "name: throughput\noutput_dir: {out}\nmodels:\n  m: {{model: m, api_base_url: '{url}', max_concurrent: {CONCURRENCY}, adaptive_concurrency: false{model}}}\nenvs:\n  - {{id: quiz, module: {plugin}, dataset: questions.jsonl, rollouts_per_example: {rollouts}{env}}}\njobs:\n  - {{model: m, env: quiz}}\n",
        rollouts = n.div_ceil(questions),
        out = dir.path().join("runs").display(),
        url = server.url(),
        plugin = plugin().display(),
    );
    let config_path = dir.path().join("run.yaml");
    std::fs::write(&config_path, config).unwrap();
    let before = getrusage(UsageWho::RUSAGE_CHILDREN).unwrap();
    let started = Instant::now();
    let mut child = Command::new(env!("CARGO_BIN_EXE_assay"))
        .args(["bench", "--config", config_path.to_str().unwrap(), "--quiet"])
        .stdout(std::process::Stdio::null())
        .spawn()
        .expect("assay runs");
    let peak = watch_peak_rss(child.id());
    let status = child.wait().unwrap();
    let wall = started.elapsed().as_secs_f64();
    assert!(status.success(), "assay bench failed");
    let after = getrusage(UsageWho::RUSAGE_CHILDREN).unwrap();
    let seconds = |u: &nix::sys::resource::Usage| {
        let (user, system) = (u.user_time(), u.system_time());
        user.tv_sec() as f64 + user.tv_usec() as f64 * 1e-6 + system.tv_sec() as f64 + system.tv_usec() as f64 * 1e-6
    };
    Measured { wall, cpu: seconds(&after) - seconds(&before), peak_rss_kib: peak.join().unwrap() }
}

/// Poll the child's peak RSS (`VmHWM`) until it exits.
fn watch_peak_rss(pid: u32) -> std::thread::JoinHandle<u64> {
    std::thread::spawn(move || {
        let mut peak = 0;
        while let Ok(status) = std::fs::read_to_string(format!("/proc/{pid}/status")) {
            let hwm = status
                .lines()
                .find_map(|l| l.strip_prefix("VmHWM:"))
                .and_then(|v| v.trim().trim_end_matches(" kB").parse().ok());
            match hwm {
                Some(kib) => peak = peak.max(kib),
                None => break, // a zombie: it has exited
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        peak
    })
}

fn write_dataset(path: &Path, n: usize) {
    use std::io::Write;
    let mut out = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
    for i in 0..n {
        let record = serde_json::json!({
            "id": format!("q{i}"),
            "question": format!("Which option is the first one? (question {i})"),
            "choices": ["alpha", "beta", "gamma", "delta"],
            "answer": 0,
        });
        writeln!(out, "{record}").unwrap();
    }
}

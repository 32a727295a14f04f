//! A Python environment against the Rust one doing the same task: the
//! `mcq` template of `assay plugin new --lang python` (built with
//! componentize-py) beside the first-party Rust `mcq` plugin, on the same
//! four-option record and reply. Reported:
//!
//! - component size;
//! - load time: compiling with an empty on-disk cache (first load), and
//!   loading again from that cache in a fresh runtime (cached load), as
//!   `assay bench` does at start; least of 3;
//! - per-call time of `prepare`, `grade` and `advance` (a reply, graded)
//!   through an [`EnvironmentPool`] on a warm instance: the mean over 2,000
//!   calls, least of 5 batches;
//! - the cost of a fresh instance (what a trap costs): instantiate + configure.
//!
//! The Python plugin is scaffolded and built into `target/python-bench`
//! with the `assay` binary (componentize-py installed on first use into
//! `target/assay-tools`). Run with `cargo bench -p assay --bench python`
//! after `scripts/build-plugins.sh`; `scripts/measure-python.sh` runs this
//! and the 10,000-sample throughput runs.
// Tests and benchmarks report on stdout, and their helpers are no API.
#![allow(unreachable_pub, clippy::print_stdout, clippy::print_stderr)]

use assay::runtime::{self, Action, CallContext, Event, ModelReply, PluginLimits, Sample};
use serde_json::json;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};
use tokio::runtime::Runtime;

#[path = "../../tests/support/fixtures.rs"]
#[allow(dead_code)]
mod fixtures;

const CTX: CallContext<'static> = CallContext { record: "bench", seed: 7 };
const CALLS: u32 = 2_000;
const REPLY: &str = "Let's think step by step. ATP is made mainly by oxidative phosphorylation in the inner \
membrane, by ATP synthase. Ribosomes (A) make proteins; the Golgi apparatus (B) sorts them; lysosomes (D) \
digest macromolecules. The mitochondrion holds the respiratory chain. The answer is (C).";

fn main() {
    let python = build_python_mcq();
    let rust = fixtures::plugin("mcq");
    println!("| | Rust `mcq` | Python `mcq` template |");
    println!("|---|---:|---:|");
    let size = |p: &Path| format!("{:.1} MiB", std::fs::metadata(p).unwrap().len() as f64 / (1 << 20) as f64);
    println!("| component size | {} | {} |", size(&rust), size(&python));
    let (rust_load, python_load) = (load_times(&rust), load_times(&python));
    println!("| first load (compile, empty cache) | {:.2} s | {:.2} s |", rust_load.0, python_load.0);
    println!("| cached load (fresh runtime, disk cache) | {:.3} s | {:.3} s |", rust_load.1, python_load.1);
    let (rust_calls, python_calls) = (call_times(&rust), call_times(&python));
    for (i, name) in [
        "`prepare`",
        "`grade` (500-byte reply)",
        "`advance` with the reply (grades it)",
        "fresh instance (after a trap): instantiate + configure",
    ]
    .iter()
    .enumerate()
    {
        println!("| {name} | {:.1} µs | {:.1} µs |", rust_calls[i], python_calls[i]);
    }
}

/// Scaffold and build the Python `mcq` template (a no-op when up to date).
fn build_python_mcq() -> PathBuf {
    let dir = fixtures::repo_root().join("target/python-bench");
    let project = dir.join("pymcq");
    let assay = |args: &[&str]| {
        let output = Command::new(env!("CARGO_BIN_EXE_assay"))
            .args(args)
            .current_dir(&dir)
            .env("ASSAY_TOOLS_DIR", fixtures::repo_root().join("target/assay-tools"))
            .output()
            .expect("assay runs");
        assert!(output.status.success(), "assay {args:?}: {}", fixtures::output_text(&output));
    };
    std::fs::create_dir_all(&dir).unwrap();
    if !project.join("pyproject.toml").is_file() {
        assay(&["plugin", "new", "pymcq", "--lang", "python", "--template", "mcq"]);
    }
    assay(&["plugin", "build", "pymcq"]);
    project.join("build/pymcq.wasm")
}

fn seconds(start: Instant) -> f64 {
    start.elapsed().as_secs_f64()
}

/// (first load, cached load) in seconds, least of 3 each.
fn load_times(wasm: &Path) -> (f64, f64) {
    let rt = Runtime::new().unwrap();
    let (mut first, mut cached) = (f64::MAX, f64::MAX);
    for _ in 0..3 {
        let cache = tempfile::tempdir().unwrap();
        let start = Instant::now();
        rt.block_on(runtime::Runtime::new(Some(cache.path())).unwrap().load(wasm)).expect("loads");
        first = first.min(seconds(start));
        let start = Instant::now();
        rt.block_on(runtime::Runtime::new(Some(cache.path())).unwrap().load(wasm)).expect("loads");
        cached = cached.min(seconds(start));
    }
    (first, cached)
}

/// Mean µs per call of prepare, grade, advance and a fresh instance.
fn call_times(wasm: &Path) -> [f64; 4] {
    let rt = Runtime::new().unwrap();
    let wasm_runtime = runtime::Runtime::new(None).unwrap();
    let plugin = rt.block_on(wasm_runtime.load(wasm)).unwrap();
    let new_pool =
        || rt.block_on(wasm_runtime.environment(plugin.clone(), &Default::default(), PluginLimits::default())).unwrap();
    let pool = new_pool();
    let record = json!({"id": "q1", "question": "Which organelle is the primary site of ATP synthesis?", "choices": ["Ribosome", "Golgi apparatus", "Mitochondrion", "Lysosome"], "answer": 2});
    let sample = Sample::new(record.to_string(), CTX.seed);
    let step = rt.block_on(pool.prepare(CTX, &sample)).unwrap();
    assert!(matches!(step.action, Action::AskModel(_)));
    let state = step.state;
    assert_eq!(rt.block_on(pool.grade(CTX, &state, REPLY)).unwrap().reward, 1.0, "{}", wasm.display());
    let event = Event::ModelReply(ModelReply::text(REPLY));
    let per_call = |call: &dyn Fn() -> Duration| {
        (0..5).map(|_| call().as_secs_f64() * 1e6 / f64::from(CALLS)).fold(f64::MAX, f64::min)
    };
    let time = |f: &dyn Fn()| {
        let start = Instant::now();
        for _ in 0..CALLS {
            f();
        }
        start.elapsed()
    };
    let prepare = per_call(&|| time(&|| drop(rt.block_on(pool.prepare(CTX, &sample)).unwrap())));
    let grade = per_call(&|| time(&|| drop(rt.block_on(pool.grade(CTX, &state, REPLY)).unwrap())));
    let advance = per_call(&|| time(&|| drop(rt.block_on(pool.advance(CTX, &state, &event)).unwrap())));
    // A new pool instantiates and configures one instance.
    let fresh = (0..5)
        .map(|_| {
            let start = Instant::now();
            for _ in 0..50 {
                drop(new_pool());
            }
            start.elapsed().as_secs_f64() * 1e6 / 50.0
        })
        .fold(f64::MAX, f64::min);
    [prepare, grade, advance, fresh]
}

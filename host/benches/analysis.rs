//! Benchmarks of what runs after a sweep, at the sizes issue #4 names:
//!
//! 1. `assay process` of 1,000,000 result rows (20 models × 10 envs × 5,000
//!    examples, realistic line sizes), and the incremental rerun that finds
//!    nothing new;
//! 2. `assay winrate` (pairwise, 1,000 bootstrap replicates) over 20 models
//!    × 20 envs × 5,000 examples, and the same with `--method helm`.
//!
//! Run with `cargo bench -p assay --bench analysis` (release build). Input
//! generation is not timed. Prints wall time, throughput and peak RSS.
// Tests and benchmarks report on stdout, and their helpers are no API.
#![allow(unreachable_pub, clippy::print_stdout, clippy::print_stderr)]

use assay::analysis::load::{Sample, Samples};
use assay::analysis::winrate::{self, Method, Missing, Weight, WinrateOptions};
use assay::models::{Message, Role};
use assay::process::{self, ProcessOptions};
use assay::store::{self, JobEntry, JobStatus, Manifest, ParseStatus, SampleResult, Tokens};
use std::io::Write;
use std::path::Path;
use std::time::Instant;

const MODELS: usize = 20;
const EXAMPLES: usize = 5_000;

fn main() {
    let dir = tempfile::tempdir().expect("temp dir");
    bench_process(dir.path());
    bench_winrate();
    println!("peak RSS: {} MiB", peak_rss_kib() / 1024);
}

/// One synthetic run with 20 models × 10 envs × 5,000 examples.
fn write_runs(runs: &Path) -> u64 {
    let run_dir = runs.join("bench-run");
    let mut jobs = Vec::new();
    let mut rows = 0;
    for model in 0..MODELS {
        for env in 0..10 {
            let job_id = format!("m{model}-e{env}");
            std::fs::create_dir_all(run_dir.join(&job_id)).unwrap();
            let file = std::fs::File::create(run_dir.join(&job_id).join("results.jsonl")).unwrap();
            let mut out = std::io::BufWriter::new(file);
            for example in 0..EXAMPLES {
                let result = sample(model, example);
                serde_json::to_writer(&mut out, &result).unwrap();
                out.write_all(b"\n").unwrap();
                rows += 1;
            }
            jobs.push(entry(&job_id, model, env));
        }
    }
    let now = store::now_rfc3339();
    let manifest = Manifest {
        version: store::MANIFEST_VERSION,
        run_id: "bench-run".into(),
        name: "bench".into(),
        config_path: "bench.yaml".into(),
        assay_version: "bench".into(),
        created_at: now.clone(),
        updated_at: now,
        restart_source: None,
        jobs,
        summary: Default::default(),
    };
    store::write_json(&run_dir.join(store::MANIFEST_FILE), &manifest).unwrap();
    rows
}

fn sample(model: usize, example: usize) -> SampleResult {
    let correct = (example * 7 + model * 13) % 10 < 3 + model % 5;
    SampleResult {
        example_id: format!("q{example}"),
        example_index: example,
        rollout: 0,
        seed: (example as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15),
        group: None,
        prompt: vec![Message::new(
            Role::User,
            format!("Question {example}: which of the following is right?\nA. one\nB. two\nC. three\nD. four"),
        )],
        prompt_text: None,
        sampling_seed: None,
        continuations: Vec::new(),
        judge_calls: Vec::new(),
        completion: Some(format!("Let me think step by step about question {example}. The answer is (B).")),
        reasoning: None,
        reward: Some(if correct { 1.0 } else { 0.0 }),
        parsed_answer: Some("B".into()),
        parse_status: Some(ParseStatus::Ok),
        metrics: Default::default(),
        info: serde_json::json!({"gold": "B", "method": "answer_phrase"}),
        transcript: vec![],
        code_runs: vec![],
        artifacts: Vec::new(),
        turns: 1,
        tokens: Tokens { prompt: 40, completion: 18, reasoning: 0 },
        latency_ms: 850,
        error: None,
        finished_at: "2026-11-23T05:00:00.000000Z".into(),
    }
}

fn entry(job_id: &str, model: usize, env: usize) -> JobEntry {
    JobEntry {
        job_id: job_id.into(),
        model_id: format!("m{model}"),
        env_id: format!("e{env}"),
        env_base_id: format!("e{env}"),
        status: JobStatus::Completed,
        reason: None,
        checksum: format!("{job_id}-checksum"),
        identity: serde_json::Value::Null,
        samples_total: EXAMPLES as u64,
        samples_done: EXAMPLES as u64,
        samples_failed: 0,
        mean_reward: None,
        started_at: None,
        ended_at: None,
        duration_secs: None,
        results: format!("{job_id}/results.jsonl"),
    }
}

fn bench_process(dir: &Path) {
    let runs = dir.join("raw");
    let rows = write_runs(&runs);
    let options = ProcessOptions {
        runs_dir: runs,
        output_dir: dir.join("processed"),
        max_workers: std::thread::available_parallelism().map_or(2, |n| n.get()),
        statuses: vec![JobStatus::Completed],
        drop_text: false,
        dry_run: false,
    };
    let started = Instant::now();
    let (reports, _) = process::process(&options).unwrap();
    let secs = started.elapsed().as_secs_f64();
    let written: u64 = reports.iter().map(|r| r.rows).sum();
    assert_eq!(written, rows);
    println!("process: {rows} rows into {} files in {secs:.2} s ({:.0} rows/s)", reports.len(), rows as f64 / secs);
    let started = Instant::now();
    process::process(&options).unwrap();
    println!("process again, nothing new: {:.3} s", started.elapsed().as_secs_f64());
}

fn bench_winrate() {
    let mut samples = Samples::new();
    for model in 0..MODELS {
        for env in 0..20 {
            let key = (format!("m{model}"), format!("e{env}"), format!("e{env}"));
            let examples = (0..EXAMPLES)
                .map(|example| {
                    let reward = sample(model, example + env).reward;
                    (format!("q{example}"), vec![Sample { rollout: 0, reward, parsed_answer: None, group: None }])
                })
                .collect();
            samples.insert(key, examples);
        }
    }
    for method in [Method::Pairwise, Method::Helm] {
        let options = WinrateOptions {
            method,
            missing: Missing::Loss,
            weight: Weight::Ln,
            epsilon: 1e-9,
            resamples: 1000,
            seed: 0,
            include_models: vec![],
            exclude_models: vec![],
            exclude_envs: vec![],
        };
        let started = Instant::now();
        let result = winrate::winrates(&samples, &options).unwrap();
        let secs = started.elapsed().as_secs_f64();
        assert_eq!(result.models.len(), MODELS);
        println!("winrate {method:?}: {MODELS} models × 20 envs × {EXAMPLES} examples, 1000 resamples in {secs:.2} s");
    }
}

/// Peak resident memory of this process (`VmHWM`), KiB.
fn peak_rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

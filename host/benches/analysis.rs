//! Benchmarks of what runs after a sweep, at the sizes issues #4 and #19 name:
//!
//! 1. `assay process` of 1,000,000 result rows (20 models × 10 envs × 5,000
//!    examples, realistic line sizes), the incremental rerun that finds
//!    nothing new, and the same rows from jobs without `summary.json`;
//! 2. `assay winrate` (pairwise, and `--method helm`; 1,000 bootstrap
//!    replicates) over 100 models × 50 envs × 10,000 examples with one
//!    0/1 reward each, and over 20 models × 20 envs × 5,000 examples with
//!    four rollouts each.
//!
//! Run with `cargo bench -p assay --bench analysis` (release build; `--
//! process` or `-- winrate` for one part). Input generation is not timed.
//! Prints wall and CPU time, throughput and peak RSS.
// Tests and benchmarks report on stdout, and their helpers are no API.
#![allow(unreachable_pub, clippy::print_stdout, clippy::print_stderr)]

// The allocator the `assay` binary uses, so `process` is measured as it runs.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use assay::analysis::scores::ScoreTable;
use assay::analysis::winrate::{self, Method, Missing, Weight, WinrateOptions};
use assay::models::{Message, Role};
use assay::process::{self, ProcessOptions};
use assay::store::{self, JobEntry, JobStatus, Manifest, ParseStatus, RunLayout, SampleResult, SummaryBuilder, Tokens};
use std::io::Write;
use std::path::Path;
use std::time::Instant;

const MODELS: usize = 20;
const EXAMPLES: usize = 5_000;

fn main() {
    // `cargo bench --bench analysis -- process` (or `winrate`) runs one part.
    let wanted: Vec<String> = std::env::args().skip(1).filter(|a| !a.starts_with('-')).collect();
    let runs = |part: &str| wanted.is_empty() || wanted.iter().any(|w| w == part);
    if runs("process") {
        let dir = tempfile::tempdir().expect("temp dir");
        bench_process(dir.path());
    }
    if runs("winrate") {
        bench_winrate();
    }
    println!("peak RSS: {} MiB", peak_rss_kib() / 1024);
}

/// One synthetic run with 20 models × 10 envs × 5,000 examples, each job
/// with its results and, as every finished job has, its summary.
fn write_runs(runs: &Path) -> u64 {
    let run_dir = runs.join("bench-run");
    let mut jobs = Vec::new();
    let mut rows = 0;
    for model in 0..MODELS {
        for env in 0..10 {
            let job_id = format!("m{model}-e{env}");
            let files = RunLayout::new(&run_dir).job(&job_id);
            std::fs::create_dir_all(files.dir()).unwrap();
            let mut out = std::io::BufWriter::new(std::fs::File::create(files.results()).unwrap());
            let mut summary = SummaryBuilder::default();
            for example in 0..EXAMPLES {
                let result = sample(model, example);
                serde_json::to_writer(&mut out, &result).unwrap();
                out.write_all(b"\n").unwrap();
                summary.add(&result);
                rows += 1;
            }
            store::write_json(&files.summary(), &summary.build(1.0)).unwrap();
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
        rescore_source: None,
        jobs,
        summary: Default::default(),
        shard: None,
        shards: None,
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
        cache_hits: 0,
        error: None,
        cost_usd: Some(0.000_058),
        finished_at: "2026-11-23T05:00:00.000000Z".into(),
    }
}

fn entry(job_id: &str, model: usize, env: usize) -> JobEntry {
    JobEntry {
        job_id: job_id.into(),
        model_id: format!("m{model}"),
        env_id: format!("e{env}"),
        env_base_id: format!("e{env}"),
        config_id: "default".into(),
        status: JobStatus::Completed,
        reason: None,
        checksum: format!("{job_id}-checksum"),
        identity: serde_json::Value::Null,
        samples_total: EXAMPLES as u64,
        samples_done: EXAMPLES as u64,
        samples_failed: 0,
        mean_reward: None,
        cache_hits: 0,
        started_at: None,
        ended_at: None,
        duration_secs: None,
        results: format!("{job_id}/results.jsonl"),
        shard_samples: None,
    }
}

fn bench_process(dir: &Path) {
    let runs = dir.join("raw");
    let rows = write_runs(&runs);
    // Results are written long before they are processed: flush them to
    // disk first, so the kernel's writeback does not share the two cores
    // with the timed run.
    nix::unistd::sync();
    let options = |output: &str| ProcessOptions {
        runs_dir: runs.clone(),
        output_dir: dir.join(output),
        max_workers: process::DEFAULT_MAX_WORKERS,
        statuses: vec![JobStatus::Completed],
        drop_text: false,
        dry_run: false,
    };
    time_process(&options("processed"), rows, "process");
    let started = Instant::now();
    process::process(&options("processed")).unwrap();
    println!("process again, nothing new: {:.3} s", started.elapsed().as_secs_f64());
    // Without summaries, metric names are first read from the results.
    for job in std::fs::read_dir(runs.join("bench-run")).unwrap() {
        let _ = std::fs::remove_file(
            RunLayout::new(runs.join("bench-run")).job(&job.unwrap().file_name().to_string_lossy()).summary(),
        );
    }
    time_process(&options("processed-again"), rows, "process, jobs without summary.json");
}

/// Run `process` with `options` once, printing wall and CPU time.
fn time_process(options: &ProcessOptions, rows: u64, what: &str) {
    let (started, cpu) = (Instant::now(), cpu_secs());
    let (reports, _) = process::process(options).unwrap();
    let (secs, cpu) = (started.elapsed().as_secs_f64(), cpu_secs() - cpu);
    let written: u64 = reports.iter().map(|r| r.rows).sum();
    assert_eq!(written, rows);
    println!(
        "{what}: {rows} rows into {} files in {secs:.2} s ({:.0} rows/s), {cpu:.2} CPU s ({:.0} rows per CPU s)",
        reports.len(),
        rows as f64 / secs,
        rows as f64 / cpu
    );
}

fn bench_winrate() {
    // The scale issue 19 asks for, with 0/1 rewards and one rollout: the
    // two-valued kernel.
    winrate_at(100, 50, 10_000, 1);
    // Four rollouts: scores in quarters, the general kernels.
    winrate_at(20, 20, 5_000, 4);
}

/// Win rates (pairwise and HELM, 1,000 replicates) over `models` × `envs`
/// × `examples`, each example scored from `rollouts` rewards of 0 or 1.
fn winrate_at(models: usize, envs: usize, examples: usize, rollouts: usize) {
    let ids: Vec<String> = (0..examples).map(|example| format!("q{example}")).collect();
    let mut table = ScoreTable::new();
    for env in 0..envs {
        for model in 0..models {
            let mut scores = table.scores_of(&format!("e{env}"), &format!("m{model}"));
            for (example, id) in ids.iter().enumerate() {
                for rollout in 0..rollouts {
                    let correct = (example * 7 + model * 13 + env * 3 + rollout * 5) % 10 < 3 + model % 5;
                    scores.add(id, if correct { 1.0 } else { 0.0 }).unwrap();
                }
            }
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
        let (started, cpu) = (Instant::now(), cpu_secs());
        let result = winrate::winrates_of(&table, &options).unwrap();
        let (secs, cpu) = (started.elapsed().as_secs_f64(), cpu_secs() - cpu);
        assert_eq!(result.models.len(), models);
        println!(
            "winrate {method:?}: {models} models × {envs} envs × {examples} examples ({rollouts} rollouts), 1000 replicates in {secs:.2} s, {cpu:.2} CPU s; peak RSS so far {} MiB",
            peak_rss_kib() / 1024
        );
    }
}

/// User + system CPU time of this process so far (every thread), seconds.
fn cpu_secs() -> f64 {
    let usage = nix::sys::resource::getrusage(nix::sys::resource::UsageWho::RUSAGE_SELF).expect("getrusage");
    let secs = |t: nix::sys::time::TimeVal| t.tv_sec() as f64 + t.tv_usec() as f64 / 1e6;
    secs(usage.user_time()) + secs(usage.system_time())
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

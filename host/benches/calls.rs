//! Micro-benchmarks of the host's per-sample hot paths:
//!
//! - `mcq_calls`: calls into the `mcq` wasm plugin through an
//!   [`EnvironmentPool`] with the default limits, as the runner makes them:
//!   `prepare` of a four-option record, `advance` with the model's reply
//!   (which grades it), and `grade` of a chain-of-thought completion and
//!   of a bare answer line (about the fixed cost of a call);
//! - `math_calls`: `grade` in the `math` wasm plugin of a GSM8K-style
//!   completion and of a MATH-style `\boxed{}` LaTeX completion;
//! - `results`: one realistic [`SampleResult`] encoded as its
//!   `results.jsonl` line (as `ResultsWriter::append` does, into a reused
//!   buffer) and decoded again (as resume reads it), and the parquet
//!   conversion of `assay process` for a batch of [`PARQUET_ROWS`] lines:
//!   each read as a borrowed `ResultLine` into the Arrow batch
//!   ([`BatchBuilder`]), and with it written into memory with `process`'s
//!   writer properties (throughput in rows, so time per row = time / rows).
//!
//! Calls run on a multi-threaded tokio runtime like the runner's, one at
//! a time on a warm instance. Each case is checked once before it is
//! timed (prepare asks the model, replies grade correct).
//!
//! Run with `cargo bench -p assay --bench calls` after
//! `scripts/build-plugins.sh` (or with `ASSAY_TEST_PLUGIN_DIR` naming
//! another folder of built plugins, to compare builds).
// Tests and benchmarks report on stdout, and their helpers are no API.
#![allow(unreachable_pub, clippy::print_stdout, clippy::print_stderr)]

use arrow_array::RecordBatch;
use assay::models::{Message, Role};
use assay::process::schema::{self, BatchBuilder, RowSource};
use assay::runtime::{self, Action, CallContext, EnvironmentPool, Event, ModelReply, PluginLimits, Sample, Score};
use assay::store::{self, ParseStatus, SampleResult, Tokens};
use criterion::measurement::WallTime;
use criterion::{BenchmarkGroup, Criterion, Throughput, criterion_group, criterion_main};
use parquet::arrow::ArrowWriter;
use serde_json::json;
use tokio::runtime::Runtime;

// The built-plugin lookup the end-to-end tests use (and `ASSAY_TEST_PLUGIN_DIR`).
#[path = "../../tests/support/fixtures.rs"]
#[allow(dead_code)]
mod fixtures;

/// Which record and seed the calls claim to be for.
const CTX: CallContext<'static> = CallContext { record: "bench", seed: 7 };

/// Rows per parquet batch.
const PARQUET_ROWS: usize = 4096;

const MCQ_QUESTION: &str = "Which organelle is the primary site of ATP synthesis in eukaryotic cells?";
const MCQ_OPTIONS: [&str; 4] = ["Ribosome", "Golgi apparatus", "Mitochondrion", "Lysosome"];

/// A typical chain-of-thought reply to the `mcq` record (~500 bytes).
const MCQ_REPLY: &str = "Let's think step by step. ATP is made mainly by oxidative phosphorylation, which needs \
the electron transport chain and ATP synthase. Ribosomes (A) make proteins and use GTP and ATP rather than \
producing them. The Golgi apparatus (B) packages and sorts proteins. Lysosomes (D) digest macromolecules and use \
ATP to keep their lumen acidic. The mitochondrion (C) holds the respiratory chain in its inner membrane and \
ATP synthase, producing most of the cell's ATP. The answer is (C).";

/// A GSM8K-style completion (~400 bytes) for a gold answer of 1250.
const GSM8K_REPLY: &str = "The bakery filled 25 boxes of 12 cupcakes, so it made 25 * 12 = 300 cupcakes.\n\
50 cupcakes were left and donated, so it sold 300 - 50 = 250 cupcakes.\n\
Each cupcake costs $5 and there is no discount on single cupcakes, so the bakery made 250 * $5 = $1,250.\n\
The cost of ingredients is not asked for, so the revenue is the answer.\n\
The final answer is 1,250.";

/// A MATH-style completion (~500 bytes) with a `\boxed{}` LaTeX answer for
/// a gold answer of `\frac{3}{4}`.
const MATH_REPLY: &str = "We find the probability of the complement, that both coins show tails. Each fair \
coin shows tails with probability \\(\\frac{1}{2}\\), and the coins are independent, so\n\
\\[\nP(\\text{both tails}) = \\frac{1}{2} \\cdot \\frac{1}{2} = \\frac{1}{4}.\n\\]\n\
Hence\n\\[\nP(\\text{at least one head}) = 1 - \\frac{1}{4} = \\frac{3}{4}.\n\\]\n\
Listing the outcomes \\(HH, HT, TH, TT\\) confirms that three of the four contain a head.\n\n\
The answer is \\(\\boxed{\\dfrac{3}{4}}\\).";

/// A tokio runtime and, on it, a pool of the plugin `name` with default
/// arguments and limits.
fn environment(name: &str) -> (Runtime, EnvironmentPool) {
    let rt = Runtime::new().expect("tokio runtime");
    let wasm = runtime::Runtime::new(None).expect("wasm runtime");
    let pool = rt.block_on(async {
        let plugin = wasm.load(&fixtures::plugin(name)).await.expect("plugin loads");
        wasm.environment(plugin, &Default::default(), PluginLimits::default()).await.expect("default args")
    });
    (rt, pool)
}

/// Prepare `record`, check that it asks the model, and return its state.
fn prepared(rt: &Runtime, pool: &EnvironmentPool, record: &serde_json::Value) -> String {
    let step = rt.block_on(pool.prepare(CTX, &Sample::new(record.to_string(), CTX.seed))).expect("prepare");
    assert!(matches!(step.action, Action::AskModel(_)), "prepare gave {:?}", step.action);
    step.state
}

/// Check that a score is full marks.
fn assert_correct(what: &str, score: &Score) {
    assert_eq!(score.reward, 1.0, "{what}: {score:?}");
}

/// Time `grade` of each `(name, state, reply)`, after checking that it
/// scores full marks.
fn bench_grades(
    group: &mut BenchmarkGroup<'_, WallTime>,
    rt: &Runtime,
    pool: &EnvironmentPool,
    cases: &[(&str, &str, &str)],
) {
    for &(name, state, reply) in cases {
        assert_correct(name, &rt.block_on(pool.grade(CTX, state, reply)).expect("grade"));
        group.bench_function(name, |b| b.to_async(rt).iter(|| pool.grade(CTX, state, reply)));
    }
}

fn bench_mcq(c: &mut Criterion) {
    let (rt, pool) = environment("mcq");
    let record = json!({"id": "q1", "question": MCQ_QUESTION, "choices": MCQ_OPTIONS, "answer": "C"});
    let state = prepared(&rt, &pool, &record);
    let sample = Sample::new(record.to_string(), CTX.seed);
    let reply = Event::ModelReply(ModelReply::text(MCQ_REPLY));
    match rt.block_on(pool.advance(CTX, &state, &reply)).expect("advance").action {
        Action::Finish(score) => assert_correct("advance", &score),
        other => panic!("advance gave {other:?}"),
    }

    let mut group = c.benchmark_group("mcq_calls");
    group.throughput(Throughput::Elements(1));
    group.bench_function("prepare", |b| b.to_async(&rt).iter(|| pool.prepare(CTX, &sample)));
    group.bench_function("advance_reply", |b| b.to_async(&rt).iter(|| pool.advance(CTX, &state, &reply)));
    let grades = [("grade", state.as_str(), MCQ_REPLY), ("grade_short", &state, "The answer is (C).")];
    bench_grades(&mut group, &rt, &pool, &grades);
    group.finish();
}

fn bench_math(c: &mut Criterion) {
    let (rt, pool) = environment("math");
    let gsm8k =
        json!({"question": "How much did the bakery make?", "answer": "300 - 50 = 250\n250 * 5 = 1250\n#### 1250"});
    let math = json!({"problem": "Two fair coins are tossed. P(at least one head)?", "answer": "\\frac{3}{4}"});
    let polynomial = json!({"problem": "Expand (x+1)^2.", "answer": "(x+1)^2"});
    let trig = json!({"problem": "Simplify 1 + tan^2 x.", "answer": "\\sec^2 x"});
    let (gsm8k, math) = (prepared(&rt, &pool, &gsm8k), prepared(&rt, &pool, &math));
    let (polynomial, trig) = (prepared(&rt, &pool, &polynomial), prepared(&rt, &pool, &trig));

    let mut group = c.benchmark_group("math_calls");
    group.throughput(Throughput::Elements(1));
    let symbolic = [
        ("grade_gsm8k", gsm8k.as_str(), GSM8K_REPLY),
        ("grade_math", &math, MATH_REPLY),
        // The symbolic path: both sides evaluated at seeded points.
        ("grade_polynomial", &polynomial, "Expanding, the answer is $\\boxed{x^2+2x+1}$."),
        ("grade_trig_identity", &trig, "So it equals $\\boxed{\\frac{1}{\\cos^2 x}}$."),
    ];
    bench_grades(&mut group, &rt, &pool, &symbolic);
    group.finish();
}

/// A realistic result line of an `mcq` sample; `i` varies the ids, seed
/// and text so a batch does not compress unrealistically well.
fn sample(i: usize) -> SampleResult {
    let choices: String = MCQ_OPTIONS.iter().zip('A'..).map(|(text, letter)| format!("\n{letter}. {text}")).collect();
    SampleResult {
        example_id: format!("mmlu-biology-{i:05}"),
        example_index: i,
        rollout: 0,
        seed: (i as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15),
        group: None,
        prompt: vec![Message::new(
            Role::User,
            format!(
                "Answer the following multiple-choice question. You may think step by step first. Finish with \
                 the line \"The answer is (X)\", where X is the letter of the correct option (A, B, C or D).\n\n\
                 Question: {MCQ_QUESTION} (variant {i})\n{choices}"
            ),
        )],
        prompt_text: None,
        sampling_seed: None,
        continuations: Vec::new(),
        judge_calls: Vec::new(),
        completion: Some(format!("{MCQ_REPLY} (sample {i})")),
        reasoning: None,
        reward: Some(if i.is_multiple_of(3) { 0.0 } else { 1.0 }),
        parsed_answer: Some("C".into()),
        parse_status: Some(ParseStatus::Ok),
        metrics: Default::default(),
        info: json!({"gold": "C", "method": "answer_phrase"}),
        transcript: vec![],
        code_runs: vec![],
        artifacts: Vec::new(),
        turns: 1,
        tokens: Tokens { prompt: 96 + (i % 17) as u64, completion: 110 + (i % 29) as u64, reasoning: 0 },
        latency_ms: 800 + (i % 400) as u64,
        cache_hits: 0,
        error: None,
        cost_usd: None,
        finished_at: format!("2026-11-23T05:{:02}:{:02}.{i:06}Z", i / 60 % 60, i % 60),
    }
}

fn bench_results(c: &mut Criterion) {
    let result = sample(1);
    let mut line = Vec::with_capacity(4096);
    serde_json::to_writer(&mut line, &result).expect("encodes");
    let encoded = line.clone();
    let rows: Vec<Vec<u8>> = (0..PARQUET_ROWS).map(|i| serde_json::to_vec(&sample(i)).expect("encodes")).collect();
    let source = RowSource {
        run_id: "bench-run",
        job_id: "m0-e0",
        env_id: "mmlu",
        variant_id: "mmlu",
        model_id: "m0",
        config_id: "default",
        sampling_args: "{}",
        job_seed: Some(0),
    };

    let mut group = c.benchmark_group("results");
    group.throughput(Throughput::Bytes(encoded.len() as u64));
    group.bench_function("json_line_encode", |b| {
        b.iter(|| {
            line.clear();
            serde_json::to_writer(&mut line, &result).expect("encodes");
            line.push(b'\n');
        })
    });
    group.bench_function("json_line_decode", |b| {
        b.iter(|| serde_json::from_slice::<SampleResult>(&encoded).expect("decodes"))
    });
    group.throughput(Throughput::Elements(PARQUET_ROWS as u64));
    group.bench_function("arrow_batch", |b| b.iter(|| record_batch(&source, &rows)));
    group.bench_function("parquet_file", |b| b.iter(|| parquet_file(&source, &rows)));
    group.finish();
}

/// `rows` (result lines) as one Arrow record batch, as `assay process`
/// reads and gathers them.
fn record_batch(source: &RowSource, rows: &[Vec<u8>]) -> RecordBatch {
    let mut batch = BatchBuilder::new(&[], false, Default::default());
    batch.start_job(source);
    for row in rows {
        let line = std::str::from_utf8(row).expect("UTF-8");
        batch.push(&store::read_result_line(line).expect("a result line")).expect("row");
    }
    batch.finish().expect("batch")
}

/// `rows` as one zstd-compressed parquet file in memory, written as
/// `assay process` writes its files.
fn parquet_file(source: &RowSource, rows: &[Vec<u8>]) -> Vec<u8> {
    let batch = record_batch(source, rows);
    let properties = schema::writer_properties(PARQUET_ROWS, Vec::new());
    let mut writer = ArrowWriter::try_new(Vec::new(), schema::schema(&[], false), Some(properties)).expect("writer");
    writer.write(&batch).expect("write");
    writer.into_inner().expect("file")
}

criterion_group!(benches, bench_mcq, bench_math, bench_results);
criterion_main!(benches);

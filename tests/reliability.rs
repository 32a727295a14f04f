//! Reliability of `assay bench` end to end, with exact expected outcomes:
//!
//! - **Server faults at scale**: 1,000 samples at concurrency 64 against a
//!   server that answers 500, 429, resets mid-body, stalls, or sends
//!   malformed bodies on a fixed, seeded schedule. The test predicts from
//!   the schedule exactly which samples succeed (and after how many
//!   requests) and which end in an error (which error, of which kind,
//!   after how many attempts and how long), then checks
//!   that every sample is recorded exactly once with that outcome, that the
//!   server saw exactly the predicted requests, and that the summary,
//!   manifest and exit code agree.
//! - **Secrets**: an API key (which the server requires, and echoes in
//!   error bodies) and a Hugging Face token (which the stand-in Hub
//!   requires) reach their servers but appear in no file assay writes, no
//!   pushed file, and no output.

use crate::support;

use bytes::Bytes;
use parquet::file::reader::{FileReader, SerializedFileReader};
use serde_json::json;
use std::collections::{BTreeMap, HashSet};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;
use support::fixtures::{
    Project, files_under, lettered_questions, mcq_jsonl, output_text, plugin, read_json, read_jsonl,
};
use support::hub_mock::MockHub;
use support::openai_mock::{MockOpenAi, MockReply, MockRequest};

/// Samples in the fault run (one rollout per question).
const SAMPLES: usize = 1000;
/// `max_retries` of the model: every sample gets at most this many more
/// attempts after failures other than 429s, which spend no retries.
const MAX_RETRIES: u32 = 3;
/// `rate_limit_wait` of the model, in seconds: a doomed question's 429s
/// ask for [`DOOMED_RETRY_AFTER`] seconds each, so it is retried once and
/// then given up (1 s waited, and another 1 s would pass 1.5 s).
const RATE_LIMIT_WAIT: &str = "1.5";
const DOOMED_RETRY_AFTER: &str = "1";
/// Per-attempt `timeout` in seconds, which is what ends a stalled reply.
const TIMEOUT_SECS: u32 = 3;
const MAX_CONCURRENT: usize = 64;
/// Seed of the fault schedule; any value works, the expectations follow it.
const SCHEDULE_SEED: u64 = 0x5eed_fa17_2026;

/// A way for one attempt to fail.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Fault {
    Http500,
    /// 429 with `Retry-After: 0`, so retries are not slowed down (a longer
    /// one pauses every request to the model, see `limits.rs`); on a doomed
    /// question, `Retry-After: 1`.
    Http429,
    ResetMidBody,
    Stall,
    NotJson,
    NoChoices,
    /// Not retryable: the sample fails on its first attempt.
    Http400,
}

/// The fault of every attempt of a doomed question, in turn by question.
const DOOMED: [Fault; 7] = [
    Fault::Http500,
    Fault::Http429,
    Fault::ResetMidBody,
    Fault::Stall,
    Fault::NotJson,
    Fault::NoChoices,
    Fault::Http400,
];

/// Questions 7, 57, 107, … fail on every attempt, so some samples are sure
/// to exhaust their retries whatever the seed.
fn doomed(question: usize) -> Option<Fault> {
    (question % 50 == 7).then(|| DOOMED[(question / 50) % DOOMED.len()])
}

/// SplitMix64: a well-mixed hash of a 64-bit value, so the schedule needs
/// no RNG state and each (question, attempt) is decided on its own.
fn splitmix64(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

/// What the server does with attempt `attempt` (1-based) of `question`:
/// a fault, or `None` for the right answer. Outside the doomed questions:
/// 10% 500, 10% 429, 2% reset, 2% stall, 1% not JSON, 1% no `choices`.
fn scheduled(question: usize, attempt: u32) -> Option<Fault> {
    if let Some(fault) = doomed(question) {
        return Some(fault);
    }
    match splitmix64(SCHEDULE_SEED ^ ((question as u64) << 16 | u64::from(attempt))) % 100 {
        0..10 => Some(Fault::Http500),
        10..20 => Some(Fault::Http429),
        20..22 => Some(Fault::ResetMidBody),
        22..24 => Some(Fault::Stall),
        24 => Some(Fault::NotJson),
        25 => Some(Fault::NoChoices),
        _ => None,
    }
}

/// How a sample must end, and how many requests the server must see for it.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Outcome {
    Scored { requests: u32 },
    Failed { requests: u32, last: Fault },
}

/// The outcome the schedule implies under assay's retry rules: a 429 is
/// retried within `rate_limit_wait` (a transient one at once, a doomed one
/// once), other retryable faults up to `MAX_RETRIES` times, a 400 never.
fn expected_outcome(question: usize) -> Outcome {
    let mut failures = 0;
    for attempt in 1.. {
        match scheduled(question, attempt) {
            None => return Outcome::Scored { requests: attempt },
            Some(Fault::Http429) if doomed(question).is_some() && attempt == 2 => {
                return Outcome::Failed { requests: attempt, last: Fault::Http429 };
            }
            Some(Fault::Http429) => {}
            Some(Fault::Http400) => return Outcome::Failed { requests: attempt, last: Fault::Http400 },
            Some(fault) if failures == MAX_RETRIES => return Outcome::Failed { requests: attempt, last: fault },
            Some(_) => failures += 1,
        }
    }
    unreachable!("an outcome is returned")
}

/// The error kind a sample whose last attempt hit `fault` is recorded with.
fn kind_of(fault: Fault) -> &'static str {
    match fault {
        Fault::Http500 => "server-error",
        Fault::Http429 => "rate-limited",
        Fault::ResetMidBody => "connection",
        Fault::Stall => "model-timeout",
        Fault::NotJson | Fault::NoChoices => "malformed-reply",
        Fault::Http400 => "client-error",
    }
}

/// The mock reply for a fault.
fn reply_for(fault: Fault) -> MockReply {
    let status = |code, retry_after: Option<&str>, body: &str| MockReply::Status {
        code,
        retry_after: retry_after.map(String::from),
        body: body.into(),
    };
    match fault {
        Fault::Http500 => status(500, None, "internal error"),
        Fault::Http429 => status(429, Some("0"), "slow down"),
        Fault::ResetMidBody => MockReply::ResetMidBody,
        Fault::Stall => MockReply::Stall,
        Fault::NotJson => MockReply::Garbage,
        Fault::NoChoices => MockReply::MissingChoices,
        Fault::Http400 => status(400, None, "bad request"),
    }
}

/// The recorded error message a sample whose last attempt (of `requests`)
/// hit `last` must carry: exact, except that the end of a reset's message
/// is the HTTP stack's wording, so only its start is fixed.
fn error_matches(last: Fault, requests: u32, message: &str) -> bool {
    let gave_up = format!("gave up after {requests} attempts: ");
    match last {
        Fault::Http500 => message == format!("{gave_up}HTTP 500: internal error"),
        Fault::Http429 => {
            message
                == format!(
                    "still rate limited after waiting 1 s of rate_limit_wait {RATE_LIMIT_WAIT} s, 2 attempts: \
                     HTTP 429 (retry after {DOOMED_RETRY_AFTER} s): slow down"
                )
        }
        // The status line and first chunk arrived: the body broke off.
        Fault::ResetMidBody => {
            message.starts_with(&format!("{gave_up}connection failed: error decoding response body"))
        }
        Fault::Stall => message == format!("{gave_up}timed out after {TIMEOUT_SECS}.0 s"),
        Fault::NotJson => message == format!("{gave_up}malformed response: not JSON: <html>this is not JSON</html>"),
        Fault::NoChoices => message == format!("{gave_up}malformed response: no `choices`: {{}}"),
        Fault::Http400 => message == "HTTP 400: bad request",
    }
}

/// Question `i`'s id and text; the text carries the index so the server
/// can tell questions apart.
fn question(i: usize) -> (String, String) {
    (format!("q{i:04}"), format!("Question #{i:04}: which option is right?"))
}

/// The question index in a prompt built from [`question`].
fn question_index(prompt: &str) -> usize {
    let start = prompt.find("Question #").expect("a generated question") + "Question #".len();
    prompt[start..start + 4].parse().expect("four digits")
}

/// Gold letter of question `i`, as [`lettered_questions`] assigns it.
fn gold(i: usize) -> &'static str {
    ["A", "B", "C", "D"][i % 4]
}

/// Count `item`s, for per-kind tallies.
fn tally<T: Ord>(items: impl IntoIterator<Item = T>) -> BTreeMap<T, usize> {
    let mut counts = BTreeMap::new();
    for item in items {
        *counts.entry(item).or_default() += 1;
    }
    counts
}

#[test]
fn a_thousand_samples_through_server_faults_end_exactly_as_scheduled() {
    // The server keeps its own attempt count per question, so its replies
    // follow the schedule whatever order requests arrive in.
    let attempts_seen: Arc<Vec<AtomicUsize>> = Arc::new((0..SAMPLES).map(|_| AtomicUsize::new(0)).collect());
    let seen = attempts_seen.clone();
    let server = MockOpenAi::start(move |request: &MockRequest| {
        assert_eq!(request.model(), "flaky-model");
        let q = question_index(request.last_user_message());
        let attempt = seen[q].fetch_add(1, Ordering::SeqCst) as u32 + 1;
        match scheduled(q, attempt) {
            Some(Fault::Http429) if doomed(q).is_some() => {
                MockReply::Status { code: 429, retry_after: Some(DOOMED_RETRY_AFTER.into()), body: "slow down".into() }
            }
            Some(fault) => reply_for(fault),
            None => MockReply::Text(format!("Let me check each option. The answer is ({}).", gold(q))),
        }
    });

    let project = Project::new();
    let questions: Vec<(String, String)> = (0..SAMPLES).map(question).collect();
    project.write("data.jsonl", &lettered_questions(&questions));
    project.write(
        "run.yaml",
        &format!(
            "name: faults\nmodels:\n  flaky:\n    model: flaky-model\n    api_base_url: {url}\n    \
             max_concurrent: {MAX_CONCURRENT}\n    timeout: {TIMEOUT_SECS}\n    max_retries: {MAX_RETRIES}\n    \
             rate_limit_wait: {RATE_LIMIT_WAIT}\n\
             envs:\n  - id: mcq\n    module: {mcq}\n    dataset: data.jsonl\njobs:\n  - model: flaky\n    env: mcq\n",
            url = server.base_url(),
            mcq = plugin("mcq").display(),
        ),
    );

    let started = Instant::now();
    let output = project.assay(&["bench", "--config", "run.yaml", "-q"]);
    let wall = started.elapsed();
    println!("assay bench: {SAMPLES} samples in {wall:.1?}, {} requests", server.request_count());
    assert_eq!(output.status.code(), Some(1), "failed samples fail the run (exit 1): {}", output_text(&output));

    let expected: Vec<Outcome> = (0..SAMPLES).map(expected_outcome).collect();
    let expected_errors = expected.iter().filter(|o| matches!(o, Outcome::Failed { .. })).count();
    let failed_by_fault = tally(expected.iter().filter_map(|o| match o {
        Outcome::Failed { last, .. } => Some(*last),
        Outcome::Scored { .. } => None,
    }));
    println!("expected failures by last fault: {failed_by_fault:?}");

    // The schedule really exercises every fault, and beyond the doomed
    // questions: otherwise a changed seed could make the test vacuous.
    let served_faults = tally((0..SAMPLES).flat_map(|q| {
        let requests = match expected[q] {
            Outcome::Scored { requests } | Outcome::Failed { requests, .. } => requests,
        };
        (1..=requests).filter_map(move |attempt| scheduled(q, attempt).filter(|_| doomed(q).is_none()))
    }));
    println!("faults served outside the doomed questions: {served_faults:?}");
    for fault in &DOOMED[..6] {
        assert!(served_faults.get(fault).copied().unwrap_or(0) >= 5, "too few {fault:?} in the schedule");
    }
    assert_eq!(failed_by_fault.len(), DOOMED.len(), "every fault ends some sample: {failed_by_fault:?}");

    // Every sample exactly once, with its scheduled outcome.
    let run_dir = project.only_run_dir();
    let results = read_jsonl(&run_dir.join("flaky-mcq/results.jsonl"));
    assert_eq!(results.len(), SAMPLES, "one line per sample");
    let ids: HashSet<&str> = results.iter().map(|r| r["example_id"].as_str().unwrap()).collect();
    assert_eq!(ids.len(), SAMPLES, "no sample recorded twice");
    for result in &results {
        let q: usize = result["example_id"].as_str().unwrap()[1..].parse().unwrap();
        assert_eq!(result["example_index"], q, "{result}");
        assert_eq!(result["rollout"], 0, "{result}");
        match expected[q] {
            Outcome::Scored { .. } => {
                assert!(result["error"].is_null(), "q{q:04} should succeed: {}", result["error"]);
                assert_eq!(result["reward"], 1.0, "q{q:04}");
                assert_eq!(result["parse_status"], "ok", "q{q:04}");
                assert_eq!(result["parsed_answer"], gold(q), "q{q:04}");
            }
            Outcome::Failed { last, requests } => {
                let error = &result["error"];
                assert_eq!(error["kind"], kind_of(last), "q{q:04}: {error}");
                assert_eq!(error["attempts"], requests, "q{q:04}: {error}");
                let message = error["message"].as_str().unwrap();
                assert!(error_matches(last, requests, message), "q{q:04}: expected {last:?}, got {message:?}");
                assert!(result["reward"].is_null() && result["parse_status"].is_null(), "q{q:04}: {result}");
                // The time the request took, every attempt and wait included.
                let latency_ms = result["latency_ms"].as_u64().unwrap();
                let at_least = match last {
                    Fault::Stall => u64::from(requests) * u64::from(TIMEOUT_SECS) * 1000,
                    Fault::Http429 => 1000,
                    _ => 0,
                };
                assert!(latency_ms >= at_least, "q{q:04}: {latency_ms} ms for {last:?}");
            }
        }
    }

    // The server saw exactly the scheduled requests: no sample was asked
    // again after it ended, and none beyond its retry budget.
    for (q, outcome) in expected.iter().enumerate() {
        let requests = match outcome {
            Outcome::Scored { requests } | Outcome::Failed { requests, .. } => *requests,
        };
        assert_eq!(attempts_seen[q].load(Ordering::SeqCst), requests as usize, "q{q:04}: requests ({outcome:?})");
    }
    assert!(server.max_in_flight() <= MAX_CONCURRENT, "{} requests in flight", server.max_in_flight());

    let summary = read_json(&run_dir.join("flaky-mcq/summary.json"));
    let scored = SAMPLES - expected_errors;
    assert_eq!(summary["n"], SAMPLES);
    assert_eq!(summary["n_errors"], expected_errors);
    assert_eq!(summary["n_scored"], scored);
    assert_eq!(summary["n_examples"], scored);
    assert_eq!(summary["mean_reward"], 1.0);
    assert_eq!(summary["parse_status"], json!({"ok": scored}));
    let kinds = tally(expected.iter().filter_map(|o| match o {
        Outcome::Failed { last, .. } => Some(kind_of(*last)),
        Outcome::Scored { .. } => None,
    }));
    assert_eq!(kinds.len(), 6, "every kind of model error is among the failures: {kinds:?}");
    assert_eq!(summary["errors"], json!(kinds));

    let manifest = read_json(&run_dir.join("run_manifest.json"));
    let job = &manifest["jobs"][0];
    assert_eq!(job["status"], "failed", "{job}");
    assert_eq!(job["samples_done"], SAMPLES, "{job}");
    assert_eq!(job["samples_failed"], expected_errors, "{job}");
}

/// A distinctive API key; its middle part is also searched for, so a
/// truncated copy counts as a leak too.
const API_KEY: &str = "sk-assay-Rk7Qw2Zp9Xv4Lm8Tn3Bj";
const HF_TOKEN: &str = "hf_assay_Hd5Yc1Wf6Gs0Pq7Ua2Ne";
const KEY_VAR: &str = "ASSAY_RELIABILITY_KEY";

/// The secrets (whole, and a middle part that a truncation would leave)
/// found in a file or output: in its bytes, and for a parquet file also in
/// its decoded rows.
fn secrets_in(bytes: &[u8]) -> Vec<&'static str> {
    let mut text = String::from_utf8_lossy(bytes).into_owned();
    if bytes.starts_with(b"PAR1") {
        text += &parquet_text(bytes);
    }
    [API_KEY, &API_KEY[9..21], HF_TOKEN, &HF_TOKEN[9..21]].into_iter().filter(|s| text.contains(s)).collect()
}

/// Every row of a parquet file as JSON, plus its key-value metadata: the
/// pages are zstd-compressed, so a scan of the raw bytes alone would miss
/// a secret stored in them.
fn parquet_text(bytes: &[u8]) -> String {
    let reader = SerializedFileReader::new(Bytes::copy_from_slice(bytes)).expect("a readable parquet file");
    let mut text = format!("{:?}\n", reader.metadata().file_metadata().key_value_metadata());
    for row in reader.get_row_iter(None).expect("parquet rows") {
        text += &row.expect("a parquet row").to_json_value().to_string();
        text.push('\n');
    }
    text
}

#[test]
fn the_api_key_and_hf_token_reach_their_servers_and_nothing_else() {
    let bearer = format!("Bearer {API_KEY}");
    let echoed = Mutex::new(HashSet::new());
    // The server requires the key, and its first reply to each SERVER,
    // LIMIT and GARBLED question quotes the key back, as some servers do,
    // in a body assay puts in logs and error messages.
    let server = MockOpenAi::start(move |request: &MockRequest| {
        if request.authorization.as_deref() != Some(bearer.as_str()) {
            return MockReply::Status { code: 401, retry_after: None, body: "missing or wrong key".into() };
        }
        let prompt = request.last_user_message();
        let echo = |code: u16, retry_after: Option<&str>| MockReply::Status {
            code,
            retry_after: retry_after.map(String::from),
            body: format!("request with key {API_KEY} failed"),
        };
        let first_of = |tag: &'static str| prompt.contains(tag) && echoed.lock().unwrap().insert(tag);
        match () {
            _ if first_of("SERVER") => echo(500, None),
            _ if first_of("LIMIT") => echo(429, Some("0")),
            // 200 with a body that is not JSON: a malformed reply.
            _ if first_of("GARBLED") => echo(200, None),
            _ => MockReply::Text("The answer is (A).".into()),
        }
    });
    let hub = MockHub::start(HF_TOKEN);

    let project = Project::new();
    // Gold A everywhere and every fault retried into a right answer, so
    // the job completes (only completed jobs are processed and pushed).
    let options = ["w", "x", "y", "z"];
    project.write(
        "data.jsonl",
        &mcq_jsonl(&[
            ("s0", "Plain?", options, "A"),
            ("s1", "SERVER error first?", options, "A"),
            ("s2", "LIMIT first?", options, "A"),
            ("s3", "GARBLED first?", options, "A"),
        ]),
    );
    project.write(
        "run.yaml",
        &format!(
            "name: secrets\nmodels:\n  keyed:\n    model: keyed-model\n    api_base_url: {url}\n    \
             api_key_var: {KEY_VAR}\n    max_retries: 2\n    timeout: 5\n\
             envs:\n  - id: mcq\n    module: {mcq}\n    dataset: data.jsonl\njobs:\n  - model: keyed\n    env: mcq\n",
            url = server.base_url(),
            mcq = plugin("mcq").display(),
        ),
    );
    // Both secrets are in the environment of both commands, as in a shell
    // that exports them; the compiled-plugin cache is inside the project so
    // it is scanned too.
    let cache = project.path().join("cache");
    let env = [
        (KEY_VAR, API_KEY),
        ("HF_TOKEN", HF_TOKEN),
        ("HF_ENDPOINT", hub.endpoint()),
        ("ASSAY_CACHE_DIR", cache.to_str().unwrap()),
    ];
    let bench = project.assay_with_env(&["bench", "--config", "run.yaml", "-vv"], &env);
    assert!(bench.status.success(), "{}", output_text(&bench));
    let process =
        project.assay_with_env(&["process", "--hf-repo", "team/secrets", "--hf-pull-policy", "pull", "-vv"], &env);
    assert!(process.status.success(), "{}", output_text(&process));

    // Not vacuous: the key went to the model server on every request, the
    // echoing replies happened and were retried, the token let the push
    // through, and the files to scan exist.
    let auth = server.auth_headers();
    assert_eq!(auth.len(), 4 + 3, "one request per sample plus one retry for each echoing reply");
    assert!(auth.iter().all(|h| h == &format!("Bearer {API_KEY}")), "every request carries the key");
    assert_eq!(hub.commits().len(), 1, "the push needed the token");
    let pushed = hub.files("team/secrets");
    assert!(pushed.contains_key("mcq/keyed.parquet"), "{:?}", pushed.keys());
    let run_dir = project.only_run_dir();
    let results = read_jsonl(&run_dir.join("keyed-mcq/results.jsonl"));
    assert!(results.iter().all(|r| r["reward"] == 1.0), "every sample recovered");
    let written = files_under(project.path());
    for expected in ["run_manifest.json", "metadata.json", "summary.json", "results.jsonl", "env_index.json"] {
        assert!(written.iter().any(|p| p.ends_with(expected)), "{expected} was written");
    }
    let parquet = written.iter().find(|p| p.extension().is_some_and(|e| e == "parquet")).expect("parquet was written");
    let rows = parquet_text(&std::fs::read(parquet).unwrap());
    assert!(rows.contains("SERVER error first?") && rows.contains("The answer is (A)."), "rows are decoded: {rows}");
    // The debug log records each retry with the server's reply, so the
    // echoed key went through the scrubbing, not around it.
    let logs: Vec<String> = written
        .iter()
        .filter(|p| p.parent().is_some_and(|d| d.ends_with("logs")))
        .map(|p| std::fs::read_to_string(p).unwrap())
        .collect();
    assert!(
        logs.iter().any(|log| log.contains("HTTP 500: request with key *** failed")),
        "the echoed key was logged, scrubbed: {logs:?}"
    );

    for (name, bytes) in [("bench", &bench.stdout), ("bench", &bench.stderr)]
        .into_iter()
        .chain([("process", &process.stdout), ("process", &process.stderr)])
    {
        assert_eq!(secrets_in(bytes), Vec::<&str>::new(), "secret in the output of assay {name}");
    }
    for file in &written {
        let found = secrets_in(&std::fs::read(file).unwrap());
        assert!(found.is_empty(), "{found:?} in {}", file.display());
    }
    for (path, bytes) in &pushed {
        assert_eq!(secrets_in(bytes), Vec::<&str>::new(), "secret in pushed {path}");
    }
}

//! Real benchmark data from `../shared/data` (next to the project; absent
//! in a fresh clone, in which case each test prints that it was skipped):
//! all 164 HumanEval tasks run with a local `python3` standing in for the
//! host's sandbox, in chat and base mode.

mod common;

use assay_sdk::Score;
use assay_sdk::testing::Harness;
use code::{Code, Method};
use flate2::read::GzDecoder;
use serde_json::{Value, json};
use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::thread;

/// The HumanEval records, or `None` after printing a skip notice (also
/// when `python3` is missing, since nothing could be run).
fn humaneval() -> Option<Vec<Value>> {
    let path = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/data/humaneval/HumanEval.jsonl.gz"));
    if !path.is_file() {
        println!("skipped: ../shared/data/humaneval/HumanEval.jsonl.gz not found");
        return None;
    }
    if !common::python3_available() {
        return None;
    }
    let reader = BufReader::new(GzDecoder::new(std::fs::File::open(&path).unwrap()));
    let records: Vec<Value> = reader.lines().map(|line| serde_json::from_str(&line.unwrap()).unwrap()).collect();
    assert_eq!(records.len(), 164);
    Some(records)
}

/// A record's field as text.
fn field<'a>(record: &'a Value, name: &str) -> &'a str {
    record[name].as_str().unwrap()
}

/// Run one episode per record with the reply `reply(record)`, on two
/// threads (python start-up dominates), and return the task ids with their
/// scores, in record order.
fn run_all(args: Value, records: &[Value], reply: impl Fn(&Value) -> String + Sync) -> Vec<(String, Score)> {
    let env = Harness::<Code>::new(args).unwrap();
    let half = records.len().div_ceil(2);
    thread::scope(|scope| {
        let workers: Vec<_> = records
            .chunks(half)
            .map(|chunk| {
                let (env, reply) = (&env, &reply);
                scope.spawn(move || {
                    let score = |record: &Value| common::episode(env, record, &reply(record)).0;
                    chunk.iter().map(|r| (field(r, "task_id").to_string(), score(r))).collect::<Vec<_>>()
                })
            })
            .collect();
        workers.into_iter().flat_map(|worker| worker.join().unwrap()).collect()
    })
}

fn failures(scores: &[(String, Score)]) -> Vec<String> {
    let failed = scores.iter().filter(|(_, score)| score.reward != 1.0);
    failed.map(|(id, score)| format!("{id}: {}", score.info["stderr_tail"])).collect()
}

/// The reference (what the `oracle` model answers) passes every task in
/// both modes: prompt + canonical body, run with the tests.
#[test]
fn every_canonical_solution_passes_in_chat_and_base_mode() {
    let Some(records) = humaneval() else { return };
    for (args, method) in [(json!({}), Method::Fenced), (json!({"completion_mode": "base"}), Method::Continuation)] {
        let env = Harness::<Code>::new(args.clone()).unwrap();
        let reference = |record: &Value| env.reference(&env.prepare(record.clone(), 0).unwrap()).unwrap().unwrap();
        let scores = run_all(args.clone(), &records, reference);
        assert_eq!(failures(&scores), Vec::<String>::new(), "{args}");
        assert!(scores.iter().all(|(_, score)| score.info["method"] == method.as_str()));
        println!("{args}: 164/164 canonical solutions pass");
    }
}

/// How chat models usually answer also passes every task: only the
/// function (without the prompt's imports and helper functions, which the
/// program supplies), or only its body.
#[test]
fn chat_replies_with_only_the_function_or_only_the_body_pass() {
    let Some(records) = humaneval() else { return };
    let function_only = |record: &Value| {
        let (prompt, entry_point) = (field(record, "prompt"), field(record, "entry_point"));
        let start = prompt.find(&format!("def {entry_point}(")).unwrap();
        format!("```python\n{}{}```", &prompt[start..], field(record, "canonical_solution"))
    };
    let body_only = |record: &Value| format!("Here:\n```python\n{}```", field(record, "canonical_solution"));
    for (name, scores) in [
        ("function only", run_all(json!({}), &records, function_only)),
        ("body only", run_all(json!({}), &records, body_only)),
    ] {
        assert_eq!(failures(&scores), Vec::<String>::new(), "{name}");
        println!("{name}: 164/164 pass");
    }
}

/// A body of `pass` (the function returns `None`) fails every task in both
/// modes: each HumanEval test checks a returned value. Measured: 0 of 164
/// pass (the same with Python 3.11 running the original harness's
/// `prompt + completion + test + check(...)`).
#[test]
fn a_body_of_pass_fails_every_task() {
    let Some(records) = humaneval() else { return };
    let chat = |record: &Value| format!("```python\n{}    pass\n```", field(record, "prompt"));
    let base = |_: &Value| "    pass\n".to_string();
    for (mode, scores) in [
        ("chat", run_all(json!({}), &records, chat)),
        ("base", run_all(json!({"completion_mode": "base"}), &records, base)),
    ] {
        let passed: Vec<&str> = scores.iter().filter(|(_, s)| s.reward == 1.0).map(|(id, _)| id.as_str()).collect();
        assert_eq!(passed, Vec::<&str>::new(), "{mode}");
        assert!(scores.iter().all(|(_, score)| score.info["timed_out"] == false), "{mode}: no time-outs");
        println!("{mode}: a body of `pass` fails 164/164");
    }
}

//! Hostile configs and datasets through the library API (`config::load`
//! via `plan::plan`, and `dataset::load`): every prefix of a valid file,
//! seeded random bytes and byte mutations, a wrong-typed value in every
//! field position, invalid UTF-8, lines of tens of MB and deep nesting.
//! Each must give `Ok` or an error of one line naming the file; none may
//! panic. The RNG is seeded, so a failure reproduces.

use crate::support;

use rand::{RngExt, SeedableRng};
use serde_json::{Value, json};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::Path;
use support::fixtures::{Project, plugin};

/// Call `f` and assert it neither panicked nor failed with anything but a
/// one-line message naming `path`. `what` describes the input, so an
/// assertion says which one broke.
fn assert_ok_or_one_line<T>(path: &Path, what: &str, f: impl FnOnce() -> anyhow::Result<T>) {
    let outcome = catch_unwind(AssertUnwindSafe(f)).unwrap_or_else(|_| panic!("panicked on {what}"));
    if let Err(error) = outcome {
        let message = format!("{error:#}");
        let name = path.file_name().unwrap().to_string_lossy();
        assert!(message.contains(&*name), "{what}: the error does not name {name}: {message}");
        assert!(!message.contains('\n'), "{what}: the error is not one line: {message}");
    }
}

/// A config using most of the schema: a served model, limits, env args,
/// sampling args, rollouts, two jobs.
fn valid_config() -> String {
    format!(
        "name: fuzz
seed: 7
models:
  served:
    model: test-model
    api_base_url: http://127.0.0.1:9/v1
    max_concurrent: 4
    sampling_args: {{temperature: 0.5, max_tokens: 64}}
envs:
  - id: mcq
    module: {mcq}
    dataset: data.jsonl
    rollouts_per_example: 2
    num_examples: 3
    env_args: {{shuffle_answers: true}}
    limits: {{memory_mb: 64, call_timeout_ms: 1000, fuel: 1000000}}
jobs:
  - model: oracle
    env: [mcq]
  - model: served
    env: mcq
",
        mcq = plugin("mcq").display()
    )
}

/// A project holding `valid_config()` as run.yaml and its dataset.
fn config_project() -> Project {
    let project = Project::new();
    project.write("data.jsonl", &dataset_jsonl());
    project.write("run.yaml", &valid_config());
    assay::plan::plan(&project.path().join("run.yaml")).expect("the valid config plans");
    project
}

/// Plan `bytes` written as `name` in `project`.
fn check_config(project: &Project, name: &str, bytes: &[u8], what: &str) {
    let path = project.path().join(name);
    std::fs::write(&path, bytes).unwrap();
    assert_ok_or_one_line(&path, what, || assay::plan::plan(&path));
}

#[test]
fn every_prefix_of_a_config_plans_or_fails_in_one_line() {
    let project = config_project();
    let config = valid_config();
    for end in 0..config.len() {
        check_config(&project, "cut.yaml", &config.as_bytes()[..end], &format!("the first {end} bytes"));
    }
}

#[test]
fn random_and_mutated_configs_fail_in_one_line() {
    let project = config_project();
    let config = valid_config().into_bytes();
    let mut rng = rand::rngs::StdRng::seed_from_u64(2024);
    for case in 0..400 {
        let bytes: Vec<u8> = if case % 2 == 0 {
            (0..rng.random_range(0..512)).map(|_| rng.random()).collect()
        } else {
            let mut bytes = config.clone();
            for _ in 0..rng.random_range(1..8) {
                let at = rng.random_range(0..bytes.len());
                bytes[at] = rng.random();
            }
            bytes
        };
        // The same bytes as YAML and as TOML.
        check_config(&project, "fuzz.yaml", &bytes, &format!("yaml case {case}"));
        check_config(&project, "fuzz.toml", &bytes, &format!("toml case {case}"));
    }
}

/// Every position in `value` (object fields and array items, at any
/// depth) as a JSON pointer.
fn positions(value: &Value, at: String, out: &mut Vec<String>) {
    let children: Vec<(String, &Value)> = match value {
        Value::Object(map) => map.iter().map(|(k, v)| (k.replace('~', "~0").replace('/', "~1"), v)).collect(),
        Value::Array(items) => items.iter().enumerate().map(|(i, v)| (i.to_string(), v)).collect(),
        _ => Vec::new(),
    };
    for (key, child) in children {
        let pointer = format!("{at}/{key}");
        out.push(pointer.clone());
        positions(child, pointer, out);
    }
}

#[test]
fn a_wrong_type_in_every_field_fails_in_one_line() {
    let project = config_project();
    let config: Value = serde_yaml_ng::from_str(&valid_config()).unwrap();
    let mut pointers = Vec::new();
    positions(&config, String::new(), &mut pointers);
    let wrong = [json!(null), json!(true), json!(-1), json!(1.5e300), json!("text"), json!([1, [2]]), json!({"x": {}})];
    for pointer in &pointers {
        for value in &wrong {
            let mut mutated = config.clone();
            *mutated.pointer_mut(pointer).unwrap() = value.clone();
            // JSON is YAML, so the mutated config is written as JSON.
            check_config(&project, "typed.yaml", mutated.to_string().as_bytes(), &format!("{pointer} = {value}"));
        }
    }
}

#[test]
fn invalid_utf8_huge_and_deeply_nested_configs_fail_in_one_line() {
    let project = config_project();
    let mut invalid = valid_config().into_bytes();
    invalid.splice(5..5, [0xff, 0xfe, 0xc3]);
    check_config(&project, "bad.yaml", &invalid, "invalid UTF-8");
    check_config(&project, "bad.toml", &invalid, "invalid UTF-8 TOML");
    let huge = format!("name: {}\n", "n".repeat(30 << 20));
    check_config(&project, "huge.yaml", huge.as_bytes(), "a 30 MB name");
    // 10,000 levels, not more: the YAML parser takes quadratic time on
    // deep flow nesting (100,000 levels: 20 s to reject).
    for depth in [1_000, 10_000] {
        let nested = format!("name: {}{}\n", "[".repeat(depth), "]".repeat(depth));
        check_config(&project, "deep.yaml", nested.as_bytes(), &format!("YAML nested {depth} deep"));
        let nested = format!("name = {}{}\n", "[".repeat(depth), "]".repeat(depth));
        check_config(&project, "deep.toml", nested.as_bytes(), &format!("TOML nested {depth} deep"));
        let nested = format!("name: {}1{}\n", "{a: ".repeat(depth), "}".repeat(depth));
        check_config(&project, "deep2.yaml", nested.as_bytes(), &format!("YAML maps nested {depth} deep"));
    }
}

/// A small multiple-choice dataset as JSONL.
fn dataset_jsonl() -> String {
    (0..5)
        .map(|i| {
            json!({"id": format!("q{i}"), "question": format!("Q{i}?"), "choices": ["a", "b", "c", "d"], "answer": "B"})
                .to_string()
                + "\n"
        })
        .collect()
}

/// The same records as a JSON array, and as CSV.
fn dataset_files() -> Vec<(&'static str, String)> {
    let rows: Vec<Value> = dataset_jsonl().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let csv: String = std::iter::once("id,question,answer\n".to_string())
        .chain((0..5).map(|i| format!("q{i},\"Q{i}, really?\",B\n")))
        .collect();
    vec![("data.jsonl", dataset_jsonl()), ("data.json", Value::Array(rows).to_string()), ("data.csv", csv)]
}

/// Load `bytes` written as `name` in `project` as a dataset.
fn check_dataset(project: &Project, name: &str, bytes: &[u8], what: &str) {
    let path = project.path().join(name);
    std::fs::write(&path, bytes).unwrap();
    assert_ok_or_one_line(&path, what, || assay::dataset::load(&path, None, None));
    assert_ok_or_one_line(&path, what, || assay::dataset::load(&path, Some("question"), Some(2)));
}

#[test]
fn every_prefix_of_a_dataset_loads_or_fails_in_one_line() {
    let project = Project::new();
    for (name, text) in dataset_files() {
        assay::dataset::load(&project.write(name, &text), None, None).expect("the valid dataset loads");
        for end in 0..text.len() {
            check_dataset(&project, name, &text.as_bytes()[..end], &format!("{name}: the first {end} bytes"));
        }
    }
}

#[test]
fn random_mutated_huge_and_nested_datasets_fail_in_one_line() {
    let project = Project::new();
    let mut rng = rand::rngs::StdRng::seed_from_u64(99);
    for (name, text) in dataset_files() {
        for case in 0..200 {
            let bytes: Vec<u8> = if case % 2 == 0 {
                (0..rng.random_range(0..512)).map(|_| rng.random()).collect()
            } else {
                let mut bytes = text.clone().into_bytes();
                for _ in 0..rng.random_range(1..8) {
                    let at = rng.random_range(0..bytes.len());
                    bytes[at] = rng.random();
                }
                bytes
            };
            check_dataset(&project, name, &bytes, &format!("{name} case {case}"));
        }
        let mut invalid = text.clone().into_bytes();
        invalid.splice(3..3, [0xff, 0xc3]);
        check_dataset(&project, name, &invalid, &format!("{name}: invalid UTF-8"));
    }
    let huge = json!({"id": "big", "question": "q".repeat(40 << 20)}).to_string() + "\n";
    check_dataset(&project, "huge.jsonl", huge.as_bytes(), "a 40 MB line");
    check_dataset(&project, "huge.csv", format!("id,question\nbig,{}\n", "q".repeat(40 << 20)).as_bytes(), "40 MB CSV");
    check_dataset(&project, "huge.jsonl", &vec![b'['; 40 << 20], "40 MB of brackets");
    for depth in [1_000, 100_000] {
        let nested = format!("{{\"id\": 1, \"x\": {}{}}}\n", "[".repeat(depth), "]".repeat(depth));
        check_dataset(&project, "deep.jsonl", nested.as_bytes(), &format!("JSONL nested {depth} deep"));
        let nested = format!("[{{\"id\": 1, \"x\": {}{}}}]", "{\"a\": ".repeat(depth), "}".repeat(depth));
        check_dataset(&project, "deep.json", nested.as_bytes(), &format!("JSON nested {depth} deep"));
    }
}

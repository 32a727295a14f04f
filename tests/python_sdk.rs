//! The Python SDK against the Rust SDK: `Rng` (SplitMix64, `below`,
//! `shuffle`, `choose`, `keyed`), `stable_hash` and `template` must give
//! the same values in both languages, or a benchmark's shuffles and prompts
//! would depend on the language its environment is written in. The cases
//! are computed here with `assay_sdk` and by `plugin-sdk-python/tests/parity.py`,
//! and compared. Also runs the Python SDK's own pytest tests.

use crate::python_plugins::pytest;
use crate::support::fixtures::repo_root;

use assay_sdk::template::{render, unknown_placeholder};
use assay_sdk::{Rng, stable_hash};
use serde_json::{Value, json};
use std::io::Write;
use std::process::{Command, Stdio};

const SEEDS: [u64; 6] = [0, 1, 7, 1618, 0x9E37_79B9_7F4A_7C15, u64::MAX];
const KEYS: [&str; 5] = ["", "q1", "mcq-4", "é✓ ünïcode", "a long record id with spaces / slashes"];

const TEMPLATES: [&str; 12] = [
    "{question} ({letters}) {question} {other} {\"a\": 1}",
    "\\text{question}: {question}",
    "Q: {question}\nPut it in \\boxed{}.",
    "\\{question\\} {question}",
    "see{question}",
    "{prompt} {'a': 1} {} {\"a\": 1} {x for x in s} {{prompt}} {Prompt} {tests2} {prompt",
    "{question} \\boxed{} \\frac{1}{2} \\text{cm} \\mathrm{kg}",
    "{a_b}{c}{question}",
    "é{question}✓ {choice} {choices}",
    "",
    "{",
    "}{question}{",
];

/// Every case as `[kind, args...]` (see parity.py) with the Rust SDK's answer.
fn cases() -> Vec<(Value, Value)> {
    let mut cases = Vec::new();
    for seed in SEEDS {
        let mut rng = Rng::new(seed);
        let values: Vec<u64> = (0..8).map(|_| rng.next_u64()).collect();
        cases.push((json!(["rng", seed, null, 8]), json!(values)));
        for key in KEYS {
            let mut rng = Rng::keyed(seed, key);
            let values: Vec<u64> = (0..4).map(|_| rng.next_u64()).collect();
            cases.push((json!(["rng", seed, key, 4]), json!(values)));
            for n in [0usize, 1, 2, 4, 5, 10, 26] {
                let mut items: Vec<usize> = (0..n).collect();
                Rng::keyed(seed, key).shuffle(&mut items);
                cases.push((json!(["shuffle", seed, key, n]), json!(items)));
            }
        }
        let bounds = [1u64, 2, 3, 5, 7, 10, 26, 1000, (1 << 63) + 1, u64::MAX];
        let mut rng = Rng::new(seed);
        let drawn: Vec<u64> = bounds.iter().map(|n| rng.below(*n)).collect();
        cases.push((json!(["below", seed, bounds]), json!(drawn)));
        let items = ["alpha", "beta", "gamma", "delta", "epsilon"];
        cases.push((json!(["choose", seed, items]), json!(Rng::new(seed).choose(&items))));
        let mut items: Vec<usize> = (0..10).collect();
        Rng::new(seed).shuffle(&mut items);
        cases.push((json!(["shuffle", seed, null, 10]), json!(items)));
    }
    for key in KEYS {
        cases.push((json!(["hash", key]), json!(stable_hash(key.as_bytes()))));
    }
    let value_sets: [&[(&str, &str)]; 3] = [
        &[("question", "Is {letters} 1/2?"), ("letters", "A or B"), ("question", "never used")],
        &[("prompt", "P"), ("a_b", "1"), ("c", "2"), ("question", "Q \\frac{1}{2} {choice}")],
        &[],
    ];
    for template in TEMPLATES {
        for values in value_sets {
            cases.push((json!(["render", template, values]), json!(render(template, values))));
        }
        for known in [&["question"][..], &["question", "choices", "prompt"], &[]] {
            cases.push((json!(["unknown", template, known]), json!(unknown_placeholder(template, known))));
        }
    }
    cases
}

#[test]
fn rng_hash_and_templates_give_the_rust_sdks_values_in_python() {
    let cases = cases();
    let script = repo_root().join("plugin-sdk-python/tests/parity.py");
    let mut child = Command::new("python3")
        .arg(&script)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("python3 runs");
    let input: Vec<&Value> = cases.iter().map(|(case, _)| case).collect();
    child.stdin.take().unwrap().write_all(serde_json::to_string(&input).unwrap().as_bytes()).unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let answers: Vec<Value> = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(answers.len(), cases.len());
    for ((case, rust), python) in cases.iter().zip(&answers) {
        assert_eq!(python, rust, "{case}: Python differs from Rust");
    }
    assert!(cases.len() > 300, "{} cases", cases.len());
}

#[test]
fn the_python_sdks_own_tests_pass() {
    pytest(&repo_root().join("plugin-sdk-python"));
}

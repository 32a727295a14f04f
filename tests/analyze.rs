//! `assay analyze` through the binary, checked against an independent
//! Python computation over the same parquet files (pyarrow, `math.comb`,
//! `collections.Counter`): means, standard errors, t intervals, spreads
//! across seeds, pass@k and maj@k.

use crate::support;

use serde_json::Value;
use std::collections::HashMap;
use std::process::Command;
use std::sync::Mutex;
use support::fixtures::{Project, lettered_questions, plugin, read_json};
use support::openai_mock::{MockOpenAi, MockReply, MockRequest};

const PYTHON_REFERENCE: &str = r#"
import json, math, sys, statistics
from collections import Counter, defaultdict
import pyarrow.parquet as pq

processed, threshold = sys.argv[1], float(sys.argv[2])
index = json.load(open(f"{processed}/env_index.json"))
configs = defaultdict(lambda: defaultdict(list))
for name in index["files"]:
    t = pq.read_table(f"{processed}/{name}").to_pylist()
    for r in sorted(t, key=lambda r: r["rollout"]):
        configs[(r["model_id"], r["env_id"], r["variant_id"])][r["example_id"]].append(r)

def pass_at_k(n, c, k):
    return 1.0 - math.comb(n - c, k) / math.comb(n, k)

out = {}
for (model, env, config), examples in configs.items():
    scored = {e: [r for r in rs if r["reward"] is not None] for e, rs in examples.items()}
    means = [sum(r["reward"] for r in rs) / len(rs) for rs in scored.values() if rs]
    fewest = min(len(rs) for rs in scored.values() if rs)
    ks = [k for k in (1, 2, 4, 8, 16) if k <= fewest] + ([fewest] if fewest not in (1, 2, 4, 8, 16) else [])
    seeds = defaultdict(list)
    for rs in scored.values():
        for r in rs:
            seeds[r["rollout"]].append(r["reward"])
    result = {
        "mean": statistics.mean(means),
        "stderr": statistics.stdev(means) / math.sqrt(len(means)),
        "std_across_seeds": statistics.stdev([statistics.mean(v) for v in seeds.values()]),
        "pass_at": {}, "maj_at": {},
    }
    for k in ks:
        result["pass_at"][str(k)] = statistics.mean(
            pass_at_k(len(rs), sum(r["reward"] >= threshold for r in rs), k) for rs in scored.values() if rs)
        votes = []
        for rs in scored.values():
            answers = [r["parsed_answer"] for r in rs[:k] if r["parsed_answer"] is not None]
            if not answers:
                votes.append(0.0)
                continue
            winner = Counter(answers).most_common(1)[0][0]  # ties: first seen
            votes.append(1.0 if next(r for r in rs[:k] if r["parsed_answer"] == winner)["reward"] >= threshold else 0.0)
        result["maj_at"][str(k)] = statistics.mean(votes)
    out[f"{model}|{env}|{config}"] = result
print(json.dumps(out))
"#;

#[test]
fn analyze_matches_an_independent_python_computation() {
    // Answers vary by how often the server has seen a question, so rollouts
    // differ and pass@k, maj@k and the spread across seeds are not trivial.
    let seen: Mutex<HashMap<String, usize>> = Mutex::new(HashMap::new());
    let server = MockOpenAi::start(move |request: &MockRequest| {
        let prompt = request.last_user_message().to_string();
        let mut seen = seen.lock().unwrap();
        let count = seen.entry(prompt.clone()).or_insert(0);
        *count += 1;
        if prompt.contains("Sixth") && *count == 2 {
            return MockReply::Status { code: 400, retry_after: None, body: "bad".into() };
        }
        let letter = ["A", "B", "C", "D", "B"][(prompt.len() + *count * 3) % 5];
        MockReply::Text(if (*count).is_multiple_of(4) {
            "I am not sure.".into()
        } else {
            format!("The answer is ({letter}).")
        })
    });
    let project = Project::new();
    let rows: Vec<(String, String)> = ["First", "Second", "Third", "Fourth", "Fifth", "Sixth"]
        .iter()
        .map(|q| (q.to_string(), format!("{q} question?")))
        .collect();
    project.write("data.jsonl", &lettered_questions(&rows));
    project.write(
        "run.yaml",
        &format!(
            "models:\n  m: {{model: x, api_base_url: {}, max_retries: 0}}\nenvs:\n  - id: qa\n    module: {}\n    dataset: data.jsonl\n    rollouts_per_example: 5\n    env_args: {{shuffle_answers: true}}\n    matrix: {{shuffle_seed: [1, 2]}}\njobs:\n  - {{model: m, env: qa}}\n",
            server.base_url(),
            plugin("mcq").display()
        ),
    );
    let bench = project.assay(&["bench", "--config", "run.yaml", "-q"]);
    assert_eq!(bench.status.code(), Some(1), "one sample errors on purpose");
    project.assay_ok(&["process", "--process-incomplete"]);
    let (stdout, _) = project.assay_ok(&["analyze"]);
    assert!(stdout.contains("Analysis of 3 configs written to runs/analysis"), "{stdout}");
    let ours = read_json(&project.path().join("runs/analysis/analysis_results.json"));

    let output = Command::new("python3")
        .args(["-c", PYTHON_REFERENCE, project.path().join("runs/processed").to_str().unwrap(), "1.0"])
        .output()
        .expect("python3 with pyarrow is needed (scripts/test.sh installs it)");
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let reference: Value = serde_json::from_slice(&output.stdout).unwrap();
    let close = |a: &Value, b: &Value, what: &str| {
        let (a, b) = (a.as_f64().unwrap_or(f64::NAN), b.as_f64().unwrap_or(f64::NAN));
        assert!((a - b).abs() < 1e-12, "{what}: assay {a}, python {b}");
    };
    let configs = ours["configs"].as_array().unwrap();
    for config in configs.iter().filter(|c| c["variant"] != "all") {
        let key = format!(
            "{}|{}|{}",
            config["model_id"].as_str().unwrap(),
            config["env_id"].as_str().unwrap(),
            config["variant"].as_str().unwrap()
        );
        let expected = &reference[&key];
        assert!(expected.is_object(), "python has no {key}: {reference}");
        for field in ["mean", "stderr", "std_across_seeds"] {
            close(&config[field], &expected[field], &format!("{key} {field}"));
        }
        let pass_at = config["pass_at"].as_object().unwrap();
        assert_eq!(pass_at.len(), expected["pass_at"].as_object().unwrap().len(), "{key}: the same k");
        for (k, value) in pass_at {
            close(value, &expected["pass_at"][k], &format!("{key} pass@{k}"));
            close(&config["maj_at"][k], &expected["maj_at"][k], &format!("{key} maj@{k}"));
        }
        // 95% interval: mean ± t(0.975, 5) · stderr for six examples.
        let half = 2.570581835636314 * config["stderr"].as_f64().unwrap();
        close(&config["ci_high"], &Value::from(config["mean"].as_f64().unwrap() + half), &format!("{key} ci_high"));
    }
    let errors: u64 = configs.iter().filter(|c| c["variant"] != "all").map(|c| c["errors"].as_u64().unwrap()).sum();
    assert_eq!(errors, 2, "one errored sample per variant (each has its own Sixth prompt) is counted, not scored");
    let pooled = configs.iter().find(|c| c["variant"] == "all").expect("the pooled config");
    assert_eq!(pooled["samples_per_example"], 10, "two variants of five rollouts");
    assert!(project.path().join("runs/analysis/config_analysis.csv").is_file());
    assert!(project.path().join("runs/analysis/seed_analysis.csv").is_file());
}

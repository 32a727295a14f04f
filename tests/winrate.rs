//! `assay winrate` through the binary, checked against a Python reference
//! computed from the same parquet files: pairwise win rates (ties ½, a
//! missing side loses, ln weights) and HELM's mean win rate; bootstrap
//! intervals that are reproducible from the seed; the coverage rule.

use crate::support;

use serde_json::Value;
use std::process::Command;
use support::fixtures::{Project, lettered_questions, plugin, read_json};
use support::openai_mock::{MockOpenAi, MockReply, MockRequest};

const PYTHON_REFERENCE: &str = r#"
import json, math, sys
from collections import defaultdict
import pyarrow.parquet as pq

processed, method = sys.argv[1], sys.argv[2]
index = json.load(open(f"{processed}/env_index.json"))
sums = defaultdict(lambda: defaultdict(list))  # (env, model) -> example -> rewards
for name in index["files"]:
    for r in pq.read_table(f"{processed}/{name}").to_pylist():
        if r["reward"] is not None:
            sums[(r["env_id"], r["model_id"])][r["example_id"]].append(r["reward"])
models = sorted({m for _, m in sums})
envs = sorted({e for e, _ in sums if all((e, m) in sums for m in models)})
score = lambda e, m, x: (sum(sums[(e, m)][x]) / len(sums[(e, m)][x])) if x in sums[(e, m)] else None
out = {}
if method == "pairwise":
    per_env = defaultdict(dict)
    for e in envs:
        examples = sorted(set().union(*(sums[(e, m)].keys() for m in models)))
        for m in models:
            rates = []
            for o in models:
                if o == m: continue
                w = l = t = 0
                for x in examples:
                    a, b = score(e, m, x), score(e, o, x)
                    a = -math.inf if a is None else a
                    b = -math.inf if b is None else b
                    if a - b > 1e-9: w += 1
                    elif b - a > 1e-9: l += 1
                    else: t += 1
                rates.append((w + t / 2) / (w + l + t))
            per_env[m][e] = sum(rates) / len(rates)
    weight = {e: math.log(len(set().union(*(sums[(e, m)].keys() for m in models)))) for e in envs}
    for m in models:
        out[m] = sum(per_env[m][e] * weight[e] for e in envs) / sum(weight.values())
else:
    per_env = defaultdict(list)
    for e in envs:
        means = {m: sum(score(e, m, x) for x in sums[(e, m)]) / len(sums[(e, m)]) for m in models}
        for m in models:
            below = sum(1 for o in models if means[o] < means[m])
            tied = sum(1 for o in models if means[o] == means[m]) - 1
            per_env[m].append((below + tied / 2) / (len(models) - 1))
    for m in models:
        out[m] = sum(per_env[m]) / len(per_env[m])
print(json.dumps(out))
"#;

/// Three models on two envs: `always-b` answers B, `varies` answers by the
/// question, and the oracle. `extra` is more env config.
fn project(server: &MockOpenAi) -> Project {
    let project = Project::new();
    let rows: Vec<(String, String)> = (0..9).map(|i| (format!("q{i}"), format!("Question number {i}?"))).collect();
    project.write("data.jsonl", &lettered_questions(&rows));
    project.write(
        "run.yaml",
        &format!(
            "models:
  always-b: {{model: always-b, api_base_url: {url}}}
  varies: {{model: varies, api_base_url: {url}}}
envs:
  - {{id: first, module: {mcq}, dataset: data.jsonl, rollouts_per_example: 3}}
  - {{id: second, module: {mcq}, dataset: data.jsonl, env_args: {{shuffle_answers: true}}}}
jobs:
  - {{model: always-b, env: [first, second]}}
  - {{model: varies, env: [first, second]}}
  - {{model: oracle, env: first}}
",
            url = server.base_url(),
            mcq = plugin("mcq").display()
        ),
    );
    project
}

fn server() -> MockOpenAi {
    MockOpenAi::start(|request: &MockRequest| {
        let letter = match request.model() {
            "always-b" => "B".to_string(),
            _ => ["A", "B", "C"][request.last_user_message().len() % 3].to_string(),
        };
        MockReply::Text(format!("The answer is ({letter})."))
    })
}

/// Every `ci` in a winrates JSON (models and pairs), in order.
fn intervals(winrates: &Value) -> Vec<Value> {
    let mut found = Vec::new();
    for model in winrates["models"].as_object().unwrap().values() {
        found.push(model["ci"].clone());
        found.extend(model["vs"].as_object().into_iter().flatten().map(|(_, vs)| vs["ci"].clone()));
    }
    found
}

fn python(processed: &std::path::Path, method: &str) -> Value {
    let output = Command::new("python3")
        .args(["-c", PYTHON_REFERENCE, processed.to_str().unwrap(), method])
        .output()
        .expect("python3 with pyarrow is needed (scripts/test.sh installs it)");
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    serde_json::from_slice(&output.stdout).unwrap()
}

#[test]
fn pairwise_and_helm_win_rates_match_a_python_reference() {
    let server = server();
    let project = project(&server);
    project.assay_ok(&["bench", "--config", "run.yaml", "-q"]);
    project.assay_ok(&["process"]);
    let processed = project.path().join("runs/processed");

    // The oracle has no `second`: by default that env is left out, saying so.
    let (stdout, stderr) = project.assay_ok(&["winrate", "--seed", "7"]);
    assert!(stderr.contains("env second left out: no results for oracle"), "{stderr}");
    assert!(stdout.contains("Win rates of 3 models over 1 envs"), "{stdout}");
    let ours = read_json(&project.path().join("runs/winrate/winrates.json"));
    let oracle = &ours["models"]["oracle"];
    assert_eq!(oracle["losses"], 0, "the oracle never loses");
    assert_eq!(oracle["wins"].as_u64().unwrap() + oracle["ties"].as_u64().unwrap(), 18, "9 examples × 2 opponents");
    let expected = python(&processed, "pairwise");
    // Python sees both envs unless told; compare on the env everyone has.
    for model in ["always-b", "varies", "oracle"] {
        let got = ours["models"][model]["mean_win_rate"].as_f64().unwrap();
        assert!((got - expected[model].as_f64().unwrap()).abs() < 1e-12, "{model}: {got} vs {}", expected[model]);
        let (lo, hi) =
            (ours["models"][model]["ci"][0].as_f64().unwrap(), ours["models"][model]["ci"][1].as_f64().unwrap());
        assert!(lo <= got && got <= hi, "{model}: {got} outside [{lo}, {hi}]");
    }
    // The same seed gives the same intervals; another seed, others (with few
    // replicates, whose extremes depend on the draw).
    let seeded = |seed: &str| {
        project.assay_ok(&["winrate", "--seed", seed, "--resamples", "20", "--output-dir", "seeded"]);
        std::fs::read(project.path().join("seeded/winrates.json")).unwrap()
    };
    assert_eq!(seeded("7"), seeded("7"));
    let (seven, eight) = (seeded("7"), seeded("8"));
    let parse = |bytes: &[u8]| intervals(&serde_json::from_slice(bytes).unwrap());
    assert_ne!(parse(&seven), parse(&eight), "a different seed draws different replicates");

    // Without the oracle both envs count, with ln weights.
    project.assay_ok(&["winrate", "--exclude-model", "oracle", "--output-dir", "two"]);
    let two = read_json(&project.path().join("two/winrates.json"));
    assert_eq!(two["envs"].as_object().unwrap().len(), 2);
    let vs = &two["models"]["varies"]["vs"]["always-b"];
    assert_eq!(vs["wins"].as_u64().unwrap() + vs["losses"].as_u64().unwrap() + vs["ties"].as_u64().unwrap(), 18);

    project.assay_ok(&["winrate", "--method", "helm", "--output-dir", "helm"]);
    let helm = read_json(&project.path().join("helm/winrates.json"));
    let expected = python(&processed, "helm");
    for model in ["always-b", "varies", "oracle"] {
        assert_eq!(helm["models"][model]["mean_win_rate"].as_f64(), expected[model].as_f64(), "{model}");
    }
    let csv = std::fs::read_to_string(project.path().join("helm/winrates.csv")).unwrap();
    assert!(
        csv.starts_with(
            "model,mean_win_rate,ci_low,ci_high,wins,losses,ties,n_envs,win_rate:first,reward:first\noracle,1,"
        ),
        "{csv}"
    );

    let output = project.assay(&["winrate", "--include-model", "nobody"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("--include-model nobody: no results for that model"));
}

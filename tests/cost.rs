//! Cost: a `price` per model makes each sample, job and run cost what its
//! tokens do (reasoning tokens as output, judge calls at the judge's
//! price), shown by `bench`, `summarize`, `analyze` and the report;
//! `--max-cost` stops starting samples once the spend reaches it, says so,
//! and a rerun resumes without duplicating or dropping a sample.

use crate::support;

use serde_json::Value;
use support::fixtures::{Project, lettered_questions, output_text, plugin, read_json, read_jsonl};
use support::openai_mock::{MockOpenAi, MockReply, MockRequest};

/// Dollars per million tokens of the model under test and of the judge.
const MODEL_PRICE: (f64, f64) = (1000.0, 4000.0);
const JUDGE_PRICE: (f64, f64) = (10.0, 20.0);

fn priced(input: f64, output: f64) -> String {
    format!("price: {{input_per_mtok: {input}, output_per_mtok: {output}}}")
}

fn cost((input, output): (f64, f64), tokens: &Value) -> f64 {
    (tokens["prompt"].as_f64().unwrap() * input + tokens["completion"].as_f64().unwrap() * output) / 1e6
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() < 1e-12
}

#[test]
fn samples_jobs_and_runs_cost_their_tokens_at_the_models_prices() {
    let model = MockOpenAi::start(|_: &MockRequest| MockReply::TextWithReasoning {
        content: "answer: right".into(),
        reasoning: "let me think about it".into(),
    });
    let judge = MockOpenAi::start(|_: &MockRequest| MockReply::Text("Fine.\nGRADE: C".into()));
    let project = Project::new();
    let rows: String = (0..3)
        .map(|i| {
            serde_json::json!({"id": format!("q{i}"), "question": format!("Q{i}?"), "answer": "right"}).to_string()
                + "\n"
        })
        .collect();
    project.write("data.jsonl", &rows);
    project.write(
        "run.yaml",
        &format!(
            "models:\n  tested: {{model: t, api_base_url: {}, {}}}\n  grader: {{model: g, api_base_url: {}, {}}}\nenvs:\n  - {{id: open, module: {}, dataset: data.jsonl, env_args: {{reference_field: answer}}, capabilities: [judge], judge: {{model: grader}}}}\njobs:\n  - {{model: tested, env: open}}\n",
            model.base_url(),
            priced(MODEL_PRICE.0, MODEL_PRICE.1),
            judge.base_url(),
            priced(JUDGE_PRICE.0, JUDGE_PRICE.1),
            plugin("judge").display()
        ),
    );
    let (stdout, _) = project.assay_ok(&["bench", "--config", "run.yaml", "-q"]);
    let job = project.only_run_dir().join("tested-open");
    let mut total = 0.0;
    for line in read_jsonl(&job.join("results.jsonl")) {
        assert!(line["tokens"]["reasoning"].as_u64().unwrap() > 0, "the reply had reasoning tokens: {line}");
        let judged: f64 = line["judge_calls"].as_array().unwrap().iter().map(|c| cost(JUDGE_PRICE, &c["tokens"])).sum();
        let expected = cost(MODEL_PRICE, &line["tokens"]) + judged;
        assert!(judged > 0.0 && close(line["cost_usd"].as_f64().unwrap(), expected), "{line}");
        total += expected;
    }
    let summary = read_json(&job.join("summary.json"));
    assert!(close(summary["cost_usd"].as_f64().unwrap(), total), "{summary}");
    assert!(stdout.contains("cost (USD)") && stdout.contains(&format!("Run cost: ${total:.6}")), "{stdout}");

    let (summarize, _) = project.assay_ok(&["summarize"]);
    assert!(summarize.contains(&format!("Run cost: ${total:.6}")), "{summarize}");
    let (json, _) = project.assay_ok(&["summarize", "--json"]);
    let json: Value = serde_json::from_str(&json).unwrap();
    assert!(close(json["cost_usd"].as_f64().unwrap(), total), "{json}");

    project.assay_ok(&["process"]);
    project.assay_ok(&["analyze"]);
    let analysis = read_json(&project.path().join("runs/analysis/analysis_results.json"));
    assert!(close(analysis["configs"][0]["cost_usd"].as_f64().unwrap(), total), "{analysis}");
    project.assay_ok(&["report", "runs/processed", "--format", "md", "--output", "report.md"]);
    let report = std::fs::read_to_string(project.path().join("report.md")).unwrap();
    assert!(report.contains("| cost (USD) |") && report.contains(&format!("| ${total:.6} |")), "{report}");

    // The report's sample browser holds the judge's question and answer.
    project.assay_ok(&["report", "runs/processed", "--output", "report.html"]);
    let html = std::fs::read_to_string(project.path().join("report.html")).unwrap();
    assert!(html.contains("\"title\":\"judge call 1 (") && html.contains("judge: Fine.\\nGRADE: C"), "{html}");
}

#[test]
fn max_cost_stops_starting_samples_and_a_rerun_resumes() {
    let server = MockOpenAi::start(|_: &MockRequest| MockReply::Text("The answer is (A).".into()));
    let project = Project::new();
    let rows: Vec<(String, String)> = (0..6).map(|i| (format!("q{i}"), format!("Question {i}?"))).collect();
    project.write("data.jsonl", &lettered_questions(&rows));
    let config = |price: &str| {
        format!(
            "name: budget\nmodels:\n  m: {{model: x, api_base_url: {}, max_concurrent: 1{price}}}\nenvs:\n  - {{id: qa, module: {}, dataset: data.jsonl}}\njobs:\n  - {{model: m, env: qa}}\n",
            server.base_url(),
            plugin("mcq").display()
        )
    };
    project.write("run.yaml", &config(""));
    let unpriced = project.assay(&["bench", "--config", "run.yaml", "--max-cost", "1"]);
    assert_eq!(unpriced.status.code(), Some(2));
    assert!(output_text(&unpriced).contains("--max-cost: no job's model has a `price` in run.yaml"));

    // At a dollar per token, one sample (tens of tokens) costs far more than
    // the cap: it runs (one at a time), and no other starts.
    project.write("run.yaml", &config(&format!(", {}", priced(1e6, 1e6))));
    let stopped = project.assay(&["bench", "--config", "run.yaml", "--max-cost", "0.5"]);
    let text = output_text(&stopped);
    assert_eq!(stopped.status.code(), Some(130), "{text}");
    assert!(text.contains("Stopped starting samples: $") && text.contains("reached --max-cost $0.5"), "{text}");
    assert!(
        text.contains("m-qa: interrupted, 1/6 samples, errors 0"),
        "the job's line counts what it recorded: {text}"
    );
    let job = project.only_run_dir().join("m-qa");
    assert_eq!(read_jsonl(&job.join("results.jsonl")).len(), 1, "{text}");
    let manifest = read_json(&project.only_run_dir().join("run_manifest.json"));
    assert_eq!(manifest["jobs"][0]["status"], "interrupted");
    assert_eq!(manifest["jobs"][0]["reason"], "stopped by --max-cost with 5 samples left; rerun to resume");

    project.assay_ok(&["bench", "--config", "run.yaml", "-q"]);
    let ids: std::collections::BTreeSet<String> = read_jsonl(&job.join("results.jsonl"))
        .iter()
        .map(|line| line["example_id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!((ids.len(), read_jsonl(&job.join("results.jsonl")).len()), (6, 6), "resumed: none twice, none lost");
    assert_eq!(server.request_count(), 6);
}

//! The response cache: a rerun of the same requests is answered from it
//! with no model request, its hits are counted in summaries and the
//! manifest, `--no-cache` bypasses it, `assay cache stats` and `clear`
//! manage it; two runs writing at once leave it sound; a damaged file is
//! rebuilt and the run goes on; no API key is in it.

use crate::support;

use serde_json::json;
use std::path::PathBuf;
use std::time::Duration;
use support::fixtures::{Project, mcq_jsonl, output_text, plugin, read_json};
use support::openai_mock::{MockOpenAi, MockReply, MockRequest};

const KEY: &str = "sk-cache-test-5e1d9b7a3c";

/// Answers (A) to every question, after a short wait so runs overlap.
fn server() -> MockOpenAi {
    MockOpenAi::start(|_: &MockRequest| {
        MockReply::Delay(Duration::from_millis(20), Box::new(MockReply::Text("The answer is (A).".into())))
    })
}

/// An mcq project of `n` questions (two rollouts each) against `server`,
/// whose model has `cache: true`; its response cache is its own.
fn project(server: &MockOpenAi, n: usize) -> Project {
    let project = Project::new();
    let rows: Vec<(String, String)> = (0..n).map(|i| (format!("q{i}"), format!("Question {i}?"))).collect();
    let rows: Vec<(&str, &str, [&str; 4], &str)> =
        rows.iter().map(|(id, q)| (id.as_str(), q.as_str(), ["w", "x", "y", "z"], "A")).collect();
    project.write("data.jsonl", &mcq_jsonl(&rows));
    project.write(
        "run.yaml",
        &format!(
            "name: cached\nmodels:\n  served: {{model: test-model, api_base_url: {}, api_key_var: ASSAY_TEST_KEY, cache: true, sampling_args: {{temperature: 0.7}}}}\nenvs:\n  - {{id: mcq, module: {}, dataset: data.jsonl, rollouts_per_example: 2}}\njobs:\n  - {{model: served, env: mcq}}\n",
            server.base_url(),
            plugin("mcq").display()
        ),
    );
    project
}

fn env(project: &Project) -> [(&'static str, String); 2] {
    let dir = project.path().join("response-cache").display().to_string();
    [("ASSAY_RESPONSE_CACHE_DIR", dir), ("ASSAY_TEST_KEY", KEY.to_string())]
}

fn assay(project: &Project, args: &[&str]) -> std::process::Output {
    let env = env(project);
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    project.assay_with_env(args, &env)
}

fn assay_ok(project: &Project, args: &[&str]) -> String {
    let output = assay(project, args);
    assert!(output.status.success(), "assay {}: {}", args.join(" "), output_text(&output));
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn cache_file(project: &Project) -> PathBuf {
    project.path().join("response-cache/responses.sqlite3")
}

/// The newest run directory's manifest and the job's summary.
fn newest_run(project: &Project) -> (serde_json::Value, serde_json::Value) {
    let runs: Vec<PathBuf> =
        std::fs::read_dir(project.path().join("runs/raw")).unwrap().map(|e| e.unwrap().path()).collect();
    let newest = runs.into_iter().max_by_key(|dir| read_json(&dir.join("run_manifest.json"))["created_at"].to_string());
    let dir = newest.unwrap();
    (read_json(&dir.join("run_manifest.json")), read_json(&dir.join("served-mcq/summary.json")))
}

#[test]
fn a_cached_rerun_makes_no_model_request_and_counts_its_hits() {
    let server = server();
    let project = project(&server, 3);
    assay_ok(&project, &["bench", "--config", "run.yaml", "-q"]);
    assert_eq!(server.request_count(), 6, "three questions, two rollouts: each rollout asked once");
    let (_, first) = newest_run(&project);
    assert_eq!(first.get("cache_hits"), None, "{first}");

    assay_ok(&project, &["bench", "--config", "run.yaml", "-q", "--no-auto-resume"]);
    assert_eq!(server.request_count(), 6, "the rerun is answered from the cache");
    let (manifest, summary) = newest_run(&project);
    assert_eq!((&summary["cache_hits"], &summary["mean_reward"]), (&json!(6), &first["mean_reward"]), "{summary}");
    assert_eq!(summary["tokens"], first["tokens"], "a cached reply keeps its token counts");
    assert_eq!(manifest["jobs"][0]["cache_hits"], 6, "{manifest}");

    assay_ok(&project, &["bench", "--config", "run.yaml", "-q", "--no-auto-resume", "--no-cache"]);
    assert_eq!(server.request_count(), 12, "--no-cache asks the model again");

    let stats = assay_ok(&project, &["cache", "stats", "--json"]);
    let stats: serde_json::Value = serde_json::from_str(&stats).unwrap();
    assert_eq!(stats["replies"], 6, "{stats}");
    assert_eq!(stats["models"], json!([{"model": "test-model", "replies": 6}]));
    let bytes = std::fs::read(cache_file(&project)).unwrap();
    assert!(!String::from_utf8_lossy(&bytes).contains(KEY), "the API key is not in the cache");
    assert!(!String::from_utf8_lossy(&bytes).contains(server.base_url()), "nor the endpoint");

    assert!(assay_ok(&project, &["cache", "clear"]).contains("Removed 6 cached replies"));
    assay_ok(&project, &["bench", "--config", "run.yaml", "-q", "--no-auto-resume"]);
    assert_eq!(server.request_count(), 18, "a cleared cache is asked nothing");
}

#[test]
fn two_runs_writing_at_once_leave_the_cache_sound() {
    let server = server();
    let project = project(&server, 40);
    let env = env(&project);
    let spawn = |name: &str| {
        let mut command = project.command(&["bench", "--config", "run.yaml", "-q", "--name", name]);
        command.envs(env.iter().map(|(k, v)| (k, v)));
        command.spawn().expect("spawn assay")
    };
    let (mut first, mut second) = (spawn("one"), spawn("two"));
    assert!(first.wait().unwrap().success() && second.wait().unwrap().success());
    let asked = server.request_count();
    assert!((80..=160).contains(&asked), "each sample asked at most once per run: {asked}");

    let stats: serde_json::Value = serde_json::from_str(&assay_ok(&project, &["cache", "stats", "--json"])).unwrap();
    assert_eq!(stats["replies"], 80, "every sample's reply is cached once: {stats}");
    assay_ok(&project, &["bench", "--config", "run.yaml", "-q", "--name", "three"]);
    assert_eq!(server.request_count(), asked, "a third run is answered from the cache");
}

#[test]
fn a_damaged_cache_is_rebuilt_and_the_run_goes_on() {
    let server = server();
    let project = project(&server, 2);
    std::fs::create_dir_all(cache_file(&project).parent().unwrap()).unwrap();
    std::fs::write(cache_file(&project), "this is not a database, it is what a crash left ".repeat(200)).unwrap();
    let output = assay(&project, &["bench", "--config", "run.yaml"]);
    let text = output_text(&output);
    assert!(output.status.success(), "{text}");
    assert!(text.contains("was damaged") && text.contains("rebuilt empty"), "{text}");
    assert_eq!(server.request_count(), 4);

    assay_ok(&project, &["bench", "--config", "run.yaml", "-q", "--no-auto-resume"]);
    assert_eq!(server.request_count(), 4, "the rebuilt cache answers the rerun");
}

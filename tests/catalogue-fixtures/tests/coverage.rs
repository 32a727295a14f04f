//! The catalogue and its fixtures agree: every env reading the Hub uses a
//! first-party plugin whose catalogue test runs it, names a fixture with
//! records, and every fixture repo is used by an env.

use catalogue_fixtures::{all_envs, records, repo_root};
use std::collections::BTreeSet;

const PLUGINS: [&str; 5] = ["mcq", "math", "code", "qa", "medcalc"];

#[test]
fn every_env_has_a_tested_plugin_and_fixture_records() {
    let envs = all_envs();
    assert!(envs.len() >= 48, "{} envs", envs.len());
    for env in &envs {
        assert!(PLUGINS.contains(&env.module.as_str()), "{}: module {}", env.id, env.module);
        assert!(!records(&env.hub).is_empty(), "{}: no records", env.id);
    }
    let ids: BTreeSet<&str> = envs.iter().map(|env| env.id.as_str()).collect();
    assert_eq!(ids.len(), envs.len(), "env ids are unique");
}

#[test]
fn every_fixture_repo_is_used() {
    let used: BTreeSet<String> = all_envs().iter().map(|env| env.hub.repo.clone()).collect();
    let manifest = std::fs::read_to_string(repo_root().join("tests/fixtures/hub/manifest.json")).unwrap();
    let manifest: serde_json::Value = serde_json::from_str(&manifest).unwrap();
    let repos: BTreeSet<String> = manifest.as_object().unwrap().keys().cloned().collect();
    assert_eq!(repos, used);
}

/// The env ids the jobs of `configs/<name>` run.
fn job_envs(name: &str) -> Vec<String> {
    let text = std::fs::read_to_string(repo_root().join("configs").join(name)).unwrap();
    let config: serde_json::Value = serde_yaml_ng::from_str(&text).unwrap();
    let jobs = config["jobs"].as_array().unwrap();
    let names = jobs.iter().flat_map(|job| match &job["env"] {
        serde_json::Value::Array(ids) => ids.iter().map(|id| id.as_str().unwrap().to_string()).collect(),
        id => vec![id.as_str().unwrap().to_string()],
    });
    names.collect()
}

#[test]
fn the_suite_configs_run_catalogue_envs_and_the_oracle_configs_match_them() {
    let envs = all_envs();
    let known = |id: &str| envs.iter().any(|env| env.id == id || env.id.starts_with(&format!("{id}-")));
    for config in ["standard.yaml", "standard-oracle.yaml", "medical.yaml", "medical-oracle.yaml"] {
        let ids = job_envs(config);
        assert!(ids.len() >= 12, "{config}: {ids:?}");
        for id in &ids {
            assert!(known(id), "{config}: unknown env {id}");
        }
    }
    assert_eq!(job_envs("medical.yaml"), job_envs("medical-oracle.yaml"));
    let medical = ["medqa", "medmcqa", "pubmedqa", "medxpertqa-text", "medcalc-bench", "m-arc", "mmlu-anatomy"];
    assert!(medical.iter().all(|id| job_envs("medical.yaml").contains(&id.to_string())));
    let standard: BTreeSet<String> = job_envs("standard.yaml").into_iter().collect();
    let oracle: BTreeSet<String> = job_envs("standard-oracle.yaml").into_iter().collect();
    let only_oracle: Vec<&String> = oracle.difference(&standard).collect();
    assert_eq!(
        only_oracle,
        ["humaneval", "mmlu-5shot", "mmlu-shuffled"],
        "the oracle also runs every variant and the base-model envs (configs/base-model.yaml)"
    );
}

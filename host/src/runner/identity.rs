//! Job identity: the inputs that change a job's results, and nothing else.
//!
//! Two jobs with the same identity would produce the same distribution of
//! results, so a run may resume one with the other's samples. What is in:
//! the model name at the endpoint (and, for a model assay serves, what
//! it serves as: weights, engine, dtype, context length, extra arguments)
//! and the API used, sampling args, plugin
//! hash and API version, env args, dataset hash and id field, example and
//! rollout counts, turns and the run seed, all after CLI overrides; when
//! set, the token budget and the workspace's environment variables (their
//! values hashed: they may be secrets). What is
//! out: connection settings (URL, key variable, timeout, concurrency,
//! retries, rate limits), because changing them only changes how fast the
//! same samples arrive.
//!
//! The identity is kept in the manifest as a JSON object beside its sha256,
//! so a mismatch can be described field by field.

use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};

/// What a job's identity is computed from.
pub(crate) struct IdentityInputs<'a> {
    /// The model name at the endpoint, or `oracle`.
    pub model: &'a str,
    /// The request API (`chat` or `completions`) and, for completions, the
    /// template that renders messages into a prompt.
    pub api: Value,
    pub sampling_args: &'a Map<String, Value>,
    pub plugin_sha256: &'a str,
    pub api_version: &'a str,
    pub env_args: &'a Map<String, Value>,
    pub dataset_sha256: &'a str,
    /// The commit of a Hub dataset (absent for files, whose identity is
    /// their hash alone).
    pub dataset_commit: Option<&'a str>,
    /// The field grouping results (absent when none: result lines then
    /// carry no group, so adding one starts the job afresh).
    pub group_by: Option<&'a str>,
    /// How few-shot exemplars are chosen, and their pool's hash and commit.
    pub fewshot: Option<Value>,
    /// The judge's model name and sampling args (absent without a judge;
    /// the judge's templates are the plugin's, in `plugin_sha256`).
    pub judge: Option<Value>,
    pub id_field: Option<&'a str>,
    /// Records actually used (a cap at or above the dataset size is no change).
    pub num_examples: usize,
    pub rollouts: u32,
    pub max_turns: u32,
    pub seed: u64,
    /// The sample token budget (absent when none, so older identities stay).
    pub token_budget: Option<u64>,
    /// The job's workspace environment variables (absent when none).
    pub environment_variables: &'a std::collections::BTreeMap<String, String>,
}

/// The identity as a JSON object (keys sorted, so its text is canonical).
pub(crate) fn identity(inputs: &IdentityInputs) -> Value {
    let mut identity = json!({
        "model": inputs.model,
        "api": inputs.api,
        "sampling_args": inputs.sampling_args,
        "plugin_sha256": inputs.plugin_sha256,
        "api_version": inputs.api_version,
        "env_args": inputs.env_args,
        "dataset_sha256": inputs.dataset_sha256,
        "id_field": inputs.id_field,
        "num_examples": inputs.num_examples,
        "rollouts": inputs.rollouts,
        "max_turns": inputs.max_turns,
        "seed": inputs.seed,
    });
    if let Some(commit) = inputs.dataset_commit {
        identity["dataset_commit"] = commit.into();
    }
    if let Some(field) = inputs.group_by {
        identity["group_by"] = field.into();
    }
    if let Some(fewshot) = &inputs.fewshot {
        identity["fewshot"] = fewshot.clone();
    }
    if let Some(judge) = &inputs.judge {
        identity["judge"] = judge.clone();
    }
    if let Some(budget) = inputs.token_budget {
        identity["token_budget"] = budget.into();
    }
    if !inputs.environment_variables.is_empty() {
        let hashed: Map<String, Value> = inputs
            .environment_variables
            .iter()
            .map(|(name, value)| (name.clone(), hex::encode(Sha256::digest(value.as_bytes())).into()))
            .collect();
        identity["environment_variables"] = Value::Object(hashed);
    }
    identity
}

/// sha256 (hex) of the identity's canonical JSON text.
pub(crate) fn checksum(identity: &Value) -> String {
    hex::encode(Sha256::digest(identity.to_string().as_bytes()))
}

/// What differs between two identities, as `path: old → new` items joined
/// by `; `, at most a few, hashes shortened. Empty when they are equal.
pub(crate) fn describe_change(old: &Value, new: &Value) -> String {
    let mut changes = Vec::new();
    diff("", old, new, &mut changes);
    const SHOWN: usize = 4;
    let more = changes.len().saturating_sub(SHOWN);
    changes.truncate(SHOWN);
    let mut text = changes.join("; ");
    if more > 0 {
        text.push_str(&format!("; and {more} more"));
    }
    text
}

fn diff(path: &str, old: &Value, new: &Value, out: &mut Vec<String>) {
    if old == new {
        return;
    }
    if let (Value::Object(old), Value::Object(new)) = (old, new) {
        let mut keys: Vec<&String> = old.keys().chain(new.keys()).collect();
        keys.sort();
        keys.dedup();
        for key in keys {
            let child = if path.is_empty() { key.clone() } else { format!("{path}.{key}") };
            diff(&child, old.get(key).unwrap_or(&Value::Null), new.get(key).unwrap_or(&Value::Null), out);
        }
        return;
    }
    out.push(format!("{path}: {} → {}", shown(old), shown(new)));
}

/// A value for a change message: absent for null, hashes cut to 12 digits.
fn shown(value: &Value) -> String {
    match value {
        Value::Null => "(unset)".into(),
        Value::String(s) if s.len() == 64 && s.bytes().all(|b| b.is_ascii_hexdigit()) => format!("{}…", &s[..12]),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Value {
        let args: Map<String, Value> = serde_json::from_value(json!({"temperature": 0.7})).unwrap();
        let env: Map<String, Value> = serde_json::from_value(json!({"shuffle": true})).unwrap();
        identity(&IdentityInputs {
            model: "m",
            api: json!("chat"),
            sampling_args: &args,
            plugin_sha256: &"a".repeat(64),
            api_version: "0.1.0",
            env_args: &env,
            dataset_sha256: &"b".repeat(64),
            dataset_commit: None,
            group_by: None,
            fewshot: None,
            judge: None,
            id_field: None,
            num_examples: 10,
            rollouts: 1,
            max_turns: 16,
            seed: 0,
            token_budget: None,
            environment_variables: &Default::default(),
        })
    }

    #[test]
    fn budgets_and_environment_variables_count_only_when_set_and_values_are_hashed() {
        let plain = sample();
        assert!(plain.get("token_budget").is_none() && plain.get("environment_variables").is_none());
        let variables = [("API_TOKEN".to_string(), "secret-value".to_string())].into();
        let args = Map::new();
        let with = identity(&IdentityInputs {
            model: "m",
            api: json!("chat"),
            sampling_args: &args,
            plugin_sha256: "p",
            api_version: "0.2.0",
            env_args: &args,
            dataset_sha256: "d",
            dataset_commit: None,
            group_by: None,
            fewshot: None,
            judge: None,
            id_field: None,
            num_examples: 1,
            rollouts: 1,
            max_turns: 1,
            seed: 0,
            token_budget: Some(1000),
            environment_variables: &variables,
        });
        assert_eq!(with["token_budget"], 1000);
        assert!(with["environment_variables"]["API_TOKEN"].as_str().unwrap().len() == 64);
        assert!(!with.to_string().contains("secret-value"));
    }

    #[test]
    fn changes_are_named_by_path_with_old_and_new_values() {
        let old = sample();
        let mut new = old.clone();
        new["sampling_args"]["temperature"] = json!(0.0);
        new["dataset_sha256"] = json!("c".repeat(64));
        new["env_args"]["extra"] = json!(1);
        assert_eq!(
            describe_change(&old, &new),
            "dataset_sha256: bbbbbbbbbbbb… → cccccccccccc…; env_args.extra: (unset) → 1; sampling_args.temperature: 0.7 → 0.0"
        );
        assert_eq!(describe_change(&old, &old), "");
        assert_ne!(checksum(&old), checksum(&new));
        assert_eq!(checksum(&old), checksum(&sample()), "the checksum is stable");
    }
}

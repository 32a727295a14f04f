//! A job's sampling-config sweep: its `matrix` over sampling args and
//! seeds, and the `config_id` that keeps each sampling config apart in
//! processed results.
//!
//! - Each combination of the matrix values (keys sorted) is one job. The
//!   key `seed` sets the job's seed; every other key is a sampling arg
//!   merged over the job's `sampling_args` (`null`: left out).
//! - A job's `config_id` is its `name`, then the id of its sampling-arg
//!   combination (`matrix_id_format`, or `<k1>-<v1>-<k2>-<v2>...`), joined
//!   by `-`; [`DEFAULT_CONFIG_ID`] when it has neither. The seed is never part
//!   of it: a config's seeds are what its spread is measured over.
//! - The job id is `<model>-<variant>`, then the slugged config id unless
//!   it is the default, then `-seed-<n>` when seeds are swept.

use crate::config::{DEFAULT_CONFIG_ID, JobConfig};
use serde_json::{Map, Value};

/// The matrix key that sets a job's seed rather than a sampling arg.
pub const SEED_KEY: &str = "seed";

/// One combination of a job's matrix.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct SamplingConfig {
    /// The name and the combination's id, or [`DEFAULT_CONFIG_ID`].
    pub config_id: String,
    /// The job's sampling args with the combination's merged over them.
    pub sampling_args: Map<String, Value>,
    /// The swept seed, when `seed` is a matrix key.
    pub seed: Option<u64>,
}

/// Every sampling config of `job`, whose sampling args (the model's and
/// its own, merged) are `sampling_args`.
pub(super) fn expand(job: &JobConfig, sampling_args: &Map<String, Value>) -> Result<Vec<SamplingConfig>, String> {
    check(job)?;
    let mut configs: Vec<SamplingConfig> = Vec::new();
    for combo in combinations(&job.matrix) {
        let swept: Vec<(&str, &Value)> = combo.iter().copied().filter(|(key, _)| *key != SEED_KEY).collect();
        let mut args = sampling_args.clone();
        for &(key, value) in &swept {
            match value {
                Value::Null => drop(args.remove(key)),
                value => drop(args.insert(key.to_string(), value.clone())),
            }
        }
        let seed = combo.iter().find(|(key, _)| *key == SEED_KEY).map(|(_, value)| seed_value(value)).transpose()?;
        let config = SamplingConfig { config_id: config_id(job, &swept), sampling_args: args, seed };
        if configs.iter().any(|c| c.config_id == config.config_id && c.seed == seed) {
            return Err(format!(
                "matrix: two combinations make config id `{}`; put every swept key in matrix_id_format",
                config.config_id
            ));
        }
        configs.push(config);
    }
    Ok(configs)
}

/// The job-id suffix of a sampling config: `-<config>` unless it is the
/// default, then `-seed-<n>` when seeds are swept.
pub(super) fn job_id_suffix(config: &SamplingConfig) -> String {
    let mut suffix = String::new();
    if config.config_id != DEFAULT_CONFIG_ID {
        suffix.push_str(&format!("-{}", crate::store::slug(&config.config_id)));
    }
    if let Some(seed) = config.seed {
        suffix.push_str(&format!("-seed-{seed}"));
    }
    suffix
}

/// Every combination of the matrix values, keys in sorted order; one
/// empty combination when there is no matrix.
pub(super) fn combinations(matrix: &std::collections::BTreeMap<String, Vec<Value>>) -> Vec<Vec<(&str, &Value)>> {
    let mut combinations: Vec<Vec<(&str, &Value)>> = vec![Vec::new()];
    for (key, values) in matrix {
        combinations = combinations
            .into_iter()
            .flat_map(|combo| values.iter().map(move |value| [combo.as_slice(), &[(key.as_str(), value)]].concat()))
            .collect();
    }
    combinations
}

/// A matrix value as it appears in an id: strings bare, `null` as `none`.
pub(super) fn value_text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Null => "none".into(),
        other => other.to_string(),
    }
}

/// The `{name}` placeholders of an id format.
pub(super) fn placeholders(format: &str) -> impl Iterator<Item = &str> {
    format.split('{').skip(1).filter_map(|part| part.split_once('}')).map(|(name, _)| name)
}

/// `format` with each `{key}` of `combo` filled in.
pub(super) fn fill(format: &str, combo: &[(&str, &Value)]) -> String {
    combo.iter().fold(format.to_string(), |id, (key, value)| id.replace(&format!("{{{key}}}"), &value_text(value)))
}

fn config_id(job: &JobConfig, swept: &[(&str, &Value)]) -> String {
    let combination = match (&job.matrix_id_format, swept.is_empty()) {
        (_, true) => None,
        (Some(format), false) => Some(fill(format, swept)),
        (None, false) => {
            Some(swept.iter().map(|(key, value)| format!("{key}-{}", value_text(value))).collect::<Vec<_>>().join("-"))
        }
    };
    match (&job.name, combination) {
        (Some(name), Some(combination)) => format!("{name}-{combination}"),
        (Some(name), None) => name.clone(),
        (None, Some(combination)) => combination,
        (None, None) => DEFAULT_CONFIG_ID.into(),
    }
}

/// Reject empty value lists and id-format placeholders that are not swept
/// sampling args.
fn check(job: &JobConfig) -> Result<(), String> {
    if let Some((key, _)) = job.matrix.iter().find(|(_, values)| values.is_empty()) {
        return Err(format!("matrix key `{key}` has no values"));
    }
    let Some(format) = &job.matrix_id_format else { return Ok(()) };
    if job.matrix.keys().all(|key| key == SEED_KEY) {
        return Err("matrix_id_format: the matrix sweeps no sampling args".into());
    }
    for placeholder in placeholders(format) {
        if placeholder == SEED_KEY || !job.matrix.contains_key(placeholder) {
            return Err(format!(
                "matrix_id_format: `{{{placeholder}}}` is not a swept sampling arg (seeds are never part of a config id)"
            ));
        }
    }
    Ok(())
}

fn seed_value(value: &Value) -> Result<u64, String> {
    value.as_u64().ok_or_else(|| format!("matrix seed: {value} is not a non-negative integer"))
}

//! The benchmark catalogue as the plugins' native tests see it: every env
//! file under `configs/envs/` (matrix variants expanded, prompts files read
//! into `env_args` as the host does), and the records of the dataset each
//! one names on the Hub, read from `tests/fixtures/hub/` (see its README).
//!
//! [`prove`] runs one env the way `assay plugin check` and the `oracle`
//! model will: configure with the env file's `env_args`, then for every
//! fixture record `prepare`, `reference` and `grade`.

use assay_sdk::Environment;
use assay_sdk::testing::Harness;
use serde_json::{Map, Value, json};
use std::path::{Path, PathBuf};

/// A dataset on the Hub, as an env file names it.
#[derive(Debug, Clone, PartialEq)]
pub struct Hub {
    /// `owner/name`.
    pub repo: String,
    /// The config (`None`: the repo's `default`).
    pub config: Option<String>,
    /// The split.
    pub split: String,
    /// A pinned revision, if any.
    pub revision: Option<String>,
}

/// One environment (one matrix variant) of an env file.
#[derive(Debug, Clone)]
pub struct Env {
    /// The env id, with the variant's suffix.
    pub id: String,
    /// The plugin.
    pub module: String,
    /// Where the data comes from.
    pub hub: Hub,
    /// The record field with the example id, if set.
    pub id_field: Option<String>,
    /// The record field results are grouped by, if set.
    pub group_by: Option<String>,
    /// `env_args`, with the matrix values and the prompts file merged in.
    pub env_args: Value,
    /// The env file.
    pub file: PathBuf,
}

/// The repository's root.
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Every env of every env file in `configs/envs/`, sorted by file.
pub fn all_envs() -> Vec<Env> {
    let dir = repo_root().join("configs/envs");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir).expect("configs/envs").map(|e| e.unwrap().path()).collect();
    files.retain(|p| p.extension().is_some_and(|e| e == "yaml" || e == "yml"));
    files.sort();
    files.iter().flat_map(|file| envs_in(file)).collect()
}

/// The envs of all env files whose `module` is `plugin`.
pub fn envs_of(plugin: &str) -> Vec<Env> {
    all_envs().into_iter().filter(|env| env.module == plugin).collect()
}

/// The envs of one env file (a map or a list of maps). Envs reading a
/// local dataset file (the quickstart's `sample-mcq`) are left out: the
/// catalogue is the envs reading the Hub.
fn envs_in(file: &Path) -> Vec<Env> {
    let text = std::fs::read_to_string(file).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
    let parsed: Value = serde_yaml_ng::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
    let entries = match parsed {
        Value::Array(entries) => entries,
        single => vec![single],
    };
    entries.iter().flat_map(|entry| variants(file, entry.as_object().expect("an env is a map"))).collect()
}

fn variants(file: &Path, entry: &Map<String, Value>) -> Vec<Env> {
    let text = |key: &str| entry.get(key).and_then(Value::as_str).map(str::to_string);
    let id = text("id").unwrap_or_else(|| panic!("{}: an env without `id`", file.display()));
    let dataset = entry.get("dataset").unwrap_or_else(|| panic!("{id}: no `dataset`"));
    if dataset.is_string() {
        return Vec::new();
    }
    let hub = hub(&id, dataset);
    let mut env_args = entry.get("env_args").cloned().unwrap_or_else(|| json!({}));
    load_prompts(file, &mut env_args);
    let base = Env {
        module: text("module").unwrap_or_else(|| panic!("{id}: no `module`")),
        hub,
        id_field: text("id_field"),
        group_by: text("group_by"),
        env_args,
        file: file.to_path_buf(),
        id,
    };
    match entry.get("matrix").and_then(Value::as_object) {
        None => vec![base],
        Some(matrix) => expand(base, matrix, text("matrix_id_format").as_deref()),
    }
}

fn hub(id: &str, dataset: &Value) -> Hub {
    let field = |key: &str| dataset.get(key).and_then(Value::as_str).map(str::to_string);
    let repo = field("hub").unwrap_or_else(|| panic!("{id}: `dataset` is not a Hub reference: {dataset}"));
    let split = field("split").unwrap_or_else(|| panic!("{id}: the Hub reference has no `split`"));
    Hub { repo, config: field("config"), split, revision: field("revision") }
}

/// Read an `env_args.prompts` file (relative to the env file) into the
/// args, as the host does.
fn load_prompts(file: &Path, env_args: &mut Value) {
    let Some(Value::String(name)) = env_args.get("prompts") else { return };
    let path = file.parent().unwrap().join(name);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let prompts: Value = serde_yaml_ng::from_str(&text).unwrap();
    env_args["prompts"] = prompts;
}

/// One env per combination of matrix values (keys sorted; `null` leaves
/// the argument out), named by `format` or `<id>-<key>-<value>...`.
fn expand(base: Env, matrix: &Map<String, Value>, format: Option<&str>) -> Vec<Env> {
    let mut combos: Vec<Vec<(String, Value)>> = vec![Vec::new()];
    for (key, values) in matrix {
        let values = values.as_array().expect("matrix values are lists");
        combos = combos
            .into_iter()
            .flat_map(|combo| values.iter().map(move |v| [combo.clone(), vec![(key.clone(), v.clone())]].concat()))
            .collect();
    }
    combos.into_iter().map(|combo| variant(&base, &combo, format)).collect()
}

fn variant(base: &Env, combo: &[(String, Value)], format: Option<&str>) -> Env {
    let mut env = base.clone();
    let shown = |v: &Value| v.as_str().map_or_else(|| v.to_string(), str::to_string);
    let mut id = format.map_or_else(|| base.id.clone(), |f| f.replace("{base}", &base.id));
    for (key, value) in combo {
        match format {
            Some(_) => id = id.replace(&format!("{{{key}}}"), &shown(value)),
            None => id = format!("{id}-{key}-{}", shown(value)),
        }
        if !value.is_null() && !["num_examples", "rollouts_per_example", "max_turns"].contains(&key.as_str()) {
            env.env_args[key] = value.clone();
        }
    }
    env.id = id;
    env
}

/// The fixture records of a Hub dataset, in file order.
pub fn records(hub: &Hub) -> Vec<Value> {
    let dir = repo_root().join("tests/fixtures/hub");
    let manifest: Value = serde_json::from_str(&std::fs::read_to_string(dir.join("manifest.json")).unwrap()).unwrap();
    let repo = &manifest[&hub.repo];
    assert!(repo.is_object(), "no fixture for Hub repo {}", hub.repo);
    if let Some(pinned) = &hub.revision {
        let known = repo["commits"].as_object().is_some_and(|c| c.values().any(|sha| sha == pinned.as_str()));
        assert!(known || repo["revisions"].get(pinned).is_some(), "{}: no fixture at revision {pinned}", hub.repo);
    }
    let config = hub.config.as_deref().unwrap_or("default");
    let files = repo["resolved"][config][&hub.split].as_array();
    let files = files.unwrap_or_else(|| panic!("no fixture for {} config {config} split {}", hub.repo, hub.split));
    let mut rows = Vec::new();
    for file in files {
        let folder = repo["revisions"][file["revision"].as_str().unwrap()].as_str().unwrap();
        rows.extend(read_rows(&dir.join(folder).join(file["path"].as_str().unwrap())));
    }
    rows
}

/// Rows of a parquet, JSON lines, JSON or CSV file, as the host reads them
/// (CSV values stay strings).
pub fn read_rows(path: &Path) -> Vec<Value> {
    let name = path.to_string_lossy().to_string();
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{name}: {e}"));
    if name.ends_with(".parquet") {
        use parquet::file::reader::{FileReader, SerializedFileReader};
        let reader = SerializedFileReader::new(bytes::Bytes::from(bytes)).unwrap();
        return reader.get_row_iter(None).unwrap().map(|row| row.unwrap().to_json_value()).collect();
    }
    if name.ends_with(".csv") {
        let mut reader = csv::Reader::from_reader(bytes.as_slice());
        let headers = reader.headers().unwrap().clone();
        let rows = reader.records().map(|row| {
            let row = row.unwrap();
            Value::Object(headers.iter().zip(row.iter()).map(|(k, v)| (k.to_string(), json!(v))).collect())
        });
        return rows.collect();
    }
    let text = String::from_utf8(bytes).unwrap();
    match serde_json::from_str::<Value>(&text) {
        Ok(Value::Array(rows)) if name.ends_with(".json") => rows,
        _ => text.lines().filter(|l| !l.trim().is_empty()).map(|l| serde_json::from_str(l).unwrap()).collect(),
    }
}

/// Run `env` through environment `E` on every fixture record of its
/// dataset: the reference scores full reward and an empty reply scores
/// nothing. Also checks the record fields the env file names (`id_field`,
/// `group_by`) exist. Returns the number of records checked.
pub fn prove<E: Environment>(env: &Env) -> usize {
    let harness = Harness::<E>::new(env.env_args.clone()).unwrap_or_else(|e| panic!("{}: env_args: {e:?}", env.id));
    let records = records(&env.hub);
    assert!(!records.is_empty(), "{}: no fixture records", env.id);
    for (i, record) in records.iter().enumerate() {
        check_fields(env, record);
        // Whatever the first step asks (a reply, or continuations scored by
        // log-likelihood), its reference must score full reward.
        let step = harness
            .begin(record.clone(), &[], false, i as u64)
            .unwrap_or_else(|e| panic!("{} record {i}: {e:?}", env.id));
        let prompt = match step.action {
            assay_sdk::Action::AskModel(prompt) => prompt,
            _ => assay_sdk::Prompt::new(),
        };
        let prepared = assay_sdk::testing::Prepared { prompt, state: step.state };
        let reference = harness.reference(&prepared).unwrap().unwrap_or_else(|| panic!("{}: no reference", env.id));
        let score = harness.grade(&prepared, &reference).unwrap();
        assert_eq!(score.reward, 1.0, "{} record {i}: reference {reference:?} scored {score:?}", env.id);
        let empty = harness.grade(&prepared, "").unwrap();
        assert_eq!(empty.reward, 0.0, "{} record {i}: an empty reply scored {empty:?}", env.id);
    }
    records.len()
}

/// The record fields an env file names are in the record.
pub fn check_fields(env: &Env, record: &Value) {
    for field in [&env.id_field, &env.group_by].into_iter().flatten() {
        assert!(record.get(field).is_some(), "{}: record has no field `{field}`: {record}", env.id);
    }
}

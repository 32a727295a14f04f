//! Reading processed parquet files back: the few columns analysis needs,
//! grouped by (model, sampling config, env, variant) and example.

use super::scores::ScoreTable;
use crate::config::DEFAULT_CONFIG_ID;
use crate::process::{INDEX_FILE, Index};
use anyhow::{Context, Result, bail};
use arrow_array::{Array, Float64Array, Int32Array, RecordBatch, StringArray, UInt64Array};
use parquet::arrow::ProjectionMask;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use std::collections::BTreeMap;
use std::path::Path;

/// One sample as analysis sees it.
#[derive(Debug, Clone)]
pub struct Sample {
    /// The rollout (0-based).
    pub rollout: i32,
    /// The job's seed (`None` in files written before it was recorded).
    pub job_seed: Option<u64>,
    /// `None` when the sample errored.
    pub reward: Option<f64>,
    /// The answer the environment read, if any.
    pub parsed_answer: Option<String>,
    /// The record's group (the env's `group_by` field), if any.
    pub group: Option<String>,
    /// What the sample cost, when its model was priced.
    pub cost_usd: Option<f64>,
}

/// What analysis keeps apart: a model under one sampling config on one
/// env variant. Jobs differing only in sampling args, name or seed share
/// model, env and variant, and differ here by `config` (or, for seeds of
/// one config, by their samples' job seed).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ConfigKey {
    /// The model id.
    pub model: String,
    /// The env (matrix base id).
    pub env: String,
    /// The env variant.
    pub variant: String,
    /// The sampling config (`config_id`).
    pub config: String,
}

/// Samples by config, then by example id (in id order).
pub type Samples = BTreeMap<ConfigKey, BTreeMap<String, Vec<Sample>>>;

const COLUMNS: [&str; 11] = [
    "model_id",
    "env_id",
    "variant_id",
    "config_id",
    "example_id",
    "rollout",
    "job_seed",
    "reward",
    "parsed_answer",
    "group",
    "cost_usd",
];

const SCORE_COLUMNS: [&str; 6] = ["model_id", "env_id", "config_id", "example_id", "reward", "group"];

/// Every sample of every file in `processed_dir`'s index.
pub fn load(processed_dir: &Path) -> Result<Samples> {
    let mut samples = Samples::new();
    for file in indexed_files(processed_dir)? {
        read_file(&file, &mut samples)?;
    }
    if samples.is_empty() {
        bail!("{}: no results (the index lists no files with rows)", processed_dir.display());
    }
    for examples in samples.values_mut() {
        for rollouts in examples.values_mut() {
            rollouts.sort_by_key(|s| (s.job_seed, s.rollout));
        }
    }
    Ok(samples)
}

/// The scores win rates compare, from every file in `processed_dir`'s
/// index: only model, env, example and reward are read, into a
/// [`ScoreTable`], with no object per sample.
pub fn load_scores(processed_dir: &Path, by_group: bool) -> Result<ScoreTable> {
    let mut table = ScoreTable::new();
    for file in indexed_files(processed_dir)? {
        for_each_batch(&file, &SCORE_COLUMNS, |batch| add_scores(batch, by_group, &mut table))?;
    }
    if table.envs().next().is_none() {
        bail!("{}: no results (the index lists no files with rows)", processed_dir.display());
    }
    Ok(table)
}

/// The parquet files `processed_dir`'s index lists.
fn indexed_files(processed_dir: &Path) -> Result<Vec<std::path::PathBuf>> {
    let index_path = processed_dir.join(INDEX_FILE);
    let text = std::fs::read(&index_path)
        .with_context(|| format!("cannot read {} (run `assay process` first)", index_path.display()))?;
    let index: Index =
        serde_json::from_slice(&text).with_context(|| format!("{}: not an index", index_path.display()))?;
    Ok(index.files.keys().map(|file| processed_dir.join(file)).collect())
}

fn read_file(path: &Path, samples: &mut Samples) -> Result<()> {
    for_each_batch(path, &COLUMNS, |batch| add_batch(batch, samples))
}

/// Read `columns` of the parquet file at `path`, batch by batch.
fn for_each_batch(path: &Path, columns: &[&str], mut add: impl FnMut(&RecordBatch) -> Result<()>) -> Result<()> {
    let file = std::fs::File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
    let builder =
        ParquetRecordBatchReaderBuilder::try_new(file).with_context(|| format!("{}: not parquet", path.display()))?;
    let mask = ProjectionMask::columns(builder.parquet_schema(), columns.iter().copied());
    for batch in builder.with_projection(mask).build()? {
        add(&batch.with_context(|| format!("reading {}", path.display()))?)
            .with_context(|| format!("{}: unexpected columns", path.display()))?;
    }
    Ok(())
}

/// A string column of `batch`.
fn strings<'a>(batch: &'a RecordBatch, name: &str) -> Result<&'a StringArray> {
    batch.column_by_name(name).and_then(|c| c.as_any().downcast_ref()).with_context(|| format!("column {name}"))
}

/// Add `batch`'s rewards to `table`; with `by_group`, each grouped env is
/// split into one env per group, `<env>/<group>` (examples without a group
/// stay in their env).
fn add_scores(batch: &RecordBatch, by_group: bool, table: &mut ScoreTable) -> Result<()> {
    let (model, env, example) = (strings(batch, "model_id")?, strings(batch, "env_id")?, strings(batch, "example_id")?);
    let reward: &Float64Array =
        batch.column_by_name("reward").and_then(|c| c.as_any().downcast_ref()).context("column reward")?;
    // Files written before groups existed have no such column.
    let group: Option<&StringArray> =
        batch.column_by_name("group").and_then(|c| c.as_any().downcast_ref()).filter(|_| by_group);
    let group_of = |row: usize| group.filter(|g| g.is_valid(row)).map(|g| g.value(row));
    // Files written before sampling configs existed have no config column.
    let config: Option<&StringArray> = batch.column_by_name("config_id").and_then(|c| c.as_any().downcast_ref());
    let config_of = |row: usize| config.map_or(DEFAULT_CONFIG_ID, |c| c.value(row));
    let key_of = |row: usize| (env.value(row), group_of(row), model.value(row), config_of(row));
    let mut row = 0;
    // A file holds one model and env: one writer for each run of rows.
    while row < batch.num_rows() {
        let key = key_of(row);
        let env_name = match key.1 {
            Some(group) => std::borrow::Cow::Owned(format!("{}/{group}", key.0)),
            None => std::borrow::Cow::Borrowed(key.0),
        };
        // A model competes under each of its sampling configs.
        let mut scores = table.scores_of(&env_name, &super::winrate::contestant(key.2, key.3));
        while row < batch.num_rows() && key_of(row) == key {
            if reward.is_valid(row) {
                scores.add(example.value(row), reward.value(row))?;
            }
            row += 1;
        }
    }
    Ok(())
}

fn add_batch(batch: &RecordBatch, samples: &mut Samples) -> Result<()> {
    let strings = |name: &str| strings(batch, name);
    let (model, env, variant, example, answer) = (
        strings("model_id")?,
        strings("env_id")?,
        strings("variant_id")?,
        strings("example_id")?,
        strings("parsed_answer")?,
    );
    let rollout: &Int32Array =
        batch.column_by_name("rollout").and_then(|c| c.as_any().downcast_ref()).context("column rollout")?;
    let reward: &Float64Array =
        batch.column_by_name("reward").and_then(|c| c.as_any().downcast_ref()).context("column reward")?;
    // Files written before groups, sampling configs, job seeds or costs existed
    // have no such columns.
    let group: Option<&StringArray> = batch.column_by_name("group").and_then(|c| c.as_any().downcast_ref());
    let config: Option<&StringArray> = batch.column_by_name("config_id").and_then(|c| c.as_any().downcast_ref());
    let job_seed: Option<&UInt64Array> = batch.column_by_name("job_seed").and_then(|c| c.as_any().downcast_ref());
    let cost: Option<&Float64Array> = batch.column_by_name("cost_usd").and_then(|c| c.as_any().downcast_ref());
    for row in 0..batch.num_rows() {
        let key = ConfigKey {
            model: model.value(row).to_string(),
            env: env.value(row).to_string(),
            variant: variant.value(row).to_string(),
            config: config.map_or(DEFAULT_CONFIG_ID, |c| c.value(row)).to_string(),
        };
        let sample = Sample {
            rollout: rollout.value(row),
            job_seed: job_seed.filter(|s| s.is_valid(row)).map(|s| s.value(row)),
            reward: reward.is_valid(row).then(|| reward.value(row)),
            parsed_answer: answer.is_valid(row).then(|| answer.value(row).to_string()),
            group: group.filter(|g| g.is_valid(row)).map(|g| g.value(row).to_string()),
            cost_usd: cost.filter(|c| c.is_valid(row)).map(|c| c.value(row)),
        };
        samples.entry(key).or_default().entry(example.value(row).to_string()).or_default().push(sample);
    }
    Ok(())
}

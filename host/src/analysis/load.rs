//! Reading processed parquet files back: the few columns analysis needs,
//! grouped by (model, sampling config, env, variant) and example.

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

/// Every sample of every file in `processed_dir`'s index.
pub fn load(processed_dir: &Path) -> Result<Samples> {
    let index_path = processed_dir.join(INDEX_FILE);
    let text = std::fs::read(&index_path)
        .with_context(|| format!("cannot read {} (run `assay process` first)", index_path.display()))?;
    let index: Index =
        serde_json::from_slice(&text).with_context(|| format!("{}: not an index", index_path.display()))?;
    let mut samples = Samples::new();
    for file in index.files.keys() {
        read_file(&processed_dir.join(file), &mut samples)?;
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

fn read_file(path: &Path, samples: &mut Samples) -> Result<()> {
    let file = std::fs::File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
    let builder =
        ParquetRecordBatchReaderBuilder::try_new(file).with_context(|| format!("{}: not parquet", path.display()))?;
    let mask = ProjectionMask::columns(builder.parquet_schema(), COLUMNS);
    for batch in builder.with_projection(mask).build()? {
        add_batch(&batch.with_context(|| format!("reading {}", path.display()))?, samples)
            .with_context(|| format!("{}: unexpected columns", path.display()))?;
    }
    Ok(())
}

fn add_batch(batch: &RecordBatch, samples: &mut Samples) -> Result<()> {
    let strings = |name: &str| -> Result<&StringArray> {
        batch.column_by_name(name).and_then(|c| c.as_any().downcast_ref()).with_context(|| format!("column {name}"))
    };
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

/// The same samples with each grouped env split into one env per group,
/// `<env>/<group>` (examples without a group stay in their env).
pub fn by_group(samples: Samples) -> Samples {
    let mut split = Samples::new();
    for (key, examples) in samples {
        for (example, rollouts) in examples {
            let env = match rollouts.iter().find_map(|s| s.group.as_deref()) {
                Some(group) => format!("{}/{group}", key.env),
                None => key.env.clone(),
            };
            split.entry(ConfigKey { env, ..key.clone() }).or_default().insert(example, rollouts);
        }
    }
    split
}

//! The samples a report shows in its browser: read from the processed
//! parquet files, at most a fixed number per (model, sampling config, env
//! variant), so a report of a million samples stays a file a browser opens
//! at once. Each carries its whole detail (see [`super::transcript`]).

use super::transcript::{SampleText, Section, sections};
use crate::analysis::winrate::contestant;
use crate::config::DEFAULT_CONFIG_ID;
use crate::process::{INDEX_FILE, Index};
use anyhow::{Context, Result};
use arrow_array::{Array, Float64Array, Int32Array, RecordBatch, StringArray};
use parquet::arrow::ProjectionMask;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use serde::Serialize;
use std::collections::HashMap;
use std::path::Path;

/// One sample as the report shows it.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct SampleView {
    /// The model, as `model@config` under a named sampling config.
    pub model: String,
    pub env: String,
    pub variant: String,
    pub example: String,
    pub rollout: i32,
    /// `None` when the sample errored.
    pub reward: Option<f64>,
    pub parse_status: Option<String>,
    pub parsed_answer: Option<String>,
    /// The conversation, reasoning, code runs, judge calls, details and
    /// error (no conversation when processed with `--drop-text`).
    pub sections: Vec<Section>,
}

/// Columns read; the text ones are absent from `--drop-text` files, and
/// older files lack the newer ones.
const COLUMNS: [&str; 17] = [
    "model_id",
    "config_id",
    "env_id",
    "variant_id",
    "example_id",
    "rollout",
    "reward",
    "parse_status",
    "parsed_answer",
    "prompt",
    "transcript",
    "completion",
    "reasoning",
    "code_runs",
    "judge_calls",
    "info",
    "error",
];

/// Up to `per_config` samples of each (model, sampling config, variant) in `processed_dir`.
pub(crate) fn read(processed_dir: &Path, per_config: usize) -> Result<Vec<SampleView>> {
    let index_path = processed_dir.join(INDEX_FILE);
    let text = std::fs::read(&index_path).with_context(|| format!("cannot read {}", index_path.display()))?;
    let index: Index =
        serde_json::from_slice(&text).with_context(|| format!("{}: not an index", index_path.display()))?;
    let mut taken: HashMap<(String, String), usize> = HashMap::new(); // (model label, variant)
    let mut samples = Vec::new();
    for file in index.files.keys() {
        let path = processed_dir.join(file);
        let reader = std::fs::File::open(&path).with_context(|| format!("cannot open {}", path.display()))?;
        let builder = ParquetRecordBatchReaderBuilder::try_new(reader)
            .with_context(|| format!("{}: not parquet", path.display()))?;
        let mask = ProjectionMask::columns(builder.parquet_schema(), COLUMNS);
        for batch in builder.with_projection(mask).build()? {
            let batch = batch.with_context(|| format!("reading {}", path.display()))?;
            add_batch(&batch, per_config, &mut taken, &mut samples)
                .with_context(|| format!("{}: unexpected columns", path.display()))?;
        }
    }
    Ok(samples)
}

fn add_batch(
    batch: &RecordBatch,
    per_config: usize,
    taken: &mut HashMap<(String, String), usize>,
    samples: &mut Vec<SampleView>,
) -> Result<()> {
    let column = |name: &str| batch.column_by_name(name).and_then(|c| c.as_any().downcast_ref::<StringArray>());
    let required = |name: &str| column(name).with_context(|| format!("column {name}"));
    let (model, env, variant, example) =
        (required("model_id")?, required("env_id")?, required("variant_id")?, required("example_id")?);
    let rollout: &Int32Array =
        batch.column_by_name("rollout").and_then(|c| c.as_any().downcast_ref()).context("column rollout")?;
    let reward: &Float64Array =
        batch.column_by_name("reward").and_then(|c| c.as_any().downcast_ref()).context("column reward")?;
    let text = |name: &str, row: usize| column(name).filter(|c| c.is_valid(row)).map(|c| c.value(row).to_string());
    let config = column("config_id");
    for row in 0..batch.num_rows() {
        let label = contestant(model.value(row), config.map_or(DEFAULT_CONFIG_ID, |c| c.value(row)));
        let count = taken.entry((label.clone(), variant.value(row).to_string())).or_default();
        if *count >= per_config {
            continue;
        }
        *count += 1;
        let sample_text = SampleText {
            prompt: text("prompt", row),
            transcript: text("transcript", row),
            completion: text("completion", row),
            reasoning: text("reasoning", row),
            code_runs: text("code_runs", row),
            judge_calls: text("judge_calls", row),
            info: text("info", row),
            error: text("error", row),
        };
        samples.push(SampleView {
            model: label,
            env: env.value(row).to_string(),
            variant: variant.value(row).to_string(),
            example: example.value(row).to_string(),
            rollout: rollout.value(row),
            reward: reward.is_valid(row).then(|| reward.value(row)),
            parse_status: text("parse_status", row),
            parsed_answer: text("parsed_answer", row),
            sections: sections(&sample_text),
        });
    }
    Ok(())
}

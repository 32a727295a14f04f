//! The samples a report shows in its browser: read from the processed
//! parquet files, at most a fixed number per (model, env variant), so a
//! report of a million samples stays a file a browser opens at once.

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
    pub model: String,
    pub env: String,
    pub variant: String,
    pub example: String,
    pub rollout: i32,
    /// `None` when the sample errored.
    pub reward: Option<f64>,
    pub parse_status: Option<String>,
    pub parsed_answer: Option<String>,
    /// The first request's messages as `role: content` blocks (empty when
    /// processed with `--drop-text`).
    pub prompt: String,
    pub completion: Option<String>,
    /// The environment's details (JSON text), e.g. the gold answer.
    pub info: Option<String>,
    pub error: Option<String>,
}

/// Columns read; the text ones are absent from `--drop-text` files.
const COLUMNS: [&str; 12] = [
    "model_id",
    "env_id",
    "variant_id",
    "example_id",
    "rollout",
    "reward",
    "parse_status",
    "parsed_answer",
    "prompt",
    "completion",
    "info",
    "error",
];

/// Up to `per_config` samples of each (model, variant) in `processed_dir`.
pub(crate) fn read(processed_dir: &Path, per_config: usize) -> Result<Vec<SampleView>> {
    let index_path = processed_dir.join(INDEX_FILE);
    let text = std::fs::read(&index_path).with_context(|| format!("cannot read {}", index_path.display()))?;
    let index: Index =
        serde_json::from_slice(&text).with_context(|| format!("{}: not an index", index_path.display()))?;
    let mut taken: HashMap<(String, String), usize> = HashMap::new();
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
    for row in 0..batch.num_rows() {
        let count = taken.entry((model.value(row).to_string(), variant.value(row).to_string())).or_default();
        if *count >= per_config {
            continue;
        }
        *count += 1;
        samples.push(SampleView {
            model: model.value(row).to_string(),
            env: env.value(row).to_string(),
            variant: variant.value(row).to_string(),
            example: example.value(row).to_string(),
            rollout: rollout.value(row),
            reward: reward.is_valid(row).then(|| reward.value(row)),
            parse_status: text("parse_status", row),
            parsed_answer: text("parsed_answer", row),
            prompt: text("prompt", row).map(|json| messages_text(&json)).unwrap_or_default(),
            completion: text("completion", row),
            info: text("info", row),
            error: text("error", row),
        });
    }
    Ok(())
}

/// `[{"role": "user", "content": "..."}]` as `user: ...` blocks.
fn messages_text(json: &str) -> String {
    let Ok(serde_json::Value::Array(messages)) = serde_json::from_str(json) else {
        return json.to_string();
    };
    let blocks: Vec<String> = messages
        .iter()
        .map(|m| format!("{}: {}", m["role"].as_str().unwrap_or("?"), m["content"].as_str().unwrap_or_default()))
        .collect();
    blocks.join("\n\n")
}

//! Tables printed by several commands.

use super::output::outln;
use crate::models::format_usd;
use crate::store::{Manifest, ParseStatus, Summary};
use comfy_table::{Table, presets::UTF8_FULL_CONDENSED};
use std::collections::HashMap;

/// An empty table with `header`, in the style every command uses.
pub(crate) fn new_table(header: &[&str]) -> Table {
    let mut table = Table::new();
    table.load_style(UTF8_FULL_CONDENSED).set_header(header.to_vec());
    table
}

/// One row per job of a run: status, samples, reward, parse failures,
/// errors, tokens, time and, when a model is priced, cost.
pub(crate) fn jobs_table(manifest: &Manifest, summaries: &HashMap<String, Summary>) -> Table {
    let priced = run_cost(summaries).is_some();
    let mut header =
        vec!["job", "status", "samples", "reward (mean ± stderr)", "unparsed", "errors", "tokens out", "seconds"];
    if priced {
        header.push("cost (USD)");
    }
    let mut table = new_table(&header);
    for job in &manifest.jobs {
        let summary = summaries.get(&job.job_id);
        let reward = summary.and_then(|s| s.mean_reward.map(|m| format!("{m:.3} ± {:.3}", s.stderr.unwrap_or(0.0))));
        let unparsed =
            summary.map(|s| s.parse_status.iter().filter(|(k, _)| **k != ParseStatus::Ok).map(|(_, v)| v).sum::<u64>());
        let mut row = vec![
            job.job_id.clone(),
            job.status.as_str().to_string(),
            format!("{}/{}", job.samples_done, job.shard_samples.unwrap_or(job.samples_total)),
            reward.unwrap_or_else(|| "-".into()),
            unparsed.map_or("-".into(), |n| n.to_string()),
            errors(job.samples_failed, summary),
            summary.map_or("-".into(), |s| s.tokens.completion.to_string()),
            job.duration_secs.map_or("-".into(), |d| format!("{d:.1}")),
        ];
        if priced {
            row.push(summary.and_then(|s| s.cost_usd).map_or("-".into(), format_usd));
        }
        table.add_row(row);
    }
    table
}

/// What a run's jobs cost, over the jobs with a priced model; `None` when
/// none has one.
pub(crate) fn run_cost(summaries: &HashMap<String, Summary>) -> Option<f64> {
    summaries.values().filter_map(|s| s.cost_usd).reduce(|a, b| a + b)
}

/// The run's total cost line, when a model is priced.
pub(crate) fn print_run_cost(summaries: &HashMap<String, Summary>) -> std::io::Result<()> {
    match run_cost(summaries) {
        Some(cost) => outln!("Run cost: {} (tokens at the models' prices)", format_usd(cost)),
        None => Ok(()),
    }
}

/// Failed samples, with their kinds when the summary has them:
/// `3 (2 rate-limited, 1 server-error)`.
fn errors(failed: u64, summary: Option<&Summary>) -> String {
    let kinds: Vec<String> =
        summary.into_iter().flat_map(|s| &s.errors).map(|(kind, n)| format!("{n} {}", kind.as_str())).collect();
    match kinds.is_empty() {
        true => failed.to_string(),
        false => format!("{failed} ({})", kinds.join(", ")),
    }
}

/// `job: reason` lines for jobs that have one (failures, interruptions).
pub(crate) fn print_reasons(manifest: &Manifest) -> std::io::Result<()> {
    for job in manifest.jobs.iter().filter(|j| j.reason.is_some()) {
        outln!("{}: {}", job.job_id, job.reason.as_deref().unwrap_or_default())?;
    }
    Ok(())
}

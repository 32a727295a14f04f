//! Tables printed by several commands.

use super::output::outln;
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
/// errors, tokens and time.
pub(crate) fn jobs_table(manifest: &Manifest, summaries: &HashMap<String, Summary>) -> Table {
    let mut table = new_table(&[
        "job",
        "status",
        "samples",
        "reward (mean ± stderr)",
        "unparsed",
        "errors",
        "tokens out",
        "seconds",
    ]);
    for job in &manifest.jobs {
        let summary = summaries.get(&job.job_id);
        let reward = summary.and_then(|s| s.mean_reward.map(|m| format!("{m:.3} ± {:.3}", s.stderr.unwrap_or(0.0))));
        let unparsed =
            summary.map(|s| s.parse_status.iter().filter(|(k, _)| **k != ParseStatus::Ok).map(|(_, v)| v).sum::<u64>());
        table.add_row(vec![
            job.job_id.clone(),
            job.status.as_str().to_string(),
            format!("{}/{}", job.samples_done, job.shard_samples.unwrap_or(job.samples_total)),
            reward.unwrap_or_else(|| "-".into()),
            unparsed.map_or("-".into(), |n| n.to_string()),
            errors(job.samples_failed, summary),
            summary.map_or("-".into(), |s| s.tokens.completion.to_string()),
            job.duration_secs.map_or("-".into(), |d| format!("{d:.1}")),
        ]);
    }
    table
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

//! A run split into shards, read as one run.
//!
//! Each shard writes its own manifest part (`run_manifest.shard-2-of-4.json`,
//! see [`super::layout`]). Readers (`runs`, `summarize`, `process`,
//! `report`) see the merged view [`merge`] builds, with `shards` set:
//! per job, samples and errors summed over the parts and one status:
//!
//! - `failed` if a shard failed it, or the shards ran it with different
//!   inputs (their checksums differ: its results must not be mixed);
//! - else `interrupted` if a shard was interrupted;
//! - else `running` if a shard is running it, or some shards finished it
//!   and others have not (or have not started);
//! - `completed` only when every shard completed it;
//! - else `pending`.
//!
//! The merged entry's mean reward is left out: it is not the mean of the
//! shards' means. [`super::read_summaries`] computes the run's summaries
//! from every shard's results instead.

use super::layout::{RunLayout, Shard};
use super::manifest::{JobEntry, JobStatus, Manifest};
use anyhow::{Result, bail};
use std::path::Path;

/// The manifest parts in `run_dir`, each with its `shard` set, by shard.
pub fn read_parts(run_dir: &Path) -> Result<Vec<Manifest>> {
    let mut parts = Vec::new();
    for (shard, path) in RunLayout::new(run_dir).manifest_parts() {
        let mut part = Manifest::read_file(&path)?;
        part.shard = Some(shard);
        parts.push(part);
    }
    Ok(parts)
}

/// The run the `parts` (all of one run, by shard) make together.
pub fn merge(parts: Vec<Manifest>) -> Result<Manifest> {
    let shards: Vec<Shard> = parts.iter().filter_map(|part| part.shard).collect();
    let Some(first) = shards.first().copied() else { bail!("no manifest parts to merge") };
    if let Some(other) = shards.iter().find(|shard| shard.count != first.count) {
        bail!(
            "run {}: its shards disagree on how many there are (shard {first} and shard {other}); \
             rerun them with one --shards count",
            parts[0].run_id
        );
    }
    let mut jobs: Vec<JobEntry> = Vec::new();
    for part in &parts {
        for entry in &part.jobs {
            if !jobs.iter().any(|job| job.job_id == entry.job_id) {
                jobs.push(merge_job(&entry.job_id, &parts, first.count));
            }
        }
    }
    let head = &parts[0];
    let mut merged = Manifest {
        version: head.version,
        run_id: head.run_id.clone(),
        name: head.name.clone(),
        config_path: head.config_path.clone(),
        assay_version: head.assay_version.clone(),
        created_at: parts.iter().map(|p| p.created_at.clone()).min().unwrap_or_default(),
        updated_at: parts.iter().map(|p| p.updated_at.clone()).max().unwrap_or_default(),
        restart_source: None,
        rescore_source: head.rescore_source.clone(),
        jobs,
        summary: Default::default(),
        shard: None,
        shards: Some(first.count),
    };
    merged.recount();
    Ok(merged)
}

/// One job over every part that lists it (a part without it: that shard
/// has not started).
fn merge_job(job_id: &str, parts: &[Manifest], count: u32) -> JobEntry {
    let entries: Vec<(Shard, &JobEntry)> =
        parts.iter().filter_map(|part| Some((part.shard?, part.job(job_id)?))).collect();
    let (_, head) = entries[0];
    let status_of = |index: u32| {
        entries.iter().find(|(shard, _)| shard.index == index).map_or(JobStatus::Pending, |(_, e)| e.status)
    };
    let statuses: Vec<JobStatus> = (0..count).map(status_of).collect();
    let any = |wanted: JobStatus| statuses.contains(&wanted);
    let mixed_inputs = entries.iter().any(|(_, entry)| entry.checksum != head.checksum);
    let status = if mixed_inputs || any(JobStatus::Failed) {
        JobStatus::Failed
    } else if any(JobStatus::Interrupted) {
        JobStatus::Interrupted
    } else if statuses.iter().all(|s| *s == JobStatus::Completed) {
        JobStatus::Completed
    } else if any(JobStatus::Running) || any(JobStatus::Completed) {
        JobStatus::Running
    } else {
        JobStatus::Pending
    };
    let reason = if mixed_inputs {
        Some("its shards ran it with different inputs (checksums differ): rerun them with one config".to_string())
    } else {
        shard_reasons(&entries, &statuses, status)
    };
    let ended = matches!(status, JobStatus::Completed | JobStatus::Failed | JobStatus::Interrupted);
    let durations: Vec<f64> = entries.iter().filter_map(|(_, e)| e.duration_secs).collect();
    JobEntry {
        status,
        reason,
        samples_done: entries.iter().map(|(_, e)| e.samples_done).sum(),
        samples_failed: entries.iter().map(|(_, e)| e.samples_failed).sum(),
        cache_hits: entries.iter().map(|(_, e)| e.cache_hits).sum(),
        mean_reward: None,
        started_at: entries.iter().filter_map(|(_, e)| e.started_at.clone()).min(),
        ended_at: ended.then(|| entries.iter().filter_map(|(_, e)| e.ended_at.clone()).max()).flatten(),
        duration_secs: (!durations.is_empty()).then(|| durations.iter().sum()),
        results: format!("{job_id}/results.shard-*-of-{count}.jsonl"),
        shard_samples: None,
        ..head.clone()
    }
}

/// Why a merged job is not completed: each shard's own reason, and the
/// shards still to run it.
fn shard_reasons(entries: &[(Shard, &JobEntry)], statuses: &[JobStatus], status: JobStatus) -> Option<String> {
    if status == JobStatus::Completed {
        return None;
    }
    let count = statuses.len();
    let mut reasons: Vec<String> = entries
        .iter()
        .filter_map(|(shard, entry)| Some(format!("shard {shard}: {}", entry.reason.as_deref()?)))
        .collect();
    let waiting: Vec<String> = statuses
        .iter()
        .enumerate()
        .filter(|(_, s)| **s == JobStatus::Pending)
        .map(|(index, _)| index.to_string())
        .collect();
    if !waiting.is_empty() && waiting.len() < count {
        reasons.push(format!("shards {} of {count} not started", waiting.join(", ")));
    }
    (!reasons.is_empty()).then(|| reasons.join("; "))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::MANIFEST_VERSION;

    fn part(index: u32, count: u32, status: JobStatus, done: u64) -> Manifest {
        let entry = JobEntry {
            job_id: "j".into(),
            model_id: "m".into(),
            env_id: "e".into(),
            env_base_id: "e".into(),
            config_id: "default".into(),
            status,
            reason: (status == JobStatus::Interrupted).then(|| "interrupted with 2 samples left".into()),
            checksum: "c".into(),
            identity: serde_json::Value::Null,
            samples_total: 10,
            samples_done: done,
            samples_failed: 0,
            cache_hits: 0,
            mean_reward: Some(1.0),
            started_at: Some(format!("2026-01-0{}T00:00:00Z", index + 1)),
            ended_at: Some(format!("2026-01-0{}T01:00:00Z", index + 1)),
            duration_secs: Some(2.0),
            results: String::new(),
            shard_samples: Some(5),
        };
        Manifest {
            version: MANIFEST_VERSION,
            run_id: "r".into(),
            name: "n".into(),
            config_path: "c.yaml".into(),
            assay_version: "0".into(),
            created_at: format!("2026-01-0{}", index + 1),
            updated_at: format!("2026-01-0{}", index + 1),
            restart_source: None,
            rescore_source: None,
            jobs: vec![entry],
            summary: Default::default(),
            shard: Some(Shard::new(index, count).unwrap()),
            shards: None,
        }
    }

    #[test]
    fn a_job_is_completed_only_when_every_shard_completed_it() {
        let merged = merge(vec![part(0, 2, JobStatus::Completed, 5), part(1, 2, JobStatus::Completed, 5)]).unwrap();
        let job = &merged.jobs[0];
        assert_eq!((job.status, job.samples_done, job.samples_total), (JobStatus::Completed, 10, 10));
        assert_eq!((job.duration_secs, job.mean_reward, job.reason.as_deref()), (Some(4.0), None, None));
        assert_eq!(job.started_at.as_deref(), Some("2026-01-01T00:00:00Z"));
        assert_eq!(job.ended_at.as_deref(), Some("2026-01-02T01:00:00Z"));
        assert_eq!((merged.shards, merged.summary.completed, merged.updated_at.as_str()), (Some(2), 1, "2026-01-02"));

        let one_missing = merge(vec![part(0, 2, JobStatus::Completed, 5)]).unwrap();
        assert_eq!(one_missing.jobs[0].status, JobStatus::Running);
        assert_eq!(one_missing.jobs[0].ended_at, None);
        assert_eq!(one_missing.jobs[0].reason.as_deref(), Some("shards 1 of 2 not started"));

        let interrupted = merge(vec![part(0, 2, JobStatus::Interrupted, 3), part(1, 2, JobStatus::Completed, 5)]);
        let job = &interrupted.unwrap().jobs[0];
        assert_eq!((job.status, job.samples_done), (JobStatus::Interrupted, 8));
        assert_eq!(job.reason.as_deref(), Some("shard 0/2: interrupted with 2 samples left"));
    }

    #[test]
    fn shards_with_other_inputs_or_counts_do_not_merge_quietly() {
        let mut other = part(1, 2, JobStatus::Completed, 5);
        other.jobs[0].checksum = "d".into();
        let merged = merge(vec![part(0, 2, JobStatus::Completed, 5), other]).unwrap();
        assert_eq!(merged.jobs[0].status, JobStatus::Failed, "mixed inputs are never `completed`");
        let error = merge(vec![part(0, 2, JobStatus::Completed, 5), part(1, 3, JobStatus::Completed, 5)]);
        assert_eq!(
            error.unwrap_err().to_string(),
            "run r: its shards disagree on how many there are (shard 0/2 and shard 1/3); rerun them with one --shards count"
        );
    }
}

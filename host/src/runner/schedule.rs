//! Which run a `bench` invocation writes to, and what happens to each job.
//!
//! The run, in order of precedence:
//! - `--restart OLD`: a new run, seeded with OLD's completed jobs whose
//!   identity still matches (their files are copied); an unknown OLD is an error.
//! - `--run-id ID`: that run, resumed if it exists (with
//!   `--no-auto-resume`, an existing ID is an error), else created.
//! - `--no-auto-resume`: a new run.
//! - otherwise the newest run in the output directory with the same name,
//!   or a new run when there is none.
//!
//! Each job then resumes (same identity: only missing or errored samples
//! run), is done already, starts fresh (new, forced, or its identity
//! changed: earlier results are moved to `superseded/` and the change is
//! named), is copied (`--restart`), or is skipped (`--job-id` chose others).
//! Deciding writes nothing, so `--dry-run` shows exactly what a run would do.
//!
//! A shard (`--shard I/N`) writes to the run `--run-id` names, created by
//! whichever shard comes first; its own manifest part plays the role of the
//! manifest above, so a shard resumes, restarts and skips jobs as a run
//! does. It is refused when the run is not split into N shards, or when a
//! shard already there ran other jobs or jobs with another identity (see
//! [`check_peers`]): its samples would not fit the others'.

use super::preflight::PreparedJob;
use crate::plan::Plan;
use crate::store::{self, JobEntry, JobStatus, Manifest, RunDir, RunLayout, Shard};
use anyhow::{Context, Result, bail};
use std::path::{Path, PathBuf};

/// How the command line chose the run and the jobs to rerun.
#[derive(Debug, Clone, Default)]
pub(crate) struct Selection {
    /// `--run-id`: resume or create this run.
    pub run_id: Option<String>,
    /// `--restart`: seed a new run from this one.
    pub restart: Option<String>,
    /// `--no-auto-resume`: never pick an existing run by name.
    pub no_auto_resume: bool,
    /// `--force`: rerun every selected job from scratch.
    pub force: bool,
    /// `--forced`: rerun from scratch the jobs of these envs (variant or base ids).
    pub forced_envs: Vec<String>,
    /// `--job-id`: run only these jobs (the manifest keeps listing all).
    pub job_ids: Vec<String>,
    /// `--shard I/N`: run only this shard's samples, into the run `run_id` names.
    pub shard: Option<Shard>,
}

/// The run a schedule writes to.
#[derive(Debug)]
pub(crate) enum Target {
    /// A run that does not exist yet.
    New { run_id: String },
    /// An existing run, resumed.
    Existing { dir: PathBuf, manifest: Manifest },
    /// A new run seeded from an old one.
    Restart { run_id: String, source: PathBuf, source_manifest: Manifest },
}

impl Target {
    /// The run id written to.
    pub(crate) fn run_id(&self) -> &str {
        match self {
            Target::New { run_id } | Target::Restart { run_id, .. } => run_id,
            Target::Existing { manifest, .. } => &manifest.run_id,
        }
    }
}

/// What happens to one job.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Action {
    /// Run every sample; there are no earlier results.
    Fresh,
    /// Run the missing (and errored) samples; `done` are recorded.
    Resume { done: u64 },
    /// Every sample is recorded and scored: nothing to run.
    Done,
    /// Run every sample; earlier results are moved aside, for `why`.
    Replace { why: String },
    /// Copy the completed job from the restart source.
    Copy,
    /// Not selected by `--job-id`.
    Skip,
}

impl Action {
    /// Whether samples run.
    pub(crate) fn runs(&self) -> bool {
        matches!(self, Action::Fresh | Action::Resume { .. } | Action::Replace { .. })
    }

    /// How `--dry-run` names it.
    pub(crate) fn label(&self) -> String {
        match self {
            Action::Fresh | Action::Resume { done: 0 } => "next".into(),
            Action::Resume { .. } => "partial".into(),
            Action::Done => "done".into(),
            Action::Replace { why } => format!("next ({why})"),
            Action::Copy => "done (copied)".into(),
            Action::Skip => "skipped".into(),
        }
    }
}

/// The run and one action per prepared job (same order).
#[derive(Debug)]
pub(crate) struct Schedule {
    pub target: Target,
    pub actions: Vec<Action>,
    /// The shard this process runs, if the run is split.
    pub shard: Option<Shard>,
}

/// Decide the run and each job's action. Reads, never writes.
pub(crate) fn schedule(plan: &Plan, jobs: &[PreparedJob], selection: &Selection) -> Result<Schedule> {
    check_selection(jobs, selection)?;
    let target = match selection.shard {
        None => choose_target(plan, selection)?,
        Some(shard) => {
            let (target, peers) = choose_shard_target(plan, selection, shard)?;
            check_peers(jobs, &peers, shard)?;
            target
        }
    };
    let actions = jobs.iter().map(|job| decide(job, &target, selection)).collect::<Result<_>>()?;
    Ok(Schedule { target, actions, shard: selection.shard })
}

/// Unknown `--job-id` or `--forced` names are mistakes, not no-ops.
fn check_selection(jobs: &[PreparedJob], selection: &Selection) -> Result<()> {
    for id in &selection.job_ids {
        if !jobs.iter().any(|job| job.plan.job_id == *id) {
            let known: Vec<&str> = jobs.iter().map(|job| job.plan.job_id.as_str()).collect();
            bail!("--job-id {id}: no such job in this config (jobs: {})", known.join(", "));
        }
    }
    for env in &selection.forced_envs {
        if !jobs.iter().any(|job| env_matches(job, env)) {
            bail!("--forced {env}: no job of this config uses that env");
        }
    }
    Ok(())
}

fn env_matches(job: &PreparedJob, env: &str) -> bool {
    job.plan.env.id.eq_ignore_ascii_case(env) || job.plan.env.base_id.eq_ignore_ascii_case(env)
}

fn choose_target(plan: &Plan, selection: &Selection) -> Result<Target> {
    let output_dir = &plan.output_dir;
    if let Some(old) = &selection.restart {
        let source = output_dir.join(old);
        if !RunLayout::new(&source).exists() {
            bail!("--restart {old}: no run with that id in {} ({})", output_dir.display(), known_runs(output_dir));
        }
        let source_manifest = Manifest::read(&source)?;
        if let Some(count) = source_manifest.shards {
            bail!(
                "--restart {old}: that run is split into {count} shards, and restarting from a split run is not supported"
            );
        }
        let run_id = selection.run_id.clone().unwrap_or_else(|| store::new_run_id(output_dir, &plan.name));
        if output_dir.join(&run_id).exists() {
            bail!("--run-id {run_id}: a run with that id already exists; --restart makes a new run");
        }
        return Ok(Target::Restart { run_id, source, source_manifest });
    }
    if let Some(run_id) = &selection.run_id {
        let dir = output_dir.join(run_id);
        if !RunLayout::new(&dir).exists() {
            return Ok(Target::New { run_id: run_id.clone() });
        }
        if selection.no_auto_resume {
            bail!("--run-id {run_id}: that run exists; drop --no-auto-resume to resume it, or choose another id");
        }
        let manifest = Manifest::read(&dir)?;
        refuse_split(&manifest, &format!("--run-id {run_id}: that run"))?;
        return Ok(Target::Existing { manifest, dir });
    }
    if !selection.no_auto_resume
        && let Some((dir, manifest)) = store::list_runs(output_dir)?.into_iter().find(|(_, m)| m.name == plan.name)
    {
        let newest = format!("the newest run named {}, {},", plan.name, manifest.run_id);
        refuse_split(&manifest, &newest).context("or start a new run with --no-auto-resume")?;
        return Ok(Target::Existing { dir, manifest });
    }
    Ok(Target::New { run_id: store::new_run_id(output_dir, &plan.name) })
}

/// A run split into shards is resumed shard by shard, never as a whole.
fn refuse_split(manifest: &Manifest, which: &str) -> Result<()> {
    match manifest.shards {
        Some(count) => {
            bail!("{which} is split into {count} shards: resume it with --shard I/{count} --run-id {}", manifest.run_id)
        }
        None => Ok(()),
    }
}

/// The run a shard writes to (`--run-id`, which every shard must be given),
/// and the manifest parts of the other shards already in it.
fn choose_shard_target(plan: &Plan, selection: &Selection, shard: Shard) -> Result<(Target, Vec<Manifest>)> {
    let Some(run_id) = &selection.run_id else {
        bail!(
            "--shard {shard}: every shard must write to the same run: give them all --run-id ID (e.g. --run-id {})",
            store::new_run_id(&plan.output_dir, &plan.name)
        );
    };
    if selection.restart.is_some() || selection.no_auto_resume {
        bail!(
            "--shard {shard}: --restart and --no-auto-resume do not apply to shards, which join the run --run-id names"
        );
    }
    let dir = plan.output_dir.join(run_id);
    if RunLayout::new(&dir).manifest().is_file() {
        bail!(
            "--shard {shard}: run {run_id} is not split into shards; resume it without --shard, or choose another --run-id"
        );
    }
    let parts = store::parts::read_parts(&dir)?;
    if let Some(other) = parts.iter().filter_map(|part| part.shard).find(|other| other.count != shard.count) {
        bail!(
            "--shard {shard}: run {run_id} is split into {} shards (it has shard {other}); use --shard I/{} or another --run-id",
            other.count,
            other.count
        );
    }
    let (own, peers): (Vec<Manifest>, Vec<Manifest>) = parts.into_iter().partition(|part| part.shard == Some(shard));
    let target = match own.into_iter().next() {
        Some(manifest) => Target::Existing { dir, manifest },
        None => Target::New { run_id: run_id.clone() },
    };
    Ok((target, peers))
}

/// Refuse a shard whose jobs differ from those of a shard already in the
/// run (other jobs, another order, or another identity: config, plugin,
/// dataset...), naming the first difference: the partition and the
/// samples would not fit together.
pub(crate) fn check_peers(jobs: &[PreparedJob], peers: &[Manifest], shard: Shard) -> Result<()> {
    for peer in peers {
        let Some(difference) = difference(jobs, peer) else { continue };
        let other = peer.shard.map_or_else(|| "?".to_string(), |other| other.to_string());
        bail!(
            "--shard {shard}: shard {other} of run {} ran another config: {difference}; every shard must run the same config and plugins (or use another --run-id)",
            peer.run_id
        );
    }
    Ok(())
}

/// The first way `jobs` differ from a peer shard's part, if any.
fn difference(jobs: &[PreparedJob], peer: &Manifest) -> Option<String> {
    let ours: Vec<&str> = jobs.iter().map(|job| job.plan.job_id.as_str()).collect();
    let theirs: Vec<&str> = peer.jobs.iter().map(|entry| entry.job_id.as_str()).collect();
    if let Some(missing) = ours.iter().find(|id| !theirs.contains(id)) {
        return Some(format!("it has no job {missing}"));
    }
    if let Some(extra) = theirs.iter().find(|id| !ours.contains(id)) {
        return Some(format!("it has job {extra}, which this config lacks"));
    }
    if ours != theirs {
        return Some(format!("its jobs are in another order ({})", theirs.join(", ")));
    }
    let (job, entry) = jobs.iter().zip(&peer.jobs).find(|(job, entry)| job.checksum != entry.checksum)?;
    let change = super::identity::describe_change(&entry.identity, &job.identity);
    let change = if change.is_empty() { "other inputs".to_string() } else { change };
    Some(format!("job {}: {change}", job.plan.job_id))
}

/// "runs there: a, b" or "it holds no runs".
fn known_runs(output_dir: &Path) -> String {
    let ids: Vec<String> =
        store::list_runs(output_dir).unwrap_or_default().into_iter().map(|(_, m)| m.run_id).take(10).collect();
    if ids.is_empty() { "it holds no runs".into() } else { format!("runs there: {}", ids.join(", ")) }
}

fn decide(job: &PreparedJob, target: &Target, selection: &Selection) -> Result<Action> {
    if !selection.job_ids.is_empty() && !selection.job_ids.contains(&job.plan.job_id) {
        return Ok(Action::Skip);
    }
    let forced = selection.force || selection.forced_envs.iter().any(|env| env_matches(job, env));
    match target {
        Target::New { .. } => Ok(Action::Fresh),
        Target::Restart { source, source_manifest, .. } => {
            let reusable = source_manifest
                .job(&job.plan.job_id)
                .is_some_and(|entry| !forced && entry.checksum == job.checksum && entry.status == JobStatus::Completed);
            let files = RunLayout::new(source).job(&job.plan.job_id).results().is_file();
            Ok(if reusable && files { Action::Copy } else { Action::Fresh })
        }
        Target::Existing { dir, manifest } => {
            let Some(entry) = manifest.job(&job.plan.job_id) else { return Ok(Action::Fresh) };
            let has_files = RunLayout::for_shard(dir, selection.shard).job(&job.plan.job_id).has_files();
            if forced {
                return Ok(if has_files { Action::Replace { why: "forced".into() } } else { Action::Fresh });
            }
            if entry.checksum != job.checksum {
                let change = super::identity::describe_change(&entry.identity, &job.identity);
                let why = if change.is_empty() { "inputs changed".to_string() } else { format!("changed: {change}") };
                return Ok(if has_files { Action::Replace { why } } else { Action::Fresh });
            }
            resume_or_done(job, &RunLayout::for_shard(dir, selection.shard), entry)
        }
    }
}

/// A job with the same identity: done if every sample is recorded and the
/// job was finished, else resumed.
fn resume_or_done(job: &PreparedJob, run: &RunLayout, entry: &JobEntry) -> Result<Action> {
    let files = run.job(&job.plan.job_id);
    let existing = job.read_existing(&files.results(), false).with_context(|| format!("job {}", job.plan.job_id))?;
    let done = existing.done.len();
    let finished = entry.status == JobStatus::Completed && files.summary().is_file();
    Ok(if done == job.sample_count() && finished { Action::Done } else { Action::Resume { done } })
}

/// Create or open the run directory and bring its manifest in line with
/// the schedule: earlier results of replaced jobs moved aside (each move
/// reported through `notice`), restart jobs copied, an entry for every job.
pub(crate) fn open_run(
    plan: &Plan,
    jobs: &[PreparedJob],
    schedule: &Schedule,
    notice: impl Fn(String),
) -> Result<RunDir> {
    let (root, mut manifest) = match &schedule.target {
        Target::New { run_id } if schedule.shard.is_some() => {
            // Shards create the run together: whichever comes first makes the directory.
            let root = plan.output_dir.join(run_id);
            std::fs::create_dir_all(&root).with_context(|| format!("cannot create {}", root.display()))?;
            (root, new_manifest(plan, run_id))
        }
        Target::New { run_id } => {
            let (run_id, root) = store::create_run_dir(&plan.output_dir, run_id)?;
            (root, new_manifest(plan, &run_id))
        }
        Target::Existing { dir, manifest } => (dir.clone(), manifest.clone()),
        Target::Restart { run_id, source_manifest, .. } => {
            let (run_id, root) = store::create_run_dir(&plan.output_dir, run_id)?;
            let mut manifest = new_manifest(plan, &run_id);
            manifest.restart_source = Some(source_manifest.run_id.clone());
            (root, manifest)
        }
    };
    manifest.shard = schedule.shard;
    let layout = RunLayout::for_shard(&root, schedule.shard);
    for (job, action) in jobs.iter().zip(&schedule.actions) {
        let job_id = &job.plan.job_id;
        if let Some(source) = job.plan.rescore.as_ref().filter(|_| *action != Action::Skip) {
            store::RescoreSource::add(&mut manifest.rescore_source, &source.run_id, &source.job_id);
        }
        let old = manifest.jobs.iter().position(|entry| entry.job_id == *job_id);
        let entry = match (action, &schedule.target) {
            (Action::Replace { why }, _) => {
                let moved = store::supersede_job_dir(&layout, job_id)?;
                if let Some(moved) = moved {
                    notice(format!(
                        "job {job_id}: {why}; starting it fresh (earlier results moved to {})",
                        moved.display()
                    ));
                }
                new_entry(job)
            }
            (Action::Copy, Target::Restart { source, source_manifest, .. }) => {
                copy_dir(RunLayout::new(source).job(job_id).dir(), RunLayout::new(&root).job(job_id).dir())?;
                source_manifest.job(job_id).expect("copied jobs are in the source").clone()
            }
            (Action::Resume { .. } | Action::Done, _) => {
                let mut entry = old.map(|i| manifest.jobs[i].clone()).unwrap_or_else(|| new_entry(job));
                let fresh = new_entry(job);
                (entry.samples_total, entry.shard_samples) = (fresh.samples_total, fresh.shard_samples);
                entry
            }
            (Action::Skip, _) if old.is_some() => continue,
            (Action::Fresh, _) => {
                // A directory the manifest does not know (left by hand, or by a
                // crash in an older layout) must not mix into fresh results.
                if let Some(moved) = store::supersede_job_dir(&layout, job_id)? {
                    notice(format!("job {job_id}: unrecorded results moved to {}", moved.display()));
                }
                new_entry(job)
            }
            _ => new_entry(job),
        };
        match old {
            Some(i) => manifest.jobs[i] = entry,
            None => manifest.jobs.push(entry),
        }
    }
    RunDir::with_manifest(layout, manifest)
}

fn new_manifest(plan: &Plan, run_id: &str) -> Manifest {
    let now = store::now_rfc3339();
    Manifest {
        version: store::MANIFEST_VERSION,
        run_id: run_id.to_string(),
        name: plan.name.clone(),
        config_path: plan.config_path.display().to_string(),
        assay_version: env!("CARGO_PKG_VERSION").into(),
        created_at: now.clone(),
        updated_at: now,
        restart_source: None,
        rescore_source: None,
        jobs: Vec::new(),
        summary: Default::default(),
        shard: None,
        shards: None,
    }
}

fn new_entry(job: &PreparedJob) -> JobEntry {
    JobEntry {
        job_id: job.plan.job_id.clone(),
        model_id: job.plan.model.id.clone(),
        env_id: job.plan.env.id.clone(),
        env_base_id: job.plan.env.base_id.clone(),
        config_id: job.plan.config_id.clone(),
        status: JobStatus::Pending,
        reason: None,
        checksum: job.checksum.clone(),
        identity: job.identity.clone(),
        samples_total: job.total_samples(),
        samples_done: 0,
        samples_failed: 0,
        mean_reward: None,
        cache_hits: 0,
        started_at: None,
        ended_at: None,
        duration_secs: None,
        results: store::layout::relative_results(&job.plan.job_id, job.part.map(|part| part.shard)),
        shard_samples: job.part.map(|_| job.sample_count()),
    }
}

/// Copy the files of a job directory (it holds no subdirectories).
fn copy_dir(from: &Path, to: &Path) -> Result<()> {
    std::fs::create_dir_all(to).with_context(|| format!("cannot create {}", to.display()))?;
    for entry in std::fs::read_dir(from).with_context(|| format!("cannot read {}", from.display()))? {
        let path = entry.with_context(|| format!("cannot read {}", from.display()))?.path();
        if path.is_file() {
            let target = to.join(path.file_name().expect("a file has a name"));
            std::fs::copy(&path, &target).with_context(|| format!("cannot copy {}", path.display()))?;
        }
    }
    Ok(())
}

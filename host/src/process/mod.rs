//! From raw runs to analysis-ready parquet: `runs/processed/<env>/<model>.parquet`
//! plus `env_index.json`.
//!
//! - One file per (env, model), where env is the matrix base id: the
//!   variants of an env (say, answer-shuffle seeds) are rows of one file,
//!   told apart by `variant_id`, and so are the model's sampling configs
//!   (jobs differing in job-level sampling args, name or seed), told apart
//!   by `config_id` and `job_seed`.
//! - Per (env, model), the newest run (by manifest `updated_at`) holding a
//!   job of the selected statuses is used; every older run is ignored for
//!   that pair. Statuses are chosen per job (default `completed`), never by
//!   whether the whole run finished.
//! - Incremental: `env_index.json` records each file's source jobs (results
//!   size and modification time, job checksum, status). A file is rewritten
//!   only when those change; a `process` with nothing new writes nothing.
//! - Every file is written to a temporary name and renamed, so a reader never
//!   sees half a file.
//! - A run split into shards is read as one run: its merged manifest (see
//!   `store::parts`) decides the jobs' statuses, and a job's rows are read
//!   from every shard's results file.
//!
//! The columns are declared in [`schema`], documented in the README.

pub mod hub;
pub mod schema;
pub mod sync;

use crate::store::{self, JobEntry, JobLayout, JobStatus, RunLayout};
use anyhow::{Context, Result, bail};
use parquet::arrow::ArrowWriter;
use parquet::file::metadata::KeyValue;
use schema::{BatchBuilder, BatchSize, RowSource, SCHEMA_VERSION};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// The index file in the output directory.
pub const INDEX_FILE: &str = "env_index.json";

/// Version of the index layout.
const INDEX_VERSION: u32 = 1;

/// Rows per record batch and per parquet row group: large enough for fast
/// scans, small enough that memory stays flat however big a file is.
/// Files written at once unless `--max-workers` says otherwise: more than
/// the cores of a small machine, so that while one file waits on its
/// fsync another is being encoded.
pub const DEFAULT_MAX_WORKERS: usize = 4;

const ROWS_PER_GROUP: usize = 64 * 1024;

/// What `process` does.
#[derive(Debug, Clone)]
pub struct ProcessOptions {
    /// Where runs are read (`runs/raw`).
    pub runs_dir: PathBuf,
    /// Where parquet files and the index go (`runs/processed`).
    pub output_dir: PathBuf,
    /// Files written at once.
    pub max_workers: usize,
    /// Job statuses whose results are used.
    pub statuses: Vec<JobStatus>,
    /// Leave out prompt, completion and reasoning text.
    pub drop_text: bool,
    /// Report what would be written, write nothing.
    pub dry_run: bool,
}

/// One output file: an (env, model) pair and the jobs that feed it.
#[derive(Debug, Clone)]
pub struct Group {
    /// The env's base id.
    pub env_id: String,
    /// The model id.
    pub model_id: String,
    /// The run the jobs come from.
    pub run_id: String,
    run_dir: PathBuf,
    /// How many shards the run is split into, if it is.
    shards: Option<u32>,
    /// The run as the index records it (from the manifest read at discovery).
    run: IndexRun,
    jobs: Vec<JobEntry>,
}

impl Group {
    /// The files of a job of the group: each shard's, or the job's one set.
    fn job_parts(&self, job: &JobEntry) -> Vec<JobLayout> {
        RunLayout::new(&self.run_dir).job_parts(&job.job_id, self.shards)
    }
}

impl Group {
    /// The file's path relative to the output directory: `<env>/<model>.parquet`.
    pub fn file(&self) -> String {
        format!("{}/{}.parquet", store::slug(&self.env_id), store::slug(&self.model_id))
    }
}

/// What happened to one file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FileAction {
    /// Written now.
    Written,
    /// Its inputs are unchanged: left as it was.
    Unchanged,
    /// Would be written (dry run).
    WouldWrite,
}

/// The outcome for one file.
#[derive(Debug, Clone, Serialize)]
pub struct FileReport {
    /// The parquet file, relative to the output directory.
    pub file: String,
    /// The env (matrix base id).
    pub env_id: String,
    /// The model (config id).
    pub model_id: String,
    /// The run.
    pub run_id: String,
    /// Rows in it.
    pub rows: u64,
    /// Written, unchanged or (dry run) would be written.
    pub action: FileAction,
}

/// `env_index.json`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Index {
    /// The layout version.
    pub version: u32,
    /// The parquet schema version.
    pub schema_version: u32,
    /// The assay that wrote it.
    pub assay_version: String,
    /// When `process` last wrote (RFC 3339).
    pub processed_at: String,
    /// Runs that files came from, by id.
    pub runs: BTreeMap<String, IndexRun>,
    /// Files by path relative to the output directory.
    pub files: BTreeMap<String, IndexFile>,
}

/// A source run in the index.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct IndexRun {
    /// The run name.
    pub name: String,
    /// When the run was created (RFC 3339).
    pub created_at: String,
    /// When it last changed (RFC 3339).
    pub updated_at: String,
}

/// A file in the index.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct IndexFile {
    /// The env (matrix base id).
    pub env_id: String,
    /// The model.
    pub model_id: String,
    /// Rows in it.
    pub rows: u64,
    /// Its size, to notice a file changed by hand.
    pub bytes: u64,
    /// The runs its rows came from.
    pub source_runs: Vec<String>,
    /// What the file was made from; it is rewritten when this changes.
    pub inputs: Value,
}

/// Process every (env, model) pair found under `options.runs_dir`.
pub fn process(options: &ProcessOptions) -> Result<(Vec<FileReport>, Index)> {
    let groups = discover(&options.runs_dir, &options.statuses)?;
    let index_path = options.output_dir.join(INDEX_FILE);
    let mut index = read_index(&index_path)?;
    let work: Vec<(Group, Value)> = groups.into_iter().map(|g| (g.clone(), inputs(&g, options.drop_text))).collect();
    let pending = Mutex::new(work.iter());
    let reports = Mutex::new(Vec::new());
    let failure = Mutex::new(None);
    std::thread::scope(|scope| {
        for _ in 0..options.max_workers.max(1) {
            scope.spawn(|| {
                while let Some((group, inputs)) = { pending.lock().expect("queue lock").next() } {
                    match process_group(group, inputs, &index, options) {
                        Ok(report) => reports.lock().expect("reports lock").push(report),
                        Err(error) => drop(failure.lock().expect("failure lock").get_or_insert(error)),
                    }
                }
            });
        }
    });
    if let Some(error) = failure.into_inner().expect("failure lock") {
        return Err(error);
    }
    let mut reports = reports.into_inner().expect("reports lock");
    reports.sort_by(|a, b| a.file.cmp(&b.file));
    if !options.dry_run && reports.iter().any(|r| r.action == FileAction::Written) {
        update_index(&mut index, &work, &reports, &options.output_dir)?;
        store::write_json(&index_path, &index)?;
    }
    Ok((reports, index))
}

/// Every (env, model) pair with a job of `statuses`, from the newest run
/// that has one.
pub fn discover(runs_dir: &Path, statuses: &[JobStatus]) -> Result<Vec<Group>> {
    let mut groups: BTreeMap<(String, String), Group> = BTreeMap::new();
    // Newest first: the first run to claim a pair keeps it.
    for (run_dir, manifest) in store::list_runs(runs_dir)? {
        let mut claimed: Vec<(String, String)> = Vec::new();
        for job in manifest.jobs.iter().filter(|j| statuses.contains(&j.status)) {
            let key = (job.env_base_id.clone(), job.model_id.clone());
            if groups.contains_key(&key) && !claimed.contains(&key) {
                continue;
            }
            claimed.push(key.clone());
            let group = groups.entry(key).or_insert_with(|| Group {
                env_id: job.env_base_id.clone(),
                model_id: job.model_id.clone(),
                run_id: manifest.run_id.clone(),
                run_dir: run_dir.clone(),
                shards: manifest.shards,
                run: IndexRun {
                    name: manifest.name.clone(),
                    created_at: manifest.created_at.clone(),
                    updated_at: manifest.updated_at.clone(),
                },
                jobs: Vec::new(),
            });
            group.jobs.push(job.clone());
        }
    }
    Ok(groups.into_values().collect())
}

/// What a group's file depends on: its source jobs as they are on disk, and
/// the options that change its content.
fn inputs(group: &Group, drop_text: bool) -> Value {
    let jobs: Vec<Value> = group
        .jobs
        .iter()
        .map(|job| {
            // Sizes summed and the latest change over the job's files (a
            // shard's each): any append or rewrite changes one of them.
            let files: Vec<std::fs::Metadata> =
                group.job_parts(job).iter().filter_map(|part| std::fs::metadata(part.results()).ok()).collect();
            let bytes = (!files.is_empty()).then(|| files.iter().map(|m| m.len()).sum::<u64>());
            let modified = files.iter().filter_map(|m| m.modified().ok()).max();
            let modified = modified.and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok()).map(|d| d.as_nanos());
            let mut inputs = json!({
                "run_id": group.run_id, "job_id": job.job_id, "checksum": job.checksum, "status": job.status,
                "results_bytes": bytes, "results_modified_ns": modified.map(|n| n.to_string()),
            });
            if let Some(shards) = group.shards {
                inputs["shards"] = shards.into();
            }
            inputs
        })
        .collect();
    json!({ "schema_version": SCHEMA_VERSION, "drop_text": drop_text, "jobs": jobs })
}

fn process_group(group: &Group, inputs: &Value, index: &Index, options: &ProcessOptions) -> Result<FileReport> {
    let file = group.file();
    let path = options.output_dir.join(&file);
    let report = |rows, action| FileReport {
        file: file.clone(),
        env_id: group.env_id.clone(),
        model_id: group.model_id.clone(),
        run_id: group.run_id.clone(),
        rows,
        action,
    };
    if let Some(entry) = index.files.get(&file)
        && entry.inputs == *inputs
        && std::fs::metadata(&path).is_ok_and(|m| m.len() == entry.bytes)
    {
        return Ok(report(entry.rows, FileAction::Unchanged));
    }
    if options.dry_run {
        let rows = group.jobs.iter().map(|j| j.samples_done).sum();
        return Ok(report(rows, FileAction::WouldWrite));
    }
    let rows = write_group(group, &path, options.drop_text).with_context(|| format!("writing {}", path.display()))?;
    Ok(report(rows, FileAction::Written))
}

/// Write a group's rows to `path` (atomically). Returns the row count.
fn write_group(group: &Group, path: &Path, drop_text: bool) -> Result<u64> {
    let metrics = metric_names(group)?;
    let mut batch = BatchBuilder::new(&metrics, drop_text, batch_size(group));
    let dir = path.parent().expect("files live in an env directory");
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let properties =
        schema::writer_properties(ROWS_PER_GROUP, vec![KeyValue::new("assay".into(), provenance(group).to_string())]);
    store::replace_atomically(path, |file| {
        let mut writer = ArrowWriter::try_new(file, batch.schema(), Some(properties))?;
        let mut rows = 0u64;
        for job in &group.jobs {
            let sampling_args = job.identity.get("sampling_args").map_or_else(|| "{}".into(), Value::to_string);
            let source = RowSource {
                run_id: &group.run_id,
                job_id: &job.job_id,
                env_id: &group.env_id,
                variant_id: &job.env_id,
                model_id: &group.model_id,
                config_id: &job.config_id,
                sampling_args: &sampling_args,
                job_seed: job.identity.get("seed").and_then(Value::as_u64),
            };
            batch.start_job(&source);
            for part in group.job_parts(job) {
                store::for_each_result_line(&part.results(), |result| {
                    batch.push(&result)?;
                    rows += 1;
                    if batch.len() == ROWS_PER_GROUP {
                        writer.write(&batch.finish()?)?;
                    }
                    Ok(())
                })?;
            }
        }
        if !batch.is_empty() {
            writer.write(&batch.finish()?)?;
        }
        Ok((writer.into_inner()?, rows))
    })
}

/// The most a text column reserves ahead.
const MAX_TEXT_RESERVE: usize = 64 << 20;

/// The size of a group's first batch: its jobs' samples, up to a row
/// group, and half of a result line's bytes for each text column (a
/// prompt or a completion is rarely more), at most [`MAX_TEXT_RESERVE`]
/// (a column that outgrows it grows as it would have).
fn batch_size(group: &Group) -> BatchSize {
    let rows: usize = group.jobs.iter().map(|job| job.samples_done as usize).sum();
    let bytes: u64 = group
        .jobs
        .iter()
        .flat_map(|job| group.job_parts(job))
        .filter_map(|part| std::fs::metadata(part.results()).ok())
        .map(|meta| meta.len())
        .sum();
    let line_bytes = bytes as usize / rows.max(1);
    let rows = rows.min(ROWS_PER_GROUP);
    BatchSize { rows, text_bytes: (rows * line_bytes / 2).min(MAX_TEXT_RESERVE) }
}

/// The metric names of a group, sorted: from each job's summary, or, for a
/// job without one (not finished), from its results.
fn metric_names(group: &Group) -> Result<Vec<String>> {
    let mut names = std::collections::BTreeSet::new();
    for job in &group.jobs {
        for files in group.job_parts(job) {
            match store::Summary::read(&files.summary()) {
                Some(summary) if job.status == JobStatus::Completed => names.extend(summary.metrics.into_keys()),
                _ => names.extend(store::metric_names(&files.results())?),
            }
        }
    }
    Ok(names.into_iter().collect())
}

/// The `assay` key-value metadata of a file: versions and where it came from.
fn provenance(group: &Group) -> Value {
    let jobs: Vec<Value> = group
        .jobs
        .iter()
        .map(|job| {
            json!({
                "job_id": job.job_id, "variant_id": job.env_id, "config_id": job.config_id, "checksum": job.checksum, "status": job.status,
                "plugin_sha256": job.identity.get("plugin_sha256"), "dataset_sha256": job.identity.get("dataset_sha256"),
            })
        })
        .collect();
    json!({
        "schema_version": SCHEMA_VERSION, "assay_version": env!("CARGO_PKG_VERSION"),
        "env_id": group.env_id, "model_id": group.model_id, "source_run": group.run_id, "jobs": jobs,
    })
}

/// Add the files (and their runs) of `other` that `index` lacks, e.g. from
/// a pulled remote index.
pub fn merge_index(index: &mut Index, other: Index) {
    for (file, entry) in other.files {
        index.files.entry(file).or_insert(entry);
    }
    for (run, entry) in other.runs {
        index.runs.entry(run).or_insert(entry);
    }
    if index.version == 0 {
        (index.version, index.schema_version, index.assay_version, index.processed_at) =
            (other.version, other.schema_version, other.assay_version, other.processed_at);
    }
}

/// Read the index at `path` (an empty one if there is none).
pub fn read_index(path: &Path) -> Result<Index> {
    match std::fs::read(path) {
        Ok(bytes) => {
            let index: Index =
                serde_json::from_slice(&bytes).with_context(|| format!("{}: not an index", path.display()))?;
            if index.version != INDEX_VERSION {
                bail!(
                    "{}: index version {} is not {INDEX_VERSION}; use --clean to rebuild",
                    path.display(),
                    index.version
                );
            }
            Ok(index)
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Index::default()),
        Err(e) => Err(e).with_context(|| format!("cannot read {}", path.display())),
    }
}

/// Record written files (and their source runs) in the index.
fn update_index(index: &mut Index, work: &[(Group, Value)], reports: &[FileReport], output_dir: &Path) -> Result<()> {
    index.version = INDEX_VERSION;
    index.schema_version = SCHEMA_VERSION;
    index.assay_version = env!("CARGO_PKG_VERSION").into();
    index.processed_at = store::now_rfc3339();
    for report in reports.iter().filter(|r| r.action == FileAction::Written) {
        let (group, inputs) = work.iter().find(|(g, _)| g.file() == report.file).expect("every report has a group");
        index.runs.insert(group.run_id.clone(), group.run.clone());
        let bytes = std::fs::metadata(output_dir.join(&report.file))?.len();
        index.files.insert(
            report.file.clone(),
            IndexFile {
                env_id: group.env_id.clone(),
                model_id: group.model_id.clone(),
                rows: report.rows,
                bytes,
                source_runs: vec![group.run_id.clone()],
                inputs: inputs.clone(),
            },
        );
    }
    Ok(())
}

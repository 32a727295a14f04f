//! `assay plugin new | build | check | info`: writing benchmark plugins.

use super::ExitStatus;
use super::output::{errln, outln};
use super::table::new_table;
use crate::authoring::{build, check, scaffold};
use crate::dataset;
use crate::locations::{extra_plugin_dirs, user_plugin_dir};
use crate::plan::find_plugin;
use crate::runtime::{PluginLimits, Runtime};
use anyhow::{Context, Result, anyhow, bail};
use clap::{Args, Subcommand, ValueEnum};
use serde_json::{Map, Value};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

#[derive(Debug, Args)]
pub(crate) struct PluginArgs {
    #[command(subcommand)]
    command: PluginCommand,
}

#[derive(Debug, Subcommand)]
enum PluginCommand {
    /// Create a plugin project (a Rust crate, or Python with `--lang
    /// python`) from a template. It builds, passes its own tests and passes
    /// `assay plugin check` on its sample data right away.
    New(NewArgs),
    /// Build a plugin project into a WebAssembly component: a Rust crate
    /// (release settings; installs the wasm32-wasip2 target if missing) or
    /// a Python project (componentize-py, installed on first use).
    Build(BuildArgs),
    /// Run a plugin over a dataset and check it: the reference completion
    /// scores full reward, empty and garbage replies score nothing, shuffles
    /// are reproducible and keep the gold answer. Exits 1 on any failure.
    Check(CheckArgs),
    /// Show a plugin's name, version, API version, capabilities and arguments.
    Info(InfoArgs),
}

#[derive(Debug, Args)]
pub(crate) struct NewArgs {
    /// The plugin's name (its crate and `.wasm` file name), e.g. `pubmedqa`.
    name: String,
    /// What the plugin starts from.
    #[arg(long, value_enum, default_value = "qa")]
    template: scaffold::Template,
    /// The language to write it in.
    #[arg(long, value_enum, default_value = "rust")]
    lang: scaffold::Lang,
    /// Where to create the project (default: `./<NAME>`).
    #[arg(long, value_name = "DIR")]
    dir: Option<PathBuf>,
    /// The plugin SDK to use (default: the `plugin-sdk/`, or for Python
    /// `plugin-sdk-python/`, of the checkout this assay was built from).
    #[arg(long, value_name = "DIR")]
    sdk: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub(crate) struct BuildArgs {
    /// The plugin project's directory (a Rust crate or a Python project).
    #[arg(default_value = ".")]
    path: PathBuf,
    /// Also copy the component into the user's plugin dir, where configs
    /// find it by name (`module: <name>`).
    #[arg(long)]
    install: bool,
}

#[derive(Debug, Args)]
pub(crate) struct CheckArgs {
    /// A `.wasm` file, or a plugin name looked up in `$ASSAY_PLUGIN_PATH`
    /// and the user's plugin dir.
    plugin: String,
    /// Records to check (.jsonl/.jsonl.gz, .json, .csv or .parquet).
    #[arg(long, value_name = "FILE")]
    dataset: PathBuf,
    /// The env args as a JSON object, e.g. '{"shuffle": true}'.
    #[arg(long, value_name = "JSON")]
    env_args: Option<String>,
    /// The record field holding the example id (default: `id` when every
    /// record has one, else the row index).
    #[arg(long, value_name = "FIELD")]
    id_field: Option<String>,
    /// Seeds per record (each a different shuffle, if the plugin shuffles).
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u32).range(1..))]
    seeds: u32,
    /// Check only the first N records.
    #[arg(long, value_name = "N")]
    max_examples: Option<usize>,
}

#[derive(Debug, Args)]
pub(crate) struct InfoArgs {
    /// A `.wasm` file, or a plugin name looked up in `$ASSAY_PLUGIN_PATH`
    /// and the user's plugin dir.
    plugin: String,
}

/// Run an `assay plugin` subcommand.
pub(crate) async fn plugin(args: PluginArgs) -> Result<ExitStatus> {
    match args.command {
        PluginCommand::New(args) => new(args),
        PluginCommand::Build(args) => build_plugin(args).await,
        PluginCommand::Check(args) => check_plugin(args).await,
        PluginCommand::Info(args) => info(args).await,
    }
}

fn new(args: NewArgs) -> Result<ExitStatus> {
    let dir = args.dir.unwrap_or_else(|| PathBuf::from(&args.name));
    let sdk = match args.sdk.or_else(|| scaffold::default_sdk_path(args.lang)) {
        Some(sdk) => sdk,
        None => bail!("cannot find the plugin SDK this assay was built from: pass --sdk <path to the SDK>"),
    };
    scaffold::create(&dir, &args.name, args.template, args.lang, &sdk)?;
    let shown = dir.display();
    let template = args.template.to_possible_value().expect("templates have names");
    outln!("Created {shown} from the {} template. Next:", template.get_name())?;
    if args.lang == scaffold::Lang::Python {
        let module = args.name.replace('-', "_");
        outln!("  cd {shown} && python3 -m pytest   # native tests (pip install pytest)")?;
        outln!("  assay plugin build                # -> build/{module}.wasm")?;
        outln!("  assay plugin check build/{module}.wasm --dataset data/sample.jsonl")?;
        return Ok(ExitStatus::Success);
    }
    outln!("  cd {shown} && cargo test          # native tests")?;
    outln!(
        "  assay plugin build                # -> target/wasm32-wasip2/release/{}.wasm",
        args.name.replace('-', "_")
    )?;
    outln!(
        "  assay plugin check target/wasm32-wasip2/release/{}.wasm --dataset data/sample.jsonl",
        args.name.replace('-', "_")
    )?;
    Ok(ExitStatus::Success)
}

async fn build_plugin(args: BuildArgs) -> Result<ExitStatus> {
    let wasm = tokio::task::spawn_blocking(move || build::build(&args.path, |line| errln!("{line}"))).await??;
    let plugin = runtime()?.load(&wasm).await?;
    let size = std::fs::metadata(&wasm)?.len();
    outln!(
        "Built {} ({:.1} KiB): {} (assay:env@{})",
        wasm.display(),
        size as f64 / 1024.0,
        plugin.label(),
        plugin.api_version
    )?;
    if args.install {
        let dir = user_plugin_dir().context("cannot find the user's data directory; set ASSAY_DATA_DIR")?;
        std::fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
        let target = dir.join(wasm.file_name().expect("a built file has a name"));
        std::fs::copy(&wasm, &target).with_context(|| format!("cannot copy to {}", target.display()))?;
        let module = target.file_stem().unwrap_or_default().to_string_lossy().into_owned();
        outln!("Installed {} (configs can say `module: {module}`)", target.display())?;
    }
    Ok(ExitStatus::Success)
}

async fn check_plugin(args: CheckArgs) -> Result<ExitStatus> {
    let path = locate(&args.plugin)?;
    let runtime = runtime()?;
    let plugin = runtime.load(&path).await?;
    let env_args = parse_env_args(args.env_args.as_deref())?;
    let dataset = dataset::load(&args.dataset, args.id_field.as_deref(), args.max_examples)?;
    let pool = runtime.environment(plugin.clone(), &env_args, PluginLimits::default()).await.context("--env-args")?;
    outln!(
        "Checking {} (assay:env@{}) on {}: {} records × {} seed{}",
        plugin.label(),
        plugin.api_version,
        args.dataset.display(),
        dataset.records.len(),
        args.seeds,
        if args.seeds == 1 { "" } else { "s" }
    )?;
    let report = check::check(&pool, &dataset, args.seeds).await?;
    if report.shuffled_records > 0 {
        outln!(
            "{} of {} records are shuffled by seed; the gold answer was followed",
            report.shuffled_records,
            report.records
        )?;
    }
    if report.failures.is_empty() {
        outln!("All checks passed: prepare, reproducible, reference, empty, garbage, follows-shuffle")?;
        return Ok(ExitStatus::Success);
    }
    print_failures(&report)?;
    Ok(ExitStatus::Failed)
}

/// The failures as a table, one row per record, check and message (with
/// the seeds it happened under), at most 50 rows; then a count per check.
fn print_failures(report: &check::Report) -> std::io::Result<()> {
    const SHOWN: usize = 50;
    let mut rows: Vec<(&str, &str, &str, Vec<u32>)> = Vec::new();
    for failure in &report.failures {
        let key = (failure.record.as_str(), failure.check, failure.detail.as_str());
        match rows.iter_mut().find(|(record, check, detail, _)| (*record, *check, *detail) == key) {
            Some((.., seeds)) => seeds.push(failure.seed),
            None => rows.push((key.0, key.1, key.2, vec![failure.seed])),
        }
    }
    let mut table = new_table(&["record", "seeds", "check", "what went wrong"]);
    for (record, check, detail, seeds) in rows.iter().take(SHOWN) {
        let seeds: Vec<String> = seeds.iter().map(u32::to_string).collect();
        table.add_row(vec![record.to_string(), seeds.join(","), check.to_string(), detail.to_string()]);
    }
    outln!("{table}")?;
    if rows.len() > SHOWN {
        outln!("... and {} more", rows.len() - SHOWN)?;
    }
    let mut counts: Vec<(&str, usize)> = Vec::new();
    for (_, check, ..) in &rows {
        match counts.iter_mut().find(|(c, _)| c == check) {
            Some((_, n)) => *n += 1,
            None => counts.push((check, 1)),
        }
    }
    let counts: Vec<String> = counts.iter().map(|(check, n)| format!("{check}: {n}")).collect();
    let records: BTreeSet<&str> = rows.iter().map(|(record, ..)| *record).collect();
    outln!("FAILED: {} of {} records ({})", records.len(), report.records, counts.join(", "))?;
    Ok(())
}

async fn info(args: InfoArgs) -> Result<ExitStatus> {
    let path = locate(&args.plugin)?;
    let plugin = runtime()?.load(&path).await?;
    let metadata = &plugin.metadata;
    outln!("{} (assay:env@{})", plugin.label(), plugin.api_version)?;
    if !metadata.description.is_empty() {
        outln!("{}", metadata.description)?;
    }
    outln!("file: {} (sha256 {})", path.display(), plugin.sha256)?;
    if let Some(build) = &plugin.build {
        outln!(
            "built from {} sources (sha256 {}, job identity) with {}",
            build.language,
            build.source_sha256,
            build.builder
        )?;
    }
    let capabilities = if metadata.capabilities.is_empty() { "none".into() } else { metadata.capabilities.join(", ") };
    outln!("capabilities: {capabilities}")?;
    if metadata.args.is_empty() {
        outln!("arguments: none")?;
        return Ok(ExitStatus::Success);
    }
    let mut table = new_table(&["argument", "type", "default", "description"]);
    for arg in &metadata.args {
        let default = arg.default_json.clone().unwrap_or_else(|| "(required)".into());
        table.add_row(vec![arg.name.clone(), arg.type_name.clone(), default, arg.description.clone()]);
    }
    outln!("{table}")?;
    Ok(ExitStatus::Success)
}

/// A `.wasm` path, or a plugin name in `$ASSAY_PLUGIN_PATH` or the user's plugin dir.
fn locate(plugin: &str) -> Result<PathBuf> {
    let path = Path::new(plugin);
    if plugin.ends_with(".wasm") || path.is_file() {
        return match path.is_file() {
            true => Ok(path.to_path_buf()),
            false => Err(anyhow!("plugin file {plugin} not found")),
        };
    }
    find_plugin(plugin, Path::new("."), &extra_plugin_dirs()).map_err(|e| anyhow!(e))
}

/// The plugin runtime, compiling into the on-disk cache.
pub(super) fn runtime() -> Result<Runtime> {
    Runtime::new(crate::locations::wasm_cache_dir().as_deref())
}

fn parse_env_args(json: Option<&str>) -> Result<Map<String, Value>> {
    match json.map(serde_json::from_str::<Value>) {
        None => Ok(Map::new()),
        Some(Ok(Value::Object(args))) => Ok(args),
        Some(Ok(_)) => bail!("--env-args: expected a JSON object"),
        Some(Err(e)) => bail!("--env-args: not JSON: {e}"),
    }
}

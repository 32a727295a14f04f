//! `assay cache`: the response cache of models with `cache: true` (see
//! `models::cache`): what it holds, and clearing it.

use super::ExitStatus;
use super::output::outln;
use super::table::new_table;
use crate::models::cache::ResponseCache;
use anyhow::Result;

#[derive(Debug, clap::Args)]
pub(crate) struct CacheArgs {
    #[command(subcommand)]
    command: CacheCommand,
}

#[derive(Debug, clap::Subcommand)]
enum CacheCommand {
    /// Replies cached per model name, the file and its size.
    Stats {
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Remove cached replies: every one, or a model's.
    Clear {
        /// Remove only the replies of this model (its name at the endpoint).
        #[arg(long, value_name = "NAME")]
        model: Option<String>,
    },
}

pub(crate) fn cache(args: CacheArgs) -> Result<ExitStatus> {
    let cache = ResponseCache::open_default()?;
    match args.command {
        CacheCommand::Stats { json } => {
            let stats = cache.stats()?;
            if json {
                outln!("{}", serde_json::to_string_pretty(&stats)?)?;
                return Ok(ExitStatus::Success);
            }
            let mut table = new_table(&["model", "replies"]);
            for entry in &stats.models {
                table.add_row(vec![entry.model.clone(), entry.replies.to_string()]);
            }
            outln!("{table}")?;
            let size = stats.bytes as f64 / 1024.0 / 1024.0;
            outln!("{} replies in {} ({size:.1} MiB)", stats.replies, stats.path.display())?;
        }
        CacheCommand::Clear { model } => {
            let removed = cache.clear(model.as_deref())?;
            let whose = model.map_or(String::new(), |name| format!(" of {name}"));
            outln!("Removed {removed} cached replies{whose}")?;
        }
    }
    Ok(ExitStatus::Success)
}

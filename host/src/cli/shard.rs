//! Which shard of a split run this process runs: `--shard I/N`, or
//! `--shards N` with the index set by the cluster engine (a Slurm job
//! array's task, a Kubernetes Indexed Job's pod).

use crate::locations::vars;
use crate::store::Shard;
use anyhow::{Result, bail};

/// Parse `--shard I/N` (I from 0 to N − 1).
pub(super) fn parse_shard(text: &str) -> Result<Shard, String> {
    let (index, count) = text.split_once('/').ok_or_else(|| format!("`{text}` is not I/N, e.g. 0/4"))?;
    let number = |part: &str| part.trim().parse::<u32>().map_err(|_| format!("`{text}` is not I/N, e.g. 0/4"));
    Shard::new(number(index)?, number(count)?)
}

/// The shard given by `--shard`, or by `--shards N` and the engine's
/// variables (`lookup` reads one: the environment, or a test's map).
pub(super) fn resolve(
    shard: Option<Shard>,
    shards: Option<u32>,
    lookup: impl Fn(&str) -> Option<String>,
) -> Result<Option<Shard>> {
    let Some(count) = shards else { return Ok(shard) };
    let number = |var: &str| -> Result<Option<u32>> {
        match lookup(var) {
            None => Ok(None),
            Some(value) => match value.trim().parse() {
                Ok(n) => Ok(Some(n)),
                Err(_) => bail!("--shards {count}: {var}={value} is not a number"),
            },
        }
    };
    let (index, source) = if let Some(index) = number(vars::JOB_COMPLETION_INDEX)? {
        (index, format!("{}={index}", vars::JOB_COMPLETION_INDEX))
    } else if let Some(task) = number(vars::SLURM_ARRAY_TASK_ID)? {
        let first = number(vars::SLURM_ARRAY_TASK_MIN)?.unwrap_or(0);
        if let Some(tasks) = number(vars::SLURM_ARRAY_TASK_COUNT)?
            && tasks != count
        {
            bail!(
                "--shards {count}: this Slurm array has {tasks} tasks ({}={tasks}); submit it with --array=0-{} or pass --shards {tasks}",
                vars::SLURM_ARRAY_TASK_COUNT,
                count - 1
            );
        }
        (task.saturating_sub(first), format!("{}={task}", vars::SLURM_ARRAY_TASK_ID))
    } else {
        bail!(
            "--shards {count}: no shard index: neither {} (a Slurm job array) nor {} (a Kubernetes Indexed Job) is set; elsewhere give --shard I/{count}",
            vars::SLURM_ARRAY_TASK_ID,
            vars::JOB_COMPLETION_INDEX
        );
    };
    match Shard::new(index, count) {
        Ok(shard) => Ok(Some(shard)),
        Err(why) => bail!("--shards {count} with {source}: {why}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with(vars: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let vars: Vec<(String, String)> = vars.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        move |name| vars.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone())
    }

    #[test]
    fn shards_are_read_from_the_flag_or_the_engine() {
        assert_eq!(parse_shard("1/4"), Ok(Shard::new(1, 4).unwrap()));
        assert_eq!(parse_shard("4/4").unwrap_err(), "shard 4 of 4 does not exist: shards are numbered 0 to 3");
        assert_eq!(parse_shard("1-4").unwrap_err(), "`1-4` is not I/N, e.g. 0/4");
        let shard = |vars: &[(&str, &str)]| resolve(None, Some(4), with(vars)).map_err(|e| e.to_string());
        assert_eq!(shard(&[("JOB_COMPLETION_INDEX", "3")]), Ok(Some(Shard::new(3, 4).unwrap())));
        let slurm = [("SLURM_ARRAY_TASK_ID", "12"), ("SLURM_ARRAY_TASK_MIN", "10"), ("SLURM_ARRAY_TASK_COUNT", "4")];
        assert_eq!(shard(&slurm), Ok(Some(Shard::new(2, 4).unwrap())), "indices count from the array's first");
        assert_eq!(
            shard(&[("SLURM_ARRAY_TASK_ID", "1"), ("SLURM_ARRAY_TASK_COUNT", "8")]).unwrap_err(),
            "--shards 4: this Slurm array has 8 tasks (SLURM_ARRAY_TASK_COUNT=8); submit it with --array=0-3 or pass --shards 8"
        );
        assert_eq!(
            shard(&[("JOB_COMPLETION_INDEX", "4")]).unwrap_err(),
            "--shards 4 with JOB_COMPLETION_INDEX=4: shard 4 of 4 does not exist: shards are numbered 0 to 3"
        );
        assert_eq!(
            shard(&[("JOB_COMPLETION_INDEX", "x")]).unwrap_err(),
            "--shards 4: JOB_COMPLETION_INDEX=x is not a number"
        );
        assert!(shard(&[]).unwrap_err().starts_with("--shards 4: no shard index"));
        assert_eq!(resolve(None, None, with(&[("JOB_COMPLETION_INDEX", "1")])).unwrap(), None, "no flag, no shard");
    }
}

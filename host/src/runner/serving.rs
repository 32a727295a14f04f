//! The servers of a run's served models (`serve:`): each counts the jobs
//! that will use it, starts with the first and stops after the last; at
//! most as many run at once as the run has job slots (`parallel`, or
//! `score --max-workers`); all share the run's GPU pool, each taking, in
//! its turn (the order of the servers' first jobs), the devices
//! [`placement`] gives it, as `--dry-run` shows; and write their logs to
//! the run's `logs/`.

use super::PreparedJob;
use crate::models::server::{GpuPool, ServeContext, Server, ServerInfo, placement};
use crate::plan::Plan;
use crate::store::RunLayout;
use std::path::Path;
use std::sync::Arc;
use tokio::sync::Semaphore;

/// The servers of a run.
#[derive(Clone)]
pub(super) struct Serving {
    context: ServeContext,
    servers: Arc<[Arc<Server>]>,
}

impl Serving {
    /// The servers the `jobs` about to run use, each told how many jobs
    /// will and given its GPUs.
    pub(super) fn new(plan: &Plan, run_root: &Path, jobs: &[PreparedJob]) -> Serving {
        let servers = servers_of(jobs.iter());
        jobs.iter().filter_map(|job| job.server()).for_each(|server| server.expect_job());
        // Only a run that serves models looks for GPUs.
        let pool = match servers.is_empty() {
            true => Vec::new(),
            false => plan.gpus.clone().unwrap_or_else(GpuPool::visible),
        };
        let needs: Vec<usize> = servers.iter().map(|server| server.spec().gpus).collect();
        // Turns go to the servers that take GPUs: one that needs none, or
        // cannot fit, waits for no other.
        let mut turns = 0..;
        for (server, placed) in servers.iter().zip(placement(&pool, &needs)) {
            let takes = matches!(&placed, Ok((_, devices)) if !devices.is_empty());
            server.place(placed, takes.then(|| turns.next().expect("turns never run out")));
        }
        let context = ServeContext {
            logs_dir: RunLayout::new(run_root).logs_dir(),
            gpus: Arc::new(GpuPool::new(&pool)),
            places: Arc::new(Semaphore::new(plan.parallel.max(1))),
        };
        Serving { context, servers: servers.into() }
    }

    /// Start a job's server unless it runs, and wait until it answers.
    pub(super) async fn start(&self, server: &Arc<Server>) -> Result<ServerInfo, String> {
        server.start(&self.context).await
    }

    /// Stop every server still running.
    pub(super) async fn stop_all(&self) {
        for server in self.servers.iter() {
            server.stop().await;
        }
    }
}

/// The servers of `jobs`, each once, in the order of their first jobs:
/// the order they take their GPUs in.
pub(crate) fn servers_of<'a>(jobs: impl Iterator<Item = &'a PreparedJob>) -> Vec<Arc<Server>> {
    let mut servers: Vec<Arc<Server>> = Vec::new();
    for server in jobs.filter_map(|job| job.server()) {
        if !servers.iter().any(|known| Arc::ptr_eq(known, server)) {
            servers.push(server.clone());
        }
    }
    servers
}

//! The servers of a run's served models (`serve:`): each counts the jobs
//! that will use it, starts with the first and stops after the last; all
//! share the run's GPU pool (taking turns in the order of their first
//! jobs) and write their logs to the run's `logs/`.

use super::PreparedJob;
use crate::models::server::{GpuPool, ServeContext, Server, ServerInfo};
use crate::plan::Plan;
use crate::store::RunLayout;
use std::path::Path;
use std::sync::Arc;

/// The servers of a run.
#[derive(Clone)]
pub(super) struct Serving {
    context: ServeContext,
    servers: Arc<[Arc<Server>]>,
}

impl Serving {
    /// The servers the `jobs` about to run use, each told how many jobs will.
    pub(super) fn new(plan: &Plan, run_root: &Path, jobs: &[PreparedJob]) -> Serving {
        let mut servers: Vec<Arc<Server>> = Vec::new();
        for server in jobs.iter().filter_map(|job| job.model.server()) {
            server.expect_job();
            if !servers.iter().any(|known| Arc::ptr_eq(known, server)) {
                server.set_turn(servers.len());
                servers.push(server.clone());
            }
        }
        // Only a run that serves models looks for GPUs.
        let devices = match servers.is_empty() {
            true => Vec::new(),
            false => plan.gpus.clone().unwrap_or_else(GpuPool::visible),
        };
        let context =
            ServeContext { logs_dir: RunLayout::new(run_root).logs_dir(), gpus: Arc::new(GpuPool::new(devices)) };
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

//! Progress bars: an overall bar plus one per job; hidden when disabled
//! (and by indicatif when stderr is not a terminal).

use super::preflight::PreparedJob;
use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

/// The bars of a run.
pub struct Progress {
    bars: MultiProgress,
    overall: ProgressBar,
}

/// The bars one job advances.
#[derive(Clone)]
pub struct JobBars {
    pub job: ProgressBar,
    overall: ProgressBar,
}

impl JobBars {
    /// One more sample recorded.
    pub fn inc(&self) {
        self.job.inc(1);
        self.overall.inc(1);
    }

    /// Samples already recorded when the job (re)starts.
    pub fn start_at(&self, done: u64) {
        self.job.set_position(done);
        self.overall.inc(done);
    }
}

impl Progress {
    /// Bars for the jobs that will run.
    pub fn new<'a>(enabled: bool, jobs: impl Iterator<Item = &'a PreparedJob> + Clone) -> Self {
        let target = if enabled { ProgressDrawTarget::stderr() } else { ProgressDrawTarget::hidden() };
        let bars = MultiProgress::with_draw_target(target);
        let total = jobs.clone().map(PreparedJob::sample_count).sum();
        let overall = bars.add(ProgressBar::new(total));
        overall.set_style(bar_style("{prefix:30} {bar:30.cyan} {pos}/{len} {per_sec} eta {eta}"));
        overall.set_prefix(format!("all {} jobs", jobs.count()));
        Progress { bars, overall }
    }

    /// A bar for one job.
    pub fn job_bars(&self, job: &PreparedJob) -> JobBars {
        let bar = self.bars.add(ProgressBar::new(job.sample_count()));
        bar.set_style(bar_style("{prefix:30} {bar:30} {pos}/{len} {per_sec} eta {eta}"));
        bar.set_prefix(job.plan.job_id.clone());
        JobBars { job: bar, overall: self.overall.clone() }
    }
}

fn bar_style(template: &str) -> ProgressStyle {
    ProgressStyle::with_template(template).unwrap_or_else(|_| ProgressStyle::default_bar())
}

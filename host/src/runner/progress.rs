//! How a run shows its progress on stderr.
//!
//! - [`ProgressMode::Bars`] (a terminal): an overall bar and one bar per
//!   running job with done/total, rate, ETA, errors and mean reward so far.
//! - [`ProgressMode::Lines`] (`-v`, or stderr is not a terminal): every
//!   interval, one plain line per running job with the same numbers, and a
//!   line when each job ends, so logs of batch jobs stay readable.
//! - [`ProgressMode::Hidden`] (`-q`).
#![allow(clippy::print_stderr, reason = "the progress display owns stderr while a run goes on")]

use super::preflight::PreparedJob;
use crate::store::{SampleResult, Summary};
use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// How progress is shown.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub(crate) enum ProgressMode {
    /// Live bars on stderr.
    Bars,
    /// A plain line per running job every `every`.
    Lines {
        /// Time between reports.
        every: Duration,
    },
    /// Nothing.
    #[default]
    Hidden,
}

/// The progress display of a run.
pub(crate) struct Progress {
    mode: ProgressMode,
    bars: MultiProgress,
    overall: ProgressBar,
    running: Arc<Mutex<Vec<JobBars>>>,
}

/// What one job reports as samples are recorded.
#[derive(Clone)]
pub(crate) struct JobBars {
    job_id: Arc<str>,
    pub bar: ProgressBar,
    overall: ProgressBar,
    stats: Arc<Mutex<JobStats>>,
    lines: bool,
}

/// Running counts for the progress message.
#[derive(Default)]
struct JobStats {
    started: bool,
    errors: u64,
    rewards: (f64, u64),
}

impl JobBars {
    /// Samples already recorded when the job (re)starts, and their summary.
    pub(crate) fn start_at(&self, done: u64, summary: &Summary) {
        self.bar.set_position(done);
        self.bar.reset_eta();
        self.overall.inc(done);
        let mut stats = self.stats.lock().expect("stats lock");
        stats.started = true;
        if let Some(mean) = summary.mean_reward {
            stats.rewards = (mean * summary.n_scored as f64, summary.n_scored);
        }
        drop(stats);
        self.refresh();
    }

    /// One more sample recorded.
    pub(crate) fn record(&self, result: &SampleResult) {
        {
            let mut stats = self.stats.lock().expect("stats lock");
            match (&result.error, result.reward) {
                (Some(_), _) => stats.errors += 1,
                (None, Some(reward)) => {
                    stats.rewards.0 += reward;
                    stats.rewards.1 += 1;
                }
                (None, None) => {}
            }
        }
        self.bar.inc(1);
        self.overall.inc(1);
        if self.bar.position().is_multiple_of(8) || self.bar.position() == self.bar.length().unwrap_or(0) {
            self.refresh();
        }
    }

    /// The job ended with `status`.
    pub(crate) fn finish(&self, status: &str) {
        self.refresh();
        self.bar.finish();
        if self.lines {
            let (done, total) = (self.bar.position(), self.bar.length().unwrap_or(0));
            let took = indicatif::HumanDuration(self.bar.elapsed());
            eprintln!("{}: {status}, {done}/{total} samples, {}, in {took}", self.job_id, self.stats_text());
        }
    }

    fn refresh(&self) {
        self.bar.set_message(self.stats_text());
    }

    /// `errors 2, reward 0.713`.
    fn stats_text(&self) -> String {
        let stats = self.stats.lock().expect("stats lock");
        let reward = match stats.rewards {
            (_, 0) => "-".to_string(),
            (sum, n) => format!("{:.3}", sum / n as f64),
        };
        format!("errors {}, reward {reward}", stats.errors)
    }

    /// `120/400 (30%), 12.3/s, eta 23s, errors 0, reward 0.712`.
    fn numbers(&self) -> String {
        let (done, total) = (self.bar.position(), self.bar.length().unwrap_or(0));
        let percent = (done * 100).checked_div(total).unwrap_or(100);
        let eta = indicatif::HumanDuration(self.bar.eta());
        format!("{done}/{total} ({percent}%), {:.1}/s, eta {eta}, {}", self.bar.per_sec(), self.stats_text())
    }
}

impl Progress {
    /// The display for the jobs that will run.
    pub(crate) fn new<'a>(mode: ProgressMode, jobs: impl Iterator<Item = &'a PreparedJob> + Clone) -> Self {
        let target =
            if mode == ProgressMode::Bars { ProgressDrawTarget::stderr() } else { ProgressDrawTarget::hidden() };
        let bars = MultiProgress::with_draw_target(target);
        let total = jobs.clone().map(PreparedJob::sample_count).sum();
        let overall = bars.add(ProgressBar::new(total));
        overall.set_style(bar_style("{prefix:32} {bar:30.cyan} {pos}/{len} {per_sec} eta {eta}"));
        overall.set_prefix(format!("all {} jobs", jobs.count()));
        let progress = Progress { mode, bars, overall, running: Arc::default() };
        if let ProgressMode::Lines { every } = mode {
            progress.spawn_reporter(every);
        }
        progress
    }

    /// The display of one job.
    pub(crate) fn job(&self, job: &PreparedJob) -> JobBars {
        let bar = self.bars.add(ProgressBar::new(job.sample_count()));
        bar.set_style(bar_style("{prefix:32} {bar:30} {pos}/{len} {per_sec} eta {eta} {msg}"));
        bar.set_prefix(job.plan.job_id.clone());
        let bars = JobBars {
            job_id: job.plan.job_id.as_str().into(),
            bar,
            overall: self.overall.clone(),
            stats: Arc::default(),
            lines: matches!(self.mode, ProgressMode::Lines { .. }),
        };
        self.running.lock().expect("progress lock").push(bars.clone());
        bars
    }

    /// Print a line per started, unfinished job every `every`.
    fn spawn_reporter(&self, every: Duration) {
        let running = Arc::downgrade(&self.running);
        tokio::spawn(async move {
            let mut ticks = tokio::time::interval(every);
            ticks.tick().await;
            loop {
                ticks.tick().await;
                let Some(running) = running.upgrade() else { return };
                for job in running.lock().expect("progress lock").iter() {
                    if !job.bar.is_finished() && job.stats.lock().expect("stats lock").started {
                        eprintln!("{}: {}", job.job_id, job.numbers());
                    }
                }
            }
        });
    }
}

fn bar_style(template: &str) -> ProgressStyle {
    ProgressStyle::with_template(template).unwrap_or_else(|_| ProgressStyle::default_bar())
}

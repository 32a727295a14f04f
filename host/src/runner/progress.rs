//! How a run shows its progress on stderr.
//!
//! - [`ProgressMode::Bars`] (a terminal): an overall bar and one bar per
//!   running job with done/total, rate, ETA, errors and mean reward so far.
//! - [`ProgressMode::Lines`] (`-v`, or stderr is not a terminal): every
//!   interval, one plain line per running job with the same numbers, and a
//!   line when each job ends, so logs of batch jobs stay readable.
//! - [`ProgressMode::Hidden`] (`-q`).
//!
//! ETAs come from each bar's average pace since it started ([`Pace`]), not
//! from indicatif's estimate, which follows the last seconds: when a job's
//! last samples wait on a rate limit, that one jumped to 20 minutes at
//! 181/200.
#![allow(clippy::print_stderr, reason = "the progress display owns stderr while a run goes on")]

use super::preflight::PreparedJob;
use crate::store::{JobStatus, SampleResult, Summary};
use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

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
    overall_pace: Arc<Pace>,
    running: Arc<Mutex<Vec<JobBars>>>,
}

/// A bar's pace: samples recorded since it started, over the time since.
/// Samples a resumed job already had are skipped, so they do not make the
/// pace look faster than it is.
struct Pace {
    started: Mutex<Instant>,
    skipped: AtomicU64,
}

impl Pace {
    fn new() -> Arc<Self> {
        Arc::new(Pace { started: Mutex::new(Instant::now()), skipped: AtomicU64::new(0) })
    }

    /// Start again now, at `position` (a job starting, perhaps resumed).
    fn restart_at(&self, position: u64) {
        *self.started.lock().expect("pace lock") = Instant::now();
        self.skipped.store(position, Ordering::Relaxed);
    }

    /// `count` samples were recorded before this run: not part of the pace.
    fn skip(&self, count: u64) {
        self.skipped.fetch_add(count, Ordering::Relaxed);
    }

    /// The time left for a bar at `position` of `length`.
    fn eta(&self, position: u64, length: u64) -> Option<Duration> {
        let elapsed = self.started.lock().expect("pace lock").elapsed();
        let done = position.saturating_sub(self.skipped.load(Ordering::Relaxed));
        estimate_eta(done, length.saturating_sub(position), elapsed)
    }

    /// The ETA as bars and lines show it: `23s`, `4m`, or `-` before the
    /// first sample.
    fn eta_text(&self, position: u64, length: u64) -> String {
        self.eta(position, length).map_or("-".into(), |eta| indicatif::HumanDuration(eta).to_string())
    }

    /// A bar style whose `{eta}` is this pace's.
    fn style(self: &Arc<Self>, template: &str) -> ProgressStyle {
        let pace = self.clone();
        bar_style(template).with_key("eta", move |state: &indicatif::ProgressState, w: &mut dyn std::fmt::Write| {
            let _ = w.write_str(&pace.eta_text(state.pos(), state.len().unwrap_or(0)));
        })
    }
}

/// The time `remaining` samples take at the average pace of `done` in
/// `elapsed`; unknown before the first. The average moves slowly: a
/// stretch with no progress (a rate-limit pause, the last slow samples)
/// lengthens it in proportion, never to hours.
fn estimate_eta(done: u64, remaining: u64, elapsed: Duration) -> Option<Duration> {
    match (done, remaining) {
        (_, 0) => Some(Duration::ZERO),
        (0, _) => None,
        _ => Some(elapsed.mul_f64(remaining as f64 / done as f64)),
    }
}

/// What one job reports as samples are recorded.
#[derive(Clone)]
pub(crate) struct JobBars {
    job_id: Arc<str>,
    pub bar: ProgressBar,
    pace: Arc<Pace>,
    overall: ProgressBar,
    overall_pace: Arc<Pace>,
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
        self.pace.restart_at(done);
        self.overall_pace.skip(done);
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

    /// The job ended with `status`. Only a completed job's bar is filled:
    /// one that failed or was interrupted keeps the samples it recorded
    /// (indicatif's `finish` would show it full).
    pub(crate) fn finish(&self, status: JobStatus) {
        self.refresh();
        if status == JobStatus::Completed {
            self.bar.finish();
        } else {
            self.bar.abandon();
        }
        if self.lines {
            let (done, total) = (self.bar.position(), self.bar.length().unwrap_or(0));
            let took = indicatif::HumanDuration(self.bar.elapsed());
            eprintln!("{}: {}, {done}/{total} samples, {}, in {took}", self.job_id, status.as_str(), self.stats_text());
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
        let eta = self.pace.eta_text(done, total);
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
        let overall_pace = Pace::new();
        overall.set_style(overall_pace.style("{prefix:32} {bar:30.cyan} {pos}/{len} {per_sec} eta {eta}"));
        overall.set_prefix(format!("all {} jobs", jobs.count()));
        let progress = Progress { mode, bars, overall, overall_pace, running: Arc::default() };
        if let ProgressMode::Lines { every } = mode {
            progress.spawn_reporter(every);
        }
        progress
    }

    /// The display of one job.
    pub(crate) fn job(&self, job: &PreparedJob) -> JobBars {
        let bar = self.bars.add(ProgressBar::new(job.sample_count()));
        let pace = Pace::new();
        bar.set_style(pace.style("{prefix:32} {bar:30} {pos}/{len} {per_sec} eta {eta} {msg}"));
        bar.set_prefix(job.plan.job_id.clone());
        let bars = JobBars {
            job_id: job.plan.job_id.as_str().into(),
            bar,
            pace,
            overall: self.overall.clone(),
            overall_pace: self.overall_pace.clone(),
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

#[cfg(test)]
mod tests {
    use super::*;

    const SECOND: Duration = Duration::from_secs(1);

    #[test]
    fn the_eta_stays_sane_when_the_rate_collapses_near_the_end() {
        // 200 samples at one a second, then the last 19 stuck behind a
        // rate limit for a minute: the estimate grows in proportion.
        assert_eq!(estimate_eta(181, 19, 181 * SECOND), Some(19 * SECOND));
        let stalled = estimate_eta(181, 19, 241 * SECOND).unwrap();
        assert!(stalled > 19 * SECOND && stalled < 26 * SECOND, "{stalled:?}");
        // Ten minutes without a sample still says minutes, not hours.
        let long = estimate_eta(181, 19, 781 * SECOND).unwrap();
        assert!(long < 90 * SECOND, "{long:?}");
    }

    #[test]
    fn the_eta_is_unknown_before_the_first_sample_and_zero_at_the_end() {
        assert_eq!(estimate_eta(0, 200, 30 * SECOND), None);
        assert_eq!(estimate_eta(200, 0, 30 * SECOND), Some(Duration::ZERO));
        assert_eq!(estimate_eta(0, 0, Duration::ZERO), Some(Duration::ZERO));
    }

    #[test]
    fn a_resumed_jobs_earlier_samples_are_not_part_of_its_pace() {
        let pace = Pace::new();
        assert_eq!(pace.eta_text(0, 100), "-");
        pace.restart_at(90);
        // Resumed at 90/100 and nothing new yet: no pace to go by.
        assert_eq!(pace.eta(90, 100), None);
        *pace.started.lock().unwrap() -= 10 * SECOND;
        // Five new samples in ten seconds: the five left take ten more.
        let eta = pace.eta(95, 100).unwrap();
        assert!(eta >= 10 * SECOND && eta < 11 * SECOND, "{eta:?}");
        let overall = Pace::new();
        overall.skip(90);
        *overall.started.lock().unwrap() -= 10 * SECOND;
        let eta = overall.eta(95, 200).unwrap();
        assert!(eta >= 210 * SECOND && eta < 215 * SECOND, "{eta:?}");
    }
}

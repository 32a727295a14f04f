//! `--max-cost`: a spending cap on one invocation. Once the samples it
//! finished cost the cap, no new sample starts; samples in flight finish
//! and are recorded (their cost is already spent), and the jobs left are
//! `interrupted`, so a rerun resumes them. Only priced models (and judges)
//! count: a sample without a price costs nothing here.

use std::sync::atomic::{AtomicU64, Ordering};

/// The cap and what has been spent against it.
#[derive(Debug)]
pub(crate) struct CostLimit {
    max_usd: f64,
    /// Spent so far, in billionths of a dollar (an atomic sum).
    spent_nano_usd: AtomicU64,
}

impl CostLimit {
    /// A cap of `max_usd` dollars, nothing spent.
    pub(crate) fn new(max_usd: f64) -> Self {
        CostLimit { max_usd, spent_nano_usd: AtomicU64::new(0) }
    }

    /// Count a finished sample's cost.
    pub(crate) fn spend(&self, usd: f64) {
        self.spent_nano_usd.fetch_add((usd * 1e9).round() as u64, Ordering::SeqCst);
    }

    /// Dollars spent so far.
    pub(crate) fn spent(&self) -> f64 {
        self.spent_nano_usd.load(Ordering::SeqCst) as f64 / 1e9
    }

    /// The cap, in dollars.
    pub(crate) fn max(&self) -> f64 {
        self.max_usd
    }

    /// Whether the spend has reached the cap: no new sample may start.
    pub(crate) fn reached(&self) -> bool {
        self.spent() >= self.max_usd
    }
}

#[cfg(test)]
mod tests {
    use super::CostLimit;

    #[test]
    fn the_cap_is_reached_once_the_spend_meets_it() {
        let limit = CostLimit::new(0.01);
        limit.spend(0.004);
        limit.spend(0.005);
        assert!(!limit.reached());
        limit.spend(0.001);
        assert!(limit.reached() && (limit.spent() - 0.01).abs() < 1e-12);
        assert!(CostLimit::new(0.0).reached(), "a zero cap starts nothing");
    }
}

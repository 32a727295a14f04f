//! The statistics assay reports, with their exact definitions.
//!
//! - Standard error: sample standard deviation (n − 1) over √n, of
//!   per-example means (rollouts are averaged within an example first).
//! - 95% confidence interval: mean ± t(0.975, n − 1) · stderr (Student's t);
//!   with fewer than two examples it collapses to the mean.
//! - pass@k (Chen et al. 2021, unbiased): for an example with n samples of
//!   which c are correct, `1 − C(n−c, k) / C(n, k)`, computed as
//!   `1 − ∏_{i=n−c+1}^{n} (1 − k/i)`; 1 when `n − c < k`. Examples with
//!   fewer than k samples are left out of pass@k.
//! - maj@k: the most frequent parsed answer among an example's first k
//!   rollouts (no answer never wins; ties go to the answer seen first), and
//!   whether it is correct.

use statrs::distribution::{ContinuousCDF, StudentsT};

/// Mean and sample standard deviation (n − 1); the deviation is `None`
/// below two values.
pub fn mean_std(values: &[f64]) -> Option<(f64, Option<f64>)> {
    if values.is_empty() {
        return None;
    }
    let n = values.len() as f64;
    let mean = values.iter().sum::<f64>() / n;
    let std = (values.len() > 1).then(|| (values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1.0)).sqrt());
    Some((mean, std))
}

/// A mean with its standard error and 95% t interval.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct Estimate {
    /// Values averaged.
    pub n: usize,
    /// The mean.
    pub mean: f64,
    /// Standard error of the mean (sample standard deviation / √n).
    pub stderr: Option<f64>,
    /// Lower end of the 95% Student-t interval.
    pub ci_low: f64,
    /// Upper end of the 95% Student-t interval.
    pub ci_high: f64,
}

/// The mean of `values` with its standard error and 95% interval.
pub fn estimate(values: &[f64]) -> Option<Estimate> {
    let (mean, std) = mean_std(values)?;
    let n = values.len();
    let stderr = std.map(|s| s / (n as f64).sqrt());
    let half = match stderr {
        Some(se) => t_quantile(0.975, (n - 1) as f64) * se,
        None => 0.0,
    };
    Some(Estimate { n, mean, stderr, ci_low: mean - half, ci_high: mean + half })
}

/// The `p` quantile of Student's t with `df` degrees of freedom.
pub fn t_quantile(p: f64, df: f64) -> f64 {
    StudentsT::new(0.0, 1.0, df).expect("df > 0").inverse_cdf(p)
}

/// Unbiased pass@k for one example with `n` samples, `c` of them correct.
/// `None` when `k > n`.
pub fn pass_at_k(n: u64, c: u64, k: u64) -> Option<f64> {
    if k > n || k == 0 {
        return None;
    }
    if n - c < k {
        return Some(1.0);
    }
    let all_wrong: f64 = ((n - c + 1)..=n).map(|i| 1.0 - k as f64 / i as f64).product();
    Some(1.0 - all_wrong)
}

/// maj@k for one example: `samples` are (parsed answer, correct) in rollout
/// order; the vote is over the first `k`. `None` when there are fewer than
/// `k` samples.
pub fn majority_correct(samples: &[(Option<&str>, bool)], k: usize) -> Option<bool> {
    if k == 0 || samples.len() < k {
        return None;
    }
    let mut tally: Vec<(&str, usize, bool)> = Vec::new();
    for (answer, correct) in samples[..k].iter().filter_map(|(a, c)| a.map(|a| (a, *c))) {
        match tally.iter_mut().find(|(seen, _, _)| *seen == answer) {
            Some(entry) => entry.1 += 1,
            None => tally.push((answer, 1, correct)),
        }
    }
    // max_by_key keeps the last maximum; iterate reversed so the first seen wins ties.
    Some(tally.iter().rev().max_by_key(|(_, count, _)| *count).is_some_and(|(_, _, correct)| *correct))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// C(n, k) exactly, for checking the product form.
    fn choose(n: u64, k: u64) -> f64 {
        if k > n {
            return 0.0;
        }
        (0..k).map(|i| (n - i) as f64 / (i + 1) as f64).product()
    }

    #[test]
    fn pass_at_k_matches_the_closed_form() {
        for n in 1..=12u64 {
            for c in 0..=n {
                for k in 1..=n {
                    let closed = 1.0 - choose(n - c, k) / choose(n, k);
                    let got = pass_at_k(n, c, k).unwrap();
                    assert!((got - closed).abs() < 1e-12, "n={n} c={c} k={k}: {got} vs {closed}");
                }
            }
        }
        assert_eq!(pass_at_k(3, 1, 4), None, "k above n is not reported");
        assert_eq!(pass_at_k(5, 0, 1), Some(0.0));
        assert_eq!(pass_at_k(5, 5, 3), Some(1.0));
        assert!((pass_at_k(10, 3, 1).unwrap() - 0.3).abs() < 1e-12, "pass@1 is the fraction correct");
    }

    #[test]
    fn majority_votes_break_ties_by_first_seen_and_ignore_missing_answers() {
        let s = |a: Option<&'static str>, c| (a, c);
        let tie = [s(Some("Paris"), true), s(Some("London"), false), s(Some("Berlin"), false)];
        assert_eq!(majority_correct(&tie, 3), Some(true), "three-way tie: the first seen (Paris) wins");
        let votes = [s(Some("B"), false), s(None, false), s(Some("A"), true), s(Some("A"), true)];
        assert_eq!(majority_correct(&votes, 4), Some(true));
        assert_eq!(majority_correct(&votes, 2), Some(false), "only the first two vote");
        assert_eq!(majority_correct(&[s(None, false)], 1), Some(false), "no answer is never right");
        assert_eq!(majority_correct(&votes, 5), None);
    }

    #[test]
    fn estimates_use_the_sample_deviation_and_student_t() {
        let e = estimate(&(0..10).map(f64::from).collect::<Vec<_>>()).unwrap();
        assert_eq!(e.mean, 4.5);
        assert!((e.stderr.unwrap() - 0.957427107756338).abs() < 1e-12, "Inspect's fixture: 0..9 gives 0.957");
        let t = t_quantile(0.975, 9.0);
        assert!((t - 2.2621571627409915).abs() < 1e-9, "{t}");
        assert!((e.ci_high - (4.5 + t * e.stderr.unwrap())).abs() < 1e-12);
        let one = estimate(&[0.7]).unwrap();
        assert_eq!((one.stderr, one.ci_low, one.ci_high), (None, 0.7, 0.7));
    }
}

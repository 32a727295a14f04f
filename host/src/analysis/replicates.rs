//! Win rates in one env, for the point estimate and for each bootstrap
//! replicate (a draw of the env's examples with replacement), folded into
//! running sums over envs as soon as they are computed.
//!
//! How a draw is computed depends on the env ([`Kernel`]):
//! - **two-valued**: every compared model scored every example, and the
//!   scores take two values (0/1 rewards with one rollout, say). Then a
//!   pair's points on an example are ½ + (x_m − x_o)/2, x being 1 for the
//!   higher value, so the pair's win rate over a draw is
//!   ½ + (y_m − y_o)/2n, y_m counting the draws where m has the higher
//!   value; HELM's ranking of means is the ranking of y. A draw costs one
//!   pass over examples × models (16-bit adds), not over examples × pairs:
//!   this is what makes 100 models × 50 envs × 10,000 examples × 1,000
//!   replicates take seconds.
//! - **general**, pairwise: per pair, each example's points (1, ½, 0) and
//!   whether it counts, as f32 masks; a draw costs two dot products with
//!   its per-example draw counts, per pair (models² × examples).
//! - **general**, HELM: per model, the draw-weighted mean of its scores.

use super::scores::EnvView;
use super::winrate::{Method, Missing, Record, WinrateOptions, helm_column};
use rand::rngs::Xoshiro256PlusPlus;
use rand::{Rng, SeedableRng};

/// Pairs of models (m < o) in the order (0,1), (0,2), ..., (1,2), ...
pub(crate) fn pairs(models: usize) -> impl Iterator<Item = (usize, usize)> {
    (0..models).flat_map(move |m| (m + 1..models).map(move |o| (m, o)))
}

/// Win rates in one env for one draw of its examples.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct EnvRates {
    /// Each model's win rate there (pairwise: the mean over the opponents
    /// it shares an example with; HELM: its column value); `None`: none.
    pub model: Vec<Option<f64>>,
    /// Pairwise: each pair's win rate of its first model; `None` when no
    /// example counts for the pair.
    pub pairs: Vec<Option<f64>>,
}

impl EnvRates {
    /// Pairwise rates, and each model's mean over its opponents.
    fn from_pairs(models: usize, pairs: Vec<Option<f64>>) -> Self {
        let mut sums = vec![(0.0, 0u32); models];
        for ((m, o), rate) in self::pairs(models).zip(&pairs) {
            if let Some(rate) = rate {
                sums[m] = (sums[m].0 + rate, sums[m].1 + 1);
                sums[o] = (sums[o].0 + (1.0 - rate), sums[o].1 + 1);
            }
        }
        let model = sums.iter().map(|(sum, n)| (*n > 0).then(|| sum / f64::from(*n))).collect();
        EnvRates { model, pairs }
    }
}

/// The point estimate's extras: per pair wins, losses and ties.
pub(crate) struct PointExtras {
    pub records: Vec<Record>,
}

/// Running sums over envs, per replicate, of each model's win rate and
/// each pair's, weighted: (Σ weight × rate, Σ weight) over the envs where
/// there is a rate. Only these are kept, not each replicate's per-env
/// matrices.
pub(crate) struct Totals {
    width: usize,
    sums: Vec<(f64, f64)>,
}

impl Totals {
    /// Sums for `replicates` draws of `models` models.
    pub(crate) fn new(models: usize, replicates: usize) -> Self {
        let width = models + models * models.saturating_sub(1) / 2;
        Totals { width, sums: vec![(0.0, 0.0); width * replicates] }
    }

    /// Replicate `r`'s sums: models, then pairs.
    pub(crate) fn row(&self, r: usize) -> &[(f64, f64)] {
        &self.sums[r * self.width..(r + 1) * self.width]
    }

    /// The aggregate of quantity `q` (model index, or models + pair index)
    /// in each replicate (NaN where it never had a rate).
    pub(crate) fn aggregates(&self, q: usize) -> Vec<f64> {
        self.sums.chunks(self.width).map(|row| ratio(row[q])).collect()
    }
}

/// Σ weight × rate / Σ weight.
pub(crate) fn ratio((sum, weight): (f64, f64)) -> f64 {
    if weight > 0.0 { sum / weight } else { f64::NAN }
}

fn fold(row: &mut [(f64, f64)], rates: &EnvRates, weight: f64) {
    let values = rates.model.iter().chain(&rates.pairs);
    for (total, rate) in row.iter_mut().zip(values) {
        if let Some(rate) = rate.filter(|r| !r.is_nan()) {
            *total = (total.0 + weight * rate, total.1 + weight);
        }
    }
}

/// How one env's draws are computed (see the module docs).
pub(crate) enum Kernel<'a> {
    TwoValued(TwoValued),
    Pairs(Vec<PairMasks>),
    Means(&'a EnvView),
}

/// Every model scored every example, with one of two values.
pub(crate) struct TwoValued {
    models: usize,
    examples: usize,
    /// Models in blocks of [`LANES`]: `high[b * examples + i][l]` is all
    /// ones if model `b * LANES + l` has the higher value on example i, else
    /// 0, so a block's counts add up in one 16-bit vector.
    high: Vec<[u16; LANES]>,
}

/// Models counted at once: 64 16-bit lanes, eight SSE2 registers, which
/// stay in registers while every example's row is added in.
const LANES: usize = 64;

/// How two models (`m` < `o`) compare on each example, as masks.
pub(crate) struct PairMasks {
    /// `m`'s points on each example: 1 for a win, ½ for a tie, else 0.
    points: Vec<f32>,
    /// 1 where the example counts for this pair.
    counted: Vec<f32>,
    /// Wins, losses and ties of `m` with every example counted once.
    record: Record,
}

impl<'a> Kernel<'a> {
    /// The kernel for `view`, with `models` models.
    pub(crate) fn new(view: &'a EnvView, models: usize, options: &WinrateOptions) -> Kernel<'a> {
        if let Some(two) = TwoValued::new(view, models, options) {
            return Kernel::TwoValued(two);
        }
        match options.method {
            Method::Helm => Kernel::Means(view),
            Method::Pairwise => Kernel::Pairs(
                pairs(models).map(|(m, o)| PairMasks::new(view.model(m), view.model(o), options)).collect(),
            ),
        }
    }

    /// The env's rates with every example drawn once, and the pairs' records.
    pub(crate) fn point(&self, view: &EnvView, method: Method) -> (EnvRates, PointExtras) {
        let models = view.scores.len() / view.n.max(1);
        match self {
            Kernel::TwoValued(two) => {
                let high = two.count(&vec![1; view.n]);
                (two.rates(&high, view.n, method), PointExtras { records: two.records(&high, view.n) })
            }
            Kernel::Pairs(masks) => {
                let records = masks.iter().map(|pair| pair.record).collect();
                (pair_rates(masks, models, None), PointExtras { records })
            }
            Kernel::Means(view) => (helm_rates(view, models, None), PointExtras { records: Vec::new() }),
        }
    }

    /// Add replicate r's rates in env `env` (weight `weight`) to `totals`,
    /// for every r, on every available core. Replicate r of env e draws
    /// from a generator seeded with (seed, e, r), so results do not depend
    /// on how many threads compute them.
    pub(crate) fn resample(
        &self,
        view: &EnvView,
        env: usize,
        weight: f64,
        options: &WinrateOptions,
        totals: &mut Totals,
    ) {
        let models = view.scores.len() / view.n.max(1);
        let replicates = totals.sums.len() / totals.width.max(1);
        let threads = std::thread::available_parallelism().map_or(1, |n| n.get()).min(replicates.max(1));
        let per_thread = replicates.div_ceil(threads).max(1);
        let width = totals.width;
        std::thread::scope(|scope| {
            for (chunk, rows) in totals.sums.chunks_mut(per_thread * width).enumerate() {
                scope.spawn(move || {
                    let mut counts = vec![0u16; view.n];
                    for (offset, row) in rows.chunks_mut(width).enumerate() {
                        let r = chunk * per_thread + offset;
                        draw(&mut counts, options.seed, env, r);
                        match self {
                            Kernel::TwoValued(two) => {
                                two.fold(row, &two.count(&counts), view.n, options.method, weight);
                            }
                            Kernel::Pairs(masks) => fold(row, &pair_rates(masks, models, Some(&counts)), weight),
                            Kernel::Means(view) => fold(row, &helm_rates(view, models, Some(&counts)), weight),
                        }
                    }
                });
            }
        });
    }
}

/// Add the point estimate of an env to `totals` (one row).
pub(crate) fn fold_point(totals: &mut Totals, rates: &EnvRates, weight: f64) {
    let width = totals.width;
    fold(&mut totals.sums[..width], rates, weight);
}

/// Draw `counts.len()` examples with replacement: `counts[i]` is how often
/// example i was drawn (saturating at 65,535, which no draw of an example
/// comes near).
fn draw(counts: &mut [u16], seed: u64, env: usize, replicate: usize) {
    let key = seed ^ ((env as u64) << 32) ^ replicate as u64;
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(key);
    counts.fill(0);
    let n = counts.len();
    for _ in 0..n {
        let i = below(&mut rng, n as u64) as usize;
        counts[i] = counts[i].saturating_add(1);
    }
}

/// A uniform integer in `0..n`: Lemire's multiply-shift, drawing again in
/// the rare case that would bias it. Cheaper than the general
/// `random_range`, which matters at half a billion draws.
fn below(rng: &mut Xoshiro256PlusPlus, n: u64) -> u64 {
    let mut product = u128::from(rng.next_u64()) * u128::from(n);
    if (product as u64) < n {
        let threshold = n.wrapping_neg() % n;
        while (product as u64) < threshold {
            product = u128::from(rng.next_u64()) * u128::from(n);
        }
    }
    (product >> 64) as u64
}

impl TwoValued {
    /// The kernel, if every model scored every example of `view` with one
    /// of two values (for pairwise, further apart than epsilon; closer,
    /// every comparison ties and no model has "the higher" value).
    fn new(view: &EnvView, models: usize, options: &WinrateOptions) -> Option<TwoValued> {
        let low = view.scores.iter().copied().fold(f64::INFINITY, f64::min);
        let high = view.scores.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        if view.scores.iter().any(|s| s.is_nan() || (*s != low && *s != high)) || view.n == 0 {
            return None;
        }
        let apart = match options.method {
            Method::Pairwise => high - low > options.epsilon,
            Method::Helm => high > low,
        };
        let examples = view.n;
        let mut rows = vec![[0u16; LANES]; models.div_ceil(LANES) * examples];
        for m in 0..models {
            let (block, lane) = (m / LANES, m % LANES);
            for (i, score) in view.model(m).iter().enumerate() {
                rows[block * examples + i][lane] = if apart && *score == high { u16::MAX } else { 0 };
            }
        }
        Some(TwoValued { models, examples, high: rows })
    }

    /// For each model, Σ counts[i] over the examples where it has the
    /// higher value.
    fn count(&self, counts: &[u16]) -> Vec<u64> {
        // Sixteen-bit sums overflow past 65,535 draws: add up runs of
        // examples drawn fewer times than that (all of them, in envs of up
        // to 65,535 examples), then widen.
        let mut runs = vec![0];
        if counts.len() > usize::from(u16::MAX) {
            let mut drawn = 0u32;
            for (i, count) in counts.iter().enumerate() {
                if drawn + u32::from(*count) > u32::from(u16::MAX) {
                    runs.push(i);
                    drawn = 0;
                }
                drawn += u32::from(*count);
            }
        }
        runs.push(counts.len());
        let mut total = vec![0u64; self.models.div_ceil(LANES) * LANES];
        for (block, high) in self.high.chunks_exact(self.examples).enumerate() {
            for run in runs.windows(2) {
                let mut sum = [0u16; LANES];
                for (row, count) in high[run[0]..run[1]].iter().zip(&counts[run[0]..run[1]]) {
                    for lane in 0..LANES {
                        sum[lane] += row[lane] & count;
                    }
                }
                for lane in 0..LANES {
                    total[block * LANES + lane] += u64::from(sum[lane]);
                }
            }
        }
        total.truncate(self.models);
        total
    }

    /// Fold the rates of a draw whose counts of the higher value are
    /// `high`, over `n` draws, into `row`, without building them one by
    /// one: a pair's rate is ½ + (h_m − h_o)/2n, a model's mean over its
    /// opponents ½ + (h_m − mean of the others' h)/2n.
    fn fold(&self, row: &mut [(f64, f64)], high: &[u64], n: usize, method: Method, weight: f64) {
        let (models, n) = (self.models, n as f64);
        let rates = self.rates(high, n as usize, method);
        if method == Method::Helm {
            return fold(row, &rates, weight);
        }
        let total: f64 = high.iter().map(|h| *h as f64).sum();
        let others = (models - 1) as f64;
        for (m, cell) in row[..models].iter_mut().enumerate() {
            let rate = 0.5 + (high[m] as f64 - (total - high[m] as f64) / others) / (2.0 * n);
            *cell = (cell.0 + weight * rate, cell.1 + weight);
        }
        for (cell, (m, o)) in row[models..].iter_mut().zip(pairs(models)) {
            let rate = 0.5 + (high[m] as f64 - high[o] as f64) / (2.0 * n);
            *cell = (cell.0 + weight * rate, cell.1 + weight);
        }
    }

    /// The rates of a draw whose counts of the higher value are `high`,
    /// over `n` draws (HELM: its column; pairwise: every pair's).
    fn rates(&self, high: &[u64], n: usize, method: Method) -> EnvRates {
        match method {
            Method::Pairwise => {
                let n = n as f64;
                let rate = |(m, o): (usize, usize)| Some(0.5 + (high[m] as f64 - high[o] as f64) / (2.0 * n));
                EnvRates::from_pairs(self.models, pairs(self.models).map(rate).collect())
            }
            Method::Helm => {
                let column: Vec<Option<f64>> = high.iter().map(|h| Some(*h as f64)).collect();
                EnvRates { model: helm_column(&column), pairs: Vec::new() }
            }
        }
    }

    /// Whether model m has the higher value on example i.
    fn is_high(&self, m: usize, i: usize) -> bool {
        self.high[(m / LANES) * self.examples + i][m % LANES] != 0
    }

    /// Each pair's wins, losses and ties over the `n` examples, given each
    /// model's count of higher values `high`: m wins where only it has the
    /// higher value, so wins = high[m] − both, with `both` counted on bitsets.
    fn records(&self, high: &[u64], n: usize) -> Vec<Record> {
        let words = n.div_ceil(64);
        let mut bits = vec![vec![0u64; words]; self.models];
        for (m, bits) in bits.iter_mut().enumerate() {
            for i in (0..n).filter(|i| self.is_high(m, *i)) {
                bits[i / 64] |= 1 << (i % 64);
            }
        }
        pairs(self.models)
            .map(|(m, o)| {
                let both: u64 = bits[m].iter().zip(&bits[o]).map(|(a, b)| u64::from((a & b).count_ones())).sum();
                let (wins, losses) = (high[m] - both, high[o] - both);
                Record { wins, losses, ties: n as u64 - wins - losses }
            })
            .collect()
    }
}

/// The result of comparing two scores on one example, for the first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outcome {
    Win,
    Loss,
    Tie,
}

/// Compare `a` with `b` (NaN: no score) under the missing policy; `None`:
/// the example does not count.
fn outcome(a: f64, b: f64, options: &WinrateOptions) -> Option<Outcome> {
    let (a, b) = match (a.is_nan(), b.is_nan(), options.missing) {
        (true, true, _) => return None,
        (false, false, _) => (a, b),
        (_, _, Missing::Drop) => return None,
        (_, _, Missing::Zero) => (if a.is_nan() { 0.0 } else { a }, if b.is_nan() { 0.0 } else { b }),
        (_, _, Missing::Loss) => {
            (if a.is_nan() { f64::NEG_INFINITY } else { a }, if b.is_nan() { f64::NEG_INFINITY } else { b })
        }
    };
    Some(if a - b > options.epsilon {
        Outcome::Win
    } else if b - a > options.epsilon {
        Outcome::Loss
    } else {
        Outcome::Tie
    })
}

impl PairMasks {
    fn new(a: &[f64], b: &[f64], options: &WinrateOptions) -> Self {
        let outcomes: Vec<Option<Outcome>> = a.iter().zip(b).map(|(a, b)| outcome(*a, *b, options)).collect();
        let count = |wanted: Outcome| outcomes.iter().filter(|x| **x == Some(wanted)).count() as u64;
        let points = |x: &Option<Outcome>| match x {
            Some(Outcome::Win) => 1.0,
            Some(Outcome::Tie) => 0.5,
            _ => 0.0,
        };
        PairMasks {
            points: outcomes.iter().map(points).collect(),
            counted: outcomes.iter().map(|x| if x.is_some() { 1.0 } else { 0.0 }).collect(),
            record: Record { wins: count(Outcome::Win), losses: count(Outcome::Loss), ties: count(Outcome::Tie) },
        }
    }
}

/// Pairwise rates from masks, each example counted `counts[i]` times (once
/// without counts).
fn pair_rates(masks: &[PairMasks], models: usize, counts: Option<&[u16]>) -> EnvRates {
    let weights: Option<Vec<f32>> = counts.map(|c| c.iter().map(|n| f32::from(*n)).collect());
    let rates = masks.iter().map(|pair| {
        let (points, total) = match &weights {
            None => {
                let r = pair.record;
                (r.wins as f64 + r.ties as f64 / 2.0, (r.wins + r.losses + r.ties) as f64)
            }
            Some(w) => (f64::from(dot(w, &pair.points)), f64::from(dot(w, &pair.counted))),
        };
        (total > 0.0).then(|| points / total)
    });
    EnvRates::from_pairs(models, rates.collect())
}

/// HELM's column of draw-weighted mean scores.
fn helm_rates(view: &EnvView, models: usize, counts: Option<&[u16]>) -> EnvRates {
    let means: Vec<Option<f64>> = (0..models)
        .map(|m| {
            let (mut sum, mut n) = (0.0, 0.0);
            for (i, score) in view.model(m).iter().enumerate().filter(|(_, s)| !s.is_nan()) {
                let count = counts.map_or(1.0, |c| f64::from(c[i]));
                sum += score * count;
                n += count;
            }
            (n > 0.0).then(|| sum / n)
        })
        .collect();
    EnvRates { model: helm_column(&means), pairs: Vec::new() }
}

/// Σ aᵢbᵢ, in eight lanes so the compiler vectorizes it. Sums of counts
/// times ½ below 2²³ are exact in f32.
pub(crate) fn dot(a: &[f32], b: &[f32]) -> f32 {
    let mut lanes = [0f32; 8];
    let (a_chunks, b_chunks) = (a.chunks_exact(8), b.chunks_exact(8));
    let tail: f32 = a_chunks.remainder().iter().zip(b_chunks.remainder()).map(|(x, y)| x * y).sum();
    for (x, y) in a_chunks.zip(b_chunks) {
        for i in 0..8 {
            lanes[i] += x[i] * y[i];
        }
    }
    lanes.iter().sum::<f32>() + tail
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::winrate::Weight;
    use rand::RngExt;

    fn options(method: Method, missing: Missing) -> WinrateOptions {
        WinrateOptions {
            method,
            missing,
            weight: Weight::Equal,
            epsilon: 1e-9,
            resamples: 0,
            seed: 0,
            include_models: vec![],
            exclude_models: vec![],
            exclude_envs: vec![],
        }
    }

    /// (rate, record) of `a` against `b` (NaN: no score) with each example
    /// drawn `counts[i]` times.
    fn rate(a: &[f64], b: &[f64], counts: &[u16], missing: Missing) -> (Option<f64>, Record) {
        let masks = [PairMasks::new(a, b, &options(Method::Pairwise, missing))];
        let point = pair_rates(&masks, 2, None);
        let drawn = pair_rates(&masks, 2, Some(counts));
        if counts.iter().all(|c| *c == 1) {
            assert_eq!(drawn, point, "drawing each once is the point estimate");
        }
        (drawn.pairs[0], masks[0].record)
    }

    #[test]
    fn pairs_count_ties_as_half_and_follow_the_missing_policy() {
        let nan = f64::NAN;
        let (a, b) = ([1.0, 0.5, 0.0, nan], [0.0, 0.5, 1.0, 0.0]);
        let ones = [1; 4];
        // win, tie, loss, then b alone.
        let (r, record) = rate(&a, &b, &ones, Missing::Loss);
        assert_eq!(record, Record { wins: 1, losses: 2, ties: 1 });
        assert_eq!(r, Some(1.5 / 4.0));
        assert_eq!(rate(&a, &b, &ones, Missing::Zero).1, Record { wins: 1, losses: 1, ties: 2 });
        assert_eq!(rate(&a, &b, &ones, Missing::Drop).0, Some(1.5 / 3.0));
        assert_eq!(rate(&a, &b, &[2, 0, 0, 0], Missing::Drop).0, Some(1.0), "only the win was drawn");
        assert_eq!(rate(&a, &b, &[0, 3, 1, 0], Missing::Drop).0, Some(1.5 / 4.0), "three ties and a loss");
        assert_eq!(rate(&a, &b, &[0, 0, 0, 1], Missing::Drop).0, None, "nothing that counts was drawn");
        assert_eq!(rate(&b, &a, &ones, Missing::Loss).1, Record { wins: 2, losses: 1, ties: 1 }, "the mirror image");
    }

    #[test]
    fn dot_products_are_exact_on_counts() {
        let a: Vec<f32> = (0..1003).map(|i| (i % 7) as f32).collect();
        let b: Vec<f32> = (0..1003).map(|i| (i % 2) as f32).collect();
        let expected: u64 = (0..1003u64).map(|i| (i % 7) * (i % 2)).sum();
        assert_eq!(dot(&a, &b) as u64, expected);
    }

    /// The two-valued kernel is a shortcut: on two-valued data it gives the
    /// general kernels' rates and records, for the point estimate and draws.
    #[test]
    fn two_valued_draws_equal_the_general_kernels() {
        let (models, n) = (6, 53);
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(1);
        let scores: Vec<f64> = (0..models * n).map(|_| if rng.random_bool(0.4) { 0.75 } else { 0.25 }).collect();
        let view = EnvView { id: "e".into(), n, scores };
        for method in [Method::Pairwise, Method::Helm] {
            let options = options(method, Missing::Loss);
            let Kernel::TwoValued(two) = Kernel::new(&view, models, &options) else { panic!("two-valued data") };
            let general = match method {
                Method::Pairwise => Kernel::Pairs(
                    pairs(models).map(|(m, o)| PairMasks::new(view.model(m), view.model(o), &options)).collect(),
                ),
                Method::Helm => Kernel::Means(&view),
            };
            let fast = Kernel::TwoValued(two);
            let (point, extras) = fast.point(&view, method);
            let (expected, expected_extras) = general.point(&view, method);
            assert_close(&point, &expected);
            if method == Method::Pairwise {
                assert_eq!(extras.records, expected_extras.records);
            }
            let mut counts = vec![0u16; n];
            for replicate in 0..40 {
                draw(&mut counts, 7, 0, replicate);
                let Kernel::TwoValued(two) = &fast else { unreachable!() };
                let high = two.count(&counts);
                let drawn = two.rates(&high, n, method);
                let expected = match &general {
                    Kernel::Pairs(masks) => pair_rates(masks, models, Some(&counts)),
                    Kernel::Means(view) => helm_rates(view, models, Some(&counts)),
                    Kernel::TwoValued(_) => unreachable!(),
                };
                assert_close(&drawn, &expected);
                let width = Totals::new(models, 1).width;
                let (mut folded, mut expected_row) = (vec![(0.0, 0.0); width], vec![(0.0, 0.0); width]);
                two.fold(&mut folded, &high, n, method, 0.5);
                fold(&mut expected_row, &expected, 0.5);
                let same = folded.iter().zip(&expected_row).all(|(a, b)| (a.0 - b.0).abs() < 1e-12 && a.1 == b.1);
                assert!(same, "folded without building the rates: {folded:?}\n{expected_row:?}");
            }
        }
    }

    fn assert_close(a: &EnvRates, b: &EnvRates) {
        let close = |x: &[Option<f64>], y: &[Option<f64>]| {
            x.len() == y.len()
                && x.iter().zip(y).all(|(x, y)| match (x, y) {
                    (Some(x), Some(y)) => (x - y).abs() < 1e-12,
                    (x, y) => x == y,
                })
        };
        assert!(close(&a.model, &b.model) && close(&a.pairs, &b.pairs), "{a:?}\n{b:?}");
    }

    #[test]
    fn counts_stay_exact_past_sixteen_bits() {
        let n = 70_000;
        let scores: Vec<f64> = (0..3 * n).map(|i| f64::from(u8::from(i % 3 == 0 || i % 7 == 0))).collect();
        let view = EnvView { id: "e".into(), n, scores };
        let Kernel::TwoValued(two) = Kernel::new(&view, 3, &options(Method::Pairwise, Missing::Loss)) else {
            panic!("two-valued data")
        };
        let mut counts = vec![0u16; n];
        draw(&mut counts, 5, 0, 0);
        counts[17] = 40_000; // more draws than fit in one 16-bit sum with the rest
        let expected: Vec<u64> =
            (0..3).map(|m| (0..n).filter(|i| view.model(m)[*i] == 1.0).map(|i| u64::from(counts[i])).sum()).collect();
        assert_eq!(two.count(&counts), expected);
    }

    #[test]
    fn draws_are_multisets_of_the_examples() {
        let mut counts = vec![0u16; 1000];
        draw(&mut counts, 3, 2, 1);
        assert_eq!(counts.iter().map(|c| u32::from(*c)).sum::<u32>(), 1000);
        let drawn = counts.iter().filter(|c| **c > 0).count();
        assert!((600..670).contains(&drawn), "about 1 − 1/e of the examples: {drawn}");
        let mut again = vec![0u16; 1000];
        draw(&mut again, 3, 2, 1);
        assert_eq!(counts, again, "the same (seed, env, replicate), the same draw");
        draw(&mut again, 3, 2, 2);
        assert_ne!(counts, again);
    }
}

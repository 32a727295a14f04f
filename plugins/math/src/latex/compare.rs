//! Comparing parsed expressions by value: constants exactly (or as
//! floats when not exact), expressions with variables at seeded random
//! points (Schwartz–Zippel: distinct polynomials and rational functions
//! of modest degree agree at a random rational point with negligible
//! probability), and the sides of equations up to a constant factor.
//!
//! A decimal tolerance applies only when a side was written with a
//! decimal point; see [`Tolerance`].

use super::eval::{self, Value};
use super::expr::Expr;
use crate::arith::{Budget, Float, Rational, Stop};
use crate::verdict::{Comparison, Verdict};
use assay_sdk::Rng;
use num_bigint::BigInt;
use std::collections::BTreeSet;

/// Random points tried for expressions with variables.
const POINTS: usize = 8;

/// Points where both sides must be defined for a verdict of "equal".
const MIN_DEFINED: usize = 3;

/// Seed of the points: fixed, so a grade never changes between runs.
const SEED: u64 = 0x6d61_7468_2d70_6f69;

/// When a decimal may differ from the other side: by `relative` of the
/// larger magnitude, and when the decimal is a whole answer (`0.333`) by
/// less than one unit of its last written digit, so that `0.333` is not
/// `1/3` at a tolerance of 1e-6 and the 31-digit `…902.0` is not `…901`.
#[derive(Debug, Clone)]
pub struct Tolerance {
    relative: Float,
    last_digit: Option<Float>,
}

impl Tolerance {
    /// The tolerance for comparing `a` with `b`: `None` when neither is
    /// written with a decimal point (then only exact equality counts).
    pub fn between(a: &Expr, b: &Expr, relative: f64) -> Option<Tolerance> {
        if !a.has_decimal() && !b.has_decimal() {
            return None;
        }
        let digits = [a.plain_decimals(), b.plain_decimals()].into_iter().flatten().min();
        let unit =
            |k: u32| Float::from_rational(&Rational::new(1.into(), num_traits::pow(BigInt::from(10), k as usize)));
        Some(Tolerance { relative: Float::from_f64(relative), last_digit: digits.map(unit) })
    }

    fn accepts(&self, x: &Float, y: &Float) -> bool {
        let within_last_digit =
            self.last_digit.as_ref().is_none_or(|unit| x.sub(y).abs().compare(unit) == Some(std::cmp::Ordering::Less));
        within_last_digit && x.close(y, &self.relative, &Float::noise())
    }
}

/// One comparison of two values.
struct Check {
    equal: bool,
    /// Both values were exact.
    exact: bool,
    /// The decimal tolerance was consulted.
    tolerance: bool,
}

/// Whether `x = y`: exactly when both are exact, else as floats up to
/// rounding noise, else within `tolerance` if a side is a decimal.
fn check(x: &Value, y: &Value, tolerance: Option<&Tolerance>, budget: &Budget) -> Result<Check, Stop> {
    let exact = matches!((x, y), (Value::Exact(_), Value::Exact(_)));
    let strict = match (x, y) {
        (Value::Exact(a), Value::Exact(b)) => a.equals(b, budget)?,
        _ => x.to_float().same(&y.to_float()),
    };
    if strict || tolerance.is_none() {
        return Ok(Check { equal: strict, exact, tolerance: false });
    }
    let equal = tolerance.is_some_and(|t| t.accepts(&x.to_float(), &y.to_float()));
    Ok(Check { equal, exact, tolerance: true })
}

/// Seeded random values for `variables`: `POINTS` points, each variable
/// a fraction n/d with 2 ≤ n ≤ 97, 1 ≤ d ≤ 12, negative at three points
/// (so `\sqrt{x}` and `\ln x` still have five defined points). A
/// constant expression has one point, with no variables.
fn points(variables: &BTreeSet<char>) -> Vec<Vec<(char, Rational)>> {
    if variables.is_empty() {
        return vec![Vec::new()];
    }
    let mut rng = Rng::new(SEED);
    (0..POINTS)
        .map(|i| {
            let sign = if i % 3 == 2 { -1 } else { 1 };
            let mut value = |_| {
                let n = 2 + rng.below(96) as i64;
                Rational::new(BigInt::from(sign * n), BigInt::from(1 + rng.below(12) as i64))
            };
            variables.iter().map(|&v| (v, value(v))).collect()
        })
        .collect()
}

/// Summary of the points compared.
struct Tally {
    defined: usize,
    exact: bool,
    tolerance: bool,
}

impl Tally {
    fn new() -> Tally {
        Tally { defined: 0, exact: true, tolerance: false }
    }

    fn record(&mut self, check: &Check) {
        self.defined += 1;
        self.exact &= check.exact;
        self.tolerance |= check.tolerance;
    }

    fn comparison(&self, constant: bool) -> Comparison {
        match (constant, self.exact, self.tolerance) {
            (true, _, true) => Comparison::Decimal,
            (true, true, false) => Comparison::Exact,
            (true, false, false) => Comparison::HighPrecision,
            (false, exact, tolerance) => Comparison::Points { count: self.defined as u8, exact, tolerance },
        }
    }
}

/// Whether two expressions have the same value: at one point for
/// constants, else at every random point where both are defined.
pub fn expressions(a: &Expr, b: &Expr, tolerance: f64, budget: &Budget) -> Verdict {
    let variables: BTreeSet<char> = a.variables().union(&b.variables()).copied().collect();
    let tolerance = Tolerance::between(a, b, tolerance);
    let constant = variables.is_empty();
    let mut tally = Tally::new();
    for point in points(&variables) {
        let step = (|| {
            let x = eval::value(a, &point, budget)?;
            let y = eval::value(b, &point, budget)?;
            check(&x, &y, tolerance.as_ref(), budget)
        })();
        match step {
            Ok(check) => {
                tally.record(&check);
                if !check.equal {
                    return Verdict::different(tally.comparison(constant));
                }
            }
            Err(Stop::Exhausted) => return Verdict::undecided(),
            Err(_) => {} // undefined at this point: skip it
        }
    }
    let needed = if constant { 1 } else { MIN_DEFINED };
    Verdict::from_bool(tally.defined >= needed, tally.comparison(constant))
}

/// Whether `f = k·g` for one constant `k ≠ 0` (`k > 0` when `positive`):
/// two equations `f = 0` and `g = 0` say the same (`x+2y-4=0` and
/// `y=2-\frac{x}{2}`), and so do two inequalities `f ≤ 0`, `g ≤ 0` when
/// `k > 0` (`4 \geq x` and `x \leq 4`).
pub fn proportional(f: &Expr, g: &Expr, positive: bool, tolerance: f64, budget: &Budget) -> Verdict {
    let variables: BTreeSet<char> = f.variables().union(&g.variables()).copied().collect();
    let tolerance = Tolerance::between(f, g, tolerance);
    let constant = variables.is_empty();
    let mut tally = Tally::new();
    let mut factor: Option<Value> = None;
    for point in points(&variables) {
        let step = (|| {
            let (x, y) = (eval::value(f, &point, budget)?, eval::value(g, &point, budget)?);
            let k = match &factor {
                Some(k) => k.clone(),
                // No factor can be read where g = 0: f must be 0 there too.
                None if is_zero(&y) => return Ok((check(&x, &y, tolerance.as_ref(), budget)?, None)),
                None => ratio(&x, &y, budget)?,
            };
            let scaled = product(&k, &y, budget)?;
            Ok((check(&x, &scaled, tolerance.as_ref(), budget)?, Some(k)))
        })();
        match step {
            Ok((check, k)) => {
                tally.record(&check);
                if !check.equal {
                    return Verdict::different(tally.comparison(constant));
                }
                factor = factor.or(k);
            }
            Err(Stop::Exhausted) => return Verdict::undecided(),
            Err(_) => {} // undefined at this point: skip it
        }
    }
    let usable = factor.as_ref().is_some_and(|k| !is_zero(k) && (!positive || !k.to_float().is_negative()));
    let needed = if constant { 1 } else { MIN_DEFINED };
    Verdict::from_bool(usable && tally.defined >= needed, tally.comparison(constant))
}

fn is_zero(v: &Value) -> bool {
    match v {
        Value::Exact(s) => s.is_zero(),
        Value::Float(f) => f.same(&Float::zero()),
    }
}

fn ratio(x: &Value, y: &Value, budget: &Budget) -> Result<Value, Stop> {
    if let (Value::Exact(a), Value::Exact(b)) = (x, y) {
        match a.div(b, budget) {
            Ok(q) => return Ok(Value::Exact(q)),
            Err(Stop::Inexact) => {}
            Err(stop) => return Err(stop),
        }
    }
    Ok(Value::Float(x.to_float().div(&y.to_float())))
}

fn product(x: &Value, y: &Value, budget: &Budget) -> Result<Value, Stop> {
    match (x, y) {
        (Value::Exact(a), Value::Exact(b)) => Ok(Value::Exact(a.mul(b, budget)?)),
        _ => Ok(Value::Float(x.to_float().mul(&y.to_float()))),
    }
}

//! The value of a parsed expression at a point (values of its variables):
//! exact when the arithmetic allows it (rationals, square roots, integer
//! and exact rational powers), else a 320-bit float.

use super::expr::{Constant, Expr, Op};
use crate::arith::{Budget, Float, Rational, Stop, Surd, bits};
use num_bigint::BigInt;
use num_traits::{One, Signed, ToPrimitive};

/// Values of the variables: each variable's exact value.
pub type Point = [(char, Rational)];

/// A computed value.
#[derive(Debug, Clone)]
pub enum Value {
    /// Exact.
    Exact(Surd),
    /// Rounded to 320 bits.
    Float(Float),
}

impl Value {
    /// The value as a float.
    pub fn to_float(&self) -> Float {
        match self {
            Value::Exact(s) => s.to_float(),
            Value::Float(f) => f.clone(),
        }
    }
}

/// Work units charged per float operation, and per transcendental
/// function or general power (about 80 µs each at 320 bits natively, so
/// the budget allows about a thousand of them).
const FLOAT_COST: u64 = 8;
const FUNCTION_COST: u64 = 2_000;

/// The value of `e` at `point`: [`Stop::Undefined`] where it has none,
/// [`Stop::Exhausted`] when the budget runs out or a number outgrows
/// `MAX_BITS` (never a rounded stand-in for it).
pub fn value(e: &Expr, point: &Point, budget: &Budget) -> Result<Value, Stop> {
    match exact(e, point, budget) {
        Ok(surd) => Ok(Value::Exact(surd)),
        Err(Stop::Inexact) => float(e, point, budget).map(Value::Float),
        Err(stop) => Err(stop),
    }
}

fn variable(point: &Point, name: char) -> Result<&Rational, Stop> {
    point.iter().find(|(v, _)| *v == name).map(|(_, q)| q).ok_or(Stop::Undefined)
}

fn exact(e: &Expr, point: &Point, budget: &Budget) -> Result<Surd, Stop> {
    budget.spend(1)?;
    match e {
        Expr::Num(literal) => Ok(Surd::rational(literal.value.clone())),
        Expr::Var(name) => Ok(Surd::rational(variable(point, *name)?.clone())),
        Expr::Const(_) | Expr::Call(..) => Err(Stop::Inexact),
        Expr::Neg(inner) => Ok(exact(inner, point, budget)?.neg()),
        Expr::Sqrt(inner) => {
            let radicand = exact(inner, point, budget)?.as_rational().ok_or(Stop::Inexact)?;
            Surd::sqrt_of(&radicand, budget)
        }
        Expr::Bin(op, l, r) => {
            let (l, r) = (exact(l, point, budget)?, exact(r, point, budget)?);
            match op {
                Op::Add => l.add(&r, budget),
                Op::Sub => l.sub(&r, budget),
                Op::Mul => l.mul(&r, budget),
                Op::Div => l.div(&r, budget),
                Op::Pow => power(&l, &r.as_rational().ok_or(Stop::Inexact)?, budget),
            }
        }
    }
}

/// `base^(p/q)`: exact for integer powers, for square roots of rationals
/// (`8^{3/2}`), and for exact q-th roots of rationals (`27^{2/3}`).
fn power(base: &Surd, exponent: &Rational, budget: &Budget) -> Result<Surd, Stop> {
    let p = exponent.numer().to_i64().ok_or(Stop::Exhausted)?;
    if base.is_zero() {
        return match p.signum() {
            1 => Ok(Surd::default()),
            0 => Ok(Surd::rational(Rational::one())),
            _ => Err(Stop::Undefined),
        };
    }
    let q = exponent.denom();
    if q.is_one() {
        return base.pow(p, budget);
    }
    let radicand = base.as_rational().ok_or(Stop::Inexact)?;
    if *q == BigInt::from(2) {
        return Surd::sqrt_of(&radicand, budget)?.pow(p, budget);
    }
    let q = q.to_u32().filter(|&q| q <= 64).ok_or(Stop::Inexact)?;
    Surd::rational(rational_root(&radicand, q, budget)?).pow(p, budget)
}

/// The exact `q`-th root of a rational, if it has one.
fn rational_root(x: &Rational, q: u32, budget: &Budget) -> Result<Rational, Stop> {
    if x.is_negative() && q.is_multiple_of(2) {
        return Err(Stop::Undefined);
    }
    budget.spend_bits(bits(x) * u64::from(q), bits(x))?;
    let root = |n: &BigInt| {
        let r = n.nth_root(q);
        (num_traits::pow(r.clone(), q as usize) == *n).then_some(r)
    };
    match (root(x.numer()), root(x.denom())) {
        (Some(n), Some(d)) => Ok(Rational::new(n, d)),
        _ => Err(Stop::Inexact),
    }
}

fn float(e: &Expr, point: &Point, budget: &Budget) -> Result<Float, Stop> {
    budget.spend(FLOAT_COST)?;
    let result = match e {
        Expr::Num(literal) => return Ok(Float::from_rational(&literal.value)),
        Expr::Var(name) => return Ok(Float::from_rational(variable(point, *name)?)),
        Expr::Const(Constant::Pi) => return Ok(Float::pi()),
        Expr::Const(Constant::Infinity) => return Ok(Float::infinity(false)),
        Expr::Neg(inner) => return Ok(float(inner, point, budget)?.neg()),
        Expr::Sqrt(inner) => checked(&[float(inner, point, budget)?], |[x]| x.sqrt())?,
        Expr::Call(function, inner) => {
            budget.spend(FUNCTION_COST)?;
            checked(&[float(inner, point, budget)?], |[x]| x.apply(*function))?
        }
        Expr::Bin(op, l, r) => {
            let operands = [float(l, point, budget)?, float(r, point, budget)?];
            if *op == Op::Pow {
                budget.spend(FUNCTION_COST)?;
            }
            checked(&operands, |[l, r]| match op {
                Op::Add => l.add(r),
                Op::Sub => l.sub(r),
                Op::Mul => l.mul(r),
                Op::Div => l.div(r),
                Op::Pow => l.pow(r),
            })?
        }
    };
    Ok(result)
}

/// `f(operands)`, with NaN read as "undefined". An infinity that no
/// operand had is a pole when an operand is 0 (`\ln 0`, `0^{-1}`), else
/// an overflow, which ends the comparison: a float cannot tell two
/// overflowing values apart.
fn checked<const N: usize>(operands: &[Float; N], f: impl FnOnce(&[Float; N]) -> Float) -> Result<Float, Stop> {
    let result = f(operands);
    if result.is_nan() {
        return Err(Stop::Undefined);
    }
    if !result.is_finite() && operands.iter().all(Float::is_finite) {
        return Err(if operands.iter().any(Float::is_zero) { Stop::Undefined } else { Stop::Exhausted });
    }
    Ok(result)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::latex::expr::parse;

    fn at(text: &str) -> Result<Value, Stop> {
        value(&parse(text).unwrap(), &[], &Budget::default())
    }

    fn exact_rational(text: &str) -> Option<Rational> {
        match at(text) {
            Ok(Value::Exact(s)) => s.as_rational(),
            _ => None,
        }
    }

    #[test]
    fn rational_arithmetic_is_exact() {
        let q = |n: i64, d: i64| Some(Rational::new(n.into(), d.into()));
        assert_eq!(exact_rational("\\frac{1}{3}+\\frac{1}{6}"), q(1, 2));
        assert_eq!(exact_rational("2^{-2}"), q(1, 4));
        assert_eq!(exact_rational("8^{2/3}"), q(4, 1));
        assert_eq!(exact_rational("\\sqrt[3]{27}"), q(3, 1));
        assert_eq!(exact_rational("(\\sqrt{2})^2"), q(2, 1));
        assert_eq!(exact_rational("6.72\\times10^{-5}"), q(672, 10_000_000));
        assert!(matches!(at("\\frac{\\sqrt{3}}{3}"), Ok(Value::Exact(_))));
    }

    #[test]
    fn other_values_are_floats_and_failures_are_kept_apart() {
        assert!(matches!(at("\\pi"), Ok(Value::Float(_))));
        assert!(matches!(at("\\sin 1 + \\sqrt[3]{2}"), Ok(Value::Float(_))));
        assert_eq!(at("\\frac{1}{0}").err(), Some(Stop::Undefined));
        assert_eq!(at("\\sqrt{-1}").err(), Some(Stop::Undefined));
        assert_eq!(at("\\ln 0").err(), Some(Stop::Undefined));
        assert_eq!(at("9^{9^{9^{9}}}").err(), Some(Stop::Exhausted));
        assert_eq!(at("\\pi^{10^{20}}").err(), Some(Stop::Exhausted));
        assert!(at("10^{1000}").is_ok());
    }
}

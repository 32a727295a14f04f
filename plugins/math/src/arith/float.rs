//! Floats of 320 bits (about 96 digits) for values that are not exact.
//!
//! Two values that differ only beyond [`Float::NOISE_BITS`] bits of their
//! size count as equal: rounding in a few dozen operations stays far below
//! that, and distinct closed forms are far apart (`e^{\pi\sqrt{163}}`
//! differs from the integer 262537412640768744 at the 30th digit, which a
//! 64-bit float cannot see).

use super::Rational;
use astro_float::{BigFloat, Consts, RoundingMode};
use num_bigint::{BigInt, Sign};
use std::cell::RefCell;
use std::cmp::Ordering;

/// Working precision in bits.
const PRECISION: usize = 320;

const ROUNDING: RoundingMode = RoundingMode::ToEven;

thread_local! {
    /// π and logarithm constants, computed once per instance.
    static CONSTS: RefCell<Consts> = RefCell::new(Consts::new().expect("astro-float constants"));
}

/// A 320-bit float; NaN stands for "undefined".
#[derive(Debug, Clone)]
pub struct Float(BigFloat);

impl Float {
    /// Relative difference below which two floats are the same value:
    /// 2^-256, leaving 64 of the 320 bits for rounding.
    pub const NOISE_BITS: i32 = 256;

    /// 0.
    pub fn zero() -> Float {
        Float(BigFloat::from_u8(0, PRECISION))
    }

    /// 1.
    pub fn one() -> Float {
        Float(BigFloat::from_u8(1, PRECISION))
    }

    /// π.
    pub fn pi() -> Float {
        Float(CONSTS.with(|c| c.borrow_mut().pi(PRECISION, ROUNDING)))
    }

    /// +∞ or -∞.
    pub fn infinity(negative: bool) -> Float {
        Float(if negative { astro_float::INF_NEG } else { astro_float::INF_POS })
    }

    /// A plain f64 (a tolerance).
    pub fn from_f64(x: f64) -> Float {
        Float(BigFloat::from_f64(x, PRECISION))
    }

    /// An integer, rounded to the working precision: its top 12 base-2^32
    /// digits (384 bits) are converted, then scaled by the rest.
    pub fn from_integer(n: &BigInt) -> Float {
        let (sign, digits) = n.to_u32_digits();
        let kept = digits.len().min(12);
        let word = BigFloat::from_u64(1 << 32, PRECISION);
        let mut x = BigFloat::from_u8(0, PRECISION);
        for digit in digits[digits.len() - kept..].iter().rev() {
            x = x.mul(&word, PRECISION, ROUNDING).add(&BigFloat::from_u32(*digit, PRECISION), PRECISION, ROUNDING);
        }
        let shift = 32 * (digits.len() - kept);
        if let (Some(e), false) = (x.exponent(), x.is_zero()) {
            x.set_exponent(e + shift as i32);
        }
        Float(if sign == Sign::Minus { x.neg() } else { x })
    }

    /// A rational, rounded to the working precision.
    pub fn from_rational(q: &Rational) -> Float {
        Float::from_integer(q.numer()).div(&Float::from_integer(q.denom()))
    }

    /// `self + other`.
    pub fn add(&self, other: &Float) -> Float {
        Float(self.0.add(&other.0, PRECISION, ROUNDING))
    }

    /// `self - other`.
    pub fn sub(&self, other: &Float) -> Float {
        Float(self.0.sub(&other.0, PRECISION, ROUNDING))
    }

    /// `self · other`.
    pub fn mul(&self, other: &Float) -> Float {
        Float(self.0.mul(&other.0, PRECISION, ROUNDING))
    }

    /// `self / other`; NaN when `other` is 0.
    pub fn div(&self, other: &Float) -> Float {
        if other.0.is_zero() {
            return Float(astro_float::NAN);
        }
        Float(self.0.div(&other.0, PRECISION, ROUNDING))
    }

    /// `-self`.
    pub fn neg(&self) -> Float {
        Float(self.0.neg())
    }

    /// `|self|`.
    pub fn abs(&self) -> Float {
        Float(self.0.abs())
    }

    /// `self^exponent`: for a negative base only integer exponents are
    /// defined (`(-8)^{1/3}` is NaN here, as for real-valued powers).
    pub fn pow(&self, exponent: &Float) -> Float {
        if self.0.is_negative() {
            if !exponent.0.is_int() {
                return Float(astro_float::NAN);
            }
            let magnitude = Float(self.0.abs()).pow(exponent);
            let even = exponent.div(&Float::from_f64(2.0)).0.is_int();
            return if even { magnitude } else { magnitude.neg() };
        }
        Float(with_consts(|cc| self.0.pow(&exponent.0, PRECISION, ROUNDING, cc)))
    }

    /// `√self`; NaN for a negative number.
    pub fn sqrt(&self) -> Float {
        Float(self.0.sqrt(PRECISION, ROUNDING))
    }

    /// `name(self)`; NaN outside the function's domain.
    pub fn apply(&self, name: Function) -> Float {
        let x = &self.0;
        Float(with_consts(|cc| match name {
            Function::Sin => x.sin(PRECISION, ROUNDING, cc),
            Function::Cos => x.cos(PRECISION, ROUNDING, cc),
            Function::Tan => x.tan(PRECISION, ROUNDING, cc),
            Function::Asin => x.asin(PRECISION, ROUNDING, cc),
            Function::Acos => x.acos(PRECISION, ROUNDING, cc),
            Function::Atan => x.atan(PRECISION, ROUNDING, cc),
            Function::Ln => x.ln(PRECISION, ROUNDING, cc),
            Function::Log10 => x.log10(PRECISION, ROUNDING, cc),
            Function::Exp => x.exp(PRECISION, ROUNDING, cc),
        }))
    }

    /// Whether the value is a number (not NaN, not infinite).
    pub fn is_finite(&self) -> bool {
        !self.0.is_nan() && !self.0.is_inf()
    }

    /// Whether the value is NaN (undefined).
    pub fn is_nan(&self) -> bool {
        self.0.is_nan()
    }

    /// Whether the value is 0.
    pub fn is_zero(&self) -> bool {
        self.0.is_zero()
    }

    /// Whether the value is below 0.
    pub fn is_negative(&self) -> bool {
        self.0.is_negative() && !self.0.is_zero()
    }

    /// The order of two values (none if one is NaN).
    pub fn compare(&self, other: &Float) -> Option<Ordering> {
        self.0.cmp(&other.0).map(|c| c.cmp(&0))
    }

    /// Whether `|self - other| ≤ max(relative·max(|self|, |other|), absolute)`.
    pub fn close(&self, other: &Float, relative: &Float, absolute: &Float) -> bool {
        if !self.is_finite() || !other.is_finite() {
            return false;
        }
        let larger = if self.abs().compare(&other.abs()) == Some(Ordering::Less) { other.abs() } else { self.abs() };
        let bound = relative.mul(&larger);
        let bound = if bound.compare(absolute) == Some(Ordering::Less) { absolute.clone() } else { bound };
        self.sub(other).abs().compare(&bound) != Some(Ordering::Greater)
    }

    /// 2^-256: the relative difference, and near 0 the absolute one,
    /// below which two floats are the same value.
    pub fn noise() -> Float {
        let mut noise = Float::one();
        noise.0.set_exponent(1 - Float::NOISE_BITS);
        noise
    }

    /// Whether two floats are the same value up to rounding noise.
    pub fn same(&self, other: &Float) -> bool {
        if self.is_finite() || other.is_finite() {
            return self.close(other, &Float::noise(), &Float::noise());
        }
        // Two infinities of the same sign.
        !self.is_nan() && !other.is_nan() && self.compare(other) == Some(Ordering::Equal)
    }
}

/// The transcendental functions of [`Float::apply`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Function {
    Sin,
    Cos,
    Tan,
    Asin,
    Acos,
    Atan,
    Ln,
    Log10,
    Exp,
}

fn with_consts<T>(f: impl FnOnce(&mut Consts) -> T) -> T {
    CONSTS.with(|c| f(&mut c.borrow_mut()))
}

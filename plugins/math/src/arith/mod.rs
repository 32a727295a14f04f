//! Numbers for comparing answers. Exact values are rationals and sums of
//! rational multiples of square roots ([`Surd`]); everything else (`\pi`,
//! trigonometry, logarithms, cube roots of non-cubes) is a [`Float`] of
//! 320 bits. A [`Budget`] bounds the work, so a pathological answer
//! (`9^{9^{9^9}}`) stops with [`Stop::Exhausted`] instead of hanging.

mod budget;
mod float;
mod rational;
mod surd;

pub use budget::{Budget, MAX_BITS, Stop};
pub use float::{Float, Function};
pub use surd::Surd;

/// An exact rational number of any size.
pub type Rational = num_rational::Ratio<num_bigint::BigInt>;

/// The bit size of a rational (numerator plus denominator), the measure
/// [`MAX_BITS`] caps.
pub fn bits(q: &Rational) -> u64 {
    q.numer().bits() + q.denom().bits()
}

//! Rational arithmetic with its cost charged. `Ratio`'s operators reduce
//! every result with gcds, and num-bigint's gcd (Stein's algorithm) is
//! quadratic in the size of its operands, even when one of them is 1:
//! building `9999^{9999}` by squaring took half a second that way. These
//! skip gcds with a trivial side, raise to powers part by part, and charge
//! a real gcd by the square of its size.

use super::{Budget, Rational, Stop};
use num_bigint::BigInt;
use num_integer::Integer;
use num_traits::{One, Signed, Zero};

/// `gcd(a, b)`, without running the algorithm when a side is ±1 or 0.
fn gcd(a: &BigInt, b: &BigInt, budget: &Budget) -> Result<BigInt, Stop> {
    if a.abs().is_one() || b.abs().is_one() {
        return Ok(BigInt::one());
    }
    if a.is_zero() || b.is_zero() {
        return Ok(if a.is_zero() { b.abs() } else { a.abs() });
    }
    let words = a.bits().max(b.bits()) / 64 + 1;
    budget.spend(words * words / 4)?;
    Ok(a.gcd(b))
}

/// `a · b`, reduced.
pub fn mul(a: &Rational, b: &Rational, budget: &Budget) -> Result<Rational, Stop> {
    let bits = super::bits(a) + super::bits(b);
    budget.spend_bits(bits, bits)?;
    let (g1, g2) = (gcd(a.numer(), b.denom(), budget)?, gcd(b.numer(), a.denom(), budget)?);
    let numer = (a.numer() / &g1) * (b.numer() / &g2);
    let denom = (a.denom() / &g2) * (b.denom() / &g1);
    Ok(if numer.is_zero() { Rational::zero() } else { Rational::new_raw(numer, denom) })
}

/// `a + b`, reduced.
pub fn add(a: &Rational, b: &Rational, budget: &Budget) -> Result<Rational, Stop> {
    let (x, y) = (super::bits(a), super::bits(b));
    if a.denom().is_one() && b.denom().is_one() {
        budget.spend_bits(x + y, x.max(y) + 1)?;
        return Ok(Rational::from_integer(a.numer() + b.numer()));
    }
    budget.spend_bits(x + y, x + y)?;
    let numer = a.numer() * b.denom() + b.numer() * a.denom();
    let denom = a.denom() * b.denom();
    let g = gcd(&numer, &denom, budget)?;
    Ok(Rational::new_raw(numer / &g, denom / g))
}

/// `q^n` for `n ≥ 0`: numerator and denominator separately (coprime
/// stays coprime), so no gcd at all.
pub fn pow(q: &Rational, n: u64, budget: &Budget) -> Result<Rational, Stop> {
    let result_bits = super::bits(q).saturating_mul(n);
    budget.spend_bits(result_bits, result_bits)?;
    let power = |x: &BigInt| num_traits::pow(x.clone(), n as usize);
    Ok(Rational::new_raw(power(q.numer()), power(q.denom())))
}

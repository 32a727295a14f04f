//! Exact real numbers of the form Σ cᵢ·√rᵢ, which cover the answers of
//! competition math that are not plain fractions: `2\sqrt{5}`,
//! `\frac{\sqrt{3}}{3}`, `1+\sqrt{2}`, `\frac{1}{2-\sqrt{3}}`.

use super::{Budget, Float, Rational, Stop, bits, rational};
use num_bigint::BigInt;
use num_traits::{One, Signed, Zero};
use std::collections::BTreeMap;

/// The most terms a surd may have; more stops the computation (real
/// answers have one or two).
const MAX_TERMS: usize = 32;

/// Squares of the small primes, divided out of radicands so that `√12`
/// is kept as `2√3` and equal radicands meet in one term.
const SMALL_PRIMES: [u32; 15] = [2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37, 41, 43, 47];

/// Σ cᵢ·√rᵢ with rational coefficients cᵢ ≠ 0 and distinct positive
/// integer radicands rᵢ (1 for the rational part), no two of which differ
/// by a square factor (rᵢ·rⱼ is never a perfect square). The square roots
/// of such radicands are linearly independent over the rationals
/// (Besicovitch, 1940), so two surds are equal exactly when their terms
/// are: equality needs no floating point at all.
///
/// Two surds built in different orders may keep a radical under different
/// radicands (`√3` or `√(p²·3)/p`), so compare values with [`Surd::equals`],
/// never by their terms.
#[derive(Debug, Clone, Default)]
pub struct Surd {
    terms: BTreeMap<BigInt, Rational>,
}

impl Surd {
    /// The rational `q`.
    pub fn rational(q: Rational) -> Self {
        let mut terms = BTreeMap::new();
        if !q.is_zero() {
            terms.insert(BigInt::one(), q);
        }
        Surd { terms }
    }

    /// The value as a rational, if it is one.
    pub fn as_rational(&self) -> Option<Rational> {
        match self.terms.iter().next() {
            None => Some(Rational::zero()),
            Some((r, c)) if self.terms.len() == 1 && r.is_one() => Some(c.clone()),
            _ => None,
        }
    }

    /// Whether the value is 0.
    pub fn is_zero(&self) -> bool {
        self.terms.is_empty()
    }

    /// `√q` for a rational `q ≥ 0`: `√(a/b) = √(ab)/b`.
    pub fn sqrt_of(q: &Rational, budget: &Budget) -> Result<Surd, Stop> {
        if q.is_negative() {
            return Err(Stop::Undefined);
        }
        let radicand = q.numer() * q.denom();
        budget.spend_bits(bits(q), 2 * bits(q))?;
        let mut out = Surd::default();
        out.insert(Rational::new(BigInt::one(), q.denom().clone()), radicand, budget)?;
        Ok(out)
    }

    /// `self + other`.
    pub fn add(&self, other: &Surd, budget: &Budget) -> Result<Surd, Stop> {
        if let (Some(a), Some(b)) = (self.as_rational(), other.as_rational()) {
            return Ok(Surd::rational(rational::add(&a, &b, budget)?));
        }
        let mut out = self.clone();
        for (r, c) in &other.terms {
            out.insert(c.clone(), r.clone(), budget)?;
        }
        Ok(out)
    }

    /// `self - other`.
    pub fn sub(&self, other: &Surd, budget: &Budget) -> Result<Surd, Stop> {
        self.add(&other.neg(), budget)
    }

    /// Whether `self = other`, exactly.
    pub fn equals(&self, other: &Surd, budget: &Budget) -> Result<bool, Stop> {
        Ok(self.sub(other, budget)?.is_zero())
    }

    /// `-self`.
    pub fn neg(&self) -> Surd {
        Surd { terms: self.terms.iter().map(|(r, c)| (r.clone(), -c)).collect() }
    }

    /// `self · other`: `√r·√s = g·√(rs/g²)` with `g = gcd(r, s)`.
    pub fn mul(&self, other: &Surd, budget: &Budget) -> Result<Surd, Stop> {
        if let (Some(a), Some(b)) = (self.as_rational(), other.as_rational()) {
            return Ok(Surd::rational(rational::mul(&a, &b, budget)?));
        }
        let mut out = Surd::default();
        for (r, c) in &self.terms {
            for (s, d) in &other.terms {
                budget.spend_bits(bits(c) + bits(d), bits(c) + bits(d))?;
                let g = num_integer::Integer::gcd(r, s);
                let radicand = (r / &g) * (s / &g);
                out.insert(
                    rational::mul(&rational::mul(c, d, budget)?, &Rational::from(g), budget)?,
                    radicand,
                    budget,
                )?;
            }
        }
        Ok(out)
    }

    /// `self / other`, exact when `other` is `a + b√r` (the conjugate
    /// `a - b√r` makes the denominator rational). Other divisors give
    /// [`Stop::Inexact`], so the quotient is computed as a float.
    pub fn div(&self, other: &Surd, budget: &Budget) -> Result<Surd, Stop> {
        if other.is_zero() {
            return Err(Stop::Undefined);
        }
        if let Some(q) = other.as_rational() {
            return self.mul(&Surd::rational(q.recip()), budget);
        }
        let irrational: Vec<(&BigInt, &Rational)> = other.terms.iter().filter(|(r, _)| !r.is_one()).collect();
        let [(r, b)] = irrational[..] else { return Err(Stop::Inexact) };
        let a = other.terms.get(&BigInt::one()).cloned().unwrap_or_else(Rational::zero);
        let norm = &a * &a - b * b * Rational::from(r.clone());
        let conjugate = Surd::rational(a).add(&Surd::single(-b, r.clone()), budget)?;
        self.mul(&conjugate, budget)?.mul(&Surd::rational(norm.recip()), budget)
    }

    /// `self^n` for an integer `n` (a negative one inverts first).
    pub fn pow(&self, n: i64, budget: &Budget) -> Result<Surd, Stop> {
        if n < 0 {
            return Surd::rational(Rational::one()).div(self, budget)?.pow(-n, budget);
        }
        budget.spend_bits(0, self.bits().saturating_mul(n.unsigned_abs()))?;
        if let Some(q) = self.as_rational() {
            return Ok(Surd::rational(rational::pow(&q, n.unsigned_abs(), budget)?));
        }
        let (mut base, mut exponent, mut out) = (self.clone(), n, Surd::rational(Rational::one()));
        while exponent > 0 {
            if exponent & 1 == 1 {
                out = out.mul(&base, budget)?;
            }
            exponent >>= 1;
            if exponent > 0 {
                base = base.mul(&base, budget)?;
            }
        }
        Ok(out)
    }

    /// The value as a float (for signs, and for mixing with inexact values).
    pub fn to_float(&self) -> Float {
        self.terms.iter().fold(Float::zero(), |sum, (r, c)| {
            let root = if r.is_one() { Float::one() } else { Float::from_integer(r).sqrt() };
            sum.add(&Float::from_rational(c).mul(&root))
        })
    }

    /// The size of the largest coefficient or radicand, in bits.
    pub fn bits(&self) -> u64 {
        self.terms.iter().map(|(r, c)| r.bits() + bits(c)).max().unwrap_or(0)
    }

    fn single(c: Rational, r: BigInt) -> Surd {
        Surd { terms: BTreeMap::from([(r, c)]) }
    }

    /// Add `c·√r`, keeping the invariant (see [`Surd::place`]).
    fn insert(&mut self, c: Rational, r: BigInt, budget: &Budget) -> Result<(), Stop> {
        if c.is_zero() {
            return Ok(());
        }
        // The rational part needs no placing: no other radicand is a square.
        let (c, target) = if r.is_one() { (c, r) } else { self.place(c, r, budget)? };
        let sum = rational::add(&self.terms.remove(&target).unwrap_or_else(Rational::zero), &c, budget)?;
        if bits(&sum) > super::MAX_BITS {
            return Err(Stop::Exhausted);
        }
        if !sum.is_zero() {
            self.terms.insert(target, sum);
        }
        if self.terms.len() > MAX_TERMS {
            return Err(Stop::Exhausted);
        }
        Ok(())
    }

    /// Where `c·√r` belongs: square factors leave `r` (a square radicand
    /// is the rational part), and a radicand whose product with an
    /// existing one is a square joins it (`√r = (s/r')·√r'` when
    /// `r·r' = s²`). Returns the coefficient and radicand to add to.
    fn place(&self, c: Rational, r: BigInt, budget: &Budget) -> Result<(Rational, BigInt), Stop> {
        let (mut c, mut r) = without_small_squares(c, r, budget)?;
        budget.spend_bits(r.bits(), r.bits())?;
        let root = r.sqrt();
        if &root * &root == r {
            return Ok((rational::mul(&c, &Rational::from(root), budget)?, BigInt::one()));
        }
        for existing in self.terms.keys() {
            budget.spend_bits(r.bits() + existing.bits(), r.bits() + existing.bits())?;
            let product = &r * existing;
            let root = product.sqrt();
            if &root * &root == product {
                c = rational::mul(&c, &Rational::new(root, existing.clone()), budget)?;
                r = existing.clone();
                break;
            }
        }
        Ok((c, r))
    }
}

/// `c·√r` with the squares of small primes moved out of `r`.
fn without_small_squares(c: Rational, mut r: BigInt, budget: &Budget) -> Result<(Rational, BigInt), Stop> {
    let mut factor = BigInt::one();
    for p in SMALL_PRIMES {
        let square = BigInt::from(p * p);
        while (&r % &square).is_zero() {
            r /= &square;
            factor *= p;
        }
    }
    Ok((rational::mul(&c, &Rational::from(factor), budget)?, r))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(n: i64, d: i64) -> Rational {
        Rational::new(n.into(), d.into())
    }

    fn root(n: i64) -> Surd {
        Surd::sqrt_of(&q(n, 1), &Budget::default()).unwrap()
    }

    fn same(a: &Surd, b: &Surd) -> bool {
        a.equals(b, &Budget::default()).unwrap()
    }

    #[test]
    fn equal_radicals_meet_in_one_term() {
        let b = &Budget::default();
        assert!(same(&root(20), &Surd::rational(q(2, 1)).mul(&root(5), b).unwrap()));
        assert!(same(&root(4), &Surd::rational(q(2, 1))));
        assert!(!same(&root(8), &Surd::rational(q(2, 1))));
        // √(1/3) = √3/3, and 1/√3 too.
        let third = Surd::sqrt_of(&q(1, 3), b).unwrap();
        assert!(same(&third, &root(3).mul(&Surd::rational(q(1, 3)), b).unwrap()));
        assert!(same(&Surd::rational(q(1, 1)).div(&root(3), b).unwrap(), &third));
        // A large square factor that trial division misses: √(p²·3) = p√3.
        let p = 1_000_003i64;
        let big = root(p * p * 3);
        assert!(same(&big, &Surd::rational(q(p, 1)).mul(&root(3), b).unwrap()));
        assert!(same(&root(1009 * 1009), &Surd::rational(q(1009, 1))));
    }

    #[test]
    fn conjugates_rationalise_denominators() {
        let b = &Budget::default();
        let one_plus_root2 = Surd::rational(q(1, 1)).add(&root(2), b).unwrap();
        let inverse = Surd::rational(q(1, 1)).div(&one_plus_root2, b).unwrap();
        assert!(same(&inverse, &root(2).add(&Surd::rational(q(-1, 1)), b).unwrap()));
        let sum = root(2).add(&root(3), b).unwrap();
        assert!(same(&sum.mul(&sum, b).unwrap(), &Surd::rational(q(5, 1)).add(&root(24), b).unwrap()));
        assert_eq!(Surd::rational(q(1, 1)).div(&sum, b).err(), Some(Stop::Inexact));
    }

    #[test]
    fn powers_are_exact_and_bounded() {
        let b = &Budget::default();
        let two = Surd::rational(q(2, 1));
        let big = two.pow(9999, b).unwrap();
        assert!(!same(&big, &big.add(&Surd::rational(q(1, 1)), b).unwrap()));
        assert!(same(&big, &two.pow(9999, b).unwrap()));
        assert!(same(&root(2).pow(4, b).unwrap(), &Surd::rational(q(4, 1))));
        assert!(same(&two.pow(-2, b).unwrap(), &Surd::rational(q(1, 4))));
        assert_eq!(two.pow(1 << 20, b).err(), Some(Stop::Exhausted));
    }
}

//! The bound on the work one comparison may do.

use std::cell::Cell;

/// The largest integer (numerator or denominator) an exact computation
/// may build, in bits: 2^18 bits is about 79,000 digits, enough for
/// `9999^{9999}` (39,996 digits) to be compared exactly with its
/// neighbour. Anything larger stops the comparison: a float would call
/// two such numbers equal when they differ in the last digit.
pub const MAX_BITS: u64 = 1 << 18;

/// Work units one comparison may spend: an operation on big integers
/// costs one unit per 64-bit word of its operands, a float operation a
/// few units, a transcendental function more. The budget allows every
/// real answer tried (the slowest spends a few thousand units) and stops
/// a pathological one within milliseconds.
const STEPS: u64 = 2_000_000;

/// Why an evaluation ended without a value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stop {
    /// The value is not exact in this representation (`\pi`, `\sin 1`,
    /// `\sqrt{1+\sqrt{2}}`): evaluate it as a float instead.
    Inexact,
    /// The expression has no value here (division by zero, the square
    /// root of a negative number, `\ln 0`).
    Undefined,
    /// Too much work or too large a number: no verdict is possible.
    Exhausted,
}

/// The work left for one comparison. It is shared by every part of the
/// comparison (the elements of a set, the points of an identity), hence
/// the cell.
#[derive(Debug, Clone)]
pub struct Budget {
    steps: Cell<u64>,
}

impl Default for Budget {
    fn default() -> Self {
        Budget { steps: Cell::new(STEPS) }
    }
}

impl Budget {
    /// Spend `cost` units, or stop when there are not enough left.
    pub fn spend(&self, cost: u64) -> Result<(), Stop> {
        self.steps.set(self.steps.get().checked_sub(cost).ok_or(Stop::Exhausted)?);
        Ok(())
    }

    /// Spend for an operation on numbers of `bits` bits in all, and stop
    /// if its result of `result_bits` bits would exceed [`MAX_BITS`].
    pub fn spend_bits(&self, bits: u64, result_bits: u64) -> Result<(), Stop> {
        if result_bits > MAX_BITS {
            return Err(Stop::Exhausted);
        }
        self.spend(1 + bits / 64)
    }
}

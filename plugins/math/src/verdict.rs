//! The outcome of comparing two answers, and which comparison decided it,
//! reported in a score's `info.comparison` so a verdict can be checked.

/// Whether two answers are equivalent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Equal,
    Different,
    /// The budget ran out (or a number grew past `arith::MAX_BITS`): no
    /// verdict, and the answer is reported `malformed`.
    Undecided,
}

/// How a verdict was reached, from the strictest to the loosest.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Comparison {
    /// Equal as normalised text.
    Text,
    /// Exact arithmetic on rationals and square roots.
    Exact,
    /// 320-bit floats, equal up to rounding noise (2^-256 relative).
    HighPrecision,
    /// Within the relative tolerance, because a side is a decimal.
    Decimal,
    /// Both sides at seeded random values of their variables.
    Points {
        /// Points where both sides are defined.
        count: u8,
        /// Whether every value was exact.
        exact: bool,
        /// Whether the decimal tolerance was needed at some point.
        tolerance: bool,
    },
    /// Different shapes (a tuple against a set): no values compared.
    Shape,
}

impl Comparison {
    /// The name stored in results.
    pub fn as_str(self) -> &'static str {
        match self {
            Comparison::Text => "text",
            Comparison::Exact => "exact",
            Comparison::HighPrecision => "high_precision",
            Comparison::Decimal => "decimal_tolerance",
            Comparison::Points { exact: true, tolerance: false, .. } => "random_points_exact",
            Comparison::Points { .. } => "random_points",
            Comparison::Shape => "shape",
        }
    }

    /// How loose the comparison is; a verdict over several parts reports
    /// its loosest.
    fn looseness(self) -> u8 {
        match self {
            Comparison::Text | Comparison::Shape => 0,
            Comparison::Exact => 1,
            Comparison::Points { exact: true, tolerance: false, .. } => 2,
            Comparison::HighPrecision => 3,
            Comparison::Points { tolerance: false, .. } => 4,
            Comparison::Decimal | Comparison::Points { .. } => 5,
        }
    }
}

/// An outcome with the comparison that decided it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Verdict {
    pub outcome: Outcome,
    pub comparison: Comparison,
}

impl Verdict {
    /// Equal, decided by `comparison`.
    pub fn equal(comparison: Comparison) -> Verdict {
        Verdict { outcome: Outcome::Equal, comparison }
    }

    /// Different, decided by `comparison`.
    pub fn different(comparison: Comparison) -> Verdict {
        Verdict { outcome: Outcome::Different, comparison }
    }

    /// Equal if `equal`, else different, decided by `comparison`.
    pub fn from_bool(equal: bool, comparison: Comparison) -> Verdict {
        if equal { Verdict::equal(comparison) } else { Verdict::different(comparison) }
    }

    /// No verdict within the budget.
    pub fn undecided() -> Verdict {
        Verdict { outcome: Outcome::Undecided, comparison: Comparison::HighPrecision }
    }

    /// Whether the answers are equivalent.
    pub fn is_equal(self) -> bool {
        self.outcome == Outcome::Equal
    }

    /// The verdict on parts that must all be equal. Parts are taken from
    /// the iterator one at a time, so a lazy one stops at the first
    /// difference, which decides; otherwise an undecided part leaves the
    /// whole undecided; otherwise equal, by the loosest comparison used.
    pub fn all(parts: impl IntoIterator<Item = Verdict>) -> Verdict {
        let mut loosest = Comparison::Text;
        let mut undecided = false;
        for verdict in parts {
            match verdict.outcome {
                Outcome::Different => return verdict,
                Outcome::Undecided => undecided = true,
                Outcome::Equal if verdict.comparison.looseness() > loosest.looseness() => {
                    loosest = verdict.comparison;
                }
                Outcome::Equal => {}
            }
        }
        if undecided { Verdict::undecided() } else { Verdict::equal(loosest) }
    }

    /// The first equal verdict among alternatives (any reading may
    /// match; lazily, as for [`Verdict::all`]), else undecided if one
    /// was, else the last difference.
    pub fn any(alternatives: impl IntoIterator<Item = Verdict>) -> Verdict {
        let mut last = Verdict::different(Comparison::Shape);
        let mut undecided = false;
        for verdict in alternatives {
            match verdict.outcome {
                Outcome::Equal => return verdict,
                Outcome::Undecided => undecided = true,
                Outcome::Different => last = verdict,
            }
        }
        if undecided { Verdict::undecided() } else { last }
    }
}

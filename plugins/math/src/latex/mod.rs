//! MATH-style answers: reading the final answer from a reply
//! ([`extract()`]: boxes, final-answer phrases, then the math of the last
//! sentence) and deciding whether two LaTeX answers are equivalent
//! ([`compare()`]).
//!
//! Both answers are normalised ([`normalize()`]: presentation, units,
//! degrees, percent and thousands separators go), split into shapes
//! (`structure`: intervals, tuples, sets, unions, matrices, equations and
//! inequalities, single expressions) and compared part by part. Parts that
//! parse as arithmetic (`expr`) are compared by value (`compare`): exact
//! rationals and square roots, else 320-bit floats, with variables at
//! seeded random points; a decimal side allows the tolerance. Equations
//! compare up to a constant factor and named sides (`relation`). A part
//! that cannot be parsed is equal only to the same text, and a comparison
//! that outgrows its work budget is undecided, never a hang. The crate
//! README lists every rule with examples.

mod compare;
mod eval;
mod expr;
mod extract;
mod normalize;
mod relation;
mod structure;

pub use expr::Expr;
pub use extract::extract;
pub use normalize::{join_thousands, normalize};

use crate::arith::Budget;
use crate::verdict::{Outcome, Verdict};
use extract::boxes;
use structure::{Context, Shape};

/// Whether `answer` is equivalent to `gold` (see the module docs), and
/// which comparison decided.
pub fn compare(answer: &str, gold: &str, tolerance: f64) -> Verdict {
    let (a, g) = (normalize(answer), normalize(gold));
    if a == g {
        return Verdict::equal(crate::verdict::Comparison::Text);
    }
    let cx = Context { tolerance, budget: Budget::default() };
    structure::equivalent(&structure::parse(&a), &structure::parse(&g), &cx)
}

/// Whether `answer` is equivalent to `gold`.
pub fn equivalent(answer: &str, gold: &str, tolerance: f64) -> bool {
    compare(answer, gold, tolerance).outcome == Outcome::Equal
}

/// The kind of answer `gold` is (`expression`, `interval`, `set`, …).
pub fn shape_kind(gold: &str) -> &'static str {
    structure::parse(&normalize(gold)).kind()
}

/// The answer as an expression with no variables (`\frac{3}{4}`,
/// `\$1,250`, `2\sqrt{3}`), if it is one.
pub fn constant(answer: &str) -> Option<Expr> {
    match structure::parse(&normalize(answer)) {
        Shape::Leaf(leaf) => expr::parse(&leaf).filter(|e| e.variables().is_empty()),
        _ => None,
    }
}

/// An expression written in plain arithmetic (`1250`, `3/4`, `-0.5`),
/// without LaTeX normalisation.
pub fn expression(text: &str) -> Option<Expr> {
    expr::parse(text)
}

/// A constant's exact value when it is rational (`24`, `3/4`), for
/// reports.
pub fn rational_text(e: &Expr) -> Option<String> {
    match eval::value(e, &[], &Budget::default()) {
        Ok(eval::Value::Exact(surd)) => surd.as_rational().map(|q| q.to_string()),
        _ => None,
    }
}

/// Whether two constants are equal (GSM8K-style numbers).
pub fn compare_constants(a: &Expr, b: &Expr, tolerance: f64) -> Verdict {
    compare::expressions(a, b, tolerance, &Budget::default())
}

/// The content of the last `\boxed` or `\fbox`: `Ok(content)`, or
/// `Err(rest)` when its braces never close.
pub fn last_boxed(text: &str) -> Option<Result<&str, &str>> {
    boxes(text).last().map(|b| b.content)
}

/// The text inside the braces opening at `open`, or `None` if unclosed.
/// Escaped braces (`\{`) are skipped over, like any escaped character.
pub fn brace_content(text: &str, open: usize) -> Option<&str> {
    let b = text.as_bytes();
    let (mut depth, mut i) = (0usize, open);
    while i < b.len() {
        match b[i] {
            b'\\' => i += 1,
            b'{' => depth += 1,
            b'}' if depth == 1 => return Some(&text[open + 1..i]),
            b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
        i += 1;
    }
    None
}

/// At most 60 characters of `text`, for reporting an unreadable answer.
fn snippet(text: &str) -> String {
    text.chars().take(60).collect()
}

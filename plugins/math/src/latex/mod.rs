//! MATH-style answers: reading the final `\boxed{}` from a reply and
//! deciding whether two LaTeX answers are equivalent.
//!
//! # Extraction
//! The last `\boxed{…}` or `\fbox{…}` (nested braces allowed), or
//! `\boxed 5` without braces; an unclosed last box is malformed. Without a
//! box, the last "answer is …" / "answer: …" (the content of `$…$`,
//! `\(…\)` or `\[…\]` right after it, else the rest of the line).
//!
//! # Equivalence
//! Both answers are normalised ([`normalize()`]), and equal strings are
//! equivalent. Otherwise they are split into shapes and compared:
//! - presentation is ignored: `\left`/`\right`, `\dfrac`/`\tfrac`,
//!   `\frac12` = `\frac{1}{2}`, `\sqrt2` = `\sqrt{2}`, spacing (`\!`, `\,`,
//!   `\ `, `~`), `$…$` delimiters, `\text{}`/`\textbf{}`/`\mbox{}`/
//!   `\mathrm{}` wrappers, `^{2}` = `^2`;
//! - notation without value is removed: degree signs (`^\circ`, `°`),
//!   `\%`, `\$`, unit words after a value (`10\text{ cm}` = `10`; the list
//!   is in `normalize.rs`), thousands separators (`900,\!000`, `10{,}000`,
//!   and `1,250` when the whole answer is one grouped number);
//! - `x = 5` and `x \in [1,2]` keep the right-hand side when the left is a
//!   single letter (`5x + 3 = 0` is kept whole);
//! - `(C)` and `\text{(C)}` are the choice `C`; `2\frac{1}{2}` (an integer
//!   directly followed by a fraction of integers) is the mixed number 5/2;
//! - shapes: `(a, b)` and `[a, b)` are ordered and keep their brackets
//!   (so `[1,2)` ≠ `(1,2)`, `(1,2)` ≠ `(2,1)`); `\{a, b\}` and bare lists
//!   `a, b` are unordered; unions `A \cup B` are unordered; `pmatrix` and
//!   `bmatrix` compare cell by cell;
//! - values: elements that parse as arithmetic (see `expr`: `\frac`,
//!   `\sqrt`, `^`, `\pi`, `\cdot`, `\times`, implicit multiplication,
//!   single-letter variables) are equal when their values agree within the
//!   tolerance; with variables, at eight fixed points (so `2x+2` =
//!   `2(x+1)`), which requires the same variables on both sides.
//!
//! Not handled (compared as normalised strings, so possibly a false
//! "wrong"): `\pm` (`1 \pm \sqrt{2}` is not expanded), `i^2 = -1` (`i` is
//! a variable), `e` as Euler's number, equations other than `var = value`,
//! words beyond exact text (`\text{east}` = `east`, but not `East`), bases
//! (`204_5`), and units glued to the number (`10cm`). A failed parse never
//! makes two answers equal.

mod compare;
mod eval;
mod expr;
mod extract;
mod normalize;
mod relation;
mod structure;

pub use expr::Expr;
pub use extract::{Boxed, boxes, extract};
pub use normalize::{join_thousands, normalize};
pub use structure::Shape;

use crate::arith::Budget;
use crate::verdict::{Outcome, Verdict};
use structure::Context;

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

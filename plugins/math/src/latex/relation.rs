//! Equations and inequalities: against each other (up to a constant
//! factor, so sides may be swapped, moved or scaled), against a bare value
//! (`AB = 5` answers `5`), and inequalities in one variable as intervals.

use super::compare;
use super::expr::{self, Expr};
use super::structure::{Context, Rel, Shape, equivalent, leaf_equal, parse};
use crate::verdict::{Comparison, Verdict};

/// Two relations: equal text; else two equations (or two `≠`) whose
/// sides' differences are proportional; else two inequalities of the
/// same strictness whose differences, oriented as `f < 0` or `f ≤ 0`, are
/// proportional with a positive factor; else both as intervals.
pub fn compare_relations(a: (&[String], &[Rel]), b: (&[String], &[Rel]), cx: &Context) -> Verdict {
    if a == b {
        return Verdict::equal(Comparison::Text);
    }
    match (single(a), single(b)) {
        (Some((l1, r1, rel1)), Some((l2, r2, rel2))) => {
            if let (Some(o1), Some(o2)) = (orient(l1, r1, rel1), orient(l2, r2, rel2)) {
                return sides_proportional(o1, o2, true, cx);
            }
            let same_kind = rel1 == rel2 && matches!(rel1, Rel::Eq | Rel::Ne);
            if same_kind {
                let sides_equal = |pairs: [(&str, &str); 2]| Verdict::all(pairs.map(|(x, y)| leaf_equal(x, y, cx)));
                return Verdict::any((0..3).map(|alternative| match alternative {
                    0 => sides_equal([(l1, l2), (r1, r2)]),
                    1 => sides_equal([(l1, r2), (r1, l2)]),
                    _ => sides_proportional(Oriented::new(l1, r1, false), Oriented::new(l2, r2, false), false, cx),
                }));
            }
            intervals(a, b, cx)
        }
        _ => intervals(a, b, cx),
    }
}

/// A named value against a bare one: the sides that are not names
/// (`\angle ABC`, `AB`, `f(x)`, `x_1`, `(x, y)`) must all equal `value`,
/// so `\angle ABC = 30` and `x = 2+3 = 5` both answer `5`, and
/// `M = \begin{pmatrix}…\end{pmatrix}` answers the matrix, while
/// `x + y = 5` (no name) and `2x = 10` (a coefficient) do not.
pub fn named_value(sides: &[String], relations: &[Rel], value: &Shape, cx: &Context) -> Verdict {
    let values: Vec<&String> = sides.iter().filter(|side| !is_name(side)).collect();
    if relations.iter().any(|r| *r != Rel::Eq) || values.is_empty() {
        return Verdict::different(Comparison::Shape);
    }
    Verdict::all(values.into_iter().map(|side| equivalent(&parse(side), value, cx)))
}

/// An inequality in one variable as an interval: `x \le 4` is
/// `(-\infty, 4]`, `4 > x` is `(-\infty, 4)`, `1 \le x < 9` is `[1, 9)`.
pub fn interval(sides: &[String], relations: &[Rel]) -> Option<Shape> {
    let bound = |s: &String| expr::parse(s).is_some_and(|e| e.variables().is_empty()).then(|| s.clone());
    match (sides, relations) {
        ([l, r], [rel]) if is_variable(l) => half_line(bound(r)?, *rel),
        ([l, r], [rel]) if is_variable(r) => half_line(bound(l)?, flip(*rel)?),
        ([lo, x, hi], [r1, r2]) if is_variable(x) => {
            let (lo, hi, r1, r2) = match (r1, r2) {
                (Rel::Lt | Rel::Le, Rel::Lt | Rel::Le) => (bound(lo)?, bound(hi)?, *r1, *r2),
                (Rel::Gt | Rel::Ge, Rel::Gt | Rel::Ge) => (bound(hi)?, bound(lo)?, flip(*r2)?, flip(*r1)?),
                _ => return None,
            };
            let open = if r1 == Rel::Lt { '(' } else { '[' };
            let close = if r2 == Rel::Lt { ')' } else { ']' };
            Some(Shape::Bracketed { open, close, items: vec![Shape::Leaf(lo), Shape::Leaf(hi)] })
        }
        _ => None,
    }
}

/// `x < a` and friends: the half-line of values of `x` (with `x` on the left).
fn half_line(a: String, rel: Rel) -> Option<Shape> {
    let (open, close, items) = match rel {
        Rel::Lt => ('(', ')', ["-\\infty".to_string(), a]),
        Rel::Le => ('(', ']', ["-\\infty".to_string(), a]),
        Rel::Gt => ('(', ')', [a, "\\infty".to_string()]),
        Rel::Ge => ('[', ')', [a, "\\infty".to_string()]),
        Rel::Eq | Rel::Ne => return None,
    };
    Some(Shape::Bracketed { open, close, items: items.into_iter().map(Shape::Leaf).collect() })
}

/// The same relation with its sides swapped (`a < x` is `x > a`).
fn flip(rel: Rel) -> Option<Rel> {
    match rel {
        Rel::Lt => Some(Rel::Gt),
        Rel::Le => Some(Rel::Ge),
        Rel::Gt => Some(Rel::Lt),
        Rel::Ge => Some(Rel::Le),
        Rel::Eq | Rel::Ne => None,
    }
}

fn intervals(a: (&[String], &[Rel]), b: (&[String], &[Rel]), cx: &Context) -> Verdict {
    match (interval(a.0, a.1), interval(b.0, b.1)) {
        (Some(x), Some(y)) => equivalent(&x, &y, cx),
        _ => Verdict::different(Comparison::Shape),
    }
}

/// The two sides and the relation of a relation that has exactly two sides.
fn single<'a>((sides, relations): (&'a [String], &'a [Rel])) -> Option<(&'a str, &'a str, Rel)> {
    match (sides, relations) {
        ([l, r], [rel]) => Some((l, r, *rel)),
        _ => None,
    }
}

/// An inequality as `lower - upper`, which is negative (strictly or not).
#[derive(Clone, Copy)]
struct Oriented<'a> {
    lower: &'a str,
    upper: &'a str,
    strict: bool,
}

impl<'a> Oriented<'a> {
    fn new(lower: &'a str, upper: &'a str, strict: bool) -> Self {
        Oriented { lower, upper, strict }
    }
}

fn orient<'a>(l: &'a str, r: &'a str, rel: Rel) -> Option<Oriented<'a>> {
    match rel {
        Rel::Lt => Some(Oriented::new(l, r, true)),
        Rel::Le => Some(Oriented::new(l, r, false)),
        Rel::Gt => Some(Oriented::new(r, l, true)),
        Rel::Ge => Some(Oriented::new(r, l, false)),
        Rel::Eq | Rel::Ne => None,
    }
}

/// Whether `a.lower - a.upper = k·(b.lower - b.upper)` for a constant
/// `k ≠ 0` (`k > 0` for inequalities, which must match in strictness).
fn sides_proportional(a: Oriented, b: Oriented, inequality: bool, cx: &Context) -> Verdict {
    if a.strict != b.strict {
        return Verdict::different(Comparison::Shape);
    }
    let difference =
        |o: Oriented| -> Option<Expr> { Some(expr::difference(expr::parse(o.lower)?, expr::parse(o.upper)?)) };
    match (difference(a), difference(b)) {
        (Some(f), Some(g)) => compare::proportional(&f, &g, inequality, cx.tolerance, &cx.budget),
        _ => Verdict::different(Comparison::Text),
    }
}

/// A single-letter variable.
fn is_variable(s: &str) -> bool {
    s.len() == 1 && s.as_bytes()[0].is_ascii_alphabetic()
}

/// Whether a side names a quantity rather than computing one: letters,
/// commands (`\angle ABC`, `\overline{AB}`), subscripts (`x_1`), primes
/// and a function's arguments (`f(2)`); no operator, no leading digit,
/// and not a constant (`\frac{1}{2}`).
fn is_name(side: &str) -> bool {
    let b = side.as_bytes();
    if b.first().is_none_or(u8::is_ascii_digit) || expr::parse(side).is_some_and(|e| e.variables().is_empty()) {
        return false;
    }
    let mut depth = 0i32;
    for (i, &c) in b.iter().enumerate() {
        match c {
            b'(' | b'{' | b'[' => depth += 1,
            b')' | b'}' | b']' => depth -= 1,
            _ if depth > 0 => {}
            b'_' | b'\\' | b'\'' | b' ' => {}
            c if c.is_ascii_alphabetic() => {}
            c if c.is_ascii_digit() && b[i - 1] == b'_' => {}
            _ => return false,
        }
    }
    b.iter().any(u8::is_ascii_alphabetic)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_values() {
        for name in ["x", "AB", "\\angle ABC", "m\\angle A", "f(x)", "f(2)", "x_1", "a_{10}", "\\overline{AB}", "P(A)"]
        {
            assert!(is_name(name), "{name}");
        }
        for value in ["2x", "5", "x+y", "x^2", "\\frac{1}{2}", "x2", "-x", "3.5"] {
            assert!(!is_name(value), "{value}");
        }
    }
}

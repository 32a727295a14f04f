//! The shape of a normalised answer (an interval or tuple, a set or bare
//! list, a union, a matrix, an equation or inequality, or a single
//! expression) and equivalence shape by shape.

use super::compare;
use super::expr;
use super::normalize;
use crate::arith::Budget;
use crate::verdict::{Comparison, Outcome, Verdict};

/// How deep shapes may nest (`((1,2),(3,4))` is 2); deeper is one leaf.
const MAX_NESTING: usize = 16;

/// A normalised answer split into its parts.
#[derive(Debug, Clone, PartialEq)]
pub enum Shape {
    /// One value, in leaf-normalised form.
    Leaf(String),
    /// `(a, b)`, `[a, b)`, …: elements in order, with the brackets.
    Bracketed { open: char, close: char, items: Vec<Shape> },
    /// `\{a, b\}`, `a, b` or `1 \pm \sqrt{2}`: elements in any order.
    Unordered(Vec<Shape>),
    /// `A \cup B`: parts in any order.
    Union(Vec<Shape>),
    /// `\begin{pmatrix} … \end{pmatrix}` (or `bmatrix`): rows of cells.
    Matrix(Vec<Vec<Shape>>),
    /// `y = 2x`, `x \le 4`, `1 \le x < 9`: sides joined by relations.
    Relation { sides: Vec<String>, relations: Vec<Rel> },
}

/// A relation between two sides.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rel {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

/// Relation symbols as normalisation writes them, longest first.
const RELATIONS: [(&str, Rel); 6] =
    [("\\le", Rel::Le), ("\\ge", Rel::Ge), ("\\ne", Rel::Ne), ("=", Rel::Eq), ("<", Rel::Lt), (">", Rel::Gt)];

impl Shape {
    /// What kind of answer this is, for `info.shape`.
    pub fn kind(&self) -> &'static str {
        match self {
            Shape::Leaf(_) => "expression",
            Shape::Bracketed { open: '[', .. } | Shape::Bracketed { close: ']', .. } => "interval",
            Shape::Bracketed { .. } => "tuple",
            Shape::Unordered(_) => "set",
            Shape::Union(_) => "union",
            Shape::Matrix(_) => "matrix",
            Shape::Relation { relations, .. } if relations.iter().all(|r| *r == Rel::Eq) => "equation",
            Shape::Relation { .. } => "inequality",
        }
    }
}

/// Split a normalised answer into its shape.
pub fn parse(s: &str) -> Shape {
    parse_nested(s, 0)
}

fn parse_nested(s: &str, depth: usize) -> Shape {
    let s = s.trim();
    if depth >= MAX_NESTING {
        return Shape::Leaf(normalize::leaf(s));
    }
    let part = |p: &&str| parse_nested(p, depth + 1);
    let parts = split_top(s, "\\cup");
    if parts.len() > 1 {
        return Shape::Union(parts.iter().map(part).collect());
    }
    if let Some(rows) = matrix_rows(s) {
        return Shape::Matrix(rows.iter().map(|row| split_top(row, "&").iter().map(part).collect()).collect());
    }
    if let Some(inner) = s.strip_prefix("\\{").and_then(|r| r.strip_suffix("\\}")).filter(|i| encloses(i)) {
        return Shape::Unordered(items(inner, depth));
    }
    let (first, last) = (s.chars().next(), s.chars().last());
    if let (Some(open @ ('(' | '[')), Some(close @ (')' | ']'))) = (first, last) {
        let inner = &s[1..s.len() - 1];
        if encloses(inner) && split_top(inner, ",").len() > 1 {
            return Shape::Bracketed { open, close, items: split_top(inner, ",").iter().map(part).collect() };
        }
    }
    if split_top(s, ",").len() > 1 {
        return Shape::Unordered(items(s, depth));
    }
    if let Some(both) = expand_plus_minus(s) {
        return Shape::Unordered(both.iter().map(|b| Shape::Leaf(normalize::leaf(b))).collect());
    }
    relation(s).unwrap_or_else(|| Shape::Leaf(normalize::leaf(s)))
}

/// The elements of a set or list; `a \pm b` counts as its two values.
fn items(inner: &str, depth: usize) -> Vec<Shape> {
    let mut out = Vec::new();
    for item in split_top(inner, ",") {
        match parse_nested(item, depth + 1) {
            Shape::Unordered(both) if expand_plus_minus(item.trim()).is_some() => out.extend(both),
            shape => out.push(shape),
        }
    }
    out
}

/// `a \pm b` as `a + b` and `a - b` (one `\pm` or `\mp`, outside brackets).
fn expand_plus_minus(s: &str) -> Option<[String; 2]> {
    let sign = ["\\pm", "\\mp"].into_iter().find(|sign| split_top(s, sign).len() == 2)?;
    let [left, right] = split_top(s, sign)[..] else { return None };
    if right.contains("\\pm") || right.contains("\\mp") {
        return None;
    }
    let (first, second) = if sign == "\\pm" { ('+', '-') } else { ('-', '+') };
    Some([format!("{left}{first}{right}"), format!("{left}{second}({right})")])
}

/// `a = b`, `x \le 4`, `1 < x \le 9`: sides split at relation symbols
/// outside brackets.
fn relation(s: &str) -> Option<Shape> {
    let (mut sides, mut relations) = (Vec::new(), Vec::new());
    let (mut depth, mut start, mut i) = (0i32, 0, 0);
    let b = s.as_bytes();
    while i < b.len() {
        match b[i] {
            b'(' | b'[' | b'{' => depth += 1,
            b')' | b']' | b'}' => depth -= 1,
            _ if depth == 0 => {
                // `\le` is not the start of `\left`.
                let found = RELATIONS.iter().find(|(sym, _)| {
                    let command = sym.starts_with('\\');
                    s[i..].starts_with(sym)
                        && !(command && s[i + sym.len()..].starts_with(|c: char| c.is_ascii_alphabetic()))
                });
                if let Some((sym, rel)) = found {
                    sides.push(normalize::leaf(&s[start..i]));
                    relations.push(*rel);
                    i += sym.len();
                    start = i;
                    continue;
                }
            }
            _ => {}
        }
        i += 1;
    }
    sides.push(normalize::leaf(&s[start..]));
    let complete = !relations.is_empty() && sides.iter().all(|side| !side.is_empty());
    complete.then_some(Shape::Relation { sides, relations })
}

/// What a comparison needs besides the shapes.
pub struct Context {
    /// Relative tolerance when a side is a decimal.
    pub tolerance: f64,
    /// The work the comparison may still do.
    pub budget: Budget,
}

/// Whether two shapes are equivalent: same kind, same size, and elements
/// equivalent in order (bracketed, matrix) or under some pairing (sets,
/// lists, unions). Equations and inequalities compare with each other, a
/// named value (`AB = 5`) with a bare one, and inequalities in one
/// variable with intervals.
pub fn equivalent(a: &Shape, b: &Shape, cx: &Context) -> Verdict {
    match (a, b) {
        (Shape::Leaf(x), Shape::Leaf(y)) => leaf_equal(x, y, cx),
        (Shape::Bracketed { open: o1, close: c1, items: i1 }, Shape::Bracketed { open: o2, close: c2, items: i2 }) => {
            if o1 != o2 || c1 != c2 || i1.len() != i2.len() {
                return Verdict::different(Comparison::Shape);
            }
            Verdict::all(i1.iter().zip(i2).map(|(x, y)| equivalent(x, y, cx)))
        }
        (Shape::Unordered(x), Shape::Unordered(y)) | (Shape::Union(x), Shape::Union(y)) => pairs_up(x, y, cx),
        // One value written several ways (`\boxed{15\frac{39}{40}}` or
        // `\boxed{\frac{639}{40}}`): every one of them must be it.
        (Shape::Unordered(items), value @ Shape::Leaf(_)) | (value @ Shape::Leaf(_), Shape::Unordered(items)) => {
            Verdict::all(items.iter().map(|item| equivalent(item, value, cx)))
        }
        (Shape::Matrix(x), Shape::Matrix(y))
            if x.len() == y.len() && x.iter().zip(y).all(|(r, s)| r.len() == s.len()) =>
        {
            Verdict::all(x.iter().flatten().zip(y.iter().flatten()).map(|(p, q)| equivalent(p, q, cx)))
        }
        (Shape::Relation { sides: s1, relations: r1 }, Shape::Relation { sides: s2, relations: r2 }) => {
            super::relation::compare_relations((s1, r1), (s2, r2), cx)
        }
        (Shape::Relation { sides, relations }, value) | (value, Shape::Relation { sides, relations }) => {
            let readings = [true, false].into_iter().map(|named| match named {
                true => super::relation::named_value(sides, relations, value, cx),
                false => as_intervals_equivalent(a, b, cx),
            });
            Verdict::any(readings)
        }
        _ => as_intervals_equivalent(a, b, cx),
    }
}

/// Both shapes as intervals or unions, when either was not one already.
fn as_intervals_equivalent(a: &Shape, b: &Shape, cx: &Context) -> Verdict {
    match (as_intervals(a), as_intervals(b)) {
        (Some(x), Some(y)) if (&x, &y) != (a, b) => equivalent(&x, &y, cx),
        _ => Verdict::different(Comparison::Shape),
    }
}

/// An inequality in one variable as an interval (`x \le 4` is
/// `(-\infty, 4]`), a list of such inequalities as a union, and any
/// interval or union as itself.
fn as_intervals(shape: &Shape) -> Option<Shape> {
    match shape {
        Shape::Bracketed { items, .. } if items.len() == 2 => Some(shape.clone()),
        Shape::Union(_) => Some(shape.clone()),
        Shape::Relation { sides, relations } => super::relation::interval(sides, relations),
        Shape::Unordered(parts) => {
            parts.iter().map(as_intervals).collect::<Option<Vec<_>>>().map(Shape::Union).filter(|_| parts.len() > 1)
        }
        _ => None,
    }
}

/// Leaves: equal text, else equal values (see `compare`). Text that does
/// not parse as an expression is only equal to itself.
pub fn leaf_equal(a: &str, b: &str, cx: &Context) -> Verdict {
    if a == b {
        return Verdict::equal(Comparison::Text);
    }
    match (expr::parse(a), expr::parse(b)) {
        (Some(x), Some(y)) => compare::expressions(&x, &y, cx.tolerance, &cx.budget),
        _ => Verdict::different(Comparison::Text),
    }
}

/// Whether every element of `a` matches a distinct element of `b`.
/// Greedy matching suffices because equivalence is (near enough) an
/// equivalence relation. An element with no match but an undecided
/// candidate leaves the whole undecided.
fn pairs_up(a: &[Shape], b: &[Shape], cx: &Context) -> Verdict {
    if a.len() != b.len() {
        return Verdict::different(Comparison::Shape);
    }
    let mut used = vec![false; b.len()];
    let mut matched = Vec::with_capacity(a.len());
    for x in a {
        let mut undecided = false;
        let found = (0..b.len()).filter(|&j| !used[j]).find_map(|j| {
            let verdict = equivalent(x, &b[j], cx);
            undecided |= verdict.outcome == Outcome::Undecided;
            verdict.is_equal().then_some((j, verdict))
        });
        match found {
            Some((j, verdict)) => {
                used[j] = true;
                matched.push(verdict);
            }
            None if undecided => return Verdict::undecided(),
            None => return Verdict::different(Comparison::Shape),
        }
    }
    Verdict::all(matched)
}

/// Split at `separator` where no bracket or brace is open.
pub fn split_top<'a>(s: &'a str, separator: &str) -> Vec<&'a str> {
    let mut parts = Vec::new();
    let (mut depth, mut start, mut i) = (0i32, 0, 0);
    let b = s.as_bytes();
    while i < b.len() {
        match b[i] {
            b'(' | b'[' | b'{' => depth += 1,
            b')' | b']' | b'}' => depth -= 1,
            _ if depth == 0 && s[i..].starts_with(separator) => {
                parts.push(&s[start..i]);
                i += separator.len();
                start = i;
                continue;
            }
            _ => {}
        }
        i += 1;
    }
    parts.push(&s[start..]);
    parts
}

/// Whether the brackets in `inner` balance without closing early, so that
/// the brackets around it belong together (`(1,2)` yes, `(1)(2)` no).
fn encloses(inner: &str) -> bool {
    let mut depth = 0i32;
    for c in inner.bytes() {
        match c {
            b'(' | b'[' | b'{' => depth += 1,
            b')' | b']' | b'}' => depth -= 1,
            _ => {}
        }
        if depth < 0 {
            return false;
        }
    }
    depth == 0
}

/// The rows of `\begin{pmatrix} a & b \\ c & d \end{pmatrix}` (also
/// `bmatrix`, `matrix`): the bracket style is presentation.
fn matrix_rows(s: &str) -> Option<Vec<&str>> {
    ["pmatrix", "bmatrix", "matrix"].iter().find_map(|kind| {
        let inner = s.strip_prefix(&format!("\\begin{{{kind}}}"))?.strip_suffix(&format!("\\end{{{kind}}}"))?;
        Some(inner.split("\\\\").map(str::trim).filter(|row| !row.is_empty()).collect())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn leaf(s: &str) -> Shape {
        Shape::Leaf(s.into())
    }

    #[test]
    fn shapes() {
        assert_eq!(parse("(1,2)"), Shape::Bracketed { open: '(', close: ')', items: vec![leaf("1"), leaf("2")] });
        assert_eq!(parse("[1,2)"), Shape::Bracketed { open: '[', close: ')', items: vec![leaf("1"), leaf("2")] });
        assert_eq!(parse("\\{1,2\\}"), Shape::Unordered(vec![leaf("1"), leaf("2")]));
        assert_eq!(parse("-2,1"), Shape::Unordered(vec![leaf("-2"), leaf("1")]));
        assert_eq!(parse("(a+5)(b+2)"), leaf("(a+5)(b+2)"));
        assert_eq!(parse("(1)"), leaf("(1)"));
        assert!(matches!(parse("(0,9) \\cup (9,36)"), Shape::Union(parts) if parts.len() == 2));
        let matrix = parse("\\begin{pmatrix} -1 & 0 \\\\ 0 & -1 \\end{pmatrix}");
        assert_eq!(matrix, Shape::Matrix(vec![vec![leaf("-1"), leaf("0")], vec![leaf("0"), leaf("-1")]]));
        assert_eq!(parse("1\\pm\\sqrt{2}"), Shape::Unordered(vec![leaf("1+\\sqrt{2}"), leaf("1-(\\sqrt{2})")]));
        let chain = parse("1 \\le x < 9");
        assert_eq!(
            chain,
            Shape::Relation { sides: vec!["1".into(), "x".into(), "9".into()], relations: vec![Rel::Le, Rel::Lt] }
        );
        assert_eq!(
            parse("f(x)=2"),
            Shape::Relation { sides: vec!["f(x)".into(), "2".into()], relations: vec![Rel::Eq] }
        );
    }

    #[test]
    fn deep_nesting_is_one_leaf() {
        let deep = format!("{}1,2{}", "(".repeat(40), ")".repeat(40));
        let mut shape = &parse(&deep);
        let mut depth = 0;
        while let Shape::Bracketed { items, .. } = shape {
            shape = &items[0];
            depth += 1;
        }
        assert!(depth <= MAX_NESTING, "{depth}");
    }
}

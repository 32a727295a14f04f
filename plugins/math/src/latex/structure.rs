//! The shape of a normalised answer: an interval or tuple (ordered, with
//! its brackets), a set `\{…\}` or bare comma list (unordered), a union of
//! intervals, a matrix, or a single expression; and equivalence shape by
//! shape.

use super::{expr, normalize};

/// A normalised answer split into its parts.
#[derive(Debug, Clone, PartialEq)]
pub enum Shape {
    /// One value, in leaf-normalised form.
    Leaf(String),
    /// `(a, b)`, `[a, b)`, …: elements in order, with the brackets.
    Bracketed { open: char, close: char, items: Vec<Shape> },
    /// `\{a, b\}` or `a, b`: elements in any order.
    Unordered(Vec<Shape>),
    /// `A \cup B`: parts in any order.
    Union(Vec<Shape>),
    /// `\begin{pmatrix} … \end{pmatrix}` (or `bmatrix`): rows of cells.
    Matrix(Vec<Vec<Shape>>),
}

/// Split a normalised answer into its shape.
pub fn parse(s: &str) -> Shape {
    let s = s.trim();
    let parts = split_top(s, "\\cup");
    if parts.len() > 1 {
        return Shape::Union(parts.iter().map(|p| parse(p)).collect());
    }
    if let Some(rows) = matrix_rows(s) {
        return Shape::Matrix(rows.iter().map(|row| split_top(row, "&").iter().map(|c| parse(c)).collect()).collect());
    }
    if let Some(inner) = s.strip_prefix("\\{").and_then(|r| r.strip_suffix("\\}")).filter(|i| encloses(i)) {
        return Shape::Unordered(items(inner));
    }
    let (first, last) = (s.chars().next(), s.chars().last());
    if let (Some(open @ ('(' | '[')), Some(close @ (')' | ']'))) = (first, last) {
        let inner = &s[1..s.len() - 1];
        if encloses(inner) && split_top(inner, ",").len() > 1 {
            return Shape::Bracketed { open, close, items: items(inner) };
        }
    }
    if split_top(s, ",").len() > 1 {
        return Shape::Unordered(items(s));
    }
    Shape::Leaf(normalize::leaf(s))
}

/// Whether two shapes are equivalent: same kind, same size, and elements
/// equivalent in order (bracketed, matrix) or under some pairing (sets,
/// lists, unions). Leaves are equal as strings or as expressions.
pub fn equivalent(a: &Shape, b: &Shape, tolerance: f64) -> bool {
    match (a, b) {
        (Shape::Leaf(x), Shape::Leaf(y)) => leaf_equal(x, y, tolerance),
        (Shape::Bracketed { open: o1, close: c1, items: i1 }, Shape::Bracketed { open: o2, close: c2, items: i2 }) => {
            o1 == o2 && c1 == c2 && all_equal(i1, i2, tolerance)
        }
        (Shape::Unordered(x), Shape::Unordered(y)) | (Shape::Union(x), Shape::Union(y)) => pairs_up(x, y, tolerance),
        (Shape::Matrix(x), Shape::Matrix(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(r1, r2)| all_equal(r1, r2, tolerance))
        }
        _ => false,
    }
}

fn leaf_equal(a: &str, b: &str, tolerance: f64) -> bool {
    if a == b {
        return true;
    }
    match (expr::parse(a), expr::parse(b)) {
        (Some(x), Some(y)) => expr::equal(&x, &y, tolerance),
        _ => false,
    }
}

fn all_equal(a: &[Shape], b: &[Shape], tolerance: f64) -> bool {
    a.len() == b.len() && a.iter().zip(b).all(|(x, y)| equivalent(x, y, tolerance))
}

/// Whether every element of `a` matches a distinct element of `b`.
/// Greedy matching suffices because equivalence is (near enough) an
/// equivalence relation.
fn pairs_up(a: &[Shape], b: &[Shape], tolerance: f64) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let mut used = vec![false; b.len()];
    a.iter().all(|x| match (0..b.len()).find(|&j| !used[j] && equivalent(x, &b[j], tolerance)) {
        Some(j) => {
            used[j] = true;
            true
        }
        None => false,
    })
}

fn items(inner: &str) -> Vec<Shape> {
    split_top(inner, ",").iter().map(|item| parse(item)).collect()
}

/// Split at `separator` where no bracket or brace is open.
fn split_top<'a>(s: &'a str, separator: &str) -> Vec<&'a str> {
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
    }
}

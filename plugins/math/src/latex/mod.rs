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

mod expr;
mod normalize;
mod structure;

pub use expr::close;
pub use normalize::normalize;

use crate::extract::{Extraction, Method};

/// Read the final answer of a MATH-style reply.
pub fn extract(completion: &str) -> Extraction {
    match last_boxed(completion) {
        Some(Ok(content)) if !content.trim().is_empty() => {
            Extraction::Answer { text: content.trim().to_string(), method: Method::Boxed }
        }
        Some(Ok(_)) => Extraction::Malformed { method: Method::Boxed, content: String::new() },
        Some(Err(content)) => Extraction::Malformed { method: Method::Boxed, content: snippet(content) },
        None => match answer_phrase(completion) {
            Some(text) => Extraction::Answer { text, method: Method::AnswerPhrase },
            None => Extraction::NoAnswer,
        },
    }
}

/// Whether `answer` is equivalent to `gold` (see the module docs).
pub fn equivalent(answer: &str, gold: &str, tolerance: f64) -> bool {
    let (a, g) = (normalize(answer), normalize(gold));
    a == g || structure::equivalent(&structure::parse(&a), &structure::parse(&g), tolerance)
}

/// The value of an answer without variables (`\frac{3}{4}`, `\$1,250`),
/// if it is arithmetic.
pub fn value(answer: &str) -> Option<f64> {
    match structure::parse(&normalize(answer)) {
        structure::Shape::Leaf(leaf) => {
            let e = expr::parse(&leaf)?;
            e.variables().is_empty().then(|| e.eval(&|_| f64::NAN)).filter(|v| !v.is_nan())
        }
        _ => None,
    }
}

/// The content of the last `\boxed` or `\fbox`: `Ok(content)`, or
/// `Err(rest)` when its braces never close.
pub fn last_boxed(text: &str) -> Option<Result<&str, &str>> {
    let start = ["\\boxed", "\\fbox"]
        .iter()
        .flat_map(|name| text.match_indices(name).map(move |(at, _)| (at, at + name.len())))
        .filter(|&(_, end)| !text[end..].starts_with(|c: char| c.is_ascii_alphabetic()))
        .max();
    let (_, end) = start?;
    let rest = &text[end..];
    let trimmed = rest.trim_start();
    if trimmed.starts_with('{') {
        return Some(brace_content(trimmed, 0).ok_or(trimmed));
    }
    // `\boxed 5`: the argument is the next token.
    let token = trimmed.split(|c: char| c.is_whitespace() || c == '$').next().unwrap_or("");
    let spaced = rest.len() > trimmed.len();
    if spaced && !token.is_empty() { Some(Ok(token.trim_end_matches('.'))) } else { Some(Err(rest)) }
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

/// The answer after the last "answer is" or "answer:" (any case): inside
/// math delimiters if it starts with one, else up to the end of the line.
fn answer_phrase(text: &str) -> Option<String> {
    let lower = text.to_ascii_lowercase();
    let end = ["answer is", "answer:"].iter().filter_map(|p| lower.rfind(p).map(|at| at + p.len())).max()?;
    let rest = text[end..].trim_start_matches([' ', '\t', ':', '*']);
    let delimited = [("$$", "$$"), ("$", "$"), ("\\(", "\\)"), ("\\[", "\\]")]
        .iter()
        .find_map(|(open, close)| rest.strip_prefix(open).and_then(|r| r.find(close).map(|at| &r[..at])));
    let content = match delimited {
        Some(inner) => inner,
        None => rest.lines().next().unwrap_or(""),
    };
    let content = content.trim().trim_end_matches(['.', '*']).trim();
    (!content.is_empty()).then(|| content.to_string())
}

/// At most 60 characters of `text`, for reporting an unreadable answer.
fn snippet(text: &str) -> String {
    text.chars().take(60).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(text: &str) -> Extraction {
        extract(text)
    }

    fn found(text: &str, method: Method) -> Extraction {
        Extraction::Answer { text: text.into(), method }
    }

    #[test]
    fn the_last_box_wins_with_nested_braces() {
        assert_eq!(answer("\\boxed{1} then \\boxed{\\frac{1}{2}}."), found("\\frac{1}{2}", Method::Boxed));
        assert_eq!(answer("$\\boxed{\\{1,2\\}}$"), found("\\{1,2\\}", Method::Boxed));
        assert_eq!(answer("so $\\fbox{7}$"), found("7", Method::Boxed));
        assert_eq!(answer("so $\\boxed 5$."), found("5", Method::Boxed));
        assert_eq!(answer("\\boxed {x+1}"), found("x+1", Method::Boxed));
        assert!(matches!(answer("\\boxed{1} and \\boxed{\\frac{1}{2}"), Extraction::Malformed { .. }));
        assert!(matches!(answer("\\boxed{ }"), Extraction::Malformed { .. }));
    }

    #[test]
    fn answer_phrases_are_the_fallback() {
        assert_eq!(answer("The answer is $\\frac{1}{2}$, clearly."), found("\\frac{1}{2}", Method::AnswerPhrase));
        assert_eq!(answer("Final answer: \\(x=3\\)"), found("x=3", Method::AnswerPhrase));
        assert_eq!(answer("**Final Answer:** 12.\nDone"), found("12", Method::AnswerPhrase));
        assert_eq!(answer("I think it is 5."), Extraction::NoAnswer);
        assert_eq!(answer("The answer is"), Extraction::NoAnswer);
    }

    #[test]
    fn values() {
        assert_eq!(value("\\frac{3}{4}"), Some(0.75));
        assert_eq!(value("\\$1,250"), Some(1250.0));
        assert_eq!(value("18 \\text{ dollars}"), Some(18.0));
        assert_eq!(value("x+1"), None);
        assert_eq!(value("(1,2)"), None);
    }
}

//! GSM8K-style answers: a single number, read from a worked solution.
//!
//! Calculator annotations (`<<48/2=24>>`) are removed first, so their
//! results are not read twice. Then the first rule that fires wins:
//! 1. `#### <n>` (the last one with a number, not a numbered markdown
//!    heading such as `#### 2. Solve`): GSM8K's own answer line;
//! 2. "the (final) answer is <n>" or "answer: <n>" (the last one with a
//!    number after it that is not an operand, as in "the answer is
//!    $3! \times 5! = \boxed{720}$"; `$`, `**`, `:` and `\boxed{` may come
//!    between);
//! 3. a last line `A: <n>`, as the GSM8K paper's solutions end;
//! 4. the last `\boxed{}`, read as a number or LaTeX arithmetic;
//! 5. the last number anywhere.
//!
//! Rule 5 is a fallback: a reply the host reports cut off by the token
//! limit gets none.
//!
//! Numbers may have thousands separators (`1,250`, and LaTeX's `7{,}350`,
//! `16,\!200`, `1{, }000`), a currency sign (`$1,250.`), a sign (`-3`,
//! `−3`), decimals (`.5`, `3.50`), a percent sign (`25%` is 25) or be a
//! fraction of integers (`3/4`); words after them (`72 eggs`) are
//! ignored. Values are exact: `3/4` is the rational 3/4, not 0.75 in
//! floating point.

use crate::extract::{Extraction, Method};
use crate::latex::{self, Expr};

/// A number found in a text.
#[derive(Debug, Clone, PartialEq)]
struct Found {
    /// Byte offset just past the number.
    end: usize,
    /// The number as written, with its sign.
    text: String,
}

/// Read the final number of a GSM8K-style reply. `truncated` is whether
/// the host reports the reply cut off by the token limit (then the
/// last-number fallback does not apply).
pub fn extract(completion: &str, truncated: Option<bool>) -> Extraction {
    let text = latex::join_thousands(&strip_annotations(completion));
    if let Some(found) = hash_marker(&text) {
        return Extraction::Answer { text: found.text, method: Method::HashMarker };
    }
    if let Some(found) = answer_phrase(&text) {
        return Extraction::Answer { text: found.text, method: Method::AnswerPhrase };
    }
    if let Some(found) = answer_line(&text) {
        return Extraction::Answer { text: found.text, method: Method::AnswerLine };
    }
    match latex::last_boxed(&text) {
        Some(Ok(content)) if value(content).is_some() => {
            return Extraction::Answer { text: content.trim().to_string(), method: Method::Boxed };
        }
        Some(Ok(content) | Err(content)) => {
            return Extraction::Malformed { method: Method::Boxed, content: first_line(content) };
        }
        None => {}
    }
    match numbers(&text).pop() {
        Some(found) if truncated != Some(true) => Extraction::Answer { text: found.text, method: Method::LastNumber },
        _ => Extraction::NoAnswer,
    }
}

/// The value of an answer, exact: a plain number (`$1,250`, `3/4`,
/// `72 eggs`) or LaTeX arithmetic (`\frac{3}{4}`, `2\sqrt{3}`).
pub fn value(answer: &str) -> Option<Expr> {
    match plain(answer) {
        Some(number) => latex::expression(&number),
        None => latex::constant(answer),
    }
}

/// An answer's number as plain text without separators, `$` or `%`
/// (`$1,250.` → `1250`), or the answer itself when it is LaTeX arithmetic;
/// `None` when it is neither (`2x`, `1 and 2`).
pub fn canonical(answer: &str) -> Option<String> {
    plain(answer).or_else(|| latex::constant(answer).map(|_| answer.trim().to_string()))
}

/// The number an answer starts with, without separators, `$` or `%`,
/// when only words follow it: not more numbers or a variable (`2x`).
fn plain(answer: &str) -> Option<String> {
    let found = leading(answer)?;
    let rest = &answer.trim_end()[found.end..];
    let separated = rest.is_empty() || rest.starts_with(|c: char| c.is_whitespace() || ".,;)".contains(c));
    (separated && !rest.contains(|c: char| c.is_ascii_digit())).then(|| found.text.replace([',', '%'], ""))
}

/// Whether `text` is just a number (`18`, `-3.5`, `1,250`, `.5`): such a
/// gold answer is graded GSM8K-style in `auto` mode.
pub fn is_plain_number(text: &str) -> bool {
    let text = text.trim();
    let body = text.strip_prefix('-').unwrap_or(text);
    body.starts_with(|c: char| c.is_ascii_digit() || c == '.')
        && scan(body, 0).is_some_and(|f| f.end == body.len())
        && !body.contains(['/', '%'])
}

/// The gold answer of a record: the text after the last `####` if there
/// is one (GSM8K), else the whole answer; thousands separators removed.
pub fn gold(answer: &str) -> String {
    let tail = answer.rfind("####").map_or(answer, |at| &answer[at + 4..]);
    let tail = tail.trim();
    match leading(tail) {
        Some(found) if found.end == tail.len() => found.text.replace(',', ""),
        _ => tail.to_string(),
    }
}

/// Remove calculator annotations `<<48/2=24>>`.
fn strip_annotations(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(open) = rest.find("<<") {
        let Some(close) = rest[open..].find(">>") else { break };
        out.push_str(&rest[..open]);
        rest = &rest[open + close + 2..];
    }
    out.push_str(rest);
    out
}

/// The number after the last `####` that has one. Markdown headings
/// (`#### Step 2`, `#### 2. Solve`, `######`) are not answer lines.
fn hash_marker(text: &str) -> Option<Found> {
    let starts: Vec<usize> = text.match_indices("####").map(|(at, _)| at + 4).collect();
    starts.into_iter().rev().find_map(|start| {
        let rest = text[start..].trim_start_matches('#');
        let found = leading(rest)?;
        let line = rest[found.end..].lines().next().unwrap_or("");
        let numbered_heading =
            line.trim_start().starts_with(['.', ')', ':']) && line.contains(|c: char| c.is_alphabetic());
        (!numbered_heading).then_some(found)
    })
}

/// The number after the last "answer is" / "answer:" that has one.
fn answer_phrase(text: &str) -> Option<Found> {
    let lower = text.to_ascii_lowercase();
    let mut ends: Vec<usize> = ["answer is", "answer:"]
        .iter()
        .flat_map(|p| lower.match_indices(p).map(|(at, m)| at + m.len()).collect::<Vec<_>>())
        .collect();
    ends.sort_unstable();
    ends.iter().rev().find_map(|&end| leading(&text[end..]).filter(|found| !computes_on(&text[end + found.end..])))
}

/// Whether the text after a number goes on computing with it (`3! \times
/// 5! = \boxed{720}`, `7 + (-2) = 5`): then the number is an operand, not
/// the answer.
fn computes_on(rest: &str) -> bool {
    let rest = rest.trim_start_matches([' ', '\t']);
    let bold = rest.starts_with("**");
    (rest.starts_with(['+', '-', '*', '/', '^', '=', '!', '×', '·']) && !bold)
        || rest.starts_with("\\cdot")
        || rest.starts_with("\\times")
}

/// The number on a last line `A: 18`.
fn answer_line(text: &str) -> Option<Found> {
    let last = text.lines().rev().map(str::trim).find(|line| !line.is_empty())?;
    leading(last.strip_prefix("A:")?)
}

/// A number at the start of `text`, after wrappers such as spaces, `:`,
/// `**`, `$`, `\(`, `\boxed{` and `=`.
fn leading(text: &str) -> Option<Found> {
    let s = skip_wrappers(text);
    let (negative, body) = match s.strip_prefix('-').or_else(|| s.strip_prefix('−')) {
        Some(body) => (true, body),
        None => (false, s),
    };
    let body = body.trim_start_matches('$');
    let found = scan(text, text.len() - body.len())?;
    Some(if negative { Found { text: format!("-{}", found.text), ..found } } else { found })
}

/// `text` without the wrappers that may come before an answer.
fn skip_wrappers(text: &str) -> &str {
    let mut s = text;
    loop {
        let trimmed = s.trim_start_matches([' ', '\t', '\n', ':', '*', '$', '=', '(', '{', '[']);
        match ["\\(", "\\[", "\\boxed{", "\\$", "\\text{"].iter().find_map(|p| trimmed.strip_prefix(p)) {
            Some(rest) => s = rest,
            None => return trimmed,
        }
    }
}

/// Every number in `text`, in order, with signs where a `-` is a sign
/// (not after a digit, letter or closing bracket).
fn numbers(text: &str) -> Vec<Found> {
    let b = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        let starts = b[i].is_ascii_digit() || (b[i] == b'.' && b.get(i + 1).is_some_and(u8::is_ascii_digit));
        if !starts || (i > 0 && b[i - 1].is_ascii_digit()) {
            i += 1;
            continue;
        }
        let Some(found) = scan(text, i) else {
            i += 1;
            continue;
        };
        i = found.end;
        out.push(signed(text, found));
    }
    out
}

/// `found` with the sign written before it, if any (`-5`, `-$5`, `−5`).
fn signed(text: &str, found: Found) -> Found {
    let start = found.end - found.text.len();
    let before = text[..start].strip_suffix('$').unwrap_or(&text[..start]);
    let Some(head) = before.strip_suffix('-').or_else(|| before.strip_suffix('−')) else { return found };
    let operand = head.chars().last().is_some_and(|c| c.is_alphanumeric() || c == ')' || c == ']');
    if operand {
        return found;
    }
    Found { text: format!("-{}", found.text), ..found }
}

/// The number starting exactly at byte `i`: digits with optional `,ddd`
/// groups, decimals, then an optional `/digits` fraction and `%`.
fn scan(text: &str, i: usize) -> Option<Found> {
    let b = text.as_bytes();
    let digits_from = |j: usize| b[j.min(b.len())..].iter().take_while(|c| c.is_ascii_digit()).count();
    let mut j = i + digits_from(i);
    let whole = j - i;
    if (1..=3).contains(&whole) {
        // `1,250` is grouped; `1,2` and `1,2500` are not.
        while b.get(j) == Some(&b',') && digits_from(j + 1) == 3 {
            j += 4;
        }
    }
    if b.get(j) == Some(&b'.') && b.get(j + 1).is_some_and(u8::is_ascii_digit) {
        j += 1 + digits_from(j + 1);
    } else if whole == 0 {
        return None;
    }
    if b.get(j) == Some(&b'/') && digits_from(j + 1) > 0 {
        let den_end = j + 1 + digits_from(j + 1);
        // A zero denominator is no fraction: `3/0` is read as 3.
        if text[j + 1..den_end].bytes().any(|c| c != b'0') {
            j = den_end;
        }
    }
    if b.get(j) == Some(&b'%') {
        j += 1;
    }
    Some(Found { end: j, text: text[i..j].to_string() })
}

/// The first line of `text`, at most 60 characters, for reports.
fn first_line(text: &str) -> String {
    text.trim().lines().next().unwrap_or("").chars().take(60).collect()
}

//! Reading the final answer of a MATH-style reply. The first rule that
//! fires wins, and `info.method` names it:
//!
//! 1. `boxed`: the last `\boxed{…}` or `\fbox{…}` (or `\boxed 5`); an
//!    unclosed last box is malformed. `boxed_list` when the boxes before it
//!    are joined to it by nothing but "or", "and", commas or spacing
//!    (`\boxed{3} \text{ or } \boxed{-5}` answers `3, -5`).
//! 2. `answer_phrase`: the last "(final) answer is …" or "Answer: …", when
//!    there is no box or it comes after the last box and reads as an
//!    answer (math in delimiters, a number, or an expression; prose such
//!    as "the answer is the number of ways" does not displace a box).
//!    `minerva` when it is Minerva's "Final Answer: The final answer is X.
//!    I hope it is correct.": X is the answer, not the whole sentence.
//! 3. Fallbacks, only for a reply that ends a sentence (a reply cut off
//!    mid-sentence, or one the host reports truncated, gets none):
//!    `display_math`, the last `\[…\]` or `$$…$$` when only punctuation
//!    follows it; `last_math`, the last `$…$` or `\(…\)` in the reply's
//!    last sentence ("Hence $y \le 2$ is the solution.").

use super::{brace_content, snippet};
use crate::extract::{Extraction, Method};

/// Read the final answer of a MATH-style reply. `truncated` is whether
/// the reply was cut off by the token limit (`finish_reason: length`),
/// when the host says; unknown (`None`), a reply that does not end a
/// sentence counts as cut off for the fallbacks.
pub fn extract(completion: &str, truncated: Option<bool>) -> Extraction {
    let text = completion.trim_end();
    let boxes = boxes(text);
    let phrase = answer_phrase(text);
    if let Some(last) = boxes.last() {
        match &phrase {
            Some(p) if p.start > last.end && p.reads_as_answer => return p.extraction(),
            _ => return boxed(text, &boxes),
        }
    }
    if let Some(p) = phrase {
        return p.extraction();
    }
    let cut_off = truncated.unwrap_or_else(|| !ends_sentence(text));
    if cut_off {
        return Extraction::NoAnswer;
    }
    match last_math(text) {
        Some((content, method)) => Extraction::Answer { text: content.trim().to_string(), method },
        None => Extraction::NoAnswer,
    }
}

/// One `\boxed`/`\fbox`: where it starts and ends, and its content
/// (`Err` with the rest of the text when its braces never close).
#[derive(Debug, Clone, Copy)]
pub struct Boxed<'a> {
    pub start: usize,
    pub end: usize,
    pub content: Result<&'a str, &'a str>,
}

/// Every box of `text`, in order.
pub fn boxes(text: &str) -> Vec<Boxed<'_>> {
    let mut starts: Vec<(usize, usize)> = ["\\boxed", "\\fbox"]
        .iter()
        .flat_map(|name| text.match_indices(name).map(move |(at, _)| (at, at + name.len())))
        .filter(|&(_, end)| !text[end..].starts_with(|c: char| c.is_ascii_alphabetic()))
        .collect();
    starts.sort_unstable();
    starts.into_iter().map(|(start, after)| one_box(text, start, after)).collect()
}

fn one_box(text: &str, start: usize, after: usize) -> Boxed<'_> {
    let rest = &text[after..];
    let trimmed = rest.trim_start();
    let offset = text.len() - trimmed.len();
    if trimmed.starts_with('{') {
        return match brace_content(trimmed, 0) {
            Some(inner) => Boxed { start, end: offset + inner.len() + 2, content: Ok(inner) },
            None => Boxed { start, end: text.len(), content: Err(trimmed) },
        };
    }
    // `\boxed 5`: the argument is the next token.
    let token = trimmed.split(|c: char| c.is_whitespace() || c == '$').next().unwrap_or("");
    let spaced = rest.len() > trimmed.len();
    let content = if spaced && !token.is_empty() { Ok(token.trim_end_matches('.')) } else { Err(rest) };
    Boxed { start, end: offset + token.len(), content }
}

/// The last box, with the boxes joined to it ("… or …").
fn boxed(text: &str, boxes: &[Boxed]) -> Extraction {
    let last = boxes[boxes.len() - 1];
    let content = match last.content {
        Ok(content) if !content.trim().is_empty() => content.trim(),
        Ok(_) => return Extraction::Malformed { method: Method::Boxed, content: String::new() },
        Err(rest) => return Extraction::Malformed { method: Method::Boxed, content: snippet(rest) },
    };
    let mut joined = vec![content];
    for pair in boxes.windows(2).rev() {
        let (before, after) = (pair[0], pair[1]);
        match before.content {
            Ok(c) if joins(&text[before.end..after.start]) && !c.trim().is_empty() => joined.push(c.trim()),
            _ => break,
        }
    }
    if joined.len() == 1 {
        return Extraction::Answer { text: content.to_string(), method: Method::Boxed };
    }
    joined.reverse();
    Extraction::Answer { text: joined.join(", "), method: Method::BoxedList }
}

/// Whether the text between two boxes only lists them: spacing,
/// delimiters, commas and the words "or" / "and".
fn joins(gap: &str) -> bool {
    let words = gap.replace("\\text{", " ").replace("\\quad", " ").replace("\\,", " ");
    words
        .split(|c: char| c.is_whitespace() || "$,;{}()\\".contains(c))
        .all(|word| word.is_empty() || word == "or" || word == "and")
}

/// A final-answer statement.
struct Phrase {
    start: usize,
    content: String,
    /// Math in delimiters, a number or an expression: not prose.
    reads_as_answer: bool,
    minerva: bool,
}

impl Phrase {
    fn extraction(&self) -> Extraction {
        let method = if self.minerva { Method::Minerva } else { Method::AnswerPhrase };
        Extraction::Answer { text: self.content.clone(), method }
    }
}

/// The last "answer is" or "answer:" (any case) with content: inside math
/// delimiters if it starts with one, else up to the end of its sentence.
fn answer_phrase(text: &str) -> Option<Phrase> {
    let lower = text.to_ascii_lowercase();
    let (start, end) = ["answer is", "answer:"]
        .iter()
        .filter_map(|p| lower.rfind(p).map(|at| (at, at + p.len())))
        .max_by_key(|&(_, end)| end)?;
    let rest = text[end..].trim_start_matches([' ', '\t', '\n', ':', '*']);
    let delimited = [("$$", "$$"), ("$", "$"), ("\\(", "\\)"), ("\\[", "\\]")]
        .iter()
        .find_map(|(open, close)| rest.strip_prefix(open).and_then(|r| r.find(close).map(|at| &r[..at])));
    let (content, after) = match delimited {
        Some(inner) => (inner, &rest[rest.find(inner).unwrap_or(0) + inner.len()..]),
        None => {
            let line = rest.lines().next().unwrap_or("");
            let cut = sentence_end(line);
            (&line[..cut], &rest[cut..])
        }
    };
    let content = content.trim().trim_end_matches(['.', '*']).trim();
    if content.is_empty() {
        return None;
    }
    let reads_as_answer = delimited.is_some()
        || content.contains(|c: char| c.is_ascii_digit())
        || super::expr::parse(&super::normalize(content)).is_some();
    let minerva = after.to_ascii_lowercase().trim_start_matches(['$', '.', ' ']).starts_with("i hope it is correct");
    Some(Phrase { start, content: content.to_string(), reads_as_answer, minerva })
}

/// Where the first sentence of `line` ends: a `.` followed by a space
/// (`1,234,567. I hope…`; `3.5` and `p.m` do not end one), or the end.
fn sentence_end(line: &str) -> usize {
    let b = line.as_bytes();
    (0..b.len()).find(|&i| b[i] == b'.' && b.get(i + 1).is_some_and(u8::is_ascii_whitespace)).unwrap_or(b.len())
}

/// Whether a reply ends as a finished text does: with sentence
/// punctuation, a closing math delimiter or bracket, or markdown emphasis.
fn ends_sentence(text: &str) -> bool {
    text.ends_with(['.', '!', '?', '$', ')', ']', '}', '*', '"', '\''])
}

/// The math of the last sentence: a display block with only punctuation
/// after it, else the last math segment of the final sentence.
fn last_math(text: &str) -> Option<(&str, Method)> {
    let segments = math_segments(text);
    let last = segments.last()?;
    let tail = &text[last.end..];
    if last.display && tail.trim_matches(|c: char| c.is_whitespace() || ".,;!".contains(c)).is_empty() {
        return Some((last.content, Method::DisplayMath));
    }
    let sentence_start = last_sentence_start(text, &segments);
    (last.start >= sentence_start).then_some((last.content, Method::LastMath))
}

/// A stretch of math: `$…$`, `$$…$$`, `\(…\)` or `\[…\]`.
struct Segment<'a> {
    start: usize,
    end: usize,
    content: &'a str,
    display: bool,
}

/// The math segments of `text`, in order (escaped `\$` is text).
fn math_segments(text: &str) -> Vec<Segment<'_>> {
    const DELIMITERS: [(&str, &str, bool); 4] =
        [("$$", "$$", true), ("\\[", "\\]", true), ("\\(", "\\)", false), ("$", "$", false)];
    let mut out = Vec::new();
    let mut i = 0;
    while i < text.len() {
        let rest = &text[i..];
        if rest.starts_with("\\$") {
            i += 2;
            continue;
        }
        let opened = DELIMITERS.iter().find(|(open, _, _)| rest.starts_with(open));
        let Some(&(open, close, display)) = opened else {
            i += rest.chars().next().map_or(1, char::len_utf8);
            continue;
        };
        let body = &rest[open.len()..];
        let Some(at) = body.find(close) else { break };
        let end = i + open.len() + at + close.len();
        out.push(Segment { start: i, end, content: &body[..at], display });
        i = end;
    }
    out
}

/// Where the last sentence starts: after the last line break or sentence
/// punctuation outside math.
fn last_sentence_start(text: &str, segments: &[Segment]) -> usize {
    let inside = |at: usize| segments.iter().any(|s| s.start <= at && at < s.end);
    let b = text.trim_end_matches(['.', '!', '?', ' ']).as_bytes();
    (0..b.len())
        .rev()
        .find(|&i| {
            let breaks = b[i] == b'\n' || (b".!?".contains(&b[i]) && b.get(i + 1) == Some(&b' '));
            breaks && !inside(i)
        })
        .map_or(0, |i| i + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn found(text: &str, method: Method) -> Extraction {
        Extraction::Answer { text: text.into(), method }
    }

    #[test]
    fn the_last_box_wins_with_nested_braces() {
        assert_eq!(extract("\\boxed{1} then \\boxed{\\frac{1}{2}}.", None), found("\\frac{1}{2}", Method::Boxed));
        assert_eq!(extract("$\\boxed{\\{1,2\\}}$", None), found("\\{1,2\\}", Method::Boxed));
        assert_eq!(extract("so $\\fbox{7}$", None), found("7", Method::Boxed));
        assert_eq!(extract("so $\\boxed 5$.", None), found("5", Method::Boxed));
        assert_eq!(extract("\\boxed {x+1}", None), found("x+1", Method::Boxed));
        assert!(matches!(extract("\\boxed{1} and \\boxed{\\frac{1}{2}", None), Extraction::Malformed { .. }));
        assert!(matches!(extract("\\boxed{ }", None), Extraction::Malformed { .. }));
    }

    #[test]
    fn boxes_joined_by_words_are_one_answer() {
        assert_eq!(extract("So $\\boxed{3}$ or $\\boxed{-5}$.", None), found("3, -5", Method::BoxedList));
        assert_eq!(extract("\\boxed{3} \\text{ and } \\boxed{4}", None), found("3, 4", Method::BoxedList));
        assert_eq!(extract("x = \\boxed{3}, y = \\boxed{4}", None), found("4", Method::Boxed));
    }

    #[test]
    fn a_later_final_answer_displaces_an_intermediate_box() {
        let reply = "First $\\boxed{12}$ chairs per row. So the final answer is $36$.";
        assert_eq!(extract(reply, None), found("36", Method::AnswerPhrase));
        let prose = "So $\\boxed{12}$. The answer is the number of rows";
        assert_eq!(extract(prose, None), found("12", Method::Boxed));
    }

    #[test]
    fn fallbacks_need_a_finished_sentence() {
        assert_eq!(extract("Hence $y \\le 2$ is the solution.", None), found("y \\le 2", Method::LastMath));
        assert_eq!(extract("So we get\n\\[ 42 \\]", None), found("42", Method::DisplayMath));
        assert_eq!(extract("It is \\( 42 \\).", None), found("42", Method::LastMath));
        assert_eq!(extract("We have $x=3$. Then we add", None), Extraction::NoAnswer);
        assert_eq!(extract("Hence $y \\le 2$ is the solution.", Some(true)), Extraction::NoAnswer);
        assert_eq!(extract("We have $x=3$. Then we add", Some(false)), Extraction::NoAnswer);
        assert_eq!(extract("First $x=3$.\nThen it is done.", None), Extraction::NoAnswer);
    }
}

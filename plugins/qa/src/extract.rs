//! Reading the final answer from a reply.
//!
//! With a label set, in order (the first rule that finds a label decides):
//! 1. `marker`: the last "answer" ("Answer: yes", "The answer is (C)",
//!    "**Final answer: maybe**") followed, in the same clause, by labels;
//! 2. `bold`: the last `**label**`;
//! 3. `boxed`: the last `\boxed{label}`;
//! 4. `last-line`: a last line that is a label alone ("Maybe.").
//!
//! Two different labels where one is expected ("Answer: yes or maybe") are
//! malformed. A label of one character (an option letter) matches only in
//! its own case, so the article "a" is never option A; longer labels match
//! in any case. Reasoning before a closing `</think>` is ignored.
//!
//! Free answers are the text after the last "answer is" / "answer:" to the
//! end of its line, else the last `\boxed{}`, else the last line.

/// How an answer was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    /// After an "answer" marker.
    Marker,
    /// In bold.
    Bold,
    /// In `\boxed{}`.
    Boxed,
    /// Alone on the last line.
    LastLine,
}

impl Method {
    /// The name stored in results.
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Marker => "marker",
            Method::Bold => "bold",
            Method::Boxed => "boxed",
            Method::LastLine => "last-line",
        }
    }
}

/// What a reply says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Extraction {
    /// One answer, found by `method`.
    Answer {
        /// The label (as listed) or the free answer (as written).
        answer: String,
        /// The rule that found it.
        method: Method,
    },
    /// Several labels where one was expected (a hedge).
    Malformed {
        /// The rule that found them.
        method: Method,
        /// The labels found.
        found: Vec<String>,
    },
    /// Nothing answer-like.
    NoAnswer,
}

/// The final label of `reply` among `labels`.
pub fn label(reply: &str, labels: &[String]) -> Extraction {
    let reply = after_thinking(reply);
    if let Some(found) = markers(reply).find_map(|segment| non_empty(labels_in(clause(segment), labels))) {
        return decide(found, Method::Marker);
    }
    let spans = [(Method::Bold, last_inner(reply, "**", "**")), (Method::Boxed, last_inner(reply, "\\boxed{", "}"))];
    for (method, span) in spans {
        if let Some(found) = span.and_then(|text| alone(text, labels)) {
            return decide(vec![found], method);
        }
    }
    match last_line(reply).and_then(|line| alone(line, labels)) {
        Some(found) => decide(vec![found], Method::LastLine),
        None => Extraction::NoAnswer,
    }
}

/// The final free answer of `reply`.
pub fn free(reply: &str) -> Extraction {
    let reply = after_thinking(reply);
    let marked = markers(reply).map(|segment| segment.lines().next().unwrap_or("")).find_map(tidy);
    let found = match marked {
        Some(text) => Some((text, Method::Marker)),
        None => match last_inner(reply, "\\boxed{", "}").and_then(tidy) {
            Some(text) => Some((text, Method::Boxed)),
            None => last_line(reply).and_then(tidy).map(|text| (text, Method::LastLine)),
        },
    };
    match found {
        Some((answer, method)) => Extraction::Answer { answer, method },
        None => Extraction::NoAnswer,
    }
}

fn decide(mut found: Vec<String>, method: Method) -> Extraction {
    found.dedup();
    if found.len() == 1 {
        Extraction::Answer { answer: found.remove(0), method }
    } else {
        Extraction::Malformed { method, found }
    }
}

fn non_empty(found: Vec<String>) -> Option<Vec<String>> {
    (!found.is_empty()).then_some(found)
}

/// The reply after the last `</think>`, or all of it.
fn after_thinking(reply: &str) -> &str {
    reply.rfind("</think>").map_or(reply, |at| &reply[at + "</think>".len()..])
}

/// The text after each "answer" marker, last marker first: the word
/// "answer" (any case, not inside a longer word), then optional `*`, `:`,
/// `-`, spaces and the word "is".
fn markers(reply: &str) -> impl Iterator<Item = &str> {
    let lower = reply.to_ascii_lowercase();
    let starts: Vec<usize> = lower.match_indices("answer").map(|(at, _)| at).collect();
    starts.into_iter().rev().filter_map(move |at| {
        let before = reply[..at].chars().next_back();
        let rest = &reply[at + "answer".len()..];
        let next = rest.chars().next();
        let word = before.is_none_or(|c| !c.is_alphanumeric()) && next.is_none_or(|c| !c.is_alphanumeric());
        word.then(|| skip_is(rest.trim_start_matches(SEPARATORS)))
    })
}

const SEPARATORS: &[char] = &[' ', '\t', '*', '_', ':', '-', '=', '"', '\''];

fn skip_is(text: &str) -> &str {
    match text.strip_prefix("is").or_else(|| text.strip_prefix("IS")).or_else(|| text.strip_prefix("Is")) {
        Some(rest) if rest.starts_with(|c: char| !c.is_alphanumeric()) => rest.trim_start_matches(SEPARATORS),
        _ => text,
    }
}

/// The first clause of `segment`: up to a line break or `.`, `,`, `;`,
/// `!`, `?`, `—`, or an opening bracket after some text.
fn clause(segment: &str) -> &str {
    let mut seen_word = false;
    for (at, c) in segment.char_indices() {
        let bracket = matches!(c, '(' | '[') && seen_word;
        if bracket || matches!(c, '\n' | '.' | ',' | ';' | '!' | '?' | '—') {
            return &segment[..at];
        }
        seen_word |= c.is_alphanumeric();
    }
    segment
}

/// The labels among the words of `text`, in order of appearance.
fn labels_in(text: &str, labels: &[String]) -> Vec<String> {
    let words = text.split(|c: char| !c.is_alphanumeric()).filter(|w| !w.is_empty());
    words.filter_map(|word| labels.iter().find(|label| matches_label(word, label)).cloned()).collect()
}

fn matches_label(word: &str, label: &str) -> bool {
    if label.chars().count() == 1 { word == label } else { word.eq_ignore_ascii_case(label) }
}

/// The label `text` is, once brackets, markdown and punctuation around it
/// are removed.
fn alone(text: &str, labels: &[String]) -> Option<String> {
    let word = text.trim().trim_matches(|c: char| !c.is_alphanumeric());
    labels.iter().find(|label| matches_label(word, label)).cloned()
}

/// The text between the last `open` and the next `close` after it.
fn last_inner<'a>(reply: &'a str, open: &str, close: &str) -> Option<&'a str> {
    if open == close {
        // Inside-bold parts are the odd ones; the last closed one is the
        // last odd index before the final part.
        let parts: Vec<&str> = reply.split(open).collect();
        let n = parts.len();
        return (n >= 3).then(|| parts[if (n - 2) % 2 == 1 { n - 2 } else { n - 3 }]);
    }
    let start = reply.rfind(open)? + open.len();
    let end = reply[start..].find(close)?;
    Some(&reply[start..start + end])
}

fn last_line(reply: &str) -> Option<&str> {
    reply.lines().map(str::trim).rfind(|line| !line.is_empty())
}

/// A free answer without markdown around it or a final period; `None` if
/// nothing is left.
fn tidy(text: &str) -> Option<String> {
    let text = text.trim().trim_matches(|c: char| c == '*' || c == '`' || c.is_whitespace());
    let text = text.strip_suffix('.').unwrap_or(text).trim_end();
    (!text.is_empty()).then(|| text.to_string())
}

/// Free answers compared: case, spacing, surrounding quotes, a final
/// period and brackets around an option letter do not matter, a reply
/// starting with the gold option "(B)" names it (unless another option
/// follows: "(B) or (C)"), and numbers compare by value.
pub fn same_answer(reply: &str, gold: &str) -> bool {
    let (reply, gold) = (normalise(reply), normalise(gold));
    if reply == gold {
        return true;
    }
    if let (Some(a), Some(b)) = (number(&reply), number(&gold)) {
        return a == b;
    }
    let option = format!("({gold})");
    gold.chars().count() == 1 && reply.strip_prefix(&option).is_some_and(|rest| !names_an_option(rest))
}

/// Whether `text` holds an option in brackets: `(x)` with one character.
fn names_an_option(text: &str) -> bool {
    let chars: Vec<char> = text.chars().collect();
    chars.windows(3).any(|w| w[0] == '(' && w[1].is_alphanumeric() && w[2] == ')')
}

fn normalise(text: &str) -> String {
    let text = text.trim().trim_matches(|c: char| matches!(c, '"' | '\'' | '`' | '*') || c.is_whitespace());
    let text = text.strip_suffix('.').unwrap_or(text);
    let words: Vec<&str> = text.split_whitespace().collect();
    let text = words.join(" ").to_lowercase();
    match text.strip_prefix('(').and_then(|t| t.strip_suffix(')')) {
        Some(inner) if inner.chars().count() == 1 => inner.to_string(),
        _ => text,
    }
}

fn number(text: &str) -> Option<f64> {
    let digits = text.replace(',', "");
    let value: f64 = digits.parse().ok()?;
    value.is_finite().then_some(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn yes_no_maybe() -> Vec<String> {
        ["yes", "no", "maybe"].map(String::from).to_vec()
    }

    #[test]
    fn the_clause_stops_at_punctuation_and_late_brackets() {
        assert_eq!(clause("yes, because"), "yes");
        assert_eq!(clause("(C) Ondansetron. More"), "(C) Ondansetron");
        assert_eq!(clause("C (ondansetron)"), "C ");
    }

    #[test]
    fn words_containing_answer_are_not_markers() {
        assert_eq!(label("The patient answered no. Final: maybe", &yes_no_maybe()), Extraction::NoAnswer);
    }

    #[test]
    fn bold_spans_pair_up() {
        assert_eq!(last_inner("**a** then **b** and **c", "**", "**"), Some("b"));
        assert_eq!(last_inner("no bold", "**", "**"), None);
    }
}

//! Explicit answer statements: `<answer>…</answer>` tags, `\boxed{…}` and
//! phrases such as "the answer is (B)", "**Answer:** C" or "the correct
//! option is D". Each is found with its position, so the last one wins
//! when a reply changes its mind.

use super::Method;
use super::content::{self, Reading, brace_content};
use super::text::{negated_after, skip_chars, snippet, word_at, word_before};

/// One explicit answer statement.
#[derive(Debug, Clone, PartialEq)]
pub struct Marker {
    /// Byte offset of the statement in the text.
    pub pos: usize,
    /// Which kind of statement it is.
    pub method: Method,
    /// What it says.
    pub reading: Reading,
}

/// Connecting words between "answer" and its content, longest first.
const CONNECTORS: [&str; 8] = ["would be", "should be", "must be", "will be", "can be", "is", "was", "'s"];

/// Words that may sit between the connector and the letter.
const FILLERS: [&str; 12] = [
    "therefore",
    "thus",
    "hence",
    "then",
    "clearly",
    "likely",
    "probably",
    "definitely",
    "indeed",
    "actually",
    "most",
    "simply",
];

/// Words before "answer" that make the statement about a wrong answer.
const NEGATING_QUALIFIERS: [&str; 4] = ["incorrect", "wrong", "false", "worst"];

/// Words before "option"/"choice" that make it a statement of the answer.
const CHOOSING_QUALIFIERS: [&str; 5] = ["correct", "right", "best", "final", "closest"];

/// Every explicit answer statement in `text`, in order of position.
pub fn find_all(text: &str, options: &[String]) -> Vec<Marker> {
    let lower = text.to_ascii_lowercase();
    let mut markers = answer_tags(text, &lower, options);
    markers.extend(boxed(text, options));
    markers.extend(phrases(text, &lower, options));
    markers.sort_by_key(|m| m.pos);
    markers
}

/// `<answer>C</answer>`; an unclosed tag runs to the end of the text.
fn answer_tags(text: &str, lower: &str, options: &[String]) -> Vec<Marker> {
    lower
        .match_indices("<answer>")
        .map(|(pos, tag)| {
            let start = pos + tag.len();
            let end = lower[start..].find("</answer>").map_or(text.len(), |i| start + i);
            Marker { pos, method: Method::AnswerTag, reading: content::read(&text[start..end], options, true) }
        })
        .collect()
}

/// `\boxed{D}` and `\fbox{D}` (content may nest: `\boxed{\text{D}}`).
fn boxed(text: &str, options: &[String]) -> Vec<Marker> {
    ["\\boxed{", "\\fbox{"]
        .iter()
        .flat_map(|command| text.match_indices(command))
        .filter_map(|(pos, command)| {
            let inner = brace_content(text, pos + command.len() - 1)?;
            let reading = content::read(inner, options, true);
            (!inner.trim().is_empty()).then_some(Marker { pos, method: Method::Boxed, reading })
        })
        .collect()
}

/// "answer is X", "answer: X", "the correct option is X" and variants.
/// Statements about a wrong answer ("the incorrect answer is (H)") and
/// negated ones ("the answer is not (A)", "…is not listed") are skipped.
fn phrases(text: &str, lower: &str, options: &[String]) -> Vec<Marker> {
    let mut markers = Vec::new();
    for keyword in ["answer", "option", "choice"] {
        for (pos, _) in lower.match_indices(keyword) {
            let end = pos + keyword.len();
            let bytes = lower.as_bytes();
            if pos > 0 && bytes[pos - 1].is_ascii_alphabetic() || bytes.get(end).is_some_and(u8::is_ascii_alphabetic) {
                continue; // part of a longer word: "answered", "options"
            }
            let qualifier = word_before(lower, pos);
            let statement = match keyword {
                "answer" => !NEGATING_QUALIFIERS.contains(&qualifier),
                _ => CHOOSING_QUALIFIERS.contains(&qualifier),
            };
            let Some(start) = statement.then(|| content_start(lower, end)).flatten() else { continue };
            let (start, end) = content_line(lower, start);
            let reading = if says_not_listed(&lower[start..end]) {
                Reading::Declined(snippet(&text[start..end]))
            } else if starts_negated(&lower[start..end]) || rejected_after(&lower[start..end]) {
                continue;
            } else {
                content::read(&text[start..end], options, false)
            };
            markers.push(Marker { pos, method: Method::AnswerPhrase, reading });
        }
    }
    markers
}

/// Where the content starts after the keyword ending at `at`: past
/// markdown, an optional `choice`/`option`/`letter`, a connector (`:`,
/// `=`, `is`, `would be`…) and filler words ("is therefore (B)").
fn content_start(lower: &str, at: usize) -> Option<usize> {
    let mut at = skip_chars(lower, at, &[' ', '*', '_']);
    if let Some(word) = ["choice", "option", "letter"].into_iter().find(|w| word_at(lower, at, w)) {
        at = skip_chars(lower, at + word.len(), &[' ', '*', '_']);
    }
    at = if lower[at..].starts_with([':', '=']) {
        at + 1
    } else {
        at + CONNECTORS.iter().find(|c| word_at(lower, at, c))?.len()
    };
    loop {
        at = skip_chars(lower, at, &[' ', '*', '_', ':']);
        match FILLERS.iter().find(|f| word_at(lower, at, f)) {
            Some(filler) => at += filler.len(),
            None => return Some(at),
        }
    }
}

/// The rest of the line from `start`, or the next non-empty line when the
/// answer follows on its own line ("The answer is:\n\n**B**").
fn content_line(lower: &str, start: usize) -> (usize, usize) {
    let line_end = |from: usize| lower[from..].find('\n').map_or(lower.len(), |i| from + i);
    let end = line_end(start);
    if !lower[start..end].trim_matches([' ', '*', '_', ':', '\r']).is_empty() {
        return (start, end);
    }
    let next = skip_chars(lower, end, &[' ', '\n', '\r', '\t']);
    (next, line_end(next))
}

/// "not (A)", "not listed", "never", "(C) is incorrect": the statement
/// names no answer. ("None of the above" does: it declines every option.)
/// `content` is lowercased, hence any-case letters.
fn starts_negated(content: &str) -> bool {
    let content = content.trim_start_matches([' ', '*', '_', '"']);
    let cue = ["not", "never"].iter().any(|cue| word_at(content, 0, cue));
    let ruled_out = content::leading_letter(content, true).is_some_and(|(_, len)| negated_after(&content[len..]));
    cue || ruled_out
}

/// "(the answer is) not listed / not among the options / not provided":
/// the statement declines every option.
fn says_not_listed(content: &str) -> bool {
    let content = content.trim_start_matches([' ', '*', '_', '"']);
    let rest = content.strip_prefix("not ").unwrap_or("");
    ["listed", "among", "provided", "given", "in the options", "one of the options"].iter().any(|w| rest.starts_with(w))
}

/// Whether the rest of the statement's sentence takes it back: "the
/// closest option is (E) 12 m, but this is not the correct answer".
fn rejected_after(content: &str) -> bool {
    let sentence = &content[..content.find(". ").unwrap_or(content.len())];
    ["this", "it", "that", "which"].iter().any(|subject| {
        ["is not correct", "is not the correct", "is not the right"]
            .iter()
            .any(|verdict| sentence.contains(&format!("{subject} {verdict}")))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn readings(text: &str) -> Vec<(Method, Reading)> {
        let options: Vec<String> = (0..4).map(|i| format!("option text {i}")).collect();
        find_all(text, &options).into_iter().map(|m| (m.method, m.reading)).collect()
    }

    #[test]
    fn statements_are_found_in_order() {
        let found = readings("The answer is (A). <answer>B</answer> so \\boxed{C}. Final answer: D");
        let letters: Vec<Reading> = found.iter().map(|(_, r)| r.clone()).collect();
        assert_eq!(letters, (0..4).map(Reading::Option).collect::<Vec<_>>());
        assert_eq!(found[1].0, Method::AnswerTag);
        assert_eq!(found[2].0, Method::Boxed);
    }

    #[test]
    fn negated_and_wrong_answer_statements_are_skipped() {
        assert!(readings("The incorrect answer is (H). The answer is not (A). It isn't listed").is_empty());
        let declined = readings("The answer is not listed among the options.");
        assert!(matches!(declined[..], [(Method::AnswerPhrase, Reading::Declined(_))]), "{declined:?}");
        assert!(readings("The closest option is (E) 12 m, but this is not the correct answer.").is_empty());
        assert_eq!(readings("The answer is (E), but it is not the exact value.").len(), 1);
        assert!(readings("the answers are below; options were given").is_empty());
        assert!(readings("The answer is (C) is incorrect. The answer is (D) is unrelated.").is_empty());
    }
}

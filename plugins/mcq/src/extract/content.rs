//! Reading the option an explicit answer names: the content after "the
//! answer is", inside `<answer>` tags or inside `\boxed{}`. It may be a
//! letter in many wrappings (`(B)`, `**B**`, `\text{B}`, `option B`) or
//! the text of an option.

use super::text::{is_word_byte, skip_chars, snippet, word_at};
use crate::letters;

/// What an answer's content says.
#[derive(Debug, Clone, PartialEq)]
pub enum Reading {
    /// The option at this index.
    Option(usize),
    /// Two or more options joined: "(A) or (I)", "B and C".
    Hedge(String),
    /// No option: "None of the above", "none of the given options".
    Declined(String),
    /// Not a valid option (text, a letter beyond the options).
    Unreadable(String),
}

/// Contents that choose no option.
const DECLINES: [&str; 6] = [
    "none of the above",
    "none of the options",
    "none of the given",
    "none of these",
    "none of the choices",
    "none of the listed",
];

/// Characters that wrap an answer without changing it: markdown, quotes,
/// math delimiters and the colon of "Answer: **C**".
const WRAPPERS: [char; 11] = [' ', '\t', '*', '_', '"', '\'', '`', '$', '#', ':', '>'];

/// LaTeX commands whose argument is the answer: `\boxed{\text{D}}` is D.
const LATEX_WRAPPERS: [&str; 7] = ["\\boxed{", "\\fbox{", "\\text{", "\\textbf{", "\\mathrm{", "\\mathbf{", "\\bf{"];

/// Read `content` as an answer among `options`. Inside tags and boxes
/// (`any_case`) any letter counts; after a marker such as "the answer is"
/// a lowercase one counts only alone or bracketed ("(c)", "answer: d."),
/// since "a" before a word is an article ("the answer is a bit more").
pub fn read(content: &str, options: &[String], any_case: bool) -> Reading {
    let cleaned = unwrap(content);
    if DECLINES.iter().any(|d| cleaned.to_ascii_lowercase().starts_with(d)) {
        return Reading::Declined(snippet(cleaned));
    }
    let letter = leading_letter(cleaned, any_case).or_else(|| lone_lowercase(cleaned));
    match letter {
        Some((_, len)) if names_another_letter(&cleaned[len..], any_case) => Reading::Hedge(snippet(cleaned)),
        Some((letter, _)) => match letters::index_of(letter.to_ascii_uppercase()) {
            Some(index) if index < options.len() => Reading::Option(index),
            _ => Reading::Unreadable(snippet(cleaned)),
        },
        None => option_prefix(cleaned, options).map_or_else(|| Reading::Unreadable(snippet(cleaned)), Reading::Option),
    }
}

/// A lowercase letter standing alone after an answer marker: bracketed
/// (`(c) because`), or followed by nothing but punctuation (`d.`, `b)`);
/// not a word's first letter ("a bit"). The Roman numerals `i`, `v` and
/// `x` count only as the whole content: "(i) and (iv) only" lists
/// statements, not options.
fn lone_lowercase(s: &str) -> Option<(char, usize)> {
    let (letter, len) = leading_letter(s, true)?;
    let alone = s[len..].trim_start_matches(['.', ')', ']', ':', ',', '*', '"', '\'']).trim().is_empty();
    let roman = matches!(letter, 'i' | 'v' | 'x');
    (letter.is_ascii_lowercase() && (alone || (len > 1 && !roman))).then_some((letter, len))
}

/// Strip wrappers, `\(`, a leading `option`/`choice`/`letter`/`either` and LaTeX
/// commands around the answer.
pub fn unwrap(content: &str) -> &str {
    let mut s = content.trim_start_matches(WRAPPERS);
    loop {
        let lower = s.to_ascii_lowercase();
        if let Some(rest) = s.strip_prefix("\\(").or_else(|| s.strip_prefix("\\[")) {
            s = rest.trim_start_matches(WRAPPERS);
        } else if let Some(word) = ["option", "choice", "letter", "either"].into_iter().find(|w| word_at(&lower, 0, w))
        {
            s = s[word.len()..].trim_start_matches(WRAPPERS);
        } else if let Some(command) = LATEX_WRAPPERS.iter().find(|c| s.starts_with(*c)) {
            let open = command.len() - 1;
            s = brace_content(s, open).unwrap_or(&s[open + 1..]).trim_start_matches(WRAPPERS);
        } else {
            return s;
        }
    }
}

/// The text inside the braces opening at `open`, or `None` if unclosed.
pub fn brace_content(text: &str, open: usize) -> Option<&str> {
    let mut depth = 0usize;
    for (i, b) in text.bytes().enumerate().skip(open) {
        match b {
            b'{' => depth += 1,
            b'}' if depth == 1 => return Some(&text[open + 1..i]),
            b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    None
}

/// A letter at the start of `s`: `(B)`, `[B]`, `{B}`, or `B` followed by
/// a non-word character. Returns it with the bytes it spans. `A's`, `B-12`,
/// `C++` and `U.S.` are words, not letters.
pub fn leading_letter(s: &str, any_case: bool) -> Option<(char, usize)> {
    let b = s.as_bytes();
    let is_letter = |c: u8| c.is_ascii_uppercase() || (any_case && c.is_ascii_lowercase());
    if let [open @ (b'(' | b'[' | b'{'), c, close, ..] = b {
        let closes = matches!((open, close), (b'(', b')') | (b'[', b']') | (b'{', b'}'));
        return (closes && is_letter(*c)).then_some((char::from(*c), 3));
    }
    // "The answer is (G" with the bracket cut off: the letter ends the text.
    if let [b'(' | b'[', c] = b {
        return is_letter(*c).then_some((char::from(*c), 2));
    }
    let (&c, next) = (b.first()?, b.get(1).copied());
    let glued = next.is_some_and(|n| is_word_byte(n) || !n.is_ascii() || b"'-+#".contains(&n));
    let abbreviation = next == Some(b'.') && b.get(2).is_some_and(u8::is_ascii_alphabetic);
    (is_letter(c) && !glued && !abbreviation).then_some((char::from(c), 1))
}

/// Whether the text after a letter joins a second one to it ("(A) or (I)",
/// "B and C"): such an answer names no single option.
fn names_another_letter(rest: &str, any_case: bool) -> bool {
    let lower = rest.to_ascii_lowercase();
    let at = skip_chars(&lower, 0, &[' ', ')', ']', '*', ',']);
    let Some(joiner) = ["and", "or", "nor", "&", "/"].into_iter().find(|j| lower[at..].starts_with(j)) else {
        return false;
    };
    if joiner.len() > 1 && !word_at(&lower, at, joiner) {
        return false;
    }
    let next = skip_chars(rest, at + joiner.len(), &[' ', '*']);
    leading_letter(&rest[next..], any_case).or_else(|| lone_lowercase(&rest[next..])).is_some()
}

/// The option whose text starts `content` ("The answer is Paris." when an
/// option is "Paris"); the longest wins when one option extends another.
fn option_prefix(content: &str, options: &[String]) -> Option<usize> {
    let lower = normalize(content);
    let mut best: Option<(usize, usize)> = None;
    for (index, option) in options.iter().enumerate() {
        let option = normalize(option);
        let option = option.trim_end_matches('.');
        if option.is_empty() || !lower.starts_with(option) || !ends_token(&lower[option.len()..]) {
            continue;
        }
        match best {
            Some((_, len)) if len == option.len() => return None,
            Some((_, len)) if len > option.len() => {}
            _ => best = Some((index, option.len())),
        }
    }
    best.map(|(index, _)| index)
}

/// Lowercase with runs of whitespace as one space, for comparing texts.
pub fn normalize(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ").to_ascii_lowercase()
}

/// Whether `rest` can follow a complete token: nothing, a space, or
/// punctuation that is not inside a number ("1.5").
pub fn ends_token(rest: &str) -> bool {
    let b = rest.as_bytes();
    match b.first() {
        None => true,
        Some(c) if c.is_ascii_whitespace() => true,
        Some(b'.' | b',' | b':') => b.get(1).is_none_or(|n| !n.is_ascii_alphanumeric()),
        Some(c) => b";!?)]*\"'".contains(c),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn options(n: usize) -> Vec<String> {
        (0..n).map(|i| format!("option text {i}")).collect()
    }

    #[test]
    fn letters_in_wrappings() {
        for content in
            ["B", "(B)", "B.", "**B**", " $\\boxed{B}$", "\\boxed{\\text{B}}", "option B", "[B] text", "B) x"]
        {
            assert_eq!(read(content, &options(4), false), Reading::Option(1), "{content:?}");
        }
    }

    #[test]
    fn words_are_not_letters() {
        for content in ["A's", "B-12", "C++", "U.S.", "Answering", "a bit"] {
            assert!(matches!(read(content, &options(4), false), Reading::Unreadable(_)), "{content:?}");
        }
    }

    #[test]
    fn two_letters_are_a_hedge_and_a_letter_out_of_range_is_unreadable() {
        for content in ["(A) or (I)", "B and C", "A, or B", "(A)/(B)", "either (b) or (c)"] {
            assert!(matches!(read(content, &options(4), false), Reading::Hedge(_)), "{content:?}");
        }
        assert!(matches!(read("E", &options(4), false), Reading::Unreadable(_)));
        assert_eq!(read("(A) or not", &options(4), false), Reading::Option(0));
    }

    #[test]
    fn lowercase_letters_after_a_marker_only_alone_or_bracketed() {
        for (content, index) in [("(c) because", 2), ("d", 3), ("d.", 3), ("b)", 1), ("(a)", 0), ("a", 0), ("(i)", 8)] {
            assert_eq!(read(content, &options(10), false), Reading::Option(index), "{content:?}");
        }
        for content in ["a bit more", "(ii) and (iii) only", "(iii) only", "(i) and (iv) only"] {
            assert!(matches!(read(content, &options(10), false), Reading::Unreadable(_)), "{content:?}");
        }
        assert_eq!(read("(A) or a similar one", &options(10), false), Reading::Option(0));
        assert!(matches!(read("None of the above.", &options(4), false), Reading::Declined(_)));
        assert_eq!(read("(G", &options(10), false), Reading::Option(6));
    }

    #[test]
    fn option_text_is_read_when_no_letter_is_given() {
        let options: Vec<String> = ["True", "True, True", "1", "1.5 m"].map(String::from).to_vec();
        assert_eq!(read("true, true.", &options, false), Reading::Option(1));
        assert_eq!(read("1.5 m, since", &options, false), Reading::Option(3));
        assert_eq!(read("1", &options, false), Reading::Option(2));
    }
}

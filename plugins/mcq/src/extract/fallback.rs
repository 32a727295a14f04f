//! Readings for replies without an explicit answer statement, tried in
//! order: a bare letter ("B", "(B)", "B) text"), a single letter named
//! near the end ("…so (C)."), and the exact text of a single option near
//! the end. Letters and options that are ruled out ("not A", "A is
//! incorrect", "rule out A") never count.

use super::content::{Reading, ends_token, leading_letter, normalize};
use super::text::{self, negated_after, negated_before, word_at};
use crate::letters;

/// How far back from the end `letter_mention` and `option_text` look.
const TAIL_BYTES: usize = 300;

/// A reply that is a letter: its first line starts with one ("B", "B.",
/// "(B)", "B) text"), or its last line is a lone letter after some
/// reasoning (not in a reply that was `cut_off`, whose last line is
/// unfinished). Not when the reply goes through the options line by line
/// (a truncated list ends in a lone "D."). A letter beyond the options is
/// an unreadable answer.
pub fn bare_letter(region: &str, n: usize, cut_off: bool) -> Option<Reading> {
    if lists_options(region) {
        return None;
    }
    let lines: Vec<&str> = region.lines().map(str::trim).filter(|l| !l.is_empty()).collect();
    let first = lines.first().and_then(|l| letter_line(l)).filter(|(_, rest)| !ruled_out(rest));
    // "I." opening a list numbered I, II, III is a Roman numeral.
    let roman = lines.iter().any(|l| l.starts_with("II"));
    let first = first.filter(|&(letter, _)| !(letter == 'I' && roman));
    let last = lines.get(1..).and_then(|tail| letter_line(tail.last()?)).filter(|(_, rest)| is_decoration(rest));
    let last = last.filter(|_| !cut_off);
    let (letter, _) = first.or(last)?;
    Some(match letters::index_of(letter) {
        Some(index) if index < n => Reading::Option(index),
        _ => Reading::Unreadable(letter.to_string()),
    })
}

/// Whether the reply goes through the options one line each ("A. …",
/// "B. …"): then neither its first line nor the option texts it repeats
/// are an answer.
fn lists_options(region: &str) -> bool {
    let labelled = region.lines().filter_map(|l| letter_line(l.trim())).filter(|(_, rest)| !rest.trim().is_empty());
    labelled.take(2).count() == 2
}

/// A line that starts with a letter, and what follows it: "B", "**B**",
/// "B. text", "B) text", "B: text", "(B) text", "Option B".
fn letter_line(line: &str) -> Option<(char, &str)> {
    let s = line.trim_start_matches(['*', '_', '#', '"', '`', '>', ' ']);
    let lower = s.to_ascii_lowercase();
    let s = match ["option", "choice"].into_iter().find(|w| word_at(&lower, 0, w)) {
        Some(word) => s[word.len()..].trim_start(),
        None => s,
    };
    let (letter, len) = leading_letter(s, false)?;
    let rest = &s[len..];
    let bracketed = len > 1;
    // "A is incorrect" or "I think" start with a letter-like word, not a
    // letter: without brackets the letter must end the line or carry
    // punctuation.
    let rest = match rest.as_bytes().first() {
        _ if bracketed => rest,
        Some(b'.' | b')' | b':') => &rest[1..],
        _ if is_decoration(rest) => "",
        _ => return None,
    };
    (rest.is_empty() || rest.starts_with([' ', '*', '\t'])).then_some((letter, rest))
}

/// Only markdown or punctuation: nothing that changes the answer.
fn is_decoration(rest: &str) -> bool {
    rest.trim_matches(|c: char| c.is_whitespace() || "*_.!)`\"'".contains(c)).is_empty()
}

fn ruled_out(rest: &str) -> bool {
    negated_after(&rest.to_ascii_lowercase())
}

/// The one option letter named near the end as `(X)`, `option X` or
/// `choice X`, ignoring ruled-out ones ("not (A), so (B)"). A mention must
/// end its sentence ("…is (I).") or be followed by its option's text
/// ("closest to (E) 0.91"): "the force (F) required" names a variable.
pub fn letter_mention(region: &str, options: &[String]) -> Option<usize> {
    let tail = text::tail(region, TAIL_BYTES);
    let lower = tail.to_ascii_lowercase();
    let mut named: Vec<usize> = mentions(tail, &lower)
        .filter(|&(start, end, _)| !negated_before(&lower, start) && !negated_after(&lower[end..]))
        .filter_map(|(_, end, letter)| Some((end, letters::index_of(letter).filter(|&i| i < options.len())?)))
        .filter(|&(end, index)| ends_sentence(&tail[end..]) || starts_with_option(&tail[end..], &options[index]))
        .map(|(_, index)| index)
        .collect();
    named.sort_unstable();
    named.dedup();
    match named.as_slice() {
        [only] => Some(*only),
        _ => None,
    }
}

/// Whether only closing punctuation comes before the sentence ends.
fn ends_sentence(rest: &str) -> bool {
    let rest = rest.trim_start_matches([')', ']', '*', '_', '"', '\'', '`', '$']);
    let mut chars = rest.chars();
    match chars.next() {
        None | Some('\n') => true,
        Some('.' | '!' | '?') => chars.next().is_none_or(char::is_whitespace),
        _ => false,
    }
}

/// Whether `rest` goes on with the text of `option` ("(E) 0.91").
fn starts_with_option(rest: &str, option: &str) -> bool {
    let (rest, option) = (normalize(rest), normalize(option));
    let rest = rest.trim_start_matches([' ', ':', '-', ')']);
    !option.is_empty() && rest.starts_with(option.trim_end_matches('.'))
}

/// `(X)`, `option X` and `choice X` in `tail`, as (start, end, letter).
fn mentions<'a>(tail: &'a str, lower: &'a str) -> impl Iterator<Item = (usize, usize, char)> + 'a {
    let bracketed = tail.match_indices('(').filter_map(|(i, _)| {
        let (letter, len) = leading_letter(&tail[i..], false).filter(|&(_, len)| len == 3)?;
        Some((i, i + len, letter))
    });
    let named = ["option ", "choice "].into_iter().flat_map(move |word| {
        lower.match_indices(word).filter_map(move |(i, _)| {
            let before_ok = i == 0 || !lower.as_bytes()[i - 1].is_ascii_alphabetic();
            let at = i + word.len();
            let (letter, len) = leading_letter(&tail[at..], false).filter(|_| before_ok)?;
            Some((i, at + len, letter))
        })
    });
    bracketed.chain(named)
}

/// The one option whose exact text appears near the end (as whole
/// words, not ruled out, not merely inside a longer option that also
/// appears there).
pub fn option_text(region: &str, options: &[String]) -> Option<usize> {
    if lists_options(region) {
        return None;
    }
    let tail = normalize(text::tail(region, TAIL_BYTES));
    let hits: Vec<(usize, usize, usize)> = (options.iter().enumerate())
        .flat_map(|(index, option)| occurrences(&tail, option).into_iter().map(move |(s, e)| (index, s, e)))
        .collect();
    // "True" inside "True, True" is not a mention of the option "True".
    let inside_longer = |&(i, s, e): &(usize, usize, usize)| {
        hits.iter().any(|&(j, s2, e2)| j != i && s2 <= s && e <= e2 && e2 - s2 > e - s)
    };
    let mut chosen: Vec<usize> = hits.iter().filter(|h| !inside_longer(h)).map(|h| h.0).collect();
    chosen.sort_unstable();
    chosen.dedup();
    match chosen.as_slice() {
        [only] => Some(*only),
        _ => None,
    }
}

/// Byte ranges where `option` occurs in the normalized `tail` as whole
/// words and is not ruled out. Short or letterless options ("4", "1.5",
/// "$20") count only as the whole tail: numbers fill any calculation.
fn occurrences(tail: &str, option: &str) -> Vec<(usize, usize)> {
    let option = normalize(option);
    let option = option.trim_end_matches('.');
    if option.len() < 3 || !option.bytes().any(|b| b.is_ascii_alphabetic()) {
        let whole = tail.trim_matches(|c: char| "*_.!`\"' ".contains(c));
        return if !option.is_empty() && whole == option { vec![(0, tail.len())] } else { Vec::new() };
    }
    let whole_words = |&(start, end): &(usize, usize)| {
        (start == 0 || !tail.as_bytes()[start - 1].is_ascii_alphanumeric()) && ends_token(&tail[end..])
    };
    let chosen = |&(start, end): &(usize, usize)| !negated_before(tail, start) && !negated_after(&tail[end..]);
    tail.match_indices(option)
        .map(|(start, _)| (start, start + option.len()))
        .filter(whole_words)
        .filter(chosen)
        .collect()
}

//! Text helpers for answer extraction: the part of a reply that can hold
//! the answer, word boundaries, and the cues that mark a letter as ruled
//! out rather than chosen. Searches run on an ASCII-lowercased copy, which
//! keeps byte offsets identical to the original text.

/// Chat-template tokens that end a turn. A reply containing one went on
/// past its end (a leaked next turn), so text after it is not the answer.
const TURN_ENDS: [&str; 10] = [
    "<|im_end|>",
    "<|eot_id|>",
    "<|end|>",
    "<|endoftext|>",
    "<|end_of_text|>",
    "<|im_start|>",
    "<|user|>",
    "<|assistant|>",
    "</s>",
    "[inst]",
];

/// Phrases just before a letter that exclude it ("rule out A", "not (B)").
const NEGATION_BEFORE: [&str; 19] = [
    "not",
    "cannot",
    "n't",
    "never",
    "rule out",
    "rules out",
    "ruled out",
    "ruling out",
    "eliminate",
    "eliminates",
    "eliminated",
    "eliminating",
    "exclude",
    "excluding",
    "except",
    "other than",
    "instead of",
    "rather than",
    "besides",
];

/// Phrases just after a letter that exclude it ("A is incorrect").
const NEGATION_AFTER: [&str; 19] = [
    "is incorrect",
    "is unrelated",
    "is irrelevant",
    "does not fit",
    "is wrong",
    "is not",
    "isn't",
    "is false",
    "is also incorrect",
    "is also wrong",
    "is ruled out",
    "is eliminated",
    "is out",
    "can be ruled out",
    "can be eliminated",
    "can be excluded",
    "cannot be",
    "does not",
    "doesn't",
];

/// The part of a completion that can hold the answer: after the last
/// `</think>` (reasoning, even with a stray closing tag, is not the
/// answer), nothing at all after an unclosed `<think>` (the model ran out
/// of tokens while thinking), and nothing after a leaked turn-end token.
pub fn answer_region(text: &str) -> &str {
    let lower = text.to_ascii_lowercase();
    let (mut start, mut end) = (0, text.len());
    if let Some(i) = lower.rfind("</think>") {
        start = i + "</think>".len();
    } else if let Some(i) = lower.find("<think>") {
        end = i;
    }
    // A turn token before any text (some servers echo one) ends nothing.
    while let Some(token) = TURN_ENDS.iter().find(|t| lower[start..end].trim_start().starts_with(*t)) {
        let at = start + lower[start..end].find(token).expect("found above");
        start = at + token.len();
    }
    if let Some(cut) = TURN_ENDS.iter().filter_map(|t| lower[start..end].find(t)).min() {
        end = start + cut;
    }
    if let Some(cut) = turn_restart(&text[start..end]) {
        end = start + cut;
    }
    &text[start..end]
}

/// Where a reply restarts as a new turn after answering: a line such as
/// `===` or `== response ==`, or a new few-shot `Question:`, after some
/// text (what follows is another reply, whose "The answer is (H)" must not
/// override the real one).
fn turn_restart(text: &str) -> Option<usize> {
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        let trimmed = line.trim();
        let rule = trimmed.len() >= 3 && trimmed.bytes().all(|b| b == b'=');
        let header = trimmed.len() > 4 && trimmed.starts_with("==") && trimmed.ends_with("==");
        let question = trimmed == "Question" || trimmed.starts_with("Question:");
        if (rule || header || question) && !text[..offset].trim().is_empty() {
            return Some(offset);
        }
        offset += line.len();
    }
    None
}

/// Whether a reply looks complete: short (one line of at most 100 bytes,
/// such as "charlie"), or ending as finished text does, with sentence
/// punctuation, a closing bracket, quote or emphasis, or a line that is a
/// lone letter ("…\n\n**B**"). A long reply ending "…so option D" was cut
/// off mid-sentence.
pub fn looks_complete(region: &str) -> bool {
    let trimmed = region.trim();
    if trimmed.len() <= 100 && !trimmed.contains('\n') {
        return true;
    }
    let last_line = trimmed.lines().next_back().unwrap_or("").trim().trim_matches(['*', '_', '(', ')', '.']);
    let lone_letter = last_line.len() == 1 && last_line.bytes().all(|b| b.is_ascii_alphabetic());
    lone_letter || trimmed.ends_with(['.', '!', '?', ')', ']', '}', '*', '"', '\'', '`', '$'])
}

/// Letters, digits and `_`: the bytes that continue a word.
pub fn is_word_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

/// Whether `lower[at..]` starts with `word` as a whole word.
pub fn word_at(lower: &str, at: usize, word: &str) -> bool {
    lower[at..].starts_with(word) && lower.as_bytes().get(at + word.len()).is_none_or(|&b| !is_word_byte(b))
}

/// The word before `at`, skipping spaces and markdown emphasis.
pub fn word_before(lower: &str, at: usize) -> &str {
    let head = lower[..at].trim_end_matches([' ', '*', '_']);
    let start = head.rfind(|c: char| !c.is_ascii_alphabetic()).map_or(0, |i| i + 1);
    &head[start..]
}

/// Index of the first byte at or after `at` that is none of `skip`.
pub fn skip_chars(text: &str, at: usize, skip: &[char]) -> usize {
    at + text[at..].find(|c: char| !skip.contains(&c)).unwrap_or(text.len() - at)
}

/// Words that start a new clause: a negation before them does not reach
/// past them ("not A but D", "rule out A so D").
const CLAUSE_WORDS: [&str; 6] = [" but ", " so ", " therefore ", " thus ", " hence ", " instead "];

/// Whether the clause before a letter at `at` rules it out ("we can rule
/// out (A)"). The clause ends at punctuation or a word like "but", so
/// "rule out A, so B" and "not A but B" do not rule out B.
pub fn negated_before(lower: &str, at: usize) -> bool {
    let head = &lower[..at];
    let mut start = head.rfind(['.', ',', ';', ':', '!', '?', '\n']).map_or(0, |i| i + 1);
    start = start.max(floor_boundary(head, at.saturating_sub(40)));
    if let Some(word_end) = CLAUSE_WORDS.iter().filter_map(|w| head[start..].rfind(w).map(|i| i + w.len())).max() {
        start += word_end;
    }
    NEGATION_BEFORE.iter().any(|cue| contains_word(&head[start..], cue))
}

/// Whether the text right after a letter rules it out ("A is incorrect").
pub fn negated_after(lower_rest: &str) -> bool {
    let rest = lower_rest.trim_start_matches([' ', ')', ']', '*', '_', '"', '\'']);
    NEGATION_AFTER.iter().any(|cue| rest.starts_with(cue))
}

/// Whether `phrase` occurs in `text` as whole words.
pub fn contains_word(text: &str, phrase: &str) -> bool {
    text.match_indices(phrase).any(|(i, _)| {
        // "n't" is glued to its verb ("isn't"); every other cue starts a word.
        let before_ok = i == 0 || !is_word_byte(text.as_bytes()[i - 1]) || phrase.starts_with("n'");
        before_ok && word_at(text, i, phrase)
    })
}

/// The last non-empty line, cut to its final `max` bytes: where a reply
/// without an explicit answer statement usually names its choice.
pub fn tail(text: &str, max: usize) -> &str {
    let line = text.lines().rev().map(str::trim).find(|l| !l.is_empty()).unwrap_or("");
    &line[ceil_boundary(line, line.len().saturating_sub(max))..]
}

/// A short one-line excerpt for reports of unreadable answers.
pub fn snippet(text: &str) -> String {
    let line = text.trim().lines().next().unwrap_or("").trim();
    let cut = floor_boundary(line, 80);
    if cut < line.len() { format!("{}…", &line[..cut]) } else { line.to_string() }
}

fn floor_boundary(text: &str, at: usize) -> usize {
    (0..=at.min(text.len())).rev().find(|&i| text.is_char_boundary(i)).unwrap_or(0)
}

fn ceil_boundary(text: &str, at: usize) -> usize {
    (at..=text.len()).find(|&i| text.is_char_boundary(i)).unwrap_or(text.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_region_skips_reasoning_and_leaked_turns() {
        assert_eq!(answer_region("<think>A?</think> B"), " B");
        assert_eq!(answer_region("hmm A. </think>B"), "B");
        assert_eq!(answer_region("<think>still thinking about A"), "");
        assert_eq!(answer_region("(C)<|im_end|>\n(D)"), "(C)");
        assert_eq!(answer_region("<|assistant|> (C)"), " (C)");
        assert_eq!(answer_region("The answer is (A).\n===\nThe answer is (I)."), "The answer is (A).\n");
        assert_eq!(answer_region("So (B).\n\n== response ==\nThe answer is (H)."), "So (B).\n\n");
        assert_eq!(answer_region("== x == is a heading?"), "== x == is a heading?");
        assert_eq!(answer_region("The answer is (J).\n\nQuestion: Which"), "The answer is (J).\n\n");
    }

    #[test]
    fn long_replies_without_a_sentence_end_were_cut_off() {
        let reasoning = "We compare each option with the computed value of 12 m/s in turn.\n";
        for finished in ["So (B).", "**B**", "Thinking.\n\nD", "It is (C)"] {
            assert!(looks_complete(&format!("{reasoning}{finished}")), "{finished:?}");
        }
        for cut in ["so option D", "the force is 12 N and the", "(A) 3 m/s, (B) 4"] {
            assert!(!looks_complete(&format!("{reasoning}{cut}")), "{cut:?}");
        }
        assert!(looks_complete("so option D") && looks_complete("charlie"));
    }

    #[test]
    fn negation_cues_stay_within_their_clause() {
        let text = "we can rule out (a), so (b)";
        assert!(negated_before(text, text.find("(a)").unwrap()));
        assert!(!negated_before(text, text.find("(b)").unwrap()));
        assert!(negated_after(") is incorrect because"));
        assert!(!contains_word("nothing", "not"));
        assert!(contains_word("isn't", "n't"));
    }
}

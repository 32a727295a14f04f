//! Seeded answer shuffling. Options such as "None of the above" only make
//! sense in their place, so they are anchors that stay put and only the
//! runs between them are shuffled; options that name other letters ("A and
//! B") would be wrong after any move, so such records are left as they are.

use crate::letters;
use assay_sdk::Rng;

/// Words that start an anchor option ("none of the above").
const ANCHOR_QUANTIFIERS: [&str; 5] = ["all", "none", "both", "neither", "any"];
/// What an anchor option refers to ("… of the following").
const ANCHOR_REFERENTS: [&str; 7] = ["above", "these", "following", "preceding", "options", "choices", "answers"];

/// The order to show options in: `permutation[new] = old`. Identity when
/// the options cannot be shuffled safely.
pub fn permutation(options: &[String], rng: &mut Rng) -> Vec<usize> {
    let mut order: Vec<usize> = (0..options.len()).collect();
    if options.iter().any(|o| refers_to_letters(o, options.len())) {
        return order;
    }
    let mut start = 0;
    for end in 0..=options.len() {
        if end == options.len() || is_anchor(&options[end]) {
            rng.shuffle(&mut order[start..end]);
            start = end + 1;
        }
    }
    order
}

/// The options in `permutation` order and where the gold answer went.
pub fn apply(options: &[String], gold: usize, permutation: &[usize]) -> (Vec<String>, usize) {
    let shuffled = permutation.iter().map(|&old| options[old].clone()).collect();
    let new_gold = permutation.iter().position(|&old| old == gold).expect("a permutation holds every index");
    (shuffled, new_gold)
}

/// "All of the above", "None of these", "Neither of the following"...:
/// a quantifier, `of`, optionally `the`, then a referent (case-insensitive).
pub fn is_anchor(option: &str) -> bool {
    let lower = option.to_ascii_lowercase();
    let words: Vec<&str> = lower.split(|c: char| !c.is_ascii_alphabetic()).filter(|w| !w.is_empty()).collect();
    let [quantifier, rest @ ..] = words.as_slice() else { return false };
    let rest = rest.strip_prefix(&["of"][..]).unwrap_or(rest);
    let rest = rest.strip_prefix(&["the"][..]).unwrap_or(rest);
    ANCHOR_QUANTIFIERS.contains(quantifier) && rest.first().is_some_and(|w| ANCHOR_REFERENTS.contains(w))
}

/// Whether an option names other options by letter: two letters joined
/// by `and`/`or`/`&`/`nor`/commas ("A and B", "Both A & C", "(A) or (C)",
/// "A B and C"), or one letter after `option`/`choice`/`answer`.
pub fn refers_to_letters(option: &str, n: usize) -> bool {
    let tokens = letter_tokens(option, n);
    let joined = tokens.windows(2).any(|pair| is_joiner(&option[pair[0].1..pair[1].0]));
    let named = tokens.iter().any(|&(start, _)| {
        let before = option[..start].trim_end_matches([' ', '(']).to_ascii_lowercase();
        ["option", "options", "choice", "choices", "answer", "answers"].iter().any(|w| ends_with_word(&before, w))
    });
    joined || named
}

/// Byte ranges of standalone uppercase letters within the option range
/// (`C` in "C++" or "C#" is a language, not a letter).
fn letter_tokens(text: &str, n: usize) -> Vec<(usize, usize)> {
    let bytes = text.as_bytes();
    (0..bytes.len())
        .filter(|&i| letters::index_of(char::from(bytes[i])).is_some_and(|index| index < n))
        .filter(|&i| i == 0 || !is_word_byte(bytes[i - 1]))
        .filter(|&i| bytes.get(i + 1).is_none_or(|&b| !is_word_byte(b) && b != b'+' && b != b'#'))
        // "U.S." and "D.C." are abbreviations, not letters.
        .filter(|&i| !(bytes.get(i + 1) == Some(&b'.') && bytes.get(i + 2).is_some_and(u8::is_ascii_alphabetic)))
        .map(|i| (i, i + 1))
        .collect()
}

/// Text between two letters that joins them into a list of options.
fn is_joiner(gap: &str) -> bool {
    let words = gap.trim_matches(|c: char| c.is_whitespace() || c == ',' || c == '(' || c == ')').to_ascii_lowercase();
    matches!(words.as_str(), "" | "and" | "or" | "&" | "nor" | "and/or" | "/")
}

fn ends_with_word(text: &str, word: &str) -> bool {
    text.strip_suffix(word).is_some_and(|head| !head.bytes().last().is_some_and(is_word_byte))
}

fn is_word_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b == b'\''
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn anchors_are_recognised() {
        for text in
            ["None of the above", "all of these.", "Both of the above", "NEITHER OF THE FOLLOWING", "All the above"]
        {
            assert!(is_anchor(text), "{text}");
        }
        for text in ["None", "All mammals", "both sides of the equation", "Above average"] {
            assert!(!is_anchor(text), "{text}");
        }
    }

    #[test]
    fn letter_references_are_recognised() {
        for text in [
            "A and B",
            "Both A & C",
            "A or C",
            "A B and C",
            "(A) and (D)",
            "Neither A nor B",
            "option B",
            "Both A and C.",
        ] {
            assert!(refers_to_letters(text, 4), "{text}");
        }
        for text in ["Vitamin A", "C, C++", "The U.S.", "Washington, D.C.", "I and II", "A, Ruby", "Type E or F"] {
            assert!(!refers_to_letters(text, 4), "{text}");
        }
    }

    #[test]
    fn anchors_split_the_shuffled_runs() {
        let options: Vec<String> = ["a", "b", "c", "None of the above", "e", "f"].map(String::from).to_vec();
        for seed in 0..20 {
            let order = permutation(&options, &mut Rng::new(seed));
            assert_eq!(order[3], 3);
            let mut head = order[..3].to_vec();
            head.sort();
            assert_eq!(head, [0, 1, 2]);
        }
    }

    #[test]
    fn apply_moves_the_gold_answer_with_its_text() {
        let options: Vec<String> = ["a", "b", "c"].map(String::from).to_vec();
        let (shuffled, gold) = apply(&options, 0, &[2, 0, 1]);
        assert_eq!(shuffled, ["c", "a", "b"]);
        assert_eq!(gold, 1);
    }
}

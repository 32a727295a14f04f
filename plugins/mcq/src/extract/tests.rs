//! The hard cases of answer extraction, each with its exact letter (or
//! status) and method.

use super::{Extraction, Method, extract};

/// `n` options with distinct texts ("alpha", "bravo", …).
fn options(n: usize) -> Vec<String> {
    ["alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel", "india", "juliett"][..n]
        .iter()
        .map(|s| s.to_string())
        .collect()
}

/// The letter read from `reply` with `n` options, and the method.
fn read(reply: &str, n: usize) -> Extraction {
    extract(reply, &options(n), None)
}

fn assert_answer(reply: &str, n: usize, letter: char, method: Method) {
    let expected = Extraction::Answer { index: usize::from(letter as u8 - b'A'), method };
    assert_eq!(read(reply, n), expected, "reply: {reply:?}");
}

fn assert_malformed(reply: &str, n: usize) {
    assert!(matches!(read(reply, n), Extraction::Malformed { .. }), "reply: {reply:?} gave {:?}", read(reply, n));
}

fn assert_hedged(reply: &str, n: usize) {
    assert!(matches!(read(reply, n), Extraction::Hedged { .. }), "reply: {reply:?} gave {:?}", read(reply, n));
}

fn assert_no_answer(reply: &str, n: usize) {
    assert_eq!(read(reply, n), Extraction::NoAnswer, "reply: {reply:?}");
}

#[test]
fn answer_phrases() {
    let cases = [
        ("The answer is (B)", 'B'),
        ("the answer is B.", 'B'),
        ("**Answer: C**", 'C'),
        ("**Answer:** C", 'C'),
        ("Answer: (D)", 'D'),
        ("Final answer: E", 'E'),
        ("So the correct answer is: **(A)**", 'A'),
        ("The answer is therefore option C.", 'C'),
        ("The correct option is D, since the others fail.", 'D'),
        ("The answer is:\n\n**B**", 'B'),
        ("Thinking...\nThe answer is (J).", 'J'),
        ("The answer is (B) is true. TFC + AVC = TC.", 'B'),
    ];
    for (reply, letter) in cases {
        assert_answer(reply, 10, letter, Method::AnswerPhrase);
    }
}

#[test]
fn boxed_answers() {
    assert_answer("Thus $\\boxed{D}$.", 4, 'D', Method::Boxed);
    assert_answer("\\boxed{\\text{D}}", 4, 'D', Method::Boxed);
    assert_answer("\\boxed{(b)}", 4, 'B', Method::Boxed);
    assert_answer("The final answer is $\\boxed{\\textbf{C}}$", 4, 'C', Method::Boxed);
    assert_malformed("\\boxed{42}", 4);
}

#[test]
fn answer_tags() {
    assert_answer("<answer>C</answer>", 4, 'C', Method::AnswerTag);
    assert_answer("Reasoning.\n<answer> (c) </answer>", 4, 'C', Method::AnswerTag);
    assert_answer("<answer>charlie</answer>", 4, 'C', Method::AnswerTag);
    assert_malformed("<answer>maybe</answer>", 4);
    assert_malformed("<answer>F</answer>", 4);
}

#[test]
fn reasoning_in_think_tags_is_ignored() {
    assert_answer("<think>The answer is (A)... no.</think>The answer is (C).", 4, 'C', Method::AnswerPhrase);
    assert_answer("the answer is (A)? wait</think>\n\nB", 4, 'B', Method::BareLetter);
    assert_no_answer("<think>The answer is (A), let me check", 4);
}

#[test]
fn bare_letter_replies() {
    for reply in ["B", "B.", "(B)", "B) bravo", "B. bravo", "**B**", " B\n", "Option B", "[B]"] {
        assert_answer(reply, 4, 'B', Method::BareLetter);
    }
    assert_answer("Let me work through this.\nIt must be the second.\n\n(B)", 4, 'B', Method::BareLetter);
    assert_malformed("E", 4);
    assert_no_answer("I. The first statement holds.\nII. The second fails.\nSo only one holds", 10);
    // A list of the options is not an answer.
    assert_no_answer("A. alpha is wrong here\nB. bravo is wrong too\nC. charlie maybe", 4);
}

#[test]
fn negations_do_not_count() {
    assert_no_answer("not A", 4);
    assert_no_answer("A is incorrect.", 4);
    assert_no_answer("We can rule out A.", 4);
    assert_no_answer("(A) is incorrect.", 4);
    assert_no_answer("The answer is not (A).", 4);
    assert_answer("We can rule out (A), so (C).", 4, 'C', Method::LetterMention);
    assert_answer("(A) is incorrect, so the answer is (B).", 4, 'B', Method::AnswerPhrase);
    assert_answer("The incorrect answer is (H). The answer is (G).", 10, 'G', Method::AnswerPhrase);
    assert_answer("Not option A but option D.", 4, 'D', Method::LetterMention);
    let reply = "The answer is (B) is incorrect, since x. The answer is (C) is unrelated. The answer is (D).";
    assert_answer(reply, 4, 'D', Method::AnswerPhrase);
    // A parenthesised letter that names a variable is no answer.
    assert_no_answer("The force (F) required is not given", 10);
    assert_answer("It is closest to (E) echo, roughly.", 10, 'E', Method::LetterMention);
}

#[test]
fn the_last_explicit_answer_wins() {
    let reply = "So the answer is (E). Wait, that ignores friction. The correct answer is (D).";
    assert_answer(reply, 10, 'D', Method::AnswerPhrase);
    assert_answer("The answer is (B).\n\nAnswer: The answer is (C).", 4, 'C', Method::AnswerPhrase);
    // An unreadable later statement does not erase a readable one.
    assert_answer("The answer is (B). The answer is explained above.", 4, 'B', Method::AnswerPhrase);
}

#[test]
fn letters_beyond_d_up_to_the_option_count() {
    assert_answer("The answer is (J).", 10, 'J', Method::AnswerPhrase);
    assert_answer("The answer is (I).", 9, 'I', Method::AnswerPhrase);
    assert_malformed("The answer is (J).", 9);
    assert_malformed("The answer is (E).", 4);
}

#[test]
fn unreadable_explicit_answers_are_malformed() {
    assert_malformed("The answer is (None of the above).", 4);
    assert_malformed("The answer is $2,125,000.", 4);
    assert_malformed("The answer is", 4);
}

#[test]
fn option_text_near_the_end() {
    assert_answer("charlie", 4, 'C', Method::OptionText);
    assert_answer("After weighing everything, the best fit is delta.", 4, 'D', Method::OptionText);
    assert_answer("The answer is charlie, by elimination.", 4, 'C', Method::AnswerPhrase);
    // Two options named, or a ruled-out one only: no answer.
    assert_no_answer("It is either bravo or charlie.", 4);
    assert_no_answer("It is not bravo.", 4);
}

#[test]
fn short_options_count_only_as_the_whole_reply() {
    let options: Vec<String> = ["2", "4", "6", "8"].map(String::from).to_vec();
    assert_eq!(extract("4", &options, None), Extraction::Answer { index: 1, method: Method::OptionText });
    assert_eq!(extract("2 + 2 = 4 and 6 - 2 = 4", &options, None), Extraction::NoAnswer);
}

#[test]
fn replies_without_an_answer() {
    for reply in ["", "   ", "I don't know.", "Let me think about the velocity: v = 3 m/s and a = 2", "I think so"] {
        assert_no_answer(reply, 4);
    }
}

#[test]
fn leaked_turns_are_cut() {
    let reply = "The answer is (C).<|im_end|>\n<|im_start|>user\nNext? The answer is (A).";
    assert_answer(reply, 4, 'C', Method::AnswerPhrase);
}

#[test]
fn lowercase_letters_after_an_unambiguous_marker() {
    assert_answer("Therefore, the correct option is (c) because the rate doubles.", 4, 'C', Method::AnswerPhrase);
    assert_answer("Reasoning first.\nanswer: d", 4, 'D', Method::AnswerPhrase);
    assert_answer("The answer is b.", 4, 'B', Method::AnswerPhrase);
    // Lowercase words and Roman numerals are not letters.
    assert_malformed("The answer is a bit more subtle than that.", 4);
    assert_malformed("The answer is (iii) only.", 10);
    assert_malformed("The answer is (i) and (iv) only.", 10);
}

#[test]
fn hedges_have_their_own_status() {
    assert_hedged("The answer is (A) or (I), depending on the reading.", 10);
    assert_hedged("The answer is either (B) or (J).", 10);
    assert_hedged("So the answer is (b) or (c).", 4);
    // A final decision after a hedge wins, and a final hedge after a
    // decision is the answer given.
    assert_answer("The answer is (A) or (B). Checking again, the answer is (B).", 4, 'B', Method::AnswerPhrase);
    assert_hedged("The answer is (A). Hmm, the answer is (A) or (B).", 4);
}

#[test]
fn explicitly_rejected_options_get_no_credit() {
    let reply = "None of the options matches 12.4 m. The closest option is (E) 12 m, but this is not the correct \
                 answer, since the error is too large.\n\nAnswer: None of the above";
    assert_malformed(reply, 10);
    assert_no_answer("The closest option is (B) January 28th, but this is not the correct answer.", 10);
    let declined = "The closest option is (B) $608.90. The correct answer is not listed.";
    assert_malformed(declined, 10);
    assert_answer("The answer is not listed, but the closest option is (I).", 10, 'I', Method::AnswerPhrase);
    assert_answer(
        "Therefore, the answer is (E), but with the understanding that it is not exact.",
        10,
        'E',
        Method::AnswerPhrase,
    );
}

#[test]
fn text_after_a_turn_restart_is_ignored() {
    let reply = "The product is 12, so the answer is (B).\n\n\n== response ==\nThe answer is (H).\n\nAnswer: The answer is (H).";
    assert_answer(reply, 10, 'B', Method::AnswerPhrase);
    assert_answer("Therefore, the correct answer is (A).\n===\nThe answer is (I).", 10, 'A', Method::AnswerPhrase);
}

#[test]
fn a_cut_bracket_still_names_its_letter() {
    assert_answer("The work done is W = 55.3 cal. The answer is (G", 10, 'G', Method::AnswerPhrase);
}

#[test]
fn cut_off_replies_get_no_text_fallback() {
    let reasoning = "Let us compute the speed. The distance is 100 m and the time is 8 s, so the speed is \
                     12.5 m/s, and the kinetic energy follows from the mass of 2 kg.\n";
    // Cut off mid-sentence: neither the option's text nor a dangling
    // "so option D" counts.
    assert_no_answer(&format!("{reasoning}The energy is 156.25 J, which is delta"), 4);
    assert_no_answer(&format!("{reasoning}That matches, so option D"), 4);
    // The same, finished, does count; and a host report of truncation wins.
    assert_answer(&format!("{reasoning}That matches, so option (D)."), 4, 'D', Method::LetterMention);
    let finished = format!("{reasoning}That matches, so option (D).");
    assert_eq!(extract(&finished, &options(4), Some(true)), Extraction::NoAnswer);
    assert_eq!(extract(&format!("{reasoning}so option D"), &options(4), Some(false)), read(&finished, 4));
    // Explicit statements count however the reply ended.
    assert_answer(&format!("{reasoning}The answer is (C) and then"), 4, 'C', Method::AnswerPhrase);
}

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
    extract(reply, &options(n))
}

fn assert_answer(reply: &str, n: usize, letter: char, method: Method) {
    let expected = Extraction::Answer { index: usize::from(letter as u8 - b'A'), method };
    assert_eq!(read(reply, n), expected, "reply: {reply:?}");
}

fn assert_malformed(reply: &str, n: usize) {
    assert!(matches!(read(reply, n), Extraction::Malformed { .. }), "reply: {reply:?} gave {:?}", read(reply, n));
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
    assert_malformed("The answer is (A) or (I), depending on the reading.", 10);
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
    assert_eq!(extract("4", &options), Extraction::Answer { index: 1, method: Method::OptionText });
    assert_eq!(extract("2 + 2 = 4 and 6 - 2 = 4", &options), Extraction::NoAnswer);
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

//! The hard cases of final-answer extraction, each with its exact answer
//! (or status) and the rule that fired.

use math::{Extraction, Method, latex, number};

fn answer(text: &str, method: Method) -> Extraction {
    Extraction::Answer { text: text.into(), method }
}

/// `reply` reads as the number `value` with `method`.
fn assert_number(reply: &str, value: f64, method: Method) {
    match number::extract(reply) {
        Extraction::Answer { text, method: found } => {
            assert_eq!(found, method, "reply {reply:?}");
            assert_eq!(number::value(&text), Some(value), "reply {reply:?} read as {text:?}");
        }
        other => panic!("reply {reply:?} gave {other:?}"),
    }
}

#[test]
fn gsm8k_hash_marker_comes_first() {
    assert_number("She has 3 left.\n#### 72", 72.0, Method::HashMarker);
    assert_number("The answer is 5.\n#### 6", 6.0, Method::HashMarker);
    assert_number("#### 1,250", 1250.0, Method::HashMarker);
    assert_number("#### $1,250.", 1250.0, Method::HashMarker);
    assert_number("#### -3", -3.0, Method::HashMarker);
    assert_number("#### 5\nso\n#### 7", 7.0, Method::HashMarker);
}

#[test]
fn markdown_headings_are_not_answer_lines() {
    assert_number("#### Step 1: add\n3 + 4 = 7\n#### Final answer\nThe answer is 7.", 7.0, Method::AnswerPhrase);
    assert_number("#### 2. Multiply\n2 * 9 = 18\n\\boxed{18}", 18.0, Method::Boxed);
    assert_number("######\nA: 12", 12.0, Method::AnswerLine);
}

#[test]
fn calculator_annotations_are_not_read_twice() {
    assert_number("She makes 9 * 2 = $<<9*2=18>>18 every day", 18.0, Method::LastNumber);
    assert_number("It takes 2/2=<<2/2=1>>1 bolt\nA: 3", 3.0, Method::AnswerLine);
    // An unclosed annotation is left as it is.
    assert_number("So <<4+4 makes 8", 8.0, Method::LastNumber);
}

#[test]
fn answer_phrases() {
    let cases = [
        ("The answer is 42.", 42.0),
        ("the final answer is: $18", 18.0),
        ("So the final answer is **72**.", 72.0),
        ("**Final Answer:** 1,250 dollars", 1250.0),
        ("The answer is $\\boxed{24}$.", 24.0),
        ("THE ANSWER IS -7", -7.0),
        ("The answer is .5", 0.5),
        ("The answer is 3/4", 0.75),
        ("The answer is 25%.", 25.0),
        ("The answer is 3.50", 3.5),
        // The last phrase with a number wins.
        ("The answer is 5. Wait, the answer is 6.", 6.0),
        ("The answer is 9. The answer is that we need more.", 9.0),
    ];
    for (reply, value) in cases {
        assert_number(reply, value, Method::AnswerPhrase);
    }
}

#[test]
fn gsm8k_paper_answer_lines() {
    assert_number("9 + 9 = 18\nA: 18", 18.0, Method::AnswerLine);
    assert_number("...\nA: $1,000\n\n", 1000.0, Method::AnswerLine);
    // Only the last line counts: "A:" earlier is not an answer line.
    assert_number("A: 5 apples\nthen 6 more", 6.0, Method::LastNumber);
}

#[test]
fn boxed_answers_in_number_replies() {
    assert_number("So $\\boxed{\\frac{3}{4}}$", 0.75, Method::Boxed);
    assert_number("\\boxed{18 \\text{ dollars}}", 18.0, Method::Boxed);
    assert_number("\\boxed{\\$1,250}", 1250.0, Method::Boxed);
    assert!(matches!(number::extract("\\boxed{x+1}"), Extraction::Malformed { method: Method::Boxed, .. }));
    assert!(matches!(number::extract("so \\boxed{12"), Extraction::Malformed { method: Method::Boxed, .. }));
}

#[test]
fn last_number_fallback() {
    let cases = [
        ("She lays 72 eggs.", 72.0),
        ("It costs $1,250.", 1250.0),
        ("It costs $1,250.50 in total", 1250.5),
        ("The temperature is -5 degrees", -5.0),
        ("It was 10-3", 3.0),
        ("x-5", 5.0),
        ("half is .5", 0.5),
        ("about 3/4 of it", 0.75),
        ("12 and 1,2", 2.0),
        ("1,2500", 2500.0),
        ("that is −4", -4.0),
        ("ends with 7.", 7.0),
    ];
    for (reply, value) in cases {
        assert_number(reply, value, Method::LastNumber);
    }
    assert_eq!(number::extract("I don't know."), Extraction::NoAnswer);
    assert_eq!(number::extract(""), Extraction::NoAnswer);
}

#[test]
fn number_values() {
    assert_eq!(number::value("72 eggs"), Some(72.0));
    assert_eq!(number::value("2x"), None);
    assert_eq!(number::value("1 and 2"), None);
    // As in LaTeX, spaces between digits are not separators: `1 000` is 1000.
    assert_eq!(number::value("1 000"), Some(1000.0));
    assert_eq!(number::value("\\frac{1}{2}"), Some(0.5));
    assert!(number::is_plain_number("1,250"));
    assert!(number::is_plain_number("-3.5"));
    assert!(number::is_plain_number(".0000672"));
    for text in ["-2,1", "10,\\!080", "3/4", "25%", "x", "1 2", "\\frac{1}{2}"] {
        assert!(!number::is_plain_number(text), "{text}");
    }
    assert_eq!(number::gold("so 1,450,000\n#### 1,450,000"), "1450000");
    assert_eq!(number::gold(" 18 "), "18");
    assert_eq!(number::gold("\\frac{1}{2}"), "\\frac{1}{2}");
}

#[test]
fn math_boxed_extraction() {
    let cases = [
        ("So \\boxed{5}.", "5"),
        ("\\boxed{1} is wrong; \\boxed{\\frac{\\sqrt{3}}{2}}", "\\frac{\\sqrt{3}}{2}"),
        ("$\\boxed{\\left( 3, \\frac{\\pi}{2} \\right)}$", "\\left( 3, \\frac{\\pi}{2} \\right)"),
        ("$\\boxed{\\{1,2\\}}$", "\\{1,2\\}"),
        ("\\fbox{7}", "7"),
        ("answer $\\boxed 5$.", "5"),
        ("\\boxed{\\text{(C)}}", "\\text{(C)}"),
        ("\\boxed{\\begin{pmatrix} 1 \\\\ 2 \\end{pmatrix}}", "\\begin{pmatrix} 1 \\\\ 2 \\end{pmatrix}"),
    ];
    for (reply, expected) in cases {
        assert_eq!(latex::extract(reply), answer(expected, Method::Boxed), "reply {reply:?}");
    }
}

#[test]
fn math_fallbacks_and_failures() {
    assert_eq!(latex::extract("The answer is $\\frac{1}{2}$."), answer("\\frac{1}{2}", Method::AnswerPhrase));
    assert_eq!(latex::extract("My final answer is \\(x = 3\\)"), answer("x = 3", Method::AnswerPhrase));
    assert_eq!(latex::extract("Answer: 12 cm\nthat's it"), answer("12 cm", Method::AnswerPhrase));
    assert_eq!(latex::extract("The area is 12."), Extraction::NoAnswer);
    assert!(matches!(latex::extract("\\boxed{\\frac{1}{2}"), Extraction::Malformed { method: Method::Boxed, .. }));
    assert!(matches!(latex::extract("\\boxed{}"), Extraction::Malformed { .. }));
    // `\boxed` must be the whole command name.
    assert_eq!(latex::extract("\\boxedfoo{3}"), Extraction::NoAnswer);
}

//! The hard cases of final-answer extraction, each with its exact answer
//! (or status) and the rule that fired.

use math::{Extraction, Method, latex, number};

fn answer(text: &str, method: Method) -> Extraction {
    Extraction::Answer { text: text.into(), method }
}

/// Whether two number answers have the same exact value.
fn same_number(a: &str, b: &str) -> bool {
    match (number::value(a), number::value(b)) {
        (Some(x), Some(y)) => latex::compare_constants(&x, &y, 0.0).is_equal(),
        _ => false,
    }
}

/// `reply` reads as the number `value` with `method`.
fn assert_number(reply: &str, value: &str, method: Method) {
    match number::extract(reply, None) {
        Extraction::Answer { text, method: found } => {
            assert_eq!(found, method, "reply {reply:?}");
            assert!(same_number(&text, value), "reply {reply:?} read as {text:?}, not {value}");
        }
        other => panic!("reply {reply:?} gave {other:?}"),
    }
}

#[test]
fn gsm8k_hash_marker_comes_first() {
    assert_number("She has 3 left.\n#### 72", "72", Method::HashMarker);
    assert_number("The answer is 5.\n#### 6", "6", Method::HashMarker);
    assert_number("#### 1,250", "1250", Method::HashMarker);
    assert_number("#### $1,250.", "1250", Method::HashMarker);
    assert_number("#### -3", "-3", Method::HashMarker);
    assert_number("#### 5\nso\n#### 7", "7", Method::HashMarker);
}

#[test]
fn markdown_headings_are_not_answer_lines() {
    assert_number("#### Step 1: add\n3 + 4 = 7\n#### Final answer\nThe answer is 7.", "7", Method::AnswerPhrase);
    assert_number("#### 2. Multiply\n2 * 9 = 18\n\\boxed{18}", "18", Method::Boxed);
    assert_number("######\nA: 12", "12", Method::AnswerLine);
}

#[test]
fn calculator_annotations_are_not_read_twice() {
    assert_number("She makes 9 * 2 = $<<9*2=18>>18 every day", "18", Method::LastNumber);
    assert_number("It takes 2/2=<<2/2=1>>1 bolt\nA: 3", "3", Method::AnswerLine);
    // An unclosed annotation is left as it is.
    assert_number("So <<4+4 makes 8", "8", Method::LastNumber);
}

#[test]
fn answer_phrases() {
    let cases = [
        ("The answer is 42.", "42"),
        ("the final answer is: $18", "18"),
        ("So the final answer is **72**.", "72"),
        ("**Final Answer:** 1,250 dollars", "1250"),
        ("The answer is $\\boxed{24}$.", "24"),
        ("THE ANSWER IS -7", "-7"),
        ("The answer is .5", "0.5"),
        ("The answer is 3/4", "0.75"),
        ("The answer is 25%.", "25"),
        ("The answer is 3.50", "3.5"),
        // The last phrase with a number wins.
        ("The answer is 5. Wait, the answer is 6.", "6"),
        ("The answer is 9. The answer is that we need more.", "9"),
    ];
    for (reply, value) in cases {
        assert_number(reply, value, Method::AnswerPhrase);
    }
}

#[test]
fn gsm8k_paper_answer_lines() {
    assert_number("9 + 9 = 18\nA: 18", "18", Method::AnswerLine);
    assert_number("...\nA: $1,000\n\n", "1000", Method::AnswerLine);
    // Only the last line counts: "A:" earlier is not an answer line.
    assert_number("A: 5 apples\nthen 6 more", "6", Method::LastNumber);
}

#[test]
fn boxed_answers_in_number_replies() {
    assert_number("So $\\boxed{\\frac{3}{4}}$", "0.75", Method::Boxed);
    assert_number("\\boxed{18 \\text{ dollars}}", "18", Method::Boxed);
    assert_number("\\boxed{\\$1,250}", "1250", Method::Boxed);
    assert!(matches!(number::extract("\\boxed{x+1}", None), Extraction::Malformed { method: Method::Boxed, .. }));
    assert!(matches!(number::extract("so \\boxed{12", None), Extraction::Malformed { method: Method::Boxed, .. }));
}

#[test]
fn last_number_fallback() {
    let cases = [
        ("She lays 72 eggs.", "72"),
        ("It costs $1,250.", "1250"),
        ("It costs $1,250.50 in total", "1250.5"),
        ("The temperature is -5 degrees", "-5"),
        ("It was 10-3", "3"),
        ("x-5", "5"),
        ("half is .5", "0.5"),
        ("about 3/4 of it", "0.75"),
        ("12 and 1,2", "2"),
        ("1,2500", "2500"),
        ("that is −4", "-4"),
        ("ends with 7.", "7"),
    ];
    for (reply, value) in cases {
        assert_number(reply, value, Method::LastNumber);
    }
    assert_eq!(number::extract("I don't know.", None), Extraction::NoAnswer);
    assert_eq!(number::extract("", None), Extraction::NoAnswer);
}

#[test]
fn number_values() {
    assert!(same_number("72 eggs", "72"));
    assert_eq!(number::value("2x"), None);
    assert_eq!(number::value("1 and 2"), None);
    // As in LaTeX, spaces between digits are not separators: `1 000` is 1000.
    assert!(same_number("1 000", "1000"));
    assert!(same_number("\\frac{1}{2}", "0.5"));
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
        assert_eq!(latex::extract(reply, None), answer(expected, Method::Boxed), "reply {reply:?}");
    }
}

#[test]
fn math_fallbacks_and_failures() {
    assert_eq!(latex::extract("The answer is $\\frac{1}{2}$.", None), answer("\\frac{1}{2}", Method::AnswerPhrase));
    assert_eq!(latex::extract("My final answer is \\(x = 3\\)", None), answer("x = 3", Method::AnswerPhrase));
    assert_eq!(latex::extract("Answer: 12 cm\nthat's it", None), answer("12 cm", Method::AnswerPhrase));
    assert_eq!(latex::extract("The area is 12.", None), Extraction::NoAnswer);
    assert!(matches!(
        latex::extract("\\boxed{\\frac{1}{2}", None),
        Extraction::Malformed { method: Method::Boxed, .. }
    ));
    assert!(matches!(latex::extract("\\boxed{}", None), Extraction::Malformed { .. }));
    // `\boxed` must be the whole command name.
    assert_eq!(latex::extract("\\boxedfoo{3}", None), Extraction::NoAnswer);
}

#[test]
fn latex_thousands_separators_and_minerva_finals_in_number_replies() {
    assert_number("the answer is $7{,}350$", "7350", Method::AnswerPhrase);
    assert_number("So she pays $16,\\!200$ in all.", "16200", Method::LastNumber);
    assert_number("That is 1{, }000 pages. The answer is 1{, }000.", "1000", Method::AnswerPhrase);
    let minerva = "Final Answer: The final answer is 1,234,567. I hope it is correct.";
    assert_number(minerva, "1234567", Method::AnswerPhrase);
    // A reply cut off by the token limit gets no last-number fallback.
    assert_eq!(number::extract("She has 3 apples and then 4", Some(true)), Extraction::NoAnswer);
    assert_eq!(number::extract("#### 12", Some(true)), answer("12", Method::HashMarker));
}

#[test]
fn math_finals_beyond_the_box() {
    let cases = [
        ("Final Answer: The final answer is 1,234,567. I hope it is correct.", "1,234,567", Method::Minerva),
        ("Final Answer: The final answer is $\\frac{3}{4}$. I hope it is correct.", "\\frac{3}{4}", Method::Minerva),
        ("Thus the answer is $7{,}350$.", "7{,}350", Method::AnswerPhrase),
        ("Answer: $ 42 $", "42", Method::AnswerPhrase),
        ("The roots are $\\boxed{3}$ or $\\boxed{-5}$.", "3, -5", Method::BoxedList),
        ("Rows: $\\boxed{12}$, so the final answer is $36$.", "36", Method::AnswerPhrase),
        ("Hence $y \\le 2$ is the solution.", "y \\le 2", Method::LastMath),
        ("Putting it together:\n\\[ 42 \\]", "42", Method::DisplayMath),
        ("The value is \\( 42 \\).", "42", Method::LastMath),
        (
            "So $M = \\begin{pmatrix} 1 & 2 \\\\ 3 & 4 \\end{pmatrix}$.",
            "M = \\begin{pmatrix} 1 & 2 \\\\ 3 & 4 \\end{pmatrix}",
            Method::LastMath,
        ),
        ("We check both.\nThe intersection point is $(1, -2)$.", "(1, -2)", Method::LastMath),
    ];
    for (reply, expected, method) in cases {
        assert_eq!(latex::extract(reply, None), answer(expected, method), "reply {reply:?}");
    }
    // Fallbacks need a finished reply: none for text cut off mid-sentence
    // or reported truncated, nor for math outside the last sentence.
    assert_eq!(latex::extract("So far $x = 3$ and then we", None), Extraction::NoAnswer);
    assert_eq!(latex::extract("It is \\( 42 \\).", Some(true)), Extraction::NoAnswer);
    assert_eq!(latex::extract("We had $x=3$.\nNothing more to say.", None), Extraction::NoAnswer);
}

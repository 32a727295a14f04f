//! MATH-style LaTeX equivalence: a table of equivalent and non-equivalent
//! pairs for every normalisation `latex::equivalent` performs. Each pair
//! is checked both ways round.

use math::latex::equivalent;

/// Pairs that must be equivalent, grouped by the rule they exercise.
const EQUIVALENT: &[(&str, &str)] = &[
    // fractions
    ("\\frac{1}{2}", "\\dfrac{1}{2}"),
    ("\\tfrac{1}{2}", "\\frac12"),
    ("\\frac12", "0.5"),
    ("\\frac{1}{2}", "1/2"),
    ("\\frac 34", "0.75"),
    ("\\frac9{19}", "\\frac{9}{19}"),
    ("\\frac{270}7", "\\frac{270}{7}"),
    ("-\\frac{24}{25}", "-0.96"),
    ("\\frac{2}{4}", "\\frac{1}{2}"),
    // roots
    ("\\sqrt{2}", "\\sqrt2"),
    ("11\\sqrt2", "11\\sqrt{2}"),
    ("\\frac{\\sqrt{3}}{3}", "\\frac{1}{\\sqrt{3}}"),
    ("2\\sqrt{5}", "\\sqrt{20}"),
    ("\\sqrt[3]{8}", "2"),
    // sizing
    ("\\left( 3, \\frac{\\pi}{2} \\right)", "(3,\\frac{\\pi}{2})"),
    ("\\left[ \\frac{\\pi^2}{8}, \\frac{5 \\pi^2}{4} \\right]", "[\\frac{\\pi^2}{8},\\frac{5\\pi^2}{4}]"),
    ("\\left\\{1,2\\right\\}", "\\{1,2\\}"),
    // text wrappers and units
    ("10\\text{ cm}", "10"),
    ("15\\mbox{ cm}^2", "15"),
    ("864 \\mbox{ inches}^2", "864"),
    ("5.4 \\text{ cents}", "5.4"),
    ("\\frac{270}7\\text{ degrees}", "\\frac{270}{7}"),
    ("12 \\text{square units}", "12"),
    ("\\textbf{12}", "12"),
    ("\\text{Evelyn}", "Evelyn"),
    ("\\text{east}", "east"),
    ("\\mathrm{ellipse}", "\\text{ellipse}"),
    // degrees
    ("75^\\circ", "75"),
    ("75^{\\circ}", "75"),
    ("75°", "75"),
    ("120^\\circ", "120 degrees"),
    // percent and dollars
    ("25\\%", "25"),
    ("25\\%", "25%"),
    ("\\$18.90", "18.90"),
    ("\\$18.90", "18.9"),
    ("\\$36", "36 dollars"),
    // spacing
    ("1\\!+\\!2i", "1+2i"),
    ("3\\,\\sqrt{5}", "3\\sqrt{5}"),
    ("2\\ \\text{cm}", "2"),
    ("p - q", "p-q"),
    // thousands separators
    ("900,\\!000", "900000"),
    ("11,\\! 111,\\! 111,\\! 100", "11111111100"),
    ("10{,}000", "10000"),
    ("\\$32,\\!348", "32348"),
    ("58,500", "58500"),
    ("10,\\!080", "10080"),
    // intervals
    ("(-\\infty, 0]", "(-\\infty,0]"),
    ("(-\\infty, 2) \\cup (3, \\infty)", "(3,\\infty)\\cup(-\\infty,2)"),
    ("\\left(\\frac{3}{5},\\frac{8}{3}\\right]", "(0.6, \\frac{8}{3}]"),
    ("x \\in [-2,7]", "[-2,7]"),
    // tuples and sets
    ("(1, 2)", "(1,2)"),
    ("(15,-29)", "\\left(15, -29\\right)"),
    ("\\{1,2\\}", "\\{2,1\\}"),
    ("\\{1\\pm\\sqrt{5},-2\\}", "\\{-2, 1\\pm\\sqrt{5}\\}"),
    ("-2,1", "1, -2"),
    ("3, 5, 7", "7,5,3"),
    // equations with a single variable on the left
    ("x = 5", "5"),
    ("x=5", "x = 5"),
    ("y = 2x + 3", "2x+3"),
    ("y = -2x", "-2x"),
    ("5x - 7y + 11z + 4 = 0", "5x-7y+11z+4=0"),
    // mixed numbers
    ("2\\frac{1}{2}", "5/2"),
    ("2\\frac{1}{2}", "2.5"),
    ("2\\frac12", "\\frac{5}{2}"),
    ("137 \\frac{1}{2}", "137.5"),
    ("1\\frac{4}{5}", "\\frac{9}{5}"),
    // numeric values
    (".0000672", "6.72 \\times 10^{-5}"),
    ("0.15", ".15"),
    ("12\\pi", "12 \\cdot \\pi"),
    ("2\\sqrt{3}", "2 \\times \\sqrt{3}"),
    ("2^{10}", "1024"),
    ("\\frac{20000}{\\pi}", "6366.197723675814"),
    ("18+2\\pi", "2\\pi+18"),
    // multiple choice
    ("\\text{(C)}", "C"),
    ("\\text{(C)}", "(C)"),
    ("(C)", "\\textbf{(C)}"),
    // symbolic identities
    ("2x+2", "2(x+1)"),
    ("(a+5)(b+2)", "ab+2a+5b+10"),
    ("6r^2-4r-24", "2(3r^2-2r-12)"),
    ("-13x+3", "3-13x"),
    ("8n^2 + 4n + 1", "1+4n+8n^2"),
    ("-2 + 7i", "7i-2"),
    ("\\frac{11+9a}{20}", "\\frac{11}{20}+\\frac{9a}{20}"),
    // matrices
    ("\\begin{pmatrix} -1/3 \\\\ 2/3 \\end{pmatrix}", "\\begin{bmatrix} -\\frac13 \\\\ \\frac{2}{3} \\end{bmatrix}"),
    ("\\begin{pmatrix} -1 & 0 \\\\ 0 & -1 \\end{pmatrix}", "\\begin{pmatrix}-1&0\\\\0&-1\\end{pmatrix}"),
    // delimiters and trailing periods
    ("$\\frac{1}{2}$", "\\frac{1}{2}"),
    ("\\(5\\)", "5."),
    ("\\cot x", "\\cot  x"),
    ("4210_{5}", "4210_5"),
];

/// Pairs that must not be equivalent.
const NOT_EQUIVALENT: &[(&str, &str)] = &[
    // values
    ("\\frac{1}{2}", "\\frac{1}{3}"),
    ("\\frac{1}{3}", "0.333"),
    ("\\sqrt{2}", "2"),
    ("\\sqrt{2}", "1.414"),
    ("6290000", "6287000"),
    ("1450000", "1450001"),
    ("\\pi", "3.14"),
    ("-5", "5"),
    // mixed numbers only from a number followed by a fraction
    ("2\\frac{1}{2}", "1"),
    ("2\\frac{x}{2}", "2+\\frac{x}{2}"),
    // intervals: brackets matter
    ("[1,2)", "(1,2)"),
    ("(1,2]", "(1,2)"),
    ("[1,2]", "(1,2)"),
    ("(-\\infty, 0]", "(-\\infty, 0)"),
    ("(-\\infty, 2) \\cup (3, \\infty)", "(-\\infty, 2) \\cup [3, \\infty)"),
    // tuples are ordered
    ("(1, 2)", "(2, 1)"),
    ("(1,2)", "(1,2,3)"),
    ("(1,2)", "1,2"),
    // tuples with a comma are not thousands
    ("(1,234)", "1234"),
    ("(1,234)", "(1234)"),
    // sets and lists compare all their elements
    ("\\{1,2\\}", "\\{1,3\\}"),
    ("\\{1,2\\}", "\\{1,2,2\\}"),
    ("-2,1", "-2"),
    // units are only dropped after a value
    ("\\text{cm}", "\\text{m}"),
    // equations other than "variable = value" stay whole
    ("5x - 7y + 11z + 4 = 0", "5x - 7y + 11z + 4"),
    ("x + y = 5", "5"),
    // symbolic
    ("2x+2", "2x+1"),
    ("x^2+1", "(x+1)^2"),
    ("2x", "2y"),
    ("p - q", "q - p"),
    ("-2 + 7i", "-2 - 7i"),
    ("\\frac{x^2-1}{x-1}", "x-1"),
    // words are not products of variables
    ("\\text{east}", "\\text{seat}"),
    ("\\text{even}", "\\text{odd}"),
    ("\\text{Evelyn}", "\\text{Navin}"),
    // multiple choice
    ("\\text{(C)}", "B"),
    ("(C)", "(D)"),
    // not understood: never equal unless the strings are
    ("1 \\pm \\sqrt{19}", "1 + \\sqrt{19}"),
    ("204_5", "54"),
    ("\\begin{pmatrix} 1 \\\\ 2 \\end{pmatrix}", "\\begin{pmatrix} 2 \\\\ 1 \\end{pmatrix}"),
    ("\\begin{pmatrix} 1 \\\\ 2 \\end{pmatrix}", "(1, 2)"),
    ("", "0"),
    ("\\frac{1}{0}", "\\frac{2}{0}"),
];

#[test]
fn equivalent_pairs() {
    let failures: Vec<String> = EQUIVALENT
        .iter()
        .flat_map(|&(a, b)| [(a, b), (b, a)])
        .filter(|&(a, b)| !equivalent(a, b, 1e-6))
        .map(|(a, b)| format!("{a:?} should equal {b:?}"))
        .collect();
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn non_equivalent_pairs() {
    let failures: Vec<String> = NOT_EQUIVALENT
        .iter()
        .flat_map(|&(a, b)| [(a, b), (b, a)])
        .filter(|&(a, b)| equivalent(a, b, 1e-6))
        .map(|(a, b)| format!("{a:?} should differ from {b:?}"))
        .collect();
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn every_answer_equals_itself() {
    for &(a, b) in EQUIVALENT.iter().chain(NOT_EQUIVALENT) {
        assert!(equivalent(a, a, 1e-6) && equivalent(b, b, 1e-6), "{a:?} / {b:?}");
    }
}

#[test]
fn the_tolerance_is_relative() {
    assert!(equivalent("3.1415926", "\\pi", 1e-6));
    assert!(!equivalent("3.1416", "\\pi", 1e-6));
    assert!(equivalent("3.1416", "\\pi", 1e-4));
}

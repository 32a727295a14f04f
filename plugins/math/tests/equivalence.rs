//! MATH-style LaTeX equivalence: a table of equivalent and non-equivalent
//! pairs for every normalisation and comparison `latex::compare` performs,
//! written in the spirit of Math-Verify's and Inspect's cases (not copied).
//! Each pair is checked both ways round.

use math::latex::{compare, equivalent};
use math::{Comparison, Outcome};
use std::time::{Duration, Instant};

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
    ("5x - 7y + 11z + 4 = 0", "-10x+14y-22z-8=0"),
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
    // fraction styles
    ("\\cfrac{1}{2}", "0.5"),
    ("\\cfrac{2}{1+\\cfrac{1}{2}}", "\\frac{4}{3}"),
    ("\\tfrac{3}{4}", "0.75"),
    // square roots and their denominators, exactly
    ("\\frac{1}{1+\\sqrt{2}}", "\\sqrt{2}-1"),
    ("\\frac{1}{2-\\sqrt{3}}", "2+\\sqrt{3}"),
    ("\\sqrt{12}", "2\\sqrt{3}"),
    ("\\sqrt{\\frac{1}{3}}", "\\frac{\\sqrt{3}}{3}"),
    ("8^{2/3}", "4"),
    ("\\frac{1}{\\sqrt{2}+\\sqrt{3}}", "\\sqrt{3}-\\sqrt{2}"),
    ("\\sqrt{3+2\\sqrt{2}}", "1+\\sqrt{2}"),
    // plain-text and Unicode spellings
    ("sqrt(2)", "\\sqrt{2}"),
    ("2*sqrt(7)/3", "\\frac{2\\sqrt{7}}{3}"),
    ("pi", "\\pi"),
    ("pi/4", "\\frac{\\pi}{4}"),
    ("3π", "3\\pi"),
    ("√3", "\\sqrt{3}"),
    ("2×3", "6"),
    // trigonometry, logarithms and their identities
    ("\\sec^2 x - \\tan^2 x", "1"),
    ("\\csc x", "\\frac{1}{\\sin x}"),
    ("\\cot x", "\\frac{\\cos x}{\\sin x}"),
    ("\\sin 2x", "2\\sin x\\cos x"),
    ("\\sin^2 x + \\cos^2 x", "1"),
    ("\\cos 2\\theta", "1-2\\sin^2\\theta"),
    ("\\sec \\frac{\\pi}{3}", "2"),
    ("\\cot\\frac{\\pi}{4}", "1"),
    ("\\arctan 1", "\\frac{\\pi}{4}"),
    ("\\sin^{-1} \\frac{1}{2}", "\\frac{\\pi}{6}"),
    ("\\log_2 8", "3"),
    ("\\ln(xy)", "\\ln x + \\ln y"),
    // variables that cancel
    ("y-y", "0"),
    ("x+1-x", "1"),
    ("\\frac{x^2-1}{x-1}", "x+1"),
    // equations: sides swapped, moved or scaled
    ("3=y", "y=3"),
    ("x+2y-4=0", "y=2-\\frac{x}{2}"),
    ("2x+4y=8", "x+2y=4"),
    ("y = 2x + 3", "y - 3 = 2x"),
    // a named left side against the bare value
    ("\\angle ABC = 30^\\circ", "30"),
    ("AB = 5", "5"),
    ("m\\angle A = 45", "45^\\circ"),
    ("f(2) = 7", "7"),
    ("x = 2+3 = 5", "5"),
    ("M = \\begin{pmatrix} 1 & 2 \\\\ 3 & 4 \\end{pmatrix}", "\\begin{bmatrix} 1 & 2 \\\\ 3 & 4 \\end{bmatrix}"),
    ("(x, y) = (1, -2)", "(1,-2)"),
    ("\\frac{1}{2} \\cdot 6 \\cdot 4 = 12", "12"),
    // inequalities flipped, negated, scaled, and as intervals
    ("4 \\geq x", "x \\leq 4"),
    ("-x \\ge -4", "x \\le 4"),
    ("2x < 6", "x < 3"),
    ("x+y \\le 1", "1 \\ge y+x"),
    ("x \\in [1,9]", "1 \\le x \\le 9"),
    ("[1,9]", "1 \\leq x \\leq 9"),
    ("(1,9]", "9 \\ge x > 1"),
    ("y \\le 2", "(-\\infty, 2]"),
    ("x > 3", "(3, \\infty)"),
    ("x < -1 \\text{ or } x > 2", "(-\\infty,-1)\\cup(2,\\infty)"),
    ("x \\geqslant 2", "x \\ge 2"),
    ("x ≤ 4", "x \\le 4"),
    // percent in words
    ("25 pct", "25\\%"),
    ("25 percent", "25"),
    ("25\\text{ percent}", "25\\%"),
    // plus-minus is two values; several answers listed in words
    ("1\\pm\\sqrt{2}", "1+\\sqrt2, 1-\\sqrt2"),
    ("3 \\text{ or } -5", "-5, 3"),
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
    // relations: a different line, the wrong direction or strictness,
    // a coefficient or a sum on the left
    ("x+2y-4=0", "y=2+\\frac{x}{2}"),
    ("x = 5", "y = 5"),
    ("x^2 = 4", "x = 2"),
    ("4 \\geq x", "x \\geq 4"),
    ("x < 4", "x \\le 4"),
    ("-x \\ge -4", "x \\ge 4"),
    ("2x = 10", "10"),
    ("[1,9]", "1 < x \\le 9"),
    ("y \\le 2", "(-\\infty, 2)"),
    ("x > 3", "[3, \\infty)"),
    ("3=y", "y=4"),
    // identities that do not hold
    ("\\sin 2x", "2\\sin x"),
    ("\\sec^2 x", "\\tan^2 x"),
    ("\\sin x", "\\cos x"),
    ("\\sqrt{x^2}", "x"),
    ("y", "0"),
    ("x-y", "0"),
    ("1\\pm\\sqrt{2}", "1+\\sqrt2"),
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

/// Exactly representable values that differ, however little: never equal
/// (no f64 overflow, no relative tolerance between exact values).
const EXACT_BUT_DIFFERENT: &[(&str, &str)] = &[
    ("2^{1000}", "2^{1001}"),
    ("2^{9999}", "2^{9999}+1"),
    ("10^{1000}", "10^{1000}+1"),
    ("9999^{9999}", "9999^{9999}+1"),
    ("9999^{9999}", "9998^{9999}"),
    ("3^{2000}", "3^{2000}\\cdot\\frac{1000000001}{1000000000}"),
    ("1234567890123456789012345678901", "1234567890123456789012345678902"),
    ("1234567890123456789012345678901", "1234567890123456789012345678902.0"),
    ("-1234567890123456789012345678901", "-1234567890123456789012345678900"),
    ("10^{-1000}", "0"),
    ("1+10^{-1000}", "1"),
    ("\\frac{1}{3}", "\\frac{333333333333333333}{1000000000000000000}"),
    ("\\sqrt{2}", "\\frac{14142135623730950488}{10000000000000000000}"),
    ("\\sqrt{1000001}", "1000"),
    ("1450000", "1450001"),
    ("\\exp(\\pi\\sqrt{163})", "262537412640768744"),
    ("\\pi", "\\frac{355}{113}"),
];

#[test]
fn exactly_representable_values_that_differ_are_never_equal() {
    let failures: Vec<String> = EXACT_BUT_DIFFERENT
        .iter()
        .flat_map(|&(a, b)| [(a, b), (b, a)])
        .filter_map(|(a, b)| {
            let verdict = compare(a, b, 1e-6);
            (verdict.outcome != Outcome::Different).then(|| format!("{a:?} vs {b:?}: {verdict:?}"))
        })
        .collect();
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    for (a, b) in [("2^{9999}", "2^{9999}"), ("9999^{9999}", "(9999^{9999})"), ("10^{1000}", "100^{500}")] {
        assert!(equivalent(a, b, 1e-6), "{a} = {b}");
    }
}

#[test]
fn info_names_the_comparison_that_decided() {
    let cases = [
        ("\\frac{1}{2}", "\\frac12", Comparison::Text),
        ("\\frac{2}{4}", "\\frac{1}{2}", Comparison::Exact),
        ("\\frac{\\sqrt{3}}{3}", "\\frac{1}{\\sqrt{3}}", Comparison::Exact),
        ("\\frac{\\pi}{4}", "\\arctan 1", Comparison::HighPrecision),
        ("3.1415926", "\\pi", Comparison::Decimal),
        ("2x+2", "2(x+1)", Comparison::Points { count: 8, exact: true, tolerance: false }),
        ("\\sin^2 x+\\cos^2 x", "1", Comparison::Points { count: 8, exact: false, tolerance: false }),
        ("(1,2)", "\\{1,2\\}", Comparison::Shape),
    ];
    for (a, b, comparison) in cases {
        assert_eq!(compare(a, b, 1e-6).comparison, comparison, "{a} vs {b}");
    }
    assert_eq!(Comparison::Points { count: 8, exact: true, tolerance: false }.as_str(), "random_points_exact");
}

/// Pathological answers end as "undecided" (graded `malformed`) within
/// the work budget: never a hang, never a wasm trap.
#[test]
fn pathological_expressions_are_undecided_quickly() {
    let cases = [
        ("9^{9^{9^{9}}}", "3"),
        ("2^{2^{2^{2^{2^{2}}}}}", "4"),
        ("(1+\\sqrt{2}+\\sqrt{3}+\\sqrt{5}+\\sqrt{7}+\\sqrt{11}+\\sqrt{13})^{60}", "1"),
        ("\\pi^{10^{30}}", "1"),
        ("(x+1)^{100000}", "x^{100000}"),
    ];
    for (a, b) in cases {
        let start = Instant::now();
        let verdict = compare(a, b, 1e-6);
        assert_eq!(verdict.outcome, Outcome::Undecided, "{a} vs {b}");
        assert!(start.elapsed() < Duration::from_secs(2), "{a}: {:?}", start.elapsed());
    }
    let deep = format!("{}x{}", "\\sqrt{".repeat(500), "}".repeat(500));
    assert!(!equivalent(&deep, "1", 1e-6));
}

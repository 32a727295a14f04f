//! Micro-benchmarks of answer extraction and comparison in the `math`
//! plugin, natively, over replies of the shapes real runs produce:
//!
//! - `math_number_extract`: [`number::extract`] (GSM8K) on a bare answer
//!   line, a GSM8K-style worked solution ending in `#### 1250`, a ~2 KB
//!   chain of thought ending in "The final answer is 1,250.", the same
//!   reasoning in a `<think>` block, and with no answer phrase at all (the
//!   last-number fallback);
//! - `math_latex_extract`: [`latex::extract`] (MATH) on a worked solution
//!   ending in `\boxed{\frac{3}{4}}`, and the same in a `<think>` block;
//! - `math_latex_equivalent`: [`latex::equivalent`] on gold/answer pairs
//!   that need each kind of normalisation, and on a wrong answer;
//! - `math_grade`: the whole [`Environment::grade`] the plugin runs for a
//!   GSM8K and a MATH record;
//! - `math_symbolic`: the comparisons that need algebra (seeded random
//!   points, exact or 320-bit): polynomial identities, trig identities,
//!   equations up to a factor, inequalities, and an exact 4-digit power;
//! - after criterion, the distribution of the symbolic path's cost per
//!   call over a corpus of such comparisons (median, 99th percentile,
//!   maximum) and the time a pathological answer takes to be cut off by
//!   the work budget.
//!
//! Run with `cargo bench -p math --bench extract`. Times are per call;
//! throughput is in reply bytes (in elements for equivalence).

use assay_sdk::Environment;
use criterion::{Criterion, Throughput, criterion_group};
use math::{Args, Extraction, Math, Method, State, Style, latex, number};
use std::fmt::Debug;
use std::hint::black_box;
use std::time::{Duration, Instant};

/// A GSM8K-style solution with calculator annotations, as in the dataset.
const GSM8K_SOLUTION: &str = "Each box holds 12 cupcakes, so 25 boxes hold 25 * 12 = <<25*12=300>>300 cupcakes.
She sold 300 - 50 = <<300-50=250>>250 cupcakes.
At $5 each she earned 250 * 5 = $<<250*5=1250>>1250.
#### 1250";

/// A model's step-by-step reasoning on a word problem, ending without an
/// answer phrase (its last number is the answer).
const NUMBER_REASONING: &str = "Let's break this problem down step by step.

First, we need to find out how many cupcakes the bakery made. The bakery fills 25 boxes, and each box holds \
12 cupcakes. So the total number of cupcakes is:
25 boxes * 12 cupcakes per box = 300 cupcakes.

Next, we need to account for the cupcakes that were not sold. The problem says that 50 cupcakes were left at the \
end of the day and were donated to a shelter. Donated cupcakes do not bring in any money, so we subtract them:
300 cupcakes - 50 cupcakes = 250 cupcakes sold.

Now let's look at the price. Each cupcake sells for $5. At first it might seem that the discount of 10% applies \
to every cupcake, but the problem says the discount only applies to orders of 20 or more boxes, and all of the \
sales today were single cupcakes bought at the counter. So there is no discount, and the price stays $5 per \
cupcake.

To double-check, let's compute the revenue in two ways:
1. Directly: 250 cupcakes * $5 = $1,250.
2. By boxes: 250 cupcakes is 250 / 12 = 20.83 boxes, and a full box would cost 12 * $5 = $60, so \
20.83 * $60 = $1,250 (rounding the boxes would give a slightly different number, but the sale is per cupcake, \
so the direct method is the right one).

We should also make sure the question is not asking for profit. It asks how much money the bakery made from \
selling cupcakes, which is the revenue, not the profit, so we do not need to subtract the cost of ingredients, \
which the problem gives as $1.50 per cupcake only as extra information.

Both methods agree, so the bakery made $1,250 from cupcakes today.";

/// A model's step-by-step solution to a MATH problem, in LaTeX, ending
/// before its final statement.
const LATEX_REASONING: &str = "To find the probability that at least one of the two coins shows heads, we first \
find the probability of the complementary event, that both coins show tails.

The probability that one fair coin shows tails is \\(\\frac{1}{2}\\). Since the two coins are independent, the \
probability that both show tails is:
\\[
P(\\text{both tails}) = \\frac{1}{2} \\times \\frac{1}{2} = \\frac{1}{4}
\\]

The event \"at least one head\" is the complement of \"both tails\", so:
\\[
P(\\text{at least one head}) = 1 - P(\\text{both tails}) = 1 - \\frac{1}{4} = \\frac{3}{4}
\\]

We can check this by listing the outcomes: \\(HH\\), \\(HT\\), \\(TH\\) and \\(TT\\). Three of the four equally \
likely outcomes contain at least one head, which gives \\(\\frac{3}{4}\\) again.";

/// Benchmark `run` on each case of one group after checking that it gives
/// the expected output, so every case measures the path it is named for.
fn bench_group<I, O: PartialEq + Debug>(
    c: &mut Criterion,
    group: &str,
    cases: &[(&str, I, O)],
    throughput: impl Fn(&I) -> Throughput,
    run: impl Fn(&I) -> O,
) {
    let mut group = c.benchmark_group(group);
    for (name, input, expected) in cases {
        assert_eq!(&run(input), expected, "{name}");
        group.throughput(throughput(input));
        group.bench_function(*name, |b| b.iter(|| run(black_box(input))));
    }
    group.finish();
}

fn answer(text: &str, method: Method) -> Extraction {
    Extraction::Answer { text: text.into(), method }
}

fn bytes(reply: &impl AsRef<str>) -> Throughput {
    Throughput::Bytes(reply.as_ref().len() as u64)
}

fn bench_number_extract(c: &mut Criterion) {
    let cases = [
        ("short", "The answer is 42.".to_string(), answer("42", Method::AnswerPhrase)),
        ("gsm8k_solution", GSM8K_SOLUTION.to_string(), answer("1250", Method::HashMarker)),
        (
            "chain_of_thought",
            format!("{NUMBER_REASONING}\n\nThe final answer is 1,250."),
            answer("1,250", Method::AnswerPhrase),
        ),
        (
            "think_block",
            format!("<think>\n{NUMBER_REASONING}\n</think>\n\n**Final Answer:** $1,250"),
            answer("1,250", Method::AnswerPhrase),
        ),
        ("fallback_last_number", NUMBER_REASONING.to_string(), answer("1,250", Method::LastNumber)),
    ];
    bench_group(c, "math_number_extract", &cases, bytes, |reply| number::extract(reply, None));
}

fn bench_latex_extract(c: &mut Criterion) {
    let boxed = answer("\\frac{3}{4}", Method::Boxed);
    let cases = [
        (
            "boxed_fraction",
            format!("{LATEX_REASONING}\n\nThe answer is \\(\\boxed{{\\frac{{3}}{{4}}}}\\)."),
            boxed.clone(),
        ),
        ("think_block", format!("<think>\n{LATEX_REASONING}\n</think>\n\n$\\boxed{{\\frac{{3}}{{4}}}}$"), boxed),
    ];
    bench_group(c, "math_latex_extract", &cases, bytes, |reply| latex::extract(reply, None));
}

fn bench_latex_equivalent(c: &mut Criterion) {
    let cases = [
        ("fraction_decimal", ("\\frac{3}{4}", "0.75"), true),
        ("roots", ("\\dfrac{\\sqrt{3}}{2}", "\\frac{\\sqrt3}{2}"), true),
        ("interval", ("\\left(-\\infty, 3\\right]", "(-\\infty,3]"), true),
        ("polynomial", ("(a+5)(b+2)", "ab+2a+5b+10"), true),
        ("wrong_fraction", ("\\frac{3}{4}", "\\frac{4}{3}"), false),
    ];
    bench_group(
        c,
        "math_latex_equivalent",
        &cases,
        |_| Throughput::Elements(1),
        |(answer, gold)| latex::equivalent(answer, gold, 1e-6),
    );
}

fn bench_grade(c: &mut Criterion) {
    let math = Math::new(Args::default()).expect("default args are valid");
    let state = |style, gold: &str| State { style, gold: gold.into(), reference: String::new() };
    let cases = [
        ("gsm8k", (state(Style::Number, "1250"), format!("{NUMBER_REASONING}\n\nThe final answer is 1,250.")), 1.0),
        ("math", (state(Style::Latex, "\\frac{3}{4}"), format!("{LATEX_REASONING}\n\n$\\boxed{{0.75}}$")), 1.0),
    ];
    bench_group(
        c,
        "math_grade",
        &cases,
        |(_, completion)| bytes(completion),
        |(state, completion)| math.grade(state, completion).expect("grades").reward,
    );
}

/// Comparisons that need algebra: name, answer, gold, whether equal.
const SYMBOLIC: [(&str, &str, &str, bool); 14] = [
    ("product_of_sums", "(a+5)(b+2)", "ab+2a+5b+10", true),
    ("binomial_power", "(x+1)^5", "x^5+5x^4+10x^3+10x^2+5x+1", true),
    ("binomial_power_off_by_one", "(x+1)^5", "x^5+5x^4+10x^3+10x^2+5x+2", false),
    ("removable_pole", "\\frac{x^2-1}{x-1}", "x+1", true),
    ("sum_of_fractions", "\\frac{1}{x}+\\frac{1}{y}", "\\frac{x+y}{xy}", true),
    ("pythagorean_identity", "\\sin^2 x+\\cos^2 x", "1", true),
    ("secant_identity", "\\sec^2 x-\\tan^2 x", "1", true),
    ("double_angle", "\\sin 2x", "2\\sin x\\cos x", true),
    ("double_angle_wrong", "\\sin 2x", "2\\sin x", false),
    ("line_up_to_factor", "x+2y-4=0", "y=2-\\frac{x}{2}", true),
    ("flipped_inequality", "4 \\geq x", "x \\leq 4", true),
    ("chain_as_interval", "1 \\le x < 9", "[1, 9)", true),
    ("log_of_product", "\\ln(xy)", "\\ln x+\\ln y", true),
    ("four_digit_power", "9999^{9999}", "9999^{9999}+1", false),
];

fn bench_symbolic(c: &mut Criterion) {
    let cases: Vec<(&str, (&str, &str), bool)> =
        SYMBOLIC.iter().map(|&(name, a, b, equal)| (name, (a, b), equal)).collect();
    bench_group(c, "math_symbolic", &cases, |_| Throughput::Elements(1), |(a, b)| latex::equivalent(a, b, 1e-6));
}

/// Per-call cost of the symbolic path over [`SYMBOLIC`], each pair timed
/// 200 times: median, 99th percentile and maximum; then the time a
/// pathological answer runs before the work budget stops it.
fn symbolic_percentiles() {
    let mut times: Vec<Duration> = Vec::new();
    for (_, a, b, equal) in SYMBOLIC {
        assert_eq!(latex::equivalent(a, b, 1e-6), equal, "{a} vs {b}");
        for _ in 0..200 {
            let start = Instant::now();
            black_box(latex::compare(black_box(a), black_box(b), 1e-6));
            times.push(start.elapsed());
        }
    }
    times.sort_unstable();
    let at = |q: f64| times[((times.len() - 1) as f64 * q) as usize];
    println!(
        "math_symbolic per call over {} calls: median {:?}, p99 {:?}, max {:?}",
        times.len(),
        at(0.5),
        at(0.99),
        times[times.len() - 1]
    );
    // 80 sines, equal at every point: more float work than the budget
    // allows (about a thousand transcendental calls).
    let sines: Vec<String> = (1..=80).map(|k| format!("\\sin {k}x")).collect();
    let sines = sines.join("+");
    let pathological = [
        ("9^{9^{9^{9}}}", "3"),
        ("(1+\\sqrt{2}+\\sqrt{3}+\\sqrt{5}+\\sqrt{7})^{400}", "1"),
        ("(x+1)^{100000}", "x"),
        ("(\\frac{2}{3}+x)^{3000}", "(x+\\frac{2}{3})^{3000}+1"),
        (sines.as_str(), &format!("{sines}+0")),
    ];
    for (a, b) in pathological {
        let start = Instant::now();
        let verdict = latex::compare(a, b, 1e-6);
        let shown: String = a.chars().take(40).collect();
        println!("pathological {shown} vs {b}: {:?} after {:?}", verdict.outcome, start.elapsed());
    }
}

criterion_group!(
    benches,
    bench_number_extract,
    bench_latex_extract,
    bench_latex_equivalent,
    bench_grade,
    bench_symbolic
);

fn main() {
    benches();
    symbolic_percentiles();
    Criterion::default().configure_from_args().final_summary();
}

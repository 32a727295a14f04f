//! Micro-benchmarks of answer extraction in the `mcq` plugin, natively,
//! over replies of the shapes real runs produce: a bare answer line, a
//! ~2 KB chain of thought ending in "The answer is (C).", the same
//! reasoning inside a `<think>` block followed by "**Answer:** C", and a
//! reply with no answer phrase that only the fallbacks read.
//!
//! - `mcq_extract`: [`mcq::extract`] reading the chosen option of a
//!   four-option question;
//! - `mcq_grade_native`: the whole `grade` the plugin runs, through the
//!   SDK's testing harness (the state decoded from JSON as in the plugin);
//!   the host's `calls` bench times the same call in wasm, so the two
//!   together show what the sandbox costs.
//!
//! Run with `cargo bench -p mcq --bench extract`. Times are per reply;
//! throughput is in reply bytes.

use assay_sdk::testing::Harness;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use mcq::{Extraction, Mcq, Method};
use serde_json::json;
use std::fmt::Debug;
use std::hint::black_box;

const QUESTION: &str = "Which organelle is the primary site of ATP synthesis in eukaryotic cells?";
const OPTIONS: [&str; 4] = ["Ribosome", "Golgi apparatus", "Mitochondrion", "Lysosome"];

/// A model's step-by-step reasoning about the question, naming every
/// option (and changing its mind once), without a final answer line.
const REASONING: &str = "Let's think step by step. The question asks which organelle is the primary site of \
ATP synthesis in eukaryotic cells. ATP is produced mainly by oxidative phosphorylation, so we need the organelle \
that hosts the electron transport chain and ATP synthase.

(A) Ribosome: ribosomes translate messenger RNA into proteins. They consume GTP and ATP during translation and \
aminoacyl-tRNA charging, but they do not make ATP. So (A) is not correct.

(B) Golgi apparatus: the Golgi modifies, sorts and packages proteins and lipids coming from the endoplasmic \
reticulum. It has no respiratory enzymes, so it cannot be the main site of ATP synthesis. (B) is wrong.

(D) Lysosome: lysosomes digest macromolecules with acid hydrolases and keep an acidic lumen with a proton pump \
that uses ATP rather than making it. At first one might think the proton gradient could drive synthesis, as in \
the answer (D), but the V-type ATPase of the lysosome runs in the hydrolysis direction. So (D) is not it either.

(C) Mitochondrion: the inner mitochondrial membrane carries complexes I to IV of the electron transport chain. \
They pump protons into the intermembrane space, and ATP synthase (complex V) lets them flow back into the matrix, \
phosphorylating ADP to ATP. Glycolysis in the cytosol yields only 2 ATP per glucose, while oxidative \
phosphorylation yields roughly 26 to 30 ATP per glucose, so the mitochondrion is by far the main source. In \
plants, chloroplasts also make ATP during the light reactions, but that ATP is used for the Calvin cycle, and \
the question asks about eukaryotic cells in general, where respiration is the common pathway.

Checking once more: ribosomes use ATP, the Golgi uses ATP for vesicle transport, and lysosomes use ATP to keep \
their pH. Only the mitochondrion both hosts the respiratory chain and ATP synthase, which settles \
it.";

/// The replies measured, each choosing the correct option (C), with how
/// it is found, so each one measures the path it is named for.
fn replies() -> [(&'static str, String, Method); 4] {
    [
        ("short", "The answer is (C).".to_string(), Method::AnswerPhrase),
        ("chain_of_thought", format!("{REASONING}\n\nThe answer is (C)."), Method::AnswerPhrase),
        ("think_block", format!("<think>\n{REASONING}\n</think>\n\n**Answer:** C"), Method::AnswerPhrase),
        ("fallback_letter_mention", format!("{REASONING} So we pick (C)."), Method::LetterMention),
    ]
}

/// Time `run` on every reply in one group, after checking that it gives
/// `expected(method)` for each.
fn bench_replies<O: PartialEq + Debug>(
    c: &mut Criterion,
    group: &str,
    run: impl Fn(&str) -> O,
    expected: impl Fn(Method) -> O,
) {
    let mut group = c.benchmark_group(group);
    for (name, reply, method) in replies() {
        assert_eq!(run(&reply), expected(method), "{name}");
        group.throughput(Throughput::Bytes(reply.len() as u64));
        group.bench_function(name, |b| b.iter(|| run(black_box(&reply))));
    }
    group.finish();
}

fn bench_extract(c: &mut Criterion) {
    let options: Vec<String> = OPTIONS.map(String::from).to_vec();
    bench_replies(
        c,
        "mcq_extract",
        |reply| mcq::extract(reply, &options, None),
        |method| Extraction::Answer { index: 2, method },
    );
}

fn bench_grade_native(c: &mut Criterion) {
    let env = Harness::<Mcq>::new(json!({})).expect("default args");
    let record = json!({"id": "q1", "question": QUESTION, "choices": OPTIONS, "answer": "C"});
    let prepared = env.prepare(record, 7).expect("prepare");
    bench_replies(c, "mcq_grade_native", |reply| env.grade(&prepared, reply).expect("grade").reward, |_| 1.0);
}

criterion_group!(benches, bench_extract, bench_grade_native);
criterion_main!(benches);

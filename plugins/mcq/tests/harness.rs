//! The `mcq` environment driven through `assay_sdk::testing::Harness`, the
//! JSON path the host uses: field mapping, arguments, shuffling, oracle
//! and grading.

use assay_sdk::testing::{Harness, Prepared};
use assay_sdk::{Environment, Error, ParseStatus, Reply};
use mcq::{Mcq, State};
use serde_json::{Value, json};

fn env(args: Value) -> Harness<Mcq> {
    Harness::new(args).expect("valid args")
}

fn state(prepared: &Prepared) -> State {
    serde_json::from_str(&prepared.state).expect("state is JSON")
}

/// A question with `n` options `opt0`, `opt1`, … and gold answer `gold`.
fn record(id: &str, n: usize, gold: usize) -> Value {
    let choices: Vec<String> = (0..n).map(|i| format!("opt{i}")).collect();
    json!({"id": id, "question": format!("Question {id}?"), "choices": choices, "answer": gold})
}

fn shuffled(seed: u64) -> Harness<Mcq> {
    env(json!({"shuffle_answers": true, "shuffle_seed": seed}))
}

// ---- field mapping ----

#[test]
fn choices_as_a_list_with_a_letter_answer() {
    let p =
        env(json!({})).prepare(json!({"question": "Q?", "choices": ["w", "x", "y", "z"], "answer": "C"}), 0).unwrap();
    assert!(p.text().contains("Q?\n\nA. w\nB. x\nC. y\nD. z"), "{}", p.text());
    assert!(p.text().contains("(A, B, C or D)"), "{}", p.text());
    assert_eq!(state(&p).gold, 'C');
}

#[test]
fn options_list_is_detected_too() {
    let p = env(json!({})).prepare(json!({"question": "Q?", "options": ["w", "x"], "answer": 1}), 0).unwrap();
    assert_eq!(state(&p).gold, 'B');
    assert_eq!(state(&p).options, ["w", "x"]);
}

#[test]
fn choices_as_letter_columns() {
    let r = json!({"question": "Q?", "A": "w", "B": "x", "C": "y", "D": "z", "answer": "D"});
    let p = env(json!({})).prepare(r, 0).unwrap();
    assert_eq!(state(&p).options, ["w", "x", "y", "z"]);
    assert_eq!(state(&p).gold, 'D');
}

#[test]
fn choices_as_mmlu_csv_columns_with_a_digit_string_answer() {
    // MMLU's CSV shape: every value is a string, `answer` a 0-based index.
    let r = json!({"question": "Q?", "choice0": "w", "choice1": "x", "choice2": "y", "choice3": "z", "answer": "2"});
    let p = env(json!({})).prepare(r, 0).unwrap();
    assert_eq!(state(&p).options, ["w", "x", "y", "z"]);
    assert_eq!(state(&p).gold, 'C');
}

#[test]
fn answers_as_letter_int_and_digit_string() {
    let h = env(json!({}));
    for (answer, gold) in
        [(json!("B"), 'B'), (json!("b"), 'B'), (json!(3), 'D'), (json!("0"), 'A'), (json!(" 2 "), 'C')]
    {
        let p = h.prepare(json!({"question": "Q?", "choices": ["w", "x", "y", "z"], "answer": answer}), 0).unwrap();
        assert_eq!(state(&p).gold, gold, "answer {answer}");
    }
    let one_based = env(json!({"answer_index_base": 1}));
    let p = one_based.prepare(json!({"question": "Q?", "choices": ["w", "x", "y", "z"], "answer": "1"}), 0).unwrap();
    assert_eq!(state(&p).gold, 'A');
}

#[test]
fn explicit_field_names() {
    let args = json!({"question_field": "stem", "choice_fields": ["o1", "o2", "o3"], "answer_field": "key"});
    let p = env(args).prepare(json!({"stem": "S?", "o1": "w", "o2": "x", "o3": "y", "key": "C"}), 0).unwrap();
    assert!(p.text().contains("S?") && p.text().contains("C. y"));
    let args = json!({"choices_field": "alts"});
    let p = env(args).prepare(json!({"question": "Q?", "alts": ["w", "x"], "choices": 5, "answer": "A"}), 0).unwrap();
    assert_eq!(state(&p).options, ["w", "x"]);
}

#[test]
fn bad_records_name_the_field() {
    let h = env(json!({}));
    let bad = |r: Value| match h.prepare(r, 0).unwrap_err() {
        Error::BadRecord(message) => message,
        other => panic!("expected bad-record, got {other:?}"),
    };
    let four = json!(["w", "x", "y", "z"]);
    assert_eq!(bad(json!({"question": "Q?", "choices": four})), "field `answer`: missing");
    assert_eq!(bad(json!({"choices": four, "answer": "A"})), "field `question`: missing");
    assert_eq!(
        bad(json!({"question": "Q?", "choices": four, "answer": 4})),
        "field `answer`: index 4 (answer_index_base 0) is out of range for 4 options"
    );
    assert_eq!(
        bad(json!({"question": "Q?", "choices": four, "answer": "E"})),
        "field `answer`: letter E is out of range for 4 options"
    );
    assert_eq!(
        bad(json!({"question": "Q?", "choices": four, "answer": "yes"})),
        "field `answer`: expected a letter, an index or a string of digits, got \"yes\""
    );
    assert_eq!(
        bad(json!({"question": 3, "choices": four, "answer": "A"})),
        "field `question`: expected a string, got 3"
    );
    assert_eq!(
        bad(json!({"question": "Q?", "choices": "w", "answer": "A"})),
        "field `choices`: expected a list of strings, got \"w\""
    );
    assert_eq!(
        bad(json!({"question": "Q?", "choices": ["w", {}], "answer": "A"})),
        "field `choices[1]`: expected a string, got {}"
    );
    assert!(bad(json!({"question": "Q?", "answer": "A"})).starts_with("field `choices`: missing"));
    let columns = env(json!({"choice_fields": ["A", "B"]}));
    let err = columns.prepare(json!({"question": "Q?", "A": "w", "answer": "A"}), 0).unwrap_err();
    assert_eq!(err, Error::bad_record("field `B`: missing"));
}

// ---- arguments ----

#[test]
fn bad_args_name_the_field() {
    let bad = |args: Value| match Harness::<Mcq>::new(args) {
        Err(Error::BadArgs(message)) => message,
        Err(other) => panic!("expected bad-args, got {other:?}"),
        Ok(_) => panic!("accepted"),
    };
    assert_eq!(bad(json!({"prompt_template": "{choices}"})), "field `prompt_template`: must contain `{question}`");
    assert!(bad(json!({"prompt_template": "{question} {choice}"})).contains("unknown placeholder `{choice}`"));
    assert!(bad(json!({"shuffle_answers": "maybe"})).starts_with("field `shuffle_answers`"));
    assert!(bad(json!({"shufle_answers": true})).contains("unknown field `shufle_answers`"));
    assert!(bad(json!({"shuffle_seed": 3})).starts_with("field `shuffle_seed`"));
    assert!(bad(json!({"choices_field": "c", "choice_fields": ["a"]})).starts_with("field `choice_fields`"));
    assert!(bad(json!({"choice_fields": []})).starts_with("field `choice_fields`"));
    assert!(bad(json!({"answer_index_base": -1})).starts_with("field `answer_index_base`"));
    let gold = json!({"choice_fields": ["Right", "Wrong"], "gold_choice_field": "Right", "shuffle_answers": true});
    assert!(Harness::<Mcq>::new(gold.clone()).is_ok());
    let mut unshuffled = gold.clone();
    unshuffled["shuffle_answers"] = json!(false);
    assert_eq!(bad(unshuffled), "field `gold_choice_field`: needs `shuffle_answers: true`");
    let mut elsewhere = gold;
    elsewhere["gold_choice_field"] = json!("Other");
    assert_eq!(bad(elsewhere), "field `gold_choice_field`: `Other` must be one of `choice_fields`");
}

#[test]
fn every_documented_default_is_accepted() {
    let description = Mcq::describe();
    let names: Vec<&str> = description.args.iter().map(|a| a.name.as_str()).collect();
    let expected = [
        "question_field",
        "choices_field",
        "choice_fields",
        "answer_field",
        "answer_index_base",
        "gold_choice_field",
        "prompt_template",
        "system_prompt",
        "description",
        "subject_field",
        "shuffle_answers",
        "shuffle_seed",
        "mode",
        "continuations",
    ];
    assert_eq!(names, expected);
    let mut all = serde_json::Map::new();
    for arg in &description.args {
        let default: Value =
            serde_json::from_str(arg.default_json.as_deref().expect("every arg has a default")).unwrap();
        assert!(!arg.description.is_empty());
        Harness::<Mcq>::new(json!({ arg.name.clone(): default.clone() }))
            .unwrap_or_else(|e| panic!("{}: {e}", arg.name));
        all.insert(arg.name.clone(), default);
    }
    let p = Harness::<Mcq>::new(Value::Object(all)).unwrap().prepare(record("x", 4, 0), 0).unwrap();
    assert_eq!(p.text(), env(json!({})).prepare(record("x", 4, 0), 0).unwrap().text());
}

#[test]
fn custom_template_and_system_prompt() {
    let args = json!({"prompt_template": "{question} | {letters} | {choices}", "system_prompt": "Be brief."});
    let p = env(args).prepare(json!({"question": "Q?", "choices": ["w", "x"], "answer": "A"}), 0).unwrap();
    assert_eq!(p.prompt.messages.len(), 2);
    assert_eq!(p.prompt.messages[0].content, "Be brief.");
    assert_eq!(p.prompt.messages[1].content, "Q? | A or B | A. w\nB. x");
}

// ---- shuffling ----

#[test]
fn a_shuffle_is_a_permutation_and_the_gold_answer_follows() {
    for (i, seed) in (0..50).enumerate() {
        let gold = i % 5;
        let p = shuffled(seed).prepare(record(&format!("q{i}"), 5, gold), 0).unwrap();
        let s = state(&p);
        let mut sorted = s.permutation.clone();
        sorted.sort();
        assert_eq!(sorted, [0, 1, 2, 3, 4]);
        for (new, &old) in s.permutation.iter().enumerate() {
            assert_eq!(s.options[new], format!("opt{old}"));
        }
        assert_eq!(s.options[usize::from(s.gold as u8 - b'A')], format!("opt{gold}"));
    }
}

#[test]
fn a_seeded_shuffle_is_reproducible_and_ignores_the_host_seed() {
    let a = shuffled(1618).prepare(record("q1", 10, 3), 1).unwrap();
    let b = shuffled(1618).prepare(record("q1", 10, 3), 99).unwrap();
    assert_eq!(a.text(), b.text());
    assert_eq!(a.state, b.state);
}

#[test]
fn different_seeds_give_different_orders() {
    let differs = (0..10).any(|i| {
        let r = record(&format!("q{i}"), 4, 0);
        shuffled(1618).prepare(r.clone(), 0).unwrap().text() != shuffled(9331).prepare(r, 0).unwrap().text()
    });
    assert!(differs);
    let moved =
        (0..20).filter(|i| state(&shuffled(1618).prepare(record(&format!("q{i}"), 4, 0), 0).unwrap()).gold != 'A');
    assert!(moved.count() >= 10, "the gold answer rarely moved");
}

#[test]
fn without_a_seed_the_host_rng_decides() {
    let h = env(json!({"shuffle_answers": true}));
    let r = record("q1", 10, 0);
    assert_eq!(h.prepare(r.clone(), 5).unwrap().text(), h.prepare(r.clone(), 5).unwrap().text());
    assert_ne!(h.prepare(r.clone(), 5).unwrap().text(), h.prepare(r, 6).unwrap().text());
}

#[test]
fn the_shuffle_key_is_the_id_not_the_position() {
    let r = record("fixed-id", 6, 2);
    let mut renamed = r.clone();
    renamed["question"] = json!("Reworded?");
    let (a, b) = (shuffled(7).prepare(r, 0).unwrap(), shuffled(7).prepare(renamed, 0).unwrap());
    assert_eq!(state(&a).permutation, state(&b).permutation);
}

#[test]
fn anchored_options_stay_in_place() {
    let r = json!({"id": "a", "question": "Q?", "choices": ["w", "x", "y", "None of the above"], "answer": "D"});
    let r2 = json!({"id": "b", "question": "Q?", "choices": ["w", "All of these", "x", "y", "z"], "answer": 0});
    for seed in 0..30 {
        let s = state(&shuffled(seed).prepare(r.clone(), 0).unwrap());
        assert_eq!(s.options[3], "None of the above");
        assert_eq!(s.gold, 'D');
        let s2 = state(&shuffled(seed).prepare(r2.clone(), 0).unwrap());
        assert_eq!((s2.permutation[0], s2.permutation[1]), (0, 1), "a run of one and the anchor stay put");
    }
    let moved = (0..30).any(|seed| state(&shuffled(seed).prepare(r.clone(), 0).unwrap()).permutation != [0, 1, 2, 3]);
    assert!(moved, "the options before the anchor are still shuffled");
}

#[test]
fn records_naming_other_letters_are_not_shuffled() {
    for last in ["A and B", "Both A and C", "A or C", "A, B and C"] {
        let r = json!({"id": last, "question": "Q?", "choices": ["w", "x", "y", last], "answer": "B"});
        for seed in 0..20 {
            let s = state(&shuffled(seed).prepare(r.clone(), 0).unwrap());
            assert_eq!(s.permutation, [0, 1, 2, 3], "{last}");
        }
    }
}

// ---- grading ----

#[test]
fn the_oracle_scores_full_marks_with_and_without_shuffling() {
    for args in [json!({}), json!({"shuffle_answers": true}), json!({"shuffle_answers": true, "shuffle_seed": 1})] {
        let h = env(args.clone());
        for i in 0..40 {
            let score = h.oracle(record(&format!("q{i}"), 2 + i % 9, i % 2), i as u64).unwrap();
            assert_eq!(score.reward, 1.0, "{args}");
            assert_eq!(score.parse_status, ParseStatus::Ok);
        }
    }
}

#[test]
fn the_reference_names_the_shuffled_gold_letter() {
    let h = shuffled(3);
    let p = h.prepare(record("q1", 4, 0), 0).unwrap();
    assert_eq!(h.reference(&p).unwrap().unwrap(), format!("The answer is ({}).", state(&p).gold));
}

#[test]
fn empty_and_garbage_completions_score_zero() {
    let h = env(json!({}));
    let p = h.prepare(record("q1", 4, 1), 0).unwrap();
    for completion in ["", "asdf qwerty zxcv", "🙂🙂🙂", "{\"foo\": 1}"] {
        let score = h.grade(&p, completion).unwrap();
        assert_eq!(score.reward, 0.0, "{completion:?}");
        assert_eq!(score.parse_status, ParseStatus::NoAnswer, "{completion:?}");
        assert_eq!(score.parsed_answer, None);
    }
}

#[test]
fn hedges_are_reported_apart_and_counted() {
    let h = env(json!({}));
    let p = h.prepare(record("q1", 4, 1), 0).unwrap();
    let hedged = h.grade(&p, "The answer is (B) or (C).").unwrap();
    assert_eq!((hedged.reward, hedged.parse_status, hedged.parsed_answer.as_deref()), (0.0, ParseStatus::Hedged, None));
    assert_eq!(hedged.info["reason"], "hedge");
    let metric = |score: &assay_sdk::Score| score.metrics.iter().find(|(n, _)| n == "hedged").map(|(_, v)| *v);
    assert_eq!(metric(&hedged), Some(1.0));
    assert_eq!(metric(&h.grade(&p, "The answer is (B).").unwrap()), Some(0.0));
}

/// The reply's finish reason reaches the grader: a reply cut off at the
/// length limit gets no credit from a dangling "so option B", one that
/// stopped does, and one whose ending is unknown is judged by its text.
#[test]
fn a_reply_cut_off_at_the_length_limit_gets_no_text_fallback() {
    let h = env(json!({}));
    let p = h.prepare(record("q1", 4, 1), 0).unwrap();
    let text = "Let me compare the four options one by one against the facts given. Option A fails the first test, so option B";
    let reply = |finish: Option<&str>| Reply { finish_reason: finish.map(String::from), ..Reply::text(text) };
    let cut = h.reply(&p, reply(Some("length"))).unwrap();
    assert_eq!((cut.reward, cut.parse_status), (0.0, ParseStatus::NoAnswer), "{cut:?}");
    let unknown = h.reply(&p, reply(None)).unwrap();
    assert_eq!(unknown.reward, 0.0, "no sentence end: treated as cut off ({unknown:?})");
    let finished = h.reply(&p, Reply { content: format!("{text}."), ..reply(Some("stop")) }).unwrap();
    assert_eq!((finished.reward, finished.parsed_answer.as_deref()), (1.0, Some("B")), "{finished:?}");
}

#[test]
fn scores_carry_the_answer_gold_and_method() {
    let h = env(json!({}));
    let p = h.prepare(record("q1", 4, 1), 0).unwrap();
    let right = h.grade(&p, "I think the answer is (B).").unwrap();
    assert_eq!((right.reward, right.parsed_answer.as_deref()), (1.0, Some("B")));
    assert_eq!(right.info["gold"], "B");
    assert_eq!(right.info["method"], "answer_phrase");
    let wrong = h.grade(&p, "\\boxed{C}").unwrap();
    assert_eq!((wrong.reward, wrong.parsed_answer.as_deref(), wrong.parse_status), (0.0, Some("C"), ParseStatus::Ok));
    assert_eq!(wrong.info["method"], "boxed");
    let malformed = h.grade(&p, "<answer>maybe</answer>").unwrap();
    assert_eq!((malformed.reward, malformed.parse_status), (0.0, ParseStatus::Malformed));
    assert_eq!(malformed.info["unreadable"], "maybe");
    assert_eq!(h.grade(&p, "The answer is (E).").unwrap().parse_status, ParseStatus::Malformed);
}

#[test]
fn shuffled_scores_record_the_permutation() {
    let h = shuffled(11);
    let p = (0..20)
        .map(|i| h.prepare(record(&format!("q{i}"), 4, 0), 0).unwrap())
        .find(|p| state(p).permutation != [0, 1, 2, 3]);
    let p = p.expect("some record is shuffled");
    let score = h.grade(&p, "The answer is (A).").unwrap();
    assert_eq!(score.info["permutation"], json!(state(&p).permutation));
}

/// `mode: loglikelihood`: the continuations are scored, `acc` takes the
/// most likely and `acc_norm` the most likely per character; exemplars come
/// first, each with its gold continuation.
#[test]
fn loglikelihood_mode_scores_continuations_with_acc_and_acc_norm() {
    use assay_sdk::{Action, ContinuationScore, Event};
    let h = env(json!({"mode": "loglikelihood", "continuations": "options"}));
    let record =
        json!({"id": "q", "question": "Capital of France?", "choices": ["Paris", "Lyon", "Marseille"], "answer": 0});
    let shot =
        json!({"id": "s", "question": "Capital of Spain?", "choices": ["Madrid", "Seville", "Bilbao"], "answer": 0});
    let step = h.begin(record.clone(), std::slice::from_ref(&shot), false, 0).unwrap();
    let Action::ScoreContinuations(request) = &step.action else { panic!("{:?}", step.action) };
    assert_eq!(
        request.context,
        "Capital of Spain?\nA. Madrid\nB. Seville\nC. Bilbao\nAnswer: Madrid\n\nCapital of France?\nA. Paris\nB. Lyon\nC. Marseille\nAnswer:"
    );
    assert_eq!(request.continuations, [" Paris", " Lyon", " Marseille"]);
    // Paris is likelier in total, Marseille per character (-1 against -1.2):
    // acc hits, acc_norm misses.
    let scores = [(-6.0, true), (-9.5, false), (-9.0, false)].map(|(logprob, greedy)| ContinuationScore {
        logprob,
        tokens: 2,
        greedy,
    });
    let Action::Finish(score) = h.advance(&step.state, Event::ContinuationScores(scores.to_vec())).unwrap().action
    else {
        panic!("no finish")
    };
    let metric = |name: &str| score.metrics.iter().find(|(n, _)| n == name).map(|(_, v)| *v);
    assert_eq!((score.reward, metric("acc"), metric("acc_norm")), (1.0, Some(1.0), Some(0.0)));
    assert_eq!(score.parsed_answer.as_deref(), Some("A"));

    // The reference is the gold continuation, and grades full marks.
    let letters = env(json!({"mode": "loglikelihood"}));
    let prepared_step = letters.begin(record, &[], false, 0).unwrap();
    let Action::ScoreContinuations(request) = &prepared_step.action else { panic!() };
    assert_eq!(request.continuations, [" A", " B", " C"]);
    assert!(request.context.ends_with("C. Marseille\nAnswer:"));
}

/// `description` starts the prompt once, before the exemplars, naming the
/// record's subject as lm-evaluation-harness's MMLU tasks do; in generate
/// mode it starts the first user message.
#[test]
fn description_starts_the_prompt_once() {
    use assay_sdk::Action;
    let description = "The following are multiple choice questions (with answers) about {subject}.\n\n";
    let args = json!({"mode": "loglikelihood", "description": description});
    let record = |id: &str| json!({"id": id, "subject": "high_school_physics", "question": format!("{id}?"), "choices": ["x", "y"], "answer": 1});
    let step = env(args).begin(record("q"), &[record("s1"), record("s2")], false, 0).unwrap();
    let Action::ScoreContinuations(request) = &step.action else { panic!("{:?}", step.action) };
    assert_eq!(
        request.context,
        "The following are multiple choice questions (with answers) about high school physics.\n\n\
         s1?\nA. x\nB. y\nAnswer: B\n\ns2?\nA. x\nB. y\nAnswer: B\n\nq?\nA. x\nB. y\nAnswer:"
    );

    let generate = env(json!({"description": "About {subject}.\n", "system_prompt": "Be brief."}));
    let p = generate.prepare_fewshot(record("q"), &[record("s1")], true, 0).unwrap();
    let users: Vec<&str> =
        p.prompt.messages.iter().filter(|m| m.role == assay_sdk::Role::User).map(|m| m.content.as_str()).collect();
    assert!(users[0].starts_with("About high school physics.\nAnswer the following"), "{}", users[0]);
    assert!(users[0].contains("s1?"), "{}", users[0]);
    assert!(!users[1].contains("About"), "{}", users[1]);

    let missing = env(json!({"description": "About {subject}."}))
        .prepare(json!({"question": "q", "choices": ["x"], "answer": 0}), 0);
    assert!(missing.unwrap_err().to_string().contains("field `subject`"));
    let typo = Harness::<Mcq>::new(json!({"description": "About {subjects}."})).err().unwrap();
    assert!(typo.to_string().contains("unknown placeholder `{subjects}`"), "{typo}");
}

/// As lm-eval scores multiple choice: `acc_norm` divides by the choice's
/// characters without the space before it (not bytes: " é" is 3 bytes,
/// "é" 1 character), ties go to the first option (numpy's `argmax`), and
/// whitespace around the question is dropped (`question.strip()`).
#[test]
fn loglikelihood_scores_as_lm_eval_does() {
    use assay_sdk::{Action, ContinuationScore, Event};
    let h = env(json!({"mode": "loglikelihood", "continuations": "options"}));
    let record = |answer: usize| json!({"id": "q", "question": "  Which?\n", "choices": ["é", "ab"], "answer": answer});
    let finish = |answer: usize, logprobs: [f64; 2]| {
        let step = h.begin(record(answer), &[], false, 0).unwrap();
        let Action::ScoreContinuations(request) = &step.action else { panic!("{:?}", step.action) };
        assert_eq!(request.context, "Which?\nA. é\nB. ab\nAnswer:");
        let scores = logprobs.map(|logprob| ContinuationScore { logprob, tokens: 1, greedy: false }).to_vec();
        let Action::Finish(score) = h.advance(&step.state, Event::ContinuationScores(scores)).unwrap().action else {
            panic!("no finish")
        };
        let metric = |name: &str| score.metrics.iter().find(|(n, _)| n == name).map(|(_, v)| *v).unwrap();
        (score.parsed_answer.clone().unwrap(), metric("acc"), metric("acc_norm"))
    };
    // é is likelier in total (-1.5), ab per character (-1.25; per byte of
    // " é" and " ab" é would win again).
    assert_eq!(finish(1, [-1.5, -2.5]), ("A".to_string(), 0.0, 1.0));
    // A tie: the first option, for acc and acc_norm alike.
    assert_eq!(finish(0, [-2.0, -2.0]), ("A".to_string(), 1.0, 0.0));
    assert_eq!(finish(0, [-1.0, -2.0]), ("A".to_string(), 1.0, 1.0));
}

//! The `judge` environment driven through `assay_sdk::testing::Harness`,
//! the JSON path the host uses: the model is asked, then the judge, and
//! the judge's replies become rewards.

use assay_sdk::testing::Harness;
use assay_sdk::{Action, Event, JudgeRequest, ParseStatus, Reply, Score};
use judge::Judge;
use serde_json::{Value, json};

fn env(args: Value) -> Harness<Judge> {
    Harness::new(args).expect("valid args")
}

fn record() -> Value {
    json!({
        "question": "What is the first-line drug for uncomplicated hypertension in a 50-year-old?",
        "answer": "A thiazide diuretic, an ACE inhibitor, an ARB or a calcium-channel blocker.",
        "baseline": "Beta blockers.",
    })
}

/// The model answers `answer`; the judge request that follows.
fn judge_request(env: &Harness<Judge>, answer: &str) -> (JudgeRequest, String) {
    let prepared = env.prepare(record(), 0).unwrap();
    let step = env.advance(&prepared.state, Event::ModelReply(Reply::text(answer))).unwrap();
    match step.action {
        Action::AskJudge(request) => (request, step.state),
        other => panic!("expected ask-judge, got {other:?}"),
    }
}

fn finish(step: assay_sdk::Step<String>) -> Score {
    match step.action {
        Action::Finish(score) => score,
        other => panic!("expected finish, got {other:?}"),
    }
}

#[test]
fn the_model_sees_the_question_and_the_judge_the_answer_and_reference() {
    let env = env(json!({"reference_field": "answer"}));
    let prepared = env.prepare(record(), 0).unwrap();
    assert_eq!(prepared.text(), record()["question"].as_str().unwrap());
    let (request, _) = judge_request(&env, "Start a thiazide.");
    let text = &request.messages.last().unwrap().content;
    assert!(text.contains("[Question]\nWhat is the first-line drug"), "{text}");
    assert!(text.contains("[Reference answer]\nA thiazide diuretic"), "{text}");
    assert!(text.contains("[Submitted answer]\nStart a thiazide."), "{text}");
    assert!(!text.contains("[Rubric]"), "no rubric was given: {text}");
    assert_eq!(request.max_tokens, Some(1024));
}

#[test]
fn grades_map_to_rewards_and_a_missing_grade_is_ungraded() {
    let env = env(json!({"reference_field": "answer", "partial_credit": 0.25}));
    let (_, state) = judge_request(&env, "Start a thiazide.");
    let grade = |reply: &str| finish(env.advance(&state, Event::JudgeReply(Reply::text(reply))).unwrap());
    let correct = grade("The answer names a thiazide.\nGRADE: C");
    assert_eq!(
        (correct.reward, correct.parse_status, correct.parsed_answer.as_deref()),
        (1.0, ParseStatus::Ok, Some("C"))
    );
    assert_eq!(grade("Partly.\nGRADE: P").reward, 0.25);
    assert_eq!(grade("Wrong drug class.\nGRADE: I").reward, 0.0);
    let ungraded = grade("The submitted answer is reasonable.");
    assert_eq!((ungraded.reward, ungraded.parse_status), (0.0, ParseStatus::Ungraded));
}

#[test]
fn ratings_map_linearly_from_one_to_ten() {
    let env = env(json!({"scale": "1-10", "rubric": "Correct drug class; mentions monitoring."}));
    let (request, state) = judge_request(&env, "Start a thiazide.");
    assert!(request.messages[0].content.contains("[Rubric]\nCorrect drug class"));
    let rate = |reply: &str| finish(env.advance(&state, Event::JudgeReply(Reply::text(reply))).unwrap());
    assert_eq!(rate("Rating: [[10]]").reward, 1.0);
    assert_eq!(rate("Rating: [[1]]").reward, 0.0);
    let seven = rate("Solid.\nRating: [[7]]");
    assert!((seven.reward - 6.0 / 9.0).abs() < 1e-12);
    assert_eq!(seven.metrics.iter().find(|m| m.0 == "rating").map(|m| m.1), Some(7.0));
    assert_eq!(rate("Rating: [[12]]").parse_status, ParseStatus::Ungraded);
}

/// The judge's two pairwise requests, answered with `first` then `second`.
fn pairwise(first: &str, second: &str) -> (Score, [JudgeRequest; 2]) {
    let env = env(json!({"baseline_field": "baseline"}));
    let (request_1, state) = judge_request(&env, "Thiazides.");
    let step = env.advance(&state, Event::JudgeReply(Reply::text(first))).unwrap();
    let Action::AskJudge(request_2) = step.action else {
        panic!("expected the swapped request, got {:?}", step.action)
    };
    let score = finish(env.advance(&step.state, Event::JudgeReply(Reply::text(second))).unwrap());
    (score, [request_1, request_2])
}

#[test]
fn pairwise_asks_both_orders_and_scores_the_model_not_the_position() {
    let (win, [first, second]) = pairwise("[[A]]", "[[B]]");
    let (a_first, b_first) = (&first.messages[0].content, &second.messages[0].content);
    assert!(a_first.contains("[Response A]\nThiazides.") && a_first.contains("[Response B]\nBeta blockers."));
    assert!(b_first.contains("[Response A]\nBeta blockers.") && b_first.contains("[Response B]\nThiazides."));
    assert_eq!((win.reward, win.parsed_answer.as_deref()), (1.0, Some("win")));
    let metric = |score: &Score, name: &str| score.metrics.iter().find(|m| m.0 == name).unwrap().1;
    assert_eq!((metric(&win, "win"), metric(&win, "consistent")), (1.0, 1.0));

    // A judge that always prefers response A has favoured a position: a tie.
    let (biased, _) = pairwise("[[A]]", "[[A]]");
    assert_eq!((biased.reward, biased.parsed_answer.as_deref()), (0.5, Some("tie")));
    assert_eq!(metric(&biased, "consistent"), 0.0);

    let (loss, _) = pairwise("[[B]]", "[[A]]");
    assert_eq!((loss.reward, metric(&loss, "loss")), (0.0, 1.0));
    let (half, _) = pairwise("[[A]]", "[[C]]");
    assert_eq!((half.reward, half.parsed_answer.as_deref()), (0.75, Some("win")));
}

#[test]
fn pairwise_without_a_verdict_is_ungraded() {
    let env = env(json!({"baseline_field": "baseline"}));
    let (_, state) = judge_request(&env, "Thiazides.");
    let score = finish(env.advance(&state, Event::JudgeReply(Reply::text("Both have merit."))).unwrap());
    assert_eq!(score.parse_status, ParseStatus::Ungraded);
}

#[test]
fn unusable_arguments_and_records_are_named() {
    let error = |args: Value| Harness::<Judge>::new(args).err().expect("refused").to_string();
    assert!(error(json!({})).contains("reference_field"), "C/P/I needs criteria");
    assert!(
        error(json!({"reference_field": "answer", "judge_template": "{question} {verdict}"})).contains("{verdict}")
    );
    assert!(error(json!({"reference_field": "answer", "partial_credit": 2})).contains("partial_credit"));
    assert!(error(json!({"rubric": "x", "rubric_field": "r"})).contains("rubric"));
    let env = env(json!({"reference_field": "gold"}));
    let missing = env.prepare(record(), 0).unwrap_err().to_string();
    assert!(missing.contains("field `gold`: missing"), "{missing}");
}

//! The `medcalc` environment driven through `assay_sdk::testing::Harness`:
//! the official prompt, records of every answer kind, and grading of
//! replies shaped like what models write for MedCalc-Bench.

use assay_sdk::ParseStatus;
use assay_sdk::testing::Harness;
use medcalc::{MedCalc, PROMPT_TEMPLATE, SYSTEM_PROMPT};
use serde_json::{Value, json};

fn env() -> Harness<MedCalc> {
    Harness::new(json!({})).expect("default args")
}

/// A record in MedCalc-Bench's columns.
fn record(calculator: i64, output: &str, gold: &str, lower: &str, upper: &str) -> Value {
    json!({
        "Row Number": 1, "Calculator ID": calculator, "Calculator Name": "calc", "Category": "lab",
        "Output Type": output, "Note ID": "1", "Note Type": "Extracted",
        "Patient Note": "A 64-year-old man, 72 kg, creatinine 1.4 mg/dL.", "Question": "What is the value?",
        "Relevant Entities": "{}", "Ground Truth Answer": gold, "Lower Limit": lower, "Upper Limit": upper,
        "Ground Truth Explanation": "...",
    })
}

fn creatinine_clearance() -> Value {
    record(2, "decimal", "54.286", "51.572", "57.0")
}

fn cha2ds2_vasc() -> Value {
    record(4, "integer", "5", "5", "5")
}

fn due_date() -> Value {
    record(13, "date", "11/15/2022", "11/15/2022", "11/15/2022")
}

fn gestational_age() -> Value {
    record(69, "integer", "('4 weeks', '1 days')", "('4 weeks', '1 days')", "('4 weeks', '1 days')")
}

fn grade(record: Value, reply: &str) -> (f64, ParseStatus) {
    let env = env();
    let prepared = env.prepare(record, 0).unwrap();
    let score = env.grade(&prepared, reply).unwrap();
    (score.reward, score.parse_status)
}

#[test]
fn the_prompt_is_the_official_zero_shot_one() {
    let prepared = env().prepare(creatinine_clearance(), 0).unwrap();
    assert_eq!(prepared.prompt.messages[0].content, SYSTEM_PROMPT);
    let user = PROMPT_TEMPLATE
        .replace("{note}", "A 64-year-old man, 72 kg, creatinine 1.4 mg/dL.")
        .replace("{question}", "What is the value?");
    assert_eq!(prepared.prompt.messages[1].content, user);
    assert!(SYSTEM_PROMPT.contains("str(your_step_by_step_thinking_procress_to_solve_the_question)"));
}

#[test]
fn decimals_are_correct_within_the_limits() {
    let json = |answer: &str| {
        format!("{{\"step_by_step_thinking\": \"CrCl = (140 - 64) x 72 / (72 x 1.4)\", \"answer\": \"{answer}\"}}")
    };
    assert_eq!(grade(creatinine_clearance(), &json("54.29")), (1.0, ParseStatus::Ok));
    assert_eq!(grade(creatinine_clearance(), &json("57.0 mL/min")), (1.0, ParseStatus::Ok), "the upper limit is in");
    assert_eq!(grade(creatinine_clearance(), &json("51.5")), (0.0, ParseStatus::Ok));
    let fenced = "```json\n{\n  \"step_by_step_thinking\": \"Using Cockcroft-Gault...\",\n  \"answer\": 54.3\n}\n```";
    assert_eq!(grade(creatinine_clearance(), fenced), (1.0, ParseStatus::Ok));
    assert_eq!(
        grade(creatinine_clearance(), "The clearance is about 54 mL/min.\n\nAnswer: 54.3"),
        (1.0, ParseStatus::Ok)
    );
}

#[test]
fn percentages_and_clearance_units_are_read_as_the_benchmark_reads_them() {
    let fraction = record(9, "decimal", "0.42", "0.399", "0.441");
    assert_eq!(grade(fraction, r#"{"answer": "42%"}"#), (1.0, ParseStatus::Ok));
    let gfr = record(3, "decimal", "58.2", "55.29", "61.11");
    assert_eq!(grade(gfr, r#"{"answer": "58.2 mL/min/1.73 m²"}"#), (1.0, ParseStatus::Ok), "not the last number, 1.73");
}

#[test]
fn integer_scores_are_rounded_and_read_from_out_of_and_lists() {
    assert_eq!(
        grade(cha2ds2_vasc(), r#"{"step_by_step_thinking": "age 2, sex 1, HTN 1, DM 1", "answer": "5"}"#),
        (1.0, ParseStatus::Ok)
    );
    assert_eq!(grade(cha2ds2_vasc(), r#"{"answer": "5 out of 9"}"#), (1.0, ParseStatus::Ok));
    assert_eq!(grade(cha2ds2_vasc(), r#"{"answer": "The score is 5.0"}"#), (1.0, ParseStatus::Ok));
    assert_eq!(
        grade(cha2ds2_vasc(), r#"{"answer": "2, 1, 1, 1, 0"}"#),
        (1.0, ParseStatus::Ok),
        "a list counts its items"
    );
    assert_eq!(grade(cha2ds2_vasc(), r#"{"answer": "4"}"#), (0.0, ParseStatus::Ok));
}

#[test]
fn dates_are_the_same_day_with_or_without_leading_zeros() {
    assert_eq!(grade(due_date(), r#"{"answer": "11/15/2022"}"#), (1.0, ParseStatus::Ok));
    let conception = record(68, "date", "02/04/2004", "02/04/2004", "02/04/2004");
    assert_eq!(grade(conception, r#"{"answer": "2/4/2004"}"#), (1.0, ParseStatus::Ok));
    assert_eq!(grade(due_date(), r#"{"answer": "11/16/2022"}"#), (0.0, ParseStatus::Ok));
    assert_eq!(grade(due_date(), r#"{"answer": "November 15, 2022"}"#), (0.0, ParseStatus::Malformed));
}

#[test]
fn gestational_age_is_weeks_and_days() {
    for answer in ["(4 weeks, 1 days)", "(4, 1)", "('4 weeks', '1 day')", "4 weeks and 1 day"] {
        let reply = format!("{{\"step_by_step_thinking\": \"29 days since the LMP\", \"answer\": \"{answer}\"}}");
        assert_eq!(grade(gestational_age(), &reply), (1.0, ParseStatus::Ok), "{answer}");
    }
    assert_eq!(grade(gestational_age(), r#"{"answer": "(4 weeks, 2 days)"}"#), (0.0, ParseStatus::Ok));
    assert_eq!(grade(gestational_age(), r#"{"answer": "4 weeks"}"#), (0.0, ParseStatus::Malformed));
}

#[test]
fn replies_without_an_answer_are_no_answer() {
    for reply in [
        "",
        "I need more information about the patient's weight.",
        r#"{"step_by_step_thinking": "...", "answer": "str(short_and_direct_answer_of_the_question)"}"#,
    ] {
        assert_eq!(grade(creatinine_clearance(), reply), (0.0, ParseStatus::NoAnswer), "{reply}");
    }
}

#[test]
fn reasoning_before_a_closing_think_tag_is_ignored() {
    let reply = "<think>Maybe {\"answer\": \"40\"}? No, recompute.</think>{\"answer\": \"54.1\"}";
    assert_eq!(grade(creatinine_clearance(), reply), (1.0, ParseStatus::Ok));
}

#[test]
fn the_reference_scores_full_reward_for_every_kind() {
    for record in [creatinine_clearance(), cha2ds2_vasc(), due_date(), gestational_age()] {
        assert_eq!(env().oracle(record.clone(), 0).unwrap().reward, 1.0, "{record}");
    }
}

#[test]
fn bad_records_and_args_are_rejected_naming_the_field() {
    let error = |record: Value| format!("{:?}", env().prepare(record, 0).expect_err("rejected"));
    assert!(error(record(2, "decimal", "54", "low", "57")).contains("`Lower Limit`: `low` is not a number"));
    assert!(error(record(999, "fraction", "1", "1", "1")).contains("unknown calculator"));
    let unreadable = error(record(4, "integer", "five", "5", "5"));
    assert!(unreadable.contains("`Ground Truth Answer`: `five` cannot be read as a integer answer"), "{unreadable}");
    let bad = Harness::<MedCalc>::new(json!({"prompt_template": "{note} {task}"})).err().expect("rejected");
    assert!(format!("{bad:?}").contains("must contain `{question}`"));
}

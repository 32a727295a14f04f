//! The environment's arguments (`env_args`): which record fields hold the
//! task, how the model is prompted (chat or base completion), and the
//! limits of each run. Every argument is optional; [`describe`] documents
//! each with its default.

use assay_sdk::{Description, Error, Result, template};
use serde::Deserialize;

/// The user message for HumanEval-style tasks (a function to complete)
/// when `prompt_template` is not set.
pub const DEFAULT_TEMPLATE: &str = "Complete the following Python function. Reply with the complete function, \
including its signature and any imports it needs, in a single ```python code block.\n\n```python\n{prompt}```";

/// The user message for MBPP-style tasks (a description and asserts) when
/// `prompt_template` is not set. The asserts are shown because they are
/// the only place the expected function name and signature appear.
pub const DEFAULT_ASSERTS_TEMPLATE: &str = "{prompt}\n\nYour code should pass these tests:\n\n{tests}\n\n\
Reply with the complete Python code in a single ```python code block.";

/// The user message for stdin/stdout tasks (APPS, CodeContests) when
/// `prompt_template` is not set.
pub const DEFAULT_STDIO_TEMPLATE: &str = "{prompt}\n\nWrite a Python 3 program that reads the input from standard \
input and prints the answer to standard output. Reply with the complete program in a single ```python code block.";

/// The placeholders a `prompt_template` may use: `{prompt}` (the task
/// prompt) and `{tests}` (MBPP-style asserts, one per line; empty for
/// HumanEval-style tasks).
pub const PLACEHOLDERS: [&str; 2] = ["prompt", "tests"];

/// How the model is asked and how its reply becomes a program.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CompletionMode {
    /// An instruction; the reply holds the function, usually in a fenced block.
    Chat,
    /// The task prompt verbatim; the reply continues it (for base models).
    Base,
}

/// `env_args` of the `code` environment.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Args {
    /// Record field holding the task prompt (HumanEval: signature and
    /// docstring; MBPP: the description).
    pub prompt_field: String,
    /// Record field holding the test code defining `check(candidate)`.
    pub test_field: String,
    /// Record field holding the name of the function under test.
    pub entry_point_field: String,
    /// Record field holding the known-good solution (optional in records).
    pub solution_field: String,
    /// Record field holding MBPP-style `assert` lines.
    pub tests_list_field: String,
    /// Record field holding MBPP-style code run before the asserts.
    pub setup_field: String,
    /// Record field holding APPS-style stdin/stdout tests: a JSON object
    /// (or a string holding one) with `inputs` and `outputs`.
    pub io_tests_field: String,
    /// Record fields holding CodeContests-style test sets, each
    /// `{input: [...], output: [...]}`, run in this order.
    pub io_test_sets: Vec<String>,
    /// At most this many tests from the `generated_tests` set; `None`: all.
    pub max_generated_tests: Option<usize>,
    /// How far a decimal in a program's output may be from the expected
    /// one, absolute or relative to its size.
    pub float_tolerance: f64,
    /// The user message, with `{prompt}` and `{tests}`; `None` picks the
    /// default for the record's kind.
    pub prompt_template: Option<String>,
    /// An optional system message sent before the user message, verbatim.
    pub system_prompt: Option<String>,
    /// `chat` (default) or `base`.
    pub completion_mode: CompletionMode,
    /// The programming language; only `python` for now.
    pub language: String,
    /// Wall-clock limit of each program run, in milliseconds.
    pub timeout_ms: u32,
}

impl Default for Args {
    fn default() -> Self {
        Args {
            prompt_field: "prompt".into(),
            test_field: "test".into(),
            entry_point_field: "entry_point".into(),
            solution_field: "canonical_solution".into(),
            tests_list_field: "test_list".into(),
            setup_field: "test_setup_code".into(),
            io_tests_field: "input_output".into(),
            io_test_sets: ["public_tests", "private_tests", "generated_tests"].map(String::from).to_vec(),
            max_generated_tests: None,
            float_tolerance: 1e-6,
            prompt_template: None,
            system_prompt: None,
            completion_mode: CompletionMode::Chat,
            language: "python".into(),
            timeout_ms: 10_000,
        }
    }
}

impl Args {
    /// Reject argument combinations that cannot work, naming the field.
    pub fn validate(&self) -> Result<()> {
        let fields = [
            ("prompt_field", &self.prompt_field),
            ("test_field", &self.test_field),
            ("entry_point_field", &self.entry_point_field),
            ("solution_field", &self.solution_field),
            ("tests_list_field", &self.tests_list_field),
            ("setup_field", &self.setup_field),
            ("io_tests_field", &self.io_tests_field),
        ];
        for (name, value) in fields {
            if value.trim().is_empty() {
                return Err(Error::bad_args(format!("field `{name}`: must not be empty")));
            }
        }
        if self.language != "python" {
            let message = format!("field `language`: `{}` is not supported (only `python`)", self.language);
            return Err(Error::bad_args(message));
        }
        if self.timeout_ms == 0 {
            return Err(Error::bad_args("field `timeout_ms`: must be positive"));
        }
        if !(self.float_tolerance >= 0.0 && self.float_tolerance.is_finite()) {
            return Err(Error::bad_args("field `float_tolerance`: must be a finite number, 0 or more"));
        }
        self.validate_template()
    }

    fn validate_template(&self) -> Result<()> {
        let Some(text) = &self.prompt_template else { return Ok(()) };
        if self.completion_mode == CompletionMode::Base {
            // A base model continues the task prompt itself, so a template
            // would be silently ignored.
            return Err(Error::bad_args(
                "field `prompt_template`: not used with `completion_mode: base`, which sends the task prompt verbatim",
            ));
        }
        if !text.contains("{prompt}") {
            return Err(Error::bad_args("field `prompt_template`: must contain `{prompt}`"));
        }
        if let Some(name) = template::unknown_placeholder(text, &PLACEHOLDERS) {
            let known = PLACEHOLDERS.join("`, `");
            let message = format!("field `prompt_template`: unknown placeholder `{{{name}}}` (known: `{known}`)");
            return Err(Error::bad_args(message));
        }
        Ok(())
    }
}

/// What `assay plugin info` shows: the environment, its capability and
/// every argument with its default as JSON.
pub fn describe() -> Description {
    let json = |text: &str| serde_json::Value::from(text).to_string();
    Description::new(
        "Code generation (HumanEval, MBPP, APPS, CodeContests). Asks for a function, extracts the code from the reply (a ```python \
         block, raw code, or in base mode the continuation of the prompt cut at HumanEval's stop sequences), and \
         runs it with the task's tests in the host's sandbox: reward 1 when the program exits with status 0 \
         within the time limit, or, with stdin/stdout tests, when it prints every test's expected output \
         (metrics `tests_passed`, `tests_total`). Needs the `run-code:python` capability.",
    )
    .capability("run-code:python")
    .arg("prompt_field", "string", Some("\"prompt\""), "Record field with the task prompt (MBPP: the description).")
    .arg("test_field", "string", Some("\"test\""), "Record field with test code defining `check(candidate)`.")
    .arg(
        "entry_point_field",
        "string",
        Some("\"entry_point\""),
        "Record field with the function's name; the program ends with `check(<entry point>)`. A record without \
         it is MBPP-style and needs the list of asserts.",
    )
    .arg(
        "solution_field",
        "string",
        Some("\"canonical_solution\""),
        "Record field with the known-good solution (HumanEval: the body completing the prompt; MBPP `code`: the \
         whole code). Used by the `oracle` model; records may lack it.",
    )
    .arg("tests_list_field", "string", Some("\"test_list\""), "Record field with MBPP-style `assert` lines.")
    .arg(
        "setup_field",
        "string",
        Some("\"test_setup_code\""),
        "Record field with MBPP-style code run between the solution and the asserts (optional in records).",
    )
    .arg(
        "io_tests_field",
        "string",
        Some("\"input_output\""),
        "Record field with APPS-style stdin/stdout tests: a JSON object, or a string holding one, with `inputs` \
         and `outputs` (lists of strings). A record with such tests is run once per test with the input on stdin; \
         its output must match the expected one.",
    )
    .arg(
        "io_test_sets",
        "list of strings",
        Some("[\"public_tests\", \"private_tests\", \"generated_tests\"]"),
        "Record fields with CodeContests-style test sets, each `{input: [...], output: [...]}`, run in this order \
         (used when the record has no `io_tests_field`).",
    )
    .arg("max_generated_tests", "int", Some("null"), "At most this many tests from `generated_tests`; null: all.")
    .arg(
        "float_tolerance",
        "float",
        Some("1e-6"),
        "Stdin/stdout tests compare outputs token by token, whitespace aside; a token the expected output writes \
         as a decimal (with `.` or an exponent) may differ by this much, absolute or relative to its size. \
         Integers and words must be equal.",
    )
    .arg(
        "prompt_template",
        "string",
        Some("null"),
        &format!(
            "The user message in chat mode. Placeholders: {{prompt}} (required), {{tests}} (the asserts, one per \
             line; empty for HumanEval-style records). Default {} for HumanEval-style records, {} for MBPP-style \
             ones, {} for stdin/stdout ones. Not allowed in base mode.",
            json(DEFAULT_TEMPLATE),
            json(DEFAULT_ASSERTS_TEMPLATE),
            json(DEFAULT_STDIO_TEMPLATE)
        ),
    )
    .arg("system_prompt", "string", Some("null"), "A system message sent first, verbatim.")
    .arg(
        "completion_mode",
        "string",
        Some("\"chat\""),
        "`chat`: ask with the template and read the code from the reply. `base`: send the task prompt verbatim \
         (for base models, with `use_chat_template: false`) and run prompt + reply, the reply cut at HumanEval's \
         stop sequences. Base mode needs HumanEval-style records.",
    )
    .arg("language", "string", Some("\"python\""), "The language programs are run in; only `python` for now.")
    .arg(
        "timeout_ms",
        "int",
        Some("10000"),
        "Wall-clock limit of each program run (tests included), in ms; with stdin/stdout tests, of each test.",
    )
}

//! Reading code from replies and assembling programs: fenced blocks, raw
//! code, prose, base-mode stop sequences, body-only and complete functions.

use code::extract::{self, Extracted, Method, continuation, from_reply};
use code::{Task, program};

fn fenced(code: &str) -> Extracted {
    Extracted { code: code.into(), method: Method::Fenced }
}

fn task(prompt: &str) -> Task {
    Task::Function {
        prompt: prompt.into(),
        entry_point: "add".into(),
        test: "def check(f): pass".into(),
        solution: None,
    }
}

const PROMPT: &str = "from typing import List\n\n\ndef add(a: int, b: int) -> int:\n    \"\"\"Add.\"\"\"\n";

// ---- chat replies ----

#[test]
fn a_fenced_python_block() {
    let reply = "Here you go:\n\n```python\ndef add(a, b):\n    return a + b\n```\n\nIt adds.";
    assert_eq!(from_reply(reply, Some("add")), Some(fenced("def add(a, b):\n    return a + b\n")));
}

#[test]
fn py_python3_and_untagged_fences_count_others_do_not() {
    for tag in ["py", "python3", "", "Python", "python title=add.py"] {
        let reply = format!("```{tag}\nx = 1\n```");
        assert_eq!(from_reply(&reply, None), Some(fenced("x = 1\n")), "tag {tag:?}");
    }
    // A reply with fences keeps its code in them: other languages are no answer.
    assert_eq!(from_reply("```bash\npython add.py\n```", None), None);
    assert_eq!(from_reply("```javascript\nfunction add(a, b) { return a + b }\n```", Some("add")), None);
}

#[test]
fn of_several_blocks_the_first_defining_the_entry_point_wins() {
    let reply = "Usage:\n```python\nprint(add(1, 2))\n```\nCode:\n```python\ndef add(a, b):\n    return a + b\n```\n\
        Or:\n```python\ndef add(a, b):\n    return sum([a, b])\n```";
    assert_eq!(from_reply(reply, Some("add")), Some(fenced("def add(a, b):\n    return a + b\n")));
}

#[test]
fn without_a_defining_block_the_longest_wins_and_the_last_of_equals() {
    let reply = "```python\n    return a + b\n```\nthen\n```python\nadd(1, 2)\n```";
    assert_eq!(from_reply(reply, Some("add")), Some(fenced("    return a + b\n")));
    let reply = "```python\nx = 1\n```\n```python\ny = 2\n```";
    assert_eq!(from_reply(reply, None), Some(fenced("y = 2\n")));
}

#[test]
fn an_unclosed_block_runs_to_the_end() {
    let reply = "```python\ndef add(a, b):\n    return a + b";
    assert_eq!(from_reply(reply, Some("add")), Some(fenced("def add(a, b):\n    return a + b\n")));
}

#[test]
fn blank_blocks_are_skipped() {
    assert_eq!(from_reply("```python\n\n```\n```python\nx = 1\n```", None), Some(fenced("x = 1\n")));
    assert_eq!(from_reply("```python\n   \n```", None), None);
}

#[test]
fn raw_code_without_fences() {
    let reply = "\n\ndef add(a, b):\n    return a + b\n\n";
    let raw = Extracted { code: "def add(a, b):\n    return a + b\n".into(), method: Method::Raw };
    assert_eq!(from_reply(reply, Some("add")), Some(raw));
    // A body keeps its indentation.
    let raw = Extracted { code: "    return a + b\n".into(), method: Method::Raw };
    assert_eq!(from_reply("\n    return a + b", Some("add")), Some(raw));
    assert!(from_reply("import math\nprint(math.pi)", None).is_some());
}

#[test]
fn prose_is_no_answer() {
    for reply in [
        "",
        "I cannot help with that.",
        "The function should return the sum of a and b, from the first to the last.",
        "You could define a function and return the result.",
        "from here on, return the sum",
    ] {
        assert_eq!(from_reply(reply, Some("add")), None, "reply {reply:?}");
    }
}

#[test]
fn reasoning_is_ignored() {
    let reply = "<think>```python\ndef add(a, b):\n    return a - b\n```</think>\n```python\ndef add(a, b):\n    return a + b\n```";
    assert_eq!(from_reply(reply, Some("add")), Some(fenced("def add(a, b):\n    return a + b\n")));
    assert_eq!(from_reply("<think>def add(a, b): return 0</think>I don't know.", Some("add")), None);
}

#[test]
fn defines_means_a_top_level_def_of_that_name() {
    assert!(extract::defines("def add(a, b):", "add"));
    assert!(extract::defines("x = 1\nasync def add (a):", "add"));
    assert!(!extract::defines("def add_all(a, b):", "add"));
    assert!(!extract::defines("class A:\n    def add(self):", "add"));
    assert!(!extract::defines("print(add(1, 2))", "add"));
}

// ---- base-mode continuations ----

#[test]
fn continuations_are_cut_at_the_first_stop_sequence() {
    let body = "    return a + b\n";
    for rest in [
        "\ndef main():\n    pass",
        "\nclass A:\n",
        "\nif __name__ == '__main__':\n",
        "\nprint(add(1, 2))",
        "\n# test\n",
    ] {
        let completion = format!("{body}{rest}");
        let cut = Extracted { code: body.into(), method: Method::Continuation };
        assert_eq!(continuation(&completion), Some(cut), "completion {completion:?}");
    }
    let completion = "    x = a  # not a stop: indented\n    return x\n\n\nprint(1)\ndef f(): pass";
    assert_eq!(continuation(completion).unwrap().code, "    x = a  # not a stop: indented\n    return x\n\n");
}

#[test]
fn a_continuation_is_kept_exactly_and_may_not_be_blank() {
    assert_eq!(continuation("    return a + b").unwrap().code, "    return a + b");
    assert_eq!(continuation("  \n\n"), None);
    assert_eq!(continuation("\ndef other(): pass"), None);
}

// ---- programs ----

#[test]
fn a_body_in_chat_mode_follows_the_prompt() {
    let code = from_reply("```python\n    return a + b\n```", Some("add")).unwrap();
    assert_eq!(program::program(&task(PROMPT), &code), format!("{PROMPT}    return a + b\n"));
    let no_newline = PROMPT.trim_end();
    assert_eq!(program::program(&task(no_newline), &code), format!("{no_newline}\n    return a + b\n"));
}

#[test]
fn a_complete_function_follows_the_prompts_imports_and_helpers() {
    let prompt = "import math\n\n\ndef helper(x):\n    return x\n\n\ndef add(a, b):\n    \"\"\"Add.\"\"\"\n";
    let reply = "```python\ndef double(x):\n    return 2 * x\n\n\ndef add(a, b):\n    return helper(a) + b\n```";
    let code = from_reply(reply, Some("add")).unwrap();
    let expected = format!("import math\n\n\ndef helper(x):\n    return x\n\n\n{}", code.code);
    assert_eq!(program::program(&task(prompt), &code), expected);
}

#[test]
fn a_continuation_follows_the_prompt_exactly() {
    let code = continuation("    return a + b").unwrap();
    assert_eq!(program::program(&task(PROMPT.trim_end()), &code), format!("{}    return a + b", PROMPT.trim_end()));
}

#[test]
fn the_source_ends_with_the_tests_and_the_check_call() {
    let code = fenced("def add(a, b):\n    return a + b\n");
    let expected =
        "from typing import List\n\n\ndef add(a, b):\n    return a + b\n\n\ndef check(f): pass\n\ncheck(add)\n";
    assert_eq!(program::source(&task(PROMPT), &code, 10_000), expected);
}

#[test]
fn an_mbpp_source_is_code_setup_and_asserts() {
    let task = Task::Asserts {
        prompt: "Write add.".into(),
        tests: vec!["assert add(1, 2) == 3".into(), "assert add(0, 0) == 0".into()],
        setup: "import math\n".into(),
        solution: None,
    };
    let code = fenced("def add(a, b):\n    return a + b\n");
    let expected = "def add(a, b):\n    return a + b\nimport math\nassert add(1, 2) == 3\nassert add(0, 0) == 0\n";
    assert_eq!(program::source(&task, &code, 10_000), expected);
    let Task::Asserts { prompt, tests, solution, .. } = task else { unreachable!() };
    let no_setup = Task::Asserts { prompt, tests, setup: String::new(), solution };
    assert_eq!(program::source(&no_setup, &code, 10_000).lines().count(), 4);
}

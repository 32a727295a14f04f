//! Prompt templates with `{name}` placeholders.
//!
//! Environments often let users replace their prompt through an argument
//! (`"prompt_template": "Q: {question}\n{choices}"`). Such templates, and
//! the values filled into them, are full of braces that are not
//! placeholders: JSON and code (`{"a": 1}`, `{x for x in s}`), LaTeX
//! (`\frac{1}{2}`, `\boxed{}`). This module fills the placeholders and
//! leaves all of that alone, the same way in every environment:
//!
//! - a placeholder is `{name}` with a name of lowercase ASCII letters and
//!   `_`; any other brace (empty, spaces, digits, quotes, nesting) is text;
//! - a `{` right after a LaTeX command (`\text{cm}`, `\boxed{}`) or a
//!   backslash (`\{`) never opens a placeholder;
//! - replacement is a single pass over the template, so a value containing
//!   `{question}` is inserted verbatim, never expanded again.
//!
//! Use [`unknown_placeholder`] when validating the arguments, so a typo
//! such as `{choice}` is rejected up front instead of reaching the model
//! verbatim, and [`render`] in `prepare`.

/// Fill every `{name}` of `template` whose name is a key of `values` with
/// its value (the first entry wins if a key repeats). Unknown names and
/// braces that are not placeholders are kept verbatim; inserted values are
/// never scanned for placeholders.
///
/// ```
/// use assay_sdk::template::render;
///
/// let text = render("{question} ({letters}) {question} {other} {\"a\": 1}", &[
///     ("question", "Is {letters} 1/2?"),
///     ("letters", "A or B"),
/// ]);
/// assert_eq!(text, "Is {letters} 1/2? (A or B) Is {letters} 1/2? {other} {\"a\": 1}");
/// assert_eq!(render("\\text{question}: {question}", &[("question", "Q")]), "\\text{question}: Q");
/// ```
pub fn render(template: &str, values: &[(&str, &str)]) -> String {
    let mut out = String::with_capacity(template.len() + values.iter().map(|(_, value)| value.len()).sum::<usize>());
    let mut copied = 0;
    for (open, _) in template.match_indices('{') {
        let Some(name) = placeholder_at(template, open) else { continue };
        if let Some((_, value)) = values.iter().find(|(key, _)| *key == name) {
            out.push_str(&template[copied..open]);
            out.push_str(value);
            copied = open + name.len() + 2;
        }
    }
    out.push_str(&template[copied..]);
    out
}

/// The first placeholder of `template` whose name is not in `known`: most
/// likely a typo. Braces that are not placeholders (see the module docs)
/// are never reported.
///
/// ```
/// use assay_sdk::template::unknown_placeholder;
///
/// let known = ["question", "choices"];
/// assert_eq!(unknown_placeholder("{question} {choice}", &known), Some("choice"));
/// assert_eq!(unknown_placeholder("{question} \\boxed{} {\"a\": 1}", &known), None);
/// ```
pub fn unknown_placeholder<'a>(template: &'a str, known: &[&str]) -> Option<&'a str> {
    template
        .match_indices('{')
        .filter_map(|(open, _)| placeholder_at(template, open))
        .find(|name| !known.contains(name))
}

/// The name of the placeholder whose `{` is at byte `open` of `template`,
/// or `None` if that brace is text: the argument of a LaTeX command or
/// after a backslash, unclosed, or not a name.
fn placeholder_at(template: &str, open: usize) -> Option<&str> {
    let before = template[..open].trim_end_matches(|c: char| c.is_ascii_alphabetic());
    if before.ends_with('\\') {
        return None;
    }
    let text = &template[open..];
    let close = text.find('}')?;
    let name = &text[1..close];
    let is_name = !name.is_empty() && name.bytes().all(|b| b.is_ascii_lowercase() || b == b'_');
    is_name.then_some(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fills_known_placeholders() {
        let values = [("prompt", "f"), ("tests", "assert f(1) == 2")];
        assert_eq!(render("Task: {prompt}\nTests:\n{tests}", &values), "Task: f\nTests:\nassert f(1) == 2");
        assert_eq!(render("no placeholders", &values), "no placeholders");
        assert_eq!(render("{tests}", &[("tests", "")]), "");
        assert_eq!(render("{a_b}{c}", &[("a_b", "1"), ("c", "2")]), "12");
    }

    #[test]
    fn fills_a_repeated_placeholder_every_time() {
        assert_eq!(render("{question} / {question}{question}", &[("question", "Q")]), "Q / QQ");
    }

    #[test]
    fn keeps_and_reports_unknown_placeholders() {
        assert_eq!(render("{question} {choice}", &[("question", "Q")]), "Q {choice}");
        assert_eq!(unknown_placeholder("{question} {choice}", &["question", "choices", "letters"]), Some("choice"));
        assert_eq!(unknown_placeholder("{prompt} {test}", &["prompt", "tests"]), Some("test"));
        assert_eq!(unknown_placeholder("{question} {problem} {answer}", &["question"]), Some("problem"));
        assert_eq!(unknown_placeholder("{question}", &["question"]), None);
        assert_eq!(unknown_placeholder("", &[]), None);
    }

    #[test]
    fn leaves_json_and_code_braces_alone() {
        let template = "{prompt} {'a': 1} {} {\"a\": 1} {x for x in s} {{prompt}} {Prompt} {tests2} {prompt";
        assert_eq!(
            render(template, &[("prompt", "P")]),
            "P {'a': 1} {} {\"a\": 1} {x for x in s} {P} {Prompt} {tests2} {prompt"
        );
        assert_eq!(unknown_placeholder(template, &["prompt"]), None);
        assert_eq!(unknown_placeholder("{question} {choices} \\frac{1}{2} {\"a\": 1}", &["question", "choices"]), None);
    }

    #[test]
    fn leaves_latex_command_arguments_alone() {
        let values = [("question", "Q")];
        assert_eq!(render("Q: {question}\nPut it in \\boxed{}.", &values), "Q: Q\nPut it in \\boxed{}.");
        assert_eq!(render("\\text{question}: {question}", &values), "\\text{question}: Q");
        assert_eq!(render("\\{question\\} {question}", &values), "\\{question\\} Q");
        assert_eq!(
            unknown_placeholder("{question} \\boxed{} \\frac{1}{2} \\text{cm} \\mathrm{kg}", &["question"]),
            None
        );
        // Only a backslash makes a command: a word before a brace does not.
        assert_eq!(render("see{question}", &values), "seeQ");
    }

    #[test]
    fn never_expands_inserted_values() {
        let values = [("question", "Is {question} \\frac{1}{2}? {letters}"), ("letters", "A or B")];
        assert_eq!(render("Q: {question} ({letters})", &values), "Q: Is {question} \\frac{1}{2}? {letters} (A or B)");
        let code = [("prompt", "d = {tests} or {'a': 1}"), ("tests", "x")];
        assert_eq!(render("{prompt}!", &code), "d = {tests} or {'a': 1}!");
    }
}

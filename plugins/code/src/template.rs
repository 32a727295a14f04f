//! Filling the prompt template: `{prompt}` (the task prompt) and `{tests}`
//! (MBPP-style asserts, one per line).

/// The placeholders a template may use.
pub const PLACEHOLDERS: [&str; 2] = ["prompt", "tests"];

/// Fill `template` for one task. Replacement is a single pass over the
/// template, so braces inside the task (Python dicts, f-strings, sets) are
/// never treated as placeholders.
pub fn render(template: &str, prompt: &str, tests: &str) -> String {
    let mut out = String::with_capacity(template.len() + prompt.len() + tests.len());
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open..];
        match placeholder_at(after) {
            Some(name) => {
                match name {
                    "prompt" => out.push_str(prompt),
                    "tests" => out.push_str(tests),
                    other => out.push_str(&after[..other.len() + 2]),
                }
                rest = &after[name.len() + 2..];
            }
            None => {
                out.push('{');
                rest = &after[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// The first `{name}` in `template` (lowercase letters and `_`) that is
/// not a known placeholder: most likely a typo such as `{test}`.
pub fn unknown_placeholder(template: &str) -> Option<&str> {
    template
        .match_indices('{')
        .filter_map(|(i, _)| placeholder_at(&template[i..]))
        .find(|name| !PLACEHOLDERS.contains(name))
}

/// The name of a placeholder starting at `text` (which begins with `{`).
/// Anything else in braces (code, JSON) is not a placeholder.
fn placeholder_at(text: &str) -> Option<&str> {
    let close = text.find('}')?;
    let name = &text[1..close];
    let is_name = !name.is_empty() && name.bytes().all(|b| b.is_ascii_lowercase() || b == b'_');
    is_name.then_some(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fills_both_placeholders() {
        assert_eq!(
            render("Task: {prompt}\nTests:\n{tests}", "f", "assert f(1) == 2"),
            "Task: f\nTests:\nassert f(1) == 2"
        );
    }

    #[test]
    fn braces_in_the_task_are_left_alone() {
        let text = render("{prompt}!", "d = {tests} or {'a': 1}", "x");
        assert_eq!(text, "d = {tests} or {'a': 1}!");
    }

    #[test]
    fn unknown_placeholders_are_reported() {
        assert_eq!(unknown_placeholder("{prompt} {test}"), Some("test"));
        assert_eq!(unknown_placeholder("{prompt} {tests} {'a': 1} {}"), None);
    }
}

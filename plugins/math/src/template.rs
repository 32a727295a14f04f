//! Filling the prompt template: `{question}` is the only placeholder.

/// The placeholders a template may use.
pub const PLACEHOLDERS: [&str; 1] = ["question"];

/// Fill `template` with the question. Replacement is a single pass, so
/// braces inside the question (LaTeX) are never treated as placeholders.
pub fn render(template: &str, question: &str) -> String {
    let mut out = String::with_capacity(template.len() + question.len());
    let mut copied = 0;
    for (open, _) in template.match_indices('{') {
        if placeholder_at(template, open) == Some("question") {
            out.push_str(&template[copied..open]);
            out.push_str(question);
            copied = open + "{question}".len();
        }
    }
    out.push_str(&template[copied..]);
    out
}

/// The first `{name}` in `template` (lowercase letters and `_`) that is
/// not a known placeholder: most likely a typo such as `{problem}`.
pub fn unknown_placeholder(template: &str) -> Option<&str> {
    template
        .match_indices('{')
        .filter_map(|(i, _)| placeholder_at(template, i))
        .find(|name| !PLACEHOLDERS.contains(name))
}

/// The name of the placeholder whose `{` is at byte `open`. Anything else
/// in braces is not one: empty or non-name content (`\boxed{}`,
/// `\frac{1}{2}`), or the argument of a LaTeX command (`\text{cm}`).
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
    fn fills_the_question_once_and_leaves_latex_alone() {
        let text = render("Q: {question}\nPut it in \\boxed{}.", "Is {question} \\frac{1}{2}?");
        assert_eq!(text, "Q: Is {question} \\frac{1}{2}?\nPut it in \\boxed{}.");
    }

    #[test]
    fn unknown_placeholders_are_reported() {
        assert_eq!(unknown_placeholder("{question} {problem}"), Some("problem"));
        assert_eq!(unknown_placeholder("{question} \\boxed{} \\frac{1}{2} \\text{cm}"), None);
        assert_eq!(render("\\text{question}: {question}", "Q"), "\\text{question}: Q");
    }
}

//! Filling the prompt template: `{question}`, `{choices}` (lettered
//! lines) and `{letters}` ("A, B, C or D").

use crate::letters;

/// The placeholders a template may use.
pub const PLACEHOLDERS: [&str; 3] = ["question", "choices", "letters"];

/// The options as lettered lines: `A. text`, one per line.
pub fn choices_block(options: &[String]) -> String {
    let lines: Vec<String> =
        options.iter().enumerate().map(|(i, text)| format!("{}. {text}", letters::letter(i))).collect();
    lines.join("\n")
}

/// Fill `template` for one question. Replacement is a single pass over the
/// template, so braces inside the question or options are never treated as
/// placeholders.
pub fn render(template: &str, question: &str, options: &[String]) -> String {
    let mut out = String::with_capacity(template.len() + question.len() + 64);
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open..];
        match placeholder_at(after) {
            Some(name) => {
                match name {
                    "question" => out.push_str(question),
                    "choices" => out.push_str(&choices_block(options)),
                    "letters" => out.push_str(&letters::phrase(options.len())),
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
/// not a known placeholder: most likely a typo such as `{choice}`.
pub fn unknown_placeholder(template: &str) -> Option<&str> {
    template
        .match_indices('{')
        .filter_map(|(i, _)| placeholder_at(&template[i..]))
        .find(|name| !PLACEHOLDERS.contains(name))
}

/// The name of a placeholder starting at `text` (which begins with `{`).
/// Anything else in braces (LaTeX, JSON) is not a placeholder.
fn placeholder_at(text: &str) -> Option<&str> {
    let close = text.find('}')?;
    let name = &text[1..close];
    let is_name = !name.is_empty() && name.bytes().all(|b| b.is_ascii_lowercase() || b == b'_');
    is_name.then_some(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn options() -> Vec<String> {
        vec!["red".into(), "green".into(), "blue".into()]
    }

    #[test]
    fn fills_every_placeholder() {
        let text = render("Q: {question}\n{choices}\nPick {letters}.", "Sky colour?", &options());
        assert_eq!(text, "Q: Sky colour?\nA. red\nB. green\nC. blue\nPick A, B or C.");
    }

    #[test]
    fn braces_in_the_question_are_left_alone() {
        let text = render("{question} {letters}", "Is {choices} literal? \\frac{1}{2}", &options());
        assert_eq!(text, "Is {choices} literal? \\frac{1}{2} A, B or C");
    }

    #[test]
    fn unknown_placeholders_are_reported() {
        assert_eq!(unknown_placeholder("{question} {choice}"), Some("choice"));
        assert_eq!(unknown_placeholder("{question} {choices} \\frac{1}{2} {\"a\": 1}"), None);
    }
}

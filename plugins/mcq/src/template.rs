//! Filling the prompt template: `{question}`, `{choices}` (lettered
//! lines) and `{letters}` ("A, B, C or D"), with the SDK's renderer.

use crate::letters;
use assay_sdk::template;

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
    let choices = choices_block(options);
    let letters = letters::phrase(options.len());
    template::render(template, &[("question", question), ("choices", &choices), ("letters", &letters)])
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
}

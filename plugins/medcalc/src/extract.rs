//! Reading the answer text from a reply. The official prompt asks for
//! `{"step_by_step_thinking": ..., "answer": ...}`; as in the benchmark's
//! own code, the answer is what follows the last `answer":` up to the next
//! `}`, without surrounding quotes. A reply without JSON may instead say
//! "Answer: 12.5" or "the answer is 12.5": the rest of that line is read.

/// How the answer text was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    /// The JSON `"answer"` field.
    Json,
    /// An "Answer:" / "the answer is" line.
    Line,
}

impl Method {
    /// The name stored in results.
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Json => "json",
            Method::Line => "line",
        }
    }
}

/// What the official prompt's placeholders look like when a model copies
/// them instead of answering.
const PLACEHOLDERS: [&str; 3] =
    ["str(short_and_direct_answer_of_the_question)", "str(value which is the answer to the question)", "X.XX"];

/// The answer text of `reply` and how it was found; `None` when there is
/// none (or only a copied placeholder).
pub fn answer_text(reply: &str) -> Option<(String, Method)> {
    let reply = reply.rfind("</think>").map_or(reply, |at| &reply[at + "</think>".len()..]);
    let (text, method) = match json_answer(reply) {
        Some(text) => (text, Method::Json),
        None => (line_answer(reply)?, Method::Line),
    };
    let text = text.trim().trim_matches('"').trim().to_string();
    (!text.is_empty() && !PLACEHOLDERS.contains(&text.as_str())).then_some((text, method))
}

/// After the last `answer":` (or `Answer":`), up to the next `}`.
fn json_answer(reply: &str) -> Option<String> {
    let at = ["answer\":", "Answer\":"].iter().filter_map(|key| reply.rfind(key).map(|at| at + key.len())).max()?;
    let rest = &reply[at..];
    let end = rest.find('}')?;
    Some(rest[..end].to_string())
}

/// The rest of the line after the last "answer:" or "answer is".
fn line_answer(reply: &str) -> Option<String> {
    let lower = reply.to_ascii_lowercase();
    let markers = ["answer:", "answer is"];
    let at = markers.iter().filter_map(|m| lower.rfind(m).map(|at| at + m.len())).max()?;
    let line = reply[at..].lines().next().unwrap_or("");
    let line = line.trim().trim_matches(|c: char| c == '*' || c == ':' || c.is_whitespace());
    Some(line.strip_suffix('.').unwrap_or(line).to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_last_json_answer_wins() {
        let reply = r#"{"answer": "1"} then {"step_by_step_thinking": "x", "answer": "54.3"}"#;
        assert_eq!(answer_text(reply), Some(("54.3".into(), Method::Json)));
    }

    #[test]
    fn copied_placeholders_are_no_answer() {
        assert_eq!(answer_text(r#"{"answer": "X.XX"}"#), None);
    }
}

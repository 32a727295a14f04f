//! Reading the code from a model's reply.
//!
//! A chat reply's code is in a fenced block (```` ```python ````, ```` ```py ````
//! or untagged): the first block that defines the entry point, else the
//! longest. A reply without fences counts as code when it looks like
//! Python. A base model's completion continues the prompt and is cut at
//! HumanEval's stop sequences. Reasoning inside `<think>…</think>` is
//! ignored.

use serde::{Deserialize, Serialize};

/// HumanEval's stop sequences (Chen et al. 2021): each marks the end of
/// the function being completed, since a base model otherwise goes on
/// writing more functions, tests or prints, which could fail the run.
pub const STOP_SEQUENCES: [&str; 5] = ["\ndef ", "\nclass ", "\nif __name__", "\nprint(", "\n#"];

/// How the code was found; reported in a score's `info.method`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Method {
    /// A fenced code block.
    Fenced,
    /// The whole reply, which has no fences but looks like code.
    Raw,
    /// A base-mode completion continuing the prompt.
    Continuation,
}

impl Method {
    /// The name stored in results, e.g. `fenced`.
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Fenced => "fenced",
            Method::Raw => "raw",
            Method::Continuation => "continuation",
        }
    }
}

/// Code read from a reply.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Extracted {
    /// The code, ending with a newline unless it is a continuation (kept
    /// exactly as the model wrote it).
    pub code: String,
    /// How it was found.
    pub method: Method,
}

/// The code of a chat reply, or `None` when it has none. `entry_point`
/// picks among several blocks.
pub fn from_reply(reply: &str, entry_point: Option<&str>) -> Option<Extracted> {
    let reply = reply.rfind("</think>").map_or(reply, |end| &reply[end + "</think>".len()..]);
    match fenced_blocks(reply) {
        Some(blocks) => {
            let defining = entry_point.and_then(|name| blocks.iter().find(|code| defines(code, name)));
            // `max_by_key` keeps the last of equally long blocks: a reply
            // that revises its code shows the final version last.
            let chosen = defining.or_else(|| blocks.iter().max_by_key(|code| code.trim().len()))?;
            Some(Extracted { code: chosen.clone(), method: Method::Fenced })
        }
        None if looks_like_code(reply) => {
            // Leading blank lines go, but not the first line's indentation
            // (a body continuation starts indented).
            let start: usize =
                reply.split_inclusive('\n').take_while(|line| line.trim().is_empty()).map(str::len).sum();
            let code = format!("{}\n", reply[start..].trim_end());
            Some(Extracted { code, method: Method::Raw })
        }
        None => None,
    }
}

/// A base model's completion cut at the first stop sequence, or `None`
/// when nothing but whitespace is left.
pub fn continuation(completion: &str) -> Option<Extracted> {
    let end = STOP_SEQUENCES.iter().filter_map(|stop| completion.find(stop)).min().unwrap_or(completion.len());
    let code = &completion[..end];
    (!code.trim().is_empty()).then(|| Extracted { code: code.to_string(), method: Method::Continuation })
}

/// Whether `code` defines the function `name` at the top level.
pub fn defines(code: &str, name: &str) -> bool {
    code.lines().any(|line| {
        let rest = line.strip_prefix("def ").or_else(|| line.strip_prefix("async def "));
        rest.and_then(|rest| rest.strip_prefix(name)).is_some_and(|rest| rest.trim_start().starts_with('('))
    })
}

/// The non-blank Python (or untagged) fenced blocks of `text`, each ending
/// with a newline; `None` when the text has no fence at all. An unclosed
/// block runs to the end, as in a reply cut off by the token limit.
fn fenced_blocks(text: &str) -> Option<Vec<String>> {
    let mut blocks = Vec::new();
    let mut seen_fence = false;
    // The block being read: whether it is Python, and its lines.
    let mut open: Option<(bool, Vec<&str>)> = None;
    for line in text.lines() {
        let fence = line.trim_start().strip_prefix("```");
        match open.as_mut() {
            None => {
                if let Some(info) = fence {
                    seen_fence = true;
                    open = Some((is_python(info), Vec::new()));
                }
            }
            // A closing fence has no info string.
            Some((python, lines)) if fence.is_some_and(|rest| rest.trim_start_matches('`').trim().is_empty()) => {
                blocks.extend(block(*python, lines));
                open = None;
            }
            Some((_, lines)) => lines.push(line),
        }
    }
    blocks.extend(open.and_then(|(python, lines)| block(python, &lines)));
    seen_fence.then_some(blocks)
}

fn block(python: bool, lines: &[&str]) -> Option<String> {
    let code = lines.join("\n");
    (python && !code.trim().is_empty()).then(|| code + "\n")
}

/// Whether a fence's info string (after the backticks) names Python or
/// nothing.
fn is_python(info: &str) -> bool {
    let language = info.split_whitespace().next().unwrap_or("").to_ascii_lowercase();
    matches!(language.as_str(), "" | "python" | "py" | "python3")
}

/// Whether unfenced text is code rather than prose: it has a top-level
/// definition or import, or an indented `return` (a body continuation).
fn looks_like_code(text: &str) -> bool {
    text.lines().any(|line| {
        let top_level = ["def ", "async def ", "class ", "import ", "@"].iter().any(|p| line.starts_with(p))
            || (line.starts_with("from ") && line.contains(" import "));
        let indented_return = line.starts_with([' ', '\t']) && {
            let statement = line.trim_start();
            statement == "return" || statement.starts_with("return ")
        };
        top_level || indented_return
    })
}

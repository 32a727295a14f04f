//! Prompt log-probabilities for `POST /v1/completions` with `echo` and
//! `logprobs`, as lm-evaluation-harness and assay ask a base model to score
//! continuations: each prompt (a string, or a list of them) is echoed with
//! one token generated after it, in OpenAI's legacy shape (`tokens`,
//! `token_logprobs`, `top_logprobs`, `text_offset`; the first token's
//! log-probability `null`, as there is nothing before it).
//!
//! **Tokens** are characters: every Unicode scalar value is one token
//! ([`tokenize`]). A Hugging Face tokenizer that splits text the same way
//! (`scripts/compare_loglikelihood.py` writes one) gives another harness
//! the same token boundaries as this server.
//!
//! **Log-probabilities** are a hash of everything before the token and of
//! the token ([`Scorer`]): deterministic, different for every (context,
//! token), so the most likely option varies from question to question.
//! Each is a multiple of 1/1024 in [-8, -1/1024], exact in binary, so sums
//! are the same in any order and any language. A token is the most likely
//! one (its `top_logprobs` entry is itself) when its log-probability is
//! above -1, about one token in eight; otherwise the entry names
//! [`OTHER_TOKEN`], which no single character equals, at -0.5.

use serde_json::Value;
use std::fmt::Write;

/// The token `top_logprobs` names where the prompt's own token was not
/// the most likely one (two characters, so never a prompt token).
pub const OTHER_TOKEN: &str = "<other>";

/// The text generated after each prompt, when `max_tokens` is not 0.
pub const GENERATED: &str = " ";

/// Split `text` into its tokens: one per character.
pub fn tokenize(text: &str) -> impl Iterator<Item = &str> {
    text.char_indices().map(|(start, c)| &text[start..start + c.len_utf8()])
}

/// The log-probabilities of a text, token by token: hashes the text seen
/// so far (FNV-1a, 64 bits) and mixes in each next token.
#[derive(Debug, Clone, Copy)]
pub struct Scorer {
    prefix: u64,
}

impl Default for Scorer {
    fn default() -> Self {
        Scorer { prefix: 0xcbf2_9ce4_8422_2325 }
    }
}

impl Scorer {
    /// The log-probability of `token` after the text seen so far.
    pub fn logprob(&self, token: &str) -> f64 {
        let mixed = splitmix(fnv(self.prefix, token.as_bytes()));
        -(((mixed >> 11) % 8192 + 1) as f64) / 1024.0
    }

    /// Append `token` to the text seen so far.
    pub fn push(&mut self, token: &str) {
        self.prefix = fnv(self.prefix, token.as_bytes());
    }
}

fn fnv(mut hash: u64, bytes: &[u8]) -> u64 {
    for &byte in bytes {
        hash = (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3);
    }
    hash
}

fn splitmix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// The reply to a completions request that asks for echoed prompt
/// log-probabilities; `None` for any other request (it gets the fixed
/// reply). `Err` holds why the request cannot be answered (a 400).
pub(crate) fn reply(body: &[u8], model: &str) -> Option<Result<String, String>> {
    // Most requests do not echo: skip parsing them.
    if !body.windows(6).any(|w| w == b"\"echo\"") {
        return None;
    }
    let request: Value = serde_json::from_slice(body).ok()?;
    let wants = request.get("echo") == Some(&Value::Bool(true))
        && request.get("logprobs").is_some_and(|l| !l.is_null() && l != &Value::Bool(false));
    if !wants {
        return None;
    }
    let generates = request.get("max_tokens").and_then(Value::as_u64) != Some(0);
    Some(prompts(&request).map(|prompts| render(&prompts, generates, model)))
}

/// The request's prompts: a string or a list of strings.
fn prompts(request: &Value) -> Result<Vec<&str>, String> {
    match request.get("prompt") {
        Some(Value::String(prompt)) => Ok(vec![prompt]),
        Some(Value::Array(list)) if !list.is_empty() => list
            .iter()
            .map(|p| p.as_str().ok_or_else(|| "`prompt` must be a string or a list of strings".to_string()))
            .collect(),
        _ => Err("`prompt` must be a string or a non-empty list of strings".into()),
    }
}

/// The reply body, written directly (a reply can hold thousands of tokens).
fn render(prompts: &[&str], generates: bool, model: &str) -> String {
    let mut out = String::with_capacity(prompts.iter().map(|p| p.len() * 48 + 256).sum());
    let (mut prompt_tokens, mut completion_tokens) = (0, 0);
    out.push_str(r#"{"id":"cmpl-stub","object":"text_completion","created":0,"model":"#);
    push_json_string(&mut out, model);
    out.push_str(r#","choices":["#);
    for (index, prompt) in prompts.iter().enumerate() {
        if index > 0 {
            out.push(',');
        }
        let text = if generates { format!("{prompt}{GENERATED}") } else { prompt.to_string() };
        prompt_tokens += prompt.chars().count();
        completion_tokens += usize::from(generates);
        render_choice(&mut out, index, &text);
    }
    let total = prompt_tokens + completion_tokens;
    let _ = write!(
        out,
        r#"],"usage":{{"prompt_tokens":{prompt_tokens},"completion_tokens":{completion_tokens},"total_tokens":{total}}}}}"#
    );
    out
}

/// One choice: the echoed text and each of its tokens' log-probabilities.
fn render_choice(out: &mut String, index: usize, text: &str) {
    let (mut tokens, mut logprobs, mut tops, mut offsets) =
        (String::new(), String::new(), String::new(), String::new());
    let mut scorer = Scorer::default();
    for (position, token) in tokenize(text).enumerate() {
        let separator = if position == 0 { "" } else { "," };
        for list in [&mut tokens, &mut logprobs, &mut tops, &mut offsets] {
            list.push_str(separator);
        }
        push_json_string(&mut tokens, token);
        let _ = write!(offsets, "{position}");
        if position == 0 {
            logprobs.push_str("null");
            tops.push_str("null");
        } else {
            let logprob = scorer.logprob(token);
            let _ = write!(logprobs, "{logprob}");
            tops.push('{');
            match logprob > -1.0 {
                true => push_json_string(&mut tops, token),
                false => push_json_string(&mut tops, OTHER_TOKEN),
            }
            let _ = write!(tops, ":{}}}", if logprob > -1.0 { logprob } else { -0.5 });
        }
        scorer.push(token);
    }
    let _ = write!(out, r#"{{"index":{index},"text":"#);
    push_json_string(out, text);
    let _ = write!(
        out,
        r#","logprobs":{{"tokens":[{tokens}],"token_logprobs":[{logprobs}],"top_logprobs":[{tops}],"text_offset":[{offsets}]}},"finish_reason":"length"}}"#
    );
}

/// `text` as a JSON string; most tokens need no escaping.
fn push_json_string(out: &mut String, text: &str) {
    if text.chars().any(|c| c == '"' || c == '\\' || c < ' ') {
        out.push_str(&Value::from(text).to_string());
    } else {
        out.push('"');
        out.push_str(text);
        out.push('"');
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_probabilities_depend_on_context_and_token_and_are_exact() {
        let mut scorer = Scorer::default();
        scorer.push("Answer:");
        let (a, b) = (scorer.logprob(" A"), scorer.logprob(" B"));
        assert_ne!(a, b);
        let mut other = Scorer::default();
        other.push("Answer?");
        assert_ne!(other.logprob(" A"), a);
        for value in [a, b] {
            assert!((-8.0..0.0).contains(&value));
            assert_eq!((value * 1024.0).fract(), 0.0);
        }
    }

    #[test]
    fn tokens_are_characters() {
        assert_eq!(tokenize("a é\n≠").collect::<Vec<_>>(), ["a", " ", "é", "\n", "≠"]);
    }
}

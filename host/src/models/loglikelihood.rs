//! Scoring continuations by log-likelihood, as lm-evaluation-harness does
//! for base models: `POST /completions` with each `context + continuation`
//! as a prompt, `echo` and `logprobs`, and the log-probabilities of the
//! prompt's own tokens read back.
//!
//! The context/continuation boundary is found by text offsets, so no
//! tokenizer is needed here: a token belongs to the continuation when it
//! ends after the context does (a token straddling the boundary counts,
//! as tokenizing the whole prompt makes it). Servers report prompt
//! log-probabilities in three shapes, all read:
//!
//! - OpenAI's legacy `logprobs` (`tokens`, `token_logprobs`,
//!   `top_logprobs`, `text_offset`): vLLM, SGLang, OpenAI;
//! - vLLM's `prompt_logprobs` (one map per token, `null` first);
//! - a list of `{token, logprob, top_logprobs}` under `logprobs.content`
//!   (llama.cpp's server), with offsets from the token texts.
//!
//! Text Generation Inference does not echo prompts on `/v1/completions`;
//! its own `POST /generate` with `decoder_input_details` returns the
//! prompt's tokens as `details.prefill` (`{id, text, logprob}`, the first
//! `null`), without the most likely tokens. Each continuation then takes
//! two requests: the prefill for its log-probability, and greedy decoding
//! from the context, as many tokens as the continuation has, for whether
//! greedy decoding gives it.

use super::Usage;
use serde_json::{Map, Value, json};

/// The model's score of one continuation.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ContinuationScore {
    /// Summed log-probability of its tokens.
    pub logprob: f64,
    /// How many tokens it took.
    pub tokens: u32,
    /// Whether greedy decoding from the context gives exactly it.
    pub greedy: bool,
}

/// The scores of a request, in continuation order, with the tokens used.
#[derive(Debug, Clone, PartialEq)]
pub struct ScoredContinuations {
    /// One per continuation.
    pub scores: Vec<ContinuationScore>,
    /// Tokens the server reports.
    pub usage: Usage,
    /// Wall time of the successful attempt.
    pub latency_ms: u64,
    /// Attempts made.
    pub attempts: u32,
}

/// The body asking for the prompt log-probabilities of `prompts` (one
/// continuation each, or several in one list).
pub(super) fn body(model: &str, prompts: &[String], sampling_args: &Map<String, Value>) -> Value {
    let mut body = json!({
        "model": model,
        "prompt": prompts,
        "echo": true,
        "logprobs": 1,
        "max_tokens": 1,
        "temperature": 0,
    });
    // A seed or anything else the config sends still goes; the fields
    // that make this a scoring request win.
    for (key, value) in sampling_args {
        if !matches!(key.as_str(), "echo" | "logprobs" | "max_tokens" | "temperature" | "n" | "stream") {
            body[key] = value.clone();
        }
    }
    body
}

/// TGI: the body asking for `prompt`'s own log-probabilities.
pub(super) fn tgi_body(prompt: &str) -> Value {
    let parameters = json!({"max_new_tokens": 1, "details": true, "decoder_input_details": true, "do_sample": false});
    json!({"inputs": prompt, "parameters": parameters})
}

/// TGI: the body asking for `tokens` tokens of greedy decoding after `context`.
pub(super) fn tgi_greedy_body(context: &str, tokens: u32) -> Value {
    json!({"inputs": context, "parameters": {"max_new_tokens": tokens, "do_sample": false}})
}

/// TGI: the score of the continuation after the first `context_len` bytes
/// of `prompt`, from `details.prefill`; `greedy` is left false (TGI gives
/// no most likely tokens for the prompt: ask [`tgi_greedy_body`]).
pub(super) fn parse_tgi(json: &Value, prompt: &str, context_len: usize) -> Result<ContinuationScore, String> {
    let prefill = json.pointer("/details/prefill").and_then(Value::as_array).ok_or("no `details.prefill`")?;
    let texts = prefill.iter().map(|token| token.get("text").and_then(Value::as_str).unwrap_or_default());
    let spans = align(texts, prompt)?;
    let tokens: Vec<Token> = prefill
        .iter()
        .zip(spans)
        .map(|(token, (start, end))| Token {
            text: prompt[start..end].to_string(),
            logprob: token.get("logprob").and_then(Value::as_f64),
            top: false,
        })
        .collect();
    score(&tokens, prompt, context_len)
}

/// Where each token's text lies in `prompt`, as (start, end) byte offsets.
/// Tokens decoded one by one may lose the space before them (SentencePiece
/// tokenizers), which is then taken as theirs; tokens before any of the
/// prompt's text (`<s>`, `<|begin_of_text|>`) take none of it.
fn align<'a>(texts: impl Iterator<Item = &'a str>, prompt: &str) -> Result<Vec<(usize, usize)>, String> {
    let mut offset = 0;
    let mut spans = Vec::new();
    for (index, text) in texts.enumerate() {
        let rest = &prompt[offset..];
        let start = offset;
        if rest.starts_with(text) {
            offset += text.len();
        } else if rest.starts_with(' ') && rest[1..].starts_with(text) {
            offset += 1 + text.len();
        } else if offset != 0 {
            return Err(format!("prompt token {index} ({text:?}) is not the prompt's text at byte {offset}"));
        }
        spans.push((start, offset));
    }
    match offset == prompt.len() {
        true => Ok(spans),
        false => Err("the prompt tokens do not spell the whole prompt".into()),
    }
}

/// TGI: the text greedy decoding generated (`generated_text`).
pub(super) fn tgi_generated_text(json: &Value) -> Result<&str, String> {
    json.get("generated_text").and_then(Value::as_str).ok_or_else(|| "no `generated_text`".to_string())
}

/// One prompt token: its text, log-probability and whether it was the
/// most likely token there.
#[derive(Debug, Clone, PartialEq)]
struct Token {
    text: String,
    logprob: Option<f64>,
    top: bool,
}

/// Read the scores of `prompts` (each `context + continuation`, where the
/// context is the first `context_len` bytes) from a reply.
pub(super) fn parse(json: &Value, prompts: &[String], context_len: usize) -> Result<Vec<ContinuationScore>, String> {
    let choices = json.get("choices").and_then(Value::as_array).ok_or("no `choices`")?;
    if choices.len() != prompts.len() {
        return Err(format!("{} choices for {} prompts", choices.len(), prompts.len()));
    }
    let mut scores = vec![None; prompts.len()];
    for (position, choice) in choices.iter().enumerate() {
        let index = choice.get("index").and_then(Value::as_u64).map_or(position, |i| i as usize);
        let prompt = prompts.get(index).ok_or_else(|| format!("a choice has index {index}"))?;
        let tokens =
            tokens(choice).ok_or("no prompt log-probabilities (`logprobs` with `echo`, or `prompt_logprobs`)")?;
        scores[index] = Some(score(&tokens, prompt, context_len)?);
    }
    scores.into_iter().map(|s| s.ok_or_else(|| "a prompt has no choice".to_string())).collect()
}

/// The prompt tokens of a choice, in any of the shapes servers use.
fn tokens(choice: &Value) -> Option<Vec<Token>> {
    let logprobs = choice.get("logprobs").filter(|l| !l.is_null());
    if let Some(tokens) = logprobs.and_then(legacy_tokens) {
        return Some(tokens);
    }
    if let Some(content) = logprobs.and_then(|l| l.get("content")).and_then(Value::as_array) {
        return content.iter().map(content_token).collect();
    }
    choice.get("prompt_logprobs").and_then(Value::as_array).map(|list| vllm_prompt_tokens(list))
}

/// `{tokens, token_logprobs, top_logprobs}` (OpenAI, vLLM, SGLang).
fn legacy_tokens(logprobs: &Value) -> Option<Vec<Token>> {
    let texts = logprobs.get("tokens")?.as_array()?;
    let values = logprobs.get("token_logprobs")?.as_array()?;
    let tops = logprobs.get("top_logprobs").and_then(Value::as_array);
    let tokens = texts.iter().zip(values).enumerate().map(|(i, (text, value))| {
        let text = text.as_str().unwrap_or_default().to_string();
        let top = tops
            .and_then(|t| t.get(i))
            .and_then(Value::as_object)
            .and_then(|m| best(m.iter().map(|(t, v)| (t.as_str(), v))));
        Token { top: top.is_some_and(|best| best == text), logprob: value.as_f64(), text }
    });
    Some(tokens.collect())
}

/// `{token, logprob, top_logprobs: [{token, logprob}]}` (llama.cpp).
fn content_token(entry: &Value) -> Option<Token> {
    let text = entry.get("token")?.as_str()?.to_string();
    let tops = entry.get("top_logprobs").and_then(Value::as_array);
    let best =
        tops.and_then(|tops| best(tops.iter().filter_map(|t| Some((t.get("token")?.as_str()?, t.get("logprob")?)))));
    Some(Token { top: best.is_some_and(|b| b == text), logprob: entry.get("logprob").and_then(Value::as_f64), text })
}

/// vLLM's `prompt_logprobs`: `null`, then per token a map from token id to
/// `{logprob, rank, decoded_token}`. The prompt's own token is the one the
/// server marks with its rank; when several are listed, the lowest rank
/// among them is the prompt token only if it is the first listed, so the
/// first entry is taken (vLLM lists the sampled/prompt token first).
fn vllm_prompt_tokens(list: &[Value]) -> Vec<Token> {
    list.iter()
        .map(|entry| match entry.as_object().and_then(|m| m.values().next()) {
            Some(token) => Token {
                text: token.get("decoded_token").and_then(Value::as_str).unwrap_or_default().to_string(),
                logprob: token.get("logprob").and_then(Value::as_f64),
                top: token.get("rank").and_then(Value::as_u64) == Some(1),
            },
            // The first token has no log-probability: nothing precedes it.
            None => Token { text: String::new(), logprob: None, top: false },
        })
        .collect()
}

/// The most likely of `(token, logprob)` pairs.
fn best<'a>(pairs: impl Iterator<Item = (&'a str, &'a Value)>) -> Option<&'a str> {
    pairs.filter_map(|(t, v)| Some((t, v.as_f64()?))).max_by(|a, b| a.1.total_cmp(&b.1)).map(|(t, _)| t)
}

/// Sum the continuation's tokens: those ending after the context, up to
/// the end of the prompt (the generated token after it is left out).
fn score(tokens: &[Token], prompt: &str, context_len: usize) -> Result<ContinuationScore, String> {
    let (mut offset, mut logprob, mut count, mut greedy) = (0usize, 0.0, 0u32, true);
    for (index, token) in tokens.iter().enumerate() {
        if offset >= prompt.len() {
            break;
        }
        let mut end = offset + token.text.len();
        if index == 0 && token.text.is_empty() {
            // vLLM does not decode the first prompt token: it is whatever
            // the others leave of the prompt.
            end = prompt.len().saturating_sub(tokens[1..].iter().map(|t| t.text.len()).sum::<usize>());
        }
        if end > context_len {
            logprob += token.logprob.ok_or("a continuation token has no log-probability")?;
            count += 1;
            greedy &= token.top;
        }
        offset = end;
    }
    if offset < prompt.len() {
        return Err("the log-probabilities cover only part of the prompt (does the server echo it?)".into());
    }
    if count == 0 {
        return Err("the continuation has no tokens of its own".into());
    }
    Ok(ContinuationScore { logprob, tokens: count, greedy })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn prompts() -> Vec<String> {
        vec!["Paris is in France".into(), "Paris is in Spain".into()]
    }

    /// A TGI reply's prefill: `<s>`, then tokens decoded one by one as a
    /// SentencePiece tokenizer does (the space before a word dropped).
    fn tgi_reply(texts: &[&str], logprobs: &[Option<f64>]) -> Value {
        let prefill: Vec<Value> = texts
            .iter()
            .zip(logprobs)
            .enumerate()
            .map(|(id, (text, logprob))| json!({"id": id, "text": text, "logprob": logprob}))
            .collect();
        json!({"generated_text": ".", "details": {"finish_reason": "length", "generated_tokens": 1, "prefill": prefill}})
    }

    #[test]
    fn tgi_prefill_is_aligned_past_a_bos_token_and_dropped_spaces() {
        let reply = tgi_reply(
            &["<s>", "Paris", "is", "in", "France"],
            &[None, Some(-5.0), Some(-1.0), Some(-0.5), Some(-0.25)],
        );
        let score = parse_tgi(&reply, "Paris is in France", "Paris is in".len()).unwrap();
        assert_eq!(score, ContinuationScore { logprob: -0.25, tokens: 1, greedy: false });
        // Byte-level BPE keeps the spaces; no BOS token.
        let reply = tgi_reply(&["Paris", " is", " in", " France"], &[None, Some(-1.0), Some(-0.5), Some(-0.25)]);
        let score = parse_tgi(&reply, "Paris is in France", "Paris is".len()).unwrap();
        assert_eq!(score, ContinuationScore { logprob: -0.75, tokens: 2, greedy: false });
    }

    #[test]
    fn tgi_prefill_that_does_not_spell_the_prompt_is_refused() {
        let reply =
            tgi_reply(&["<s>", "Paris", "is", "in", "Spain"], &[None, Some(-5.0), Some(-1.0), Some(-0.5), Some(-2.0)]);
        let error = parse_tgi(&reply, "Paris is in France", 11).unwrap_err();
        assert_eq!(error, "prompt token 4 (\"Spain\") is not the prompt's text at byte 11");
        let reply = tgi_reply(&["Paris", " is"], &[None, Some(-1.0)]);
        assert_eq!(parse_tgi(&reply, "Paris is in", 5).unwrap_err(), "the prompt tokens do not spell the whole prompt");
        assert_eq!(parse_tgi(&json!({"generated_text": "x"}), "Paris", 2).unwrap_err(), "no `details.prefill`");
    }

    #[test]
    fn legacy_logprobs_are_split_at_the_context_by_offsets() {
        let reply = json!({"choices": [
            {"index": 1, "logprobs": {"tokens": ["Paris", " is", " in", " Spain", "."], "token_logprobs": [null, -0.5, -0.2, -4.0, -1.0],
              "top_logprobs": [null, {" is": -0.5}, {" in": -0.2}, {" France": -0.1}, {".": -1.0}], "text_offset": [0, 5, 8, 11, 17]}},
            {"index": 0, "logprobs": {"tokens": ["Paris", " is", " in", " France", "."], "token_logprobs": [null, -0.5, -0.2, -0.1, -1.0],
              "top_logprobs": [null, {" is": -0.5}, {" in": -0.2}, {" France": -0.1, " Spain": -4.0}, {".": -1.0}], "text_offset": [0, 5, 8, 11, 18]}}
        ]});
        let scores = parse(&reply, &prompts(), "Paris is in".len()).unwrap();
        assert_eq!(scores[0], ContinuationScore { logprob: -0.1, tokens: 1, greedy: true });
        assert_eq!(scores[1], ContinuationScore { logprob: -4.0, tokens: 1, greedy: false });
    }

    #[test]
    fn vllm_prompt_logprobs_and_llama_cpp_content_are_read_too() {
        let vllm = json!({"choices": [
            {"prompt_logprobs": [null, {"3": {"logprob": -0.5, "rank": 1, "decoded_token": " is"}}, {"4": {"logprob": -0.2, "rank": 1, "decoded_token": " in"}}, {"9": {"logprob": -0.3, "rank": 2, "decoded_token": " France"}}],
             "logprobs": null}
        ]});
        // vLLM does not decode the first prompt token (`Paris`).
        let scores = parse(&vllm, &prompts()[..1], "Paris is in".len()).unwrap();
        assert_eq!(scores[0], ContinuationScore { logprob: -0.3, tokens: 1, greedy: false });
        let llama = json!({"choices": [{"logprobs": {"content": [
            {"token": "Paris", "logprob": -3.0, "top_logprobs": [{"token": "Paris", "logprob": -3.0}]},
            {"token": " is", "logprob": -0.5, "top_logprobs": [{"token": " is", "logprob": -0.5}]},
            {"token": " in", "logprob": -0.2, "top_logprobs": [{"token": " in", "logprob": -0.2}]},
            {"token": " France", "logprob": -0.1, "top_logprobs": [{"token": " France", "logprob": -0.1}]}]}}]});
        let scores = parse(&llama, &prompts()[..1], "Paris is in".len()).unwrap();
        assert_eq!(scores[0], ContinuationScore { logprob: -0.1, tokens: 1, greedy: true });
    }

    #[test]
    fn replies_without_prompt_logprobs_say_so() {
        let generated_only = json!({"choices": [{"text": "!", "logprobs": {"tokens": ["!"], "token_logprobs": [-1.0], "text_offset": [18]}}]});
        let error = parse(&generated_only, &prompts()[..1], 11).unwrap_err();
        assert!(error.contains("only part of the prompt"), "{error}");
        let none = json!({"choices": [{"text": "!"}]});
        assert!(parse(&none, &prompts()[..1], 11).unwrap_err().contains("no prompt log-probabilities"));
        assert!(parse(&json!({"choices": []}), &prompts()[..1], 11).unwrap_err().contains("0 choices for 1 prompts"));
    }
}

//! Result lines read without serde_json when they are exactly as assay
//! writes them: serde_json's compact form, the fields in
//! [`SampleResult`](super::SampleResult)'s order, no error. This is
//! `process`'s hot path: serde_json looks up every key and scans every
//! string byte by byte, and that was half of `process`'s instructions.
//!
//! Here each key is compared with the one expected next, strings are
//! scanned sixteen bytes at a time, and JSON kept as written (the prompt,
//! the info) is checked as serde_json checks it. A line in any other form (an
//! older field order, whitespace, a recorded error, a number written
//! unusually, a lone surrogate in an escape) gets `None`, and the caller
//! reads it with serde_json, which takes it or says what is wrong. The
//! tests check that every line this takes reads as serde_json reads it.

use super::results::{ParseStatus, RawJson, ResultLine, Tokens};
use std::borrow::Cow;
use std::collections::BTreeMap;

/// How deep objects and arrays may nest inside a kept value; deeper ones
/// are left to serde_json (whose own limit is 128).
const MAX_DEPTH: usize = 100;

/// `line` (with or without its newline) as a [`ResultLine`], or `None` if
/// it is not in the form assay writes.
pub(super) fn read(line: &str) -> Option<ResultLine<'_>> {
    let mut cursor = Cursor { text: line, at: 0 };
    let line = cursor.fields()?;
    matches!(&cursor.text[cursor.at..], "" | "\n").then_some(line)
}

/// A position in a line's text.
struct Cursor<'a> {
    text: &'a str,
    at: usize,
}

impl<'a> Cursor<'a> {
    /// Every field, in the order [`SampleResult`](super::SampleResult)
    /// writes them; optional ones only when there.
    fn fields(&mut self) -> Option<ResultLine<'a>> {
        let example_id = self.after("{\"example_id\":", Self::string)?;
        let example_index = usize::try_from(self.after(",\"example_index\":", Self::unsigned)?).ok()?;
        let rollout = u32::try_from(self.after(",\"rollout\":", Self::unsigned)?).ok()?;
        let seed = self.after(",\"seed\":", Self::unsigned)?;
        let group = self.optional(",\"group\":", Self::string)?;
        let prompt = self.after(",\"prompt\":", Self::raw)?;
        let prompt_text = self.optional(",\"prompt_text\":", Self::string)?;
        let sampling_seed = self.optional(",\"sampling_seed\":", Self::unsigned)?;
        let continuations = self.optional(",\"continuations\":", Self::raw)?;
        let judge_calls = self.optional(",\"judge_calls\":", Self::raw)?;
        let completion = self.after(",\"completion\":", |c| c.nullable(Self::string))?;
        let reasoning = self.after(",\"reasoning\":", |c| c.nullable(Self::string))?;
        let reward = self.after(",\"reward\":", |c| c.nullable(Self::float))?;
        let parsed_answer = self.after(",\"parsed_answer\":", |c| c.nullable(Self::string))?;
        let parse_status = self.after(",\"parse_status\":", |c| c.nullable(Self::parse_status))?;
        let metrics = self.after(",\"metrics\":", Self::metrics)?;
        let info = self.after(",\"info\":", Self::raw)?;
        let transcript = self.optional(",\"transcript\":", Self::raw)?;
        let code_runs = self.optional(",\"code_runs\":", Self::raw)?;
        // Artifacts are not a column: checked, then left.
        self.optional(",\"artifacts\":", Self::raw)?;
        let turns = u32::try_from(self.after(",\"turns\":", Self::unsigned)?).ok()?;
        let tokens = self.after(",\"tokens\":", Self::tokens)?;
        let latency_ms = self.after(",\"latency_ms\":", Self::unsigned)?;
        let cache_hits =
            self.optional(",\"cache_hits\":", Self::unsigned)?.map_or(Some(0), |n| u32::try_from(n).ok())?;
        // A recorded error is rare: serde_json reads those lines.
        self.expect(",\"error\":null")?;
        let cost_usd = self.optional(",\"cost_usd\":", Self::float)?;
        let finished_at = self.after(",\"finished_at\":", Self::string)?;
        self.expect("}")?;
        Some(ResultLine {
            example_id,
            example_index,
            rollout,
            seed,
            group,
            prompt,
            prompt_text,
            sampling_seed,
            continuations,
            completion,
            reasoning,
            reward,
            parsed_answer,
            parse_status,
            metrics,
            info,
            transcript,
            code_runs,
            judge_calls,
            turns,
            tokens,
            latency_ms,
            error: None,
            cost_usd,
            cache_hits,
            finished_at,
        })
    }

    #[inline(always)]
    fn peek(&self) -> Option<u8> {
        self.text.as_bytes().get(self.at).copied()
    }

    /// Step over `literal` if it comes next.
    #[inline(always)]
    fn eat(&mut self, literal: &str) -> bool {
        let next = self.text.as_bytes()[self.at..].starts_with(literal.as_bytes());
        self.at += if next { literal.len() } else { 0 };
        next
    }

    #[inline(always)]
    fn expect(&mut self, literal: &str) -> Option<()> {
        self.eat(literal).then_some(())
    }

    /// The value after `key`, which must come next.
    #[inline(always)]
    fn after<T>(&mut self, key: &str, read: impl FnOnce(&mut Self) -> Option<T>) -> Option<T> {
        self.expect(key)?;
        read(self)
    }

    /// The value after `key` if `key` comes next; `null` reads as absent, as
    /// serde reads an `Option`. `None` if the value does not read.
    #[inline(always)]
    fn optional<T>(&mut self, key: &str, read: impl FnOnce(&mut Self) -> Option<T>) -> Option<Option<T>> {
        if self.eat(key) { self.nullable(read) } else { Some(None) }
    }

    #[inline(always)]
    fn nullable<T>(&mut self, read: impl FnOnce(&mut Self) -> Option<T>) -> Option<Option<T>> {
        if self.eat("null") { Some(None) } else { read(self).map(Some) }
    }

    /// A string, unescaped: borrowed from the line unless it holds an
    /// escape, which serde_json then reads (it refuses lone surrogates).
    fn string(&mut self) -> Option<Cow<'a, str>> {
        let start = self.at;
        let escaped = self.skip_string()?;
        let json = &self.text[start..self.at];
        if escaped {
            serde_json::from_str(json).ok().map(Cow::Owned)
        } else {
            Some(Cow::Borrowed(&json[1..json.len() - 1]))
        }
    }

    /// Step over a string; whether it holds an escape. Escapes are checked
    /// as serde_json checks them in a value it keeps as written, and so are
    /// control characters, which must be escaped.
    fn skip_string(&mut self) -> Option<bool> {
        self.expect("\"")?;
        let mut escaped = false;
        loop {
            self.at += special_byte(&self.text.as_bytes()[self.at..])?;
            match self.peek()? {
                b'"' => {
                    self.at += 1;
                    return Some(escaped);
                }
                b'\\' => {
                    escaped = true;
                    self.at += 1;
                    match self.peek()? {
                        b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't' => self.at += 1,
                        b'u' => {
                            let hex = self.text.as_bytes().get(self.at + 1..self.at + 5)?;
                            hex.iter().all(u8::is_ascii_hexdigit).then_some(())?;
                            self.at += 5;
                        }
                        _ => return None,
                    }
                }
                _ => return None,
            }
        }
    }

    /// A non-negative integer as serde_json writes one: digits, no
    /// leading zero, within `u64`.
    fn unsigned(&mut self) -> Option<u64> {
        let digits = self.text.as_bytes()[self.at..].iter().take_while(|b| b.is_ascii_digit()).count();
        let text = &self.text.as_bytes()[self.at..self.at + digits];
        if digits == 0 || (digits > 1 && text[0] == b'0') {
            return None;
        }
        self.at += digits;
        text.iter().try_fold(0u64, |n, digit| n.checked_mul(10)?.checked_add(u64::from(digit - b'0')))
    }

    /// A number as serde_json writes an `f64` (with a fraction or an
    /// exponent), read to the same `f64`: both round correctly. Anything
    /// serde_json might read otherwise (an integer, out of range, rounding
    /// to zero) is left to it.
    fn float(&mut self) -> Option<f64> {
        let start = self.at;
        if !self.skip_number()? {
            return None;
        }
        let text = &self.text[start..self.at];
        let value: f64 = text.parse().ok()?;
        let zero_written =
            || !text.split(['e', 'E']).next().is_some_and(|digits| digits.contains(|c| c > '0' && c <= '9'));
        (value.is_finite() && (value != 0.0 || zero_written())).then_some(value)
    }

    /// Step over a number: `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`;
    /// whether it had a fraction or an exponent.
    fn skip_number(&mut self) -> Option<bool> {
        self.eat("-");
        match self.peek()? {
            b'0' => self.at += 1,
            b'1'..=b'9' => self.skip_digits(),
            _ => return None,
        }
        let fraction = self.eat(".");
        if fraction {
            self.peek()?.is_ascii_digit().then_some(())?;
            self.skip_digits();
        }
        let exponent = self.eat("e") || self.eat("E");
        if exponent {
            let _ = self.eat("+") || self.eat("-");
            self.peek()?.is_ascii_digit().then_some(())?;
            self.skip_digits();
        }
        Some(fraction || exponent)
    }

    fn skip_digits(&mut self) {
        self.at += self.text.as_bytes()[self.at..].iter().take_while(|b| b.is_ascii_digit()).count();
    }

    /// Any JSON value, kept as written once checked.
    fn raw(&mut self) -> Option<RawJson<'a>> {
        let start = self.at;
        self.skip_value(0)?;
        Some(RawJson::checked(&self.text[start..self.at]))
    }

    /// Step over a value in compact form (no whitespace), inside `depth`
    /// objects and arrays, checking it.
    fn skip_value(&mut self, depth: usize) -> Option<()> {
        match self.peek()? {
            b'"' => self.skip_string().map(drop),
            b'{' | b'[' if depth == MAX_DEPTH => None,
            b'{' => {
                self.at += 1;
                self.skip_items(b'}', |cursor| {
                    cursor.skip_string()?;
                    cursor.expect(":")?;
                    cursor.skip_value(depth + 1)
                })
            }
            b'[' => {
                self.at += 1;
                self.skip_items(b']', |cursor| cursor.skip_value(depth + 1))
            }
            b't' => self.expect("true"),
            b'f' => self.expect("false"),
            b'n' => self.expect("null"),
            _ => self.skip_number().map(drop),
        }
    }

    /// Step over comma-separated items, each read by `item`, up to and
    /// including `close`.
    fn skip_items(&mut self, close: u8, mut item: impl FnMut(&mut Self) -> Option<()>) -> Option<()> {
        if self.peek()? == close {
            self.at += 1;
            return Some(());
        }
        loop {
            item(self)?;
            match self.peek()? {
                b',' => self.at += 1,
                byte if byte == close => {
                    self.at += 1;
                    return Some(());
                }
                _ => return None,
            }
        }
    }

    /// One of the statuses [`ParseStatus`] spells.
    fn parse_status(&mut self) -> Option<ParseStatus> {
        let status = match self.string()?.as_ref() {
            "ok" => ParseStatus::Ok,
            "no-answer" => ParseStatus::NoAnswer,
            "malformed" => ParseStatus::Malformed,
            "hedged" => ParseStatus::Hedged,
            "ungraded" => ParseStatus::Ungraded,
            _ => return None,
        };
        Some(status)
    }

    /// An object of numbers; a repeated name keeps its last value, as
    /// serde_json reads a map.
    fn metrics(&mut self) -> Option<BTreeMap<Cow<'a, str>, f64>> {
        let mut metrics = BTreeMap::new();
        self.expect("{")?;
        self.skip_items(b'}', |cursor| {
            let name = cursor.string()?;
            cursor.expect(":")?;
            metrics.insert(name, cursor.float()?);
            Some(())
        })?;
        Some(metrics)
    }

    fn tokens(&mut self) -> Option<Tokens> {
        let prompt = self.after("{\"prompt\":", Self::unsigned)?;
        let completion = self.after(",\"completion\":", Self::unsigned)?;
        let reasoning = self.after(",\"reasoning\":", Self::unsigned)?;
        self.expect("}")?;
        Some(Tokens { prompt, completion, reasoning })
    }
}

/// Where the first quote, backslash or control character in `bytes` is:
/// sixteen bytes at a time with SSE2 (every x86-64 CPU has it), eight at a
/// time elsewhere and for the last few.
fn special_byte(bytes: &[u8]) -> Option<usize> {
    let mut offset = 0;
    #[cfg(target_arch = "x86_64")]
    while let Some(chunk) = bytes.get(offset..offset + 16) {
        let found = special_bytes_sse2(chunk.try_into().expect("sixteen bytes"));
        if found != 0 {
            return Some(offset + found.trailing_zeros() as usize);
        }
        offset += 16;
    }
    while offset < bytes.len() {
        let rest = &bytes[offset..];
        let mut chunk = [b' '; 8];
        let length = rest.len().min(8);
        chunk[..length].copy_from_slice(&rest[..length]);
        let found = special_bytes_swar(u64::from_le_bytes(chunk));
        if found != 0 {
            return Some(offset + found.trailing_zeros() as usize / 8);
        }
        offset += 8;
    }
    None
}

/// The high bit of each byte of `chunk` that is below 0x20, a quote or a
/// backslash (serde_json's own test); the lowest one set is exact, as a
/// borrow only runs upward.
fn special_bytes_swar(chunk: u64) -> u64 {
    const ONES: u64 = u64::MAX / 255;
    let quote = chunk ^ (ONES * u64::from(b'"'));
    let backslash = chunk ^ (ONES * u64::from(b'\\'));
    let control = chunk.wrapping_sub(ONES * 0x20) & !chunk;
    (control | (quote.wrapping_sub(ONES) & !quote) | (backslash.wrapping_sub(ONES) & !backslash)) & (ONES << 7)
}

/// A bit for each byte of `chunk` that is below 0x20, a quote or a
/// backslash.
#[cfg(target_arch = "x86_64")]
fn special_bytes_sse2(chunk: &[u8; 16]) -> u32 {
    use std::arch::x86_64::{
        _mm_cmpeq_epi8, _mm_loadu_si128, _mm_max_epu8, _mm_movemask_epi8, _mm_or_si128, _mm_set1_epi8,
    };
    // SAFETY: SSE2 is part of x86-64, so every CPU this runs on has it, and
    // the load reads the sixteen bytes `chunk` borrows.
    unsafe {
        let bytes = _mm_loadu_si128(chunk.as_ptr().cast());
        let quote = _mm_cmpeq_epi8(bytes, _mm_set1_epi8(b'"' as i8));
        let backslash = _mm_cmpeq_epi8(bytes, _mm_set1_epi8(b'\\' as i8));
        // Below 0x20 (unsigned) when the larger of it and 0x1f is 0x1f.
        let control = _mm_cmpeq_epi8(_mm_max_epu8(bytes, _mm_set1_epi8(0x1f)), _mm_set1_epi8(0x1f));
        _mm_movemask_epi8(_mm_or_si128(_mm_or_si128(quote, backslash), control)) as u32
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::SampleResult;
    use serde_json::{Value, json};

    /// Texts that stress strings: escapes, quotes, backslashes (one last),
    /// non-ASCII, control characters, lengths around the eight-byte step.
    const TEXTS: [&str; 8] = [
        "plain",
        "",
        "line\nbreak \"quoted\" back\\slash / slash",
        "naïve — 数学 🙂 \u{2028}",
        "\u{1}\u{1f}\t\r\u{7f} controls",
        "ends with a backslash \\",
        "seven77",
        "exactly sixteen!",
    ];

    /// A line as assay writes it: `text` in every string, and, when `full`,
    /// every optional field too.
    fn written(text: &str, index: usize, full: bool) -> String {
        let messages = json!([{"role": "user", "content": text}]);
        let reward = [1.0, 0.0, 0.1 + 0.2, -0.0, 5e-324, 1e300, 0.25, -2.5e-7][index % 8];
        let status = ["ok", "no-answer", "malformed", "hedged", "ungraded"][index % 5];
        let mut sample = json!({
            "example_id": format!("q{index}{text}"), "example_index": index, "rollout": index % 3,
            "seed": u64::MAX - index as u64, "prompt": messages, "completion": text, "reasoning": null,
            "reward": reward,
            "parsed_answer": text, "parse_status": status,
            "metrics": {}, "info": null, "turns": 1, "tokens": {"prompt": 40, "completion": 0, "reasoning": 18446744073709551615u64},
            "latency_ms": 850, "error": null, "finished_at": "2026-11-23T05:00:00.000000Z",
        });
        if full {
            let extra = json!({
                "group": text, "prompt_text": text, "sampling_seed": 0,
                "continuations": [{"text": text, "logprob": -1.25, "tokens": 3, "greedy": true}],
                "judge_calls": [{"messages": messages, "reply": text, "tokens": {"prompt": 1, "completion": 2, "reasoning": 0}, "latency_ms": 3}],
                "reasoning": text, "reward": null, "parsed_answer": null, "parse_status": null,
                "metrics": {"length": 3.0, text: -0.5, "zero": 0.0},
                "info": {"gold": text, "nested": [1, -2.5e-3, 1E+2, true, false, null, {"deep": [[[]]], "": {}}]},
                "transcript": [{"role": "assistant", "content": text}, {"role": "user", "content": "go on"}],
                "code_runs": [{"language": "python", "exit_code": -1, "stdout": text, "stderr": "", "timed_out": true, "duration_ms": 5}],
                "artifacts": ["diff.patch", text], "cache_hits": 2, "cost_usd": 0.000058,
            });
            for (key, value) in extra.as_object().unwrap() {
                sample[key] = value.clone();
            }
        }
        let sample: SampleResult = serde_json::from_value(sample).unwrap();
        serde_json::to_string(&sample).unwrap() + "\n"
    }

    fn written_lines() -> Vec<String> {
        let lines =
            TEXTS.iter().enumerate().flat_map(|(index, text)| [false, true].map(|full| written(text, index, full)));
        lines.collect()
    }

    fn serde_reads(line: &str) -> serde_json::Result<ResultLine<'_>> {
        serde_json::from_str(line)
    }

    #[test]
    fn lines_assay_writes_read_as_serde_json_reads_them() {
        for line in written_lines() {
            let fast = read(&line).unwrap_or_else(|| panic!("not read: {line}"));
            assert_eq!(fast, serde_reads(&line).unwrap(), "{line}");
            assert_eq!(read(line.trim_end()), Some(fast), "without its newline");
        }
        // Everything is read, ids and texts unescaped.
        let line = written(TEXTS[2], 2, true);
        let fast = read(&line).unwrap();
        assert_eq!(fast.completion.as_deref(), Some(TEXTS[2]));
        assert_eq!(fast.metrics.get(TEXTS[2]), Some(&-0.5));
        assert_eq!((fast.cache_hits, fast.cost_usd, fast.tokens.reasoning), (2, Some(0.000058), u64::MAX));
        assert!(fast.code_runs.unwrap().get().contains("\"timed_out\":true"));
    }

    #[test]
    fn other_forms_are_left_to_serde_json() {
        let line = written("plain", 1, true);
        let value: Value = serde_json::from_str(&line).unwrap();
        let mut with_error = value.clone();
        with_error["error"] = json!({"kind": "server-error", "message": "HTTP 500", "attempts": 3});
        let mut reordered = serde_json::Map::new();
        for (key, field) in value.as_object().unwrap().iter().rev() {
            reordered.insert(key.clone(), field.clone());
        }
        for other in [
            serde_json::to_string_pretty(&value).unwrap(),
            serde_json::to_string(&with_error).unwrap(),
            serde_json::to_string(&reordered).unwrap(),
            line.replace("\"rollout\":1", "\"rollout\":1.0"),
            line.replace("\"turns\":1", "\"turns\":1e0"),
            line.replace("\"reward\":null", "\"reward\":1"),
            line.replace("\n", " \n"),
            line.replace("\"completion\":\"plain\"", "\"completion\":\"\\ud800\""),
        ] {
            assert_eq!(read(&other), None, "{other}");
        }
        // A lone surrogate is kept in JSON kept as written, as serde_json keeps it.
        let kept = line.replace("\"gold\":\"plain\"", "\"gold\":\"\\ud800\"");
        assert_eq!(read(&kept), Some(serde_reads(&kept).unwrap()));
    }

    /// Lines with one byte changed, inserted or removed, or cut short:
    /// whatever this reads, serde_json reads the same way.
    #[test]
    fn damaged_lines_read_as_serde_json_reads_them_or_not_at_all() {
        const BYTES: &[u8] = b"\"\\{}[]:,.-+0159eEnutlfa /\x01\n";
        let mut state = 0x9E37_79B9_7F4A_7C15u64;
        let mut random = |below: usize| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state % below as u64) as usize
        };
        let (mut tried, mut read_fast) = (0, 0);
        for line in written_lines() {
            for _ in 0..1500 {
                let mut bytes = line.clone().into_bytes();
                let at = random(bytes.len());
                match random(4) {
                    0 => bytes[at] = BYTES[random(BYTES.len())],
                    1 => bytes.insert(at, BYTES[random(BYTES.len())]),
                    2 => drop(bytes.remove(at)),
                    _ => bytes.truncate(at),
                }
                let Ok(damaged) = String::from_utf8(bytes) else { continue };
                tried += 1;
                if let Some(fast) = read(&damaged) {
                    read_fast += 1;
                    let serde = serde_reads(&damaged)
                        .unwrap_or_else(|e| panic!("read what serde_json refuses ({e}): {damaged}"));
                    assert_eq!(fast, serde, "{damaged}");
                }
            }
        }
        // The test means something only if many damaged lines still read.
        assert!(read_fast > tried / 20, "{read_fast} of {tried} read");
    }

    #[test]
    fn special_bytes_are_found_at_every_offset() {
        for length in 0..20 {
            for at in 0..length {
                for byte in [b'"', b'\\', 0, 0x1f] {
                    let mut bytes = vec![b'a'; length];
                    bytes[at] = byte;
                    // Bytes above 0x7f and 0x20 itself are not special.
                    bytes.extend_from_slice("é ".as_bytes());
                    assert_eq!(special_byte(&bytes), Some(at), "{bytes:?}");
                }
            }
            assert_eq!(special_byte(&vec![b' '; length]), None);
        }
    }
}

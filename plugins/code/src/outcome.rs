//! Turning the sandbox's result into a score.

use crate::extract::Extracted;
use assay_sdk::{CodeResult, Score};

/// How much of the end of stderr is kept in `info.stderr_tail`: enough for
/// a traceback's last frames and the exception.
pub const STDERR_TAIL_CHARS: usize = 1000;

/// Reward 1 when the program exited with status 0 within its time limit:
/// every test passed.
pub fn score(extracted: &Extracted, result: &CodeResult) -> Score {
    let passed = result.exit_code == 0 && !result.timed_out;
    Score::correct_if(passed)
        .answer(extracted.code.as_str())
        .info("method", extracted.method.as_str())
        .info("passed", passed)
        .info("exit_code", result.exit_code)
        .info("timed_out", result.timed_out)
        .info("duration_ms", result.duration_ms)
        .info("stderr_tail", tail(&result.stderr, STDERR_TAIL_CHARS))
}

/// The last `chars` characters of `text`.
fn tail(text: &str, chars: usize) -> &str {
    let start = text.char_indices().rev().take(chars).last().map_or(text.len(), |(i, _)| i);
    &text[start..]
}

#[cfg(test)]
mod tests {
    use super::tail;

    #[test]
    fn tail_counts_characters_not_bytes() {
        assert_eq!(tail("abcdé", 2), "dé");
        assert_eq!(tail("ab", 5), "ab");
        assert_eq!(tail("ab", 0), "");
    }
}

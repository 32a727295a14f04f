//! Reading the chosen option from a model's reply.
//!
//! Explicit answer statements come first (`<answer>` tags, `\boxed{}`,
//! "the answer is (X)", "Answer: X"); the last readable one wins, since a
//! reply that changes its mind ends with its final choice. Without any,
//! fallbacks read a bare letter, a single letter named near the end, or
//! the text of a single option near the end. Reasoning inside
//! `<think>…</think>` is ignored.

mod content;
mod fallback;
mod markers;
mod text;

#[cfg(test)]
mod tests;

use content::Reading;

/// How an answer was found; reported in a score's `info.method`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    /// `<answer>C</answer>`.
    AnswerTag,
    /// `\boxed{C}`.
    Boxed,
    /// "The answer is (C)", "**Answer:** C", "the correct option is C".
    AnswerPhrase,
    /// A reply that is a letter: "C", "(C)", "C) text".
    BareLetter,
    /// The only letter named near the end: "…so we pick (C)."
    LetterMention,
    /// The exact text of the only option quoted near the end.
    OptionText,
}

impl Method {
    /// The name stored in results, e.g. `answer_phrase`.
    pub fn as_str(self) -> &'static str {
        match self {
            Method::AnswerTag => "answer_tag",
            Method::Boxed => "boxed",
            Method::AnswerPhrase => "answer_phrase",
            Method::BareLetter => "bare_letter",
            Method::LetterMention => "letter_mention",
            Method::OptionText => "option_text",
        }
    }
}

/// What a reply answers.
#[derive(Debug, Clone, PartialEq)]
pub enum Extraction {
    /// The option at `index` (0 = A).
    Answer {
        /// Index of the chosen option.
        index: usize,
        /// How it was found.
        method: Method,
    },
    /// An explicit answer whose content is no valid option: text that
    /// matches no option, a letter beyond the options, or two letters.
    Malformed {
        /// Which kind of statement it was.
        method: Method,
        /// An excerpt of what it said.
        content: String,
    },
    /// Nothing answer-like.
    NoAnswer,
}

/// Read the answer to a question with `options` from `completion`.
pub fn extract(completion: &str, options: &[String]) -> Extraction {
    let region = text::answer_region(completion);
    let markers = markers::find_all(region, options);
    let last_readable = markers.iter().rev().find_map(|m| match m.reading {
        Reading::Option(index) => Some(Extraction::Answer { index, method: m.method }),
        Reading::Unreadable(_) => None,
    });
    if let Some(answer) = last_readable {
        return answer;
    }
    if let Some(marker) = markers.last() {
        return from_reading(marker.reading.clone(), marker.method);
    }
    if let Some(reading) = fallback::bare_letter(region, options.len()) {
        return from_reading(reading, Method::BareLetter);
    }
    if let Some(index) = fallback::letter_mention(region, options) {
        return Extraction::Answer { index, method: Method::LetterMention };
    }
    match fallback::option_text(region, options) {
        Some(index) => Extraction::Answer { index, method: Method::OptionText },
        None => Extraction::NoAnswer,
    }
}

fn from_reading(reading: Reading, method: Method) -> Extraction {
    match reading {
        Reading::Option(index) => Extraction::Answer { index, method },
        Reading::Unreadable(content) => Extraction::Malformed { method, content },
    }
}

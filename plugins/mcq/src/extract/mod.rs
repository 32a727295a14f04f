//! Reading the chosen option from a model's reply.
//!
//! Explicit answer statements come first (`<answer>` tags, `\boxed{}`,
//! "the answer is (X)", "Answer: X"); the last one that decides wins,
//! since a reply that changes its mind ends with its final choice. A
//! statement decides when it names an option, hedges between several
//! ("(A) or (I)": reported as a hedge, never credited) or declines them
//! all ("None of the above"); a prose one ("the answer is explained
//! above") does not override an earlier decision. Without any, fallbacks
//! read a bare letter, a single letter named near the end, or the text of
//! a single option near the end, but the last two only for a reply that
//! was not cut off. Reasoning inside `<think>…</think>` is ignored, and so
//! is whatever follows a leaked turn token or a restart line (`===`,
//! `== response ==`).

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
    /// A final statement that names several options: "(A) or (I)".
    Hedged {
        /// Which kind of statement it was.
        method: Method,
        /// An excerpt of what it said.
        content: String,
    },
    /// An explicit answer whose content is no valid option: text that
    /// matches no option, a letter beyond the options, or "none of the
    /// above".
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
/// `truncated` is whether the reply was cut off by the token limit
/// (`finish_reason: length`), when the host says; unknown (`None`), a long
/// reply that does not end a sentence counts as cut off. A cut-off reply
/// gets no text fallback: its last line is mid-reasoning, and a dangling
/// "…so option D" is not a conclusion.
pub fn extract(completion: &str, options: &[String], truncated: Option<bool>) -> Extraction {
    let region = text::answer_region(completion);
    let markers = markers::find_all(region, options);
    let decisive = markers.iter().rev().find(|m| !matches!(m.reading, Reading::Unreadable(_)));
    if let Some(marker) = decisive.or(markers.last()) {
        return from_reading(marker.reading.clone(), marker.method);
    }
    let cut_off = truncated.unwrap_or_else(|| !text::looks_complete(region));
    if let Some(reading) = fallback::bare_letter(region, options.len(), cut_off) {
        return from_reading(reading, Method::BareLetter);
    }
    if cut_off {
        return Extraction::NoAnswer;
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
        Reading::Hedge(content) => Extraction::Hedged { method, content },
        Reading::Declined(content) | Reading::Unreadable(content) => Extraction::Malformed { method, content },
    }
}

//! What reading a final answer from a reply produces, shared by the
//! number (GSM8K) and LaTeX (MATH) readers.

/// Which rule found the answer; reported in a score's `info.method`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    /// `#### 72`, GSM8K's answer line.
    HashMarker,
    /// "The (final) answer is 72", "answer: 72".
    AnswerPhrase,
    /// A last line `A: 72`, as in the GSM8K paper's solutions.
    AnswerLine,
    /// The last `\boxed{…}` (or `\fbox{…}`).
    Boxed,
    /// Several boxes listed together: `\boxed{3} or \boxed{-5}`.
    BoxedList,
    /// Minerva's "Final Answer: The final answer is X. I hope it is correct."
    Minerva,
    /// Fallback: a last `\[…\]` or `$$…$$` that ends the reply.
    DisplayMath,
    /// Fallback: the last `$…$` or `\(…\)` of the reply's last sentence.
    LastMath,
    /// Fallback: the last number in the text, when nothing marks the answer.
    LastNumber,
}

impl Method {
    /// The name stored in results, e.g. `answer_phrase`.
    pub fn as_str(self) -> &'static str {
        match self {
            Method::HashMarker => "hash_marker",
            Method::AnswerPhrase => "answer_phrase",
            Method::AnswerLine => "answer_line",
            Method::Boxed => "boxed",
            Method::BoxedList => "boxed_list",
            Method::Minerva => "minerva",
            Method::DisplayMath => "display_math",
            Method::LastMath => "last_math",
            Method::LastNumber => "last_number",
        }
    }

    /// Whether the rule is a fallback (no marker named the answer): such
    /// answers are counted apart, in the `fallback` metric.
    pub fn is_fallback(self) -> bool {
        matches!(self, Method::DisplayMath | Method::LastMath | Method::LastNumber)
    }
}

/// The final answer of a reply.
#[derive(Debug, Clone, PartialEq)]
pub enum Extraction {
    /// An answer, as written.
    Answer {
        /// The answer text (a number, or LaTeX).
        text: String,
        /// How it was found.
        method: Method,
    },
    /// An answer marker whose content cannot be read (an unclosed
    /// `\boxed{`, or in a number reply `\boxed{x+1}`).
    Malformed {
        /// Which marker it was.
        method: Method,
        /// An excerpt of what followed it.
        content: String,
    },
    /// Nothing answer-like.
    NoAnswer,
}

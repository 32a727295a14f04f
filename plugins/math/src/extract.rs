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
    /// The last number in the text, when nothing marks the answer.
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
            Method::LastNumber => "last_number",
        }
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

//! Reading the judge's decision from its reply. Judges explain first and
//! decide last, and quote the format while explaining ("a GRADE: C would
//! need..."), so each reader takes the *last* well-formed decision, and
//! finds none rather than guess when there is no well-formed one.

/// A grade on the C/P/I scale.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Grade {
    /// Correct.
    Correct,
    /// Partly correct.
    Partial,
    /// Incorrect.
    Incorrect,
}

impl Grade {
    /// The letter the judge wrote.
    pub fn letter(self) -> &'static str {
        match self {
            Grade::Correct => "C",
            Grade::Partial => "P",
            Grade::Incorrect => "I",
        }
    }
}

/// Which response a pairwise judge preferred.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Preference {
    /// Response A.
    A,
    /// Response B.
    B,
    /// Neither: a tie.
    Tie,
}

/// The last `GRADE: X` (any case for the word, spaces and `*` around the
/// colon) whose letter is C, P or I and stands alone.
pub fn grade(reply: &str) -> Option<Grade> {
    let upper = reply.to_ascii_uppercase();
    upper.rmatch_indices("GRADE").find_map(|(at, word)| {
        let rest = upper[at + word.len()..].trim_start_matches(['*', ' ']);
        let rest = rest.strip_prefix(':')?.trim_start_matches(['*', ' ']);
        let mut chars = rest.chars();
        let letter = chars.next()?;
        if chars.next().is_some_and(|next| next.is_ascii_alphanumeric()) {
            return None;
        }
        match letter {
            'C' => Some(Grade::Correct),
            'P' => Some(Grade::Partial),
            'I' => Some(Grade::Incorrect),
            _ => None,
        }
    })
}

/// The last rating in double brackets (`[[7]]`, `[[7.5]]`) from 1 to 10;
/// failing that, the last `Rating: 7`. Out-of-range numbers are not ratings.
pub fn rating(reply: &str) -> Option<f64> {
    let in_range = |n: f64| (1.0..=10.0).contains(&n).then_some(n);
    let bracketed = reply.rmatch_indices("[[").find_map(|(at, _)| {
        let inner = &reply[at + 2..];
        let end = inner.find("]]")?;
        in_range(inner[..end].trim().parse().ok()?)
    });
    bracketed.or_else(|| {
        let lower = reply.to_ascii_lowercase();
        lower.rmatch_indices("rating:").find_map(|(at, word)| {
            let rest = reply[at + word.len()..].trim_start_matches([' ', '*']);
            let number: String = rest.chars().take_while(|c| c.is_ascii_digit() || *c == '.').collect();
            in_range(number.trim_end_matches('.').parse().ok()?)
        })
    })
}

/// The last verdict `[[A]]`, `[[B]]` or `[[C]]` (tie).
pub fn preference(reply: &str) -> Option<Preference> {
    reply.rmatch_indices("[[").find_map(|(at, _)| match reply[at + 2..].get(..2)? {
        "A]" | "a]" => Some(Preference::A),
        "B]" | "b]" => Some(Preference::B),
        "C]" | "c]" => Some(Preference::Tie),
        _ => None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grades_take_the_last_well_formed_line() {
        assert_eq!(grade("The answer matches.\nGRADE: C"), Some(Grade::Correct));
        assert_eq!(grade("**Grade:** P"), Some(Grade::Partial));
        assert_eq!(grade("A GRADE: C would need the dose.\n\nGRADE: I"), Some(Grade::Incorrect));
        assert_eq!(grade("GRADE: I\n\nOn reflection, GRADE: C"), Some(Grade::Correct));
        assert_eq!(grade("Final grade: C."), Some(Grade::Correct));
    }

    #[test]
    fn no_grade_is_none_not_a_guess() {
        assert_eq!(grade("The answer is right."), None);
        assert_eq!(grade("GRADE: Correct"), None, "a word, not the letter");
        assert_eq!(grade("GRADE: B"), None);
        assert_eq!(grade("GRADE:"), None);
        assert_eq!(grade("upgrade the answer"), None);
    }

    #[test]
    fn ratings_in_brackets_or_after_rating() {
        assert_eq!(rating("Good.\nRating: [[8]]"), Some(8.0));
        assert_eq!(rating("Rating: [[7.5]]"), Some(7.5));
        assert_eq!(rating("for example [[6]] ... Rating: [[3]]"), Some(3.0));
        assert_eq!(rating("Rating: 9/10"), Some(9.0));
        assert_eq!(rating("Rating: [[0]]"), None, "below the scale");
        assert_eq!(rating("Rating: [[11]]"), None, "above the scale");
        assert_eq!(rating("It is fine."), None);
    }

    #[test]
    fn preferences_take_the_last_verdict() {
        assert_eq!(preference("A is clearer. [[A]]"), Some(Preference::A));
        assert_eq!(preference("[[A]] would be wrong because ... [[B]]"), Some(Preference::B));
        assert_eq!(preference("Both are fine: [[C]]"), Some(Preference::Tie));
        assert_eq!(preference("I prefer A."), None);
        assert_eq!(preference("[[D]]"), None);
    }
}

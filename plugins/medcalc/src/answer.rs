//! MedCalc-Bench's answer kinds and grading rules, after the benchmark's
//! own evaluation (`extract_answer` and `check_correctness` in
//! ncbi-nlp/MedCalc-Bench):
//!
//! - decimal calculators: the last number (or `N%` as N/100, or the number
//!   before "mL/min/1.73") must lie within the record's lower and upper
//!   limits, inclusive;
//! - integer scores: "N out of" gives N, a list "1, 2, 3" counts its items,
//!   else the last number, rounded half to even (Python's `round`), must
//!   equal the gold;
//! - dates (estimated due date, id 13; date of conception, id 68): the
//!   same month, day and year, written M/D/YYYY with or without leading
//!   zeros;
//! - gestational age (id 69): the same (weeks, days), the first two whole
//!   numbers of the answer.
//!
//! One difference: the official code evaluates a Python expression written
//! as `str(...)` in a decimal answer; this plugin does not run model text,
//! and reads the expression's last number instead.

use serde::{Deserialize, Serialize};

/// How a calculator's answer is written and compared.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Kind {
    /// A value graded within limits.
    Decimal,
    /// A whole-number score.
    Integer,
    /// A calendar date, M/D/YYYY.
    Date,
    /// A duration in weeks and days.
    WeeksDays,
}

impl Kind {
    /// The name stored in results.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Decimal => "decimal",
            Kind::Integer => "integer",
            Kind::Date => "date",
            Kind::WeeksDays => "weeks-days",
        }
    }
}

const DATE_IDS: [i64; 2] = [13, 68];
const WEEKS_DAYS_IDS: [i64; 1] = [69];
const INTEGER_IDS: [i64; 18] = [4, 15, 16, 17, 18, 20, 21, 25, 27, 28, 29, 32, 33, 36, 43, 45, 48, 51];
const DECIMAL_IDS: [i64; 34] = [
    2, 3, 5, 6, 7, 8, 9, 10, 11, 19, 22, 23, 24, 26, 30, 31, 38, 39, 40, 44, 46, 49, 56, 57, 58, 59, 60, 61, 62, 63,
    64, 65, 66, 67,
];

/// The kind of a calculator: from the benchmark's id lists, else from the
/// record's output type ("decimal", "integer", "date", weeks and days).
pub fn kind(calculator: Option<i64>, output_type: Option<&str>) -> Option<Kind> {
    let by_id = calculator.and_then(|id| {
        let lists: [(&[i64], Kind); 4] = [
            (&DATE_IDS, Kind::Date),
            (&WEEKS_DAYS_IDS, Kind::WeeksDays),
            (&INTEGER_IDS, Kind::Integer),
            (&DECIMAL_IDS, Kind::Decimal),
        ];
        lists.into_iter().find(|(ids, _)| ids.contains(&id)).map(|(_, kind)| kind)
    });
    by_id.or_else(|| {
        let output = output_type?.to_ascii_lowercase();
        let kinds =
            [("week", Kind::WeeksDays), ("date", Kind::Date), ("integer", Kind::Integer), ("decimal", Kind::Decimal)];
        kinds.into_iter().find(|(word, _)| output.contains(word)).map(|(_, kind)| kind)
    })
}

/// A gold answer, ready to compare.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Gold {
    /// Correct when within `[lower, upper]`.
    Decimal {
        /// Lowest correct value.
        lower: f64,
        /// Highest correct value.
        upper: f64,
    },
    /// Correct when equal after rounding.
    Integer {
        /// The score.
        value: i64,
    },
    /// Correct when the same day.
    Date {
        /// Month, day, year.
        date: (u32, u32, u32),
    },
    /// Correct when the same weeks and days.
    WeeksDays {
        /// Weeks, days.
        duration: (u64, u64),
    },
}

impl Gold {
    /// Whether `answer` (the text of the model's answer) is correct:
    /// `None` when it holds no value of the right kind.
    pub fn check(&self, answer: &str) -> Option<bool> {
        Some(match self {
            Gold::Decimal { lower, upper } => (*lower..=*upper).contains(&decimal(answer)?),
            Gold::Integer { value } => integer(answer)? == *value as f64,
            Gold::Date { date } => date_in(answer)? == *date,
            Gold::WeeksDays { duration } => weeks_days(answer)? == *duration,
        })
    }
}

/// A number in text: its value and where it starts and ends.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Number {
    /// The value.
    pub value: f64,
    /// Byte offset of its first character (the sign, if any).
    pub start: usize,
    /// Byte offset just past it.
    pub end: usize,
}

/// Every `-?\d+(\.\d+)?` in `text`, in order.
pub fn numbers(text: &str) -> Vec<Number> {
    let bytes = text.as_bytes();
    let mut found = Vec::new();
    let mut at = 0;
    while at < bytes.len() {
        let sign = bytes[at] == b'-' && bytes.get(at + 1).is_some_and(u8::is_ascii_digit);
        if !(sign || bytes[at].is_ascii_digit()) {
            at += 1;
            continue;
        }
        let start = at;
        at += usize::from(sign);
        at += digits(&bytes[at..]);
        if bytes.get(at) == Some(&b'.') && bytes.get(at + 1).is_some_and(u8::is_ascii_digit) {
            at += 1 + digits(&bytes[at + 1..]);
        }
        if let Ok(value) = text[start..at].parse() {
            found.push(Number { value, start, end: at });
        }
    }
    found
}

fn digits(bytes: &[u8]) -> usize {
    bytes.iter().take_while(|b| b.is_ascii_digit()).count()
}

/// A decimal answer: the number before "mL/min/1.73", else the last
/// percentage as a fraction, else the last number.
pub fn decimal(text: &str) -> Option<f64> {
    let numbers = numbers(text);
    let clearance = numbers.iter().find(|n| text[n.end..].trim_start().starts_with("mL/min/1.73"));
    if let Some(number) = clearance {
        return Some(number.value);
    }
    let percent = numbers.iter().rev().find(|n| text[n.end..].starts_with('%'));
    match percent {
        Some(number) => Some(number.value / 100.0),
        None => numbers.last().map(|n| n.value),
    }
}

/// An integer answer: "N out of", else the length of a list "1, 2, 3",
/// else the last number; rounded half to even.
pub fn integer(text: &str) -> Option<f64> {
    let numbers = numbers(text);
    let whole = |n: &&Number| !text[n.start..n.end].contains(['.', '-']);
    if let Some(n) = numbers.iter().filter(whole).find(|n| text[n.end..].starts_with(" out of")) {
        return Some(n.value);
    }
    if let Some(count) = list_length(text, &numbers) {
        return Some(count as f64);
    }
    numbers.last().map(|n| n.value.round_ties_even())
}

/// The number of items of the first list of whole numbers separated by
/// "," or ", " (at least two).
fn list_length(text: &str, numbers: &[Number]) -> Option<usize> {
    let whole: Vec<&Number> = numbers.iter().filter(|n| !text[n.start..n.end].contains('.')).collect();
    let joined = |a: &Number, b: &Number| matches!(&text[a.end..b.start], "," | ", ");
    let mut at = 0;
    while at < whole.len() {
        let run = 1 + whole[at..].windows(2).take_while(|pair| joined(pair[0], pair[1])).count();
        if run >= 2 {
            return Some(run);
        }
        at += run;
    }
    None
}

/// The first M/D/YYYY date in `text` (month 1-12, day 1-31).
pub fn date_in(text: &str) -> Option<(u32, u32, u32)> {
    let bytes = text.as_bytes();
    (0..bytes.len()).filter(|&i| i == 0 || !bytes[i - 1].is_ascii_digit()).find_map(|i| date_at(&text[i..]))
}

fn date_at(text: &str) -> Option<(u32, u32, u32)> {
    let mut parts = text.splitn(3, '/');
    let (month, day, rest) = (parts.next()?, parts.next()?, parts.next()?);
    let year_digits = digits(rest.as_bytes());
    let in_range = |part: &str, max: u32| {
        let ok = (1..=2).contains(&part.len()) && part.bytes().all(|b| b.is_ascii_digit());
        ok.then(|| part.parse().ok()).flatten().filter(|v| (1..=max).contains(v))
    };
    if year_digits != 4 {
        return None;
    }
    Some((in_range(month, 12)?, in_range(day, 31)?, rest[..4].parse().ok()?))
}

/// The first two whole numbers: (weeks, days).
pub fn weeks_days(text: &str) -> Option<(u64, u64)> {
    let mut whole = numbers(text).into_iter().filter(|n| n.value >= 0.0 && n.value.fract() == 0.0);
    Some((whole.next()?.value as u64, whole.next()?.value as u64))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_read_with_signs_and_decimals() {
        let values: Vec<f64> = numbers("-3.5 and 12, x-2 1.").iter().map(|n| n.value).collect();
        assert_eq!(values, [-3.5, 12.0, -2.0, 1.0]);
    }

    #[test]
    fn kinds_come_from_the_id_lists_then_the_output_type() {
        assert_eq!(kind(Some(13), Some("integer")), Some(Kind::Date));
        assert_eq!(kind(Some(69), None), Some(Kind::WeeksDays));
        assert_eq!(kind(Some(999), Some("Decimal")), Some(Kind::Decimal));
        assert_eq!(kind(None, None), None);
    }

    #[test]
    fn rounding_is_half_to_even_as_in_python() {
        assert_eq!(integer("2.5"), Some(2.0));
        assert_eq!(integer("3.5"), Some(4.0));
    }

    #[test]
    fn dates_need_a_four_digit_year_and_valid_month_and_day() {
        assert_eq!(date_in("due 11/15/2022."), Some((11, 15, 2022)));
        assert_eq!(date_in("13/15/2022 or 2/3/2021"), Some((2, 3, 2021)));
        assert_eq!(date_in("11/15/22"), None);
    }
}

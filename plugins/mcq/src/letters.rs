//! Option letters: index 0 is `A`, index 25 is `Z`.

/// The most options a question may have: one per letter of the alphabet.
pub const MAX_OPTIONS: usize = 26;

/// The letter of the option at `index` (0 → `A`). `index` must be below
/// [`MAX_OPTIONS`]; callers check the option count when reading a record.
pub fn letter(index: usize) -> char {
    debug_assert!(index < MAX_OPTIONS, "option index {index} has no letter");
    char::from(b'A' + index as u8)
}

/// The index of an uppercase option letter (`A` → 0), or `None` for any
/// other character.
pub fn index_of(letter: char) -> Option<usize> {
    letter.is_ascii_uppercase().then(|| usize::from(letter as u8 - b'A'))
}

/// "A, B, C or D": the valid letters for `n` options, as a prompt names them.
pub fn phrase(n: usize) -> String {
    let letters: Vec<String> = (0..n).map(|i| letter(i).to_string()).collect();
    match letters.split_last() {
        None => String::new(),
        Some((last, [])) => last.clone(),
        Some((last, rest)) => format!("{} or {last}", rest.join(", ")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn letters_and_indices_round_trip() {
        assert_eq!(letter(0), 'A');
        assert_eq!(letter(9), 'J');
        assert_eq!(index_of('J'), Some(9));
        assert_eq!(index_of('j'), None);
        assert_eq!(index_of('1'), None);
    }

    #[test]
    fn phrase_lists_the_letters() {
        assert_eq!(phrase(1), "A");
        assert_eq!(phrase(2), "A or B");
        assert_eq!(phrase(4), "A, B, C or D");
    }
}

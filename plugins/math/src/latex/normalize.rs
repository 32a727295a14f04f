//! Rewriting a LaTeX answer into a canonical string, so that equivalent
//! spellings compare equal as text before any evaluation.
//!
//! [`normalize`] works on the whole answer; [`leaf`] finishes one element
//! of a tuple, set or list (see `structure`). Both only remove notation
//! that does not change the value: presentation (`\left`, `\dfrac`,
//! spacing, `\text{}` wrappers, math delimiters), units after a value,
//! degree signs, `\%`, `\$` and thousands separators.

/// Words removed when they follow a value (`10\text{ cm}`, `5 dollars`),
/// with or without a power (`cm^2`).
const UNITS: [&str; 56] = [
    "unit",
    "units",
    "sq",
    "square",
    "cubic",
    "cm",
    "mm",
    "m",
    "km",
    "meter",
    "meters",
    "metre",
    "metres",
    "centimeter",
    "centimeters",
    "inch",
    "inches",
    "in",
    "ft",
    "foot",
    "feet",
    "yard",
    "yards",
    "mile",
    "miles",
    "mph",
    "degree",
    "degrees",
    "dollar",
    "dollars",
    "cent",
    "cents",
    "percent",
    "pct",
    "second",
    "seconds",
    "minute",
    "minutes",
    "hour",
    "hours",
    "day",
    "days",
    "week",
    "weeks",
    "year",
    "years",
    "pound",
    "pounds",
    "lb",
    "lbs",
    "ounce",
    "ounces",
    "gallon",
    "gallons",
    "liter",
    "liters",
];

/// Commands whose argument is plain text shown upright or bold.
const TEXT_COMMANDS: [&str; 10] =
    ["text", "textbf", "textrm", "textit", "textnormal", "mbox", "mathrm", "mathbf", "mathit", "operatorname"];

/// Spellings replaced by one canonical form: fraction styles, Unicode
/// symbols and the many names of each relation (longest first where one
/// is a prefix of another).
const SYNONYMS: [(&str, &str); 22] = [
    ("\\dfrac", "\\frac"),
    ("\\tfrac", "\\frac"),
    ("\\cfrac", "\\frac"),
    ("\\displaystyle", ""),
    ("\\leqslant", "\\le "),
    ("\\leqq", "\\le "),
    ("\\leq", "\\le "),
    ("\\geqslant", "\\ge "),
    ("\\geqq", "\\ge "),
    ("\\geq", "\\ge "),
    ("\\neq", "\\ne "),
    ("\\lt", "<"),
    ("\\gt", ">"),
    ("<=", "\\le "),
    (">=", "\\ge "),
    ("≤", "\\le "),
    ("≥", "\\ge "),
    ("≠", "\\ne "),
    ("π", "\\pi "),
    ("√", "\\sqrt"),
    ("∞", "\\infty "),
    ("−", "-"),
];

/// Unicode operators, written as LaTeX commands.
const OPERATORS: [(&str, &str); 4] = [("×", "\\times "), ("·", "\\cdot "), ("÷", "\\div "), ("∪", "\\cup ")];

/// Function and constant names that plain-text answers write without a
/// backslash (`sqrt(2)`, `2*sqrt(7)/3`, `pi/4`, `sin(x)`).
const COMMAND_WORDS: [&str; 14] =
    ["sqrt", "pi", "sin", "cos", "tan", "cot", "sec", "csc", "arcsin", "arccos", "arctan", "ln", "log", "exp"];

/// The canonical form of a whole answer.
pub fn normalize(answer: &str) -> String {
    let s = strip_delimiters(answer.trim());
    let s = remove_sizing(s);
    let s = SYNONYMS.iter().chain(&OPERATORS).fold(s, |s, (from, to)| s.replace(from, to));
    let s = join_thousands(&s);
    let s = remove_spacing(&s);
    let s = unwrap_text(&s);
    let s = remove_decorations(&s);
    let s = commands_from_words(&s);
    let s = lists_from_words(&s);
    let s = brace_arguments(&s);
    let s = simplify_scripts(&s);
    let s = s.split_whitespace().collect::<Vec<_>>().join(" ");
    let s = s.trim_end_matches('.').trim();
    let s = strip_variable(s);
    ungroup_thousands(s)
}

/// The canonical form of one element: `x = 5` is `5`, units after a value
/// go, whitespace goes, `(C)` is the choice `C`, and a mixed number
/// `2\frac{1}{2}` becomes `\frac{5}{2}`.
pub fn leaf(element: &str) -> String {
    let s = strip_variable(element.trim());
    let s = strip_units(s);
    let s = remove_whitespace(&s);
    if let Some(letter) = choice_letter(&s) {
        return letter.to_string();
    }
    mixed_number(&s).unwrap_or(s)
}

/// Remove `$…$`, `\(…\)` and `\[…\]` around the answer.
fn strip_delimiters(s: &str) -> &str {
    let mut s = s;
    for (open, close) in [("$$", "$$"), ("$", "$"), ("\\(", "\\)"), ("\\[", "\\]")] {
        if let Some(inner) = s.strip_prefix(open).and_then(|r| r.strip_suffix(close)) {
            s = inner.trim();
        }
    }
    s
}

/// Remove `\left`, `\right` and `\big`-style sizing, and the invisible
/// delimiter `.` of `\left.` / `\right.`.
fn remove_sizing(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(at) = rest.find('\\') {
        out.push_str(&rest[..at]);
        let after = &rest[at + 1..];
        let name_len = after.bytes().take_while(u8::is_ascii_alphabetic).count();
        let name = &after[..name_len];
        if matches!(name, "left" | "right" | "big" | "Big" | "bigl" | "bigr" | "Bigl" | "Bigr" | "bigg" | "Bigg") {
            let tail = &after[name_len..];
            rest = tail.strip_prefix('.').unwrap_or(tail);
        } else {
            out.push('\\');
            out.push_str(name);
            rest = &after[name_len..];
            // Copy an escaped symbol (`\{`, `\%`) whole so it is not rescanned.
            if name_len == 0
                && let Some(c) = rest.chars().next()
            {
                out.push(c);
                rest = &rest[c.len_utf8()..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// Drop thousands separators written as `,\!` or `{,}` between a digit and
/// exactly three digits (`900,\!000`, `10{,}000`): unambiguous, unlike a
/// bare comma, which may separate the elements of a tuple.
pub fn join_thousands(s: &str) -> String {
    const SEPARATORS: [&str; 3] = ["{,}", "{, }", ",\\!"];
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    // Jump from one possible separator to the next: most text has none.
    while let Some(at) = rest.find(['{', ',']) {
        out.push_str(&rest[..at]);
        rest = &rest[at..];
        let after_digit = out.as_bytes().last().is_some_and(u8::is_ascii_digit);
        if let Some(sep) = SEPARATORS.iter().find(|sep| rest.starts_with(*sep)).filter(|_| after_digit) {
            let tail = rest[sep.len()..].trim_start();
            if tail.bytes().take_while(u8::is_ascii_digit).count() == 3 {
                rest = tail;
                continue;
            }
        }
        out.push_str(&rest[..1]);
        rest = &rest[1..];
    }
    out.push_str(rest);
    out
}

/// LaTeX spacing: thin spaces (`\!`, `\,`, `\;`, `\:`) vanish, word
/// spaces (`\ `, `~`, `\quad`) become one space. A row break `\\` stays.
fn remove_spacing(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(at) = rest.find(['\\', '~']) {
        out.push_str(&rest[..at]);
        let after = &rest[at + 1..];
        if rest[at..].starts_with('~') {
            out.push(' ');
            rest = after;
            continue;
        }
        let word = after.bytes().take_while(u8::is_ascii_alphabetic).count();
        let (replacement, skip) = match after.chars().next() {
            Some('!' | ',' | ';' | ':') => ("", 1),
            Some(' ') => (" ", 1),
            Some('\\') => ("\\\\", 1),
            _ if matches!(&after[..word], "quad" | "qquad") => (" ", word),
            _ => ("\\", 0),
        };
        out.push_str(replacement);
        rest = &after[skip..];
    }
    out.push_str(rest);
    out
}

/// `\text{ cm}` → ` cm `: the text stays, padded so a unit is a word of
/// its own. Nested wrappers are unwrapped too.
fn unwrap_text(s: &str) -> String {
    let mut s = s.to_string();
    while let Some((start, open)) = find_text_command(&s) {
        match super::brace_content(&s, open) {
            Some(inner) => {
                let end = open + inner.len() + 2;
                s = format!("{} {} {}", &s[..start], inner, &s[end..]);
            }
            // An unclosed wrapper: drop the command, keep the text.
            None => s = format!("{}{}", &s[..start], &s[open + 1..]),
        }
    }
    s
}

/// The start of the first text command and the index of its `{`.
fn find_text_command(s: &str) -> Option<(usize, usize)> {
    s.match_indices('\\').find_map(|(at, _)| {
        let after = &s[at + 1..];
        let name_len = after.bytes().take_while(u8::is_ascii_alphabetic).count();
        let open = at + 1 + name_len;
        (TEXT_COMMANDS.contains(&&after[..name_len]) && s[open..].starts_with('{')).then_some((at, open))
    })
}

/// Degree signs, percent signs and dollar signs.
fn remove_decorations(s: &str) -> String {
    let mut s = s.to_string();
    for mark in ["^{\\circ}", "^\\circ", "\\circ", "\\degree", "°", "\\%", "%", "\\$", "$"] {
        s = s.replace(mark, "");
    }
    s
}

/// `sqrt(2)` → `\sqrt(2)`, `pi` → `\pi`: the names in [`COMMAND_WORDS`]
/// as whole words without a backslash become commands.
fn commands_from_words(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 4);
    let mut rest = s;
    while let Some(start) = rest.find(|c: char| c.is_ascii_alphabetic()) {
        let len = rest[start..].bytes().take_while(u8::is_ascii_alphabetic).count();
        let word = &rest[start..start + len];
        out.push_str(&rest[..start]);
        if COMMAND_WORDS.contains(&word) && !out.ends_with('\\') {
            out.push('\\');
        }
        out.push_str(word);
        rest = &rest[start + len..];
    }
    out.push_str(rest);
    out
}

/// `3 or -5` and `3 and -5` → `3, -5`: a list written out in words
/// (what is left of `\text{ or }`).
fn lists_from_words(s: &str) -> String {
    s.replace(" or ", ", ").replace(" and ", ", ")
}

/// Put braces around the arguments of `\frac` and `\sqrt` written without
/// them: `\frac12` and `\frac 12` → `\frac{1}{2}`, `\sqrt2` → `\sqrt{2}`.
fn brace_arguments(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    let mut rest = s;
    while let Some(at) = rest.find('\\') {
        out.push_str(&rest[..at]);
        let after = &rest[at + 1..];
        let name_len = after.bytes().take_while(u8::is_ascii_alphabetic).count();
        let name = &after[..name_len];
        out.push('\\');
        out.push_str(name);
        rest = &after[name_len..];
        let arity = match name {
            "frac" => 2,
            "sqrt" => 1,
            _ => 0,
        };
        if name == "sqrt" && rest.starts_with('[') {
            let close = rest.find(']').map_or(rest.len(), |i| i + 1);
            out.push_str(&rest[..close]);
            rest = &rest[close..];
        }
        for _ in 0..arity {
            let Some((argument, tail)) = argument(rest) else { break };
            out.push('{');
            out.push_str(&brace_arguments(argument));
            out.push('}');
            rest = tail;
        }
        if name_len == 0
            && let Some(c) = rest.chars().next()
        {
            out.push(c);
            rest = &rest[c.len_utf8()..];
        }
    }
    out.push_str(rest);
    out
}

/// One macro argument at the start of `s` (after spaces): a brace group's
/// content, a command (`\pi`), or a single character. Returns it and what
/// follows.
fn argument(s: &str) -> Option<(&str, &str)> {
    let s = s.trim_start();
    let first = s.chars().next()?;
    match first {
        '{' => {
            let inner = super::brace_content(s, 0)?;
            Some((inner, &s[inner.len() + 2..]))
        }
        '\\' => {
            let len = 1 + s[1..].bytes().take_while(u8::is_ascii_alphabetic).count().max(1);
            let len = (1..=len).rev().find(|&l| s.is_char_boundary(l))?;
            Some((&s[..len], &s[len..]))
        }
        // `\\sqrt(2)` (plain text): the parser reads the parentheses.
        '}' | '^' | '_' | '(' => None,
        c => Some((&s[..c.len_utf8()], &s[c.len_utf8()..])),
    }
}

/// `^{2}` → `^2` and `_{5}` → `_5`: braces around a single character.
fn simplify_scripts(s: &str) -> String {
    let mut out = s.to_string();
    for script in ['^', '_'] {
        let mut i = 0;
        while let Some(found) = out[i..].find(script) {
            let at = i + found;
            let b = out.as_bytes();
            let single = b.get(at + 1) == Some(&b'{')
                && b.get(at + 2).is_some_and(|c| c.is_ascii_alphanumeric())
                && b.get(at + 3) == Some(&b'}');
            if single {
                let c = char::from(b[at + 2]);
                out.replace_range(at + 1..at + 4, &c.to_string());
            }
            i = at + 1;
        }
    }
    out
}

/// `x \in [1, 2]` → `[1, 2]`: membership of a single-letter variable.
/// Equations stay whole: `structure` compares `x = 5` with `5`.
fn strip_variable(s: &str) -> &str {
    let b = s.as_bytes();
    if !b.first().is_some_and(u8::is_ascii_alphabetic) {
        return s;
    }
    let rest = s[1..].trim_start();
    match rest.strip_prefix("\\in").filter(|v| !v.starts_with(|c: char| c.is_alphabetic())) {
        Some(value) if !value.trim().is_empty() => value.trim(),
        _ => s,
    }
}

/// `1,234,567` → `1234567` when the whole answer is one number grouped in
/// threes (a tuple such as `(1,234)` has brackets and is left alone).
fn ungroup_thousands(s: &str) -> String {
    let digits = s.strip_prefix('-').unwrap_or(s);
    let (whole, fraction) = digits.split_once('.').unwrap_or((digits, ""));
    let groups: Vec<&str> = whole.split(',').collect();
    let grouped = groups.len() > 1
        && (1..=3).contains(&groups[0].len())
        && groups[1..].iter().all(|g| g.len() == 3)
        && groups.iter().all(|g| g.bytes().all(|c| c.is_ascii_digit()))
        && fraction.bytes().all(|c| c.is_ascii_digit());
    if grouped { s.replace(',', "") } else { s.to_string() }
}

/// Remove trailing unit words (`15 cm ^2`, `5.4 cents`, `2 square units`)
/// while something remains before them.
fn strip_units(s: &str) -> String {
    let mut words: Vec<&str> = s.split_whitespace().collect();
    while words.len() > 1 {
        let last = words[words.len() - 1];
        let power = matches!(last, "^2" | "^3");
        let unit = |w: &str| {
            let base = w.trim_end_matches(['.', ',']).trim_end_matches("^2").trim_end_matches("^3");
            UNITS.contains(&base.to_ascii_lowercase().as_str())
        };
        if power && words.len() > 2 && unit(words[words.len() - 2]) {
            words.truncate(words.len() - 2);
        } else if unit(last) {
            words.pop();
        } else {
            break;
        }
    }
    words.join(" ")
}

/// Whitespace removed, except one space between two letters, so commands
/// stay apart from their operands (`\cot x`).
fn remove_whitespace(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut pending_space = false;
    for c in s.chars() {
        if c.is_whitespace() {
            pending_space = !out.is_empty();
            continue;
        }
        if pending_space && c.is_ascii_alphabetic() && out.ends_with(|p: char| p.is_ascii_alphabetic()) {
            out.push(' ');
        }
        pending_space = false;
        out.push(c);
    }
    out
}

/// `(C)` → `C`: a multiple-choice letter in parentheses.
fn choice_letter(s: &str) -> Option<char> {
    match s.as_bytes() {
        [b'(', c, b')'] if c.is_ascii_uppercase() => Some(char::from(*c)),
        _ => None,
    }
}

/// `2\frac{1}{2}` → `\frac{5}{2}` (and `-2\frac{1}{2}` → `-\frac{5}{2}`):
/// an integer directly followed by a fraction of integers is a mixed
/// number, not a product.
fn mixed_number(s: &str) -> Option<String> {
    let (sign, body) = s.strip_prefix('-').map_or(("", s), |b| ("-", b));
    let (whole, fraction) = body.split_once("\\frac{")?;
    let (num, rest) = fraction.split_once("}{")?;
    let den = rest.strip_suffix('}')?;
    let int = |t: &str| (!t.is_empty() && t.bytes().all(|c| c.is_ascii_digit())).then(|| t.parse::<u64>().ok())?;
    let (whole, num, den) = (int(whole)?, int(num)?, int(den)?);
    let top = whole.checked_mul(den)?.checked_add(num)?;
    Some(format!("{sign}\\frac{{{top}}}{{{den}}}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn presentation_is_removed() {
        let cases = [
            ("\\left( 3, \\frac{\\pi}{2} \\right)", "( 3, \\frac{\\pi}{2} )"),
            ("$\\dfrac{1}{2}$", "\\frac{1}{2}"),
            ("\\frac12", "\\frac{1}{2}"),
            ("\\frac 34", "\\frac{3}{4}"),
            ("\\frac9{19}", "\\frac{9}{19}"),
            ("\\frac{270}7\\text{ degrees}", "\\frac{270}{7} degrees"),
            ("\\sqrt2", "\\sqrt{2}"),
            ("900,\\!000", "900000"),
            ("11,\\! 111,\\! 111,\\! 100", "11111111100"),
            ("10{,}000", "10000"),
            ("1,250", "1250"),
            ("(1,234)", "(1,234)"),
            ("\\$18.90", "18.90"),
            ("75^\\circ", "75"),
            ("75^{\\circ}", "75"),
            ("25\\%", "25"),
            ("x \\in [-2,7]", "[-2,7]"),
            ("4210_{5}", "4210_5"),
            ("\\left\\{1,2\\right\\}", "\\{1,2\\}"),
            ("\\cfrac{1}{2}", "\\frac{1}{2}"),
            ("7{, }350", "7350"),
            ("x \\geqslant 2", "x \\ge 2"),
            ("2*sqrt(7)/3", "2*\\sqrt(7)/3"),
            ("pi/4", "\\pi/4"),
            ("3 \\text{ or } -5", "3 , -5"),
            ("x ≤ 4", "x \\le 4"),
        ];
        for (input, expected) in cases {
            assert_eq!(normalize(input), expected, "{input}");
        }
    }

    #[test]
    fn leaves_drop_units_variables_and_wrappers() {
        let cases = [
            ("10 cm", "10"),
            ("15 cm ^2", "15"),
            ("864 inches^2", "864"),
            ("y = 2x + 3", "y=2x+3"),
            ("25 pct", "25"),
            ("(C)", "C"),
            ("2\\frac{1}{2}", "\\frac{5}{2}"),
            ("-1\\frac{1}{10}", "-\\frac{11}{10}"),
            ("2\\frac{x}{2}", "2\\frac{x}{2}"),
            ("\\cot x", "\\cot x"),
            ("Evelyn", "Evelyn"),
            ("cm", "cm"),
        ];
        for (input, expected) in cases {
            assert_eq!(leaf(input), expected, "{input}");
        }
    }
}

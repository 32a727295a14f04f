//! The MATH authors' own grader, as a baseline for the real-data tests:
//! the last `\boxed{}` of a solution, compared after Hendrycks et al.'s
//! `strip_string` normalisation by string equality (`is_equiv`). Written
//! from the published description of its steps (see
//! `shared/research/eval-harnesses.md` §2.5), in the same order.

/// The content of the last `\boxed{…}` / `\fbox{…}` (or `\boxed x`).
pub fn last_boxed(text: &str) -> Option<String> {
    let start = text.rfind("\\boxed").max(text.rfind("\\fbox"))?;
    let rest = &text[start..];
    if let Some(after) = rest.strip_prefix("\\boxed ") {
        return Some(after.split('$').next().unwrap_or("").to_string());
    }
    let open = rest.find('{')?;
    let mut depth = 0;
    for (i, c) in rest.char_indices().skip(open) {
        match c {
            '{' => depth += 1,
            '}' => {
                depth -= 1;
                if depth == 0 {
                    return Some(rest[open + 1..i].to_string());
                }
            }
            _ => {}
        }
    }
    None
}

/// Whether two answers are equal after `strip_string`.
pub fn is_equiv(a: &str, b: &str) -> bool {
    strip_string(a) == strip_string(b)
}

fn strip_string(s: &str) -> String {
    let mut s = s.replace('\n', "").replace("\\!", "").replace("\\\\", "\\");
    s = s.replace("tfrac", "frac").replace("dfrac", "frac").replace("\\left", "").replace("\\right", "");
    s = s.replace("^{\\circ}", "").replace("^\\circ", "").replace("\\$", "");
    if let Some(at) = s.find("\\text{ ") {
        s.truncate(at);
    }
    s = s.replace("\\%", "").replace(" .", " 0.").replace("{.", "{0.");
    if s.is_empty() {
        return s;
    }
    if s.starts_with('.') {
        s = format!("0{s}");
    }
    let sides: Vec<&str> = s.split('=').collect();
    if sides.len() == 2 && sides[0].len() <= 2 {
        s = sides[1].to_string();
    }
    s = fix_sqrt(&s).replace(' ', "");
    s = fix_fracs(&s);
    if s == "0.5" {
        s = "\\frac{1}{2}".into();
    }
    fix_a_slash_b(&s)
}

/// `\sqrt3` → `\sqrt{3}`.
fn fix_sqrt(s: &str) -> String {
    let mut parts = s.split("\\sqrt");
    let mut out = parts.next().unwrap_or("").to_string();
    for part in parts {
        out.push_str("\\sqrt");
        match part.chars().next() {
            Some(c) if c != '{' => out.push_str(&format!("{{{c}}}{}", &part[c.len_utf8()..])),
            _ => out.push_str(part),
        }
    }
    out
}

/// `\frac12` → `\frac{1}{2}`, `\frac1{72}` → `\frac{1}{72}`.
fn fix_fracs(s: &str) -> String {
    let mut parts = s.split("\\frac");
    let mut out = parts.next().unwrap_or("").to_string();
    for part in parts {
        out.push_str("\\frac");
        let chars: Vec<char> = part.chars().collect();
        if chars.first() == Some(&'{') || chars.len() < 2 {
            out.push_str(part);
            continue;
        }
        let (a, b) = (chars[0], chars[1]);
        let rest: String = chars[2..].iter().collect();
        if b == '{' {
            out.push_str(&format!("{{{a}}}{{{rest}"));
        } else {
            out.push_str(&format!("{{{a}}}{{{b}}}{rest}"));
        }
    }
    out
}

/// `3/4` → `\frac{3}{4}` when both sides are integers.
fn fix_a_slash_b(s: &str) -> String {
    match s.split_once('/') {
        Some((a, b)) if !b.contains('/') && a.parse::<i64>().is_ok() && b.parse::<i64>().is_ok() => {
            format!("\\frac{{{a}}}{{{b}}}")
        }
        _ => s.to_string(),
    }
}

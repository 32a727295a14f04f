//! A small parser and evaluator for the arithmetic in normalised LaTeX
//! answers: numbers, single-letter variables, `+ - * /`, `\cdot`,
//! `\times`, `\div`, `^`, `\frac`, `\sqrt` (and `\sqrt[n]`), `\pi`,
//! `\infty`, a few functions (`\sin`, `\ln`, …), parentheses and braces,
//! and implicit multiplication (`2\sqrt{3}`, `2x`, `(a+5)(b+2)`).
//!
//! Anything else (`=`, `,`, `\pm`, subscripts, words of three or more
//! letters, unknown commands) is a parse failure, which callers treat as
//! "compare the strings", never as "equal".

use std::collections::BTreeSet;
use std::f64::consts::PI;

/// A parsed expression.
#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    /// A constant.
    Num(f64),
    /// A single-letter variable.
    Var(char),
    /// `-x`.
    Neg(Box<Expr>),
    /// A binary operation.
    Bin(Op, Box<Expr>, Box<Expr>),
    /// A function applied to an argument.
    Call(Func, Box<Expr>),
}

/// Binary operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Add,
    Sub,
    Mul,
    Div,
    Pow,
}

/// Functions an answer may use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Func {
    Sqrt,
    Sin,
    Cos,
    Tan,
    Cot,
    Sec,
    Csc,
    Ln,
    Log,
    Exp,
}

/// Commands that name a function, with the function.
const FUNCTIONS: [(&str, Func); 10] = [
    ("sqrt", Func::Sqrt),
    ("sin", Func::Sin),
    ("cos", Func::Cos),
    ("tan", Func::Tan),
    ("cot", Func::Cot),
    ("sec", Func::Sec),
    ("csc", Func::Csc),
    ("ln", Func::Ln),
    ("log", Func::Log),
    ("exp", Func::Exp),
];

/// Parse a whole expression, or `None` if any of it is not understood.
pub fn parse(text: &str) -> Option<Expr> {
    if !text.is_ascii() || has_word(text) {
        return None;
    }
    let mut parser = Parser { b: text.as_bytes(), pos: 0 };
    let expr = parser.sum()?;
    parser.skip_ws();
    (parser.pos == parser.b.len()).then_some(expr)
}

/// Whether two expressions are equal: as numbers within `tolerance` when
/// constant, else at several fixed points for their variables (which must
/// be the same set). Points where either side is undefined are skipped;
/// at least three must remain.
pub fn equal(a: &Expr, b: &Expr, tolerance: f64) -> bool {
    let (vars_a, vars_b) = (a.variables(), b.variables());
    if vars_a != vars_b {
        return false;
    }
    if vars_a.is_empty() {
        return close(a.eval(&|_| 0.0), b.eval(&|_| 0.0), tolerance);
    }
    let vars: Vec<char> = vars_a.into_iter().collect();
    let mut defined = 0;
    for point in 0..POINTS.len() {
        // Each variable takes a different value at each point.
        let value = |c: char| POINTS[(point + 3 * vars.iter().position(|&v| v == c).unwrap_or(0)) % POINTS.len()];
        let (x, y) = (a.eval(&value), b.eval(&value));
        if !x.is_finite() || !y.is_finite() {
            continue;
        }
        if !close(x, y, tolerance) {
            return false;
        }
        defined += 1;
    }
    defined >= 3
}

/// Values substituted for variables: irregular, so that distinct
/// polynomials and rational functions of low degree almost never agree
/// on all of them.
const POINTS: [f64; 8] = [0.6180339, 1.3247180, 2.5029079, -0.5772157, 1.6066951, 3.3598857, -1.2020569, 0.9159656];

/// Equality within a relative `tolerance`, or within 1e-9 absolutely.
/// Two integers must be equal exactly (a relative tolerance would let
/// 1,450,001 pass for 1,450,000); infinities equal themselves.
pub fn close(a: f64, b: f64, tolerance: f64) -> bool {
    if a.is_nan() || b.is_nan() {
        return false;
    }
    if a.is_infinite() || b.is_infinite() || (is_integer(a) && is_integer(b)) {
        return a == b;
    }
    let diff = (a - b).abs();
    diff <= 1e-9 || diff <= tolerance * a.abs().max(b.abs())
}

/// A whole number small enough that `f64` holds it exactly.
fn is_integer(x: f64) -> bool {
    x.fract() == 0.0 && x.abs() < 9e15
}

impl Expr {
    /// The value with variables bound by `var`.
    pub fn eval(&self, var: &dyn Fn(char) -> f64) -> f64 {
        match self {
            Expr::Num(n) => *n,
            Expr::Var(c) => var(*c),
            Expr::Neg(e) => -e.eval(var),
            Expr::Bin(op, l, r) => {
                let (l, r) = (l.eval(var), r.eval(var));
                match op {
                    Op::Add => l + r,
                    Op::Sub => l - r,
                    Op::Mul => l * r,
                    // `\frac{1}{0}` is undefined, not infinite (only `\infty` is).
                    Op::Div if r == 0.0 => f64::NAN,
                    Op::Div => l / r,
                    Op::Pow => l.powf(r),
                }
            }
            Expr::Call(f, e) => {
                let x = e.eval(var);
                match f {
                    Func::Sqrt => x.sqrt(),
                    Func::Sin => x.sin(),
                    Func::Cos => x.cos(),
                    Func::Tan => x.tan(),
                    Func::Cot => 1.0 / x.tan(),
                    Func::Sec => 1.0 / x.cos(),
                    Func::Csc => 1.0 / x.sin(),
                    Func::Ln => x.ln(),
                    Func::Log => x.log10(),
                    Func::Exp => x.exp(),
                }
            }
        }
    }

    /// The variables the expression uses.
    pub fn variables(&self) -> BTreeSet<char> {
        let mut out = BTreeSet::new();
        self.collect_variables(&mut out);
        out
    }

    fn collect_variables(&self, out: &mut BTreeSet<char>) {
        match self {
            Expr::Num(_) => {}
            Expr::Var(c) => {
                out.insert(*c);
            }
            Expr::Neg(e) | Expr::Call(_, e) => e.collect_variables(out),
            Expr::Bin(_, l, r) => {
                l.collect_variables(out);
                r.collect_variables(out);
            }
        }
    }
}

/// Whether `text` has a run of three or more letters outside a command
/// name: a word such as `east` or `odd`, which must not be read as a
/// product of variables (`east` would equal `seat`).
fn has_word(text: &str) -> bool {
    let b = text.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'\\' {
            i += 1;
            while i < b.len() && b[i].is_ascii_alphabetic() {
                i += 1;
            }
            continue;
        }
        let start = i;
        while i < b.len() && b[i].is_ascii_alphabetic() {
            i += 1;
        }
        if i - start >= 3 {
            return true;
        }
        i = i.max(start + 1);
    }
    false
}

fn bin(op: Op, l: Expr, r: Expr) -> Expr {
    Expr::Bin(op, Box::new(l), Box::new(r))
}

/// Recursive descent over the bytes of an ASCII string.
struct Parser<'a> {
    b: &'a [u8],
    pos: usize,
}

impl Parser<'_> {
    fn skip_ws(&mut self) {
        while self.b.get(self.pos).is_some_and(u8::is_ascii_whitespace) {
            self.pos += 1;
        }
    }

    fn peek(&mut self) -> Option<u8> {
        self.skip_ws();
        self.b.get(self.pos).copied()
    }

    fn eat(&mut self, c: u8) -> bool {
        let found = self.peek() == Some(c);
        self.pos += usize::from(found);
        found
    }

    /// The name of the command at the current position (after `\`).
    fn peek_command(&mut self) -> Option<&str> {
        if self.peek() != Some(b'\\') {
            return None;
        }
        let start = self.pos + 1;
        let len = self.b[start..].iter().take_while(|c| c.is_ascii_alphabetic()).count();
        std::str::from_utf8(&self.b[start..start + len]).ok()
    }

    /// `a + b - c`.
    fn sum(&mut self) -> Option<Expr> {
        let mut left = self.product()?;
        loop {
            let op = match self.peek() {
                Some(b'+') => Op::Add,
                Some(b'-') => Op::Sub,
                _ => return Some(left),
            };
            self.pos += 1;
            left = bin(op, left, self.product()?);
        }
    }

    /// `a * b / c`, `a \cdot b`, and juxtaposition `2x`.
    fn product(&mut self) -> Option<Expr> {
        let mut left = self.unary()?;
        loop {
            let op = match self.peek() {
                Some(b'*') => Some((Op::Mul, 1)),
                Some(b'/') => Some((Op::Div, 1)),
                Some(b'\\') => match self.peek_command() {
                    Some(name @ ("cdot" | "times")) => Some((Op::Mul, 1 + name.len())),
                    Some("div") => Some((Op::Div, 4)),
                    _ => None,
                },
                _ => None,
            };
            if let Some((op, len)) = op {
                self.pos += len;
                left = bin(op, left, self.unary()?);
            } else if self.starts_atom() {
                left = bin(Op::Mul, left, self.power()?);
            } else {
                return Some(left);
            }
        }
    }

    /// Whether an operand starts here (for implicit multiplication).
    fn starts_atom(&mut self) -> bool {
        match self.peek() {
            Some(c) if c.is_ascii_alphanumeric() || matches!(c, b'.' | b'(' | b'{' | b'[') => true,
            Some(b'\\') => self.peek_command().is_some_and(is_atom_command),
            _ => false,
        }
    }

    /// A signed power: `-x^2` is `-(x^2)`.
    fn unary(&mut self) -> Option<Expr> {
        if self.eat(b'-') {
            return Some(Expr::Neg(Box::new(self.unary()?)));
        }
        if self.eat(b'+') {
            return self.unary();
        }
        self.power()
    }

    fn power(&mut self) -> Option<Expr> {
        let base = self.atom()?;
        if self.eat(b'^') { Some(bin(Op::Pow, base, self.script()?)) } else { Some(base) }
    }

    /// An exponent or a command argument: a group, a number, one letter,
    /// a command, or a signed one of these (`x^-1`). `\frac12` never gets
    /// here unbraced: normalisation writes it `\frac{1}{2}`.
    fn script(&mut self) -> Option<Expr> {
        match self.peek()? {
            b'{' | b'(' => self.atom(),
            b'-' => {
                self.pos += 1;
                Some(Expr::Neg(Box::new(self.script()?)))
            }
            // A run of digits, as plain text means it: `2^10` is 1024.
            c if c.is_ascii_digit() => self.number(),
            c if c.is_ascii_alphabetic() => {
                self.pos += 1;
                Some(Expr::Var(char::from(c)))
            }
            b'\\' => self.command(),
            _ => None,
        }
    }

    fn atom(&mut self) -> Option<Expr> {
        match self.peek()? {
            c if c.is_ascii_digit() || c == b'.' => self.number(),
            c if c.is_ascii_alphabetic() => {
                self.pos += 1;
                Some(Expr::Var(char::from(c)))
            }
            open @ (b'(' | b'{' | b'[') => {
                self.pos += 1;
                let inner = self.sum()?;
                let close = match open {
                    b'(' => b')',
                    b'{' => b'}',
                    _ => b']',
                };
                self.eat(close).then_some(inner)
            }
            b'\\' => self.command(),
            _ => None,
        }
    }

    /// `12`, `3.5`, `.5`.
    fn number(&mut self) -> Option<Expr> {
        let start = self.pos;
        let digits = |p: &mut Self| {
            let n = p.b[p.pos..].iter().take_while(|c| c.is_ascii_digit()).count();
            p.pos += n;
            n
        };
        let whole = digits(self);
        if self.b.get(self.pos) == Some(&b'.') && self.b.get(self.pos + 1).is_some_and(u8::is_ascii_digit) {
            self.pos += 1;
            digits(self);
        } else if whole == 0 {
            return None;
        }
        std::str::from_utf8(&self.b[start..self.pos]).ok()?.parse().ok().map(Expr::Num)
    }

    fn command(&mut self) -> Option<Expr> {
        let name = self.peek_command()?.to_string();
        self.pos += 1 + name.len();
        match name.as_str() {
            "frac" => {
                let num = self.script()?;
                Some(bin(Op::Div, num, self.script()?))
            }
            "sqrt" if self.eat(b'[') => {
                let index = self.sum()?;
                if !self.eat(b']') {
                    return None;
                }
                let radicand = self.script()?;
                Some(bin(Op::Pow, radicand, bin(Op::Div, Expr::Num(1.0), index)))
            }
            "pi" => Some(Expr::Num(PI)),
            "infty" => Some(Expr::Num(f64::INFINITY)),
            _ => {
                let func = FUNCTIONS.iter().find(|(n, _)| *n == name)?.1;
                // `\sqrt` takes a group; `\sin x` and `\ln(2)` take an operand.
                let arg = if func == Func::Sqrt { self.script()? } else { self.power()? };
                Some(Expr::Call(func, Box::new(arg)))
            }
        }
    }
}

fn is_atom_command(name: &str) -> bool {
    matches!(name, "frac" | "pi" | "infty") || FUNCTIONS.iter().any(|(n, _)| *n == name)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn value(text: &str) -> f64 {
        parse(text).unwrap_or_else(|| panic!("{text} should parse")).eval(&|_| f64::NAN)
    }

    #[test]
    fn arithmetic_and_latex_commands() {
        let cases = [
            ("1+2*3", 7.0),
            ("2^10", 1024.0),
            ("-2^2", -4.0),
            ("\\frac{1}{2}", 0.5),
            ("2\\sqrt{4}", 4.0),
            ("\\sqrt[3]{27}", 3.0),
            ("3\\cdot4", 12.0),
            ("3\\times4", 12.0),
            ("6\\div4", 1.5),
            (".5", 0.5),
            ("(1+1)(2+1)", 6.0),
            ("2^{-1}", 0.5),
            ("\\frac{\\sqrt{3}}{3}", 3f64.sqrt() / 3.0),
            ("2\\pi", 2.0 * PI),
        ];
        for (text, expected) in cases {
            assert!(close(value(text), expected, 1e-12), "{text}: {} != {expected}", value(text));
        }
    }

    #[test]
    fn unsupported_input_does_not_parse() {
        for text in ["1,2", "x=5", "1\\pm2", "204_5", "east", "\\foo{1}", "(1+2", "1+", "°"] {
            assert_eq!(parse(text), None, "{text}");
        }
    }

    #[test]
    fn identities_hold_at_the_sample_points_and_others_do_not() {
        let eq = |a: &str, b: &str| equal(&parse(a).unwrap(), &parse(b).unwrap(), 1e-6);
        assert!(eq("2x+2", "2(x+1)"));
        assert!(eq("(a+5)(b+2)", "ab+2a+5b+10"));
        assert!(eq("x^2-1", "(x-1)(x+1)"));
        assert!(!eq("x^2+1", "(x+1)^2"));
        assert!(!eq("2x", "2y"));
        assert!(!eq("ab", "a"));
    }

    #[test]
    fn closeness_is_relative_with_an_absolute_floor() {
        assert!(close(1e9, 1e9 + 0.5, 1e-6));
        assert!(!close(1_450_000.0, 1_450_001.0, 1e-6));
        assert!(!close(1.0, 1.001, 1e-6));
        assert!(close(0.0, 1e-10, 0.0));
        assert!(close(f64::INFINITY, f64::INFINITY, 1e-6));
        assert!(!close(f64::INFINITY, f64::NEG_INFINITY, 1e-6));
    }
}

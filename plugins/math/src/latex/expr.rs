//! A parser for the arithmetic in normalised LaTeX answers: numbers
//! (kept exact, with a note of whether they were written as decimals),
//! single-letter variables, `+ - * /`, `\cdot`, `\times`, `\div`, `^`,
//! `\frac`, `\sqrt` and `\sqrt[n]`, `\pi`, `\infty`, functions (`\sin`,
//! `\sec`, `\arctan`, `\ln`, `\log_b`, …, with powers such as `\sin^2 x`
//! and inverses `\sin^{-1} x`), parentheses and braces, and implicit
//! multiplication (`2\sqrt{3}`, `2x`, `(a+5)(b+2)`).
//!
//! Anything else (`=`, `,`, `\pm`, subscripts, words of three or more
//! letters, unknown commands) is a parse failure, which callers treat as
//! "compare the strings", never as "equal". Input longer than
//! [`MAX_LEN`] bytes or nested deeper than [`MAX_DEPTH`] does not parse
//! either, so no answer can exhaust the stack.

use crate::arith::{Function, Rational};
use num_bigint::BigInt;
use num_traits::One;
use std::collections::BTreeSet;

/// The longest expression parsed, in bytes.
pub const MAX_LEN: usize = 4096;

/// The deepest nesting of groups, operands and exponents parsed.
pub const MAX_DEPTH: usize = 64;

/// A parsed expression.
#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    /// A number as written.
    Num(Literal),
    /// A single-letter variable.
    Var(char),
    /// A named constant.
    Const(Constant),
    /// `-x`.
    Neg(Box<Expr>),
    /// A binary operation.
    Bin(Op, Box<Expr>, Box<Expr>),
    /// `\sqrt{x}`.
    Sqrt(Box<Expr>),
    /// A transcendental function applied to an argument.
    Call(Function, Box<Expr>),
}

/// A number literal: its exact value, and how many digits it has after a
/// decimal point (`None` for an integer). A decimal is read as an
/// approximation when it does not match exactly.
#[derive(Debug, Clone, PartialEq)]
pub struct Literal {
    /// The exact value (`0.25` is 1/4).
    pub value: Rational,
    /// Digits after the decimal point, if one was written.
    pub decimals: Option<u32>,
}

/// Named constants.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Constant {
    Pi,
    Infinity,
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

/// Commands that name a function, with how each is computed.
const FUNCTIONS: [(&str, Named); 15] = [
    ("sin", Named::Plain(Function::Sin)),
    ("cos", Named::Plain(Function::Cos)),
    ("tan", Named::Plain(Function::Tan)),
    ("cot", Named::Reciprocal(Function::Tan)),
    ("sec", Named::Reciprocal(Function::Cos)),
    ("csc", Named::Reciprocal(Function::Sin)),
    ("arcsin", Named::Plain(Function::Asin)),
    ("arccos", Named::Plain(Function::Acos)),
    ("arctan", Named::Plain(Function::Atan)),
    ("ln", Named::Plain(Function::Ln)),
    ("log", Named::Plain(Function::Log10)),
    ("exp", Named::Plain(Function::Exp)),
    ("sinh", Named::Unsupported),
    ("cosh", Named::Unsupported),
    ("tanh", Named::Unsupported),
];

/// Greek letters used as variables (`\pi` is the constant).
const GREEK: [&str; 12] =
    ["alpha", "beta", "gamma", "delta", "theta", "lambda", "mu", "phi", "psi", "omega", "sigma", "tau"];

/// How a function command is computed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Named {
    Plain(Function),
    /// `\sec x` is `1 / \cos x`.
    Reciprocal(Function),
    Unsupported,
}

/// Parse a whole expression, or `None` if any of it is not understood.
pub fn parse(text: &str) -> Option<Expr> {
    if text.len() > MAX_LEN || !text.is_ascii() || has_word(text) {
        return None;
    }
    let mut parser = Parser { b: text.as_bytes(), pos: 0, depth: 0 };
    let expr = parser.sum()?;
    parser.skip_ws();
    (parser.pos == parser.b.len()).then_some(expr)
}

impl Expr {
    /// The variables the expression uses.
    pub fn variables(&self) -> BTreeSet<char> {
        let mut out = BTreeSet::new();
        self.visit(&mut |e| {
            if let Expr::Var(c) = e {
                out.insert(*c);
            }
        });
        out
    }

    /// Whether a number in it was written as a decimal (`0.33`, `1.5x`):
    /// then a tolerance may apply.
    pub fn has_decimal(&self) -> bool {
        let mut found = false;
        self.visit(&mut |e| found |= matches!(e, Expr::Num(Literal { decimals: Some(_), .. })));
        found
    }

    /// The digits after the point, when the whole expression is one
    /// decimal number (`-0.333`): it is then also held to its last digit.
    pub fn plain_decimals(&self) -> Option<u32> {
        match self {
            Expr::Num(literal) => literal.decimals,
            Expr::Neg(inner) => inner.plain_decimals(),
            _ => None,
        }
    }

    fn visit(&self, f: &mut impl FnMut(&Expr)) {
        f(self);
        match self {
            Expr::Num(_) | Expr::Var(_) | Expr::Const(_) => {}
            Expr::Neg(e) | Expr::Sqrt(e) | Expr::Call(_, e) => e.visit(f),
            Expr::Bin(_, l, r) => {
                l.visit(f);
                r.visit(f);
            }
        }
    }
}

/// `l - r`, for comparing the two sides of an equation.
pub fn difference(l: Expr, r: Expr) -> Expr {
    bin(Op::Sub, l, r)
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

fn integer(n: i64) -> Expr {
    Expr::Num(Literal { value: Rational::from(BigInt::from(n)), decimals: None })
}

/// Recursive descent over the bytes of an ASCII string.
struct Parser<'a> {
    b: &'a [u8],
    pos: usize,
    /// Open groups, operands and exponents: bounded by [`MAX_DEPTH`].
    depth: usize,
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

    /// Run `f` one level deeper, failing past [`MAX_DEPTH`].
    fn nested(&mut self, f: impl FnOnce(&mut Self) -> Option<Expr>) -> Option<Expr> {
        if self.depth >= MAX_DEPTH {
            return None;
        }
        self.depth += 1;
        let out = f(self);
        self.depth -= 1;
        out
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
        self.nested(|p| {
            if p.eat(b'-') {
                return Some(Expr::Neg(Box::new(p.unary()?)));
            }
            if p.eat(b'+') {
                return p.unary();
            }
            p.power()
        })
    }

    fn power(&mut self) -> Option<Expr> {
        let base = self.atom()?;
        if self.eat(b'^') { Some(bin(Op::Pow, base, self.script()?)) } else { Some(base) }
    }

    /// An exponent or a command argument: a group, a number, one letter,
    /// a command, or a signed one of these (`x^-1`). `\frac12` never gets
    /// here unbraced: normalisation writes it `\frac{1}{2}`.
    fn script(&mut self) -> Option<Expr> {
        self.nested(|p| match p.peek()? {
            b'{' | b'(' => p.atom(),
            b'-' => {
                p.pos += 1;
                Some(Expr::Neg(Box::new(p.script()?)))
            }
            // A run of digits, as plain text means it: `2^10` is 1024.
            c if c.is_ascii_digit() => p.number(),
            c if c.is_ascii_alphabetic() => {
                p.pos += 1;
                Some(Expr::Var(char::from(c)))
            }
            b'\\' => p.command(),
            _ => None,
        })
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
                let inner = self.nested(Self::sum)?;
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

    /// `12`, `3.5`, `.5`, kept exact: `3.5` is 7/2 with one decimal.
    fn number(&mut self) -> Option<Expr> {
        let digits = |p: &mut Self| {
            let start = p.pos;
            p.pos += p.b[p.pos..].iter().take_while(|c| c.is_ascii_digit()).count();
            std::str::from_utf8(&p.b[start..p.pos]).unwrap_or("")
        };
        let whole = digits(self);
        let fraction =
            if self.b.get(self.pos) == Some(&b'.') && self.b.get(self.pos + 1).is_some_and(u8::is_ascii_digit) {
                self.pos += 1;
                Some(digits(self))
            } else {
                None
            };
        if whole.is_empty() && fraction.is_none() {
            return None;
        }
        let fraction_digits = fraction.unwrap_or("");
        let numerator: BigInt = format!("{whole}{fraction_digits}").parse().ok()?;
        let scale = num_traits::pow(BigInt::from(10), fraction_digits.len());
        let decimals = fraction.map(|f| f.len() as u32);
        Some(Expr::Num(Literal { value: Rational::new(numerator, scale), decimals }))
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
                let index = self.nested(Self::sum)?;
                if !self.eat(b']') {
                    return None;
                }
                let radicand = self.script()?;
                Some(bin(Op::Pow, radicand, bin(Op::Div, integer(1), index)))
            }
            "sqrt" => Some(Expr::Sqrt(Box::new(self.script()?))),
            "pi" => Some(Expr::Const(Constant::Pi)),
            greek if GREEK.contains(&greek) => {
                // Greek letters are variables, told apart by their names.
                let index = GREEK.iter().position(|g| *g == greek).unwrap_or(0) as u32;
                char::from_u32(0x3b1 + index).map(Expr::Var)
            }
            "infty" => Some(Expr::Const(Constant::Infinity)),
            _ => self.function(&name),
        }
    }

    /// `\sin x`, `\sin^2 x`, `\sin^{-1} x`, `\ln(2)`, `\log_2 8`.
    fn function(&mut self, name: &str) -> Option<Expr> {
        let named = FUNCTIONS.iter().find(|(n, _)| *n == name)?.1;
        let base = if name == "log" && self.eat(b'_') { Some(self.subscript()?) } else { None };
        let power = if self.eat(b'^') { Some(self.script()?) } else { None };
        let inverse = power.as_ref().is_some_and(is_minus_one);
        let argument = self.nested(Self::argument)?;
        let value = match (named, inverse) {
            (Named::Plain(f), false) => Expr::Call(f, Box::new(argument)),
            (Named::Reciprocal(f), false) => bin(Op::Div, integer(1), Expr::Call(f, Box::new(argument))),
            (Named::Plain(f), true) => Expr::Call(inverse_of(f)?, Box::new(argument)),
            _ => return None,
        };
        let value = match base {
            Some(base) => bin(Op::Div, value, Expr::Call(Function::Log10, Box::new(base))),
            None => value,
        };
        match power {
            Some(power) if !inverse => Some(bin(Op::Pow, value, power)),
            _ => Some(value),
        }
    }
}

impl Parser<'_> {
    /// A subscript: a group, or one character as in LaTeX (`\log_28` is
    /// `\log_2 8`).
    fn subscript(&mut self) -> Option<Expr> {
        match self.peek()? {
            c if c.is_ascii_digit() => {
                self.pos += 1;
                Some(integer(i64::from(c - b'0')))
            }
            _ => self.script(),
        }
    }

    /// A function's argument: an operand and the factors written straight
    /// after it, so `\sin 2x` is `\sin(2x)`; a parenthesised argument, or
    /// the next function, ends it (`\sin(x) y`, `\sin x \cos x`).
    fn argument(&mut self) -> Option<Expr> {
        let parenthesised = self.peek() == Some(b'(');
        let mut argument = self.power()?;
        while !parenthesised && self.starts_factor() {
            argument = bin(Op::Mul, argument, self.power()?);
        }
        Some(argument)
    }

    fn starts_factor(&mut self) -> bool {
        match self.peek() {
            Some(c) => {
                c.is_ascii_alphanumeric() || self.peek_command().is_some_and(|n| n == "pi" || GREEK.contains(&n))
            }
            None => false,
        }
    }
}

/// Whether an exponent is `-1` (`\sin^{-1}` is the inverse function).
fn is_minus_one(e: &Expr) -> bool {
    matches!(e, Expr::Neg(inner) if matches!(&**inner, Expr::Num(l) if l.value.is_one()))
}

fn inverse_of(f: Function) -> Option<Function> {
    match f {
        Function::Sin => Some(Function::Asin),
        Function::Cos => Some(Function::Acos),
        Function::Tan => Some(Function::Atan),
        _ => None,
    }
}

fn is_atom_command(name: &str) -> bool {
    matches!(name, "frac" | "pi" | "infty" | "sqrt")
        || GREEK.contains(&name)
        || FUNCTIONS.iter().any(|(n, _)| *n == name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literals_are_exact() {
        let Some(Expr::Num(l)) = parse("0.1") else { panic!() };
        assert_eq!((l.value, l.decimals), (Rational::new(1.into(), 10.into()), Some(1)));
        let digits = "1234567890123456789012345678901";
        let Some(Expr::Num(l)) = parse(digits) else { panic!() };
        assert_eq!(l.value.numer().to_string(), digits);
        assert!(parse("3x+0.5").unwrap().has_decimal());
        assert_eq!(parse("-0.333").unwrap().plain_decimals(), Some(3));
    }

    #[test]
    fn unsupported_input_does_not_parse() {
        for text in ["1,2", "x=5", "1\\pm2", "204_5", "east", "\\foo{1}", "(1+2", "1+", "°", "\\sinh x"] {
            assert_eq!(parse(text), None, "{text}");
        }
        assert_eq!(parse(&"(".repeat(200)), None);
        assert_eq!(parse(&format!("{}1{}", "{".repeat(100), "}".repeat(100))), None);
        assert!(parse(&format!("{}1{}", "(".repeat(20), ")".repeat(20))).is_some());
    }

    #[test]
    fn function_powers_and_inverses() {
        let squared = parse("\\sin^2 x").unwrap();
        assert!(matches!(squared, Expr::Bin(Op::Pow, ..)), "{squared:?}");
        assert!(matches!(parse("\\sin^{-1} x").unwrap(), Expr::Call(Function::Asin, _)));
        assert!(matches!(parse("\\sec x").unwrap(), Expr::Bin(Op::Div, ..)));
        assert!(parse("\\log_2 8").is_some());
    }
}

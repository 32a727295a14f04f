//! `${VAR}` in config values: replaced by the environment variable's value
//! while the file is parsed, so a config can name a host, a model path or a
//! token without holding it (`api_base_url: http://${VLLM_HOST}:8000/v1`,
//! `hf: {token: ${HF_TOKEN}}`).
//!
//! - `VAR` is a name (`[A-Za-z_][A-Za-z0-9_]*`); anything else after `${`
//!   stays as written, and `$${` is a literal `${`.
//! - Only values are expanded, never keys, and a value stays one value:
//!   what a variable holds cannot add fields or change the file's structure.
//! - An unset variable is an error at the value that names it, so it reads
//!   `run.yaml:7:12: models.m.model: ${MODEL}: environment variable MODEL is not set`.
//! - A secret is never written: a variable named like one (`HF_TOKEN`,
//!   `OPENAI_API_KEY`, `*SECRET*`, `*PASSWORD*`) may be referenced only in
//!   values assay keeps in memory, a `token:` field, a job's
//!   `environment_variables` or a served model's `serve.env`; anywhere else (a value that may reach a
//!   manifest, metadata or results) it is an error.
//!
//! The expansion is a deserializer wrapped around YAML's or TOML's: it
//! hands every string value through [`expand_in`] on its way to the visitor,
//! keeping the inner deserializer's locations in error messages.

use serde::de::{self, DeserializeSeed, Deserializer, EnumAccess, MapAccess, SeqAccess, VariantAccess, Visitor};
use std::cell::RefCell;
use std::fmt;
use std::rc::Rc;

/// `$name`'s value, or why there is none.
fn environment_variable(name: &str) -> Result<String, String> {
    std::env::var(name).map_err(|_| format!("${{{name}}}: environment variable {name} is not set"))
}

/// `text` with every `${NAME}` replaced by `lookup(NAME)` and `$${` by
/// `${`; `Err`: the first variable `lookup` refuses.
fn expand_with(text: &str, lookup: impl Fn(&str) -> Result<String, String>) -> Result<String, String> {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find('$') {
        out.push_str(&rest[..at]);
        rest = &rest[at..];
        if let Some(after) = rest.strip_prefix("$${") {
            out.push_str("${");
            rest = after;
        } else if let Some((name, after)) = reference(rest) {
            out.push_str(&lookup(name)?);
            rest = after;
        } else {
            out.push('$');
            rest = &rest[1..];
        }
    }
    out.push_str(rest);
    Ok(out)
}

/// The variable name of a `${NAME}` at the start of `text`, and what follows it.
fn reference(text: &str) -> Option<(&str, &str)> {
    let (name, after) = text.strip_prefix("${")?.split_once('}')?;
    let mut chars = name.chars();
    let first = chars.next()?;
    let valid = (first.is_ascii_alphabetic() || first == '_') && chars.all(|c| c.is_ascii_alphanumeric() || c == '_');
    valid.then_some((name, after))
}

/// Whether a value may hold a secret: only where assay never writes it.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Scope {
    /// An ordinary value (it may reach manifests, metadata, results).
    Plain,
    /// The `environment_variables` map (or `serve.env`): its values may be secrets.
    EnvironmentVariables,
    /// A model's `serve:` block: plain, but for its `env` map.
    Serve,
    /// A value kept in memory only (`token:`, a job's environment variable).
    Secret,
}

impl Scope {
    /// The scope of the value under `key` in a map of scope `self`.
    fn of_field(self, key: &str) -> Scope {
        match (self, key) {
            (Scope::EnvironmentVariables, _) | (_, "token") => Scope::Secret,
            (_, "environment_variables") | (Scope::Serve, "env") => Scope::EnvironmentVariables,
            (_, "serve") => Scope::Serve,
            _ => Scope::Plain,
        }
    }
}

/// Names of variables that hold secrets by convention (`HF_TOKEN`,
/// `OPENAI_API_KEY`, `DB_PASSWORD`, ...).
fn names_a_secret(name: &str) -> bool {
    let name = name.to_ascii_uppercase();
    ["TOKEN", "KEY", "SECRET", "PASSWORD", "PASSWD", "CREDENTIAL"].iter().any(|word| name.contains(word))
}

/// `text` expanded for a value of `scope`: a secret's value is refused
/// where it could be written.
fn expand_in(text: &str, scope: Scope) -> Result<String, String> {
    expand_with(text, |name| {
        if scope != Scope::Secret && names_a_secret(name) {
            return Err(format!(
                "${{{name}}} looks like a secret and this value may be written to run files: \
                 use secrets only in `environment_variables`, `serve.env` or `token` (a model names its key's variable in `api_key_var`)"
            ));
        }
        environment_variable(name)
    })
}

/// What a wrapped deserializer or visitor is reading: a map key (recorded
/// into the slot, so the value after it knows its field) or a value.
#[derive(Clone)]
enum Role {
    Key(Rc<RefCell<String>>),
    Value(Scope),
}

/// A deserializer whose string values have their `${VAR}` references expanded.
pub(super) struct Expanding<D> {
    inner: D,
    role: Role,
}

impl<D> Expanding<D> {
    /// Expand every value read through `inner`, a whole file.
    pub(super) fn new(inner: D) -> Self {
        Expanding { inner, role: Role::Value(Scope::Plain) }
    }
}

/// Forward `deserialize_*` methods to the inner deserializer with the
/// visitor wrapped.
macro_rules! forward {
    ($($method:ident($($arg:ident: $ty:ty),*);)*) => {
        $(fn $method<V: Visitor<'de>>(self, $($arg: $ty,)* visitor: V) -> Result<V::Value, D::Error> {
            self.inner.$method($($arg,)* Expand { inner: visitor, role: self.role })
        })*
    };
}

impl<'de, D: Deserializer<'de>> Deserializer<'de> for Expanding<D> {
    type Error = D::Error;
    forward! {
        deserialize_any(); deserialize_bool(); deserialize_i8(); deserialize_i16(); deserialize_i32();
        deserialize_i64(); deserialize_i128(); deserialize_u8(); deserialize_u16(); deserialize_u32();
        deserialize_u64(); deserialize_u128(); deserialize_f32(); deserialize_f64(); deserialize_char();
        deserialize_str(); deserialize_string(); deserialize_bytes(); deserialize_byte_buf(); deserialize_option();
        deserialize_unit(); deserialize_seq(); deserialize_map(); deserialize_identifier(); deserialize_ignored_any();
        deserialize_unit_struct(name: &'static str); deserialize_newtype_struct(name: &'static str);
        deserialize_tuple(len: usize); deserialize_tuple_struct(name: &'static str, len: usize);
        deserialize_struct(name: &'static str, fields: &'static [&'static str]);
        deserialize_enum(name: &'static str, variants: &'static [&'static str]);
    }

    fn is_human_readable(&self) -> bool {
        self.inner.is_human_readable()
    }
}

/// A visitor, seed or access receiving strings expanded (or keys
/// recorded) and nested values still wrapped.
struct Expand<V> {
    inner: V,
    role: Role,
}

impl<V> Expand<V> {
    /// `inner` wrapped as a value of `scope`.
    fn value(inner: V, scope: Scope) -> Self {
        Expand { inner, role: Role::Value(scope) }
    }

    /// The scope of the value being read (a key's: plain).
    fn scope(&self) -> Scope {
        match self.role {
            Role::Value(scope) => scope,
            Role::Key(_) => Scope::Plain,
        }
    }

    /// `text` expanded (a value) or recorded (a key); `None`: unchanged.
    fn read<E: de::Error>(&self, text: &str) -> Result<Option<String>, E> {
        match &self.role {
            Role::Key(slot) => {
                *slot.borrow_mut() = text.to_string();
                Ok(None)
            }
            Role::Value(_) if !text.contains('$') => Ok(None),
            Role::Value(scope) => expand_in(text, *scope).map(Some).map_err(E::custom),
        }
    }
}

/// Forward `visit_*` methods of plain values unchanged.
macro_rules! forward_values {
    ($($method:ident($ty:ty);)*) => {
        $(fn $method<E: de::Error>(self, value: $ty) -> Result<V::Value, E> {
            self.inner.$method(value)
        })*
    };
}

impl<'de, V: Visitor<'de>> Visitor<'de> for Expand<V> {
    type Value = V::Value;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        self.inner.expecting(f)
    }

    forward_values! {
        visit_bool(bool); visit_i8(i8); visit_i16(i16); visit_i32(i32); visit_i64(i64); visit_i128(i128);
        visit_u8(u8); visit_u16(u16); visit_u32(u32); visit_u64(u64); visit_u128(u128); visit_f32(f32);
        visit_f64(f64); visit_char(char); visit_bytes(&[u8]); visit_borrowed_bytes(&'de [u8]);
        visit_byte_buf(Vec<u8>);
    }

    fn visit_str<E: de::Error>(self, text: &str) -> Result<V::Value, E> {
        match self.read(text)? {
            Some(expanded) => self.inner.visit_string(expanded),
            None => self.inner.visit_str(text),
        }
    }

    fn visit_borrowed_str<E: de::Error>(self, text: &'de str) -> Result<V::Value, E> {
        match self.read(text)? {
            Some(expanded) => self.inner.visit_string(expanded),
            None => self.inner.visit_borrowed_str(text),
        }
    }

    fn visit_string<E: de::Error>(self, text: String) -> Result<V::Value, E> {
        match self.read(&text)? {
            Some(expanded) => self.inner.visit_string(expanded),
            None => self.inner.visit_string(text),
        }
    }

    fn visit_none<E: de::Error>(self) -> Result<V::Value, E> {
        self.inner.visit_none()
    }

    fn visit_unit<E: de::Error>(self) -> Result<V::Value, E> {
        self.inner.visit_unit()
    }

    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<V::Value, D::Error> {
        self.inner.visit_some(Expanding { inner: deserializer, role: self.role })
    }

    fn visit_newtype_struct<D: Deserializer<'de>>(self, deserializer: D) -> Result<V::Value, D::Error> {
        self.inner.visit_newtype_struct(Expanding { inner: deserializer, role: self.role })
    }

    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<V::Value, A::Error> {
        let scope = self.scope();
        self.inner.visit_seq(Expand::value(seq, scope))
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<V::Value, A::Error> {
        let scope = self.scope();
        self.inner.visit_map(KeyedMap { inner: map, scope, key: Rc::default() })
    }

    fn visit_enum<A: EnumAccess<'de>>(self, data: A) -> Result<V::Value, A::Error> {
        let scope = self.scope();
        self.inner.visit_enum(Expand::value(data, scope))
    }
}

impl<'de, A: SeqAccess<'de>> SeqAccess<'de> for Expand<A> {
    type Error = A::Error;

    fn next_element_seed<T: DeserializeSeed<'de>>(&mut self, seed: T) -> Result<Option<T::Value>, A::Error> {
        self.inner.next_element_seed(Expand::value(seed, self.scope()))
    }

    fn size_hint(&self) -> Option<usize> {
        self.inner.size_hint()
    }
}

/// A map being read: its scope and the key last read.
struct KeyedMap<A> {
    inner: A,
    scope: Scope,
    key: Rc<RefCell<String>>,
}

/// Keys are recorded, not expanded: only values are expanded.
impl<'de, A: MapAccess<'de>> MapAccess<'de> for KeyedMap<A> {
    type Error = A::Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(&mut self, seed: K) -> Result<Option<K::Value>, A::Error> {
        self.key.borrow_mut().clear();
        self.inner.next_key_seed(Expand { inner: seed, role: Role::Key(self.key.clone()) })
    }

    fn next_value_seed<T: DeserializeSeed<'de>>(&mut self, seed: T) -> Result<T::Value, A::Error> {
        let scope = self.scope.of_field(&self.key.borrow());
        self.inner.next_value_seed(Expand::value(seed, scope))
    }

    fn size_hint(&self) -> Option<usize> {
        self.inner.size_hint()
    }
}

impl<'de, S: DeserializeSeed<'de>> DeserializeSeed<'de> for Expand<S> {
    type Value = S::Value;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<S::Value, D::Error> {
        self.inner.deserialize(Expanding { inner: deserializer, role: self.role })
    }
}

impl<'de, A: EnumAccess<'de>> EnumAccess<'de> for Expand<A> {
    type Error = A::Error;
    type Variant = Expand<A::Variant>;

    fn variant_seed<T: DeserializeSeed<'de>>(self, seed: T) -> Result<(T::Value, Self::Variant), A::Error> {
        let scope = self.scope();
        let (value, variant) = self.inner.variant_seed(seed)?;
        Ok((value, Expand::value(variant, scope)))
    }
}

impl<'de, A: VariantAccess<'de>> VariantAccess<'de> for Expand<A> {
    type Error = A::Error;

    fn unit_variant(self) -> Result<(), A::Error> {
        self.inner.unit_variant()
    }

    fn newtype_variant_seed<T: DeserializeSeed<'de>>(self, seed: T) -> Result<T::Value, A::Error> {
        let scope = self.scope();
        self.inner.newtype_variant_seed(Expand::value(seed, scope))
    }

    fn tuple_variant<V: Visitor<'de>>(self, len: usize, visitor: V) -> Result<V::Value, A::Error> {
        let scope = self.scope();
        self.inner.tuple_variant(len, Expand::value(visitor, scope))
    }

    fn struct_variant<V: Visitor<'de>>(
        self,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, A::Error> {
        let scope = self.scope();
        self.inner.struct_variant(fields, Expand::value(visitor, scope))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lookup(name: &str) -> Result<String, String> {
        match name {
            "HOST" => Ok("gpu-1".into()),
            "EMPTY" => Ok(String::new()),
            _ => Err(format!("{name} is not set")),
        }
    }

    #[test]
    fn references_are_replaced_and_everything_else_stays() {
        let cases = [
            ("http://${HOST}:8000/v1", "http://gpu-1:8000/v1"),
            ("${HOST}${HOST}", "gpu-1gpu-1"),
            ("a${EMPTY}b", "ab"),
            ("costs $5, $HOST, ${", "costs $5, $HOST, ${"),
            ("$${HOST} is literal", "${HOST} is literal"),
            ("${not a name} ${1X} ${}", "${not a name} ${1X} ${}"),
            ("naïve ${HOST} ünïcode", "naïve gpu-1 ünïcode"),
        ];
        for (text, expected) in cases {
            assert_eq!(expand_with(text, lookup).unwrap(), expected, "{text}");
        }
    }

    #[test]
    fn an_unset_variable_is_named() {
        assert_eq!(
            expand_with("x ${ASSAY_TEST_UNSET_4B1D}", environment_variable).unwrap_err(),
            "${ASSAY_TEST_UNSET_4B1D}: environment variable ASSAY_TEST_UNSET_4B1D is not set"
        );
    }
}

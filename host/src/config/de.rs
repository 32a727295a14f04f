//! Hand-written deserializers: env files holding one env or a list, inline
//! envs as a map keyed by id, maps that reject duplicate keys, and numbers
//! checked inside the visitor so errors point at the value itself.

use super::EnvEntry;
use super::schema::{DatasetSource, EnvConfig, HubDataset, TaskDirs, num_examples};
use serde::Deserialize;
use serde::de::{self, DeserializeSeed, Deserializer, IntoDeserializer, MapAccess, SeqAccess, Visitor};
use std::fmt;
use std::marker::PhantomData;

/// The contents of an env file: one env mapping or a list of them.
#[derive(Debug)]
pub(super) struct EnvFile(pub(super) Vec<EnvEntry>);

impl<'de> Deserialize<'de> for EnvFile {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct FileVisitor;
        impl<'de> Visitor<'de> for FileVisitor {
            type Value = EnvFile;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an env (a mapping) or a list of envs")
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<EnvFile, A::Error> {
                let env = EnvConfig::deserialize(de::value::MapAccessDeserializer::new(map))?;
                Ok(EnvFile(vec![EnvEntry { field: String::new(), env }]))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<EnvFile, A::Error> {
                env_list(seq, "").map(EnvFile)
            }
        }
        deserializer.deserialize_any(FileVisitor)
    }
}

/// A list of envs, each remembering its field path `<prefix>[i]`.
fn env_list<'de, A: SeqAccess<'de>>(mut seq: A, prefix: &str) -> Result<Vec<EnvEntry>, A::Error> {
    let mut entries = Vec::new();
    while let Some(env) = seq.next_element()? {
        entries.push(EnvEntry { field: format!("{prefix}[{}]", entries.len()), env });
    }
    Ok(entries)
}

/// `envs:` in a run config: a map id → env (the key is the env's id), a
/// list of envs, or null (absent).
pub(super) fn de_inline_envs<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<Vec<EnvEntry>>, D::Error> {
    struct EnvsVisitor;
    impl<'de> Visitor<'de> for EnvsVisitor {
        type Value = Option<Vec<EnvEntry>>;
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("a map of env id to env, or a list of envs")
        }
        fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Self::Value, A::Error> {
            env_list(seq, "envs").map(Some)
        }
        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
            let mut entries: Vec<EnvEntry> = Vec::new();
            while let Some(id) = map.next_key::<String>()? {
                if entries.iter().any(|entry| entry.env.id == id) {
                    return Err(de::Error::custom(format_args!("duplicate env id `{id}`")));
                }
                let env = map.next_value_seed(WithId(id.clone()))?;
                entries.push(EnvEntry { field: format!("envs.{id}"), env });
            }
            Ok(Some(entries))
        }
    }
    deserializer.deserialize_any(EnvsVisitor)
}

/// Deserializes an [`EnvConfig`] from a mapping without `id`, supplying the
/// id (the key it was found under) as if it were the mapping's first entry.
/// Deserializing in place keeps the YAML locations in error messages.
struct WithId(String);

impl<'de> DeserializeSeed<'de> for WithId {
    type Value = EnvConfig;
    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<EnvConfig, D::Error> {
        EnvConfig::deserialize(InjectId { id: self.0, inner: deserializer })
    }
}

/// A deserializer that reads a mapping from `inner` with an `id` entry added.
struct InjectId<D> {
    id: String,
    inner: D,
}

impl<'de, D: Deserializer<'de>> Deserializer<'de> for InjectId<D> {
    type Error = D::Error;
    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, D::Error> {
        self.inner.deserialize_map(InjectIdVisitor { id: self.id, visitor })
    }
    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf option unit
        unit_struct newtype_struct seq tuple tuple_struct map struct enum identifier ignored_any
    }
}

struct InjectIdVisitor<V> {
    id: String,
    visitor: V,
}

impl<'de, V: Visitor<'de>> Visitor<'de> for InjectIdVisitor<V> {
    type Value = V::Value;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        self.visitor.expecting(f)
    }
    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<V::Value, A::Error> {
        self.visitor.visit_map(IdFirst { id: Some(self.id), key_given: false, map })
    }
}

/// Yields `id: <id>` first, then the entries of `map`.
struct IdFirst<A> {
    id: Option<String>,
    key_given: bool,
    map: A,
}

impl<'de, A: MapAccess<'de>> MapAccess<'de> for IdFirst<A> {
    type Error = A::Error;
    fn next_key_seed<K: DeserializeSeed<'de>>(&mut self, seed: K) -> Result<Option<K::Value>, A::Error> {
        if self.id.is_some() && !self.key_given {
            self.key_given = true;
            return seed.deserialize("id".into_deserializer()).map(Some);
        }
        self.map.next_key_seed(seed)
    }
    fn next_value_seed<S: DeserializeSeed<'de>>(&mut self, seed: S) -> Result<S::Value, A::Error> {
        match self.id.take() {
            Some(id) => seed.deserialize(id.into_deserializer()),
            None => self.map.next_value_seed(seed),
        }
    }
}

/// Yields an already read key first, then the rest of `map` (whose next
/// value is that key's).
struct KeyFirst<A> {
    key: Option<String>,
    map: A,
}

impl<'de, A: MapAccess<'de>> MapAccess<'de> for KeyFirst<A> {
    type Error = A::Error;
    fn next_key_seed<K: DeserializeSeed<'de>>(&mut self, seed: K) -> Result<Option<K::Value>, A::Error> {
        match self.key.take() {
            Some(key) => seed.deserialize(key.into_deserializer()).map(Some),
            None => self.map.next_key_seed(seed),
        }
    }
    fn next_value_seed<S: DeserializeSeed<'de>>(&mut self, seed: S) -> Result<S::Value, A::Error> {
        self.map.next_value_seed(seed)
    }
}

/// A string-keyed map that rejects duplicate keys (YAML parsers keep the
/// last one silently, which hides copy-paste mistakes).
pub(super) fn de_unique_map<'de, D, V, M>(deserializer: D) -> Result<M, D::Error>
where
    D: Deserializer<'de>,
    V: Deserialize<'de>,
    M: FromIterator<(String, V)>,
{
    struct MapVisitor<V>(PhantomData<V>);
    impl<'de, V: Deserialize<'de>> Visitor<'de> for MapVisitor<V> {
        type Value = Vec<(String, V)>;
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("a map")
        }
        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
            let mut entries: Vec<(String, V)> = Vec::new();
            while let Some(key) = map.next_key::<String>()? {
                if entries.iter().any(|(seen, _)| *seen == key) {
                    return Err(de::Error::custom(format_args!("duplicate key `{key}`")));
                }
                entries.push((key, map.next_value()?));
            }
            Ok(entries)
        }
    }
    Ok(deserializer.deserialize_map(MapVisitor(PhantomData))?.into_iter().collect())
}

/// One string or a non-empty list of strings.
pub(super) fn de_one_or_many<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Vec<String>, D::Error> {
    struct OneOrMany;
    impl<'de> Visitor<'de> for OneOrMany {
        type Value = Vec<String>;
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("an env id or a list of env ids")
        }
        fn visit_str<E: de::Error>(self, id: &str) -> Result<Vec<String>, E> {
            Ok(vec![id.to_string()])
        }
        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Vec<String>, A::Error> {
            let mut ids = Vec::new();
            while let Some(id) = seq.next_element()? {
                ids.push(id);
            }
            if ids.is_empty() {
                return Err(de::Error::custom("expected at least one env id"));
            }
            Ok(ids)
        }
    }
    deserializer.deserialize_any(OneOrMany)
}

/// A count that must be at least 1.
pub(super) fn de_at_least_one<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: TryFrom<i128>,
{
    deserializer.deserialize_any(Checked {
        expecting: "a positive integer",
        check: |number| match number {
            Number::Int(n) if n >= 1 => T::try_from(n).map_err(|_| format!("{n} is too large")),
            Number::Int(_) => Err("must be at least 1".into()),
            Number::Float(x) => Err(format!("expected a positive integer, found {x}")),
        },
    })
}

/// An optional count that must be at least 1 when given.
pub(super) fn de_optional_at_least_one<'de, D, T>(deserializer: D) -> Result<Option<T>, D::Error>
where
    D: Deserializer<'de>,
    T: TryFrom<i128>,
{
    de_at_least_one(deserializer).map(Some)
}

/// An optional positive rate (per minute).
pub(super) fn de_optional_rate<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<f64>, D::Error> {
    let check = |number| positive(number, "a positive number per minute");
    deserializer.deserialize_any(Checked { expecting: "a positive number per minute", check }).map(Some)
}

/// A positive, finite number of seconds.
pub(super) fn de_seconds<'de, D: Deserializer<'de>>(deserializer: D) -> Result<f64, D::Error> {
    let check = |number| positive(number, "a positive number of seconds");
    deserializer.deserialize_any(Checked { expecting: "a positive number of seconds", check })
}

/// `number` if it is finite and above zero; else "expected `what`, found ...".
fn positive(number: Number, what: &str) -> Result<f64, String> {
    let value = match number {
        Number::Int(n) => n as f64,
        Number::Float(x) => x,
    };
    match value.is_finite() && value > 0.0 {
        true => Ok(value),
        false => Err(format!("expected {what}, found {value}")),
    }
}

pub(super) fn de_num_examples<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<usize>, D::Error> {
    deserializer.deserialize_any(Checked {
        expecting: "-1 (all) or a positive count",
        check: |number| match number {
            Number::Int(n) => num_examples(i64::try_from(n).map_err(|_| format!("{n} is too large"))?),
            Number::Float(x) => Err(format!("num_examples must be -1 (all) or a positive count, not {x}")),
        },
    })
}

/// A YAML number, for [`Checked`].
enum Number {
    Int(i128),
    Float(f64),
}

/// A number checked inside the visitor: serde_yaml_ng then reports errors at
/// the value itself rather than at its enclosing mapping.
struct Checked<T> {
    expecting: &'static str,
    check: fn(Number) -> Result<T, String>,
}

impl<'de, T> Visitor<'de> for Checked<T> {
    type Value = T;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str(self.expecting)
    }
    fn visit_i64<E: de::Error>(self, n: i64) -> Result<T, E> {
        (self.check)(Number::Int(n.into())).map_err(E::custom)
    }
    fn visit_u64<E: de::Error>(self, n: u64) -> Result<T, E> {
        (self.check)(Number::Int(n.into())).map_err(E::custom)
    }
    fn visit_f64<E: de::Error>(self, x: f64) -> Result<T, E> {
        (self.check)(Number::Float(x)).map_err(E::custom)
    }
}

/// `dataset:` is a file path (a string), a Hub dataset (a mapping) or task
/// directories (a mapping whose first key is `tasks` or `apply_overrides`).
impl<'de> Deserialize<'de> for DatasetSource {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct SourceVisitor;
        impl<'de> Visitor<'de> for SourceVisitor {
            type Value = DatasetSource;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str(
                    "a dataset file, a Hub dataset {hub: OWNER/NAME, config, split, revision}, or task directories {tasks: DIR}",
                )
            }
            fn visit_str<E: de::Error>(self, path: &str) -> Result<DatasetSource, E> {
                Ok(DatasetSource::File(path.into()))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<DatasetSource, A::Error> {
                let Some(first) = map.next_key::<String>()? else {
                    return Err(de::Error::custom("an empty mapping is no dataset"));
                };
                let tasks = matches!(first.as_str(), "tasks" | "apply_overrides");
                let map = de::value::MapAccessDeserializer::new(KeyFirst { key: Some(first), map });
                if tasks {
                    return Ok(DatasetSource::Tasks(TaskDirs::deserialize(map)?));
                }
                let hub = HubDataset::deserialize(map)?;
                let parts: Vec<&str> = hub.hub.split('/').collect();
                if parts.len() != 2 || parts.iter().any(|p| p.is_empty()) {
                    return Err(de::Error::custom(format_args!("hub: `{}` is not OWNER/NAME", hub.hub)));
                }
                Ok(DatasetSource::Hub(hub))
            }
        }
        deserializer.deserialize_any(SourceVisitor)
    }
}

//! Which files of a Hub dataset repo hold a config's split, decided the
//! way the `datasets` library decides it, from the repo's file list and
//! its card:
//!
//! 1. The card's YAML `configs:` (each `config_name` with `data_files`:
//!    a pattern, a list of patterns, or `{split, path}` entries; a config
//!    marked `default: true` is used when none is named).
//! 2. Without `configs:`, one config, `default` (or the directory named
//!    by the config), whose splits come from file and directory names:
//!    `test.jsonl`, `data/test-00000-of-00001.parquet`, `test/…`,
//!    `phrases_no_exclude_test.jsonl` (a split word between `-._ ` or digits).
//! 3. The `refs/convert/parquet` branch the Hub writes for every dataset
//!    (`<config>/<split>/0000.parquet`), when the main branch has no data
//!    files for the config (datasets built by a loading script).
//!
//! Data files are parquet, JSON lines, JSON or CSV, optionally gzipped.

use globset::{GlobBuilder, GlobMatcher};
use serde::Deserialize;
use std::collections::BTreeMap;

/// The config of a repo whose card declares none.
pub(crate) const DEFAULT_CONFIG: &str = "default";

/// Files of a config's split, or why there are none.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Resolved {
    /// The data files, sorted.
    Files(Vec<String>),
    /// No config by that name (or none named and no default): the known ones.
    NoConfig(Vec<String>),
    /// The config has no such split: its splits.
    NoSplit(Vec<String>),
}

/// The splits of each config a repo offers, by config name.
pub(crate) type Layout = BTreeMap<String, BTreeMap<String, Vec<String>>>;

/// Resolve `config`/`split` among `files` (paths in the repo) with the
/// card's text, if the repo has a `README.md`.
pub(crate) fn resolve(files: &[String], card: Option<&str>, config: Option<&str>, split: &str) -> Resolved {
    pick(&layout(files, card), config, split)
}

/// The same on the `refs/convert/parquet` branch: `<config>/<split>/*.parquet`,
/// or the older `<config>/<name>-<split>.parquet`.
pub(crate) fn resolve_converted(files: &[String], config: Option<&str>, split: &str) -> Resolved {
    pick(&converted_layout(files), config, split)
}

/// Every config and split a repo offers, as [`resolve`] sees it.
pub(crate) fn layout(files: &[String], card: Option<&str>) -> Layout {
    let data: Vec<&String> = files.iter().filter(|f| is_data_file(f)).collect();
    match card.and_then(card_configs) {
        Some(configs) => configs.into_iter().map(|c| (c.name.clone(), c.split_files(&data))).collect(),
        None => inferred_layout(&data),
    }
}

fn pick(layout: &Layout, config: Option<&str>, split: &str) -> Resolved {
    let name = match config {
        Some(name) => Some(name.to_string()),
        None if layout.len() == 1 => layout.keys().next().cloned(),
        None => layout.contains_key(DEFAULT_CONFIG).then(|| DEFAULT_CONFIG.to_string()),
    };
    let Some(splits) = name.and_then(|name| layout.get(&name)) else {
        return Resolved::NoConfig(layout.keys().cloned().collect());
    };
    match splits.get(split) {
        Some(files) if !files.is_empty() => Resolved::Files(files.clone()),
        _ => Resolved::NoSplit(splits.iter().filter(|(_, f)| !f.is_empty()).map(|(s, _)| s.clone()).collect()),
    }
}

/// Whether `path` is a file `datasets` would read as data.
fn is_data_file(path: &str) -> bool {
    let lower = path.to_lowercase();
    let name = lower.strip_suffix(".gz").unwrap_or(&lower);
    [".parquet", ".jsonl", ".ndjson", ".json", ".csv"].iter().any(|ext| name.ends_with(ext))
}

/// A config declared in the card.
struct CardConfig {
    name: String,
    /// Patterns by split.
    patterns: BTreeMap<String, Vec<GlobMatcher>>,
}

impl CardConfig {
    fn split_files(&self, files: &[&String]) -> BTreeMap<String, Vec<String>> {
        let matching = |globs: &Vec<GlobMatcher>| -> Vec<String> {
            let mut found: Vec<String> =
                files.iter().filter(|f| globs.iter().any(|g| g.is_match(f.as_str()))).map(|f| f.to_string()).collect();
            found.sort();
            found
        };
        self.patterns.iter().map(|(split, globs)| (split.clone(), matching(globs))).collect()
    }
}

/// The card's YAML header (between the first two `---` lines).
#[derive(Deserialize)]
struct CardHeader {
    #[serde(default)]
    configs: Vec<ConfigEntry>,
}

#[derive(Deserialize)]
struct ConfigEntry {
    config_name: String,
    #[serde(default)]
    data_files: Option<DataFiles>,
}

/// `data_files:` in one of the forms the `datasets` library accepts.
#[derive(Deserialize)]
#[serde(untagged)]
enum DataFiles {
    /// One pattern: the `train` split.
    One(String),
    /// `{split, path}` entries.
    Splits(Vec<SplitFiles>),
    /// Several patterns: the `train` split.
    Many(Vec<String>),
    /// `{split: pattern(s)}`.
    Map(BTreeMap<String, Patterns>),
}

#[derive(Deserialize)]
struct SplitFiles {
    split: String,
    path: Patterns,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum Patterns {
    One(String),
    Many(Vec<String>),
}

impl Patterns {
    fn into_vec(self) -> Vec<String> {
        match self {
            Patterns::One(pattern) => vec![pattern],
            Patterns::Many(patterns) => patterns,
        }
    }
}

/// The card's `configs:`, if it declares any that can be read.
fn card_configs(card: &str) -> Option<Vec<CardConfig>> {
    let header = card.strip_prefix("---")?.split("\n---").next()?;
    let header: CardHeader = serde_yaml_ng::from_str(header).ok()?;
    let configs: Vec<CardConfig> = header
        .configs
        .into_iter()
        .map(|entry| {
            let by_split: Vec<(String, Vec<String>)> = match entry.data_files {
                None => Vec::new(),
                Some(DataFiles::One(pattern)) => vec![("train".into(), vec![pattern])],
                Some(DataFiles::Many(patterns)) => vec![("train".into(), patterns)],
                Some(DataFiles::Splits(splits)) => splits.into_iter().map(|s| (s.split, s.path.into_vec())).collect(),
                Some(DataFiles::Map(map)) => map.into_iter().map(|(split, p)| (split, p.into_vec())).collect(),
            };
            let mut patterns: BTreeMap<String, Vec<GlobMatcher>> = BTreeMap::new();
            for (split, globs) in by_split {
                patterns.entry(split).or_default().extend(globs.iter().filter_map(|g| glob(g)));
            }
            CardConfig { name: entry.config_name, patterns }
        })
        .collect();
    (!configs.is_empty()).then_some(configs)
}

/// A glob as the Hub's `data_files` patterns mean it: `*` within a path
/// segment, `**` across them.
fn glob(pattern: &str) -> Option<GlobMatcher> {
    GlobBuilder::new(pattern).literal_separator(true).build().ok().map(|g| g.compile_matcher())
}

/// The words that name each standard split in file and directory names.
const SPLIT_WORDS: [(&str, &[&str]); 3] = [
    ("train", &["train", "training"]),
    ("validation", &["validation", "valid", "dev", "val"]),
    ("test", &["test", "testing", "eval", "evaluation"]),
];

/// Without card configs: one config (`default`), and a config per
/// top-level directory whose files name splits.
fn inferred_layout(files: &[&String]) -> Layout {
    let mut layout = Layout::new();
    layout.insert(DEFAULT_CONFIG.into(), splits_by_name(files.iter().map(|f| (f.as_str(), f.as_str()))));
    let mut dirs: Vec<&str> = files.iter().filter_map(|f| f.split_once('/').map(|(dir, _)| dir)).collect();
    dirs.dedup();
    for dir in dirs {
        let under = files.iter().filter_map(|f| f.strip_prefix(&format!("{dir}/")).map(|rest| (f.as_str(), rest)));
        let splits = splits_by_name(under);
        if splits.values().any(|f| !f.is_empty()) {
            layout.insert(dir.to_string(), splits);
        }
    }
    layout
}

/// Files by the split their (relative) name says: `(full path, name)`.
fn splits_by_name<'a>(files: impl Iterator<Item = (&'a str, &'a str)>) -> BTreeMap<String, Vec<String>> {
    let mut splits: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (path, name) in files {
        if let Some(split) = SPLIT_WORDS.iter().find(|(_, words)| words.iter().any(|w| names_split(name, w))) {
            splits.entry(split.0.to_string()).or_default().push(path.to_string());
        }
    }
    splits.values_mut().for_each(|files| files.sort());
    splits
}

/// Whether `path` names split word `word`: a directory called `word`, or a
/// file name with `word` between separators (`-._ `, digits) or its ends.
fn names_split(path: &str, word: &str) -> bool {
    let lower = path.to_lowercase();
    let (dirs, file) = lower.rsplit_once('/').unwrap_or(("", &lower));
    if dirs.split('/').any(|dir| dir == word) {
        return true;
    }
    let stem = file.split('.').next().unwrap_or(file);
    let separator = |c: char| "-._ ".contains(c) || c.is_ascii_digit();
    stem.match_indices(word).any(|(at, _)| {
        let before = stem[..at].chars().next_back().is_none_or(separator);
        let after = stem[at + word.len()..].chars().next().is_none_or(separator);
        before && after
    })
}

/// `refs/convert/parquet`: `<config>/<split>/*.parquet`, or the older
/// `<config>/<name>-<split>.parquet`.
fn converted_layout(files: &[String]) -> Layout {
    let mut layout = Layout::new();
    for file in files.iter().filter(|f| f.ends_with(".parquet")) {
        let parts: Vec<&str> = file.split('/').collect();
        let (config, split) = match parts.as_slice() {
            [config, split, _] => (*config, split.to_string()),
            [config, name] => match name.trim_end_matches(".parquet").rsplit_once('-') {
                Some((_, split)) => (*config, split.to_string()),
                None => continue,
            },
            _ => continue,
        };
        layout.entry(config.to_string()).or_default().entry(split).or_default().push(file.clone());
    }
    layout.values_mut().flat_map(|splits| splits.values_mut()).for_each(|files| files.sort());
    layout
}

#[cfg(test)]
mod tests {
    use super::*;

    fn files(names: &[&str]) -> Vec<String> {
        names.iter().map(|n| n.to_string()).collect()
    }

    #[test]
    fn card_configs_choose_the_files() {
        let card = "---\nlicense: mit\nconfigs:\n- config_name: main\n  data_files:\n  - split: test\n    path: main/test-*\n  - split: train\n    path: main/train-*\n- config_name: socratic\n  data_files:\n  - split: test\n    path: socratic/test-*\n---\n# GSM8K\n";
        let repo = files(&[
            "README.md",
            "main/test-00000-of-00001.parquet",
            "main/train-00000-of-00001.parquet",
            "socratic/test-00000-of-00001.parquet",
        ]);
        assert_eq!(
            resolve(&repo, Some(card), Some("main"), "test"),
            Resolved::Files(files(&["main/test-00000-of-00001.parquet"]))
        );
        assert_eq!(resolve(&repo, Some(card), Some("other"), "test"), Resolved::NoConfig(files(&["main", "socratic"])));
        assert_eq!(resolve(&repo, Some(card), Some("socratic"), "train"), Resolved::NoSplit(files(&["test"])));
        assert_eq!(
            resolve(&repo, Some(card), None, "test"),
            Resolved::NoConfig(files(&["main", "socratic"])),
            "no default among several"
        );
    }

    #[test]
    fn without_configs_splits_come_from_names() {
        let repo = files(&[
            "README.md",
            "test.jsonl",
            "phrases_no_exclude_train.jsonl",
            "data/validation-00000-of-00001.parquet",
            "latest.json",
            "contest.csv",
        ]);
        assert_eq!(
            resolve(&repo, Some("# no header"), None, "test"),
            Resolved::Files(files(&["test.jsonl"])),
            "`latest`/`contest` are not `test`"
        );
        assert_eq!(resolve(&repo, None, None, "train"), Resolved::Files(files(&["phrases_no_exclude_train.jsonl"])));
        assert_eq!(
            resolve(&repo, None, None, "validation"),
            Resolved::Files(files(&["data/validation-00000-of-00001.parquet"]))
        );
        let by_dir = files(&["Text/test.jsonl", "MM/test.jsonl"]);
        assert_eq!(resolve(&by_dir, None, Some("Text"), "test"), Resolved::Files(files(&["Text/test.jsonl"])));
    }

    #[test]
    fn the_convert_branch_layouts_are_read() {
        let repo = files(&["navigate/test/0000.parquet", "navigate/test/0001.parquet", "snarks/snarks-test.parquet"]);
        assert_eq!(
            resolve_converted(&repo, Some("navigate"), "test"),
            Resolved::Files(files(&["navigate/test/0000.parquet", "navigate/test/0001.parquet"]))
        );
        assert_eq!(
            resolve_converted(&repo, Some("snarks"), "test"),
            Resolved::Files(files(&["snarks/snarks-test.parquet"]))
        );
        assert_eq!(resolve_converted(&repo, Some("gone"), "test"), Resolved::NoConfig(files(&["navigate", "snarks"])));
    }
}

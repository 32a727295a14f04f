//! Dataset records from JSONL, JSON, CSV and parquet files, each with a
//! stable example id.
//!
//! The format comes from the extension (case-insensitive):
//! - `.jsonl` / `.ndjson`: one JSON object per line; blank lines are skipped.
//! - `.json`: an array of objects, or (what Hugging Face `to_json` writes
//!   under that name) one object per line.
//! - `.csv`: a header row, then one record per row; every value is a string.
//! - `.parquet`: one record per row, values as parquet's JSON conversion gives them.
//! - any of these with `.gz` appended: gzip-compressed.
//!
//! The id comes from `id_field` when given, else from an `id` field when
//! every record has one, else it is the 0-based row index; numbers become
//! their decimal text. Ids must be unique: results, resume and comparisons
//! are keyed by them. Ids are chosen and checked over the whole file before
//! `limit` applies, so a record keeps its id whatever `num_examples` is.
//!
//! A dataset on the Hugging Face Hub ([`hub`]) is its split's files, read
//! in order as one dataset. Prepared task directories ([`tasks`]) are one
//! record per task, with the files each sample's workspace is made from.

pub(crate) mod hub;
pub(crate) mod tasks;

use crate::config::{DatasetSource, HubDataset};
use anyhow::{Context, Result, anyhow, bail};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::io::Read;
use std::path::{Path, PathBuf};

/// A loaded dataset.
#[derive(Debug, Clone)]
pub struct Dataset {
    /// The file read (the first of a Hub dataset's files, in the cache).
    pub path: PathBuf,
    /// sha256 of the file's bytes (compressed bytes for `.gz`), in hex; for
    /// several files, of their names and hashes.
    pub sha256: String,
    /// The records, in file order (the first `limit` when one was given).
    pub records: Vec<Record>,
    /// Where a Hub dataset came from; `None` for a file.
    pub hub: Option<HubOrigin>,
    /// For task directories, each record's task files (by record index);
    /// empty for other datasets.
    pub tasks: Vec<tasks::TaskDir>,
}

impl Dataset {
    /// The task files of record `index`, when the dataset is task directories.
    pub fn task(&self, index: usize) -> Option<&tasks::TaskDir> {
        self.tasks.get(index)
    }
}

/// The Hub dataset a [`Dataset`] was read from: what `metadata.json` and
/// job identity record, so an updated dataset is a visible change.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HubOrigin {
    /// The repo, `owner/name`.
    pub repo: String,
    /// The config asked for, if any.
    pub config: Option<String>,
    /// The split.
    pub split: String,
    /// The revision the files were taken from (the one asked for, or the
    /// Hub's `refs/convert/parquet` copy).
    pub revision: String,
    /// That revision's commit.
    pub commit: String,
    /// Each file with its sha256.
    pub files: Vec<HubFile>,
}

/// One file of a Hub dataset.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HubFile {
    /// Its path in the repo.
    pub path: String,
    /// sha256 of its bytes.
    pub sha256: String,
}

/// One record.
#[derive(Debug, Clone)]
pub struct Record {
    /// 0-based position among the file's records.
    pub index: usize,
    /// The example id.
    pub id: String,
    /// The record as a compact JSON object, as the plugin receives it.
    pub json: String,
}

impl Record {
    /// The value of `field` as text (a string, a number or a bool), if the
    /// record has one.
    pub fn field_text(&self, field: &str) -> Option<String> {
        let record: Map<String, Value> = serde_json::from_str(&self.json).ok()?;
        match record.get(field)? {
            Value::String(text) => Some(text.clone()),
            Value::Number(n) => Some(n.to_string()),
            Value::Bool(b) => Some(b.to_string()),
            _ => None,
        }
    }
}

/// A parsed record and the line it starts on (text formats only), for messages.
pub struct Row {
    /// The row as a JSON object.
    pub object: Map<String, Value>,
    /// Its line in the file (1-based), for messages.
    pub line: Option<usize>,
}

/// Read the dataset at `path`, taking ids as the module docs say and keeping
/// the first `limit` records (all when `None`).
pub fn load(path: &Path, id_field: Option<&str>, limit: Option<usize>) -> Result<Dataset> {
    let (sha256, rows) = read_rows(path)?;
    let shown = path.display().to_string();
    let records = assign_ids(rows, id_field, limit.unwrap_or(usize::MAX), &shown)?;
    Ok(Dataset { path: path.to_path_buf(), sha256, records, hub: None, tasks: Vec::new() })
}

/// The dataset `plugin` declares as its default, for env `env_id`, which
/// names none.
pub(crate) fn plugin_default(plugin: &crate::runtime::Plugin, env_id: &str) -> Result<DatasetSource> {
    let Some(text) = &plugin.metadata.default_dataset else {
        bail!("env `{env_id}` names no `dataset:` and plugin {} declares no default dataset", plugin.label());
    };
    serde_json::from_str(text)
        .with_context(|| format!("env `{env_id}`: plugin {}'s default dataset `{text}`", plugin.label()))
}

/// Read the dataset `source` names: a file, or a Hub dataset fetched
/// through `hub` (made on first use, so file-only runs never touch it).
pub(crate) async fn load_source(
    source: &DatasetSource,
    id_field: Option<&str>,
    limit: Option<usize>,
    hub: &mut Option<hub::Hub>,
) -> Result<Dataset> {
    let dataset = match source {
        DatasetSource::File(path) => return load(path, id_field, limit),
        DatasetSource::Tasks(dirs) => return tasks::load(dirs, id_field, limit),
        DatasetSource::Hub(dataset) => dataset,
        DatasetSource::PluginDefault => {
            bail!("no dataset named (the plugin's default dataset is used only for the env's own records)")
        }
    };
    let client = match hub {
        Some(client) => client,
        None => hub.insert(hub::Hub::from_env(std::io::IsTerminal::is_terminal(&std::io::stderr()))?),
    };
    let fetched = client.fetch(dataset).await?;
    load_fetched(dataset, fetched, id_field, limit)
}

/// Records of the files a Hub fetch found, in order, as one dataset.
fn load_fetched(
    dataset: &HubDataset,
    fetched: hub::Fetched,
    id_field: Option<&str>,
    limit: Option<usize>,
) -> Result<Dataset> {
    let mut rows = Vec::new();
    let mut files = Vec::with_capacity(fetched.files.len());
    for (path, local) in &fetched.files {
        let (sha256, file_rows) = read_rows_named(local, path)?;
        rows.extend(file_rows);
        files.push(HubFile { path: path.clone(), sha256 });
    }
    let shown = format!("{dataset}");
    let records = assign_ids(rows, id_field, limit.unwrap_or(usize::MAX), &shown)?;
    let listing: String = files.iter().map(|f| format!("{}:{}\n", f.path, f.sha256)).collect();
    let origin = HubOrigin {
        repo: dataset.hub.clone(),
        config: dataset.config.clone(),
        split: dataset.split.clone(),
        revision: fetched.revision,
        commit: fetched.commit,
        files,
    };
    let path = fetched.files.first().map(|(_, local)| local.clone()).unwrap_or_default();
    Ok(Dataset {
        path,
        sha256: hex::encode(Sha256::digest(listing.as_bytes())),
        records,
        hub: Some(origin),
        tasks: Vec::new(),
    })
}

/// The sha256 of the file at `path` and its rows, in any supported format,
/// without ids: for files of records that are not datasets (replayed
/// completions).
pub fn read_rows(path: &Path) -> Result<(String, Vec<Row>)> {
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    read_rows_named(path, &name)
}

/// [`read_rows`] of a file whose format is given by `name` (a Hub cache
/// file is a link whose own name says nothing).
fn read_rows_named(path: &Path, name: &str) -> Result<(String, Vec<Row>)> {
    let bytes = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    let sha256 = hex::encode(Sha256::digest(&bytes));
    let shown = path.display().to_string();
    let name = name.rsplit('/').next().unwrap_or(name).to_lowercase();
    let rows = match name.strip_suffix(".gz") {
        Some(inner) => {
            let mut text = Vec::new();
            flate2::read::GzDecoder::new(bytes.as_slice())
                .read_to_end(&mut text)
                .with_context(|| format!("{shown}: not valid gzip"))?;
            parse(inner, &text, &shown)?
        }
        None => parse(&name, &bytes, &shown)?,
    };
    Ok((sha256, rows))
}

/// A string or number field as an id.
pub fn id_value(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// Parse by the extension of `name` into rows.
fn parse(name: &str, bytes: &[u8], shown: &str) -> Result<Vec<Row>> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes); // a UTF-8 byte-order mark
    match name.rsplit_once('.').map(|(_, ext)| ext).unwrap_or_default() {
        "jsonl" | "ndjson" => parse_lines(text(bytes, shown)?, shown),
        "json" => parse_json(text(bytes, shown)?, shown),
        "csv" => parse_csv(bytes, shown),
        "parquet" => parse_parquet(bytes, shown),
        _ => {
            bail!("{shown}: unknown dataset format (use .jsonl, .ndjson, .json, .csv or .parquet, optionally with .gz)")
        }
    }
}

fn text<'a>(bytes: &'a [u8], shown: &str) -> Result<&'a str> {
    std::str::from_utf8(bytes).map_err(|e| anyhow!("{shown}: not UTF-8 text ({e})"))
}

/// One object per line; blank lines skipped.
fn parse_lines(text: &str, shown: &str) -> Result<Vec<Row>> {
    let mut rows = Vec::new();
    for (number, line) in text.lines().enumerate().map(|(i, line)| (i + 1, line)) {
        if line.trim().is_empty() {
            continue;
        }
        let value: Value =
            serde_json::from_str(line).map_err(|e| anyhow!("{shown}:{number}:{}: {}", e.column(), json_error(&e)))?;
        let Value::Object(object) = value else {
            bail!("{shown}:{number}: expected a JSON object, found {}", kind(&value));
        };
        rows.push(Row { object, line: Some(number) });
    }
    Ok(rows)
}

/// An array of objects, or JSON lines under a `.json` name.
fn parse_json(text: &str, shown: &str) -> Result<Vec<Row>> {
    if !text.trim_start().starts_with('[') {
        return parse_lines(text, shown);
    }
    let value: Value =
        serde_json::from_str(text).map_err(|e| anyhow!("{shown}:{}:{}: {}", e.line(), e.column(), json_error(&e)))?;
    let Value::Array(items) = value else { unreachable!("text starting with `[` parsed as an array") };
    let mut rows = Vec::with_capacity(items.len());
    for (i, item) in items.into_iter().enumerate() {
        let Value::Object(object) = item else {
            bail!("{shown}: element {i}: expected a JSON object, found {}", kind(&item));
        };
        rows.push(Row { object, line: None });
    }
    Ok(rows)
}

/// serde_json's message without its ` at line L column C` (given separately).
fn json_error(error: &serde_json::Error) -> String {
    let message = error.to_string();
    let suffix = format!(" at line {} column {}", error.line(), error.column());
    format!("invalid JSON: {}", message.strip_suffix(&suffix).unwrap_or(&message))
}

/// `an array`, `a string`, ...: what a value is, for messages.
fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// CSV values stay strings: a CSV file has no types, and guessing them
/// would turn ids like `007` into numbers.
fn parse_csv(bytes: &[u8], shown: &str) -> Result<Vec<Row>> {
    let mut reader = csv::Reader::from_reader(bytes);
    let headers = reader.headers().map_err(|e| anyhow!("{shown}: cannot read the header row: {e}"))?.clone();
    let mut rows = Vec::new();
    for row in reader.records() {
        let row = row.map_err(|e| anyhow!("{shown}: {e}"))?;
        let object = headers.iter().zip(row.iter()).map(|(k, v)| (k.to_string(), Value::String(v.into()))).collect();
        rows.push(Row { object, line: row.position().map(|p| p.line() as usize) });
    }
    Ok(rows)
}

fn parse_parquet(bytes: &[u8], shown: &str) -> Result<Vec<Row>> {
    use parquet::file::reader::{FileReader, SerializedFileReader};
    let reader = SerializedFileReader::new(bytes::Bytes::copy_from_slice(bytes))
        .map_err(|e| anyhow!("{shown}: not a readable parquet file: {e}"))?;
    let mut rows = Vec::new();
    for (i, row) in reader.get_row_iter(None).map_err(|e| anyhow!("{shown}: cannot read rows: {e}"))?.enumerate() {
        let row = row.map_err(|e| anyhow!("{shown}: row {i}: {e}"))?;
        match row.to_json_value() {
            Value::Object(object) => rows.push(Row { object, line: None }),
            other => bail!("{shown}: row {i}: expected a record, found {}", kind(&other)),
        }
    }
    Ok(rows)
}

/// Give every row its id (see the module docs), check ids are unique, and
/// keep the first `limit` rows as records.
fn assign_ids(rows: Vec<Row>, id_field: Option<&str>, limit: usize, shown: &str) -> Result<Vec<Record>> {
    let field = id_field.or_else(|| rows.iter().all(|row| row.object.contains_key("id")).then_some("id"));
    let mut seen: HashMap<String, (usize, Option<usize>)> = HashMap::with_capacity(rows.len());
    let mut records = Vec::with_capacity(rows.len().min(limit));
    for (index, row) in rows.into_iter().enumerate() {
        let at = || place(index, row.line);
        let id = match field {
            None => index.to_string(),
            Some(field) => match row.object.get(field) {
                Some(value) => id_value(value).ok_or_else(|| {
                    anyhow!("{shown}: {}: id field `{field}` is {}, not a string or number", at(), kind(value))
                })?,
                None => bail!("{shown}: {}: missing id field `{field}`", at()),
            },
        };
        if let Some((first, line)) = seen.insert(id.clone(), (index, row.line)) {
            bail!("{shown}: {} and {} have the same id `{id}`", place(first, line), at());
        }
        if index < limit {
            records.push(Record { index, id, json: Value::Object(row.object).to_string() });
        }
    }
    Ok(records)
}

/// `record 3 (line 5)`: a row, with its line in text formats.
fn place(index: usize, line: Option<usize>) -> String {
    match line {
        Some(line) => format!("record {index} (line {line})"),
        None => format!("record {index}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn write(dir: &tempfile::TempDir, name: &str, bytes: &[u8]) -> PathBuf {
        let path = dir.path().join(name);
        std::fs::write(&path, bytes).unwrap();
        path
    }

    fn ids(dataset: &Dataset) -> Vec<&str> {
        dataset.records.iter().map(|record| record.id.as_str()).collect()
    }

    /// The error of loading `name` holding `bytes`, minus the temp dir prefix.
    fn error(name: &str, bytes: &[u8], id_field: Option<&str>) -> String {
        let dir = tempfile::tempdir().unwrap();
        let message = format!("{:#}", load(&write(&dir, name, bytes), id_field, None).unwrap_err());
        message.replace(&format!("{}/", dir.path().display()), "")
    }

    #[test]
    fn jsonl_records_keep_file_order_and_compact_json() {
        let dir = tempfile::tempdir().unwrap();
        let path = write(&dir, "a.ndjson", b"{\"q\": \"x\",  \"n\": [1, 2]}\r\n\n  \n{\"q\": \"y\"}\n");
        let dataset = load(&path, None, None).unwrap();
        assert_eq!(dataset.records.len(), 2);
        assert_eq!((dataset.records[1].index, dataset.records[1].id.as_str()), (1, "1"));
        assert_eq!(dataset.records[0].json, r#"{"n":[1,2],"q":"x"}"#);
        assert_eq!(dataset.path, path);
        let bytes = std::fs::read(&path).unwrap();
        assert_eq!(dataset.sha256, hex::encode(Sha256::digest(bytes)));
    }

    #[test]
    fn ids_come_from_id_field_then_id_then_index() {
        let dir = tempfile::tempdir().unwrap();
        let path = write(&dir, "a.jsonl", b"{\"id\": 7, \"key\": \"k1\"}\n{\"id\": \"b\", \"key\": 2.5}\n");
        assert_eq!(ids(&load(&path, None, None).unwrap()), ["7", "b"]);
        assert_eq!(ids(&load(&path, Some("key"), None).unwrap()), ["k1", "2.5"]);
        let partial = write(&dir, "b.jsonl", b"{\"id\": \"a\"}\n{\"other\": 1}\n");
        assert_eq!(ids(&load(&partial, None, None).unwrap()), ["0", "1"], "not every record has an id");
    }

    #[test]
    fn limit_keeps_the_first_records_with_the_ids_of_the_whole_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = write(&dir, "a.jsonl", b"{\"id\": \"a\"}\n{\"id\": \"b\"}\n{\"x\": 1}\n");
        let dataset = load(&path, None, Some(2)).unwrap();
        assert_eq!(ids(&dataset), ["0", "1"], "the third record has no id, so none use `id`");
        assert_eq!(ids(&load(&path, None, Some(10)).unwrap()), ["0", "1", "2"]);
    }

    #[test]
    fn bad_lines_are_reported_with_their_numbers() {
        assert_eq!(
            error("d.jsonl", b"{\"q\": 1}\n\n[1, 2]\n", None),
            "d.jsonl:3: expected a JSON object, found an array"
        );
        assert_eq!(error("d.jsonl", b"{\"q\": 1}\n{\"q\": }\n", None), "d.jsonl:2:7: invalid JSON: expected value");
        assert_eq!(
            error("d.json", b"[{\"q\": 1},\n 5]", None),
            "d.json: element 1: expected a JSON object, found a number"
        );
        assert_eq!(
            error("d.xml", b"<x/>", None),
            "d.xml: unknown dataset format (use .jsonl, .ndjson, .json, .csv or .parquet, optionally with .gz)"
        );
    }

    #[test]
    fn id_problems_name_the_records() {
        let jsonl = b"{\"id\": 1}\n{\"id\": 2}\n\n{\"id\": 1}\n";
        assert_eq!(
            error("d.jsonl", jsonl, None),
            "d.jsonl: record 0 (line 1) and record 2 (line 4) have the same id `1`"
        );
        assert_eq!(error("d.jsonl", jsonl, Some("key")), "d.jsonl: record 0 (line 1): missing id field `key`");
        assert_eq!(
            error("d.json", b"[{\"id\": null}]", None),
            "d.json: record 0: id field `id` is null, not a string or number"
        );
        assert_eq!(
            error("d.csv", b"id,q\nx,1\ny,2\nx,3\n", None),
            "d.csv: record 0 (line 2) and record 2 (line 4) have the same id `x`"
        );
    }

    #[test]
    fn json_arrays_and_json_lines_under_a_json_name() {
        let dir = tempfile::tempdir().unwrap();
        let array = write(&dir, "a.json", "\u{feff}[{\"id\": \"x\", \"n\": 1}, {\"id\": \"y\"}]".as_bytes());
        let dataset = load(&array, None, None).unwrap();
        assert_eq!((ids(&dataset), dataset.records[0].json.as_str()), (vec!["x", "y"], r#"{"id":"x","n":1}"#));
        let lines = write(&dir, "b.json", b"{\"id\": \"p\"}\n{\"id\": \"q\"}\n");
        assert_eq!(ids(&load(&lines, None, None).unwrap()), ["p", "q"]);
    }

    #[test]
    fn csv_values_are_strings() {
        let dir = tempfile::tempdir().unwrap();
        let path = write(&dir, "a.CSV", b"question,answer\n\"a, \"\"b\"\"\",007\nc,\n");
        let dataset = load(&path, Some("answer"), None).unwrap();
        assert_eq!(dataset.records[0].json, r#"{"answer":"007","question":"a, \"b\""}"#);
        assert_eq!(ids(&dataset), ["007", ""]);
        let ragged = error("r.csv", b"a,b\n1,2\n3\n", None);
        assert!(ragged.starts_with("r.csv: CSV error: record 2 (line: 3"), "{ragged}");
    }

    #[test]
    fn gzip_wraps_any_format() {
        let dir = tempfile::tempdir().unwrap();
        let gzip = |text: &[u8]| {
            let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
            encoder.write_all(text).unwrap();
            encoder.finish().unwrap()
        };
        let compressed = gzip(b"{\"id\": \"g\"}\n");
        let path = write(&dir, "a.jsonl.gz", &compressed);
        let dataset = load(&path, None, None).unwrap();
        assert_eq!(ids(&dataset), ["g"]);
        assert_eq!(dataset.sha256, hex::encode(Sha256::digest(&compressed)), "hash of the file as stored");
        assert_eq!(ids(&load(&write(&dir, "b.csv.gz", &gzip(b"id\nc\n")), None, None).unwrap()), ["c"]);
        assert_eq!(error("c.jsonl.gz", b"plain text", None), "c.jsonl.gz: not valid gzip: invalid gzip header");
    }

    #[test]
    fn parquet_rows_become_objects() {
        use parquet::data_type::{ByteArray, ByteArrayType, Int64Type};
        use parquet::file::writer::SerializedFileWriter;
        let schema = parquet::schema::parser::parse_message_type(
            "message r { required int64 id; required binary question (UTF8); }",
        )
        .unwrap();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.parquet");
        let file = std::fs::File::create(&path).unwrap();
        let mut writer = SerializedFileWriter::new(file, std::sync::Arc::new(schema), Default::default()).unwrap();
        let mut group = writer.next_row_group().unwrap();
        let mut column = group.next_column().unwrap().unwrap();
        column.typed::<Int64Type>().write_batch(&[3, 4, 5], None, None).unwrap();
        column.close().unwrap();
        let mut column = group.next_column().unwrap().unwrap();
        let texts = ["two plus two?", "three?", "four?"].map(ByteArray::from);
        column.typed::<ByteArrayType>().write_batch(&texts, None, None).unwrap();
        column.close().unwrap();
        group.close().unwrap();
        writer.close().unwrap();
        let dataset = load(&path, None, Some(2)).unwrap();
        assert_eq!(ids(&dataset), ["3", "4"]);
        assert_eq!(dataset.records[0].json, r#"{"id":3,"question":"two plus two?"}"#);
        let broken = error("b.parquet", b"PAR1 not really", None);
        assert!(broken.starts_with("b.parquet: not a readable parquet file"), "{broken}");
    }
}

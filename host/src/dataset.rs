//! Dataset records from JSONL (optionally gzipped), JSON, CSV and parquet
//! files, each with a stable example id.
//!
//! The id comes from `id_field` when given, else from an `id` field when
//! every record has one, else it is the 0-based row index. Ids must be
//! unique: results, resume and win rates are keyed by them.

use anyhow::{Context, Result, bail};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::io::Read;
use std::path::{Path, PathBuf};

/// A loaded dataset.
#[derive(Debug)]
pub struct Dataset {
    /// The file read.
    pub path: PathBuf,
    /// sha256 of the file's bytes (hex); part of job identity.
    pub sha256: String,
    /// The records, in file order (the first `limit` when one was given).
    pub records: Vec<Record>,
}

/// One record.
#[derive(Debug, Clone)]
pub struct Record {
    /// 0-based position in the file.
    pub index: usize,
    /// The example id.
    pub id: String,
    /// The record as a compact JSON object, as the plugin receives it.
    pub json: String,
}

/// Read `path`, taking ids from `id_field` (see the module docs) and keeping
/// the first `limit` records.
pub fn load(path: &Path, id_field: Option<&str>, limit: Option<usize>) -> Result<Dataset> {
    let bytes = std::fs::read(path).with_context(|| format!("cannot read dataset {}", path.display()))?;
    let sha256 = hex::encode(Sha256::digest(&bytes));
    let shown = path.display().to_string();
    let name = path.file_name().map(|n| n.to_string_lossy().to_lowercase()).unwrap_or_default();
    let mut objects = if let Some(inner) = name.strip_suffix(".gz") {
        let mut text = Vec::new();
        flate2::read::GzDecoder::new(bytes.as_slice())
            .read_to_end(&mut text)
            .with_context(|| format!("{shown}: not valid gzip"))?;
        parse(inner, &text, &shown)?
    } else {
        parse(&name, &bytes, &shown)?
    };
    if let Some(limit) = limit {
        objects.truncate(limit);
    }
    let records = assign_ids(objects, id_field, &shown)?;
    Ok(Dataset { path: path.to_path_buf(), sha256, records })
}

/// Parse by file extension into JSON objects.
fn parse(name: &str, bytes: &[u8], shown: &str) -> Result<Vec<Map<String, Value>>> {
    match name.rsplit('.').next().unwrap_or_default() {
        "jsonl" | "ndjson" => parse_jsonl(bytes, shown),
        "json" => parse_json(bytes, shown),
        "csv" => parse_csv(bytes, shown),
        "parquet" => parse_parquet(bytes, shown),
        _ => bail!("{shown}: unknown dataset format (use .jsonl, .jsonl.gz, .json, .csv or .parquet)"),
    }
}

fn parse_jsonl(bytes: &[u8], shown: &str) -> Result<Vec<Map<String, Value>>> {
    let text = std::str::from_utf8(bytes).with_context(|| format!("{shown}: not UTF-8"))?;
    let mut objects = Vec::new();
    for (number, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        match serde_json::from_str(line) {
            Ok(Value::Object(object)) => objects.push(object),
            Ok(_) => bail!("{shown}:{}: expected a JSON object", number + 1),
            Err(e) => bail!("{shown}:{}: invalid JSON: {e}", number + 1),
        }
    }
    Ok(objects)
}

fn parse_json(bytes: &[u8], shown: &str) -> Result<Vec<Map<String, Value>>> {
    let value: Value = serde_json::from_slice(bytes).with_context(|| format!("{shown}: invalid JSON"))?;
    let Value::Array(items) = value else { bail!("{shown}: expected an array of objects") };
    items
        .into_iter()
        .enumerate()
        .map(|(i, item)| match item {
            Value::Object(object) => Ok(object),
            _ => bail!("{shown}: element {i} is not an object"),
        })
        .collect()
}

/// CSV values stay strings: a CSV file has no types, and guessing them
/// would turn ids like `007` into numbers.
fn parse_csv(bytes: &[u8], shown: &str) -> Result<Vec<Map<String, Value>>> {
    let mut reader = csv::Reader::from_reader(bytes);
    let headers = reader.headers().with_context(|| format!("{shown}: cannot read the header row"))?.clone();
    let mut objects = Vec::new();
    for (i, row) in reader.records().enumerate() {
        let row = row.with_context(|| format!("{shown}: row {}", i + 2))?;
        objects.push(headers.iter().zip(row.iter()).map(|(k, v)| (k.to_string(), Value::String(v.into()))).collect());
    }
    Ok(objects)
}

fn parse_parquet(bytes: &[u8], shown: &str) -> Result<Vec<Map<String, Value>>> {
    use parquet::file::reader::{FileReader, SerializedFileReader};
    let reader = SerializedFileReader::new(bytes::Bytes::copy_from_slice(bytes))
        .with_context(|| format!("{shown}: not a readable parquet file"))?;
    let rows = reader.get_row_iter(None).with_context(|| format!("{shown}: cannot read rows"))?;
    let mut objects = Vec::new();
    for (i, row) in rows.enumerate() {
        match row.with_context(|| format!("{shown}: row {i}"))?.to_json_value() {
            Value::Object(object) => objects.push(object),
            _ => bail!("{shown}: row {i} is not a record"),
        }
    }
    Ok(objects)
}

/// Give every object its id and check ids are unique.
fn assign_ids(objects: Vec<Map<String, Value>>, id_field: Option<&str>, shown: &str) -> Result<Vec<Record>> {
    let field = id_field.or_else(|| objects.iter().all(|o| o.contains_key("id")).then_some("id"));
    let mut seen: HashMap<String, usize> = HashMap::with_capacity(objects.len());
    let mut records = Vec::with_capacity(objects.len());
    for (index, object) in objects.into_iter().enumerate() {
        let id = match field {
            Some(field) => match object.get(field) {
                Some(Value::String(s)) => s.clone(),
                Some(Value::Number(n)) => n.to_string(),
                Some(other) => bail!("{shown}: record {index}: id field `{field}` is {other}, not a string or number"),
                None => bail!("{shown}: record {index}: missing id field `{field}`"),
            },
            None => index.to_string(),
        };
        if let Some(first) = seen.insert(id.clone(), index) {
            bail!("{shown}: records {first} and {index} have the same id `{id}`");
        }
        records.push(Record { index, id, json: Value::Object(object).to_string() });
    }
    Ok(records)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
        let path = dir.join(name);
        std::fs::write(&path, bytes).unwrap();
        path
    }

    #[test]
    fn jsonl_ids_from_id_field_or_index() {
        let dir = tempfile::tempdir().unwrap();
        let with_ids = write(dir.path(), "a.jsonl", b"{\"id\": 7, \"q\": \"x\"}\n\n{\"id\": \"b\", \"q\": \"y\"}\n");
        let ids: Vec<String> = load(&with_ids, None, None).unwrap().records.into_iter().map(|r| r.id).collect();
        assert_eq!(ids, ["7", "b"]);
        let without = write(dir.path(), "b.jsonl", b"{\"q\": \"x\"}\n{\"q\": \"y\"}\n{\"q\": \"z\"}\n");
        let dataset = load(&without, None, Some(2)).unwrap();
        assert_eq!(dataset.records.iter().map(|r| r.id.as_str()).collect::<Vec<_>>(), ["0", "1"]);
        assert_eq!(dataset.sha256.len(), 64);
        let custom = load(&without, Some("q"), None).unwrap();
        assert_eq!(custom.records[2].id, "z");
    }

    #[test]
    fn errors_name_file_and_line() {
        let dir = tempfile::tempdir().unwrap();
        let bad = write(dir.path(), "bad.jsonl", b"{\"q\": 1}\n[1, 2]\n");
        assert!(load(&bad, None, None).unwrap_err().to_string().ends_with("bad.jsonl:2: expected a JSON object"));
        let dup = write(dir.path(), "dup.jsonl", b"{\"id\": 1}\n{\"id\": 1}\n");
        assert!(load(&dup, None, None).unwrap_err().to_string().contains("records 0 and 1 have the same id `1`"));
        let missing = load(&dup, Some("key"), None).unwrap_err().to_string();
        assert!(missing.contains("missing id field `key`"), "{missing}");
        let unknown = write(dir.path(), "data.xml", b"<x/>");
        assert!(load(&unknown, None, None).unwrap_err().to_string().contains("unknown dataset format"));
    }

    #[test]
    fn json_csv_and_gzip() {
        let dir = tempfile::tempdir().unwrap();
        let json = write(dir.path(), "a.json", br#"[{"id": "x", "n": 1}]"#);
        assert_eq!(load(&json, None, None).unwrap().records[0].json, r#"{"id":"x","n":1}"#);
        let csv = write(dir.path(), "a.csv", b"question,answer\n\"a, b\",007\n");
        assert_eq!(load(&csv, None, None).unwrap().records[0].json, r#"{"answer":"007","question":"a, b"}"#);
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        gz.write_all(b"{\"id\": \"g\"}\n").unwrap();
        let gz = write(dir.path(), "a.jsonl.gz", &gz.finish().unwrap());
        assert_eq!(load(&gz, None, None).unwrap().records[0].id, "g");
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
        column.typed::<Int64Type>().write_batch(&[3, 4], None, None).unwrap();
        column.close().unwrap();
        let mut column = group.next_column().unwrap().unwrap();
        let texts = [ByteArray::from("two plus two?"), ByteArray::from("three?")];
        column.typed::<ByteArrayType>().write_batch(&texts, None, None).unwrap();
        column.close().unwrap();
        group.close().unwrap();
        writer.close().unwrap();
        let dataset = load(&path, None, None).unwrap();
        assert_eq!(dataset.records[1].id, "4");
        assert_eq!(dataset.records[0].json, r#"{"id":3,"question":"two plus two?"}"#);
    }
}

//! `assay export`: processed parquet to CSV or JSON lines, for tools that
//! read neither parquet nor Arrow.

use super::ExitStatus;
use super::output::outln;
use anyhow::{Context, Result, bail};
use parquet::file::reader::{FileReader, SerializedFileReader};
use serde_json::Value;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum Format {
    /// Comma-separated values with a header row; JSON values (prompts) as text.
    Csv,
    /// One JSON object per row.
    Jsonl,
}

#[derive(Debug, clap::Args)]
pub(crate) struct ExportArgs {
    /// A `.parquet` file, or a directory: every `.parquet` file under it.
    #[arg(value_name = "PATH")]
    path: PathBuf,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Csv)]
    format: Format,
    /// Where to write (same names and layout, new extension); default:
    /// beside each input file.
    #[arg(long, value_name = "DIR")]
    output_dir: Option<PathBuf>,
}

pub(crate) fn export(args: ExportArgs) -> Result<ExitStatus> {
    let files = parquet_files(&args.path)?;
    if files.is_empty() {
        bail!("no .parquet files under {}", args.path.display());
    }
    let extension = match args.format {
        Format::Csv => "csv",
        Format::Jsonl => "jsonl",
    };
    let root = if args.path.is_dir() { args.path.as_path() } else { args.path.parent().unwrap_or(Path::new(".")) };
    for file in &files {
        let relative = file.strip_prefix(root).unwrap_or(file);
        let target = args.output_dir.as_deref().unwrap_or(root).join(relative).with_extension(extension);
        let rows = export_file(file, &target, args.format).with_context(|| format!("exporting {}", file.display()))?;
        outln!("{} ({rows} rows)", target.display())?;
    }
    Ok(ExitStatus::Success)
}

/// `path` itself, or every `.parquet` file below it (sorted).
fn parquet_files(path: &Path) -> Result<Vec<PathBuf>> {
    if !path.is_dir() {
        if !path.is_file() {
            bail!("{} not found", path.display());
        }
        return Ok(vec![path.to_path_buf()]);
    }
    let mut files = Vec::new();
    for entry in std::fs::read_dir(path).with_context(|| format!("cannot read {}", path.display()))? {
        let entry = entry?.path();
        if entry.is_dir() {
            files.extend(parquet_files(&entry)?);
        } else if entry.extension().is_some_and(|e| e == "parquet") {
            files.push(entry);
        }
    }
    files.sort();
    Ok(files)
}

/// Write one file's rows to `target` (atomically). Returns the row count.
fn export_file(source: &Path, target: &Path, format: Format) -> Result<u64> {
    let reader = SerializedFileReader::new(std::fs::File::open(source)?)?;
    let columns: Vec<String> = reader
        .metadata()
        .file_metadata()
        .schema_descr()
        .root_schema()
        .get_fields()
        .iter()
        .map(|f| f.name().to_string())
        .collect();
    if let Some(dir) = target.parent() {
        std::fs::create_dir_all(dir)?;
    }
    crate::store::replace_atomically(target, |file| {
        let mut rows = 0;
        let file = match format {
            Format::Csv => {
                let mut csv = csv::Writer::from_writer(file);
                csv.write_record(&columns)?;
                for row in reader.get_row_iter(None)? {
                    let object = record(row?)?;
                    csv.write_record(columns.iter().map(|c| cell(object.get(c))))?;
                    rows += 1;
                }
                csv.into_inner().map_err(|e| e.into_error())?
            }
            Format::Jsonl => {
                let mut out = BufWriter::new(file);
                for row in reader.get_row_iter(None)? {
                    serde_json::to_writer(&mut out, &record(row?)?)?;
                    out.write_all(b"\n")?;
                    rows += 1;
                }
                out.into_inner().map_err(|e| e.into_error())?
            }
        };
        Ok((file, rows))
    })
}

fn record(row: parquet::record::Row) -> Result<serde_json::Map<String, Value>> {
    match row.to_json_value() {
        Value::Object(object) => Ok(object),
        _ => bail!("a row is not a record"),
    }
}

/// A CSV cell: strings as they are, null as empty, anything else as JSON.
fn cell(value: Option<&Value>) -> String {
    match value {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(s)) => s.clone(),
        Some(other) => other.to_string(),
    }
}

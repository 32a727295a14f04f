//! The declared Arrow schema of processed results (version
//! [`SCHEMA_VERSION`]), and the builder that turns result lines into
//! record batches.
//!
//! | column | type | |
//! |---|---|---|
//! | `run_id`, `job_id`, `env_id`, `variant_id`, `model_id` | utf8 | where the row came from (`env_id` is the matrix base id) |
//! | `config_id` | utf8 | the job's sampling config: its name and job-matrix combination, or `default` |
//! | `sampling_args` | utf8 | the job's sampling args as JSON |
//! | `example_id` | utf8 | |
//! | `example_index` | int64 | position in the dataset |
//! | `rollout` | int32 | |
//! | `job_seed` | uint64 | the job's seed (the run's, or its job-matrix `seed`); null if unknown |
//! | `seed` | uint64 | the sample seed, derived from the job seed, example and rollout |
//! | `sampling_seed` | uint64 | the `seed` sent with each model request when the config set none; null otherwise |
//! | `group` | utf8 | the record's value of the env's `group_by` field; null without one |
//! | `reward` | float64, null when the sample errored | |
//! | `parsed_answer`, `parse_status` | utf8 | `ok`, `no-answer`, `malformed`, `hedged`, `ungraded` |
//! | `error_kind`, `error` | utf8 | null unless the sample errored |
//! | `error_attempts` | int32 | requests the failed model call made, retries included; null unless a model call failed |
//! | `metric_<name>` | float64 | one per metric the environment reported, sorted by name |
//! | `prompt` | utf8 | the first request's messages as JSON (absent with `--drop-text`) |
//! | `prompt_text` | utf8 | for a base model, the text the first request sent (the prompt template applied); null on the chat API (absent with `--drop-text`) |
//! | `completion`, `reasoning` | utf8 | the last reply (absent with `--drop-text`) |
//! | `transcript` | utf8 | every message of a multi-turn episode as JSON, tool calls included; null for one turn (absent with `--drop-text`) |
//! | `info` | utf8 | the environment's details as JSON (gold answer, ...) |
//! | `code_runs` | utf8 | programs run for the sample as a JSON list (exit code, output, timed out, duration); null when none |
//! | `judge_calls` | utf8 | the judge's questions and replies as a JSON list (messages, reply, tokens, latency); null when none |
//! | `continuations` | utf8 | continuations scored by log-likelihood as a JSON list (text, logprob, tokens, greedy); null when none |
//! | `turns` | int32 | |
//! | `tokens_prompt`, `tokens_completion`, `tokens_reasoning` | int64 | |
//! | `latency_ms` | int64 | model time |
//! | `cache_hits` | int32 | replies (the model's and the judge's) the response cache served instead of a request |
//! | `cost_usd` | float64 | the sample's cost at the models' prices; null when unpriced |
//! | `finished_at` | timestamp[us, UTC] | |

use crate::store::{ParseStatus, RawJson, ResultLine};
use anyhow::{Context, Result};
use arrow_array::builder::{
    ArrayBuilder, Float64Builder, Int32Builder, Int64Builder, StringBuilder, TimestampMicrosecondBuilder, UInt64Builder,
};
use arrow_array::types::Int32Type;
use arrow_array::{ArrayRef, DictionaryArray, RecordBatch};
use arrow_schema::{DataType, Field, Schema, SchemaRef, TimeUnit};
use parquet::basic::{Compression, ZstdLevel};
use parquet::file::metadata::KeyValue;
use parquet::file::properties::{EnabledStatistics, WriterProperties};
use parquet::schema::types::ColumnPath;
use std::sync::Arc;

/// Version of the processed schema; bumped on any change to the columns.
pub const SCHEMA_VERSION: u32 = 6;

/// Prefix of the per-metric columns.
pub const METRIC_PREFIX: &str = "metric_";

/// Where a job's rows came from.
pub struct RowSource<'a> {
    /// The run.
    pub run_id: &'a str,
    /// The job.
    pub job_id: &'a str,
    /// The env (matrix base id).
    pub env_id: &'a str,
    /// The env variant.
    pub variant_id: &'a str,
    /// The model (config id).
    pub model_id: &'a str,
    /// The job's sampling config.
    pub config_id: &'a str,
    /// The job's sampling args, as JSON.
    pub sampling_args: &'a str,
    /// The job's seed, when its identity records one.
    pub job_seed: Option<u64>,
}

/// The schema for a file with these metric columns.
pub fn schema(metrics: &[String], drop_text: bool) -> SchemaRef {
    let utf8 = |name: &str, nullable: bool| Field::new(name, DataType::Utf8, nullable);
    let mut fields = vec![
        utf8("run_id", false),
        utf8("job_id", false),
        utf8("env_id", false),
        utf8("variant_id", false),
        utf8("model_id", false),
        utf8("config_id", false),
        utf8("sampling_args", false),
        utf8("example_id", false),
        Field::new("example_index", DataType::Int64, false),
        Field::new("rollout", DataType::Int32, false),
        Field::new("job_seed", DataType::UInt64, true),
        Field::new("seed", DataType::UInt64, false),
        Field::new("sampling_seed", DataType::UInt64, true),
        utf8("group", true),
        Field::new("reward", DataType::Float64, true),
        utf8("parsed_answer", true),
        utf8("parse_status", true),
        utf8("error_kind", true),
        utf8("error", true),
        Field::new("error_attempts", DataType::Int32, true),
    ];
    fields.extend(metrics.iter().map(|m| Field::new(format!("{METRIC_PREFIX}{m}"), DataType::Float64, true)));
    if !drop_text {
        fields.extend([
            utf8("prompt", false),
            utf8("prompt_text", true),
            utf8("completion", true),
            utf8("reasoning", true),
            utf8("transcript", true),
        ]);
    }
    fields.extend([
        utf8("info", true),
        utf8("code_runs", true),
        utf8("judge_calls", true),
        utf8("continuations", true),
        Field::new("turns", DataType::Int32, false),
        Field::new("tokens_prompt", DataType::Int64, false),
        Field::new("tokens_completion", DataType::Int64, false),
        Field::new("tokens_reasoning", DataType::Int64, false),
        Field::new("latency_ms", DataType::Int64, false),
        Field::new("cache_hits", DataType::Int32, false),
        Field::new("cost_usd", DataType::Float64, true),
        Field::new("finished_at", DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into())), true),
    ]);
    Arc::new(Schema::new(fields))
}

/// The columns that hold one value per job (the first ones): a batch holds
/// them as Arrow dictionaries, so the parquet encoder hashes each job's
/// value once instead of once per row. Files still declare them as strings.
const JOB_COLUMNS: usize = 7;

/// The schema of the batches [`BatchBuilder`] makes: `file`'s, with the
/// per-job columns as dictionaries of strings.
fn batch_schema(file: &Schema) -> SchemaRef {
    let fields = file.fields().iter().enumerate().map(|(at, field)| {
        if at < JOB_COLUMNS {
            let dictionary = DataType::Dictionary(Box::new(DataType::Int32), Box::new(DataType::Utf8));
            Arc::new(field.as_ref().clone().with_data_type(dictionary))
        } else {
            field.clone()
        }
    });
    Arc::new(Schema::new(fields.collect::<Vec<_>>()))
}

/// Columns with few distinct values in a file, dictionary-encoded: a file
/// holds one model and env, and a handful of jobs, statuses and answers.
/// Every other column is mostly unique text or numbers, where a dictionary
/// is built (a hash of every value) only to be dropped once it grows past
/// its size limit.
const DICTIONARY_COLUMNS: [&str; 11] = [
    "run_id",
    "job_id",
    "env_id",
    "variant_id",
    "model_id",
    "config_id",
    "sampling_args",
    "parsed_answer",
    "parse_status",
    "error_kind",
    "turns",
];

/// Columns of texts, mostly unique: no min/max statistics, which no reader
/// filters on and which cost a comparison of every value; compressed with
/// zstd, which pays on text. Every other column is numbers or dictionary
/// indices and takes LZ4: a zstd codec allocates its own contexts for each
/// column of each file, which cost more than compressing a small column.
const TEXT_COLUMNS: [&str; 12] = [
    "example_id",
    "sampling_args",
    "prompt",
    "completion",
    "reasoning",
    "transcript",
    "info",
    "code_runs",
    "judge_calls",
    "continuations",
    "prompt_text",
    "error",
];

/// How processed files are written: zstd on text columns and LZ4 on the rest, row groups of `rows_per_group`,
/// dictionaries only where values repeat, and `metadata` as key-value
/// metadata.
pub fn writer_properties(rows_per_group: usize, metadata: Vec<KeyValue>) -> WriterProperties {
    let mut builder = WriterProperties::builder()
        .set_compression(Compression::LZ4_RAW)
        .set_max_row_group_row_count(Some(rows_per_group))
        .set_key_value_metadata(Some(metadata))
        .set_dictionary_enabled(false);
    for column in DICTIONARY_COLUMNS {
        builder = builder.set_column_dictionary_enabled(ColumnPath::from(column), true);
    }
    for column in TEXT_COLUMNS {
        builder = builder
            .set_column_statistics_enabled(ColumnPath::from(column), EnabledStatistics::None)
            .set_column_compression(ColumnPath::from(column), Compression::ZSTD(ZstdLevel::default()));
    }
    builder.build()
}

/// What a batch is expected to hold, so its text columns are allocated
/// once instead of growing by doubling (each doubling copies the column:
/// a tenth of `process`'s time).
#[derive(Debug, Clone, Copy, Default)]
pub struct BatchSize {
    /// Rows.
    pub rows: usize,
    /// Bytes of each text column (the prompt, completion, info...).
    pub text_bytes: usize,
}

/// Rows being gathered into one record batch: call
/// [`BatchBuilder::start_job`] before a job's rows.
pub struct BatchBuilder {
    schema: SchemaRef,
    batch_schema: SchemaRef,
    metrics: Vec<String>,
    drop_text: bool,
    jobs: JobColumns,
    example_id: StringBuilder,
    example_index: Int64Builder,
    rollout: Int32Builder,
    job_seed: UInt64Builder,
    /// The seed of the job rows are added for.
    current_job_seed: Option<u64>,
    seed: UInt64Builder,
    sampling_seed: UInt64Builder,
    group: StringBuilder,
    reward: Float64Builder,
    answer: [StringBuilder; 4],
    error_attempts: Int32Builder,
    metric_values: Vec<Float64Builder>,
    text: [StringBuilder; 5],
    info: StringBuilder,
    /// `code_runs`, `judge_calls`, `continuations`.
    lists: [StringBuilder; 3],
    turns: Int32Builder,
    counts: [Int64Builder; 4],
    cache_hits: Int32Builder,
    cost_usd: Float64Builder,
    finished_at: TimestampMicrosecondBuilder,
    rows: usize,
}

impl BatchBuilder {
    /// An empty batch for `metrics` (the file's metric columns), with room
    /// for `size`.
    pub fn new(metrics: &[String], drop_text: bool, size: BatchSize) -> Self {
        let text = || StringBuilder::with_capacity(size.rows, size.text_bytes);
        let schema = schema(metrics, drop_text);
        BatchBuilder {
            batch_schema: batch_schema(&schema),
            schema,
            metrics: metrics.to_vec(),
            drop_text,
            jobs: Default::default(),
            example_id: Default::default(),
            example_index: Default::default(),
            rollout: Default::default(),
            job_seed: Default::default(),
            current_job_seed: None,
            seed: Default::default(),
            sampling_seed: Default::default(),
            group: Default::default(),
            reward: Default::default(),
            answer: Default::default(),
            error_attempts: Default::default(),
            metric_values: metrics.iter().map(|_| Float64Builder::new()).collect(),
            text: std::array::from_fn(|_| text()),
            info: text(),
            lists: Default::default(),
            turns: Default::default(),
            counts: Default::default(),
            cache_hits: Default::default(),
            cost_usd: Default::default(),
            finished_at: TimestampMicrosecondBuilder::new().with_timezone("UTC"),
            rows: 0,
        }
    }

    /// The schema of the files the batches go to. The batches' own schema
    /// holds the per-job columns as dictionaries, which the parquet writer
    /// takes for these strings.
    pub fn schema(&self) -> SchemaRef {
        self.schema.clone()
    }

    /// Rows added since the last [`BatchBuilder::finish`].
    pub fn len(&self) -> usize {
        self.rows
    }

    /// Whether no rows were added since the last finish.
    pub fn is_empty(&self) -> bool {
        self.rows == 0
    }

    /// The rows pushed from now on are `source`'s.
    pub fn start_job(&mut self, source: &RowSource) {
        let values = [
            source.run_id,
            source.job_id,
            source.env_id,
            source.variant_id,
            source.model_id,
            source.config_id,
            source.sampling_args,
        ];
        self.jobs.start(values);
        self.current_job_seed = source.job_seed;
    }

    /// Add one result line of the current job. Its prompt, info,
    /// transcript and other JSON lists go in as the JSON text they were
    /// written as, without being parsed.
    pub fn push(&mut self, result: &ResultLine) -> Result<()> {
        self.jobs.push_row()?;
        self.example_id.append_value(&result.example_id);
        self.example_index.append_value(result.example_index as i64);
        self.rollout.append_value(result.rollout as i32);
        self.job_seed.append_option(self.current_job_seed);
        self.seed.append_value(result.seed);
        self.sampling_seed.append_option(result.sampling_seed);
        self.group.append_option(result.group.as_deref());
        self.reward.append_option(result.reward);
        let error = result.error.as_ref();
        let answer = [
            result.parsed_answer.as_deref(),
            result.parse_status.map(ParseStatus::as_str),
            error.map(|e| e.kind.as_str()),
            error.map(|e| e.message.as_ref()),
        ];
        for (builder, value) in self.answer.iter_mut().zip(answer) {
            builder.append_option(value);
        }
        self.error_attempts.append_option(error.and_then(|e| e.attempts).map(|n| n as i32));
        for (builder, name) in self.metric_values.iter_mut().zip(&self.metrics) {
            builder.append_option(result.metrics.get(name.as_str()).copied());
        }
        if !self.drop_text {
            self.text[0].append_value(result.prompt.get());
            self.text[1].append_option(result.prompt_text.as_deref());
            self.text[2].append_option(result.completion.as_deref());
            self.text[3].append_option(result.reasoning.as_deref());
            append_list(&mut self.text[4], result.transcript);
        }
        match result.info.get() {
            "null" => self.info.append_null(),
            info => self.info.append_value(info),
        }
        for (builder, list) in self.lists.iter_mut().zip([result.code_runs, result.judge_calls, result.continuations]) {
            append_list(builder, list);
        }
        self.turns.append_value(result.turns as i32);
        let tokens = [result.tokens.prompt, result.tokens.completion, result.tokens.reasoning, result.latency_ms];
        for (builder, value) in self.counts.iter_mut().zip(tokens) {
            builder.append_value(i64::try_from(value).unwrap_or(i64::MAX));
        }
        self.cache_hits.append_value(result.cache_hits as i32);
        self.cost_usd.append_option(result.cost_usd);
        self.finished_at.append_option(timestamp_micros(&result.finished_at));
        self.rows += 1;
        Ok(())
    }

    /// The rows added so far as a batch; the builder starts empty again.
    pub fn finish(&mut self) -> Result<RecordBatch> {
        let mut columns = self.jobs.finish()?;
        columns.push(Arc::new(self.example_id.finish()));
        columns.push(Arc::new(self.example_index.finish()));
        columns.push(Arc::new(self.rollout.finish()));
        columns.push(Arc::new(self.job_seed.finish()));
        columns.push(Arc::new(self.seed.finish()));
        columns.push(Arc::new(self.sampling_seed.finish()));
        columns.push(Arc::new(self.group.finish()));
        columns.push(Arc::new(self.reward.finish()));
        columns.extend(self.answer.iter_mut().map(|b| Arc::new(b.finish()) as ArrayRef));
        columns.push(Arc::new(self.error_attempts.finish()));
        columns.extend(self.metric_values.iter_mut().map(|b| Arc::new(b.finish()) as ArrayRef));
        if !self.drop_text {
            columns.extend(self.text.iter_mut().map(|b| Arc::new(b.finish()) as ArrayRef));
        }
        columns.push(Arc::new(self.info.finish()));
        columns.extend(self.lists.iter_mut().map(|b| Arc::new(b.finish()) as ArrayRef));
        columns.push(Arc::new(self.turns.finish()));
        columns.extend(self.counts.iter_mut().map(|b| Arc::new(b.finish()) as ArrayRef));
        columns.push(Arc::new(self.cache_hits.finish()));
        columns.push(Arc::new(self.cost_usd.finish()));
        columns.push(Arc::new(self.finished_at.finish()));
        self.rows = 0;
        RecordBatch::try_new(self.batch_schema.clone(), columns).context("building a record batch")
    }
}

/// The per-job columns of a batch: each job's values once, and for each
/// row the index of its job.
#[derive(Default)]
struct JobColumns {
    values: [StringBuilder; JOB_COLUMNS],
    /// Each row's job, an index into `values`.
    keys: Int32Builder,
    /// The job rows are added for, to start the next batch with.
    current: Option<[String; JOB_COLUMNS]>,
}

impl JobColumns {
    fn start(&mut self, values: [&str; JOB_COLUMNS]) {
        for (builder, value) in self.values.iter_mut().zip(values) {
            builder.append_value(value);
        }
        self.current = Some(values.map(str::to_owned));
    }

    fn push_row(&mut self) -> Result<()> {
        let jobs = self.values[0].len();
        anyhow::ensure!(jobs > 0, "a row was added before its job");
        self.keys.append_value(i32::try_from(jobs - 1).context("more jobs than a batch can index")?);
        Ok(())
    }

    /// The columns so far, as dictionaries; the current job carries on
    /// into the next batch.
    fn finish(&mut self) -> Result<Vec<ArrayRef>> {
        let keys = self.keys.finish();
        let columns = self.values.iter_mut().map(|values| {
            let column = DictionaryArray::<Int32Type>::try_new(keys.clone(), Arc::new(values.finish()))?;
            Ok(Arc::new(column) as ArrayRef)
        });
        let columns = columns.collect::<Result<Vec<_>>>()?;
        if let Some(current) = self.current.take() {
            self.start(current.each_ref().map(String::as_str));
        }
        Ok(columns)
    }
}

/// A JSON list as written: null when absent or empty.
fn append_list(builder: &mut StringBuilder, list: Option<RawJson>) {
    match list.map(|list| list.get()) {
        None | Some("[]") | Some("null") => builder.append_null(),
        Some(list) => builder.append_value(list),
    }
}

/// Microseconds since the epoch of an RFC 3339 time, if it parses.
fn timestamp_micros(text: &str) -> Option<i64> {
    utc_micros(text.as_bytes()).or_else(|| {
        let time = time::OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339).ok()?;
        i64::try_from(time.unix_timestamp_nanos() / 1000).ok()
    })
}

/// The times assay writes (`2026-11-23T05:15:04.731916882Z`: UTC, up to
/// nine decimals), read without the general parser, which `process` called
/// for every row. Anything else is `None`.
fn utc_micros(text: &[u8]) -> Option<i64> {
    let digits = |range: std::ops::Range<usize>| -> Option<i64> {
        let part = text.get(range)?;
        part.iter().try_fold(0i64, |n, b| b.is_ascii_digit().then(|| n * 10 + i64::from(b - b'0')))
    };
    let separators = [(4, b'-'), (7, b'-'), (10, b'T'), (13, b':'), (16, b':')];
    if text.len() < 20 || separators.iter().any(|(at, byte)| text[*at] != *byte) || text.last() != Some(&b'Z') {
        return None;
    }
    let (year, month, day) = (digits(0..4)?, digits(5..7)?, digits(8..10)?);
    let (hour, minute, second) = (digits(11..13)?, digits(14..16)?, digits(17..19)?);
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) || hour > 23 || minute > 59 || second > 60 {
        return None;
    }
    let fraction = &text[19..text.len() - 1];
    let micros = match fraction {
        [] => 0,
        [b'.', decimals @ ..] if (1..=9).contains(&decimals.len()) => {
            let value = digits(20..20 + decimals.len())?;
            // Scale to microseconds, dropping what is below.
            let scale = 10i64.pow(decimals.len().abs_diff(6) as u32);
            if decimals.len() >= 6 { value / scale } else { value * scale }
        }
        _ => return None,
    };
    let days = days_from_civil(year, month, day);
    Some(((days * 24 + hour) * 60 + minute) * 60_000_000 + second * 1_000_000 + micros)
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's
/// `days_from_civil`).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let day_of_year = (153 * (month + if month > 2 { -3 } else { 9 }) + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow_array::{Array, ArrayAccessor, StringArray};

    fn source(job_id: &str) -> RowSource<'_> {
        RowSource {
            run_id: "run",
            job_id,
            env_id: "env",
            variant_id: "env",
            model_id: "model",
            config_id: "default",
            sampling_args: "{}",
            job_seed: Some(7),
        }
    }

    /// Each row's value of the per-job column `at`.
    fn job_column(batch: &RecordBatch, at: usize) -> Vec<String> {
        let column = batch.column(at).as_any().downcast_ref::<DictionaryArray<Int32Type>>().unwrap();
        let values = column.downcast_dict::<StringArray>().unwrap();
        (0..column.len()).map(|row| values.value(row).to_owned()).collect()
    }

    #[test]
    fn job_columns_follow_jobs_across_batches_and_files_declare_strings() {
        let line = r#"{"example_id":"q0","example_index":0,"rollout":0,"seed":1,"prompt":[],"completion":"x","reasoning":null,"reward":1.0,"parsed_answer":"A","parse_status":"ok","metrics":{},"info":null,"turns":1,"tokens":{"prompt":1,"completion":1,"reasoning":0},"latency_ms":5,"error":null,"finished_at":"2026-11-23T05:00:00Z"}"#;
        let result = crate::store::read_result_line(line).unwrap();
        let mut batch = BatchBuilder::new(&[], false, BatchSize::default());
        assert!(batch.push(&result).is_err(), "a row needs its job");
        batch.start_job(&source("a"));
        batch.push(&result).unwrap();
        batch.start_job(&source("b"));
        batch.push(&result).unwrap();
        batch.push(&result).unwrap();
        let first = batch.finish().unwrap();
        assert_eq!(job_column(&first, 1), ["a", "b", "b"]);
        // The next batch goes on with job b.
        batch.push(&result).unwrap();
        let second = batch.finish().unwrap();
        assert_eq!((job_column(&second, 1), job_column(&second, 0)), (vec!["b".to_owned()], vec!["run".to_owned()]));
        assert_eq!(batch.schema().field(1).data_type(), &DataType::Utf8, "files declare strings");
        let mut file = Vec::new();
        let mut writer = parquet::arrow::ArrowWriter::try_new(&mut file, batch.schema(), None).unwrap();
        writer.write(&first).unwrap();
        writer.close().unwrap();
        let reader =
            parquet::arrow::arrow_reader::ParquetRecordBatchReader::try_new(bytes::Bytes::from(file), 16).unwrap();
        let read = reader.map(Result::unwrap).next().unwrap();
        let job_ids = read.column(1).as_any().downcast_ref::<StringArray>().unwrap();
        assert_eq!(job_ids.iter().flatten().collect::<Vec<_>>(), ["a", "b", "b"]);
    }

    #[test]
    fn utc_times_read_fast_equal_the_general_parser() {
        let general = |text: &str| {
            let time = time::OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339).unwrap();
            i64::try_from(time.unix_timestamp_nanos() / 1000).unwrap()
        };
        for text in [
            "2026-11-23T05:15:04.731916882Z",
            "1970-01-01T00:00:00Z",
            "2000-02-29T23:59:59.5Z",
            "1969-12-31T23:59:59.999999Z",
            "2400-03-01T12:00:00.000001Z",
            "2026-01-01T00:00:00.1234567Z",
        ] {
            assert_eq!(utc_micros(text.as_bytes()), Some(general(text)), "{text}");
        }
        assert_eq!(utc_micros(b"2026-11-23T05:15:04+01:00"), None, "offsets take the general parser");
        assert_eq!(timestamp_micros("2026-11-23T06:15:04+01:00"), Some(general("2026-11-23T05:15:04Z")));
        assert_eq!(timestamp_micros("yesterday"), None);
    }
}

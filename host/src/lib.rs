//! assay: evaluate language models on benchmarks packaged as sandboxed
//! WebAssembly environments.
//!
//! Data flows one way through the modules:
//!
//! ```text
//! config ──► plan ──► runner ──► store ──► (process ──► analyse: later)
//!   │          │        │  ▲
//!   dataset    │        ▼  │
//!              └──► runtime (wasm environments)   models (HTTP / oracle)
//!                                   execution (programs plugins ask to run)
//! ```
//!
//! - [`config`]: the YAML schema users write, with file/line/field errors.
//! - [`dataset`]: reading records from JSONL, JSON, CSV and parquet.
//! - [`plan`]: expanding configs into concrete jobs (matrix sweeps, ids, merged args).
//! - [`runtime`]: loading and sandboxing environment plugins (wasmtime).
//! - [`execution`]: running the programs plugins ask for (local sandbox or Piston).
//! - [`models`]: OpenAI-compatible chat client with retries.
//! - [`runner`]: driving every sample of every job through environment and model.
//! - [`store`]: the run directory: manifest, results, summaries, metadata.
//! - [`logging`]: stderr logs, and the full log kept in each run directory.
//! - [`authoring`]: scaffolding, building and self-checking plugins.
//! - [`checkpoints`]: finding checkpoint folders of solutions for `assay score`.
//! - [`report`]: HTML and markdown reports, and SVG charts.
//! - [`cli`]: the `assay` command line.

pub mod analysis;
mod authoring;
mod checkpoints;
mod cli;
pub mod config;
pub mod dataset;
mod execution;
mod locations;
mod logging;
pub mod models;
pub mod plan;
pub mod process;
mod report;
mod runner;
pub mod runtime;
pub mod store;

pub use cli::{ExitStatus, main};
pub use execution::CodeRun;

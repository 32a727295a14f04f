//! The per-instance store state: a deny-by-default WASI context, memory
//! limits, seeded randomness and the `host` import (logging).
//!
//! A plugin gets no files, environment variables, arguments, network or
//! stdin. Its stdout is discarded and its stderr kept in a small buffer,
//! because that is where a Rust panic message lands before the trap.

use super::build_info::{BuildInfo, PYTHON};
use super::v0_2::LogLevel;
use rand::SeedableRng;
use rand::rngs::StdRng;
use std::convert::Infallible;
use std::sync::{Arc, Mutex};
use wasmtime::component::ResourceTable;
use wasmtime::{StoreLimits, StoreLimitsBuilder};
use wasmtime_wasi::p2::pipe::{MemoryOutputPipe, SinkOutputStream};
use wasmtime_wasi::{WasiCtx, WasiCtxBuilder, WasiCtxView, WasiView};

/// Bytes of plugin stderr kept per instance. A full pipe makes the guest's
/// next write fail (and Rust's `eprintln!` panic), so instances are
/// recycled once half of it is used; see [`Sandbox::stderr_nearly_full`].
const STDERR_CAPACITY: usize = 64 * 1024;

/// Core instances a Rust component may create: it makes 3 (the module, the
/// WASI adapter and a shim); the rest is headroom.
const MAX_INSTANCES: usize = 16;

/// Core instances a CPython component may create. componentize-py links
/// CPython as shared libraries, one core instance each: 14 for a plain
/// environment, and packages with C extensions add more. Memory stays
/// capped per linear memory, so this loosens nothing else.
const MAX_INSTANCES_PYTHON: usize = 64;

/// The instance cap for a component `assay plugin build` made (Python), or
/// for any other (Rust).
pub(crate) fn max_instances(build: Option<&BuildInfo>) -> usize {
    match build {
        Some(build) if build.language == PYTHON => MAX_INSTANCES_PYTHON,
        _ => MAX_INSTANCES,
    }
}

/// Longest log line accepted from a plugin; the rest is cut.
const MAX_LOG_LINE: usize = 4096;

/// Store data of one plugin instance.
pub(crate) struct Sandbox {
    wasi: WasiCtx,
    table: ResourceTable,
    pub(super) limits: StoreLimits,
    random: CallRandom,
    stderr: MemoryOutputPipe,
    plugin: Arc<str>,
    record: String,
}

impl Sandbox {
    /// A sandbox allowing `memory_bytes` of linear memory and `instances`
    /// core instances.
    pub(crate) fn new(plugin: Arc<str>, memory_bytes: usize, instances: usize) -> Self {
        let random = CallRandom::default();
        let stderr = MemoryOutputPipe::new(STDERR_CAPACITY);
        let mut wasi = WasiCtxBuilder::new();
        wasi.stdout(SinkOutputStream)
            .stderr(stderr.clone())
            .secure_random(random.clone())
            .insecure_random(random.clone())
            .insecure_random_seed(0);
        Sandbox {
            wasi: wasi.build(),
            table: ResourceTable::new(),
            limits: StoreLimitsBuilder::new()
                .memory_size(memory_bytes)
                .instances(instances)
                .tables(16)
                .memories(16)
                .trap_on_grow_failure(true)
                .build(),
            random,
            stderr,
            plugin,
            record: String::new(),
        }
    }

    /// Prepare for a call on behalf of `record`: seed WASI randomness from
    /// the sample seed so any randomness a plugin uses is reproducible.
    pub(crate) fn begin_call(&mut self, record: &str, seed: u64) {
        self.record.clear();
        self.record.push_str(record);
        self.random.reseed(seed);
    }

    /// The tail of what the plugin wrote to stderr (panic messages).
    pub(crate) fn stderr_tail(&self) -> String {
        let bytes = self.stderr.contents();
        let text = String::from_utf8_lossy(&bytes);
        let start = text.len().saturating_sub(2048);
        let start = (start..text.len()).find(|i| text.is_char_boundary(*i)).unwrap_or(0);
        text[start..].trim().to_string()
    }

    /// Whether the stderr buffer is past half full, so the instance should
    /// be replaced before a write could fail.
    pub(crate) fn stderr_nearly_full(&self) -> bool {
        self.stderr.contents().len() > STDERR_CAPACITY / 2
    }
}

impl WasiView for Sandbox {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView { ctx: &mut self.wasi, table: &mut self.table }
    }
}

impl Sandbox {
    /// A line the plugin logged through the `host` import, tagged with
    /// plugin and record.
    pub(super) fn log_line(&self, level: LogLevel, message: &str) {
        let message = truncate(message, MAX_LOG_LINE);
        let (plugin, record) = (&*self.plugin, self.record.as_str());
        match level {
            LogLevel::Trace => tracing::trace!(plugin, record, "{message}"),
            LogLevel::Debug => tracing::debug!(plugin, record, "{message}"),
            LogLevel::Info => tracing::info!(plugin, record, "{message}"),
            LogLevel::Warn => tracing::warn!(plugin, record, "{message}"),
            LogLevel::Error => tracing::error!(plugin, record, "{message}"),
        }
    }
}

fn truncate(text: &str, max: usize) -> &str {
    if text.len() <= max {
        return text;
    }
    let end = (0..=max).rev().find(|i| text.is_char_boundary(*i)).unwrap_or(0);
    &text[..end]
}

/// WASI's random source, shared between the context and the host so the
/// host can reseed it before every call (WASI takes the generator by value
/// when the context is built).
#[derive(Clone)]
struct CallRandom(Arc<Mutex<StdRng>>);

impl Default for CallRandom {
    fn default() -> Self {
        CallRandom(Arc::new(Mutex::new(StdRng::seed_from_u64(0))))
    }
}

impl CallRandom {
    fn reseed(&self, seed: u64) {
        *self.0.lock().expect("random lock") = StdRng::seed_from_u64(seed);
    }
}

impl rand::TryRng for CallRandom {
    type Error = Infallible;

    fn try_next_u32(&mut self) -> Result<u32, Infallible> {
        Ok(rand::Rng::next_u32(&mut *self.0.lock().expect("random lock")))
    }

    fn try_next_u64(&mut self) -> Result<u64, Infallible> {
        Ok(rand::Rng::next_u64(&mut *self.0.lock().expect("random lock")))
    }

    fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Infallible> {
        rand::Rng::fill_bytes(&mut *self.0.lock().expect("random lock"), dst);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn python_components_get_room_for_cpython_and_rust_ones_keep_their_cap() {
        let python = BuildInfo { language: PYTHON.into(), source_sha256: String::new(), builder: String::new() };
        assert_eq!(max_instances(Some(&python)), MAX_INSTANCES_PYTHON);
        assert_eq!(max_instances(None), MAX_INSTANCES);
        let other = BuildInfo { language: "rust".into(), ..python };
        assert_eq!(max_instances(Some(&other)), MAX_INSTANCES);
    }
}

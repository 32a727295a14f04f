//! Warm plugin instances for one job, and every call into them.
//!
//! Calls are pure functions of their inputs (the per-record state travels
//! through the host), so any idle instance can serve any call. Each call
//! gets a fresh fuel budget, a wall-clock timeout and WASI randomness seeded
//! from the sample seed. An instance that traps, times out or runs out of
//! fuel is poisoned and dropped; the next call instantiates a new one from
//! the pre-instantiated component, so one bad record never affects another.
//!
//! What a call returns is lifted out of the guest's memory into the host's,
//! so its size is bounded only by the guest's memory limit. A value with
//! more than [`MAX_RETURNED_BYTES`] of text fails its call and its instance
//! is dropped at once: otherwise every such sample would keep its copies
//! until it is written, and `results.jsonl` would grow by as much.

use super::Plugin;
use super::sandbox::Sandbox;
use super::v0_2::{Action, EnvError, Event, Metadata, Sample, Score, Step, WorkspaceRequest};
use super::versions::{Bindings, PluginPre};
use anyhow::{Result, anyhow};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::Semaphore;
use wasmtime::{Store, Trap};

/// Sandbox limits for every call into a plugin: an env's `limits` block.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PluginLimits {
    /// Linear memory per instance, MiB. Default 256.
    pub memory_mb: u64,
    /// Wall-clock limit per call, milliseconds. Default 10000.
    pub call_timeout_ms: u64,
    /// CPU budget per call in wasmtime fuel (about 10^10 per CPU-second). Default 10^10.
    pub fuel: u64,
}

impl Default for PluginLimits {
    fn default() -> Self {
        PluginLimits { memory_mb: 256, call_timeout_ms: 10_000, fuel: 10_000_000_000 }
    }
}

/// Which record a call is for, and its seed.
#[derive(Debug, Clone, Copy)]
pub struct CallContext<'a> {
    /// The record's example id, for messages and logs.
    pub record: &'a str,
    /// The sample seed (seeds WASI randomness for this call).
    pub seed: u64,
}

/// Why a call failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum CallErrorKind {
    /// The plugin returned an error (bad args, bad record, internal).
    Plugin,
    /// The wall-clock limit passed.
    Timeout,
    /// The fuel budget ran out.
    Cpu,
    /// Linear memory would exceed its cap.
    Memory,
    /// The plugin panicked.
    Panic,
    /// Any other trap or failure to instantiate.
    Trap,
    /// The call returned more text than [`MAX_RETURNED_BYTES`].
    TooLarge,
}

/// Most text one call may return (prompt, state, answer, info, error
/// message together). Far above any real prompt: a million-token context
/// is about 4 MiB.
pub(crate) const MAX_RETURNED_BYTES: usize = 16 << 20;

/// Longest error message a plugin's error is cut to, so even a call that
/// fails cannot fill the log or `results.jsonl`.
const MAX_MESSAGE_BYTES: usize = 2048;

/// A failed call, with a one-line message naming plugin, version and record.
#[derive(Debug, Clone)]
pub struct CallError {
    /// The category.
    pub kind: CallErrorKind,
    /// The full message.
    pub message: String,
}

impl fmt::Display for CallError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for CallError {}

/// The record name of the check-configure call a pool makes when created:
/// its errors are about the job's arguments, not about any record.
const CONFIGURE: &str = "";

struct Instance {
    store: Store<Sandbox>,
    bindings: Bindings,
}

/// A call moves its instance in and hands it back with the outcome, so a
/// timed-out call drops the (poisoned) instance with the future.
type CallFuture<'s, T> = Pin<Box<dyn Future<Output = (Instance, wasmtime::Result<Result<T, EnvError>>)> + Send + 's>>;

/// A plugin configured with one job's arguments, with warm instances.
pub struct EnvironmentPool {
    plugin: Arc<Plugin>,
    args_json: String,
    limits: PluginLimits,
    idle: Mutex<Vec<Instance>>,
    /// Calls are CPU-bound and take microseconds, so a few instances per
    /// core serve any number of in-flight samples.
    slots: Semaphore,
}

impl EnvironmentPool {
    pub(super) async fn new(plugin: Arc<Plugin>, args_json: String, limits: PluginLimits) -> Result<Self> {
        let slots = std::thread::available_parallelism().map_or(4, |n| n.get() * 2);
        let pool =
            EnvironmentPool { plugin, args_json, limits, idle: Mutex::new(Vec::new()), slots: Semaphore::new(slots) };
        // Configure one instance now so bad arguments fail the job before any sample.
        let instance = pool.instantiate(CONFIGURE).await.map_err(|e| anyhow!(e.message))?;
        pool.idle.lock().expect("pool lock").push(instance);
        Ok(pool)
    }

    /// The plugin this pool runs.
    pub fn plugin(&self) -> &Arc<Plugin> {
        &self.plugin
    }

    /// Turn a sample into its first step.
    pub async fn prepare(&self, ctx: CallContext<'_>, sample: &Sample) -> Result<Step, CallError> {
        self.call(ctx, move |mut i| {
            Box::pin(async move {
                let outcome = i.bindings.prepare(&mut i.store, sample).await;
                (i, outcome)
            })
        })
        .await
    }

    /// Report an event and get the next step.
    pub async fn advance(&self, ctx: CallContext<'_>, state: &str, event: &Event) -> Result<Step, CallError> {
        self.call(ctx, move |mut i| {
            Box::pin(async move {
                let outcome = i.bindings.advance(&mut i.store, state, event).await;
                (i, outcome)
            })
        })
        .await
    }

    /// Grade a completion directly.
    pub async fn grade(&self, ctx: CallContext<'_>, state: &str, completion: &str) -> Result<Score, CallError> {
        self.call(ctx, move |mut i| {
            Box::pin(async move {
                let outcome = i.bindings.grade(&mut i.store, state, completion).await;
                (i, outcome)
            })
        })
        .await
    }

    /// The reference completion for a prepared record, if any.
    pub async fn reference(&self, ctx: CallContext<'_>, state: &str) -> Result<Option<String>, CallError> {
        self.call(ctx, move |mut i| {
            Box::pin(async move {
                let outcome = i.bindings.reference(&mut i.store, state).await;
                (i, outcome.map(Ok))
            })
        })
        .await
    }

    /// Run one call on an idle (or new) instance with the job's limits.
    async fn call<'s, T: ReturnedText>(
        &self,
        ctx: CallContext<'_>,
        invoke: impl FnOnce(Instance) -> CallFuture<'s, T>,
    ) -> Result<T, CallError> {
        let _slot = self.slots.acquire().await.expect("pool semaphore is never closed");
        let idle = self.idle.lock().expect("pool lock").pop();
        let mut instance = match idle {
            Some(instance) => instance,
            None => self.instantiate(ctx.record).await?,
        };
        instance.store.data_mut().begin_call(ctx.record, ctx.seed);
        instance.store.set_fuel(self.limits.fuel).expect("fuel is enabled");
        let timeout = Duration::from_millis(self.limits.call_timeout_ms);
        match tokio::time::timeout(timeout, invoke(instance)).await {
            Ok((instance, Ok(result))) => {
                let returned = returned_bytes(&result);
                if returned > MAX_RETURNED_BYTES {
                    // Dropped, not recycled: its memory still holds the value.
                    drop(instance);
                    return Err(self.error(
                        ctx.record,
                        CallErrorKind::TooLarge,
                        format!(
                            "returned {:.1} MiB of text, over the limit of {} MiB",
                            returned as f64 / (1 << 20) as f64,
                            MAX_RETURNED_BYTES >> 20
                        ),
                    ));
                }
                self.recycle(instance);
                result.map_err(|e| self.error(ctx.record, CallErrorKind::Plugin, e.describe()))
            }
            Ok((instance, Err(trap))) => Err(self.trap_error(ctx.record, &instance, &trap)),
            Err(_) => Err(self.error(
                ctx.record,
                CallErrorKind::Timeout,
                format!("timed out after {} ms", self.limits.call_timeout_ms),
            )),
        }
    }

    /// Keep a healthy instance for the next call.
    fn recycle(&self, instance: Instance) {
        if !instance.store.data().stderr_nearly_full() {
            self.idle.lock().expect("pool lock").push(instance);
        }
    }

    /// A new instance, configured with the job's arguments.
    async fn instantiate(&self, record: &str) -> Result<Instance, CallError> {
        let mut instance =
            new_instance(&self.plugin.pre, &self.plugin.metadata.name, self.limits, self.plugin.max_instances())
                .await
                .map_err(|e| self.error(record, CallErrorKind::Trap, format!("cannot instantiate: {e:#}")))?;
        let args = self.args_json.as_str();
        let configured = tokio::time::timeout(
            Duration::from_millis(self.limits.call_timeout_ms),
            instance.bindings.configure(&mut instance.store, args),
        )
        .await;
        match configured {
            Ok(Ok(Ok(()))) => Ok(instance),
            Ok(Ok(Err(e))) => {
                Err(self.error(record, CallErrorKind::Plugin, format!("env_args rejected: {}", e.describe())))
            }
            Ok(Err(trap)) => Err(self.trap_error(record, &instance, &trap)),
            Err(_) => Err(self.error(record, CallErrorKind::Timeout, "configure timed out".into())),
        }
    }

    fn trap_error(&self, record: &str, instance: &Instance, error: &wasmtime::Error) -> CallError {
        let (kind, message) = classify_trap(error, &instance.store, &self.limits);
        self.error(record, kind, message)
    }

    fn error(&self, record: &str, kind: CallErrorKind, detail: String) -> CallError {
        let detail = cut(&detail, MAX_MESSAGE_BYTES);
        let message = match record {
            CONFIGURE => format!("plugin {}: {detail}", self.plugin.label()),
            record => format!("plugin {}, record {record}: {detail}", self.plugin.label()),
        };
        CallError { kind, message: one_line(&message) }
    }
}

/// Turn a trap into a category and a message a user can act on.
fn classify_trap(error: &wasmtime::Error, store: &Store<Sandbox>, limits: &PluginLimits) -> (CallErrorKind, String) {
    let stderr = store.data().stderr_tail();
    if error.downcast_ref::<Trap>() == Some(&Trap::OutOfFuel) {
        return (CallErrorKind::Cpu, format!("exceeded its CPU budget (fuel {})", limits.fuel));
    }
    let text = format!("{error:#}");
    if text.contains("forcing trap when growing memory") {
        return (CallErrorKind::Memory, format!("exceeded its memory limit of {} MiB", limits.memory_mb));
    }
    // componentize-py prints an uncaught Python exception's traceback and
    // then panics: the exception is what the user needs, not the panic.
    if let Some(exception) = python_exception(&stderr) {
        return (CallErrorKind::Panic, exception);
    }
    if let Some(panic) = stderr.split("panicked at").nth(1) {
        return (CallErrorKind::Panic, format!("panicked at{}", panic.trim_end()));
    }
    let first = text.lines().next().unwrap_or("trap");
    let mut message = format!("trapped: {first}");
    if !stderr.is_empty() {
        message.push_str(&format!(" (stderr: {stderr})"));
    }
    (CallErrorKind::Trap, message)
}

/// The last Python traceback in `stderr` as one line, in the Python SDK's
/// words: the exception, then the innermost frame with its source line
/// (`KeyError: 'no' (traceback, most recent call last: env.py:50 in
/// reference: return table[gold])`). `None` when there is no traceback.
fn python_exception(stderr: &str) -> Option<String> {
    let start = stderr.rfind("Traceback (most recent call last):")?;
    let block: Vec<&str> = stderr[start..].lines().skip(1).take_while(|line| !line.starts_with("thread '")).collect();
    let exception = block.iter().rev().find(|line| !line.trim().is_empty() && !line.starts_with(' '))?;
    let mut message = exception.trim().to_string();
    if let Some(at) = block.iter().rposition(|line| line.trim_start().starts_with("File \"")) {
        // `  File "/1/env.py", line 50, in reference`, then the source line.
        let frame = block[at].trim_start().trim_start_matches("File \"");
        let (path, rest) = frame.split_once('"')?;
        let file = path.rsplit('/').next().unwrap_or(path);
        let rest = rest.trim_start_matches(", line ");
        let (line, function) = rest.split_once(", in ").unwrap_or((rest, "?"));
        // Source lines are indented by four spaces; carets mark columns.
        let code = block.get(at + 1).filter(|l| l.starts_with("    ")).map(|l| l.trim());
        let code = code.filter(|l| !l.is_empty() && !l.starts_with(['~', '^']));
        let code = code.map(|c| format!(": {c}")).unwrap_or_default();
        message.push_str(&format!(" (traceback, most recent call last: {file}:{line} in {function}{code})"));
    }
    Some(message)
}

/// The bytes of text in what a call returned: the strings the host lifted
/// out of the guest (other fields are a few bytes each).
fn returned_bytes<T: ReturnedText>(result: &Result<T, EnvError>) -> usize {
    match result {
        Ok(value) => value.text_bytes(),
        Err(EnvError::BadArgs(m) | EnvError::BadRecord(m) | EnvError::Internal(m)) => m.len(),
    }
}

/// Values a call returns, measured by their text.
trait ReturnedText {
    fn text_bytes(&self) -> usize;
}

impl ReturnedText for Step {
    fn text_bytes(&self) -> usize {
        let action = match &self.action {
            Action::AskModel(prompt) => {
                prompt.messages.iter().map(|m| m.content.len()).sum::<usize>()
                    + prompt.stop.iter().map(String::len).sum::<usize>()
            }
            Action::RunCode(request) => request.language.len() + request.source.len() + request.stdin.len(),
            Action::AskJudge(request) => request.messages.iter().map(|m| m.content.len()).sum::<usize>(),
            Action::ScoreContinuations(request) => {
                request.context.len() + request.continuations.iter().map(String::len).sum::<usize>()
            }
            Action::Workspace(request) => match request {
                WorkspaceRequest::Exec(exec) => exec.command.len() + exec.stdin.len(),
                WorkspaceRequest::ReadFile(path) => path.len(),
                WorkspaceRequest::WriteFile(file) => file.path.len() + file.content.len(),
                WorkspaceRequest::Diff => 0,
            },
            Action::Finish(score) => score.text_bytes(),
        };
        self.state.len() + action
    }
}

impl ReturnedText for Score {
    fn text_bytes(&self) -> usize {
        self.parsed_answer.as_ref().map_or(0, String::len)
            + self.metrics.iter().map(|m| m.name.len()).sum::<usize>()
            + self.info_json.len()
    }
}

impl ReturnedText for Option<String> {
    fn text_bytes(&self) -> usize {
        self.as_ref().map_or(0, String::len)
    }
}

/// `text` cut to at most `max` bytes (at a char boundary), saying so.
fn cut(text: &str, max: usize) -> std::borrow::Cow<'_, str> {
    if text.len() <= max {
        return text.into();
    }
    let end = (0..=max).rev().find(|i| text.is_char_boundary(*i)).unwrap_or(0);
    format!("{}… ({} bytes cut)", &text[..end], text.len() - end).into()
}

/// Collapse a message to one line, so every error is one log line.
fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

async fn new_instance(pre: &PluginPre, name: &str, limits: PluginLimits, instances: usize) -> Result<Instance> {
    let memory = usize::try_from(limits.memory_mb.saturating_mul(1024 * 1024)).unwrap_or(usize::MAX);
    let mut store = Store::new(pre.engine(), Sandbox::new(Arc::from(name), memory, instances));
    store.limiter(|sandbox| &mut sandbox.limits);
    store.set_fuel(limits.fuel)?;
    store.epoch_deadline_async_yield_and_update(1);
    let bindings = pre.instantiate(&mut store).await?;
    Ok(Instance { store, bindings })
}

/// Instantiate once with default limits and ask the plugin to describe itself.
pub(super) async fn describe(pre: &PluginPre, shown: &str, instances: usize) -> Result<Metadata> {
    let mut instance = new_instance(pre, shown, PluginLimits::default(), instances)
        .await
        .map_err(|e| anyhow!("plugin {shown}: cannot instantiate: {e:#}"))?;
    let call = instance.bindings.describe(&mut instance.store);
    tokio::time::timeout(Duration::from_secs(10), call)
        .await
        .map_err(|_| anyhow!("plugin {shown}: describe timed out"))?
        .map_err(|e| anyhow!("plugin {shown}: describe trapped: {e:#}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_python_traceback_becomes_its_exception_and_innermost_line() {
        let stderr = "Traceback (most recent call last):\n  File \"/0/assay_env/_component.py\", line 98, in reference\n    return adapter.reference_json(_configured(), state)\n  File \"/1/env.py\", line 50, in reference\n    return {\"x\": 1}[gold]\n           ~~~~~~~~^^^^^^\nKeyError: 'no'\n\nthread '<unnamed>' panicked at runtime/src/lib.rs:1280:25:\nPython function threw an unexpected exception\n";
        assert_eq!(
            python_exception(stderr).as_deref(),
            Some("KeyError: 'no' (traceback, most recent call last: env.py:50 in reference: return {\"x\": 1}[gold])")
        );
        assert_eq!(python_exception("thread 'main' panicked at src/lib.rs:3:5:\nboom"), None);
    }
}

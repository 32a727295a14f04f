//! Loading and sandboxing environment plugins (WebAssembly components).
//!
//! One [`Runtime`] per process holds the wasmtime engine (fuel and epoch
//! interruption on, compiled code cached on disk keyed by content hash) and
//! a linker for every supported API version ([`versions`]: `v0_1`, `v0_2`).
//! [`Runtime::load`] compiles a plugin once, reads its API version from the
//! export name, pre-instantiates it with that version's bindings and reads
//! its metadata. [`Runtime::environment`] configures a pool of warm
//! instances for one job's arguments; see [`pool`]. Whatever a plugin's
//! version, the host sees the newest types (re-exported here).

mod build_info;
mod pool;
mod sandbox;
mod v0_1;
mod v0_2;
mod versions;

pub use build_info::{BuildInfo, PYTHON};
pub use pool::{CallContext, CallError, CallErrorKind, EnvironmentPool, PluginLimits};
pub use v0_2::{
    Action, ArgDoc, CodeRequest, CodeResult, ContinuationRequest, ContinuationScore, EnvError, Event, ExecRequest,
    FileWrite, JudgeRequest, Message, Metadata, Metric, ModelReply, ParseStatus, Prompt, Role, Sample, Score, Step,
    Tool, ToolCall, WorkspaceRequest, WorkspaceResult,
};
pub use versions::SUPPORTED_API;

use anyhow::{Context, Result, anyhow, bail};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use versions::{Linkers, PluginPre};
use wasmtime::component::Component;
use wasmtime::{Cache, CacheConfig, Config, Engine};

/// How often the epoch advances. Running plugins yield to the executor at
/// each tick, which is what lets a wall-clock timeout stop a spinning guest.
const EPOCH_TICK: Duration = Duration::from_millis(10);

/// The wasmtime engine and linker shared by every plugin in the process.
pub struct Runtime {
    engine: Engine,
    linkers: Linkers,
    loaded: Mutex<HashMap<String, Arc<Plugin>>>,
}

/// A loaded plugin: compiled, checked and pre-instantiated.
pub struct Plugin {
    /// Where it was loaded from.
    pub path: PathBuf,
    /// sha256 of the `.wasm` file (hex); part of job identity.
    pub sha256: String,
    /// The `assay:env` version the plugin was built against, e.g. `0.1.0`.
    pub api_version: String,
    /// What the plugin says about itself.
    pub metadata: Metadata,
    /// How `assay plugin build` made it, for components built from Python.
    pub build: Option<BuildInfo>,
    pre: PluginPre,
}

impl Plugin {
    /// The hash job identity uses: the sources' sha256 for a component
    /// whose build recorded one (componentize-py's output differs on every
    /// build of the same sources), else the file's sha256.
    pub fn identity_sha256(&self) -> &str {
        self.build.as_ref().map_or(&self.sha256, |build| &build.source_sha256)
    }

    /// Core instances one instance of the plugin may create.
    fn max_instances(&self) -> usize {
        sandbox::max_instances(self.build.as_ref())
    }

    /// `name version`, as error messages name the plugin.
    pub fn label(&self) -> String {
        format!("{} {}", self.metadata.name, self.metadata.version)
    }
}

impl Runtime {
    /// A runtime caching compiled plugins in `cache_dir` (none: no disk cache).
    pub fn new(cache_dir: Option<&Path>) -> Result<Self> {
        let mut config = Config::new();
        config.wasm_component_model(true).consume_fuel(true).epoch_interruption(true);
        if let Some(dir) = cache_dir {
            let mut cache = CacheConfig::new();
            cache.with_directory(dir);
            let cache =
                Cache::new(cache).map_err(|e| anyhow!("cannot set up the plugin cache in {}: {e}", dir.display()))?;
            config.cache(Some(cache));
        }
        let engine = Engine::new(&config).map_err(|e| anyhow!("cannot create the wasm engine: {e}"))?;
        spawn_epoch_ticker(&engine);
        let linkers = Linkers::new(&engine)?;
        Ok(Runtime { engine, linkers, loaded: Mutex::new(HashMap::new()) })
    }

    /// Load a plugin (once per content hash per process).
    pub async fn load(&self, path: &Path) -> Result<Arc<Plugin>> {
        let bytes = std::fs::read(path).with_context(|| format!("cannot read plugin {}", path.display()))?;
        let sha256 = hex::encode(Sha256::digest(&bytes));
        if let Some(plugin) = self.loaded.lock().expect("plugin cache lock").get(&sha256) {
            return Ok(plugin.clone());
        }
        let plugin = Arc::new(self.compile(path, bytes, sha256.clone()).await?);
        self.loaded.lock().expect("plugin cache lock").insert(sha256, plugin.clone());
        Ok(plugin)
    }

    async fn compile(&self, path: &Path, bytes: Vec<u8>, sha256: String) -> Result<Plugin> {
        let shown = path.display().to_string();
        check_is_component(&bytes).map_err(|e| anyhow!("plugin {shown}: {e}"))?;
        let build = BuildInfo::of(&bytes);
        let engine = self.engine.clone();
        let component = tokio::task::spawn_blocking(move || Component::from_binary(&engine, &bytes))
            .await?
            .map_err(|e| anyhow!("plugin {shown}: cannot compile: {e:#}"))?;
        let api_version =
            versions::api_version(&self.engine, &component).map_err(|e| anyhow!("plugin {shown}: {e}"))?;
        let pre = self.linkers.pre(&api_version, &component).map_err(|e| anyhow!("plugin {shown}: {e:#}"))?;
        let metadata = pool::describe(&pre, &shown, sandbox::max_instances(build.as_ref())).await?;
        Ok(Plugin { path: path.to_path_buf(), sha256, api_version, metadata, build, pre })
    }

    /// A pool of instances of `plugin` configured with `env_args`. Fails
    /// with the plugin's `bad-args` message if it rejects the arguments.
    pub async fn environment(
        &self,
        plugin: Arc<Plugin>,
        env_args: &serde_json::Map<String, serde_json::Value>,
        limits: PluginLimits,
    ) -> Result<EnvironmentPool> {
        EnvironmentPool::new(plugin, serde_json::to_string(env_args)?, limits).await
    }
}

/// Components start with the wasm magic and layer 1; core modules with
/// layer 0. Telling them apart gives a useful message for a common mistake.
fn check_is_component(bytes: &[u8]) -> Result<()> {
    match bytes.get(..8) {
        Some([0, b'a', b's', b'm', _, _, 1, 0]) => Ok(()),
        Some([0, b'a', b's', b'm', 1, 0, 0, 0]) => {
            bail!("is a core WebAssembly module, not a component: build it with `--target wasm32-wasip2`")
        }
        _ => bail!("is not a WebAssembly file"),
    }
}

/// Advance the engine's epoch every [`EPOCH_TICK`] until the engine is dropped.
fn spawn_epoch_ticker(engine: &Engine) {
    let weak = engine.weak();
    std::thread::Builder::new()
        .name("assay-epoch".into())
        .spawn(move || {
            while let Some(engine) = weak.upgrade() {
                engine.increment_epoch();
                drop(engine);
                std::thread::sleep(EPOCH_TICK);
            }
        })
        .expect("spawn epoch thread");
}

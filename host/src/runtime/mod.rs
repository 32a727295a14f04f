//! Loading and sandboxing environment plugins (WebAssembly components).
//!
//! One [`Runtime`] per process holds the wasmtime engine (fuel and epoch
//! interruption on, compiled code cached on disk keyed by content hash) and
//! the linker for every supported API version. [`Runtime::load`] compiles a
//! plugin once, checks its API version from the export name, pre-instantiates
//! it and reads its metadata. [`Runtime::environment`] configures a pool of
//! warm instances for one job's arguments; see [`pool`].

mod bindings;
mod pool;
mod sandbox;

pub use bindings::{
    Action, CodeRequest, CodeResult, EnvError, Event, Message, Metadata, ParseStatus, Prompt, Role, SUPPORTED_API,
    Score, Step,
};
pub use pool::{CallContext, CallError, CallErrorKind, EnvironmentPool, PluginLimits};

use anyhow::{Context, Result, anyhow, bail};
use bindings::{ENVIRONMENT_EXPORT, PluginPre};
use sandbox::Sandbox;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use wasmtime::component::{Component, Linker};
use wasmtime::{Cache, CacheConfig, Config, Engine};

/// How often the epoch advances. Running plugins yield to the executor at
/// each tick, which is what lets a wall-clock timeout stop a spinning guest.
const EPOCH_TICK: Duration = Duration::from_millis(10);

/// The wasmtime engine and linker shared by every plugin in the process.
pub struct Runtime {
    engine: Engine,
    linker: Linker<Sandbox>,
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
    pre: PluginPre<Sandbox>,
}

impl Plugin {
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
        let mut linker = Linker::new(&engine);
        wasmtime_wasi::p2::add_to_linker_async(&mut linker)?;
        bindings::Plugin::add_to_linker::<_, wasmtime::component::HasSelf<Sandbox>>(&mut linker, |sandbox| sandbox)?;
        Ok(Runtime { engine, linker, loaded: Mutex::new(HashMap::new()) })
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
        let engine = self.engine.clone();
        let component = tokio::task::spawn_blocking(move || Component::from_binary(&engine, &bytes))
            .await?
            .map_err(|e| anyhow!("plugin {shown}: cannot compile: {e:#}"))?;
        let api_version = api_version(&self.engine, &component).map_err(|e| anyhow!("plugin {shown}: {e}"))?;
        let instance_pre = self
            .linker
            .instantiate_pre(&component)
            .map_err(|e| anyhow!("plugin {shown}: needs something the host does not provide: {e:#}"))?;
        let pre = PluginPre::new(instance_pre).map_err(|e| anyhow!("plugin {shown}: {e:#}"))?;
        let metadata = pool::describe(&pre, &shown).await?;
        Ok(Plugin { path: path.to_path_buf(), sha256, api_version, metadata, pre })
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

/// Read the API version from the export name `assay:env/environment@X.Y.Z`
/// and check this host supports it.
fn api_version(engine: &Engine, component: &Component) -> Result<String> {
    let ty = component.component_type();
    let names: Vec<&str> = ty.exports(engine).map(|(name, _)| name).collect();
    let Some(version) = names.iter().find_map(|n| n.strip_prefix(ENVIRONMENT_EXPORT).and_then(|v| v.strip_prefix('@')))
    else {
        bail!(
            "is not an assay environment: it exports no `{ENVIRONMENT_EXPORT}` interface (exports: {})",
            names.join(", ")
        );
    };
    let supported = version.strip_prefix(SUPPORTED_API).is_some_and(|rest| rest.starts_with('.'));
    if !supported {
        bail!(
            "targets assay:env@{version}, but this assay supports {SUPPORTED_API}.x: \
             upgrade assay, or rebuild the plugin with assay-sdk {SUPPORTED_API}"
        );
    }
    Ok(version.to_string())
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

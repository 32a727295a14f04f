//! The API versions this host runs side by side, as Zed's extension host
//! does: one module per version (`v0_1`, `v0_2`), one linker each, a
//! plugin's bindings chosen by the version in its export name, and every
//! call converted into the newest types.

use super::sandbox::Sandbox;
use super::v0_2::{EnvError, Event, Metadata, Sample, Score, Step};
use super::{v0_1, v0_2};
use anyhow::{Result, anyhow, bail};
use wasmtime::Store;
use wasmtime::component::{Component, HasSelf, Linker};
use wasmtime::{Engine, Result as WasmResult};

/// The `major.minor` versions of `assay:env` this host runs, oldest first.
pub const SUPPORTED_API: [&str; 2] = [v0_1::VERSION, v0_2::VERSION];

/// The export every plugin provides, without its version suffix.
const ENVIRONMENT_EXPORT: &str = "assay:env/environment";

/// A linker per supported version, built once.
pub(super) struct Linkers {
    v0_1: Linker<Sandbox>,
    v0_2: Linker<Sandbox>,
}

impl Linkers {
    pub(super) fn new(engine: &Engine) -> Result<Self> {
        let mut v0_1 = Linker::new(engine);
        wasmtime_wasi::p2::add_to_linker_async(&mut v0_1)?;
        v0_1::Plugin::add_to_linker::<_, HasSelf<Sandbox>>(&mut v0_1, |sandbox| sandbox)?;
        let mut v0_2 = Linker::new(engine);
        wasmtime_wasi::p2::add_to_linker_async(&mut v0_2)?;
        v0_2::Plugin::add_to_linker::<_, HasSelf<Sandbox>>(&mut v0_2, |sandbox| sandbox)?;
        Ok(Linkers { v0_1, v0_2 })
    }

    /// Pre-instantiate `component`, which declared API `version`.
    pub(super) fn pre(&self, version: &str, component: &Component) -> Result<PluginPre> {
        let needs = |e: wasmtime::Error| anyhow!("needs something the host does not provide: {e:#}");
        Ok(match major_minor(version) {
            v0_1::VERSION => {
                PluginPre::V0_1(v0_1::PluginPre::new(self.v0_1.instantiate_pre(component).map_err(needs)?)?)
            }
            _ => PluginPre::V0_2(v0_2::PluginPre::new(self.v0_2.instantiate_pre(component).map_err(needs)?)?),
        })
    }
}

fn major_minor(version: &str) -> &str {
    version.rsplit_once('.').map_or(version, |(major_minor, _)| major_minor)
}

/// Read the API version from the export name `assay:env/environment@X.Y.Z`
/// and check this host supports it.
pub(super) fn api_version(engine: &Engine, component: &Component) -> Result<String> {
    let ty = component.component_type();
    let names: Vec<&str> = ty.exports(engine).map(|(name, _)| name).collect();
    let Some(version) = names.iter().find_map(|n| n.strip_prefix(ENVIRONMENT_EXPORT).and_then(|v| v.strip_prefix('@')))
    else {
        bail!(
            "is not an assay environment: it exports no `{ENVIRONMENT_EXPORT}` interface (exports: {})",
            names.join(", ")
        );
    };
    if !SUPPORTED_API.contains(&major_minor(version)) {
        let newest = SUPPORTED_API[SUPPORTED_API.len() - 1];
        bail!(
            "targets assay:env@{version}, but this assay supports {}: upgrade assay, or rebuild the plugin with assay-sdk {newest}",
            SUPPORTED_API.map(|v| format!("{v}.x")).join(" and ")
        );
    }
    Ok(version.to_string())
}

/// A plugin ready to instantiate, with the bindings of its version.
pub(super) enum PluginPre {
    V0_1(v0_1::PluginPre<Sandbox>),
    V0_2(v0_2::PluginPre<Sandbox>),
}

impl PluginPre {
    pub(super) fn engine(&self) -> &Engine {
        match self {
            PluginPre::V0_1(pre) => pre.engine(),
            PluginPre::V0_2(pre) => pre.engine(),
        }
    }

    pub(super) async fn instantiate(&self, store: &mut Store<Sandbox>) -> WasmResult<Bindings> {
        Ok(match self {
            PluginPre::V0_1(pre) => Bindings::V0_1(pre.instantiate_async(store).await?),
            PluginPre::V0_2(pre) => Bindings::V0_2(pre.instantiate_async(store).await?),
        })
    }
}

/// An instance's exports, called in the newest types.
pub(super) enum Bindings {
    V0_1(v0_1::Plugin),
    V0_2(v0_2::Plugin),
}

/// What a call returns: a trap, or the plugin's own outcome.
type Outcome<T> = WasmResult<Result<T, EnvError>>;

impl Bindings {
    pub(super) async fn describe(&self, store: &mut Store<Sandbox>) -> WasmResult<Metadata> {
        match self {
            Bindings::V0_1(b) => Ok(b.assay_env_environment().call_describe(store).await?.into()),
            Bindings::V0_2(b) => b.assay_env_environment().call_describe(store).await,
        }
    }

    pub(super) async fn configure(&self, store: &mut Store<Sandbox>, args_json: &str) -> Outcome<()> {
        match self {
            Bindings::V0_1(b) => {
                Ok(b.assay_env_environment().call_configure(store, args_json).await?.map_err(Into::into))
            }
            Bindings::V0_2(b) => b.assay_env_environment().call_configure(store, args_json).await,
        }
    }

    /// A 0.1 plugin gets the record and seed only: it has no few-shot.
    pub(super) async fn prepare(&self, store: &mut Store<Sandbox>, sample: &Sample) -> Outcome<Step> {
        match self {
            Bindings::V0_1(b) => {
                let call = b.assay_env_environment().call_prepare(store, &sample.record_json, sample.seed);
                Ok(call.await?.map(Into::into).map_err(Into::into))
            }
            Bindings::V0_2(b) => b.assay_env_environment().call_prepare(store, sample).await,
        }
    }

    pub(super) async fn advance(&self, store: &mut Store<Sandbox>, state: &str, event: &Event) -> Outcome<Step> {
        match self {
            Bindings::V0_1(b) => {
                let Some(event) = v0_1::event(event) else {
                    return Ok(Err(EnvError::Internal("an assay:env@0.1 plugin cannot receive this event".into())));
                };
                let call = b.assay_env_environment().call_advance(store, state, &event);
                Ok(call.await?.map(Into::into).map_err(Into::into))
            }
            Bindings::V0_2(b) => b.assay_env_environment().call_advance(store, state, event).await,
        }
    }

    pub(super) async fn grade(&self, store: &mut Store<Sandbox>, state: &str, completion: &str) -> Outcome<Score> {
        match self {
            Bindings::V0_1(b) => {
                let call = b.assay_env_environment().call_grade(store, state, completion);
                Ok(call.await?.map(Into::into).map_err(Into::into))
            }
            Bindings::V0_2(b) => b.assay_env_environment().call_grade(store, state, completion).await,
        }
    }

    pub(super) async fn reference(&self, store: &mut Store<Sandbox>, state: &str) -> WasmResult<Option<String>> {
        match self {
            Bindings::V0_1(b) => b.assay_env_environment().call_reference(store, state).await,
            Bindings::V0_2(b) => b.assay_env_environment().call_reference(store, state).await,
        }
    }
}

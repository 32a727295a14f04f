//! Model servers assay starts itself (`serve:` on a model): vLLM, SGLang,
//! llama.cpp or any command speaking the OpenAI API.
//!
//! A [`Server`] belongs to one model of a run. The runner counts the jobs
//! that will use it ([`Server::expect_job`]), gives it its GPUs
//! ([`Server::place`]), starts it when the first of them starts
//! ([`Server::start`]: a place among the servers running at once taken,
//! one per job slot, then its GPUs from the run's [`GpuPool`],
//! the process started in its own group with its output in the run's
//! `logs/`, ready once `/v1/models` answers) and stops it when the last is
//! done ([`Server::job_done`]) or the run ends ([`Server::stop`]). A
//! supervisor task watches the process: one that dies mid-run (or stops
//! answering `/v1/models`, checked every `health_interval`) is started
//! again, up to `max_restarts` times, and requests that failed meanwhile
//! wait for it ([`Server::wait_ready`]); after that the server is failed,
//! with the last lines of its log ([`Server::failed`]).

mod gpus;
mod process;
mod spec;

pub use gpus::{GpuPool, Placed, devices_text, placement};
pub use process::kill_all;
pub use spec::{Engine, EngineArgs, ServeSpec, shell_words};

use anyhow::Result;
use process::{ServerProcess, log_tail};
use serde::Serialize;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};
use tokio::sync::{Semaphore, oneshot, watch};
use tokio::task::JoinHandle;

/// Lines of the server log shown when it fails.
const TAIL_LINES: usize = 20;

/// How often `/v1/models` is asked while a server starts.
const READY_POLL: Duration = Duration::from_millis(250);

/// Failed checks of `/v1/models` in a row after which a ready server is
/// taken for hung, killed and started again.
const HEALTH_MISSES: u32 = 3;

/// Where a run's servers write their logs and take their GPUs from.
#[derive(Clone)]
pub struct ServeContext {
    /// The run's `logs/` directory.
    pub logs_dir: PathBuf,
    /// The run's GPUs.
    pub gpus: Arc<GpuPool>,
    /// Places for servers running at once, one per job slot of the run: a
    /// server beyond them would only hold memory (and GPUs) while its jobs
    /// wait for a slot.
    pub places: Arc<Semaphore>,
}

/// What served a job, for its `metadata.json`.
#[derive(Debug, Clone, Serialize)]
pub struct ServerInfo {
    /// The engine.
    pub engine: Engine,
    /// What its version command printed (`None`: it printed nothing or failed).
    pub engine_version: Option<String>,
    /// The command line run.
    pub command: String,
    /// The devices it was given.
    pub cuda_visible_devices: String,
    /// Its log file.
    pub log: PathBuf,
}

/// Where a server is in its life.
#[derive(Debug, Clone, PartialEq)]
enum State {
    /// Not started yet (or stopped, and may start again).
    Idle,
    /// Started, not answering yet.
    Starting,
    /// Answering.
    Ready,
    /// Never ready, or died more often than allowed: why, with its log's tail.
    Failed(String),
}

/// What one start of a server process came to.
enum Life {
    /// It exited or ran out of `ready_timeout` before answering: how.
    NeverReady(String),
    /// It exited on its own after answering, or hung and was killed: how.
    Died(String),
    /// The server is done with this state (stopped, or failed for good).
    Over(State),
}

/// A model's server (see the module docs).
pub struct Server {
    model_id: String,
    spec: ServeSpec,
    port: u16,
    jobs_left: AtomicUsize,
    placed: OnceLock<(Option<usize>, Placed)>,
    state: watch::Sender<State>,
    supervisor: tokio::sync::Mutex<Option<(oneshot::Sender<()>, JoinHandle<()>)>>,
    info: OnceLock<ServerInfo>,
}

impl Server {
    /// The server of model `model_id`, on `port` of 127.0.0.1; nothing runs yet.
    pub fn new(model_id: &str, spec: ServeSpec, port: u16) -> Server {
        Server {
            model_id: model_id.into(),
            spec,
            port,
            jobs_left: AtomicUsize::new(0),
            placed: OnceLock::new(),
            state: watch::Sender::new(State::Idle),
            supervisor: tokio::sync::Mutex::new(None),
            info: OnceLock::new(),
        }
    }

    /// The model it serves (its id in the config).
    pub fn model_id(&self) -> &str {
        &self.model_id
    }

    /// The base URL of its OpenAI-compatible API.
    pub fn base_url(&self) -> String {
        format!("http://127.0.0.1:{}/v1", self.port)
    }

    /// The command line it is started with, as a shell takes it.
    pub fn command(&self) -> String {
        shell_words(&self.spec.argv(self.port))
    }

    /// How it is served.
    pub fn spec(&self) -> &ServeSpec {
        &self.spec
    }

    /// One more job of the run will use it.
    pub fn expect_job(&self) {
        self.jobs_left.fetch_add(1, Ordering::SeqCst);
    }

    /// Where it runs (see [`placement`]) and its turn to take its GPUs (0
    /// first; `None`: it takes none); set once, before it starts.
    pub fn place(&self, placed: Placed, turn: Option<usize>) {
        let _ = self.placed.set((turn, placed));
    }

    /// Start it unless it runs, and wait until it answers. The error says
    /// why it never did, with the last lines of its log.
    pub async fn start(self: &Arc<Self>, context: &ServeContext) -> Result<ServerInfo, String> {
        {
            let mut supervisor = self.supervisor.lock().await;
            if supervisor.is_none() && *self.state.borrow() == State::Idle {
                let (stop, stopped) = oneshot::channel();
                self.state.send_replace(State::Starting);
                let task = tokio::spawn(self.clone().supervise(context.clone(), stopped));
                *supervisor = Some((stop, task));
            }
        }
        self.wait_ready().await?;
        Ok(self.info.get().cloned().expect("a ready server has its info"))
    }

    /// Wait until it answers (after a restart, say); the error says why it
    /// never will.
    pub async fn wait_ready(&self) -> Result<(), String> {
        let mut state = self.state.subscribe();
        let settled = state.wait_for(|s| matches!(s, State::Ready | State::Failed(_) | State::Idle)).await;
        match settled.map(|s| s.clone()) {
            Ok(State::Ready) => Ok(()),
            Ok(State::Failed(why)) => Err(why),
            _ => Err(format!("the server of model `{}` was stopped", self.model_id)),
        }
    }

    /// Resolves when the server has failed for good, with why.
    pub async fn failed(&self) -> String {
        let mut state = self.state.subscribe();
        match state.wait_for(|s| matches!(s, State::Failed(_))).await.map(|s| s.clone()) {
            Ok(State::Failed(why)) => why,
            _ => std::future::pending().await,
        }
    }

    /// A job that used it is done: the last one stops it.
    pub async fn job_done(&self) {
        if self.jobs_left.fetch_sub(1, Ordering::SeqCst) == 1 {
            self.stop().await;
        }
    }

    /// Stop it (SIGTERM, SIGKILL after the grace) and wait until it is gone.
    pub async fn stop(&self) {
        let Some((stop, task)) = self.supervisor.lock().await.take() else { return };
        let _ = stop.send(());
        let _ = task.await;
    }

    /// Run the server until told to stop, restarting it when it dies.
    async fn supervise(self: Arc<Self>, context: ServeContext, mut stop: oneshot::Receiver<()>) {
        let (devices, turn) = match self.placed.get().expect("the runner places every server before it starts") {
            (turn, Ok((_, devices))) => (devices.clone(), *turn),
            (_, Err(why)) => return self.settle(State::Failed(format!("model `{}`: {why}", self.model_id))),
        };
        // A place first, then GPUs: a server waiting for a place holds no
        // devices another one could use.
        let _place = tokio::select! {
            place = context.places.clone().acquire_owned() => place.expect("the places are never closed"),
            _ = &mut stop => return self.settle(State::Idle),
        };
        if let Some(turn) = turn {
            tokio::select! {
                () = context.gpus.take(turn, &devices) => {}
                _ = &mut stop => return self.settle(State::Idle),
            }
        }
        let log = context.logs_dir.join(format!("server-{}.log", crate::store::slug(&self.model_id)));
        let state = self.run(&devices, &log, &mut stop).await;
        context.gpus.give_back(&devices);
        self.settle(state);
    }

    fn settle(&self, state: State) {
        self.state.send_replace(state);
    }

    /// Start, wait, watch and restart the process; the state it ends in. A
    /// first start that never answers fails the server; a restart that
    /// never answers counts as a death, as a server reloading after a crash
    /// may fail for a passing reason (memory not yet freed).
    async fn run(&self, devices: &[u32], log: &std::path::Path, stop: &mut oneshot::Receiver<()>) -> State {
        let (argv, visible) = (self.spec.argv(self.port), devices_text(devices));
        let env = self.record_info(&visible, log).await;
        let mut start: u32 = 0;
        loop {
            start += 1;
            let header = format!("start {start} of model `{}` (CUDA_VISIBLE_DEVICES={visible})", self.model_id);
            let (what, how) = match self.live(&argv, &env, log, &header, stop).await {
                Life::Over(state) => return state,
                Life::NeverReady(why) if start == 1 => {
                    return State::Failed(self.failure(&format!("never became ready: it {why}"), log));
                }
                Life::NeverReady(why) => ("never became ready again", why),
                Life::Died(status) => ("died mid-run", status),
            };
            if start - 1 == self.spec.max_restarts {
                let why = format!("{what} ({how}) after {} restarts (max_restarts)", start - 1);
                return State::Failed(self.failure(&why, log));
            }
            tracing::warn!(model = %self.model_id, "server {what} ({how}); restarting");
        }
    }

    /// Record what serves the model (engine version, command line,
    /// devices, log) for `metadata.json`; the server's environment.
    async fn record_info(&self, visible: &str, log: &std::path::Path) -> Vec<(String, String)> {
        let engine_version = match self.spec.version_argv() {
            Some(version) => process::version(&version).await,
            None => None,
        };
        let _ = self.info.set(ServerInfo {
            engine: self.spec.engine,
            engine_version,
            command: self.command(),
            cuda_visible_devices: visible.to_string(),
            log: log.to_path_buf(),
        });
        let mut env: Vec<(String, String)> = self.spec.env.clone().into_iter().collect();
        env.push(("CUDA_VISIBLE_DEVICES".into(), visible.to_string()));
        env
    }

    /// One start of the process: until it dies, fails to answer, or is stopped.
    async fn live(
        &self,
        argv: &[String],
        env: &[(String, String)],
        log: &std::path::Path,
        header: &str,
        stop: &mut oneshot::Receiver<()>,
    ) -> Life {
        let grace = Duration::from_secs_f64(self.spec.stop_grace_secs);
        let mut server = match ServerProcess::start(argv, env, log, header) {
            Ok(server) => server,
            Err(error) => return Life::Over(State::Failed(format!("model `{}`: {error:#}", self.model_id))),
        };
        self.state.send_replace(State::Starting);
        tracing::info!(model = %self.model_id, pid = server.pid(), "{header}");
        let answered = tokio::select! {
            answered = self.answers_within(Duration::from_secs_f64(self.spec.ready_timeout_secs)) => Some(answered),
            status = server.exited() => Some(Err(format!("exited ({}) before answering", exit_text(status)))),
            _ = &mut *stop => None,
        };
        if answered != Some(Ok(())) {
            server.stop(grace).await;
            return match answered {
                Some(Err(why)) => Life::NeverReady(why),
                _ => Life::Over(State::Idle),
            };
        }
        self.state.send_replace(State::Ready);
        tracing::info!(model = %self.model_id, port = self.port, "server ready");
        tokio::select! {
            status = server.exited() => Life::Died(exit_text(status)),
            why = self.stops_answering() => {
                server.stop(Duration::ZERO).await;
                Life::Died(why)
            }
            _ = &mut *stop => {
                server.stop(grace).await;
                Life::Over(State::Idle)
            }
        }
    }

    /// Whether `/v1/models` answers within `limit`: `Err` says it did not.
    async fn answers_within(&self, limit: Duration) -> Result<(), String> {
        let client = reqwest::Client::new();
        let started = Instant::now();
        loop {
            if self.answers(&client, Duration::from_secs(5)).await {
                return Ok(());
            }
            if started.elapsed() >= limit {
                let url = format!("{}/models", self.base_url());
                return Err(format!("did not answer GET {url} within {} s (ready_timeout)", limit.as_secs_f64()));
            }
            tokio::time::sleep(READY_POLL).await;
        }
    }

    /// Resolves when a ready server has stopped answering: `/v1/models`
    /// failed [`HEALTH_MISSES`] checks in a row, `health_interval` apart.
    async fn stops_answering(&self) -> String {
        let client = reqwest::Client::new();
        let interval = Duration::from_secs_f64(self.spec.health_interval_secs);
        let mut misses = 0;
        while misses < HEALTH_MISSES {
            tokio::time::sleep(interval).await;
            misses = if self.answers(&client, interval).await { 0 } else { misses + 1 };
        }
        format!("stopped answering GET /v1/models {HEALTH_MISSES} times, {} s apart; killed", interval.as_secs_f64())
    }

    /// Whether `GET /v1/models` answers with a success within `limit`.
    async fn answers(&self, client: &reqwest::Client, limit: Duration) -> bool {
        let asked = client.get(format!("{}/models", self.base_url())).timeout(limit).send().await;
        asked.is_ok_and(|response| response.status().is_success())
    }

    /// A failure message: what happened, then the tail of the log.
    fn failure(&self, what: &str, log: &std::path::Path) -> String {
        format!(
            "the server of model `{}` {what}; last lines of {}:\n{}",
            self.model_id,
            log.display(),
            log_tail(log, TAIL_LINES)
        )
    }
}

fn exit_text(status: std::io::Result<std::process::ExitStatus>) -> String {
    match status {
        Ok(status) => status.to_string(),
        Err(error) => format!("cannot wait for it: {error}"),
    }
}

/// A free port on 127.0.0.1 (`port: auto`), picked by binding port 0.
pub fn free_port() -> Result<u16> {
    Ok(std::net::TcpListener::bind(("127.0.0.1", 0))?.local_addr()?.port())
}

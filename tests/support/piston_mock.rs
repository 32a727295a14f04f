//! An in-process Piston execution engine (the subset assay uses):
//! `GET /api/v2/runtimes` lists the runtimes it was started with, and
//! `POST /api/v2/execute` really runs the first file with the local
//! `python3`, with `stdin` and `run_timeout`, replying in Piston's shape
//! (`{language, version, run: {stdout, stderr, output, code, signal}}`,
//! `signal: "SIGKILL"` on a timeout, like Piston). It records every
//! execute request so tests can check what assay sent.

use axum::Json;
use axum::Router;
use axum::extract::State;
use axum::routing::{get, post};
use serde_json::{Value, json};
use std::future::IntoFuture;
use std::io::Write;
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

#[derive(Default)]
struct Piston {
    runtimes: Value,
    requests: Mutex<Vec<Value>>,
}

/// A running stand-in Piston server.
pub struct MockPiston {
    piston: Arc<Piston>,
    url: String,
    _runtime: tokio::runtime::Runtime,
}

impl MockPiston {
    /// Start a server offering `runtimes` (`[(language, version)]`).
    pub fn start(runtimes: &[(&str, &str)]) -> MockPiston {
        let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
        let listener = runtime.block_on(tokio::net::TcpListener::bind("127.0.0.1:0")).unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let runtimes = runtimes
            .iter()
            .map(|(language, version)| json!({"language": language, "version": version, "aliases": ["py"]}))
            .collect();
        let piston = Arc::new(Piston { runtimes: Value::Array(runtimes), requests: Mutex::default() });
        let app = Router::new()
            .route("/api/v2/runtimes", get(list_runtimes))
            .route("/api/v2/execute", post(execute))
            .with_state(piston.clone());
        runtime.spawn(axum::serve(listener, app).into_future());
        MockPiston { piston, url, _runtime: runtime }
    }

    /// The base URL for `code_execution.url`.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Every execute request body received so far.
    pub fn requests(&self) -> Vec<Value> {
        self.piston.requests.lock().unwrap().clone()
    }
}

async fn list_runtimes(State(piston): State<Arc<Piston>>) -> Json<Value> {
    Json(piston.runtimes.clone())
}

async fn execute(State(piston): State<Arc<Piston>>, Json(request): Json<Value>) -> Json<Value> {
    piston.requests.lock().unwrap().push(request.clone());
    let reply = tokio::task::spawn_blocking(move || run_python(&request)).await.unwrap();
    Json(reply)
}

/// Run the request's first file with `python3`, killing it at `run_timeout`.
fn run_python(request: &Value) -> Value {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("main.py");
    std::fs::write(&file, request["files"][0]["content"].as_str().unwrap()).unwrap();
    let timeout = Duration::from_millis(request["run_timeout"].as_u64().unwrap_or(3000));
    let mut child = Command::new("python3")
        .arg(&file)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let _ = child.stdin.take().unwrap().write_all(request["stdin"].as_str().unwrap_or("").as_bytes());
    let started = Instant::now();
    let mut signal = Value::Null;
    while child.try_wait().unwrap().is_none() {
        if started.elapsed() >= timeout {
            child.kill().unwrap();
            signal = json!("SIGKILL");
            break;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    let output = child.wait_with_output().unwrap();
    let (stdout, stderr) =
        (String::from_utf8_lossy(&output.stdout).into_owned(), String::from_utf8_lossy(&output.stderr).into_owned());
    let code = if signal.is_null() { json!(output.status.code()) } else { Value::Null };
    json!({
        "language": request["language"],
        "version": request["version"],
        "run": {"stdout": stdout, "stderr": stderr, "output": format!("{stdout}{stderr}"), "code": code, "signal": signal},
    })
}

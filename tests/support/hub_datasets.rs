//! An in-process stand-in for the Hugging Face Hub's dataset download
//! endpoints, serving the fixture repos of `tests/fixtures/hub/` (see its
//! README): repo info at a revision (`GET /api/datasets/{repo}/revision/{rev}`,
//! the commit and file list) and file downloads with range requests and the
//! headers `hf-hub` and `huggingface_hub` read (`x-repo-commit`, `etag`,
//! `content-range`). A revision is served by name (`main`,
//! `refs/convert/parquet`) and by its commit. Gated repos answer 401
//! without the token and 403 with another one. Every request is counted.

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, HashMap};
use std::future::IntoFuture;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

/// A revision's files and commit.
#[derive(Clone)]
struct Snapshot {
    commit: String,
    files: BTreeMap<String, Vec<u8>>,
}

struct Repo {
    gated: bool,
    /// By revision name and by commit.
    revisions: HashMap<String, Arc<Snapshot>>,
}

struct Hub {
    token: String,
    repos: Mutex<HashMap<String, Repo>>,
    requests: AtomicUsize,
}

/// A running stand-in Hub with the fixture datasets.
pub struct DatasetHub {
    hub: Arc<Hub>,
    base_url: String,
    _runtime: tokio::runtime::Runtime,
}

impl DatasetHub {
    /// Serve every fixture repo; gated ones to `token`.
    pub fn start(token: &str) -> DatasetHub {
        let hub =
            Arc::new(Hub { token: token.into(), repos: Mutex::new(load_fixtures()), requests: AtomicUsize::new(0) });
        let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap();
        let listener = runtime.block_on(tokio::net::TcpListener::bind("127.0.0.1:0")).unwrap();
        let base_url = format!("http://{}", listener.local_addr().unwrap());
        let app = Router::new()
            .route("/api/datasets/{owner}/{name}/revision/{rev}", get(info))
            .route("/datasets/{owner}/{name}/resolve/{rev}/{*path}", get(resolve))
            .with_state(hub.clone());
        runtime.spawn(axum::serve(listener, app).into_future());
        DatasetHub { hub, base_url, _runtime: runtime }
    }

    /// The endpoint to give assay (`HF_ENDPOINT`).
    pub fn endpoint(&self) -> &str {
        &self.base_url
    }

    /// Requests served so far.
    pub fn requests(&self) -> usize {
        self.hub.requests.load(Ordering::SeqCst)
    }

    /// Replace `path` of `repo` at `revision` with `bytes`: a new commit,
    /// as when a dataset is updated on the Hub.
    pub fn update(&self, repo: &str, revision: &str, path: &str, bytes: &[u8]) {
        let mut repos = self.hub.repos.lock().unwrap();
        let repo_entry = repos.get_mut(repo).expect("a fixture repo");
        let mut snapshot = (*repo_entry.revisions[revision]).clone();
        snapshot.files.insert(path.into(), bytes.to_vec());
        snapshot.commit = commit_of(repo, revision, &snapshot.files);
        let snapshot = Arc::new(snapshot);
        repo_entry.revisions.insert(snapshot.commit.clone(), snapshot.clone());
        repo_entry.revisions.insert(revision.into(), snapshot);
    }
}

/// The fixture folder (`tests/fixtures/hub`).
pub fn fixtures_dir() -> std::path::PathBuf {
    super::fixtures::repo_root().join("tests/fixtures/hub")
}

fn load_fixtures() -> HashMap<String, Repo> {
    let dir = fixtures_dir();
    let manifest: Value = serde_json::from_str(&std::fs::read_to_string(dir.join("manifest.json")).unwrap()).unwrap();
    let mut repos = HashMap::new();
    for (name, entry) in manifest.as_object().unwrap() {
        let mut revisions = HashMap::new();
        for (revision, folder) in entry["revisions"].as_object().unwrap() {
            let root = dir.join(folder.as_str().unwrap());
            let files: BTreeMap<String, Vec<u8>> = super::fixtures::files_under(&root)
                .into_iter()
                .map(|f| (f.strip_prefix(&root).unwrap().to_string_lossy().into_owned(), std::fs::read(&f).unwrap()))
                .collect();
            let pinned = entry["commits"].get(revision).and_then(Value::as_str).map(String::from);
            let commit = pinned.unwrap_or_else(|| commit_of(name, revision, &files));
            let snapshot = Arc::new(Snapshot { commit: commit.clone(), files });
            revisions.insert(commit, snapshot.clone());
            revisions.insert(revision.clone(), snapshot);
        }
        repos.insert(name.clone(), Repo { gated: entry["gated"].as_bool().unwrap_or(false), revisions });
    }
    repos
}

/// A made-up commit sha (40 hex digits) for a revision's content.
fn commit_of(repo: &str, revision: &str, files: &BTreeMap<String, Vec<u8>>) -> String {
    let mut hasher = Sha256::new();
    hasher.update(format!("{repo}@{revision}"));
    for (path, bytes) in files {
        hasher.update(path.as_bytes());
        hasher.update(bytes);
    }
    hex::encode(hasher.finalize())[..40].to_string()
}

/// The snapshot a request is for, or the refusal a Hub gives.
fn snapshot(
    hub: &Hub,
    headers: &HeaderMap,
    owner: &str,
    name: &str,
    revision: &str,
) -> Result<Arc<Snapshot>, Box<Response>> {
    hub.requests.fetch_add(1, Ordering::SeqCst);
    let repos = hub.repos.lock().unwrap();
    let Some(repo) = repos.get(&format!("{owner}/{name}")) else {
        return Err(Box::new((StatusCode::NOT_FOUND, "Repository not found").into_response()));
    };
    if repo.gated {
        let expected = format!("Bearer {}", hub.token);
        match headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()) {
            None => {
                return Err(Box::new(
                    (StatusCode::UNAUTHORIZED, "Access to this dataset is restricted").into_response(),
                ));
            }
            Some(given) if given != expected => {
                return Err(Box::new((StatusCode::FORBIDDEN, "Access to this dataset is restricted").into_response()));
            }
            Some(_) => {}
        }
    }
    repo.revisions
        .get(revision)
        .cloned()
        .ok_or_else(|| Box::new((StatusCode::NOT_FOUND, "Revision not found").into_response()))
}

async fn info(
    State(hub): State<Arc<Hub>>,
    headers: HeaderMap,
    Path((owner, name, revision)): Path<(String, String, String)>,
) -> Response {
    match snapshot(&hub, &headers, &owner, &name, &revision) {
        Ok(snapshot) => {
            let siblings: Vec<Value> = snapshot.files.keys().map(|path| json!({"rfilename": path})).collect();
            axum::Json(json!({"id": format!("{owner}/{name}"), "sha": snapshot.commit, "siblings": siblings}))
                .into_response()
        }
        Err(refused) => *refused,
    }
}

async fn resolve(
    State(hub): State<Arc<Hub>>,
    headers: HeaderMap,
    Path((owner, name, revision, path)): Path<(String, String, String, String)>,
) -> Response {
    let snapshot = match snapshot(&hub, &headers, &owner, &name, &revision) {
        Ok(snapshot) => snapshot,
        Err(refused) => return *refused,
    };
    let Some(bytes) = snapshot.files.get(&path) else {
        return (StatusCode::NOT_FOUND, "Entry not found").into_response();
    };
    let etag = format!("\"{}\"", hex::encode(Sha256::digest(bytes)));
    let range = headers.get(header::RANGE).and_then(|v| v.to_str().ok()).and_then(|r| parse_range(r, bytes.len()));
    let (status, body, content_range) = match range {
        Some((start, end)) => (
            StatusCode::PARTIAL_CONTENT,
            bytes[start..=end].to_vec(),
            Some(format!("bytes {start}-{end}/{}", bytes.len())),
        ),
        None => (StatusCode::OK, bytes.clone(), None),
    };
    let mut response = (status, body).into_response();
    let headers = response.headers_mut();
    headers.insert("x-repo-commit", HeaderValue::from_str(&snapshot.commit).unwrap());
    headers.insert(header::ETAG, HeaderValue::from_str(&etag).unwrap());
    if let Some(range) = content_range {
        headers.insert(header::CONTENT_RANGE, HeaderValue::from_str(&range).unwrap());
    }
    response
}

/// `bytes=start-end` (end inclusive, clamped to the file), if it is one.
fn parse_range(range: &str, len: usize) -> Option<(usize, usize)> {
    let (start, end) = range.strip_prefix("bytes=")?.split_once('-')?;
    let start: usize = start.parse().ok()?;
    let end: usize = end.parse::<usize>().ok()?.min(len.checked_sub(1)?);
    (start <= end).then_some((start, end))
}

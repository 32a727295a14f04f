//! An in-process stand-in for the Hugging Face Hub's dataset endpoints that
//! `assay process --hf-repo` uses: tree listing, resolve (download),
//! preupload, the Git LFS batch API with its upload target, commit
//! (NDJSON, with file deletions) and repo creation. Repos live in memory;
//! every request must carry the expected bearer token.

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use base64::Engine;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, HashMap};
use std::future::IntoFuture;
use std::sync::{Arc, Mutex};

#[derive(Default)]
struct Hub {
    token: String,
    base_url: String,
    /// repo → path → bytes.
    repos: Mutex<BTreeMap<String, BTreeMap<String, Vec<u8>>>>,
    lfs: Mutex<HashMap<String, Vec<u8>>>,
    commits: Mutex<Vec<String>>,
    /// repo → created private.
    created: Mutex<BTreeMap<String, bool>>,
}

type Shared = Arc<Hub>;

/// A running stand-in Hub.
pub struct MockHub {
    hub: Shared,
    _runtime: tokio::runtime::Runtime,
}

impl MockHub {
    /// Start a Hub that accepts `token`.
    pub fn start(token: &str) -> MockHub {
        let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap();
        let listener = runtime.block_on(tokio::net::TcpListener::bind("127.0.0.1:0")).unwrap();
        let base_url = format!("http://{}", listener.local_addr().unwrap());
        let hub = Arc::new(Hub { token: token.into(), base_url, ..Default::default() });
        let app = Router::new()
            .route("/api/datasets/{owner}/{name}/tree/{rev}", get(tree))
            .route("/datasets/{owner}/{name}/resolve/{rev}/{*path}", get(resolve))
            .route("/api/datasets/{owner}/{name}/preupload/{rev}", post(preupload))
            .route("/datasets/{owner}/{name}/info/lfs/objects/batch", post(lfs_batch))
            .route("/lfs/{oid}", put(lfs_put))
            .route("/api/datasets/{owner}/{name}/commit/{rev}", post(commit))
            .route("/api/repos/create", post(create))
            .with_state(hub.clone());
        runtime.spawn(axum::serve(listener, app).into_future());
        MockHub { hub, _runtime: runtime }
    }

    /// The endpoint to give assay (`HF_ENDPOINT`).
    pub fn endpoint(&self) -> &str {
        &self.hub.base_url
    }

    /// The files of a repo.
    pub fn files(&self, repo: &str) -> BTreeMap<String, Vec<u8>> {
        self.hub.repos.lock().unwrap().get(repo).cloned().unwrap_or_default()
    }

    /// Whether the push created `repo` private (`None`: not created by a push).
    pub fn created_private(&self, repo: &str) -> Option<bool> {
        self.hub.created.lock().unwrap().get(repo).copied()
    }

    /// Commit summaries, in order.
    pub fn commits(&self) -> Vec<String> {
        self.hub.commits.lock().unwrap().clone()
    }
}

/// A 401 reply unless the request carries the expected token.
fn denied(hub: &Hub, headers: &HeaderMap) -> Option<Response> {
    let expected = format!("Bearer {}", hub.token);
    match headers.get("authorization").and_then(|v| v.to_str().ok()) {
        Some(value) if value == expected => None,
        _ => Some((StatusCode::UNAUTHORIZED, "Invalid credentials").into_response()),
    }
}

fn repo_name(owner: &str, name: &str) -> String {
    format!("{owner}/{}", name.trim_end_matches(".git"))
}

async fn tree(
    State(hub): State<Shared>,
    headers: HeaderMap,
    Path((owner, name, _)): Path<(String, String, String)>,
) -> Response {
    if let Some(denied) = denied(&hub, &headers) {
        return denied;
    }
    let repos = hub.repos.lock().unwrap();
    let Some(files) = repos.get(&repo_name(&owner, &name)) else {
        return (StatusCode::NOT_FOUND, "Repository not found").into_response();
    };
    let list: Vec<Value> =
        files.iter().map(|(path, bytes)| json!({"type": "file", "path": path, "size": bytes.len()})).collect();
    axum::Json(list).into_response()
}

async fn resolve(
    State(hub): State<Shared>,
    headers: HeaderMap,
    Path((owner, name, _, path)): Path<(String, String, String, String)>,
) -> Response {
    if let Some(denied) = denied(&hub, &headers) {
        return denied;
    }
    match hub.repos.lock().unwrap().get(&repo_name(&owner, &name)).and_then(|files| files.get(&path)) {
        Some(bytes) => bytes.clone().into_response(),
        None => (StatusCode::NOT_FOUND, "Entry not found").into_response(),
    }
}

async fn preupload(
    State(hub): State<Shared>,
    headers: HeaderMap,
    Path((owner, name, _)): Path<(String, String, String)>,
    body: Bytes,
) -> Response {
    if let Some(denied) = denied(&hub, &headers) {
        return denied;
    }
    if !hub.repos.lock().unwrap().contains_key(&repo_name(&owner, &name)) {
        return (StatusCode::NOT_FOUND, "Repository not found").into_response();
    }
    let request: Value = serde_json::from_slice(&body).unwrap();
    let files: Vec<Value> = request["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            let path = f["path"].as_str().unwrap();
            let mode = if path.ends_with(".parquet") { "lfs" } else { "regular" };
            json!({"path": path, "uploadMode": mode, "shouldIgnore": false})
        })
        .collect();
    axum::Json(json!({"files": files})).into_response()
}

async fn lfs_batch(State(hub): State<Shared>, headers: HeaderMap, body: Bytes) -> Response {
    if let Some(denied) = denied(&hub, &headers) {
        return denied;
    }
    assert_eq!(headers.get("accept").unwrap(), "application/vnd.git-lfs+json");
    let request: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(request["operation"], "upload");
    let lfs = hub.lfs.lock().unwrap();
    let objects: Vec<Value> = request["objects"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| {
            let oid = o["oid"].as_str().unwrap();
            if lfs.contains_key(oid) {
                json!({"oid": oid, "size": o["size"]})
            } else {
                let href = format!("{}/lfs/{oid}", hub.base_url);
                json!({"oid": oid, "size": o["size"], "actions": {"upload": {"href": href, "header": {"x-upload-ticket": "t"}}}})
            }
        })
        .collect();
    axum::Json(json!({"transfer": "basic", "objects": objects})).into_response()
}

async fn lfs_put(State(hub): State<Shared>, headers: HeaderMap, Path(oid): Path<String>, body: Bytes) -> Response {
    assert_eq!(headers.get("x-upload-ticket").unwrap(), "t", "the upload action's headers are sent");
    assert_eq!(hex::encode(Sha256::digest(&body)), oid, "LFS objects are addressed by their sha256");
    hub.lfs.lock().unwrap().insert(oid, body.to_vec());
    StatusCode::OK.into_response()
}

async fn commit(
    State(hub): State<Shared>,
    headers: HeaderMap,
    Path((owner, name, _)): Path<(String, String, String)>,
    body: Bytes,
) -> Response {
    if let Some(denied) = denied(&hub, &headers) {
        return denied;
    }
    assert_eq!(headers.get("content-type").unwrap(), "application/x-ndjson");
    let mut repos = hub.repos.lock().unwrap();
    let Some(files) = repos.get_mut(&repo_name(&owner, &name)) else {
        return (StatusCode::NOT_FOUND, "Repository not found").into_response();
    };
    for line in String::from_utf8(body.to_vec()).unwrap().lines() {
        let entry: Value = serde_json::from_str(line).unwrap();
        let value = &entry["value"];
        match entry["key"].as_str().unwrap() {
            "header" => hub.commits.lock().unwrap().push(value["summary"].as_str().unwrap().to_string()),
            "file" => {
                let bytes =
                    base64::engine::general_purpose::STANDARD.decode(value["content"].as_str().unwrap()).unwrap();
                files.insert(value["path"].as_str().unwrap().to_string(), bytes);
            }
            "lfsFile" => {
                let Some(bytes) = hub.lfs.lock().unwrap().get(value["oid"].as_str().unwrap()).cloned() else {
                    return (StatusCode::BAD_REQUEST, "LFS object was not uploaded").into_response();
                };
                files.insert(value["path"].as_str().unwrap().to_string(), bytes);
            }
            "deletedFile" => {
                files.remove(value["path"].as_str().unwrap()).expect("only existing files are deleted");
            }
            other => panic!("unexpected commit entry {other}"),
        }
    }
    axum::Json(json!({"commitOid": "abc"})).into_response()
}

async fn create(State(hub): State<Shared>, headers: HeaderMap, body: Bytes) -> Response {
    if let Some(denied) = denied(&hub, &headers) {
        return denied;
    }
    let request: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(request["type"], "dataset");
    let repo = format!("{}/{}", request["organization"].as_str().unwrap(), request["name"].as_str().unwrap());
    hub.created.lock().unwrap().insert(repo.clone(), request["private"].as_bool().unwrap());
    hub.repos.lock().unwrap().entry(repo).or_default();
    StatusCode::OK.into_response()
}

//! Hugging Face Hub sync of processed results: a dataset repo holding the
//! parquet files and `env_index.json`, shared by a team.
//!
//! Talks to the Hub's HTTP API directly (the endpoints `huggingface_hub`
//! uses): list a revision's files (`GET /api/datasets/{repo}/tree/{rev}`),
//! download (`GET /datasets/{repo}/resolve/{rev}/{path}`), and push in one
//! commit: `POST .../preupload/{rev}` asks which files go through LFS,
//! those are uploaded with the Git LFS batch API, then `POST
//! .../commit/{rev}` commits every file (NDJSON). A repo that does not
//! exist yet is created on the first push.
//!
//! The token comes from the process config's `hf.token` or `HF_TOKEN`; it
//! is sent as a bearer header and never written or printed (server replies
//! quoted in errors are scrubbed).

use anyhow::{Context, Result, bail};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use reqwest::{Response, StatusCode};
use serde::Deserialize;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};

/// A dataset repo on the Hub.
pub struct Hub {
    http: reqwest::Client,
    endpoint: String,
    repo: String,
    revision: String,
    token: Option<String>,
    private: bool,
}

/// A file in the repo.
#[derive(Debug, Clone, Deserialize)]
pub struct RemoteFile {
    /// Its path in the repo.
    pub path: String,
    #[serde(default)]
    /// Its size in bytes.
    pub size: u64,
    #[serde(rename = "type")]
    kind: String,
}

impl Hub {
    /// The dataset repo `repo` (`owner/name`) at `revision`, reached with
    /// `token` (else `HF_TOKEN`); created `private` if it does not exist.
    pub fn new(repo: &str, revision: &str, token: Option<String>, private: bool) -> Result<Self> {
        if repo.split('/').count() != 2 || repo.split('/').any(str::is_empty) {
            bail!("--hf-repo {repo}: expected OWNER/NAME");
        }
        let endpoint = crate::locations::hf_endpoint();
        let token = token.or_else(crate::locations::hf_token);
        let http = reqwest::Client::builder()
            .timeout(std::time::Duration::from_secs(600))
            .build()
            .context("cannot create the HTTP client")?;
        Ok(Hub { http, endpoint, repo: repo.into(), revision: revision.into(), token, private })
    }

    fn auth(&self, request: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
        match &self.token {
            Some(token) => request.bearer_auth(token),
            None => request,
        }
    }

    /// A failed reply as one line, without the token.
    async fn failure(&self, what: &str, response: Response) -> anyhow::Error {
        let status = response.status();
        let mut body = response.text().await.unwrap_or_default().split_whitespace().collect::<Vec<_>>().join(" ");
        if let Some(token) = &self.token {
            body = body.replace(token.as_str(), "***");
        }
        body.truncate(200);
        let hint = match status {
            StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN => {
                format!(" (is {} set, with write access?)", crate::locations::vars::HF_TOKEN)
            }
            _ => String::new(),
        };
        anyhow::anyhow!("Hugging Face Hub, {what} {}: HTTP {status}: {body}{hint}", self.repo)
    }

    async fn send(&self, what: &str, request: reqwest::RequestBuilder) -> Result<Response> {
        let response = self
            .auth(request)
            .send()
            .await
            .map_err(|e| anyhow::anyhow!("Hugging Face Hub, {what} {}: {}", self.repo, e.without_url()))?;
        if response.status().is_success() { Ok(response) } else { Err(self.failure(what, response).await) }
    }

    /// Every file of the revision; `None` if the repo does not exist.
    pub async fn list(&self) -> Result<Option<Vec<RemoteFile>>> {
        let mut url = format!("{}/api/datasets/{}/tree/{}?recursive=true", self.endpoint, self.repo, self.revision);
        let mut files = Vec::new();
        loop {
            let response = self
                .auth(self.http.get(&url))
                .send()
                .await
                .map_err(|e| anyhow::anyhow!("Hugging Face Hub, listing {}: {}", self.repo, e.without_url()))?;
            if response.status() == StatusCode::NOT_FOUND {
                return Ok(None);
            }
            if !response.status().is_success() {
                return Err(self.failure("listing", response).await);
            }
            let next = next_link(response.headers());
            let page: Vec<RemoteFile> = response.json().await.context("Hugging Face Hub: the file list is not JSON")?;
            files.extend(page.into_iter().filter(|f| f.kind == "file"));
            match next {
                Some(next) => url = next,
                None => return Ok(Some(files)),
            }
        }
    }

    /// Download `path` to `target` (via a temporary file).
    pub async fn download(&self, path: &str, target: &Path) -> Result<()> {
        let url = format!("{}/datasets/{}/resolve/{}/{path}", self.endpoint, self.repo, self.revision);
        let bytes = self.send(&format!("downloading {path} from"), self.http.get(url)).await?.bytes().await?;
        if let Some(dir) = target.parent() {
            std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
        }
        crate::store::write_atomic(target, &bytes)
    }

    /// Commit `files` (local path, path in the repo) and the deletion of
    /// `deleted` (paths in the repo) in one commit.
    pub async fn push(&self, files: &[(PathBuf, String)], deleted: &[String], summary: &str) -> Result<()> {
        let mut contents = Vec::with_capacity(files.len());
        for (local, remote) in files {
            let bytes = std::fs::read(local).with_context(|| format!("cannot read {}", local.display()))?;
            contents.push((remote.clone(), hex::encode(Sha256::digest(&bytes)), bytes));
        }
        let modes = match self.preupload(&contents).await {
            Err(error) if error.to_string().contains("HTTP 404") => {
                self.create_repo().await?;
                self.preupload(&contents).await?
            }
            other => other?,
        };
        let lfs: Vec<&(String, String, Vec<u8>)> =
            contents.iter().filter(|(path, ..)| modes.iter().any(|(p, m)| p == path && m == "lfs")).collect();
        self.upload_lfs(&lfs).await?;
        let mut body = Vec::new();
        let mut line = |value: Value| {
            body.extend_from_slice(value.to_string().as_bytes());
            body.push(b'\n');
        };
        line(json!({"key": "header", "value": {"summary": summary, "description": ""}}));
        for (path, sha, bytes) in &contents {
            if lfs.iter().any(|(p, ..)| p == path) {
                line(
                    json!({"key": "lfsFile", "value": {"path": path, "algo": "sha256", "oid": sha, "size": bytes.len()}}),
                );
            } else {
                line(
                    json!({"key": "file", "value": {"content": BASE64.encode(bytes), "path": path, "encoding": "base64"}}),
                );
            }
        }
        for path in deleted {
            line(json!({"key": "deletedFile", "value": {"path": path}}));
        }
        let url = format!("{}/api/datasets/{}/commit/{}", self.endpoint, self.repo, self.revision);
        self.send("committing to", self.http.post(url).header("content-type", "application/x-ndjson").body(body))
            .await?;
        Ok(())
    }

    /// The upload mode (`regular` or `lfs`) of each file, as the Hub decides.
    async fn preupload(&self, contents: &[(String, String, Vec<u8>)]) -> Result<Vec<(String, String)>> {
        let files: Vec<Value> = contents
            .iter()
            .map(|(path, _, bytes)| json!({"path": path, "size": bytes.len(), "sample": BASE64.encode(&bytes[..bytes.len().min(512)])}))
            .collect();
        let url = format!("{}/api/datasets/{}/preupload/{}", self.endpoint, self.repo, self.revision);
        let reply: Value =
            self.send("preparing upload to", self.http.post(url).json(&json!({"files": files}))).await?.json().await?;
        let modes = reply["files"].as_array().context("Hugging Face Hub: preupload reply without `files`")?;
        Ok(modes
            .iter()
            .filter_map(|f| Some((f["path"].as_str()?.to_string(), f["uploadMode"].as_str()?.to_string())))
            .collect())
    }

    /// Upload LFS objects the Hub does not have yet (Git LFS batch API).
    async fn upload_lfs(&self, objects: &[&(String, String, Vec<u8>)]) -> Result<()> {
        if objects.is_empty() {
            return Ok(());
        }
        let request = json!({
            "operation": "upload",
            "transfers": ["basic"],
            "objects": objects.iter().map(|(_, sha, bytes)| json!({"oid": sha, "size": bytes.len()})).collect::<Vec<_>>(),
            "hash_algo": "sha256",
            "ref": {"name": self.revision},
        });
        let url = format!("{}/datasets/{}.git/info/lfs/objects/batch", self.endpoint, self.repo);
        let lfs_json = "application/vnd.git-lfs+json";
        let batch =
            self.http.post(url).header("accept", lfs_json).header("content-type", lfs_json).body(request.to_string());
        let reply: Value = self.send("uploading (LFS) to", batch).await?.json().await?;
        for object in reply["objects"].as_array().context("Hugging Face Hub: LFS reply without `objects`")? {
            let Some(upload) = object["actions"].get("upload") else { continue }; // already there
            let oid = object["oid"].as_str().unwrap_or_default();
            let (path, _, bytes) =
                objects.iter().find(|(_, sha, _)| sha == oid).context("LFS reply for an unknown object")?;
            let mut put =
                self.http.put(upload["href"].as_str().context("LFS upload without href")?).body(bytes.clone());
            for (name, value) in upload["header"].as_object().into_iter().flatten() {
                put = put.header(name.as_str(), value.as_str().unwrap_or_default());
            }
            let response = put.send().await.map_err(|e| anyhow::anyhow!("uploading {path}: {}", e.without_url()))?;
            if !response.status().is_success() {
                return Err(self.failure(&format!("uploading {path} to"), response).await);
            }
            if let Some(verify) = object["actions"].get("verify") {
                let mut post = self
                    .http
                    .post(verify["href"].as_str().unwrap_or_default())
                    .json(&json!({"oid": oid, "size": bytes.len()}));
                for (name, value) in verify["header"].as_object().into_iter().flatten() {
                    post = post.header(name.as_str(), value.as_str().unwrap_or_default());
                }
                self.send(&format!("verifying {path} in"), post).await?;
            }
        }
        Ok(())
    }

    async fn create_repo(&self) -> Result<()> {
        let (organization, name) = self.repo.split_once('/').expect("checked in new");
        let body = json!({"type": "dataset", "name": name, "organization": organization, "private": self.private});
        self.send("creating", self.http.post(format!("{}/api/repos/create", self.endpoint)).json(&body)).await?;
        tracing::info!(repo = %self.repo, private = self.private, "created a dataset repo on the Hub");
        Ok(())
    }
}

/// The `rel="next"` URL of a `Link` header (the Hub pages long lists).
fn next_link(headers: &reqwest::header::HeaderMap) -> Option<String> {
    let link = headers.get("link")?.to_str().ok()?;
    link.split(',').find(|part| part.contains("rel=\"next\"")).and_then(|part| {
        let start = part.find('<')? + 1;
        let end = part.find('>')?;
        Some(part[start..end].to_string())
    })
}

//! The `piston` backend: programs run on a Piston execution engine
//! (<https://github.com/engineer-man/piston>) through its HTTP API:
//! `GET /api/v2/runtimes` at start (is the language offered, which
//! version) and `POST /api/v2/execute` per program.

use super::CodeRun;
use super::{TRUNCATED_NOTE, source_file, truncate};
use crate::config::CodeExecutionConfig;
use crate::runtime::CodeRequest;
use anyhow::{Context, Result, anyhow};
use serde::Deserialize;
use serde_json::json;
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

/// Extra time the HTTP request gets beyond the program's own limit.
const REQUEST_SLACK: Duration = Duration::from_secs(30);

pub(super) struct PistonBackend {
    client: reqwest::Client,
    /// `<url>/api/v2/execute`.
    execute_url: String,
    /// The Piston language name and version per granted language.
    runtimes: BTreeMap<String, (String, String)>,
    memory_bytes: u64,
    max_output_bytes: usize,
}

/// One entry of `GET /api/v2/runtimes`.
#[derive(Deserialize)]
struct Runtime {
    language: String,
    version: String,
    #[serde(default)]
    aliases: Vec<String>,
}

/// The reply of `POST /api/v2/execute`.
#[derive(Deserialize)]
struct ExecuteReply {
    run: Stage,
    compile: Option<Stage>,
}

/// One stage (compile or run) of an execution.
#[derive(Deserialize)]
struct Stage {
    #[serde(default)]
    stdout: String,
    #[serde(default)]
    stderr: String,
    code: Option<i32>,
    signal: Option<String>,
    /// Newer Piston versions: `TO` timed out, `RE` runtime error, `SG` signal...
    status: Option<String>,
    /// Newer Piston versions: wall time in milliseconds.
    wall_time: Option<u64>,
}

impl PistonBackend {
    /// Check the server answers and offers every language; pick versions.
    pub(super) async fn start(settings: &CodeExecutionConfig, languages: &[String]) -> Result<Self> {
        let base = settings.url.as_deref().expect("the plan requires `url` for piston").trim_end_matches('/');
        let client = reqwest::Client::builder().build().context("cannot build the HTTP client")?;
        let runtimes_url = format!("{base}/api/v2/runtimes");
        let fail = |e: &dyn std::fmt::Display| anyhow!("code_execution (piston): {runtimes_url}: {e}");
        let reply = client.get(&runtimes_url).timeout(Duration::from_secs(10)).send().await.map_err(|e| fail(&e))?;
        if !reply.status().is_success() {
            return Err(fail(&format!("HTTP {}", reply.status())));
        }
        let offered: Vec<Runtime> = reply.json().await.map_err(|e| fail(&format!("not a runtime list: {e}")))?;
        let mut runtimes = BTreeMap::new();
        for language in languages {
            let runtime = pick(&offered, language, settings.versions.get(language)).map_err(|e| fail(&e))?;
            runtimes.insert(language.clone(), runtime);
        }
        Ok(PistonBackend {
            client,
            execute_url: format!("{base}/api/v2/execute"),
            runtimes,
            memory_bytes: settings.memory_mb << 20,
            max_output_bytes: settings.max_output_bytes,
        })
    }

    pub(super) async fn run(&self, request: &CodeRequest, timeout: Duration) -> Result<CodeRun, String> {
        let (language, version) = &self.runtimes[&request.language];
        let timeout_ms = timeout.as_millis() as u64;
        let body = json!({
            "language": language,
            "version": version,
            "files": [{"name": source_file(&request.language), "content": &request.source}],
            "stdin": &request.stdin,
            "run_timeout": timeout_ms,
            "compile_timeout": timeout_ms,
            "run_memory_limit": self.memory_bytes,
        });
        let started = Instant::now();
        let reply = self
            .client
            .post(&self.execute_url)
            .json(&body)
            .timeout(timeout + REQUEST_SLACK)
            .send()
            .await
            .map_err(|e| format!("piston {}: {e}", self.execute_url))?;
        let status = reply.status();
        let text = reply.text().await.map_err(|e| format!("piston {}: {e}", self.execute_url))?;
        if !status.is_success() {
            let (text, _) = truncate(text, 200);
            return Err(format!("piston {}: HTTP {status}: {text}", self.execute_url));
        }
        let reply: ExecuteReply =
            serde_json::from_str(&text).map_err(|e| format!("piston {}: unexpected reply ({e})", self.execute_url))?;
        Ok(self.code_run(&request.language, reply, started.elapsed(), timeout))
    }

    /// The run (or a failed compile stage) as a [`CodeRun`].
    fn code_run(&self, language: &str, reply: ExecuteReply, elapsed: Duration, timeout: Duration) -> CodeRun {
        let stage = match reply.compile {
            Some(compile) if compile.code.is_some_and(|c| c != 0) => compile,
            _ => reply.run,
        };
        let duration = stage.wall_time.map_or(elapsed, Duration::from_millis);
        // Older servers report a timeout only as a SIGKILL at the limit.
        let timed_out = stage.status.as_deref() == Some("TO")
            || (stage.signal.as_deref() == Some("SIGKILL") && duration >= timeout);
        let exit_code = match (stage.code, timed_out) {
            (Some(code), false) => code,
            _ => -1,
        };
        CodeRun {
            language: language.to_string(),
            exit_code,
            stdout: self.cap(stage.stdout),
            stderr: self.cap(stage.stderr),
            timed_out,
            duration_ms: duration.as_millis().min(u128::from(u32::MAX)) as u32,
        }
    }

    fn cap(&self, text: String) -> String {
        let (mut text, cut) = truncate(text, self.max_output_bytes);
        if cut {
            text.push_str(TRUNCATED_NOTE);
        }
        text
    }
}

/// The runtime for `language` (matched by name or alias): the configured
/// version, or the newest offered.
fn pick(offered: &[Runtime], language: &str, version: Option<&String>) -> Result<(String, String), String> {
    let matching: Vec<&Runtime> =
        offered.iter().filter(|r| r.language == language || r.aliases.iter().any(|a| a == language)).collect();
    if matching.is_empty() {
        let names: Vec<&str> = offered.iter().map(|r| r.language.as_str()).collect();
        return Err(format!("the server offers no `{language}` runtime (it offers: {})", names.join(", ")));
    }
    let runtime = match version {
        Some(version) => matching.iter().find(|r| &r.version == version).ok_or_else(|| {
            let versions: Vec<&str> = matching.iter().map(|r| r.version.as_str()).collect();
            format!("no `{language}` {version} on the server (it has: {})", versions.join(", "))
        })?,
        None => matching.iter().max_by_key(|r| version_key(&r.version)).expect("not empty"),
    };
    Ok((runtime.language.clone(), runtime.version.clone()))
}

/// A version's numeric components, for picking the newest (`3.10.0` > `3.9.4`).
fn version_key(version: &str) -> Vec<u64> {
    version.split(['.', '-', '+']).map(|part| part.parse().unwrap_or(0)).collect()
}

//! The response cache: each reply of a model with `cache: true`, kept on
//! disk so a new run of the same requests (or a run whose changed plugin
//! asks the same prompts) gets them at no model cost.
//!
//! A reply is keyed by sha256 of what makes it: the API and the request
//! body (endpoint model name, messages or rendered prompt, sampling args,
//! the seed sent) plus the sample seed, so rollouts of one prompt stay
//! apart even when the config sends one fixed `seed`, and, for a served
//! model, what it serves (one checkpoint's replies never answer for the
//! next, served under the same name). Neither the key nor
//! the stored reply holds the API key or the endpoint URL.
//!
//! The store is one SQLite file (rusqlite, bundled) in write-ahead-log mode
//! with a busy timeout, so runs writing at once wait on each other instead
//! of failing or corrupting it. A file that is not a sound database (a
//! crash, a full disk, garbage) is detected when opened and rebuilt empty;
//! a read or write failing later costs that reply its caching, never the
//! run.

use super::{ChatReply, ToolCall, Usage};
use anyhow::{Context, Result};
use rusqlite::{Connection, OptionalExtension, params};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// How long a write waits for another process's write to end.
const BUSY_TIMEOUT: Duration = Duration::from_secs(60);

/// The replies table; `model` is the endpoint's model name, for stats.
const SCHEMA: &str = "CREATE TABLE IF NOT EXISTS replies (
    key TEXT PRIMARY KEY,
    model TEXT NOT NULL,
    reply TEXT NOT NULL,
    created_at INTEGER NOT NULL
)";

/// An open response cache, shared by every model of a run that uses it.
#[derive(Clone)]
pub struct ResponseCache {
    connection: Arc<Mutex<Connection>>,
    path: PathBuf,
}

/// A reply as the cache keeps it.
#[derive(Serialize, Deserialize)]
struct StoredReply {
    content: String,
    #[serde(default)]
    tool_calls: Vec<ToolCall>,
    reasoning: Option<String>,
    finish_reason: Option<String>,
    usage: Usage,
}

/// Replies cached for one model name.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ModelEntries {
    /// The endpoint's model name.
    pub model: String,
    /// Replies cached.
    pub replies: u64,
}

/// What `assay cache stats` reports.
#[derive(Debug, Clone, Serialize)]
pub struct CacheStats {
    /// The database file.
    pub path: PathBuf,
    /// Its size in bytes, write-ahead log included.
    pub bytes: u64,
    /// Replies cached, over every model.
    pub replies: u64,
    /// Per model name, most replies first.
    pub models: Vec<ModelEntries>,
}

impl ResponseCache {
    /// Open (or create) the cache file at `path`. A damaged file is moved
    /// aside and a new one made; `on_rebuild` hears why.
    pub fn open(path: &Path, on_rebuild: impl FnOnce(String)) -> Result<Self> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
        }
        let connection = match connect_waiting(path) {
            Ok(connection) => connection,
            Err(damage) if is_damage(&damage) => {
                let aside = set_aside(path)?;
                on_rebuild(format!(
                    "response cache {} was damaged ({damage:#}); moved to {} and rebuilt empty",
                    path.display(),
                    aside.display()
                ));
                connect(path).with_context(|| format!("cannot create response cache {}", path.display()))?
            }
            Err(error) => return Err(error.context(format!("cannot open response cache {}", path.display()))),
        };
        Ok(ResponseCache { connection: Arc::new(Mutex::new(connection)), path: path.to_path_buf() })
    }

    /// Open the cache where [`crate::locations::response_cache_file`] puts
    /// it; a damaged file is rebuilt with a warning.
    pub fn open_default() -> Result<Self> {
        let Some(path) = crate::locations::response_cache_file() else {
            anyhow::bail!("no cache directory for the response cache: set ASSAY_CACHE_DIR");
        };
        Self::open(&path, |why| tracing::warn!("{why}"))
    }

    /// The cached reply for `key`, if any. A failed read is a miss.
    pub async fn get(&self, key: &str) -> Option<ChatReply> {
        let (cache, key) = (self.clone(), key.to_string());
        let found = tokio::task::spawn_blocking(move || {
            let connection = cache.connection.lock().expect("cache lock");
            let text: Option<String> = connection
                .query_row("SELECT reply FROM replies WHERE key = ?1", params![key], |row| row.get(0))
                .optional()?;
            anyhow::Ok(text)
        })
        .await;
        let text = match found {
            Ok(Ok(text)) => text?,
            Ok(Err(error)) => return self.warn("read", &error),
            Err(_) => return None,
        };
        let stored: StoredReply = serde_json::from_str(&text).ok()?;
        Some(ChatReply {
            content: stored.content,
            tool_calls: stored.tool_calls,
            reasoning: stored.reasoning,
            finish_reason: stored.finish_reason,
            usage: stored.usage,
            latency_ms: 0,
            attempts: 0,
        })
    }

    /// Keep `reply` under `key` (for the endpoint model `model`). A failed
    /// write only costs this reply its caching.
    pub async fn put(&self, key: &str, model: &str, reply: &ChatReply) {
        let stored = StoredReply {
            content: reply.content.clone(),
            tool_calls: reply.tool_calls.clone(),
            reasoning: reply.reasoning.clone(),
            finish_reason: reply.finish_reason.clone(),
            usage: reply.usage,
        };
        let text = serde_json::to_string(&stored).expect("a reply serialises");
        let (cache, key, model) = (self.clone(), key.to_string(), model.to_string());
        let written = tokio::task::spawn_blocking(move || {
            let connection = cache.connection.lock().expect("cache lock");
            connection.execute(
                "INSERT OR REPLACE INTO replies (key, model, reply, created_at) VALUES (?1, ?2, ?3, ?4)",
                params![key, model, text, unix_time()],
            )
        })
        .await;
        if let Ok(Err(error)) = written {
            self.warn::<()>("write", &error.into());
        }
    }

    fn warn<T>(&self, what: &str, error: &anyhow::Error) -> Option<T> {
        tracing::warn!("response cache {}: {what} failed: {error:#}", self.path.display());
        None
    }

    /// Replies cached, per model, and the file's size.
    pub fn stats(&self) -> Result<CacheStats> {
        let connection = self.connection.lock().expect("cache lock");
        let mut query =
            connection.prepare("SELECT model, COUNT(*) FROM replies GROUP BY model ORDER BY COUNT(*) DESC, model")?;
        let rows = query.query_map([], |row| {
            let replies: i64 = row.get(1)?;
            Ok(ModelEntries { model: row.get(0)?, replies: replies.unsigned_abs() })
        })?;
        let models = rows.collect::<rusqlite::Result<Vec<_>>>()?;
        let size = |suffix: &str| std::fs::metadata(with_suffix(&self.path, suffix)).map_or(0, |m| m.len());
        Ok(CacheStats {
            path: self.path.clone(),
            bytes: size("") + size("-wal"),
            replies: models.iter().map(|m| m.replies).sum(),
            models,
        })
    }

    /// Remove the replies of `model` (every reply when `None`); returns how many.
    pub fn clear(&self, model: Option<&str>) -> Result<u64> {
        let connection = self.connection.lock().expect("cache lock");
        let removed = match model {
            Some(model) => connection.execute("DELETE FROM replies WHERE model = ?1", params![model])?,
            None => connection.execute("DELETE FROM replies", [])?,
        };
        connection.execute_batch("VACUUM")?;
        Ok(removed as u64)
    }
}

/// [`connect`], tried again while another process holds the file: SQLite
/// answers "database is locked" without waiting (no busy handler) when two
/// connections switch a new file to WAL or recover its log at once.
fn connect_waiting(path: &Path) -> Result<Connection> {
    let started = std::time::Instant::now();
    loop {
        match connect(path) {
            Err(error) if is_busy(&error) && started.elapsed() < BUSY_TIMEOUT => {
                std::thread::sleep(Duration::from_millis(25));
            }
            outcome => return outcome,
        }
    }
}

/// Whether `error` is SQLite's "busy" or "locked".
fn is_busy(error: &anyhow::Error) -> bool {
    has_sqlite_code(error, &[rusqlite::ErrorCode::DatabaseBusy, rusqlite::ErrorCode::DatabaseLocked])
}

/// Whether `error` is a SQLite failure with one of `codes`.
fn has_sqlite_code(error: &anyhow::Error, codes: &[rusqlite::ErrorCode]) -> bool {
    matches!(error.downcast_ref::<rusqlite::Error>(), Some(rusqlite::Error::SqliteFailure(failure, _)) if codes.contains(&failure.code))
}

/// Open `path`, set it up for several writers, and check it is sound.
fn connect(path: &Path) -> Result<Connection> {
    let connection = Connection::open(path)?;
    connection.busy_timeout(BUSY_TIMEOUT)?;
    let mode: String = connection.query_row("PRAGMA journal_mode = WAL", [], |row| row.get(0))?;
    anyhow::ensure!(mode.eq_ignore_ascii_case("wal"), "journal mode {mode}, not wal");
    let check: String = connection.query_row("PRAGMA quick_check", [], |row| row.get(0))?;
    if check != "ok" {
        return Err(Damaged(format!("quick_check: {check}")).into());
    }
    connection.execute_batch(SCHEMA)?;
    Ok(connection)
}

/// A database that opened but is not sound.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
struct Damaged(String);

/// Whether opening failed because the file is damaged (not because another
/// run holds it, or the disk refused): only then is it rebuilt.
fn is_damage(error: &anyhow::Error) -> bool {
    error.is::<Damaged>()
        || has_sqlite_code(error, &[rusqlite::ErrorCode::NotADatabase, rusqlite::ErrorCode::DatabaseCorrupt])
}

/// Seconds since the Unix epoch.
fn unix_time() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

/// Move a damaged database to `<name>.damaged-<unix time>` (kept for a
/// post-mortem) and remove its log files.
fn set_aside(path: &Path) -> Result<PathBuf> {
    let aside = with_suffix(path, &format!(".damaged-{}", unix_time()));
    std::fs::rename(path, &aside).with_context(|| format!("cannot move {} aside", path.display()))?;
    for suffix in ["-wal", "-shm"] {
        let _ = std::fs::remove_file(with_suffix(path, suffix));
    }
    Ok(aside)
}

fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_os_string();
    name.push(suffix);
    PathBuf::from(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reply(text: &str) -> ChatReply {
        ChatReply {
            content: text.into(),
            tool_calls: Vec::new(),
            reasoning: Some("because".into()),
            finish_reason: Some("stop".into()),
            usage: Usage { prompt_tokens: Some(3), completion_tokens: Some(1), reasoning_tokens: None },
            latency_ms: 40,
            attempts: 2,
        }
    }

    #[tokio::test]
    async fn replies_come_back_and_a_garbage_file_is_rebuilt() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("responses.sqlite3");
        let cache = ResponseCache::open(&path, |why| panic!("{why}")).unwrap();
        assert!(cache.get("k").await.is_none());
        cache.put("k", "m", &reply("hi")).await;
        let back = cache.get("k").await.unwrap();
        assert_eq!((back.content.as_str(), back.usage.prompt_tokens, back.latency_ms), ("hi", Some(3), 0));
        assert_eq!(cache.stats().unwrap().models, vec![ModelEntries { model: "m".into(), replies: 1 }]);
        drop(cache);

        std::fs::write(&path, vec![0x5a; 8192]).unwrap();
        let mut heard = String::new();
        let cache = ResponseCache::open(&path, |why| heard = why).unwrap();
        assert!(heard.contains("was damaged") && heard.contains("rebuilt empty"), "{heard}");
        assert!(cache.get("k").await.is_none());
        cache.put("k", "m", &reply("again")).await;
        assert_eq!(cache.clear(None).unwrap(), 1);
        assert_eq!(cache.stats().unwrap().replies, 0);
    }
}

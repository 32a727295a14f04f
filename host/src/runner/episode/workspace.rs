//! A sample's workspace, made at the plugin's first `workspace` action from
//! its task's files, and the sample's artifacts, written when it ends: the
//! workspace's diff and the whole transcript, and any text the env attached
//! to its score under `info.artifacts` (`{"test_output.txt": "..."}`),
//! which goes to a file instead of the result line.

use super::{Episode, SampleSpec, failure};
use crate::execution::Workspace;
use crate::models::{Message, Role};
use crate::runtime::{CallContext, WorkspaceRequest, WorkspaceResult};
use crate::store::layout::{DIFF_FILE, TRANSCRIPT_FILE, artifact_name_ok};
use crate::store::{ErrorKind, SampleError};
use serde_json::{Map, Value};

/// `workspace` actions allowed per model turn allowed (`max_turns`), so a
/// plugin cannot loop on them forever.
const ACTIONS_PER_TURN: u32 = 64;

/// The key of a score's `info` under which an env attaches artifacts.
const ATTACHED: &str = "artifacts";

impl Episode {
    /// Carry out a `workspace` action, making the workspace first if this
    /// is the sample's first.
    pub(super) async fn workspace_action(
        &mut self,
        spec: &SampleSpec,
        ctx: CallContext<'_>,
        request: &WorkspaceRequest,
    ) -> Result<WorkspaceResult, SampleError> {
        let record = ctx.record;
        let Some(runner) = &spec.workspace else {
            let message =
                format!("record {record}: the plugin asked for a workspace, but the env does not grant `workspace`");
            return Err(failure(ErrorKind::Episode, message));
        };
        let allowed = spec.max_turns.saturating_mul(ACTIONS_PER_TURN);
        if self.workspace_actions >= allowed {
            let message = format!(
                "record {record}: exceeded {allowed} workspace actions ({ACTIONS_PER_TURN} per turn of max_turns)"
            );
            return Err(failure(ErrorKind::Episode, message));
        }
        self.workspace_actions += 1;
        let workspace = match &mut self.workspace {
            Some(workspace) => workspace,
            None => {
                let task = spec.dataset.task(spec.record_index);
                let made = Workspace::create(
                    runner.clone(),
                    task.and_then(|t| t.repo.as_deref()),
                    task.and_then(|t| t.image.as_deref()),
                    spec.environment_variables.to_vec(),
                )
                .await
                .map_err(|e| {
                    failure(ErrorKind::Workspace, format!("record {record}: cannot make the workspace: {e}"))
                })?;
                self.workspace.insert(made)
            }
        };
        let result =
            workspace.act(request).await.map_err(|e| failure(ErrorKind::Workspace, format!("record {record}: {e}")))?;
        if let WorkspaceResult::Diff(diff) = &result {
            self.last_diff = Some(diff.clone());
        }
        Ok(result)
    }

    /// Write the sample's artifacts, then remove its workspace (unless it
    /// is kept). Returns the files written (and the kept workspace),
    /// relative to the job's directory. A file that cannot be written is
    /// logged and left out.
    pub(super) async fn close(
        &mut self,
        spec: &SampleSpec,
        example_id: &str,
        attached: Vec<(String, String)>,
    ) -> Vec<String> {
        let mut files: Vec<(String, String)> = Vec::new();
        if let Some(workspace) = &self.workspace {
            // The diff the env last asked for is the one it judged (an
            // agent takes it before its tests run and write files); else
            // the workspace as it was left.
            let diff = match self.last_diff.take() {
                Some(diff) => Ok(diff),
                None => workspace.diff().await,
            };
            match diff {
                Ok(diff) => files.push((DIFF_FILE.into(), diff)),
                Err(error) => tracing::warn!(example = example_id, "no diff.patch: {error}"),
            }
            let transcript = serde_json::to_string_pretty(&self.whole_transcript()).expect("messages serialise");
            files.push((TRANSCRIPT_FILE.into(), transcript + "\n"));
        }
        files.extend(attached);
        let mut listed = write_artifacts(spec, example_id, &files);
        let Some(workspace) = self.workspace.take() else { return listed };
        let keep_at = spec.keep_workspace.then(|| spec.files.kept_workspace(example_id, spec.rollout));
        // Moving or removing a large tree blocks: not on the runtime's threads.
        let kept = tokio::task::spawn_blocking(move || match keep_at {
            Some(at) => workspace.keep(&at).map(|()| Some(at)),
            None => Ok(None),
        })
        .await;
        match kept {
            Ok(Ok(Some(at))) => listed.push(spec.files.relative(&at)),
            Ok(Ok(None)) => {}
            Ok(Err(error)) => tracing::warn!(example = example_id, "workspace not kept: {error}"),
            Err(error) => tracing::warn!(example = example_id, "workspace not removed: {error}"),
        }
        listed
    }

    /// Every message of the sample: the transcript of a multi-turn episode,
    /// or the prompt and the one reply.
    fn whole_transcript(&self) -> Vec<Message> {
        if !self.transcript.is_empty() {
            return self.transcript.clone();
        }
        let mut messages = self.prompt.clone();
        messages.extend(self.completion.iter().map(|text| Message::new(Role::Assistant, text)));
        messages
    }
}

/// Write `files` into the sample's artifacts directory (emptied first: a
/// retried sample's old files must not linger), returning their paths
/// relative to the job's directory.
fn write_artifacts(spec: &SampleSpec, example_id: &str, files: &[(String, String)]) -> Vec<String> {
    let dir = spec.files.sample_artifacts(example_id, spec.rollout);
    if dir.exists()
        && let Err(error) = std::fs::remove_dir_all(&dir)
    {
        tracing::warn!("cannot clear {}: {error}", dir.display());
    }
    if files.is_empty() {
        return Vec::new();
    }
    if let Err(error) = std::fs::create_dir_all(&dir) {
        tracing::warn!("cannot create {}: {error}", dir.display());
        return Vec::new();
    }
    let mut written = Vec::new();
    for (name, text) in files {
        let path = dir.join(name);
        match std::fs::write(&path, text) {
            Ok(()) => written.push(spec.files.relative(&path)),
            Err(error) => tracing::warn!("cannot write {}: {error}", path.display()),
        }
    }
    written
}

/// A score's details as the result line keeps them, and the artifacts the
/// env attached under `info.artifacts`: each entry with a plain file name
/// and text moves to a file; anything else stays where it was.
pub(super) fn split_info(info_json: &str) -> (Value, Vec<(String, String)>) {
    let Ok(Value::Object(mut info)) = serde_json::from_str::<Value>(info_json) else {
        return (serde_json::from_str(info_json).unwrap_or_else(|_| Value::String(info_json.into())), Vec::new());
    };
    let mut attached = Vec::new();
    if let Some(Value::Object(entries)) = info.get_mut(ATTACHED) {
        let mut kept = Map::new();
        for (name, value) in std::mem::take(entries) {
            match value {
                Value::String(text) if artifact_name_ok(&name) => attached.push((name, text)),
                other => drop(kept.insert(name, other)),
            }
        }
        match kept.is_empty() {
            true => drop(info.remove(ATTACHED)),
            false => *entries = kept,
        }
    }
    (Value::Object(info), attached)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn attached_artifacts_leave_info() {
        let info = json!({"passed": 3, "artifacts": {"test_output.txt": "ok\n", "../x": "no", "n.txt": 5}});
        let (kept, attached) = split_info(&info.to_string());
        assert_eq!(attached, vec![("test_output.txt".to_string(), "ok\n".to_string())]);
        assert_eq!(kept, json!({"passed": 3, "artifacts": {"../x": "no", "n.txt": 5}}));
        let (kept, attached) = split_info(r#"{"artifacts": {"a.txt": "x"}}"#);
        assert_eq!((kept, attached.len()), (json!({}), 1));
        assert_eq!(split_info("not json").0, json!("not json"));
    }
}

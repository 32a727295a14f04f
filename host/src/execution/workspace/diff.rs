//! The diff of a workspace against the task it was made from, written as
//! `git diff` writes it (`diff --git a/<path> b/<path>`, `/dev/null` for a
//! created or deleted file, modes for executables and symbolic links), so
//! it applies with `git apply` (and, for text changes, `patch -p1`).
//!
//! The host walks both trees itself and never follows a symbolic link: a
//! link the sandbox made to a host file (`/etc/shadow`) shows as a link
//! with its target as text, never the file's content. Empty directories
//! are left out, as git leaves them out; so are names matching
//! `diff_exclude`; a fifo or socket is named, not read.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Longest the line diff of one file may take; past it the diff is coarser.
const FILE_DIFF_TIMEOUT: Duration = Duration::from_secs(5);

/// Bytes looked at to tell a binary file (one with a NUL byte) from text.
const BINARY_PROBE: usize = 8000;

/// The note ending a diff cut at its size limit.
const CUT_NOTE: &str = "\n[assay: diff truncated]\n";

/// What is at a path.
#[derive(Debug, Clone, PartialEq)]
enum Entry {
    /// A regular file; whether any execute bit is set.
    File { executable: bool },
    /// A symbolic link and its target.
    Link(PathBuf),
    /// A fifo, socket or device: named in the diff, never read.
    Special,
}

impl Entry {
    /// git's mode for the entry.
    fn mode(&self) -> &'static str {
        match self {
            Entry::File { executable: true } => "100755",
            Entry::File { executable: false } | Entry::Special => "100644",
            Entry::Link(_) => "120000",
        }
    }
}

/// The diff of `workspace` against `original` (none: an empty tree),
/// leaving out names matching `exclude`, at most `max_bytes` long (cut with
/// a note).
pub(super) async fn diff(
    original: Option<&Path>,
    workspace: &Path,
    exclude: &[String],
    max_bytes: usize,
) -> Result<String, String> {
    let (original, workspace, exclude) = (original.map(Path::to_path_buf), workspace.to_path_buf(), exclude.to_vec());
    tokio::task::spawn_blocking(move || tree_diff(original.as_deref(), &workspace, &exclude, max_bytes))
        .await
        .map_err(|e| format!("the diff failed: {e}"))?
}

fn tree_diff(
    original: Option<&Path>,
    workspace: &Path,
    exclude: &[String],
    max_bytes: usize,
) -> Result<String, String> {
    let mut old = BTreeMap::new();
    if let Some(original) = original {
        walk(original, "", exclude, &mut old).map_err(|e| format!("cannot read {}: {e}", original.display()))?;
    }
    let mut new = BTreeMap::new();
    walk(workspace, "", exclude, &mut new).map_err(|e| format!("cannot read the workspace: {e}"))?;
    let mut paths: Vec<&String> = old.keys().chain(new.keys()).collect();
    paths.sort();
    paths.dedup();
    let mut out = String::new();
    for path in paths {
        let before = old.get(path).map(|entry| (original.expect("entries come from a tree").join(path), entry));
        let after = new.get(path).map(|entry| (workspace.join(path), entry));
        let piece = file_diff(path, before, after).map_err(|e| format!("cannot diff {path}: {e}"))?;
        if out.len() + piece.len() > max_bytes {
            let mut end = max_bytes.saturating_sub(out.len()).min(piece.len());
            while !piece.is_char_boundary(end) {
                end -= 1;
            }
            out.push_str(&piece[..end]);
            out.push_str(CUT_NOTE);
            break;
        }
        out.push_str(&piece);
    }
    Ok(out)
}

/// Every file, link and special file under `dir`, by path relative to the
/// root (`/`-separated), links not followed.
fn walk(dir: &Path, prefix: &str, exclude: &[String], into: &mut BTreeMap<String, Entry>) -> std::io::Result<()> {
    for item in std::fs::read_dir(dir)? {
        let item = item?;
        let name = item.file_name().to_string_lossy().into_owned();
        if exclude.iter().any(|pattern| matches(pattern, &name)) {
            continue;
        }
        let path = format!("{prefix}{name}");
        let metadata = std::fs::symlink_metadata(item.path())?;
        let entry = if metadata.is_symlink() {
            Entry::Link(std::fs::read_link(item.path())?)
        } else if metadata.is_dir() {
            walk(&item.path(), &format!("{path}/"), exclude, into)?;
            continue;
        } else if metadata.is_file() {
            Entry::File { executable: metadata.permissions().mode() & 0o111 != 0 }
        } else {
            Entry::Special
        };
        into.insert(path, entry);
    }
    Ok(())
}

/// A glob with `*` (any run of characters) matched against a whole name.
fn matches(pattern: &str, name: &str) -> bool {
    let parts: Vec<&str> = pattern.split('*').collect();
    if parts.len() == 1 {
        return pattern == name;
    }
    let (first, last) = (parts[0], parts[parts.len() - 1]);
    if !name.starts_with(first) || name.len() < first.len() + last.len() || !name.ends_with(last) {
        return false;
    }
    let mut rest = &name[first.len()..name.len() - last.len()];
    for part in &parts[1..parts.len() - 1] {
        match rest.find(part) {
            Some(at) => rest = &rest[at + part.len()..],
            None => return false,
        }
    }
    true
}

/// One path's section of the diff: empty when nothing changed. A change of
/// kind (file to link) is a deletion and a creation, as git writes it.
fn file_diff(
    path: &str,
    before: Option<(PathBuf, &Entry)>,
    after: Option<(PathBuf, &Entry)>,
) -> std::io::Result<String> {
    let kind = |entry: &Entry| std::mem::discriminant(entry);
    if let (Some(b), Some(a)) = (&before, &after)
        && kind(b.1) != kind(a.1)
    {
        return Ok(file_diff(path, before, None)? + &file_diff(path, None, after)?);
    }
    let content = |side: &Option<(PathBuf, &Entry)>| -> std::io::Result<Option<Vec<u8>>> {
        match side {
            None => Ok(Some(Vec::new())),
            Some((_, Entry::Link(target))) => Ok(Some(target.as_os_str().as_encoded_bytes().to_vec())),
            Some((file, Entry::File { .. })) => std::fs::read(file).map(Some),
            Some((_, Entry::Special)) => Ok(None),
        }
    };
    let (old, new) = (content(&before)?, content(&after)?);
    let mut out = format!("diff --git a/{path} b/{path}\n");
    match (&before, &after) {
        (None, Some((_, entry))) => writeln!(out, "new file mode {}", entry.mode()),
        (Some((_, entry)), None) => writeln!(out, "deleted file mode {}", entry.mode()),
        (Some((_, b)), Some((_, a))) if b.mode() != a.mode() => {
            writeln!(out, "old mode {}\nnew mode {}", b.mode(), a.mode())
        }
        _ => Ok(()),
    }
    .expect("writing to a string");
    let header_only = out.lines().count() > 1;
    let (old_name, new_name) = (
        if before.is_some() { format!("a/{path}") } else { "/dev/null".into() },
        if after.is_some() { format!("b/{path}") } else { "/dev/null".into() },
    );
    let (Some(old), Some(new)) = (old, new) else {
        return Ok(format!("{out}Not diffed: {path} is a fifo, socket or device\n"));
    };
    if old == new && before.is_some() && after.is_some() {
        return Ok(if header_only { out } else { String::new() });
    }
    match (text(&old), text(&new)) {
        (Some(old_text), Some(new_text)) => {
            let hunks = similar::TextDiff::configure()
                .timeout(FILE_DIFF_TIMEOUT)
                .diff_lines(old_text, new_text)
                .unified_diff()
                .context_radius(3)
                .header(&old_name, &new_name)
                .to_string();
            out.push_str(&hunks);
        }
        _ => writeln!(out, "Binary files {old_name} and {new_name} differ").expect("writing to a string"),
    }
    Ok(out)
}

/// The bytes as text, unless they look binary (a NUL byte, or not UTF-8).
fn text(bytes: &[u8]) -> Option<&str> {
    if bytes[..bytes.len().min(BINARY_PROBE)].contains(&0) {
        return None;
    }
    std::str::from_utf8(bytes).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(root: &Path, path: &str, text: &str) {
        let path = root.join(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }

    #[test]
    fn globs_match_whole_names() {
        assert!(matches("*.pyc", "a.pyc") && !matches("*.pyc", "a.py"));
        assert!(matches(".git", ".git") && !matches(".git", ".github"));
        assert!(matches("a*b*c", "a-x-b-y-c") && !matches("a*b*c", "acb"));
    }

    #[tokio::test]
    async fn changes_creations_deletions_links_and_modes_in_git_form() {
        let original = tempfile::tempdir().unwrap();
        let workspace = tempfile::tempdir().unwrap();
        let (o, w) = (original.path(), workspace.path());
        write(o, "calc.py", "def add(a, b):\n    return a - b\n");
        write(w, "calc.py", "def add(a, b):\n    return a + b\n");
        write(o, "gone.txt", "bye\n");
        write(o, "same/kept.txt", "same\n");
        write(w, "same/kept.txt", "same\n");
        write(w, "src/new.txt", "hello");
        write(w, "__pycache__/calc.pyc", "\0\0");
        write(o, "run.sh", "echo hi\n");
        write(w, "run.sh", "echo hi\n");
        std::fs::set_permissions(w.join("run.sh"), std::fs::Permissions::from_mode(0o755)).unwrap();
        std::os::unix::fs::symlink("/etc/shadow", w.join("secret")).unwrap();
        let exclude = ["__pycache__".to_string()];
        let patch = diff(Some(o), w, &exclude, 1 << 20).await.unwrap();
        let expected = "\
diff --git a/calc.py b/calc.py
--- a/calc.py
+++ b/calc.py
@@ -1,2 +1,2 @@
 def add(a, b):
-    return a - b
+    return a + b
diff --git a/gone.txt b/gone.txt
deleted file mode 100644
--- a/gone.txt
+++ /dev/null
@@ -1 +0,0 @@
-bye
diff --git a/run.sh b/run.sh
old mode 100644
new mode 100755
diff --git a/secret b/secret
new file mode 120000
--- /dev/null
+++ b/secret
@@ -0,0 +1 @@
+/etc/shadow
\\ No newline at end of file
diff --git a/src/new.txt b/src/new.txt
new file mode 100644
--- /dev/null
+++ b/src/new.txt
@@ -0,0 +1 @@
+hello
\\ No newline at end of file
";
        assert_eq!(patch, expected);
        if std::process::Command::new("git").arg("--version").output().is_ok() {
            let apply = std::process::Command::new("git")
                .args(["apply", "--check", "-"])
                .current_dir(o)
                .stdin(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .and_then(|mut child| {
                    use std::io::Write;
                    child.stdin.take().unwrap().write_all(patch.as_bytes())?;
                    child.wait_with_output()
                })
                .unwrap();
            assert!(apply.status.success(), "git apply: {}", String::from_utf8_lossy(&apply.stderr));
        }
        assert_eq!(diff(Some(o), o, &[], 1 << 20).await.unwrap(), "", "no change, no diff");
        let cut = diff(Some(o), w, &exclude, 100).await.unwrap();
        assert!(cut.len() <= 100 + CUT_NOTE.len() && cut.ends_with(CUT_NOTE), "{cut}");
        let binary = tempfile::tempdir().unwrap();
        write(binary.path(), "b.bin", "\0\x01");
        let from_nothing = diff(None, binary.path(), &[], 1 << 20).await.unwrap();
        assert_eq!(
            from_nothing,
            "diff --git a/b.bin b/b.bin\nnew file mode 100644\nBinary files /dev/null and b/b.bin differ\n"
        );
    }
}

//! Crash-consistent changes to a root's plugin files.
//!
//! An install writes every file it brings into a staging folder,
//! `<root>/data/staging/<id>/`, laid out like the root (`plugins/…`, `etc/…`). The
//! plugin is loaded and checked from there. Only then is the change committed: a
//! `COMMIT` file (written beside, then renamed, so it is whole or absent) lists the
//! root files to remove, and the staged files are renamed into the root. A crash
//! before the commit leaves the root as it was (the staging folder is deleted at the
//! next start); a crash after it is rolled forward at the next start (the renames and
//! removals are repeated until done). Either way the root ends old or new, never a
//! mix. An uninstall is a commit with removals only.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use tributary_core::failpoint::Failpoint;
use tributary_core::Error;

const COMMIT: &str = "COMMIT";

/// One change being staged.
#[derive(Debug)]
pub struct Staged {
    root: PathBuf,
    dir: PathBuf,
    removes: Vec<PathBuf>,
    done: bool,
}

fn io(what: &str, path: &Path, e: std::io::Error) -> Error {
    Error::external(format!("cannot {what} {}: {e}", path.display()))
}

/// The folder of every staged change of a root.
pub fn staging_root(root: &Path) -> PathBuf {
    root.join("data").join("staging")
}

impl Staged {
    /// A new, empty staging folder.
    pub fn begin(root: &Path) -> Result<Staged, Error> {
        static NEXT: AtomicU64 = AtomicU64::new(0);
        let stamp = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        let dir = staging_root(root).join(format!(
            "{stamp}-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::create_dir_all(&dir).map_err(|e| io("create", &dir, e))?;
        Ok(Staged {
            root: root.to_path_buf(),
            dir,
            removes: Vec::new(),
            done: false,
        })
    }

    /// Where the root-relative `rel` is staged.
    pub fn path(&self, rel: &Path) -> PathBuf {
        self.dir.join(rel)
    }

    /// Stages `bytes` as the root-relative file `rel`.
    pub fn write(&self, rel: &Path, bytes: &[u8]) -> Result<PathBuf, Error> {
        let path = self.path(rel);
        if let Some(d) = path.parent() {
            std::fs::create_dir_all(d).map_err(|e| io("create", d, e))?;
        }
        std::fs::write(&path, bytes).map_err(|e| io("write", &path, e))?;
        Ok(path)
    }

    /// Has the commit remove the root-relative `rel` (a file or a folder).
    pub fn remove(&mut self, rel: &Path) {
        self.removes.push(rel.to_path_buf());
    }

    /// Commits: from here on the change happens, even across a crash.
    pub fn commit(mut self, fail: &Failpoint) -> Result<(), Error> {
        let list: Vec<String> = self
            .removes
            .iter()
            .map(|p| p.to_string_lossy().into_owned())
            .collect();
        let text = serde_json::json!({ "remove": list }).to_string();
        let tmp = self.dir.join(".COMMIT.tmp");
        let commit = self.dir.join(COMMIT);
        std::fs::write(&tmp, text)
            .and_then(|()| std::fs::File::open(&tmp)?.sync_all())
            .and_then(|()| std::fs::rename(&tmp, &commit))
            .map_err(|e| io("write", &commit, e))?;
        if let Ok(d) = std::fs::File::open(&self.dir) {
            let _ = d.sync_all();
        }
        self.done = true;
        fail.hit("committed");
        apply(&self.root, &self.dir, fail)
    }
}

impl Drop for Staged {
    /// Not committed: the change never happened.
    fn drop(&mut self) {
        if !self.done {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}

/// Carries out a committed change: removals, then every staged file renamed into
/// the root, then the staging folder goes. Repeating it after a crash is harmless.
fn apply(root: &Path, dir: &Path, fail: &Failpoint) -> Result<(), Error> {
    let commit = dir.join(COMMIT);
    let text = std::fs::read_to_string(&commit).map_err(|e| io("read", &commit, e))?;
    let json: serde_json::Value = serde_json::from_str(&text)
        .map_err(|e| Error::internal(format!("{}: {e}", commit.display())))?;
    for rel in json["remove"].as_array().into_iter().flatten() {
        let Some(rel) = rel.as_str() else { continue };
        let target = root.join(rel);
        let r = if target.is_dir() {
            std::fs::remove_dir_all(&target)
        } else {
            std::fs::remove_file(&target)
        };
        match r {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(io("remove", &target, e)),
        }
    }
    let mut files = Vec::new();
    walk(dir, &mut files).map_err(|e| io("list", dir, e))?;
    for staged in files {
        let Ok(rel) = staged.strip_prefix(dir) else {
            continue;
        };
        if rel == Path::new(COMMIT) {
            continue;
        }
        let target = root.join(rel);
        if let Some(d) = target.parent() {
            std::fs::create_dir_all(d).map_err(|e| io("create", d, e))?;
        }
        std::fs::rename(&staged, &target).map_err(|e| io("install", &target, e))?;
        fail.hit("renamed-one");
    }
    std::fs::remove_dir_all(dir).map_err(|e| io("remove", dir, e))
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    for e in std::fs::read_dir(dir)? {
        let e = e?;
        let p = e.path();
        if e.file_type()?.is_dir() {
            walk(&p, out)?;
        } else {
            out.push(p);
        }
    }
    Ok(())
}

/// At start: finishes every committed change and forgets every uncommitted one.
/// Returns how many were rolled forward and back.
pub fn recover(root: &Path) -> Result<(usize, usize), Error> {
    let base = staging_root(root);
    let entries = match std::fs::read_dir(&base) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok((0, 0)),
        Err(e) => return Err(io("list", &base, e)),
    };
    let (mut forward, mut back) = (0, 0);
    for e in entries.flatten() {
        let dir = e.path();
        if !dir.is_dir() {
            continue;
        }
        if dir.join(COMMIT).exists() {
            apply(root, &dir, &Failpoint::default())?;
            forward += 1;
        } else {
            std::fs::remove_dir_all(&dir).map_err(|e| io("remove", &dir, e))?;
            back += 1;
        }
    }
    Ok((forward, back))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uncommitted_changes_vanish_and_committed_ones_land() {
        let root = tempfile::tempdir().expect("tempdir");
        let r = root.path();
        std::fs::create_dir_all(r.join("plugins/functions")).expect("dir");
        std::fs::write(r.join("plugins/functions/old.wasm"), b"old").expect("write");
        {
            let s = Staged::begin(r).expect("begin");
            s.write(Path::new("plugins/functions/new.wasm"), b"new")
                .expect("stage");
            // Dropped without a commit.
        }
        assert!(!r.join("plugins/functions/new.wasm").exists());
        assert_eq!(recover(r).expect("recover"), (0, 0));

        let mut s = Staged::begin(r).expect("begin");
        s.write(Path::new("plugins/functions/new.wasm"), b"new")
            .expect("stage");
        s.write(Path::new("etc/functions/new/conf.yaml"), b"a: 1")
            .expect("stage");
        s.remove(Path::new("plugins/functions/old.wasm"));
        s.commit(&Failpoint::default()).expect("commit");
        assert_eq!(
            std::fs::read(r.join("plugins/functions/new.wasm")).expect("new"),
            b"new"
        );
        assert!(r.join("etc/functions/new/conf.yaml").exists());
        assert!(!r.join("plugins/functions/old.wasm").exists());
        assert_eq!(
            std::fs::read_dir(staging_root(r)).expect("staging").count(),
            0
        );
    }

    #[test]
    fn a_crash_before_or_after_the_commit_recovers_whole() {
        let root = tempfile::tempdir().expect("tempdir");
        let r = root.path();
        // Before: a staging folder without COMMIT (the process died mid-install).
        let dir = staging_root(r).join("1-1-0");
        std::fs::create_dir_all(dir.join("plugins/sinks")).expect("dir");
        std::fs::write(dir.join("plugins/sinks/x.wasm"), b"x").expect("write");
        // After: a committed one, half applied.
        let done = staging_root(r).join("2-1-0");
        std::fs::create_dir_all(done.join("plugins/sinks")).expect("dir");
        std::fs::write(done.join("plugins/sinks/y.wasm"), b"y").expect("write");
        std::fs::write(done.join(COMMIT), r#"{"remove":["plugins/sinks/z.wasm"]}"#)
            .expect("commit");
        std::fs::create_dir_all(r.join("plugins/sinks")).expect("dir");
        std::fs::write(r.join("plugins/sinks/z.wasm"), b"z").expect("old");
        assert_eq!(recover(r).expect("recover"), (1, 1));
        assert!(!r.join("plugins/sinks/x.wasm").exists());
        assert!(r.join("plugins/sinks/y.wasm").exists());
        assert!(!r.join("plugins/sinks/z.wasm").exists());
    }
}

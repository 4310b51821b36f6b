//! One `serve` per root. Two servers on one root would both run every rule, write
//! the same sinks and split the catalog between them; the second is refused instead.
//!
//! The lock is an exclusive advisory lock (`flock`) on `<root>/data/serve.lock`,
//! held for the life of the process. The kernel drops it when the process ends,
//! however it ends, so a crash never leaves a stale lock behind.

use std::fs::File;
use std::path::Path;
use tributary_core::Error;

/// Held while the server runs; released on drop or exit.
#[derive(Debug)]
pub struct RootLock {
    _file: File,
}

impl RootLock {
    /// Takes the lock of `root`, or fails naming the root when another process
    /// holds it.
    pub fn acquire(root: &Path) -> Result<RootLock, Error> {
        let dir = root.join("data");
        std::fs::create_dir_all(&dir)
            .map_err(|e| Error::user(format!("cannot create {}: {e}", dir.display())))?;
        let path = dir.join("serve.lock");
        let file = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(|e| Error::user(format!("cannot open {}: {e}", path.display())))?;
        match file.try_lock() {
            Ok(()) => Ok(RootLock { _file: file }),
            Err(std::fs::TryLockError::WouldBlock) => Err(Error::user(format!(
                "another tributary serve is already running on the root {} (it holds {}); stop it first",
                root.display(),
                path.display()
            ))),
            Err(std::fs::TryLockError::Error(e)) => Err(Error::user(format!(
                "cannot lock {}: {e}",
                path.display()
            ))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_lock_on_one_root_is_refused_until_the_first_goes() {
        let dir = tempfile::tempdir().expect("tempdir");
        let first = RootLock::acquire(dir.path()).expect("first");
        let e = RootLock::acquire(dir.path()).expect_err("second");
        assert!(e.to_string().contains("already running"), "{e}");
        drop(first);
        RootLock::acquire(dir.path()).expect("free again");
    }
}

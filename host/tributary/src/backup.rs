//! `tributary backup --root DIR --to DEST`: a consistent copy of a root, taken while
//! its server runs. Copying `data/state.db` by hand is not one: the catalog and
//! recent state are in its `-wal` file until SQLite checkpoints it.
//!
//! DEST becomes a root of its own, ready for `serve --root DEST`: the store as one
//! snapshot (`VACUUM INTO`), and `etc/`, `plugins/` and `data/init.json` copied.
//! Caches (`data/wasm-cache`, `data/native-cache`), staging and the server's lock are
//! left out: they are rebuilt. A root on Redis is refused: back Redis up with its own
//! tools (`BGSAVE`), and this root's files with any copy.

use std::path::Path;
use tributary_core::Error;

fn copy_tree(from: &Path, to: &Path) -> Result<u64, Error> {
    let mut n = 0;
    let entries = match std::fs::read_dir(from) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(0),
        Err(e) => return Err(Error::io(format!("cannot read {}", from.display()), e)),
    };
    std::fs::create_dir_all(to)
        .map_err(|e| Error::io(format!("cannot create {}", to.display()), e))?;
    for e in entries {
        let e = e.map_err(|e| Error::io(format!("cannot read {}", from.display()), e))?;
        let (src, dst) = (e.path(), to.join(e.file_name()));
        let kind = e
            .file_type()
            .map_err(|e| Error::io(format!("cannot read {}", src.display()), e))?;
        if kind.is_dir() {
            n += copy_tree(&src, &dst)?;
        } else if kind.is_file() {
            std::fs::copy(&src, &dst)
                .map_err(|e| Error::io(format!("cannot copy {}", src.display()), e))?;
            n += 1;
        }
    }
    Ok(n)
}

/// Backs `root` up into `dest`, which must not exist yet or be empty.
pub fn run(root: &Path, dest: &Path) -> Result<(), Error> {
    if std::fs::read_dir(dest).is_ok_and(|mut d| d.next().is_some()) {
        return Err(Error::user(format!(
            "{} is not empty; a backup goes into a new folder",
            dest.display()
        )));
    }
    let cfg = tributary_state::StoreConfig::load(root)?;
    let db = cfg.sqlite_path(root).ok_or_else(|| {
        Error::user(
            "the root keeps its state in Redis (or memory): back Redis up with its own tools (BGSAVE) and copy etc/ and plugins/",
        )
    })?;
    let data = dest.join("data");
    std::fs::create_dir_all(&data)
        .map_err(|e| Error::io(format!("cannot create {}", data.display()), e))?;
    if db.exists() {
        let store = tributary_state::SqliteStateStore::open(&db).map_err(Error::external)?;
        let name = db.file_name().unwrap_or_default();
        store.snapshot(&data.join(name)).map_err(Error::external)?;
    }
    let mut files = copy_tree(&root.join("etc"), &dest.join("etc"))?;
    files += copy_tree(&root.join("plugins"), &dest.join("plugins"))?;
    let init = root.join("data").join("init.json");
    if init.exists() {
        std::fs::copy(&init, data.join("init.json"))
            .map_err(|e| Error::io(format!("cannot copy {}", init.display()), e))?;
        files += 1;
    }
    crate::say!(
        "backed up {} into {} (the store as one snapshot, {files} files)",
        root.display(),
        dest.display()
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use tributary_core::state::StateStore;

    #[test]
    fn a_backup_holds_what_the_live_store_holds() {
        let root = tempfile::tempdir().expect("tempdir");
        std::fs::create_dir_all(root.path().join("etc/sources")).expect("etc");
        std::fs::write(root.path().join("etc/sources/x.yaml"), "a: 1").expect("conf");
        let store = tributary_state::SqliteStateStore::open(&root.path().join("data/state.db"))
            .expect("store");
        store
            .put("catalog/rules", "r1", tributary_core::Value::str("{}"))
            .expect("put");
        // Still open, writes in the WAL: the snapshot has them anyway.
        let dest = root.path().join("backup");
        run(root.path(), &dest).expect("backup");
        let copy =
            tributary_state::SqliteStateStore::open(&dest.join("data/state.db")).expect("copy");
        assert_eq!(
            copy.get("catalog/rules", "r1").expect("get"),
            Some(tributary_core::Value::str("{}"))
        );
        assert!(dest.join("etc/sources/x.yaml").exists());
        let e = run(root.path(), &dest).expect_err("not empty");
        assert!(e.to_string().contains("not empty"), "{e}");
    }
}

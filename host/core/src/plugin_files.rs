//! Finding plugin files of every tier: `<root>/plugins/<kind>/name.<ext>` or
//! `name@v1.2.0.<ext>` (`.wasm` components, `.so` native libraries). When several
//! versions of one name are present the highest wins, compared as semver where both
//! parse and as strings otherwise (eKuiper's rule).

use std::cmp::Ordering;
use std::path::{Path, PathBuf};

/// One plugin file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PluginFile {
    pub name: String,
    /// Without the leading `v`; empty when the file carries none.
    pub version: String,
    pub path: PathBuf,
}

/// Splits `name@v1.2.0.wasm` into `("name", "1.2.0")`; `None` for other extensions.
pub fn parse_file_name(file: &str, ext: &str) -> Option<(String, String)> {
    let stem = file.strip_suffix(&format!(".{ext}"))?;
    // The version may contain dots, so split on the last '@'.
    let (name, version) = match stem.rsplit_once('@') {
        Some((n, v)) => (n, v.trim_start_matches('v')),
        None => (stem, ""),
    };
    if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        return None;
    }
    Some((name.to_string(), version.to_string()))
}

fn semver(v: &str) -> Option<(u64, u64, u64)> {
    let core = v.split(['-', '+']).next()?;
    let mut it = core.split('.');
    let major = it.next()?.parse().ok()?;
    let minor = it.next().unwrap_or("0").parse().ok()?;
    let patch = it.next().unwrap_or("0").parse().ok()?;
    if it.next().is_some() {
        return None;
    }
    Some((major, minor, patch))
}

/// eKuiper's version order.
pub fn compare_versions(a: &str, b: &str) -> Ordering {
    match (semver(a), semver(b)) {
        (Some(x), Some(y)) => x.cmp(&y),
        _ => a.cmp(b),
    }
}

/// The plugins of one kind folder, highest version per name, sorted by name.
pub fn discover(dir: &Path, ext: &str) -> std::io::Result<Vec<PluginFile>> {
    let mut found: Vec<PluginFile> = Vec::new();
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(found),
        Err(e) => return Err(e),
    };
    for entry in entries {
        let entry = entry?;
        if !entry.file_type()?.is_file() {
            continue;
        }
        let file = entry.file_name().to_string_lossy().into_owned();
        let Some((name, version)) = parse_file_name(&file, ext) else {
            continue;
        };
        let candidate = PluginFile {
            name,
            version,
            path: entry.path(),
        };
        match found.iter_mut().find(|p| p.name == candidate.name) {
            Some(existing) => {
                if compare_versions(&candidate.version, &existing.version) == Ordering::Greater {
                    *existing = candidate;
                }
            }
            None => found.push(candidate),
        }
    }
    found.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_versions() {
        assert_eq!(
            parse_file_name("echo.wasm", "wasm"),
            Some(("echo".into(), "".into()))
        );
        assert_eq!(
            parse_file_name("countPlusOne@v1.2.0.wasm", "wasm"),
            Some(("countPlusOne".into(), "1.2.0".into()))
        );
        assert_eq!(parse_file_name("x.so", "wasm"), None);
        assert_eq!(parse_file_name("bad name.wasm", "wasm"), None);
        assert_eq!(compare_versions("1.10.0", "1.9.0"), Ordering::Greater);
        assert_eq!(compare_versions("b", "a"), Ordering::Greater);
    }

    #[test]
    fn highest_version_wins() {
        let dir = tempfile::tempdir().expect("tempdir");
        for f in [
            "f@v1.9.0.wasm",
            "f@v1.10.0.wasm",
            "f.wasm",
            "g.wasm",
            "notes.txt",
        ] {
            std::fs::write(dir.path().join(f), b"").expect("write");
        }
        let found = discover(dir.path(), "wasm").expect("discover");
        assert_eq!(found.len(), 2);
        assert_eq!(found[0].version, "1.10.0");
        assert_eq!(found[1].name, "g");
    }
}

//! The operator's side of capabilities: `<root>/etc/wasm.yaml`.
//!
//! ```yaml
//! limits: {memoryMiB: 64, deadlineMs: 1000}   # every plugin's limits (optional)
//! pool: {instances: 10000}    # the instance pool (optional; see [`PoolConf`])
//! grants:
//!   fileSink:                 # a plugin name
//!     dirs: ["/tmp/out"]      # directories it may get (and anything below them)
//!     writable: true          # whether those may be read-write
//!     env: ["HOME"]           # environment variables it may read
//!     network:                # hosts and ports it may reach (none by default)
//!       - {host: 127.0.0.1, ports: [6379]}
//!       - http://127.0.0.1:8086
//!     etc: true               # its read-only etc folder (the default)
//!     limits: {memoryMiB: 128} # this plugin's own limits (optional)
//! ```
//!
//! Without the file, or without an entry for a plugin, the plugin may have only the
//! read-only view of its own etc folder: granting is the operator's decision, never
//! the plugin author's.

use crate::manifest::LimitsConf;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use tributary_core::Error;

/// The file, relative to the root, as messages name it.
pub const GRANTS_FILE: &str = "etc/wasm.yaml";

/// What the operator allows, for every plugin and per plugin.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Grants {
    /// Limits of every plugin (the engine's defaults where unset).
    #[serde(default)]
    pub limits: LimitsConf,
    /// By plugin name.
    #[serde(default)]
    pub grants: BTreeMap<String, Grant>,
    /// The sizes of the wasm tier's instance pool (its defaults where unset).
    #[serde(default)]
    pub pool: PoolConf,
}

/// How many of each thing the wasm tier's pooling allocator holds ready. Instances
/// beyond them are allocated on demand (slower to create, never refused).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct PoolConf {
    /// Plugin instances (one per rule and call site, source or sink) alive at once.
    pub instances: Option<u32>,
    /// Core wasm instances (a component holds a few).
    pub core_instances: Option<u32>,
    /// Linear memories.
    pub memories: Option<u32>,
    /// Tables.
    pub tables: Option<u32>,
}

/// What one plugin may be given.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Grant {
    /// Directories, absolute or relative to the root; a plugin may ask for any of them
    /// or a directory below one.
    #[serde(default)]
    pub dirs: Vec<PathBuf>,
    /// Whether the directories may be granted read-write (otherwise read-only).
    #[serde(default)]
    pub writable: bool,
    /// Environment variables the plugin may read.
    #[serde(default)]
    pub env: Vec<String>,
    /// Hosts and ports it may reach ([`crate::network`]); none unless listed.
    #[serde(default, deserialize_with = "crate::network::entries")]
    pub network: Vec<crate::network::NetGrant>,
    /// The read-only view of the plugin's etc folder; granted unless set to false.
    #[serde(default = "yes")]
    pub etc: bool,
    /// Limits of this plugin, instead of the file's `limits`.
    #[serde(default)]
    pub limits: LimitsConf,
}

fn yes() -> bool {
    true
}

impl Default for Grant {
    /// What a plugin without an entry may have: its etc folder, read-only.
    fn default() -> Self {
        Grant {
            dirs: Vec::new(),
            writable: false,
            env: Vec::new(),
            network: Vec::new(),
            etc: true,
            limits: LimitsConf::default(),
        }
    }
}

impl Grants {
    /// Parses the file's text; errors name `file` (and serde names the key).
    pub fn parse(text: &str, file: &Path) -> Result<Self, Error> {
        // An empty file (or one holding only comments) grants nothing extra.
        if text.lines().all(|l| {
            let l = l.trim();
            l.is_empty() || l.starts_with('#')
        }) {
            return Ok(Grants::default());
        }
        let g: Grants = serde_yaml::from_str(text)
            .map_err(|e| Error::user(format!("{}: {e}", file.display())))?;
        g.limits.check(file)?;
        for (name, grant) in &g.grants {
            grant
                .limits
                .check(file)
                .map_err(|e| Error::user(format!("{e} (grants.{name})")))?;
        }
        Ok(g)
    }

    /// Reads `<root>/etc/wasm.yaml`; a missing file grants nothing beyond the defaults.
    pub fn load(root: &Path) -> Result<Self, Error> {
        let file = root.join(GRANTS_FILE);
        match std::fs::read_to_string(&file) {
            Ok(text) => Grants::parse(&text, &file),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Grants::default()),
            Err(e) => Err(Error::external(format!("{}: {e}", file.display()))),
        }
    }

    /// The grant of plugin `name` (the default grant when it has no entry).
    pub fn of(&self, name: &str) -> Grant {
        self.grants.get(name).cloned().unwrap_or_default()
    }

    /// The limits of plugin `name` before its manifest lowers them: its own entry's,
    /// else the file's.
    pub fn limits_of(&self, name: &str) -> LimitsConf {
        let own = self.grants.get(name).map(|g| g.limits).unwrap_or_default();
        LimitsConf {
            memory_mib: own.memory_mib.or(self.limits.memory_mib),
            deadline_ms: own.deadline_ms.or(self.limits.deadline_ms),
            io_wait_ms: own.io_wait_ms.or(self.limits.io_wait_ms),
        }
    }

    /// The largest memory limit the file sets anywhere, which sizes the engine's
    /// memory pool (the ceiling no instance can pass).
    pub fn max_memory_mib(&self) -> Option<u64> {
        std::iter::once(self.limits.memory_mib)
            .chain(self.grants.values().map(|g| g.limits.memory_mib))
            .flatten()
            .max()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Grants, String> {
        Grants::parse(text, Path::new("/r/etc/wasm.yaml")).map_err(|e| e.to_string())
    }

    #[test]
    fn the_documented_shape() {
        let g = parse(
            "limits: {memoryMiB: 64, deadlineMs: 1000}\ngrants:\n  fileSink:\n    dirs: [\"/tmp/out\"]\n    writable: true\n    env: [\"HOME\"]\n  quiet:\n    etc: false\n    limits: {memoryMiB: 128}\n",
        )
        .expect("grants");
        assert_eq!(g.limits.memory_mib, Some(64));
        let f = g.of("fileSink");
        assert_eq!(f.dirs, [PathBuf::from("/tmp/out")]);
        assert!(f.writable && f.etc);
        assert_eq!(f.env, ["HOME"]);
        assert!(!g.of("quiet").etc);
        assert_eq!(g.of("other"), Grant::default());
        assert_eq!(g.limits_of("quiet").memory_mib, Some(128));
        assert_eq!(g.limits_of("quiet").deadline_ms, Some(1000));
        assert_eq!(g.limits_of("other").memory_mib, Some(64));
        assert_eq!(g.max_memory_mib(), Some(128));
    }

    #[test]
    fn empty_and_missing_files_grant_the_defaults() {
        assert_eq!(parse("").expect("empty"), Grants::default());
        assert_eq!(
            parse("# nothing yet\n").expect("comments"),
            Grants::default()
        );
        let dir = tempfile::tempdir().expect("tempdir");
        assert_eq!(
            Grants::load(dir.path()).expect("missing"),
            Grants::default()
        );
        assert_eq!(Grants::default().max_memory_mib(), None);
    }

    #[test]
    fn mistakes_name_the_file_and_the_key() {
        let e = parse("grants:\n  fileSink:\n    dir: [\"/tmp\"]\n").expect_err("typo");
        assert!(e.starts_with("/r/etc/wasm.yaml: "), "{e}");
        assert!(e.contains("unknown field `dir`"), "{e}");
        let e = parse("limit: {}\n").expect_err("typo");
        assert!(e.contains("unknown field `limit`"), "{e}");
        let e = parse("grants:\n  x:\n    limits: {deadlineMs: 0}\n").expect_err("zero");
        assert!(
            e.contains("limits.deadlineMs must be positive (grants.x)"),
            "{e}"
        );
    }
}

//! A plugin's manifest: the JSON file beside its artifact that says what the plugin
//! asks for (its `etc` folder, directories, environment variables, network) and the limits it
//! wants to run under. What a plugin asks and what the operator grants is the host's
//! policy; a tier that sandboxes its plugins (wasm) enforces the intersection.
//!
//! A manifest only *asks*; the operator grants in `etc/wasm.yaml` ([`crate::grants`]),
//! and the plugin gets the intersection (the tier applies it: wasm's `capabilities`). Unknown keys are
//! errors rather than ignored, so a misspelt capability cannot silently turn into a
//! plugin that fails later at run time.
//!
//! ```json
//! {"capabilities": {"etc": true, "dirs": [{"path": "data/out", "write": true}], "env": ["TZ"],
//!                   "network": [{"host": "*", "ports": [6379]}, "http://*:8086"]},
//!  "limits": {"memoryMiB": 32, "deadlineMs": 500}}
//! ```

use serde::Deserialize;
use std::path::{Path, PathBuf};
use tributary_core::Error;

/// What a plugin's manifest says. Every part is optional: a plugin without a manifest
/// asks for nothing and runs under the operator's limits.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    #[serde(default)]
    pub capabilities: Asked,
    #[serde(default)]
    pub limits: LimitsConf,
}

/// The capabilities a plugin asks for.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Asked {
    /// A read-only view of the plugin's own folder `<root>/etc/<kind>/<name>`.
    #[serde(default)]
    pub etc: bool,
    /// Directories, absolute or relative to the engine root.
    #[serde(default)]
    pub dirs: Vec<AskedDir>,
    /// Environment variables, by name; their values come from the host's environment.
    #[serde(default)]
    pub env: Vec<String>,
    /// Hosts and ports it may reach ([`crate::network`]); none by default.
    #[serde(default, deserialize_with = "crate::network::entries")]
    pub network: Vec<crate::network::NetGrant>,
}

/// One directory a plugin asks for.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AskedDir {
    pub path: String,
    /// Read-write instead of read-only.
    #[serde(default)]
    pub write: bool,
}

/// Limits, as both the manifest and `etc/wasm.yaml` write them. `None`: not set here.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LimitsConf {
    #[serde(default, rename = "memoryMiB")]
    pub memory_mib: Option<u64>,
    #[serde(default, rename = "deadlineMs")]
    pub deadline_ms: Option<u64>,
    /// The longest one call may take in all, time blocked on I/O included (the
    /// deadline counts only time the plugin's code runs).
    #[serde(default, rename = "ioWaitMs")]
    pub io_wait_ms: Option<u64>,
}

impl LimitsConf {
    /// Refuses zero limits: a plugin that may use no memory or no time cannot run, so
    /// a zero is a mistake better reported at load than as a trap on every call.
    pub fn check(&self, file: &Path) -> Result<(), Error> {
        for (key, v) in [
            ("memoryMiB", self.memory_mib),
            ("deadlineMs", self.deadline_ms),
            ("ioWaitMs", self.io_wait_ms),
        ] {
            if v == Some(0) {
                return Err(Error::user(format!(
                    "{}: limits.{key} must be positive",
                    file.display()
                )));
            }
        }
        Ok(())
    }
}

impl Manifest {
    /// Parses a manifest's text; errors name `file` (and serde names the key).
    pub fn parse(text: &str, file: &Path) -> Result<Self, Error> {
        let m: Manifest = serde_json::from_str(text)
            .map_err(|e| Error::user(format!("plugin manifest {}: {e}", file.display())))?;
        m.limits
            .check(file)
            .map_err(|e| Error::user(format!("plugin manifest {e}")))?;
        Ok(m)
    }

    /// The manifest of the component at `wasm`, or the empty manifest when it has none.
    /// Returns the file it read, for error messages.
    pub fn for_component(wasm: &Path, name: &str) -> Result<(Self, Option<PathBuf>), Error> {
        let Some(file) = manifest_path(wasm, name) else {
            return Ok((Manifest::default(), None));
        };
        let text = std::fs::read_to_string(&file)
            .map_err(|e| Error::user(format!("plugin manifest {}: {e}", file.display())))?;
        Ok((Manifest::parse(&text, &file)?, Some(file)))
    }
}

/// Where the manifest of `wasm` is: `x@v1.2.0.json` beside `x@v1.2.0.wasm` if present,
/// else `<name>.json` beside it, so one manifest can serve every version of a plugin.
pub fn manifest_path(wasm: &Path, name: &str) -> Option<PathBuf> {
    let exact = wasm.with_extension("json");
    if exact.is_file() {
        return Some(exact);
    }
    let shared = wasm.with_file_name(format!("{name}.json"));
    shared.is_file().then_some(shared)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Manifest, String> {
        Manifest::parse(text, Path::new("plugins/sinks/fileSink.json")).map_err(|e| e.to_string())
    }

    #[test]
    fn full_manifest() {
        let m = parse(
            r#"{"capabilities": {"etc": true, "dirs": [{"path": "/tmp/out", "write": true}, {"path": "data"}], "env": ["VAR1"]},
                "limits": {"memoryMiB": 32, "deadlineMs": 500}}"#,
        )
        .expect("manifest");
        assert!(m.capabilities.etc);
        assert_eq!(
            m.capabilities.dirs,
            [
                AskedDir {
                    path: "/tmp/out".into(),
                    write: true
                },
                AskedDir {
                    path: "data".into(),
                    write: false
                }
            ]
        );
        assert_eq!(m.capabilities.env, ["VAR1"]);
        assert_eq!(m.limits.memory_mib, Some(32));
        assert_eq!(m.limits.deadline_ms, Some(500));
    }

    #[test]
    fn everything_is_optional() {
        assert_eq!(parse("{}").expect("empty"), Manifest::default());
        assert_eq!(
            parse(r#"{"capabilities": {}}"#).expect("empty caps"),
            Manifest::default()
        );
    }

    #[test]
    fn unknown_keys_name_the_file_and_the_key() {
        for (text, key) in [
            (r#"{"capabilites": {}}"#, "capabilites"),
            (r#"{"capabilities": {"fs": true}}"#, "fs"),
            (
                r#"{"capabilities": {"dirs": [{"path": "x", "rw": true}]}}"#,
                "rw",
            ),
            (r#"{"limits": {"memoryMB": 3}}"#, "memoryMB"),
        ] {
            let e = parse(text).expect_err(text);
            assert!(e.contains("plugins/sinks/fileSink.json"), "{e}");
            assert!(e.contains(&format!("unknown field `{key}`")), "{e}");
        }
    }

    #[test]
    fn malformed_and_refused_manifests() {
        let e = parse("{not json").expect_err("malformed");
        assert!(
            e.starts_with("plugin manifest plugins/sinks/fileSink.json: "),
            "{e}"
        );
        let e = parse(r#"{"capabilities": {"network": true}}"#).expect_err("network");
        assert!(
            e.starts_with("plugin manifest plugins/sinks/fileSink.json: ")
                && e.contains("capabilities.network is a list of"),
            "{e}"
        );
        let e = parse(r#"{"capabilities": {"network": ["ftp://x"]}}"#).expect_err("scheme");
        assert!(e.contains("only http and https"), "{e}");
        let m = parse(r#"{"capabilities": {"network": [{"host": "*", "ports": [6379]}]}}"#)
            .expect("network");
        assert_eq!(m.capabilities.network.len(), 1);
        let e = parse(r#"{"limits": {"deadlineMs": 0}}"#).expect_err("zero");
        assert!(e.contains("limits.deadlineMs must be positive"), "{e}");
        let e = parse(r#"{"capabilities": {"dirs": [{"write": true}]}}"#).expect_err("no path");
        assert!(e.contains("missing field `path`"), "{e}");
    }

    #[test]
    fn versioned_manifest_first_then_shared() {
        let dir = tempfile::tempdir().expect("tempdir");
        let wasm = dir.path().join("f@v1.2.0.wasm");
        assert_eq!(manifest_path(&wasm, "f"), None);
        std::fs::write(dir.path().join("f.json"), "{}").expect("write");
        assert_eq!(manifest_path(&wasm, "f"), Some(dir.path().join("f.json")));
        std::fs::write(dir.path().join("f@v1.2.0.json"), "{}").expect("write");
        assert_eq!(
            manifest_path(&wasm, "f"),
            Some(dir.path().join("f@v1.2.0.json"))
        );
        // `with_extension` replaces only the last extension, keeping the version's dots.
        assert_eq!(
            manifest_path(&dir.path().join("f.wasm"), "f"),
            Some(dir.path().join("f.json"))
        );
    }
}

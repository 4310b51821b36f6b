//! Plugin packages: a zip read whole into memory and checked before anything is
//! written.
//!
//! Two layouts are accepted:
//! - **Tributary's**: `manifest.json` (`name`, `version`, `kind`, `tier`,
//!   `functions`, `artifact`, `sha256` of the artifact), the artifact, an optional
//!   wasm capability manifest `<name>.json`, and an optional `etc/` folder.
//! - **eKuiper's flat zips**: `Name@v1.0.0.so` (or `name.so`, or `.wasm`), an optional
//!   `<name>.json` (UI metadata), `<name>.yaml` (a source's default conf), `etc/`.
//!
//! Refused, with the entry named: paths that escape the package (zip-slip), absolute
//! paths, symlinks, entries over [`MAX_ENTRY`] (or a package over [`MAX_TOTAL`]), a
//! manifest that does not match the request or its artifact, a wrong checksum. An
//! `install.sh` is refused unless the operator enables scripts.

use crate::kind::PluginKind;
use crate::tier::Tier;
use std::io::Read;
use std::path::{Component, Path, PathBuf};
use std::sync::Arc;
use tributary_core::Error;

/// The largest entry a package may hold, uncompressed.
pub const MAX_ENTRY: u64 = 64 << 20;
/// The largest a whole package may be, uncompressed.
pub const MAX_TOTAL: u64 = 256 << 20;

/// A checked package, ready to be written into a root.
pub struct Package {
    pub name: String,
    pub version: String,
    pub kind: PluginKind,
    /// The tier the artifact runs in (one of the host's).
    pub tier: Arc<dyn Tier>,
    /// The functions the manifest declares (checked against the plugin once loaded).
    pub functions: Option<Vec<String>>,
    pub artifact: Vec<u8>,
    /// `<name>.json`: a wasm plugin's capability manifest, or eKuiper's UI metadata.
    pub metadata: Option<Vec<u8>>,
    /// A source's default conf (`etc/sources/<name>.yaml`).
    pub source_conf: Option<Vec<u8>>,
    /// Files of the package's `etc/` folder, relative to it.
    pub etc: Vec<(PathBuf, Vec<u8>)>,
    /// Other files (an eKuiper `install.sh` and what it uses).
    pub install_script: Option<Vec<u8>>,
}

fn bad(msg: impl Into<String>) -> Error {
    Error::user(format!("plugin package: {}", msg.into()))
}

/// The hex SHA-256 of `bytes` (what package manifests and `sha256` fields hold).
pub fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(bytes))
}

/// A relative path inside the package with no `..`, root or prefix.
fn safe_path(name: &str) -> Result<PathBuf, Error> {
    let p = Path::new(name);
    let mut out = PathBuf::new();
    for c in p.components() {
        match c {
            Component::Normal(s) => out.push(s),
            Component::CurDir => {}
            _ => {
                return Err(bad(format!(
                    "entry {name:?} escapes the package folder (absolute or ..)"
                )))
            }
        }
    }
    Ok(out)
}

/// Reads every file of a zip, refusing unsafe entries.
pub fn entries(bytes: &[u8]) -> Result<Vec<(PathBuf, Vec<u8>)>, Error> {
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes))
        .map_err(|e| bad(format!("not a zip file: {e}")))?;
    let mut out = Vec::new();
    let mut total = 0u64;
    for i in 0..zip.len() {
        let mut f = zip
            .by_index(i)
            .map_err(|e| bad(format!("entry {i}: {e}")))?;
        let name = f.name().to_string();
        let path = safe_path(&name)?;
        if f.is_dir() {
            continue;
        }
        if f.unix_mode().is_some_and(|m| m & 0o170000 == 0o120000) {
            return Err(bad(format!("entry {name:?} is a symlink")));
        }
        if f.size() > MAX_ENTRY {
            return Err(bad(format!(
                "entry {name:?} is {} MiB, over the {} MiB limit",
                f.size() >> 20,
                MAX_ENTRY >> 20
            )));
        }
        // The header's size may lie: read at most one byte past the limit.
        let mut data = Vec::with_capacity(f.size() as usize);
        (&mut f)
            .take(MAX_ENTRY + 1)
            .read_to_end(&mut data)
            .map_err(|e| bad(format!("entry {name:?}: {e}")))?;
        if data.len() as u64 > MAX_ENTRY {
            return Err(bad(format!(
                "entry {name:?} is over the {} MiB limit",
                MAX_ENTRY >> 20
            )));
        }
        total += data.len() as u64;
        if total > MAX_TOTAL {
            return Err(bad(format!(
                "the package is over the {} MiB limit",
                MAX_TOTAL >> 20
            )));
        }
        out.push((path, data));
    }
    Ok(out)
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct Manifest {
    name: String,
    #[serde(default)]
    version: String,
    kind: String,
    tier: String,
    #[serde(default)]
    functions: Option<Vec<String>>,
    artifact: String,
    sha256: String,
}

impl std::fmt::Debug for Package {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Package")
            .field("name", &self.name)
            .field("version", &self.version)
            .field("kind", &self.kind)
            .field("tier", &self.tier.name())
            .finish()
    }
}

/// Reads and checks a package for plugin `name` of `kind`, whose artifact must be
/// for one of `tiers`.
pub fn read(
    bytes: &[u8],
    name: &str,
    kind: PluginKind,
    allow_scripts: bool,
    tiers: &[Arc<dyn Tier>],
) -> Result<Package, Error> {
    let files = entries(bytes)?;
    let find = |p: &str| {
        files
            .iter()
            .find(|(f, _)| f == Path::new(p))
            .map(|(_, d)| d)
    };
    let etc: Vec<(PathBuf, Vec<u8>)> = files
        .iter()
        .filter_map(|(p, d)| {
            p.strip_prefix("etc")
                .ok()
                .filter(|r| !r.as_os_str().is_empty())
                .map(|r| (r.to_path_buf(), d.clone()))
        })
        .collect();
    let install_script = find("install.sh").cloned();
    if install_script.is_some() && !allow_scripts {
        return Err(bad(
            "it has an install.sh, and scripts are off: set plugins.allowInstallScripts: true in etc/tributary.yaml to run it",
        ));
    }
    let metadata = find(&format!("{name}.json")).cloned();
    let source_conf = find(&format!("{name}.yaml")).cloned();
    if let Some(m) = find("manifest.json") {
        let m: Manifest =
            serde_json::from_slice(m).map_err(|e| bad(format!("manifest.json: {e}")))?;
        if m.name != name {
            return Err(bad(format!(
                "manifest.json names the plugin {:?}, not {name:?}",
                m.name
            )));
        }
        let mkind = PluginKind::parse(&m.kind).ok_or_else(|| {
            bad(format!(
                "manifest.json: kind {:?} is not one of function, source, sink",
                m.kind
            ))
        })?;
        if mkind != kind {
            return Err(bad(format!(
                "manifest.json: the package is a {} plugin, not a {} one",
                mkind.folder(),
                kind.folder()
            )));
        }
        let tier = tiers
            .iter()
            .find(|t| t.name() == m.tier)
            .cloned()
            .ok_or_else(|| {
                bad(format!(
                    "manifest.json: tier {:?} is not one of {}",
                    m.tier,
                    tiers
                        .iter()
                        .map(|t| t.name())
                        .collect::<Vec<_>>()
                        .join(", ")
                ))
            })?;
        let artifact_path = safe_path(&m.artifact)?;
        let artifact = files
            .iter()
            .find(|(p, _)| *p == artifact_path)
            .map(|(_, d)| d.clone())
            .ok_or_else(|| {
                bad(format!(
                    "the artifact {:?} is not in the package",
                    m.artifact
                ))
            })?;
        if !m.artifact.ends_with(&format!(".{}", tier.ext())) {
            return Err(bad(format!(
                "the artifact {:?} is not a .{} file, as tier {} needs",
                m.artifact,
                tier.ext(),
                tier.name()
            )));
        }
        let sum = sha256_hex(&artifact);
        if !sum.eq_ignore_ascii_case(m.sha256.trim()) {
            return Err(bad(format!(
                "the artifact's sha256 is {sum}, the manifest says {}",
                m.sha256
            )));
        }
        return Ok(Package {
            name: name.to_string(),
            version: m.version,
            kind,
            tier,
            functions: m.functions,
            artifact,
            metadata,
            source_conf,
            etc,
            install_script,
        });
    }
    // eKuiper's flat layout: the one top-level artifact named after the plugin.
    let mut artifacts = Vec::new();
    for (p, d) in &files {
        if p.components().count() != 1 {
            continue;
        }
        let file = p.to_string_lossy();
        for tier in tiers {
            if let Some((stem, version)) =
                tributary_core::plugin_files::parse_file_name(&file, tier.ext())
            {
                if tier.name_of(&stem) == name {
                    artifacts.push((tier.clone(), version, d.clone(), file.to_string()));
                }
            }
        }
    }
    match artifacts.len() {
        0 => Err(bad(format!(
            "no manifest.json and no {} at the top of the package",
            tiers
                .iter()
                .map(|t| format!("{name}.{0} or {name}@<version>.{0}", t.ext()))
                .collect::<Vec<_>>()
                .join(", ")
        ))),
        1 => {
            let (tier, version, artifact, _) = artifacts.remove(0);
            Ok(Package {
                name: name.to_string(),
                version,
                kind,
                tier,
                functions: None,
                artifact,
                metadata,
                source_conf,
                etc,
                install_script,
            })
        }
        _ => Err(bad(format!(
            "several artifacts for {name}: {}",
            artifacts
                .iter()
                .map(|a| a.3.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ))),
    }
}

#[cfg(test)]
#[path = "package_tests.rs"]
mod tests;

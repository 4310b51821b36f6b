//! One built plugin file (a `.wasm` component or a native `.so`) loaded outside a
//! server, as `tributary plugin pack`, `call` and `test` do.
//!
//! The file is loaded by its own tier in a scratch root, exactly as a server would
//! load it, so a file a server would refuse is refused here with the same message.
//! The copy in the scratch root has nothing beside it and the root has no
//! `etc/wasm.yaml`: what the plugin asks for is the operator's to grant, so the
//! plugin runs as it would on a server that granted it nothing (its capability
//! manifest is parsed, and refused when malformed, but not granted).
//!
//! The scratch root's code cache is the user's (`$XDG_CACHE_HOME/tributary/wasm-cache`,
//! else `~/.cache/tributary/wasm-cache`): `plugin build` compiles a component once and
//! the `call`, `test` and `pack` that follow find its code there, instead of each
//! spending the seconds an 18 MB Python component takes. wasmtime keys the cache by
//! the file's content and the engine's settings, so a rebuilt file or another
//! `tributary` version never reads stale code.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use tributary_core::Error;
use tributary_plugin::{Artifact, LoadRequest, PluginKind, Tier};

/// What to load.
#[derive(Debug, Clone, Default)]
pub struct LocalRequest {
    pub file: PathBuf,
    /// The kind to load it as; every kind in turn when `None`.
    pub kind: Option<PluginKind>,
    /// The plugin's name; the file's stem when `None`.
    pub name: Option<String>,
    /// The version; the file's `@v…` when `None`.
    pub version: Option<String>,
}

/// A loaded plugin file, and the scratch root it was loaded in (removed on drop, so
/// the artifact must not outlive it).
pub struct LocalPlugin {
    pub name: String,
    /// Without the leading `v`; empty when neither the file nor the request has one.
    pub version: String,
    pub tier: Arc<dyn Tier>,
    /// The file's bytes.
    pub bytes: Vec<u8>,
    /// `<name>.<ext>`: the artifact's name in a package and a root.
    pub artifact_name: String,
    /// The capability manifest (or eKuiper metadata) beside the file, when there is one.
    pub metadata: Option<PathBuf>,
    /// `<stem>.yaml` or `<name>.yaml` beside the file: a source's default conf.
    pub source_conf: Option<PathBuf>,
    pub artifact: Artifact,
    pub scratch: tempfile::TempDir,
}

/// An error about `file`, prefixed by the command (`pack`, `call`, `test`).
pub fn err(what: &str, file: &Path, msg: impl std::fmt::Display) -> Error {
    Error::user(format!("{what} {}: {msg}", file.display()))
}

/// Whether `name` is a plugin name the host accepts (letters, digits, `_`).
fn valid_name(name: &str) -> bool {
    !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// Parses `--kind`.
pub fn parse_kind(kind: Option<String>) -> Result<Option<PluginKind>, Error> {
    kind.map(|k| {
        PluginKind::parse(&k).ok_or_else(|| {
            Error::user(format!("--kind {k:?} is not one of function, source, sink"))
        })
    })
    .transpose()
}

/// The user's code cache for plugins loaded outside a server, when there is a home.
fn user_cache() -> Option<PathBuf> {
    let base = std::env::var_os("XDG_CACHE_HOME")
        .filter(|d| !d.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))?;
    Some(base.join("tributary").join("wasm-cache"))
}

/// Points the scratch root's code cache (`data/wasm-cache`) at the user's. Without
/// one (no home, a read-only home, not Unix) the scratch root keeps a cache of its
/// own: slower, never wrong.
fn share_code_cache(scratch: &Path) {
    #[cfg(unix)]
    if let Some(cache) = user_cache() {
        let data = scratch.join("data");
        let linked = std::fs::create_dir_all(&cache)
            .and_then(|()| std::fs::create_dir_all(&data))
            .and_then(|()| std::os::unix::fs::symlink(&cache, data.join("wasm-cache")));
        if let Err(e) = linked {
            tracing::debug!("no shared code cache at {}: {e}", cache.display());
        }
    }
    #[cfg(not(unix))]
    let _ = scratch;
}

/// Loads `req.file`; `what` names the command in errors.
pub fn load(what: &str, req: &LocalRequest) -> Result<LocalPlugin, Error> {
    let file = &req.file;
    let err = |f: &Path, m: &dyn std::fmt::Display| err(what, f, m);
    let file_name = file
        .file_name()
        .map(|f| f.to_string_lossy().into_owned())
        .ok_or_else(|| err(file, &"not a file name"))?;
    let scratch = tempfile::tempdir()
        .map_err(|e| err(file, &format!("cannot make a scratch folder: {e}")))?;
    share_code_cache(scratch.path());
    let tiers = crate::plugins::tiers(scratch.path())?;
    let tier = tiers
        .iter()
        .find(|t| file_name.ends_with(&format!(".{}", t.ext())))
        .cloned()
        .ok_or_else(|| {
            let exts: Vec<String> = tiers.iter().map(|t| format!(".{}", t.ext())).collect();
            err(
                file,
                &format!("a plugin file ends in {}", exts.join(" or ")),
            )
        })?;
    let parsed = tributary_core::plugin_files::parse_file_name(&file_name, tier.ext());
    let name = match (&req.name, &parsed) {
        (Some(n), _) => n.clone(),
        (None, Some((stem, _))) => tier.name_of(stem),
        (None, None) => return Err(err(
            file,
            &"the file name is not name.ext or name@v1.0.0.ext (letters, digits, _): give --name",
        )),
    };
    if !valid_name(&name) {
        return Err(err(
            file,
            &format!("plugin name {name:?} may hold only letters, digits and _"),
        ));
    }
    let version = req
        .version
        .clone()
        .or_else(|| parsed.as_ref().map(|(_, v)| v.clone()))
        .unwrap_or_default()
        .trim_start_matches('v')
        .to_string();
    let bytes = std::fs::read(file).map_err(|e| err(file, &e))?;
    let artifact_name = format!("{name}.{}", tier.ext());
    let copy = scratch.path().join(&artifact_name);
    std::fs::write(&copy, &bytes).map_err(|e| err(&copy, &e))?;
    let dir = file.parent().unwrap_or(Path::new("."));
    let stem = file_name
        .strip_suffix(&format!(".{}", tier.ext()))
        .unwrap_or(&file_name);
    // Found where the wasm tier looks for its capability manifest.
    let metadata = tributary_plugin::manifest::manifest_path(file, &name);
    let source_conf = [format!("{stem}.yaml"), format!("{name}.yaml")]
        .into_iter()
        .map(|f| dir.join(f))
        .find(|p| p.is_file());
    if let (Some(m), true) = (&metadata, tier.reads_manifest()) {
        let text = std::fs::read_to_string(m).map_err(|e| err(m, &e))?;
        tributary_plugin::manifest::Manifest::parse(&text, m)?;
    }
    let kinds: Vec<PluginKind> = match req.kind {
        Some(k) => vec![k],
        None => PluginKind::ALL.to_vec(),
    };
    let mut refusals = Vec::new();
    let mut loaded = None;
    for kind in kinds {
        let load = LoadRequest {
            kind,
            name: &name,
            version: &version,
            path: &copy,
            root: scratch.path(),
        };
        match tier.load(&load) {
            Ok(a) => {
                loaded = Some(a);
                break;
            }
            Err(e) => refusals.push(format!(
                "as a {}: {}",
                kind.singular(),
                e.to_string()
                    .replace(&*copy.to_string_lossy(), &file.to_string_lossy())
            )),
        }
    }
    let artifact = match loaded {
        Some(a) => a,
        None if refusals.len() == 1 => return Err(Error::user(refusals.remove(0))),
        None => {
            return Err(err(
                file,
                &format!("it loads as no kind of plugin; {}", refusals.join("; ")),
            ))
        }
    };
    Ok(LocalPlugin {
        name,
        version,
        tier,
        bytes,
        artifact_name,
        metadata,
        source_conf,
        artifact,
        scratch,
    })
}

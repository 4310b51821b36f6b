//! `tributary plugin pack`: a built plugin file (a `.wasm` component or a native
//! `.so`) into a package `/plugins/{kind}` installs, without writing `manifest.json`
//! or its sha256 by hand.
//!
//! The file is loaded by its own tier in a scratch root, exactly as a server would
//! load it, so a file that would be refused at install is refused here, with the same
//! message. What the manifest says comes from the plugin itself: its kind (the world
//! it exports, the symbols it has) and its functions (a component's `describe()`, a
//! library's export table). Beside the artifact the package takes, when present, the
//! plugin's `<stem>.json` (a wasm plugin's capability manifest, eKuiper's UI
//! metadata), `<stem>.yaml` (a source's default conf) and an `etc/` folder given with
//! `--etc`.

use std::io::Write;
use std::path::{Path, PathBuf};
use tributary_core::Error;
use tributary_plugin::package::sha256_hex;
use tributary_plugin::{Artifact, LoadRequest, PluginKind};

/// What to pack.
#[derive(Debug, Clone, Default)]
pub struct PackRequest {
    pub file: PathBuf,
    /// The kind to load it as; every kind in turn when `None`.
    pub kind: Option<PluginKind>,
    /// The plugin's name; the file's stem when `None`.
    pub name: Option<String>,
    /// The version; the file's `@v…` when `None`.
    pub version: Option<String>,
    /// A folder packed as the package's `etc/` (`<root>/etc/<kind>/<name>/`).
    pub etc: Option<PathBuf>,
}

/// A package, and what its manifest says.
#[derive(Debug)]
pub struct Packed {
    pub name: String,
    pub version: String,
    pub kind: PluginKind,
    pub tier: &'static str,
    /// The functions (function plugins only).
    pub functions: Vec<String>,
    /// The artifact's sha256, as the manifest holds it.
    pub sha256: String,
    /// The zip's files, in order.
    pub entries: Vec<String>,
    pub zip: Vec<u8>,
}

fn err(file: &Path, msg: impl std::fmt::Display) -> Error {
    Error::user(format!("pack {}: {msg}", file.display()))
}

/// Whether `name` is a plugin name the host accepts (letters, digits, `_`).
fn valid_name(name: &str) -> bool {
    !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// Loads `req.file` and packs it.
pub fn pack(req: &PackRequest) -> Result<Packed, Error> {
    let file = &req.file;
    let file_name = file
        .file_name()
        .map(|f| f.to_string_lossy().into_owned())
        .ok_or_else(|| err(file, "not a file name"))?;
    let scratch =
        tempfile::tempdir().map_err(|e| err(file, format!("cannot make a scratch folder: {e}")))?;
    let tiers = crate::plugins::tiers(scratch.path())?;
    let tier = tiers
        .iter()
        .find(|t| file_name.ends_with(&format!(".{}", t.ext())))
        .ok_or_else(|| {
            let exts: Vec<String> = tiers.iter().map(|t| format!(".{}", t.ext())).collect();
            err(file, format!("a plugin file ends in {}", exts.join(" or ")))
        })?;
    let parsed = tributary_core::plugin_files::parse_file_name(&file_name, tier.ext());
    let name = match (&req.name, &parsed) {
        (Some(n), _) => n.clone(),
        (None, Some((stem, _))) => tier.name_of(stem),
        (None, None) => return Err(err(
            file,
            "the file name is not name.ext or name@v1.0.0.ext (letters, digits, _): give --name",
        )),
    };
    if !valid_name(&name) {
        return Err(err(
            file,
            format!("plugin name {name:?} may hold only letters, digits and _"),
        ));
    }
    let version = req
        .version
        .clone()
        .or_else(|| parsed.as_ref().map(|(_, v)| v.clone()))
        .unwrap_or_default()
        .trim_start_matches('v')
        .to_string();
    let bytes = std::fs::read(file).map_err(|e| err(file, e))?;
    let artifact_name = format!("{name}.{}", tier.ext());
    // Loaded from a copy with nothing beside it: what the plugin asks for is the
    // operator's to grant at install, so here its manifest is only parsed.
    let copy = scratch.path().join(&artifact_name);
    std::fs::write(&copy, &bytes).map_err(|e| err(&copy, e))?;
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
        let text = std::fs::read_to_string(m).map_err(|e| err(m, e))?;
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
                format!("it loads as no kind of plugin; {}", refusals.join("; ")),
            ))
        }
    };
    let kind = artifact.kind();
    let functions: Vec<String> = match &artifact {
        Artifact::Function(f) => f.functions().iter().map(|f| f.name.clone()).collect(),
        _ => Vec::new(),
    };
    let sha256 = sha256_hex(&bytes);
    let mut manifest = serde_json::json!({
        "name": name,
        "version": version,
        "kind": kind.singular(),
        "tier": tier.name(),
        "artifact": artifact_name,
        "sha256": sha256,
    });
    if kind == PluginKind::Function {
        manifest["functions"] = serde_json::json!(functions);
    }
    let mut files: Vec<(String, Vec<u8>)> = vec![
        (
            "manifest.json".into(),
            serde_json::to_vec_pretty(&manifest).map_err(|e| err(file, e))?,
        ),
        (artifact_name, bytes),
    ];
    for (ext, found) in [("json", metadata), ("yaml", source_conf)] {
        if let Some(path) = found {
            let data = std::fs::read(&path).map_err(|e| err(&path, e))?;
            files.push((format!("{name}.{ext}"), data));
        }
    }
    if let Some(etc) = &req.etc {
        if !etc.is_dir() {
            return Err(err(etc, "--etc must be a folder"));
        }
        collect(etc, etc, &mut files)?;
    }
    let zip = write_zip(&files).map_err(|e| err(file, format!("cannot write the zip: {e}")))?;
    Ok(Packed {
        name,
        version,
        kind,
        tier: tier.name(),
        functions,
        sha256,
        entries: files.into_iter().map(|(n, _)| n).collect(),
        zip,
    })
}

/// The files under `dir`, as `etc/<relative path>`, in name order; symlinks refused
/// (an installed package may not hold them).
fn collect(base: &Path, dir: &Path, out: &mut Vec<(String, Vec<u8>)>) -> Result<(), Error> {
    let mut items: Vec<_> = std::fs::read_dir(dir)
        .map_err(|e| err(dir, e))?
        .collect::<Result<_, _>>()
        .map_err(|e| err(dir, e))?;
    items.sort_by_key(|e| e.file_name());
    for item in items {
        let path = item.path();
        let ty = item.file_type().map_err(|e| err(&path, e))?;
        if ty.is_symlink() {
            return Err(err(&path, "a package may not hold symlinks"));
        }
        if ty.is_dir() {
            collect(base, &path, out)?;
        } else {
            let rel = path.strip_prefix(base).map_err(|e| err(&path, e))?;
            let parts: Vec<String> = rel
                .components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect();
            let data = std::fs::read(&path).map_err(|e| err(&path, e))?;
            out.push((format!("etc/{}", parts.join("/")), data));
        }
    }
    Ok(())
}

fn write_zip(files: &[(String, Vec<u8>)]) -> zip::result::ZipResult<Vec<u8>> {
    let mut buf = std::io::Cursor::new(Vec::new());
    {
        let mut w = zip::ZipWriter::new(&mut buf);
        let options = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated)
            .unix_permissions(0o644);
        for (name, data) in files {
            w.start_file(name.as_str(), options)?;
            w.write_all(data)?;
        }
        w.finish()?;
    }
    Ok(buf.into_inner())
}

/// Whether a package argument is a bare plugin file, packed before it is sent.
pub fn is_bare_plugin(package: &str) -> bool {
    !package.contains("://") && (package.ends_with(".wasm") || package.ends_with(".so"))
}

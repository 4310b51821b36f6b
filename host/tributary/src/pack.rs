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

use crate::local_plugin::{LocalPlugin, LocalRequest};
use std::io::Write;
use std::path::{Path, PathBuf};
use tributary_core::Error;
use tributary_plugin::package::sha256_hex;
use tributary_plugin::{Artifact, PluginKind};

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
    crate::local_plugin::err("pack", file, msg)
}

/// Loads `req.file` and packs it, with `etc` as the package's `etc/`.
pub fn pack(req: &LocalRequest, etc: Option<&Path>) -> Result<Packed, Error> {
    let plugin = crate::local_plugin::load("pack", req)?;
    package(&req.file, &plugin, etc)
}

/// Packs a loaded plugin `file`, with `etc` as the package's `etc/`.
pub fn package(file: &Path, plugin: &LocalPlugin, etc: Option<&Path>) -> Result<Packed, Error> {
    let LocalPlugin {
        name,
        version,
        tier,
        bytes,
        artifact_name,
        metadata,
        source_conf,
        artifact,
        ..
    } = plugin;
    let kind = artifact.kind();
    let functions: Vec<String> = match artifact {
        Artifact::Function(f) => f.functions().iter().map(|f| f.name.clone()).collect(),
        _ => Vec::new(),
    };
    let sha256 = sha256_hex(bytes);
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
        (artifact_name.clone(), bytes.clone()),
    ];
    for (ext, found) in [("json", metadata), ("yaml", source_conf)] {
        if let Some(path) = found {
            let data = std::fs::read(path).map_err(|e| err(path, e))?;
            files.push((format!("{name}.{ext}"), data));
        }
    }
    if let Some(etc) = etc {
        if !etc.is_dir() {
            return Err(err(etc, "--etc must be a folder"));
        }
        collect(etc, etc, &mut files)?;
    }
    let zip = write_zip(&files).map_err(|e| err(file, format!("cannot write the zip: {e}")))?;
    Ok(Packed {
        name: name.clone(),
        version: version.clone(),
        kind,
        tier: tier.name(),
        functions,
        sha256,
        entries: files.into_iter().map(|(n, _)| n).collect(),
        zip,
    })
}

/// `plugin pack`: writes the zip and says what went in.
pub fn run(
    file: PathBuf,
    kind: Option<String>,
    name: Option<String>,
    version: Option<String>,
    etc: Option<PathBuf>,
    out: Option<PathBuf>,
) -> Result<(), Error> {
    let kind = crate::local_plugin::parse_kind(kind)?;
    let req = LocalRequest {
        file,
        kind,
        name,
        version,
    };
    let packed = pack(&req, etc.as_deref())?;
    let out = out.unwrap_or_else(|| PathBuf::from(format!("{}.zip", packed.name)));
    std::fs::write(&out, &packed.zip)
        .map_err(|e| Error::user(format!("cannot write {}: {e}", out.display())))?;
    let version = if packed.version.is_empty() {
        String::new()
    } else {
        format!(" {}", packed.version)
    };
    crate::say!(
        "packed {}: {} {} plugin {}{version}, sha256 {}",
        out.display(),
        packed.tier,
        packed.kind.singular(),
        packed.name,
        packed.sha256
    );
    if !packed.functions.is_empty() {
        crate::say!("functions: {}", packed.functions.join(", "));
    }
    crate::say!("files: {}", packed.entries.join(", "));
    crate::say!(
        "install: tributary plugin install {} {} {}",
        packed.kind.folder(),
        packed.name,
        out.display()
    );
    Ok(())
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

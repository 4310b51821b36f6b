//! `tributary plugin build [DIR]`: builds a plugin project (as `plugin new` makes
//! them) with its language's toolchain and checks the result the way a server would
//! load it, so a component the server would refuse is refused here, naming the WIT
//! item that does not match.
//!
//! Rust projects: the plugin's name and kind come from `[package.metadata.tributary]`
//! of its `Cargo.toml` (read through `cargo metadata`), the component from
//! `cargo build --release --target wasm32-wasip2` (the artifact found in cargo's own
//! report of what it built, so `CARGO_TARGET_DIR` and workspaces are respected).
//! Cargo's progress goes to the terminal as it comes. The component is written to
//! `DIR/build/<name>.wasm`, with `<name>.json` and `<name>.yaml` of the project root
//! beside it, where `plugin pack` takes them from.

use crate::local_plugin::{self, LocalRequest};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use tributary_core::Error;
use tributary_plugin::{Artifact, PluginKind};

/// The Rust target every wasm plugin is built for.
const TARGET: &str = "wasm32-wasip2";

fn err(msg: impl std::fmt::Display) -> Error {
    Error::user(format!("build: {msg}"))
}

/// What a built project is.
#[derive(Debug)]
pub struct Built {
    pub file: PathBuf,
    pub name: String,
    pub kind: PluginKind,
    pub functions: Vec<String>,
    pub bytes: usize,
}

/// The project's `[package.metadata.tributary]`: its plugin name and kind.
fn metadata(manifest: &Path) -> Result<(String, PluginKind), Error> {
    let out = Command::new("cargo")
        .args([
            "metadata",
            "--no-deps",
            "--format-version",
            "1",
            "--manifest-path",
        ])
        .arg(manifest)
        .stderr(Stdio::inherit())
        .output()
        .map_err(|e| {
            err(format!(
                "cannot run cargo ({e}); is Rust installed (rustup.rs)?"
            ))
        })?;
    if !out.status.success() {
        return Err(err(format!(
            "cargo metadata failed on {}",
            manifest.display()
        )));
    }
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout)
        .map_err(|e| err(format!("cargo metadata answered no JSON: {e}")))?;
    let canonical = std::fs::canonicalize(manifest).unwrap_or_else(|_| manifest.to_path_buf());
    let package = doc["packages"]
        .as_array()
        .and_then(|ps| {
            ps.iter().find(|p| {
                p["manifest_path"]
                    .as_str()
                    .is_some_and(|m| Path::new(m) == canonical)
            })
        })
        .ok_or_else(|| err(format!("{} holds no package", manifest.display())))?;
    let meta = &package["metadata"]["tributary"];
    let field = |key: &str| {
        meta[key].as_str().map(str::to_string).ok_or_else(|| {
            err(format!(
                "{}: [package.metadata.tributary] needs {key} = \"…\" (plugin new writes it)",
                manifest.display()
            ))
        })
    };
    let name = field("name")?;
    let kind_text = field("kind")?;
    let kind = PluginKind::parse(&kind_text).ok_or_else(|| {
        err(format!(
            "{}: kind = {kind_text:?} is not one of function, source, sink",
            manifest.display()
        ))
    })?;
    Ok((name, kind))
}

/// Adds the wasm target through rustup when it is missing (a toolchain without rustup
/// is left to cargo, which names what it lacks).
fn ensure_target() -> Result<(), Error> {
    let Ok(out) = Command::new("rustup")
        .args(["target", "list", "--installed"])
        .output()
    else {
        return Ok(());
    };
    if String::from_utf8_lossy(&out.stdout)
        .lines()
        .any(|l| l.trim() == TARGET)
    {
        return Ok(());
    }
    eprintln!("adding the Rust target {TARGET} (rustup target add {TARGET})");
    let status = Command::new("rustup")
        .args(["target", "add", TARGET])
        .status()
        .map_err(|e| err(format!("cannot run rustup: {e}")))?;
    if !status.success() {
        return Err(err(format!("rustup target add {TARGET} failed")));
    }
    Ok(())
}

/// The `.wasm` files cargo reports building, from its JSON messages.
fn artifacts(json_lines: &[u8]) -> Vec<PathBuf> {
    String::from_utf8_lossy(json_lines)
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|m| m["reason"] == "compiler-artifact")
        .filter(|m| {
            m["target"]["kind"]
                .as_array()
                .is_some_and(|k| k.iter().any(|k| k == "cdylib"))
        })
        .flat_map(|m| {
            m["filenames"]
                .as_array()
                .cloned()
                .unwrap_or_default()
                .into_iter()
                .filter_map(|f| f.as_str().map(PathBuf::from))
                .filter(|f| f.extension().is_some_and(|e| e == "wasm"))
                .collect::<Vec<_>>()
        })
        .collect()
}

/// Builds the project in `dir` and checks what it built.
pub fn build(dir: &Path) -> Result<Built, Error> {
    let manifest = dir.join("Cargo.toml");
    if !manifest.is_file() {
        return Err(err(format!(
            "{} has no Cargo.toml: plugin build builds Rust projects (made by plugin new \
             --lang rust)",
            dir.display()
        )));
    }
    let (name, kind) = metadata(&manifest)?;
    ensure_target()?;
    let out = Command::new("cargo")
        .args(["build", "--release", "--target", TARGET])
        .args([
            "--message-format",
            "json-render-diagnostics",
            "--manifest-path",
        ])
        .arg(&manifest)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .output()
        .map_err(|e| err(format!("cannot run cargo: {e}")))?;
    if !out.status.success() {
        return Err(err(format!(
            "cargo build failed (its errors are above) for {}",
            manifest.display()
        )));
    }
    let built = artifacts(&out.stdout);
    let wasm = match built.as_slice() {
        [one] => one.clone(),
        [] => {
            return Err(err(
                "cargo built no .wasm: the [lib] of Cargo.toml needs crate-type = [\"cdylib\"]",
            ))
        }
        many => {
            let names: Vec<String> = many.iter().map(|p| p.display().to_string()).collect();
            return Err(err(format!(
                "cargo built several components ({}): build one package",
                names.join(", ")
            )));
        }
    };
    // `build/…` rather than `./build/…` when the project is the current folder.
    let out_dir = if dir == Path::new(".") {
        PathBuf::from("build")
    } else {
        dir.join("build")
    };
    std::fs::create_dir_all(&out_dir).map_err(|e| Error::io(out_dir.display().to_string(), e))?;
    let file = out_dir.join(format!("{name}.wasm"));
    std::fs::copy(&wasm, &file).map_err(|e| Error::io(file.display().to_string(), e))?;
    for ext in ["json", "yaml"] {
        let beside = dir.join(format!("{name}.{ext}"));
        if beside.is_file() {
            let to = out_dir.join(format!("{name}.{ext}"));
            std::fs::copy(&beside, &to).map_err(|e| Error::io(to.display().to_string(), e))?;
        }
    }
    let plugin = local_plugin::load(
        "build",
        &LocalRequest {
            file: file.clone(),
            kind: Some(kind),
            name: Some(name.clone()),
            version: None,
        },
    )?;
    let functions = match &plugin.artifact {
        Artifact::Function(f) => f.functions().iter().map(|f| f.name.clone()).collect(),
        _ => Vec::new(),
    };
    Ok(Built {
        bytes: plugin.bytes.len(),
        file,
        name,
        kind,
        functions,
    })
}

/// `plugin build` on the command line.
pub fn run(dir: PathBuf) -> Result<(), Error> {
    let b = build(&dir)?;
    crate::say!(
        "built {} ({} KiB): wasm {} plugin {}",
        b.file.display(),
        b.bytes.div_ceil(1024),
        b.kind.singular(),
        b.name
    );
    if !b.functions.is_empty() {
        crate::say!("functions: {}", b.functions.join(", "));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn artifacts_are_the_cdylib_wasm_files_cargo_reports() {
        let lines = br#"{"reason":"compiler-artifact","target":{"kind":["lib"]},"filenames":["/t/libserde.rlib"]}
{"reason":"compiler-artifact","target":{"kind":["cdylib"]},"filenames":["/t/wasm32-wasip2/release/my_upper.wasm"]}
{"reason":"build-finished","success":true}
not json"#;
        assert_eq!(
            artifacts(lines),
            vec![PathBuf::from("/t/wasm32-wasip2/release/my_upper.wasm")]
        );
    }
}

//! Rust projects: the plugin's name and kind come from `[package.metadata.tributary]`
//! of its `Cargo.toml` (read through `cargo metadata`), the component from
//! `cargo build --release --target wasm32-wasip2` (the artifact found in cargo's own
//! report of what it built, so `CARGO_TARGET_DIR` and workspaces are respected).
//! Cargo's progress goes to the terminal as it comes.

use super::{err, Project};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use tributary_core::Error;

/// The Rust target every wasm plugin is built for.
const TARGET: &str = "wasm32-wasip2";

/// The project's `[package.metadata.tributary]`: its plugin name and kind.
pub(super) fn project(manifest: &Path) -> Result<Project, Error> {
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
    Project::new(manifest, field("name")?, &field("kind")?)
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

/// Builds the project of `manifest`; answers the component cargo wrote.
pub(super) fn build(manifest: &Path) -> Result<PathBuf, Error> {
    ensure_target()?;
    let out = Command::new("cargo")
        .args(["build", "--release", "--target", TARGET])
        .args([
            "--message-format",
            "json-render-diagnostics",
            "--manifest-path",
        ])
        .arg(manifest)
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
    Ok(wasm)
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

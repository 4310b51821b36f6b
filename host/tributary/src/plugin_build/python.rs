//! Python projects: the plugin's name and kind come from `[tool.tributary]` of its
//! `pyproject.toml`, the component from `componentize-py -d wit -w <kind>-plugin
//! componentize -p . app`, run in the project: `app.py` is the plugin, the SDK
//! package `tributary_plugin/` and the contract `wit/` sit beside it (as `plugin new`
//! writes them), so the build needs nothing from this repository. componentize-py's
//! own messages (a traceback when `app.py` does not import) go to the terminal.

use super::{err, Project};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use tributary_core::Error;

/// The componentize-py the SDK is tested with (`guests/python/tributary_plugin`).
const COMPONENTIZE_PY: &str = "0.25.1";

/// The program's name, on `PATH` or in python3's scripts folder.
const PROGRAM: &str = "componentize-py";

/// `[tool.tributary]` of a `pyproject.toml`.
#[derive(serde::Deserialize)]
struct PyProject {
    tool: Option<Tool>,
}

#[derive(serde::Deserialize)]
struct Tool {
    tributary: Option<Tributary>,
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct Tributary {
    name: String,
    kind: String,
}

/// The project's `[tool.tributary]`: its plugin name and kind.
pub(super) fn project(pyproject: &Path) -> Result<Project, Error> {
    let text = std::fs::read_to_string(pyproject)
        .map_err(|e| Error::io(pyproject.display().to_string(), e))?;
    let doc: PyProject = toml::from_str(&text)
        .map_err(|e| err(format!("{}: {}", pyproject.display(), e.message())))?;
    let t = doc.tool.and_then(|t| t.tributary).ok_or_else(|| {
        err(format!(
            "{} has no [tool.tributary] with name = \"…\" and kind = \"…\" (plugin new \
                 --lang python writes it)",
            pyproject.display()
        ))
    })?;
    Project::new(pyproject, t.name, &t.kind)
}

/// The componentize-py to run: the one on `PATH`, else the one in python3's scripts
/// folder (where `pip install` puts it when that folder is not on `PATH`).
fn program() -> Result<PathBuf, Error> {
    let on_path = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|p| p.join(PROGRAM))
            .find(|p| p.is_file())
    });
    if let Some(p) = on_path {
        return Ok(p);
    }
    let scripts = Command::new("python3")
        .args([
            "-c",
            "import sysconfig; print(sysconfig.get_path('scripts'))",
        ])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| PathBuf::from(String::from_utf8_lossy(&o.stdout).trim()).join(PROGRAM));
    scripts.filter(|p| p.is_file()).ok_or_else(|| {
        err(format!(
            "{PROGRAM} is not on PATH nor in python3's scripts folder: install it with \
             `pip install {PROGRAM}=={COMPONENTIZE_PY}`"
        ))
    })
}

/// Warns when the componentize-py found is not the one the SDK is tested with (a
/// newer one may well work; an older one may not know the SDK's imports).
fn check_version(program: &Path) {
    let Ok(out) = Command::new(program).arg("--version").output() else {
        return;
    };
    let text = String::from_utf8_lossy(&out.stdout);
    let version = text.split_whitespace().last().unwrap_or_default();
    if version != COMPONENTIZE_PY {
        eprintln!(
            "note: {} is {PROGRAM} {version}; the SDK is tested with {COMPONENTIZE_PY} \
             (pip install {PROGRAM}=={COMPONENTIZE_PY})",
            program.display()
        );
    }
}

/// Builds the Python project in `dir` into `out`.
pub(super) fn build(dir: &Path, project: &Project, out: &Path) -> Result<(), Error> {
    for (needed, what) in [
        ("app.py", "the plugin's module"),
        ("wit", "the contract"),
        ("tributary_plugin", "the SDK"),
    ] {
        if !dir.join(needed).exists() {
            return Err(err(format!(
                "{} has no {needed} ({what}; plugin new --lang python writes it)",
                dir.display()
            )));
        }
    }
    let program = program()?;
    check_version(&program);
    let world = format!("{}-plugin", project.kind.singular());
    let out = std::path::absolute(out).map_err(|e| Error::io(out.display().to_string(), e))?;
    eprintln!(
        "building {} with {PROGRAM} (world {world}; the interpreter is linked in, a few \
         seconds)",
        project.name
    );
    let status = Command::new(&program)
        .args([
            "-d",
            "wit",
            "-w",
            &world,
            "componentize",
            "-p",
            ".",
            "app",
            "-o",
        ])
        .arg(&out)
        .current_dir(dir)
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .status()
        .map_err(|e| err(format!("cannot run {}: {e}", program.display())))?;
    if !status.success() {
        return Err(err(format!(
            "{PROGRAM} failed (its errors are above) for {}",
            dir.join("app.py").display()
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(text: &str) -> Result<Project, Error> {
        let dir = tempfile::tempdir().expect("tempdir");
        let file = dir.path().join("pyproject.toml");
        std::fs::write(&file, text).expect("write");
        project(&file)
    }

    #[test]
    fn the_project_is_its_tool_tributary_table() {
        let p = read(
            "[project]\nname = \"x\"\n[tool.tributary]\nname = \"myUpper\"\nkind = \"function\"\n",
        )
        .expect("project");
        assert_eq!(
            (p.name.as_str(), p.kind.singular()),
            ("myUpper", "function")
        );
    }

    #[test]
    fn a_project_without_it_or_with_a_bad_one_is_refused_saying_why() {
        let no_table = read("[project]\nname = \"x\"\n")
            .expect_err("none")
            .to_string();
        assert!(no_table.contains("has no [tool.tributary]"), "{no_table}");
        let kind = read("[tool.tributary]\nname = \"a\"\nkind = \"table\"\n")
            .expect_err("kind")
            .to_string();
        assert!(kind.contains("kind = \"table\" is not one of"), "{kind}");
        let name = read("[tool.tributary]\nname = \"1a\"\nkind = \"sink\"\n")
            .expect_err("name")
            .to_string();
        assert!(name.contains("invalid plugin name"), "{name}");
        let extra = read("[tool.tributary]\nname = \"a\"\nkind = \"sink\"\nversion = 2\n")
            .expect_err("extra")
            .to_string();
        assert!(extra.contains("unknown field `version`"), "{extra}");
        let broken = read("[tool.tributary\n").expect_err("toml").to_string();
        assert!(broken.contains("pyproject.toml"), "{broken}");
    }
}

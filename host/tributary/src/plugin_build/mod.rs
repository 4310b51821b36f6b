//! `tributary plugin build [DIR]`: builds a plugin project (as `plugin new` makes
//! them) with its language's toolchain and checks the result the way a server would
//! load it, so a component the server would refuse is refused here, naming the WIT
//! item that does not match.
//!
//! The language is the project's: a `Cargo.toml` is a Rust project (`cargo`), a
//! `pyproject.toml` with `[tool.tributary]` a Python one (`componentize-py`), a
//! `package.json` with `"tributary"` a JavaScript one (`componentize-js`). The
//! component is written to `DIR/build/<name>.wasm`, with `<name>.json` and
//! `<name>.yaml` of the project root beside it, where `plugin pack` takes them from.

mod cargo;
mod js;
mod python;

use crate::local_plugin::{self, LocalRequest};
use std::path::{Path, PathBuf};
use tributary_core::Error;
use tributary_plugin::{Artifact, PluginKind};

fn err(msg: impl std::fmt::Display) -> Error {
    Error::user(format!("build: {msg}"))
}

/// What a project says it builds.
#[derive(Debug)]
struct Project {
    name: String,
    kind: PluginKind,
}

impl Project {
    /// `kind` as a project file has it, checked.
    fn new(file: &Path, name: String, kind: &str) -> Result<Project, Error> {
        let kind = PluginKind::parse(kind).ok_or_else(|| {
            err(format!(
                "{}: kind = {kind:?} is not one of function, source, sink",
                file.display()
            ))
        })?;
        tributary_plugin::install::check_name(&name)
            .map_err(|e| err(format!("{}: {e}", file.display())))?;
        Ok(Project { name, kind })
    }
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

/// Builds the project in `dir` and checks what it built.
pub fn build(dir: &Path) -> Result<Built, Error> {
    let cargo_toml = dir.join("Cargo.toml");
    let pyproject = dir.join("pyproject.toml");
    // `build/…` rather than `./build/…` when the project is the current folder.
    let out_dir = if dir == Path::new(".") {
        PathBuf::from("build")
    } else {
        dir.join("build")
    };
    let (project, file) = if cargo_toml.is_file() {
        let project = cargo::project(&cargo_toml)?;
        let wasm = cargo::build(&cargo_toml)?;
        let file = made_dir(&out_dir)?.join(format!("{}.wasm", project.name));
        std::fs::copy(&wasm, &file).map_err(|e| Error::io(file.display().to_string(), e))?;
        (project, file)
    } else if pyproject.is_file() {
        let project = python::project(&pyproject)?;
        let file = made_dir(&out_dir)?.join(format!("{}.wasm", project.name));
        python::build(dir, &project, &file)?;
        (project, file)
    } else if js::is_project(dir) {
        let project = js::project(&dir.join("package.json"))?;
        let file = made_dir(&out_dir)?.join(format!("{}.wasm", project.name));
        js::build(dir, &project, &file)?;
        (project, file)
    } else {
        return Err(err(format!(
            "{} has no Cargo.toml (a Rust project), pyproject.toml (a Python one) or \
             package.json with \"tributary\" (a JavaScript one): plugin build builds the \
             projects plugin new makes",
            dir.display()
        )));
    };
    let Project { name, kind } = project;
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

fn made_dir(dir: &Path) -> Result<&Path, Error> {
    std::fs::create_dir_all(dir).map_err(|e| Error::io(dir.display().to_string(), e))?;
    Ok(dir)
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

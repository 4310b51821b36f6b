//! JavaScript projects: the plugin's name and kind come from `"tributary"` of its
//! `package.json`, the component from the SDK's `tributary_plugin/build.mjs` run by
//! `node` in the project (componentize-js, `-d wit`-equivalent: the project's `wit/`).
//! componentize-js comes from the project's `node_modules/`; when it is not there,
//! `npm ci` (or `npm install` without a lock file) puts it there first, its progress on
//! the terminal.

use super::{err, Project};
use std::path::Path;
use std::process::{Command, Stdio};
use tributary_core::Error;

/// `package.json`, as far as the build reads it.
#[derive(serde::Deserialize)]
struct Package {
    tributary: Option<Tributary>,
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct Tributary {
    name: String,
    kind: String,
}

/// The project's `"tributary"` of `package.json`: its plugin name and kind.
pub(super) fn project(package: &Path) -> Result<Project, Error> {
    let text = std::fs::read_to_string(package)
        .map_err(|e| Error::io(package.display().to_string(), e))?;
    let doc: Package =
        serde_json::from_str(&text).map_err(|e| err(format!("{}: {e}", package.display())))?;
    let t = doc.tributary.ok_or_else(|| {
        err(format!(
            "{} has no \"tributary\": {{\"name\": …, \"kind\": …}} (plugin new --lang js \
             writes it)",
            package.display()
        ))
    })?;
    Project::new(package, t.name, &t.kind)
}

/// Whether `dir` is a JavaScript plugin project (a `package.json` with `"tributary"`).
pub(super) fn is_project(dir: &Path) -> bool {
    std::fs::read_to_string(dir.join("package.json"))
        .ok()
        .and_then(|t| serde_json::from_str::<serde_json::Value>(&t).ok())
        .is_some_and(|v| v.get("tributary").is_some())
}

fn run(program: &str, args: &[&str], dir: &Path, what: &str) -> Result<(), Error> {
    let status = Command::new(program)
        .args(args)
        .current_dir(dir)
        // Their progress is not the build's answer (stdout): it goes with ours.
        .stdout(std::io::stderr())
        .stderr(Stdio::inherit())
        .status()
        .map_err(|e| {
            err(format!(
                "cannot run {program} ({e}); is Node.js with npm installed?"
            ))
        })?;
    if status.success() {
        Ok(())
    } else {
        Err(err(format!(
            "{what} failed (its errors are above) in {}",
            dir.display()
        )))
    }
}

/// Builds the JavaScript project in `dir` into `out`.
pub(super) fn build(dir: &Path, project: &Project, out: &Path) -> Result<(), Error> {
    for (needed, what) in [
        ("app.js", "the plugin's module"),
        ("wit", "the contract"),
        ("tributary_plugin/build.mjs", "the SDK"),
    ] {
        if !dir.join(needed).exists() {
            return Err(err(format!(
                "{} has no {needed} ({what}; plugin new --lang js writes it)",
                dir.display()
            )));
        }
    }
    if !dir
        .join("node_modules/@bytecodealliance/componentize-js")
        .is_dir()
    {
        let npm = if dir.join("package-lock.json").is_file() {
            ["ci", "--no-audit", "--no-fund"]
        } else {
            ["install", "--no-audit", "--no-fund"]
        };
        eprintln!("installing componentize-js (npm {})", npm[0]);
        run("npm", &npm, dir, &format!("npm {}", npm[0]))?;
    }
    let world = format!("{}-plugin", project.kind.singular());
    let out = std::path::absolute(out).map_err(|e| Error::io(out.display().to_string(), e))?;
    let out_text = out.to_string_lossy();
    eprintln!(
        "building {} with componentize-js (world {world}; the JavaScript engine is linked \
         in, a few seconds)",
        project.name
    );
    run(
        "node",
        &[
            "tributary_plugin/build.mjs",
            "app.js",
            &world,
            &out_text,
            "wit",
        ],
        dir,
        "componentize-js",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(text: &str) -> Result<Project, Error> {
        let dir = tempfile::tempdir().expect("tempdir");
        let file = dir.path().join("package.json");
        std::fs::write(&file, text).expect("write");
        project(&file)
    }

    #[test]
    fn the_project_is_its_tributary_key() {
        let p = read(r#"{"name": "x", "tributary": {"name": "jsUpper", "kind": "sink"}}"#)
            .expect("project");
        assert_eq!((p.name.as_str(), p.kind.singular()), ("jsUpper", "sink"));
    }

    #[test]
    fn a_project_without_it_or_with_a_bad_one_is_refused_saying_why() {
        let none = read(r#"{"name": "x"}"#).expect_err("none").to_string();
        assert!(none.contains("has no \"tributary\""), "{none}");
        let kind = read(r#"{"tributary": {"name": "a", "kind": "table"}}"#)
            .expect_err("kind")
            .to_string();
        assert!(kind.contains("kind = \"table\" is not one of"), "{kind}");
        let extra = read(r#"{"tributary": {"name": "a", "kind": "sink", "x": 1}}"#)
            .expect_err("extra")
            .to_string();
        assert!(extra.contains("unknown field `x`"), "{extra}");
        let broken = read("{").expect_err("json").to_string();
        assert!(broken.contains("package.json"), "{broken}");
    }
}

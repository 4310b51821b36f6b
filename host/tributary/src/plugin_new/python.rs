//! The files of a new Python project: `pyproject.toml` (its plugin name and kind in
//! `[tool.tributary]`), `app.py`, the Python SDK of this `tributary` as the package
//! `tributary_plugin/` beside it and the contract's WIT in `wit/`, so
//! `componentize-py` finds both in the project and builds it without a checkout of
//! this repository, against the contract this host speaks.

use super::{Files, Vars};
use std::path::Path;
use tributary_plugin::PluginKind;

/// The Python SDK, file by file, as the package `tributary_plugin/` of a new project.
pub(super) const SDK: &[(&str, &str)] = &[
    (
        "README.md",
        include_str!("../../../../guests/python/tributary_plugin/README.md"),
    ),
    (
        "__init__.py",
        include_str!("../../../../guests/python/tributary_plugin/tributary_plugin/__init__.py"),
    ),
    (
        "context.py",
        include_str!("../../../../guests/python/tributary_plugin/tributary_plugin/context.py"),
    ),
    (
        "functions.py",
        include_str!("../../../../guests/python/tributary_plugin/tributary_plugin/functions.py"),
    ),
    (
        "props.py",
        include_str!("../../../../guests/python/tributary_plugin/tributary_plugin/props.py"),
    ),
    (
        "sinks.py",
        include_str!("../../../../guests/python/tributary_plugin/tributary_plugin/sinks.py"),
    ),
    (
        "sources.py",
        include_str!("../../../../guests/python/tributary_plugin/tributary_plugin/sources.py"),
    ),
    (
        "values.py",
        include_str!("../../../../guests/python/tributary_plugin/tributary_plugin/values.py"),
    ),
];

const PYPROJECT: &str = include_str!("../../templates/python/pyproject.toml.in");
const README: &str = include_str!("../../templates/python/README.md.in");
const GITIGNORE: &str = include_str!("../../templates/python/gitignore.in");
const FUNCTION: &str = include_str!("../../templates/python/function.py.in");
const SOURCE: &str = include_str!("../../templates/python/source.py.in");
const SINK: &str = include_str!("../../templates/python/sink.py.in");

/// The Python class of plugin `name`: `myUpper` is `MyUpper` (`None_` for `none`,
/// which would be a keyword).
pub(super) fn class_name(name: &str) -> String {
    let mut c = name.chars();
    let class: String = c
        .next()
        .map(|f| f.to_ascii_uppercase())
        .into_iter()
        .chain(c)
        .collect();
    if matches!(class.as_str(), "None" | "True" | "False") {
        class + "_"
    } else {
        class
    }
}

/// The project's own files (the common ones, tests and conf, come from `super`).
pub(super) fn files(kind: PluginKind, vars: &Vars) -> Files {
    let code = match kind {
        PluginKind::Function => FUNCTION,
        PluginKind::Source => SOURCE,
        PluginKind::Sink => SINK,
    };
    let mut out: Files = vec![
        ("pyproject.toml".into(), vars.fill(PYPROJECT)),
        ("README.md".into(), vars.fill(README)),
        (".gitignore".into(), GITIGNORE.to_string()),
        ("app.py".into(), vars.fill(code)),
    ];
    out.extend(
        SDK.iter()
            .map(|(path, text)| (Path::new("tributary_plugin").join(path), text.to_string())),
    );
    out.extend(
        super::WIT
            .iter()
            .map(|(path, text)| (path.into(), text.to_string())),
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn class_names_are_capitalised_and_never_keywords() {
        assert_eq!(class_name("myUpper"), "MyUpper");
        assert_eq!(class_name("tally"), "Tally");
        assert_eq!(class_name("none"), "None_");
        assert_eq!(class_name("true"), "True_");
    }

    /// Every module of the SDK goes into a new project: a module added to it without
    /// a line in `SDK` would make projects that fail to import.
    #[test]
    fn the_embedded_sdk_is_the_whole_sdk() {
        let embedded: Vec<&str> = SDK.iter().map(|(p, _)| *p).collect();
        super::super::tests::embeds_every_file(
            "guests/python/tributary_plugin/tributary_plugin",
            "",
            ".py",
            &embedded,
        );
    }
}

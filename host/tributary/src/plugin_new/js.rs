//! The files of a new JavaScript project: `package.json` (its plugin name and kind
//! under `"tributary"`, componentize-js pinned) with the lock file the SDK is tested
//! with, `app.js`, the JavaScript SDK of this `tributary` as `tributary_plugin/`
//! (imported by a relative path: componentize-js resolves those, not packages) and the
//! contract's WIT in `wit/`, so the project builds without a checkout of this
//! repository, against the contract this host speaks.

use super::{Files, Vars};
use std::path::Path;
use tributary_plugin::PluginKind;

/// The JavaScript SDK, file by file, as `tributary_plugin/` of a new project.
pub(super) const SDK: &[(&str, &str)] = &[
    (
        "README.md",
        include_str!("../../../../guests/js/tributary_plugin/README.md"),
    ),
    (
        "package.json",
        include_str!("../../../../guests/js/tributary_plugin/package.json"),
    ),
    (
        "build.mjs",
        include_str!("../../../../guests/js/tributary_plugin/build.mjs"),
    ),
    (
        "context.js",
        include_str!("../../../../guests/js/tributary_plugin/context.js"),
    ),
    (
        "errors.js",
        include_str!("../../../../guests/js/tributary_plugin/errors.js"),
    ),
    (
        "functions.js",
        include_str!("../../../../guests/js/tributary_plugin/functions.js"),
    ),
    (
        "index.js",
        include_str!("../../../../guests/js/tributary_plugin/index.js"),
    ),
    (
        "props.js",
        include_str!("../../../../guests/js/tributary_plugin/props.js"),
    ),
    (
        "sinks.js",
        include_str!("../../../../guests/js/tributary_plugin/sinks.js"),
    ),
    (
        "sources.js",
        include_str!("../../../../guests/js/tributary_plugin/sources.js"),
    ),
    (
        "values.js",
        include_str!("../../../../guests/js/tributary_plugin/values.js"),
    ),
];

/// The versions of componentize-js the SDK's examples are built with.
const LOCK: &str = include_str!("../../../../guests/js/package-lock.json");
/// The lock's own name, replaced by the project's.
const LOCK_NAME: &str = "\"name\": \"tributary-js-examples\"";

const PACKAGE: &str = include_str!("../../templates/js/package.json.in");
const README: &str = include_str!("../../templates/js/README.md.in");
const GITIGNORE: &str = include_str!("../../templates/js/gitignore.in");
const FUNCTION: &str = include_str!("../../templates/js/function.js.in");
const SOURCE: &str = include_str!("../../templates/js/source.js.in");
const SINK: &str = include_str!("../../templates/js/sink.js.in");

/// The project's own files (the common ones, tests and conf, come from `super`).
pub(super) fn files(kind: PluginKind, vars: &Vars, package: &str) -> Files {
    let code = match kind {
        PluginKind::Function => FUNCTION,
        PluginKind::Source => SOURCE,
        PluginKind::Sink => SINK,
    };
    let lock = LOCK.replace(LOCK_NAME, &format!("\"name\": {package:?}"));
    let mut out: Files = vec![
        ("package.json".into(), vars.fill(PACKAGE)),
        ("package-lock.json".into(), lock),
        ("README.md".into(), vars.fill(README)),
        (".gitignore".into(), GITIGNORE.to_string()),
        ("app.js".into(), vars.fill(code)),
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

    /// Every module of the SDK goes into a new project: a module added to it without
    /// a line in `SDK` would make projects that fail to build.
    #[test]
    fn the_embedded_sdk_is_the_whole_sdk() {
        let embedded: Vec<&str> = SDK.iter().map(|(p, _)| *p).collect();
        for ext in [".js", ".mjs"] {
            super::super::tests::embeds_every_file(
                "guests/js/tributary_plugin",
                "",
                ext,
                &embedded,
            );
        }
    }

    /// The project's lock names the project, as npm writes it.
    #[test]
    fn the_lock_is_renamed_for_the_project() {
        assert_eq!(
            LOCK.matches(LOCK_NAME).count(),
            2,
            "the lock's name appears twice"
        );
    }
}

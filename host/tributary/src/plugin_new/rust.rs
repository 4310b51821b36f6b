//! The files of a new Rust project: `Cargo.toml` (its plugin name and kind in
//! `[package.metadata.tributary]`), `src/lib.rs`, and the Rust SDK of this
//! `tributary` in `sdk/` with the lock file the SDK is tested with, so it builds
//! without a checkout of this repository and against the contract this host speaks.

use super::{Files, Vars};
use std::path::Path;
use tributary_plugin::PluginKind;

/// The Rust SDK, file by file, as `sdk/` of a new project (the WIT is added by
/// `super::WIT`).
pub(super) const SDK: &[(&str, &str)] = &[
    (
        "Cargo.toml",
        include_str!("../../../../guests/sdk/Cargo.toml"),
    ),
    (
        "README.md",
        include_str!("../../../../guests/sdk/README.md"),
    ),
    (
        "src/lib.rs",
        include_str!("../../../../guests/sdk/src/lib.rs"),
    ),
    (
        "src/http.rs",
        include_str!("../../../../guests/sdk/src/http.rs"),
    ),
    (
        "src/json.rs",
        include_str!("../../../../guests/sdk/src/json.rs"),
    ),
    (
        "src/props.rs",
        include_str!("../../../../guests/sdk/src/props.rs"),
    ),
];

/// The versions the SDK and the example plugins are built and tested with.
const LOCK: &str = include_str!("../../../../guests/Cargo.lock");

const CARGO_TOML: &str = include_str!("../../templates/rust/Cargo.toml.in");
const README: &str = include_str!("../../templates/rust/README.md.in");
const GITIGNORE: &str = include_str!("../../templates/rust/gitignore.in");
const FUNCTION: &str = include_str!("../../templates/rust/function.rs.in");
const SOURCE: &str = include_str!("../../templates/rust/source.rs.in");
const SINK: &str = include_str!("../../templates/rust/sink.rs.in");

/// The crate name of plugin `name`: `myUpper` is `my-upper`.
pub(super) fn crate_name(name: &str) -> String {
    let mut out = String::new();
    let mut prev: Option<char> = None;
    for c in name.chars() {
        let after_word = prev.is_some_and(|p| p.is_ascii_lowercase() || p.is_ascii_digit());
        if c.is_ascii_uppercase() && after_word {
            out.push('-');
        }
        out.push(if c == '_' {
            '-'
        } else {
            c.to_ascii_lowercase()
        });
        prev = Some(c);
    }
    out
}

/// The project's own files (the common ones, tests and conf, come from `super`).
pub(super) fn files(kind: PluginKind, vars: &Vars) -> Files {
    let code = match kind {
        PluginKind::Function => FUNCTION,
        PluginKind::Source => SOURCE,
        PluginKind::Sink => SINK,
    };
    let mut out: Files = vec![
        ("Cargo.toml".into(), vars.fill(CARGO_TOML)),
        ("Cargo.lock".into(), LOCK.to_string()),
        ("README.md".into(), vars.fill(README)),
        (".gitignore".into(), GITIGNORE.to_string()),
        ("src/lib.rs".into(), vars.fill(code)),
    ];
    out.extend(
        SDK.iter()
            .chain(super::WIT)
            .map(|(path, text)| (Path::new("sdk").join(path), text.to_string())),
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crate_names_are_kebab_case() {
        assert_eq!(crate_name("myUpper"), "my-upper");
        assert_eq!(crate_name("echo"), "echo");
        assert_eq!(crate_name("a_bC"), "a-b-c");
        assert_eq!(crate_name("HTTPSink"), "httpsink");
        assert_eq!(crate_name("modbus2Tcp"), "modbus2-tcp");
    }

    /// Every source file of the SDK goes into a new project: a file added to it
    /// without a line in `SDK` would make projects that do not build.
    #[test]
    fn the_embedded_sdk_is_the_whole_sdk() {
        let embedded: Vec<&str> = SDK.iter().map(|(p, _)| *p).collect();
        super::super::tests::embeds_every_file("guests/sdk/src", "src/", ".rs", &embedded);
    }
}

//! The verbs of `tributary plugin`: those that manage a running server's plugins
//! (install, update, list, describe, drop, udfs) and those that work on a plugin file
//! or project offline (pack, call, test, new, build).

use clap::Subcommand;
use std::path::PathBuf;

#[derive(Subcommand, Clone)]
pub enum PluginVerb {
    /// Install a package: a local zip (uploaded), or a file:// or http(s):// URL the
    /// server fetches. KIND is functions, sources or sinks.
    Install {
        kind: String,
        name: String,
        package: String,
        /// The package's expected sha256 (hex).
        #[arg(long)]
        sha256: Option<String>,
    },
    /// Update an installed plugin from a package.
    Update {
        kind: String,
        name: String,
        package: String,
        #[arg(long)]
        sha256: Option<String>,
    },
    /// List the plugins of a kind.
    List { kind: String },
    /// Show a plugin's tier, version and functions.
    Describe { kind: String, name: String },
    /// Remove a plugin (`--force` while rules use it).
    Drop {
        kind: String,
        name: String,
        #[arg(long)]
        force: bool,
    },
    /// Every plugin function.
    Udfs,
    /// Pack a built plugin file (`.wasm` or `.so`) into a package: loads it as the
    /// server would, writes `manifest.json` (kind, functions, sha256) and zips it with
    /// the `<stem>.json` and `<stem>.yaml` beside it. Offline: no server needed.
    Pack {
        file: PathBuf,
        /// function, source or sink (default: the kind the file loads as).
        #[arg(long)]
        kind: Option<String>,
        /// The plugin name (default: the file's stem).
        #[arg(long)]
        name: Option<String>,
        /// The version (default: the file's `@v…`, else none).
        #[arg(long)]
        version: Option<String>,
        /// A folder packed as the package's `etc/`.
        #[arg(long)]
        etc: Option<PathBuf>,
        /// Where to write the zip (default: `<name>.zip` in this folder).
        #[arg(long, short)]
        out: Option<PathBuf>,
    },
    /// Call a function of a built plugin file once and print the answer as JSON,
    /// offline. ARGS are JSON values (`3`, `'"text"'`, `'[1,2]'`); an aggregate's are
    /// arrays, the group's values of that argument.
    Call {
        file: PathBuf,
        function: String,
        #[arg(allow_negative_numbers = true)]
        args: Vec<String>,
        /// Calls it N times on one instance (a stateful function's state carries over).
        #[arg(long, default_value_t = 1)]
        repeat: u32,
        /// The plugin name (default: the file's stem).
        #[arg(long)]
        name: Option<String>,
    },
    /// Run trial specs against a built plugin file, offline: packs it, installs it in a
    /// scratch root and runs each spec (default: tests/*.json); a spec passes when its
    /// emissions equal the `<spec>.expected` beside it.
    Test {
        file: PathBuf,
        specs: Vec<PathBuf>,
        /// function, source or sink (default: the kind the file loads as).
        #[arg(long)]
        kind: Option<String>,
        /// The plugin name (default: the file's stem).
        #[arg(long)]
        name: Option<String>,
        /// A folder installed as the plugin's etc folder.
        #[arg(long)]
        etc: Option<PathBuf>,
    },
    /// A plugin's recent log lines on the server: its own log calls, a wasm guest's
    /// stdout and stderr, the host's messages about it.
    Logs {
        /// functions, sources or sinks.
        kind: String,
        name: String,
        /// How many of the latest lines (at most 1000, as many as are kept).
        #[arg(long, default_value_t = 100, value_parser = clap::value_parser!(u32).range(0..=1000))]
        lines: u32,
        /// Keep printing new lines as they come (Ctrl-C ends).
        #[arg(long, short)]
        follow: bool,
    },
    /// Make a plugin project that builds and passes its own test: the plugin's code,
    /// the SDK, a trial spec (functions), a README. Offline.
    New {
        name: String,
        /// The language: rust or python.
        #[arg(long, default_value = "rust")]
        lang: String,
        /// function, source or sink.
        #[arg(long, default_value = "function")]
        kind: String,
        /// The project folder (default: ./NAME).
        #[arg(long)]
        dir: Option<PathBuf>,
    },
    /// Build a plugin project with its toolchain (cargo for wasm32-wasip2, or
    /// componentize-py) into DIR/build/<name>.wasm and check it as a server would load
    /// it. Offline.
    Build {
        #[arg(default_value = ".")]
        dir: PathBuf,
    },
}

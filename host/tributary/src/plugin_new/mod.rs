//! `tributary plugin new NAME --lang rust --kind function|source|sink`: a plugin
//! project that builds and passes its own test on the first try.
//!
//! The project carries the Rust SDK of the `tributary` that made it (`sdk/`, with the
//! contract's WIT) and the lock file the SDK is tested with, so it builds without a
//! checkout of this repository and against the contract this host speaks; a plugin
//! built from it keeps loading on newer hosts, as every plugin of that contract does.
//! The templates live in `templates/rust/`; the integration test builds each kind.

use std::path::{Path, PathBuf};
use tributary_core::Error;
use tributary_plugin::PluginKind;

/// The Rust SDK, file by file, as `sdk/` of a new project.
const SDK: &[(&str, &str)] = &[
    ("Cargo.toml", include_str!("../../../guests/sdk/Cargo.toml")),
    ("README.md", include_str!("../../../guests/sdk/README.md")),
    ("src/lib.rs", include_str!("../../../guests/sdk/src/lib.rs")),
    (
        "src/http.rs",
        include_str!("../../../guests/sdk/src/http.rs"),
    ),
    (
        "src/json.rs",
        include_str!("../../../guests/sdk/src/json.rs"),
    ),
    (
        "src/props.rs",
        include_str!("../../../guests/sdk/src/props.rs"),
    ),
    (
        "wit/function.wit",
        include_str!("../../../wit/function.wit"),
    ),
    ("wit/host.wit", include_str!("../../../wit/host.wit")),
    ("wit/sink.wit", include_str!("../../../wit/sink.wit")),
    ("wit/source.wit", include_str!("../../../wit/source.wit")),
    ("wit/types.wit", include_str!("../../../wit/types.wit")),
    ("wit/worlds.wit", include_str!("../../../wit/worlds.wit")),
];

/// The versions the SDK and the example plugins are built and tested with.
const LOCK: &str = include_str!("../../../guests/Cargo.lock");

const CARGO_TOML: &str = include_str!("../templates/rust/Cargo.toml.in");
const README: &str = include_str!("../templates/rust/README.md.in");
const GITIGNORE: &str = include_str!("../templates/rust/gitignore.in");
const FUNCTION: &str = include_str!("../templates/rust/function.rs.in");
const SOURCE: &str = include_str!("../templates/rust/source.rs.in");
const SINK: &str = include_str!("../templates/rust/sink.rs.in");

/// One `plugin new`.
#[derive(Debug, Clone)]
pub struct NewRequest {
    pub name: String,
    pub lang: String,
    pub kind: String,
    /// The project folder; `./NAME` when `None`.
    pub dir: Option<PathBuf>,
}

/// The crate name of plugin `name`: `myUpper` is `my-upper`.
fn crate_name(name: &str) -> String {
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

fn fill(template: &str, vars: &[(&str, &str)]) -> String {
    vars.iter().fold(template.to_string(), |t, (k, v)| {
        t.replace(&format!("{{{{{k}}}}}"), v)
    })
}

/// The trial spec and expected output a function project ships in `tests/`.
fn function_test(name: &str) -> (String, String) {
    let spec = serde_json::json!({
        "id": name,
        "sql": format!("SELECT {name}(word) AS w FROM demo"),
        "streams": ["CREATE STREAM demo (word STRING) WITH (DATASOURCE=\"demo\", TYPE=\"mock\", FORMAT=\"json\")"],
        "mockSource": {"demo": {
            "data": [{"word": "hello"}, {"word": "edge"}],
            "timestamps": [1000, 2000]
        }}
    });
    let text = serde_json::to_string_pretty(&spec).unwrap_or_default();
    (
        text + "\n",
        "[{\"w\":\"HELLO\"}]\n[{\"w\":\"EDGE\"}]\n".to_string(),
    )
}

/// The README's kind-specific parts: how to try it, how to use it, its other files.
fn readme_parts(name: &str, kind: PluginKind) -> [String; 3] {
    match kind {
        PluginKind::Function => [
            format!("tributary plugin test build/{name}.wasm    # runs tests/*.json, compares .expected\ntributary plugin call build/{name}.wasm {name} '\"abc\"'   # \"ABC\""),
            format!("Then, in a rule:\n\n```sql\nSELECT {name}(word) AS w FROM demo\n```"),
            format!("- `tests/{name}.json`: a trial spec (`tributary trial`'s format); `tests/{name}.expected`\n  its emissions, one JSON line each. Add cases beside them."),
        ],
        PluginKind::Source => [
            "# a source runs in a rule of `tributary serve` (plugin test runs function plugins)"
                .to_string(),
            format!("Then a stream of that type, its props from `etc/sources/{name}.yaml`\n(`{name}.yaml` here is packed as its default):\n\n```sql\nCREATE STREAM counts (n BIGINT) WITH (TYPE=\"{name}\", DATASOURCE=\"any\")\n```"),
            format!("- `{name}.yaml`: the source's conf (`default:` and named confs), packed with it."),
        ],
        PluginKind::Sink => [
            "# a sink runs in a rule of `tributary serve` (plugin test runs function plugins)"
                .to_string(),
            format!("Then a rule action of that type:\n\n```json\n{{\"id\": \"r\", \"sql\": \"SELECT * FROM demo\", \"actions\": [{{\"{name}\": {{\"label\": \"seen\"}}}}]}}\n```"),
            String::new(),
        ],
    }
}

/// Writes the project; answers its folder.
pub fn new_project(req: &NewRequest) -> Result<PathBuf, Error> {
    if req.lang != "rust" {
        return Err(Error::user(format!(
            "--lang {:?}: plugin new makes Rust projects (--lang rust); Python, JavaScript \
             and C projects are not offered yet (docs/plugins/wasm.md shows a Python plugin)",
            req.lang
        )));
    }
    let kind = PluginKind::parse(&req.kind).ok_or_else(|| {
        Error::user(format!(
            "--kind {:?} is not one of function, source, sink",
            req.kind
        ))
    })?;
    tributary_plugin::install::check_name(&req.name)?;
    let name = req.name.as_str();
    let dir = req.dir.clone().unwrap_or_else(|| PathBuf::from(name));
    if dir.exists()
        && std::fs::read_dir(&dir)
            .map_err(|e| Error::io(dir.display().to_string(), e))?
            .next()
            .is_some()
    {
        return Err(Error::user(format!(
            "{} exists and is not empty: plugin new writes a new project",
            dir.display()
        )));
    }
    let crate_name = crate_name(name);
    let [try_it, use_it, files] = readme_parts(name, kind);
    let vars = [
        ("name", name),
        ("crate", crate_name.as_str()),
        ("kind", kind.singular()),
        ("folder", kind.folder()),
        ("try", try_it.as_str()),
        ("use", use_it.as_str()),
        ("files", files.as_str()),
    ];
    let code = match kind {
        PluginKind::Function => FUNCTION,
        PluginKind::Source => SOURCE,
        PluginKind::Sink => SINK,
    };
    let mut out: Vec<(PathBuf, String)> = vec![
        ("Cargo.toml".into(), fill(CARGO_TOML, &vars)),
        ("Cargo.lock".into(), LOCK.to_string()),
        ("README.md".into(), fill(README, &vars)),
        (".gitignore".into(), GITIGNORE.to_string()),
        ("src/lib.rs".into(), fill(code, &vars)),
    ];
    out.extend(
        SDK.iter()
            .map(|(path, text)| (Path::new("sdk").join(path), text.to_string())),
    );
    match kind {
        PluginKind::Function => {
            let (spec, expected) = function_test(name);
            out.push((format!("tests/{name}.json").into(), spec));
            out.push((format!("tests/{name}.expected").into(), expected));
        }
        PluginKind::Source => out.push((
            format!("{name}.yaml").into(),
            "default:\n  interval: 1000\n  count: 10\n".to_string(),
        )),
        PluginKind::Sink => {}
    }
    for (rel, text) in out {
        let path = dir.join(rel);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)
                .map_err(|e| Error::io(parent.display().to_string(), e))?;
        }
        std::fs::write(&path, text).map_err(|e| Error::io(path.display().to_string(), e))?;
    }
    Ok(dir)
}

/// `plugin new` on the command line.
pub fn run(req: NewRequest) -> Result<(), Error> {
    let dir = new_project(&req)?;
    crate::say!(
        "made {}: a Rust {} plugin {}",
        dir.display(),
        req.kind,
        req.name
    );
    let then = if req.kind == PluginKind::Function.singular() {
        "plugin test"
    } else {
        "plugin pack"
    };
    crate::say!(
        "next: cd {} && tributary plugin build && tributary {then} build/{}.wasm",
        dir.display(),
        req.name
    );
    Ok(())
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

    /// Every file of the SDK and of the contract goes into a new project: a file added
    /// to either without a line in `SDK` would make projects that do not build.
    #[test]
    fn the_embedded_sdk_is_the_whole_sdk() {
        let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        let mut on_disk = Vec::new();
        for (dir, prefix) in [("guests/sdk/src", "src/"), ("wit", "wit/")] {
            for e in std::fs::read_dir(repo.join(dir)).expect("dir") {
                let path = e.expect("entry").path();
                if path.is_file() {
                    let name = path.file_name().expect("name").to_string_lossy();
                    on_disk.push(format!("{prefix}{name}"));
                }
            }
        }
        on_disk.retain(|f| f.ends_with(".rs") || f.ends_with(".wit"));
        on_disk.sort();
        let mut embedded: Vec<String> = SDK
            .iter()
            .map(|(p, _)| p.to_string())
            .filter(|p| p.ends_with(".rs") || p.ends_with(".wit"))
            .collect();
        embedded.sort();
        assert_eq!(embedded, on_disk);
    }

    #[test]
    fn templates_are_filled() {
        let t = fill(
            "{{name}}: {{name}} {{kind}}",
            &[("name", "x"), ("kind", "sink")],
        );
        assert_eq!(t, "x: x sink");
    }
}

//! `tributary plugin new NAME --lang rust|python|js --kind function|source|sink`: a
//! plugin project that builds and passes its own test on the first try.
//!
//! The project carries the SDK of the `tributary` that made it and the contract's
//! WIT, so it builds without a checkout of this repository and against the contract
//! this host speaks; a plugin built from it keeps loading on newer hosts, as every
//! plugin of that contract does. What every language shares (the trial spec of a
//! function, the conf of a source, the README's usage) is here; each language's
//! files are in its own module, its templates in `templates/<lang>/`. The
//! integration test builds each kind in each language.

mod js;
mod python;
mod rust;

use std::path::PathBuf;
use tributary_core::Error;
use tributary_plugin::PluginKind;

/// The contract, as `wit/` of a project (under `sdk/` for Rust).
const WIT: &[(&str, &str)] = &[
    (
        "wit/function.wit",
        include_str!("../../../../wit/function.wit"),
    ),
    ("wit/host.wit", include_str!("../../../../wit/host.wit")),
    ("wit/sink.wit", include_str!("../../../../wit/sink.wit")),
    ("wit/source.wit", include_str!("../../../../wit/source.wit")),
    ("wit/types.wit", include_str!("../../../../wit/types.wit")),
    ("wit/worlds.wit", include_str!("../../../../wit/worlds.wit")),
];

/// A project's files: path in the project, text.
type Files = Vec<(PathBuf, String)>;

/// The languages `plugin new` writes projects in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    Rust,
    Python,
    JavaScript,
}

impl Lang {
    fn parse(text: &str) -> Result<Lang, Error> {
        match text {
            "rust" => Ok(Lang::Rust),
            "python" => Ok(Lang::Python),
            "js" | "javascript" => Ok(Lang::JavaScript),
            other => Err(Error::user(format!(
                "--lang {other:?}: plugin new makes Rust, Python and JavaScript projects \
                 (--lang rust, --lang python, --lang js); C projects are not offered yet"
            ))),
        }
    }

    fn shown(self) -> &'static str {
        match self {
            Lang::Rust => "Rust",
            Lang::Python => "Python",
            Lang::JavaScript => "JavaScript",
        }
    }
}

/// The `{{key}}` substitutions of a project's templates.
struct Vars<'a>(Vec<(&'a str, &'a str)>);

impl Vars<'_> {
    fn fill(&self, template: &str) -> String {
        self.0.iter().fold(template.to_string(), |t, (k, v)| {
            t.replace(&format!("{{{{{k}}}}}"), v)
        })
    }
}

/// One `plugin new`.
#[derive(Debug, Clone)]
pub struct NewRequest {
    pub name: String,
    pub lang: String,
    pub kind: String,
    /// The project folder; `./NAME` when `None`.
    pub dir: Option<PathBuf>,
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
    let lang = Lang::parse(&req.lang)?;
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
    let package = rust::crate_name(name);
    let class = python::class_name(name);
    let [try_it, use_it, files] = readme_parts(name, kind);
    let vars = Vars(vec![
        ("name", name),
        ("crate", package.as_str()),
        ("class", class.as_str()),
        ("kind", kind.singular()),
        ("folder", kind.folder()),
        ("try", try_it.as_str()),
        ("use", use_it.as_str()),
        ("files", files.as_str()),
    ]);
    let mut out = match lang {
        Lang::Rust => rust::files(kind, &vars),
        Lang::Python => python::files(kind, &vars),
        Lang::JavaScript => js::files(kind, &vars, &package),
    };
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
    let lang = Lang::parse(&req.lang)?;
    crate::say!(
        "made {}: a {} {} plugin {}",
        dir.display(),
        lang.shown(),
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
pub(super) mod tests {
    use super::*;
    use std::path::Path;

    /// Asserts that `embedded` names every file of `dir` (in the repository) ending
    /// in `ext`, each as `prefix` + its name: a file added to an SDK or to the
    /// contract without a line in its list would make projects that do not build.
    pub(crate) fn embeds_every_file(dir: &str, prefix: &str, ext: &str, embedded: &[&str]) {
        let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        let mut on_disk = Vec::new();
        for e in std::fs::read_dir(repo.join(dir)).expect("dir") {
            let path = e.expect("entry").path();
            let name = path.file_name().expect("name").to_string_lossy();
            if path.is_file() && name.ends_with(ext) {
                on_disk.push(format!("{prefix}{name}"));
            }
        }
        on_disk.sort();
        let mut listed: Vec<String> = embedded
            .iter()
            .filter(|p| p.ends_with(ext))
            .map(|p| p.to_string())
            .collect();
        listed.sort();
        assert_eq!(listed, on_disk, "the files of {dir}");
    }

    #[test]
    fn the_embedded_contract_is_the_whole_contract() {
        let embedded: Vec<&str> = WIT.iter().map(|(p, _)| *p).collect();
        embeds_every_file("wit", "wit/", ".wit", &embedded);
    }

    #[test]
    fn templates_are_filled() {
        let t = Vars(vec![("name", "x"), ("kind", "sink")]).fill("{{name}}: {{name}} {{kind}}");
        assert_eq!(t, "x: x sink");
    }

    #[test]
    fn other_languages_are_refused_naming_the_ones_offered() {
        let err = Lang::parse("go").expect_err("go").to_string();
        assert!(
            err.contains("--lang \"go\"") && err.contains("--lang python"),
            "{err}"
        );
    }
}

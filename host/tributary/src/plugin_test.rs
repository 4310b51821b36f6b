//! `tributary plugin test FILE [SPEC]…`: trial specs run against a built plugin file,
//! offline, without a server or a root laid out by hand.
//!
//! The file is packed as `plugin pack` packs it and the package installed into a
//! scratch root by the very installer `/plugins/{kind}` uses, so what passes here is
//! what a server would run. Each spec is then a `tributary trial` against that root.
//! A spec with `<spec>.expected` beside it (the trial corpus's convention: one JSON
//! line per emission) passes when its emissions equal the file line for line; a spec
//! without one prints its emissions. Only function plugins: a trial feeds mock data
//! instead of running sources and has no sinks, so a source or sink plugin would be
//! loaded and never called, and is refused instead.

use crate::local_plugin::{self, LocalRequest};
use std::path::{Path, PathBuf};
use tributary_core::Error;
use tributary_engine::{run_trial, EngineContext, TrialSpec};

/// One `plugin test`.
#[derive(Debug, Clone, Default)]
pub struct TestRequest {
    pub file: PathBuf,
    /// The specs; `tests/*.json` of the current folder when empty.
    pub specs: Vec<PathBuf>,
    pub kind: Option<String>,
    pub name: Option<String>,
    pub etc: Option<PathBuf>,
}

/// How one spec went.
#[derive(Debug)]
pub struct SpecOutcome {
    pub spec: PathBuf,
    /// The emissions, or why the trial could not run.
    pub emissions: Result<Vec<String>, String>,
    /// `<spec>.expected`, when there is one.
    pub expected: Option<String>,
}

impl SpecOutcome {
    /// Whether it ran and, when it has an expectation, met it.
    pub fn passed(&self) -> bool {
        match (&self.emissions, &self.expected) {
            (Err(_), _) => false,
            (Ok(_), None) => true,
            (Ok(lines), Some(want)) => lines.join("\n").trim_end() == want.trim_end(),
        }
    }
}

/// The specs of `req`: as given, or `tests/*.json` in name order.
fn specs(req: &TestRequest) -> Result<Vec<PathBuf>, Error> {
    if !req.specs.is_empty() {
        return Ok(req.specs.clone());
    }
    let dir = Path::new("tests");
    let mut found: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|e| {
            Error::user(format!(
                "test: no SPEC given and no tests/ folder here to take them from ({e})"
            ))
        })?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    found.sort();
    if found.is_empty() {
        return Err(Error::user(
            "test: no SPEC given and tests/ holds no .json trial spec",
        ));
    }
    Ok(found)
}

/// Runs every spec of `req` against its plugin.
pub async fn test(req: &TestRequest) -> Result<Vec<SpecOutcome>, Error> {
    let what = "test";
    let local_req = LocalRequest {
        file: req.file.clone(),
        kind: local_plugin::parse_kind(req.kind.clone())?,
        name: req.name.clone(),
        version: None,
    };
    let (plugin, packed) = {
        let file = req.file.clone();
        let etc = req.etc.clone();
        tokio::task::spawn_blocking(move || {
            let plugin = local_plugin::load(what, &local_req)?;
            let kind = plugin.artifact.kind();
            if kind != tributary_plugin::PluginKind::Function {
                // A trial mocks every stream's data and has no actions, so a source
                // or sink plugin would be loaded and then never called: refused
                // rather than reported as passing.
                return Err(local_plugin::err(
                    what,
                    &file,
                    format!(
                        "it is a {} plugin; a trial mocks its streams and runs no sinks, \
                         so it can test only function plugins (run a source or sink in a \
                         rule of tributary serve)",
                        kind.singular()
                    ),
                ));
            }
            let packed = crate::pack::package(&file, &plugin, etc.as_deref())?;
            Ok::<_, Error>((plugin, packed))
        })
        .await
        .map_err(|e| Error::internal(format!("test: the loading task failed: {e}")))??
    };
    // Looked for after the kind is known: a sink's project has no specs to find.
    let specs = specs(req)?;
    // The scratch root the file was loaded in holds its compiled code, so the
    // install below finds it in the code cache instead of compiling again.
    let root = plugin.scratch.path().to_path_buf();
    let mut outcomes = Vec::with_capacity(specs.len());
    for spec in specs {
        let expected = std::fs::read_to_string(spec.with_extension("expected")).ok();
        let emissions = run_one(&spec, &root, &packed).await;
        outcomes.push(SpecOutcome {
            spec,
            emissions: emissions.map_err(|e| e.to_string()),
            expected,
        });
    }
    Ok(outcomes)
}

/// One trial of `spec` in `root`, the package installed there first if it is not.
async fn run_one(
    spec: &Path,
    root: &Path,
    packed: &crate::pack::Packed,
) -> Result<Vec<String>, Error> {
    let text = std::fs::read_to_string(spec)
        .map_err(|e| Error::user(format!("cannot read {}: {e}", spec.display())))?;
    let parsed = TrialSpec::parse(&text)?;
    let setup = |ctx: &mut EngineContext| {
        let loaded = crate::plugins::load(root, ctx, Default::default())?.strict()?;
        if !loaded.host.is_installed(packed.kind, &packed.name) {
            loaded
                .host
                .install(packed.kind, &packed.name, &packed.zip)?;
        }
        Ok(())
    };
    let mut lines = Vec::new();
    run_trial(&parsed, Some(root.to_path_buf()), setup, |l| lines.push(l)).await?;
    Ok(lines)
}

/// `plugin test` on the command line: reports each spec, fails if any did.
pub async fn run(req: TestRequest) -> Result<(), Error> {
    let outcomes = test(&req).await?;
    let mut failed = 0;
    for o in &outcomes {
        let shown = o.spec.display();
        match (&o.emissions, &o.expected) {
            (Err(e), _) => crate::say!("FAIL {shown}: {e}"),
            (Ok(lines), None) => {
                for l in lines {
                    crate::say!("{l}");
                }
                crate::say!(
                    "ran {shown}: {} emissions (no .expected to compare)",
                    lines.len()
                );
            }
            (Ok(lines), Some(_)) if o.passed() => {
                crate::say!("ok {shown}: {} emissions as expected", lines.len())
            }
            (Ok(lines), Some(want)) => {
                crate::say!("FAIL {shown}: the emissions differ from its .expected");
                crate::say!("-- expected:\n{}", want.trim_end());
                crate::say!("-- got:\n{}", lines.join("\n"));
            }
        }
        if !o.passed() {
            failed += 1;
        }
    }
    crate::say!("{} passed, {failed} failed", outcomes.len() - failed);
    if failed > 0 {
        return Err(Error::user(format!(
            "{failed} of {} specs failed",
            outcomes.len()
        )));
    }
    Ok(())
}

//! The plugins of a running engine, of every tier, installed, updated and removed
//! while rules run.
//!
//! At start every file under `<root>/plugins/<kind>/` whose extension a tier claims
//! is loaded; a file that fails to load is skipped and reported (the log, and its
//! plugin's status in the API), never fatal. Functions are registered in the
//! engine's function registry, sources and sinks as connector types, through the
//! [`Registrar`].
//!
//! - **Install**: the tier loads and checks the artifact first; only then is
//!   anything registered, so a bad file changes nothing.
//! - **Update**: the new version must keep the old one's functions and export mode.
//!   The plugin's cell is swapped; each running function instance switches at its
//!   next batch with its state scope unchanged (no row lost or run twice), and new
//!   sources and sinks are made from the new version.
//! - **Uninstall**: refused while a function instance is alive, unless forced.
//!
//! Packages ([`crate::package`]) are installed through [`crate::staging`], so a
//! crash at any point leaves the old plugin or the new one.

use crate::cell::VersionCell;
use crate::function::{FunctionCell, PluginFunction};
use crate::instance::PluginPaths;
use crate::kind::PluginKind;
use crate::metrics::PluginMetrics;
use crate::sink::{PluginSinkFactory, SinkCell};
use crate::source::{PluginSourceFactory, SourceCell};
use crate::tier::{Artifact, LoadRequest, Tier};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};
use tributary_core::failpoint::Failpoint;
use tributary_core::function::FunctionFactory;
use tributary_core::registry::Registrar;
use tributary_core::state::StateStore;
use tributary_core::Error;

/// What a host is made of.
pub struct HostConfig {
    pub root: PathBuf,
    /// The tiers, in the order their files are loaded.
    pub tiers: Vec<Arc<dyn Tier>>,
    pub state: Arc<dyn StateStore>,
    pub registrar: Arc<dyn Registrar>,
    /// Whether packages may run their `install.sh` (`plugins.allowInstallScripts`).
    pub allow_scripts: bool,
    /// Where a test wants the process to die during an install.
    pub failpoint: Failpoint,
}

/// The live part of an installed plugin.
enum Live {
    Function {
        cell: FunctionCell,
        factories: Vec<Arc<PluginFunction>>,
    },
    Source(SourceCell),
    Sink(SinkCell),
}

/// One installed plugin.
pub struct Record {
    pub tier: &'static str,
    pub version: String,
    /// Its file under `plugins/<kind>/`.
    pub path: PathBuf,
    /// The SQL functions of a function plugin.
    pub functions: Vec<String>,
    pub metrics: Arc<PluginMetrics>,
    live: Live,
}

impl Record {
    /// Live instances of a function plugin's functions (0 for connectors, whose
    /// users the API finds through the rules).
    pub fn users(&self) -> u64 {
        match &self.live {
            Live::Function { factories, .. } => factories.iter().map(|f| f.users()).sum(),
            _ => 0,
        }
    }

    /// The contract the current version was built against (`tributary:plugin@0.1.0`,
    /// `native ABI 2`).
    pub fn contract(&self) -> String {
        match &self.live {
            Live::Function { cell, .. } => cell.current().contract(),
            Live::Source(cell) => cell.current().contract(),
            Live::Sink(cell) => cell.current().contract(),
        }
    }
}

/// A plugin file that failed to load at start.
#[derive(Debug, Clone)]
pub struct Failure {
    pub tier: &'static str,
    pub path: PathBuf,
    pub error: String,
}

/// What [`PluginHost::activate`] changed, to undo it if the install fails later.
pub(crate) enum Undo {
    /// A new plugin: remove it again.
    Remove(PluginKind, String),
    /// An update: put the old version back.
    Restore(PluginKind, String, Artifact, String, PathBuf),
}

type Key = (PluginKind, String);

pub struct PluginHost {
    pub(crate) config: HostConfig,
    records: Mutex<BTreeMap<Key, Record>>,
    failed: Mutex<BTreeMap<Key, Failure>>,
}

fn guard<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // Every update of these maps is one insert or remove.
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl PluginHost {
    pub fn new(config: HostConfig) -> PluginHost {
        PluginHost {
            config,
            records: Mutex::new(BTreeMap::new()),
            failed: Mutex::new(BTreeMap::new()),
        }
    }

    pub fn root(&self) -> &Path {
        &self.config.root
    }

    pub fn tiers(&self) -> &[Arc<dyn Tier>] {
        &self.config.tiers
    }

    /// Finishes or forgets interrupted installs, then loads every plugin file of the
    /// root. Returns what failed (also logged and kept for the API).
    pub fn load_all(&self) -> Result<Vec<Failure>, Error> {
        let (forward, back) = crate::staging::recover(self.root())?;
        if forward + back > 0 {
            tracing::warn!(
                finished = forward,
                undone = back,
                "interrupted plugin installs recovered"
            );
        }
        let mut failures = Vec::new();
        for kind in PluginKind::ALL {
            let dir = self.root().join("plugins").join(kind.folder());
            for tier in &self.config.tiers {
                let files =
                    tributary_core::plugin_files::discover(&dir, tier.ext()).map_err(|e| {
                        Error::external(format!("plugins folder {}: {e}", dir.display()))
                    })?;
                for f in files {
                    let name = tier.name_of(&f.name);
                    let taken = self.record_path(kind, &name);
                    let result = match taken {
                        Some(other) => Err(Error::Conflict(format!(
                            "{} and {} both name the {} plugin {name}",
                            other.display(),
                            f.path.display(),
                            kind.singular()
                        ))),
                        None => self
                            .activate(kind, tier, &name, &f.version, &f.path, None)
                            .map(|_| ()),
                    };
                    match result {
                        Ok(()) => {
                            tracing::info!(plugin = %name, kind = kind.singular(), tier = tier.name(), version = %f.version, "plugin loaded")
                        }
                        Err(e) => {
                            // A tier's error names the file; a clash found here may not.
                            if e.to_string().contains(&*f.path.to_string_lossy()) {
                                tracing::error!(plugin = %name, error = %e, "plugin not loaded; the others are");
                            } else {
                                tracing::error!(plugin = %name, file = %f.path.display(), error = %e, "plugin not loaded; the others are");
                            }
                            let failure = Failure {
                                tier: tier.name(),
                                path: f.path.clone(),
                                error: e.to_string(),
                            };
                            guard(&self.failed).insert((kind, name), failure.clone());
                            failures.push(failure);
                        }
                    }
                }
            }
        }
        Ok(failures)
    }

    /// Loads one plugin file already in place, by the tier of its extension; an
    /// update when the plugin is installed.
    pub fn load_file(
        &self,
        kind: PluginKind,
        name: &str,
        version: &str,
        path: &Path,
    ) -> Result<(), Error> {
        let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("");
        let tier = self
            .config
            .tiers
            .iter()
            .find(|t| t.ext() == ext)
            .cloned()
            .ok_or_else(|| {
                Error::user(format!("no tier loads .{ext} files ({})", path.display()))
            })?;
        self.activate(kind, &tier, name, version, path, None)
            .map(|_| ())
    }

    /// Unregisters plugin `name`, leaving its files ([`PluginHost::uninstall`]
    /// removes them too). Refused while its instances run, unless `force`.
    pub fn unload(&self, kind: PluginKind, name: &str, force: bool) -> Result<(), Error> {
        self.deactivate(kind, name, force).map(|_| ())
    }

    fn record_path(&self, kind: PluginKind, name: &str) -> Option<PathBuf> {
        guard(&self.records)
            .get(&(kind, name.to_string()))
            .map(|r| r.path.clone())
    }

    /// Loads (or reloads) one plugin file and makes it usable: registered when new,
    /// swapped in when installed. `declared` are the functions a package's manifest
    /// names, checked against what the plugin exports.
    pub(crate) fn activate(
        &self,
        kind: PluginKind,
        tier: &Arc<dyn Tier>,
        name: &str,
        version: &str,
        path: &Path,
        declared: Option<&[String]>,
    ) -> Result<Undo, Error> {
        let key = (kind, name.to_string());
        if let Some(r) = guard(&self.records).get(&key) {
            if r.tier != tier.name() {
                return Err(Error::Conflict(format!(
                    "plugin {name} is installed as a {} plugin; remove it before installing a {} one",
                    r.tier,
                    tier.name()
                )));
            }
        }
        let artifact = tier.load(&LoadRequest {
            kind,
            name,
            version,
            path,
            root: self.root(),
        })?;
        if artifact.kind() != kind {
            return Err(Error::internal(format!(
                "tier {} loaded a {} for a {} plugin",
                tier.name(),
                artifact.kind().singular(),
                kind.singular()
            )));
        }
        let mut records = guard(&self.records);
        let undo = match records.get_mut(&key) {
            Some(r) => {
                let old = self.update(r, name, artifact, declared)?;
                let undo = Undo::Restore(
                    kind,
                    name.to_string(),
                    old,
                    r.version.clone(),
                    r.path.clone(),
                );
                tracing::info!(plugin = %name, from = %r.version, to = %version, "plugin updated");
                r.version = version.to_string();
                r.path = path.to_path_buf();
                undo
            }
            None => {
                let r = self.create(tier.name(), name, version, path, artifact, declared)?;
                records.insert(key, r);
                Undo::Remove(kind, name.to_string())
            }
        };
        guard(&self.failed).remove(&(kind, name.to_string()));
        Ok(undo)
    }

    /// The paths the context API gives a plugin's instances.
    fn paths_of(&self, kind: PluginKind, name: &str) -> PluginPaths {
        let root = self.root();
        PluginPaths {
            root: root.display().to_string(),
            plugin: root
                .join("etc")
                .join(kind.folder())
                .join(name)
                .display()
                .to_string(),
        }
    }

    fn create(
        &self,
        tier: &'static str,
        name: &str,
        version: &str,
        path: &Path,
        artifact: Artifact,
        declared: Option<&[String]>,
    ) -> Result<Record, Error> {
        let metrics = Arc::new(PluginMetrics::default());
        let state = self.config.state.clone();
        let reg = &self.config.registrar;
        let (live, functions) = match artifact {
            Artifact::Function(a) => {
                let paths = self.paths_of(PluginKind::Function, name);
                let cell: FunctionCell = VersionCell::new(a.clone());
                let factories: Vec<Arc<PluginFunction>> = a
                    .functions()
                    .iter()
                    .map(|f| {
                        Arc::new(PluginFunction::new(
                            cell.clone(),
                            name,
                            &f.name,
                            f.kind,
                            &paths,
                            state.clone(),
                            metrics.clone(),
                        ))
                    })
                    .collect();
                let names: Vec<String> = a.functions().iter().map(|f| f.name.clone()).collect();
                check_declared(declared, &names)?;
                for (i, f) in factories.iter().enumerate() {
                    if let Err(e) = reg.add_function(f.clone() as Arc<dyn FunctionFactory>) {
                        for done in &names[..i] {
                            reg.remove_function(done);
                        }
                        return Err(e);
                    }
                }
                (Live::Function { cell, factories }, names)
            }
            Artifact::Source(a) => {
                let cell: SourceCell = VersionCell::new(a);
                let f = PluginSourceFactory::new(
                    cell.clone(),
                    name,
                    self.paths_of(PluginKind::Source, name),
                    state,
                    metrics.clone(),
                );
                reg.connectors().add_source(Arc::new(f), false)?;
                (Live::Source(cell), Vec::new())
            }
            Artifact::Sink(a) => {
                let cell: SinkCell = VersionCell::new(a);
                let f = PluginSinkFactory::new(
                    cell.clone(),
                    name,
                    self.paths_of(PluginKind::Sink, name),
                    state,
                    metrics.clone(),
                );
                reg.connectors().add_sink(Arc::new(f), false)?;
                (Live::Sink(cell), Vec::new())
            }
        };
        Ok(Record {
            tier,
            version: version.to_string(),
            path: path.to_path_buf(),
            functions,
            metrics,
            live,
        })
    }

    /// Swaps a new version into an installed plugin; returns the old one.
    fn update(
        &self,
        r: &Record,
        name: &str,
        artifact: Artifact,
        declared: Option<&[String]>,
    ) -> Result<Artifact, Error> {
        match (&r.live, artifact) {
            (Live::Function { cell, .. }, Artifact::Function(a)) => {
                let old = cell.current();
                let mut was: Vec<_> = old.functions().to_vec();
                let mut now: Vec<_> = a.functions().to_vec();
                was.sort_by(|x, y| x.name.cmp(&y.name));
                now.sort_by(|x, y| x.name.cmp(&y.name));
                if was != now {
                    return Err(Error::user(format!(
                        "plugin {name}: an update must export the same functions as {} ({})",
                        if r.version.is_empty() {
                            "the installed version".to_string()
                        } else {
                            r.version.clone()
                        },
                        r.functions.join(", ")
                    )));
                }
                if old.singleton() != a.singleton() {
                    return Err(Error::user(format!(
                        "plugin {name}: an update cannot change the export mode (singleton or one instance per call site)"
                    )));
                }
                check_declared(declared, &r.functions)?;
                Ok(Artifact::Function(cell.swap(a)))
            }
            (Live::Source(cell), Artifact::Source(a)) => Ok(Artifact::Source(cell.swap(a))),
            (Live::Sink(cell), Artifact::Sink(a)) => Ok(Artifact::Sink(cell.swap(a))),
            _ => Err(Error::internal(format!("plugin {name} changed its kind"))),
        }
    }

    /// Takes back what [`PluginHost::activate`] did.
    pub(crate) fn undo(&self, undo: Undo) {
        match undo {
            Undo::Remove(kind, name) => {
                let _ = self.deactivate(kind, &name, true);
            }
            Undo::Restore(kind, name, old, version, path) => {
                let mut records = guard(&self.records);
                if let Some(r) = records.get_mut(&(kind, name)) {
                    match (&r.live, old) {
                        (Live::Function { cell, .. }, Artifact::Function(a)) => {
                            cell.swap(a);
                        }
                        (Live::Source(cell), Artifact::Source(a)) => {
                            cell.swap(a);
                        }
                        (Live::Sink(cell), Artifact::Sink(a)) => {
                            cell.swap(a);
                        }
                        _ => {}
                    }
                    r.version = version;
                    r.path = path;
                }
            }
        }
    }

    /// Unregisters plugin `name` and forgets it; its files stay. Refused while a
    /// function instance is alive, unless `force`.
    pub(crate) fn deactivate(
        &self,
        kind: PluginKind,
        name: &str,
        force: bool,
    ) -> Result<Record, Error> {
        let mut records = guard(&self.records);
        let key = (kind, name.to_string());
        let r = records.get(&key).ok_or_else(|| {
            Error::not_found(format!("{} plugin {name} not found", kind.folder()))
        })?;
        let users = r.users();
        if users > 0 && !force {
            return Err(Error::Conflict(format!(
                "plugin {name} is used by {users} running function instance(s); stop those rules or force"
            )));
        }
        let reg = &self.config.registrar;
        match &r.live {
            Live::Function { .. } => {
                for f in &r.functions {
                    reg.remove_function(f);
                }
            }
            Live::Source(_) => reg.connectors().remove_source(name),
            Live::Sink(_) => reg.connectors().remove_sink(name),
        }
        records
            .remove(&key)
            .ok_or_else(|| Error::internal("plugin record vanished"))
    }

    /// Sets where an installed plugin's file now is.
    pub(crate) fn set_path(&self, kind: PluginKind, name: &str, path: PathBuf) {
        if let Some(r) = guard(&self.records).get_mut(&(kind, name.to_string())) {
            r.path = path;
        }
    }

    /// The plugins of one kind, sorted, including those that failed to load.
    pub fn names(&self, kind: PluginKind) -> Vec<String> {
        let mut out: Vec<String> = guard(&self.records)
            .keys()
            .chain(guard(&self.failed).keys())
            .filter(|(k, _)| *k == kind)
            .map(|(_, n)| n.clone())
            .collect();
        out.sort();
        out.dedup();
        out
    }

    pub fn is_installed(&self, kind: PluginKind, name: &str) -> bool {
        guard(&self.records).contains_key(&(kind, name.to_string()))
    }

    /// What the API shows of a plugin: tier, version, file, functions, status.
    pub fn describe(&self, kind: PluginKind, name: &str) -> Result<serde_json::Value, Error> {
        let key = (kind, name.to_string());
        if let Some(r) = guard(&self.records).get(&key) {
            let m = r.metrics.snapshot();
            let mut v = serde_json::json!({
                "name": name,
                "version": r.version,
                "tier": r.tier,
                "file": r.path.file_name().map(|f| f.to_string_lossy().into_owned()),
                "status": "loaded",
                "contract": r.contract(),
                "metrics": m,
            });
            if kind == PluginKind::Function {
                v["functions"] = serde_json::json!(r.functions);
                v["instances"] = serde_json::json!(r.users());
            }
            let tier = self.config.tiers.iter().find(|t| t.name() == r.tier);
            let req = LoadRequest {
                kind,
                name,
                version: &r.version,
                path: &r.path,
                root: self.root(),
            };
            if let Some(caps) = tier.and_then(|t| t.capabilities(&req)) {
                v["capabilities"] = caps;
            }
            return Ok(v);
        }
        if let Some(f) = guard(&self.failed).get(&key) {
            return Ok(serde_json::json!({
                "name": name,
                "tier": f.tier,
                "file": f.path.file_name().map(|f| f.to_string_lossy().into_owned()),
                "status": "failed",
                "error": f.error,
            }));
        }
        Err(Error::not_found(format!(
            "{} plugin {name} not found",
            kind.folder()
        )))
    }

    /// Every function of every function plugin, with its plugin: `(function, plugin)`.
    pub fn functions(&self) -> Vec<(String, String)> {
        let mut out: Vec<(String, String)> = guard(&self.records)
            .iter()
            .filter(|((k, _), _)| *k == PluginKind::Function)
            .flat_map(|((_, plugin), r)| {
                r.functions.iter().map(move |f| (f.clone(), plugin.clone()))
            })
            .collect();
        out.sort();
        out
    }

    /// `(kind, name, tier, version, counters)` of every installed plugin.
    pub fn stats(&self) -> Vec<(PluginKind, String, &'static str, String, Arc<PluginMetrics>)> {
        guard(&self.records)
            .iter()
            .map(|((k, n), r)| (*k, n.clone(), r.tier, r.version.clone(), r.metrics.clone()))
            .collect()
    }

    /// The file of an installed plugin and its tier.
    pub(crate) fn file_of(&self, kind: PluginKind, name: &str) -> Option<(PathBuf, &'static str)> {
        guard(&self.records)
            .get(&(kind, name.to_string()))
            .map(|r| (r.path.clone(), r.tier))
    }
}

/// The functions a manifest declares must be the ones the plugin exports.
fn check_declared(declared: Option<&[String]>, got: &[String]) -> Result<(), Error> {
    let Some(d) = declared else { return Ok(()) };
    let mut want: Vec<&str> = d.iter().map(String::as_str).collect();
    let mut got: Vec<&str> = got.iter().map(String::as_str).collect();
    want.sort_unstable();
    got.sort_unstable();
    if want == got {
        Ok(())
    } else {
        Err(Error::user(format!(
            "the manifest declares the functions {want:?}, the plugin exports {got:?}"
        )))
    }
}

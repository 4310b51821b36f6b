//! The plugins of a running engine, installed, updated and removed while rules run.
//!
//! At start every plugin under `<root>/plugins/` is loaded: function plugins through
//! the tiers' managers (so they can be updated and removed later), sources and sinks as
//! connector types. The REST API then installs packages ([`crate::packages`]): a
//! package is checked whole, its files are written, and the plugin is loaded; if the
//! load fails, the files are put back as they were. An update of a function plugin
//! switches running rules at their next batch, with their state kept.

use crate::packages::{self, Kind, Package, Tier};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use tributary_core::plugin_files::discover;
use tributary_core::Error;
use tributary_engine::EngineContext;
use tributary_native::manager::NativeFunctionPlugins;
use tributary_wasm::manager::WasmFunctionPlugins;
use tributary_wasm::{WasmConfig, WasmEngine};

/// What is known of one installed plugin.
#[derive(Debug, Clone)]
pub struct Record {
    pub tier: Tier,
    pub version: String,
    /// The SQL functions of a function plugin.
    pub functions: Vec<String>,
    pub path: PathBuf,
}

pub struct PluginHost {
    root: PathBuf,
    ctx: EngineContext,
    wasm_engine: Arc<WasmEngine>,
    wasm: WasmFunctionPlugins,
    native: NativeFunctionPlugins,
    allow_scripts: bool,
    installed: Mutex<BTreeMap<(Kind, String), Record>>,
}

fn poisoned(what: &str) -> Error {
    Error::internal(format!("{what} lock poisoned"))
}

/// Files written by an install, with what they replaced, to undo a failed one.
#[derive(Default)]
struct Staged {
    written: Vec<(PathBuf, Option<Vec<u8>>)>,
}

impl Staged {
    fn write(&mut self, path: &Path, bytes: &[u8]) -> Result<(), Error> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)
                .map_err(|e| Error::external(format!("cannot create {}: {e}", dir.display())))?;
        }
        let old = std::fs::read(path).ok();
        // Write beside, then rename: a reader never sees half a file.
        let tmp = path.with_extension("installing");
        std::fs::write(&tmp, bytes)
            .and_then(|_| std::fs::rename(&tmp, path))
            .map_err(|e| Error::external(format!("cannot write {}: {e}", path.display())))?;
        self.written.push((path.to_path_buf(), old));
        Ok(())
    }

    fn undo(self) {
        for (path, old) in self.written.into_iter().rev() {
            let _ = match old {
                Some(bytes) => std::fs::write(&path, bytes),
                None => std::fs::remove_file(&path),
            };
        }
    }
}

/// A plugin name as eKuiper allows it: a letter, then letters, digits or `_`.
fn check_name(name: &str) -> Result<(), Error> {
    let mut c = name.chars();
    let ok = c.next().is_some_and(|f| f.is_ascii_alphabetic())
        && c.all(|x| x.is_ascii_alphanumeric() || x == '_');
    if ok {
        Ok(())
    } else {
        Err(Error::user(format!(
            "invalid plugin name {name:?}: a letter, then letters, digits or _"
        )))
    }
}

impl PluginHost {
    /// Loads every plugin of `root` into `ctx`.
    pub fn load(root: &Path, ctx: &EngineContext) -> Result<PluginHost, Error> {
        let wasm_engine = WasmEngine::new(WasmConfig::for_root(root)?)?;
        let host = PluginHost {
            root: root.to_path_buf(),
            ctx: ctx.clone(),
            wasm: WasmFunctionPlugins::new(wasm_engine.clone(), ctx.state.clone(), root),
            native: NativeFunctionPlugins::new(ctx.state.clone(), root),
            wasm_engine,
            allow_scripts: crate::plugins::scripts_allowed(root)?,
            installed: Mutex::new(BTreeMap::new()),
        };
        for kind in [Kind::Function, Kind::Source, Kind::Sink] {
            let dir = root.join("plugins").join(kind.folder());
            for tier in [Tier::Native, Tier::Wasm] {
                let files = discover(&dir, tier.ext()).map_err(|e| {
                    Error::external(format!("plugins folder {}: {e}", dir.display()))
                })?;
                for f in files {
                    let name = match tier {
                        Tier::Native => tributary_native::library::plugin_name(&f.name),
                        Tier::Wasm => f.name.clone(),
                    };
                    host.activate(kind, tier, &name, &f.version, &f.path, None)
                        .map_err(|e| Error::user(format!("plugin {}: {e}", f.path.display())))?;
                }
            }
        }
        Ok(host)
    }

    fn records(&self) -> std::sync::MutexGuard<'_, BTreeMap<(Kind, String), Record>> {
        self.installed.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Loads (or reloads) one plugin file and makes it usable.
    fn activate(
        &self,
        kind: Kind,
        tier: Tier,
        name: &str,
        version: &str,
        path: &Path,
        declared: Option<&[String]>,
    ) -> Result<(), Error> {
        if let Some(r) = self.records().get(&(kind, name.to_string())) {
            if r.tier != tier {
                return Err(Error::Conflict(format!(
                    "plugin {name} is installed as a {} plugin; remove it before installing a {} one",
                    r.tier.name(),
                    tier.name()
                )));
            }
        }
        let functions = match kind {
            Kind::Function => self.activate_function(tier, name, version, path, declared)?,
            Kind::Source | Kind::Sink => {
                self.activate_connector(kind, tier, name, version, path)?;
                Vec::new()
            }
        };
        self.records().insert(
            (kind, name.to_string()),
            Record {
                tier,
                version: version.to_string(),
                functions,
                path: path.to_path_buf(),
            },
        );
        Ok(())
    }

    fn activate_function(
        &self,
        tier: Tier,
        name: &str,
        version: &str,
        path: &Path,
        declared: Option<&[String]>,
    ) -> Result<Vec<String>, Error> {
        let (new_functions, replaced) = match tier {
            Tier::Wasm => {
                let i = self.wasm.install(name, version, path)?;
                (i.new_functions, i.replaced)
            }
            Tier::Native => {
                let i = self.native.install(name, version, path)?;
                (i.new_functions, i.replaced)
            }
        };
        let names: Vec<String> = if replaced.is_some() {
            self.records()
                .get(&(Kind::Function, name.to_string()))
                .map(|r| r.functions.clone())
                .unwrap_or_default()
        } else {
            new_functions.iter().map(|f| f.name().to_string()).collect()
        };
        let undo = |host: &PluginHost| {
            if replaced.is_none() {
                let _ = match tier {
                    Tier::Wasm => host.wasm.uninstall(name, true),
                    Tier::Native => host.native.uninstall(name, true),
                };
            }
        };
        if let Some(d) = declared {
            let mut want: Vec<&str> = d.iter().map(String::as_str).collect();
            let mut got: Vec<&str> = names.iter().map(String::as_str).collect();
            want.sort_unstable();
            got.sort_unstable();
            if want != got {
                undo(self);
                return Err(Error::user(format!(
                    "the manifest declares the functions {want:?}, the plugin exports {got:?}"
                )));
            }
        }
        let mut registry = self
            .ctx
            .registry
            .write()
            .map_err(|_| poisoned("function registry"))?;
        for (i, f) in new_functions.into_iter().enumerate() {
            if let Err(e) = registry.register(f) {
                for done in &names[..i] {
                    registry.remove(done);
                }
                drop(registry);
                undo(self);
                return Err(e);
            }
        }
        if let Some(old) = replaced {
            tracing::info!(plugin = %name, from = %old, to = %version, "function plugin updated");
        }
        Ok(names)
    }

    fn activate_connector(
        &self,
        kind: Kind,
        tier: Tier,
        name: &str,
        version: &str,
        path: &Path,
    ) -> Result<(), Error> {
        use tributary_core::connector::{SinkFactory, SourceFactory};
        let state = self.ctx.state.clone();
        let native = |k| {
            let etc = self.root.join("etc").join(kind.folder()).join(name);
            let cache = tributary_native::loader::cache_dir(&self.root);
            tributary_native::NativeLibrary::load(name, version, path, k, etc, Some(&cache))
        };
        let wasm_caps = |k| {
            tributary_wasm::Capabilities::for_plugin(
                &self.wasm_engine.config,
                &self.root,
                k,
                name,
                path,
            )
        };
        let updating = self.records().contains_key(&(kind, name.to_string()));
        match kind {
            Kind::Source => {
                let f: Arc<dyn SourceFactory> = match tier {
                    Tier::Native => Arc::new(tributary_native::source::NativeSourceFactory::new(
                        native(tributary_native::PluginKind::Source)?,
                        state,
                    )),
                    Tier::Wasm => {
                        let caps = wasm_caps(tributary_wasm::capabilities::PluginKind::Source)?;
                        let p = tributary_wasm::source::WasmSourcePlugin::load(
                            &self.wasm_engine,
                            name,
                            version,
                            path,
                            caps,
                        )?;
                        Arc::new(tributary_wasm::source::WasmSourceFactory::new(
                            Arc::new(p),
                            state,
                        ))
                    }
                };
                let mut map = self
                    .ctx
                    .plugin_sources
                    .write()
                    .map_err(|_| poisoned("source registry"))?;
                if updating {
                    map.insert(name.to_ascii_lowercase(), f);
                } else {
                    crate::plugins::add_source(&mut map, f)?;
                }
            }
            Kind::Sink => {
                let f: Arc<dyn SinkFactory> = match tier {
                    Tier::Native => Arc::new(tributary_native::sink::NativeSinkFactory::new(
                        native(tributary_native::PluginKind::Sink)?,
                        state,
                    )),
                    Tier::Wasm => {
                        let caps = wasm_caps(tributary_wasm::capabilities::PluginKind::Sink)?;
                        let p = tributary_wasm::sink::WasmSinkPlugin::load(
                            &self.wasm_engine,
                            name,
                            version,
                            path,
                            caps,
                        )?;
                        Arc::new(tributary_wasm::sink::WasmSinkFactory::new(
                            Arc::new(p),
                            state,
                        ))
                    }
                };
                let mut map = self
                    .ctx
                    .plugin_sinks
                    .write()
                    .map_err(|_| poisoned("sink registry"))?;
                if updating {
                    map.insert(name.to_ascii_lowercase(), f);
                } else {
                    crate::plugins::add_sink(&mut map, f)?;
                }
            }
            Kind::Function => {}
        }
        Ok(())
    }

    /// Installs or updates plugin `name` of `kind` from a package's bytes. Returns
    /// whether it was an update.
    pub fn install(&self, kind: Kind, name: &str, bytes: &[u8]) -> Result<bool, Error> {
        check_name(name)?;
        let p = packages::read(bytes, name, kind, self.allow_scripts)?;
        let update = self.records().contains_key(&(kind, name.to_string()));
        let mut staged = Staged::default();
        let result = self.place_and_activate(&p, &mut staged);
        match result {
            Ok(path) => {
                self.remove_other_versions(kind, name, p.tier, &path);
                Ok(update)
            }
            Err(e) => {
                staged.undo();
                Err(e)
            }
        }
    }

    fn place_and_activate(&self, p: &Package, staged: &mut Staged) -> Result<PathBuf, Error> {
        let dir = self.root.join("plugins").join(p.kind.folder());
        let file = match p.version.as_str() {
            "" => format!("{}.{}", p.name, p.tier.ext()),
            v => format!("{}@v{}.{}", p.name, v.trim_start_matches('v'), p.tier.ext()),
        };
        let path = dir.join(file);
        let etc = self.root.join("etc").join(p.kind.folder()).join(&p.name);
        for (rel, bytes) in &p.etc {
            staged.write(&etc.join(rel), bytes)?;
        }
        if let Some(m) = &p.metadata {
            // A wasm plugin's capability manifest sits beside it; eKuiper's UI metadata
            // of a native plugin goes to etc/, as eKuiper puts it.
            let to = match p.tier {
                Tier::Wasm => dir.join(format!("{}.json", p.name)),
                Tier::Native => self
                    .root
                    .join("etc")
                    .join(p.kind.folder())
                    .join(format!("{}.json", p.name)),
            };
            staged.write(&to, m)?;
        }
        if let (Kind::Source, Some(conf)) = (p.kind, &p.source_conf) {
            staged.write(
                &self
                    .root
                    .join("etc/sources")
                    .join(format!("{}.yaml", p.name)),
                conf,
            )?;
        }
        if let Some(script) = &p.install_script {
            self.run_install_script(script, &etc)?;
        }
        staged.write(&path, &p.artifact)?;
        self.activate(
            p.kind,
            p.tier,
            &p.name,
            &p.version,
            &path,
            p.functions.as_deref(),
        )?;
        Ok(path)
    }

    /// Runs a package's `install.sh` (only when the operator allows scripts).
    fn run_install_script(&self, script: &[u8], etc: &Path) -> Result<(), Error> {
        let dir = tempfile_dir(&self.root)?;
        let file = dir.join("install.sh");
        std::fs::write(&file, script).map_err(|e| Error::external(format!("install.sh: {e}")))?;
        let status = std::process::Command::new("/bin/sh")
            .arg(&file)
            .current_dir(&dir)
            .env("TRIBUTARY_PLUGIN_ETC", etc)
            .status()
            .map_err(|e| Error::external(format!("install.sh: {e}")));
        let _ = std::fs::remove_dir_all(&dir);
        match status? {
            s if s.success() => Ok(()),
            s => Err(Error::user(format!("install.sh failed: {s}"))),
        }
    }

    /// Removes the files of other versions of an installed plugin.
    fn remove_other_versions(&self, kind: Kind, name: &str, tier: Tier, keep: &Path) {
        let dir = self.root.join("plugins").join(kind.folder());
        let Ok(entries) = std::fs::read_dir(&dir) else {
            return;
        };
        for e in entries.flatten() {
            let path = e.path();
            let file = path
                .file_name()
                .map(|f| f.to_string_lossy().into_owned())
                .unwrap_or_default();
            let Some((stem, _)) = tributary_core::plugin_files::parse_file_name(&file, tier.ext())
            else {
                continue;
            };
            let same = match tier {
                Tier::Native => tributary_native::library::plugin_name(&stem) == name,
                Tier::Wasm => stem == name,
            };
            if same && path != keep {
                let _ = std::fs::remove_file(&path);
            }
        }
    }

    /// Removes plugin `name`: refused while a function plugin's instances run, unless
    /// `force`. Its files go: the artifact, its manifest, `etc/<kind>/<name>/`.
    pub fn uninstall(&self, kind: Kind, name: &str, force: bool) -> Result<(), Error> {
        let record = self
            .records()
            .get(&(kind, name.to_string()))
            .cloned()
            .ok_or_else(|| {
                Error::not_found(format!("{} plugin {name} not found", kind.folder()))
            })?;
        match kind {
            Kind::Function => {
                let names = match record.tier {
                    Tier::Wasm => self.wasm.uninstall(name, force)?,
                    Tier::Native => self.native.uninstall(name, force)?,
                };
                let mut registry = self
                    .ctx
                    .registry
                    .write()
                    .map_err(|_| poisoned("function registry"))?;
                for n in names {
                    registry.remove(&n);
                }
            }
            Kind::Source => {
                self.ctx
                    .plugin_sources
                    .write()
                    .map_err(|_| poisoned("source registry"))?
                    .remove(&name.to_ascii_lowercase());
            }
            Kind::Sink => {
                self.ctx
                    .plugin_sinks
                    .write()
                    .map_err(|_| poisoned("sink registry"))?
                    .remove(&name.to_ascii_lowercase());
            }
        }
        self.records().remove(&(kind, name.to_string()));
        self.remove_other_versions(kind, name, record.tier, Path::new(""));
        let folder = self.root.join("etc").join(kind.folder());
        let _ = std::fs::remove_dir_all(folder.join(name));
        let _ = std::fs::remove_file(folder.join(format!("{name}.json")));
        let _ = std::fs::remove_file(
            self.root
                .join("plugins")
                .join(kind.folder())
                .join(format!("{name}.json")),
        );
        if kind == Kind::Source {
            let _ =
                std::fs::remove_file(self.root.join("etc/sources").join(format!("{name}.yaml")));
        }
        tracing::info!(plugin = %name, kind = kind.folder(), "plugin removed");
        Ok(())
    }

    /// The plugins of one kind, sorted.
    pub fn names(&self, kind: Kind) -> Vec<String> {
        self.records()
            .keys()
            .filter(|(k, _)| *k == kind)
            .map(|(_, n)| n.clone())
            .collect()
    }

    pub fn record(&self, kind: Kind, name: &str) -> Option<Record> {
        self.records().get(&(kind, name.to_string())).cloned()
    }

    /// Every function of every function plugin, with its plugin.
    pub fn functions(&self) -> Vec<(String, String)> {
        let mut out: Vec<(String, String)> = self
            .records()
            .iter()
            .filter(|((k, _), _)| *k == Kind::Function)
            .flat_map(|((_, plugin), r)| {
                r.functions.iter().map(move |f| (f.clone(), plugin.clone()))
            })
            .collect();
        out.sort();
        out
    }

    /// The counters of every function plugin.
    pub fn function_metrics(
        &self,
    ) -> Vec<(String, Record, Arc<tributary_core::function::PluginMetrics>)> {
        self.records()
            .iter()
            .filter(|((k, _), _)| *k == Kind::Function)
            .filter_map(|((_, name), r)| {
                let m = match r.tier {
                    Tier::Wasm => self.wasm.describe(name).map(|(_, m)| m),
                    Tier::Native => self.native.metrics(name),
                }?;
                Some((name.clone(), r.clone(), m))
            })
            .collect()
    }
}

/// A fresh folder under `<root>/data/` for an install script.
fn tempfile_dir(root: &Path) -> Result<PathBuf, Error> {
    let stamp = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    let dir = root.join("data").join(format!("install-{stamp}"));
    std::fs::create_dir_all(&dir)
        .map_err(|e| Error::external(format!("cannot create {}: {e}", dir.display())))?;
    Ok(dir)
}

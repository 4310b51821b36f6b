//! Installing, updating and uninstalling function plugins while rules run.
//!
//! - **Install**: the plugin is compiled and described first; only then are its
//!   functions handed out for registration, so a bad file changes nothing.
//! - **Update**: the new version must export the same functions. The plugin cell is
//!   swapped; every running instance switches at its next batch, and its state (kept in
//!   the state store under an unchanged scope) carries over. No row is lost or run
//!   twice: a batch runs wholly on one version.
//! - **Uninstall**: refused while an instance is alive, unless forced.

use crate::capabilities::{Capabilities, PluginKind};
use crate::engine::WasmEngine;
use crate::function::{current, PluginCell, PluginMetrics, WasmFunctionFactory};
use crate::plugin::WasmPlugin;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, RwLock};
use tributary_core::function::FunctionFactory;
use tributary_core::state::StateStore;
use tributary_core::Error;

struct Managed {
    cell: PluginCell,
    factories: Vec<Arc<WasmFunctionFactory>>,
    metrics: Arc<PluginMetrics>,
}

/// What an install did.
#[derive(Default)]
pub struct Installed {
    /// Factories of functions that are new: the caller registers them.
    pub new_functions: Vec<Arc<dyn FunctionFactory>>,
    /// The version replaced, when this was an update.
    pub replaced: Option<String>,
}

pub struct WasmFunctionPlugins {
    engine: Arc<WasmEngine>,
    state: Arc<dyn StateStore>,
    root: PathBuf,
    plugins: Mutex<BTreeMap<String, Managed>>,
}

impl WasmFunctionPlugins {
    pub fn new(engine: Arc<WasmEngine>, state: Arc<dyn StateStore>, root: &Path) -> Self {
        WasmFunctionPlugins {
            engine,
            state,
            root: root.to_path_buf(),
            plugins: Mutex::new(BTreeMap::new()),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, BTreeMap<String, Managed>> {
        self.plugins.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Installs plugin `name` from `path`, or updates it when it is already installed.
    /// Its manifest, beside `path`, is checked against the grants like at start.
    pub fn install(&self, name: &str, version: &str, path: &Path) -> Result<Installed, Error> {
        let caps = Capabilities::for_plugin(
            &self.engine.config,
            &self.root,
            PluginKind::Function,
            name,
            path,
        )?;
        let plugin = Arc::new(WasmPlugin::load(&self.engine, name, version, path, caps)?);
        let mut plugins = self.lock();
        if let Some(m) = plugins.get(name) {
            let old = current(&m.cell);
            let same = old.functions.len() == plugin.functions.len()
                && old.functions.iter().all(|f| plugin.functions.contains(f));
            if !same {
                return Err(Error::user(format!(
                    "plugin {name} {version}: an update must export the same functions as {} ({})",
                    if old.version.is_empty() {
                        "the installed version"
                    } else {
                        &old.version
                    },
                    old.functions
                        .iter()
                        .map(|f| f.name.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                )));
            }
            let replaced = old.version.clone();
            match m.cell.write() {
                Ok(mut g) => *g = plugin,
                Err(p) => *p.into_inner() = plugin,
            }
            tracing::info!(plugin = %name, from = %replaced, to = %version, "wasm plugin updated");
            return Ok(Installed {
                new_functions: Vec::new(),
                replaced: Some(replaced),
            });
        }
        let cell: PluginCell = Arc::new(RwLock::new(plugin.clone()));
        let metrics = Arc::new(PluginMetrics::default());
        let factories: Vec<Arc<WasmFunctionFactory>> = plugin
            .functions
            .iter()
            .map(|f| {
                Arc::new(WasmFunctionFactory::with_cell(
                    cell.clone(),
                    &f.name,
                    f.aggregate,
                    self.state.clone(),
                    metrics.clone(),
                ))
            })
            .collect();
        let new_functions = factories
            .iter()
            .map(|f| f.clone() as Arc<dyn FunctionFactory>)
            .collect();
        plugins.insert(
            name.to_string(),
            Managed {
                cell,
                factories,
                metrics,
            },
        );
        Ok(Installed {
            new_functions,
            replaced: None,
        })
    }

    /// Live instances of plugin `name`'s functions.
    pub fn users(&self, name: &str) -> u64 {
        self.lock()
            .get(name)
            .map(|m| m.factories.iter().map(|f| f.users()).sum())
            .unwrap_or(0)
    }

    /// Uninstalls `name`; returns the function names to remove from the registry.
    /// Refused while the plugin is in use unless `force`.
    pub fn uninstall(&self, name: &str, force: bool) -> Result<Vec<String>, Error> {
        let mut plugins = self.lock();
        let m = plugins
            .get(name)
            .ok_or_else(|| Error::not_found(format!("plugin {name} is not installed")))?;
        let users: u64 = m.factories.iter().map(|f| f.users()).sum();
        if users > 0 && !force {
            return Err(Error::Conflict(format!(
                "plugin {name} is used by {users} running function instance(s); stop those rules or force"
            )));
        }
        let names = m.factories.iter().map(|f| f.name().to_string()).collect();
        plugins.remove(name);
        Ok(names)
    }

    /// The version and counters of an installed plugin.
    pub fn describe(&self, name: &str) -> Option<(String, Arc<PluginMetrics>)> {
        self.lock()
            .get(name)
            .map(|m| (current(&m.cell).version.clone(), m.metrics.clone()))
    }
}

//! Installing, updating and uninstalling native function plugins while rules run.
//!
//! - **Install**: the library is loaded and checked first; only then are its functions
//!   handed out for registration, so a bad file changes nothing.
//! - **Update**: the new library is loaded beside the old one (a content-addressed copy,
//!   so the dynamic loader sees a new file) and must export the same functions. The
//!   cell is swapped; each running instance switches at its next batch with its state
//!   scope unchanged, so no row is lost or run twice. The old library is unloaded when
//!   its last instance has gone.
//! - **Uninstall**: refused while an instance is alive, unless forced.

use crate::function::{current, LibraryCell, NativeFunctionFactory, PluginMetrics};
use crate::library::{NativeLibrary, PluginKind};
use crate::loader::{cache_dir, function_factories};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, RwLock, Weak};
use tributary_core::function::FunctionFactory;
use tributary_core::state::StateStore;
use tributary_core::Error;

struct Managed {
    cell: LibraryCell,
    factories: Vec<Arc<NativeFunctionFactory>>,
    metrics: Arc<PluginMetrics>,
}

/// What an install did.
#[derive(Default)]
pub struct Installed {
    /// Factories of functions that are new: the caller registers them.
    pub new_functions: Vec<Arc<dyn FunctionFactory>>,
    /// The version replaced, when this was an update.
    pub replaced: Option<String>,
    /// The replaced library, to observe when it is unloaded.
    pub replaced_library: Option<Weak<NativeLibrary>>,
}

pub struct NativeFunctionPlugins {
    state: Arc<dyn StateStore>,
    root: PathBuf,
    plugins: Mutex<BTreeMap<String, Managed>>,
}

impl NativeFunctionPlugins {
    pub fn new(state: Arc<dyn StateStore>, root: &Path) -> Self {
        NativeFunctionPlugins {
            state,
            root: root.to_path_buf(),
            plugins: Mutex::new(BTreeMap::new()),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, BTreeMap<String, Managed>> {
        self.plugins.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Installs plugin `name` from `path`, or updates it when it is installed.
    pub fn install(&self, name: &str, version: &str, path: &Path) -> Result<Installed, Error> {
        let etc = self.root.join("etc").join("functions").join(name);
        let lib = NativeLibrary::load(
            name,
            version,
            path,
            PluginKind::Function,
            etc,
            Some(&cache_dir(&self.root)),
        )?;
        let mut plugins = self.lock();
        if let Some(m) = plugins.get(name) {
            let old = current(&m.cell);
            let same = old.functions.len() == lib.functions.len()
                && old.functions.iter().all(|f| lib.functions.contains(f));
            if !same {
                return Err(Error::user(format!(
                    "native plugin {name} {version}: an update must export the same functions as the installed version ({})",
                    old.functions
                        .iter()
                        .map(|(n, _)| n.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                )));
            }
            if old.singleton != lib.singleton {
                return Err(Error::user(format!(
                    "native plugin {name} {version}: an update cannot change the export mode (singleton or constructor)"
                )));
            }
            let replaced = old.version.clone();
            let weak = Arc::downgrade(&old);
            drop(old);
            match m.cell.write() {
                Ok(mut g) => *g = lib,
                Err(p) => *p.into_inner() = lib,
            }
            tracing::info!(plugin = %name, from = %replaced, to = %version, "native plugin updated");
            return Ok(Installed {
                new_functions: Vec::new(),
                replaced: Some(replaced),
                replaced_library: Some(weak),
            });
        }
        let cell: LibraryCell = Arc::new(RwLock::new(lib));
        let metrics = Arc::new(PluginMetrics::default());
        let factories = function_factories(&cell, &self.state, &metrics);
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
            ..Installed::default()
        })
    }

    /// Live instances of plugin `name`'s functions.
    pub fn users(&self, name: &str) -> u64 {
        self.lock()
            .get(name)
            .map(|m| m.factories.iter().map(|f| f.users()).sum())
            .unwrap_or(0)
    }

    /// The counters of plugin `name`.
    pub fn metrics(&self, name: &str) -> Option<Arc<PluginMetrics>> {
        self.lock().get(name).map(|m| m.metrics.clone())
    }

    /// The installed version of plugin `name`.
    pub fn version(&self, name: &str) -> Option<String> {
        self.lock()
            .get(name)
            .map(|m| current(&m.cell).version.clone())
    }

    /// Uninstalls `name`; returns the function names to remove from the registry. The
    /// library is unloaded once the registry's factories are gone too. Refused while
    /// the plugin is in use unless `force`.
    pub fn uninstall(&self, name: &str, force: bool) -> Result<Vec<String>, Error> {
        let mut plugins = self.lock();
        let m = plugins
            .get(name)
            .ok_or_else(|| Error::not_found(format!("native plugin {name} is not installed")))?;
        let users: u64 = m.factories.iter().map(|f| f.users()).sum();
        if users > 0 && !force {
            return Err(Error::Conflict(format!(
                "native plugin {name} is used by {users} running function instance(s); stop those rules or force"
            )));
        }
        let names = m.factories.iter().map(|f| f.name().to_string()).collect();
        plugins.remove(name);
        Ok(names)
    }
}

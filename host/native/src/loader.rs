//! Loading every native plugin of a root: `<root>/plugins/{functions,sources,sinks}/`
//! holding `Name.so`, `name.so` or `Name@v1.0.0.so`.

use crate::function::{LibraryCell, NativeFunctionFactory, PluginMetrics};
use crate::library::{plugin_name, NativeLibrary, PluginKind};
use crate::sink::NativeSinkFactory;
use crate::source::NativeSourceFactory;
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};
use tributary_core::connector::{SinkFactory, SourceFactory};
use tributary_core::function::FunctionFactory;
use tributary_core::plugin_files::discover;
use tributary_core::state::StateStore;
use tributary_core::Error;

/// Where native libraries are loaded from (private, content-addressed copies).
pub fn cache_dir(root: &Path) -> PathBuf {
    root.join("data").join("native-cache")
}

/// Loads the libraries of one kind folder, highest version per name. The plugin name
/// is the file name with its first letter in lower case (`Echo.so` is `echo`).
pub fn load_kind(root: &Path, kind: PluginKind) -> Result<Vec<Arc<NativeLibrary>>, Error> {
    let dir = root.join("plugins").join(kind.folder());
    let files = discover(&dir, "so")
        .map_err(|e| Error::external(format!("plugins folder {}: {e}", dir.display())))?;
    let cache = cache_dir(root);
    let mut libs: Vec<Arc<NativeLibrary>> = Vec::new();
    for f in files {
        let name = plugin_name(&f.name);
        if let Some(other) = libs.iter().find(|l| l.name == name) {
            return Err(Error::user(format!(
                "native plugins {} and {} both name the plugin {name}",
                other.path.display(),
                f.path.display()
            )));
        }
        let etc = root.join("etc").join(kind.folder()).join(&name);
        libs.push(NativeLibrary::load(
            &name,
            &f.version,
            &f.path,
            kind,
            etc,
            Some(&cache),
        )?);
    }
    Ok(libs)
}

/// A loaded function plugin, with what it registered.
#[derive(Debug, Clone)]
pub struct Loaded {
    pub name: String,
    pub version: String,
    pub functions: Vec<String>,
    pub cell: LibraryCell,
    pub metrics: Arc<PluginMetrics>,
}

/// Factories for every function `lib` exports, following `cell` for updates.
pub fn function_factories(
    cell: &LibraryCell,
    state: &Arc<dyn StateStore>,
    metrics: &Arc<PluginMetrics>,
) -> Vec<Arc<NativeFunctionFactory>> {
    let lib = crate::function::current(cell);
    lib.functions
        .iter()
        .map(|(name, kind)| {
            Arc::new(NativeFunctionFactory::new(
                cell.clone(),
                name,
                *kind,
                state.clone(),
                metrics.clone(),
            ))
        })
        .collect()
}

/// Loads `<root>/plugins/functions/*.so` and hands each exported function to
/// `register`, which refuses a taken name (a built-in, another plugin).
pub fn load_function_plugins(
    root: &Path,
    state: Arc<dyn StateStore>,
    register: &mut dyn FnMut(Arc<dyn FunctionFactory>) -> Result<(), Error>,
) -> Result<Vec<Loaded>, Error> {
    let mut loaded = Vec::new();
    for lib in load_kind(root, PluginKind::Function)? {
        let cell: LibraryCell = Arc::new(RwLock::new(lib.clone()));
        let metrics = Arc::new(PluginMetrics::default());
        let mut names = Vec::new();
        for f in function_factories(&cell, &state, &metrics) {
            names.push(f.name().to_string());
            register(f)
                .map_err(|e| Error::user(format!("native plugin {}: {e}", lib.path.display())))?;
        }
        tracing::info!(plugin = %lib.name, version = %lib.version, functions = ?names, "native plugin loaded");
        loaded.push(Loaded {
            name: lib.name.clone(),
            version: lib.version.clone(),
            functions: names,
            cell,
            metrics,
        });
    }
    Ok(loaded)
}

/// Loads `<root>/plugins/sources/*.so`; each becomes the stream `TYPE` named after it.
pub fn load_source_plugins(
    root: &Path,
    state: Arc<dyn StateStore>,
    register: &mut dyn FnMut(Arc<dyn SourceFactory>) -> Result<(), Error>,
) -> Result<Vec<String>, Error> {
    let mut names = Vec::new();
    for lib in load_kind(root, PluginKind::Source)? {
        let path = lib.path.clone();
        names.push(lib.name.clone());
        tracing::info!(plugin = %lib.name, version = %lib.version, "native source plugin loaded");
        register(Arc::new(NativeSourceFactory::new(lib, state.clone())))
            .map_err(|e| Error::user(format!("native plugin {}: {e}", path.display())))?;
    }
    Ok(names)
}

/// Loads `<root>/plugins/sinks/*.so`; each becomes the action type named after it.
pub fn load_sink_plugins(
    root: &Path,
    state: Arc<dyn StateStore>,
    register: &mut dyn FnMut(Arc<dyn SinkFactory>) -> Result<(), Error>,
) -> Result<Vec<String>, Error> {
    let mut names = Vec::new();
    for lib in load_kind(root, PluginKind::Sink)? {
        let path = lib.path.clone();
        names.push(lib.name.clone());
        tracing::info!(plugin = %lib.name, version = %lib.version, "native sink plugin loaded");
        register(Arc::new(NativeSinkFactory::new(lib, state.clone())))
            .map_err(|e| Error::user(format!("native plugin {}: {e}", path.display())))?;
    }
    Ok(names)
}

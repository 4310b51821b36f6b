//! Where connector types are found by name: one map for sources and one for sinks,
//! built-ins and plugins alike. A stream's `TYPE` and an action's key are looked up
//! here and nowhere else, so a plugin type is used exactly like a built-in one and
//! an unknown type's error lists every type there is.
//!
//! [`Registrar`] is how a plugin host adds and removes what it loads, without knowing
//! the engine: the engine's context implements it over this registry and its
//! function registry.

use crate::connector::{SinkFactory, SourceFactory};
use crate::function::FunctionFactory;
use crate::Error;
use std::collections::BTreeMap;
use std::sync::{Arc, RwLock};

struct Entry<F: ?Sized> {
    factory: Arc<F>,
    builtin: bool,
}

/// Factories by lower-cased type name.
struct Map<F: ?Sized> {
    entries: RwLock<BTreeMap<String, Entry<F>>>,
}

impl<F: ?Sized> Default for Map<F> {
    fn default() -> Self {
        Map {
            entries: RwLock::new(BTreeMap::new()),
        }
    }
}

impl<F: ?Sized> Map<F> {
    fn get(&self, kind: &str) -> Option<Arc<F>> {
        let entries = self.entries.read().unwrap_or_else(|e| e.into_inner());
        entries
            .get(&kind.to_ascii_lowercase())
            .map(|e| e.factory.clone())
    }

    fn names(&self) -> Vec<String> {
        let entries = self.entries.read().unwrap_or_else(|e| e.into_inner());
        entries.keys().cloned().collect()
    }

    /// Adds a type; a built-in or taken name is refused, unless `replace` and the
    /// taken one is a plugin's (an update).
    fn add(
        &self,
        what: &str,
        name: &str,
        f: Arc<F>,
        builtin: bool,
        replace: bool,
    ) -> Result<(), Error> {
        let key = name.to_ascii_lowercase();
        let mut entries = self.entries.write().unwrap_or_else(|e| e.into_inner());
        match entries.get(&key) {
            Some(e) if e.builtin || !replace => {
                return Err(Error::Conflict(format!("{what} type {key} already exists")))
            }
            _ => {}
        }
        entries.insert(
            key,
            Entry {
                factory: f,
                builtin,
            },
        );
        Ok(())
    }

    fn remove(&self, name: &str) {
        let key = name.to_ascii_lowercase();
        let mut entries = self.entries.write().unwrap_or_else(|e| e.into_inner());
        if entries.get(&key).is_some_and(|e| !e.builtin) {
            entries.remove(&key);
        }
    }

    fn unknown(&self, what: &str, kind: &str) -> Error {
        Error::not_found(format!(
            "unknown {what} type \"{kind}\"; available: {}",
            self.names().join(", ")
        ))
    }
}

/// The connector types of one engine.
#[derive(Default)]
pub struct ConnectorRegistry {
    sources: Map<dyn SourceFactory>,
    sinks: Map<dyn SinkFactory>,
}

impl std::fmt::Debug for ConnectorRegistry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConnectorRegistry")
            .field("sources", &self.sources.names())
            .field("sinks", &self.sinks.names())
            .finish()
    }
}

impl ConnectorRegistry {
    /// Adds a built-in source type (never replaced or removed).
    pub fn builtin_source(&self, f: Arc<dyn SourceFactory>) -> Result<(), Error> {
        let name = f.kind().to_string();
        self.sources.add("source", &name, f, true, false)
    }

    /// Adds a built-in sink type.
    pub fn builtin_sink(&self, f: Arc<dyn SinkFactory>) -> Result<(), Error> {
        let name = f.kind().to_string();
        self.sinks.add("sink", &name, f, true, false)
    }

    /// Adds (or, with `replace`, replaces) a plugin source type.
    pub fn add_source(&self, f: Arc<dyn SourceFactory>, replace: bool) -> Result<(), Error> {
        let name = f.kind().to_string();
        self.sources.add("source", &name, f, false, replace)
    }

    pub fn add_sink(&self, f: Arc<dyn SinkFactory>, replace: bool) -> Result<(), Error> {
        let name = f.kind().to_string();
        self.sinks.add("sink", &name, f, false, replace)
    }

    /// Removes a plugin source type (built-ins stay).
    pub fn remove_source(&self, kind: &str) {
        self.sources.remove(kind)
    }

    pub fn remove_sink(&self, kind: &str) {
        self.sinks.remove(kind)
    }

    /// The source type `kind` (any case), or an error listing every type.
    pub fn source(&self, kind: &str) -> Result<Arc<dyn SourceFactory>, Error> {
        self.sources
            .get(kind)
            .ok_or_else(|| self.sources.unknown("source", kind))
    }

    pub fn sink(&self, kind: &str) -> Result<Arc<dyn SinkFactory>, Error> {
        self.sinks
            .get(kind)
            .ok_or_else(|| self.sinks.unknown("sink", kind))
    }

    /// Whether `kind` names a source or sink type.
    pub fn has_source(&self, kind: &str) -> bool {
        self.sources.get(kind).is_some()
    }

    pub fn has_sink(&self, kind: &str) -> bool {
        self.sinks.get(kind).is_some()
    }

    pub fn source_names(&self) -> Vec<String> {
        self.sources.names()
    }

    pub fn sink_names(&self) -> Vec<String> {
        self.sinks.names()
    }
}

/// How a plugin host adds what it loads to an engine, and takes it away again.
pub trait Registrar: Send + Sync {
    /// Adds a function; a name taken by a built-in or another plugin is refused.
    fn add_function(&self, f: Arc<dyn FunctionFactory>) -> Result<(), Error>;
    fn remove_function(&self, name: &str);
    /// The connector types.
    fn connectors(&self) -> &ConnectorRegistry;
}

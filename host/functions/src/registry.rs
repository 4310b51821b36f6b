//! One name → function map shared by the planner and every plugin tier.

use std::collections::HashMap;
use std::sync::Arc;
use tributary_core::function::FunctionFactory;
use tributary_core::Error;

/// Function names are case-insensitive, as in eKuiper.
#[derive(Clone, Default)]
pub struct Registry {
    functions: HashMap<String, Arc<dyn FunctionFactory>>,
}

impl std::fmt::Debug for Registry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut names: Vec<_> = self.functions.keys().collect();
        names.sort();
        f.debug_struct("Registry")
            .field("functions", &names)
            .finish()
    }
}

impl Registry {
    /// An empty registry.
    pub fn empty() -> Self {
        Registry::default()
    }

    /// A registry holding every built-in scalar function.
    pub fn with_builtins() -> Self {
        let mut r = Registry::empty();
        for f in crate::builtin::all() {
            r.functions
                .insert(f.name().to_ascii_lowercase(), Arc::new(f));
        }
        for f in crate::other::site_functions() {
            r.functions.insert(f.name().to_ascii_lowercase(), f);
        }
        for f in crate::aggregate::aggregates() {
            r.functions
                .insert(f.name().to_ascii_lowercase(), Arc::new(f));
        }
        r
    }

    /// Adds a function. A name that is already taken is a conflict: plugins may not
    /// shadow built-ins or each other silently.
    pub fn register(&mut self, f: Arc<dyn FunctionFactory>) -> Result<(), Error> {
        let key = f.name().to_ascii_lowercase();
        if self.functions.contains_key(&key) {
            return Err(Error::Conflict(format!(
                "function {} already exists",
                f.name()
            )));
        }
        self.functions.insert(key, f);
        Ok(())
    }

    /// Replaces or adds a function (plugin upgrade).
    pub fn upsert(&mut self, f: Arc<dyn FunctionFactory>) {
        self.functions.insert(f.name().to_ascii_lowercase(), f);
    }

    pub fn remove(&mut self, name: &str) -> Option<Arc<dyn FunctionFactory>> {
        self.functions.remove(&name.to_ascii_lowercase())
    }

    pub fn get(&self, name: &str) -> Option<Arc<dyn FunctionFactory>> {
        self.functions.get(&name.to_ascii_lowercase()).cloned()
    }

    pub fn names(&self) -> Vec<String> {
        let mut v: Vec<String> = self.functions.keys().cloned().collect();
        v.sort();
        v
    }
}

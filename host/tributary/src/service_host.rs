//! External services of a running engine (eKuiper's `/services`): the service files of
//! `<root>/etc/services/` loaded at start, and service packages installed, updated and
//! removed through the API.
//!
//! A service package is eKuiper's zip: `<name>.json` (the service file) and the
//! `schemas/` it refers to, unpacked into `etc/services/`. It is checked whole first:
//! the service file must load, with its schemas, before any file is written.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use tributary_core::Error;
use tributary_engine::EngineContext;
use tributary_external::function::{ExternalFunctionFactory, ServiceFunction};
use tributary_external::state_endpoint::StateEndpoint;

pub struct ServiceHost {
    root: PathBuf,
    ctx: EngineContext,
    /// Started with the first service: external calls carry its URL and tokens.
    endpoint: Mutex<Option<Arc<StateEndpoint>>>,
    /// The functions each service registered, by service name.
    services: Mutex<BTreeMap<String, Vec<Arc<ServiceFunction>>>>,
}

fn poisoned(what: &str) -> Error {
    Error::internal(format!("{what} lock poisoned"))
}

impl ServiceHost {
    /// Loads every service file of `root`.
    pub fn load(root: &Path, ctx: &EngineContext) -> Result<ServiceHost, Error> {
        let host = ServiceHost {
            root: root.to_path_buf(),
            ctx: ctx.clone(),
            endpoint: Mutex::new(None),
            services: Mutex::new(BTreeMap::new()),
        };
        let functions = tributary_external::loader::load_services(root)?;
        host.register(functions)?;
        Ok(host)
    }

    fn dir(&self) -> PathBuf {
        self.root.join("etc").join("services")
    }

    fn services(&self) -> std::sync::MutexGuard<'_, BTreeMap<String, Vec<Arc<ServiceFunction>>>> {
        self.services.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn endpoint(&self) -> Result<Arc<StateEndpoint>, Error> {
        let mut e = self.endpoint.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(ep) = e.as_ref() {
            return Ok(ep.clone());
        }
        // Services keep state through the host's endpoint, in the same store as plugins.
        let conf = tributary_state::StoreConfig::load(&self.root)?.endpoint;
        let ep = StateEndpoint::start(
            self.ctx.state.clone(),
            conf.listen.as_deref().unwrap_or("127.0.0.1:0"),
            conf.advertise.as_deref(),
        )?;
        *e = Some(ep.clone());
        Ok(ep)
    }

    /// Registers functions; on a clash nothing of this batch stays registered.
    fn register(&self, functions: Vec<Arc<ServiceFunction>>) -> Result<(), Error> {
        if functions.is_empty() {
            return Ok(());
        }
        let endpoint = self.endpoint()?;
        let mut registry = self
            .ctx
            .registry
            .write()
            .map_err(|_| poisoned("function registry"))?;
        let mut done: Vec<Arc<ServiceFunction>> = Vec::new();
        for f in functions {
            let (name, service) = (f.name.clone(), f.service.clone());
            // An rpc exported under its own name (`Get`, `lower`…) yields to a built-in
            // or plugin function of that name, as in eKuiper; a name a file chose must
            // not clash.
            if !f.explicit && registry.get(&name).is_some() {
                tracing::warn!(function = %name, service = %service, "an rpc shares its name with an existing function; the existing one is kept");
                continue;
            }
            let factory = ExternalFunctionFactory::new(f.clone()).with_state(endpoint.clone());
            if let Err(e) = registry.register(Arc::new(factory)) {
                for d in &done {
                    registry.remove(&d.name);
                }
                return Err(Error::user(format!(
                    "service {service}: function {name}: {e}"
                )));
            }
            done.push(f);
        }
        let mut services = self.services();
        for f in done {
            services.entry(f.service.clone()).or_default().push(f);
        }
        Ok(())
    }

    /// Removes the functions of service `name` from the registry.
    fn unregister(&self, name: &str) -> Result<Vec<Arc<ServiceFunction>>, Error> {
        let removed = self.services().remove(name).unwrap_or_default();
        let mut registry = self
            .ctx
            .registry
            .write()
            .map_err(|_| poisoned("function registry"))?;
        for f in &removed {
            registry.remove(&f.name);
        }
        Ok(removed)
    }

    /// Installs (or replaces) service `name` from its zip. Returns true for an update.
    pub fn install(&self, name: &str, zip: &[u8]) -> Result<bool, Error> {
        let entries = tributary_plugin::package::entries(zip)?;
        let file = format!("{name}.json");
        if !entries
            .iter()
            .any(|(p, _)| p.to_string_lossy().eq_ignore_ascii_case(&file))
        {
            return Err(Error::user(format!(
                "service package: cannot find the service file {file} at its top"
            )));
        }
        for (p, _) in &entries {
            let is_file = p.to_string_lossy().eq_ignore_ascii_case(&file);
            if !(is_file || p.starts_with("schemas")) {
                return Err(Error::user(format!(
                    "service package: {} is neither {file} nor under schemas/",
                    p.display()
                )));
            }
        }
        // Load it from a scratch copy first: a bad file or schema changes nothing.
        let scratch = self
            .root
            .join("data")
            .join(format!("service-{name}.checking"));
        let _ = std::fs::remove_dir_all(&scratch);
        let write_all = |dir: &Path| -> Result<(), Error> {
            for (p, bytes) in &entries {
                let to = dir.join(p);
                if let Some(d) = to.parent() {
                    std::fs::create_dir_all(d)?;
                }
                std::fs::write(&to, bytes)?;
            }
            Ok(())
        };
        let checked = write_all(&scratch).and_then(|_| {
            tributary_external::loader::load_file(&scratch.join(&file), &scratch.join("schemas"))
        });
        let _ = std::fs::remove_dir_all(&scratch);
        checked?;
        let updated = self.services().contains_key(name);
        let old = self.unregister(name)?;
        write_all(&self.dir())?;
        let functions = tributary_external::loader::load_file(
            &self.dir().join(&file),
            &self.dir().join("schemas"),
        )?;
        if let Err(e) = self.register(functions.into_iter().map(Arc::new).collect()) {
            // Put the previous version's functions back.
            let _ = self.register(old);
            return Err(e);
        }
        tracing::info!(service = %name, updated, "service installed");
        Ok(updated)
    }

    /// Removes service `name`: its functions and its service file (schemas may be
    /// shared, so they stay).
    pub fn uninstall(&self, name: &str) -> Result<(), Error> {
        if !self.services().contains_key(name) {
            return Err(Error::not_found(format!("service {name} not found")));
        }
        self.unregister(name)?;
        let _ = std::fs::remove_file(self.dir().join(format!("{name}.json")));
        Ok(())
    }

    pub fn names(&self) -> Vec<String> {
        self.services().keys().cloned().collect()
    }

    /// The service file as JSON.
    pub fn describe(&self, name: &str) -> Result<serde_json::Value, Error> {
        if !self.services().contains_key(name) {
            return Err(Error::not_found(format!("service {name} not found")));
        }
        let path = self.dir().join(format!("{name}.json"));
        let text = std::fs::read_to_string(&path)
            .map_err(|e| Error::external(format!("{}: {e}", path.display())))?;
        serde_json::from_str(&text).map_err(|e| Error::external(format!("{}: {e}", path.display())))
    }

    /// Every service function as eKuiper lists them.
    pub fn functions(&self) -> Vec<serde_json::Value> {
        let services = self.services();
        let mut out = Vec::new();
        for (service, fs) in services.iter() {
            let addresses = self
                .describe_unlocked(service)
                .map(|v| v["interfaces"].clone())
                .unwrap_or_default();
            for f in fs {
                out.push(serde_json::json!({
                    "ServiceName": service,
                    "InterfaceName": f.interface,
                    "Addr": addresses[&f.interface]["address"],
                    "MethodName": f.method,
                    "FuncName": f.name,
                }));
            }
        }
        out
    }

    fn describe_unlocked(&self, name: &str) -> Option<serde_json::Value> {
        let text = std::fs::read_to_string(self.dir().join(format!("{name}.json"))).ok()?;
        serde_json::from_str(&text).ok()
    }

    /// All registered service functions, for their counters.
    pub fn all(&self) -> Vec<Arc<ServiceFunction>> {
        self.services().values().flatten().cloned().collect()
    }
}

//! Which version of the contract a component was built against, and its exports.
//!
//! A component names the version in every interface it exports
//! (`tributary:plugin/function@0.1.0`). The host keeps every version it ever
//! published (`wit/v0.1/` beside the current `wit/`): a plugin built once keeps
//! loading on newer hosts. Within a version, a newer patch release of the same minor
//! (`0.2.3`) is the same contract.

use std::path::Path;
use tributary_core::Error;
use wasmtime::component::ComponentNamedList;
use wasmtime::component::{Component, ComponentExportIndex, Instance, Lift, Lower, TypedFunc};
use wasmtime::{AsContextMut, Engine};

/// A contract version this host serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Contract {
    /// `tributary:plugin@0.1.0`: value columns only, sources without offsets or
    /// lookups, `context.root-path` is the plugin's folder.
    V0_1,
    /// `tributary:plugin@0.2.0`: typed columns and results, source offsets and
    /// lookups, connection status, `root-path` is the engine root.
    V0_2,
}

impl Contract {
    /// Every version this host serves, oldest first.
    pub const ALL: [Contract; 2] = [Contract::V0_1, Contract::V0_2];

    pub fn version(self) -> &'static str {
        match self {
            Contract::V0_1 => "0.1.0",
            Contract::V0_2 => "0.2.0",
        }
    }

    /// The package and version, as the API shows it.
    pub fn shown(self) -> String {
        format!("tributary:plugin@{}", self.version())
    }

    /// The full name of one of its interfaces (`state` → `tributary:plugin/state@0.2.0`).
    pub fn interface(self, name: &str) -> String {
        format!("tributary:plugin/{name}@{}", self.version())
    }

    /// The version a `major.minor.patch` string belongs to.
    fn of(version: &str) -> Option<Contract> {
        let mut parts = version.split('.');
        match (parts.next(), parts.next()) {
            (Some("0"), Some("1")) => Some(Contract::V0_1),
            (Some("0"), Some("2")) => Some(Contract::V0_2),
            _ => None,
        }
    }

    fn known() -> String {
        Contract::ALL
            .iter()
            .map(|c| c.version())
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// The exported interface `name` of a loaded component, with its version.
#[derive(Clone)]
pub struct Exports {
    pub contract: Contract,
    component: Component,
    interface: ComponentExportIndex,
    /// `tributary:plugin/<name>@<version>`, for errors.
    shown: String,
}

impl Exports {
    /// Finds interface `name` among the exports of the component compiled from `path`;
    /// an error says which versions the host knows when the component's is not one.
    pub fn find(
        engine: &Engine,
        component: &Component,
        path: &Path,
        name: &str,
    ) -> Result<Exports, Error> {
        let prefix = format!("tributary:plugin/{name}@");
        let ty = component.component_type();
        let found = ty
            .exports(engine)
            .find_map(|(export, _)| export.strip_prefix(&prefix).map(|v| (export, v)));
        let Some((export, version)) = found else {
            let others: Vec<&str> = ty
                .exports(engine)
                .map(|(e, _)| e)
                .filter(|e| e.starts_with("tributary:plugin/"))
                .collect();
            let also = if others.is_empty() {
                String::new()
            } else {
                format!(" (it exports {})", others.join(", "))
            };
            return Err(Error::user(format!(
                "plugin {} does not export the tributary:plugin/{name} interface{also}",
                path.display()
            )));
        };
        let contract = Contract::of(version).ok_or_else(|| {
            Error::user(format!(
                "plugin {} was built against tributary:plugin@{version}, which this host does not serve (it serves {})",
                path.display(),
                Contract::known()
            ))
        })?;
        let interface = component
            .get_export_index(None, export)
            .ok_or_else(|| Error::internal(format!("export {export} went missing")))?;
        Ok(Exports {
            contract,
            component: component.clone(),
            interface,
            shown: export.to_string(),
        })
    }

    /// The interface as the component exports it (`tributary:plugin/function@0.2.0`).
    pub fn shown(&self) -> &str {
        &self.shown
    }

    /// Checks that the interface has function `name` (`[method]instance.exec`).
    pub fn func(&self, path: &Path, name: &str) -> Result<(), Error> {
        match self.component.get_export_index(Some(&self.interface), name) {
            Some(_) => Ok(()),
            None => Err(Error::user(format!(
                "plugin {}: {} has no function {name}",
                path.display(),
                self.shown
            ))),
        }
    }

    /// Function `name` of the interface on `instance`: an instance may be of the
    /// component as compiled for another engine (the pool's overflow), so the index
    /// is looked up on the instance itself. The names were checked at load.
    pub fn resolve(
        &self,
        instance: &Instance,
        mut store: impl AsContextMut,
        name: &str,
    ) -> Result<Export, Error> {
        instance
            .get_export_index(&mut store, None, &self.shown)
            .and_then(|iface| instance.get_export_index(&mut store, Some(&iface), name))
            .map(|index| Export {
                name: format!("{} `{name}`", self.shown),
                index,
            })
            .ok_or_else(|| Error::internal(format!("{} lost its export {name}", self.shown)))
    }
}

/// A function of the contract's interface on one instance, with the WIT item it is
/// (`tributary:plugin/sink@0.2.0 \`[method]instance.collect\``) for errors: a
/// component whose export has another type is told which one and how it differs.
#[derive(Debug, Clone)]
pub struct Export {
    pub name: String,
    pub index: ComponentExportIndex,
}

/// `e`, a type check of `what` that failed, naming the WIT item first.
pub fn mismatch_of(what: &str, e: wasmtime::Error) -> wasmtime::Error {
    e.context(format!("{what} does not have the contract's type"))
}

/// One export of an instance, typed: checked against the component's own type when
/// the instance is made, so a component of another shape is refused up front.
pub fn typed<P, R>(
    instance: &Instance,
    store: impl AsContextMut,
    export: &Export,
) -> wasmtime::Result<TypedFunc<P, R>>
where
    P: ComponentNamedList + Lower,
    R: ComponentNamedList + Lift,
{
    instance
        .get_typed_func::<P, R>(store, export.index)
        .map_err(|e| mismatch_of(&export.name, e))
}

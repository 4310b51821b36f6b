//! Source plugins: a component exporting `tributary:plugin/source`, as a stream
//! `TYPE`. The pull loop, its thread and its timing are the plugin host's; this is
//! the calls. Contract 0.2 adds `describe`, `offset`, `rewind` and `lookup`; a 0.1
//! component has none of them, so it is neither rewindable nor a lookup source.

use crate::bindings::{source_api, types_api as wit};
use crate::connector::{Live, WasmConnector};
use crate::contract::{typed, Contract, Export, Exports};
use crate::convert::{from_wit, to_wit};
use std::sync::Arc;
use tributary_core::connector::Payload;
use tributary_core::{Error, Object, Value};
use tributary_plugin::{
    InstanceContext, LoadRequest, Pulled, SourceArtifact, SourceInfo, SourceInstance,
};
use wasmtime::component::{Instance, ResourceAny, TypedFunc};

/// The exports every version's source interface has, and those 0.2 added.
const EXPORTS: [&str; 4] = [
    "[constructor]instance",
    "[method]instance.open",
    "[method]instance.pull",
    "[method]instance.close",
];
const EXPORTS_0_2: [&str; 4] = [
    "describe",
    "[method]instance.offset",
    "[method]instance.rewind",
    "[method]instance.lookup",
];

/// What a source component can do, asked once at load (0.2 on).
pub struct SourceIndices {
    info: SourceInfo,
}

pub type WasmSource = WasmConnector<SourceIndices>;

type Rows = Vec<Vec<wit::Field>>;

/// A live instance's typed exports (the rarely called `rewind` and `lookup` are
/// typed when called: their parameters borrow).
pub struct SourceFuncs {
    instance: Instance,
    pull: TypedFunc<(ResourceAny, u32), (Result<source_api::Pulled, String>,)>,
    close: TypedFunc<(ResourceAny,), ()>,
    offset: Option<TypedFunc<(ResourceAny,), (Option<String>,)>>,
    rewind: Option<Export>,
    lookup: Option<Export>,
}

/// Loads a source plugin; a 0.2 component is asked what it can do.
pub fn load(
    engine: &Arc<crate::WasmEngine>,
    req: &LoadRequest<'_>,
    caps: crate::Capabilities,
) -> Result<WasmSource, Error> {
    let mut source = WasmConnector::load(engine, req, caps, "source", |e: &Exports| {
        let v2 = match e.contract {
            Contract::V0_1 => &[][..],
            Contract::V0_2 => &EXPORTS_0_2[..],
        };
        for name in EXPORTS.iter().chain(v2) {
            e.func(req.path, name)?;
        }
        Ok(SourceIndices {
            info: SourceInfo::default(),
        })
    })?;
    if source.contract == Contract::V0_1 {
        return Ok(source);
    }
    let shown = req.path.display();
    let failed = |what: &str, e: wasmtime::Error| {
        Error::user(format!(
            "plugin {shown}: {what}{}",
            crate::trap::root_cause(&e)
        ))
    };
    let info = tributary_plugin::bridge::call(|| -> Result<SourceInfo, Error> {
        let (mut store, instance) = source.start(&probe_context(req)).map_err(Error::user)?;
        let index = source
            .index(&instance, &mut store, "describe")
            .map_err(Error::user)?;
        let f = typed::<(), (source_api::SourceInfo,)>(&instance, &mut store, &index)
            .map_err(|e| failed("", e))?;
        let (i,) = f
            .call(&mut store, ())
            .map_err(|e| failed("describe failed: ", e))?;
        Ok(SourceInfo {
            rewindable: i.rewindable,
            lookup: i.lookup,
        })
    })?;
    source.idx.info = info;
    Ok(source)
}

fn probe_context(req: &LoadRequest<'_>) -> InstanceContext {
    let paths = tributary_plugin::PluginPaths {
        root: req.root.display().to_string(),
        plugin: req.etc_dir().display().to_string(),
    };
    InstanceContext {
        info: tributary_plugin::InstanceInfo::probe(req.name, &paths),
        state: Arc::new(tributary_core::state::MemoryStateStore::default()),
        metrics: Default::default(),
        link: None,
    }
}

impl SourceArtifact for WasmSource {
    fn contract(&self) -> String {
        self.contract.shown()
    }

    fn info(&self) -> SourceInfo {
        self.idx.info
    }

    fn open(
        &self,
        ctx: &InstanceContext,
        datasource: &str,
        props: &str,
    ) -> Result<Box<dyn SourceInstance>, String> {
        let (mut store, instance) = self.start(ctx)?;
        let mut at = |name: &str| self.index(&instance, &mut store, name);
        let (c, o, p, cl) = (
            at("[constructor]instance")?,
            at("[method]instance.open")?,
            at("[method]instance.pull")?,
            at("[method]instance.close")?,
        );
        let ty = self.failed("type check");
        let constructor =
            typed::<(&str, &str), (ResourceAny,)>(&instance, &mut store, &c).map_err(&ty)?;
        let open = typed::<(ResourceAny,), (Result<(), String>,)>(&instance, &mut store, &o)
            .map_err(&ty)?;
        let mut funcs = SourceFuncs {
            instance,
            pull: typed(&instance, &mut store, &p).map_err(&ty)?,
            close: typed(&instance, &mut store, &cl).map_err(&ty)?,
            offset: None,
            rewind: None,
            lookup: None,
        };
        if self.contract == Contract::V0_2 {
            let mut at = |name: &str| self.index(&instance, &mut store, name);
            let (off, rw, lk) = (
                at("[method]instance.offset")?,
                at("[method]instance.rewind")?,
                at("[method]instance.lookup")?,
            );
            funcs.offset = Some(typed(&instance, &mut store, &off).map_err(&ty)?);
            funcs.rewind = Some(rw);
            funcs.lookup = Some(lk);
        }
        let resource = self.construct(&mut store, constructor, (datasource, props), open)?;
        Ok(Box::new(self.live(store, resource, funcs)))
    }
}

fn fields_to_object(fields: Vec<wit::Field>) -> Result<Object, String> {
    fields
        .into_iter()
        .map(|f| from_wit(f.value).map(|v| (f.name, v)))
        .collect()
}

impl SourceInstance for Live<SourceFuncs> {
    fn pull(&mut self, max: u32) -> Result<Pulled, String> {
        self.arm();
        let (pulled,) = self
            .funcs
            .pull
            .call(&mut self.store, (self.resource, max))
            .map_err(|e| self.trapped(&e))?;
        let pulled = pulled.map_err(|e| self.refused("pull", &e))?;
        let mut messages = Vec::with_capacity(pulled.messages.len());
        for m in pulled.messages {
            let payload = match m.payload {
                source_api::Payload::Fields(f) => Payload::Object(Arc::new(fields_to_object(f)?)),
                source_api::Payload::Bytes(b) => Payload::Bytes(b),
            };
            messages.push((payload, fields_to_object(m.meta)?));
        }
        Ok(Pulled {
            messages,
            done: pulled.done,
            wait_ms: pulled.wait_ms,
        })
    }

    fn close(&mut self) {
        self.arm();
        let _ = self.funcs.close.call(&mut self.store, (self.resource,));
    }

    fn offset(&mut self) -> Result<Option<String>, String> {
        let Some(f) = self.funcs.offset else {
            return Ok(None);
        };
        self.arm();
        let (o,) = f
            .call(&mut self.store, (self.resource,))
            .map_err(|e| self.trapped(&e))?;
        Ok(o)
    }

    fn rewind(&mut self, offset: &str) -> Result<(), String> {
        let Some(index) = self.funcs.rewind.clone() else {
            return Err(format!("plugin {} cannot rewind (contract 0.1)", self.name));
        };
        let f = typed::<(ResourceAny, &str), (Result<(), String>,)>(
            &self.funcs.instance,
            &mut self.store,
            &index,
        )
        .map_err(|e| self.trapped(&e))?;
        self.arm();
        let (r,) = f
            .call(&mut self.store, (self.resource, offset))
            .map_err(|e| self.trapped(&e))?;
        r.map_err(|e| self.refused("rewind", &e))
    }

    fn lookup(
        &mut self,
        fields: &[String],
        keys: &[String],
        values: &[Value],
    ) -> Result<Vec<Object>, String> {
        let Some(index) = self.funcs.lookup.clone() else {
            return Err(format!(
                "plugin {} does not answer lookups (contract 0.1)",
                self.name
            ));
        };
        let values: Vec<wit::Value> = values.iter().map(to_wit).collect();
        let f =
            typed::<(ResourceAny, &[String], &[String], &[wit::Value]), (Result<Rows, String>,)>(
                &self.funcs.instance,
                &mut self.store,
                &index,
            )
            .map_err(|e| self.trapped(&e))?;
        self.arm();
        let (rows,) = f
            .call(&mut self.store, (self.resource, fields, keys, &values))
            .map_err(|e| self.trapped(&e))?;
        rows.map_err(|e| self.refused("lookup", &e))?
            .into_iter()
            .map(fields_to_object)
            .collect()
    }
}

//! Sink plugins: a component exporting `tributary:plugin/sink`, as an action type.
//! Delivery, retries and the thread a call runs on are the plugin host's; this is
//! the open, collect and close calls (the same in every contract version).

use crate::bindings::types_api as wit;
use crate::connector::{Live, WasmConnector};
use crate::contract::{typed, Export, Exports};
use crate::convert::to_wit;
use std::sync::Arc;
use tributary_core::Error;
use tributary_plugin::{InstanceContext, LoadRequest, SinkArtifact, SinkInstance, SinkRows};
use wasmtime::component::{ResourceAny, TypedFunc};

/// The sink interface's exports (the same in every version), checked at load.
const EXPORTS: [&str; 4] = [
    "[constructor]instance",
    "[method]instance.open",
    "[method]instance.collect",
    "[method]instance.close",
];

pub type WasmSink = WasmConnector<()>;

/// Loads a sink plugin.
pub fn load(
    engine: &Arc<crate::WasmEngine>,
    req: &LoadRequest<'_>,
    caps: crate::Capabilities,
) -> Result<WasmSink, Error> {
    WasmConnector::load(engine, req, caps, "sink", |e: &Exports| {
        EXPORTS.iter().try_for_each(|n| e.func(req.path, n))
    })
}

/// A live instance's typed exports (`collect` is typed per call: it borrows rows).
pub struct SinkFuncs {
    instance: wasmtime::component::Instance,
    collect: Export,
    close: TypedFunc<(ResourceAny,), (Result<(), String>,)>,
}

impl SinkArtifact for WasmSink {
    fn contract(&self) -> String {
        self.contract.shown()
    }

    fn open(&self, ctx: &InstanceContext, props: &str) -> Result<Box<dyn SinkInstance>, String> {
        let (mut store, instance) = self.start(ctx)?;
        let mut at = |name: &str| self.index(&instance, &mut store, name);
        let (c, o, col, cl) = (
            at("[constructor]instance")?,
            at("[method]instance.open")?,
            at("[method]instance.collect")?,
            at("[method]instance.close")?,
        );
        let ty = self.failed("type check");
        let constructor =
            typed::<(&str,), (ResourceAny,)>(&instance, &mut store, &c).map_err(&ty)?;
        let open = typed::<(ResourceAny,), (Result<(), String>,)>(&instance, &mut store, &o)
            .map_err(&ty)?;
        typed::<(ResourceAny, &[Vec<wit::Field>]), (Result<(), String>,)>(
            &instance, &mut store, &col,
        )
        .map_err(&ty)?;
        let funcs = SinkFuncs {
            instance,
            collect: col,
            close: typed(&instance, &mut store, &cl).map_err(&ty)?,
        };
        let resource = self.construct(&mut store, constructor, (props,), open)?;
        Ok(Box::new(self.live(store, resource, funcs)))
    }
}

impl SinkInstance for Live<SinkFuncs> {
    fn collect(&mut self, rows: &SinkRows) -> Result<(), String> {
        let rows: Vec<Vec<wit::Field>> = rows
            .iter()
            .map(|r| {
                r.iter()
                    .map(|(k, v)| wit::Field {
                        name: k.to_string(),
                        value: to_wit(v),
                    })
                    .collect()
            })
            .collect();
        let f = typed::<(ResourceAny, &[Vec<wit::Field>]), (Result<(), String>,)>(
            &self.funcs.instance,
            &mut self.store,
            &self.funcs.collect,
        )
        .map_err(|e| self.trapped(&e))?;
        self.arm();
        let (r,) = f
            .call(&mut self.store, (self.resource, &rows))
            .map_err(|e| self.trapped(&e))?;
        r.map_err(|e| self.refused("collect", &e))
    }

    fn close(&mut self) -> Result<(), String> {
        self.arm();
        let (r,) = self
            .funcs
            .close
            .call(&mut self.store, (self.resource,))
            .map_err(|e| self.trapped(&e))?;
        r.map_err(|e| self.refused("close", &e))
    }
}

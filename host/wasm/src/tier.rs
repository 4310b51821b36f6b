//! The wasm tier as the plugin host sees it: `.wasm` component files, compiled by
//! one [`WasmEngine`], each given the capabilities its manifest (`<name>.json` beside
//! it) asks for and `etc/wasm.yaml` grants.

use crate::capabilities::Capabilities;
use crate::engine::WasmEngine;
use crate::function::WasmFunctions;
use std::sync::Arc;
use tributary_core::Error;
use tributary_plugin::{Artifact, LoadRequest, PluginKind, Tier};

pub struct WasmTier {
    pub engine: Arc<WasmEngine>,
}

impl WasmTier {
    pub fn new(engine: Arc<WasmEngine>) -> Self {
        WasmTier { engine }
    }
}

impl Tier for WasmTier {
    fn name(&self) -> &'static str {
        "wasm"
    }

    fn ext(&self) -> &'static str {
        "wasm"
    }

    fn reads_manifest(&self) -> bool {
        true
    }

    fn load(&self, req: &LoadRequest<'_>) -> Result<Artifact, Error> {
        let caps =
            Capabilities::for_plugin(&self.engine.config, req.root, req.kind, req.name, req.path)?;
        let e = &self.engine;
        Ok(match req.kind {
            PluginKind::Function => {
                Artifact::Function(Arc::new(WasmFunctions::load(e, req, caps)?))
            }
            PluginKind::Source => Artifact::Source(Arc::new(crate::source::load(e, req, caps)?)),
            PluginKind::Sink => Artifact::Sink(Arc::new(crate::sink::load(e, req, caps)?)),
        })
    }

    /// Resolved again from the same manifest and grants the load used (both are
    /// read when the plugin is loaded; the grants only at start).
    fn capabilities(&self, req: &LoadRequest<'_>) -> Option<serde_json::Value> {
        Capabilities::resolve_for(&self.engine.config, req.root, req.kind, req.name, req.path)
            .ok()
            .map(|(c, _)| c.to_json())
    }
}

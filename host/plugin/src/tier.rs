//! What a tier implements: loading a plugin file into an artifact, and, for each
//! kind, making instances and making the calls. Everything around that (versions,
//! updates, supervision, scopes, metrics, the thread a call runs on, install and
//! uninstall) is this crate's, written once for every tier.
//!
//! Calls on an instance are synchronous and may block (a wasm guest at its deadline,
//! a native library doing I/O): the adapters make them through [`crate::bridge`],
//! never on an async worker's own stack. An `Err` from an instance call is a fault of
//! the instance: the adapter discards it and makes a new one (with back-off), so a
//! tier never has to repair an instance.

use crate::instance::{ConnectionLink, InstanceHost, InstanceInfo};
use crate::kind::PluginKind;
use crate::metrics::PluginMetrics;
use std::path::Path;
use std::sync::Arc;
use tributary_core::connector::Payload;
use tributary_core::function::{ArgInfo, Column, FnContext, FunctionKind, RowResult};
use tributary_core::state::StateStore;
use tributary_core::{Error, Object, Value};

/// A plugin tier: how plugin files of one extension become artifacts.
pub trait Tier: Send + Sync {
    /// `wasm`, `native`: shown in the API and the metrics.
    fn name(&self) -> &'static str;
    /// The extension of its files under `plugins/<kind>/` (`wasm`, `so`).
    fn ext(&self) -> &'static str;
    /// The plugin name a file stem stands for (`Echo.so` is `echo` natively).
    fn name_of(&self, stem: &str) -> String {
        stem.to_string()
    }
    /// Whether the tier reads `<name>.json` beside the artifact as the plugin's own
    /// manifest (wasm: its capabilities), so a package's copy goes there.
    fn reads_manifest(&self) -> bool {
        false
    }
    /// Loads (compiles, links, checks) one plugin file. Every error names the file.
    fn load(&self, req: &LoadRequest<'_>) -> Result<Artifact, Error>;
    /// What the plugin of `req` may touch, as the API shows it (a sandboxing tier:
    /// its effective grants); `None` when the tier does not sandbox.
    fn capabilities(&self, req: &LoadRequest<'_>) -> Option<serde_json::Value> {
        let _ = req;
        None
    }
}

/// One file to load.
#[derive(Debug, Clone, Copy)]
pub struct LoadRequest<'a> {
    pub kind: PluginKind,
    pub name: &'a str,
    /// Without the leading `v`; empty when the file carries none.
    pub version: &'a str,
    pub path: &'a Path,
    /// The engine root.
    pub root: &'a Path,
}

impl LoadRequest<'_> {
    /// `<root>/etc/<kind>/<name>`: the plugin's own runtime files.
    pub fn etc_dir(&self) -> std::path::PathBuf {
        self.root
            .join("etc")
            .join(self.kind.folder())
            .join(self.name)
    }
}

/// A loaded plugin version, of its kind.
#[derive(Clone)]
pub enum Artifact {
    Function(Arc<dyn FunctionArtifact>),
    Source(Arc<dyn SourceArtifact>),
    Sink(Arc<dyn SinkArtifact>),
}

impl Artifact {
    pub fn kind(&self) -> PluginKind {
        match self {
            Artifact::Function(_) => PluginKind::Function,
            Artifact::Source(_) => PluginKind::Source,
            Artifact::Sink(_) => PluginKind::Sink,
        }
    }
}

/// What every new instance gets: who it is (its state scope among that), the state
/// store, its plugin's counters (a wasm instance meters its memory there) and, for a
/// source or sink, where it reports its connection.
#[derive(Clone)]
pub struct InstanceContext {
    pub info: InstanceInfo,
    pub state: Arc<dyn StateStore>,
    pub metrics: Arc<PluginMetrics>,
    pub link: Option<ConnectionLink>,
}

impl InstanceContext {
    /// The instance's side of the state and context APIs.
    pub fn host(&self) -> InstanceHost {
        InstanceHost::new(self.info.clone(), self.state.clone()).with_link(self.link.clone())
    }
}

/// A function the plugin exports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExportedFunction {
    pub name: String,
    pub kind: FunctionKind,
}

/// A loaded function plugin.
pub trait FunctionArtifact: Send + Sync {
    /// The contract it was built against, as the API shows it.
    fn contract(&self) -> String {
        String::new()
    }
    fn functions(&self) -> &[ExportedFunction];
    /// One instance for every rule (eKuiper's exported instance) instead of one per
    /// call site.
    fn singleton(&self) -> bool;
    /// Checks a call's arguments at rule creation; the text is shown to the user.
    fn validate(&self, function: &str, args: &[ArgInfo]) -> Result<(), String>;
    fn instantiate(
        &self,
        function: &str,
        ctx: &InstanceContext,
    ) -> Result<Box<dyn FunctionInstance>, String>;
}

/// One live function instance.
pub trait FunctionInstance: Send {
    /// Evaluates `n` rows, pushing exactly `n` results (per-row failures are values),
    /// or fails the whole call. Answers how many of the pushed results are errors (the
    /// tier knows it as it converts them: a typed answer lists its failed rows), so
    /// the host need not read every result again to count them.
    fn exec(
        &mut self,
        ctx: &FnContext,
        args: &[Column],
        n: usize,
        out: &mut Vec<RowResult>,
    ) -> Result<usize, String>;
    /// One result per group, or a failed call; answers as [`FunctionInstance::exec`].
    fn exec_groups(
        &mut self,
        ctx: &FnContext,
        groups: &[Vec<Column>],
        out: &mut Vec<RowResult>,
    ) -> Result<usize, String>;
}

/// What a source plugin can do besides pulling.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SourceInfo {
    /// Its instances give offsets and rewind to them.
    pub rewindable: bool,
    /// It answers lookups (it may back `KIND="lookup"` tables).
    pub lookup: bool,
}

/// A loaded source plugin.
pub trait SourceArtifact: Send + Sync {
    /// The contract it was built against, as the API shows it.
    fn contract(&self) -> String {
        String::new()
    }
    /// What it can do, as it said when it was loaded.
    fn info(&self) -> SourceInfo {
        SourceInfo::default()
    }
    /// Creates and opens an instance for one rule's stream: `props` is the stream's
    /// conf as a JSON object.
    fn open(
        &self,
        ctx: &InstanceContext,
        datasource: &str,
        props: &str,
    ) -> Result<Box<dyn SourceInstance>, String>;
}

/// What one pull brought.
#[derive(Debug, Default)]
pub struct Pulled {
    /// Payloads with their metadata.
    pub messages: Vec<(Payload, Object)>,
    /// The input has ended.
    pub done: bool,
    /// How long to wait before the next pull.
    pub wait_ms: u32,
}

/// One open source instance.
pub trait SourceInstance: Send {
    /// Up to `max` messages.
    fn pull(&mut self, max: u32) -> Result<Pulled, String>;
    /// Closes it (best effort: the instance goes either way).
    fn close(&mut self);
    /// Where it stands after every message it pulled, in its own terms; `None`
    /// when it cannot go back. Asked only of a rewindable source.
    fn offset(&mut self) -> Result<Option<String>, String> {
        Ok(None)
    }
    /// Goes back to an offset it gave, before the first pull.
    fn rewind(&mut self, _offset: &str) -> Result<(), String> {
        Err("this source cannot rewind".to_string())
    }
    /// The rows whose `keys` equal `values`, with `fields` (all when empty).
    fn lookup(
        &mut self,
        _fields: &[String],
        _keys: &[String],
        _values: &[Value],
    ) -> Result<Vec<Object>, String> {
        Err("this source does not answer lookups".to_string())
    }
}

/// A loaded sink plugin.
pub trait SinkArtifact: Send + Sync {
    /// The contract it was built against, as the API shows it.
    fn contract(&self) -> String {
        String::new()
    }
    /// Creates and opens an instance for one rule action: `props` as a JSON object.
    fn open(&self, ctx: &InstanceContext, props: &str) -> Result<Box<dyn SinkInstance>, String>;
}

/// The rows of one delivery, as fields.
pub type SinkRows = [Vec<(Arc<str>, Value)>];

/// One open sink instance.
pub trait SinkInstance: Send {
    fn collect(&mut self, rows: &SinkRows) -> Result<(), String>;
    /// Flushes and closes it.
    fn close(&mut self) -> Result<(), String>;
}

//! Who an instance is: its plugin, the rule and operator it serves, its id, the
//! paths the context API gives it, and its state scope. The tiers put this into their
//! context imports (wasm) and host tables (native) as they are.

use std::sync::Arc;
use tributary_core::connection::ConnectionStatus;
use tributary_core::function::CallSite;
use tributary_core::scope;
use tributary_core::Clock;

/// The folders the context API names: the engine root and the plugin's own folder.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PluginPaths {
    /// The engine root (eKuiper's `GetRootPath`): relative paths in props are
    /// relative to it.
    pub root: String,
    /// `<root>/etc/<kind>/<name>`: the plugin's own runtime files.
    pub plugin: String,
}

/// The identity and state scope of one instance.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct InstanceInfo {
    pub plugin: String,
    pub rule_id: String,
    pub operator_id: String,
    pub instance_id: String,
    /// The engine root: what `context.root-path` returns from contract 0.2 on.
    pub root_path: String,
    /// `<root>/etc/<kind>/<name>`: `context.plugin-path` (and what `root-path`
    /// returned in contract 0.1, which keeps returning it to 0.1 plugins).
    pub plugin_path: String,
    /// The state scope ([`tributary_core::scope`]).
    pub scope: String,
}

impl InstanceInfo {
    /// The instance of `function` at call site `site`, the `n`th made by its factory.
    pub fn call_site(
        plugin: &str,
        function: &str,
        site: &CallSite,
        n: u64,
        paths: &PluginPaths,
    ) -> Self {
        InstanceInfo {
            plugin: plugin.to_string(),
            rule_id: site.rule_id.clone(),
            operator_id: format!("function:{}", site.site),
            instance_id: format!("{plugin}:{}:{}:{n}", site.rule_id, site.site),
            root_path: paths.root.clone(),
            plugin_path: paths.plugin.clone(),
            scope: scope::function(&site.rule_id, site.site, function),
        }
    }

    /// The one instance of a singleton plugin's `function`, shared by every rule.
    pub fn singleton(plugin: &str, function: &str, paths: &PluginPaths) -> Self {
        InstanceInfo {
            plugin: plugin.to_string(),
            rule_id: String::new(),
            operator_id: "function:singleton".into(),
            instance_id: format!("{plugin}:{function}:singleton"),
            root_path: paths.root.clone(),
            plugin_path: paths.plugin.clone(),
            scope: scope::singleton(plugin),
        }
    }

    /// The kind of plugin the instance is of (`function`, `source`, `sink`), from the
    /// operator id the constructors here give it: the log tags lines with it, so two
    /// plugins of one name (a `redis` source and a `redis` sink) keep apart.
    pub fn kind(&self) -> &'static str {
        match self.operator_id.as_str() {
            "source" => "source",
            "sink" => "sink",
            _ => "function",
        }
    }

    /// A rule's source or sink instance (`role` is `source` or `sink`).
    pub fn connector(plugin: &str, rule: &str, role: &str, paths: &PluginPaths) -> Self {
        InstanceInfo {
            plugin: plugin.to_string(),
            rule_id: rule.to_string(),
            operator_id: role.to_string(),
            instance_id: format!("{plugin}:{rule}:{role}"),
            root_path: paths.root.clone(),
            plugin_path: paths.plugin.clone(),
            scope: scope::connector(rule, role, plugin),
        }
    }

    /// A throwaway instance (describing a plugin at load): no rule, no state kept.
    pub fn probe(plugin: &str, paths: &PluginPaths) -> Self {
        InstanceInfo {
            plugin: plugin.to_string(),
            root_path: paths.root.clone(),
            plugin_path: paths.plugin.clone(),
            ..InstanceInfo::default()
        }
    }
}

/// How loud a plugin's log line is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    Trace,
    Debug,
    Info,
    Warn,
    Error,
}

/// An instance's side of the state and context APIs, the same in every tier: its
/// state kept in its own scope, and its log lines tagged with who it is.
pub struct InstanceHost {
    pub info: InstanceInfo,
    state: std::sync::Arc<dyn tributary_core::state::StateStore>,
    /// Where a source or sink instance reports its connection (none for functions).
    link: Option<ConnectionLink>,
}

/// A connector instance's connection status, shown in its rule's status and in
/// `/metrics` under the connector's node name, and the clock its times come from.
#[derive(Clone)]
pub struct ConnectionLink {
    pub status: Arc<ConnectionStatus>,
    pub clock: Arc<dyn Clock>,
}

impl std::fmt::Debug for ConnectionLink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConnectionLink").finish_non_exhaustive()
    }
}

/// A connection state a plugin reports (eKuiper's 1, 0, -1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Connection {
    Connected,
    Connecting,
    Disconnected,
}

type StateResult<T> = Result<T, tributary_core::state::StateError>;

impl InstanceHost {
    pub fn new(
        info: InstanceInfo,
        state: std::sync::Arc<dyn tributary_core::state::StateStore>,
    ) -> Self {
        InstanceHost {
            info,
            state,
            link: None,
        }
    }

    /// The host of a connector instance reporting its connection to `link`.
    pub fn with_link(mut self, link: Option<ConnectionLink>) -> Self {
        self.link = link;
        self
    }

    /// What a plugin reports about its connection. A function instance has no
    /// connection to show, so its report only reaches the log.
    pub fn set_connection(&self, state: Connection, message: &str) {
        let Some(link) = &self.link else {
            tracing::debug!(plugin = %self.info.plugin, ?state, "connection reported by an instance that is not a source or sink; ignored");
            return;
        };
        let now = link.clock.now_ms();
        match state {
            Connection::Connected => link.status.connected(now),
            Connection::Connecting => link.status.reconnecting(now, message),
            Connection::Disconnected => link.status.disconnected(now, message),
        }
    }

    pub fn put(&self, key: &str, value: tributary_core::Value) -> StateResult<()> {
        self.state.put(&self.info.scope, key, value)
    }

    pub fn get(&self, key: &str) -> StateResult<Option<tributary_core::Value>> {
        self.state.get(&self.info.scope, key)
    }

    pub fn delete(&self, key: &str) -> StateResult<()> {
        self.state.delete(&self.info.scope, key)
    }

    pub fn incr(&self, key: &str, amount: i64) -> StateResult<i64> {
        self.state.incr(&self.info.scope, key, amount)
    }

    pub fn counter(&self, key: &str) -> StateResult<i64> {
        self.state.counter(&self.info.scope, key)
    }

    /// A line the plugin logs, in the host's log with its plugin, rule and instance.
    pub fn log(&self, level: Level, message: &str) {
        let i = &self.info;
        let (p, k, r, id) = (&i.plugin, i.kind(), &i.rule_id, &i.instance_id);
        match level {
            Level::Trace => {
                tracing::trace!(plugin = %p, kind = %k, rule = %r, instance = %id, "{message}")
            }
            Level::Debug => {
                tracing::debug!(plugin = %p, kind = %k, rule = %r, instance = %id, "{message}")
            }
            Level::Info => {
                tracing::info!(plugin = %p, kind = %k, rule = %r, instance = %id, "{message}")
            }
            Level::Warn => {
                tracing::warn!(plugin = %p, kind = %k, rule = %r, instance = %id, "{message}")
            }
            Level::Error => {
                tracing::error!(plugin = %p, kind = %k, rule = %r, instance = %id, "{message}")
            }
        }
    }
}

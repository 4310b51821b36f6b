//! What source and sink plugins share: the registered type (a plugin's current
//! version, its paths, state and counters) and the props as the plugin reads them.

use crate::cell::VersionCell;
use crate::instance::{ConnectionLink, InstanceInfo, PluginPaths};
use crate::metrics::PluginMetrics;
use crate::tier::InstanceContext;
use std::sync::Arc;
use tributary_core::connector::{ConnectorContext, Props};
use tributary_core::state::StateStore;

/// Props as the JSON object a connector plugin receives.
pub fn props_json(props: &Props) -> String {
    let obj: tributary_core::Object = props.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
    tributary_core::json::to_json_string(&tributary_core::Value::object(obj))
}

/// A connector plugin (source or sink) as registered: the type named after it.
pub struct ConnectorPlugin<A: ?Sized> {
    pub(crate) cell: VersionCell<A>,
    plugin: String,
    paths: PluginPaths,
    state: Arc<dyn StateStore>,
    metrics: Arc<PluginMetrics>,
}

impl<A: ?Sized> ConnectorPlugin<A> {
    pub fn new(
        cell: VersionCell<A>,
        plugin: &str,
        paths: PluginPaths,
        state: Arc<dyn StateStore>,
        metrics: Arc<PluginMetrics>,
    ) -> Self {
        ConnectorPlugin {
            cell,
            plugin: plugin.to_string(),
            paths,
            state,
            metrics,
        }
    }

    pub(crate) fn name(&self) -> &str {
        &self.plugin
    }

    /// The context of a rule's instance, `role` being `source` or `sink`: it
    /// reports its connection where the rule's status reads it.
    pub(crate) fn instance(&self, ctx: &ConnectorContext, role: &str) -> InstanceContext {
        InstanceContext {
            info: InstanceInfo::connector(&self.plugin, &ctx.rule_id, role, &self.paths),
            state: self.state.clone(),
            metrics: self.metrics.clone(),
            link: Some(ConnectionLink {
                status: ctx.connection.clone(),
                clock: ctx.clock.clone(),
            }),
        }
    }
}

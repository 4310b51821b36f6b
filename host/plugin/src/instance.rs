//! Who an instance is: its plugin, the rule and operator it serves, its id, the root
//! path the context API gives it, and its state scope. The tiers put this into their
//! context imports (wasm) and host tables (native) as they are.

use tributary_core::function::CallSite;
use tributary_core::scope;

/// The identity and state scope of one instance.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct InstanceInfo {
    pub plugin: String,
    pub rule_id: String,
    pub operator_id: String,
    pub instance_id: String,
    /// `<root>/etc/<kind>/<name>`: what `context.root-path` returns.
    pub root_path: String,
    /// The state scope ([`tributary_core::scope`]).
    pub scope: String,
}

impl InstanceInfo {
    /// The instance of `function` at call site `site`, the `n`th made by its factory.
    pub fn call_site(plugin: &str, function: &str, site: &CallSite, n: u64, root: &str) -> Self {
        InstanceInfo {
            plugin: plugin.to_string(),
            rule_id: site.rule_id.clone(),
            operator_id: format!("function:{}", site.site),
            instance_id: format!("{plugin}:{}:{}:{n}", site.rule_id, site.site),
            root_path: root.to_string(),
            scope: scope::function(&site.rule_id, site.site, function),
        }
    }

    /// The one instance of a singleton plugin's `function`, shared by every rule.
    pub fn singleton(plugin: &str, function: &str, root: &str) -> Self {
        InstanceInfo {
            plugin: plugin.to_string(),
            rule_id: String::new(),
            operator_id: "function:singleton".into(),
            instance_id: format!("{plugin}:{function}:singleton"),
            root_path: root.to_string(),
            scope: scope::singleton(plugin),
        }
    }

    /// A rule's source or sink instance (`role` is `source` or `sink`).
    pub fn connector(plugin: &str, rule: &str, role: &str, root: &str) -> Self {
        InstanceInfo {
            plugin: plugin.to_string(),
            rule_id: rule.to_string(),
            operator_id: role.to_string(),
            instance_id: format!("{plugin}:{rule}:{role}"),
            root_path: root.to_string(),
            scope: scope::connector(rule, role, plugin),
        }
    }

    /// A throwaway instance (describing a plugin at load): no rule, no state kept.
    pub fn probe(plugin: &str, root: &str) -> Self {
        InstanceInfo {
            plugin: plugin.to_string(),
            root_path: root.to_string(),
            ..InstanceInfo::default()
        }
    }
}

//! State scopes: where each piece of state lives in the state store. Every scope
//! string of the engine is built here, so that the tiers (which must agree, for a
//! plugin moved between tiers keeps its state), the checkpoints and a rule's delete
//! (which drops every scope under the rule's prefix) cannot drift apart.
//!
//! ```text
//! rule/<rule>/function/<site>/<function>   a function at one call site of a rule
//! rule/<rule>/<source|sink>/<plugin>       a rule's plugin source or sink
//! rule/<rule>/checkpoint                   the rule's checkpoint records
//! plugin/<plugin>/singleton                a singleton shared by every rule
//! ```

/// Everything a rule owns starts with this (its delete drops it all).
pub fn rule_prefix(rule: &str) -> String {
    format!("rule/{rule}/")
}

/// A function instance at call site `site` of `rule` (eKuiper scopes function state
/// per rule and call site).
pub fn function(rule: &str, site: usize, function: &str) -> String {
    format!("rule/{rule}/function/{site}/{function}")
}

/// A rule's plugin connector: `role` is `source` or `sink`.
pub fn connector(rule: &str, role: &str, plugin: &str) -> String {
    format!("rule/{rule}/{role}/{plugin}")
}

/// The one instance of a singleton plugin, shared by every rule.
pub fn singleton(plugin: &str) -> String {
    format!("plugin/{plugin}/singleton")
}

/// A rule's checkpoint records (source offsets, sink positions).
pub fn checkpoint(rule: &str) -> String {
    format!("rule/{rule}/checkpoint")
}

/// The rule a scope belongs to, if it is a rule's.
pub fn rule_of(scope: &str) -> Option<&str> {
    scope.strip_prefix("rule/")?.split('/').next()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_scope_of_a_rule_is_under_its_prefix() {
        let p = rule_prefix("r1");
        for s in [
            function("r1", 0, "f"),
            connector("r1", "sink", "file"),
            checkpoint("r1"),
        ] {
            assert!(s.starts_with(&p), "{s}");
            assert_eq!(rule_of(&s), Some("r1"));
        }
        assert!(!function("r10", 0, "f").starts_with(&p));
        assert_eq!(rule_of(&singleton("p")), None);
    }
}

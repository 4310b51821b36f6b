//! Reading a plugin's props (the JSON object the host hands a source or sink): typed
//! readers whose errors name the plugin and the prop, and a check that refuses props
//! the plugin does not know, so none is silently ignored.

use serde_json::{Map, Value as Json};

/// The props object, or an error naming what it is instead.
pub fn props_object(who: &str, text: &str) -> Result<Map<String, Json>, String> {
    match serde_json::from_str(text) {
        Ok(Json::Object(o)) => Ok(o),
        Ok(other) => Err(format!("{who}: props must be an object, not {other}")),
        Err(e) => Err(format!("{who}: props are not JSON: {e}")),
    }
}

/// A text prop (absent or null: `None`).
pub fn str_prop(who: &str, props: &Map<String, Json>, key: &str) -> Result<Option<String>, String> {
    match props.get(key) {
        None | Some(Json::Null) => Ok(None),
        Some(Json::String(s)) => Ok(Some(s.clone())),
        Some(other) => Err(format!("{who}: {key} must be a string, not {other}")),
    }
}

/// An integer prop, written as a number or as digits in a string (as eKuiper's YAML
/// confs often have it).
pub fn int_prop(who: &str, props: &Map<String, Json>, key: &str) -> Result<Option<i64>, String> {
    match props.get(key) {
        None | Some(Json::Null) => Ok(None),
        Some(Json::Number(n)) if n.is_i64() => Ok(n.as_i64()),
        Some(Json::String(s)) if s.trim().parse::<i64>().is_ok() => Ok(s.trim().parse().ok()),
        Some(other) => Err(format!("{who}: {key} must be an integer, not {other}")),
    }
}

/// Refuses a prop the connector does not know (a prop is never silently ignored).
pub fn known_props(who: &str, props: &Map<String, Json>, known: &[&str]) -> Result<(), String> {
    match props.keys().find(|k| !known.contains(&k.as_str())) {
        None => Ok(()),
        Some(k) => Err(format!(
            "{who}: unknown prop {k:?} (it knows {})",
            known.join(", ")
        )),
    }
}

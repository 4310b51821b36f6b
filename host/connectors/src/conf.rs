//! eKuiper-style connector configuration files.
//!
//! `<root>/etc/sources/<kind>.yaml` holds named confs at the top level. `default` is
//! the base; a stream's `CONF_KEY` picks a named conf whose keys override it
//! (shallowly, key by key, as eKuiper merges them):
//!
//! ```yaml
//! default:
//!   fileType: json
//!   path: data
//! csv:
//!   fileType: csv
//!   hasHeader: true
//! ```

use std::path::{Path, PathBuf};
use tributary_core::connector::Props;
use tributary_core::{Error, Object, Result, Value};

/// The conf file of a source kind. MQTT's is eKuiper's `etc/mqtt_source.yaml` when
/// there is one.
pub fn source_conf_path(root: &Path, kind: &str) -> PathBuf {
    if kind.eq_ignore_ascii_case("mqtt") {
        let ekuiper = root.join("etc").join("mqtt_source.yaml");
        if ekuiper.exists() {
            return ekuiper;
        }
    }
    root.join("etc")
        .join("sources")
        .join(format!("{kind}.yaml"))
}

/// Loads the props of `kind` under `conf_key` (empty means `default`). A missing
/// file gives no props (the connector's defaults apply); a missing named key is an
/// error listing the keys there are, since a typo would otherwise go unnoticed.
pub fn load_source_conf(root: &Path, kind: &str, conf_key: &str) -> Result<Props> {
    let path = source_conf_path(root, kind);
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            if conf_key.is_empty() || conf_key == "default" {
                return Ok(Props::new());
            }
            return Err(Error::not_found(format!(
                "conf key \"{conf_key}\" not found: {} does not exist",
                path.display()
            )));
        }
        Err(e) => {
            return Err(Error::external(format!("read {}: {e}", path.display())));
        }
    };
    parse_conf(&text, conf_key).map_err(|e| Error::user(format!("{}: {e}", path.display())))
}

/// Picks and merges `default` and `conf_key` from the text of a conf file.
pub fn parse_conf(text: &str, conf_key: &str) -> std::result::Result<Props, String> {
    let doc: serde_yaml::Value =
        serde_yaml::from_str(text).map_err(|e| format!("invalid YAML: {e}"))?;
    let top = match yaml_to_value(doc) {
        Value::Null => return Ok(Props::new()),
        Value::Object(o) => o,
        other => {
            return Err(format!(
                "expected a map of conf keys at the top level, got {}",
                other.type_name()
            ))
        }
    };
    let section = |key: &str| -> std::result::Result<Option<Object>, String> {
        match top.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Object(o)) => Ok(Some((**o).clone())),
            Some(other) => Err(format!(
                "conf key \"{key}\" must hold a map of props, got {}",
                other.type_name()
            )),
        }
    };
    let mut props = section("default")?.unwrap_or_default();
    if !conf_key.is_empty() && conf_key != "default" {
        match section(conf_key)? {
            Some(named) => props.extend(named),
            None => {
                let keys: Vec<&str> = top.keys().map(String::as_str).collect();
                return Err(format!(
                    "conf key \"{conf_key}\" not found; available: {}",
                    keys.join(", ")
                ));
            }
        }
    }
    Ok(props)
}

/// Converts YAML into the value model; non-string map keys become their text.
pub fn yaml_to_value(v: serde_yaml::Value) -> Value {
    use serde_yaml::Value as Y;
    match v {
        Y::Null => Value::Null,
        Y::Bool(b) => Value::Bool(b),
        Y::Number(n) => match (n.as_i64(), n.as_f64()) {
            (Some(i), _) => Value::Int(i),
            (None, Some(f)) => Value::Float(f),
            (None, None) => Value::Null,
        },
        Y::String(s) => Value::from(s),
        Y::Sequence(items) => Value::array(items.into_iter().map(yaml_to_value).collect()),
        Y::Mapping(map) => {
            let obj: Object = map
                .into_iter()
                .map(|(k, v)| (yaml_key(k), yaml_to_value(v)))
                .collect();
            Value::object(obj)
        }
        Y::Tagged(tagged) => yaml_to_value(tagged.value),
    }
}

fn yaml_key(k: serde_yaml::Value) -> String {
    match yaml_to_value(k) {
        Value::String(s) => s.to_string(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FILE_YAML: &str = "default:\n  fileType: json\n  path: data\n  interval: 0\n\ncsv:\n  fileType: csv\n  hasHeader: true\n  columns: [id, name]\n";

    #[test]
    fn named_key_overrides_default() {
        let p = parse_conf(FILE_YAML, "csv").expect("conf");
        assert_eq!(p.get("fileType"), Some(&Value::str("csv")));
        assert_eq!(p.get("path"), Some(&Value::str("data")));
        assert_eq!(p.get("hasHeader"), Some(&Value::Bool(true)));
        assert_eq!(
            p.get("columns"),
            Some(&Value::array(vec![Value::str("id"), Value::str("name")]))
        );
        let d = parse_conf(FILE_YAML, "").expect("default");
        assert_eq!(d.get("fileType"), Some(&Value::str("json")));
        assert_eq!(d.get("interval"), Some(&Value::Int(0)));
    }

    #[test]
    fn unknown_key_and_bad_yaml_are_errors() {
        let err = parse_conf(FILE_YAML, "xml").expect_err("key");
        assert_eq!(err, "conf key \"xml\" not found; available: csv, default");
        assert!(parse_conf("default: [1", "").is_err());
        assert!(parse_conf("- 1", "")
            .expect_err("list")
            .contains("top level"));
    }

    #[test]
    fn loads_from_root_and_tolerates_missing_file() {
        let dir = tempfile::tempdir().expect("tempdir");
        assert!(load_source_conf(dir.path(), "file", "")
            .expect("none")
            .is_empty());
        assert!(load_source_conf(dir.path(), "file", "csv").is_err());
        let sources = dir.path().join("etc/sources");
        std::fs::create_dir_all(&sources).expect("mkdir");
        std::fs::write(sources.join("file.yaml"), FILE_YAML).expect("write");
        let p = load_source_conf(dir.path(), "file", "csv").expect("conf");
        assert_eq!(p.get("fileType"), Some(&Value::str("csv")));
        let err = load_source_conf(dir.path(), "file", "nope").expect_err("key");
        assert!(err.to_string().contains("file.yaml"), "{err}");
    }
}

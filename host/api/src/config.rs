//! The `api` section of `<root>/etc/tributary.yaml`:
//!
//! ```yaml
//! api:
//!   token: "s3cret"            # optional: every request then needs `Authorization: Bearer s3cret`
//!   openPaths: ["/ping", "/metrics"]   # reachable without the token (the default)
//! ```

use serde::Deserialize;
use std::path::Path;
use tributary_core::Error;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ApiConfig {
    #[serde(default)]
    pub token: Option<String>,
    #[serde(default = "default_open")]
    pub open_paths: Vec<String>,
}

fn default_open() -> Vec<String> {
    vec!["/ping".into(), "/metrics".into()]
}

impl Default for ApiConfig {
    fn default() -> Self {
        ApiConfig {
            token: None,
            open_paths: default_open(),
        }
    }
}

impl ApiConfig {
    /// The `api` section of the root's config file; defaults when absent.
    pub fn load(root: &Path) -> Result<ApiConfig, Error> {
        let path = root.join("etc").join("tributary.yaml");
        let text = match std::fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(ApiConfig::default()),
            Err(e) => return Err(Error::user(format!("{}: {e}", path.display()))),
        };
        let doc: serde_yaml::Value = serde_yaml::from_str(&text)
            .map_err(|e| Error::user(format!("{}: {e}", path.display())))?;
        match doc.get("api") {
            None => Ok(ApiConfig::default()),
            Some(v) => serde_yaml::from_value(v.clone())
                .map_err(|e| Error::user(format!("{}: api: {e}", path.display()))),
        }
    }
}

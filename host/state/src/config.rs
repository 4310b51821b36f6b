//! The `store` section of `<root>/etc/tributary.yaml`, shaped like eKuiper's
//! `kuiper.yaml`:
//!
//! ```yaml
//! store:
//!   type: sqlite          # sqlite (default), redis, or memory (nothing survives)
//!   sqlite:
//!     name: state.db      # under <root>/data/
//!   redis:
//!     host: 127.0.0.1
//!     port: 6379
//!     password: ""
//!     db: 0
//!   endpoint:             # the state endpoint of external functions
//!     listen: 127.0.0.1:0 # default: a free loopback port
//!     advertise: http://gateway:9082   # optional: the URL services are given
//! ```

use crate::{RedisStateStore, SqliteStateStore};
use serde::Deserialize;
use std::path::Path;
use std::sync::Arc;
use tributary_core::state::{MemoryStateStore, StateStore};
use tributary_core::Error;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    #[serde(default)]
    store: StoreConfig,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StoreConfig {
    #[serde(default, rename = "type")]
    pub kind: Option<String>,
    #[serde(default)]
    pub sqlite: SqliteConfig,
    #[serde(default)]
    pub redis: RedisConfig,
    #[serde(default)]
    pub endpoint: EndpointConfig,
}

/// Where the state endpoint for external functions listens.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EndpointConfig {
    /// `host:port`; the default `127.0.0.1:0` is a free loopback port.
    #[serde(default)]
    pub listen: Option<String>,
    /// The base URL given to services, when they reach the host by another name.
    #[serde(default)]
    pub advertise: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SqliteConfig {
    #[serde(default)]
    pub name: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RedisConfig {
    #[serde(default)]
    pub host: Option<String>,
    #[serde(default)]
    pub port: Option<u16>,
    #[serde(default)]
    pub password: Option<String>,
    #[serde(default)]
    pub db: Option<u32>,
}

impl StoreConfig {
    /// The `store` section of `<root>/etc/tributary.yaml`; defaults when the file is
    /// absent. Other sections of the file are for other parts of the engine.
    pub fn load(root: &Path) -> Result<StoreConfig, Error> {
        let path = root.join("etc").join("tributary.yaml");
        let text = match std::fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(StoreConfig::default()),
            Err(e) => return Err(Error::user(format!("{}: {e}", path.display()))),
        };
        let doc: serde_yaml::Value = serde_yaml::from_str(&text)
            .map_err(|e| Error::user(format!("{}: {e}", path.display())))?;
        let Some(store) = doc.get("store") else {
            return Ok(StoreConfig::default());
        };
        let f: File = serde_yaml::from_value(serde_yaml::Value::Mapping(
            [(serde_yaml::Value::from("store"), store.clone())]
                .into_iter()
                .collect(),
        ))
        .map_err(|e| Error::user(format!("{}: store: {e}", path.display())))?;
        Ok(f.store)
    }

    /// The Redis URL this section describes.
    pub fn redis_url(&self) -> String {
        let r = &self.redis;
        let auth = match r.password.as_deref() {
            Some(p) if !p.is_empty() => format!(":{p}@"),
            _ => String::new(),
        };
        format!(
            "redis://{auth}{}:{}/{}",
            r.host.as_deref().unwrap_or("127.0.0.1"),
            r.port.unwrap_or(6379),
            r.db.unwrap_or(0)
        )
    }
}

impl StoreConfig {
    /// The SQLite file of a root configured for the embedded store (`None` for
    /// Redis or memory).
    pub fn sqlite_path(&self, root: &Path) -> Option<std::path::PathBuf> {
        match self.kind.as_deref().unwrap_or("sqlite") {
            "sqlite" => Some(
                root.join("data")
                    .join(self.sqlite.name.as_deref().unwrap_or("state.db")),
            ),
            _ => None,
        }
    }
}

/// The store `root` is configured for.
pub fn open_store(root: &Path) -> Result<Arc<dyn StateStore>, Error> {
    let cfg = StoreConfig::load(root)?;
    match cfg.kind.as_deref().unwrap_or("sqlite") {
        "sqlite" => {
            let name = cfg.sqlite.name.as_deref().unwrap_or("state.db");
            let path = root.join("data").join(name);
            Ok(Arc::new(
                SqliteStateStore::open(&path).map_err(Error::external)?,
            ))
        }
        "redis" => Ok(Arc::new(
            RedisStateStore::open(&cfg.redis_url()).map_err(Error::external)?,
        )),
        "memory" => Ok(Arc::new(MemoryStateStore::default())),
        other => Err(Error::user(format!(
            "etc/tributary.yaml: store type {other:?} is not one of sqlite, redis, memory"
        ))),
    }
}

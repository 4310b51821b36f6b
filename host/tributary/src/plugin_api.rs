//! The REST API's plugin operations ([`tributary_api::plugins::PluginAdmin`]) over the
//! [`PluginHost`]: kinds by their eKuiper folder names, packages fetched from
//! `file://` paths or `http(s)://` URLs.

use crate::packages::Kind;
use crate::plugin_host::PluginHost;
use futures::future::BoxFuture;
use tributary_core::Error;

fn kind(k: &str) -> Result<Kind, Error> {
    Kind::from_folder(k).ok_or_else(|| {
        Error::not_found(format!("no plugin kind {k:?}: sources, sinks or functions"))
    })
}

/// The largest package fetched from a URL.
const MAX_DOWNLOAD: usize = 256 << 20;

impl PluginHost {
    /// [`PluginHost::install`] with the kind by its folder name.
    pub fn install_kind(&self, k: &str, name: &str, zip: &[u8]) -> Result<bool, Error> {
        self.install(kind(k)?, name, zip)
    }
}

impl tributary_api::plugins::PluginAdmin for PluginHost {
    fn install(&self, k: &str, name: &str, zip: Vec<u8>) -> Result<bool, Error> {
        PluginHost::install(self, kind(k)?, name, &zip)
    }

    fn list(&self, k: &str) -> Result<Vec<String>, Error> {
        Ok(self.names(kind(k)?))
    }

    fn describe(&self, k: &str, name: &str) -> Result<serde_json::Value, Error> {
        let r = self
            .record(kind(k)?, name)
            .ok_or_else(|| Error::not_found(format!("{k} plugin {name} not found")))?;
        let mut v = serde_json::json!({
            "name": name,
            "version": r.version,
            "tier": r.tier.name(),
            "file": r.path.file_name().map(|f| f.to_string_lossy().into_owned()),
        });
        if k == "functions" {
            v["functions"] = serde_json::json!(r.functions);
        }
        Ok(v)
    }

    fn uninstall(&self, k: &str, name: &str, force: bool) -> Result<(), Error> {
        PluginHost::uninstall(self, kind(k)?, name, force)
    }

    fn functions(&self) -> Vec<(String, String)> {
        PluginHost::functions(self)
    }

    fn fetch<'a>(&'a self, url: &'a str) -> BoxFuture<'a, Result<Vec<u8>, Error>> {
        Box::pin(async move {
            if let Some(path) = url.strip_prefix("file://") {
                return std::fs::read(path)
                    .map_err(|e| Error::user(format!("cannot read the package {path}: {e}")));
            }
            if !(url.starts_with("http://") || url.starts_with("https://")) {
                return Err(Error::user(format!(
                    "\"file\" must be a file://, http:// or https:// URL, got {url:?}"
                )));
            }
            let resp = reqwest::get(url)
                .await
                .map_err(|e| Error::external(format!("fail to download {url}: {e}")))?;
            if !resp.status().is_success() {
                return Err(Error::external(format!(
                    "fail to download {url}: {}",
                    resp.status()
                )));
            }
            let bytes = resp
                .bytes()
                .await
                .map_err(|e| Error::external(format!("fail to download {url}: {e}")))?;
            if bytes.len() > MAX_DOWNLOAD {
                return Err(Error::user(format!(
                    "the package at {url} is over {} MiB",
                    MAX_DOWNLOAD >> 20
                )));
            }
            Ok(bytes.to_vec())
        })
    }
}

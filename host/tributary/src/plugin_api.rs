//! The REST API's plugin operations ([`tributary_api::plugins::PluginAdmin`]) over the
//! plugin host: kinds by their eKuiper folder names.

use tributary_core::Error;
use tributary_plugin::{PluginHost, PluginKind};

fn kind(k: &str) -> Result<PluginKind, Error> {
    PluginKind::from_folder(k).ok_or_else(|| {
        Error::not_found(format!("no plugin kind {k:?}: sources, sinks or functions"))
    })
}

/// The plugin host as the API's plugin admin.
pub struct Admin(pub std::sync::Arc<crate::plugins::Loaded>);

impl tributary_api::plugins::PluginAdmin for Admin {
    fn install(&self, k: &str, name: &str, zip: Vec<u8>) -> Result<bool, Error> {
        self.host().install(kind(k)?, name, &zip)
    }

    fn list(&self, k: &str) -> Result<Vec<String>, Error> {
        Ok(self.host().names(kind(k)?))
    }

    fn describe(&self, k: &str, name: &str) -> Result<serde_json::Value, Error> {
        self.host().describe(kind(k)?, name)
    }

    fn uninstall(&self, k: &str, name: &str, force: bool) -> Result<(), Error> {
        self.host().uninstall(kind(k)?, name, force)
    }

    fn functions(&self) -> Vec<(String, String)> {
        self.host().functions()
    }

    fn logs(
        &self,
        k: &str,
        name: &str,
        lines: usize,
        after: u64,
    ) -> Result<Vec<serde_json::Value>, Error> {
        let kind = kind(k)?;
        let found = crate::plugin_logs::global().of(kind.singular(), name, lines, after);
        // A removed plugin's lines are still there to read; a name never seen is not.
        if found.is_empty() && after == 0 && !self.host().is_installed(kind, name) {
            return Err(Error::not_found(format!("no {k} plugin {name}")));
        }
        found
            .into_iter()
            .map(|l| serde_json::to_value(l).map_err(|e| Error::internal(e.to_string())))
            .collect()
    }
}

impl Admin {
    fn host(&self) -> &PluginHost {
        &self.0.host
    }
}

impl tributary_api::services::ServiceAdmin for Admin {
    fn install(&self, name: &str, zip: Vec<u8>) -> Result<bool, Error> {
        self.0.services.install(name, &zip)
    }
    fn list(&self) -> Vec<String> {
        self.0.services.names()
    }
    fn describe(&self, name: &str) -> Result<serde_json::Value, Error> {
        self.0.services.describe(name)
    }
    fn uninstall(&self, name: &str) -> Result<(), Error> {
        self.0.services.uninstall(name)
    }
    fn functions(&self) -> Vec<serde_json::Value> {
        self.0.services.functions()
    }
}

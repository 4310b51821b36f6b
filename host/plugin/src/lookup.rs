//! Plugin sources backing lookup tables (`KIND="lookup"`): an opened instance that
//! is asked for the rows matching a key instead of pulled.
//!
//! A failed lookup discards the instance (as every tier's faults do) and the next
//! lookup opens a fresh one; the failure reaches the rule as that row's error.

use crate::bridge;
use crate::tier::{InstanceContext, SourceArtifact, SourceInstance};
use std::sync::Arc;
use std::time::Instant;
use tributary_core::connector::LookupSource;
use tributary_core::{Error, Object, Value};

pub struct PluginLookup {
    version: Arc<dyn SourceArtifact>,
    instance: InstanceContext,
    datasource: String,
    props: String,
    live: Option<Box<dyn SourceInstance>>,
}

impl PluginLookup {
    /// Opens the rule's lookup instance up front, so a misconfigured table fails the
    /// rule when it starts rather than at its first row.
    pub fn open(
        version: Arc<dyn SourceArtifact>,
        instance: InstanceContext,
        datasource: &str,
        props: &str,
    ) -> Result<Self, Error> {
        let mut l = PluginLookup {
            version,
            instance,
            datasource: datasource.to_string(),
            props: props.to_string(),
            live: None,
        };
        l.live = Some(l.fresh().map_err(Error::external)?);
        Ok(l)
    }

    fn fresh(&self) -> Result<Box<dyn SourceInstance>, String> {
        let (version, instance) = (&self.version, &self.instance);
        let (datasource, props) = (&self.datasource, &self.props);
        bridge::call(|| version.open(instance, datasource, props))
    }
}

impl LookupSource for PluginLookup {
    fn lookup(
        &mut self,
        fields: &[String],
        keys: &[String],
        values: &[Value],
    ) -> Result<Vec<Object>, Error> {
        let mut live = match self.live.take() {
            Some(l) => l,
            None => {
                self.instance.metrics.restarted();
                self.fresh().map_err(Error::external)?
            }
        };
        let began = Instant::now();
        let r = bridge::call(|| live.lookup(fields, keys, values));
        let m = &self.instance.metrics;
        match r {
            Ok(rows) => {
                m.call(rows.len(), began);
                self.live = Some(live);
                Ok(rows)
            }
            Err(e) => {
                m.call(0, began);
                m.add_errors(1);
                bridge::call(move || live.close());
                Err(Error::external(format!(
                    "plugin {}: lookup failed: {e}",
                    self.instance.info.plugin
                )))
            }
        }
    }
}

impl Drop for PluginLookup {
    fn drop(&mut self) {
        if let Some(mut live) = self.live.take() {
            bridge::call(move || live.close());
        }
    }
}

//! The native tier as the plugin host sees it: `.so` files named after the plugin
//! with the first letter in either case (`Echo.so` is `echo`), loaded from private,
//! content-addressed copies under `<root>/data/native-cache/`.

use crate::library::{plugin_name, NativeArtifact, NativeLibrary};
use std::path::{Path, PathBuf};
use tributary_core::Error;
use tributary_plugin::{Artifact, LoadRequest, PluginKind, Tier};

/// Where native libraries are loaded from (private, content-addressed copies).
pub fn cache_dir(root: &Path) -> PathBuf {
    root.join("data").join("native-cache")
}

#[derive(Debug, Default)]
pub struct NativeTier;

impl Tier for NativeTier {
    fn name(&self) -> &'static str {
        "native"
    }

    fn ext(&self) -> &'static str {
        "so"
    }

    fn name_of(&self, stem: &str) -> String {
        plugin_name(stem)
    }

    fn load(&self, req: &LoadRequest<'_>) -> Result<Artifact, Error> {
        let lib = NativeLibrary::load(
            req.name,
            req.version,
            req.path,
            req.kind,
            req.etc_dir(),
            Some(&cache_dir(req.root)),
        )?;
        let a = std::sync::Arc::new(NativeArtifact(lib));
        Ok(match req.kind {
            PluginKind::Function => Artifact::Function(a),
            PluginKind::Source => Artifact::Source(a),
            PluginKind::Sink => Artifact::Sink(a),
        })
    }
}

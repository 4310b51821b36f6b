//! `tributary trial SPEC.json [--root DIR]`.

use std::path::PathBuf;
use tributary_core::Error;
use tributary_engine::{run_trial, TrialSpec};

pub async fn run(spec: PathBuf, root: Option<PathBuf>) -> Result<(), Error> {
    let text = std::fs::read_to_string(&spec)
        .map_err(|e| Error::user(format!("cannot read {}: {e}", spec.display())))?;
    let spec = TrialSpec::parse(&text)?;
    let plugin_root = root.clone();
    let setup = move |ctx: &mut tributary_engine::EngineContext| match &plugin_root {
        Some(r) => crate::plugins::load(r, ctx, Default::default())
            .and_then(|l| l.strict())
            .map(|_| ()),
        None => Ok(()),
    };
    run_trial(&spec, root, setup, crate::stdout::line).await
}

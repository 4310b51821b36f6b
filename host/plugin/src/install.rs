//! Installing a package and uninstalling a plugin, crash-consistently.
//!
//! An install reads and checks the package whole ([`crate::package`]), stages every
//! file it brings ([`crate::staging`]), runs its `install.sh` in the staged `etc/`
//! (when the operator allows scripts), loads and checks the staged artifact, and
//! only then commits: the staged files are renamed into the root, the plugin's other
//! versions removed. If anything fails before the commit, the root is as it was and
//! the plugin as it was.

use crate::host::PluginHost;
use crate::kind::PluginKind;
use crate::package::{self, Package};
use crate::staging::Staged;
use std::path::{Path, PathBuf};
use tributary_core::Error;

/// A plugin name as eKuiper allows it: a letter, then letters, digits or `_`.
pub fn check_name(name: &str) -> Result<(), Error> {
    let mut c = name.chars();
    let ok = c.next().is_some_and(|f| f.is_ascii_alphabetic())
        && c.all(|x| x.is_ascii_alphanumeric() || x == '_')
        && name.len() <= tributary_core::names::MAX_NAME_LEN;
    if ok {
        Ok(())
    } else {
        Err(Error::user(format!(
            "invalid plugin name {:?}: a letter, then letters, digits or _ (at most {} bytes)",
            tributary_core::names::shown(name),
            tributary_core::names::MAX_NAME_LEN
        )))
    }
}

impl PluginHost {
    /// Installs or updates plugin `name` of `kind` from a package's bytes. Returns
    /// whether it was an update.
    pub fn install(&self, kind: PluginKind, name: &str, bytes: &[u8]) -> Result<bool, Error> {
        check_name(name)?;
        let p = package::read(bytes, name, kind, self.config.allow_scripts, self.tiers())?;
        let updating = self.is_installed(kind, name);
        let mut staged = Staged::begin(self.root())?;
        let artifact = self.stage(&p, &mut staged)?;
        let fail = &self.config.failpoint;
        fail.hit("staged");
        let undo = self.activate(
            kind,
            &p.tier,
            name,
            &p.version,
            &staged.path(&artifact),
            p.functions.as_deref(),
        )?;
        fail.hit("loaded");
        if let Err(e) = staged.commit(fail) {
            self.undo(undo);
            return Err(e);
        }
        self.set_path(kind, name, self.root().join(&artifact));
        tracing::info!(plugin = %name, kind = kind.singular(), tier = p.tier.name(), version = %p.version, "plugin installed");
        Ok(updating)
    }

    /// Stages the package's files; returns the artifact's root-relative path.
    fn stage(&self, p: &Package, staged: &mut Staged) -> Result<PathBuf, Error> {
        let folder = p.kind.folder();
        let ext = p.tier.ext();
        let file = match p.version.as_str() {
            "" => format!("{}.{ext}", p.name),
            v => format!("{}@v{}.{ext}", p.name, v.trim_start_matches('v')),
        };
        let plugins = Path::new("plugins").join(folder);
        let etc = Path::new("etc").join(folder).join(&p.name);
        for (rel, bytes) in &p.etc {
            staged.write(&etc.join(rel), bytes)?;
        }
        if let Some(m) = &p.metadata {
            // A tier that reads `<name>.json` as its own manifest wants it beside the
            // artifact; eKuiper's UI metadata otherwise goes to etc/, as eKuiper puts it.
            let dir = if p.tier.reads_manifest() {
                plugins.clone()
            } else {
                Path::new("etc").join(folder)
            };
            staged.write(&dir.join(format!("{}.json", p.name)), m)?;
        }
        if let (PluginKind::Source, Some(conf)) = (p.kind, &p.source_conf) {
            staged.write(
                &Path::new("etc/sources").join(format!("{}.yaml", p.name)),
                conf,
            )?;
        }
        if let Some(script) = &p.install_script {
            run_install_script(script, &staged.path(&etc))?;
        }
        let artifact = plugins.join(&file);
        staged.write(&artifact, &p.artifact)?;
        // The plugin's other files of this tier go with the commit.
        for other in self.versions_of(p.kind, &p.name, &p.tier) {
            if other != artifact {
                staged.remove(&other);
            }
        }
        Ok(artifact)
    }

    /// The root-relative files of plugin `name` (any version) of one tier.
    fn versions_of(
        &self,
        kind: PluginKind,
        name: &str,
        tier: &std::sync::Arc<dyn crate::tier::Tier>,
    ) -> Vec<PathBuf> {
        let rel = Path::new("plugins").join(kind.folder());
        let Ok(entries) = std::fs::read_dir(self.root().join(&rel)) else {
            return Vec::new();
        };
        entries
            .flatten()
            .filter_map(|e| {
                let file = e.file_name().to_string_lossy().into_owned();
                let (stem, _) = tributary_core::plugin_files::parse_file_name(&file, tier.ext())?;
                (tier.name_of(&stem) == name).then(|| rel.join(&file))
            })
            .collect()
    }

    /// Removes plugin `name`: refused while a function plugin's instances run, unless
    /// `force`. Its files go in one commit: the artifact (every version), its
    /// manifest, `etc/<kind>/<name>/`, and a source's default conf.
    pub fn uninstall(&self, kind: PluginKind, name: &str, force: bool) -> Result<(), Error> {
        let (_, tier) = self.file_of(kind, name).ok_or_else(|| {
            Error::not_found(format!("{} plugin {name} not found", kind.folder()))
        })?;
        let tier = self
            .tiers()
            .iter()
            .find(|t| t.name() == tier)
            .cloned()
            .ok_or_else(|| Error::internal(format!("no tier {tier}")))?;
        let mut staged = Staged::begin(self.root())?;
        for f in self.versions_of(kind, name, &tier) {
            staged.remove(&f);
        }
        let folder = Path::new("etc").join(kind.folder());
        staged.remove(&folder.join(name));
        staged.remove(&folder.join(format!("{name}.json")));
        staged.remove(
            &Path::new("plugins")
                .join(kind.folder())
                .join(format!("{name}.json")),
        );
        if kind == PluginKind::Source {
            staged.remove(&Path::new("etc/sources").join(format!("{name}.yaml")));
        }
        self.deactivate(kind, name, force)?;
        staged.commit(&self.config.failpoint)?;
        tracing::info!(plugin = %name, kind = kind.folder(), "plugin removed");
        Ok(())
    }
}

/// Runs a package's `install.sh` in its staged etc folder.
fn run_install_script(script: &[u8], etc: &Path) -> Result<(), Error> {
    std::fs::create_dir_all(etc)
        .map_err(|e| Error::external(format!("cannot create {}: {e}", etc.display())))?;
    let dir = etc
        .parent()
        .ok_or_else(|| Error::internal("a staged etc folder has a parent"))?;
    let file = dir.join(".install.sh");
    std::fs::write(&file, script).map_err(|e| Error::external(format!("install.sh: {e}")))?;
    let status = std::process::Command::new("/bin/sh")
        .arg(&file)
        .current_dir(dir)
        .env("TRIBUTARY_PLUGIN_ETC", etc)
        .status()
        .map_err(|e| Error::external(format!("install.sh: {e}")));
    let _ = std::fs::remove_file(&file);
    match status? {
        s if s.success() => Ok(()),
        s => Err(Error::user(format!("install.sh failed: {s}"))),
    }
}

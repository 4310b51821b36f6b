//! What one plugin actually gets: what its manifest asks ([`crate::manifest`])
//! intersected with what the operator grants ([`crate::grants`]), resolved once when
//! the plugin is loaded, and turned into a WASI context for each of its stores.
//!
//! Asking for something the operator did not grant fails the load, naming the plugin
//! and the capability: a plugin that silently ran without the folder it needs would
//! only fail later, on data, far from the cause.
//!
//! Directories appear in the guest at their absolute host path, so a path in a rule's
//! props or the one `context.root-path` returns can be used as is (a guest has no
//! working directory: its relative paths start at `/`). Network is the intersection
//! of what the manifest asks and the operator grants ([`tributary_plugin::network`]),
//! enforced per store by [`crate::network::Guard`]; an asked entry nothing grants is
//! logged, not refused, since grants narrow patterns (`*` asked, one host granted).

use crate::engine::WasmConfig;
use crate::guest_output::{GuestOutput, Stream};
use crate::network::Guard;
use std::path::{Component, Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;
use tributary_core::Error;
use tributary_plugin::grants::{Grant, Grants, GRANTS_FILE};
use tributary_plugin::manifest::{LimitsConf, Manifest};
use tributary_plugin::network::{intersect, NetGrant};
use tributary_plugin::PluginKind;
use wasmtime_wasi::{FsPerms, WasiCtx};

/// How long one call may take in all, blocked on I/O included, unless the limits say
/// otherwise: long enough for a connector's connect and request, short enough that a
/// plugin waiting on a dead peer is noticed.
pub const IO_WAIT: Duration = Duration::from_secs(30);

/// The limits one instance runs under.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// The most linear memory one instance may use.
    pub memory_bytes: usize,
    /// The CPU deadline of one call: time its code runs.
    pub deadline: Duration,
    /// The longest one call may take in all, waits on I/O included.
    pub io_wait: Duration,
}

/// One directory handed to the guest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Preopen {
    /// The canonical directory on the host.
    pub host: PathBuf,
    /// Where the guest sees it.
    pub guest: String,
    pub write: bool,
}

/// The effective capabilities and limits of a plugin, shared by all its instances.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Capabilities {
    /// `<root>/etc/<kind>/<name>`: what `context.root-path` returns, whether or not
    /// the plugin may read it.
    pub etc_dir: PathBuf,
    /// Preopened directories (the etc view first, when granted).
    pub dirs: Vec<Preopen>,
    /// Environment variables with their host values.
    pub env: Vec<(String, String)>,
    pub limits: Limits,
    /// The etc folder is granted: shown read-only once it exists, also when an
    /// install creates it after the plugin was loaded.
    pub etc_granted: bool,
    /// The hosts and ports it may reach; empty: no network.
    pub network: Vec<NetGrant>,
    /// What its manifest asks that no grant covers (denied; logged at load).
    pub network_not_granted: Vec<NetGrant>,
}

impl Capabilities {
    /// Nothing but the limits of `config`: what a plugin without a manifest gets.
    pub fn sandboxed(etc_dir: PathBuf, config: &WasmConfig) -> Self {
        Capabilities {
            etc_dir,
            dirs: Vec::new(),
            env: Vec::new(),
            limits: Limits {
                memory_bytes: config.memory_bytes,
                deadline: config.call_deadline,
                io_wait: IO_WAIT,
            },
            etc_granted: false,
            network: Vec::new(),
            network_not_granted: Vec::new(),
        }
    }

    /// The capabilities of plugin `name` of `kind`, whose component is `wasm`, in the
    /// engine root `root`: reads its manifest and intersects it with `config.grants`.
    /// Also answers the manifest file read, if any.
    pub fn resolve_for(
        config: &WasmConfig,
        root: &Path,
        kind: PluginKind,
        name: &str,
        wasm: &Path,
    ) -> Result<(Self, Option<PathBuf>), Error> {
        let (manifest, file) = Manifest::for_component(wasm, name)?;
        let etc_dir = root.join("etc").join(kind.folder()).join(name);
        let caps = resolve(name, etc_dir, root, &manifest, &config.grants, config)?;
        Ok((caps, file))
    }

    /// [`Self::resolve_for`], logged: what a plugin being loaded gets.
    pub fn for_plugin(
        config: &WasmConfig,
        root: &Path,
        kind: PluginKind,
        name: &str,
        wasm: &Path,
    ) -> Result<Self, Error> {
        let (caps, file) = Self::resolve_for(config, root, kind, name, wasm)?;
        for r in &caps.network_not_granted {
            tracing::warn!(plugin = %name, asked = %r, "network asked for in the manifest, not granted in {GRANTS_FILE}: denied");
        }
        if let Some(file) = file {
            tracing::info!(plugin = %name, manifest = %file.display(), dirs = ?caps.dirs.iter().map(|d| &d.guest).collect::<Vec<_>>(), env = ?caps.env.iter().map(|e| &e.0).collect::<Vec<_>>(), network = ?caps.network.iter().map(ToString::to_string).collect::<Vec<_>>(), "wasm plugin capabilities");
        }
        Ok(caps)
    }

    /// What the API shows of them.
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::json!({
            "dirs": self.dirs.iter().map(|d| serde_json::json!({"path": d.guest, "write": d.write})).collect::<Vec<_>>(),
            "env": self.env.iter().map(|(k, _)| k).collect::<Vec<_>>(),
            "etc": self.etc_granted,
            "network": self.network,
            "networkNotGranted": self.network_not_granted,
            "limits": {"memoryMiB": self.limits.memory_bytes >> 20,
                       "deadlineMs": self.limits.deadline.as_millis() as u64,
                       "ioWaitMs": self.limits.io_wait.as_millis() as u64},
        })
    }

    /// A fresh WASI context holding exactly these capabilities, its sockets under
    /// `net` (the store's guard of [`Self::network`]). Built per store: WASI contexts
    /// are not shared between instances. The guest's stdout and stderr go to `output`.
    pub fn wasi_ctx(&self, net: &Arc<Guard>, output: &GuestOutput) -> Result<WasiCtx, Error> {
        let mut b = WasiCtx::builder();
        net.apply(&mut b);
        b.stdout(output.writer(Stream::Stdout));
        b.stderr(output.writer(Stream::Stderr));
        // Calls run on blocking threads already (see `function::off_async_context`), so
        // file operations may block there instead of hopping to another thread.
        b.allow_blocking_current_thread(true);
        let etc_shown = self.etc_granted
            && self.etc_dir.is_dir()
            && !self
                .dirs
                .iter()
                .any(|d| d.guest == self.etc_dir.to_string_lossy());
        if etc_shown {
            b.preopened_dir(
                &self.etc_dir,
                self.etc_dir.to_string_lossy(),
                FsPerms::ReadOnly,
            )
            .map_err(|e| {
                Error::external(format!("plugin directory {}: {e}", self.etc_dir.display()))
            })?;
        }
        for d in &self.dirs {
            let perms = if d.write {
                FsPerms::ReadWrite
            } else {
                FsPerms::ReadOnly
            };
            b.preopened_dir(&d.host, &d.guest, perms).map_err(|e| {
                Error::external(format!("plugin directory {}: {e}", d.host.display()))
            })?;
        }
        for (k, v) in &self.env {
            b.env(k, v);
        }
        Ok(b.build())
    }
}

/// `what`, refused: the error a plugin load fails with.
fn refused(name: &str, what: &str) -> Error {
    Error::user(format!(
        "plugin {name} asks for {what}, not granted in {GRANTS_FILE}"
    ))
}

/// A limit: the operator's (or `default`), lowered by the manifest's.
fn lowered(operator: Option<u64>, manifest: Option<u64>, default: u64) -> u64 {
    let op = operator.unwrap_or(default);
    manifest.map_or(op, |m| m.min(op))
}

/// The effective limits of `name`. The operator's limits may raise or lower the
/// engine's defaults, up to the engine's memory pool (`config.memory_bytes`); the
/// manifest may only lower them.
fn limits(name: &str, manifest: &LimitsConf, grants: &Grants, config: &WasmConfig) -> Limits {
    let operator = grants.limits_of(name);
    let default_mib = (WasmConfig::default().memory_bytes as u64 >> 20)
        .min(config.memory_bytes as u64 >> 20)
        .max(1);
    let mib = lowered(operator.memory_mib, manifest.memory_mib, default_mib);
    let ms = lowered(
        operator.deadline_ms,
        manifest.deadline_ms,
        config.call_deadline.as_millis() as u64,
    );
    let io_ms = lowered(
        operator.io_wait_ms,
        manifest.io_wait_ms,
        IO_WAIT.as_millis() as u64,
    );
    Limits {
        memory_bytes: usize::try_from(mib << 20)
            .unwrap_or(usize::MAX)
            .min(config.memory_bytes),
        deadline: Duration::from_millis(ms),
        io_wait: Duration::from_millis(io_ms),
    }
}

/// `path` with symlinks and `.` resolved, also when its last components do not
/// exist yet (a folder to be created). `..` must have been refused before.
fn canonical(path: &Path) -> std::io::Result<PathBuf> {
    match std::fs::canonicalize(path) {
        Ok(p) => Ok(p),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            match (path.parent(), path.file_name()) {
                (Some(parent), Some(leaf)) => Ok(canonical(parent)?.join(leaf)),
                _ => Err(e),
            }
        }
        Err(e) => Err(e),
    }
}

/// A path relative to the root made absolute.
fn under_root(root: &Path, p: &Path) -> PathBuf {
    if p.is_absolute() {
        p.to_path_buf()
    } else {
        root.join(p)
    }
}

fn guest_path(p: &Path) -> Result<String, Error> {
    p.to_str()
        .map(str::to_string)
        .ok_or_else(|| Error::user(format!("{} is not a UTF-8 path", p.display())))
}

/// The directory `asked` (as the manifest writes it) if `grant` covers it.
fn granted_dir(
    name: &str,
    root: &Path,
    asked: &tributary_plugin::manifest::AskedDir,
    grant: &Grant,
) -> Result<Preopen, Error> {
    let shown = &asked.path;
    let access = if asked.write { "write" } else { "read" };
    if Path::new(shown)
        .components()
        .any(|c| c == Component::ParentDir)
    {
        return Err(Error::user(format!(
            "plugin {name} asks for {shown}: a directory it asks for may not contain `..`"
        )));
    }
    let host = canonical(&under_root(root, Path::new(shown)))
        .map_err(|e| Error::user(format!("plugin {name} asks for {shown}: {e}")))?;
    let covered = grant.dirs.iter().any(|g| {
        canonical(&under_root(root, g))
            .is_ok_and(|g| !g.as_os_str().is_empty() && host.starts_with(g))
    });
    if !covered {
        return Err(refused(name, &format!("{access} access to {shown}")));
    }
    if asked.write && !grant.writable {
        return Err(refused(name, &format!("write access to {shown}")));
    }
    if !host.is_dir() {
        if !asked.write {
            return Err(Error::user(format!(
                "plugin {name} asks for read access to {shown}, which is not a directory"
            )));
        }
        // A granted writable folder that does not exist yet is created: a fresh root
        // has no output folders.
        std::fs::create_dir_all(&host).map_err(|e| {
            Error::external(format!("plugin {name}: creating {}: {e}", host.display()))
        })?;
    }
    Ok(Preopen {
        guest: guest_path(&host)?,
        host,
        write: asked.write,
    })
}

/// Intersects what `manifest` asks with what `grants` allow plugin `name`. `root` is
/// the engine root (relative directories are relative to it).
pub fn resolve(
    name: &str,
    etc_dir: PathBuf,
    root: &Path,
    manifest: &Manifest,
    grants: &Grants,
    config: &WasmConfig,
) -> Result<Capabilities, Error> {
    let asked = &manifest.capabilities;
    let grant = grants.of(name);
    let mut caps = Capabilities::sandboxed(etc_dir, config);
    caps.limits = limits(name, &manifest.limits, grants, config);
    if asked.etc {
        if !grant.etc {
            return Err(refused(name, "read access to its etc folder"));
        }
        caps.etc_granted = true;
        // A plugin without an etc folder simply sees none.
        if caps.etc_dir.is_dir() {
            let host = canonical(&caps.etc_dir).map_err(|e| {
                Error::external(format!("plugin {name}: {}: {e}", caps.etc_dir.display()))
            })?;
            caps.dirs.push(Preopen {
                host,
                // The path `context.root-path` returns, so the plugin can use it as is.
                guest: guest_path(&caps.etc_dir)?,
                write: false,
            });
        }
    }
    for d in &asked.dirs {
        caps.dirs.push(granted_dir(name, root, d, &grant)?);
    }
    (caps.network, caps.network_not_granted) = intersect(&asked.network, &grant.network);
    for var in &asked.env {
        if !grant.env.contains(var) {
            return Err(refused(name, &format!("the environment variable {var}")));
        }
        // Granted but unset on the host: the plugin sees it unset, as it would anywhere.
        if let Ok(v) = std::env::var(var) {
            caps.env.push((var.clone(), v));
        }
    }
    Ok(caps)
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Root {
        dir: tempfile::TempDir,
    }

    impl Root {
        fn new() -> Self {
            let dir = tempfile::tempdir().expect("tempdir");
            std::fs::create_dir_all(dir.path().join("etc/sinks/fileSink")).expect("mkdir");
            std::fs::create_dir_all(dir.path().join("out")).expect("mkdir");
            Root { dir }
        }
        fn path(&self) -> PathBuf {
            self.dir.path().canonicalize().expect("canonical")
        }
        fn resolve(&self, manifest: &str, grants: &str) -> Result<Capabilities, String> {
            let m = Manifest::parse(manifest, Path::new("fileSink.json")).expect("manifest");
            let g = Grants::parse(grants, Path::new("wasm.yaml")).expect("grants");
            let root = self.path();
            resolve(
                "fileSink",
                root.join("etc/sinks/fileSink"),
                &root,
                &m,
                &g,
                &WasmConfig::default(),
            )
            .map_err(|e| e.to_string())
        }
    }

    #[test]
    fn asking_for_nothing_gets_nothing() {
        let r = Root::new();
        let caps = r.resolve("{}", "").expect("caps");
        assert!(caps.dirs.is_empty() && caps.env.is_empty());
        assert_eq!(caps.limits.memory_bytes, 64 << 20);
        assert_eq!(caps.limits.deadline, Duration::from_secs(1));
    }

    #[test]
    fn the_etc_view_is_granted_by_default_read_only() {
        let r = Root::new();
        let caps = r
            .resolve(r#"{"capabilities": {"etc": true}}"#, "")
            .expect("caps");
        let etc = r.path().join("etc/sinks/fileSink");
        assert_eq!(
            caps.dirs,
            [Preopen {
                host: etc.clone(),
                guest: etc.display().to_string(),
                write: false
            }]
        );
        let e = r
            .resolve(
                r#"{"capabilities": {"etc": true}}"#,
                "grants: {fileSink: {etc: false}}",
            )
            .expect_err("refused");
        assert_eq!(
            e,
            "plugin fileSink asks for read access to its etc folder, not granted in etc/wasm.yaml"
        );
    }

    #[test]
    fn directories_are_the_intersection() {
        let r = Root::new();
        let out = r.path().join("out");
        let grants = format!(
            "grants:\n  fileSink:\n    dirs: [\"{}\"]\n    writable: true\n",
            out.display()
        );
        // Below a granted folder, relative to the root, created when missing.
        let caps = r
            .resolve(
                r#"{"capabilities": {"dirs": [{"path": "out/rows", "write": true}]}}"#,
                &grants,
            )
            .expect("caps");
        assert_eq!(caps.dirs.len(), 1);
        assert_eq!(caps.dirs[0].host, out.join("rows"));
        assert!(caps.dirs[0].write && out.join("rows").is_dir());
        assert_eq!(caps.dirs[0].guest, out.join("rows").display().to_string());

        // Not granted at all; write where only read is granted; `..` escapes.
        let asked = |path: &str, write: bool| {
            serde_json::json!({"capabilities": {"dirs": [{"path": path, "write": write}]}})
                .to_string()
        };
        let e = r
            .resolve(&asked("/tmp/out", true), "")
            .expect_err("refused");
        assert_eq!(
            e,
            "plugin fileSink asks for write access to /tmp/out, not granted in etc/wasm.yaml"
        );
        let e = r
            .resolve(&asked("etc", false), &grants)
            .expect_err("refused");
        assert_eq!(
            e,
            "plugin fileSink asks for read access to etc, not granted in etc/wasm.yaml"
        );
        let read_only = format!("grants:\n  fileSink:\n    dirs: [\"{}\"]\n", out.display());
        let e = r
            .resolve(&asked("out", true), &read_only)
            .expect_err("refused");
        assert_eq!(
            e,
            "plugin fileSink asks for write access to out, not granted in etc/wasm.yaml"
        );
        let caps = r.resolve(&asked("out", false), &read_only).expect("read");
        assert!(!caps.dirs[0].write);
        let e = r
            .resolve(&asked("out/../etc", false), &grants)
            .expect_err("dotdot");
        assert!(e.contains("may not contain `..`"), "{e}");
        let e = r
            .resolve(&asked("out/missing", false), &grants)
            .expect_err("missing");
        assert!(e.contains("which is not a directory"), "{e}");
    }

    #[test]
    fn environment_variables_must_be_granted() {
        let r = Root::new();
        let manifest = r#"{"capabilities": {"env": ["PATH", "TRIBUTARY_SURELY_UNSET"]}}"#;
        let e = r.resolve(manifest, "").expect_err("refused");
        assert_eq!(
            e,
            "plugin fileSink asks for the environment variable PATH, not granted in etc/wasm.yaml"
        );
        let caps = r
            .resolve(
                manifest,
                "grants: {fileSink: {env: [PATH, TRIBUTARY_SURELY_UNSET]}}",
            )
            .expect("caps");
        assert_eq!(caps.env.len(), 1);
        assert_eq!(caps.env[0].0, "PATH");
    }

    #[test]
    fn a_manifest_only_lowers_the_operators_limits() {
        let r = Root::new();
        let caps = r
            .resolve(
                r#"{"limits": {"memoryMiB": 16, "deadlineMs": 5000}}"#,
                "limits: {deadlineMs: 200}",
            )
            .expect("caps");
        assert_eq!(caps.limits.memory_bytes, 16 << 20);
        assert_eq!(caps.limits.deadline, Duration::from_millis(200));
        // The engine's memory pool stays the ceiling.
        let caps = r
            .resolve("{}", "grants: {fileSink: {limits: {memoryMiB: 4096}}}")
            .expect("caps");
        assert_eq!(caps.limits.memory_bytes, 64 << 20);
    }

    #[test]
    fn the_wasi_context_builds() {
        let r = Root::new();
        let caps = r
            .resolve(r#"{"capabilities": {"etc": true}}"#, "")
            .expect("caps");
        let net = Guard::new(caps.network.clone(), "fileSink", "", Default::default());
        let output = GuestOutput::new(&Default::default());
        caps.wasi_ctx(&net, &output).expect("ctx");
    }
}

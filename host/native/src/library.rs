//! Loading one native plugin file and checking it before trusting anything in it.
//!
//! Order matters: the descriptor's first two words (ABI version, layout fingerprint)
//! are read before any other field, so a plugin built for another ABI or another
//! layout is refused with an error instead of being misread. Every ABI version ever
//! published loads: a version-1 plugin is called through the frozen version-1 tables
//! ([`abi::v1`]), a version-2 one through the current tables.

use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use tributary_core::function::FunctionKind;
use tributary_core::Error;
use tributary_native_abi as abi;
use tributary_plugin::{ExportedFunction, PluginKind};

/// A function table of either ABI version.
#[derive(Clone, Copy)]
pub(crate) enum FunctionTable<'a> {
    V1(&'a abi::v1::FunctionVtable),
    V2(&'a abi::FunctionVtable),
}

impl FunctionTable<'_> {
    pub(crate) fn validate(
        &self,
    ) -> unsafe extern "C" fn(abi::Slice, *const abi::ArgInfo, usize, *mut abi::Slice) -> i32 {
        match self {
            FunctionTable::V1(t) => t.validate,
            FunctionTable::V2(t) => t.validate,
        }
    }

    pub(crate) fn create(
        &self,
    ) -> unsafe extern "C" fn(*const abi::Host, abi::Slice, *mut abi::Slice) -> *mut std::ffi::c_void
    {
        match self {
            FunctionTable::V1(t) => t.create,
            FunctionTable::V2(t) => t.create,
        }
    }

    pub(crate) fn destroy(&self) -> unsafe extern "C" fn(*mut std::ffi::c_void) {
        match self {
            FunctionTable::V1(t) => t.destroy,
            FunctionTable::V2(t) => t.destroy,
        }
    }
}

/// A loaded library as the plugin host holds it: the artifact of every kind.
pub struct NativeArtifact(pub Arc<NativeLibrary>);

fn kind_code(kind: PluginKind) -> u32 {
    match kind {
        PluginKind::Function => abi::PLUGIN_FUNCTION,
        PluginKind::Source => abi::PLUGIN_SOURCE,
        PluginKind::Sink => abi::PLUGIN_SINK,
    }
}

fn describe_code(code: u32) -> &'static str {
    match code {
        abi::PLUGIN_FUNCTION => "a function plugin",
        abi::PLUGIN_SOURCE => "a source plugin",
        abi::PLUGIN_SINK => "a sink plugin",
        _ => "of an unknown kind",
    }
}

/// A loaded library and its checked descriptor. Dropping the last `Arc` unloads it:
/// instances and factories hold one, so a library goes when no rule uses it any more.
pub struct NativeLibrary {
    /// The plugin name (the file name with its first letter in lower case).
    pub name: String,
    /// Without the leading `v`; empty when the file carries none.
    pub version: String,
    /// The file as installed.
    pub path: PathBuf,
    pub kind: PluginKind,
    /// One shared instance for every rule (eKuiper's exported instance).
    pub singleton: bool,
    /// Exported functions (function plugins).
    pub functions: Vec<ExportedFunction>,
    /// The `<root>/etc/<kind>/<name>` folder given to instances as their root path.
    pub etc_dir: PathBuf,
    /// The ABI version the plugin was built against (1 or 2).
    pub abi: u32,
    /// What a version-2 source can do (`abi::SOURCE_*` flags); 0 otherwise.
    pub source_flags: u32,
    desc: *const abi::Plugin,
    // Declared last: dropped after everything that may point into it.
    _lib: libloading::Library,
}

// SAFETY: the descriptor and its tables are immutable static data of the library,
// which stays loaded as long as this value lives; instances are used by one thread at a
// time (see the function, source and sink modules).
unsafe impl Send for NativeLibrary {}
// SAFETY: as above.
unsafe impl Sync for NativeLibrary {}

impl std::fmt::Debug for NativeLibrary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NativeLibrary")
            .field("name", &self.name)
            .field("version", &self.version)
            .field("path", &self.path)
            .field("kind", &self.kind)
            .finish()
    }
}

/// The symbol a plugin exports: its name with the first letter in upper case.
pub fn symbol_name(name: &str) -> String {
    let mut c = name.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}

/// The plugin name of a file stem: `Echo` and `echo` both name `echo`.
pub fn plugin_name(stem: &str) -> String {
    let mut c = stem.chars();
    match c.next() {
        Some(f) => f.to_lowercase().chain(c).collect(),
        None => String::new(),
    }
}

/// The error a plugin set for call `what`.
///
/// # Safety
/// `err` was set by the plugin during the call that just returned.
pub(crate) unsafe fn failed(lib: &NativeLibrary, what: &str, err: abi::Slice) -> String {
    // SAFETY: per the caller.
    format!("plugin {}: {what}: {}", lib.name, unsafe {
        err.to_string_lossy()
    })
}

fn bad(path: &Path, what: impl std::fmt::Display) -> Error {
    Error::user(format!("native plugin {}: {what}", path.display()))
}

/// # Safety
/// `s` points to `len` readable bytes in the loaded library.
unsafe fn text(path: &Path, s: abi::Slice, what: &str) -> Result<String, Error> {
    // SAFETY: per the caller.
    let bytes = unsafe { s.as_bytes() };
    std::str::from_utf8(bytes)
        .map(str::to_string)
        .map_err(|_| bad(path, format!("{what} is not UTF-8")))
}

impl NativeLibrary {
    /// Loads `path` as plugin `name` of `kind`. With a `cache_dir`, the library is
    /// loaded from a private copy named by its content hash: overwriting the installed
    /// file can then never corrupt a mapped library, and a new version is always a new
    /// file to the dynamic loader (which would otherwise hand back the old handle).
    pub fn load(
        name: &str,
        version: &str,
        path: &Path,
        kind: PluginKind,
        etc_dir: PathBuf,
        cache_dir: Option<&Path>,
    ) -> Result<Arc<NativeLibrary>, Error> {
        let bytes = std::fs::read(path).map_err(|e| bad(path, format!("cannot read: {e}")))?;
        if bytes.len() < 4 || &bytes[..4] != b"\x7fELF" {
            return Err(bad(path, "not a shared object (no ELF header)"));
        }
        let load_path = match cache_dir {
            Some(dir) => {
                let hash = hex::encode(Sha256::digest(&bytes));
                let copy = dir.join(format!("{name}-{}.so", &hash[..16]));
                if !copy.exists() {
                    std::fs::create_dir_all(dir)
                        .map_err(|e| bad(path, format!("cache {}: {e}", dir.display())))?;
                    // Several processes may fill the cache at once: each writes a
                    // file of its own and renames it into place, which is atomic, so
                    // a reader sees no copy or a whole one.
                    static NEXT: AtomicU64 = AtomicU64::new(0);
                    let tmp = dir.join(format!(
                        ".{name}-{}.{}.{}.tmp",
                        &hash[..16],
                        std::process::id(),
                        NEXT.fetch_add(1, Ordering::Relaxed)
                    ));
                    let written =
                        std::fs::write(&tmp, &bytes).and_then(|()| std::fs::rename(&tmp, &copy));
                    if let Err(e) = written {
                        let _ = std::fs::remove_file(&tmp);
                        if !copy.exists() {
                            return Err(bad(path, format!("cache {}: {e}", dir.display())));
                        }
                    }
                }
                copy
            }
            None => path.to_path_buf(),
        };
        // SAFETY: loading runs the library's initialisers. That is the trust the
        // native tier asks of an operator installing a plugin (docs/plugins/native.md).
        let lib = unsafe { libloading::Library::new(&load_path) }
            .map_err(|e| bad(path, format!("not a loadable shared object: {e}")))?;
        let symbol = symbol_name(name);
        // SAFETY: we only take the symbol's address here; nothing is read yet.
        let desc: *const abi::Plugin = unsafe {
            match lib.get::<*const abi::Plugin>(symbol.as_bytes()) {
                Ok(s) => *s,
                Err(_) => {
                    return Err(bad(
                        path,
                        format!(
                            "does not export the symbol `{symbol}` (the plugin name with its first letter in upper case)"
                        ),
                    ))
                }
            }
        };
        if desc.is_null() {
            return Err(bad(path, format!("symbol `{symbol}` is null")));
        }
        // SAFETY: every ABI version starts the descriptor with these two u32 words.
        let (abi_version, layout) = unsafe {
            (
                std::ptr::read(desc as *const u32),
                std::ptr::read((desc as *const u32).add(1)),
            )
        };
        let want = match abi_version {
            abi::v1::ABI_VERSION => abi::v1::LAYOUT_FINGERPRINT,
            abi::ABI_VERSION => abi::LAYOUT_FINGERPRINT,
            other => {
                return Err(bad(
                    path,
                    format!(
                        "built for native ABI version {other}; this host speaks versions {} and {}",
                        abi::v1::ABI_VERSION,
                        abi::ABI_VERSION
                    ),
                ))
            }
        };
        if layout != want {
            return Err(bad(
                path,
                format!(
                    "layout fingerprint {layout:#x} differs from the host's {want:#x} for ABI version {abi_version}: rebuild it against this tributary_plugin.h"
                ),
            ));
        }
        // SAFETY: version and layout match: the descriptor has the host's layout (the
        // same in both versions; only the tables it points to differ).
        let d = unsafe { &*desc };
        if d.kind != kind_code(kind) {
            return Err(bad(
                path,
                format!(
                    "is {}, found in plugins/{}",
                    describe_code(d.kind),
                    kind.folder()
                ),
            ));
        }
        let table_missing = match kind {
            PluginKind::Function => d.function.is_null(),
            PluginKind::Source => d.source.is_null(),
            PluginKind::Sink => d.sink.is_null(),
        };
        if table_missing {
            return Err(bad(path, "its descriptor has no table for its kind"));
        }
        // Every entry but `exec_groups` is required. Check the words before a Rust
        // reference to the table exists: a reference to a table holding a null
        // function pointer would already be undefined behaviour.
        let (table, required): (*const usize, &[(usize, &str)]) = match kind {
            PluginKind::Function => (
                d.function as *const usize,
                &[(2, "validate"), (3, "create"), (4, "exec"), (6, "destroy")],
            ),
            PluginKind::Source => (
                d.source as *const usize,
                &[
                    (0, "create"),
                    (1, "open"),
                    (2, "pull"),
                    (3, "close"),
                    (4, "destroy"),
                ],
            ),
            PluginKind::Sink => (
                d.sink as *const usize,
                &[
                    (0, "create"),
                    (1, "open"),
                    (2, "collect"),
                    (3, "close"),
                    (4, "destroy"),
                ],
            ),
        };
        // A version-2 source table says what it can do; each ability needs its entries.
        let mut source_flags = 0;
        let mut required = required.to_vec();
        if kind == PluginKind::Source && abi_version == abi::ABI_VERSION {
            // SAFETY: a version-2 source table: word 5 holds `flags` (then padding).
            source_flags = unsafe { std::ptr::read(table.add(5) as *const u32) };
            if source_flags & abi::SOURCE_REWINDABLE != 0 {
                required.extend([(6, "offset"), (7, "rewind")]);
            }
            if source_flags & abi::SOURCE_LOOKUP != 0 {
                required.push((8, "lookup"));
            }
        }
        for (word, name) in &required {
            // SAFETY: the table has the host's layout (checked above); reading a
            // pointer-sized word of it as an integer is always valid.
            if unsafe { std::ptr::read(table.add(*word)) } == 0 {
                return Err(bad(
                    path,
                    format!(
                        "its {} table has no `{name}` entry (NULL)",
                        kind.folder().trim_end_matches('s')
                    ),
                ));
            }
        }
        let mut functions = Vec::new();
        if kind == PluginKind::Function {
            // SAFETY: checked non-null above; static data of the library. The list of
            // functions starts both versions' tables.
            let t = unsafe { &*d.function };
            if t.functions.is_null() || t.nfunctions == 0 {
                return Err(bad(path, "exports no function"));
            }
            // SAFETY: the table lists `nfunctions` definitions.
            let defs = unsafe { std::slice::from_raw_parts(t.functions, t.nfunctions) };
            for def in defs {
                // SAFETY: static text of the library.
                let fname = unsafe { text(path, def.name, "a function name")? };
                if fname.is_empty() || !fname.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
                {
                    return Err(bad(path, format!("invalid function name {fname:?}")));
                }
                if functions
                    .iter()
                    .any(|f: &ExportedFunction| f.name.eq_ignore_ascii_case(&fname))
                {
                    return Err(bad(path, format!("exports function {fname} twice")));
                }
                let k = match def.kind {
                    abi::FUNCTION_SCALAR => FunctionKind::Scalar,
                    abi::FUNCTION_AGGREGATE => FunctionKind::Aggregate,
                    other => {
                        return Err(bad(
                            path,
                            format!("function {fname} has unknown kind {other}"),
                        ))
                    }
                };
                functions.push(ExportedFunction {
                    name: fname,
                    kind: k,
                });
            }
        }
        Ok(Arc::new(NativeLibrary {
            name: name.to_string(),
            version: version.to_string(),
            path: path.to_path_buf(),
            kind,
            singleton: d.singleton != 0,
            functions,
            etc_dir,
            abi: abi_version,
            source_flags,
            desc,
            _lib: lib,
        }))
    }

    /// The ABI it was built against, as the API shows it.
    pub fn contract(&self) -> String {
        format!("native ABI {}", self.abi)
    }

    fn descriptor(&self) -> &abi::Plugin {
        // SAFETY: checked at load; valid while the library is loaded (as long as self).
        unsafe { &*self.desc }
    }

    /// The function table of the plugin's ABI version (function plugins only,
    /// checked at load).
    pub(crate) fn function_table(&self) -> Option<FunctionTable<'_>> {
        let f = self.descriptor().function;
        // SAFETY: non-null for function plugins (checked at load), static data, of
        // the version the descriptor declared.
        unsafe {
            match self.abi {
                abi::v1::ABI_VERSION => (f as *const abi::v1::FunctionVtable)
                    .as_ref()
                    .map(FunctionTable::V1),
                _ => f.as_ref().map(FunctionTable::V2),
            }
        }
    }

    /// The source table's entries every version has.
    pub(crate) fn source_table(&self) -> Option<&abi::v1::SourceVtable> {
        // SAFETY: as above; a version-2 table starts with the version-1 entries.
        unsafe { (self.descriptor().source as *const abi::v1::SourceVtable).as_ref() }
    }

    /// The whole source table of a version-2 plugin.
    pub(crate) fn source_table_v2(&self) -> Option<&abi::SourceVtable> {
        if self.abi != abi::ABI_VERSION {
            return None;
        }
        // SAFETY: as above, for a plugin of version 2.
        unsafe { self.descriptor().source.as_ref() }
    }

    pub(crate) fn sink_table(&self) -> Option<&abi::SinkVtable> {
        // SAFETY: as above.
        unsafe { self.descriptor().sink.as_ref() }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn symbol_and_plugin_names_follow_ekuipers_rule() {
        assert_eq!(symbol_name("accumulateWordCount"), "AccumulateWordCount");
        assert_eq!(symbol_name("Echo"), "Echo");
        assert_eq!(plugin_name("Echo"), "echo");
        assert_eq!(plugin_name("countPlusOne"), "countPlusOne");
    }

    #[test]
    fn files_that_are_not_shared_objects_are_refused_with_the_path() {
        let dir = tempfile::tempdir().expect("tempdir");
        let p = dir.path().join("bogus.so");
        std::fs::write(&p, "not an elf").expect("write");
        let e = NativeLibrary::load("bogus", "", &p, PluginKind::Function, PathBuf::new(), None)
            .expect_err("refused");
        let msg = e.to_string();
        assert!(
            msg.contains("bogus.so") && msg.contains("not a shared object"),
            "{msg}"
        );
        let missing = dir.path().join("missing.so");
        let e = NativeLibrary::load(
            "missing",
            "",
            &missing,
            PluginKind::Function,
            PathBuf::new(),
            None,
        )
        .expect_err("refused");
        assert!(e.to_string().contains("cannot read"), "{e}");
    }
}

use super::*;
use std::io::Write;

/// Tiers that only name themselves, for reading packages.
struct Named(&'static str, &'static str);

impl Tier for Named {
    fn name(&self) -> &'static str {
        self.0
    }
    fn ext(&self) -> &'static str {
        self.1
    }
    fn name_of(&self, stem: &str) -> String {
        // The native rule: `Echo.so` is `echo`.
        let mut c = stem.chars();
        match c.next() {
            Some(f) if self.1 == "so" => f.to_lowercase().chain(c).collect(),
            _ => stem.to_string(),
        }
    }
    fn load(&self, _: &crate::tier::LoadRequest<'_>) -> Result<crate::tier::Artifact, Error> {
        Err(Error::internal("not loadable"))
    }
}

fn tiers() -> Vec<Arc<dyn Tier>> {
    vec![
        Arc::new(Named("native", "so")),
        Arc::new(Named("wasm", "wasm")),
    ]
}

/// A zip of `(name, bytes, unix mode)` entries.
pub fn zip_of(entries: &[(&str, &[u8], Option<u32>)]) -> Vec<u8> {
    let mut buf = std::io::Cursor::new(Vec::new());
    {
        let mut w = zip::ZipWriter::new(&mut buf);
        for (name, data, mode) in entries {
            let mut o = zip::write::SimpleFileOptions::default();
            if let Some(m) = mode {
                o = o.unix_permissions(*m);
            }
            if *mode == Some(0o120777) {
                w.add_symlink(*name, "/etc/passwd", o).expect("symlink");
                continue;
            }
            w.start_file(*name, o).expect("start");
            w.write_all(data).expect("write");
        }
        w.finish().expect("finish");
    }
    buf.into_inner()
}

fn manifest(name: &str, kind: &str, sha: &str) -> String {
    serde_json::json!({
        "name": name, "version": "1.2.0", "kind": kind, "tier": "wasm",
        "functions": ["echo"], "artifact": "echo.wasm", "sha256": sha
    })
    .to_string()
}

#[test]
fn a_tributary_package_is_read_whole() {
    let art = b"\0asm fake";
    let m = manifest("echo", "function", &sha256_hex(art));
    let z = zip_of(&[
        ("manifest.json", m.as_bytes(), None),
        ("echo.wasm", art, None),
        ("echo.json", b"{}", None),
        ("etc/conf.yaml", b"a: 1", None),
        ("etc/sub/x.txt", b"x", None),
    ]);
    let p = read(&z, "echo", PluginKind::Function, false, &tiers()).expect("package");
    assert_eq!(p.version, "1.2.0");
    assert_eq!(p.tier.name(), "wasm");
    assert_eq!(p.artifact, art);
    assert_eq!(p.functions, Some(vec!["echo".to_string()]));
    assert!(p.metadata.is_some());
    let etc: Vec<String> = p.etc.iter().map(|(f, _)| f.display().to_string()).collect();
    assert_eq!(etc, ["conf.yaml", "sub/x.txt"]);
}

#[test]
fn an_ekuiper_flat_zip_is_read() {
    let z = zip_of(&[
        ("Random@v1.0.0.so", b"ELF", None),
        ("random.yaml", b"default: {}", None),
        ("random.json", b"{}", None),
    ]);
    let p = read(&z, "random", PluginKind::Source, false, &tiers()).expect("package");
    assert_eq!((p.tier.name(), p.version.as_str()), ("native", "1.0.0"));
    assert_eq!(p.source_conf.as_deref(), Some(&b"default: {}"[..]));
}

#[test]
fn unsafe_or_mismatching_packages_are_refused_with_the_reason() {
    let art = b"\0asm";
    let good = sha256_hex(art);
    let cases: Vec<(Vec<u8>, &str, PluginKind, &str)> = vec![
        (
            b"not a zip".to_vec(),
            "echo",
            PluginKind::Function,
            "not a zip file",
        ),
        (
            zip_of(&[("../../evil.so", b"x", None)]),
            "evil",
            PluginKind::Function,
            "escapes the package",
        ),
        (
            zip_of(&[("/abs/evil.so", b"x", None)]),
            "evil",
            PluginKind::Function,
            "escapes the package",
        ),
        (
            zip_of(&[("echo.so", b"x", Some(0o120777))]),
            "echo",
            PluginKind::Function,
            "symlink",
        ),
        (
            zip_of(&[
                (
                    "manifest.json",
                    manifest("echo", "function", &"0".repeat(64)).as_bytes(),
                    None,
                ),
                ("echo.wasm", art, None),
            ]),
            "echo",
            PluginKind::Function,
            "sha256",
        ),
        (
            zip_of(&[
                (
                    "manifest.json",
                    manifest("other", "function", &good).as_bytes(),
                    None,
                ),
                ("echo.wasm", art, None),
            ]),
            "echo",
            PluginKind::Function,
            "names the plugin \"other\"",
        ),
        (
            zip_of(&[
                (
                    "manifest.json",
                    manifest("echo", "sink", &good).as_bytes(),
                    None,
                ),
                ("echo.wasm", art, None),
            ]),
            "echo",
            PluginKind::Function,
            "a sinks plugin",
        ),
        (
            zip_of(&[(
                "manifest.json",
                manifest("echo", "function", &good).as_bytes(),
                None,
            )]),
            "echo",
            PluginKind::Function,
            "not in the package",
        ),
        (
            zip_of(&[("manifest.json", b"{\"name\": 1}", None)]),
            "echo",
            PluginKind::Function,
            "manifest.json",
        ),
        (
            zip_of(&[("readme.txt", b"hi", None)]),
            "echo",
            PluginKind::Function,
            "no manifest.json",
        ),
        (
            zip_of(&[("echo.so", b"x", None), ("install.sh", b"rm -rf /", None)]),
            "echo",
            PluginKind::Function,
            "install.sh",
        ),
        (
            zip_of(&[("echo.so", b"x", None), ("Echo@v2.so", b"y", None)]),
            "echo",
            PluginKind::Function,
            "several artifacts",
        ),
    ];
    for (zip, name, kind, want) in cases {
        let e = read(&zip, name, kind, false, &tiers())
            .expect_err(want)
            .to_string();
        assert!(e.contains(want), "{e:?} should say {want:?}");
    }
    // Scripts are allowed when the operator says so.
    let z = zip_of(&[("echo.so", b"x", None), ("install.sh", b"true", None)]);
    assert!(read(&z, "echo", PluginKind::Function, true, &tiers()).is_ok());
}

#[test]
fn an_oversize_entry_is_refused() {
    let big = vec![0u8; (MAX_ENTRY + 1) as usize];
    let z = zip_of(&[("echo.so", &big, None)]);
    let e = read(&z, "echo", PluginKind::Function, false, &tiers())
        .expect_err("too big")
        .to_string();
    assert!(e.contains("over the 64 MiB limit"), "{e}");
}

//! Compiling a service's `.proto` at run time with protox: no protoc, no generated
//! code. Imports resolve against the schema folder, the well-known
//! `google/protobuf/*` files, and the `google/api` annotation files shipped with the
//! binary.

use prost_reflect::DescriptorPool;
use protox::file::{
    ChainFileResolver, File, FileResolver, GoogleFileResolver, IncludeFileResolver,
};
use std::path::Path;

const GOOGLE_API: [(&str, &str); 2] = [
    (
        "google/api/http.proto",
        include_str!("../protos/google/api/http.proto"),
    ),
    (
        "google/api/annotations.proto",
        include_str!("../protos/google/api/annotations.proto"),
    ),
];

/// The `google/api` files shipped with the binary.
struct GoogleApiResolver;

impl FileResolver for GoogleApiResolver {
    fn open_file(&self, name: &str) -> Result<File, protox::Error> {
        match GOOGLE_API.iter().find(|(n, _)| *n == name) {
            Some((n, src)) => File::from_source(n, src),
            None => Err(protox::Error::file_not_found(name)),
        }
    }
}

/// Compiles `file` (relative to `dir`) with its imports into a descriptor pool. The
/// error names the file and, for syntax errors, the line and column.
pub fn compile(dir: &Path, file: &str) -> Result<DescriptorPool, String> {
    let mut chain = ChainFileResolver::new();
    chain.add(IncludeFileResolver::new(dir.to_path_buf()));
    chain.add(GoogleApiResolver);
    chain.add(GoogleFileResolver::new());
    let mut compiler = protox::Compiler::with_file_resolver(chain);
    compiler.include_imports(true);
    compiler
        .open_file(file)
        .map_err(|e| format!("schema {}: {}", dir.join(file).display(), describe(&e, dir)))?;
    Ok(compiler.descriptor_pool())
}

/// protox's error with its position (line and column of its first label), when it
/// has one.
fn describe(e: &protox::Error, dir: &Path) -> String {
    use miette::Diagnostic;
    let mut s = e.to_string();
    // Parse errors carry their detail as related diagnostics.
    if let Some(related) = e.related() {
        for r in related {
            s.push_str(&format!(": {r}"));
        }
    }
    let offset = e
        .labels()
        .and_then(|mut l| l.next())
        .or_else(|| {
            e.related()
                .and_then(|mut r| r.next())
                .and_then(|d| d.labels())
                .and_then(|mut l| l.next())
        })
        .map(|l| l.offset());
    if let (Some(file), Some(offset)) = (e.file(), offset) {
        if let Ok(text) = std::fs::read_to_string(dir.join(file)) {
            let before = text.get(..offset.min(text.len())).unwrap_or(&text);
            let line = before.matches('\n').count() + 1;
            let col = before.len() - before.rfind('\n').map_or(0, |i| i + 1) + 1;
            s = format!("{s} (line {line}, column {col})");
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn annotations_and_well_known_types_resolve() {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(
            dir.path().join("a.proto"),
            r#"syntax = "proto3";
            package a;
            import "google/api/annotations.proto";
            import "google/protobuf/empty.proto";
            service S { rpc Get(google.protobuf.Empty) returns (google.protobuf.Empty) {
                option (google.api.http) = { get: "/v1/x" };
            } }"#,
        )
        .expect("write");
        let pool = compile(dir.path(), "a.proto").expect("compile");
        assert!(pool.get_service_by_name("a.S").is_some());
        assert!(pool.get_extension_by_name("google.api.http").is_some());
    }

    #[test]
    fn syntax_errors_name_the_file_and_the_position() {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(
            dir.path().join("b.proto"),
            "syntax = \"proto3\";\nmessage {\n",
        )
        .expect("write");
        let e = compile(dir.path(), "b.proto").expect_err("bad");
        assert!(e.contains("b.proto") && e.contains("line 2"), "{e}");
        let e = compile(dir.path(), "missing.proto").expect_err("missing");
        assert!(e.contains("missing.proto"), "{e}");
    }
}

//! Loading `<root>/etc/services/*.json` into function definitions.
//!
//! Stricter than eKuiper, on purpose: a file that does not parse, a schema that does
//! not compile, an alias naming an rpc the schema lacks, or two functions with one name
//! is an error naming the file, instead of a warning in a log and a function that
//! silently is not there.

use crate::function::{FunctionMetrics, ServiceFunction};
use crate::http_rule::HttpMapping;
use crate::invoke::Invoker;
use crate::service::{Interface, ServiceFile};
use std::path::Path;
use std::sync::Arc;
use tributary_core::Error;

fn bad(file: &Path, what: impl std::fmt::Display) -> Error {
    Error::user(format!("service file {}: {what}", file.display()))
}

/// Every function of every service file under `<root>/etc/services/`, sorted by file.
pub fn load_services(root: &Path) -> Result<Vec<Arc<ServiceFunction>>, Error> {
    let dir = root.join("etc").join("services");
    let mut files: Vec<_> = match std::fs::read_dir(&dir) {
        Ok(d) => d
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|x| x == "json") && p.is_file())
            .collect(),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => {
            return Err(Error::external(format!(
                "services folder {}: {e}",
                dir.display()
            )))
        }
    };
    files.sort();
    let mut out: Vec<Arc<ServiceFunction>> = Vec::new();
    for file in files {
        for f in load_file(&file, &dir.join("schemas"))? {
            let Some(i) = out
                .iter()
                .position(|o| o.name.eq_ignore_ascii_case(&f.name))
            else {
                out.push(Arc::new(f));
                continue;
            };
            let other = &out[i];
            let who =
                |x: &ServiceFunction| format!("service {} interface {}", x.service, x.interface);
            match (other.explicit, f.explicit) {
                // Two names the files chose: a real mistake.
                (true, true) => {
                    return Err(bad(
                        &file,
                        format!("function {} is also defined by {}", f.name, who(other)),
                    ))
                }
                // An rpc exported under its own name yields to a name a file chose (the
                // same schema bound to gRPC and REST exports its rpcs twice; eKuiper
                // let the last one win at random).
                (true, false) => {
                    tracing::warn!(function = %f.name, kept = %who(other), dropped = %who(&f), "two services export this function; keeping the named one");
                }
                (false, true) => {
                    tracing::warn!(function = %f.name, kept = %who(&f), dropped = %who(other), "two services export this function; keeping the named one");
                    out[i] = Arc::new(f);
                }
                (false, false) => {
                    tracing::warn!(function = %f.name, kept = %who(other), dropped = %who(&f), "two services export this function; keeping the first");
                }
            }
        }
    }
    Ok(out)
}

/// The functions of one service file.
pub fn load_file(file: &Path, schemas: &Path) -> Result<Vec<ServiceFunction>, Error> {
    let service = file
        .file_stem()
        .and_then(|s| s.to_str())
        .ok_or_else(|| bad(file, "invalid service file name"))?
        .to_string();
    let text = std::fs::read_to_string(file).map_err(|e| bad(file, e))?;
    let conf: ServiceFile = serde_json::from_str(&text).map_err(|e| {
        bad(
            file,
            format!("line {}, column {}: {e}", e.line(), e.column()),
        )
    })?;
    let mut out = Vec::new();
    for (key, iface) in &conf.interfaces {
        let what = |e: String| bad(file, format!("interface {key}: {e}"));
        match iface.protocol.as_str() {
            "grpc" | "rest" => {}
            "msgpack-rpc" => {
                // No maintained Rust crate serves msgpack-rpc (docs/external-functions.md);
                // the rest of the file still loads.
                tracing::warn!(service = %service, interface = %key, "msgpack-rpc is not supported; this interface's functions are not available");
                continue;
            }
            other => {
                return Err(what(format!(
                    "unsupported protocol {other:?} (grpc, rest or msgpack-rpc)"
                )))
            }
        }
        out.extend(load_interface(&service, key, iface, schemas).map_err(what)?);
    }
    Ok(out)
}

fn http_client(iface: &Interface) -> Result<reqwest::Client, String> {
    reqwest::Client::builder()
        .danger_accept_invalid_certs(iface.options.insecure_skip_verify)
        .pool_idle_timeout(std::time::Duration::from_secs(90))
        .build()
        .map_err(|e| format!("HTTP client: {e}"))
}

fn load_interface(
    service: &str,
    key: &str,
    iface: &Interface,
    schemas: &Path,
) -> Result<Vec<ServiceFunction>, String> {
    let mut headers = reqwest::header::HeaderMap::new();
    for (k, v) in &iface.options.headers {
        let name = reqwest::header::HeaderName::from_bytes(k.as_bytes())
            .map_err(|_| format!("header name {k:?} is not valid"))?;
        let value = reqwest::header::HeaderValue::from_str(v)
            .map_err(|_| format!("header {k}: value {v:?} is not valid"))?;
        headers.insert(name, value);
    }
    let fallback = &iface.options.settings;
    let make = |name: &str,
                method: &str,
                explicit: bool,
                invoker: Invoker,
                input_fields,
                settings: &crate::service::Settings| {
        let policy = settings
            .resolve(fallback)
            .map_err(|e| format!("function {name}: {e}"))?;
        Ok::<_, String>(ServiceFunction {
            name: name.to_string(),
            service: service.to_string(),
            interface: key.to_string(),
            method: method.to_string(),
            explicit,
            permits: Arc::new(tokio::sync::Semaphore::new(policy.concurrency)),
            invoker,
            policy,
            input_fields,
            metrics: FunctionMetrics::default(),
        })
    };
    if iface.schemaless {
        if iface.protocol != "rest" {
            return Err("schemaless interfaces must use the rest protocol".into());
        }
        let base = rest_base(&iface.address)?;
        let invoker = Invoker::Schemaless {
            client: http_client(iface)?,
            base,
            headers,
        };
        return Ok(vec![make(
            key,
            key,
            true,
            invoker,
            None,
            &crate::service::Settings::default(),
        )?]);
    }
    match iface.schema_type.as_deref() {
        None | Some("protobuf") => {}
        Some(other) => return Err(format!("unsupported schema type {other:?} (protobuf)")),
    }
    let schema_file = iface
        .schema_file
        .as_deref()
        .ok_or("schemaFile is required unless the interface is schemaless")?;
    let pool = crate::schema::compile(schemas, schema_file)?;
    let file = pool
        .get_file_by_name(schema_file)
        .ok_or_else(|| format!("schema {schema_file} not found after compiling"))?;
    let methods: Vec<prost_reflect::MethodDescriptor> = file
        .services()
        .flat_map(|s| s.methods().collect::<Vec<_>>())
        .collect();
    for m in &iface.functions {
        if !methods.iter().any(|x| x.name() == m.service_name) {
            return Err(format!(
                "function {} maps to rpc {}, which {schema_file} does not define",
                m.name, m.service_name
            ));
        }
    }
    let channel = if iface.protocol == "grpc" {
        Some(grpc_channel(&iface.address)?)
    } else {
        None
    };
    let client = if iface.protocol == "rest" {
        Some((http_client(iface)?, rest_base(&iface.address)?))
    } else {
        None
    };
    let no_settings = crate::service::Settings::default();
    let mut out = Vec::new();
    for method in methods {
        // An rpc is exported under each name the file maps to it (each with its own
        // settings), or under its own name when none does.
        let mapped: Vec<(&str, &crate::service::Settings)> = iface
            .functions
            .iter()
            .filter(|f| f.service_name == method.name())
            .map(|f| (f.name.as_str(), &f.settings))
            .collect();
        let explicit = !mapped.is_empty();
        let names = if explicit {
            mapped
        } else {
            vec![(method.name(), &no_settings)]
        };
        for (name, settings) in names {
            let invoker = match (&channel, &client) {
                (Some(ch), _) => Invoker::Grpc {
                    channel: ch.clone(),
                    method: method.clone(),
                },
                (None, Some((c, base))) => Invoker::Rest {
                    client: c.clone(),
                    base: base.clone(),
                    headers: headers.clone(),
                    mapping: HttpMapping::of(&method)
                        .map_err(|e| format!("rpc {}: {e}", method.name()))?,
                    method: method.clone(),
                },
                (None, None) => return Err("no transport for the interface".into()),
            };
            let fields = method.input().fields().count();
            out.push(make(
                name,
                method.name(),
                explicit,
                invoker,
                Some(fields),
                settings,
            )?);
        }
    }
    Ok(out)
}

/// `http(s)://host[:port][/prefix]`, without a trailing slash.
fn rest_base(address: &str) -> Result<String, String> {
    let u = url::Url::parse(address).map_err(|e| format!("invalid url {address}: {e}"))?;
    if !matches!(u.scheme(), "http" | "https") {
        return Err(format!(
            "invalid url {address}: a rest address is http:// or https://"
        ));
    }
    Ok(address.trim_end_matches('/').to_string())
}

/// A lazily connecting HTTP/2 channel to `tcp://host:port`.
fn grpc_channel(address: &str) -> Result<tonic::transport::Channel, String> {
    let u = url::Url::parse(address).map_err(|e| format!("invalid url {address}: {e}"))?;
    if u.scheme() != "tcp" {
        return Err(format!(
            "invalid url {address}: a grpc address is tcp://host:port"
        ));
    }
    let host = u
        .host_str()
        .ok_or_else(|| format!("invalid url {address}: no host"))?;
    let port = u
        .port()
        .ok_or_else(|| format!("invalid url {address}: no port"))?;
    let endpoint = tonic::transport::Endpoint::from_shared(format!("http://{host}:{port}"))
        .map_err(|e| format!("invalid url {address}: {e}"))?
        .connect_timeout(std::time::Duration::from_secs(5))
        .tcp_nodelay(true);
    // The channel's worker lives on the I/O runtime.
    let rt = crate::runtime::io_runtime()?;
    let _guard = rt.enter();
    Ok(endpoint.connect_lazy())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn root_with(files: &[(&str, &str)]) -> tempfile::TempDir {
        let dir = tempfile::tempdir().expect("tempdir");
        for (name, text) in files {
            let p = dir.path().join("etc/services").join(name);
            std::fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
            std::fs::write(p, text).expect("write");
        }
        dir
    }

    const HW: &str = r#"syntax = "proto3"; package helloworld;
        service Greeter { rpc SayHello(HelloRequest) returns (HelloReply) {} rpc Other(HelloRequest) returns (HelloReply) {} }
        message HelloRequest { string name = 1; } message HelloReply { string message = 1; }"#;

    #[test]
    fn functions_are_the_rpcs_renamed_by_the_mapping() {
        let root = root_with(&[
            ("schemas/hw.proto", HW),
            (
                "sample.json",
                r#"{"interfaces": {
                    "tsrest": {"address": "http://127.0.0.1:1", "protocol": "rest", "schemaType": "protobuf",
                               "schemaFile": "hw.proto", "functions": [{"name": "helloFromRest", "serviceName": "SayHello"}],
                               "options": {"headers": {"Accept-Charset": "utf-8"}, "retryCount": 2, "retryInterval": "5ms"}},
                    "tsmsgpack": {"address": "tcp://127.0.0.1:2", "protocol": "msgpack-rpc", "schemaFile": "hw.proto"},
                    "tsschemaless": {"address": "http://127.0.0.1:1", "protocol": "rest", "schemaless": true}
                }}"#,
            ),
        ]);
        let fs = load_services(root.path()).expect("load");
        let names: Vec<&str> = fs.iter().map(|f| f.name.as_str()).collect();
        assert_eq!(names, ["helloFromRest", "Other", "tsschemaless"]);
        assert_eq!(fs[0].service, "sample");
        assert_eq!(fs[0].method, "SayHello");
        assert_eq!(fs[0].policy.attempts, 2);
        assert_eq!(fs[2].input_fields, None);
    }

    #[test]
    fn bad_files_are_named_with_the_reason() {
        let cases = [
            ("{", "line 1"),
            (
                r#"{"interfaces": {"a": {"address": "http://x", "protocol": "soap"}}}"#,
                "unsupported protocol \"soap\"",
            ),
            (
                r#"{"interfaces": {"a": {"address": "http://x", "protocol": "rest"}}}"#,
                "schemaFile is required",
            ),
            (
                r#"{"interfaces": {"a": {"address": "http://x", "protocol": "rest", "schemaFile": "hw.proto",
                    "functions": [{"name": "f", "serviceName": "Nope"}]}}}"#,
                "maps to rpc Nope",
            ),
            (
                r#"{"interfaces": {"a": {"address": "localhost:1", "protocol": "grpc", "schemaFile": "hw.proto"}}}"#,
                "invalid url",
            ),
            (
                r#"{"interfaces": {"a": {"address": "http://x", "protocol": "rest", "schemaFile": "missing.proto"}}}"#,
                "missing.proto",
            ),
        ];
        for (text, want) in cases {
            let root = root_with(&[("schemas/hw.proto", HW), ("bad.json", text)]);
            let e = load_services(root.path()).expect_err(text).to_string();
            assert!(e.contains("bad.json") && e.contains(want), "{text}: {e}");
        }
        // The same schema on two interfaces: unlisted rpcs would clash by name; the
        // one a file named wins, and nothing fails.
        let both = r#"{"interfaces": {
            "g": {"address": "tcp://127.0.0.1:1", "protocol": "grpc", "schemaFile": "hw.proto",
                  "functions": [{"name": "Other", "serviceName": "Other"}]},
            "r": {"address": "http://127.0.0.1:1", "protocol": "rest", "schemaFile": "hw.proto"}}}"#;
        let root = root_with(&[("schemas/hw.proto", HW), ("both.json", both)]);
        let fs = load_services(root.path()).expect("implicit clashes load");
        let other = fs.iter().find(|f| f.name == "Other").expect("Other");
        assert_eq!(other.interface, "g");
        // Two files defining one function name.
        let one = r#"{"interfaces": {"a": {"address": "http://x", "protocol": "rest", "schemaless": true}}}"#;
        let root = root_with(&[("x.json", one), ("y.json", one)]);
        let e = load_services(root.path()).expect_err("dup").to_string();
        assert!(
            e.contains("y.json") && e.contains("function a is also defined by service x"),
            "{e}"
        );
    }
}

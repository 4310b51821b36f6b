//! `tributary <noun> <verb>`: the REST API from the command line, as eKuiper's `kuiper`
//! CLI does it. Each command is one request to a running server (`--host`, default
//! `http://127.0.0.1:9081`, or `TRIBUTARY_HOST`; the token from `--token` or
//! `TRIBUTARY_TOKEN`). Output is readable by default and the server's JSON with
//! `--json`; a refused request prints the server's message and exits with 1.

use clap::{Args, Subcommand};
use std::path::PathBuf;
use tributary_core::Error;

#[derive(Args, Clone)]
pub struct Remote {
    /// The server's base URL.
    #[arg(
        long,
        global = true,
        env = "TRIBUTARY_HOST",
        default_value = "http://127.0.0.1:9081"
    )]
    host: String,
    /// The API token (`api.token` of the server's config).
    #[arg(long, global = true, env = "TRIBUTARY_TOKEN")]
    token: Option<String>,
    /// Print the server's JSON as is.
    #[arg(long, global = true)]
    json: bool,
}

#[derive(Subcommand, Clone)]
pub enum StreamVerb {
    /// Create from a CREATE statement.
    Create { sql: String },
    /// List the names.
    List,
    /// Show the definition.
    Describe { name: String },
    /// Replace the definition with a CREATE statement of the same name.
    Update { name: String, sql: String },
    /// Drop it (refused while a rule reads it).
    Drop { name: String },
}

#[derive(Subcommand, Clone)]
pub enum RuleVerb {
    /// Create from rule JSON: a file, or the JSON itself.
    Create {
        rule: String,
    },
    /// List the rules and their status.
    List,
    /// Show the rule JSON.
    Describe {
        id: String,
    },
    /// Replace a rule with rule JSON (a file or the JSON).
    Update {
        id: String,
        rule: String,
    },
    /// Stop and delete a rule.
    Drop {
        id: String,
    },
    Start {
        id: String,
    },
    Stop {
        id: String,
    },
    Restart {
        id: String,
    },
    /// Status and counters.
    Status {
        id: String,
    },
    /// Sources and stage edges.
    Topo {
        id: String,
    },
    /// What the rule runs.
    Explain {
        id: String,
    },
    /// Run a trial spec (a file) on the server; print its emissions.
    Test {
        spec: PathBuf,
    },
}

#[derive(Subcommand, Clone)]
pub enum PluginVerb {
    /// Install a package: a local zip (uploaded), or a file:// or http(s):// URL the
    /// server fetches. KIND is functions, sources or sinks.
    Install {
        kind: String,
        name: String,
        package: String,
        /// The package's expected sha256 (hex).
        #[arg(long)]
        sha256: Option<String>,
    },
    /// Update an installed plugin from a package.
    Update {
        kind: String,
        name: String,
        package: String,
        #[arg(long)]
        sha256: Option<String>,
    },
    /// List the plugins of a kind.
    List { kind: String },
    /// Show a plugin's tier, version and functions.
    Describe { kind: String, name: String },
    /// Remove a plugin (`--force` while rules use it).
    Drop {
        kind: String,
        name: String,
        #[arg(long)]
        force: bool,
    },
    /// Every plugin function.
    Udfs,
}

#[derive(Subcommand, Clone)]
pub enum ServiceVerb {
    /// Install a service package (a file:// or http(s):// URL of its zip).
    Install {
        name: String,
        url: String,
    },
    /// Replace a service from a package URL.
    Update {
        name: String,
        url: String,
    },
    List,
    /// Show the service file.
    Describe {
        name: String,
    },
    /// Remove a service and its functions.
    Drop {
        name: String,
    },
    /// Every service function.
    Functions,
}

#[derive(Subcommand, Clone)]
pub enum DataVerb {
    /// Print (or write to FILE) everything as a ruleset.
    Export { file: Option<PathBuf> },
    /// Replace everything with the ruleset in FILE (`--partial`: add and replace only).
    Import {
        file: PathBuf,
        #[arg(long)]
        partial: bool,
    },
}

/// One API request: method, path, body.
struct Request {
    method: reqwest::Method,
    path: String,
    body: Option<String>,
}

fn req(method: reqwest::Method, path: impl Into<String>, body: Option<String>) -> Request {
    Request {
        method,
        path: path.into(),
        body,
    }
}

/// A rule given as a path to a file or as the JSON itself.
fn rule_text(arg: &str) -> Result<String, Error> {
    if arg.trim_start().starts_with('{') {
        return Ok(arg.to_string());
    }
    std::fs::read_to_string(arg).map_err(|e| Error::user(format!("cannot read {arg}: {e}")))
}

fn sql_body(sql: &str) -> Option<String> {
    Some(serde_json::json!({ "sql": sql }).to_string())
}

/// Sends one request; returns the body, or the server's error as an error.
async fn send(remote: &Remote, r: Request) -> Result<String, Error> {
    send_body(remote, r, None).await
}

/// Sends a request whose body, when `zip` is given, is that zip.
async fn send_body(remote: &Remote, r: Request, zip: Option<Vec<u8>>) -> Result<String, Error> {
    let url = format!("{}{}", remote.host.trim_end_matches('/'), r.path);
    let mut q = reqwest::Client::new().request(r.method, &url);
    if let Some(t) = &remote.token {
        q = q.bearer_auth(t);
    }
    if let Some(z) = zip {
        q = q.header("content-type", "application/zip").body(z);
    } else if let Some(b) = r.body {
        q = q.header("content-type", "application/json").body(b);
    }
    let resp = q
        .send()
        .await
        .map_err(|e| Error::external(format!("cannot reach {url}: {e}")))?;
    let status = resp.status();
    let text = resp
        .text()
        .await
        .map_err(|e| Error::external(format!("reading the answer of {url}: {e}")))?;
    if status.is_success() {
        return Ok(text);
    }
    let message = serde_json::from_str::<serde_json::Value>(&text)
        .ok()
        .and_then(|v| v["message"].as_str().map(str::to_string))
        .unwrap_or(text);
    Err(Error::user(format!("{message} (HTTP {})", status.as_u16())))
}

/// Prints an answer: text as is, JSON readably (or as is with `--json`).
fn print(remote: &Remote, text: &str) {
    let json = match serde_json::from_str::<serde_json::Value>(text) {
        Ok(v) if !remote.json => v,
        _ => {
            if !text.is_empty() {
                println!("{text}");
            }
            return;
        }
    };
    match &json {
        serde_json::Value::Array(items) if items.iter().all(|i| i.is_string()) => {
            for i in items {
                println!("{}", i.as_str().unwrap_or_default());
            }
        }
        serde_json::Value::Array(items) => {
            for i in items {
                let id = i["id"].as_str().unwrap_or_default();
                let status = i["status"].as_str().unwrap_or_default();
                println!("{id:<24} {status}");
            }
        }
        other => println!(
            "{}",
            serde_json::to_string_pretty(other).unwrap_or_else(|_| other.to_string())
        ),
    }
}

async fn run_one(remote: &Remote, r: Request) -> Result<(), Error> {
    let text = send(remote, r).await?;
    print(remote, &text);
    Ok(())
}

pub async fn stream(remote: Remote, table: bool, verb: StreamVerb) -> Result<(), Error> {
    use reqwest::Method as M;
    let base = if table { "/tables" } else { "/streams" };
    let r = match verb {
        StreamVerb::Create { sql } => req(M::POST, base, sql_body(&sql)),
        StreamVerb::List => req(M::GET, base, None),
        StreamVerb::Describe { name } => req(M::GET, format!("{base}/{name}"), None),
        StreamVerb::Update { name, sql } => req(M::PUT, format!("{base}/{name}"), sql_body(&sql)),
        StreamVerb::Drop { name } => req(M::DELETE, format!("{base}/{name}"), None),
    };
    run_one(&remote, r).await
}

pub async fn rule(remote: Remote, verb: RuleVerb) -> Result<(), Error> {
    use reqwest::Method as M;
    let r = match verb {
        RuleVerb::Create { rule } => req(M::POST, "/rules", Some(rule_text(&rule)?)),
        RuleVerb::List => req(M::GET, "/rules", None),
        RuleVerb::Describe { id } => req(M::GET, format!("/rules/{id}"), None),
        RuleVerb::Update { id, rule } => {
            req(M::PUT, format!("/rules/{id}"), Some(rule_text(&rule)?))
        }
        RuleVerb::Drop { id } => req(M::DELETE, format!("/rules/{id}"), None),
        RuleVerb::Start { id } => req(M::POST, format!("/rules/{id}/start"), None),
        RuleVerb::Stop { id } => req(M::POST, format!("/rules/{id}/stop"), None),
        RuleVerb::Restart { id } => req(M::POST, format!("/rules/{id}/restart"), None),
        RuleVerb::Status { id } => req(M::GET, format!("/rules/{id}/status"), None),
        RuleVerb::Topo { id } => req(M::GET, format!("/rules/{id}/topo"), None),
        RuleVerb::Explain { id } => req(M::GET, format!("/rules/{id}/explain"), None),
        RuleVerb::Test { spec } => {
            let text = std::fs::read_to_string(&spec)
                .map_err(|e| Error::user(format!("cannot read {}: {e}", spec.display())))?;
            let events = send(&remote, req(M::POST, "/ruletest", Some(text))).await?;
            return print_events(&events);
        }
    };
    run_one(&remote, r).await
}

/// The emissions of a rule test's event stream, one per line, as `trial` prints them.
fn print_events(events: &str) -> Result<(), Error> {
    let mut kind = "message";
    for line in events.lines() {
        if let Some(k) = line.strip_prefix("event: ") {
            kind = k;
        } else if let Some(d) = line.strip_prefix("data: ").or(line.strip_prefix("data:")) {
            match kind {
                "error" => return Err(Error::user(d.to_string())),
                "end" => return Ok(()),
                _ => println!("{d}"),
            }
        } else if line.is_empty() {
            kind = "message";
        }
    }
    Ok(())
}

pub async fn data(remote: Remote, verb: DataVerb) -> Result<(), Error> {
    use reqwest::Method as M;
    match verb {
        DataVerb::Export { file } => {
            let text = send(&remote, req(M::GET, "/data/export", None)).await?;
            match file {
                Some(f) => std::fs::write(&f, &text)
                    .map_err(|e| Error::user(format!("cannot write {}: {e}", f.display()))),
                None => {
                    print(&remote, &text);
                    Ok(())
                }
            }
        }
        DataVerb::Import { file, partial } => {
            let content = std::fs::read_to_string(&file)
                .map_err(|e| Error::user(format!("cannot read {}: {e}", file.display())))?;
            let path = if partial {
                "/data/import?partial=1"
            } else {
                "/data/import"
            };
            send(
                &remote,
                req(
                    M::POST,
                    path,
                    Some(serde_json::json!({ "content": content }).to_string()),
                ),
            )
            .await?;
            println!("imported {}", file.display());
            Ok(())
        }
    }
}

/// A package request: a URL the server fetches, or a local zip uploaded.
async fn package_request(
    remote: &Remote,
    method: reqwest::Method,
    path: String,
    name: &str,
    package: &str,
    sha256: Option<String>,
) -> Result<String, Error> {
    if package.contains("://") {
        let body = serde_json::json!({"name": name, "file": package, "sha256": sha256});
        return send(remote, req(method, path, Some(body.to_string()))).await;
    }
    let zip = std::fs::read(package)
        .map_err(|e| Error::user(format!("cannot read the package {package}: {e}")))?;
    let mut query = format!("?name={name}");
    if let Some(h) = sha256 {
        query.push_str(&format!("&sha256={h}"));
    }
    send_body(
        remote,
        req(method, format!("{path}{query}"), None),
        Some(zip),
    )
    .await
}

pub async fn plugin(remote: Remote, verb: PluginVerb) -> Result<(), Error> {
    use reqwest::Method as M;
    let text = match verb {
        PluginVerb::Install {
            kind,
            name,
            package,
            sha256,
        } => {
            package_request(
                &remote,
                M::POST,
                format!("/plugins/{kind}"),
                &name,
                &package,
                sha256,
            )
            .await?
        }
        PluginVerb::Update {
            kind,
            name,
            package,
            sha256,
        } => {
            package_request(
                &remote,
                M::PUT,
                format!("/plugins/{kind}/{name}"),
                &name,
                &package,
                sha256,
            )
            .await?
        }
        PluginVerb::List { kind } => {
            send(&remote, req(M::GET, format!("/plugins/{kind}"), None)).await?
        }
        PluginVerb::Describe { kind, name } => {
            send(
                &remote,
                req(M::GET, format!("/plugins/{kind}/{name}"), None),
            )
            .await?
        }
        PluginVerb::Drop { kind, name, force } => {
            let q = if force { "?force=1" } else { "" };
            send(
                &remote,
                req(M::DELETE, format!("/plugins/{kind}/{name}{q}"), None),
            )
            .await?
        }
        PluginVerb::Udfs => send(&remote, req(M::GET, "/plugins/udfs", None)).await?,
    };
    print(&remote, &text);
    Ok(())
}

pub async fn service(remote: Remote, verb: ServiceVerb) -> Result<(), Error> {
    use reqwest::Method as M;
    let file =
        |name: &str, url: &str| Some(serde_json::json!({"name": name, "file": url}).to_string());
    let r = match verb {
        ServiceVerb::Install { name, url } => req(M::POST, "/services", file(&name, &url)),
        ServiceVerb::Update { name, url } => {
            req(M::PUT, format!("/services/{name}"), file(&name, &url))
        }
        ServiceVerb::List => req(M::GET, "/services", None),
        ServiceVerb::Describe { name } => req(M::GET, format!("/services/{name}"), None),
        ServiceVerb::Drop { name } => req(M::DELETE, format!("/services/{name}"), None),
        ServiceVerb::Functions => req(M::GET, "/services/functions", None),
    };
    run_one(&remote, r).await
}

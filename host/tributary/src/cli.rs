//! `tributary <noun> <verb>`: the REST API from the command line, as eKuiper's `kuiper`
//! CLI does it. Each command is one request to a running server (`--host`, default
//! `http://127.0.0.1:9081`, or `TRIBUTARY_HOST`; the token from `--token` or
//! `TRIBUTARY_TOKEN`, else from `--token-file`, else from `./etc/api-token`, the file
//! a server on the root `.` generates). Every name goes into the URL as one
//! percent-encoded path segment, so a name can never reach another route. Output is
//! readable by default and the server's JSON with `--json`; a refused request prints
//! the server's message and exits with 1.

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
    /// A file holding the token (a server generates `<root>/etc/api-token`).
    #[arg(long, global = true, env = "TRIBUTARY_TOKEN_FILE")]
    token_file: Option<PathBuf>,
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

pub use crate::plugin_verbs::PluginVerb;

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

/// One API request: method, path segments (each encoded on its own), query, body.
struct Request {
    method: reqwest::Method,
    segments: Vec<String>,
    query: Vec<(&'static str, String)>,
    body: Option<String>,
    /// Asks for a job (`Prefer: respond-async`) and follows it: plugin installs.
    job: bool,
}

fn req(method: reqwest::Method, segments: &[&str], body: Option<String>) -> Request {
    Request {
        method,
        segments: segments.iter().map(|s| s.to_string()).collect(),
        query: Vec::new(),
        body,
        job: false,
    }
}

impl Request {
    fn query(mut self, key: &'static str, value: impl Into<String>) -> Self {
        self.query.push((key, value.into()));
        self
    }

    fn followed(mut self) -> Self {
        self.job = true;
        self
    }
}

impl Remote {
    /// The token to send: given, or read from the token file.
    fn token(&self) -> Result<Option<String>, Error> {
        if let Some(t) = &self.token {
            return Ok(Some(t.clone()));
        }
        let (file, must) = match &self.token_file {
            Some(f) => (f.clone(), true),
            None => (PathBuf::from("etc").join("api-token"), false),
        };
        match std::fs::read_to_string(&file) {
            Ok(t) => Ok(Some(t.trim().to_string())),
            Err(e) if must => Err(Error::user(format!(
                "cannot read the token file {}: {e}",
                file.display()
            ))),
            Err(_) => Ok(None),
        }
    }

    /// The URL of a request: the host, then every segment percent-encoded.
    fn url(&self, r: &Request) -> Result<reqwest::Url, Error> {
        let mut url = reqwest::Url::parse(&self.host)
            .map_err(|e| Error::user(format!("--host {}: {e}", self.host)))?;
        {
            let mut path = url
                .path_segments_mut()
                .map_err(|()| Error::user(format!("--host {} cannot take a path", self.host)))?;
            path.pop_if_empty();
            for s in &r.segments {
                path.push(s);
            }
        }
        if !r.query.is_empty() {
            url.query_pairs_mut()
                .extend_pairs(r.query.iter().map(|(k, v)| (*k, v.as_str())));
        }
        Ok(url)
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
    let url = remote.url(&r)?;
    let client = reqwest::Client::new();
    let mut q = client.request(r.method, url.clone());
    let token = remote.token()?;
    if let Some(t) = &token {
        q = q.bearer_auth(t);
    }
    if r.job {
        q = q.header("prefer", "respond-async");
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
    let location = resp
        .headers()
        .get(reqwest::header::LOCATION)
        .and_then(|l| l.to_str().ok())
        .and_then(|l| url.join(l).ok());
    if let (true, reqwest::StatusCode::ACCEPTED, Some(job)) = (r.job, status, location) {
        return crate::install_job::follow(&client, job, token).await;
    }
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
                crate::say!("{text}");
            }
            return;
        }
    };
    match &json {
        serde_json::Value::Array(items) if items.iter().all(|i| i.is_string()) => {
            for i in items {
                crate::say!("{}", i.as_str().unwrap_or_default());
            }
        }
        serde_json::Value::Array(items) => {
            for i in items {
                let id = i["id"].as_str().unwrap_or_default();
                let status = i["status"].as_str().unwrap_or_default();
                crate::say!("{id:<24} {status}");
            }
        }
        other => crate::say!(
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
    let base = if table { "tables" } else { "streams" };
    let r = match verb {
        StreamVerb::Create { sql } => req(M::POST, &[base], sql_body(&sql)),
        StreamVerb::List => req(M::GET, &[base], None),
        StreamVerb::Describe { name } => req(M::GET, &[base, &name], None),
        StreamVerb::Update { name, sql } => req(M::PUT, &[base, &name], sql_body(&sql)),
        StreamVerb::Drop { name } => req(M::DELETE, &[base, &name], None),
    };
    run_one(&remote, r).await
}

pub async fn rule(remote: Remote, verb: RuleVerb) -> Result<(), Error> {
    use reqwest::Method as M;
    let r = match verb {
        RuleVerb::Create { rule } => req(M::POST, &["rules"], Some(rule_text(&rule)?)),
        RuleVerb::List => req(M::GET, &["rules"], None),
        RuleVerb::Describe { id } => req(M::GET, &["rules", &id], None),
        RuleVerb::Update { id, rule } => req(M::PUT, &["rules", &id], Some(rule_text(&rule)?)),
        RuleVerb::Drop { id } => req(M::DELETE, &["rules", &id], None),
        RuleVerb::Start { id } => req(M::POST, &["rules", &id, "start"], None),
        RuleVerb::Stop { id } => req(M::POST, &["rules", &id, "stop"], None),
        RuleVerb::Restart { id } => req(M::POST, &["rules", &id, "restart"], None),
        RuleVerb::Status { id } => req(M::GET, &["rules", &id, "status"], None),
        RuleVerb::Topo { id } => req(M::GET, &["rules", &id, "topo"], None),
        RuleVerb::Explain { id } => req(M::GET, &["rules", &id, "explain"], None),
        RuleVerb::Test { spec } => {
            let text = std::fs::read_to_string(&spec)
                .map_err(|e| Error::user(format!("cannot read {}: {e}", spec.display())))?;
            let events = send(&remote, req(M::POST, &["ruletest"], Some(text))).await?;
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
                _ => crate::say!("{d}"),
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
            let text = send(&remote, req(M::GET, &["data", "export"], None)).await?;
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
            let mut r = req(
                M::POST,
                &["data", "import"],
                Some(serde_json::json!({ "content": content }).to_string()),
            );
            if partial {
                r = r.query("partial", "1");
            }
            send(&remote, r).await?;
            crate::say!("imported {}", file.display());
            Ok(())
        }
    }
}

/// A package request: a URL the server fetches, or a local zip uploaded, or a bare
/// `.wasm` / `.so` packed here first (then `--sha256` is the file's, checked here).
async fn package_request(
    remote: &Remote,
    method: reqwest::Method,
    path: &[&str],
    name: &str,
    package: &str,
    sha256: Option<String>,
) -> Result<String, Error> {
    if package.contains("://") {
        let body = serde_json::json!({"name": name, "file": package, "sha256": sha256});
        return send(remote, req(method, path, Some(body.to_string())).followed()).await;
    }
    if crate::pack::is_bare_plugin(package) {
        let kind = path
            .get(1)
            .and_then(|k| tributary_plugin::PluginKind::parse(k));
        let file = crate::local_plugin::LocalRequest {
            file: PathBuf::from(package),
            kind,
            name: Some(name.to_string()),
            version: None,
        };
        let packed = crate::pack::pack(&file, None)?;
        if let Some(h) = sha256.filter(|h| !h.trim().eq_ignore_ascii_case(&packed.sha256)) {
            return Err(Error::user(format!(
                "{package}: its sha256 is {}, not {h}",
                packed.sha256
            )));
        }
        let r = req(method, path, None).query("name", name).followed();
        return send_body(remote, r, Some(packed.zip)).await;
    }
    let zip = std::fs::read(package)
        .map_err(|e| Error::user(format!("cannot read the package {package}: {e}")))?;
    let mut r = req(method, path, None).query("name", name).followed();
    if let Some(h) = sha256 {
        r = r.query("sha256", h);
    }
    send_body(remote, r, Some(zip)).await
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
                &["plugins", &kind],
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
                &["plugins", &kind, &name],
                &name,
                &package,
                sha256,
            )
            .await?
        }
        PluginVerb::List { kind } => send(&remote, req(M::GET, &["plugins", &kind], None)).await?,
        PluginVerb::Describe { kind, name } => {
            send(&remote, req(M::GET, &["plugins", &kind, &name], None)).await?
        }
        PluginVerb::Drop { kind, name, force } => {
            let mut r = req(M::DELETE, &["plugins", &kind, &name], None);
            if force {
                r = r.query("force", "1");
            }
            send(&remote, r).await?
        }
        PluginVerb::Udfs => send(&remote, req(M::GET, &["plugins", "udfs"], None)).await?,
        PluginVerb::Logs {
            kind,
            name,
            lines,
            follow,
        } => return logs(&remote, &kind, &name, lines, follow).await,
        PluginVerb::Pack {
            file,
            kind,
            name,
            version,
            etc,
            out,
        } => return crate::pack::run(file, kind, name, version, etc, out),
        PluginVerb::Call {
            file,
            function,
            args,
            repeat,
            name,
        } => {
            let req = crate::plugin_call::CallRequest {
                file,
                function,
                args,
                repeat,
                name,
            };
            return crate::plugin_call::run(req).await;
        }
        PluginVerb::Test {
            file,
            specs,
            kind,
            name,
            etc,
        } => {
            let req = crate::plugin_test::TestRequest {
                file,
                specs,
                kind,
                name,
                etc,
            };
            return crate::plugin_test::run(req).await;
        }
        PluginVerb::New {
            name,
            lang,
            kind,
            dir,
        } => {
            return crate::plugin_new::run(crate::plugin_new::NewRequest {
                name,
                lang,
                kind,
                dir,
            })
        }
        PluginVerb::Build { dir } => {
            return tokio::task::spawn_blocking(move || crate::plugin_build::run(dir))
                .await
                .map_err(|e| Error::internal(format!("build: the build task failed: {e}")))?
        }
    };
    print(&remote, &text);
    Ok(())
}

/// `plugin logs`: one line each (`--json`: the server's objects, one per line); with
/// `follow`, asks again every second for the lines after the last one printed.
async fn logs(
    remote: &Remote,
    kind: &str,
    name: &str,
    lines: u32,
    follow: bool,
) -> Result<(), Error> {
    let mut after = 0u64;
    loop {
        let r = req(reqwest::Method::GET, &["plugins", kind, name, "logs"], None)
            .query("lines", lines.to_string())
            .query("after", after.to_string());
        let text = send(remote, r).await?;
        let got: Vec<serde_json::Value> = serde_json::from_str(&text)
            .map_err(|e| Error::external(format!("the server's log lines are not JSON: {e}")))?;
        for l in &got {
            after = after.max(l["seq"].as_u64().unwrap_or(0));
            if remote.json {
                crate::say!("{l}");
                continue;
            }
            let s = |k: &str| l[k].as_str().unwrap_or("").to_string();
            let at = match (s("rule"), s("instance")) {
                (r, i) if r.is_empty() && i.is_empty() => String::new(),
                (r, i) => format!(" rule={r} instance={i}"),
            };
            crate::say!("{} {:5}{at} {}", s("time"), s("level"), s("message"));
        }
        if !follow {
            return Ok(());
        }
        tokio::time::sleep(std::time::Duration::from_secs(1)).await;
    }
}

pub async fn service(remote: Remote, verb: ServiceVerb) -> Result<(), Error> {
    use reqwest::Method as M;
    let file =
        |name: &str, url: &str| Some(serde_json::json!({"name": name, "file": url}).to_string());
    let r = match verb {
        ServiceVerb::Install { name, url } => req(M::POST, &["services"], file(&name, &url)),
        ServiceVerb::Update { name, url } => req(M::PUT, &["services", &name], file(&name, &url)),
        ServiceVerb::List => req(M::GET, &["services"], None),
        ServiceVerb::Describe { name } => req(M::GET, &["services", &name], None),
        ServiceVerb::Drop { name } => req(M::DELETE, &["services", &name], None),
        ServiceVerb::Functions => req(M::GET, &["services", "functions"], None),
    };
    run_one(&remote, r).await
}

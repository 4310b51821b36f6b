//! `/plugins/{sources,sinks,functions}` and `/plugins/udfs`: plugin packages of the
//! wasm and native tiers (the tier comes from the package), installed, updated and
//! removed while rules run.
//!
//! Install from `{"name": "random", "file": "file:///…/random.zip" | "https://…",
//! "sha256": "<optional hex of the zip>"}`, or upload the zip itself as the body
//! (`Content-Type: application/zip`) with `?name=random`.

use crate::error::{only_keys, parse_json, string_field, ApiError, ApiResult};
use crate::ApiState;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use std::sync::Arc;
use tributary_core::Error;

/// The plugin operations, implemented by the binary over the tiers.
pub trait PluginAdmin: Send + Sync {
    /// Installs (or, when installed, updates) plugin `name` of `kind` (`functions`,
    /// `sources`, `sinks`) from a zip. Returns true for an update.
    fn install(&self, kind: &str, name: &str, zip: Vec<u8>) -> Result<bool, Error>;
    fn list(&self, kind: &str) -> Result<Vec<String>, Error>;
    fn describe(&self, kind: &str, name: &str) -> Result<serde_json::Value, Error>;
    /// Removes a plugin; refused while rules use it, unless `force`.
    fn uninstall(&self, kind: &str, name: &str, force: bool) -> Result<(), Error>;
    /// Every plugin function, with its plugin: `(function, plugin)`.
    fn functions(&self) -> Vec<(String, String)>;
    /// The last `lines` log lines of a plugin after line `after`, oldest first; an
    /// error when the plugin is not installed and has none.
    fn logs(
        &self,
        kind: &str,
        name: &str,
        lines: usize,
        after: u64,
    ) -> Result<Vec<serde_json::Value>, Error>;
}

fn admin(s: &ApiState) -> ApiResult<Arc<dyn PluginAdmin>> {
    s.plugins
        .clone()
        .ok_or_else(|| ApiError::not_found("plugin management is not available on this server"))
}

/// Installs a package off the async workers (a compile takes seconds).
async fn install(s: &ApiState, kind: String, name: String, zip: Vec<u8>) -> ApiResult<bool> {
    let admin = admin(s)?;
    Ok(s.offload(crate::Weight::Heavy, move || {
        admin.install(&kind, &name, zip)
    })
    .await??)
}

fn check_kind(kind: &str) -> ApiResult<()> {
    match kind {
        "functions" | "sources" | "sinks" => Ok(()),
        other => Err(ApiError::not_found(format!(
            "no plugin kind {other:?}: sources, sinks or functions"
        ))),
    }
}

#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NameQuery {
    name: Option<String>,
    force: Option<String>,
    sha256: Option<String>,
}

/// The package of a request, and the plugin name it is for.
async fn package(
    s: &ApiState,
    headers: &HeaderMap,
    q: &NameQuery,
    path_name: Option<&str>,
    body: axum::body::Bytes,
) -> ApiResult<(String, Vec<u8>)> {
    let zip_upload = headers
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|c| {
            c.starts_with("application/zip") || c.starts_with("application/octet-stream")
        });
    let (name, bytes, sha) = if zip_upload {
        let name = path_name
            .map(str::to_string)
            .or_else(|| q.name.clone())
            .ok_or_else(|| ApiError::bad_request("an uploaded package needs ?name=<plugin>"))?;
        (name, body.to_vec(), q.sha256.clone())
    } else {
        let text = String::from_utf8(body.to_vec()).map_err(|_| {
            ApiError::bad_request(
                "the body must be JSON, or a zip with Content-Type: application/zip",
            )
        })?;
        let json = parse_json(&text)?;
        only_keys(&json, &["name", "file", "sha256"])?;
        let name = match (path_name, json.get("name")) {
            (Some(p), None) => p.to_string(),
            (Some(p), Some(serde_json::Value::String(n))) if n == p => p.to_string(),
            (Some(p), Some(other)) => {
                return Err(ApiError::bad_request(format!(
                    "the body names {other}, the path {p:?}"
                )))
            }
            (None, _) => string_field(&json, "name")?,
        };
        let file = string_field(&json, "file")?;
        let sha = match json.get("sha256") {
            None | Some(serde_json::Value::Null) => None,
            Some(serde_json::Value::String(h)) => Some(h.clone()),
            Some(other) => {
                return Err(ApiError::bad_request(format!(
                    "\"sha256\" must be a hex string, got {other}"
                )))
            }
        };
        admin(s)?;
        let bytes = crate::fetch::fetch(&s.config, &file, s.config.max_upload_bytes).await?;
        (name, bytes, sha)
    };
    if let Some(want) = sha {
        let got = sha256_hex(&bytes);
        if !got.eq_ignore_ascii_case(want.trim()) {
            return Err(ApiError::bad_request(format!(
                "the package's sha256 is {got}, {want} was expected"
            )));
        }
    }
    Ok((name, bytes))
}

/// The hex SHA-256 of `bytes` (what package manifests and `sha256` fields hold).
pub fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

pub async fn create(
    State(s): State<ApiState>,
    Path(kind): Path<String>,
    Query(q): Query<NameQuery>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> ApiResult<Response> {
    check_kind(&kind)?;
    let (name, zip) = package(&s, &headers, &q, None, body).await?;
    let work = {
        let (s, kind, name) = (s.clone(), kind.clone(), name.clone());
        async move {
            let updated = install(&s, kind.clone(), name.clone(), zip).await?;
            Ok(if updated {
                (StatusCode::OK, format!("{kind} plugin {name} is updated"))
            } else {
                (
                    StatusCode::CREATED,
                    format!("{kind} plugin {name} is created"),
                )
            })
        }
    };
    answer(&s, &headers, "install", &kind, &name, work).await
}

pub async fn update(
    State(s): State<ApiState>,
    Path((kind, name)): Path<(String, String)>,
    Query(q): Query<NameQuery>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> ApiResult<Response> {
    check_kind(&kind)?;
    admin(&s)?.describe(&kind, &name)?;
    let (name, zip) = package(&s, &headers, &q, Some(&name), body).await?;
    let work = {
        let (s, kind, name) = (s.clone(), kind.clone(), name.clone());
        async move {
            install(&s, kind.clone(), name.clone(), zip).await?;
            Ok((StatusCode::OK, format!("{kind} plugin {name} is updated")))
        }
    };
    answer(&s, &headers, "update", &kind, &name, work).await
}

/// The answer of an install: when it is done, or at once with a job when the
/// request says `Prefer: respond-async` ([`crate::jobs`]).
async fn answer(
    s: &ApiState,
    headers: &HeaderMap,
    what: &str,
    kind: &str,
    name: &str,
    work: impl std::future::Future<Output = ApiResult<(StatusCode, String)>> + Send + 'static,
) -> ApiResult<Response> {
    if !crate::jobs::wants_async(headers) {
        return Ok(work.await?.into_response());
    }
    let id = s.jobs.start(what, kind, name);
    let jobs = s.jobs.clone();
    tokio::spawn(async move {
        let (status, message) = match work.await {
            Ok(done) => done,
            Err(e) => (e.status, e.message),
        };
        jobs.finish(id, status, message);
    });
    let location = format!("/plugins/jobs/{id}");
    let job = s.jobs.get(id).unwrap_or_default();
    Ok((
        StatusCode::ACCEPTED,
        [(axum::http::header::LOCATION, location)],
        Json(job),
    )
        .into_response())
}

/// `GET /plugins/jobs/{id}`: how an install answered with 202 is going.
pub async fn job(
    State(s): State<ApiState>,
    Path(id): Path<String>,
) -> ApiResult<Json<serde_json::Value>> {
    id.parse::<u64>()
        .ok()
        .and_then(|n| s.jobs.get(n))
        .map(Json)
        .ok_or_else(|| {
            ApiError::not_found(format!(
                "no install job {:?} (finished jobs are kept a while, not for ever)",
                tributary_core::names::shown(&id)
            ))
        })
}

pub async fn list(
    State(s): State<ApiState>,
    Path(kind): Path<String>,
) -> ApiResult<Json<Vec<String>>> {
    check_kind(&kind)?;
    Ok(Json(admin(&s)?.list(&kind)?))
}

pub async fn describe(
    State(s): State<ApiState>,
    Path((kind, name)): Path<(String, String)>,
) -> ApiResult<Json<serde_json::Value>> {
    check_kind(&kind)?;
    Ok(Json(admin(&s)?.describe(&kind, &name)?))
}

pub async fn drop(
    State(s): State<ApiState>,
    Path((kind, name)): Path<(String, String)>,
    Query(q): Query<NameQuery>,
) -> ApiResult<String> {
    check_kind(&kind)?;
    let force = crate::flag("force", q.force.as_deref())?;
    admin(&s)?.describe(&kind, &name)?;
    if !force {
        let users = users_of(&s, &kind, &name);
        if !users.is_empty() {
            return Err(ApiError::from(Error::Conflict(format!(
                "{kind} plugin {name} is used by rule(s) {}; stop them first or use ?force=1",
                users.join(", ")
            ))));
        }
    }
    admin(&s)?.uninstall(&kind, &name, force)?;
    Ok(format!("{kind} plugin {name} is deleted"))
}

/// The rules that use a source type (through their stream) or a sink type.
fn users_of(s: &ApiState, kind: &str, name: &str) -> Vec<String> {
    let mut out = Vec::new();
    for id in s.engine.rule_ids() {
        let Ok(def) = s.engine.rule_def(&id) else {
            continue;
        };
        let uses = match kind {
            "sinks" => def
                .actions
                .iter()
                .any(|a| a.kind.eq_ignore_ascii_case(name)),
            "sources" => s
                .engine
                .rule_stream(&id)
                .ok()
                .and_then(|st| {
                    s.engine
                        .stream_def(&st, tributary_sql::StreamKind::Stream)
                        .ok()
                })
                .and_then(|d| d.options.source_type)
                .is_some_and(|t| t.eq_ignore_ascii_case(name)),
            // Function plugins count their live instances themselves.
            _ => false,
        };
        if uses {
            out.push(id);
        }
    }
    out
}

pub async fn udfs(State(s): State<ApiState>) -> ApiResult<Json<Vec<String>>> {
    Ok(Json(
        admin(&s)?.functions().into_iter().map(|(f, _)| f).collect(),
    ))
}

pub async fn udf(
    State(s): State<ApiState>,
    Path(name): Path<String>,
) -> ApiResult<Json<serde_json::Value>> {
    admin(&s)?
        .functions()
        .into_iter()
        .find(|(f, _)| f.eq_ignore_ascii_case(&name))
        .map(|(f, p)| Json(serde_json::json!({"name": f, "plugin": p})))
        .ok_or_else(|| ApiError::not_found(format!("function {name} not found")))
}

#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogsQuery {
    lines: Option<String>,
    after: Option<String>,
}

/// `?lines` (default 100) and `?after` (default 0) as numbers.
fn count(key: &str, v: Option<&str>, default: u64) -> ApiResult<u64> {
    match v {
        None => Ok(default),
        Some(t) => t.parse().map_err(|_| {
            ApiError::bad_request(format!(
                "?{key}={:?}: it takes a whole number",
                tributary_core::names::shown(t)
            ))
        }),
    }
}

pub async fn logs(
    State(s): State<ApiState>,
    Path((kind, name)): Path<(String, String)>,
    Query(q): Query<LogsQuery>,
) -> ApiResult<Json<Vec<serde_json::Value>>> {
    check_kind(&kind)?;
    let lines = count("lines", q.lines.as_deref(), 100)?;
    if lines > 1000 {
        return Err(ApiError::bad_request(format!(
            "?lines={lines}: at most 1000 lines are kept per plugin"
        )));
    }
    let lines = lines as usize;
    let after = count("after", q.after.as_deref(), 0)?;
    Ok(Json(admin(&s)?.logs(&kind, &name, lines, after)?))
}

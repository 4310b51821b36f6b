//! `/services` and `/services/functions`: external services from eKuiper's service
//! packages (a zip of `<name>.json` and its `schemas/`), installed, updated and removed
//! while rules run.

use crate::error::{only_keys, parse_json, string_field, ApiError, ApiResult};
use crate::ApiState;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use tributary_core::Error;

/// The service operations, implemented by the binary.
pub trait ServiceAdmin: Send + Sync {
    /// Installs (or replaces) service `name` from its zip; true for an update.
    fn install(&self, name: &str, zip: Vec<u8>) -> Result<bool, Error>;
    fn list(&self) -> Vec<String>;
    fn describe(&self, name: &str) -> Result<serde_json::Value, Error>;
    fn uninstall(&self, name: &str) -> Result<(), Error>;
    /// `{"ServiceName", "InterfaceName", "Addr", "MethodName", "FuncName"}` each.
    fn functions(&self) -> Vec<serde_json::Value>;
}

fn admin(s: &ApiState) -> ApiResult<std::sync::Arc<dyn ServiceAdmin>> {
    s.services
        .clone()
        .ok_or_else(|| ApiError::not_found("service management is not available on this server"))
}

/// Installs a service off the async workers (its protos are compiled).
async fn install(s: &ApiState, name: String, zip: Vec<u8>) -> ApiResult<bool> {
    let admin = admin(s)?;
    Ok(
        s.offload(crate::Weight::Heavy, move || admin.install(&name, zip))
            .await??,
    )
}

/// `{"name", "file"}`: the name (or the path's) and the fetched zip.
async fn package(
    s: &ApiState,
    path_name: Option<&str>,
    body: &str,
) -> ApiResult<(String, Vec<u8>)> {
    let json = parse_json(body)?;
    only_keys(&json, &["name", "file"])?;
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
    Ok((
        name,
        crate::fetch::fetch(&s.config, &file, s.config.max_upload_bytes).await?,
    ))
}

pub async fn create(State(s): State<ApiState>, body: String) -> ApiResult<(StatusCode, String)> {
    admin(&s)?;
    let (name, zip) = package(&s, None, &body).await?;
    if install(&s, name.clone(), zip).await? {
        Ok((StatusCode::OK, format!("service {name} is updated")))
    } else {
        Ok((StatusCode::CREATED, format!("service {name} is created")))
    }
}

pub async fn update(
    State(s): State<ApiState>,
    Path(name): Path<String>,
    body: String,
) -> ApiResult<String> {
    admin(&s)?.describe(&name)?;
    let (name, zip) = package(&s, Some(&name), &body).await?;
    install(&s, name.clone(), zip).await?;
    Ok(format!("service {name} is updated"))
}

pub async fn list(State(s): State<ApiState>) -> ApiResult<Json<Vec<String>>> {
    Ok(Json(admin(&s)?.list()))
}

pub async fn describe(
    State(s): State<ApiState>,
    Path(name): Path<String>,
) -> ApiResult<Json<serde_json::Value>> {
    Ok(Json(admin(&s)?.describe(&name)?))
}

pub async fn drop(State(s): State<ApiState>, Path(name): Path<String>) -> ApiResult<String> {
    admin(&s)?.uninstall(&name)?;
    Ok(format!("service {name} is deleted"))
}

pub async fn functions(State(s): State<ApiState>) -> ApiResult<Json<Vec<serde_json::Value>>> {
    Ok(Json(admin(&s)?.functions()))
}

pub async fn function(
    State(s): State<ApiState>,
    Path(name): Path<String>,
) -> ApiResult<Json<serde_json::Value>> {
    admin(&s)?
        .functions()
        .into_iter()
        .find(|f| {
            f["FuncName"]
                .as_str()
                .is_some_and(|n| n.eq_ignore_ascii_case(&name))
        })
        .map(Json)
        .ok_or_else(|| ApiError::not_found(format!("function {name} not found")))
}

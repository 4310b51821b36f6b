//! `/data/export` and `/data/import`: everything in eKuiper's ruleset format.

use crate::error::{parse_json, ApiError, ApiResult};
use crate::ApiState;
use axum::extract::{Query, State};
use axum::Json;

pub async fn export(State(s): State<ApiState>) -> ApiResult<Json<serde_json::Value>> {
    Ok(Json(s.engine.export()?))
}

#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ImportQuery {
    partial: Option<String>,
}

/// `{"content": "<ruleset JSON text>"}` or `{"file": "file:///path/ruleset.json"}`.
/// The ruleset replaces everything once all of it has been checked; with
/// `?partial=1`, it only adds and replaces the entries it names.
pub async fn import(
    State(s): State<ApiState>,
    Query(q): Query<ImportQuery>,
    body: String,
) -> ApiResult<Json<serde_json::Value>> {
    let body = parse_json(&body)?;
    crate::error::only_keys(&body, &["content", "file"])?;
    let text = match (body.get("content"), body.get("file")) {
        (Some(serde_json::Value::String(c)), None) => c.clone(),
        (Some(serde_json::Value::Object(_)), None) => body["content"].to_string(),
        (None, Some(serde_json::Value::String(f))) => {
            if !f.starts_with("file://") {
                return Err(ApiError::bad_request(format!(
                    "\"file\" must be a file:// URL, got {:?}",
                    tributary_core::names::shown(f)
                )));
            }
            let bytes = crate::fetch::fetch(&s.config, f, s.config.max_upload_bytes).await?;
            String::from_utf8(bytes)
                .map_err(|_| ApiError::bad_request(format!("{f} is not UTF-8 text")))?
        }
        (Some(_), Some(_)) => {
            return Err(ApiError::bad_request(
                "Invalid body: Cannot specify both content and file",
            ))
        }
        _ => {
            return Err(ApiError::bad_request(
                "Invalid body: must specify content (the ruleset JSON) or file (a file:// URL)",
            ))
        }
    };
    let engine = s.engine.clone();
    let partial = crate::flag("partial", q.partial.as_deref())?;
    s.offload_async(crate::Weight::Heavy, async move {
        if partial {
            engine.import_partial(&text).await
        } else {
            engine.import(&text).await
        }
    })
    .await??;
    Ok(Json(serde_json::json!({
        "ErrorMsg": "",
        "ConfigResponse": {"streams": {}, "tables": {}, "rules": {}},
    })))
}

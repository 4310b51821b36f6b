//! `/streams` and `/tables`: create from `{"sql": "CREATE …"}`, list, describe,
//! update, drop. One set of handlers serves both, told apart by the kind.

use crate::error::{only_keys, parse_json, string_field, ApiError, ApiResult};
use crate::ApiState;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::Json;
use tributary_core::schema::{FieldDef, FieldType};
use tributary_sql::{parse_ddl, StreamDef, StreamKind};

fn noun(kind: StreamKind) -> &'static str {
    match kind {
        StreamKind::Table => "Table",
        _ => "Stream",
    }
}

pub async fn create(
    State(s): State<ApiState>,
    kind: StreamKind,
    body: String,
) -> ApiResult<(StatusCode, String)> {
    let json = parse_json(&body)?;
    only_keys(&json, &["sql"])?;
    let sql = string_field(&json, "sql")?;
    let engine = s.engine.clone();
    // Parsing a large statement takes time: off the workers that run the rules.
    let name = s
        .offload(crate::Weight::Light, move || {
            let def = parse_ddl(&sql).map_err(|e| ApiError::bad_request(e.to_string()))?;
            if def.kind != kind {
                return Err(ApiError::bad_request(format!(
                    "the statement creates a {}; use /{}s",
                    noun(def.kind).to_lowercase(),
                    noun(def.kind).to_lowercase()
                )));
            }
            Ok(engine.create_stream(&sql)?)
        })
        .await??;
    Ok((
        StatusCode::CREATED,
        format!("{} {name} is created.", noun(kind)),
    ))
}

/// `?kind=scan|lookup` filters tables by kind (scan includes tables without one).
#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    kind: Option<String>,
}

pub async fn list(
    State(s): State<ApiState>,
    kind: StreamKind,
    Query(q): Query<ListQuery>,
) -> ApiResult<Json<Vec<String>>> {
    let names = s.engine.stream_names(kind);
    let wanted = match q.kind.as_deref().map(str::to_ascii_lowercase) {
        None => return Ok(Json(names)),
        Some(k) if kind == StreamKind::Table && (k == "scan" || k == "lookup") => k,
        Some(k) if kind == StreamKind::Table => {
            return Err(ApiError::bad_request(format!(
                "?kind={:?}: a table is of kind scan or lookup",
                tributary_core::names::shown(&k)
            )))
        }
        Some(_) => {
            return Err(ApiError::bad_request(
                "?kind= filters tables; streams have no kind",
            ))
        }
    };
    Ok(Json(
        names
            .into_iter()
            .filter(|n| {
                let table_kind = s
                    .engine
                    .stream_def(n, kind)
                    .ok()
                    .and_then(|d| d.options.kind)
                    .unwrap_or_else(|| "scan".into())
                    .to_ascii_lowercase();
                table_kind == wanted
            })
            .collect(),
    ))
}

pub async fn describe(
    State(s): State<ApiState>,
    kind: StreamKind,
    Path(name): Path<String>,
) -> ApiResult<Json<serde_json::Value>> {
    Ok(Json(describe_json(&s.engine.stream_def(&name, kind)?)))
}

pub async fn update(
    State(s): State<ApiState>,
    kind: StreamKind,
    Path(name): Path<String>,
    body: String,
) -> ApiResult<String> {
    let json = parse_json(&body)?;
    only_keys(&json, &["sql"])?;
    let sql = string_field(&json, "sql")?;
    let engine = s.engine.clone();
    let n = name.clone();
    s.offload(crate::Weight::Light, move || {
        engine.update_stream(&n, kind, &sql)
    })
    .await??;
    Ok(format!("{} {name} is replaced.", noun(kind)))
}

pub async fn drop(
    State(s): State<ApiState>,
    kind: StreamKind,
    Path(name): Path<String>,
) -> ApiResult<String> {
    s.engine.drop_stream(&name, kind)?;
    Ok(format!("{} {name} is dropped.", noun(kind)))
}

fn field_json(f: &FieldDef) -> serde_json::Value {
    serde_json::json!({"Name": f.name, "FieldType": type_json(&f.ty)})
}

fn type_json(t: &FieldType) -> serde_json::Value {
    match t {
        FieldType::Array(inner) => {
            serde_json::json!({"Type": "array", "ElementType": type_json(inner)})
        }
        FieldType::Struct(fields) => serde_json::json!({
            "Type": "struct",
            "Fields": fields.iter().map(field_json).collect::<Vec<_>>()
        }),
        other => serde_json::json!(other.to_string().to_lowercase()),
    }
}

/// eKuiper's describe shape (as its 1.10+ servers answer): `Name`, `StreamFields`
/// (null when schemaless), `Options` with lower-case keys, `StreamType` (0 a stream,
/// 1 a table), and the statement as written.
pub fn describe_json(d: &StreamDef) -> serde_json::Value {
    let o = &d.options;
    let mut options = serde_json::Map::new();
    let mut put = |k: &str, v: Option<String>| {
        if let Some(v) = v {
            options.insert(k.to_string(), serde_json::json!(v));
        }
    };
    put("datasource", o.datasource.clone());
    put("format", o.format.clone());
    put("type", o.source_type.clone());
    put("conf_key", o.conf_key.clone());
    put("key", o.key.clone());
    put("timestamp", o.timestamp.clone());
    put("timestamp_format", o.timestamp_format.clone());
    put("delimiter", o.delimiter.clone());
    put("schemaid", o.schema_id.clone());
    put("retain_size", o.retain_size.map(|n| n.to_string()));
    put("kind", o.kind.clone());
    if o.shared {
        put("shared", Some("true".into()));
    }
    if o.strict_validation {
        put("strict_validation", Some("true".into()));
    }
    serde_json::json!({
        "Name": d.name,
        "StreamFields": d.schema.as_ref().map(|s| s.fields.iter().map(field_json).collect::<Vec<_>>()),
        "Options": options,
        "StreamType": u8::from(d.kind == StreamKind::Table),
        "Statement": d.statement,
    })
}

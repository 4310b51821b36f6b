//! `/rules`: create from rule JSON, list, describe, update, drop, start, stop,
//! restart, status, topology and plan.

use crate::error::{ApiError, ApiResult};
use crate::ApiState;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use tributary_core::connection::ConnectionSnapshot;
use tributary_engine::engine::RuleStatus;
use tributary_engine::metrics::{MetricsSnapshot, SinkSnapshot};
use tributary_engine::RuleDef;

pub async fn create(State(s): State<ApiState>, body: String) -> ApiResult<(StatusCode, String)> {
    let def = RuleDef::parse(&body)?;
    let id = def.id.clone();
    let engine = s.engine.clone();
    let _g = s.engine.lock_rule(&id).await;
    // Building a rule plans its SQL and instantiates its plugins: off the workers.
    s.offload(crate::Weight::Light, move || engine.create_rule(def))
        .await??;
    Ok((
        StatusCode::CREATED,
        format!("Rule {id} was created successfully."),
    ))
}

/// eKuiper's status words.
pub fn status_text(st: &RuleStatus) -> String {
    match st {
        RuleStatus::Running => "running".into(),
        RuleStatus::Stopped => "Stopped: canceled manually.".into(),
        RuleStatus::Finished => "Stopped: the source ended.".into(),
        RuleStatus::Failed(e) => format!("Stopped: {e}."),
    }
}

pub async fn list(State(s): State<ApiState>) -> Json<Vec<serde_json::Value>> {
    let out = s
        .engine
        .rule_statuses()
        .into_iter()
        .map(|(id, st, _)| {
            let name = s
                .engine
                .rule_def(&id)
                .ok()
                .and_then(|d| d.name)
                .unwrap_or_default();
            serde_json::json!({"id": id, "name": name, "status": status_text(&st)})
        })
        .collect();
    Json(out)
}

pub async fn describe(
    State(s): State<ApiState>,
    Path(id): Path<String>,
) -> ApiResult<Json<serde_json::Value>> {
    Ok(Json(s.engine.rule_def(&id)?.raw))
}

pub async fn update(
    State(s): State<ApiState>,
    Path(id): Path<String>,
    body: String,
) -> ApiResult<String> {
    let mut json = crate::error::parse_json(&body)?;
    // The id comes from the path; a body naming another is a mistake.
    match json.get("id") {
        None => {
            if let Some(o) = json.as_object_mut() {
                o.insert("id".into(), serde_json::json!(id));
            }
        }
        Some(serde_json::Value::String(b)) if *b == id => {}
        Some(other) => {
            return Err(ApiError::bad_request(format!(
                "the body's id {other} is not the rule {id} of the path"
            )))
        }
    }
    let def = RuleDef::from_json(json)?;
    let engine = s.engine.clone();
    s.offload_async(crate::Weight::Light, async move {
        engine.update_rule(def).await
    })
    .await??;
    Ok(format!("Rule {id} was updated successfully."))
}

pub async fn drop(State(s): State<ApiState>, Path(id): Path<String>) -> ApiResult<String> {
    s.engine.delete_rule(&id).await?;
    Ok(format!("Rule {id} is dropped."))
}

pub async fn start(State(s): State<ApiState>, Path(id): Path<String>) -> ApiResult<String> {
    let _g = s.engine.lock_rule(&id).await;
    let engine = s.engine.clone();
    let rule = id.clone();
    s.offload(crate::Weight::Light, move || engine.start_rule(&rule))
        .await??;
    Ok(format!("Rule {id} was started"))
}

pub async fn stop(State(s): State<ApiState>, Path(id): Path<String>) -> ApiResult<String> {
    s.engine.stop_rule(&id).await?;
    Ok(format!("Rule {id} was stopped."))
}

pub async fn restart(State(s): State<ApiState>, Path(id): Path<String>) -> ApiResult<String> {
    s.engine.restart_rule(&id).await?;
    Ok(format!("Rule {id} was restarted"))
}

/// The counters of a rule as `/rules/{id}/status` shows them.
pub fn status_json(
    st: &RuleStatus,
    stream: &str,
    m: &MetricsSnapshot,
    (last_error, last_error_ms): &(String, i64),
    connections: &[(String, ConnectionSnapshot)],
    sinks: &[(String, SinkSnapshot)],
) -> serde_json::Value {
    if !matches!(st, RuleStatus::Running) {
        return serde_json::json!({"status": "stopped", "message": status_text(st)});
    }
    let mut v = serde_json::json!({
        "status": status_text(st),
        "lastStartTimestamp": m.last_start_ms.to_string(),
        "records_in_total": m.records_in,
        "records_out_total": m.records_out,
        "errors_total": m.errors,
        // Why rows fail, beside how many: the last row error (a plugin's trap
        // carries what the guest wrote before it).
        "last_exception": last_error,
        "last_exception_time": last_error_ms,
        "emissions_total": m.emissions,
        "sink_failures_total": m.sink_failures,
        "sink_held_total": m.sink_held,
        "sink_exceptions_total": m.sink_exceptions,
        "records_filtered_total": m.filtered,
        "restarts_total": m.restarts,
        "process_latency_us": m.process_latency_us,
        "batches_total": m.batches,
        "last_emit_ms": m.last_emit_ms,
    });
    // eKuiper's per-node keys, for tools that read them.
    if let Some(o) = v.as_object_mut() {
        o.insert(
            format!("source_{stream}_0_records_in_total"),
            m.records_in.into(),
        );
        o.insert(
            format!("source_{stream}_0_records_out_total"),
            m.records_in.into(),
        );
        // Each sink: eKuiper's node keys, and whether it is delivering now (a sink
        // that cannot deliver holds its messages and says so here).
        for (node, s) in sinks {
            o.insert(format!("{node}_records_out_total"), s.delivered.into());
            o.insert(format!("{node}_exceptions_total"), s.exceptions.into());
            o.insert(
                format!("{node}_last_exception"),
                s.last_exception.clone().into(),
            );
            o.insert(
                format!("{node}_last_exception_time"),
                s.last_exception_ms.into(),
            );
            let state = if s.failing { "failing" } else { "delivering" };
            o.insert(format!("{node}_state"), state.into());
        }
        if sinks.iter().any(|(_, s)| s.failing) {
            o.insert("sink_state".into(), "failing".into());
        }
        // Connectors that keep a connection (MQTT): eKuiper's keys, status 1
        // connected, 0 connecting, -1 disconnected.
        for (node, c) in connections {
            o.insert(format!("{node}_connection_status"), c.status.into());
            o.insert(
                format!("{node}_connection_last_connected_time"),
                c.last_connected_ms.into(),
            );
            o.insert(
                format!("{node}_connection_last_disconnected_time"),
                c.last_disconnected_ms.into(),
            );
            o.insert(
                format!("{node}_connection_last_disconnected_message"),
                c.last_error.clone().into(),
            );
            o.insert(
                format!("{node}_connection_disconnections_total"),
                c.disconnections.into(),
            );
        }
    }
    v
}

pub async fn status(
    State(s): State<ApiState>,
    Path(id): Path<String>,
) -> ApiResult<Json<serde_json::Value>> {
    let (st, m) = s.engine.rule_status(&id)?;
    let stream = s.engine.rule_stream(&id).unwrap_or_default();
    let connections = s.engine.rule_connections(&id)?;
    let sinks = s.engine.rule_sinks(&id)?;
    let last_error = s.engine.rule_last_error(&id)?;
    Ok(Json(status_json(
        &st,
        &stream,
        &m,
        &last_error,
        &connections,
        &sinks,
    )))
}

pub async fn topo(
    State(s): State<ApiState>,
    Path(id): Path<String>,
) -> ApiResult<Json<serde_json::Value>> {
    Ok(Json(s.engine.rule_topo(&id)?))
}

pub async fn explain(
    State(s): State<ApiState>,
    Path(id): Path<String>,
) -> ApiResult<Json<serde_json::Value>> {
    Ok(Json(s.engine.rule_explain(&id)?))
}

//! The OpenAPI document served at `/openapi.json`, made from the same route table the
//! router is checked against (`tests` call every route it lists).

/// Every route: method, path (OpenAPI `{param}` syntax), summary.
pub const ROUTES: &[(&str, &str, &str)] = &[
    ("get", "/ping", "Liveness: 200 with an empty body"),
    ("get", "/openapi.json", "This document"),
    (
        "get",
        "/metrics",
        "Prometheus text of rule and plugin counters",
    ),
    (
        "post",
        "/streams",
        "Create a stream from {\"sql\": \"CREATE STREAM …\"}",
    ),
    ("get", "/streams", "The stream names"),
    ("get", "/streams/{name}", "Describe a stream"),
    (
        "put",
        "/streams/{name}",
        "Replace a stream's definition with {\"sql\": …}",
    ),
    ("delete", "/streams/{name}", "Drop a stream no rule uses"),
    (
        "post",
        "/tables",
        "Create a table from {\"sql\": \"CREATE TABLE …\"}",
    ),
    ("get", "/tables", "The table names"),
    ("get", "/tables/{name}", "Describe a table"),
    (
        "put",
        "/tables/{name}",
        "Replace a table's definition with {\"sql\": …}",
    ),
    ("delete", "/tables/{name}", "Drop a table no rule uses"),
    ("post", "/rules", "Create a rule from rule JSON"),
    ("get", "/rules", "The rules with their status"),
    ("get", "/rules/{id}", "The rule JSON"),
    ("put", "/rules/{id}", "Replace a rule"),
    (
        "delete",
        "/rules/{id}",
        "Stop and delete a rule and its state",
    ),
    ("post", "/rules/{id}/start", "Start a rule"),
    ("post", "/rules/{id}/stop", "Stop a rule"),
    ("post", "/rules/{id}/restart", "Restart a rule"),
    ("get", "/rules/{id}/status", "A rule's status and counters"),
    (
        "get",
        "/rules/{id}/topo",
        "A rule's sources and stage edges",
    ),
    ("get", "/rules/{id}/explain", "What a rule runs"),
    (
        "post",
        "/ruletest",
        "Run a trial spec; results as server-sent events",
    ),
    (
        "post",
        "/plugins/{kind}",
        "Install a plugin package (kind: functions, sources, sinks)",
    ),
    ("get", "/plugins/{kind}", "The plugins of a kind"),
    (
        "get",
        "/plugins/{kind}/{name}",
        "A plugin's tier, version and functions",
    ),
    (
        "put",
        "/plugins/{kind}/{name}",
        "Update a plugin from a package",
    ),
    (
        "delete",
        "/plugins/{kind}/{name}",
        "Remove a plugin (?force=1 while rules use it)",
    ),
    ("get", "/plugins/udfs", "Every plugin function"),
    ("get", "/plugins/udfs/{name}", "The plugin of a function"),
    (
        "post",
        "/services",
        "Install a service package {\"name\", \"file\"}",
    ),
    ("get", "/services", "The services"),
    ("get", "/services/{name}", "A service file"),
    (
        "put",
        "/services/{name}",
        "Replace a service from a package",
    ),
    (
        "delete",
        "/services/{name}",
        "Remove a service and its functions",
    ),
    ("get", "/services/functions", "Every service function"),
    ("get", "/services/functions/{name}", "One service function"),
    ("get", "/data/export", "Everything as an eKuiper ruleset"),
    (
        "post",
        "/data/import",
        "Replace everything with a ruleset {\"content\": …} or {\"file\": \"file://…\"}",
    ),
];

/// The document.
pub fn document() -> serde_json::Value {
    let mut paths = serde_json::Map::new();
    for (method, path, summary) in ROUTES {
        let entry = paths
            .entry(path.to_string())
            .or_insert_with(|| serde_json::json!({}));
        let params: Vec<serde_json::Value> = path
            .split('/')
            .filter_map(|seg| seg.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
            .map(|p| serde_json::json!({"name": p, "in": "path", "required": true, "schema": {"type": "string"}}))
            .collect();
        entry[*method] = serde_json::json!({
            "summary": summary,
            "parameters": params,
            "responses": {
                "200": {"description": "done"},
                "400": {"description": "bad body or SQL", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
                "401": {"description": "missing or wrong bearer token"},
                "404": {"description": "unknown name or id"},
                "409": {"description": "the name is taken or in use"}
            }
        });
    }
    serde_json::json!({
        "openapi": "3.0.3",
        "info": {"title": "Tributary management API", "version": env!("CARGO_PKG_VERSION")},
        "paths": paths,
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": {"Error": {"type": "object", "properties": {"error": {"type": "string"}, "message": {"type": "string"}}, "required": ["error", "message"]}}
        },
        "security": [{"bearer": []}]
    })
}

//! The OpenAPI document served at `/openapi.json`: every route with its request body,
//! its answers and their schemas, and whether it needs the token. The router is built
//! from the same paths, a test calls every route it lists, and another runs
//! schemathesis against it.

use serde_json::{json, Value};

/// What a route takes as its body.
#[derive(Debug, Clone, Copy)]
pub enum Body {
    None,
    /// A JSON body of the named component schema.
    Json(&'static str),
    /// A plugin package: JSON `{name, file, sha256}`, or the zip itself.
    Package,
}

/// What a route answers on success.
#[derive(Debug, Clone, Copy)]
pub enum Answer {
    /// `(status, text)`: eKuiper's plain-text confirmations.
    Text(u16),
    /// `(status, component schema)`.
    Json(u16, &'static str),
    /// Server-sent events.
    Events,
    /// Prometheus text.
    Metrics,
}

/// One route of the API.
#[derive(Debug, Clone, Copy)]
pub struct Route {
    pub method: &'static str,
    /// OpenAPI `{param}` syntax, as the router writes it.
    pub path: &'static str,
    pub summary: &'static str,
    pub body: Body,
    pub answer: Answer,
    /// Reachable without the token (`api.openPaths`' defaults).
    pub open: bool,
    /// Query parameters: `(name, schema)`.
    pub query: &'static [(&'static str, &'static str)],
}

const fn route(
    method: &'static str,
    path: &'static str,
    summary: &'static str,
    body: Body,
    answer: Answer,
) -> Route {
    Route {
        method,
        path,
        summary,
        body,
        answer,
        open: false,
        query: &[],
    }
}

use Answer::{Events, Json as J, Metrics, Text};
use Body::{Json as B, None as N, Package};

/// Every route.
pub const ROUTES: &[Route] = &[
    Route {
        open: true,
        ..route(
            "get",
            "/ping",
            "Liveness: 200 with an empty body",
            N,
            Text(200),
        )
    },
    Route {
        open: true,
        ..route("get", "/openapi.json", "This document", N, J(200, "Object"))
    },
    Route {
        open: true,
        ..route(
            "get",
            "/metrics",
            "Prometheus text of rule and plugin counters",
            N,
            Metrics,
        )
    },
    route(
        "post",
        "/streams",
        "Create a stream from {\"sql\": \"CREATE STREAM …\"}",
        B("Sql"),
        Text(201),
    ),
    route("get", "/streams", "The stream names", N, J(200, "Names")),
    route(
        "get",
        "/streams/{name}",
        "Describe a stream",
        N,
        J(200, "StreamDescription"),
    ),
    route(
        "put",
        "/streams/{name}",
        "Replace a stream's definition with {\"sql\": …}",
        B("Sql"),
        Text(200),
    ),
    route(
        "delete",
        "/streams/{name}",
        "Drop a stream no rule uses",
        N,
        Text(200),
    ),
    route(
        "post",
        "/tables",
        "Create a table from {\"sql\": \"CREATE TABLE …\"}",
        B("Sql"),
        Text(201),
    ),
    Route {
        query: &[("kind", "TableKind")],
        ..route(
            "get",
            "/tables",
            "The table names (of one kind with ?kind=)",
            N,
            J(200, "Names"),
        )
    },
    route(
        "get",
        "/tables/{name}",
        "Describe a table",
        N,
        J(200, "StreamDescription"),
    ),
    route(
        "put",
        "/tables/{name}",
        "Replace a table's definition with {\"sql\": …}",
        B("Sql"),
        Text(200),
    ),
    route(
        "delete",
        "/tables/{name}",
        "Drop a table no rule uses",
        N,
        Text(200),
    ),
    route(
        "post",
        "/rules",
        "Create a rule from rule JSON",
        B("Rule"),
        Text(201),
    ),
    route(
        "get",
        "/rules",
        "The rules with their status",
        N,
        J(200, "RuleList"),
    ),
    route("get", "/rules/{id}", "The rule JSON", N, J(200, "Object")),
    route(
        "put",
        "/rules/{id}",
        "Replace a rule",
        B("RuleUpdate"),
        Text(200),
    ),
    route(
        "delete",
        "/rules/{id}",
        "Stop and delete a rule and its state",
        N,
        Text(200),
    ),
    route("post", "/rules/{id}/start", "Start a rule", N, Text(200)),
    route("post", "/rules/{id}/stop", "Stop a rule", N, Text(200)),
    route(
        "post",
        "/rules/{id}/restart",
        "Restart a rule",
        N,
        Text(200),
    ),
    route(
        "get",
        "/rules/{id}/status",
        "A rule's status and counters",
        N,
        J(200, "RuleStatus"),
    ),
    route(
        "get",
        "/rules/{id}/topo",
        "A rule's sources and stage edges",
        N,
        J(200, "Topo"),
    ),
    route(
        "get",
        "/rules/{id}/explain",
        "What a rule runs",
        N,
        J(200, "Object"),
    ),
    route(
        "post",
        "/ruletest",
        "Run a trial spec; results as server-sent events",
        B("TrialSpec"),
        Events,
    ),
    Route {
        query: &[("name", "Name"), ("sha256", "Sha256")],
        ..route(
            "post",
            "/plugins/{kind}",
            "Install a plugin package (kind: functions, sources, sinks)",
            Package,
            Text(201),
        )
    },
    route(
        "get",
        "/plugins/{kind}",
        "The plugins of a kind",
        N,
        J(200, "Names"),
    ),
    route(
        "get",
        "/plugins/{kind}/{name}",
        "A plugin's tier, version, functions and status",
        N,
        J(200, "Plugin"),
    ),
    Route {
        query: &[("sha256", "Sha256")],
        ..route(
            "put",
            "/plugins/{kind}/{name}",
            "Update a plugin from a package",
            Package,
            Text(200),
        )
    },
    Route {
        query: &[("force", "Flag")],
        ..route(
            "delete",
            "/plugins/{kind}/{name}",
            "Remove a plugin (?force=1 while rules use it)",
            N,
            Text(200),
        )
    },
    Route {
        query: &[("lines", "Count"), ("after", "Count")],
        ..route(
            "get",
            "/plugins/{kind}/{name}/logs",
            "A plugin's recent log lines, oldest first (?lines, default 100; ?after=SEQ)",
            N,
            J(200, "LogLines"),
        )
    },
    route(
        "get",
        "/plugins/jobs/{id}",
        "An install or update answered 202 (sent with Prefer: respond-async): running, done or failed",
        N,
        J(200, "Job"),
    ),
    route(
        "get",
        "/plugins/udfs",
        "Every plugin function",
        N,
        J(200, "Names"),
    ),
    route(
        "get",
        "/plugins/udfs/{name}",
        "The plugin of a function",
        N,
        J(200, "Udf"),
    ),
    route(
        "post",
        "/services",
        "Install a service package {\"name\", \"file\"}",
        B("ServicePackage"),
        Text(201),
    ),
    route("get", "/services", "The services", N, J(200, "Names")),
    route(
        "get",
        "/services/{name}",
        "A service file",
        N,
        J(200, "Object"),
    ),
    route(
        "put",
        "/services/{name}",
        "Replace a service from a package",
        B("ServiceFile"),
        Text(200),
    ),
    route(
        "delete",
        "/services/{name}",
        "Remove a service and its functions",
        N,
        Text(200),
    ),
    route(
        "get",
        "/services/functions",
        "Every service function",
        N,
        J(200, "ServiceFunctions"),
    ),
    route(
        "get",
        "/services/functions/{name}",
        "One service function",
        N,
        J(200, "Object"),
    ),
    route(
        "get",
        "/data/export",
        "Everything as an eKuiper ruleset",
        N,
        J(200, "Ruleset"),
    ),
    Route {
        query: &[("partial", "Flag")],
        ..route(
            "post",
            "/data/import",
            "Replace everything with a ruleset {\"content\": …} or {\"file\": \"file://…\"}",
            B("Import"),
            J(200, "ImportResult"),
        )
    },
];

/// Whether `method` on the literal path `path` is a route.
pub fn has_route(method: &str, path: &str) -> bool {
    ROUTES
        .iter()
        .any(|r| r.path == path && r.method.eq_ignore_ascii_case(method))
}

/// The error statuses any route may answer, with when.
const ERRORS: &[(u16, &str)] = &[
    (
        400,
        "a bad body, query, SQL or rule; the message says where",
    ),
    (403, "a foreign Host or Origin"),
    (404, "an unknown name or id"),
    (409, "the name is taken, or it is in use"),
    (413, "the body is over the route's limit"),
    (414, "the request target is too long"),
    (415, "the body is not JSON (or a zip, for packages)"),
    (500, "a bug"),
    (502, "the state store or another outside resource failed"),
];

fn error_response(why: &str) -> Value {
    json!({"description": why, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}})
}

fn ok_response(a: Answer) -> (String, Value) {
    let text = |d: &str| json!({"description": d, "content": {"text/plain": {"schema": {"type": "string"}}}});
    match a {
        Answer::Text(s) => (s.to_string(), text("done; eKuiper's confirmation text")),
        Answer::Metrics => ("200".into(), text("Prometheus text format")),
        Answer::Events => (
            "200".into(),
            json!({"description": "one `data:` event per emission, then `end` or `error`",
                   "content": {"text/event-stream": {"schema": {"type": "object",
                       "properties": {"event": {"type": "string"}, "data": {"type": "string"}}}}}}),
        ),
        Answer::Json(s, schema) => (
            s.to_string(),
            json!({"description": "done",
                   "content": {"application/json": {"schema": {"$ref": format!("#/components/schemas/{schema}")}}}}),
        ),
    }
}

fn request_body(b: Body) -> Option<Value> {
    let json_of =
        |schema: &str| json!({"schema": {"$ref": format!("#/components/schemas/{schema}")}});
    match b {
        Body::None => None,
        Body::Json(schema) => {
            Some(json!({"required": true, "content": {"application/json": json_of(schema)}}))
        }
        Body::Package => Some(json!({"required": true, "content": {
            "application/json": json_of("PackageRef"),
            "application/zip": {"schema": {"type": "string", "format": "binary"}},
        }})),
    }
}

fn operation(r: &Route) -> Value {
    let mut params: Vec<Value> = r
        .path
        .split('/')
        .filter_map(|seg| seg.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
        .map(|p| {
            let schema = if p == "kind" { "PluginKind" } else { "Name" };
            json!({"name": p, "in": "path", "required": true, "schema": {"$ref": format!("#/components/schemas/{schema}")}})
        })
        .collect();
    params.extend(r.query.iter().map(|(name, schema)| {
        json!({"name": name, "in": "query", "required": false, "schema": {"$ref": format!("#/components/schemas/{schema}")}})
    }));
    let mut responses = serde_json::Map::new();
    let (status, ok) = ok_response(r.answer);
    responses.insert(status, ok);
    for (code, why) in ERRORS {
        responses.insert(code.to_string(), error_response(why));
    }
    if !r.open {
        responses.insert("401".into(), error_response("no token, or the wrong one"));
    }
    let mut op = json!({
        "summary": r.summary,
        "operationId": format!("{}{}", r.method, r.path.replace(['/', '{', '}', '.'], "_")),
        "parameters": params,
        "responses": responses,
    });
    if r.open {
        op["security"] = json!([]);
    }
    if let Some(b) = request_body(r.body) {
        op["requestBody"] = b;
    }
    op
}

fn schemas() -> Value {
    let string = json!({"type": "string"});
    json!({
        "Error": {"type": "object", "properties": {"error": string, "message": string},
                  "required": ["error", "message"], "additionalProperties": false},
        "Object": {"type": "object"},
        "Names": {"type": "array", "items": string},
        "Name": {"type": "string", "minLength": 1, "maxLength": 255},
        "PluginKind": {"type": "string", "enum": ["functions", "sources", "sinks"]},
        "TableKind": {"type": "string", "enum": ["scan", "lookup"]},
        "Flag": {"type": "string", "enum": ["0", "1", "true", "false"]},
        "Sha256": {"type": "string", "pattern": "^[0-9a-fA-F]{64}$"},
        "Sql": {"type": "object", "properties": {"sql": {"type": "string", "maxLength": 1_048_576}},
                "required": ["sql"], "additionalProperties": false},
        "Rule": {
            "type": "object",
            "description": "eKuiper's rule JSON",
            "properties": {
                "id": {"$ref": "#/components/schemas/Name"},
                "name": string,
                "sql": {"type": "string", "minLength": 1},
                "actions": {"type": "array", "items": {"type": "object"}},
                "options": {"type": "object"},
                "triggered": {"type": "boolean"},
                "tags": {"type": "array", "items": string},
            },
            "required": ["id", "sql"],
            "additionalProperties": false,
        },
        "RuleUpdate": {
            "type": "object",
            "description": "eKuiper's rule JSON; the id, if given, must be the path's",
            "properties": {
                "id": {"$ref": "#/components/schemas/Name"},
                "name": string,
                "sql": {"type": "string", "minLength": 1},
                "actions": {"type": "array", "items": {"type": "object"}},
                "options": {"type": "object"},
                "triggered": {"type": "boolean"},
                "tags": {"type": "array", "items": string},
            },
            "required": ["sql"],
            "additionalProperties": false,
        },
        "RuleList": {"type": "array", "items": {"type": "object",
            "properties": {"id": string, "name": string, "status": string},
            "required": ["id", "name", "status"]}},
        "RuleStatus": {"type": "object", "properties": {"status": string}, "required": ["status"]},
        "Topo": {"type": "object", "properties": {"sources": {"type": "array", "items": string}, "edges": {"type": "object"}},
                 "required": ["sources", "edges"]},
        "StreamDescription": {"type": "object", "properties": {
            "Name": string, "StreamFields": {"type": "array", "nullable": true}, "Options": {"type": "object"},
            "StreamType": {"type": "integer"}, "Statement": string},
            "required": ["Name", "StreamFields", "Options", "StreamType", "Statement"]},
        "TrialSpec": {"type": "object", "description": "a trial spec (docs/trial.md)",
            "properties": {"id": string, "sql": string, "streams": {"type": "array", "items": string},
                           "options": {"type": "object"}, "mockSource": {"type": "object"}},
            "required": ["sql"]},
        "PackageRef": {"type": "object", "properties": {
            "name": {"$ref": "#/components/schemas/Name"},
            "file": {"type": "string", "description": "a file://, http:// or https:// URL of the zip"},
            "sha256": {"$ref": "#/components/schemas/Sha256"}},
            "required": ["file"], "additionalProperties": false},
        "Plugin": {"type": "object", "properties": {"name": string, "tier": string, "contract": string, "status": {"type": "string", "enum": ["loaded", "failed"]}},
                   "required": ["name", "tier", "status"]},
        "Count": {"type": "string", "pattern": "^[0-9]{1,18}$"},
        "Job": {"type": "object", "properties": {
            "id": {"type": "integer"}, "what": string, "kind": string, "name": string,
            "status": {"type": "string", "enum": ["running", "done", "failed"]},
            "elapsedMs": {"type": "integer"}, "httpStatus": {"type": "integer"}, "message": string},
            "required": ["id", "what", "kind", "name", "status", "elapsedMs"]},
        "LogLines": {"type": "array", "items": {"type": "object", "properties": {
            "seq": {"type": "integer"}, "time": string, "level": string, "kind": string,
            "rule": string, "instance": string, "message": string},
            "required": ["seq", "time", "level", "message"]}},
        "Udf": {"type": "object", "properties": {"name": string, "plugin": string}, "required": ["name", "plugin"]},
        "ServicePackage": {"type": "object", "properties": {
            "name": {"$ref": "#/components/schemas/Name"}, "file": string},
            "required": ["name", "file"], "additionalProperties": false},
        "ServiceFile": {"type": "object", "properties": {
            "name": {"$ref": "#/components/schemas/Name"}, "file": string},
            "required": ["file"], "additionalProperties": false},
        "ServiceFunctions": {"type": "array", "items": {"type": "object"}},
        "Ruleset": {"type": "object", "properties": {"streams": {"type": "object"}, "tables": {"type": "object"}, "rules": {"type": "object"}},
                    "required": ["streams", "tables", "rules"]},
        "Import": {"type": "object", "properties": {
            "content": {"description": "the ruleset, as JSON text or an object"},
            "file": {"type": "string", "description": "a file:// URL of the ruleset"}},
            "additionalProperties": false},
        "ImportResult": {"type": "object", "properties": {"ErrorMsg": string, "ConfigResponse": {"type": "object"}},
                         "required": ["ErrorMsg", "ConfigResponse"]},
    })
}

/// The document.
pub fn document() -> Value {
    let mut paths = serde_json::Map::new();
    for r in ROUTES {
        let entry = paths.entry(r.path.to_string()).or_insert_with(|| json!({}));
        entry[r.method] = operation(r);
    }
    json!({
        "openapi": "3.0.3",
        "info": {"title": "Tributary management API", "version": env!("CARGO_PKG_VERSION")},
        "paths": paths,
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": schemas(),
        },
        "security": [{"bearer": []}]
    })
}

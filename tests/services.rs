//! Real services for the external-function tests: a REST server (axum) and a gRPC
//! server (tonic, messages built at run time from the example root's `.proto` files),
//! each on a free loopback port. They implement eKuiper's sample schemas
//! (`hw.proto`, `http_bookstore.proto`, `http_messaging.proto`) and `policies.proto`.

use axum::extract::{Path as UrlPath, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get, post, put};
use axum::{Json, Router};
use prost_reflect::{DescriptorPool, DynamicMessage, MethodDescriptor, Value as Pv};
use serde_json::{json, Value as J};
use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tributary_external::codec::DynamicCodec;

/// Running services; they stop with the runtime when this is dropped.
pub struct Services {
    pub rest: SocketAddr,
    pub grpc: SocketAddr,
    _rt: tokio::runtime::Runtime,
}

#[derive(Default)]
struct RestState {
    status: AtomicBool,
    flaky: Mutex<HashMap<String, u32>>,
    in_flight: AtomicI64,
    max_in_flight: AtomicI64,
}

type St = State<Arc<RestState>>;

fn s(v: &J, k: &str) -> String {
    v.get(k).and_then(J::as_str).unwrap_or_default().to_string()
}

async fn say_hello(Json(b): Json<J>) -> Json<J> {
    Json(json!({"message": s(&b, "name")}))
}

async fn object_detection(Json(b): Json<J>) -> Response {
    let img = s(&b, "base64_img");
    if img.is_empty() {
        return (StatusCode::BAD_REQUEST, "base64_img is required").into_response();
    }
    let cmd = s(&b, "cmd");
    Json(json!({"image": img, "result": format!("{cmd} success"), "type": "S"})).into_response()
}

async fn get_status(State(st): St) -> String {
    // Alternates true, false, true… (text/plain), as eKuiper's mock does.
    let prev = st.status.fetch_xor(true, Ordering::SeqCst);
    (!prev).to_string()
}

async fn encoded_json(body: String) -> String {
    serde_json::from_str::<J>(&body)
        .map(|v| s(&v, "name"))
        .unwrap_or_default()
}

async fn create_shelf(Json(b): Json<J>) -> Json<J> {
    let id: i64 = match &b["id"] {
        J::String(x) => x.parse().unwrap_or(0),
        other => other.as_i64().unwrap_or(0),
    };
    Json(json!({"id": id, "theme": s(&b, "theme")}))
}

async fn get_book(UrlPath((_shelf, book)): UrlPath<(i64, i64)>) -> Json<J> {
    Json(json!({"id": book, "author": "NA", "title": format!("title_{book}")}))
}

async fn get_message(UrlPath(name): UrlPath<String>) -> Json<J> {
    Json(json!({"text": format!("{name} content")}))
}

async fn search_message(
    UrlPath(id): UrlPath<String>,
    Query(q): Query<HashMap<String, String>>,
) -> Json<J> {
    let rev = q.get("revision").cloned().unwrap_or_default();
    let sub = q.get("sub.subfield").cloned().unwrap_or_default();
    Json(json!({"text": format!("{id}{rev}{sub}")}))
}

async fn set_message(UrlPath(_id): UrlPath<String>, Json(b): Json<J>) -> Json<J> {
    Json(json!({"text": s(&b, "text")}))
}

async fn flaky(State(st): St, Json(b): Json<J>) -> Response {
    let id = s(&b, "id");
    let n = {
        let mut m = st.flaky.lock().unwrap_or_else(|e| e.into_inner());
        let c = m.entry(id.clone()).or_insert(0);
        *c += 1;
        *c
    };
    if n <= 2 {
        return (StatusCode::SERVICE_UNAVAILABLE, "try again").into_response();
    }
    Json(json!({"id": id, "n": n})).into_response()
}

async fn slow(Json(b): Json<J>) -> Json<J> {
    let ms = match &b["ms"] {
        J::String(x) => x.parse().unwrap_or(0),
        other => other.as_u64().unwrap_or(0),
    };
    tokio::time::sleep(Duration::from_millis(ms)).await;
    Json(json!({"id": s(&b, "id")}))
}

async fn in_flight(State(st): St, Json(b): Json<J>) -> Json<J> {
    let now = st.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
    st.max_in_flight.fetch_max(now, Ordering::SeqCst);
    tokio::time::sleep(Duration::from_millis(50)).await;
    st.in_flight.fetch_sub(1, Ordering::SeqCst);
    Json(json!({"id": s(&b, "id"), "n": st.max_in_flight.load(Ordering::SeqCst)}))
}

async fn schemaless_echo(body: String) -> Response {
    (
        [("content-type", "application/json")],
        format!(
            "{{\"got\": {}}}",
            if body.is_empty() { "null".into() } else { body }
        ),
    )
        .into_response()
}

/// `stateProbe` as a remote service: `[op, key, arg]` in, the outcome out, with the
/// state kept through the host's state endpoint (the URL and token of the headers
/// every call carries), answering exactly as the wasm and native `stateProbe` do.
async fn state_probe(headers: axum::http::HeaderMap, Json(b): Json<J>) -> Response {
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string()
    };
    let (url, token) = (
        header("x-tributary-state-url"),
        header("x-tributary-state-token"),
    );
    let op = b[0].as_str().unwrap_or_default();
    let key = b[1].as_str().unwrap_or_default();
    let client = reqwest::Client::new();
    let auth = format!("Bearer {token}");
    let req = match op {
        "put" => client
            .put(format!("{url}/state/{key}"))
            .body(b[2].to_string()),
        "get" => client.get(format!("{url}/state/{key}")),
        "delete" => client.delete(format!("{url}/state/{key}")),
        "incr" => client
            .post(format!("{url}/counters/{key}"))
            .body(json!({"amount": b[2]}).to_string()),
        "counter" => client.get(format!("{url}/counters/{key}")),
        other => return (StatusCode::BAD_REQUEST, format!("unknown op {other:?}")).into_response(),
    };
    let resp = match req.header("authorization", auth).send().await {
        Ok(r) => r,
        Err(e) => return (StatusCode::BAD_GATEWAY, e.to_string()).into_response(),
    };
    let status = resp.status();
    let body: J = resp.json().await.unwrap_or(J::Null);
    let outcome = match (op, status.as_u16()) {
        ("put" | "delete", 204) => json!("ok"),
        ("get", 404) => json!("<none>"),
        (_, 200) => body["value"].clone(),
        (_, 409) => json!("error: not-an-integer"),
        (_, 401) => return (StatusCode::UNAUTHORIZED, body.to_string()).into_response(),
        _ => json!("error: store"),
    };
    Json(outcome).into_response()
}

fn rest_router() -> Router {
    Router::new()
        .route("/SayHello", post(say_hello))
        .route("/object_detection", post(object_detection))
        .route("/getStatus", post(get_status))
        .route("/RestEncodedJson", post(encoded_json))
        .route("/bookshelf/v1/shelves", post(create_shelf))
        .route("/bookshelf/v1/shelves/{shelf}/books/{book}", get(get_book))
        .route("/messaging/v1/messages/filter/{id}", get(search_message))
        .route(
            "/messaging/v1/messages/{name}",
            get(get_message).put(set_message).patch(set_message),
        )
        .route("/Flaky", post(flaky))
        .route("/Slow", post(slow))
        .route("/InFlight", post(in_flight))
        .route("/stateProbe", post(state_probe))
        .route("/echo", any(schemaless_echo))
        .route("/echo/{*rest}", put(schemaless_echo).patch(schemaless_echo))
        .with_state(Arc::new(RestState {
            status: AtomicBool::new(false),
            ..RestState::default()
        }))
}

/// The gRPC answer of `method` to `req`, following eKuiper's mock server.
fn grpc_answer(method: &MethodDescriptor, req: &DynamicMessage) -> DynamicMessage {
    let get = |k: &str| req.get_field_by_name(k).map(|v| v.into_owned());
    let text = |k: &str| {
        get(k)
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_default()
    };
    let mut out = DynamicMessage::new(method.output());
    let mut set = |k: &str, v: Pv| out.set_field_by_name(k, v);
    match method.name() {
        "SayHello" => set("message", Pv::String(text("name"))),
        "Compute" => {
            set("code", Pv::U32(200));
            set("msg", Pv::String(text("rid")));
        }
        "object_detection" => {
            let cmd = text("cmd");
            set("info", Pv::String(cmd.clone()));
            set("code", Pv::I32(200));
            set("image", Pv::String(text("base64_img")));
            set("result", Pv::String(format!("{cmd} success")));
            set("type", Pv::String("S".into()));
        }
        "get_feature" => {
            let len = get("value")
                .and_then(|v| v.as_bytes().map(|b| b.len()))
                .unwrap_or(0) as i32;
            let pool = method.parent_pool();
            let result = pool.get_message_by_name("helloworld.FeatureResult");
            let boxd = pool.get_message_by_name("helloworld.Box");
            if let (Some(result), Some(boxd)) = (result, boxd) {
                let mk = |features: [f32; 3], b: [i32; 4]| {
                    let mut bx = DynamicMessage::new(boxd.clone());
                    for (k, v) in ["x", "y", "w", "h"].iter().zip(b) {
                        bx.set_field_by_name(k, Pv::I32(v));
                    }
                    let mut r = DynamicMessage::new(result.clone());
                    r.set_field_by_name(
                        "features",
                        Pv::List(features.iter().map(|f| Pv::F32(*f)).collect()),
                    );
                    r.set_field_by_name("box", Pv::Message(bx));
                    Pv::Message(r)
                };
                set(
                    "feature",
                    Pv::List(vec![
                        mk([-1.444, 2.55452, 5.121], [153, 107, 174, 100 + len]),
                        mk([1.444, -2.55452, -5.121], [257, 92, 169, 208]),
                    ]),
                );
            }
        }
        "getStatus" => set("value", Pv::Bool(true)),
        "RestEncodedJson" => set("value", Pv::String(text("value"))),
        _ => {}
    }
    out
}

#[derive(Clone)]
struct Unary(MethodDescriptor);

impl tonic::server::UnaryService<DynamicMessage> for Unary {
    type Response = DynamicMessage;
    type Future = std::future::Ready<Result<tonic::Response<DynamicMessage>, tonic::Status>>;
    fn call(&mut self, req: tonic::Request<DynamicMessage>) -> Self::Future {
        std::future::ready(Ok(tonic::Response::new(grpc_answer(
            &self.0,
            req.get_ref(),
        ))))
    }
}

fn grpc_router(pool: DescriptorPool) -> Router {
    let methods: Arc<HashMap<String, MethodDescriptor>> = Arc::new(
        pool.services()
            .flat_map(|s| s.methods().collect::<Vec<_>>())
            .map(|m| {
                (
                    format!("/{}/{}", m.parent_service().full_name(), m.name()),
                    m,
                )
            })
            .collect(),
    );
    Router::new().fallback(move |req: axum::extract::Request| {
        let methods = methods.clone();
        async move {
            let Some(m) = methods.get(req.uri().path()).cloned() else {
                return (StatusCode::NOT_FOUND, "no such method").into_response();
            };
            let mut grpc = tonic::server::Grpc::new(DynamicCodec::new(m.input()));
            let resp = grpc.unary(Unary(m), req).await;
            resp.map(axum::body::Body::new).into_response()
        }
    })
}

async fn serve(router: Router) -> std::io::Result<SocketAddr> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    tokio::spawn(async move {
        let _ = axum::serve(listener, router).await;
    });
    Ok(addr)
}

impl Services {
    /// Starts both services; the gRPC one serves the schemas of `schemas_dir`.
    pub fn start(schemas_dir: &Path) -> Services {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("services runtime");
        let pool = tributary_external::schema::compile(schemas_dir, "hw.proto").expect("hw.proto");
        let (rest, grpc) = rt.block_on(async {
            (
                serve(rest_router()).await.expect("rest server"),
                serve(grpc_router(pool)).await.expect("grpc server"),
            )
        });
        Services {
            rest,
            grpc,
            _rt: rt,
        }
    }

    /// Starts them on fixed ports (the example root's addresses) and serves until
    /// the process ends.
    pub fn serve_forever(
        schemas_dir: &Path,
        rest_port: u16,
        grpc_port: u16,
    ) -> std::io::Result<()> {
        let rt = tokio::runtime::Runtime::new()?;
        let pool = tributary_external::schema::compile(schemas_dir, "hw.proto")
            .map_err(std::io::Error::other)?;
        rt.block_on(async {
            let rest = tokio::net::TcpListener::bind(("127.0.0.1", rest_port)).await?;
            let grpc = tokio::net::TcpListener::bind(("127.0.0.1", grpc_port)).await?;
            eprintln!("REST on 127.0.0.1:{rest_port}, gRPC on 127.0.0.1:{grpc_port}");
            let r = tokio::spawn(async move { axum::serve(rest, rest_router()).await });
            let g = tokio::spawn(async move { axum::serve(grpc, grpc_router(pool)).await });
            let _ = tokio::join!(r, g);
            Ok(())
        })
    }
}

/// A copy of the external example root whose service files point at `svc`.
pub fn external_root_for(svc: &Services, dest: &Path) {
    let src = crate::workspace().join("examples/external-root");
    copy_dir(&src, dest);
    let services = dest.join("etc/services");
    for e in std::fs::read_dir(&services).expect("services").flatten() {
        let p = e.path();
        if p.extension().is_some_and(|x| x == "json") {
            let text = std::fs::read_to_string(&p)
                .expect("read")
                .replace("127.0.0.1:51234", &svc.rest.to_string())
                .replace("127.0.0.1:50051", &svc.grpc.to_string());
            std::fs::write(&p, text).expect("write");
        }
    }
}

/// Copies a folder tree.
pub fn copy_dir(src: &Path, dest: &Path) {
    std::fs::create_dir_all(dest).expect("mkdir");
    for e in std::fs::read_dir(src).expect("read dir").flatten() {
        let to = dest.join(e.file_name());
        if e.path().is_dir() {
            copy_dir(&e.path(), &to);
        } else {
            std::fs::copy(e.path(), &to).expect("copy");
        }
    }
}

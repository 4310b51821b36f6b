//! eKuiper's `httppush` source: an HTTP endpoint that accepts messages. DATASOURCE is
//! the path (`/api/data`); `server` (default `127.0.0.1:10081`, eKuiper's port) is the
//! address, shared by every httppush stream of the process; `method` is `POST`
//! (default) or `PUT`. Each request's body goes to the stream's FORMAT; the answer is
//! 200 once the rule has taken it, so a slow rule slows its senders down instead of
//! dropping what they send. An unknown path answers 404, another method 405.

use crate::props::PropReader;
use axum::http::StatusCode;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};
use tokio::sync::mpsc;
use tributary_core::connector::{
    BoxFuture, ConnectorContext, Payload, Props, Source, SourceMessage, SourceSender,
};
use tributary_core::{Clock, Error, Object, Result, Value};

/// What one path delivers to.
struct Route {
    method: axum::http::Method,
    tx: mpsc::Sender<Vec<u8>>,
}

type Routes = Arc<Mutex<HashMap<String, Route>>>;

/// The servers of the process, by address, and the paths each serves.
fn servers() -> &'static Mutex<HashMap<String, Routes>> {
    static S: OnceLock<Mutex<HashMap<String, Routes>>> = OnceLock::new();
    S.get_or_init(|| Mutex::new(HashMap::new()))
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

async fn handle(routes: Routes, req: axum::extract::Request) -> (StatusCode, String) {
    let path = req.uri().path().to_string();
    let method = req.method().clone();
    let tx = {
        let r = lock(&routes);
        match r.get(&path) {
            None => return (StatusCode::NOT_FOUND, format!("no stream at {path}")),
            Some(route) if route.method != method => {
                return (
                    StatusCode::METHOD_NOT_ALLOWED,
                    format!("{path} takes {}", route.method),
                )
            }
            Some(route) => route.tx.clone(),
        }
    };
    let body = match axum::body::to_bytes(req.into_body(), 64 << 20).await {
        Ok(b) => b.to_vec(),
        Err(e) => {
            return (
                StatusCode::BAD_REQUEST,
                format!("cannot read the body: {e}"),
            )
        }
    };
    match tx.send(body).await {
        Ok(()) => (StatusCode::OK, "ok".into()),
        Err(_) => (
            StatusCode::SERVICE_UNAVAILABLE,
            format!("the rule at {path} stopped"),
        ),
    }
}

/// The routes of the server at `addr`, starting it on first use.
async fn server(addr: &str) -> Result<Routes> {
    if let Some(r) = lock(servers()).get(addr) {
        return Ok(r.clone());
    }
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|e| Error::external(format!("httppush: cannot listen on {addr}: {e}")))?;
    let routes: Routes = Arc::new(Mutex::new(HashMap::new()));
    let r = routes.clone();
    let app = axum::Router::new().fallback(move |req| handle(r.clone(), req));
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    tracing::info!(%addr, "httppush server listening");
    lock(servers()).insert(addr.to_string(), routes.clone());
    Ok(routes)
}

#[derive(Debug)]
pub struct HttpPushSource {
    addr: String,
    path: String,
    method: axum::http::Method,
    clock: Arc<dyn Clock>,
}

impl HttpPushSource {
    pub fn new(datasource: &str, props: &Props, ctx: &ConnectorContext) -> Result<Self> {
        let r = PropReader::new(props, "httppush source");
        let path = if datasource.is_empty() {
            return Err(Error::user(
                "httppush source needs a path: set DATASOURCE to it, e.g. \"/api/data\"",
            ));
        } else if datasource.starts_with('/') {
            datasource.to_string()
        } else {
            format!("/{datasource}")
        };
        let method = match r
            .string("method")?
            .map(|m| m.to_ascii_uppercase())
            .as_deref()
        {
            None | Some("POST") => axum::http::Method::POST,
            Some("PUT") => axum::http::Method::PUT,
            Some(other) => {
                return Err(r.rejected("method", format!("{other:?} is not POST or PUT")))
            }
        };
        Ok(HttpPushSource {
            addr: r
                .string("server")?
                .unwrap_or_else(|| "127.0.0.1:10081".into()),
            path,
            method,
            clock: ctx.clock.clone(),
        })
    }
}

impl Source for HttpPushSource {
    fn run(self: Box<Self>, out: SourceSender) -> BoxFuture<'static, Result<()>> {
        Box::pin(async move {
            let routes = server(&self.addr).await?;
            let (tx, mut rx) = mpsc::channel::<Vec<u8>>(1024);
            {
                let mut r = lock(&routes);
                if r.get(&self.path).is_some_and(|route| !route.tx.is_closed()) {
                    return Err(Error::user(format!(
                        "httppush: {} on {} is already served by another stream",
                        self.path, self.addr
                    )));
                }
                r.insert(
                    self.path.clone(),
                    Route {
                        method: self.method.clone(),
                        tx,
                    },
                );
            }
            while let Some(body) = rx.recv().await {
                let mut meta = Object::new();
                meta.insert("path".into(), Value::str(&self.path));
                let msg = SourceMessage {
                    payload: Payload::Bytes(body),
                    meta: Arc::new(meta),
                    timestamp: self.clock.now_ms(),
                    stream: 0,
                    position: None,
                };
                if !out.send(vec![msg]).await {
                    break;
                }
            }
            lock(&routes).remove(&self.path);
            Ok(())
        })
    }
}

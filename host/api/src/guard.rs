//! What every request passes before a handler sees it: the checks that keep a web
//! page the operator happens to open from driving the API (cross-site requests, DNS
//! rebinding), the token, and the size of the URI.
//!
//! - **Host**: on a loopback listener (or with `api.allowedHosts`), the `Host` header
//!   must name the listener (`127.0.0.1:P`, `localhost:P`, `[::1]:P`) or an allowed
//!   host. A page on a rebound DNS name reaches the socket, but with its own name.
//! - **Origin**: a browser sends it with every cross-site write; one that is not the
//!   API's own origin or in `api.cors.allowedOrigins` is refused. CORS is off unless
//!   origins are configured, so no foreign page can read an answer either.
//! - **Content-Type**: a write with a body must be JSON (or, on the package routes, a
//!   zip): the types a cross-site form or a "simple" fetch can send are refused.
//! - **Token**: `Authorization: Bearer <token>` (scheme in any case) or the bare
//!   token, compared in constant time; the open paths are open per method.

use crate::config::{ApiConfig, Auth};
use crate::error::ApiError;
use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::net::SocketAddr;
use std::sync::Arc;

/// The longest request target accepted (path and query), in bytes.
pub const MAX_URI_BYTES: usize = 8 << 10;

/// The checks, resolved once for a listener.
#[derive(Debug, Clone)]
pub struct Guard {
    config: Arc<ApiConfig>,
    /// `host:port` values (lower case) the `Host` header may carry; `None`: any (a
    /// wildcard listener without `allowedHosts`, where the token is required).
    hosts: Option<Vec<String>>,
}

impl Guard {
    /// The guard of a server listening on `listen` (`None`: an embedder's router,
    /// which checks the configured hosts only).
    pub fn new(config: Arc<ApiConfig>, listen: Option<SocketAddr>) -> Guard {
        let mut hosts: Vec<String> = config.allowed_hosts.clone();
        let mut any = hosts.is_empty();
        if let Some(addr) = listen {
            let port = addr.port();
            let ip = addr.ip();
            if ip.is_loopback() {
                any = false;
                hosts.extend([
                    format!("127.0.0.1:{port}"),
                    format!("localhost:{port}"),
                    format!("[::1]:{port}"),
                ]);
            } else if !ip.is_unspecified() {
                any = false;
                hosts.push(match ip {
                    std::net::IpAddr::V6(v6) => format!("[{v6}]:{port}"),
                    v4 => format!("{v4}:{port}"),
                });
            }
        }
        Guard {
            config,
            hosts: (!any).then_some(hosts),
        }
    }

    fn host_allowed(&self, host: &str) -> bool {
        match &self.hosts {
            None => true,
            Some(list) => {
                let h = host.to_ascii_lowercase();
                // A Host without a port means port 80.
                let with_port = if has_port(&h) { h } else { format!("{h}:80") };
                list.iter().any(|a| {
                    let a = if has_port(a) {
                        a.clone()
                    } else {
                        format!("{a}:80")
                    };
                    a == with_port
                })
            }
        }
    }

    fn cors_allows(&self, origin: &str) -> bool {
        let o = origin.trim_end_matches('/').to_ascii_lowercase();
        self.config.cors_origins.iter().any(|a| a == "*" || *a == o)
    }

    /// Whether `origin` is the API's own (the page was served by this server).
    fn same_origin(&self, origin: &str, host: Option<&str>) -> bool {
        let Some(rest) = origin
            .strip_prefix("http://")
            .or_else(|| origin.strip_prefix("https://"))
        else {
            return false;
        };
        let authority = rest.trim_end_matches('/');
        match &self.hosts {
            Some(_) => self.host_allowed(authority),
            // A wildcard listener: the page's origin must be the host it asked.
            None => host.is_some_and(|h| h.eq_ignore_ascii_case(authority)),
        }
    }
}

fn has_port(h: &str) -> bool {
    match h.rfind(':') {
        Some(i) => !h[i..].contains(']'),
        None => false,
    }
}

fn refuse(status: StatusCode, code: &'static str, message: impl Into<String>) -> Response {
    ApiError {
        status,
        code,
        message: message.into(),
    }
    .into_response()
}

/// Whether a route takes package uploads (zip bodies, the upload size limit).
pub fn is_upload_route(method: &Method, path: &str) -> bool {
    let parts: Vec<&str> = path.trim_matches('/').split('/').collect();
    matches!(
        (method.as_str(), parts.as_slice()),
        ("POST", ["plugins", _]) | ("PUT", ["plugins", _, _])
    )
}

fn has_body(req: &Request) -> bool {
    let h = req.headers();
    h.contains_key(header::TRANSFER_ENCODING)
        || h.get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok())
            .is_some_and(|n| n > 0)
}

fn content_type_ok(req: &Request) -> bool {
    let Some(ct) = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
    else {
        return false;
    };
    let mime = ct
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    mime == "application/json"
        || (is_upload_route(req.method(), req.uri().path())
            && matches!(
                mime.as_str(),
                "application/zip" | "application/octet-stream" | "application/x-zip-compressed"
            ))
}

/// The SHA-256 of both sides compared byte by byte without an early exit, so the
/// time taken says nothing of how much of the token was right.
fn token_matches(given: &str, token: &str) -> bool {
    use sha2::Digest;
    let a = sha2::Sha256::digest(given.as_bytes());
    let b = sha2::Sha256::digest(token.as_bytes());
    a.iter()
        .zip(b.iter())
        .fold(0u8, |acc, (x, y)| acc | (x ^ y))
        == 0
}

fn check_token(req: &Request, token: &str) -> Result<(), ApiError> {
    let Some(value) = req.headers().get(header::AUTHORIZATION) else {
        return Err(ApiError::unauthorized(
            "missing Authorization: Bearer <token>",
        ));
    };
    let value = value.to_str().unwrap_or("").trim();
    // `Bearer <token>` with the scheme in any case, or the bare token as eKuiper's
    // clients send it.
    let given = match value.split_once(' ') {
        Some((scheme, rest)) if scheme.eq_ignore_ascii_case("bearer") => rest.trim(),
        _ => value,
    };
    if given.is_empty() {
        return Err(ApiError::unauthorized(
            "the Authorization header holds no token",
        ));
    }
    if token_matches(given, token) {
        Ok(())
    } else {
        Err(ApiError::unauthorized("wrong bearer token"))
    }
}

/// The middleware: checks a request in the order the module describes.
pub async fn guard(State(g): State<Arc<Guard>>, req: Request, next: Next) -> Response {
    let target_len = req.uri().path_and_query().map_or(0, |p| p.as_str().len());
    if target_len > MAX_URI_BYTES {
        return refuse(
            StatusCode::URI_TOO_LONG,
            "uri_too_long",
            format!(
                "the request target is {target_len} bytes; at most {MAX_URI_BYTES} are accepted"
            ),
        );
    }
    let host = req
        .headers()
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
        .or_else(|| req.uri().authority().map(|a| a.to_string()));
    if g.hosts.is_some() {
        match host.as_deref() {
            Some(h) if g.host_allowed(h) => {}
            Some(h) => {
                return refuse(
                    StatusCode::FORBIDDEN,
                    "forbidden",
                    format!(
                        "the Host {:?} is not this server's; add it to api.allowedHosts to reach the API by that name",
                        tributary_core::names::shown(h)
                    ),
                )
            }
            None => {
                return refuse(
                    StatusCode::BAD_REQUEST,
                    "bad_request",
                    "the request has no Host header",
                )
            }
        }
    }
    let origin = req
        .headers()
        .get(header::ORIGIN)
        .map(|v| v.to_str().unwrap_or("?").to_string());
    let cors_origin = match &origin {
        None => None,
        Some(o) if g.cors_allows(o) => Some(o.clone()),
        Some(o) if g.same_origin(o, host.as_deref()) => None,
        Some(o) => {
            return refuse(
                StatusCode::FORBIDDEN,
                "forbidden",
                format!(
                    "cross-origin requests are refused (Origin {:?}); allow the origin in api.cors.allowedOrigins",
                    tributary_core::names::shown(o)
                ),
            )
        }
    };
    if req.method() == Method::OPTIONS {
        return match cors_origin {
            Some(o) => with_cors(StatusCode::NO_CONTENT.into_response(), &o, true),
            None => refuse(
                StatusCode::METHOD_NOT_ALLOWED,
                "method_not_allowed",
                "OPTIONS is answered only to the origins in api.cors.allowedOrigins",
            ),
        };
    }
    let writes = matches!(
        *req.method(),
        Method::POST | Method::PUT | Method::PATCH | Method::DELETE
    );
    if writes && has_body(&req) && !content_type_ok(&req) {
        let what = if is_upload_route(req.method(), req.uri().path()) {
            "application/json, or application/zip for a package"
        } else {
            "application/json"
        };
        return refuse(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            format!("the body must be sent as Content-Type: {what}"),
        );
    }
    if let Some(Auth::Token(token)) = &g.config.auth {
        let method = req.method().as_str();
        let path = req.uri().path();
        // A method an open path does not have is answered by the router (405): the
        // token guards routes, not the list of methods a public path lacks.
        let open = g.config.open_paths.iter().any(|o| o.admits(method, path))
            || (g.config.open_paths.iter().any(|o| o.path == path)
                && !crate::openapi::has_route(method, path));
        if !open {
            if let Err(e) = check_token(&req, token) {
                let r = e.into_response();
                return match cors_origin {
                    Some(o) => with_cors(r, &o, false),
                    None => r,
                };
            }
        }
    }
    let resp = next.run(req).await;
    match cors_origin {
        Some(o) => with_cors(resp, &o, false),
        None => resp,
    }
}

fn with_cors(mut resp: Response, origin: &str, preflight: bool) -> Response {
    let h = resp.headers_mut();
    if let Ok(v) = HeaderValue::from_str(origin) {
        h.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, v);
    }
    h.insert(header::VARY, HeaderValue::from_static("Origin"));
    if preflight {
        h.insert(
            header::ACCESS_CONTROL_ALLOW_METHODS,
            HeaderValue::from_static("GET, POST, PUT, DELETE"),
        );
        h.insert(
            header::ACCESS_CONTROL_ALLOW_HEADERS,
            HeaderValue::from_static("authorization, content-type"),
        );
        h.insert(
            header::ACCESS_CONTROL_MAX_AGE,
            HeaderValue::from_static("600"),
        );
    }
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    fn guard(listen: &str, allowed: &[&str]) -> Guard {
        let config = ApiConfig {
            allowed_hosts: allowed.iter().map(|s| s.to_string()).collect(),
            ..ApiConfig::default()
        };
        Guard::new(Arc::new(config), Some(listen.parse().expect("addr")))
    }

    #[test]
    fn a_loopback_listener_takes_its_own_names_only() {
        let g = guard("127.0.0.1:9081", &[]);
        for ok in [
            "127.0.0.1:9081",
            "localhost:9081",
            "LOCALHOST:9081",
            "[::1]:9081",
        ] {
            assert!(g.host_allowed(ok), "{ok}");
        }
        for bad in [
            "evil.example:9081",
            "127.0.0.1:9082",
            "localhost",
            "127.0.0.1",
        ] {
            assert!(!g.host_allowed(bad), "{bad}");
        }
        let g = guard("127.0.0.1:9081", &["edge-1.local:9081", "gw"]);
        assert!(g.host_allowed("edge-1.local:9081") && g.host_allowed("gw"));
        assert!(g.same_origin("http://localhost:9081", None));
        assert!(!g.same_origin("http://evil.example:9081", None));
        assert!(!g.same_origin("null", None));
    }

    #[test]
    fn a_wildcard_listener_checks_same_origin_against_the_host_asked() {
        let g = guard("0.0.0.0:9081", &[]);
        assert!(g.host_allowed("anything:1"));
        assert!(g.same_origin("http://gw:9081", Some("gw:9081")));
        assert!(!g.same_origin("http://evil:9081", Some("gw:9081")));
    }

    #[test]
    fn tokens_compare_whole() {
        assert!(token_matches("abc", "abc"));
        assert!(!token_matches("abd", "abc") && !token_matches("ab", "abc"));
        assert!(is_upload_route(&Method::POST, "/plugins/functions"));
        assert!(is_upload_route(&Method::PUT, "/plugins/sinks/x"));
        assert!(!is_upload_route(&Method::POST, "/rules"));
    }
}

//! What the HTTP connectors share: the method, headers, body type and timeout props,
//! read the eKuiper way, and the client.

use crate::props::PropReader;
use std::time::Duration;
use tributary_core::{Result, Value};

/// eKuiper's `bodyType`: how a body is sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyType {
    None,
    Json,
    Text,
    Form,
}

impl BodyType {
    pub fn content_type(self) -> Option<&'static str> {
        match self {
            BodyType::None => None,
            BodyType::Json => Some("application/json"),
            BodyType::Text => Some("text/plain"),
            BodyType::Form => Some("application/x-www-form-urlencoded"),
        }
    }
}

/// A request shape: method, URL, headers, body type, timeout.
#[derive(Debug, Clone)]
pub struct HttpRequest {
    pub method: reqwest::Method,
    pub url: String,
    pub headers: reqwest::header::HeaderMap,
    pub body_type: BodyType,
    pub timeout: Duration,
}

impl HttpRequest {
    /// Reads `url`, `method` (default `default_method`), `headers`, `bodyType`
    /// (default json) and `timeout` (ms, default 5000).
    pub fn from_props(r: &PropReader<'_>, default_method: &str) -> Result<HttpRequest> {
        let url = r
            .string("url")?
            .filter(|u| !u.is_empty())
            .ok_or_else(|| r.missing("url"))?;
        if !(url.starts_with("http://") || url.starts_with("https://")) {
            return Err(r.rejected("url", format!("{url:?} is not an http:// or https:// URL")));
        }
        let m = r
            .string("method")?
            .unwrap_or_else(|| default_method.into())
            .to_ascii_uppercase();
        let method = match m.as_str() {
            "GET" | "POST" | "PUT" | "DELETE" | "HEAD" | "PATCH" => {
                reqwest::Method::from_bytes(m.as_bytes())
                    .map_err(|_| r.rejected("method", format!("{m:?}")))?
            }
            other => {
                return Err(r.rejected(
                    "method",
                    format!("{other:?} is not one of GET, POST, PUT, DELETE, HEAD, PATCH"),
                ))
            }
        };
        let body_type = match r
            .string("bodyType")?
            .map(|b| b.to_ascii_lowercase())
            .as_deref()
        {
            None | Some("json") => BodyType::Json,
            Some("none") => BodyType::None,
            Some("text") | Some("html") | Some("xml") | Some("javascript") => BodyType::Text,
            Some("form") => BodyType::Form,
            Some(other) => {
                return Err(r.rejected(
                    "bodyType",
                    format!(
                        "{other:?} is not one of none, json, text, html, xml, javascript, form"
                    ),
                ))
            }
        };
        let mut headers = reqwest::header::HeaderMap::new();
        match r.value("headers") {
            None | Some(Value::Null) => {}
            Some(Value::Object(o)) => {
                for (k, v) in o.iter() {
                    let text = match v {
                        Value::String(s) => s.to_string(),
                        other => other.to_string(),
                    };
                    let name =
                        reqwest::header::HeaderName::from_bytes(k.as_bytes()).map_err(|_| {
                            r.rejected("headers", format!("{k:?} is not a header name"))
                        })?;
                    let value = reqwest::header::HeaderValue::from_str(&text).map_err(|_| {
                        r.rejected("headers", format!("the value of {k} is not a header value"))
                    })?;
                    headers.insert(name, value);
                }
            }
            Some(other) => {
                return Err(r.rejected(
                    "headers",
                    format!(
                        "must be a map of header names to values, got {}",
                        other.type_name()
                    ),
                ))
            }
        }
        let timeout = Duration::from_millis(r.duration_ms("timeout")?.unwrap_or(5000).max(1));
        Ok(HttpRequest {
            method,
            url,
            headers,
            body_type,
            timeout,
        })
    }

    /// A request builder with the headers and timeout set, and `body` when given.
    pub fn build(
        &self,
        client: &reqwest::Client,
        body: Option<Vec<u8>>,
    ) -> reqwest::RequestBuilder {
        let mut q = client
            .request(self.method.clone(), &self.url)
            .timeout(self.timeout);
        if let (Some(ct), Some(_)) = (self.body_type.content_type(), &body) {
            q = q.header(reqwest::header::CONTENT_TYPE, ct);
        }
        // Configured headers override the defaults, as in eKuiper.
        q = q.headers(self.headers.clone());
        match body {
            Some(b) if self.body_type != BodyType::None => q.body(b),
            _ => q,
        }
    }
}

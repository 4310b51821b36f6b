//! Blocking HTTP requests over `wasi:http/outgoing-handler` (the `http` feature).
//!
//! A request reaches only what the operator granted the plugin
//! (`docs/plugins/wasm.md#network`); anything else fails with `HttpRequestDenied`,
//! as an error here, never a trap. The wait for the answer is I/O: it does not count
//! against the plugin's CPU deadline, only against its `ioWaitMs`.

use wasi::http::outgoing_handler;
use wasi::http::types::{ErrorCode, Fields, Method, OutgoingBody, OutgoingRequest, Scheme};
use wasi::io::streams::StreamError;

/// An answer: its status and its whole body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    pub status: u16,
    pub body: Vec<u8>,
}

impl Response {
    /// The body as text (invalid UTF-8 replaced).
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// Why a request failed, as a message for the user.
fn http_error(e: ErrorCode) -> String {
    format!("{e:?}")
}

/// `url`'s scheme, authority and path with query.
fn split(url: &str) -> Result<(Scheme, &str, String), String> {
    let (scheme, rest) = url
        .split_once("://")
        .ok_or_else(|| format!("{url:?} is not an http:// or https:// URL"))?;
    let scheme = match scheme {
        "http" => Scheme::Http,
        "https" => Scheme::Https,
        other => {
            return Err(format!(
                "{url:?}: the scheme {other:?} is not http or https"
            ))
        }
    };
    let (authority, path) = match rest.find(['/', '?']) {
        Some(i) if rest[i..].starts_with('?') => (&rest[..i], format!("/{}", &rest[i..])),
        Some(i) => (&rest[..i], rest[i..].to_string()),
        None => (rest, "/".to_string()),
    };
    if authority.is_empty() {
        return Err(format!("{url:?} has no host"));
    }
    Ok((scheme, authority, path))
}

fn method_of(m: &str) -> Method {
    match m.to_ascii_uppercase().as_str() {
        "GET" => Method::Get,
        "HEAD" => Method::Head,
        "POST" => Method::Post,
        "PUT" => Method::Put,
        "DELETE" => Method::Delete,
        "PATCH" => Method::Patch,
        "OPTIONS" => Method::Options,
        other => Method::Other(other.to_string()),
    }
}

/// Sends one request and waits for the whole answer. `headers` are (name, value).
pub fn request(
    method: &str,
    url: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> Result<Response, String> {
    let (scheme, authority, path) = split(url)?;
    let fields = Fields::new();
    for (name, value) in headers {
        fields
            .append(name, value.as_bytes())
            .map_err(|e| format!("the header {name:?}: {e:?}"))?;
    }
    let req = OutgoingRequest::new(fields);
    let bad = |what: &str| format!("{url:?}: invalid {what}");
    req.set_method(&method_of(method))
        .map_err(|()| bad("method"))?;
    req.set_scheme(Some(&scheme)).map_err(|()| bad("scheme"))?;
    req.set_authority(Some(authority))
        .map_err(|()| bad("host"))?;
    req.set_path_with_query(Some(&path))
        .map_err(|()| bad("path"))?;
    let out = req
        .body()
        .map_err(|()| "the request body was taken twice")?;
    let pending = outgoing_handler::handle(req, None).map_err(http_error)?;
    {
        let stream = out
            .write()
            .map_err(|()| "the body stream was taken twice")?;
        // `blocking-write-and-flush` takes at most 4096 bytes at a time.
        for chunk in body.chunks(4096) {
            stream
                .blocking_write_and_flush(chunk)
                .map_err(|e| format!("writing the request body: {e:?}"))?;
        }
    }
    OutgoingBody::finish(out, None).map_err(http_error)?;
    pending.subscribe().block();
    let resp = pending
        .get()
        .ok_or("no response")?
        .map_err(|()| "the response was taken twice")?
        .map_err(http_error)?;
    let status = resp.status();
    let incoming = resp.consume().map_err(|()| "no response body")?;
    let stream = incoming.stream().map_err(|()| "no response body stream")?;
    let mut bytes = Vec::new();
    loop {
        match stream.blocking_read(64 * 1024) {
            Ok(chunk) => bytes.extend(chunk),
            Err(StreamError::Closed) => break,
            Err(StreamError::LastOperationFailed(e)) => {
                return Err(format!("reading the answer: {}", e.to_debug_string()))
            }
        }
    }
    Ok(Response {
        status,
        body: bytes,
    })
}

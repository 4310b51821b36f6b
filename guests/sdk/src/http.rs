//! Blocking HTTP requests over `wasi:http/outgoing-handler` (the `http` feature).
//!
//! A request reaches only what the operator granted the plugin
//! (`docs/plugins/wasm.md#network`); anything else fails with `HttpRequestDenied`,
//! as an error here, never a trap. The wait for the answer is I/O: it does not count
//! against the plugin's CPU deadline, only against its `ioWaitMs`.

use wasi::http::outgoing_handler;
use wasi::http::types::{ErrorCode, Fields, Method, OutgoingBody, OutgoingRequest, Scheme};
use wasi::io::streams::{OutputStream, StreamError};

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

/// Writes the start of `body` that `stream` takes now; returns the rest.
fn write_ready<'a>(stream: &OutputStream, mut body: &'a [u8]) -> Result<&'a [u8], String> {
    let failed = |e: StreamError| format!("writing the request body: {e:?}");
    while !body.is_empty() {
        let n = usize::try_from(stream.check_write().map_err(failed)?).unwrap_or(usize::MAX);
        if n == 0 {
            break;
        }
        let (now, later) = body.split_at(n.min(body.len()));
        stream.write(now).map_err(failed)?;
        body = later;
    }
    Ok(body)
}

/// Ends a request body: its stream first, as WASI requires.
fn finish(stream: OutputStream, out: OutgoingBody) -> Result<(), String> {
    drop(stream);
    OutgoingBody::finish(out, None).map_err(http_error)
}

/// Sends one request and waits for the whole answer. `headers` are (name, value).
///
/// A body is sent with its `Content-Length` (unless `headers` set one): without it
/// the host's client streams it chunked, which some servers and proxies refuse.
/// Each wait (connecting, the first byte, between bytes) is bounded by the plugin's
/// `ioWaitMs`, enforced by the host.
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
    let has_length = headers
        .iter()
        .any(|(name, _)| name.eq_ignore_ascii_case("content-length"));
    if !body.is_empty() && !has_length {
        fields
            .append("content-length", body.len().to_string().as_bytes())
            .map_err(|e| format!("the header content-length: {e:?}"))?;
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
    let stream = out
        .write()
        .map_err(|()| "the body stream was taken twice")?;
    // The body goes in before the request is handed over, as far as the stream takes
    // it without waiting (wasmtime: two writes of up to 1 MiB): the host's client then
    // sends the head and the body in one write, where handing over first sent the
    // head alone and the body after another round of wake-ups.
    let mut rest = write_ready(&stream, body)?;
    let pending = if rest.is_empty() {
        finish(stream, out)?;
        outgoing_handler::handle(req, None).map_err(http_error)?
    } else {
        let pending = outgoing_handler::handle(req, None).map_err(http_error)?;
        while !rest.is_empty() {
            stream.subscribe().block();
            rest = write_ready(&stream, rest)?;
        }
        finish(stream, out)?;
        pending
    };
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

//! Outgoing `wasi:http` requests: checked against the instance's grants, bounded by
//! its `ioWaitMs`, and sent over connections the instance keeps open.
//!
//! wasmtime's own client (`default_send_request`) opens a TCP connection (and a TLS
//! session) for every request and closes it afterwards. A sink that writes each
//! emission as one request then pays a connect and a close per row: the influx sink
//! ran at a third of the built-in REST sink's rate that way (benches/README.md). So
//! each store, that is one plugin instance (a rule's sink, source or function
//! instance), gets its own keep-alive pool, built on its first request and dropped
//! with the instance: connections are never shared between plugins or rules, and a
//! sink keeps its connection across `collect` calls as a built-in sink does.

use crate::network::Guard;
use bytes::Bytes;
use http_body::{Body, Frame, SizeHint};
use hyper_util::client::legacy::{connect::HttpConnector, Client};
use hyper_util::rt::{TokioExecutor, TokioTimer};
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{ready, Context, Poll};
use std::time::Duration;
use wasmtime_wasi_http::{Error as HttpError, RequestOptions, WasiBody, WasiHttpHooks};

/// How long an idle pooled connection stays open. Servers commonly close idle
/// keep-alive connections after 60 s or more; closing first avoids writing into a
/// connection the server is closing.
const IDLE: Duration = Duration::from_secs(30);

type Pool = Client<hyper_rustls::HttpsConnector<HttpConnector>, WasiBody>;

/// `wasi:http`'s hooks for one store: every outgoing request is checked against the
/// guard before it is sent (this client connects on its own, not through
/// `wasi:sockets`, so this is where HTTP is governed).
pub struct HttpHooks {
    guard: Arc<Guard>,
    /// The plugin's `ioWaitMs`: no wait of a request (connecting, the response head,
    /// between body bytes) may be longer. The deadline is checked only while guest
    /// code runs, so without this cap a request to a server that never answers would
    /// block its rule for wasmtime's default of ten minutes per wait.
    io_wait: Duration,
    pool: Option<Pool>,
}

impl HttpHooks {
    pub fn new(guard: Arc<Guard>, io_wait: Duration) -> Self {
        HttpHooks {
            guard,
            io_wait,
            pool: None,
        }
    }

    /// The instance's pool, made on first use (most instances never send a request).
    fn pool(&mut self) -> Pool {
        let io_wait = self.io_wait;
        self.pool
            .get_or_insert_with(|| {
                let mut tcp = HttpConnector::new();
                tcp.enforce_http(false);
                tcp.set_nodelay(true);
                tcp.set_connect_timeout(Some(io_wait));
                let tls = hyper_rustls::HttpsConnectorBuilder::new()
                    .with_webpki_roots()
                    .https_or_http()
                    .enable_http1()
                    .wrap_connector(tcp);
                Client::builder(TokioExecutor::new())
                    .pool_idle_timeout(IDLE)
                    .pool_timer(TokioTimer::new())
                    .build(tls)
            })
            .clone()
    }
}

/// The waits of one request, each at most the plugin's `ioWaitMs`.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Waits {
    connect: Duration,
    first_byte: Duration,
    between_bytes: Duration,
}

/// The guest's asked timeouts capped at `cap` (a missing one becomes `cap`).
fn capped(options: Option<RequestOptions>, cap: Duration) -> Waits {
    let o = options.unwrap_or_default();
    let at_most = |t: Option<Duration>| t.map_or(cap, |t| t.min(cap));
    Waits {
        connect: at_most(o.connect_timeout),
        first_byte: at_most(o.first_byte_timeout),
        // Tokio refuses a zero-length timer; a nanosecond is as good as zero.
        between_bytes: at_most(o.between_bytes_timeout).max(Duration::from_nanos(1)),
    }
}

type Sent = Box<
    dyn Future<
            Output = Result<
                (
                    http::Response<WasiBody>,
                    Box<dyn Future<Output = Result<(), HttpError>> + Send>,
                ),
                HttpError,
            >,
        > + Send,
>;

impl WasiHttpHooks for HttpHooks {
    fn send_request(
        &mut self,
        request: http::Request<WasiBody>,
        options: Option<RequestOptions>,
        fut: Box<dyn Future<Output = Result<(), HttpError>> + Send>,
    ) -> Sent {
        drop(fut);
        let uri = request.uri();
        let scheme = uri.scheme_str().unwrap_or("https").to_ascii_lowercase();
        let default_port = if scheme == "http" { 80 } else { 443 };
        let port = uri.port_u16().unwrap_or(default_port);
        let allowed = uri
            .host()
            .is_some_and(|host| self.guard.allows_request(&scheme, host, port));
        if !allowed {
            return Box::new(async { Err(HttpError::HttpRequestDenied) });
        }
        let waits = capped(options, self.io_wait);
        let pool = self.pool();
        Box::new(async move {
            use http_body_util::BodyExt;
            // A new connection may take `connect`, then the head `first_byte`; a pooled
            // one skips the first. The pool's connector enforces `ioWaitMs` itself.
            let head =
                tokio::time::timeout(waits.connect + waits.first_byte, pool.request(request));
            let res = match head.await {
                Err(_) => return Err(HttpError::ConnectionReadTimeout),
                Ok(Err(e)) => return Err(client_error(&e)),
                Ok(Ok(res)) => res,
            };
            let res = res.map(|incoming| Timed::new(incoming, waits.between_bytes).boxed_unsync());
            // The pool drives the connection in its own task: nothing to report here.
            let io: Box<dyn Future<Output = Result<(), HttpError>> + Send> =
                Box::new(async { Ok(()) });
            Ok((res, io))
        })
    }
}

/// The `wasi:http` error code for a failed request: the I/O error of a connect when
/// there is one (refused, timed out, unreachable), so the guest sees why.
fn client_error(e: &hyper_util::client::legacy::Error) -> HttpError {
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        if let Some(io) = s.downcast_ref::<std::io::Error>() {
            return HttpError::Connect(std::io::Error::new(io.kind(), io.to_string()));
        }
        if let Some(h) = s.downcast_ref::<hyper::Error>() {
            return if h.is_timeout() {
                HttpError::HttpResponseTimeout
            } else if h.is_incomplete_message() {
                HttpError::HttpResponseIncomplete
            } else {
                HttpError::HttpProtocolError
            };
        }
        source = s.source();
    }
    if e.is_connect() {
        HttpError::ConnectionRefused
    } else {
        HttpError::InternalError(Some(e.to_string()))
    }
}

/// A response body that fails when the server pauses longer than `gap` between
/// frames (`between-bytes-timeout`).
struct Timed {
    incoming: hyper::body::Incoming,
    gap: Duration,
    quiet: Pin<Box<tokio::time::Sleep>>,
}

impl Timed {
    fn new(incoming: hyper::body::Incoming, gap: Duration) -> Self {
        Timed {
            incoming,
            gap,
            quiet: Box::pin(tokio::time::sleep(gap)),
        }
    }
}

impl Body for Timed {
    type Data = Bytes;
    type Error = HttpError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, HttpError>>> {
        let this = &mut *self;
        match Pin::new(&mut this.incoming).poll_frame(cx) {
            Poll::Ready(Some(Ok(frame))) => {
                let next = tokio::time::Instant::now() + this.gap;
                this.quiet.as_mut().reset(next);
                Poll::Ready(Some(Ok(frame)))
            }
            Poll::Ready(Some(Err(e))) if e.is_timeout() => {
                Poll::Ready(Some(Err(HttpError::HttpResponseTimeout)))
            }
            Poll::Ready(Some(Err(e))) => Poll::Ready(Some(Err(HttpError::Hyper(e)))),
            Poll::Ready(None) => Poll::Ready(None),
            Poll::Pending => {
                ready!(this.quiet.as_mut().poll(cx));
                Poll::Ready(Some(Err(HttpError::ConnectionReadTimeout)))
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        self.incoming.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.incoming.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_request_waits_longer_than_the_plugins_io_wait() {
        let cap = Duration::from_millis(500);
        let none = capped(None, cap);
        assert_eq!(none.connect, cap);
        assert_eq!(none.first_byte, cap);
        assert_eq!(none.between_bytes, cap);
        let short = Duration::from_millis(20);
        let asked = RequestOptions {
            connect_timeout: Some(short),
            first_byte_timeout: Some(Duration::from_secs(60)),
            between_bytes_timeout: Some(Duration::ZERO),
        };
        let got = capped(Some(asked), cap);
        assert_eq!(got.connect, short, "a shorter wait stays");
        assert_eq!(got.first_byte, cap);
        assert_eq!(got.between_bytes, Duration::from_nanos(1));
    }
}

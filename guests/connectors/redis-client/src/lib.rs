//! What the `redis` sink and the `redis` lookup source share: the connection props
//! (`addr`, `username`, `password`, the database), one connection held across calls
//! and re-made with back-off after it fails, the connection status the rule shows, and
//! values written as Redis strings.
//!
//! It speaks Redis through the `redis` crate's synchronous connection, which runs on
//! `std::net::TcpStream`: on `wasm32-wasip2` that is `wasi:sockets`, so every connect
//! goes through the host's network grants. A connect the operator did not grant fails
//! like an unreachable server ("permission denied"), and is retried the same way.

use redis::{ConnectionAddr, IntoConnectionInfo, RedisConnectionInfo};
use serde_json::{Map, Value as Json};
use std::time::{Duration, Instant};
use tributary_guest::context::{self, Connection as Status, Level};
use tributary_guest::props::str_prop;
use tributary_guest::{json, Value};

pub use redis;

/// How long a connect may take before it counts as a failure.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// The first wait after a failure; it doubles with each failure in a row, up to
/// [`MAX_BACKOFF`].
const FIRST_BACKOFF: Duration = Duration::from_millis(100);
const MAX_BACKOFF: Duration = Duration::from_secs(10);

/// Where the server is and how to log in.
#[derive(Debug, Clone)]
pub struct Server {
    /// `host:port`, as the user wrote it (for messages).
    pub addr: String,
    info: redis::ConnectionInfo,
}

impl Server {
    /// `addr` is `host:port` (an IPv6 host in brackets); `db` is 0 to 15.
    pub fn new(
        who: &str,
        addr: &str,
        username: Option<String>,
        password: Option<String>,
        db: i64,
    ) -> Result<Server, String> {
        let (host, port) = addr
            .rsplit_once(':')
            .and_then(|(h, p)| Some((h.trim_matches(['[', ']']), p.parse::<u16>().ok()?)))
            .filter(|(h, _)| !h.is_empty())
            .ok_or_else(|| {
                format!("{who}: addr must be host:port, like 127.0.0.1:6379, not {addr:?}")
            })?;
        if !(0..=15).contains(&db) {
            return Err(format!("{who}: the database must be 0 to 15, not {db}"));
        }
        let mut login = RedisConnectionInfo::default().set_db(db);
        if let Some(u) = username.filter(|u| !u.is_empty()) {
            login = login.set_username(u);
        }
        if let Some(p) = password.filter(|p| !p.is_empty()) {
            login = login.set_password(p);
        }
        let info = ConnectionAddr::Tcp(host.to_string(), port)
            .into_connection_info()
            .map_err(|e| format!("{who}: addr {addr:?}: {e}"))?
            .set_redis_settings(login);
        Ok(Server {
            addr: addr.to_string(),
            info,
        })
    }
}

/// One connection, made when first needed and made again after it fails, never more
/// often than the back-off allows.
pub struct Link {
    who: &'static str,
    server: Server,
    conn: Option<redis::Connection>,
    /// Failures in a row, and when the next connect may be tried.
    failures: u32,
    next_try: Option<Instant>,
    last_error: String,
}

impl Link {
    pub fn new(who: &'static str, server: Server) -> Link {
        Link {
            who,
            server,
            conn: None,
            failures: 0,
            next_try: None,
            last_error: String::new(),
        }
    }

    /// Connects now (`open`): a server that is away is reported, not fatal, and the
    /// first call tries again.
    pub fn connect(&mut self) {
        if let Err(e) = self.live() {
            context::log(Level::Warn, &e);
        }
    }

    /// The live connection, connecting first when there is none.
    fn live(&mut self) -> Result<&mut redis::Connection, String> {
        if self.conn.is_none() {
            if let Some(at) = self.next_try.filter(|at| Instant::now() < *at) {
                let wait = at.saturating_duration_since(Instant::now()).as_millis();
                return Err(format!(
                    "{}: redis at {} is unreachable ({}); the next try is in {wait} ms",
                    self.who, self.server.addr, self.last_error
                ));
            }
            context::set_connection(Status::Connecting, "");
            let made = redis::Client::open(self.server.info.clone())
                .and_then(|c| c.get_connection_with_timeout(CONNECT_TIMEOUT));
            match made {
                Ok(c) => {
                    self.conn = Some(c);
                    self.failures = 0;
                    self.next_try = None;
                    context::set_connection(Status::Connected, "");
                }
                Err(e) => {
                    self.failed(&e);
                    return Err(format!(
                        "{}: cannot connect to redis at {}: {e}",
                        self.who, self.server.addr
                    ));
                }
            }
        }
        self.conn
            .as_mut()
            .ok_or_else(|| format!("{}: not connected", self.who))
    }

    fn failed(&mut self, e: &redis::RedisError) {
        self.conn = None;
        self.failures = self.failures.saturating_add(1);
        let wait = FIRST_BACKOFF
            .saturating_mul(1 << self.failures.min(8).saturating_sub(1))
            .min(MAX_BACKOFF);
        self.next_try = Some(Instant::now() + wait);
        self.last_error = e.to_string();
        context::set_connection(Status::Disconnected, &self.last_error);
    }

    /// Runs `f` on the connection. An error of the connection (I/O, a timeout, the
    /// server gone) drops it, so the next call connects again; an error of the
    /// command (a wrong type, a refused login) leaves it.
    pub fn run<T>(
        &mut self,
        f: impl FnOnce(&mut redis::Connection) -> redis::RedisResult<T>,
    ) -> Result<T, String> {
        let conn = self.live()?;
        match f(conn) {
            Ok(v) => Ok(v),
            Err(e) => {
                if e.is_io_error() || e.is_connection_dropped() || e.is_timeout() {
                    self.failed(&e);
                }
                Err(format!("{}: redis at {}: {e}", self.who, self.server.addr))
            }
        }
    }

    /// Drops the connection (`close`).
    pub fn close(&mut self) {
        self.conn = None;
    }
}

/// A value as the Redis string it is stored as: text as itself, everything else as
/// the host writes it in JSON (`40.9`, `true`, `[1,2]`, `null`).
pub fn text(v: Value) -> String {
    match v {
        Value::Str(s) => s,
        other => json::to_json(other).to_string(),
    }
}

/// `dataType`: `string` (default, false) or `list` (true).
pub fn list_prop(who: &str, props: &Map<String, Json>) -> Result<bool, String> {
    match str_prop(who, props, "dataType")?.as_deref() {
        None | Some("string") => Ok(false),
        Some("list") => Ok(true),
        Some(other) => Err(format!(
            "{who}: dataType must be string or list, not {other:?}"
        )),
    }
}

/// The login props both connectors take.
pub fn server_from(who: &str, props: &Map<String, Json>, db: i64) -> Result<Server, String> {
    let addr = str_prop(who, props, "addr")?
        .filter(|a| !a.is_empty())
        .ok_or_else(|| format!("{who}: addr is required (host:port, like 127.0.0.1:6379)"))?;
    Server::new(
        who,
        &addr,
        str_prop(who, props, "username")?,
        str_prop(who, props, "password")?,
        db,
    )
}

//! The `modbus` source: polls a Modbus TCP device (holding and input registers,
//! coils, discrete inputs) every `interval` ms into one row, as a wasm component over
//! `wasi:sockets`.
//!
//! Conf (`etc/sources/modbus.yaml`; the stream's `DATASOURCE`, when set, is the
//! device's `addr`):
//!
//! - `addr`: `host:port` of the device (port 502 by convention);
//! - `unitId`: the unit (slave) id, 0 to 255, default 1;
//! - `interval`: ms between polls, default 1000;
//! - `timeout`: ms a connect or an answer may take, default 1000;
//! - `points`: the columns, each `{name, kind, address, count, type, scale}`
//!   (`points.rs`).
//!
//! A device that is away is not an error of the rule: the poll yields no row, the
//! rule's status shows the source disconnected with the reason, and each later poll
//! connects again; when the device is back the rows go on. An exception that says
//! the request itself is wrong (illegal function, address or value) ends the source
//! with the point named: asking again would not help.

mod frame;
mod points;

use frame::Refusal;
use points::Point;
use std::cell::{Cell, RefCell};
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::time::{Duration, Instant};
use tributary_guest::context::{self, Connection as Status, Level};
use tributary_guest::props::{int_prop, known_props, props_object, str_prop};
use tributary_guest::*;

const WHO: &str = "modbus source";
const KNOWN: &[&str] = &["addr", "unitId", "interval", "timeout", "points"];

struct ModbusPlugin;

impl SourcePlugin for ModbusPlugin {
    type Instance = ModbusSource;

    fn describe() -> SourceInfo {
        SourceInfo {
            rewindable: false,
            lookup: false,
        }
    }
}

struct Conf {
    addr: String,
    unit: u8,
    interval: Duration,
    timeout: Duration,
    points: Vec<Point>,
}

fn ranged(
    p: &serde_json::Map<String, serde_json::Value>,
    key: &str,
    default: i64,
    max: i64,
) -> Result<i64, String> {
    match int_prop(WHO, p, key)? {
        None => Ok(default),
        Some(n) if (0..=max).contains(&n) => Ok(n),
        Some(n) => Err(format!("{WHO}: {key} must be 0 to {max}, not {n}")),
    }
}

fn conf(datasource: &str, text: &str) -> Result<Conf, String> {
    let p = props_object(WHO, text)?;
    known_props(WHO, &p, KNOWN)?;
    let addr = match (datasource.trim(), str_prop(WHO, &p, "addr")?) {
        ("", None) => {
            return Err(format!(
                "{WHO}: addr is required (host:port, like 127.0.0.1:502)"
            ))
        }
        ("", Some(a)) => a,
        (ds, _) => ds.to_string(),
    };
    let interval = ranged(&p, "interval", 1000, 86_400_000)?;
    if interval == 0 {
        return Err(format!("{WHO}: interval must be at least 1 ms"));
    }
    let timeout = ranged(&p, "timeout", 1000, 60_000)?.max(1);
    Ok(Conf {
        addr,
        unit: ranged(&p, "unitId", 1, 255)? as u8,
        interval: Duration::from_millis(interval as u64),
        timeout: Duration::from_millis(timeout as u64),
        points: points::parse(p.get("points")).map_err(|e| format!("{WHO}: {e}"))?,
    })
}

/// Why a poll failed.
enum Failure {
    /// The connection (connect, send, answer): the device is away.
    Link(String),
    /// The device answered with a refusal.
    Refused(Refusal, String),
}

struct ModbusSource {
    conf: Result<Conf, String>,
    conn: RefCell<Option<TcpStream>>,
    transaction: Cell<u16>,
    next_poll: Cell<Option<Instant>>,
    /// Whether the last poll reached the device (the status changes only on a change).
    up: Cell<Option<bool>>,
}

impl ModbusSource {
    fn connect(&self, c: &Conf) -> Result<TcpStream, String> {
        let addrs: Vec<SocketAddr> = c
            .addr
            .to_socket_addrs()
            .map_err(|e| format!("{WHO}: addr {:?}: {e}", c.addr))?
            .collect();
        let mut last = format!("{WHO}: addr {:?} names no address", c.addr);
        for a in addrs {
            match TcpStream::connect_timeout(&a, c.timeout) {
                Ok(s) => {
                    s.set_read_timeout(Some(c.timeout))
                        .and_then(|()| s.set_write_timeout(Some(c.timeout)))
                        .map_err(|e| format!("{WHO}: timeouts on {a}: {e}"))?;
                    let _ = s.set_nodelay(true);
                    return Ok(s);
                }
                Err(e) => last = format!("{WHO}: cannot connect to {a}: {e}"),
            }
        }
        Err(last)
    }

    /// One read of `point` on the connection.
    fn read(&self, c: &Conf, s: &mut TcpStream, point: &Point) -> Result<Value, Failure> {
        let t = self.transaction.get().wrapping_add(1);
        self.transaction.set(t);
        let req = frame::request(t, c.unit, point.table, point.address, point.quantity());
        let link = |e: std::io::Error| Failure::Link(format!("{WHO}: {}: {e}", c.addr));
        s.write_all(&req).map_err(link)?;
        let mut prefix = [0u8; 6];
        s.read_exact(&mut prefix).map_err(link)?;
        let mut answer = prefix.to_vec();
        answer.resize(6 + frame::remaining(&prefix), 0);
        s.read_exact(&mut answer[6..]).map_err(link)?;
        let data = frame::data(&req, &answer).map_err(|r| match r {
            // Out of step with the device: start a new connection.
            Refusal::Malformed(m) => {
                Failure::Link(format!("{WHO}: {}: malformed answer: {m}", c.addr))
            }
            r => Failure::Refused(r, point.name.clone()),
        })?;
        point
            .decode(data)
            .map_err(|e| Failure::Link(format!("{WHO}: {}: {e}", c.addr)))
    }

    /// Reads every point into one row.
    fn poll(&self, c: &Conf) -> Result<Vec<Field>, Failure> {
        let mut conn = self.conn.borrow_mut();
        if conn.is_none() {
            context::set_connection(Status::Connecting, "");
            *conn = Some(self.connect(c).map_err(Failure::Link)?);
        }
        let Some(s) = conn.as_mut() else {
            return Err(Failure::Link(format!("{WHO}: not connected")));
        };
        let mut row = Vec::with_capacity(c.points.len());
        for p in &c.points {
            match self.read(c, s, p) {
                Ok(value) => row.push(Field {
                    name: p.name.clone(),
                    value,
                }),
                Err(e) => {
                    if matches!(e, Failure::Link(_)) {
                        *conn = None;
                    }
                    return Err(e);
                }
            }
        }
        Ok(row)
    }

    fn reached(&self, up: bool, why: &str) {
        if self.up.replace(Some(up)) == Some(up) {
            return;
        }
        if up {
            context::set_connection(Status::Connected, "");
        } else {
            context::set_connection(Status::Disconnected, why);
            context::log(Level::Warn, why);
        }
    }
}

impl SourceInstance for ModbusSource {
    fn new(datasource: String, props: String) -> Self {
        ModbusSource {
            conf: conf(&datasource, &props),
            conn: RefCell::new(None),
            transaction: Cell::new(0),
            next_poll: Cell::new(None),
            up: Cell::new(None),
        }
    }

    fn open(&self) -> Result<(), String> {
        self.conf.as_ref().map(|_| ()).map_err(String::clone)
    }

    fn pull(&self, _max: u32) -> Result<Pulled, String> {
        let c = self.conf.as_ref().map_err(String::clone)?;
        let now = Instant::now();
        if let Some(at) = self.next_poll.get().filter(|at| now < *at) {
            return Ok(Pulled {
                messages: Vec::new(),
                done: false,
                wait_ms: at.duration_since(now).as_millis().max(1) as u32,
            });
        }
        // Polls keep to the grid of the interval, not drifting by the time a poll takes.
        let next = self.next_poll.get().map_or(now, |at| at) + c.interval;
        self.next_poll
            .set(Some(if next < now { now + c.interval } else { next }));
        let messages = match self.poll(c) {
            Ok(fields) => {
                self.reached(true, "");
                vec![Message {
                    payload: Payload::Fields(fields),
                    meta: Vec::new(),
                }]
            }
            Err(Failure::Link(why)) => {
                self.reached(false, &why);
                Vec::new()
            }
            Err(Failure::Refused(r, point)) if r.is_permanent() => {
                return Err(format!("{WHO}: {}: point {point}: {r}", c.addr));
            }
            Err(Failure::Refused(r, point)) => {
                context::log(
                    Level::Warn,
                    &format!("{WHO}: {}: point {point}: {r}; the poll is skipped", c.addr),
                );
                Vec::new()
            }
        };
        let wait = self.next_poll.get().map_or(c.interval, |at| {
            at.saturating_duration_since(Instant::now())
        });
        Ok(Pulled {
            messages,
            done: false,
            wait_ms: wait.as_millis().max(1) as u32,
        })
    }

    fn close(&self) {
        *self.conn.borrow_mut() = None;
    }

    fn offset(&self) -> Option<String> {
        None
    }

    fn rewind(&self, _offset: String) -> Result<(), String> {
        Err(format!(
            "{WHO}: a device's registers cannot be read again from the past"
        ))
    }

    fn lookup(
        &self,
        _fields: Vec<String>,
        _keys: Vec<String>,
        _values: Vec<Value>,
    ) -> Result<Vec<Vec<Field>>, String> {
        Err(format!("{WHO}: it cannot back a lookup table"))
    }
}

tributary_guest::export_source_plugin!(ModbusPlugin);

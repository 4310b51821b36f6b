//! Probes of the network sandbox, for the grant tests: a plugin reaches the hosts and
//! ports its manifest asked for and the operator granted, and nothing else; anything
//! else is an error the plugin sees (and reports as the row's error), not a trap.
//!
//! - `tcpAsk(addr, line)`: connects to `addr` (`host:port`) over `wasi:sockets`,
//!   sends the line, answers the line the server sends back;
//! - `udpAsk(addr, text)`: sends one datagram to `addr`, answers the reply;
//! - `httpGet(url)`: a GET over `wasi:http`, answered as `<status> <body>`;
//! - `sleepMs(n)`: blocks n ms in the host (a wait, not CPU), returns n.

use std::io::{BufRead, BufReader, Write};
use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::time::Duration;
use tributary_guest::*;
use wasi::clocks::monotonic_clock::subscribe_duration;
use wasi::io::poll::poll;
use wasi::sockets::instance_network::instance_network;
use wasi::sockets::network::{
    ErrorCode as SocketError, IpAddressFamily, IpSocketAddress, Ipv4SocketAddress,
};
use wasi::sockets::udp::OutgoingDatagram;
use wasi::sockets::udp_create_socket::create_udp_socket;

struct Probe;

const NAMES: [&str; 4] = ["tcpAsk", "udpAsk", "httpGet", "sleepMs"];

impl FunctionPlugin for Probe {
    type Instance = Inst;

    fn describe() -> PluginInfo {
        scalars(&NAMES)
    }

    fn validate(name: String, args: Vec<ArgInfo>) -> Result<(), String> {
        let n = if matches!(name.as_str(), "httpGet" | "sleepMs") {
            1
        } else {
            2
        };
        expect_args(&name, &args, n, n)
    }
}

struct Inst {
    name: String,
}

fn text(v: &Value) -> Result<String, String> {
    match v {
        Value::Str(s) => Ok(s.clone()),
        other => Err(format!("expected a string, got {other:?}")),
    }
}

fn err(e: impl std::fmt::Display) -> String {
    e.to_string()
}

const WAIT: Duration = Duration::from_secs(5);

fn tcp_ask(addr: &str, line: &str) -> Result<String, String> {
    let to = addr
        .to_socket_addrs()
        .map_err(err)?
        .next()
        .ok_or("no address")?;
    let mut s = TcpStream::connect_timeout(&to, WAIT).map_err(err)?;
    s.set_read_timeout(Some(WAIT)).map_err(err)?;
    s.write_all(format!("{line}\n").as_bytes()).map_err(err)?;
    let mut reply = String::new();
    BufReader::new(s).read_line(&mut reply).map_err(err)?;
    Ok(reply.trim_end().to_string())
}

/// Over `wasi:sockets/udp` directly: the standard library has no UDP on wasip2.
fn udp_ask(addr: &str, text: &str) -> Result<String, String> {
    let to = addr
        .to_socket_addrs()
        .map_err(err)?
        .next()
        .ok_or("no address")?;
    let SocketAddr::V4(v4) = to else {
        return Err("udpAsk probes IPv4 addresses only".into());
    };
    let ip4 = |ip: std::net::Ipv4Addr| {
        let o = ip.octets();
        (o[0], o[1], o[2], o[3])
    };
    let remote = IpSocketAddress::Ipv4(Ipv4SocketAddress {
        port: v4.port(),
        address: ip4(*v4.ip()),
    });
    let local = IpSocketAddress::Ipv4(Ipv4SocketAddress {
        port: 0,
        address: (0, 0, 0, 0),
    });
    let sock = create_udp_socket(IpAddressFamily::Ipv4).map_err(code)?;
    sock.start_bind(&instance_network(), local).map_err(code)?;
    sock.subscribe().block();
    sock.finish_bind().map_err(code)?;
    let (incoming, outgoing) = sock.stream(Some(remote)).map_err(code)?;
    outgoing.subscribe().block();
    outgoing.check_send().map_err(code)?;
    outgoing
        .send(&[OutgoingDatagram {
            data: text.as_bytes().to_vec(),
            remote_address: None,
        }])
        .map_err(code)?;
    let timeout = subscribe_duration(WAIT.as_nanos() as u64);
    let arrived = incoming.subscribe();
    if !poll(&[&arrived, &timeout]).contains(&0) {
        return Err(format!("no reply within {} s", WAIT.as_secs()));
    }
    let got = incoming.receive(1).map_err(code)?;
    let first = got.first().ok_or("no datagram")?;
    Ok(String::from_utf8_lossy(&first.data).into_owned())
}

/// A socket error as WASI names it (`access-denied`).
fn code(e: SocketError) -> String {
    format!("{}: {}", e.name(), e.message())
}

fn http_get(url: &str) -> Result<String, String> {
    let r = http::request("GET", url, &[], &[])?;
    Ok(format!("{} {}", r.status, r.text()))
}

impl Inst {
    fn one(&self, args: &[Value]) -> Result<Value, String> {
        if let ("sleepMs", Value::Int(n)) = (self.name.as_str(), &args[0]) {
            std::thread::sleep(Duration::from_millis((*n).max(0) as u64));
            return Ok(Value::Int(*n));
        }
        let a = text(&args[0])?;
        match self.name.as_str() {
            "tcpAsk" => tcp_ask(&a, &text(&args[1])?).map(Value::Str),
            "udpAsk" => udp_ask(&a, &text(&args[1])?).map(Value::Str),
            "httpGet" => http_get(&a).map(Value::Str),
            other => Err(format!("no function {other}")),
        }
    }
}

impl FunctionInstance for Inst {
    fn new(name: String) -> Self {
        Inst { name }
    }

    fn exec(&self, args: Vec<Column>, rows: u32) -> Results {
        row_by_row(&args, rows, |row| self.one(row))
    }

    fn exec_groups(&self, groups: Vec<Vec<Column>>) -> Results {
        not_aggregate(&self.name, groups.len())
    }
}

tributary_guest::export_function_plugin!(Probe);

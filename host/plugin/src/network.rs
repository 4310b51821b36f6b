//! Network grants: which hosts and ports a sandboxed plugin may reach.
//!
//! A manifest asks and `etc/wasm.yaml` grants, in the same syntax; the plugin gets
//! the intersection ([`intersect`]). Denied by default: a plugin that asks for nothing,
//! or is granted nothing, gets no network at all. An entry is either
//!
//! - `{"host": "127.0.0.1", "ports": [6379]}`: TCP and UDP to that host and those
//!   ports, and HTTP requests to them (`ports` left out: every port), or
//! - `"http://127.0.0.1:8086"`: HTTP requests only, with that scheme, host and port
//!   (the scheme's port when none is written).
//!
//! A host is a name (`db.local`, matched without case), an IP address, an IP network
//! (`192.168.1.0/24`), a name pattern (`*.example.com`: any name below it) or `*`
//! (anything). A socket only sees the address it connects to, so a name in a grant is
//! resolved when a connection is checked (see the wasm tier's `network` module).

use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize};
use std::net::IpAddr;

/// A host as a grant writes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HostPattern {
    Any,
    /// `*.suffix`: a name ending in `.suffix` (kept lower-case, without the `*.`).
    Below(String),
    /// A name, lower-case.
    Name(String),
    Ip(IpAddr),
    /// An address and a prefix length.
    Net(IpAddr, u8),
}

impl HostPattern {
    pub fn parse(s: &str) -> Result<Self, String> {
        let s = s.trim();
        if s.is_empty() {
            return Err("a host may not be empty".into());
        }
        if s == "*" {
            return Ok(HostPattern::Any);
        }
        if let Some(suffix) = s.strip_prefix("*.") {
            return name(suffix).map(HostPattern::Below);
        }
        if let Some((addr, bits)) = s.split_once('/') {
            let ip: IpAddr = addr
                .parse()
                .map_err(|_| format!("{s}: not an IP network (address/prefix)"))?;
            let max = if ip.is_ipv4() { 32 } else { 128 };
            let bits: u8 = bits
                .parse()
                .ok()
                .filter(|b| *b <= max)
                .ok_or_else(|| format!("{s}: the prefix length must be 0 to {max}"))?;
            return Ok(HostPattern::Net(ip, bits));
        }
        // `[::1]` as URLs write it.
        let bare = s.trim_start_matches('[').trim_end_matches(']');
        if let Ok(ip) = bare.parse() {
            return Ok(HostPattern::Ip(ip));
        }
        name(s).map(HostPattern::Name)
    }

    /// Whether `ip` is this host, for an IP or network (a name never matches an
    /// address here: it is resolved by the caller).
    pub fn covers_ip(&self, ip: IpAddr) -> bool {
        match self {
            HostPattern::Any => true,
            HostPattern::Ip(a) => same_ip(*a, ip),
            HostPattern::Net(net, bits) => in_net(ip, *net, *bits),
            HostPattern::Below(_) | HostPattern::Name(_) => false,
        }
    }

    /// Whether the host a request names (a name or an address literal) is this host.
    pub fn covers_host(&self, host: &str) -> bool {
        let bare = host.trim_start_matches('[').trim_end_matches(']');
        if let Ok(ip) = bare.parse::<IpAddr>() {
            return self.covers_ip(ip);
        }
        let host = bare.trim_end_matches('.').to_ascii_lowercase();
        match self {
            HostPattern::Any => true,
            HostPattern::Name(n) => *n == host,
            HostPattern::Below(s) => host.len() > s.len() + 1 && host.ends_with(&format!(".{s}")),
            HostPattern::Ip(_) | HostPattern::Net(..) => false,
        }
    }

    /// The hosts both patterns allow, when that is one pattern; `None` when they have
    /// nothing in common or it cannot be known before resolving a name.
    fn meet(&self, other: &HostPattern) -> Option<HostPattern> {
        use HostPattern::*;
        match (self, other) {
            (Any, x) | (x, Any) => Some(x.clone()),
            (Name(n), p) | (p, Name(n)) if p.covers_host(n) || matches!(p, Name(m) if m == n) => {
                Some(Name(n.clone()))
            }
            (Below(a), Below(b)) => {
                let (long, short) = if a.len() >= b.len() { (a, b) } else { (b, a) };
                (long == short || long.ends_with(&format!(".{short}"))).then(|| Below(long.clone()))
            }
            (Ip(a), p) | (p, Ip(a)) if p.covers_ip(*a) => Some(Ip(*a)),
            (Net(a, x), Net(b, y)) => {
                let (wide, narrow) = if x <= y {
                    ((a, x), (b, y))
                } else {
                    ((b, y), (a, x))
                };
                in_net(*narrow.0, *wide.0, *wide.1).then_some(Net(*narrow.0, *narrow.1))
            }
            _ => None,
        }
    }
}

impl std::fmt::Display for HostPattern {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            HostPattern::Any => f.write_str("*"),
            HostPattern::Below(s) => write!(f, "*.{s}"),
            HostPattern::Name(n) => f.write_str(n),
            HostPattern::Ip(ip) => write!(f, "{ip}"),
            HostPattern::Net(ip, bits) => write!(f, "{ip}/{bits}"),
        }
    }
}

fn name(s: &str) -> Result<String, String> {
    let ok = s
        .split('.')
        .all(|l| !l.is_empty() && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'));
    if ok {
        Ok(s.to_ascii_lowercase())
    } else {
        Err(format!(
            "{s}: not a host name, IP address, network or pattern"
        ))
    }
}

/// IPv4 and its IPv6-mapped form are the same host.
fn same_ip(a: IpAddr, b: IpAddr) -> bool {
    a.to_canonical() == b.to_canonical()
}

fn in_net(ip: IpAddr, net: IpAddr, bits: u8) -> bool {
    match (ip.to_canonical(), net.to_canonical()) {
        (IpAddr::V4(i), IpAddr::V4(n)) => {
            let mask = u32::MAX.checked_shl(32 - u32::from(bits)).unwrap_or(0);
            u32::from(i) & mask == u32::from(n) & mask
        }
        (IpAddr::V6(i), IpAddr::V6(n)) => {
            let mask = u128::MAX.checked_shl(128 - u32::from(bits)).unwrap_or(0);
            u128::from(i) & mask == u128::from(n) & mask
        }
        _ => false,
    }
}

/// What an entry opens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reach {
    /// Sockets and HTTP.
    Any,
    /// HTTP requests with this scheme (`http`, `https`) only.
    Http(String),
}

/// One network entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NetGrant {
    pub host: HostPattern,
    /// `None`: every port.
    pub ports: Option<Vec<u16>>,
    pub reach: Reach,
}

impl NetGrant {
    /// Whether a connection to `port` on a host this entry covers is allowed.
    pub fn allows_port(&self, port: u16) -> bool {
        self.ports.as_ref().is_none_or(|p| p.contains(&port))
    }

    /// Whether an HTTP request with `scheme` to `host`:`port` is allowed.
    pub fn allows_request(&self, scheme: &str, host: &str, port: u16) -> bool {
        let scheme_ok = match &self.reach {
            Reach::Any => true,
            Reach::Http(s) => s.eq_ignore_ascii_case(scheme),
        };
        scheme_ok && self.allows_port(port) && self.host.covers_host(host)
    }

    fn meet(&self, other: &NetGrant) -> Option<NetGrant> {
        let host = self.host.meet(&other.host)?;
        let reach = match (&self.reach, &other.reach) {
            (Reach::Any, r) | (r, Reach::Any) => r.clone(),
            (Reach::Http(a), Reach::Http(b)) if a.eq_ignore_ascii_case(b) => Reach::Http(a.clone()),
            _ => return None,
        };
        let ports = match (&self.ports, &other.ports) {
            (None, p) | (p, None) => p.clone(),
            (Some(a), Some(b)) => Some(a.iter().copied().filter(|p| b.contains(p)).collect()),
        };
        if ports.as_ref().is_some_and(Vec::is_empty) {
            return None;
        }
        Some(NetGrant { host, ports, reach })
    }

    /// From a URL entry: `scheme://host[:port]`, nothing after the authority.
    fn from_url(s: &str) -> Result<Self, String> {
        let (scheme, rest) = s
            .split_once("://")
            .ok_or_else(|| format!("{s}: expected {{\"host\", \"ports\"}} or an http(s) URL"))?;
        let scheme = scheme.to_ascii_lowercase();
        let default = match scheme.as_str() {
            "http" => 80,
            "https" => 443,
            _ => return Err(format!("{s}: only http and https URLs are grants")),
        };
        let authority = rest.strip_suffix('/').unwrap_or(rest);
        if authority.contains(['/', '?', '#', '@']) {
            return Err(format!(
                "{s}: a URL grant is a scheme, host and port, without a path"
            ));
        }
        // The port is after the last `:` outside brackets.
        let (host, port) = match authority.rfind(':') {
            Some(i) if !authority[i..].contains(']') => {
                let port = &authority[i + 1..];
                let port: u16 = port
                    .parse()
                    .map_err(|_| format!("{s}: {port} is not a port"))?;
                (&authority[..i], port)
            }
            _ => (authority, default),
        };
        Ok(NetGrant {
            host: HostPattern::parse(host).map_err(|e| format!("{s}: {e}"))?,
            ports: Some(vec![port]),
            reach: Reach::Http(scheme),
        })
    }
}

impl std::fmt::Display for NetGrant {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.reach {
            Reach::Http(s) => write!(f, "{s}://{}", self.host)?,
            Reach::Any => write!(f, "{}", self.host)?,
        }
        match &self.ports {
            None => f.write_str(":*"),
            Some(p) => {
                let p: Vec<String> = p.iter().map(u16::to_string).collect();
                write!(f, ":{}", p.join(","))
            }
        }
    }
}

#[derive(Deserialize)]
#[serde(untagged)]
enum Written {
    Url(String),
    Host(HostEntry),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct HostEntry {
    host: String,
    #[serde(default)]
    ports: Option<Vec<u16>>,
}

impl<'de> Deserialize<'de> for NetGrant {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let written = Written::deserialize(d).map_err(|_| {
            D::Error::custom(
                "a network entry is {\"host\": \"…\", \"ports\": […]} or an http(s) URL",
            )
        })?;
        match written {
            Written::Url(s) => NetGrant::from_url(&s).map_err(D::Error::custom),
            Written::Host(h) => {
                if h.ports
                    .as_ref()
                    .is_some_and(|p| p.is_empty() || p.contains(&0))
                {
                    return Err(D::Error::custom(format!(
                        "{}: ports must be 1 to 65535 (leave `ports` out for every port)",
                        h.host
                    )));
                }
                Ok(NetGrant {
                    host: HostPattern::parse(&h.host).map_err(D::Error::custom)?,
                    ports: h.ports,
                    reach: Reach::Any,
                })
            }
        }
    }
}

impl Serialize for NetGrant {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_string())
    }
}

/// A `network` list, as manifests and grants write it; `true` (what the key once
/// was, refused) or anything but a list is named as such.
pub fn entries<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<NetGrant>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Written {
        List(Vec<serde_json::Value>),
        Other(serde_json::Value),
    }
    match Written::deserialize(d)? {
        Written::List(items) => items
            .into_iter()
            .map(|v| NetGrant::deserialize(v).map_err(D::Error::custom))
            .collect(),
        Written::Other(v) => Err(D::Error::custom(format!(
            "capabilities.network is a list of {{\"host\", \"ports\"}} entries and http(s) URLs, not {v}"
        ))),
    }
}

/// What a plugin that asks `asked` gets when the operator grants `granted`: every
/// part of an asked entry that a granted entry also covers. An asked entry nothing
/// covers is returned in the second list (the host logs it: asked, not granted).
pub fn intersect(asked: &[NetGrant], granted: &[NetGrant]) -> (Vec<NetGrant>, Vec<NetGrant>) {
    let mut effective = Vec::new();
    let mut refused = Vec::new();
    for a in asked {
        let met: Vec<NetGrant> = granted.iter().filter_map(|g| a.meet(g)).collect();
        if met.is_empty() {
            refused.push(a.clone());
        }
        for m in met {
            if !effective.contains(&m) {
                effective.push(m);
            }
        }
    }
    (effective, refused)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entries(json: &str) -> Vec<NetGrant> {
        serde_json::from_str(json).expect("entries")
    }

    fn shown(v: &[NetGrant]) -> Vec<String> {
        v.iter().map(ToString::to_string).collect()
    }

    #[test]
    fn entries_parse_in_both_forms_and_bad_ones_are_named() {
        let e = entries(
            r#"[{"host": "127.0.0.1", "ports": [6379]}, "http://db.local:8086/", "https://*.example.com",
                {"host": "10.0.0.0/8"}, {"host": "[::1]", "ports": [80, 81]}]"#,
        );
        assert_eq!(
            shown(&e),
            [
                "127.0.0.1:6379",
                "http://db.local:8086",
                "https://*.example.com:443",
                "10.0.0.0/8:*",
                "::1:80,81"
            ]
        );
        for (bad, says) in [
            (r#"["ftp://x"]"#, "only http and https"),
            (r#"["http://x/path"]"#, "without a path"),
            (r#"["http://x:99999"]"#, "is not a port"),
            (r#"[{"host": "a b"}]"#, "not a host name"),
            (r#"[{"host": "10.0.0.0/40"}]"#, "prefix length"),
            (r#"[{"host": "x", "ports": []}]"#, "ports must be"),
            (r#"[{"host": "x", "port": 1}]"#, "a network entry is"),
            (r#"[true]"#, "a network entry is"),
        ] {
            let e = serde_json::from_str::<Vec<NetGrant>>(bad).expect_err(bad);
            assert!(e.to_string().contains(says), "{bad}: {e}");
        }
    }

    #[test]
    fn hosts_match_names_addresses_networks_and_patterns() {
        let p = |s: &str| HostPattern::parse(s).expect("pattern");
        assert!(p("*.example.com").covers_host("a.b.Example.com"));
        assert!(!p("*.example.com").covers_host("example.com"));
        assert!(!p("*.example.com").covers_host("badexample.com"));
        assert!(p("db.local").covers_host("DB.local."));
        assert!(p("127.0.0.1").covers_ip("::ffff:127.0.0.1".parse().expect("ip")));
        assert!(p("192.168.1.0/24").covers_host("192.168.1.77"));
        assert!(!p("192.168.1.0/24").covers_host("192.168.2.1"));
        assert!(p("::1").covers_host("[::1]"));
        assert!(!p("localhost").covers_ip("127.0.0.1".parse().expect("ip")));
    }

    #[test]
    fn a_plugin_gets_what_it_asks_and_the_operator_grants() {
        let asked = entries(
            r#"[{"host": "*", "ports": [6379, 6380]}, "http://*:8086", {"host": "*.corp", "ports": [1]}]"#,
        );
        let granted = entries(r#"[{"host": "127.0.0.1", "ports": [6379, 8086]}]"#);
        let (eff, refused) = intersect(&asked, &granted);
        assert_eq!(shown(&eff), ["127.0.0.1:6379", "http://127.0.0.1:8086"]);
        assert_eq!(shown(&refused), ["*.corp:1"]);
        // Nothing granted: nothing.
        let (eff, refused) = intersect(&asked, &[]);
        assert!(eff.is_empty());
        assert_eq!(refused.len(), 3);
        // Networks and patterns narrow to the smaller side.
        let (eff, _) = intersect(
            &entries(r#"[{"host": "10.0.0.0/8"}, {"host": "*.example.com"}]"#),
            &entries(r#"[{"host": "10.1.0.0/16"}, {"host": "*.eu.example.com", "ports": [443]}]"#),
        );
        assert_eq!(shown(&eff), ["10.1.0.0/16:*", "*.eu.example.com:443"]);
    }

    #[test]
    fn requests_check_scheme_host_and_port() {
        let g = entries(r#"["http://127.0.0.1:8086", {"host": "db.local", "ports": [6379]}]"#);
        assert!(g[0].allows_request("http", "127.0.0.1", 8086));
        assert!(!g[0].allows_request("https", "127.0.0.1", 8086));
        assert!(!g[0].allows_request("http", "127.0.0.1", 8087));
        assert!(g[1].allows_request("https", "db.local", 6379));
        assert!(g[1].allows_port(6379) && !g[1].allows_port(6380));
    }
}

//! The network a wasm instance may reach: its plugin's effective grants
//! ([`tributary_plugin::network`]) applied to `wasi:sockets` and `wasi:http`.
//!
//! Both ask the same [`Guard`], one per store. A socket is checked by the address it
//! binds, connects or sends to (WASI hands the host an IP address, so a granted name
//! is resolved to compare it); an HTTP request by its scheme, host and port, before
//! any connection is made. A refusal is an error *to the guest* (`access-denied`,
//! `HTTP-request-denied`), never a trap: a connector plugin reports it as a failed
//! delivery or an error row and the rule carries on. Each refusal is logged with the
//! plugin and rule and counted in the plugin's `network_denied`.
//!
//! Binding is allowed only to an ephemeral port of the unspecified address (what a
//! client socket does before it connects or sends): listening for connections is not
//! something a grant gives. A UDP datagram from a host outside the grants is dropped
//! before the guest sees it.

use std::net::{SocketAddr, ToSocketAddrs};
use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;
use tributary_plugin::network::{HostPattern, NetGrant, Reach};
use tributary_plugin::PluginMetrics;
use wasmtime_wasi::sockets::SocketAddrUse;
use wasmtime_wasi::WasiCtxBuilder;

/// One instance's network policy.
pub struct Guard {
    grants: Vec<NetGrant>,
    plugin: String,
    rule: String,
    metrics: Arc<PluginMetrics>,
}

impl Guard {
    pub fn new(
        grants: Vec<NetGrant>,
        plugin: &str,
        rule: &str,
        metrics: Arc<PluginMetrics>,
    ) -> Arc<Self> {
        Arc::new(Guard {
            grants,
            plugin: plugin.to_string(),
            rule: rule.to_string(),
            metrics,
        })
    }

    /// Opens the sockets of `b` to this policy: every connect, send and bind goes
    /// through [`Guard::allows_socket`], even without a grant, so a refusal is logged
    /// and counted like any other. Name lookup stays closed without a grant for
    /// sockets (a lookup of a chosen name would already leak data to the resolver).
    pub fn apply(self: &Arc<Self>, b: &mut WasiCtxBuilder) {
        let sockets = self.grants.iter().any(|g| g.reach == Reach::Any);
        b.allow_tcp(true)
            .allow_udp(true)
            .allow_ip_name_lookup(sockets);
        let me = self.clone();
        b.socket_addr_check(move |addr, usage| {
            let ok = me.allows_socket(addr, usage);
            Box::pin(std::future::ready(ok))
        });
    }

    /// Whether a socket may be used so.
    pub fn allows_socket(&self, addr: SocketAddr, usage: SocketAddrUse) -> bool {
        let ok = match usage {
            SocketAddrUse::TcpBind | SocketAddrUse::UdpBind => {
                addr.ip().is_unspecified() && addr.port() == 0
            }
            SocketAddrUse::TcpListen | SocketAddrUse::TcpAccept => false,
            SocketAddrUse::TcpConnect | SocketAddrUse::UdpSend | SocketAddrUse::UdpReceive => self
                .grants
                .iter()
                .filter(|g| g.reach == Reach::Any && g.allows_port(addr.port()))
                .any(|g| covers_addr(&g.host, addr)),
        };
        if !ok {
            self.denied(&format!("{usage:?} {addr}"));
        }
        ok
    }

    /// Whether an HTTP request with `scheme` to `host`:`port` may be sent.
    pub fn allows_request(&self, scheme: &str, host: &str, port: u16) -> bool {
        let ok = self
            .grants
            .iter()
            .any(|g| g.allows_request(scheme, host, port));
        if !ok {
            self.denied(&format!("HTTP request to {scheme}://{host}:{port}"));
        }
        ok
    }

    fn denied(&self, what: &str) {
        self.metrics.network_denied.fetch_add(1, Relaxed);
        tracing::warn!(plugin = %self.plugin, rule = %self.rule, "network access denied (not granted in etc/wasm.yaml): {what}");
    }
}

/// Whether `addr` is a host of `pattern`: directly for addresses and networks, by
/// resolving it for a name. A name pattern (`*.example.com`) cannot be checked
/// against an address, so it only opens HTTP requests, which name their host.
fn covers_addr(pattern: &HostPattern, addr: SocketAddr) -> bool {
    match pattern {
        HostPattern::Name(name) => {
            (name.as_str(), addr.port())
                .to_socket_addrs()
                .is_ok_and(|mut found| {
                    found.any(|a| a.ip().to_canonical() == addr.ip().to_canonical())
                })
        }
        p => p.covers_ip(addr.ip()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn guard(json: &str) -> (Arc<Guard>, Arc<PluginMetrics>) {
        let grants: Vec<NetGrant> = serde_json::from_str(json).expect("grants");
        let metrics = Arc::new(PluginMetrics::default());
        (Guard::new(grants, "p", "r", metrics.clone()), metrics)
    }

    fn addr(s: &str) -> SocketAddr {
        s.parse().expect("addr")
    }

    #[test]
    fn sockets_reach_granted_hosts_and_ports_only() {
        let (g, m) = guard(
            r#"[{"host": "127.0.0.1", "ports": [6379]}, {"host": "localhost", "ports": [1502]}]"#,
        );
        assert!(g.allows_socket(addr("127.0.0.1:6379"), SocketAddrUse::TcpConnect));
        assert!(g.allows_socket(addr("[::ffff:127.0.0.1]:6379"), SocketAddrUse::UdpSend));
        assert!(
            g.allows_socket(addr("127.0.0.1:1502"), SocketAddrUse::TcpConnect),
            "localhost resolves to it"
        );
        assert!(!g.allows_socket(addr("127.0.0.1:6380"), SocketAddrUse::TcpConnect));
        assert!(!g.allows_socket(addr("127.0.0.2:6379"), SocketAddrUse::TcpConnect));
        assert!(g.allows_socket(addr("0.0.0.0:0"), SocketAddrUse::UdpBind));
        assert!(
            !g.allows_socket(addr("0.0.0.0:8080"), SocketAddrUse::TcpBind),
            "no listening"
        );
        assert_eq!(m.network_denied.load(Relaxed), 3);
    }

    #[test]
    fn an_http_grant_opens_requests_not_sockets() {
        let (g, m) = guard(r#"["http://127.0.0.1:8086"]"#);
        assert!(g.allows_request("http", "127.0.0.1", 8086));
        assert!(!g.allows_request("http", "127.0.0.1", 8087));
        assert!(!g.allows_socket(addr("127.0.0.1:8086"), SocketAddrUse::TcpConnect));
        assert_eq!(m.network_denied.load(Relaxed), 2);
        let (none, _) = guard("[]");
        assert!(!none.allows_request("https", "example.com", 443));
    }
}

//! What the MQTT source and sink share: the connection props, read the eKuiper way,
//! and the rumqttc options they make.
//!
//! Props: `server` (`tcp://host:port`, `mqtt://`, `ssl://`, `tls://`, `mqtts://`;
//! default `tcp://127.0.0.1:1883`), `clientid` (the sink's `clientId`; default a
//! random one), `username`, `password`, `protocolVersion` (`3.1.1`; eKuiper's
//! default `3.1` connects as 3.1.1; `5` is refused), `qos` (0, 1 or 2), `keepAlive`
//! (seconds), and for TLS `rootCaPath`, `certificationPath` with `privateKeyPath`,
//! and `insecureSkipVerify` (take the broker's certificate unchecked:
//! [`crate::mqtt_tls`]).

use crate::props::PropReader;
use rumqttc::{MqttOptions, QoS, Transport};
use std::time::Duration;
use tributary_core::connector::Props;
use tributary_core::Result;

/// A broker connection, as configured.
#[derive(Debug, Clone)]
pub struct MqttConn {
    pub host: String,
    pub port: u16,
    pub client_id: String,
    pub qos: QoS,
    pub options: MqttOptions,
}

/// A client id that is unique enough between engines and runs.
fn random_client_id(prefix: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos() as u64 ^ d.as_secs())
        .unwrap_or(0);
    format!("{prefix}-{:x}-{nanos:x}", std::process::id())
}

pub fn qos(r: &PropReader<'_>) -> Result<QoS> {
    match r.int("qos")? {
        None | Some(1) => Ok(QoS::AtLeastOnce),
        Some(0) => Ok(QoS::AtMostOnce),
        Some(2) => Ok(QoS::ExactlyOnce),
        Some(n) => Err(r.rejected("qos", format!("must be 0, 1 or 2, got {n}"))),
    }
}

impl MqttConn {
    /// Reads the connection props; `id_key` names the client id prop (`clientid` for
    /// the source, `clientId` for the sink, as eKuiper spells them).
    pub fn from_props(props: &Props, owner: &str, id_key: &str) -> Result<MqttConn> {
        let r = PropReader::new(props, owner);
        let server = r
            .string("server")?
            .unwrap_or_else(|| "tcp://127.0.0.1:1883".into());
        let (scheme, rest) = server.split_once("://").unwrap_or(("tcp", server.as_str()));
        let tls = match scheme {
            "tcp" | "mqtt" => false,
            "ssl" | "tls" | "mqtts" => true,
            other => {
                return Err(r.rejected(
                    "server",
                    format!("scheme {other:?} is not one of tcp, mqtt, ssl, tls, mqtts"),
                ))
            }
        };
        let (host, port) = match rest.rsplit_once(':') {
            Some((h, p)) => (
                h.to_string(),
                p.trim_end_matches('/')
                    .parse::<u16>()
                    .map_err(|_| r.rejected("server", format!("bad port in {server:?}")))?,
            ),
            None => (rest.to_string(), if tls { 8883 } else { 1883 }),
        };
        if host.is_empty() {
            return Err(r.rejected("server", format!("no host in {server:?}")));
        }
        match r.string("protocolVersion")?.as_deref() {
            None | Some("3.1.1") | Some("4") => {}
            // eKuiper's default; every broker that speaks 3.1 also speaks 3.1.1, which
            // rumqttc does.
            Some("3.1") | Some("3") => {
                tracing::info!(broker = %format!("{host}:{port}"), "protocolVersion 3.1: connecting with MQTT 3.1.1");
            }
            Some(v) => {
                return Err(r.rejected(
                    "protocolVersion",
                    format!("{v:?} is not served; use 3.1 or 3.1.1"),
                ))
            }
        }
        let client_id = r
            .string(id_key)?
            .filter(|s| !s.is_empty())
            .unwrap_or_else(|| random_client_id("tributary"));
        let qos = qos(&r)?;
        let mut options = MqttOptions::new(client_id.clone(), host.clone(), port);
        options.set_keep_alive(Duration::from_secs(
            r.non_negative("keepAlive")?.unwrap_or(30).max(5),
        ));
        // A fixed client id keeps its session (and qos 1 messages) across reconnects.
        options.set_clean_session(r.string(id_key)?.filter(|s| !s.is_empty()).is_none());
        options.set_max_packet_size(64 << 20, 64 << 20);
        match (r.string("username")?, r.string("password")?) {
            (Some(u), p) if !u.is_empty() => {
                options.set_credentials(u, p.unwrap_or_default());
            }
            _ => {}
        }
        let insecure = r.bool("insecureSkipVerify")? == Some(true);
        let read = |key: &str| -> Result<Option<Vec<u8>>> {
            match r.string(key)?.filter(|s| !s.is_empty()) {
                None => Ok(None),
                Some(path) => std::fs::read(&path)
                    .map(Some)
                    .map_err(|e| r.rejected(key, format!("cannot read {path}: {e}"))),
            }
        };
        let ca = read("rootCaPath")?;
        let cert = read("certificationPath")?;
        let key = read("privateKeyPath")?;
        if tls || ca.is_some() || cert.is_some() || insecure {
            let client_auth = match (cert, key) {
                (Some(c), Some(k)) => Some((c, k)),
                (None, None) => None,
                _ => return Err(r.rejected("certificationPath", "and privateKeyPath go together")),
            };
            if insecure {
                tracing::warn!(broker = %format!("{host}:{port}"), "insecureSkipVerify: the broker's certificate is not checked");
                let config = crate::mqtt_tls::insecure_config(client_auth)
                    .map_err(|e| r.rejected("insecureSkipVerify", e))?;
                options.set_transport(Transport::tls_with_config(
                    rumqttc::TlsConfiguration::Rustls(config),
                ));
            } else {
                let ca = ca.ok_or_else(|| r.missing("rootCaPath"))?;
                options.set_transport(Transport::tls(ca, client_auth, None));
            }
        }
        Ok(MqttConn {
            host,
            port,
            client_id,
            qos,
            options,
        })
    }

    /// `host:port`, for logs and errors.
    pub fn addr(&self) -> String {
        format!("{}:{}", self.host, self.port)
    }
}

/// The wait before reconnect attempt `n` (from 0): 100 ms doubling up to 10 s.
pub fn backoff(n: u32) -> Duration {
    Duration::from_millis((100u64 << n.min(7)).min(10_000))
}

#[cfg(test)]
mod tests {
    use super::*;
    use tributary_core::Value;

    fn conn(version: &str) -> Result<MqttConn> {
        let props: Props = [("protocolVersion".to_string(), Value::str(version))]
            .into_iter()
            .collect();
        MqttConn::from_props(&props, "mqtt source", "clientid")
    }

    #[test]
    fn ekuipers_protocol_versions_are_taken_and_5_is_refused() {
        for v in ["3.1", "3", "3.1.1", "4"] {
            assert!(conn(v).is_ok(), "{v}");
        }
        let e = conn("5").expect_err("v5").to_string();
        assert!(e.contains("protocolVersion") && e.contains("3.1.1"), "{e}");
    }
}

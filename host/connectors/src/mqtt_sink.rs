//! eKuiper's MQTT sink: publishes each emission, as JSON text (or the text of
//! `dataTemplate`), to `topic` with `qos` and `retained`, on the broker its props
//! name (`server`, `clientId`, credentials, TLS files: [`crate::mqtt`]).
//!
//! The connection opens with the first emission and is kept, reconnecting with a
//! doubling back-off. Publications wait in the client's queue while the broker is
//! away, and at qos 1 or 2 they are sent again until the broker acknowledges them; a
//! checkpoint (`flush`) waits for those acknowledgements, so what a checkpoint counts
//! as delivered has reached the broker.

use crate::mqtt::{backoff, MqttConn};
use crate::props::PropReader;
use rumqttc::{AsyncClient, Event, Outgoing, Packet, QoS};
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tributary_core::connection::ConnectionStatus;
use tributary_core::connector::{BoxFuture, ConnectorContext, Props, Sink, SinkData};
use tributary_core::{Error, Result};

/// How long `flush` waits for the broker's acknowledgements.
const FLUSH_TIMEOUT: Duration = Duration::from_secs(30);

#[derive(Debug)]
pub struct MqttSink {
    conn: MqttConn,
    topic: String,
    retained: bool,
    rule_id: String,
    client: Option<AsyncClient>,
    /// Publications sent and not yet acknowledged (qos ≥ 1).
    unacked: Arc<AtomicI64>,
    connected: Arc<AtomicBool>,
    driver: Option<tokio::task::JoinHandle<()>>,
    status: Arc<ConnectionStatus>,
    clock: Arc<dyn tributary_core::Clock>,
}

impl MqttSink {
    pub fn new(props: &Props, ctx: &ConnectorContext) -> Result<Self> {
        let r = PropReader::new(props, "mqtt sink");
        let topic = r
            .string("topic")?
            .filter(|t| !t.is_empty())
            .ok_or_else(|| r.missing("topic"))?;
        if topic.contains(['+', '#']) {
            return Err(r.rejected(
                "topic",
                format!("{topic:?} has a wildcard; a sink publishes to one topic"),
            ));
        }
        Ok(MqttSink {
            conn: MqttConn::from_props(props, "mqtt sink", "clientId")?,
            topic,
            retained: r.bool("retained")?.unwrap_or(false),
            rule_id: ctx.rule_id.clone(),
            client: None,
            unacked: Arc::new(AtomicI64::new(0)),
            connected: Arc::new(AtomicBool::new(false)),
            driver: None,
            status: ctx.connection.clone(),
            clock: ctx.clock.clone(),
        })
    }

    /// The client, connecting (and starting the event loop) on first use.
    fn client(&mut self) -> AsyncClient {
        if let Some(c) = &self.client {
            return c.clone();
        }
        {
            let (client, mut events) = AsyncClient::new(self.conn.options.clone(), 4096);
            let unacked = self.unacked.clone();
            let connected = self.connected.clone();
            let addr = self.conn.addr();
            let rule = self.rule_id.clone();
            let (status, clock) = (self.status.clone(), self.clock.clone());
            status.connecting();
            self.driver = Some(tokio::spawn(async move {
                let mut failures: u32 = 0;
                loop {
                    match events.poll().await {
                        Ok(Event::Incoming(Packet::ConnAck(_))) => {
                            tracing::info!(rule = %rule, broker = %addr, "mqtt sink connected");
                            connected.store(true, Ordering::Relaxed);
                            status.connected(clock.now_ms());
                            failures = 0;
                        }
                        Ok(Event::Incoming(Packet::PubAck(_) | Packet::PubComp(_))) => {
                            unacked.fetch_sub(1, Ordering::Relaxed);
                        }
                        Ok(Event::Outgoing(Outgoing::Disconnect)) => return,
                        Ok(_) => {}
                        Err(e) => {
                            status.disconnected(clock.now_ms(), &e.to_string());
                            if connected.swap(false, Ordering::Relaxed) || failures == 0 {
                                tracing::warn!(rule = %rule, broker = %addr, error = %e, "mqtt sink disconnected; reconnecting");
                            }
                            let wait = backoff(failures);
                            failures = failures.saturating_add(1);
                            tokio::time::sleep(wait).await;
                        }
                    }
                }
            }));
            self.client = Some(client.clone());
            client
        }
    }
}

impl Sink for MqttSink {
    fn collect<'a>(&'a mut self, data: &'a SinkData) -> BoxFuture<'a, Result<()>> {
        Box::pin(async move {
            let payload = data.to_text().into_bytes();
            let (topic, qos, retained) = (self.topic.clone(), self.conn.qos, self.retained);
            if qos != QoS::AtMostOnce {
                self.unacked.fetch_add(1, Ordering::Relaxed);
            }
            // Waits while the client's queue is full: a broker that is away slows the
            // rule down instead of losing rows.
            self.client()
                .publish(topic, qos, retained, payload)
                .await
                .map_err(|e| Error::external(format!("mqtt sink: publish to {}: {e}", self.topic)))
        })
    }

    fn flush(&mut self) -> BoxFuture<'_, Result<()>> {
        Box::pin(async move {
            let start = std::time::Instant::now();
            while self.unacked.load(Ordering::Relaxed) > 0 {
                if start.elapsed() > FLUSH_TIMEOUT {
                    return Err(Error::external(format!(
                        "mqtt sink: {} publications to {} not acknowledged by {} within {} s",
                        self.unacked.load(Ordering::Relaxed),
                        self.topic,
                        self.conn.addr(),
                        FLUSH_TIMEOUT.as_secs()
                    )));
                }
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
            Ok(())
        })
    }

    fn close(&mut self) -> BoxFuture<'_, Result<()>> {
        Box::pin(async move {
            let flushed = if self.client.is_some() {
                self.flush().await
            } else {
                Ok(())
            };
            if let Some(c) = self.client.take() {
                let _ = c.disconnect().await;
            }
            if let Some(d) = self.driver.take() {
                let _ = tokio::time::timeout(Duration::from_secs(2), d).await;
            }
            flushed
        })
    }
}

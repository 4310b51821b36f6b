//! eKuiper's MQTT source: subscribes to the stream's DATASOURCE (a topic filter;
//! wildcards and shared subscriptions `$share/<group>/<filter>` work) on the broker
//! of its conf (`etc/mqtt_source.yaml`, eKuiper's file, or `etc/sources/mqtt.yaml`,
//! under the stream's CONF_KEY), and hands each message's payload to the stream's
//! FORMAT, with meta `{"topic", "qos", "messageId"}`.
//!
//! Messages go downstream in batches: rumqttc parses up to ten packets per socket
//! read, and the ones it holds ready are taken without waiting and sent as one batch
//! (up to [`MAX_BATCH`]), so a busy topic pays the pipeline's per-batch cost once per
//! read, not once per message. A quiet topic still gets each message at once.
//!
//! The connection is kept: when it drops, the source reconnects with a doubling
//! back-off (100 ms to 10 s) and subscribes again, logging each change. With a fixed
//! `clientid` the broker keeps the session, so qos 1 messages sent while the source
//! was away are delivered when it is back.

use crate::mqtt::{backoff, MqttConn};
use rumqttc::{AsyncClient, Event, Packet, QoS};
use std::sync::Arc;
use tributary_core::connection::ConnectionStatus;
use tributary_core::connector::{
    BoxFuture, ConnectorContext, Payload, Props, Source, SourceMessage, SourceSender,
};
use tributary_core::{Clock, Error, Object, Result, Value};

/// The most messages handed downstream in one batch.
const MAX_BATCH: usize = 256;

#[derive(Debug)]
pub struct MqttSource {
    conn: MqttConn,
    topic: String,
    clock: Arc<dyn Clock>,
    rule_id: String,
    status: Arc<ConnectionStatus>,
}

impl MqttSource {
    pub fn new(topic: &str, props: &Props, ctx: &ConnectorContext) -> Result<Self> {
        if topic.is_empty() {
            return Err(Error::user(
                "mqtt source needs a topic: set DATASOURCE to the topic filter",
            ));
        }
        Ok(MqttSource {
            conn: MqttConn::from_props(props, "mqtt source", "clientid")?,
            topic: topic.to_string(),
            clock: ctx.clock.clone(),
            rule_id: ctx.rule_id.clone(),
            status: ctx.connection.clone(),
        })
    }
}

fn qos_number(q: QoS) -> i64 {
    match q {
        QoS::AtMostOnce => 0,
        QoS::AtLeastOnce => 1,
        QoS::ExactlyOnce => 2,
    }
}

impl Source for MqttSource {
    fn run(self: Box<Self>, out: SourceSender) -> BoxFuture<'static, Result<()>> {
        Box::pin(async move {
            let (client, mut events) = AsyncClient::new(self.conn.options.clone(), 1024);
            let addr = self.conn.addr();
            let mut failures: u32 = 0;
            self.status.connecting();
            let mut batch: Vec<SourceMessage> = Vec::new();
            let mut batch_ts = 0;
            let mut last_meta: Option<(String, Arc<Object>)> = None;
            loop {
                // Events rumqttc already parsed come back without waiting: take them
                // into the batch, and send it once none are left (or it is full).
                if !batch.is_empty()
                    && (events.state.events.is_empty() || batch.len() >= MAX_BATCH)
                    && !out.send(std::mem::take(&mut batch)).await
                {
                    let _ = client.try_disconnect();
                    return Ok(());
                }
                match events.poll().await {
                    Ok(Event::Incoming(Packet::ConnAck(_))) => {
                        tracing::info!(rule = %self.rule_id, broker = %addr, topic = %self.topic, "mqtt source connected");
                        self.status.connected(self.clock.now_ms());
                        failures = 0;
                        // Queued for the event loop this task polls, so never awaited.
                        client
                            .try_subscribe(self.topic.clone(), self.conn.qos)
                            .map_err(|e| {
                                Error::external(format!(
                                    "mqtt source: subscribe {}: {e}",
                                    self.topic
                                ))
                            })?;
                    }
                    Ok(Event::Incoming(Packet::SubAck(s))) => {
                        if s.return_codes
                            .iter()
                            .any(|c| matches!(c, rumqttc::SubscribeReasonCode::Failure))
                        {
                            return Err(Error::external(format!(
                                "mqtt source: broker {addr} refused the subscription to {}",
                                self.topic
                            )));
                        }
                    }
                    Ok(Event::Incoming(Packet::Publish(p))) => {
                        // The messages of one read arrived together: one clock read.
                        if batch.is_empty() {
                            batch_ts = self.clock.now_ms();
                        }
                        let meta = match &last_meta {
                            // qos 0 messages of one topic have the same meta.
                            Some(m) if p.pkid == 0 && m.0 == p.topic => m.1.clone(),
                            _ => {
                                let mut meta = Object::new();
                                meta.insert("topic".into(), Value::str(&p.topic));
                                meta.insert("qos".into(), Value::Int(qos_number(p.qos)));
                                meta.insert("messageId".into(), Value::Int(i64::from(p.pkid)));
                                let meta = Arc::new(meta);
                                if p.pkid == 0 {
                                    last_meta = Some((p.topic.clone(), meta.clone()));
                                }
                                meta
                            }
                        };
                        batch.push(SourceMessage {
                            payload: Payload::Bytes(p.payload.to_vec()),
                            meta,
                            timestamp: batch_ts,
                            stream: 0,
                            position: None,
                        });
                    }
                    Ok(_) => {}
                    Err(e) => {
                        self.status
                            .disconnected(self.clock.now_ms(), &e.to_string());
                        let wait = backoff(failures);
                        if failures == 0 {
                            tracing::warn!(rule = %self.rule_id, broker = %addr, error = %e, "mqtt source disconnected; reconnecting");
                        } else {
                            tracing::debug!(rule = %self.rule_id, broker = %addr, error = %e, attempt = failures, "mqtt source still disconnected");
                        }
                        failures = failures.saturating_add(1);
                        tokio::time::sleep(wait).await;
                    }
                }
            }
        })
    }
}

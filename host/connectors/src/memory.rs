//! The in-process pub/sub hub behind the memory source and sink.
//!
//! eKuiper keeps its memory topics in a package-level map; here the engine owns a
//! [`MemoryHub`] and hands a clone to every memory connector, so two engines in one
//! process (tests, trial runs) never see each other's topics.
//!
//! Topics are `/`-separated levels. A subscription filter may use MQTT's wildcards:
//! `+` for exactly one level, `#` (last level only) for any number of levels,
//! including none (`a/#` matches `a`, `a/b`, `a/b/c`).
//!
//! Delivery is lossless: each subscriber has a bounded queue, and [`MemoryHub::publish`]
//! waits for room in every matching queue. A slow rule therefore slows the rules that
//! publish to it (back-pressure) instead of losing rows, which is where this differs
//! from eKuiper (it drops when a queue is full). The flip side: a cycle of rules that
//! feed each other through memory topics can stall once the queues are full.

use std::sync::{Arc, Mutex, MutexGuard};
use tokio::sync::mpsc;
use tributary_core::{Meta, Object, Row, Value};

/// What an updatable memory sink says to do with a row (`rowkindField`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RowKind {
    Insert,
    Update,
    Delete,
    Upsert,
}

impl RowKind {
    pub fn parse(s: &str) -> Option<RowKind> {
        match s {
            "insert" => Some(RowKind::Insert),
            "update" => Some(RowKind::Update),
            "delete" => Some(RowKind::Delete),
            "upsert" => Some(RowKind::Upsert),
            _ => None,
        }
    }
    pub fn as_str(self) -> &'static str {
        match self {
            RowKind::Insert => "insert",
            RowKind::Update => "update",
            RowKind::Delete => "delete",
            RowKind::Upsert => "upsert",
        }
    }
}

/// One published row, with its update verb and key when the sink is updatable.
#[derive(Debug, Clone, PartialEq)]
pub struct MemoryRow {
    /// The row as the publishing rule produced it: memory topics carry rows, so a
    /// rule reading another rule's output pays no conversion.
    pub data: Arc<Row>,
    pub rowkind: Option<RowKind>,
    pub key: Option<Value>,
}

impl MemoryRow {
    pub fn new(data: Object) -> Self {
        MemoryRow::from_row(Row::from_object(&data, Meta::default(), 0))
    }

    pub fn from_row(data: Row) -> Self {
        MemoryRow {
            data: Arc::new(data),
            rowkind: None,
            key: None,
        }
    }
}

/// One publication: the rows of one emission, shared by all subscribers.
#[derive(Debug, Clone)]
pub struct MemoryMessage {
    pub topic: Arc<str>,
    pub rows: Arc<Vec<MemoryRow>>,
    /// Publication time, epoch ms (from the engine clock).
    pub timestamp: i64,
}

/// A parsed subscription filter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TopicFilter {
    text: String,
    levels: Vec<String>,
}

impl TopicFilter {
    /// Parses a filter. `#` must be a whole level and the last one; `+` must be a
    /// whole level.
    pub fn parse(filter: &str) -> Result<TopicFilter, String> {
        if filter.is_empty() {
            return Err("invalid empty memory topic".to_string());
        }
        let levels: Vec<String> = filter.split('/').map(str::to_string).collect();
        for (i, level) in levels.iter().enumerate() {
            if level.contains('#') && (level != "#" || i != levels.len() - 1) {
                return Err(format!(
                    "invalid memory topic {filter}: # must be the whole last level"
                ));
            }
            if level.contains('+') && level != "+" {
                return Err(format!(
                    "invalid memory topic {filter}: + must be a whole level"
                ));
            }
        }
        Ok(TopicFilter {
            text: filter.to_string(),
            levels,
        })
    }

    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// Whether a concrete topic matches this filter.
    pub fn matches(&self, topic: &str) -> bool {
        let mut parts = topic.split('/');
        for level in &self.levels {
            match level.as_str() {
                "#" => return true,
                "+" => {
                    if parts.next().is_none() {
                        return false;
                    }
                }
                exact => {
                    if parts.next() != Some(exact) {
                        return false;
                    }
                }
            }
        }
        parts.next().is_none()
    }
}

/// Checks a topic a sink publishes to: non-empty, no wildcards.
pub fn validate_publish_topic(topic: &str) -> Result<(), String> {
    if topic.is_empty() {
        return Err("invalid empty memory topic".to_string());
    }
    if topic.contains(['+', '#']) {
        return Err(format!("invalid memory topic {topic}: wildcard found"));
    }
    Ok(())
}

struct Subscriber {
    id: u64,
    filter: TopicFilter,
    tx: mpsc::Sender<MemoryMessage>,
}

#[derive(Default)]
struct HubState {
    next_id: u64,
    subscribers: Vec<Subscriber>,
}

/// The shared topic space. Cloning shares it.
#[derive(Clone, Default)]
pub struct MemoryHub {
    state: Arc<Mutex<HubState>>,
}

impl std::fmt::Debug for MemoryHub {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MemoryHub")
            .field("subscribers", &self.subscriber_count())
            .finish()
    }
}

/// The default queue length of a subscription, in publications (eKuiper's
/// `bufferLength` default).
pub const DEFAULT_BUFFER_LENGTH: usize = 1024;

impl MemoryHub {
    pub fn new() -> Self {
        MemoryHub::default()
    }

    /// The state, even if a panicking thread poisoned the lock: the state is a list
    /// that is never left half-updated.
    fn lock(&self) -> MutexGuard<'_, HubState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Subscribes to `filter` with a queue of `buffer` publications (at least 1).
    /// Publications made from now on are queued; the subscription ends when the
    /// returned [`Subscription`] is dropped.
    pub fn subscribe(&self, filter: &str, buffer: usize) -> Result<Subscription, String> {
        let filter = TopicFilter::parse(filter)?;
        let (tx, rx) = mpsc::channel(buffer.max(1));
        let mut state = self.lock();
        let id = state.next_id;
        state.next_id += 1;
        state.subscribers.push(Subscriber {
            id,
            filter: filter.clone(),
            tx,
        });
        Ok(Subscription {
            id,
            filter,
            rx,
            hub: self.clone(),
        })
    }

    /// Delivers `msg` to every subscriber whose filter matches its topic, waiting for
    /// queue room (see the module doc). Returns how many subscribers received it.
    /// Subscribers that went away are forgotten.
    pub async fn publish(&self, msg: MemoryMessage) -> usize {
        let targets: Vec<(u64, mpsc::Sender<MemoryMessage>)> = self
            .lock()
            .subscribers
            .iter()
            .filter(|s| s.filter.matches(&msg.topic))
            .map(|s| (s.id, s.tx.clone()))
            .collect();
        let mut delivered = 0;
        let mut gone = Vec::new();
        let last = targets.len().saturating_sub(1);
        let mut msg = Some(msg);
        for (i, (id, tx)) in targets.into_iter().enumerate() {
            // The last subscriber gets the publication itself, so a lone subscriber
            // can take the rows without copying them.
            let m = if i == last { msg.take() } else { msg.clone() };
            let Some(m) = m else { break };
            if tx.send(m).await.is_ok() {
                delivered += 1;
            } else {
                gone.push(id);
            }
        }
        if !gone.is_empty() {
            self.lock().subscribers.retain(|s| !gone.contains(&s.id));
        }
        delivered
    }

    /// How many subscriptions are live.
    pub fn subscriber_count(&self) -> usize {
        self.lock().subscribers.len()
    }

    fn unsubscribe(&self, id: u64) {
        self.lock().subscribers.retain(|s| s.id != id);
    }
}

/// The receiving end of a subscription. Dropping it unsubscribes.
pub struct Subscription {
    id: u64,
    filter: TopicFilter,
    rx: mpsc::Receiver<MemoryMessage>,
    hub: MemoryHub,
}

impl std::fmt::Debug for Subscription {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Subscription")
            .field("id", &self.id)
            .field("filter", &self.filter.as_str())
            .finish()
    }
}

impl Subscription {
    /// The next publication. `None` only once the hub has forgotten this
    /// subscription, which does not happen while it is alive.
    pub async fn recv(&mut self) -> Option<MemoryMessage> {
        self.rx.recv().await
    }

    pub fn filter(&self) -> &str {
        self.filter.as_str()
    }
}

impl Drop for Subscription {
    fn drop(&mut self) {
        self.hub.unsubscribe(self.id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn msg(topic: &str, n: i64) -> MemoryMessage {
        let mut o = Object::new();
        o.insert("n".into(), Value::Int(n));
        MemoryMessage {
            topic: Arc::from(topic),
            rows: Arc::new(vec![MemoryRow::new(o)]),
            timestamp: 0,
        }
    }

    #[test]
    fn wildcards_match_like_mqtt() {
        let f = |s: &str| TopicFilter::parse(s).expect("filter");
        assert!(f("home/device1/+/sensor1").matches("home/device1/x/sensor1"));
        assert!(!f("home/device1/+/sensor1").matches("home/device1/x/y/sensor1"));
        assert!(f("home/device1/#").matches("home/device1/a/b"));
        assert!(f("home/device1/#").matches("home/device1"));
        assert!(!f("home/device1/#").matches("home/device2/a"));
        assert!(f("#").matches("anything/at/all"));
        assert!(f("a/b").matches("a/b"));
        assert!(!f("a/b").matches("a/b/c"));
        assert!(!f("a/+").matches("a"));
    }

    #[test]
    fn bad_filters_and_topics_are_rejected() {
        assert!(TopicFilter::parse("a/#/b").is_err());
        assert!(TopicFilter::parse("a/b+").is_err());
        assert!(TopicFilter::parse("").is_err());
        assert_eq!(
            validate_publish_topic("a/+"),
            Err("invalid memory topic a/+: wildcard found".to_string())
        );
    }

    #[tokio::test]
    async fn publish_reaches_matching_subscribers_only() {
        let hub = MemoryHub::new();
        let mut all = hub.subscribe("devices/#", 4).expect("sub");
        let mut one = hub.subscribe("devices/+/temp", 4).expect("sub");
        let mut other = hub.subscribe("other", 4).expect("sub");
        assert_eq!(hub.publish(msg("devices/a/temp", 1)).await, 2);
        assert_eq!(hub.publish(msg("devices/a/hum", 2)).await, 1);
        assert_eq!(
            all.recv().await.map(|m| m.rows[0].data.clone()),
            Some(msg("x", 1).rows[0].data.clone())
        );
        assert_eq!(&*all.recv().await.expect("second").topic, "devices/a/hum");
        assert_eq!(&*one.recv().await.expect("one").topic, "devices/a/temp");
        assert!(other.rx.try_recv().is_err());
    }

    #[tokio::test]
    async fn dropped_subscriptions_are_forgotten() {
        let hub = MemoryHub::new();
        let sub = hub.subscribe("t", 1).expect("sub");
        assert_eq!(hub.subscriber_count(), 1);
        drop(sub);
        assert_eq!(hub.subscriber_count(), 0);
        assert_eq!(hub.publish(msg("t", 1)).await, 0);
    }

    #[tokio::test]
    async fn full_queue_applies_back_pressure() {
        let hub = MemoryHub::new();
        let mut sub = hub.subscribe("t", 1).expect("sub");
        assert_eq!(hub.publish(msg("t", 1)).await, 1);
        let hub2 = hub.clone();
        let second = tokio::spawn(async move { hub2.publish(msg("t", 2)).await });
        // The second publish waits until the subscriber makes room.
        tokio::task::yield_now().await;
        assert!(!second.is_finished());
        assert!(sub.recv().await.is_some());
        assert_eq!(second.await.expect("join"), 1);
        let last = sub.recv().await.expect("second message");
        assert_eq!(last.rows[0].data.get("n"), Some(&Value::Int(2)));
    }
}

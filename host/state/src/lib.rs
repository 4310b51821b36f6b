//! Durable backends of the state API ([`tributary_core::state::StateStore`]), apart from
//! the tiers' host code: [`SqliteStateStore`] under `<root>/data/` (the embedded
//! default) and [`RedisStateStore`] (several nodes sharing state), chosen by the
//! `store` section of `<root>/etc/tributary.yaml` ([`StoreConfig`]).
//!
//! Both keep values in one text encoding ([`encoding`]) whose integers are plain
//! decimal, so that incrementing a counter is the store's own atomic operation
//! (an upsert in SQLite, `HINCRBY` in Redis) and a non-integer is refused by it.

pub mod checkpoint;
pub mod config;
pub mod conformance;
pub mod encoding;
pub mod redis_store;
pub mod sqlite;

pub use checkpoint::CheckpointStore;
pub use config::{open_store, StoreConfig};
pub use redis_store::RedisStateStore;
pub use sqlite::SqliteStateStore;

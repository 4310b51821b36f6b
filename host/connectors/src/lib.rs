//! The built-in connectors of Tributary, with eKuiper's names, props and semantics:
//!
//! - sources: [`file`](file_source), [`memory`](memory_source),
//!   [`mqtt`](mqtt_source), [`httppush`](http_push), [`httppull`](http_pull),
//!   [`simulator`];
//! - sinks: [`file`](file_sink), [`log`](log_sink), [`memory`](memory_sink),
//!   [`mqtt`](mqtt_sink), [`rest`](rest_sink), [`nop`](nop_sink);
//! - payload decoding by stream FORMAT ([`mod@format`]);
//! - the in-process topic space of memory connectors ([`memory::MemoryHub`]), owned
//!   by the engine;
//! - eKuiper-style YAML confs ([`conf`]) and the built-in factories ([`registry`]).
//!
//! Every connector takes its timestamps from the engine clock in the
//! [`ConnectorContext`](tributary_core::connector::ConnectorContext) and waits through
//! an injectable [`sleep::Sleeper`], so runs under a mock clock are exact and fast.

pub mod conf;
pub mod file_read;
pub mod file_sink;
pub mod file_source;
pub mod format;
pub mod http;
pub mod http_pull;
pub mod http_push;
pub mod log_sink;
pub mod memory;
pub mod memory_sink;
pub mod memory_source;
pub mod mqtt;
pub mod mqtt_sink;
pub mod mqtt_source;
pub mod mqtt_tls;
pub mod nop_sink;
pub mod offset;
pub mod props;
pub mod registry;
pub mod rest_sink;
pub mod simulator;
pub mod sleep;

pub use conf::load_source_conf;
pub use format::{decode, decode_as, decode_with_schema, Format};
pub use memory::MemoryHub;
pub use offset::SourceOffset;
pub use registry::{builtin_sinks, builtin_sources, with_builtins};
pub use sleep::{MockClockSleeper, NoSleep, Sleeper, TokioSleeper};

//! External functions: REST and gRPC services bound to SQL function names by eKuiper's
//! service files (`<root>/etc/services/*.json`), with no plugin code.

pub mod codec;
pub mod function;
pub mod http_rule;
pub mod invoke;
pub mod loader;
pub mod mapping;
pub mod runtime;
pub mod schema;
pub mod service;
pub mod state_endpoint;

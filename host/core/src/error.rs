//! Errors that cross crate boundaries, classified the way a user needs them: their input
//! was wrong, something outside failed, or we have a bug.

use thiserror::Error;

/// The error type of every public Tributary API.
#[derive(Debug, Error, Clone, PartialEq)]
pub enum Error {
    /// The user's input (SQL, DDL, JSON, a spec, a config file) is malformed or invalid.
    /// The message names what is wrong and where.
    #[error("{0}")]
    User(String),
    /// Something the engine was asked to find does not exist (stream, rule, plugin).
    #[error("{0}")]
    NotFound(String),
    /// The name is already taken.
    #[error("{0}")]
    Conflict(String),
    /// An external resource (file, network, plugin) failed.
    #[error("{0}")]
    External(String),
    /// An invariant of the engine was broken; always a bug.
    #[error("internal error: {0}")]
    Internal(String),
}

impl Error {
    pub fn user(msg: impl Into<String>) -> Self {
        Error::User(msg.into())
    }
    pub fn external(msg: impl Into<String>) -> Self {
        Error::External(msg.into())
    }
    pub fn not_found(msg: impl Into<String>) -> Self {
        Error::NotFound(msg.into())
    }
    pub fn internal(msg: impl Into<String>) -> Self {
        Error::Internal(msg.into())
    }
}

impl From<std::io::Error> for Error {
    fn from(e: std::io::Error) -> Self {
        Error::External(e.to_string())
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

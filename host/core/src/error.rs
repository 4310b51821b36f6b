//! Errors that cross crate boundaries, classified the way a user needs them: their input
//! was wrong, something outside failed, or we have a bug.
//!
//! An error keeps what caused it: [`Error::context`] wraps it with what was being
//! done (DataFusion's `Context(String, Box<Error>)`), and I/O failures keep the
//! `std::io::Error` they came from, so `source()` walks down to the root. The class
//! ([`Error::kind`]) is the innermost error's, whatever context was added.

use std::sync::Arc;
use thiserror::Error;

/// The error type of every public Tributary API.
#[derive(Debug, Error, Clone)]
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
    /// What was being done when the inner error happened.
    #[error("{0}: {1}")]
    Context(String, #[source] Box<Error>),
    /// An I/O failure, with its cause.
    #[error("{0}")]
    Io(String, #[source] Arc<std::io::Error>),
}

/// The class of an error: what the REST API maps to a status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    User,
    NotFound,
    Conflict,
    External,
    Internal,
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

    /// An I/O failure while doing `what` (`cannot read /x`), keeping the cause.
    pub fn io(what: impl Into<String>, e: std::io::Error) -> Self {
        let what = what.into();
        Error::Io(format!("{what}: {e}"), Arc::new(e))
    }

    /// This error, as the cause of `what` was being done.
    pub fn context(self, what: impl Into<String>) -> Self {
        Error::Context(what.into(), Box::new(self))
    }

    /// The class of the innermost error.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Error::User(_) => ErrorKind::User,
            Error::NotFound(_) => ErrorKind::NotFound,
            Error::Conflict(_) => ErrorKind::Conflict,
            Error::External(_) | Error::Io(..) => ErrorKind::External,
            Error::Internal(_) => ErrorKind::Internal,
            Error::Context(_, inner) => inner.kind(),
        }
    }
}

/// Errors compare by class and message (the causes they keep are not comparable).
impl PartialEq for Error {
    fn eq(&self, other: &Self) -> bool {
        self.kind() == other.kind() && self.to_string() == other.to_string()
    }
}

impl From<std::io::Error> for Error {
    fn from(e: std::io::Error) -> Self {
        Error::Io(e.to_string(), Arc::new(e))
    }
}

/// [`Error::context`] on results.
pub trait Context<T> {
    /// Adds what was being done to the error, if there is one.
    fn context(self, what: impl Into<String>) -> Result<T>;
    /// [`Context::context`] with the text made only on error.
    fn with_context<S: Into<String>>(self, what: impl FnOnce() -> S) -> Result<T>;
}

impl<T, E: Into<Error>> Context<T> for std::result::Result<T, E> {
    fn context(self, what: impl Into<String>) -> Result<T> {
        self.map_err(|e| e.into().context(what))
    }
    fn with_context<S: Into<String>>(self, what: impl FnOnce() -> S) -> Result<T> {
        self.map_err(|e| e.into().context(what()))
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;
    use std::error::Error as _;

    #[test]
    fn context_keeps_the_class_and_the_cause() {
        let io = std::io::Error::new(std::io::ErrorKind::NotFound, "no such file");
        let e: Result<()> = Err(Error::io("cannot read /x", io));
        let e = e.context("loading rule r1").expect_err("error");
        assert_eq!(
            e.to_string(),
            "loading rule r1: cannot read /x: no such file"
        );
        assert_eq!(e.kind(), ErrorKind::External);
        let cause = e.source().and_then(|c| c.source()).expect("the io error");
        assert_eq!(cause.to_string(), "no such file");
        assert_eq!(Error::user("bad").context("rule r").kind(), ErrorKind::User);
        assert_eq!(Error::user("x"), Error::user("x"));
        assert_ne!(Error::user("x"), Error::external("x"));
    }
}

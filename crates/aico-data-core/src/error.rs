//! One error enum for the whole core. Each variant maps to one stable string code
//! (`Error::code`), which crosses the N-API boundary unchanged and becomes
//! `AicoDataError.code` in TypeScript.

use std::fmt;

/// Result alias used across the core.
pub type Result<T, E = Error> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The master password does not unwrap the data key.
    #[error("wrong password: the key file could not be unlocked with this password")]
    WrongPassword,
    /// A file exists but is not what it should be (truncated, random bytes, tampered).
    #[error("corrupt: {0}")]
    Corrupt(String),
    /// SQL the engine rejected (syntax, unknown table, type mismatch...).
    #[error("{0}")]
    Sql(String),
    /// A UNIQUE / NOT NULL / CHECK / FOREIGN KEY constraint failed.
    #[error("constraint failed: {0}")]
    Constraint(String),
    /// The database stayed locked past the busy timeout, or no pooled connection
    /// became free within the acquisition timeout.
    #[error("busy: {0}")]
    Busy(String),
    /// The caller passed something the API does not accept.
    #[error("invalid argument: {0}")]
    InvalidArgument(String),
    /// The store (or the whole data layer) was closed.
    #[error("closed: {0} was closed")]
    Closed(&'static str),
    /// The file system refused (permissions, read-only folder, disk full, missing file).
    #[error("io: {0}")]
    Io(String),
    /// A denied operation (e.g. readfile()/writefile() in SQL).
    #[error("not authorized: {0}")]
    NotAuthorized(String),
    /// A data layer folder is already open in this process or another one.
    #[error("locked: {0}")]
    Locked(String),
    /// A value sealed under another key, place or associated data.
    #[error("decryption failed: {0}")]
    Decrypt(String),
    /// An operation ran past its time budget and was stopped (plugin SQL statements).
    #[error("timeout: {0}")]
    Timeout(String),
    /// A bug or an engine state we do not expect; the message says which.
    #[error("internal: {0}")]
    Internal(String),
}

impl Error {
    /// The stable code string for this error (never changes between versions).
    pub fn code(&self) -> &'static str {
        match self {
            Error::WrongPassword => "WRONG_PASSWORD",
            Error::Corrupt(_) => "CORRUPT",
            Error::Sql(_) => "SQL_ERROR",
            Error::Constraint(_) => "CONSTRAINT",
            Error::Busy(_) => "BUSY",
            Error::InvalidArgument(_) => "INVALID_ARGUMENT",
            Error::Closed(_) => "CLOSED",
            Error::Io(_) => "IO",
            Error::NotAuthorized(_) => "NOT_AUTHORIZED",
            Error::Locked(_) => "LOCKED",
            Error::Decrypt(_) => "CORRUPT",
            Error::Timeout(_) => "TIMEOUT",
            Error::Internal(_) => "INTERNAL",
        }
    }

    pub fn invalid(msg: impl fmt::Display) -> Self {
        Error::InvalidArgument(msg.to_string())
    }

    pub fn io(context: impl fmt::Display, err: std::io::Error) -> Self {
        Error::Io(format!("{context}: {err}"))
    }
}

impl From<std::io::Error> for Error {
    fn from(err: std::io::Error) -> Self {
        Error::Io(err.to_string())
    }
}

//! Maps engine errors to the core's codes.

use rusqlite::ffi::ErrorCode;

use crate::error::Error;

pub(crate) fn map(err: rusqlite::Error) -> Error {
    use rusqlite::Error as E;
    match err {
        E::SqliteFailure(e, msg) => {
            let text = msg.unwrap_or_else(|| e.to_string());
            match e.code {
                ErrorCode::ConstraintViolation => Error::Constraint(text),
                ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked => Error::Busy(text),
                ErrorCode::NotADatabase => Error::Corrupt(format!(
                    "{text} (the database file is damaged, not an aico-data database, or encrypted under another key)"
                )),
                ErrorCode::DatabaseCorrupt => Error::Corrupt(text),
                ErrorCode::CannotOpen
                | ErrorCode::ReadOnly
                | ErrorCode::PermissionDenied
                | ErrorCode::DiskFull
                | ErrorCode::SystemIoFailure
                | ErrorCode::NoLargeFileSupport => Error::Io(text),
                ErrorCode::AuthorizationForStatementDenied => Error::NotAuthorized(text),
                ErrorCode::TooBig => Error::InvalidArgument(text),
                _ => Error::Sql(text),
            }
        }
        E::SqlInputError { error, msg, .. }
            if error.code == ErrorCode::AuthorizationForStatementDenied || msg.starts_with("not authorized") =>
        {
            Error::NotAuthorized(msg)
        }
        E::SqlInputError { msg, sql, offset, .. } => Error::Sql(format!("{msg} (at offset {offset} of: {})", truncate(&sql, 200))),
        E::InvalidParameterCount(given, expected) => {
            Error::InvalidArgument(format!("statement takes {expected} parameter(s), {given} given"))
        }
        E::InvalidParameterName(name) => Error::InvalidArgument(format!("statement has no parameter named {name}")),
        E::NulError(e) => Error::InvalidArgument(format!("text contains a NUL byte: {e}")),
        E::MultipleStatement => Error::InvalidArgument("more than one statement in one call: use batch() or exec() for scripts".into()),
        E::InvalidPath(p) => Error::Io(format!("invalid path {}", p.display())),
        other => Error::Sql(other.to_string()),
    }
}

pub(crate) fn truncate(s: &str, n: usize) -> String {
    if s.len() <= n {
        return s.to_string();
    }
    let mut end = n;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &s[..end])
}

impl From<rusqlite::Error> for Error {
    fn from(e: rusqlite::Error) -> Self {
        map(e)
    }
}

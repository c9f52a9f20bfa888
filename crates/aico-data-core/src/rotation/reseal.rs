//! Values sealed with the data key *inside* libSQL (a second layer for secrets such as sync
//! identity keys, `data.crypto.seal(purpose, …)`) must follow the data key when it rotates.
//! Schemas declare such columns in [`REGISTRY`]; the rotation re-seals every value in its libSQL
//! copy before that copy replaces the database, so the re-seal is as atomic as the copy.

use rusqlite::params;

use crate::error::{Error, Result};
use crate::keys::{aead, DataKey, Store};
use crate::sql::backup::Conn;

/// `(table_name, column_name, purpose, aad_sql)`: the column holds values sealed under the
/// sub-purpose key `purpose`, with the bytes of the SQL expression `aad_sql` (evaluated on the
/// same row) as associated data. Written by schema migrations.
pub const REGISTRY: &str = "_aico_sealed_columns";

fn ident(name: &str) -> Result<&str> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && name.chars().next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if ok {
        Ok(name)
    } else {
        Err(Error::Corrupt(format!("{REGISTRY} names an invalid identifier {name:?}")))
    }
}

/// Re-seals every registered column of `conn` from `old` to `new`, in one transaction.
/// Returns how many values were re-sealed. A value that does not open under `old` is
/// `CORRUPT`: nothing is changed and the rotation stops before the copy replaces the database.
pub(crate) fn reseal_columns(conn: &Conn, old: &DataKey, new: &DataKey) -> Result<u64> {
    let map = crate::sql::errors::map;
    let exists: i64 =
        conn.query_row("SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND name = ?1", [REGISTRY], |r| r.get(0)).map_err(map)?;
    if exists == 0 {
        return Ok(0);
    }
    let entries: Vec<(String, String, String, String)> = {
        let mut stmt = conn
            .prepare(&format!("SELECT table_name, column_name, purpose, aad_sql FROM {REGISTRY} ORDER BY table_name, column_name"))
            .map_err(map)?;
        let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))).map_err(map)?;
        rows.collect::<std::result::Result<_, _>>().map_err(map)?
    };
    let tx = conn.unchecked_transaction().map_err(map)?;
    let mut count = 0u64;
    for (table, column, purpose, aad_sql) in entries {
        let (table, column) = (ident(&table)?, ident(&column)?);
        if Store::parse(&purpose).is_some() {
            return Err(Error::Corrupt(format!("{REGISTRY}: {purpose:?} is a store key, not a sub-purpose")));
        }
        let (old_key, new_key) = (old.subkey(&purpose)?, new.subkey(&purpose)?);
        let rows: Vec<(i64, Vec<u8>, Vec<u8>)> = {
            let sql = format!("SELECT rowid, \"{column}\", CAST(({aad_sql}) AS BLOB) FROM \"{table}\" WHERE \"{column}\" IS NOT NULL");
            let mut stmt = tx.prepare(&sql).map_err(map)?;
            let rows =
                stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get::<_, Option<Vec<u8>>>(2)?.unwrap_or_default()))).map_err(map)?;
            rows.collect::<std::result::Result<_, _>>().map_err(map)?
        };
        let update = format!("UPDATE \"{table}\" SET \"{column}\" = ?1 WHERE rowid = ?2");
        for (rowid, sealed, aad) in rows {
            let plain = zeroize::Zeroizing::new(
                aead::open(old_key.bytes(), &sealed, &aad)
                    .map_err(|_| Error::Corrupt(format!("{table}.{column} (row {rowid}) does not open under the current data key")))?,
            );
            let resealed = aead::seal(new_key.bytes(), &plain, &aad)?;
            tx.execute(&update, params![resealed, rowid]).map_err(map)?;
            count += 1;
        }
    }
    tx.commit().map_err(map)?;
    Ok(count)
}

//! The declared mapping from libSQL tables to analytics tables: which columns are copied,
//! with which types, and how changes and deletions are recognised. Adapting the ETL to a
//! schema change means editing this list, nothing else.

use crate::analytics::column_type::ColumnType;
use crate::analytics::raw::quote_ident;
use crate::analytics::time::EpochUnit;
use crate::error::{Error, Result};

/// One analytics column.
#[derive(Debug, Clone, PartialEq)]
pub struct ColumnMapping {
    /// Column name in DuckDB, and in libSQL unless `source` says otherwise.
    pub name: String,
    pub ty: ColumnType,
    /// SQL expression over the source row (libSQL dialect), used instead of the column.
    pub source: Option<String>,
    /// SQL expression used when the source table has no column `name` (for example a
    /// lookup through another table). Without one, a missing column is copied as NULL.
    pub fallback: Option<String>,
}

/// One libSQL table copied into DuckDB under the same name.
#[derive(Debug, Clone, PartialEq)]
pub struct TableMapping {
    pub table: String,
    /// The primary key column (must be one of `columns`): how updates and deletions find
    /// their analytics row.
    pub key: String,
    /// A soft-delete column: rows where it is not NULL are removed from analytics.
    pub soft_delete: Option<String>,
    pub columns: Vec<ColumnMapping>,
}

impl ColumnMapping {
    pub fn new(name: &str, ty: ColumnType) -> Self {
        ColumnMapping { name: name.into(), ty, source: None, fallback: None }
    }

    pub fn with_fallback(mut self, expr: &str) -> Self {
        self.fallback = Some(expr.into());
        self
    }
}

/// The name the ETL reserves for its staging flag.
pub(crate) const DELETED_FLAG: &str = "_deleted";

fn check_ident(what: &str, name: &str) -> Result<()> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && name.bytes().next().is_some_and(|b| b.is_ascii_alphabetic() || b == b'_')
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
    if ok && !name.starts_with("_aico") {
        Ok(())
    } else {
        Err(Error::invalid(format!("{what} {name:?} must be a plain identifier (letters, digits, _) not starting with _aico")))
    }
}

impl TableMapping {
    /// Checks names (they are spliced into SQL) and the key.
    pub fn validate(&self) -> Result<()> {
        check_ident("table", &self.table)?;
        if self.columns.is_empty() {
            return Err(Error::invalid(format!("table {} maps no columns", self.table)));
        }
        for c in &self.columns {
            check_ident("column", &c.name)?;
            if c.name == DELETED_FLAG {
                return Err(Error::invalid(format!("column name {DELETED_FLAG} is reserved")));
            }
        }
        if let Some(sd) = &self.soft_delete {
            check_ident("soft-delete column", sd)?;
        }
        let mut names: Vec<&str> = self.columns.iter().map(|c| c.name.as_str()).collect();
        names.sort_unstable();
        if names.windows(2).any(|w| w[0] == w[1]) {
            return Err(Error::invalid(format!("table {} maps a column twice", self.table)));
        }
        if !self.columns.iter().any(|c| c.name == self.key) {
            return Err(Error::invalid(format!("key {} of table {} is not a mapped column", self.key, self.table)));
        }
        Ok(())
    }

    pub fn types(&self) -> Vec<ColumnType> {
        self.columns.iter().map(|c| c.ty).collect()
    }

    /// `CREATE TABLE` of the analytics table (or of its staging table, with the flag column).
    pub(crate) fn create_sql(&self, name: &str, temp: bool, with_deleted_flag: bool) -> String {
        let mut cols: Vec<String> = self.columns.iter().map(|c| format!("{} {}", quote_ident(&c.name), c.ty.sql())).collect();
        if with_deleted_flag {
            cols.push(format!("{DELETED_FLAG} BOOLEAN"));
        }
        format!("CREATE OR REPLACE {}TABLE {} ({})", if temp { "TEMP " } else { "" }, quote_ident(name), cols.join(", "))
    }

    /// What must match between a stored analytics table and this mapping for incremental
    /// sync (a change means a rebuild).
    pub fn fingerprint(&self) -> String {
        let cols: Vec<String> = self
            .columns
            .iter()
            .map(|c| {
                format!("{}:{}:{}:{}", c.name, c.ty.fingerprint(), c.source.as_deref().unwrap_or(""), c.fallback.as_deref().unwrap_or(""))
            })
            .collect();
        format!("v1|{}|key={}|sd={}|{}", self.table, self.key, self.soft_delete.as_deref().unwrap_or(""), cols.join(","))
    }

    /// The select list over the source table, given the columns it actually has. `key` replaces
    /// the key column's expression (the change log's key, which outlives deleted rows).
    pub(crate) fn select_list(&self, present: &[String], key: Option<&str>) -> Result<String> {
        let has = |n: &str| present.iter().any(|p| p.eq_ignore_ascii_case(n));
        if !has(&self.key) {
            return Err(Error::invalid(format!("libSQL table {} has no key column {}", self.table, self.key)));
        }
        Ok(self
            .columns
            .iter()
            .map(|c| match (&c.source, has(&c.name), &c.fallback) {
                _ if c.name == self.key && key.is_some() => key.unwrap_or_default().to_string(),
                (Some(expr), _, _) => format!("({expr})"),
                (None, true, _) => format!("{}.{}", quote_ident(&self.table), quote_ident(&c.name)),
                (None, false, Some(expr)) => format!("({expr})"),
                (None, false, None) => "NULL".to_string(),
            })
            .collect::<Vec<_>>()
            .join(", "))
    }
}

/// The core tables of the AI companion: conversations, messages and memories.
///
/// Timestamps are read as ISO-8601 text or as epoch milliseconds (`Date.now()`); a column a
/// given schema lacks is copied as NULL (or through its fallback), so reports keep working.
pub fn core_mappings() -> Vec<TableMapping> {
    use ColumnType::*;
    let ts = Timestamp(EpochUnit::Millis);
    let col = ColumnMapping::new;
    vec![
        TableMapping {
            table: "conversations".into(),
            key: "id".into(),
            soft_delete: Some("deleted_at".into()),
            columns: vec![col("id", Text), col("user_id", Text), col("title", Text), col("created_at", ts), col("updated_at", ts)],
        },
        TableMapping {
            table: "messages".into(),
            key: "id".into(),
            soft_delete: Some("deleted_at".into()),
            columns: vec![
                col("id", Text),
                col("conversation_id", Text),
                col("user_id", Text).with_fallback("SELECT c.user_id FROM conversations c WHERE c.id = messages.conversation_id"),
                col("role", Text),
                col("content", Text),
                col("sentiment", Real),
                col("response_time_ms", Integer),
                col("model", Text),
                col("prompt_tokens", Integer),
                col("completion_tokens", Integer),
                col("created_at", ts),
            ],
        },
        TableMapping {
            table: "memories".into(),
            key: "id".into(),
            soft_delete: Some("deleted_at".into()),
            columns: vec![
                col("id", Text),
                col("user_id", Text),
                col("type", Text),
                col("content", Text),
                col("importance", Real),
                col("confidence", Real),
                col("access_count", Integer),
                col("created_at", ts),
                col("updated_at", ts),
            ],
        },
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn core_mappings_are_valid_and_adapt_to_missing_columns() {
        for m in core_mappings() {
            m.validate().unwrap();
        }
        let msgs = &core_mappings()[1];
        let present: Vec<String> = ["id", "conversation_id", "content"].iter().map(|s| s.to_string()).collect();
        let list = msgs.select_list(&present, None).unwrap();
        assert!(list.starts_with("\"messages\".\"id\", \"messages\".\"conversation_id\", (SELECT c.user_id"));
        assert!(list.contains("NULL"));
        assert!(msgs.select_list(&["content".to_string()], None).is_err());
        assert!(msgs.select_list(&present, Some("_chg.row_key")).unwrap().starts_with("_chg.row_key, "));
    }

    #[test]
    fn rejects_names_that_are_not_identifiers() {
        let mut m = core_mappings().remove(0);
        m.table = "x; DROP TABLE y".into();
        assert_eq!(m.validate().unwrap_err().code(), "INVALID_ARGUMENT");
        let mut m = core_mappings().remove(0);
        m.key = "nope".into();
        assert!(m.validate().is_err());
    }
}

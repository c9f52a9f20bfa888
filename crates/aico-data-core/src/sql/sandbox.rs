//! Plugin sandboxes: while a policy is set on a connection, SQLite's authorizer only lets
//! statements touch objects whose names start with the policy's prefix.
//!
//! Authorization happens when a statement is prepared, so sandboxed statements are never
//! taken from (or put into) the prepared-statement cache. Rules (owned(x): lower(x) starts
//! with the prefix); the global deny-list of `connection.rs` applies first:
//! - READ/INSERT/UPDATE/DELETE: owned table, or `sqlite_sequence`; the catalog
//!   (`sqlite_master`/`sqlite_temp_master`) only while DDL is allowed (SQLite reads and writes
//!   it during DDL; the DDL action itself is checked separately). Foreign-key parent lookups are
//!   READs too, so a foreign key into a core table fails at write time.
//! - CREATE/DROP TABLE/VIEW (temp too): DDL allowed and owned name (or `sqlite_sequence`).
//! - CREATE/DROP INDEX/TRIGGER: DDL allowed, owned table, owned object name or
//!   `sqlite_autoindex_<prefix>...`.
//! - ALTER TABLE, REINDEX: DDL allowed and owned. CREATE/DROP VIRTUAL TABLE: DDL allowed,
//!   owned, module `fts5`.
//! - PRAGMA: `data_version` (FTS5 reads it); table_info/table_xinfo/index_list/index_info/
//!   index_xinfo/foreign_key_list on owned names; nothing else.
//! - TRANSACTION, SAVEPOINT, ATTACH, DETACH, ANALYZE: denied (the data layer owns transactions).
//! - SELECT, FUNCTION, RECURSIVE: allowed.

use rusqlite::hooks::{AuthAction, Authorization};

/// What a sandboxed statement may touch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SandboxPolicy {
    prefix: String,
    allow_ddl: bool,
}

impl SandboxPolicy {
    /// `prefix` (e.g. `plugin_notes_`) is compared case-insensitively; it must be a plain
    /// identifier prefix of at least 3 characters.
    pub fn new(prefix: &str, allow_ddl: bool) -> crate::Result<SandboxPolicy> {
        let ok = prefix.len() >= 3
            && prefix.len() <= 64
            && prefix.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
            && !prefix.to_ascii_lowercase().starts_with("sqlite_");
        if !ok {
            return Err(crate::Error::invalid(format!("sandbox prefix {prefix:?} must be 3-64 of [A-Za-z0-9_]")));
        }
        Ok(SandboxPolicy { prefix: prefix.to_ascii_lowercase(), allow_ddl })
    }

    fn owned(&self, name: &str) -> bool {
        name.len() >= self.prefix.len() && name[..self.prefix.len()].eq_ignore_ascii_case(&self.prefix)
    }

    fn owned_index(&self, name: &str) -> bool {
        self.owned(name)
            || name
                .to_ascii_lowercase()
                .strip_prefix("sqlite_autoindex_")
                .is_some_and(|rest| rest.starts_with(&self.prefix))
    }

    fn catalog(name: &str) -> bool {
        name.eq_ignore_ascii_case("sqlite_master")
            || name.eq_ignore_ascii_case("sqlite_temp_master")
            || name.eq_ignore_ascii_case("sqlite_schema")
            || name.eq_ignore_ascii_case("sqlite_temp_schema")
    }

    pub(crate) fn authorize(&self, action: &AuthAction<'_>) -> Authorization {
        use AuthAction as A;
        let ddl = self.allow_ddl;
        let allow = match *action {
            A::Read { table_name: t, .. }
            | A::Insert { table_name: t }
            | A::Update { table_name: t, .. }
            | A::Delete { table_name: t } => {
                self.owned(t) || t.eq_ignore_ascii_case("sqlite_sequence") || (ddl && Self::catalog(t))
            }
            A::CreateTable { table_name: t }
            | A::CreateTempTable { table_name: t }
            | A::DropTable { table_name: t }
            | A::DropTempTable { table_name: t } => ddl && (self.owned(t) || t.eq_ignore_ascii_case("sqlite_sequence")),
            A::CreateView { view_name: v }
            | A::CreateTempView { view_name: v }
            | A::DropView { view_name: v }
            | A::DropTempView { view_name: v } => ddl && self.owned(v),
            A::CreateIndex { index_name: i, table_name: t }
            | A::CreateTempIndex { index_name: i, table_name: t }
            | A::DropIndex { index_name: i, table_name: t }
            | A::DropTempIndex { index_name: i, table_name: t } => ddl && self.owned(t) && self.owned_index(i),
            A::CreateTrigger { trigger_name: i, table_name: t }
            | A::CreateTempTrigger { trigger_name: i, table_name: t }
            | A::DropTrigger { trigger_name: i, table_name: t }
            | A::DropTempTrigger { trigger_name: i, table_name: t } => ddl && self.owned(t) && self.owned(i),
            A::AlterTable { table_name: t, .. } => ddl && self.owned(t),
            A::Reindex { index_name: i } => ddl && self.owned_index(i),
            A::CreateVtable { table_name: t, module_name: m } | A::DropVtable { table_name: t, module_name: m } => {
                ddl && self.owned(t) && m.eq_ignore_ascii_case("fts5")
            }
            A::Pragma { pragma_name: p, pragma_value: v } => {
                let p = p.to_ascii_lowercase();
                p == "data_version"
                    || (matches!(
                        p.as_str(),
                        "table_info" | "table_xinfo" | "index_list" | "index_info" | "index_xinfo" | "foreign_key_list"
                    ) && v.is_some_and(|v| self.owned(v.trim_matches(|c| c == '\'' || c == '"'))))
            }
            A::Transaction { .. } | A::Savepoint { .. } | A::Attach { .. } | A::Detach { .. } | A::Analyze { .. } => false,
            A::Select | A::Function { .. } | A::Recursive => true,
            _ => false,
        };
        if allow {
            Authorization::Allow
        } else {
            Authorization::Deny
        }
    }
}

//! Plugin sandboxes: while a policy is set on a connection, SQLite's authorizer only lets
//! statements touch objects whose names start with the policy's prefix, and the statement
//! runs under the policy's limits (time budget, value size, result size).
//!
//! Authorization happens when a statement is prepared, so sandboxed statements are never
//! taken from (or put into) the prepared-statement cache. Rules (owned(x): x starts with the
//! prefix, ASCII case-insensitively); the global deny-list of `connection.rs` applies first:
//! - READ/INSERT/UPDATE/DELETE: owned table; the catalog (`sqlite_master`/`sqlite_temp_master`)
//!   only while DDL is allowed (SQLite reads and writes it during DDL; the DDL action itself is
//!   checked separately). `sqlite_sequence` is never reachable: it is shared with the core (a
//!   plugin that raised `outbox`'s sequence to i64::MAX stopped every core write), which is
//!   also why plugin tables may not use AUTOINCREMENT. Foreign-key parent lookups are READs
//!   too, so a foreign key into a core table fails at write time.
//! - CREATE/DROP TABLE/VIEW (temp too): DDL allowed and owned name.
//! - CREATE/DROP INDEX/TRIGGER: DDL allowed, owned table, owned object name or
//!   `sqlite_autoindex_<prefix>...`.
//! - ALTER TABLE, REINDEX: DDL allowed and owned. CREATE/DROP VIRTUAL TABLE: DDL allowed,
//!   owned, module `fts5`.
//! - PRAGMA: `data_version` (FTS5 reads it); table_info/table_xinfo/index_list/index_info/
//!   index_xinfo/foreign_key_list on owned names; nothing else.
//! - TRANSACTION, SAVEPOINT, ATTACH, DETACH, ANALYZE: denied (the data layer owns transactions).
//! - SELECT, FUNCTION, RECURSIVE: allowed.
//!
//! Plugin objects keep their plugin's rights wherever they run: [`SandboxPolicy::for_accessor`]
//! gives the policy of the plugin that owns a trigger or view (`plugin_<name>_*`), and the
//! connection's authorizer applies it to everything compiled inside that trigger or view body,
//! on every connection, sandboxed or not. So a plugin trigger fired by a host write cannot read
//! `users` or write `messages`.

use std::time::Duration;

use rusqlite::hooks::{AuthAction, Authorization};

/// What a sandboxed statement may use: time, value size and result size.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SandboxLimits {
    /// Wall-clock budget of one call (prepare + every step); past it the statement is
    /// interrupted and fails with `TIMEOUT`.
    pub timeout: Duration,
    /// Largest string, blob or row the statement may create or read (`SQLITE_LIMIT_LENGTH`);
    /// larger ones fail with `INVALID_ARGUMENT` (SQLite's "too big").
    pub max_value_bytes: i32,
    /// Largest result a query may return (sum of text/blob lengths, 8 bytes per other value).
    pub max_result_bytes: usize,
    /// Most rows a query may return.
    pub max_result_rows: usize,
}

impl SandboxLimits {
    /// Plugin statements at run time: interactive, so small.
    pub const DML: SandboxLimits = SandboxLimits {
        timeout: Duration::from_secs(2),
        max_value_bytes: 16 << 20,
        max_result_bytes: 64 << 20,
        max_result_rows: 1_000_000,
    };
    /// Plugin migrations may rewrite their tables: a longer budget, same sizes.
    pub const DDL: SandboxLimits = SandboxLimits { timeout: Duration::from_secs(60), ..SandboxLimits::DML };
}

/// What a sandboxed statement may touch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SandboxPolicy {
    prefix: String,
    allow_ddl: bool,
    limits: SandboxLimits,
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
        let limits = if allow_ddl { SandboxLimits::DDL } else { SandboxLimits::DML };
        Ok(SandboxPolicy { prefix: prefix.to_ascii_lowercase(), allow_ddl, limits })
    }

    /// The same policy with other limits (tests, hosts that trust a plugin more or less).
    pub fn with_limits(mut self, limits: SandboxLimits) -> SandboxPolicy {
        self.limits = limits;
        self
    }

    pub fn limits(&self) -> &SandboxLimits {
        &self.limits
    }

    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    /// The policy that confines the body of trigger or view `accessor` (SQLite's inner-most
    /// trigger or view of an authorizer call): for `plugin_<name>_...`, plugin `<name>`'s DML
    /// policy; `None` for objects outside the plugin namespace. Plugin names contain no `_`
    /// (`src/schema/names.ts`), so the owner is the segment up to the next `_` (for a bare
    /// `plugin_x`, plugin `x`, whose namespace `plugin_x_` does not even hold it).
    pub(crate) fn for_accessor(accessor: &str) -> Option<SandboxPolicy> {
        const NS: &[u8] = b"plugin_";
        let b = accessor.as_bytes();
        if b.len() < NS.len() || !b[..NS.len()].eq_ignore_ascii_case(NS) {
            return None;
        }
        let rest = &accessor[NS.len()..];
        let name = rest.split('_').next().unwrap_or("");
        let prefix = format!("plugin_{}_", name.to_ascii_lowercase());
        Some(SandboxPolicy { prefix, allow_ddl: false, limits: SandboxLimits::DML })
    }

    /// Byte-wise, so a multi-byte character across the prefix length compares unequal instead
    /// of panicking on a slice inside a character.
    fn owned(&self, name: &str) -> bool {
        let (n, p) = (name.as_bytes(), self.prefix.as_bytes());
        n.len() >= p.len() && n[..p.len()].eq_ignore_ascii_case(p)
    }

    fn owned_index(&self, name: &str) -> bool {
        self.owned(name) || name.to_ascii_lowercase().strip_prefix("sqlite_autoindex_").is_some_and(|rest| rest.starts_with(&self.prefix))
    }

    fn catalog(name: &str) -> bool {
        name.eq_ignore_ascii_case("sqlite_master")
            || name.eq_ignore_ascii_case("sqlite_temp_master")
            || name.eq_ignore_ascii_case("sqlite_schema")
            || name.eq_ignore_ascii_case("sqlite_temp_schema")
    }

    /// A read of a common table expression with no column (`count(*) FROM cte`) reaches the
    /// authorizer as a read of a table named like the CTE, indistinguishable from a real table
    /// (SQLite gives no schema name for either): it is allowed only for CTE names in the
    /// namespace. Reads of CTE columns are not table reads and always pass.
    pub(crate) fn authorize(&self, action: &AuthAction<'_>) -> Authorization {
        use AuthAction as A;
        let ddl = self.allow_ddl;
        let allow = match *action {
            A::Read { table_name: t, .. } | A::Insert { table_name: t } | A::Update { table_name: t, .. } | A::Delete { table_name: t } => {
                self.owned(t) || (ddl && Self::catalog(t))
            }
            A::CreateTable { table_name: t }
            | A::CreateTempTable { table_name: t }
            | A::DropTable { table_name: t }
            | A::DropTempTable { table_name: t } => ddl && self.owned(t),
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

/// Wraps the sink of a sandboxed query and fails it once the result passes the policy's
/// size limits, so a plugin cannot make the host buffer gigabytes.
pub(crate) struct LimitedSink<'s> {
    inner: &'s mut dyn super::RowSink,
    limits: SandboxLimits,
    rows: usize,
    bytes: usize,
}

impl<'s> LimitedSink<'s> {
    pub(crate) fn new(inner: &'s mut dyn super::RowSink, limits: SandboxLimits) -> Self {
        LimitedSink { inner, limits, rows: 0, bytes: 0 }
    }
}

impl super::RowSink for LimitedSink<'_> {
    fn columns(&mut self, names: &[&str]) -> crate::Result<()> {
        self.inner.columns(names)
    }

    fn row(&mut self, row: &dyn super::RowView) -> crate::Result<bool> {
        use super::ValueRef as V;
        self.rows += 1;
        for i in 0..row.column_count() {
            self.bytes += match row.get(i)? {
                V::Text(b) | V::Blob(b) => b.len(),
                _ => 8,
            };
        }
        if self.rows > self.limits.max_result_rows || self.bytes > self.limits.max_result_bytes {
            return Err(crate::Error::invalid(format!(
                "plugin query result exceeds the sandbox limit ({} rows / {} bytes): add LIMIT or select less",
                self.limits.max_result_rows, self.limits.max_result_bytes
            )));
        }
        self.inner.row(row)
    }
}

//! The audit log: every state-changing action, from the API, the console or the CLI, with
//! who, when, from where and what changed. Append-only: nothing updates or deletes rows.

use crate::common::{Ctx, Page, PageRequest};
use crate::db::{DbError, Filter, Tx};
use crate::params;
use ordo_domain::Timestamp;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Appends one entry in the caller's transaction, so it exists exactly when the change does.
pub fn record(
    tx: &mut dyn Tx,
    ctx: &Ctx,
    area: &str,
    action: &str,
    target: &str,
    summary: &str,
) -> Result<(), DbError> {
    tx.execute(
        "INSERT INTO audit_log (at, actor, source, ip, area, action, target, summary) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        params![ctx.now.micros(), ctx.actor.as_str(), ctx.source, ctx.ip.clone(), area, action, target, summary],
    )?;
    Ok(())
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AuditEntry {
    pub id: i64,
    pub at: Timestamp,
    pub actor: String,
    /// api, console, cli or demo.
    pub source: String,
    pub ip: Option<String>,
    /// catalog, customers, inventory, orders, users…
    pub area: String,
    pub action: String,
    pub target: Option<String>,
    pub summary: String,
}

#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
pub struct AuditFilter {
    pub actor: Option<String>,
    pub area: Option<String>,
    /// Date or RFC 3339 time, inclusive.
    pub from: Option<String>,
    /// Date (whole day included) or RFC 3339 time, inclusive.
    pub to: Option<String>,
}

pub fn list(tx: &mut dyn Tx, filter: &AuditFilter, page: PageRequest) -> Result<Page<AuditEntry>, AuditError> {
    let mut v = ordo_domain::validation::Violations::new();
    let blank = |s: &Option<String>| s.as_deref().map(str::trim).filter(|s| !s.is_empty()).map(str::to_string);
    let from = v.check(Timestamp::field("from", filter.from.as_deref())).flatten();
    let to_text = blank(&filter.to);
    let before = v.check(Timestamp::field("to", to_text.as_deref())).flatten().map(|t| end_of(t, to_text.as_deref()));
    v.into_result()?;
    let mut f = Filter::new();
    f.when("id < ?", page.before_id.map(|id| vec![id]));
    f.when("actor = ?", blank(&filter.actor).map(|a| vec![a]));
    f.when("area = ?", blank(&filter.area).map(|a| vec![a]));
    f.when("at >= ?", from.map(|t| vec![t.micros()]));
    f.when("at < ?", before.map(|t| vec![t.micros()]));
    let sql = format!(
        "SELECT id, at, actor, source, ip, area, action, target, summary FROM audit_log{} ORDER BY id DESC LIMIT {}",
        f.sql(),
        page.fetch_limit()
    );
    let rows = tx
        .query(&sql, &f.params)?
        .iter()
        .map(|r| {
            Ok(AuditEntry {
                id: r.int(0)?,
                at: Timestamp(r.int(1)?),
                actor: r.text(2)?,
                source: r.text(3)?,
                ip: r.opt_text(4)?,
                area: r.text(5)?,
                action: r.text(6)?,
                target: r.opt_text(7)?,
                summary: r.text(8)?,
            })
        })
        .collect::<Result<Vec<_>, DbError>>()?;
    Ok(page.page(rows, |e| e.id))
}

/// The exclusive upper bound of a `to` filter: a bare date includes its whole day.
pub fn end_of(t: Timestamp, text: Option<&str>) -> Timestamp {
    if text.is_some_and(|s| s.len() == 10) { t.plus_seconds(86_400) } else { Timestamp(t.0 + 1) }
}

#[derive(Debug, thiserror::Error)]
pub enum AuditError {
    #[error(transparent)]
    Invalid(#[from] ordo_domain::Invalid),
    #[error(transparent)]
    Db(#[from] DbError),
}
crate::store_error!(AuditError);

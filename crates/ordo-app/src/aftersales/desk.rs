//! The service desk: the queue of open work, one customer on one screen (360), notes on
//! customers, and after-sales analytics.

use super::model::*;
use super::returns::returns_where;
use super::tickets::tickets_where;
use crate::common::{Ctx, PageRequest};
use crate::db::{DbError, Tx};
use crate::params;
use ordo_domain::money::from_e4_in;
use ordo_domain::time::Date;
use ordo_domain::validation::required_text;
use ordo_domain::{Currency, Invalid, Timestamp};
use rust_decimal::Decimal;

pub fn add_customer_note(
    tx: &mut dyn Tx,
    ctx: &Ctx,
    customer_id: i64,
    input: &NewNote,
) -> Result<CustomerNote, AfterSalesError> {
    let body = required_text("body", input.body.as_deref(), 2000).map_err(|e| Invalid(vec![e]))?;
    crate::customers::store::by_id(tx, customer_id)?.ok_or(AfterSalesError::CustomerNotFound(customer_id))?;
    let id = tx.insert(
        "INSERT INTO customer_notes (customer_id, body, author, at) VALUES (?, ?, ?, ?)",
        params![customer_id, body.as_str(), ctx.actor.as_str(), ctx.now.micros()],
    )?;
    Ok(CustomerNote { id, body, author: ctx.actor.clone(), at: ctx.now })
}

fn customer_notes(tx: &mut dyn Tx, customer_id: i64) -> Result<Vec<CustomerNote>, DbError> {
    tx.query(
        "SELECT id, body, author, at FROM customer_notes WHERE customer_id = ? ORDER BY id DESC LIMIT 100",
        params![customer_id],
    )?
    .iter()
    .map(|r| Ok(CustomerNote { id: r.int(0)?, body: r.text(1)?, author: r.text(2)?, at: Timestamp(r.int(3)?) }))
    .collect()
}

/// Orders, returns, tickets, notes, what they owe and their store credit.
pub fn customer_360(tx: &mut dyn Tx, customer_id: i64, now: Timestamp) -> Result<Customer360, AfterSalesError> {
    let record =
        crate::customers::store::by_id(tx, customer_id)?.ok_or(AfterSalesError::CustomerNotFound(customer_id))?;
    let orders = crate::orders::customer_orders(tx, customer_id, PageRequest { before_id: None, limit: 20 })?.items;
    let returns = returns_where(tx, "r.customer_id = ?", params![customer_id])?;
    let tickets = tickets_where(tx, "t.customer_id = ?", params![customer_id], now)?;
    let notes = customer_notes(tx, customer_id)?;
    let currencies: Vec<String> = tx
        .query("SELECT DISTINCT currency FROM orders WHERE customer_id = ? ORDER BY currency", params![customer_id])?
        .iter()
        .map(|r| r.text(0))
        .collect::<Result<_, _>>()?;
    let (mut balances, mut store_credit) = (Vec::new(), Vec::new());
    for code in currencies {
        let Some(currency) = Currency::parse(&code) else { continue };
        let owed = crate::orders::store::exposure(tx, customer_id, &code, 0)?;
        balances.push(Balance { currency, amount: from_e4_in(owed, currency) });
        let credit = crate::payments::ledger::store_credit(tx, customer_id, currency)?;
        if !credit.is_zero() {
            store_credit.push(Balance { currency, amount: credit });
        }
    }
    let rating = tx.query_one(
        "SELECT COUNT(*), CAST(COALESCE(SUM(rating), 0) AS BIGINT) FROM feedback WHERE customer_id = ?",
        params![customer_id],
    )?;
    let (ratings, sum) = (rating.int(0)?, rating.int(1)?);
    Ok(Customer360 {
        customer: record.customer,
        orders,
        returns,
        tickets,
        notes,
        balances,
        store_credit,
        average_rating: average(sum, ratings),
        ratings,
    })
}

fn average(sum: i64, count: i64) -> Option<String> {
    (count > 0).then(|| format!("{:.1}", Decimal::from(sum) / Decimal::from(count)))
}

fn percent(part: i64, whole: i64) -> Option<String> {
    (whole > 0).then(|| format!("{:.1}", Decimal::from(part * 100) / Decimal::from(whole)))
}

/// Open returns (oldest first), open tickets (earliest due first) and open carrier claims.
pub fn service_queue(tx: &mut dyn Tx, now: Timestamp) -> Result<ServiceQueue, AfterSalesError> {
    let mut returns = returns_where(tx, "r.status IN ('pending_review', 'approved', 'received')", &[])?;
    returns.reverse();
    let tickets = tickets_where(tx, "t.status NOT IN ('resolved', 'closed')", &[], now)?;
    let claims = crate::fulfillment::tracking::claims_where(tx, "cl.status IN ('open', 'filed')", &[])?;
    let overdue_tickets = tickets.iter().filter(|t| t.overdue).count() as i64;
    Ok(ServiceQueue { returns, tickets, claims, overdue_tickets })
}

/// Return rates and reasons, time to refund, ticket volume and SLA compliance for a period
/// (by when the order, return or ticket was created).
pub fn service_analytics(
    tx: &mut dyn Tx,
    query: &AnalyticsQuery,
    today: Date,
) -> Result<ServiceAnalytics, AfterSalesError> {
    let mut v = ordo_domain::validation::Violations::new();
    let from = v.check(Date::field("from", query.from.as_deref())).flatten().unwrap_or(today.plus_days(-90));
    let to = v.check(Date::field("to", query.to.as_deref())).flatten().unwrap_or(today);
    if from > to {
        v.add("from", "must not be after to");
    }
    v.into_result()?;
    let (start, end) = (from.start().micros(), to.plus_days(1).start().micros());
    let rates = |tx: &mut dyn Tx, key: &str, name: &str, join: &str| -> Result<Vec<RateRow>, DbError> {
        let sql = format!(
            "SELECT {key}, MIN({name}), CAST(SUM(l.shipped) AS BIGINT), CAST(COALESCE(SUM(( \
                 SELECT SUM(rl.quantity) FROM return_lines rl JOIN returns r ON r.id = rl.return_id \
                 WHERE r.order_id = o.id AND rl.line_no = l.line_no AND r.status NOT IN ('rejected', 'cancelled'))), 0) AS BIGINT) \
             FROM order_lines l JOIN orders o ON o.id = l.order_id JOIN products p ON p.id = l.product_id {join} \
             WHERE o.created_at >= ? AND o.created_at < ? AND l.shipped > 0 GROUP BY {key} \
             ORDER BY 4 DESC, 1 LIMIT 50"
        );
        tx.query(&sql, params![start, end])?
            .iter()
            .map(|r| {
                let (sold, returned) = (r.int(2)?, r.int(3)?);
                Ok(RateRow {
                    key: r.opt_text(0)?.unwrap_or_else(|| "—".into()),
                    name: r.opt_text(1)?.unwrap_or_else(|| "—".into()),
                    sold,
                    returned,
                    return_rate: percent(returned, sold).unwrap_or_else(|| "0".into()),
                })
            })
            .collect()
    };
    let by_product = rates(tx, "p.sku", "p.name", "")?;
    let by_category = rates(tx, "p.category", "p.category", "")?;
    let by_customer = rates(tx, "c.code", "c.name", "JOIN customers c ON c.id = o.customer_id")?;
    let counts = |tx: &mut dyn Tx, sql: &str| -> Result<Vec<CountRow>, DbError> {
        tx.query(sql, params![start, end])?.iter().map(|r| Ok(CountRow { key: r.text(0)?, count: r.int(1)? })).collect()
    };
    let reasons = counts(
        tx,
        "SELECT rl.reason, CAST(SUM(rl.quantity) AS BIGINT) FROM return_lines rl JOIN returns r ON r.id = rl.return_id \
         WHERE r.created_at >= ? AND r.created_at < ? GROUP BY rl.reason ORDER BY 2 DESC, 1",
    )?;
    let row = tx.query_one(
        "SELECT COUNT(*), CAST(COALESCE(SUM(CASE WHEN refunded_at IS NOT NULL THEN 1 ELSE 0 END), 0) AS BIGINT), \
         CAST(COALESCE(SUM(CASE WHEN refunded_at IS NOT NULL THEN refunded_at - created_at ELSE 0 END), 0) AS BIGINT) \
         FROM returns WHERE created_at >= ? AND created_at < ?",
        params![start, end],
    )?;
    let (returns, refunded_returns, micros) = (row.int(0)?, row.int(1)?, row.int(2)?);
    let average_hours_to_refund = (refunded_returns > 0)
        .then(|| format!("{:.1}", Decimal::from(micros) / Decimal::from(refunded_returns * 3_600_000_000)));
    let tickets_by_category = counts(
        tx,
        "SELECT category, COUNT(*) FROM tickets WHERE created_at >= ? AND created_at < ? GROUP BY category ORDER BY 2 DESC, 1",
    )?;
    let row = tx.query_one(
        "SELECT COUNT(*), CAST(COALESCE(SUM(CASE WHEN resolved_at IS NOT NULL THEN 1 ELSE 0 END), 0) AS BIGINT), \
         CAST(COALESCE(SUM(CASE WHEN resolved_at IS NOT NULL AND resolved_at <= due_at THEN 1 ELSE 0 END), 0) AS BIGINT) \
         FROM tickets WHERE created_at >= ? AND created_at < ?",
        params![start, end],
    )?;
    let (tickets_opened, tickets_resolved, on_time) = (row.int(0)?, row.int(1)?, row.int(2)?);
    let row = tx.query_one(
        "SELECT COUNT(*), CAST(COALESCE(SUM(rating), 0) AS BIGINT) FROM feedback WHERE created_at >= ? AND created_at < ?",
        params![start, end],
    )?;
    Ok(ServiceAnalytics {
        from: from.to_string(),
        to: to.to_string(),
        by_product,
        by_category,
        by_customer,
        reasons,
        returns,
        refunded_returns,
        average_hours_to_refund,
        tickets_opened,
        tickets_by_category,
        tickets_resolved,
        tickets_resolved_on_time: on_time,
        sla_compliance: percent(on_time, tickets_resolved),
        average_rating: average(row.int(1)?, row.int(0)?),
    })
}

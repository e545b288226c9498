//! Daily sales summaries: what the sales, customer and product reports read instead of
//! scanning every order. An order counts while it is not cancelled, on its placement day in
//! the business's time zone (a fixed UTC offset, `+08:00` unless set); revenue is its lines' totals with tax (the order total). Each change is applied in
//! the transaction of the order change itself, as a signed delta, so the summaries are exact
//! at every commit. `verify` recomputes them from the orders; `rebuild` starts them over.

use crate::db::{DbError, Tx};
use crate::params;
use std::collections::BTreeMap;

pub const DAY_MICROS: i64 = 86_400_000_000;

/// The business's offset from UTC in microseconds, as SQL: days begin at local midnight.
/// A scalar subquery, so the summaries' writers read it in the statement that writes.
macro_rules! offset_sql {
    () => {
        "COALESCE((SELECT CAST(value AS BIGINT) FROM settings WHERE name = 'report_utc_offset_micros'), 28800000000)"
    };
}
/// Setting row holding the offset (microseconds, as text).
pub const OFFSET_SETTING: &str = "report_utc_offset_micros";
/// China Standard Time, the console's default too.
pub const DEFAULT_OFFSET_MICROS: i64 = 8 * 3_600_000_000;

/// The business's offset from UTC, in microseconds.
pub fn utc_offset(tx: &mut dyn Tx) -> Result<i64, DbError> {
    let sql = concat!("SELECT ", offset_sql!());
    tx.query_one(sql, &[])?.int(0)
}

/// The business's local date at `at`.
pub fn local_date(at: ordo_domain::Timestamp, offset: i64) -> ordo_domain::time::Date {
    ordo_domain::time::Date::of(ordo_domain::Timestamp(at.micros() + offset))
}

/// `+08:00`, `-05:30`, `+00:00`: how the API shows an offset.
pub fn offset_text(offset: i64) -> String {
    let minutes = offset / 60_000_000;
    let sign = if minutes < 0 { '-' } else { '+' };
    format!("{sign}{:02}:{:02}", minutes.abs() / 60, minutes.abs() % 60)
}

/// Sets the business's time zone; when it changes, the summaries are rebuilt in the same
/// transaction (every order moves to its local day).
pub fn set_utc_offset(tx: &mut dyn Tx, ctx: &crate::Ctx, offset: i64) -> Result<bool, DbError> {
    if utc_offset(tx)? == offset {
        return Ok(false);
    }
    crate::settings::store_document(tx, ctx, OFFSET_SETTING, &offset.to_string())?;
    rebuild(tx)?;
    Ok(true)
}

/// `UTC+08:00`, `UTC-05:30`, `UTC`.
pub fn zone_name(offset: i64) -> String {
    let minutes = offset / 60_000_000;
    if minutes == 0 {
        return "UTC".into();
    }
    let sign = if minutes < 0 { '-' } else { '+' };
    format!("UTC{sign}{:02}:{:02}", minutes.abs() / 60, minutes.abs() % 60)
}

/// Parses `+08:00`, `-05:30`, `+8`, `UTC+08:00` or `Z` into microseconds; offsets run from
/// −12:00 to +14:00 in whole quarter hours.
pub fn parse_zone(text: &str) -> Option<i64> {
    let text = text.trim();
    let text = text.strip_prefix("UTC").or_else(|| text.strip_prefix("GMT")).unwrap_or(text).trim();
    if text.is_empty() || text == "Z" {
        return Some(0);
    }
    let (sign, digits) = match text.as_bytes()[0] {
        b'+' => (1, &text[1..]),
        b'-' => (-1, &text[1..]),
        _ => return None,
    };
    let (hours, minutes) = digits.split_once(':').unwrap_or((digits, "0"));
    let (hours, minutes) = (hours.parse::<i64>().ok()?, minutes.parse::<i64>().ok()?);
    let total = sign * (hours * 60 + minutes);
    let valid = hours <= 14 && minutes < 60 && minutes % 15 == 0 && (-12 * 60..=14 * 60).contains(&total);
    valid.then_some(total * 60_000_000)
}

/// The moment a local day begins, in UTC microseconds.
pub fn day_start(day: ordo_domain::time::Date, offset: i64) -> i64 {
    day.days_since_epoch() * DAY_MICROS - offset
}

/// Fills `sales_customer_days` from the orders (migration and `rebuild`).
pub const REBUILD_CUSTOMER_DAYS: &str = concat!(
    "INSERT INTO sales_customer_days (day, currency, customer_id, channel, orders, units, revenue_e4, tax_e4) \
    SELECT (o.created_at + ",
    offset_sql!(),
    ") / 86400000000, o.currency, o.customer_id, o.channel, COUNT(*), \
    CAST(COALESCE(SUM(t.units), 0) AS BIGINT), CAST(COALESCE(SUM(t.revenue), 0) AS BIGINT), \
    CAST(COALESCE(SUM(t.tax), 0) AS BIGINT) \
    FROM orders o LEFT JOIN (SELECT order_id, SUM(quantity) AS units, SUM(line_total_e4 + tax_e4) AS revenue, \
    SUM(tax_e4) AS tax FROM order_lines GROUP BY order_id) t ON t.order_id = o.id \
    WHERE o.status <> 'cancelled' GROUP BY 1, 2, 3, 4"
);

/// Fills `sales_product_days` from the order lines (migration and `rebuild`).
pub const REBUILD_PRODUCT_DAYS: &str = concat!(
    "INSERT INTO sales_product_days (day, currency, product_id, channel, orders, units, revenue_e4, tax_e4, cost_e4) \
    SELECT (o.created_at + ",
    offset_sql!(),
    ") / 86400000000, o.currency, l.product_id, o.channel, COUNT(DISTINCT o.id), \
    CAST(SUM(l.quantity) AS BIGINT), CAST(SUM(l.line_total_e4 + l.tax_e4) AS BIGINT), CAST(SUM(l.tax_e4) AS BIGINT), \
    CAST(SUM(l.quantity * COALESCE(l.unit_cost_e4, 0)) AS BIGINT) \
    FROM orders o JOIN order_lines l ON l.order_id = o.id \
    WHERE o.status <> 'cancelled' GROUP BY 1, 2, 3, 4"
);

// One order's contribution, added (sign 1) or taken away (sign -1). The status guard makes
// taking away a cancelled order a no-op, so callers need not know what was counted.
const COUNT_CUSTOMER_DAY: &str = concat!(
    "INSERT INTO sales_customer_days (day, currency, customer_id, channel, orders, units, revenue_e4, tax_e4) \
    SELECT (o.created_at + ",
    offset_sql!(),
    ") / 86400000000, o.currency, o.customer_id, o.channel, CAST(? AS BIGINT), \
    CAST(? AS BIGINT) * COALESCE(SUM(l.quantity), 0), CAST(? AS BIGINT) * COALESCE(SUM(l.line_total_e4 + l.tax_e4), 0), \
    CAST(? AS BIGINT) * COALESCE(SUM(l.tax_e4), 0) \
    FROM orders o LEFT JOIN order_lines l ON l.order_id = o.id \
    WHERE o.id = ? AND o.status <> 'cancelled' \
    GROUP BY o.created_at, o.currency, o.customer_id, o.channel \
    ON CONFLICT (day, currency, customer_id, channel) DO UPDATE SET \
    orders = sales_customer_days.orders + excluded.orders, units = sales_customer_days.units + excluded.units, \
    revenue_e4 = sales_customer_days.revenue_e4 + excluded.revenue_e4, tax_e4 = sales_customer_days.tax_e4 + excluded.tax_e4"
);

// Rows are written in product order so concurrent orders lock them in the same order.
const COUNT_PRODUCT_DAYS: &str = concat!(
    "INSERT INTO sales_product_days (day, currency, product_id, channel, orders, units, revenue_e4, tax_e4, cost_e4) \
    SELECT (o.created_at + ",
    offset_sql!(),
    ") / 86400000000, o.currency, l.product_id, o.channel, CAST(? AS BIGINT), \
    CAST(? AS BIGINT) * SUM(l.quantity), CAST(? AS BIGINT) * SUM(l.line_total_e4 + l.tax_e4), \
    CAST(? AS BIGINT) * SUM(l.tax_e4), CAST(? AS BIGINT) * SUM(l.quantity * COALESCE(l.unit_cost_e4, 0)) \
    FROM orders o JOIN order_lines l ON l.order_id = o.id \
    WHERE o.id = ? AND o.status <> 'cancelled' \
    GROUP BY o.created_at, o.currency, l.product_id, o.channel ORDER BY l.product_id \
    ON CONFLICT (day, currency, product_id, channel) DO UPDATE SET \
    orders = sales_product_days.orders + excluded.orders, units = sales_product_days.units + excluded.units, \
    revenue_e4 = sales_product_days.revenue_e4 + excluded.revenue_e4, tax_e4 = sales_product_days.tax_e4 + excluded.tax_e4, \
    cost_e4 = sales_product_days.cost_e4 + excluded.cost_e4"
);

/// A just-placed order's contribution, from what placement holds in memory: two plain
/// upserts, no read of what was just written (placement is the hot path).
pub struct PlacedSale<'a> {
    pub created_at: ordo_domain::Timestamp,
    pub currency: &'a str,
    pub customer_id: i64,
    pub channel: &'a str,
    /// (product id, quantity, line total without tax ×10^4, tax ×10^4), one per line.
    pub lines: Vec<(i64, i64, i64, i64)>,
}

pub fn count_placed(tx: &mut dyn Tx, sale: &PlacedSale) -> Result<(), DbError> {
    // The local day is worked out in the statement, from the offset as it is then.
    let at = sale.created_at.micros();
    let (units, net, tax) = sale.lines.iter().fold((0, 0, 0), |(u, n, t), l| (u + l.1, n + l.2, t + l.3));
    tx.execute(
        concat!(
            "INSERT INTO sales_customer_days (day, currency, customer_id, channel, orders, units, revenue_e4, tax_e4) \
         VALUES ((CAST(? AS BIGINT) + ",
            offset_sql!(),
            ") / 86400000000, ?, ?, ?, 1, ?, ?, ?) ON CONFLICT (day, currency, customer_id, channel) DO UPDATE SET \
         orders = sales_customer_days.orders + 1, units = sales_customer_days.units + excluded.units, \
         revenue_e4 = sales_customer_days.revenue_e4 + excluded.revenue_e4, \
         tax_e4 = sales_customer_days.tax_e4 + excluded.tax_e4"
        ),
        params![at, sale.currency, sale.customer_id, sale.channel, units, net + tax, tax],
    )?;
    // One row per product (a product on two lines counts one order), in product order.
    let mut products: Vec<(i64, i64, i64, i64)> = Vec::with_capacity(sale.lines.len());
    for &(product, quantity, net, tax) in &sale.lines {
        match products.iter_mut().find(|p| p.0 == product) {
            Some(p) => {
                p.1 += quantity;
                p.2 += net;
                p.3 += tax;
            }
            None => products.push((product, quantity, net, tax)),
        }
    }
    products.sort_unstable_by_key(|p| p.0);
    let mut sql = String::from(
        "INSERT INTO sales_product_days (day, currency, product_id, channel, orders, units, revenue_e4, tax_e4, cost_e4) VALUES ",
    );
    let mut values: Vec<crate::db::Value> = Vec::with_capacity(products.len() * 9);
    for (i, (product, quantity, net, tax)) in products.iter().enumerate() {
        if i > 0 {
            sql.push_str(", ");
        }
        // The cost is the product's moving average now, as on the order line.
        sql.push_str(concat!(
            "((CAST(? AS BIGINT) + ",
            offset_sql!(),
            ") / 86400000000, ?, ?, ?, 1, ?, ?, ?, ? * COALESCE((SELECT cost_e4 FROM products WHERE id = ?), 0))"
        ));
        values.extend([
            at.into(),
            sale.currency.into(),
            (*product).into(),
            sale.channel.into(),
            (*quantity).into(),
            (net + tax).into(),
            (*tax).into(),
            (*quantity).into(),
            (*product).into(),
        ]);
    }
    sql.push_str(
        " ON CONFLICT (day, currency, product_id, channel) DO UPDATE SET \
         orders = sales_product_days.orders + 1, units = sales_product_days.units + excluded.units, \
         revenue_e4 = sales_product_days.revenue_e4 + excluded.revenue_e4, \
         tax_e4 = sales_product_days.tax_e4 + excluded.tax_e4, cost_e4 = sales_product_days.cost_e4 + excluded.cost_e4",
    );
    if !products.is_empty() {
        tx.execute(&sql, &values)?;
    }
    Ok(())
}

/// Adds an order (as it stands now) to the summaries, unless it is cancelled.
pub fn count_order(tx: &mut dyn Tx, order_id: i64) -> Result<(), DbError> {
    apply(tx, order_id, 1)
}

/// Takes an order (as it stands now) out of the summaries; a cancelled one was never in.
/// Call it before the change (edit, cancellation), and `count_order` after.
pub fn uncount_order(tx: &mut dyn Tx, order_id: i64) -> Result<(), DbError> {
    apply(tx, order_id, -1)
}

fn apply(tx: &mut dyn Tx, order_id: i64, sign: i64) -> Result<(), DbError> {
    tx.execute(COUNT_CUSTOMER_DAY, params![sign, sign, sign, sign, order_id])?;
    tx.execute(COUNT_PRODUCT_DAYS, params![sign, sign, sign, sign, sign, order_id])?;
    Ok(())
}

/// Recomputes both summaries from the orders (after a bulk load, to repair, or when the
/// time zone changes). On PostgreSQL the tables are locked first: a transaction that has
/// already written to them finishes before, one that has not waits until after, so no
/// order is counted on both sides of the rebuild or under the old time zone.
pub fn rebuild(tx: &mut dyn Tx) -> Result<(), DbError> {
    if tx.dialect() == crate::db::Dialect::Postgres {
        tx.execute("LOCK TABLE sales_customer_days, sales_product_days IN EXCLUSIVE MODE", &[])?;
    }
    tx.execute("DELETE FROM sales_customer_days", &[])?;
    tx.execute("DELETE FROM sales_product_days", &[])?;
    tx.execute(REBUILD_CUSTOMER_DAYS, &[])?;
    tx.execute(REBUILD_PRODUCT_DAYS, &[])?;
    Ok(())
}

/// Differences between the summaries and the orders, one line each; empty when exact.
pub fn verify(tx: &mut dyn Tx) -> Result<Vec<String>, DbError> {
    let mut problems = Vec::new();
    for (table, rebuild, keys, sums) in [
        (
            "sales_customer_days",
            REBUILD_CUSTOMER_DAYS,
            "day, currency, customer_id, channel",
            "orders, units, revenue_e4, tax_e4",
        ),
        (
            "sales_product_days",
            REBUILD_PRODUCT_DAYS,
            "day, currency, product_id, channel",
            "orders, units, revenue_e4, tax_e4, cost_e4",
        ),
    ] {
        let select = &rebuild[rebuild.find("SELECT").unwrap_or(0)..];
        let expected = keyed(tx, select, 4)?;
        let kept = keyed(tx, &format!("SELECT {keys}, {sums} FROM {table}"), 4)?;
        let keys_of = |m: &BTreeMap<String, Vec<i64>>| m.keys().cloned().collect::<Vec<_>>();
        let mut all = keys_of(&expected);
        all.extend(keys_of(&kept));
        all.sort();
        all.dedup();
        for key in all {
            let zero = |m: &BTreeMap<String, Vec<i64>>| m.get(&key).cloned().filter(|v| v.iter().any(|x| *x != 0));
            let (want, have) = (zero(&expected), zero(&kept));
            if want != have {
                problems.push(format!("{table} {key}: orders say {want:?}, summary says {have:?}"));
            }
        }
    }
    Ok(problems)
}

fn keyed(tx: &mut dyn Tx, sql: &str, key_columns: usize) -> Result<BTreeMap<String, Vec<i64>>, DbError> {
    let mut map = BTreeMap::new();
    for row in tx.query(sql, &[])? {
        let mut key = Vec::new();
        for i in 0..key_columns {
            key.push(row.int(i).map(|v| v.to_string()).or_else(|_| row.text(i))?);
        }
        let mut sums = Vec::new();
        let mut i = key_columns;
        while let Ok(value) = row.int(i) {
            sums.push(value);
            i += 1;
        }
        map.insert(key.join("/"), sums);
    }
    Ok(map)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_parse_from_the_ways_people_write_them() {
        let hours = |h: i64, m: i64| (h * 60 + m) * 60_000_000;
        for (text, micros) in [
            ("+08:00", hours(8, 0)),
            ("UTC+8", hours(8, 0)),
            ("-05:30", -hours(5, 30)),
            ("+05:45", hours(5, 45)),
            ("Z", 0),
            ("+14:00", hours(14, 0)),
            ("-12:00", -hours(12, 0)),
        ] {
            assert_eq!(parse_zone(text), Some(micros), "{text}");
        }
        for text in ["08:00", "+25:00", "+14:15", "-12:30", "+08:10", "+8:60", "eight"] {
            assert_eq!(parse_zone(text), None, "{text}");
        }
        assert_eq!((offset_text(hours(8, 0)), offset_text(-hours(5, 30))), ("+08:00".into(), "-05:30".into()));
        assert_eq!((zone_name(0), zone_name(hours(8, 0))), ("UTC".to_string(), "UTC+08:00".to_string()));
    }
}

//! Daily sales summaries: what the sales, customer and product reports read instead of
//! scanning every order. An order counts while it is not cancelled, on its UTC placement
//! day; revenue is its lines' totals with tax (the order total). Each change is applied in
//! the transaction of the order change itself, as a signed delta, so the summaries are exact
//! at every commit. `verify` recomputes them from the orders; `rebuild` starts them over.

use crate::db::{DbError, Tx};
use crate::params;
use std::collections::BTreeMap;

pub const DAY_MICROS: i64 = 86_400_000_000;

/// Fills `sales_customer_days` from the orders (migration and `rebuild`).
pub const REBUILD_CUSTOMER_DAYS: &str = "INSERT INTO sales_customer_days \
    (day, currency, customer_id, channel, orders, units, revenue_e4, tax_e4) \
    SELECT o.created_at / 86400000000, o.currency, o.customer_id, o.channel, COUNT(*), \
    CAST(COALESCE(SUM(t.units), 0) AS BIGINT), CAST(COALESCE(SUM(t.revenue), 0) AS BIGINT), \
    CAST(COALESCE(SUM(t.tax), 0) AS BIGINT) \
    FROM orders o LEFT JOIN (SELECT order_id, SUM(quantity) AS units, SUM(line_total_e4 + tax_e4) AS revenue, \
    SUM(tax_e4) AS tax FROM order_lines GROUP BY order_id) t ON t.order_id = o.id \
    WHERE o.status <> 'cancelled' GROUP BY o.created_at / 86400000000, o.currency, o.customer_id, o.channel";

/// Fills `sales_product_days` from the order lines (migration and `rebuild`).
pub const REBUILD_PRODUCT_DAYS: &str = "INSERT INTO sales_product_days \
    (day, currency, product_id, channel, orders, units, revenue_e4, tax_e4, cost_e4) \
    SELECT o.created_at / 86400000000, o.currency, l.product_id, o.channel, COUNT(DISTINCT o.id), \
    CAST(SUM(l.quantity) AS BIGINT), CAST(SUM(l.line_total_e4 + l.tax_e4) AS BIGINT), CAST(SUM(l.tax_e4) AS BIGINT), \
    CAST(SUM(l.quantity * COALESCE(l.unit_cost_e4, 0)) AS BIGINT) \
    FROM orders o JOIN order_lines l ON l.order_id = o.id \
    WHERE o.status <> 'cancelled' GROUP BY o.created_at / 86400000000, o.currency, l.product_id, o.channel";

// One order's contribution, added (sign 1) or taken away (sign -1). The status guard makes
// taking away a cancelled order a no-op, so callers need not know what was counted.
const COUNT_CUSTOMER_DAY: &str = "INSERT INTO sales_customer_days \
    (day, currency, customer_id, channel, orders, units, revenue_e4, tax_e4) \
    SELECT o.created_at / 86400000000, o.currency, o.customer_id, o.channel, CAST(? AS BIGINT), \
    CAST(? AS BIGINT) * COALESCE(SUM(l.quantity), 0), CAST(? AS BIGINT) * COALESCE(SUM(l.line_total_e4 + l.tax_e4), 0), \
    CAST(? AS BIGINT) * COALESCE(SUM(l.tax_e4), 0) \
    FROM orders o LEFT JOIN order_lines l ON l.order_id = o.id \
    WHERE o.id = ? AND o.status <> 'cancelled' \
    GROUP BY o.created_at, o.currency, o.customer_id, o.channel \
    ON CONFLICT (day, currency, customer_id, channel) DO UPDATE SET \
    orders = sales_customer_days.orders + excluded.orders, units = sales_customer_days.units + excluded.units, \
    revenue_e4 = sales_customer_days.revenue_e4 + excluded.revenue_e4, tax_e4 = sales_customer_days.tax_e4 + excluded.tax_e4";

// Rows are written in product order so concurrent orders lock them in the same order.
const COUNT_PRODUCT_DAYS: &str = "INSERT INTO sales_product_days \
    (day, currency, product_id, channel, orders, units, revenue_e4, tax_e4, cost_e4) \
    SELECT o.created_at / 86400000000, o.currency, l.product_id, o.channel, CAST(? AS BIGINT), \
    CAST(? AS BIGINT) * SUM(l.quantity), CAST(? AS BIGINT) * SUM(l.line_total_e4 + l.tax_e4), \
    CAST(? AS BIGINT) * SUM(l.tax_e4), CAST(? AS BIGINT) * SUM(l.quantity * COALESCE(l.unit_cost_e4, 0)) \
    FROM orders o JOIN order_lines l ON l.order_id = o.id \
    WHERE o.id = ? AND o.status <> 'cancelled' \
    GROUP BY o.created_at, o.currency, l.product_id, o.channel ORDER BY l.product_id \
    ON CONFLICT (day, currency, product_id, channel) DO UPDATE SET \
    orders = sales_product_days.orders + excluded.orders, units = sales_product_days.units + excluded.units, \
    revenue_e4 = sales_product_days.revenue_e4 + excluded.revenue_e4, tax_e4 = sales_product_days.tax_e4 + excluded.tax_e4, \
    cost_e4 = sales_product_days.cost_e4 + excluded.cost_e4";

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
    let day = sale.created_at.micros().div_euclid(DAY_MICROS);
    let (units, net, tax) = sale.lines.iter().fold((0, 0, 0), |(u, n, t), l| (u + l.1, n + l.2, t + l.3));
    tx.execute(
        "INSERT INTO sales_customer_days (day, currency, customer_id, channel, orders, units, revenue_e4, tax_e4) \
         VALUES (?, ?, ?, ?, 1, ?, ?, ?) ON CONFLICT (day, currency, customer_id, channel) DO UPDATE SET \
         orders = sales_customer_days.orders + 1, units = sales_customer_days.units + excluded.units, \
         revenue_e4 = sales_customer_days.revenue_e4 + excluded.revenue_e4, \
         tax_e4 = sales_customer_days.tax_e4 + excluded.tax_e4",
        params![day, sale.currency, sale.customer_id, sale.channel, units, net + tax, tax],
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
        sql.push_str("(?, ?, ?, ?, 1, ?, ?, ?, ? * COALESCE((SELECT cost_e4 FROM products WHERE id = ?), 0))");
        values.extend([
            day.into(),
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

/// Recomputes both summaries from the orders (after a bulk load, or to repair).
pub fn rebuild(tx: &mut dyn Tx) -> Result<(), DbError> {
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

//! The warehouse's work queue and the logistics KPIs.

use super::model::*;
use crate::db::{DbError, Row, Tx, Value};
use crate::params;
use ordo_domain::Timestamp;
use ordo_domain::money::from_e4;
use ordo_domain::time::Date;
use rust_decimal::Decimal;

fn queue_order(r: &Row) -> Result<QueueOrder, DbError> {
    Ok(QueueOrder {
        order_id: r.int(0)?,
        number: r.text(1)?,
        customer_name: r.text(2)?,
        warehouse: r.text(3)?,
        units: r.int(4)?,
        priority: r.int(5)?,
        created_at: Timestamp(r.int(6)?),
    })
}

fn stage(tx: &mut dyn Tx, units: &str, condition: &str, warehouse: Option<&str>) -> Result<Vec<QueueOrder>, DbError> {
    let mut values: Vec<Value> = Vec::new();
    let mut sql = format!(
        "SELECT o.id, o.number, c.name, w.code, CAST(SUM({units}) AS BIGINT), o.priority, o.created_at FROM order_lines l \
         JOIN orders o ON o.id = l.order_id JOIN customers c ON c.id = o.customer_id JOIN warehouses w ON w.id = l.warehouse_id \
         WHERE o.status IN ('confirmed', 'partially_shipped') AND {condition}"
    );
    if let Some(code) = warehouse {
        sql.push_str(" AND w.code = ?");
        values.push(code.into());
    }
    sql.push_str(" GROUP BY o.id, o.number, c.name, w.code, o.priority, o.created_at ORDER BY o.priority DESC, o.created_at LIMIT 200");
    tx.query(&sql, &values)?.iter().map(queue_order).collect()
}

const ON_OPEN_LISTS: &str = "CAST(COALESCE((SELECT SUM(pl.quantity) FROM pick_list_lines pl \
    WHERE pl.order_id = l.order_id AND pl.line_no = l.line_no AND pl.picked IS NULL), 0) AS BIGINT)";

pub fn work_queue(tx: &mut dyn Tx, warehouse: Option<&str>) -> Result<WorkQueue, FulfillmentError> {
    let warehouse = warehouse.filter(|w| !w.is_empty());
    let to_allocate = stage(tx, "l.backordered", "l.backordered > 0", warehouse)?;
    let todo = format!("l.quantity - l.backordered - l.picked - {ON_OPEN_LISTS}");
    let to_pick = stage(tx, &todo, &format!("{todo} > 0"), warehouse)?;
    let to_ship = stage(tx, "l.picked - l.shipped", "l.picked > l.shipped", warehouse)?;
    let open_pick_lists = super::list_pick_lists(tx, Some("open"), warehouse)?.items;
    let count = |tx: &mut dyn Tx, condition: &str| -> Result<i64, DbError> {
        tx.query_one(&format!("SELECT COUNT(*) FROM shipments WHERE {condition}"), &[])?.int(0)
    };
    let in_transit = count(tx, "status IN ('label_created', 'in_transit', 'out_for_delivery', 'ready_for_pickup')")?;
    let exceptions = count(tx, "status = 'exception'")?;
    Ok(WorkQueue { to_allocate, to_pick, open_pick_lists, to_ship, in_transit, exceptions })
}

fn kpi(
    carrier: String,
    shipments: i64,
    delivered: i64,
    on_time: i64,
    cost: Decimal,
    weight: Decimal,
    exceptions: i64,
) -> CarrierKpi {
    let ratio = |a: Decimal, b: i64| (b > 0).then(|| (a / Decimal::from(b)).round_dp(2));
    CarrierKpi {
        carrier,
        shipments,
        delivered,
        on_time,
        on_time_rate: (delivered > 0).then(|| (Decimal::from(on_time * 100) / Decimal::from(delivered)).round_dp(1)),
        cost: cost.round_dp(2),
        weight_kg: weight.normalize(),
        cost_per_order: ratio(cost, shipments),
        cost_per_kg: (weight > Decimal::ZERO).then(|| (cost / weight).round_dp(2)),
        exceptions,
    }
}

/// Per carrier, shipments sent in [from, to]: how many, delivered on time (by the
/// promised date, else the estimate), cost per shipment and per kg, exceptions.
pub fn logistics_report(tx: &mut dyn Tx, from: Date, to: Date) -> Result<LogisticsReport, FulfillmentError> {
    let rows = tx.query(
        "SELECT s.carrier, COUNT(*), \
         CAST(SUM(CASE WHEN s.delivered_at IS NOT NULL THEN 1 ELSE 0 END) AS BIGINT), \
         CAST(SUM(s.cost_e4) AS BIGINT), CAST(SUM(s.weight_kg_e4) AS BIGINT), \
         CAST(SUM(CASE WHEN s.claim_status IS NOT NULL THEN 1 ELSE 0 END) AS BIGINT) \
         FROM shipments s WHERE s.shipped_at >= ? AND s.shipped_at < ? GROUP BY s.carrier ORDER BY s.carrier",
        params![from.start().micros(), to.plus_days(1).start().micros()],
    )?;
    // On time is judged per shipment against its own date, so it is counted here.
    let mut on_time: Vec<(String, i64)> = Vec::new();
    for r in tx.query(
        "SELECT carrier, delivered_at, COALESCE(promised_date, estimated_delivery) FROM shipments \
         WHERE shipped_at >= ? AND shipped_at < ? AND delivered_at IS NOT NULL",
        params![from.start().micros(), to.plus_days(1).start().micros()],
    )? {
        let due = r.opt_text(2)?.as_deref().and_then(Date::parse);
        let arrived = Date::of(Timestamp(r.int(1)?));
        if due.is_none_or(|d| arrived <= d) {
            let carrier = r.text(0)?;
            match on_time.iter_mut().find(|(c, _)| *c == carrier) {
                Some((_, n)) => *n += 1,
                None => on_time.push((carrier, 1)),
            }
        }
    }
    let mut by_carrier = Vec::new();
    let (mut ts, mut td, mut tt, mut tc, mut tw, mut te) = (0, 0, 0, Decimal::ZERO, Decimal::ZERO, 0);
    for r in rows {
        let carrier = r.text(0)?;
        let timely = on_time.iter().find(|(c, _)| *c == carrier).map_or(0, |(_, n)| *n);
        let (shipments, delivered, cost, weight, exceptions) =
            (r.int(1)?, r.int(2)?, from_e4(r.int(3)?), from_e4(r.int(4)?), r.int(5)?);
        ts += shipments;
        td += delivered;
        tt += timely;
        tc += cost;
        tw += weight;
        te += exceptions;
        by_carrier.push(kpi(carrier, shipments, delivered, timely, cost, weight, exceptions));
    }
    Ok(LogisticsReport {
        from: from.to_string(),
        to: to.to_string(),
        by_carrier,
        total: kpi("all".into(), ts, td, tt, tc, tw, te),
    })
}

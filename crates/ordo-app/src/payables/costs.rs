//! Costs of serving orders (freight, packaging, payment fees) shared out to the order lines
//! they served, and each order's margin after them.

use super::model::*;
use crate::common::{Ctx, Page, PageRequest};
use crate::db::{DbError, Row, Tx};
use crate::params;
use crate::payments::amount_field;
use crate::payments::ledger::{self, EntryOf};
use ordo_domain::money::{from_e4_in, to_e4};
use ordo_domain::payables::{AllocationBasis, CostKind, ServedLine, allocate};
use ordo_domain::payments::{Account, Journal};
use ordo_domain::time::Date;
use ordo_domain::validation::{Violations, optional_text};
use ordo_domain::{Currency, Timestamp};
use rust_decimal::Decimal;
use std::collections::BTreeMap;

/// An order line a cost can be shared over, as stored.
struct LineFacts {
    order_number: String,
    currency: String,
    status: String,
    served: ServedLine,
}

const LINE_FACTS: &str = "SELECT l.order_id, l.line_no, o.number, o.currency, o.status, l.quantity, l.line_total_e4, \
    COALESCE(p.weight_g, 0) FROM order_lines l JOIN orders o ON o.id = l.order_id \
    JOIN products p ON p.id = l.product_id";

fn line_facts(row: &Row) -> Result<((i64, i64), LineFacts), DbError> {
    Ok((
        (row.int(0)?, row.int(1)?),
        LineFacts {
            order_number: row.text(2)?,
            currency: row.text(3)?,
            status: row.text(4)?,
            served: ServedLine {
                net_value: ordo_domain::money::from_e4(row.int(6)?),
                quantity: row.int(5)?,
                weight_g: row.int(7)?,
            },
        },
    ))
}

/// Records a cost and shares it over the lines of the orders (all their lines) and the
/// shipments (the lines and quantities each carried) it served, by value, quantity or
/// weight. The expense is booked against where the money went: the bank, the till, or the
/// payment provider's clearing account (a fee kept back from a settlement).
pub fn record_cost(tx: &mut dyn Tx, ctx: &Ctx, input: &NewCost) -> Result<Cost, PayablesError> {
    let mut v = Violations::new();
    let kind = match input.kind.as_deref().map(str::trim) {
        None | Some("") => v.check(Err(ordo_domain::FieldError::new("kind", "is required"))),
        Some(text) => CostKind::parse(text).or_else(|| {
            v.add("kind", format!("must be one of {}", CostKind::choices()));
            None
        }),
    };
    let basis = match input.basis.as_deref().map(str::trim) {
        None | Some("") => Some(AllocationBasis::Value),
        Some(text) => AllocationBasis::parse(text).or_else(|| {
            v.add("basis", format!("must be one of {}", AllocationBasis::choices()));
            None
        }),
    };
    let paid_from = match input.paid_from.as_deref().map(str::trim) {
        None | Some("") | Some("bank") => Some(("bank", Account::Bank)),
        Some("cash") => Some(("cash", Account::Cash)),
        Some("provider") => Some(("provider", Account::ProviderClearing)),
        Some(_) => {
            v.add("paid_from", "must be bank, cash or provider");
            None
        }
    };
    let reference = v.check(optional_text("reference", input.reference.as_deref(), 100)).flatten();
    let memo = v.check(optional_text("memo", input.memo.as_deref(), 500)).flatten();
    let today = crate::reports::sales::today(tx, ctx.now)?;
    let incurred_on = v.check(Date::field("incurred_on", input.incurred_on.as_deref())).flatten().unwrap_or(today);
    if input.orders.is_empty() && input.shipments.is_empty() {
        v.add("orders", "name the orders or the shipments the cost served");
    }
    if input.orders.len() + input.shipments.len() > 500 {
        v.add("orders", "at most 500 orders and shipments together");
    }
    // (order, line) → the line, in a stable order so shares fall the same way every time.
    let mut lines: BTreeMap<(i64, i64), LineFacts> = BTreeMap::new();
    for (i, &order_id) in input.orders.iter().enumerate() {
        let sql = format!("{LINE_FACTS} WHERE l.order_id = ?");
        let found = tx.query(&sql, params![order_id])?;
        if found.is_empty() {
            v.add(format!("orders[{i}]"), format!("no order has id {order_id}"));
        }
        for row in &found {
            let (key, facts) = line_facts(row)?;
            lines.insert(key, facts);
        }
    }
    for (i, &shipment_id) in input.shipments.iter().enumerate() {
        let carried = tx.query(
            "SELECT s.order_id, sl.line_no, CAST(SUM(sl.quantity) AS BIGINT) FROM shipment_lines sl \
             JOIN shipments s ON s.id = sl.shipment_id WHERE s.id = ? GROUP BY s.order_id, sl.line_no",
            params![shipment_id],
        )?;
        if carried.is_empty() {
            v.add(format!("shipments[{i}]"), format!("no shipment with lines has id {shipment_id}"));
        }
        for row in carried {
            let (order_id, line_no, quantity) = (row.int(0)?, row.int(1)?, row.int(2)?);
            if lines.contains_key(&(order_id, line_no)) {
                continue; // the whole order is named already
            }
            let sql = format!("{LINE_FACTS} WHERE l.order_id = ? AND l.line_no = ?");
            let Some(found) = tx.query_opt(&sql, params![order_id, line_no])? else { continue };
            let (key, mut facts) = line_facts(&found)?;
            // The shipment carried part of the line: its share of the value goes with it.
            let ordered = facts.served.quantity.max(1);
            facts.served.net_value = facts.served.net_value * Decimal::from(quantity) / Decimal::from(ordered);
            facts.served.quantity = quantity;
            lines.insert(key, facts);
        }
    }
    if let Some(cancelled) = lines.values().find(|l| l.status == "cancelled") {
        v.add("orders", format!("{} is cancelled: it served no one", cancelled.order_number));
    }
    let currencies: Vec<&str> = {
        let mut all: Vec<&str> = lines.values().map(|l| l.currency.as_str()).collect();
        all.sort_unstable();
        all.dedup();
        all
    };
    let currency = match (input.currency.as_deref(), currencies.as_slice()) {
        (_, [_, _, ..]) => {
            v.add("orders", format!("the orders are in {}: a cost is shared in one currency", currencies.join(", ")));
            None
        }
        (Some(given), [only]) if !given.trim().eq_ignore_ascii_case(only) => {
            v.add("currency", format!("the orders are in {only}; costs are shared in the orders' currency"));
            None
        }
        (_, [only]) => Currency::parse(only),
        (given, []) => v.check(Currency::field("currency", given)).flatten(),
    };
    let amount = currency.and_then(|c| v.check(amount_field("amount", input.amount.as_ref(), c)));
    v.into_result()?;
    let (Some(kind), Some(basis), Some((paid_from, account)), Some(currency), Some(amount)) =
        (kind, basis, paid_from, currency, amount)
    else {
        unreachable!("checked above")
    };
    let served: Vec<ServedLine> = lines.values().map(|l| l.served.clone()).collect();
    let shares = allocate(currency, amount, &served, basis);
    let number = format!("COST-{:06}", crate::orders::store::next_sequence(tx, "cost_number")?);
    let id = tx.insert(
        "INSERT INTO costs (number, kind, currency, amount_e4, paid_from, basis, reference, memo, incurred_on, \
         created_by, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        params![
            number.as_str(),
            kind.as_str(),
            currency.code(),
            to_e4(amount),
            paid_from,
            basis.as_str(),
            reference,
            memo,
            incurred_on.to_string(),
            ctx.actor.as_str(),
            ctx.now.micros()
        ],
    )?;
    for ((order_id, line_no), share) in lines.keys().zip(&shares) {
        if share.is_zero() {
            continue;
        }
        tx.execute(
            "INSERT INTO cost_allocations (cost_id, order_id, line_no, amount_e4) VALUES (?, ?, ?, ?)",
            params![id, *order_id, *line_no, to_e4(*share)],
        )?;
    }
    let mut orders: Vec<i64> = lines.keys().map(|(o, _)| *o).collect();
    orders.dedup();
    let text = format!("{kind} {number} shared over {} order(s) by {basis}", orders.len());
    let of = EntryOf {
        kind: "cost",
        source: &number,
        memo: &text,
        currency,
        customer_id: None,
        supplier_id: None,
        order_id: if orders.len() == 1 { orders.first().copied() } else { None },
    };
    ledger::post(tx, ctx, &of, Journal::new().debit(Account::for_cost(kind), amount).credit(account, amount))?;
    crate::audit::record(tx, ctx, "payables", "cost.recorded", &number, &format!("{amount} {currency}, {text}"))?;
    get_cost(tx, id)
}

pub fn get_cost(tx: &mut dyn Tx, id: i64) -> Result<Cost, PayablesError> {
    let Some(row) = tx.query_opt(
        "SELECT id, number, kind, amount_e4, currency, paid_from, basis, reference, memo, incurred_on, created_by, \
         created_at FROM costs WHERE id = ?",
        params![id],
    )?
    else {
        return Err(PayablesError::CostNotFound(id));
    };
    let currency = crate::catalog::store::currency(&row.text(4)?)?;
    let decode = |what: &str, text: String| DbError::Decode(format!("{what} {text}"));
    let kind_text = row.text(2)?;
    let basis_text = row.text(6)?;
    let mut cost = Cost {
        id,
        number: row.text(1)?,
        kind: CostKind::parse(&kind_text).ok_or_else(|| decode("cost kind", kind_text.clone()))?,
        amount: from_e4_in(row.int(3)?, currency),
        currency,
        paid_from: row.text(5)?,
        basis: AllocationBasis::parse(&basis_text).ok_or_else(|| decode("basis", basis_text.clone()))?,
        reference: row.opt_text(7)?,
        memo: row.opt_text(8)?,
        incurred_on: row.text(9)?,
        created_by: row.text(10)?,
        created_at: Timestamp(row.int(11)?),
        allocations: Vec::new(),
    };
    for r in tx.query(
        "SELECT a.order_id, o.number, a.line_no, l.sku, a.amount_e4 FROM cost_allocations a \
         JOIN orders o ON o.id = a.order_id JOIN order_lines l ON l.order_id = a.order_id AND l.line_no = a.line_no \
         WHERE a.cost_id = ? ORDER BY a.order_id, a.line_no",
        params![id],
    )? {
        cost.allocations.push(CostAllocation {
            order_id: r.int(0)?,
            order_number: r.text(1)?,
            line_no: r.int(2)?,
            sku: r.text(3)?,
            amount: from_e4_in(r.int(4)?, currency),
        });
    }
    Ok(cost)
}

pub fn list_costs(tx: &mut dyn Tx, order_id: Option<i64>, page: PageRequest) -> Result<Page<Cost>, PayablesError> {
    let mut filter = crate::db::Filter::new();
    filter.when("c.id IN (SELECT cost_id FROM cost_allocations WHERE order_id = ?)", order_id.map(|id| vec![id]));
    filter.when("c.id < ?", page.before_id.map(|id| vec![id]));
    let sql = format!("SELECT c.id FROM costs c{} ORDER BY c.id DESC LIMIT {}", filter.sql(), page.fetch_limit());
    let ids: Vec<i64> = tx.query(&sql, &filter.params)?.iter().map(|r| r.int(0)).collect::<Result<_, _>>()?;
    let mut items = Vec::with_capacity(ids.len());
    for id in ids {
        items.push(get_cost(tx, id)?);
    }
    Ok(page.page(items, |c| c.id))
}

/// What an order earned: its lines' net revenue, less the goods' cost (as it stood when the
/// order was placed) and the costs shared to its lines.
pub fn order_margin(tx: &mut dyn Tx, order_id: i64) -> Result<OrderMargin, PayablesError> {
    let Some(head) = tx.query_opt("SELECT number, currency, created_at FROM orders WHERE id = ?", params![order_id])?
    else {
        return Err(PayablesError::OrderNotFound(order_id));
    };
    let currency = crate::catalog::store::currency(&head.text(1)?)?;
    // Unit costs are kept in the base currency; an order in another one sees them at the
    // rate of the day it was placed, the day its prices were set.
    let base = crate::payments::fx::base_currency(tx)?;
    let placed_on = crate::payments::fx::today(tx, ordo_domain::Timestamp(head.int(2)?))?;
    let cost_rate = crate::payments::fx::rate_on(tx, currency, base, placed_on)?;
    // Units returned and put back on the shelf, per SKU.
    let mut restocked: BTreeMap<String, i64> = BTreeMap::new();
    for r in tx.query(
        "SELECT l.sku, CAST(SUM(l.received) AS BIGINT) FROM return_lines l JOIN returns r ON r.id = l.return_id \
         WHERE r.order_id = ? AND l.disposition = 'restock' GROUP BY l.sku",
        params![order_id],
    )? {
        restocked.insert(r.text(0)?, r.int(1)?);
    }
    let money = |e4: i64| from_e4_in(e4, currency);
    let shared = tx.query(
        "SELECT a.line_no, c.kind, CAST(SUM(a.amount_e4) AS BIGINT) FROM cost_allocations a \
         JOIN costs c ON c.id = a.cost_id WHERE a.order_id = ? GROUP BY a.line_no, c.kind",
        params![order_id],
    )?;
    let mut by_line: BTreeMap<i64, i64> = BTreeMap::new();
    let mut by_kind: BTreeMap<&'static str, i64> = BTreeMap::new();
    for r in &shared {
        let kind_text = r.text(1)?;
        let kind = CostKind::parse(&kind_text).ok_or_else(|| DbError::Decode(format!("cost kind {kind_text}")))?;
        *by_line.entry(r.int(0)?).or_default() += r.int(2)?;
        *by_kind.entry(kind.as_str()).or_default() += r.int(2)?;
    }
    let mut margin = OrderMargin {
        order_id,
        order_number: head.text(0)?,
        currency,
        revenue: money(0),
        credited: money(0),
        cost_of_goods: money(0),
        costs: CostKind::ALL
            .iter()
            .filter_map(|k| by_kind.get(k.as_str()).map(|e4| CostShare { kind: *k, amount: money(*e4) }))
            .collect(),
        gross_margin: money(0),
        margin: money(0),
        margin_percent: None,
        lines_without_cost: Vec::new(),
        lines: Vec::new(),
    };
    for r in tx.query(
        "SELECT line_no, sku, quantity, line_total_e4, unit_cost_e4 FROM order_lines WHERE order_id = ? ORDER BY line_no",
        params![order_id],
    )? {
        let (line_no, sku, quantity) = (r.int(0)?, r.text(1)?, r.int(2)?);
        let revenue = money(r.int(3)?);
        // A SKU on two lines takes its returns on the first line first.
        let back = restocked.get_mut(&sku).map_or(0, |left| {
            let taken = (*left).min(quantity);
            *left -= taken;
            taken
        });
        let cost_of_goods = match (r.opt_int(4)?, cost_rate) {
            (Some(e4), Some(rate)) => Some(currency.round(
                ordo_domain::money::from_e4(e4) * Decimal::from(quantity - back) / rate,
            )),
            _ => None,
        };
        let costs = money(by_line.get(&line_no).copied().unwrap_or(0));
        if cost_of_goods.is_none() {
            margin.lines_without_cost.push(sku.clone());
        }
        let goods = cost_of_goods.unwrap_or_default();
        margin.revenue += revenue;
        margin.cost_of_goods += goods;
        margin.lines.push(LineMargin {
            line_no,
            sku,
            quantity,
            restocked: back,
            revenue,
            cost_of_goods,
            costs,
            margin: revenue - goods - costs,
        });
    }
    // Money given back reduces what the order earned.
    margin.credited = money(
        tx.query_one(
            "SELECT CAST(COALESCE(SUM(l.line_total_e4), 0) AS BIGINT) FROM invoice_lines l \
             JOIN invoices i ON i.id = l.invoice_id WHERE i.order_id = ? AND i.kind = 'credit_note'",
            params![order_id],
        )?
        .int(0)?,
    );
    margin.revenue -= margin.credited;
    let shared_total: Decimal = margin.costs.iter().map(|c| c.amount).sum();
    margin.gross_margin = margin.revenue - margin.cost_of_goods;
    margin.margin = margin.gross_margin - shared_total;
    if !margin.revenue.is_zero() {
        margin.margin_percent = Some((margin.margin * Decimal::ONE_HUNDRED / margin.revenue).round_dp(1));
    }
    Ok(margin)
}

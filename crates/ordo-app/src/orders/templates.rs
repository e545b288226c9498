//! Order templates and reorders: a customer's usual order kept by name, or a past order,
//! placed again at today's prices. Only SKUs and quantities are kept; prices, taxes and
//! availability are worked out when the new order is quoted or placed.

use super::model::{NewOrder, NewOrderLine, OrderError, Placed, Quote};
use super::service::{get_order, place_order, quote_order};
use crate::Ctx;
use crate::db::{DbError, Row, Tx};
use crate::params;
use ordo_domain::Timestamp;
use ordo_domain::validation::{Violations, required_text};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// The most lines a template keeps.
const MAX_LINES: usize = 500;

#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
pub struct NewOrderTemplate {
    #[schema(example = "Weekly tea restock")]
    pub name: Option<String>,
    /// The customer the template belongs to; absent: shared by every customer.
    pub customer_id: Option<i64>,
    /// SKUs and quantities (prices are today's when the template is used).
    pub lines: Option<Vec<TemplateLine>>,
    /// Take the lines (and the customer, unless `customer_id` is given) from this order.
    pub from_order_id: Option<i64>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
pub struct TemplateLine {
    #[schema(example = "TEA-001")]
    pub sku: Option<String>,
    #[schema(example = 12)]
    pub quantity: Option<i64>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct OrderTemplate {
    pub id: i64,
    pub name: String,
    /// Null for a template every customer can use.
    pub customer_id: Option<i64>,
    pub lines: Vec<TemplateItem>,
    pub created_by: String,
    pub created_at: Timestamp,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct TemplateItem {
    pub sku: String,
    pub quantity: i64,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct OrderTemplates {
    pub items: Vec<OrderTemplate>,
}

/// What to place from a template or a past order; every field of a new order but the
/// lines, which come from the template.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
pub struct UseTemplate {
    /// Required for a shared template; a customer's template is for that customer.
    pub customer_id: Option<i64>,
    pub channel: Option<String>,
    pub external_ref: Option<String>,
    pub notes: Option<String>,
    pub requested_delivery_date: Option<String>,
    pub payment_method: Option<String>,
    pub shipping_service: Option<String>,
    /// true: price it and show what each line could reserve now, without placing it.
    #[serde(default)]
    pub dry_run: bool,
}

/// An order placed from a template or a reorder, or (with `dry_run`) its quote.
pub enum FromTemplate {
    Placed(Box<Placed>),
    Quoted(Box<Quote>),
}

fn template(row: &Row) -> Result<OrderTemplate, DbError> {
    let lines: Vec<TemplateItem> = serde_json::from_str(&row.text(3)?).map_err(|e| DbError::Decode(e.to_string()))?;
    Ok(OrderTemplate {
        id: row.int(0)?,
        name: row.text(1)?,
        customer_id: row.opt_int(2)?,
        lines,
        created_by: row.text(4)?,
        created_at: Timestamp(row.int(5)?),
    })
}

const COLUMNS: &str = "id, name, customer_id, lines, created_by, created_at";

pub fn create_template(tx: &mut dyn Tx, ctx: &Ctx, input: &NewOrderTemplate) -> Result<OrderTemplate, OrderError> {
    let mut v = Violations::new();
    let name = v.check(required_text("name", input.name.as_deref(), 100));
    let source = input.from_order_id.map(|id| get_order(tx, id)).transpose()?;
    let customer_id = input.customer_id.or(source.as_ref().map(|o| o.customer_id));
    if let Some(id) = customer_id
        && crate::customers::store::by_id(tx, id)?.is_none()
    {
        v.add("customer_id", format!("no customer with id {id}"));
    }
    let mut items: Vec<TemplateItem> = Vec::new();
    match (&input.lines, &source) {
        (Some(lines), _) => {
            if lines.is_empty() || lines.len() > MAX_LINES {
                v.add("lines", format!("needs 1 to {MAX_LINES} lines"));
            }
            for (i, line) in lines.iter().enumerate() {
                let sku = line.sku.as_deref().map(str::trim).unwrap_or("");
                if sku.is_empty() {
                    v.add(format!("lines[{i}].sku"), "is required");
                } else if !crate::catalog::store::sku_exists(tx, sku)? {
                    v.add(format!("lines[{i}].sku"), super::service::unknown_sku(tx, sku)?);
                }
                match line.quantity {
                    Some(q) if (1..=1_000_000).contains(&q) => {
                        items.push(TemplateItem { sku: sku.to_string(), quantity: q })
                    }
                    _ => v.add(format!("lines[{i}].quantity"), "must be a whole number from 1 to 1,000,000"),
                }
            }
        }
        (None, Some(order)) => {
            items = order.lines.iter().map(|l| TemplateItem { sku: l.sku.clone(), quantity: l.quantity }).collect();
        }
        (None, None) => v.add("lines", "give the lines or `from_order_id`"),
    }
    v.into_result()?;
    let name = name.unwrap_or_default();
    let lines = serde_json::to_string(&items).map_err(|e| DbError::Other(e.to_string()))?;
    let id = tx.insert(
        "INSERT INTO order_templates (name, customer_id, lines, created_by, created_at) VALUES (?, ?, ?, ?, ?)",
        params![name.as_str(), customer_id, lines, ctx.actor.as_str(), ctx.now.micros()],
    )?;
    crate::audit::record(tx, ctx, "orders", "order_template.created", &id.to_string(), &name)?;
    get_template(tx, id)
}

pub fn get_template(tx: &mut dyn Tx, id: i64) -> Result<OrderTemplate, OrderError> {
    let sql = format!("SELECT {COLUMNS} FROM order_templates WHERE id = ?");
    tx.query_opt(&sql, params![id])?.as_ref().map(template).transpose()?.ok_or(OrderError::TemplateNotFound(id))
}

/// A customer's templates and the shared ones (every template without a customer).
pub fn list_templates(tx: &mut dyn Tx, customer_id: Option<i64>) -> Result<OrderTemplates, OrderError> {
    let rows = match customer_id {
        Some(id) => tx.query(
            &format!(
                "SELECT {COLUMNS} FROM order_templates WHERE customer_id = ? OR customer_id IS NULL ORDER BY name, id LIMIT 500"
            ),
            params![id],
        )?,
        None => tx.query(&format!("SELECT {COLUMNS} FROM order_templates ORDER BY name, id LIMIT 500"), &[])?,
    };
    Ok(OrderTemplates { items: rows.iter().map(template).collect::<Result<_, _>>()? })
}

pub fn delete_template(tx: &mut dyn Tx, ctx: &Ctx, id: i64) -> Result<(), OrderError> {
    let found = get_template(tx, id)?;
    tx.execute("DELETE FROM order_templates WHERE id = ?", params![id])?;
    crate::audit::record(tx, ctx, "orders", "order_template.deleted", &id.to_string(), &found.name)?;
    Ok(())
}

/// Places (or quotes) an order with the template's lines at today's prices.
pub fn order_from_template(
    tx: &mut dyn Tx,
    ctx: &Ctx,
    template_id: i64,
    input: &UseTemplate,
) -> Result<FromTemplate, OrderError> {
    let found = get_template(tx, template_id)?;
    let customer_id = match (found.customer_id, input.customer_id) {
        (Some(owner), Some(asked)) if owner != asked => {
            let message = format!("this template belongs to customer {owner}");
            return Err(ordo_domain::Invalid::field("customer_id", message).into());
        }
        (owner, asked) => owner.or(asked),
    };
    let lines = found.lines.iter().map(|l| (l.sku.clone(), l.quantity)).collect();
    order_with_lines(tx, ctx, customer_id, lines, input)
}

/// Places (or quotes) the same SKUs and quantities as a past order, for the same customer,
/// at today's prices (a price typed on the old order is not carried over).
pub fn reorder(tx: &mut dyn Tx, ctx: &Ctx, order_id: i64, input: &UseTemplate) -> Result<FromTemplate, OrderError> {
    let past = get_order(tx, order_id)?;
    let lines = past.lines.iter().map(|l| (l.sku.clone(), l.quantity)).collect();
    order_with_lines(tx, ctx, Some(past.customer_id), lines, input)
}

fn order_with_lines(
    tx: &mut dyn Tx,
    ctx: &Ctx,
    customer_id: Option<i64>,
    lines: Vec<(String, i64)>,
    input: &UseTemplate,
) -> Result<FromTemplate, OrderError> {
    let order = NewOrder {
        customer_id,
        channel: input.channel.clone(),
        external_ref: input.external_ref.clone(),
        currency: None,
        lines: Some(
            lines
                .into_iter()
                .map(|(sku, quantity)| NewOrderLine { sku: Some(sku), quantity: Some(quantity), ..Default::default() })
                .collect(),
        ),
        shipping_address: None,
        notes: input.notes.clone(),
        requested_delivery_date: input.requested_delivery_date.clone(),
        payment_method: input.payment_method.clone(),
        shipping_service: input.shipping_service.clone(),
        coupon_code: None,
    };
    if input.dry_run {
        return Ok(FromTemplate::Quoted(Box::new(quote_order(tx, &order)?)));
    }
    Ok(FromTemplate::Placed(Box::new(place_order(tx, ctx, &order)?)))
}

use super::model::Customer;
use crate::catalog::store::{contains_pattern, currency};
use crate::common::{from_json_text, to_json_text};
use crate::db::{DbError, Filter, Row, Tx};
use crate::params;
use ordo_domain::customers::Address;
use ordo_domain::money::{from_e4, to_e4};
use ordo_domain::{Currency, Timestamp};
use rust_decimal::Decimal;

const COLUMNS: &str = "c.id, c.code, c.name, c.customer_group, c.region, c.email, c.phone, c.contact_name, c.shipping_address, \
    c.billing_address, c.payment_terms, c.credit_limit_e4, c.currency, l.code, c.version, c.created_at, c.updated_at, c.price_list_id, \
    c.accepts_backorders, c.language, c.salesperson, c.tier_id, t.code, t.discount_percent_e4";
const FROM: &str =
    "customers c LEFT JOIN price_lists l ON l.id = c.price_list_id LEFT JOIN member_tiers t ON t.id = c.tier_id";

/// A customer as stored, plus what the order pricing needs.
pub struct CustomerRecord {
    pub customer: Customer,
    pub price_list_id: Option<i64>,
    pub tier_id: Option<i64>,
    /// The member tier's percent off.
    pub tier_discount: Option<Decimal>,
}

fn record(row: &Row) -> Result<CustomerRecord, DbError> {
    Ok(CustomerRecord {
        customer: Customer {
            id: row.int(0)?,
            code: row.text(1)?,
            name: row.text(2)?,
            group: row.text(3)?,
            region: row.opt_text(4)?,
            email: row.opt_text(5)?,
            phone: row.opt_text(6)?,
            contact_name: row.opt_text(7)?,
            shipping_address: from_json_text(row.opt_text(8)?),
            billing_address: from_json_text(row.opt_text(9)?),
            payment_terms: row.text(10)?,
            credit_limit: row.opt_int(11)?.map(from_e4),
            currency: row.opt_text(12)?.map(|c| currency(&c)).transpose()?,
            price_list: row.opt_text(13)?,
            version: row.int(14)?,
            created_at: Timestamp(row.int(15)?),
            updated_at: Timestamp(row.int(16)?),
            accepts_backorders: row.bool(18)?,
            language: row.opt_text(19)?,
            salesperson: row.opt_text(20)?,
            tier: row.opt_text(22)?,
        },
        price_list_id: row.opt_int(17)?,
        tier_id: row.opt_int(21)?,
        tier_discount: row.opt_int(23)?.map(from_e4),
    })
}

/// Values of a customer row as stored, for insert and update.
pub struct CustomerRow {
    pub code: String,
    pub name: String,
    pub group: String,
    pub region: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub contact_name: Option<String>,
    pub shipping_address: Option<Address>,
    pub billing_address: Option<Address>,
    pub payment_terms: String,
    pub credit_limit: Option<Decimal>,
    pub currency: Option<Currency>,
    pub price_list_id: Option<i64>,
    pub tier_id: Option<i64>,
    pub accepts_backorders: bool,
    pub language: Option<String>,
    pub salesperson: Option<String>,
}

pub fn insert(tx: &mut dyn Tx, c: &CustomerRow, now: Timestamp) -> Result<i64, DbError> {
    tx.insert(
        "INSERT INTO customers (code, name, customer_group, region, email, phone, contact_name, shipping_address, billing_address, \
         payment_terms, credit_limit_e4, currency, price_list_id, version, created_at, updated_at, accepts_backorders, language, \
         salesperson, tier_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1, ?, ?, ?, ?, ?, ?)",
        params![
            c.code.as_str(), c.name.as_str(), c.group.as_str(), c.region.clone(), c.email.clone(), c.phone.clone(),
            c.contact_name.clone(), to_json_text(&c.shipping_address), to_json_text(&c.billing_address),
            c.payment_terms.as_str(), c.credit_limit.map(to_e4), c.currency.map(|c| c.code().to_string()),
            c.price_list_id, now.micros(), now.micros(), c.accepts_backorders, c.language.clone(), c.salesperson.clone(),
            c.tier_id
        ],
    )
}

pub fn update(tx: &mut dyn Tx, id: i64, version: i64, c: &CustomerRow, now: Timestamp) -> Result<bool, DbError> {
    let changed = tx.execute(
        "UPDATE customers SET name = ?, customer_group = ?, region = ?, email = ?, phone = ?, contact_name = ?, shipping_address = ?, \
         billing_address = ?, payment_terms = ?, credit_limit_e4 = ?, currency = ?, price_list_id = ?, accepts_backorders = ?, \
         language = ?, salesperson = ?, tier_id = ?, version = version + 1, updated_at = ? \
         WHERE id = ? AND version = ?",
        params![
            c.name.as_str(), c.group.as_str(), c.region.clone(), c.email.clone(), c.phone.clone(), c.contact_name.clone(),
            to_json_text(&c.shipping_address), to_json_text(&c.billing_address), c.payment_terms.as_str(),
            c.credit_limit.map(to_e4), c.currency.map(|c| c.code().to_string()), c.price_list_id, c.accepts_backorders,
            c.language.clone(), c.salesperson.clone(), c.tier_id, now.micros(), id, version
        ],
    )?;
    Ok(changed == 1)
}

pub fn by_id(tx: &mut dyn Tx, id: i64) -> Result<Option<CustomerRecord>, DbError> {
    let sql = format!("SELECT {COLUMNS} FROM {FROM} WHERE c.id = ?");
    tx.query_opt(&sql, params![id])?.as_ref().map(record).transpose()
}

pub fn id_by_code(tx: &mut dyn Tx, code: &str) -> Result<Option<i64>, DbError> {
    tx.query_opt("SELECT id FROM customers WHERE code = ?", params![code])?.map(|r| r.int(0)).transpose()
}

pub fn code_exists(tx: &mut dyn Tx, code: &str) -> Result<bool, DbError> {
    Ok(tx.query_opt("SELECT id FROM customers WHERE code = ?", params![code])?.is_some())
}

pub fn price_list_id(tx: &mut dyn Tx, code: &str) -> Result<Option<i64>, DbError> {
    tx.query_opt("SELECT id FROM price_lists WHERE code = ?", params![code])?.map(|r| r.int(0)).transpose()
}

pub fn list(tx: &mut dyn Tx, q: Option<&str>, before_id: Option<i64>, limit: i64) -> Result<Vec<Customer>, DbError> {
    let mut filter = Filter::new();
    filter.when("c.id < ?", before_id.map(|id| vec![id]));
    filter.when(
        "(LOWER(c.code) LIKE ? ESCAPE '!' OR LOWER(c.name) LIKE ? ESCAPE '!' OR LOWER(c.email) LIKE ? ESCAPE '!')",
        q.map(contains_pattern).map(|p| vec![p.clone(), p.clone(), p]),
    );
    let sql = format!("SELECT {COLUMNS} FROM {FROM}{} ORDER BY c.id DESC LIMIT {limit}", filter.sql());
    tx.query(&sql, &filter.params)?.iter().map(|r| record(r).map(|r| r.customer)).collect()
}

//! Upserts keyed by an external system's id, so an ERP or CRM can be the master of
//! customers, products and prices. Sending the same record twice leaves the same state.
//! Each upsert goes through the customers' and catalog's own use cases, so their checks
//! apply unchanged.

use super::IntegrationError;
use crate::catalog::{self, CatalogError, NewProduct, ProductPatch, SetPrice};
use crate::common::{AmountInput, Ctx};
use crate::customers::{self, CustomerError, NewCustomer};
use crate::db::{DbError, Tx};
use crate::params;
use ordo_domain::validation::Violations;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Upserted<T> {
    /// created or updated.
    pub outcome: &'static str,
    pub record: T,
}

fn check_external_id(external_id: &str) -> Result<String, IntegrationError> {
    let id = external_id.trim();
    if id.is_empty() || id.len() > 100 || id.chars().any(char::is_control) {
        return Err(ordo_domain::Invalid::field("external_id", "must be 1–100 printable characters").into());
    }
    Ok(id.to_string())
}

/// Creates or updates the customer known to the external system as `external_id`. A
/// customer with the same code but no external id yet is adopted.
pub fn upsert_customer(
    tx: &mut dyn Tx,
    ctx: &Ctx,
    external_id: &str,
    input: &NewCustomer,
) -> Result<Upserted<customers::Customer>, IntegrationError> {
    let external_id = check_external_id(external_id)?;
    let existing =
        match tx.query_opt("SELECT id FROM customers WHERE external_id = ?", params![external_id.as_str()])? {
            Some(r) => Some(r.int(0)?),
            None => match input.code.as_deref().map(str::trim) {
                Some(code) => tx
                    .query_opt("SELECT id FROM customers WHERE code = ? AND external_id IS NULL", params![code])?
                    .map(|r| r.int(0))
                    .transpose()?,
                None => None,
            },
        };
    let (outcome, customer) = match existing {
        Some(id) => ("updated", customers::update_customer(tx, ctx, id, None, input)?),
        None => ("created", customers::create_customer(tx, ctx, input)?),
    };
    tx.execute("UPDATE customers SET external_id = ? WHERE id = ?", params![external_id.as_str(), customer.id])?;
    Ok(Upserted { outcome, record: customer })
}

/// Creates or updates the product known as `external_id` (adopting one with the same SKU).
pub fn upsert_product(
    tx: &mut dyn Tx,
    ctx: &Ctx,
    external_id: &str,
    input: &NewProduct,
) -> Result<Upserted<catalog::Product>, IntegrationError> {
    let external_id = check_external_id(external_id)?;
    let existing = match tx.query_opt("SELECT id FROM products WHERE external_id = ?", params![external_id.as_str()])? {
        Some(r) => Some(r.int(0)?),
        None => match input.sku.as_deref().map(str::trim) {
            Some(sku) => tx
                .query_opt("SELECT id FROM products WHERE sku = ? AND external_id IS NULL", params![sku])?
                .map(|r| r.int(0))
                .transpose()?,
            None => None,
        },
    };
    let (outcome, product) = match existing {
        Some(id) => {
            let current = catalog::get_product(tx, id)?;
            if input.sku.as_deref().is_some_and(|s| s.trim() != current.sku) {
                return Err(ordo_domain::Invalid::field(
                    "sku",
                    format!("cannot change: {external_id} is SKU {}", current.sku),
                )
                .into());
            }
            ("updated", catalog::update_product(tx, ctx, id, None, &input.as_patch())?)
        }
        None => ("created", catalog::create_product(tx, ctx, input)?),
    };
    tx.execute("UPDATE products SET external_id = ? WHERE id = ?", params![external_id.as_str(), product.id])?;
    Ok(Upserted { outcome, record: product })
}

#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
pub struct ExternalPrice {
    /// The product, by external id or by SKU.
    pub product_external_id: Option<String>,
    pub sku: Option<String>,
    pub price: Option<AmountInput>,
    /// A price list's code; without it the product's list price changes.
    pub price_list: Option<String>,
}

fn upsert_price(tx: &mut dyn Tx, ctx: &Ctx, input: &ExternalPrice) -> Result<&'static str, IntegrationError> {
    let product = match (input.product_external_id.as_deref(), input.sku.as_deref()) {
        (Some(ext), _) => {
            tx.query_opt("SELECT id, sku FROM products WHERE external_id = ?", params![ext.trim()])?.ok_or_else(
                || ordo_domain::Invalid::field("product_external_id", format!("no product has external id {ext:?}")),
            )?
        }
        (None, Some(sku)) => tx
            .query_opt("SELECT id, sku FROM products WHERE sku = ?", params![sku.trim()])?
            .ok_or_else(|| ordo_domain::Invalid::field("sku", format!("no product has SKU {sku:?}")))?,
        (None, None) => {
            return Err(ordo_domain::Invalid::field("product_external_id", "name the product (or give its sku)").into());
        }
    };
    let (id, sku) = (product.int(0)?, product.text(1)?);
    match input.price_list.as_deref() {
        Some(list) => {
            catalog::set_list_price(tx, ctx, list, &sku, &SetPrice { price: input.price.clone(), breaks: None })?;
        }
        None => {
            AmountInput::required("price", input.price.as_ref(), false).map_err(|e| ordo_domain::Invalid(vec![e]))?;
            let patch = ProductPatch { price: input.price.clone(), ..ProductPatch::default() };
            catalog::update_product(tx, ctx, id, None, &patch)?;
        }
    }
    Ok("updated")
}

#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
pub struct ExternalProduct {
    pub external_id: Option<String>,
    #[serde(flatten)]
    pub product: NewProduct,
}

#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
pub struct ExternalCustomerItem {
    pub external_id: Option<String>,
    #[serde(flatten)]
    pub customer: NewCustomer,
}

#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
pub struct BulkSync {
    #[serde(default)]
    pub customers: Vec<ExternalCustomerItem>,
    #[serde(default)]
    pub products: Vec<ExternalProduct>,
    /// Applied after products, so a new product's price can come in the same call.
    #[serde(default)]
    pub prices: Vec<ExternalPrice>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct BulkItemResult {
    /// customers, products or prices.
    pub kind: &'static str,
    pub index: usize,
    pub external_id: Option<String>,
    /// created, updated or rejected.
    pub outcome: &'static str,
    pub id: Option<i64>,
    /// Why it was rejected: field and message.
    pub errors: Vec<ordo_domain::FieldError>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct BulkResult {
    pub created: usize,
    pub updated: usize,
    pub rejected: usize,
    pub items: Vec<BulkItemResult>,
}

pub const BULK_LIMIT: usize = 1000;

/// Applies every record it can; a rejected one is reported with its reasons and changes
/// nothing (each record's checks run before its writes).
pub fn bulk_sync(tx: &mut dyn Tx, ctx: &Ctx, input: &BulkSync) -> Result<BulkResult, IntegrationError> {
    let total = input.customers.len() + input.products.len() + input.prices.len();
    if total > BULK_LIMIT {
        let mut v = Violations::new();
        v.add("customers", format!("at most {BULK_LIMIT} records per call in all; {total} were sent"));
        v.into_result()?;
    }
    let mut result = BulkResult { created: 0, updated: 0, rejected: 0, items: Vec::new() };
    for (index, item) in input.customers.iter().enumerate() {
        let ext = item.external_id.clone().unwrap_or_default();
        let outcome = upsert_customer(tx, ctx, &ext, &item.customer).map(|u| (u.outcome, u.record.id));
        result.push("customers", index, item.external_id.clone(), outcome)?;
    }
    for (index, item) in input.products.iter().enumerate() {
        let ext = item.external_id.clone().unwrap_or_default();
        let outcome = upsert_product(tx, ctx, &ext, &item.product).map(|u| (u.outcome, u.record.id));
        result.push("products", index, item.external_id.clone(), outcome)?;
    }
    for (index, item) in input.prices.iter().enumerate() {
        let outcome = upsert_price(tx, ctx, item).map(|o| (o, 0));
        result.push("prices", index, item.product_external_id.clone().or(item.sku.clone()), outcome)?;
    }
    Ok(result)
}

impl BulkResult {
    fn push(
        &mut self,
        kind: &'static str,
        index: usize,
        external_id: Option<String>,
        outcome: Result<(&'static str, i64), IntegrationError>,
    ) -> Result<(), DbError> {
        let (outcome, id, errors) = match outcome {
            Ok((outcome, id)) => (outcome, (id > 0).then_some(id), Vec::new()),
            Err(error) => ("rejected", None, rejection(error)?),
        };
        match outcome {
            "created" => self.created += 1,
            "updated" => self.updated += 1,
            _ => self.rejected += 1,
        }
        self.items.push(BulkItemResult { kind, index, external_id, outcome, id, errors });
        Ok(())
    }
}

/// A record's problem as field errors; a database failure aborts the whole call.
fn rejection(error: IntegrationError) -> Result<Vec<ordo_domain::FieldError>, DbError> {
    let message = |field: &str, text: String| vec![ordo_domain::FieldError::new(field, text)];
    Ok(match error {
        IntegrationError::Invalid(invalid)
        | IntegrationError::Customer(CustomerError::Invalid(invalid))
        | IntegrationError::Catalog(CatalogError::Invalid(invalid)) => invalid.0,
        IntegrationError::Db(e)
        | IntegrationError::Customer(CustomerError::Db(e))
        | IntegrationError::Catalog(CatalogError::Db(e)) => {
            return Err(e);
        }
        IntegrationError::Customer(CustomerError::CodeTaken(code)) => {
            message("code", format!("customer {code} belongs to another external id"))
        }
        IntegrationError::Catalog(CatalogError::SkuTaken(sku)) => {
            message("sku", format!("SKU {sku} belongs to another external id"))
        }
        IntegrationError::Catalog(CatalogError::PriceListNotFound(code)) => {
            message("price_list", format!("no price list with code {code:?}"))
        }
        other => message("record", other.to_string()),
    })
}

use crate::common::AmountInput;
use ordo_domain::catalog::{Pack, PackInput};
use ordo_domain::{Currency, Timestamp};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
pub struct NewProduct {
    /// Unique stock-keeping unit: letters, digits and `- _ . /`.
    #[schema(example = "TEA-LJ-250")]
    pub sku: Option<String>,
    #[schema(example = "Longjing green tea 250 g / 龙井绿茶 250克")]
    pub name: Option<String>,
    pub description: Option<String>,
    /// List price, tax exclusive, as a decimal string.
    pub price: Option<AmountInput>,
    /// ISO 4217 code of the list price.
    #[schema(example = "CNY")]
    pub currency: Option<String>,
    /// Tax rate as a fraction: `"0.13"` for 13 %. Defaults to 0.
    pub tax_rate: Option<AmountInput>,
    /// Unit of measure, default `pcs`.
    pub unit: Option<String>,
    pub weight_kg: Option<AmountInput>,
    /// Default true.
    pub active: Option<bool>,
    /// Labels rules can test, e.g. `["fragile"]`.
    pub tags: Option<Vec<String>>,
    /// Orders may take more than is in stock; the rest waits for supply. Default false.
    pub backorderable: Option<bool>,
    /// The product's category (return policies and reports group by it), e.g. `tea`.
    pub category: Option<String>,
    /// Packs it is also sold in, e.g. `[{"unit": "box", "size": 12}]`: an order line may
    /// then ask for 3 `box` and get 36 of `unit`.
    pub packs: Option<Vec<PackInput>>,
}

impl NewProduct {
    /// The same fields as a change to a product that exists (its SKU stays).
    pub fn as_patch(&self) -> ProductPatch {
        ProductPatch {
            name: self.name.clone(),
            description: self.description.clone(),
            price: self.price.clone(),
            currency: self.currency.clone(),
            tax_rate: self.tax_rate.clone(),
            unit: self.unit.clone(),
            weight_kg: self.weight_kg.clone(),
            active: self.active,
            tags: self.tags.clone(),
            backorderable: self.backorderable,
            category: self.category.clone(),
            packs: self.packs.clone(),
        }
    }
}

/// Fields to change; absent fields stay as they are.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
pub struct ProductPatch {
    pub name: Option<String>,
    pub description: Option<String>,
    pub price: Option<AmountInput>,
    pub currency: Option<String>,
    pub tax_rate: Option<AmountInput>,
    pub unit: Option<String>,
    pub weight_kg: Option<AmountInput>,
    pub active: Option<bool>,
    pub tags: Option<Vec<String>>,
    pub backorderable: Option<bool>,
    /// Empty to clear.
    pub category: Option<String>,
    /// Replaces the packs when given (empty: none).
    pub packs: Option<Vec<PackInput>>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Product {
    pub id: i64,
    pub sku: String,
    pub name: String,
    pub description: Option<String>,
    pub unit: String,
    #[schema(value_type = String, example = "12.50")]
    pub price: Decimal,
    pub currency: Currency,
    #[schema(value_type = String, example = "0.13")]
    pub tax_rate: Decimal,
    #[schema(value_type = Option<String>, example = "0.25")]
    pub weight_kg: Option<Decimal>,
    pub active: bool,
    pub tags: Vec<String>,
    pub backorderable: bool,
    pub category: Option<String>,
    /// Packs it is also sold in, smallest first.
    pub packs: Vec<Pack>,
    pub version: i64,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
pub struct NewPriceList {
    #[schema(example = "WHOLESALE-CNY")]
    pub code: Option<String>,
    pub name: Option<String>,
    pub currency: Option<String>,
    /// Customers of this group are priced from this list unless they have their own.
    #[schema(example = "wholesale")]
    pub customer_group: Option<String>,
    /// A channel code: the list prices that channel's orders only (a group's list for a
    /// channel beats its list for every channel).
    pub channel: Option<String>,
    /// The prices include tax (含税价): an order line pays exactly the price, and the tax
    /// is taken out of it. Default false: tax is added on top.
    pub tax_included: Option<bool>,
    #[serde(default)]
    pub items: Vec<PriceInput>,
}

#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
pub struct PriceInput {
    pub sku: Option<String>,
    pub price: Option<AmountInput>,
    /// Quantity breaks: from `min_quantity` units on, a line gets `price` a unit.
    #[serde(default)]
    pub breaks: Vec<PriceBreakInput>,
}

#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
pub struct PriceBreakInput {
    pub min_quantity: Option<i64>,
    pub price: Option<AmountInput>,
}

#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
pub struct SetPrice {
    pub price: Option<AmountInput>,
    /// Replaces the product's quantity breaks on this list when given (empty: none).
    pub breaks: Option<Vec<PriceBreakInput>>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PriceList {
    pub id: i64,
    pub code: String,
    pub name: String,
    pub currency: Currency,
    pub customer_group: Option<String>,
    pub channel: Option<String>,
    /// The prices include tax.
    pub tax_included: bool,
    pub items: Vec<PriceListItem>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PriceListItem {
    pub sku: String,
    #[schema(value_type = String)]
    pub price: Decimal,
    pub breaks: Vec<PriceBreak>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PriceBreak {
    pub min_quantity: i64,
    #[schema(value_type = String)]
    pub price: Decimal,
}

/// The tax rules, replaced as a whole.
#[derive(Debug, Clone, Default, Deserialize, Serialize, ToSchema)]
pub struct TaxRules {
    pub rules: Vec<ordo_domain::tax::TaxRule>,
}

#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
pub struct TaxRulesInput {
    #[serde(default)]
    pub rules: Vec<ordo_domain::tax::TaxRuleInput>,
}

#[derive(Debug, thiserror::Error)]
pub enum CatalogError {
    #[error(transparent)]
    Invalid(#[from] ordo_domain::Invalid),
    #[error("no product with id {0}")]
    ProductNotFound(i64),
    #[error("no price list with code {0:?}")]
    PriceListNotFound(String),
    #[error("a product with SKU {0:?} already exists")]
    SkuTaken(String),
    #[error("a price list with code {0:?} already exists")]
    PriceListCodeTaken(String),
    #[error("the product changed since you read it: it is at version {current}")]
    VersionMismatch { current: i64 },
    #[error(transparent)]
    Db(#[from] crate::db::DbError),
}
crate::store_error!(CatalogError);

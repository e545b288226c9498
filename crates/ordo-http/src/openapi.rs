//! The OpenAPI 3.1 document, generated from the handlers' annotations.

use crate::error::{FieldErrorDoc, Problem};
use crate::{audit, catalog, customers, inventory, orders};
use std::sync::OnceLock;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

#[derive(OpenApi)]
#[openapi(
    info(title = "Ordo API", description = "Order management: catalog, customers, stock and orders. \
        Amounts are decimal strings; errors are RFC 9457 problem+json; POSTs honour Idempotency-Key; \
        updates honour If-Match; lists use cursor pagination."),
    paths(
        catalog::create_product, catalog::list_products, catalog::get_product, catalog::update_product,
        catalog::create_price_list, catalog::list_price_lists, catalog::set_list_price,
        customers::create_customer, customers::list_customers, customers::get_customer, customers::update_customer,
        customers::customer_orders,
        inventory::create_warehouse, inventory::list_warehouses, inventory::set_stock, inventory::stock_levels,
        inventory::stock_movements,
        audit::list_audit,
        orders::place_order, orders::list_orders, orders::get_order, orders::cancel_order, orders::order_events,
    ),
    components(schemas(Problem, FieldErrorDoc)),
    modifiers(&BearerAuth),
    tags(
        (name = "catalog", description = "Products and price lists"),
        (name = "customers", description = "Customers and their defaults"),
        (name = "inventory", description = "Warehouses, stock levels and the movement ledger"),
        (name = "orders", description = "Placing, finding and cancelling orders"),
        (name = "audit", description = "Who changed what, when and from where"),
    )
)]
struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        if let Some(components) = openapi.components.as_mut() {
            components.add_security_scheme(
                "bearer",
                SecurityScheme::Http(
                    HttpBuilder::new()
                        .scheme(HttpAuthScheme::Bearer)
                        .description(Some("`ordo token create --role admin --name NAME`"))
                        .build(),
                ),
            );
        }
    }
}

/// The document as JSON text, built once.
pub fn openapi_json() -> String {
    static DOC: OnceLock<String> = OnceLock::new();
    DOC.get_or_init(|| ApiDoc::openapi().to_json().unwrap_or_else(|e| format!("{{\"error\":\"{e}\"}}"))).clone()
}

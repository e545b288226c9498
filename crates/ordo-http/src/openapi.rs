//! The OpenAPI 3.1 document, generated from the handlers' annotations.

use crate::error::{FieldErrorDoc, Problem};
use crate::{
    aftersales, audit, catalog, channels, customers, exports, fulfillment, imports, integrations, inventory,
    order_templates, orders, payables, payments, portal, promotions, purchasing, reports, rules,
};
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
        catalog::create_price_list, catalog::list_price_lists, catalog::set_list_price, catalog::get_tax_rules,
        catalog::put_tax_rules,
        customers::create_customer, customers::list_customers, customers::get_customer, customers::update_customer,
        customers::customer_orders,
        inventory::create_warehouse, inventory::list_warehouses, inventory::update_warehouse, inventory::set_stock, inventory::stock_levels,
        inventory::stock_movements, inventory::create_transfer, inventory::list_transfers, inventory::get_transfer,
        inventory::ship_transfer, inventory::receive_transfer, inventory::start_count, inventory::list_counts,
        inventory::get_count, inventory::enter_counts, inventory::post_count, inventory::available_to_promise,
        inventory::replenishment_suggestions, inventory::set_replenishment, inventory::order_suggestions,
        audit::list_audit, audit::event_feed,
        orders::place_order, orders::list_orders, orders::get_order, orders::cancel_order, orders::order_events,
        orders::edit_order, orders::hold_order, orders::release_order, orders::submit_order, orders::split_order,
        orders::merge_orders, orders::approve_order, orders::reject_order, orders::approval_inbox, orders::order_approvals, orders::queues,
        channels::list_channels, channels::create_channel, channels::get_channel, channels::update_channel,
        channels::create_key, channels::list_keys, channels::revoke_key, channels::inbound_order,
        channels::callbacks, channels::replay_callback,
        portal::list_portal_users, portal::invite_portal_user, portal::disable_portal_user,
        promotions::list_promotions, promotions::create_promotion, promotions::get_promotion,
        promotions::update_promotion, promotions::list_member_tiers, promotions::create_member_tier,
        order_templates::create_template, order_templates::list_templates, order_templates::get_template,
        order_templates::delete_template, order_templates::order_from_template, order_templates::reorder,
        exports::export, imports::create_import, imports::get_import, imports::template,
        imports::save_mapping, imports::list_mappings,
        rules::create_rule, rules::list_rules, rules::get_rule, rules::update_rule, rules::delete_rule, rules::rule_history,
        rules::test_rule, rules::order_policy, rules::update_order_policy,
        purchasing::create_supplier, purchasing::list_suppliers, purchasing::get_supplier,
        purchasing::create_purchase_order, purchasing::list_purchase_orders, purchasing::get_purchase_order,
        purchasing::send_purchase_order, purchasing::receive_purchase_order,
        payables::enter_bill, payables::list_bills, payables::get_bill, payables::approve_bill, payables::pay_bill,
        payables::void_bill, payables::ap_aging, payables::record_cost, payables::list_costs, payables::get_cost,
        payables::order_margin,
        payments::get_settings, payments::put_settings, payments::order_methods, payments::create_payment,
        payments::list_payments, payments::get_payment, payments::capture_payment, payments::void_payment,
        payments::refund_payment, payments::list_refunds, payments::approve_refund, payments::reject_refund,
        payments::provider_webhook, payments::sandbox_settings, payments::trial_balance, payments::ledger_check,
        payments::list_exchange_rates, payments::put_exchange_rates, payments::put_base_currency,
        payments::create_invoice, payments::order_invoices, payments::list_invoices, payments::get_invoice,
        payments::write_off, payments::customer_statement, payments::ar_aging, payments::import_statement,
        payments::list_statements, payments::get_statement, payments::match_statement_line,
        fulfillment::get_settings, fulfillment::put_settings, fulfillment::allocate_order, fulfillment::order_allocation,
        fulfillment::shipping_options, fulfillment::create_shipment, fulfillment::order_shipments,
        fulfillment::complete_order, fulfillment::list_shipments, fulfillment::get_shipment, fulfillment::add_tracking,
        fulfillment::mark_delivered, fulfillment::list_pick_lists, fulfillment::create_pick_list,
        fulfillment::get_pick_list, fulfillment::confirm_pick_list, fulfillment::list_carriers,
        fulfillment::create_carrier, fulfillment::get_carrier, fulfillment::update_carrier, fulfillment::get_rates,
        fulfillment::set_rates, fulfillment::tracking_webhook, fulfillment::tracking_secret,
        fulfillment::import_tracking, fulfillment::list_claims, fulfillment::update_claim, fulfillment::work_queue,
        fulfillment::logistics,
        aftersales::get_settings, aftersales::put_settings, aftersales::request_return, aftersales::request_exchange,
        aftersales::list_returns, aftersales::get_return, aftersales::approve_return, aftersales::reject_return,
        aftersales::receive_return, aftersales::refund_return, aftersales::open_claim, aftersales::resolve_claim,
        aftersales::get_feedback, aftersales::leave_feedback, aftersales::create_ticket, aftersales::list_tickets,
        aftersales::get_ticket, aftersales::update_ticket, aftersales::reply, aftersales::customer_360,
        aftersales::add_note, aftersales::service_queue, aftersales::analytics,
        integrations::catalogue, integrations::list_webhooks, integrations::create_webhook, integrations::get_webhook,
        integrations::update_webhook, integrations::delete_webhook, integrations::deliveries, integrations::replay,
        integrations::get_settings, integrations::put_settings, integrations::get_mail, integrations::put_mail,
        integrations::list_templates, integrations::get_template, integrations::put_template, integrations::outbox,
        integrations::upsert_customer, integrations::upsert_product, integrations::bulk,
        reports::sales, reports::rfm, reports::abc, reports::cycle_times, reports::finance_summary, reports::settlement, reports::tax, reports::books,
        reports::get_schedules, reports::put_schedules,
    ),
    components(schemas(Problem, FieldErrorDoc)),
    modifiers(&BearerAuth),
    tags(
        (name = "catalog", description = "Products and price lists"),
        (name = "customers", description = "Customers and their defaults"),
        (name = "inventory", description = "Warehouses, stock levels and the movement ledger"),
        (name = "orders", description = "Placing, finding, editing, holding, splitting, merging and cancelling orders"),
        (name = "channels", description = "Sales channels and their partners. Every kind (web, phone, email, store, \
            marketplace, distributor, api, import) is a channel; a business registers more, e.g. `tmall`. A partner key \
            (`POST /channels/{id}/keys`) may only place orders on its channel (for the channel's customer account, under \
            the partner's own `external_ref`), list them and read or cancel one: any other channel's order is a 404. \
            A channel with a `callback_url` is told `order.shipped`, `order.delivered` and `order.cancelled` as \
            `{id, type, created_at, data: {channel, external_ref, order_id, order, status, …}}`, signed like webhooks \
            with the channel's `callback_secret`."),
        (name = "portal", description = "The customer portal at `/portal`: a customer's own people buy at their \
            prices, place and follow orders, download invoices and statements, ask for returns and rate deliveries. \
            Staff invite them here (`POST /customers/{id}/portal-users` answers the one-time link, also e-mailed when \
            mail is on); a portal user sees only their own company's records, and another company's order or invoice \
            is a 404. Portal users never get a console page or an API token."),
        (name = "promotions", description = "Promotions, coupons and member tiers. An order's lines are priced in \
            this order, each step on what the one before left: (1) base unit price — a price typed on the line, else \
            the customer's own price list, its group's list for the channel, its group's list, a list for the channel \
            (at the largest quantity break the line reaches), else the catalog price; (2) the line's manual \
            `discount_percent`; (3) automatic line promotions (percent off, amount off each unit, buy X get Y), lower \
            `priority` first; (4) the member tier's percent off; (5) automatic order promotions (percent or amount off \
            the order, spread over the lines in proportion); (6) the coupon. A `min_order` is compared with the \
            subtotal as it stands at the promotion's turn. Each amount is rounded to the currency's minor unit when \
            taken, so a line's `pricing.adjustments` add up to the difference between its gross and its `line_total`."),
        (name = "approvals", description = "Approval steps asked for by rules, and each approver's inbox"),
        (name = "payments", description = "Payment methods and providers, payments, refunds, the ledger, invoices, receivables and bank reconciliation"),
        (name = "fulfillment", description = "Sourcing, pick lists, shipments, carriers and rate shopping, tracking, claims and logistics KPIs"),
        (name = "after-sales", description = "Returns (RMA) and exchanges by policy, claim remedies, feedback, service tickets with SLAs, the service desk and its analytics"),
        (name = "integrations", description = "Events, webhooks, e-mail, the message bus and ERP/CRM sync. \
            Every event (see `GET /api/v1/events/catalogue`) is written to an outbox in the transaction of its change \
            and delivered at least once, in order per aggregate; receivers deduplicate by event id. \
            Webhook deliveries are `POST`s of `{id, type, created_at, data}` with `Ordo-Event-Id: <id>` and \
            `Ordo-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, \"<t>.<raw body>\")>`: recompute the HMAC \
            over the raw body, compare in constant time and refuse timestamps more than 5 minutes away. \
            Any 2xx answer counts as delivered; anything else is retried with exponential backoff and jitter."),
        (name = "purchasing", description = "Suppliers, purchase orders and receiving goods"),
        (name = "payables", description = "Supplier bills (three-way match), supplier payments, payables aging, costs and order margins"),
        (name = "reports", description = "Sales, customers (RFM), inventory (ABC), operations (cycle times) and the monthly \
            finance summary. Days begin at midnight in the business's time zone (`utc_offset` in /settings/reports, \
            default +08:00); sales figures count orders that are not cancelled, on their placement \
            day, in one currency per report. Each report is also a download with `format=csv` or `format=xlsx`."),
        (name = "exchange", description = "Records as CSV or XLSX files in the import templates' columns"),
        (name = "rules", description = "Order rules (CEL conditions and actions) and order-processing settings"),
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
    DOC.get_or_init(|| {
        let mut doc = serde_json::to_value(ApiDoc::openapi()).unwrap_or_default();
        document_errors(&mut doc);
        serde_json::to_string(&doc).unwrap_or_default()
    })
    .clone()
}

/// Errors are RFC 9457 problems, served as `application/problem+json`, and some can come
/// from any operation (no token, a role without the permission, a body that is not JSON…).
/// Written once here rather than on every handler.
fn document_errors(doc: &mut serde_json::Value) {
    let problem = |description: &str| {
        serde_json::json!({
            "description": description,
            "content": {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}
        })
    };
    let Some(paths) = doc.get_mut("paths").and_then(|p| p.as_object_mut()) else { return };
    for (path, item) in paths.iter_mut() {
        let Some(methods) = item.as_object_mut() else { continue };
        for operation in methods.values_mut() {
            let has_body = operation.get("requestBody").is_some();
            let has_params = operation.get("parameters").is_some_and(|p| p.as_array().is_some_and(|a| !a.is_empty()));
            let Some(responses) = operation.get_mut("responses").and_then(|r| r.as_object_mut()) else { continue };
            for (status, response) in responses.iter_mut() {
                let is_error = status.parse::<u16>().is_ok_and(|s| s >= 400);
                if let (true, Some(content)) = (is_error, response.get_mut("content").and_then(|c| c.as_object_mut()))
                    && let Some(schema) = content.remove("application/json")
                {
                    content.insert("application/problem+json".into(), schema);
                }
            }
            let mut add = |status: &str, description: &str| {
                responses.entry(status.to_string()).or_insert_with(|| problem(description));
            };
            add("401", "A valid bearer token is required");
            add("403", "The token's role may not do this");
            if has_body {
                add("400", "The body is not valid JSON");
                add("413", "The body is larger than 1 MiB");
                add("415", "The body is not application/json");
                add("422", "Invalid fields: `errors` lists each one");
            }
            if has_params {
                add("422", "An invalid query parameter: `errors` names it");
            }
            if path.contains('{') {
                add("404", "No such resource");
            } else if has_body {
                // A body can name a record (a warehouse, a customer, an order) that is not there.
                add("404", "A record the body names does not exist");
            }
        }
    }
}

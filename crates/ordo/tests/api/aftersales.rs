//! After-sales: returns judged by policy, receiving and refunds, exchanges, claims,
//! feedback and tickets with SLAs.

use crate::helpers::{TestApp, spawn_app};
use ordo_app::Ctx;
use ordo_domain::Timestamp;
use reqwest::StatusCode;
use serde_json::{Value, json};

fn id(v: &Value) -> i64 {
    v["id"].as_i64().unwrap()
}

/// A Shanghai warehouse with tea (category `tea`, 100.00 + 13 %) and teapots (150.00 +
/// 13 %), one carrier, and a customer in Shanghai.
async fn shop(app: &TestApp) -> i64 {
    app.post("/api/v1/warehouses", json!({"code": "SH", "name": "Shanghai DC", "region": "Shanghai"})).await;
    for (sku, price, category) in [("TEA", "100.00", "tea"), ("POT", "150.00", "teaware")] {
        let reply = app
            .post(
                "/api/v1/products",
                json!({"sku": sku, "name": sku, "price": price, "currency": "CNY", "tax_rate": "0.13", "category": category}),
            )
            .await;
        assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
        app.stock("SH", sku, 10).await;
    }
    app.carrier_to("SF", "Shanghai").await;
    let customer = app
        .post(
            "/api/v1/customers",
            json!({"code": "TEAHOUSE", "name": "Tea House", "group": "retail", "currency": "CNY",
                   "shipping_address": {"line1": "1 Nanjing Rd", "city": "Shanghai", "region": "Shanghai", "country": "CN"}}),
        )
        .await;
    assert_eq!(customer.status, StatusCode::CREATED, "{}", customer.body);
    id(&customer.body)
}

/// Tea: 7 days, 10 % restocking fee when the customer changed their mind.
async fn tea_policy(app: &TestApp) {
    let settings = json!({"return_policies": [
        {"name": "tea", "category": "tea", "window_days": 7, "restocking_fee_percent": "10"}]});
    let reply = app.put("/api/v1/settings/service", settings).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
}

/// Places, pays (cash), invoices, ships everything and marks it delivered.
async fn delivered_order(app: &TestApp, customer: i64, lines: Value) -> Value {
    delivered_order_invoiced(app, customer, lines, true).await
}

async fn delivered_order_invoiced(app: &TestApp, customer: i64, lines: Value, invoice: bool) -> Value {
    let order = app.post("/api/v1/orders", json!({"customer_id": customer, "lines": lines})).await;
    assert_eq!(order.status, StatusCode::CREATED, "{}", order.body);
    let order_id = id(&order.body);
    let total = order.body["total"].as_str().unwrap().to_string();
    let paid =
        app.post(&format!("/api/v1/orders/{order_id}/payments"), json!({"method": "cash", "amount": total})).await;
    assert_eq!(paid.status, StatusCode::CREATED, "{}", paid.body);
    if invoice {
        let invoice = app.post(&format!("/api/v1/orders/{order_id}/invoices"), json!({})).await;
        assert_eq!(invoice.status, StatusCode::CREATED, "{}", invoice.body);
    }
    let packages: Vec<Value> = order.body["lines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| json!({"sku": l["sku"], "quantity": l["quantity"]}))
        .collect();
    let shipment = app
        .post(
            &format!("/api/v1/orders/{order_id}/shipments"),
            json!({"warehouse": "SH", "packages": [{"lines": packages}]}),
        )
        .await;
    assert_eq!(shipment.status, StatusCode::CREATED, "{}", shipment.body);
    let delivered = app.post(&format!("/api/v1/shipments/{}/delivered", id(&shipment.body)), json!({})).await;
    assert_eq!(delivered.status, StatusCode::OK, "{}", delivered.body);
    app.get(&format!("/api/v1/orders/{order_id}")).await.body
}

async fn assert_ledger_balances(app: &TestApp) {
    app.assert_ledger_balances().await;
    assert_eq!(app.ledger_mismatches().await, 0, "stock levels match their movements");
}

#[tokio::test]
async fn a_return_inside_the_window_is_approved_and_one_outside_is_rejected_with_the_reason() {
    let app = spawn_app().await;
    let customer = shop(&app).await;
    tea_policy(&app).await;
    let order = delivered_order(&app, customer, json!([{"sku": "TEA", "quantity": 3}])).await;
    let order_id = id(&order);

    let inside = app
        .post(
            &format!("/api/v1/orders/{order_id}/returns"),
            json!({"lines": [{"sku": "TEA", "quantity": 1, "reason": "changed_mind"}]}),
        )
        .await;
    assert_eq!(inside.status, StatusCode::CREATED, "{}", inside.body);
    assert_eq!(inside.body["status"], "approved");
    let number = inside.body["number"].as_str().unwrap();
    assert!(number.starts_with("RMA-") && number.ends_with("-000001"), "{number}");
    assert!(inside.body["instructions"].as_str().unwrap().contains(number), "{}", inside.body);
    assert_eq!(inside.body["lines"][0]["policy"], "tea");
    assert_eq!(inside.body["value"], "113.00");

    // Eight days after delivery the tea policy's seven days are over.
    let later = Timestamp::now().plus_seconds(8 * 86_400);
    let input = ordo_app::aftersales::NewReturn {
        lines: Some(vec![ordo_app::aftersales::ReturnLineInput {
            sku: Some("TEA".into()),
            quantity: Some(1),
            reason: Some("changed_mind".into()),
            opened: None,
        }]),
        notes: None,
    };
    let outside = app
        .db
        .write(move |tx| ordo_app::aftersales::request_return(tx, &Ctx::at("test", "api", later), order_id, &input))
        .await
        .expect("judged");
    assert_eq!(outside.status, ordo_domain::aftersales::ReturnStatus::Rejected);
    assert_eq!(
        outside.decision_reason.as_deref(),
        Some("TEA was delivered 8 days ago; policy tea accepts returns within 7 days")
    );
    // Someone calls the customer about it.
    let tickets = app.get(&format!("/api/v1/tickets?order_id={order_id}")).await.body;
    assert_eq!(tickets["items"][0]["source"], "return_rejected", "{tickets}");
    assert_eq!(tickets["items"][0]["category"], "return");

    // Two units are left to return; three is refused and names the field.
    let too_many = app
        .post(
            &format!("/api/v1/orders/{order_id}/returns"),
            json!({"lines": [{"sku": "TEA", "quantity": 3, "reason": "defective"}]}),
        )
        .await;
    assert_eq!(too_many.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(too_many.body["errors"][0]["field"], "lines[0].quantity", "{}", too_many.body);
    let timeline = app.get(&format!("/api/v1/orders/{order_id}/events")).await.body;
    let kinds: Vec<&str> = timeline["items"].as_array().unwrap().iter().filter_map(|e| e["action"].as_str()).collect();
    assert!(kinds.contains(&"return_requested") && kinds.contains(&"return_approved"), "{kinds:?}");
}

#[tokio::test]
async fn a_received_return_restocks_sellable_units_and_refunds_its_value_less_the_restocking_fee() {
    let app = spawn_app().await;
    let customer = shop(&app).await;
    tea_policy(&app).await;
    let order = delivered_order(&app, customer, json!([{"sku": "TEA", "quantity": 2}])).await;
    let order_id = id(&order);
    assert_eq!(app.level("SH", "TEA").await["on_hand"], 8);

    let ret = app
        .post(
            &format!("/api/v1/orders/{order_id}/returns"),
            json!({"lines": [{"sku": "TEA", "quantity": 2, "reason": "changed_mind"}]}),
        )
        .await
        .body;
    let return_id = id(&ret);
    // The refund waits for the inspection.
    let early = app.post(&format!("/api/v1/returns/{return_id}/refund"), json!({})).await;
    assert_eq!(early.status, StatusCode::CONFLICT);

    let warehouse = app.token_for("warehouse").await;
    let received = app
        .post_as(
            &warehouse,
            &format!("/api/v1/returns/{return_id}/receive"),
            json!({"lines": [{"sku": "TEA", "quantity": 2, "disposition": "restock"}]}),
        )
        .await;
    assert_eq!(received.status, StatusCode::OK, "{}", received.body);
    assert_eq!(received.body["status"], "received");
    assert_eq!(received.body["restocking_fee"], "22.60");
    assert_eq!(received.body["refund_amount"], "203.40");
    let level = app.level("SH", "TEA").await;
    assert_eq!(level["on_hand"], 10, "both units are sellable again: {level}");

    let refunded = app.post(&format!("/api/v1/returns/{return_id}/refund"), json!({})).await;
    assert_eq!(refunded.status, StatusCode::OK, "{}", refunded.body);
    assert_eq!(refunded.body["status"], "refunded");
    assert_eq!(refunded.body["refunded"], "203.40");
    let order = app.get(&format!("/api/v1/orders/{order_id}")).await.body;
    assert_eq!(order["amounts"]["refunded"], "203.40", "{}", order["amounts"]);
    assert_eq!(order["payment_status"], "partially_refunded");
    let again = app.post(&format!("/api/v1/returns/{return_id}/refund"), json!({})).await;
    assert_eq!(again.status, StatusCode::CONFLICT);
    assert_ledger_balances(&app).await;
}

#[tokio::test]
async fn damaged_units_are_kept_apart_and_scrapped_ones_never_reenter_stock() {
    let app = spawn_app().await;
    let customer = shop(&app).await;
    let order = delivered_order(&app, customer, json!([{"sku": "TEA", "quantity": 3}])).await;
    let ret = app
        .post(
            &format!("/api/v1/orders/{}/returns", id(&order)),
            json!({"lines": [{"sku": "TEA", "quantity": 3, "reason": "damaged_in_transit"}]}),
        )
        .await
        .body;
    assert_eq!(ret["return_shipping"], "business", "the business pays when it was at fault");
    let received = app
        .post(
            &format!("/api/v1/returns/{}/receive", id(&ret)),
            json!({"lines": [{"sku": "TEA", "quantity": 2, "disposition": "damaged"}]}),
        )
        .await;
    assert_eq!(received.status, StatusCode::OK, "{}", received.body);
    // Two of three came back, no fee for a transit damage: 2/3 of 339.00.
    assert_eq!(received.body["refund_amount"], "226.00");
    let level = app.level("SH", "TEA").await;
    assert_eq!((level["on_hand"].as_i64(), level["damaged"].as_i64()), (Some(7), Some(2)), "{level}");
    let bad = app
        .post(
            &format!("/api/v1/returns/{}/receive", id(&ret)),
            json!({"lines": [{"sku": "TEA", "disposition": "melt"}]}),
        )
        .await;
    assert_eq!(bad.status, StatusCode::CONFLICT, "received already");
    assert_ledger_balances(&app).await;
}

#[tokio::test]
async fn an_exchange_for_a_dearer_product_settles_exactly_the_difference() {
    let app = spawn_app().await;
    let customer = shop(&app).await;
    let order = delivered_order(&app, customer, json!([{"sku": "TEA", "quantity": 1}])).await;
    let order_id = id(&order);

    let exchange = app
        .post(
            &format!("/api/v1/orders/{order_id}/exchanges"),
            json!({"return_lines": [{"sku": "TEA", "quantity": 1, "reason": "defective"}],
                   "replacement_lines": [{"sku": "POT", "quantity": 1}]}),
        )
        .await;
    assert_eq!(exchange.status, StatusCode::CREATED, "{}", exchange.body);
    assert_eq!(exchange.body["kind"], "exchange");
    let replacement_id = exchange.body["replacement_order_id"].as_i64().expect("a replacement order");
    let replacement = app.get(&format!("/api/v1/orders/{replacement_id}")).await.body;
    assert_eq!(replacement["total"], "169.50");
    assert_eq!(replacement["status"], "on_hold", "it waits for the tea to come back");
    assert_eq!(replacement["hold_reasons"][0]["code"], "awaiting_return");

    let received = app
        .post(
            &format!("/api/v1/returns/{}/receive", id(&exchange.body)),
            json!({"lines": [{"sku": "TEA", "quantity": 1, "disposition": "scrap"}]}),
        )
        .await;
    assert_eq!(received.status, StatusCode::OK, "{}", received.body);
    assert_eq!(received.body["status"], "refunded");
    assert_eq!(received.body["settled"], true);

    // The tea's 113.00 pays towards the pot; 56.50 is left to charge.
    let replacement = app.get(&format!("/api/v1/orders/{replacement_id}")).await.body;
    assert_eq!(replacement["status"], "confirmed", "released once the return arrived");
    assert_eq!(replacement["amounts"]["paid"], "113.00", "{}", replacement["amounts"]);
    assert_eq!(replacement["amounts"]["due"], "56.50", "{}", replacement["amounts"]);
    let paid = app
        .post(&format!("/api/v1/orders/{replacement_id}/payments"), json!({"method": "cash", "amount": "56.50"}))
        .await;
    assert_eq!(paid.status, StatusCode::CREATED, "{}", paid.body);
    let replacement = app.get(&format!("/api/v1/orders/{replacement_id}")).await.body;
    assert_eq!(replacement["payment_status"], "paid");
    let original = app.get(&format!("/api/v1/orders/{order_id}")).await.body;
    assert_eq!(original["amounts"]["refunded"], "113.00");
    let customer_view = app.get(&format!("/api/v1/customers/{customer}/360")).await.body;
    assert_eq!(customer_view["store_credit"], json!([]), "no credit left over: {customer_view}");
    assert_eq!(app.level("SH", "TEA").await["on_hand"], 9, "scrapped tea does not come back");
    assert_ledger_balances(&app).await;
}

#[tokio::test]
async fn a_lost_parcel_opens_a_ticket_and_is_reshipped_free_once() {
    let app = spawn_app().await;
    let customer = shop(&app).await;
    let order = app
        .post("/api/v1/orders", json!({"customer_id": customer, "lines": [{"sku": "POT", "quantity": 1}]}))
        .await
        .body;
    let order_id = id(&order);
    app.post(&format!("/api/v1/orders/{order_id}/payments"), json!({"method": "cash", "amount": "169.50"})).await;
    let shipment = app
        .post(
            &format!("/api/v1/orders/{order_id}/shipments"),
            json!({"warehouse": "SH", "packages": [{"lines": [{"sku": "POT", "quantity": 1}]}]}),
        )
        .await
        .body;

    let claim = app
        .post(
            &format!("/api/v1/shipments/{}/claims", id(&shipment)),
            json!({"kind": "lost", "detail": "never arrived"}),
        )
        .await;
    assert_eq!(claim.status, StatusCode::CREATED, "{}", claim.body);
    let tickets = app.get(&format!("/api/v1/tickets?order_id={order_id}")).await.body;
    assert_eq!(tickets["items"][0]["source"], "delivery_exception", "{tickets}");
    assert_eq!(tickets["items"][0]["priority"], "high");

    let remedy = app.post(&format!("/api/v1/claims/{}/remedy", id(&claim.body)), json!({"remedy": "reship"})).await;
    assert_eq!(remedy.status, StatusCode::OK, "{}", remedy.body);
    assert_eq!(remedy.body["claimed_amount"], "169.50", "the carrier is asked for the goods' value");
    let reship = app.get(&format!("/api/v1/orders/{}", remedy.body["replacement_order_id"])).await.body;
    assert_eq!(reship["total"], "0.00");
    assert_eq!(reship["lines"][0]["sku"], "POT");
    let twice = app.post(&format!("/api/v1/claims/{}/remedy", id(&claim.body)), json!({"remedy": "refund"})).await;
    assert_eq!(twice.status, StatusCode::CONFLICT);
}

#[tokio::test]
async fn a_low_rating_opens_a_ticket_and_a_ticket_past_its_sla_is_overdue() {
    let app = spawn_app().await;
    let customer = shop(&app).await;
    let order = delivered_order(&app, customer, json!([{"sku": "TEA", "quantity": 1}])).await;
    let order_id = id(&order);
    assert_eq!(app.get(&format!("/api/v1/orders/{order_id}/feedback")).await.body["status"], "awaiting");

    let rated =
        app.post(&format!("/api/v1/orders/{order_id}/feedback"), json!({"rating": 1, "comment": "堆满了灰尘"})).await;
    assert_eq!(rated.status, StatusCode::CREATED, "{}", rated.body);
    let ticket_id = rated.body["ticket_id"].as_i64().expect("a complaint ticket");
    let ticket = app.get(&format!("/api/v1/tickets/{ticket_id}")).await.body;
    assert_eq!((ticket["category"].as_str(), ticket["priority"].as_str()), (Some("complaint"), Some("high")));
    assert_eq!(ticket["messages"][0]["body"], "堆满了灰尘");
    assert_eq!(app.get(&format!("/api/v1/orders/{order_id}/feedback")).await.body["status"], "rated");
    let twice = app.post(&format!("/api/v1/orders/{order_id}/feedback"), json!({"rating": 5})).await;
    assert_eq!(twice.status, StatusCode::CONFLICT);
    let zero = app.post(&format!("/api/v1/orders/{order_id}/feedback"), json!({"rating": 0})).await;
    assert_eq!(zero.body["errors"][0]["field"], "rating");

    // A question asked two days ago, due in 24 hours: overdue now.
    let two_days_ago = Timestamp::now().plus_seconds(-2 * 86_400);
    let input = ordo_app::aftersales::NewTicket {
        customer_id: Some(customer),
        subject: Some("Where is my invoice?".into()),
        category: Some("billing".into()),
        ..Default::default()
    };
    let old = app
        .db
        .write(move |tx| ordo_app::aftersales::create_ticket(tx, &Ctx::at("test", "api", two_days_ago), &input))
        .await
        .expect("ticket");
    let overdue = app.get("/api/v1/tickets?status=overdue").await.body;
    let ids: Vec<i64> = overdue["items"].as_array().unwrap().iter().map(id).collect();
    assert_eq!(ids, vec![old.id], "only the old question is past its SLA: {overdue}");
    assert_eq!(overdue["items"][0]["overdue"], true);

    let replied = app.post(&format!("/api/v1/tickets/{}/replies", old.id), json!({"body": "Sent again today"})).await;
    assert_eq!(replied.body["status"], "in_progress", "{}", replied.body);
    let version = replied.body["version"].as_i64().unwrap();
    let stale = app.patch(&format!("/api/v1/tickets/{}", old.id), json!({"status": "resolved"}), Some("\"1\"")).await;
    assert_eq!(stale.status, StatusCode::PRECONDITION_FAILED);
    let resolved = app
        .patch(&format!("/api/v1/tickets/{}", old.id), json!({"status": "resolved"}), Some(&format!("\"{version}\"")))
        .await;
    assert_eq!(resolved.status, StatusCode::OK, "{}", resolved.body);
    assert_eq!(resolved.body["overdue"], false);
    let analytics = app.get("/api/v1/reports/service").await.body;
    assert_eq!(analytics["tickets_resolved"], 1, "{analytics}");
    assert_eq!(analytics["sla_compliance"], "0.0", "resolved late");
    assert_eq!(analytics["average_rating"], "1.0");
}

#[tokio::test]
async fn refunding_a_return_on_a_paid_order_never_invoiced_leaves_nothing_due() {
    let app = spawn_app().await;
    let customer = shop(&app).await;
    let order = delivered_order_invoiced(&app, customer, json!([{"sku": "TEA", "quantity": 2}]), false).await;
    let order_id = id(&order);
    assert_eq!(order["amounts"]["due"], "0.00");

    let ret = app
        .post(
            &format!("/api/v1/orders/{order_id}/returns"),
            json!({"lines": [{"sku": "TEA", "quantity": 1, "reason": "defective"}]}),
        )
        .await;
    assert_eq!(ret.status, StatusCode::CREATED, "{}", ret.body);
    let ret_id = id(&ret.body);
    let received = app
        .post(
            &format!("/api/v1/returns/{ret_id}/receive"),
            json!({"lines": [{"sku": "TEA", "quantity": 1, "disposition": "restock"}]}),
        )
        .await;
    assert_eq!(received.status, StatusCode::OK, "{}", received.body);
    let refunded = app.post(&format!("/api/v1/returns/{ret_id}/refund"), json!({})).await;
    assert_eq!(refunded.status, StatusCode::OK, "{}", refunded.body);

    // The returned tea was billed and credited, so the order owes nothing and shows the refund.
    let order = app.get(&format!("/api/v1/orders/{order_id}")).await.body;
    assert_eq!(order["amounts"]["due"], "0.00", "{}", order["amounts"]);
    assert_eq!(order["amounts"]["refunded"], "113.00", "{}", order["amounts"]);
    assert_eq!(order["amounts"]["credited"], "113.00", "{}", order["amounts"]);
    assert_eq!(order["payment_status"], "partially_refunded");
    let invoices = app.get(&format!("/api/v1/orders/{order_id}/invoices")).await.body;
    let kinds: Vec<&str> = invoices["items"].as_array().unwrap().iter().map(|i| i["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["invoice", "credit_note"], "{invoices}");
    assert_ledger_balances(&app).await;
}

//! Supplier bills matched three ways (order, receipt, bill), supplier payments, payables
//! aging, and what follows a shipment: the costs shared to the lines it carried, and its
//! invoice.

use crate::helpers::{TestApp, account, spawn_app};
use ordo_domain::Timestamp;
use ordo_domain::time::Date;
use reqwest::StatusCode;
use serde_json::{Value, json};

fn id(v: &Value) -> i64 {
    v["id"].as_i64().unwrap()
}

/// A supplier on net 30 and a purchase order for 10 tea at 7.00 and 5 cups at 2.50, of
/// which 6 tea and all the cups have arrived.
async fn partly_received_order(app: &TestApp) -> (i64, i64) {
    app.product("TEA-1", "20.00").await;
    app.product("CUP-1", "8.00").await;
    app.warehouse("SH").await;
    let supplier =
        app.post("/api/v1/suppliers", json!({"code": "SUP-HZ", "name": "杭州茶厂", "payment_terms": "net30"})).await;
    assert_eq!(supplier.status, StatusCode::CREATED, "{}", supplier.body);
    assert_eq!(supplier.body["payment_terms"], "net30");
    let po = app
        .post(
            "/api/v1/purchase-orders",
            json!({"supplier_id": id(&supplier.body), "warehouse": "SH",
                   "lines": [{"sku": "TEA-1", "quantity": 10, "unit_cost": "7.00"},
                             {"sku": "CUP-1", "quantity": 5, "unit_cost": "2.50"}]}),
        )
        .await;
    assert_eq!(po.status, StatusCode::CREATED, "{}", po.body);
    let po_id = id(&po.body);
    receive(app, po_id, json!([{"sku": "TEA-1", "quantity": 6}, {"sku": "CUP-1", "quantity": 5}])).await;
    (id(&supplier.body), po_id)
}

async fn receive(app: &TestApp, po_id: i64, lines: Value) {
    let reply = app.post(&format!("/api/v1/purchase-orders/{po_id}/receive"), json!({"lines": lines})).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
}

fn mismatch_kinds(bill: &Value, line: usize) -> Vec<String> {
    bill["lines"][line]["mismatches"].as_array().unwrap().iter().map(|m| m["kind"].as_str().unwrap().into()).collect()
}

#[tokio::test]
async fn a_bill_that_matches_order_and_receipt_is_payable_and_one_that_does_not_waits_for_approval() {
    let app = spawn_app().await;
    let (supplier, po_id) = partly_received_order(&app).await;
    let finance = app.token_for("finance").await;
    let bills = format!("/api/v1/purchase-orders/{po_id}/bills");

    // What arrived, at the agreed cost (the cups 2 % dearer, within tolerance), plus 13 % VAT.
    let matched = app
        .post_as(
            &finance,
            &bills,
            json!({"supplier_ref": "HZ-0457", "tax": "7.12",
                   "lines": [{"sku": "TEA-1", "quantity": 6, "unit_cost": "7.00"},
                             {"sku": "CUP-1", "quantity": 5, "unit_cost": "2.55"}]}),
        )
        .await;
    assert_eq!(matched.status, StatusCode::CREATED, "{}", matched.body);
    let a = &matched.body;
    assert_eq!(
        (a["number"].as_str(), a["status"].as_str(), a["matched"].as_bool()),
        (Some("BILL-000001"), Some("open"), Some(true))
    );
    assert_eq!(
        (a["subtotal"].as_str(), a["total"].as_str(), a["open"].as_str()),
        (Some("54.75"), Some("61.87"), Some("61.87"))
    );
    let bill_date = Date::parse(a["bill_date"].as_str().unwrap()).unwrap();
    assert_eq!(a["due_date"], bill_date.plus_days(30).to_string(), "net 30 from the bill date");

    // The same supplier invoice twice, a warehouse clerk, and a SKU not on the order are refused.
    let again = app
        .post_as(
            &finance,
            &bills,
            json!({"supplier_ref": "HZ-0457", "lines": [{"sku": "TEA-1", "quantity": 1, "unit_cost": "7.00"}]}),
        )
        .await;
    assert_eq!(again.status, StatusCode::CONFLICT, "{}", again.body);
    assert!(again.body["detail"].as_str().unwrap().contains("BILL-000001"), "{}", again.body);
    let clerk = app.token_for("warehouse").await;
    let forbidden = app
        .post_as(
            &clerk,
            &bills,
            json!({"supplier_ref": "X", "lines": [{"sku": "TEA-1", "quantity": 1, "unit_cost": "7.00"}]}),
        )
        .await;
    assert_eq!(forbidden.status, StatusCode::FORBIDDEN);
    let stranger = app
        .post_as(
            &finance,
            &bills,
            json!({"supplier_ref": "HZ-X", "lines": [{"sku": "POT-9", "quantity": 1, "unit_cost": "1"}]}),
        )
        .await;
    assert_eq!(stranger.error_fields(), ["lines[0].sku"]);

    // Four more tea before they arrived, and dearer: held, with both reasons.
    let held = app
        .post_as(
            &finance,
            &bills,
            json!({"supplier_ref": "HZ-0458", "lines": [{"sku": "TEA-1", "quantity": 4, "unit_cost": "7.50"}]}),
        )
        .await;
    assert_eq!(held.status, StatusCode::CREATED, "{}", held.body);
    let b = &held.body;
    assert_eq!((b["status"].as_str(), b["matched"].as_bool()), (Some("on_hold"), Some(false)));
    assert_eq!(mismatch_kinds(b, 0), ["not_received", "price"]);
    assert!(
        b["lines"][0]["mismatches"][0]["message"]
            .as_str()
            .unwrap()
            .starts_with("bills 4, but only 0 received and not yet billed"),
        "{b}"
    );
    let held_id = id(b);
    let pay_held =
        app.post_as(&finance, &format!("/api/v1/supplier-bills/{held_id}/payments"), json!({"amount": "30.00"})).await;
    assert_eq!(pay_held.status, StatusCode::CONFLICT);
    assert!(pay_held.body["detail"].as_str().unwrap().contains("on hold"), "{}", pay_held.body);

    // The tea arrives; finance accepts the surcharge, with a reason.
    receive(&app, po_id, json!([{"sku": "TEA-1", "quantity": 4}])).await;
    let po = app.get(&format!("/api/v1/purchase-orders/{po_id}")).await.body;
    assert_eq!((po["lines"][0]["received"].as_i64(), po["lines"][0]["billed"].as_i64()), (Some(10), Some(10)));
    let approve = format!("/api/v1/supplier-bills/{held_id}/approve");
    assert_eq!(app.post_as(&finance, &approve, json!({})).await.error_fields(), ["note"]);
    let approved = app.post_as(&finance, &approve, json!({"note": "0.50 surcharge agreed by phone"})).await;
    assert_eq!(approved.status, StatusCode::OK, "{}", approved.body);
    assert_eq!(
        (approved.body["status"].as_str(), approved.body["approved_by"].as_str()),
        (Some("open"), Some("token:test-finance"))
    );

    // The first bill is paid in two parts; more than is open is refused.
    let pay_a = format!("/api/v1/supplier-bills/{}/payments", id(a));
    let first = app.post_as(&finance, &pay_a, json!({"amount": "30.00", "reference": "ICBC 8812"})).await;
    assert_eq!(first.status, StatusCode::CREATED, "{}", first.body);
    assert_eq!(app.get(&format!("/api/v1/supplier-bills/{}", id(a))).await.body["status"], "partially_paid");
    assert_eq!(app.post_as(&finance, &pay_a, json!({"amount": "40.00"})).await.error_fields(), ["amount"]);
    assert_eq!(
        app.post_as(&finance, &pay_a, json!({"amount": "31.87", "method": "cash"})).await.status,
        StatusCode::CREATED
    );
    let paid = app.get(&format!("/api/v1/supplier-bills/{}", id(a))).await.body;
    assert_eq!((paid["status"].as_str(), paid["open"].as_str()), (Some("paid"), Some("0.00")));
    assert_eq!(paid["payments"].as_array().map(Vec::len), Some(2));
    assert_eq!(app.post_as(&finance, &pay_a, json!({"amount": "1.00"})).await.status, StatusCode::CONFLICT);

    // What is still owed: the approved bill, due in 30 days; 45 days on it is 15 days late.
    let today = Date::of(Timestamp::now());
    let aging = app.get(&format!("/api/v1/reports/ap-aging?as_of={today}")).await.body;
    assert_eq!(aging["suppliers"][0]["supplier_id"], supplier);
    assert_eq!(
        (aging["totals"]["current"].as_str(), aging["totals"]["total"].as_str()),
        (Some("30.00"), Some("30.00"))
    );
    let later = app.get(&format!("/api/v1/reports/ap-aging?as_of={}", today.plus_days(45))).await.body;
    assert_eq!((later["totals"]["current"].as_str(), later["totals"]["1_30"].as_str()), (Some("0.00"), Some("30.00")));

    // The books: purchases and input tax against payables, payables down by what was paid.
    let trial = app.get("/api/v1/ledger/trial-balance").await.body;
    assert_eq!(account(&trial, "2000"), "30.00", "{trial}");
    assert_eq!(account(&trial, "5000"), "84.75");
    assert_eq!(account(&trial, "1300"), "7.12");
    app.assert_ledger_balances().await;

    // A paid bill cannot be voided; the approved one can, and its tea can be billed again.
    assert_eq!(
        app.post_as(&finance, &format!("/api/v1/supplier-bills/{}/void", id(a)), json!({})).await.status,
        StatusCode::CONFLICT
    );
    let voided = app.post_as(&finance, &format!("/api/v1/supplier-bills/{held_id}/void"), json!({})).await;
    assert_eq!((voided.status, voided.body["status"].as_str()), (StatusCode::OK, Some("voided")));
    let rebilled = app
        .post_as(
            &finance,
            &bills,
            json!({"supplier_ref": "HZ-0459", "lines": [{"sku": "TEA-1", "quantity": 4, "unit_cost": "7.00"}]}),
        )
        .await;
    assert_eq!((rebilled.body["status"].as_str(), rebilled.body["total"].as_str()), (Some("open"), Some("28.00")));
    let trial = app.get("/api/v1/ledger/trial-balance").await.body;
    assert_eq!(account(&trial, "2000"), "28.00");
    let open = app.get("/api/v1/supplier-bills?status=open").await.body;
    assert_eq!(open["items"].as_array().map(Vec::len), Some(1));
    assert_eq!(app.get("/api/v1/supplier-bills?status=late").await.error_fields(), ["status"]);
    app.assert_ledger_balances().await;
}

/// Tea at 20.00 (cost 7.00) × 3 and a cup at 8.00 (cost 2.50), paid; a first parcel
/// carried two of the tea. Returns the order and the shipment.
async fn order_with_a_first_parcel(app: &TestApp) -> (i64, i64) {
    let (_, po_id) = partly_received_order(app).await;
    receive(app, po_id, json!([{"sku": "TEA-1", "quantity": 4}])).await;
    // The carrier's rates say "Shanghai", the customer writes 上海市: the same province.
    app.carrier_to("SF", "Shanghai").await;
    let customer = app
        .post(
            "/api/v1/customers",
            json!({"code": "TEAHOUSE", "name": "Tea House", "group": "retail", "currency": "CNY",
                   "shipping_address": {"line1": "1 Nanjing Rd", "city": "上海", "region": "上海市", "country": "CN"}}),
        )
        .await;
    assert_eq!(customer.status, StatusCode::CREATED, "{}", customer.body);
    let customer = id(&customer.body);
    let order = app
        .post(
            "/api/v1/orders",
            json!({"customer_id": customer, "lines": [{"sku": "TEA-1", "quantity": 3}, {"sku": "CUP-1", "quantity": 1}]}),
        )
        .await;
    assert_eq!(order.status, StatusCode::CREATED, "{}", order.body);
    let order_id = id(&order.body);
    let total = order.body["total"].as_str().unwrap().to_string();
    let paid =
        app.post(&format!("/api/v1/orders/{order_id}/payments"), json!({"method": "cash", "amount": total})).await;
    assert_eq!(paid.status, StatusCode::CREATED, "{}", paid.body);
    // A first parcel carries two of the tea only.
    let shipment = app
        .post(
            &format!("/api/v1/orders/{order_id}/shipments"),
            json!({"warehouse": "SH", "packages": [{"lines": [{"sku": "TEA-1", "quantity": 2}]}]}),
        )
        .await;
    assert_eq!(shipment.status, StatusCode::CREATED, "{}", shipment.body);

    (order_id, id(&shipment.body))
}

#[tokio::test]
async fn freight_and_fees_are_shared_to_the_lines_they_served_and_come_off_the_order_margin() {
    let app = spawn_app().await;
    let (order_id, shipment_id) = order_with_a_first_parcel(&app).await;
    let finance = app.token_for("finance").await;
    // The parcel's freight belongs to the tea line alone.
    let freight = app
        .post_as(
            &finance,
            "/api/v1/costs",
            json!({"kind": "freight", "amount": "6.00", "shipments": [shipment_id], "reference": "SF-INV-88"}),
        )
        .await;
    assert_eq!(freight.status, StatusCode::CREATED, "{}", freight.body);
    let shares: Vec<(String, String)> = freight.body["allocations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| (a["sku"].as_str().unwrap().into(), a["amount"].as_str().unwrap().into()))
        .collect();
    assert_eq!(shares, [("TEA-1".to_string(), "6.00".to_string())]);
    // The provider's fee is shared by value: 60.00 and 8.00 of 68.00, to the cent.
    let fee = app
        .post_as(
            &finance,
            "/api/v1/costs",
            json!({"kind": "payment_fee", "amount": "1.00", "orders": [order_id], "paid_from": "provider"}),
        )
        .await;
    assert_eq!(fee.status, StatusCode::CREATED, "{}", fee.body);
    let amounts: Vec<&str> =
        fee.body["allocations"].as_array().unwrap().iter().map(|a| a["amount"].as_str().unwrap()).collect();
    assert_eq!(amounts, ["0.88", "0.12"]);
    let packaging = app
        .post_as(
            &finance,
            "/api/v1/costs",
            json!({"kind": "packaging", "amount": "2.00", "orders": [order_id], "basis": "quantity"}),
        )
        .await;
    let amounts: Vec<&str> =
        packaging.body["allocations"].as_array().unwrap().iter().map(|a| a["amount"].as_str().unwrap()).collect();
    assert_eq!(amounts, ["1.50", "0.50"]);

    // Bad input names its field and records nothing.
    let before = app.get("/api/v1/costs").await.body["items"].as_array().map(Vec::len);
    for (body, field) in [
        (json!({"kind": "lunch", "amount": "1.00", "orders": [order_id]}), "kind"),
        (json!({"kind": "freight", "amount": "1.001", "orders": [order_id]}), "amount"),
        (json!({"kind": "freight", "amount": "1.00"}), "orders"),
        (json!({"kind": "freight", "amount": "1.00", "orders": [999_999]}), "orders[0]"),
        (json!({"kind": "freight", "amount": "1.00", "orders": [order_id], "currency": "USD"}), "currency"),
        (json!({"kind": "freight", "amount": "1.00", "orders": [order_id], "basis": "mood"}), "basis"),
    ] {
        let reply = app.post_as(&finance, "/api/v1/costs", body).await;
        assert_eq!(reply.error_fields(), [field], "{}", reply.body);
    }
    assert_eq!(app.get("/api/v1/costs").await.body["items"].as_array().map(Vec::len), before);

    // Revenue 68.00 net, goods 3 × 7.00 + 2.50 = 23.50, shared costs 9.00.
    let margin = app.get(&format!("/api/v1/orders/{order_id}/margin")).await.body;
    assert_eq!(
        (margin["revenue"].as_str(), margin["cost_of_goods"].as_str()),
        (Some("68.00"), Some("23.50")),
        "{margin}"
    );
    assert_eq!((margin["gross_margin"].as_str(), margin["margin"].as_str()), (Some("44.50"), Some("35.50")));
    assert_eq!(margin["margin_percent"], "52.2");
    let kinds: Vec<(&str, &str)> = margin["costs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (c["kind"].as_str().unwrap(), c["amount"].as_str().unwrap()))
        .collect();
    assert_eq!(kinds, [("freight", "6.00"), ("packaging", "2.00"), ("payment_fee", "1.00")]);
    assert_eq!(margin["lines"][0]["costs"], "8.38", "6.00 freight + 0.88 fee + 1.50 packaging");
    assert_eq!(margin["lines"][0]["margin"], "30.62");
    assert_eq!(margin["lines_without_cost"].as_array().map(Vec::len), Some(0));
    let for_order = app.get(&format!("/api/v1/costs?order_id={order_id}")).await.body;
    assert_eq!(for_order["items"].as_array().map(Vec::len), Some(3));
    assert_eq!(app.get("/api/v1/orders/999999/margin").await.status, StatusCode::NOT_FOUND);

    let trial = app.get("/api/v1/ledger/trial-balance").await.body;
    assert_eq!(
        (account(&trial, "6200"), account(&trial, "6210"), account(&trial, "6220")),
        ("6.00".into(), "2.00".into(), "1.00".into())
    );
    app.assert_ledger_balances().await;
}

#[tokio::test]
async fn finance_enters_approves_and_pays_bills_and_records_a_cost_in_the_console() {
    let app = spawn_app().await;
    let (_, po_id) = partly_received_order(&app).await;
    let mut finance = app.console_as("finance").await;

    // The purchase order offers the received, unbilled goods at the order's cost.
    let (status, page) = finance.get("/purchase-orders").await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("TEA-1 6 7.00") && page.contains("CUP-1 5 2.50"), "prefilled bill lines");
    let (status, _) = finance
        .post(
            &format!("/purchase-orders/{po_id}/bills"),
            &[("supplier_ref", "HZ-1001"), ("tax", ""), ("lines", "TEA-1 6 7.00\nCUP-1 5 2.90")],
        )
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let (_, page) = finance.get("/payables?status=on_hold").await;
    assert!(page.contains("HZ-1001") && page.contains("16.0% above the order"), "the held cup line says why");
    let bill = app.get("/api/v1/supplier-bills").await.body["items"][0].clone();
    let bill_path = format!("/payables/bills/{}", id(&bill));
    let (status, page) = finance.post(&bill_path, &[("action", "pay"), ("amount", "10.00")]).await;
    assert_eq!(status, StatusCode::CONFLICT, "a held bill is not paid: {page}");
    let (status, _) = finance.post(&bill_path, &[("action", "approve"), ("note", "new price list from May")]).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let (status, _) =
        finance.post(&bill_path, &[("action", "pay"), ("amount", "56.50"), ("method", "bank_transfer")]).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let (_, page) = finance.get("/payables").await;
    assert!(page.contains("Nothing is owed to suppliers."), "all paid");

    // A cost recorded on an order page shows in its margin.
    let customer = app.customer("SHOP", "retail").await;
    let order =
        app.post("/api/v1/orders", json!({"customer_id": customer, "lines": [{"sku": "CUP-1", "quantity": 2}]})).await;
    assert_eq!(order.status, StatusCode::CREATED, "{}", order.body);
    let order_id = id(&order.body);
    let (status, _) = finance
        .post(
            &format!("/orders/{order_id}/costs"),
            &[("kind", "packaging"), ("amount", "1.20"), ("basis", "value"), ("paid_from", "cash")],
        )
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let (_, page) = finance.get(&format!("/orders/{order_id}")).await;
    // 16.00 revenue − 2 × 2.50 goods − 1.20 packaging.
    assert!(page.contains("id=\"order-margin\">¥9.80"), "margin after costs on the order page");
    let mut sales = app.console_as("sales").await;
    let (_, page) = sales.get(&format!("/orders/{order_id}")).await;
    assert!(!page.contains("id=\"margin\""), "sales staff do not see costs");
    app.assert_ledger_balances().await;
}

#[tokio::test]
async fn a_shipment_is_invoiced_for_what_it_carried_and_only_once() {
    let app = spawn_app().await;
    let (order_id, shipment_id) = order_with_a_first_parcel(&app).await;
    let invoices = format!("/api/v1/orders/{order_id}/invoices");

    let first = app.post(&invoices, json!({"shipment_id": shipment_id})).await;
    assert_eq!(first.status, StatusCode::CREATED, "{}", first.body);
    let lines: Vec<(&str, i64)> = first.body["lines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| (l["sku"].as_str().unwrap(), l["quantity"].as_i64().unwrap()))
        .collect();
    assert_eq!(lines, [("TEA-1", 2)], "two tea travelled, nothing else");
    assert_eq!((first.body["subtotal"].as_str(), first.body["total"].as_str()), (Some("40.00"), Some("45.20")));
    assert_eq!(first.body["shipment_number"], "SH-000001");

    let again = app.post(&invoices, json!({"shipment_id": shipment_id})).await;
    assert_eq!(again.status, StatusCode::CONFLICT, "{}", again.body);
    let both =
        app.post(&invoices, json!({"shipment_id": shipment_id, "lines": [{"sku": "CUP-1", "quantity": 1}]})).await;
    assert_eq!(both.error_fields(), ["shipment_id"]);
    let stranger = app.post(&invoices, json!({"shipment_id": 999})).await;
    assert_eq!(stranger.error_fields(), ["shipment_id"]);

    // The rest of the order is still there to invoice.
    let rest = app.post(&invoices, json!({})).await;
    let lines: Vec<(&str, i64)> = rest.body["lines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| (l["sku"].as_str().unwrap(), l["quantity"].as_i64().unwrap()))
        .collect();
    assert_eq!(lines, [("TEA-1", 1), ("CUP-1", 1)]);
    assert_eq!(rest.body["shipment_number"], Value::Null);

    // In the console the shipment page links its invoice.
    let mut clerk = app.console_as("sales").await;
    let (_, page) = clerk.get(&format!("/shipments/{shipment_id}")).await;
    assert!(page.contains(first.body["number"].as_str().unwrap()), "the shipment shows its invoice");
    app.assert_ledger_balances().await;
}

#[tokio::test]
async fn the_daily_settlement_adds_up_sales_documents_and_money_by_method() {
    let app = spawn_app().await;
    let (order_id, shipment_id) = order_with_a_first_parcel(&app).await;
    let finance = app.token_for("finance").await;
    // 76.84 paid in cash for the order; 10.00 of it refunded; the parcel invoiced.
    let payment = app.get(&format!("/api/v1/orders/{order_id}/payments")).await.body["items"][0].clone();
    let refund = app
        .post(&format!("/api/v1/payments/{}/refund", id(&payment)), json!({"amount": "10.00", "reason": "late"}))
        .await;
    assert_eq!(refund.status, StatusCode::CREATED, "{}", refund.body);
    let invoice = app.post(&format!("/api/v1/orders/{order_id}/invoices"), json!({"shipment_id": shipment_id})).await;
    assert_eq!(invoice.body["total"], "45.20");
    // 42.00 to the tea grower, 6.00 freight.
    let bill = app
        .post_as(
            &finance,
            "/api/v1/purchase-orders/1/bills",
            json!({"supplier_ref": "HZ-1", "lines": [{"sku": "TEA-1", "quantity": 6, "unit_cost": "7.00"}]}),
        )
        .await;
    let paid = app
        .post_as(&finance, &format!("/api/v1/supplier-bills/{}/payments", id(&bill.body)), json!({"amount": "42.00"}))
        .await;
    assert_eq!(paid.status, StatusCode::CREATED, "{}", paid.body);
    app.post_as(&finance, "/api/v1/costs", json!({"kind": "freight", "amount": "6.00", "shipments": [shipment_id]}))
        .await;

    let report = app.get("/api/v1/reports/settlement").await.body;
    let days = report["rows"].as_array().unwrap();
    assert_eq!(days.len(), 30, "the last 30 days, one row each");
    let today = days.last().unwrap();
    let figures: Vec<&str> = [
        "order_value",
        "invoiced",
        "received",
        "refunds",
        "net_received",
        "supplier_payments",
        "costs",
        "not_invoiced",
    ]
    .iter()
    .map(|k| today[*k].as_str().unwrap())
    .collect();
    assert_eq!(figures, ["76.84", "45.20", "76.84", "10.00", "66.84", "42.00", "6.00", "31.64"], "{today}");
    let credit_notes: rust_decimal::Decimal = today["credit_notes"].as_str().unwrap().parse().unwrap();
    let expected = rust_decimal::Decimal::new(4520, 2) - credit_notes - rust_decimal::Decimal::new(6684, 2);
    assert_eq!(today["not_collected"], expected.to_string(), "invoiced − credit notes − net received");
    assert_eq!(report["totals"]["received"], "76.84");
    let methods: Vec<(&str, i64, &str)> = report["by_method"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| (m["method"].as_str().unwrap(), m["payments"].as_i64().unwrap(), m["amount"].as_str().unwrap()))
        .collect();
    assert_eq!(methods, [("cash", 1, "76.84")]);

    let monthly = app.get("/api/v1/reports/settlement?by=month").await.body;
    assert_eq!(monthly["rows"].as_array().unwrap().last().unwrap()["net_received"], "66.84");
    assert_eq!(app.get("/api/v1/reports/settlement?by=week").await.error_fields(), ["by"]);
    let mut console = app.console_as("finance").await;
    let (status, csv) = console.get("/reports/settlement?format=csv").await;
    assert_eq!(status, StatusCode::OK);
    assert!(csv.contains("net_received") && csv.contains("by_method"), "{csv}");
    let (status, page) = console.get("/reports/settlement").await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("Received by method") && page.contains("¥66.84"), "the settlement tab");
}

#[tokio::test]
async fn the_tax_report_nets_output_tax_by_rate_against_input_tax() {
    let app = spawn_app().await;
    let (order_id, _) = order_with_a_first_parcel(&app).await;
    let finance = app.token_for("finance").await;
    // Invoiced: 68.00 net at 13 % = 8.84; a 10.00 refund credits 8.85 net and 1.15 tax.
    let invoice = app.post(&format!("/api/v1/orders/{order_id}/invoices"), json!({})).await;
    assert_eq!(invoice.body["tax_total"], "8.84", "{}", invoice.body);
    let payment = app.get(&format!("/api/v1/orders/{order_id}/payments")).await.body["items"][0].clone();
    let refund = app
        .post(&format!("/api/v1/payments/{}/refund", id(&payment)), json!({"amount": "10.00", "reason": "late"}))
        .await;
    assert_eq!(refund.status, StatusCode::CREATED, "{}", refund.body);
    // Input tax: the grower's bill for six tea, 42.00 + 5.46.
    let bill = app
        .post_as(
            &finance,
            "/api/v1/purchase-orders/1/bills",
            json!({"supplier_ref": "HZ-9", "tax": "5.46", "lines": [{"sku": "TEA-1", "quantity": 6, "unit_cost": "7.00"}]}),
        )
        .await;
    assert_eq!(bill.status, StatusCode::CREATED, "{}", bill.body);

    let report = app.get("/api/v1/reports/tax").await.body;
    let rates = report["rates"].as_array().unwrap();
    assert_eq!(rates.len(), 1, "a single-rate order's credit note keeps its rate: {report}");
    let r = &rates[0];
    let row: Vec<&str> =
        ["rate", "invoiced_net", "invoiced_tax", "credited_net", "credited_tax", "taxable", "output_tax"]
            .iter()
            .map(|k| r[*k].as_str().unwrap())
            .collect();
    assert_eq!(row, ["0.13", "68.00", "8.84", "8.85", "1.15", "59.15", "7.69"]);
    assert_eq!((report["input_tax"].as_str(), report["tax_payable"].as_str()), (Some("5.46"), Some("2.23")));
    assert_eq!(report["supplier_bills"], 1);
    // The order's margin counts the money given back: 68.00 − 8.85 credited.
    let margin = app.get(&format!("/api/v1/orders/{order_id}/margin")).await.body;
    assert_eq!((margin["credited"].as_str(), margin["revenue"].as_str()), (Some("8.85"), Some("59.15")), "{margin}");
    assert_eq!(margin["gross_margin"], "35.65", "59.15 − 23.50 goods");
    let mut console = app.console_as("finance").await;
    let (status, page) = console.get("/reports/tax").await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("Tax payable") && page.contains("¥2.23"), "the tax tab");
}

#[tokio::test]
async fn racing_bills_and_payments_never_bill_or_pay_twice() {
    let app = spawn_app().await;
    let (_, po_id) = partly_received_order(&app).await;
    let finance = app.token_for("finance").await;
    let bills = format!("/api/v1/purchase-orders/{po_id}/bills");
    // Two clerks enter a bill for the same six tea at once: one matches, the other is held.
    let bill = |reference: &'static str| {
        let (app, finance, bills) = (&app, finance.clone(), bills.clone());
        async move {
            app.post_as(
                &finance,
                &bills,
                json!({"supplier_ref": reference, "lines": [{"sku": "TEA-1", "quantity": 6, "unit_cost": "7.00"}]}),
            )
            .await
        }
    };
    let (a, b) = tokio::join!(bill("HZ-A"), bill("HZ-B"));
    let mut statuses =
        vec![a.body["status"].as_str().unwrap().to_string(), b.body["status"].as_str().unwrap().to_string()];
    statuses.sort();
    assert_eq!(statuses, ["on_hold", "open"], "{} / {}", a.body, b.body);
    let po = app.get(&format!("/api/v1/purchase-orders/{po_id}")).await.body;
    assert_eq!(po["lines"][0]["billed"], 12, "both are entered; the held one waits for a person");

    // Two payments of everything open on the matched bill race: one goes out.
    let open = if a.body["status"] == "open" { &a.body } else { &b.body };
    let pay_path = format!("/api/v1/supplier-bills/{}/payments", id(open));
    let pay = || {
        let (app, finance, pay_path) = (&app, finance.clone(), pay_path.clone());
        async move { app.post_as(&finance, &pay_path, json!({"amount": "42.00"})).await }
    };
    let (first, second) = tokio::join!(pay(), pay());
    let mut codes = [first.status.as_u16(), second.status.as_u16()];
    codes.sort_unstable();
    assert_eq!(codes[0], 201, "{} / {}", first.body, second.body);
    assert!(codes[1] == 409 || codes[1] == 422, "the second finds nothing open: {}", second.body);
    let paid = app.get(&format!("/api/v1/supplier-bills/{}", id(open))).await.body;
    assert_eq!((paid["paid"].as_str(), paid["payments"].as_array().map(Vec::len)), (Some("42.00"), Some(1)));
    app.assert_ledger_balances().await;
}

#[tokio::test]
async fn a_supplier_with_a_wider_price_tolerance_matches_a_dearer_bill() {
    let app = spawn_app().await;
    partly_received_order(&app).await;
    let too_wide =
        app.post("/api/v1/suppliers", json!({"code": "SUP-X", "name": "x", "price_tolerance_percent": "150"})).await;
    assert_eq!(too_wide.error_fields(), ["price_tolerance_percent"]);
    // A grower whose prices move with the harvest: 10 % either way is agreed.
    let supplier = app
        .post("/api/v1/suppliers", json!({"code": "SUP-FJ", "name": "福建茶园", "price_tolerance_percent": "10"}))
        .await;
    assert_eq!(supplier.body["price_tolerance_percent"], "10", "{}", supplier.body);
    let po = app
        .post(
            "/api/v1/purchase-orders",
            json!({"supplier_id": id(&supplier.body), "warehouse": "SH", "lines": [{"sku": "TEA-1", "quantity": 10, "unit_cost": "7.00"}]}),
        )
        .await;
    receive(&app, id(&po.body), json!([{"sku": "TEA-1", "quantity": 10}])).await;
    let bills = format!("/api/v1/purchase-orders/{}/bills", id(&po.body));
    let dearer = app
        .post(&bills, json!({"supplier_ref": "FJ-1", "lines": [{"sku": "TEA-1", "quantity": 5, "unit_cost": "7.50"}]}))
        .await;
    assert_eq!(dearer.body["status"], "open", "7.1 % is within this supplier's 10 %: {}", dearer.body);
    let much_dearer = app
        .post(&bills, json!({"supplier_ref": "FJ-2", "lines": [{"sku": "TEA-1", "quantity": 5, "unit_cost": "7.80"}]}))
        .await;
    assert_eq!(much_dearer.body["status"], "on_hold");
    assert!(much_dearer.body["lines"][0]["mismatches"][0]["message"].as_str().unwrap().ends_with("(allowed: 10%)"));
}

#[tokio::test]
async fn a_restocked_return_takes_its_cost_off_the_sale_and_a_dollar_order_sees_its_cost_in_dollars() {
    let app = spawn_app().await;
    let (order_id, shipment_id) = order_with_a_first_parcel(&app).await;
    let delivered = app.post(&format!("/api/v1/shipments/{shipment_id}/delivered"), json!({})).await;
    assert_eq!(delivered.status, StatusCode::OK, "{}", delivered.body);
    // One of the two teas delivered comes back broken-sealed but sellable, and goes back on the shelf.
    let ret = app
        .post(
            &format!("/api/v1/orders/{order_id}/returns"),
            json!({"lines": [{"sku": "TEA-1", "quantity": 1, "reason": "damaged_in_transit"}]}),
        )
        .await;
    assert_eq!(ret.status, StatusCode::CREATED, "{}", ret.body);
    assert_eq!(ret.body["status"], "pending_review", "no return policy covers it: a person decides");
    let approved = app.post(&format!("/api/v1/returns/{}/approve", id(&ret.body)), json!({})).await;
    assert_eq!(approved.status, StatusCode::OK, "{}", approved.body);
    let received = app
        .post(
            &format!("/api/v1/returns/{}/receive", id(&ret.body)),
            json!({"lines": [{"sku": "TEA-1", "quantity": 1, "disposition": "restock"}]}),
        )
        .await;
    assert_eq!(received.status, StatusCode::OK, "{}", received.body);
    // Goods: 2 × 7.00 (one of three came back) + 2.50.
    let margin = app.get(&format!("/api/v1/orders/{order_id}/margin")).await.body;
    assert_eq!(
        (margin["lines"][0]["restocked"].as_i64(), margin["cost_of_goods"].as_str()),
        (Some(1), Some("16.50")),
        "{margin}"
    );

    // An importer buys a cup in dollars at 7.00: ¥8.00 is $1.14, its ¥2.50 cost $0.36.
    let rate = app.put("/api/v1/exchange-rates", json!({"rates": [{"currency": "USD", "rate": "7.00"}]})).await;
    assert_eq!(rate.status, StatusCode::OK, "{}", rate.body);
    let importer = app
        .post(
            "/api/v1/customers",
            json!({"code": "LA-1", "name": "Pacific Tea House", "group": "retail", "currency": "USD",
                   "shipping_address": {"line1": "1 Main St", "city": "Los Angeles", "region": "CA", "postal_code": "90012", "country": "US"}}),
        )
        .await;
    let order = app
        .post("/api/v1/orders", json!({"customer_id": id(&importer.body), "lines": [{"sku": "CUP-1", "quantity": 1}]}))
        .await;
    assert_eq!(order.status, StatusCode::CREATED, "{}", order.body);
    let margin = app.get(&format!("/api/v1/orders/{}/margin", id(&order.body))).await.body;
    assert_eq!(
        (margin["currency"].as_str(), margin["revenue"].as_str(), margin["cost_of_goods"].as_str()),
        (Some("USD"), Some("1.14"), Some("0.36")),
        "{margin}"
    );
}

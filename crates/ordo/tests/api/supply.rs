//! Available-to-promise and replenishment.

use crate::helpers::{TestApp, spawn_app};
use reqwest::StatusCode;
use serde_json::{Value, json};

fn in_days(days: i64) -> String {
    let now = ordo_domain::Timestamp::now().plus_seconds(days * 86_400);
    now.to_rfc3339().chars().take(10).collect()
}

async fn supplier(app: &TestApp) -> Value {
    app.post("/api/v1/suppliers", json!({"code": "SUP-1", "name": "Supplier", "lead_time_days": 5})).await.body
}

#[tokio::test]
async fn ten_on_hand_eight_reserved_and_a_purchase_of_twenty_in_five_days() {
    let app = spawn_app().await;
    app.product("W-1", "10").await;
    app.warehouse("SH").await;
    app.stock("SH", "W-1", 10).await;
    let customer = app.customer("C-1", "retail").await;
    app.post("/api/v1/orders", json!({"customer_id": customer, "lines": [{"sku": "W-1", "quantity": 8}]})).await;
    let supplier = supplier(&app).await;
    let po = app
        .post(
            "/api/v1/purchase-orders",
            json!({"supplier_id": supplier["id"], "warehouse": "SH", "expected_date": in_days(5),
            "lines": [{"sku": "W-1", "quantity": 20, "unit_cost": "6"}]}),
        )
        .await
        .body;
    app.post(&format!("/api/v1/purchase-orders/{}/send", po["id"]), json!({})).await;

    let atp = app.get("/api/v1/atp?sku=W-1&warehouse=SH").await;
    assert_eq!(atp.status, StatusCode::OK, "{}", atp.body);
    assert_eq!(
        (atp.body["on_hand"].as_i64(), atp.body["reserved"].as_i64(), atp.body["available"].as_i64()),
        (Some(10), Some(8), Some(2))
    );
    assert_eq!(atp.body["incoming"], json!([{"date": in_days(5), "quantity": 20}]));
    assert_eq!(atp.body["promise"], json!([{"date": in_days(0), "quantity": 2}, {"date": in_days(5), "quantity": 22}]));
    assert_eq!(app.get("/api/v1/atp?sku=NOPE").await.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_sku_below_its_reorder_point_is_suggested_and_ordered_from_its_supplier() {
    let app = spawn_app().await;
    app.product("W-1", "10").await;
    app.warehouse("SH").await;
    app.stock("SH", "W-1", 100).await;
    let supplier = supplier(&app).await;
    // A first purchase sets the cost suggestions are priced at.
    let first = app
        .post(
            "/api/v1/purchase-orders",
            json!({"supplier_id": supplier["id"], "warehouse": "SH",
            "lines": [{"sku": "W-1", "quantity": 1, "unit_cost": "6.50"}]}),
        )
        .await
        .body;
    let customer = app.customer("C-1", "retail").await;
    app.post("/api/v1/orders", json!({"customer_id": customer, "lines": [{"sku": "W-1", "quantity": 70}]})).await;

    let rule = app
        .put(
            "/api/v1/replenishment/SH/W-1",
            json!({"reorder_point": 40, "safety_stock": 10, "supplier_id": supplier["id"], "min_order_quantity": 24}),
        )
        .await;
    assert_eq!(rule.status, StatusCode::OK, "{}", rule.body);
    assert_eq!(rule.body["lead_time_days"], 5, "the supplier's lead time");
    let suggestions = app.get("/api/v1/replenishment/suggestions").await.body;
    let s = &suggestions["items"][0];
    // 70 sold today → 70 a day over 5 days = 350, + 10 safety − 30 available − 0 incoming (the first PO is a draft).
    assert_eq!((s["available"].as_i64(), s["below_reorder_point"].as_bool()), (Some(30), Some(true)));
    assert_eq!((s["forecast"].as_i64(), s["suggested_quantity"].as_i64()), (Some(350), Some(330)));

    let ordered = app.post("/api/v1/replenishment/orders", json!({"items": [{"sku": "W-1", "warehouse": "SH"}]})).await;
    assert_eq!(ordered.status, StatusCode::CREATED, "{}", ordered.body);
    let po = &ordered.body["items"][0];
    assert_eq!(po["supplier_id"], supplier["id"]);
    assert_eq!((po["lines"][0]["quantity"].as_i64(), po["lines"][0]["unit_cost"].as_str()), (Some(330), Some("6.50")));
    assert_ne!(po["id"], first["id"]);
    let unknown = app.post("/api/v1/replenishment/orders", json!({"items": [{"sku": "W-1", "warehouse": "GZ"}]})).await;
    assert_eq!(unknown.error_fields(), ["items[0]"]);
}

#[tokio::test]
async fn an_order_for_twelve_is_promised_in_five_days_and_the_receipt_allocates_it() {
    let app = spawn_app().await;
    app.post(
        "/api/v1/products",
        json!({"sku": "W-1", "name": "Made to order", "price": "10", "currency": "CNY", "backorderable": true}),
    )
    .await;
    app.product("P-2", "10").await;
    app.warehouse("SH").await;
    app.stock("SH", "W-1", 10).await;
    app.stock("SH", "P-2", 1).await;
    let customer = app.customer("C-1", "retail").await;
    let other = app.customer("C-2", "retail").await;
    app.post("/api/v1/orders", json!({"customer_id": other, "lines": [{"sku": "W-1", "quantity": 8}]})).await;
    let supplier = supplier(&app).await;
    let po = app
        .post(
            "/api/v1/purchase-orders",
            json!({"supplier_id": supplier["id"], "warehouse": "SH", "expected_date": in_days(5),
            "lines": [{"sku": "W-1", "quantity": 20, "unit_cost": "6"}]}),
        )
        .await
        .body;
    app.post(&format!("/api/v1/purchase-orders/{}/send", po["id"]), json!({})).await;

    let order =
        app.post("/api/v1/orders", json!({"customer_id": customer, "lines": [{"sku": "W-1", "quantity": 12}]})).await;
    assert_eq!(order.status, StatusCode::CREATED, "{}", order.body);
    let line = &order.body["lines"][0];
    assert_eq!(
        (line["backordered_quantity"].as_i64(), line["promise_date"].as_str()),
        (Some(10), Some(in_days(5).as_str()))
    );
    assert_eq!(app.level("SH", "W-1").await["reserved"], 10, "8 for the other order and the 2 that were free");
    let atp = app.get("/api/v1/atp?sku=W-1").await.body;
    assert_eq!(atp["backordered"], 10);
    assert_eq!(atp["promise"], json!([{"date": in_days(0), "quantity": 0}, {"date": in_days(5), "quantity": 10}]));

    let not_backorderable =
        app.post("/api/v1/orders", json!({"customer_id": customer, "lines": [{"sku": "P-2", "quantity": 3}]})).await;
    assert_eq!(not_backorderable.status, StatusCode::CONFLICT);

    let received = app
        .post(
            &format!("/api/v1/purchase-orders/{}/receive", po["id"]),
            json!({"lines": [{"sku": "W-1", "quantity": 20}]}),
        )
        .await;
    assert_eq!(received.body["status"], "received", "{}", received.body);
    let filled = app.get(&format!("/api/v1/orders/{}", order.body["id"])).await.body;
    assert_eq!(filled["lines"][0]["backordered_quantity"], 0, "{filled}");
    assert_eq!(filled["lines"][0]["promise_date"], Value::Null);
    let level = app.level("SH", "W-1").await;
    assert_eq!((level["on_hand"].as_i64(), level["reserved"].as_i64()), (Some(30), Some(20)));
    let events = app.get(&format!("/api/v1/orders/{}/events", order.body["id"])).await.body;
    assert!(events["items"].as_array().unwrap().iter().any(|e| e["action"] == "backorder_filled"));
    assert_eq!(app.ledger_mismatches().await, 0);
}

#[tokio::test]
async fn cancelling_or_splitting_a_backordered_order_keeps_the_ledger_exact() {
    let app = spawn_app().await;
    app.post(
        "/api/v1/products",
        json!({"sku": "W-1", "name": "Made to order", "price": "10", "currency": "CNY", "backorderable": true}),
    )
    .await;
    app.warehouse("SH").await;
    app.stock("SH", "W-1", 4).await;
    let customer = app.customer("C-1", "retail").await;
    let order = app
        .post("/api/v1/orders", json!({"customer_id": customer, "lines": [{"sku": "W-1", "quantity": 10}]}))
        .await
        .body;
    assert_eq!(order["lines"][0]["backordered_quantity"], 6);
    assert_eq!(order["lines"][0]["promise_date"], Value::Null, "no supply planned yet");

    // Split off what cannot ship now: the backordered units move first.
    let split = app
        .post(&format!("/api/v1/orders/{}/split", order["id"]), json!({"lines": [{"sku": "W-1", "quantity": 6}]}))
        .await;
    assert_eq!(split.status, StatusCode::CREATED, "{}", split.body);
    assert_eq!(split.body["original"]["lines"][0]["backordered_quantity"], 0);
    assert_eq!(split.body["split"]["lines"][0]["backordered_quantity"], 6);
    assert_eq!(app.level("SH", "W-1").await["reserved"], 4);
    let cancelled = app.post(&format!("/api/v1/orders/{}/cancel", split.body["split"]["id"]), json!({})).await;
    assert_eq!(cancelled.body["status"], "cancelled", "{}", cancelled.body);
    assert_eq!(app.level("SH", "W-1").await["reserved"], 4, "nothing was reserved for the backordered units");
    app.post(&format!("/api/v1/orders/{}/cancel", order["id"]), json!({})).await;
    assert_eq!(app.level("SH", "W-1").await["reserved"], 0);
    assert_eq!(app.ledger_mismatches().await, 0);
}

#[tokio::test]
async fn in_the_console_a_count_is_taken_from_a_csv_posted_by_finance_and_the_report_exports_it() {
    let app = spawn_app().await;
    app.product("TEA-1", "10.00").await;
    app.product("CUP-1", "5.00").await;
    app.warehouse("SH").await;
    app.stock("SH", "TEA-1", 20).await;
    app.stock("SH", "CUP-1", 8).await;
    let mut clerk = app.console_as("warehouse").await;

    let (status, location) = clerk.post("/stock/counts", &[("warehouse", "SH")]).await;
    assert_eq!(status, StatusCode::SEE_OTHER, "{location}");
    let (_, page) = clerk.get(&location).await;
    assert!(page.contains("TEA-1") && page.contains("CUP-1"), "{page}");
    let csv = "sku,counted\nTEA-1,18\n\nCUP-1;8\n";
    let (status, _) = clerk.post(&location, &[("csv", csv)]).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let (_, page) = clerk.get(&location).await;
    assert!(page.contains(r#"id="variance-total">-20.00"#), "{page}");
    assert!(!page.contains("post-count"), "a clerk may not post");
    let (status, _) = clerk.post(&format!("{location}/post"), &[]).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (_, bad) = clerk.post(&location, &[("csv", "TEA-1,eighteen")]).await;
    assert!(bad.contains("line 1"), "{bad}");

    let mut finance = app.console_as("finance").await;
    let (status, _) = finance.post(&format!("{location}/post"), &[]).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(app.level("SH", "TEA-1").await["on_hand"], 18);

    let (_, report) = finance.get("/stock/report?days=30").await;
    assert!(report.contains("¥180.00") && report.contains("¥40.00"), "stock value at list price: {report}");
    let (status, csv) = finance.get("/stock/report.csv?warehouse=SH").await;
    assert_eq!(status, StatusCode::OK);
    assert!(csv.starts_with('\u{feff}') && csv.contains("\"TEA-1\",\"SH\",\"18\""), "{csv}");
    let (_, replenishment) = finance.get("/replenishment").await;
    assert!(replenishment.contains("no-suggestions"));
}

#[tokio::test]
async fn a_receipt_serves_backorders_by_priority_then_age() {
    let app = spawn_app().await;
    app.post(
        "/api/v1/products",
        json!({"sku": "W-1", "name": "Made to order", "price": "10", "currency": "CNY", "backorderable": true}),
    )
    .await;
    app.warehouse("SH").await;
    app.stock("SH", "W-1", 0).await;
    app.post("/api/v1/rules", json!({"name": "vip first", "condition": "customer.group == \"vip\"", "actions": [{"kind": "priority", "level": 10}]}))
        .await;
    let retail = app.customer("C-1", "retail").await;
    let vip = app.customer("C-2", "vip").await;
    let older =
        app.post("/api/v1/orders", json!({"customer_id": retail, "lines": [{"sku": "W-1", "quantity": 5}]})).await.body;
    let newer =
        app.post("/api/v1/orders", json!({"customer_id": vip, "lines": [{"sku": "W-1", "quantity": 5}]})).await.body;
    assert_eq!((older["priority"].as_i64(), newer["priority"].as_i64()), (Some(0), Some(10)));
    let supplier = supplier(&app).await;
    let po = app
        .post(
            "/api/v1/purchase-orders",
            json!({"supplier_id": supplier["id"], "warehouse": "SH",
            "lines": [{"sku": "W-1", "quantity": 6, "unit_cost": "6"}]}),
        )
        .await
        .body;
    app.post(
        &format!("/api/v1/purchase-orders/{}/receive", po["id"]),
        json!({"lines": [{"sku": "W-1", "quantity": 6}]}),
    )
    .await;

    let backordered = |order: &Value| order["lines"][0]["backordered_quantity"].as_i64();
    let newer = app.get(&format!("/api/v1/orders/{}", newer["id"])).await.body;
    let older = app.get(&format!("/api/v1/orders/{}", older["id"])).await.body;
    assert_eq!(
        (backordered(&newer), backordered(&older)),
        (Some(0), Some(4)),
        "the VIP order, though newer, is filled first"
    );
    assert_eq!(app.ledger_mismatches().await, 0);
}

#[tokio::test]
async fn order_entry_shows_when_a_backordered_line_can_ship() {
    let app = spawn_app().await;
    app.post(
        "/api/v1/products",
        json!({"sku": "TEA-9", "name": "Made to order", "price": "10", "currency": "CNY", "backorderable": true}),
    )
    .await;
    app.warehouse("SH").await;
    app.stock("SH", "TEA-9", 3).await;
    app.customer("C-100", "retail").await;
    let supplier = supplier(&app).await;
    let po = app
        .post(
            "/api/v1/purchase-orders",
            json!({"supplier_id": supplier["id"], "warehouse": "SH", "expected_date": in_days(4),
            "lines": [{"sku": "TEA-9", "quantity": 50, "unit_cost": "6"}]}),
        )
        .await
        .body;
    app.post(&format!("/api/v1/purchase-orders/{}/send", po["id"]), json!({})).await;
    let mut console = app.console_as("sales").await;

    let form = [("customer", "C-100 — Customer C-100"), ("sku", "TEA-9"), ("quantity", "10"), ("unit_price", "")];
    let (status, preview) = console.post("/orders/new/preview", &form).await;

    assert_eq!(status, StatusCode::OK);
    assert!(preview.contains("Backorder 7") && preview.contains(&format!("promised {}", in_days(4))), "{preview}");
}

#[tokio::test]
async fn falling_below_the_reorder_point_sends_one_stock_low_event_per_crossing() {
    let app = spawn_app().await;
    app.product("W-1", "10").await;
    app.warehouse("SH").await;
    app.stock("SH", "W-1", 30).await;
    app.put("/api/v1/replenishment/SH/W-1", json!({"reorder_point": 40})).await;
    // The server's own scheduler runs the same job every few seconds, so count the alerts
    // sent rather than which run sent them.
    let run_and_count = || async {
        app.db.write(|tx| ordo_app::jobs::low_stock_alerts(tx, ordo_domain::Timestamp::now())).await.expect("job");
        app.get("/api/v1/events?type=stock.low").await.body["items"].as_array().unwrap().len()
    };

    assert_eq!(run_and_count().await, 1);
    assert_eq!(run_and_count().await, 1, "still low: no second alert");
    app.stock("SH", "W-1", 50).await;
    assert_eq!(run_and_count().await, 1);
    app.stock("SH", "W-1", 10).await;
    assert_eq!(run_and_count().await, 2, "low again after being above: a new alert");

    let feed = app.get("/api/v1/events?type=stock.low").await.body;
    let items = feed["items"].as_array().unwrap();
    assert_eq!(items.len(), 2);
    assert_eq!(items[1]["data"], json!({"sku": "W-1", "warehouse": "SH", "available": 10, "reorder_point": 40}));
    let after = app.get(&format!("/api/v1/events?after={}", feed["last_id"])).await.body;
    assert!(after["items"].as_array().unwrap().is_empty());
}

#[tokio::test]
async fn a_notify_rule_puts_an_event_on_the_feed() {
    let app = spawn_app().await;
    app.product("W-1", "10").await;
    app.warehouse("SH").await;
    app.stock("SH", "W-1", 100).await;
    app.post("/api/v1/rules", json!({"name": "tell finance", "condition": "order.total > 100", "actions": [{"kind": "notify", "role": "finance"}]}))
        .await;
    let customer = app.customer("C-1", "retail").await;
    let order = app
        .post("/api/v1/orders", json!({"customer_id": customer, "lines": [{"sku": "W-1", "quantity": 20}]}))
        .await
        .body;

    let feed = app.get("/api/v1/events?type=order.notify").await.body;
    assert_eq!(
        feed["items"][0]["data"],
        json!({"order_id": order["id"], "role": "finance", "rules": ["tell finance"]})
    );
}

#[tokio::test]
async fn in_the_console_stock_moves_between_warehouses_and_goods_are_bought_and_received() {
    let app = spawn_app().await;
    app.product("TEA-1", "10").await;
    app.warehouse("GZ").await;
    app.warehouse("SH").await;
    app.stock("GZ", "TEA-1", 20).await;
    app.post("/api/v1/suppliers", json!({"code": "SUP-1", "name": "杭州茶厂"})).await;
    let mut clerk = app.console_as("warehouse").await;

    let (status, _) = clerk.post("/stock/transfers", &[("from", "GZ"), ("to", "SH"), ("lines", "TEA-1 8")]).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let (_, page) = clerk.get("/stock/transfers").await;
    assert!(page.contains("TR-000001 · GZ → SH") && page.contains("TEA-1: 8"), "{page}");
    let transfer = app.get("/api/v1/stock/transfers").await.body["items"][0]["id"].to_string();
    clerk.post("/stock/transfers", &[("id", &transfer), ("action", "ship")]).await;
    let (status, _) = clerk
        .post("/stock/transfers", &[("id", &transfer), ("action", "receive"), ("lines", "TEA-1 7"), ("close", "on")])
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(
        (app.level("GZ", "TEA-1").await["on_hand"].as_i64(), app.level("SH", "TEA-1").await["on_hand"].as_i64()),
        (Some(12), Some(7))
    );

    let supplier = app.get("/api/v1/suppliers").await.body["items"][0]["id"].to_string();
    let (status, _) = clerk
        .post("/purchase-orders", &[("supplier", &supplier), ("warehouse", "SH"), ("lines", "TEA-1 30 6.50")])
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let (_, page) = clerk.get("/purchase-orders").await;
    assert!(page.contains("PO-000001") && page.contains("TEA-1: 0/30"), "{page}");
    let po = app.get("/api/v1/purchase-orders").await.body["items"][0]["id"].to_string();
    clerk.post("/purchase-orders", &[("id", &po), ("action", "send")]).await;
    let (status, _) =
        clerk.post("/purchase-orders", &[("id", &po), ("action", "receive"), ("lines", "TEA-1 30")]).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(app.level("SH", "TEA-1").await["on_hand"], 37);
    assert_eq!(app.ledger_mismatches().await, 0);
}

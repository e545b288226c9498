use crate::helpers::{TestApp, spawn_app};
use reqwest::StatusCode;
use serde_json::{Value, json};

/// A shop with two products in two warehouses and one customer.
async fn shop() -> (TestApp, i64) {
    let app = spawn_app().await;
    app.product("TEA-1", "12.50").await;
    app.product("CUP-1", "3.335").await;
    app.warehouse("SH").await;
    app.warehouse("GZ").await;
    app.stock("SH", "TEA-1", 10).await;
    app.stock("GZ", "TEA-1", 3).await;
    app.stock("GZ", "CUP-1", 20).await;
    let customer = app.customer("C-1", "retail").await;
    (app, customer)
}

async fn place(app: &TestApp, body: Value) -> crate::helpers::Reply {
    app.post("/api/v1/orders", body).await
}

#[tokio::test]
async fn placing_an_order_confirms_it_reserves_stock_and_totals_exactly() {
    let (app, customer) = shop().await;

    let placed = place(
        &app,
        json!({"customer_id": customer, "channel": "web", "external_ref": "WEB-1001",
        "lines": [{"sku": "TEA-1", "quantity": 2}, {"sku": "CUP-1", "quantity": 3, "discount_percent": "10"}],
        "notes": "送到前台", "requested_delivery_date": "2026-12-24"}),
    )
    .await;

    assert_eq!(placed.status, StatusCode::CREATED, "{}", placed.body);
    let order = &placed.body;
    assert!(order["number"].as_str().unwrap().starts_with("SO-20"));
    assert!(order["number"].as_str().unwrap().ends_with("-000001"));
    assert_eq!(order["status"], "confirmed");
    assert_eq!(order["payment_status"], "unpaid");
    assert_eq!(order["fulfillment_status"], "unfulfilled");
    assert_eq!(order["customer_id"], customer);
    assert_eq!(order["channel"], "web");
    assert_eq!(order["currency"], "CNY");
    assert_eq!(order["version"], 1);
    assert!(order["created_at"].as_str().unwrap().ends_with('Z'));
    // 2 × 12.50 = 25.00; 3 × 3.335 × 0.9 = 9.0045 → 9.00; tax 13 %: 3.25 + 1.17
    assert_eq!(
        order["lines"][0],
        json!({"line_no": 1, "sku": "TEA-1", "name": "Product TEA-1", "quantity": 2, "unit_price": "12.50",
        "discount_percent": "0", "tax_rate": "0.13", "line_total": "25.00", "tax": "3.25", "warehouse": "GZ",
        "backordered_quantity": 0, "promise_date": null, "picked_quantity": 0, "shipped_quantity": 0,
        "pricing": {"price_source": "catalog", "adjustments": []}, "pack": null, "tax_included": false})
    );
    assert_eq!(order["lines"][1]["line_total"], "9.00");
    assert_eq!(order["lines"][1]["warehouse"], "GZ");
    assert_eq!(
        (order["subtotal"].clone(), order["tax_total"].clone(), order["total"].clone()),
        (json!("34.00"), json!("4.42"), json!("38.42"))
    );
    // GZ holds both products: the order ships from there in one parcel, not split.
    assert_eq!(app.level("GZ", "TEA-1").await["reserved"], 2);
    assert_eq!(app.level("SH", "TEA-1").await["reserved"], 0);
    assert_eq!(app.level("GZ", "CUP-1").await["available"], 17);
    let fetched = app.get(&format!("/api/v1/orders/{}", order["id"])).await;
    assert_eq!(fetched.body, placed.body, "what was placed is what is stored");
}

#[tokio::test]
async fn order_numbers_count_up_without_gaps_even_after_a_rejected_order() {
    let (app, customer) = shop().await;

    let first = place(&app, json!({"customer_id": customer, "lines": [{"sku": "TEA-1", "quantity": 1}]})).await;
    let rejected = place(&app, json!({"customer_id": customer, "lines": [{"sku": "TEA-1", "quantity": 1000}]})).await;
    let second = place(&app, json!({"customer_id": customer, "lines": [{"sku": "TEA-1", "quantity": 1}]})).await;

    assert_eq!(rejected.status, StatusCode::CONFLICT);
    let seq = |r: &crate::helpers::Reply| r.body["number"].as_str().unwrap().rsplit('-').next().unwrap().to_string();
    assert_eq!((seq(&first), seq(&second)), ("000001".to_string(), "000002".to_string()));
}

#[tokio::test]
async fn short_stock_is_a_conflict_naming_each_short_sku_and_reserves_nothing() {
    let (app, customer) = shop().await;

    // TEA-1 has 10 in SH and 3 in GZ: 11 fits in no single warehouse.
    let refused = place(
        &app,
        json!({"customer_id": customer, "lines": [{"sku": "CUP-1", "quantity": 5}, {"sku": "TEA-1", "quantity": 11}]}),
    )
    .await;

    assert_eq!(refused.status, StatusCode::CONFLICT);
    assert_eq!(refused.body["type"], "urn:ordo:problem:insufficient-stock");
    assert_eq!(refused.body["short"], json!([{"sku": "TEA-1", "requested": 11, "available": 10}]));
    assert_eq!(app.level("GZ", "CUP-1").await["reserved"], 0, "the line that fitted was not reserved either");
    assert_eq!(app.order_count().await, 0);
}

#[tokio::test]
async fn cancelling_releases_the_reservation_and_a_second_cancel_is_refused() {
    let (app, customer) = shop().await;
    let placed = place(&app, json!({"customer_id": customer, "lines": [{"sku": "TEA-1", "quantity": 4}]})).await;
    let id = placed.body["id"].as_i64().unwrap();

    let cancelled = app.post(&format!("/api/v1/orders/{id}/cancel"), json!({"reason": "customer asked"})).await;
    let again = app.post(&format!("/api/v1/orders/{id}/cancel"), json!({})).await;
    let events = app.get(&format!("/api/v1/orders/{id}/events")).await;

    assert_eq!(cancelled.status, StatusCode::OK);
    assert_eq!(cancelled.body["status"], "cancelled");
    assert_eq!(cancelled.body["allowed_actions"], json!([]));
    assert_eq!(app.level("SH", "TEA-1").await["reserved"], 0);
    assert_eq!(again.status, StatusCode::CONFLICT);
    assert_eq!(again.body["current_status"], "cancelled");
    assert_eq!(again.body["allowed_actions"], json!([]));
    let actions: Vec<&str> =
        events.body["items"].as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap()).collect();
    assert_eq!(actions, ["placed", "cancelled"]);
    assert_eq!(events.body["items"][1]["actor"], "token:test-admin");
    assert_eq!(events.body["items"][1]["details"]["reason"], "customer asked");
    assert_eq!(app.ledger_mismatches().await, 0);
}

#[tokio::test]
async fn a_cancel_with_a_stale_if_match_is_refused() {
    let (app, customer) = shop().await;
    let id = place(&app, json!({"customer_id": customer, "lines": [{"sku": "TEA-1", "quantity": 1}]})).await.body["id"]
        .as_i64()
        .unwrap();

    let request =
        app.authed(app.client.post(app.url(&format!("/api/v1/orders/{id}/cancel")))).header("If-Match", "\"7\"");
    let refused = app.send(request).await;

    assert_eq!(refused.status, StatusCode::PRECONDITION_FAILED);
    assert_eq!(app.get(&format!("/api/v1/orders/{id}")).await.body["status"], "confirmed");
}

#[tokio::test]
async fn the_same_external_reference_on_a_channel_returns_the_existing_order() {
    let (app, customer) = shop().await;
    let body = json!({"customer_id": customer, "channel": "marketplace", "external_ref": "TMALL-42", "lines": [{"sku": "TEA-1", "quantity": 1}]});

    let first = place(&app, body.clone()).await;
    let second = place(&app, body).await;
    let other_channel = place(&app, json!({"customer_id": customer, "channel": "web", "external_ref": "TMALL-42", "lines": [{"sku": "TEA-1", "quantity": 1}]})).await;

    assert_eq!(first.status, StatusCode::CREATED);
    assert_eq!(second.status, StatusCode::OK);
    assert_eq!(second.body["id"], first.body["id"]);
    assert_eq!(other_channel.status, StatusCode::CREATED);
    assert_eq!(app.level("SH", "TEA-1").await["reserved"], 2);
}

#[tokio::test]
async fn orders_are_listed_by_status_search_and_date() {
    let (app, customer) = shop().await;
    let a = place(
        &app,
        json!({"customer_id": customer, "external_ref": "REF-A", "lines": [{"sku": "TEA-1", "quantity": 1}]}),
    )
    .await
    .body;
    let b = place(&app, json!({"customer_id": customer, "lines": [{"sku": "TEA-1", "quantity": 1}]})).await.body;
    app.post(&format!("/api/v1/orders/{}/cancel", b["id"]), json!({})).await;

    let confirmed = app.get("/api/v1/orders?status=confirmed").await;
    let by_ref = app.get("/api/v1/orders?q=ref-a").await;
    let by_number = app.get(&format!("/api/v1/orders?q={}", b["number"].as_str().unwrap())).await;
    let today = &a["created_at"].as_str().unwrap()[..10];
    let in_range = app.get(&format!("/api/v1/orders?created_from={today}&created_to={today}")).await;
    let before = app.get("/api/v1/orders?created_to=2000-01-01").await;
    let bad = app.get("/api/v1/orders?status=shipped-yesterday").await;
    let by_sku = app.get("/api/v1/orders?q=tea-1").await;
    let unpaid = app.get("/api/v1/orders?payment_status=unpaid&fulfillment_status=unfulfilled").await;
    let paid = app.get("/api/v1/orders?payment_status=paid").await;
    let bad_fulfillment = app.get("/api/v1/orders?fulfillment_status=lost").await;

    let ids = |r: &crate::helpers::Reply| {
        r.body["items"].as_array().unwrap().iter().map(|o| o["id"].clone()).collect::<Vec<_>>()
    };
    assert_eq!(ids(&confirmed), [a["id"].clone()]);
    assert_eq!(ids(&by_ref), [a["id"].clone()]);
    assert_eq!(ids(&by_number), [b["id"].clone()]);
    assert_eq!(ids(&in_range).len(), 2);
    assert_eq!(ids(&before).len(), 0);
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(bad.error_fields(), ["status"]);
    assert_eq!(ids(&by_sku).len(), 2, "search finds orders by a SKU on their lines");
    assert_eq!(ids(&unpaid).len(), 2);
    assert_eq!(ids(&paid).len(), 0);
    assert_eq!(bad_fulfillment.error_fields(), ["fulfillment_status"]);
}

#[tokio::test]
async fn an_unknown_order_is_not_found() {
    let app = spawn_app().await;
    assert_eq!(app.get("/api/v1/orders/424242").await.status, StatusCode::NOT_FOUND);
    assert_eq!(app.get("/api/v1/orders/abc").await.status, StatusCode::NOT_FOUND);
    assert_eq!(app.post("/api/v1/orders/424242/cancel", json!({})).await.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn orders_sort_by_total_and_page_through_equal_totals() {
    let (app, customer) = shop().await;
    for quantity in [2, 1, 3, 1, 2] {
        place(&app, json!({"customer_id": customer, "lines": [{"sku": "TEA-1", "quantity": quantity}]})).await;
    }
    let totals = |body: &Value| {
        body["items"].as_array().unwrap().iter().map(|o| o["total"].as_str().unwrap().to_string()).collect::<Vec<_>>()
    };
    let ids =
        |body: &Value| body["items"].as_array().unwrap().iter().map(|o| o["id"].as_i64().unwrap()).collect::<Vec<_>>();

    let first = app.get("/api/v1/orders?sort=total_desc&limit=2").await;
    let cursor = first.body["next_cursor"].as_str().unwrap().to_string();
    let second = app.get(&format!("/api/v1/orders?sort=total_desc&limit=2&cursor={cursor}")).await;
    let cursor = second.body["next_cursor"].as_str().unwrap().to_string();
    let third = app.get(&format!("/api/v1/orders?sort=total_desc&limit=2&cursor={cursor}")).await;
    let ascending = app.get("/api/v1/orders?sort=total_asc&limit=10").await;
    let oldest = app.get("/api/v1/orders?sort=oldest&limit=10").await;
    let bad = app.get("/api/v1/orders?sort=sideways").await;

    let mut all = totals(&first.body);
    all.extend(totals(&second.body));
    all.extend(totals(&third.body));
    assert_eq!(all, ["42.38", "28.25", "28.25", "14.13", "14.13"]);
    let mut seen = ids(&first.body);
    seen.extend(ids(&second.body));
    seen.extend(ids(&third.body));
    seen.sort_unstable();
    seen.dedup();
    assert_eq!(seen.len(), 5, "no order twice, none skipped");
    assert_eq!(totals(&ascending.body).first().map(String::as_str), Some("14.13"));
    let oldest_ids = ids(&oldest.body);
    assert!(oldest_ids.windows(2).all(|w| w[0] < w[1]));
    assert_eq!(bad.error_fields(), ["sort"]);
}

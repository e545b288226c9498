//! Suppliers, purchase orders and receiving goods.

use crate::helpers::spawn_app;
use reqwest::StatusCode;
use serde_json::json;

#[tokio::test]
async fn receiving_a_purchase_order_raises_stock_and_averages_the_cost() {
    let app = spawn_app().await;
    app.product("TEA-1", "20.00").await;
    app.product("CUP-1", "8.00").await;
    app.warehouse("SH").await;
    app.stock("SH", "TEA-1", 10).await;
    let warehouse = app.token_for("warehouse").await;

    let supplier = app
        .post_as(&warehouse, "/api/v1/suppliers", json!({"code": "SUP-HZ", "name": "杭州茶厂", "lead_time_days": 5}))
        .await;
    assert_eq!(supplier.status, StatusCode::CREATED, "{}", supplier.body);
    assert_eq!(supplier.body["currency"], "CNY");
    let twice = app.post_as(&warehouse, "/api/v1/suppliers", json!({"code": "SUP-HZ", "name": "again"})).await;
    assert_eq!(twice.status, StatusCode::CONFLICT);
    let sales = app.token_for("sales").await;
    assert_eq!(
        app.post_as(&sales, "/api/v1/suppliers", json!({"code": "X", "name": "x"})).await.status,
        StatusCode::FORBIDDEN
    );

    let po = app
        .post_as(
            &warehouse,
            "/api/v1/purchase-orders",
            json!({"supplier_id": supplier.body["id"], "warehouse": "SH",
                   "lines": [{"sku": "TEA-1", "quantity": 30, "unit_cost": "7.00"}, {"sku": "CUP-1", "quantity": 4, "unit_cost": "2.505"}]}),
        )
        .await;
    assert_eq!(po.status, StatusCode::CREATED, "{}", po.body);
    assert_eq!((po.body["number"].as_str(), po.body["status"].as_str()), (Some("PO-000001"), Some("draft")));
    assert_eq!(po.body["total"], "220.02", "30 × 7.00 + 4 × 2.505, each line rounded");
    assert_eq!(po.body["expected_date"].as_str().map(str::len), Some(10), "today + 5 days");
    let id = po.body["id"].as_i64().unwrap();
    let sent = app.post_as(&warehouse, &format!("/api/v1/purchase-orders/{id}/send"), json!({})).await;
    assert_eq!(sent.body["status"], "sent");

    // The 10 on hand have no cost yet; set one by receiving: first part of the tea.
    let part = app
        .post_as(
            &warehouse,
            &format!("/api/v1/purchase-orders/{id}/receive"),
            json!({"lines": [{"sku": "TEA-1", "quantity": 10}]}),
        )
        .await;
    assert_eq!(part.body["status"], "partially_received", "{}", part.body);
    assert_eq!(app.level("SH", "TEA-1").await["on_hand"], 20);
    let too_many = app
        .post_as(
            &warehouse,
            &format!("/api/v1/purchase-orders/{id}/receive"),
            json!({"lines": [{"sku": "TEA-1", "quantity": 21}]}),
        )
        .await;
    assert_eq!(too_many.error_fields(), ["lines[0].quantity"]);
    let rest = app
        .post_as(
            &warehouse,
            &format!("/api/v1/purchase-orders/{id}/receive"),
            json!({"lines": [{"sku": "TEA-1", "quantity": 20}, {"sku": "CUP-1", "quantity": 4}]}),
        )
        .await;
    assert_eq!(rest.body["status"], "received", "{}", rest.body);
    assert_eq!(app.level("SH", "TEA-1").await["on_hand"], 40);
    assert_eq!(app.level("SH", "CUP-1").await["on_hand"], 4);
    let cost = || async {
        app.db
            .read(|tx| tx.query_one("SELECT cost_e4 FROM products WHERE sku = 'TEA-1'", &[]).and_then(|r| r.int(0)))
            .await
            .unwrap()
    };
    // 10 received at 7.00 onto 10 that had no cost yet: 7.00; 20 more at 7.00 keep it.
    assert_eq!(cost().await, 70_000);
    let dearer = app
        .post_as(
            &warehouse,
            "/api/v1/purchase-orders",
            json!({"supplier_id": supplier.body["id"], "warehouse": "SH", "expected_date": "2026-12-01",
                   "lines": [{"sku": "TEA-1", "quantity": 10, "unit_cost": "10.00"}]}),
        )
        .await;
    let dearer_id = dearer.body["id"].as_i64().unwrap();
    app.post_as(
        &warehouse,
        &format!("/api/v1/purchase-orders/{dearer_id}/receive"),
        json!({"lines": [{"sku": "TEA-1", "quantity": 10}]}),
    )
    .await;
    // 40 at 7.00 and 10 at 10.00: (280 + 100) / 50 = 7.60.
    assert_eq!(cost().await, 76_000);
    let after = app
        .post_as(
            &warehouse,
            &format!("/api/v1/purchase-orders/{id}/receive"),
            json!({"lines": [{"sku": "TEA-1", "quantity": 1}]}),
        )
        .await;
    assert_eq!(after.status, StatusCode::CONFLICT);
    let receipts = app.get("/api/v1/stock/movements?kind=receipt").await.body;
    assert_eq!(receipts["items"].as_array().unwrap().len(), 4);
    assert_eq!(app.ledger_mismatches().await, 0);
}

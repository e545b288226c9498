use crate::helpers::spawn_app;
use reqwest::StatusCode;
use serde_json::json;

#[tokio::test]
async fn setting_stock_records_the_difference_as_a_movement() {
    let app = spawn_app().await;
    app.product("P-1", "10").await;
    app.warehouse("SH").await;

    app.stock("SH", "P-1", 40).await;
    let level = app.stock("SH", "P-1", 35).await;
    let movements = app.get("/api/v1/stock/movements?sku=P-1&warehouse=SH").await;

    assert_eq!(
        level,
        json!({"sku": "P-1", "warehouse": "SH", "on_hand": 35, "reserved": 0, "available": 35, "updated_at": level["updated_at"]})
    );
    let deltas: Vec<i64> =
        movements.body["items"].as_array().unwrap().iter().map(|m| m["on_hand_delta"].as_i64().unwrap()).collect();
    assert_eq!(deltas, [-5, 40], "newest first");
    assert_eq!(movements.body["items"][0]["kind"], "adjustment");
    assert_eq!(movements.body["items"][0]["actor"], "token:test-admin");
    assert_eq!(app.ledger_mismatches().await, 0);
}

#[tokio::test]
async fn on_hand_cannot_drop_below_what_is_reserved() {
    let app = spawn_app().await;
    app.product("P-1", "10").await;
    app.warehouse("SH").await;
    app.stock("SH", "P-1", 10).await;
    let customer = app.customer("C-1", "retail").await;
    app.post("/api/v1/orders", json!({"customer_id": customer, "lines": [{"sku": "P-1", "quantity": 6}]})).await;

    let refused = app.put("/api/v1/stock/SH/P-1", json!({"on_hand": 5})).await;

    assert_eq!(refused.status, StatusCode::CONFLICT);
    assert_eq!(app.level("SH", "P-1").await["on_hand"], 10);
}

#[tokio::test]
async fn stock_for_an_unknown_warehouse_or_sku_is_not_found() {
    let app = spawn_app().await;
    app.product("P-1", "10").await;
    app.warehouse("SH").await;

    assert_eq!(app.put("/api/v1/stock/NOPE/P-1", json!({"on_hand": 1})).await.status, StatusCode::NOT_FOUND);
    assert_eq!(app.put("/api/v1/stock/SH/NOPE", json!({"on_hand": 1})).await.status, StatusCode::NOT_FOUND);
    let negative = app.put("/api/v1/stock/SH/P-1", json!({"on_hand": -1})).await;
    assert_eq!(negative.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(negative.error_fields(), ["on_hand"]);
}

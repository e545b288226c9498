use crate::helpers::spawn_app;
use reqwest::StatusCode;
use serde_json::json;

#[tokio::test]
async fn every_change_is_in_the_audit_log_with_who_where_and_what() {
    let app = spawn_app().await;
    app.product("P-1", "10").await;
    app.warehouse("W1").await;
    app.stock("W1", "P-1", 5).await;
    let customer = app.customer("C-1", "retail").await;
    let order = app
        .post("/api/v1/orders", json!({"customer_id": customer, "lines": [{"sku": "P-1", "quantity": 2}]}))
        .await
        .body;
    app.post(&format!("/api/v1/orders/{}/cancel", order["id"]), json!({"reason": "test"})).await;
    let mut console = app.console_as("sales").await;
    console.post("/customers/new", &[("code", "C-WEB"), ("name", "From the console")]).await;

    let all = app.get("/api/v1/audit?limit=200").await;
    let orders_only = app.get("/api/v1/audit?area=orders").await;
    let by_console_user = app.get("/api/v1/audit?actor=user:sales@example.com&area=customers").await;
    let future = app.get("/api/v1/audit?from=2999-01-01").await;
    let bad = app.get("/api/v1/audit?from=yesterday").await;

    let actions: Vec<&str> =
        all.body["items"].as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap()).collect();
    for expected in [
        "product.created",
        "warehouse.created",
        "stock.adjusted",
        "customer.created",
        "order.placed",
        "order.cancelled",
        "token.created",
        "user.created",
        "sign_in",
        "user.password_changed",
    ] {
        assert!(actions.contains(&expected), "{expected} missing from {actions:?}");
    }
    let placed = all.body["items"].as_array().unwrap().iter().find(|e| e["action"] == "order.placed").unwrap();
    assert_eq!(placed["actor"], "token:test-admin");
    assert_eq!(placed["source"], "api");
    assert_eq!(placed["ip"], "127.0.0.1");
    assert_eq!(orders_only.body["items"].as_array().unwrap().len(), 2);
    let console_entry = &by_console_user.body["items"][0];
    assert_eq!((console_entry["source"].as_str(), console_entry["target"].as_str()), (Some("console"), Some("C-WEB")));
    assert_eq!(future.body["items"], json!([]));
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
}

use crate::helpers::{TestApp, spawn_app};
use reqwest::StatusCode;
use serde_json::{Value, json};

async fn shop() -> (TestApp, i64) {
    let app = spawn_app().await;
    app.product("TEA-1", "10").await;
    app.warehouse("SH").await;
    app.stock("SH", "TEA-1", 10).await;
    let customer = app.customer("C-1", "retail").await;
    (app, customer)
}

/// Sends a bad order and checks it was refused with exactly these fields, changing nothing.
async fn refused(app: &TestApp, body: Value, fields: &[&str]) {
    let reply = app.post("/api/v1/orders", body.clone()).await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY, "{body}: {}", reply.body);
    assert_eq!(reply.headers["content-type"], "application/problem+json");
    assert_eq!(reply.error_fields(), fields, "{body}: {}", reply.body);
    assert_eq!(app.order_count().await, 0);
    assert_eq!(app.level("SH", "TEA-1").await["reserved"], 0);
}

#[tokio::test]
async fn bad_orders_name_each_bad_field_and_change_nothing() {
    let (app, customer) = shop().await;

    refused(&app, json!({"customer_id": customer, "lines": [{"sku": "NOPE", "quantity": 1}]}), &["lines[0].sku"]).await;
    refused(&app, json!({"customer_id": customer, "lines": [{"sku": "TEA-1", "quantity": 0}]}), &["lines[0].quantity"])
        .await;
    refused(
        &app,
        json!({"customer_id": customer, "lines": [{"sku": "TEA-1", "quantity": -3}]}),
        &["lines[0].quantity"],
    )
    .await;
    refused(
        &app,
        json!({"customer_id": customer, "lines": [{"sku": "TEA-1", "quantity": 1, "unit_price": "12,50"}]}),
        &["lines[0].unit_price"],
    )
    .await;
    refused(
        &app,
        json!({"customer_id": customer, "lines": [{"sku": "TEA-1", "quantity": 1, "unit_price": "1.23456"}]}),
        &["lines[0].unit_price"],
    )
    .await;
    refused(&app, json!({"customer_id": 987654, "lines": [{"sku": "TEA-1", "quantity": 1}]}), &["customer_id"]).await;
    refused(&app, json!({"customer_id": customer, "lines": []}), &["lines"]).await;
    refused(&app, json!({"lines": [{"sku": "TEA-1"}], "channel": "fax", "currency": "RMB", "requested_delivery_date": "2026-02-30"}),
        &["customer_id", "channel", "currency", "lines[0].quantity", "requested_delivery_date"]).await;
    refused(
        &app,
        json!({"customer_id": customer, "lines": [{"sku": "TEA-1", "quantity": "many"}]}),
        &["lines[0].quantity"],
    )
    .await;
    refused(&app, json!({"customer_id": customer, "lines": [{"sku": "TEA-1", "quantity": 1}], "shipping_address": {"line1": "x"}}),
        &["shipping_address.city", "shipping_address.country"]).await;
}

#[tokio::test]
async fn a_product_with_malformed_amounts_is_refused_field_by_field() {
    let app = spawn_app().await;

    let reply = app
        .post(
            "/api/v1/products",
            json!({"sku": "has space", "name": "", "price": "abc", "currency": "XYZ", "tax_rate": "1.5"}),
        )
        .await;

    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(reply.error_fields(), ["sku", "name", "price", "currency", "tax_rate"]);
    assert_eq!(app.get("/api/v1/products").await.body["items"], json!([]));
}

#[tokio::test]
async fn oversized_malformed_or_mistyped_bodies_are_refused_cleanly() {
    let (app, customer) = shop().await;
    let huge = json!({"customer_id": customer, "notes": "x".repeat(2 * 1024 * 1024), "lines": [{"sku": "TEA-1", "quantity": 1}]});
    let too_many_lines: Vec<Value> = (0..501).map(|_| json!({"sku": "TEA-1", "quantity": 1})).collect();

    let oversized = app.post("/api/v1/orders", huge).await;
    let many = app.post("/api/v1/orders", json!({"customer_id": customer, "lines": too_many_lines})).await;
    let malformed = app
        .send(
            app.authed(app.client.post(app.url("/api/v1/orders")))
                .header("content-type", "application/json")
                .body("{\"customer_id\": "),
        )
        .await;
    let wrong_type = app
        .send(app.authed(app.client.post(app.url("/api/v1/orders"))).header("content-type", "text/plain").body("{}"))
        .await;

    assert_eq!(oversized.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(many.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(many.error_fields(), ["lines"]);
    assert_eq!(malformed.status, StatusCode::BAD_REQUEST);
    assert_eq!(malformed.headers["content-type"], "application/problem+json");
    assert_eq!(wrong_type.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert_eq!(app.order_count().await, 0);
}

#[tokio::test]
async fn list_limits_are_bounded() {
    let app = spawn_app().await;
    assert_eq!(app.get("/api/v1/orders?limit=0").await.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(app.get("/api/v1/orders?limit=100000").await.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(app.get("/api/v1/orders?limit=ten").await.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(app.get("/api/v1/orders?cursor=forged").await.status, StatusCode::UNPROCESSABLE_ENTITY);
}

#[tokio::test]
async fn a_mistyped_sku_is_refused_with_the_skus_it_may_have_meant() {
    let (app, customer) = shop().await;
    app.product("TEA-2", "12").await;
    app.product("POT-1", "30").await;

    let reply =
        app.post("/api/v1/orders", json!({"customer_id": customer, "lines": [{"sku": "tea1", "quantity": 1}]})).await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(reply.body["errors"][0]["field"], "lines[0].sku");
    assert_eq!(reply.body["errors"][0]["message"], "no product has SKU \"tea1\"; did you mean TEA-1, TEA-2?");
    let far =
        app.post("/api/v1/orders", json!({"customer_id": customer, "lines": [{"sku": "SAUCER", "quantity": 1}]})).await;
    assert_eq!(far.body["errors"][0]["message"], "no product has SKU \"SAUCER\"", "nothing close: no guess");
    assert_eq!(app.order_count().await, 0);
}

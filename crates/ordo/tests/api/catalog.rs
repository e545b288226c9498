use crate::helpers::spawn_app;
use reqwest::StatusCode;
use serde_json::json;

#[tokio::test]
async fn a_new_product_is_created_and_read_back_with_exact_amounts() {
    let app = spawn_app().await;

    let created = app
        .post("/api/v1/products", json!({"sku": "TEA-1", "name": "龙井 Longjing", "price": "12345678.9999", "currency": "cny", "tax_rate": "0.13", "weight_kg": "0.25"}))
        .await;

    assert_eq!(created.status, StatusCode::CREATED);
    assert_eq!(created.body["sku"], "TEA-1");
    assert_eq!(created.body["price"], "12345678.9999");
    assert_eq!(created.body["currency"], "CNY");
    assert_eq!(created.body["unit"], "pcs");
    assert_eq!(created.body["weight_kg"], "0.25");
    let id = created.body["id"].as_i64().unwrap();
    let read = app.get(&format!("/api/v1/products/{id}")).await;
    assert_eq!(read.status, StatusCode::OK);
    assert_eq!(read.body["name"], "龙井 Longjing");
    assert_eq!(read.headers["etag"], "\"1\"");
}

#[tokio::test]
async fn a_second_product_with_the_same_sku_is_a_conflict() {
    let app = spawn_app().await;
    app.product("DUP-1", "10").await;

    let again =
        app.post("/api/v1/products", json!({"sku": "DUP-1", "name": "Other", "price": "5", "currency": "CNY"})).await;

    assert_eq!(again.status, StatusCode::CONFLICT);
    assert_eq!(again.headers["content-type"], "application/problem+json");
    assert!(again.body["detail"].as_str().unwrap().contains("DUP-1"));
}

#[tokio::test]
async fn an_update_with_a_stale_etag_is_refused_and_changes_nothing() {
    let app = spawn_app().await;
    let id = app.product("ETAG-1", "10.00").await["id"].as_i64().unwrap();
    let path = format!("/api/v1/products/{id}");

    let first = app.patch(&path, json!({"price": "11.50"}), Some("\"1\"")).await;
    let stale = app.patch(&path, json!({"price": "99"}), Some("\"1\"")).await;

    assert_eq!(first.status, StatusCode::OK);
    assert_eq!(first.body["price"], "11.50");
    assert_eq!(first.headers["etag"], "\"2\"");
    assert_eq!(stale.status, StatusCode::PRECONDITION_FAILED);
    assert_eq!(stale.body["current_version"], 2);
    assert_eq!(app.get(&path).await.body["price"], "11.50");
}

#[tokio::test]
async fn products_are_searched_and_paged_with_a_cursor() {
    let app = spawn_app().await;
    for sku in ["SILK-1", "SILK-2", "SILK-3", "TEA-9"] {
        app.product(sku, "1").await;
    }

    let first = app.get("/api/v1/products?q=silk&limit=2").await;
    let cursor = first.body["next_cursor"].as_str().expect("a second page").to_string();
    let second = app.get(&format!("/api/v1/products?q=silk&limit=2&cursor={cursor}")).await;

    let skus = |body: &serde_json::Value| {
        body["items"].as_array().unwrap().iter().map(|p| p["sku"].as_str().unwrap().to_string()).collect::<Vec<_>>()
    };
    assert_eq!(skus(&first.body), ["SILK-3", "SILK-2"]);
    assert_eq!(skus(&second.body), ["SILK-1"]);
    assert!(second.body["next_cursor"].is_null());
}

#[tokio::test]
async fn a_wholesale_customer_is_priced_from_the_group_price_list() {
    let app = spawn_app().await;
    app.product("P-1", "100.00").await;
    app.warehouse("W1").await;
    app.stock("W1", "P-1", 10).await;
    let list = app
        .post("/api/v1/price-lists", json!({"code": "WHOLESALE", "name": "Wholesale", "currency": "CNY", "customer_group": "wholesale", "items": [{"sku": "P-1", "price": "80"}]}))
        .await;
    assert_eq!(list.status, StatusCode::CREATED, "{}", list.body);
    let wholesale = app.customer("W-001", "wholesale").await;
    let retail = app.customer("R-001", "retail").await;

    let wholesale_order =
        app.post("/api/v1/orders", json!({"customer_id": wholesale, "lines": [{"sku": "P-1", "quantity": 1}]})).await;
    let retail_order =
        app.post("/api/v1/orders", json!({"customer_id": retail, "lines": [{"sku": "P-1", "quantity": 1}]})).await;
    let updated = app.put("/api/v1/price-lists/WHOLESALE/items/P-1", json!({"price": "75.5"})).await;

    assert_eq!(wholesale_order.body["lines"][0]["unit_price"], "80.00");
    assert_eq!(retail_order.body["lines"][0]["unit_price"], "100.00");
    assert_eq!(updated.body["items"][0]["price"], "75.50");
}

use crate::helpers::spawn_app;
use reqwest::StatusCode;

#[tokio::test]
async fn the_openapi_document_is_public_and_covers_the_contract() {
    let app = spawn_app().await;

    let doc = app.send(app.client.get(app.url("/api/v1/openapi.json"))).await;

    assert_eq!(doc.status, StatusCode::OK);
    assert!(doc.body["openapi"].as_str().unwrap().starts_with("3.1"));
    let paths = &doc.body["paths"];
    for (path, method) in [
        ("/api/v1/products", "post"),
        ("/api/v1/products", "get"),
        ("/api/v1/products/{id}", "get"),
        ("/api/v1/products/{id}", "patch"),
        ("/api/v1/warehouses", "post"),
        ("/api/v1/warehouses", "get"),
        ("/api/v1/stock/{warehouse}/{sku}", "put"),
        ("/api/v1/stock", "get"),
        ("/api/v1/stock/movements", "get"),
        ("/api/v1/customers", "post"),
        ("/api/v1/customers", "get"),
        ("/api/v1/customers/{id}", "get"),
        ("/api/v1/customers/{id}", "patch"),
        ("/api/v1/customers/{id}/orders", "get"),
        ("/api/v1/orders", "post"),
        ("/api/v1/orders", "get"),
        ("/api/v1/orders/{id}", "get"),
        ("/api/v1/orders/{id}/cancel", "post"),
        ("/api/v1/orders/{id}/events", "get"),
    ] {
        assert!(paths[path][method].is_object(), "{method} {path} is documented");
    }
    let schemas = &doc.body["components"]["schemas"];
    for schema in ["Order", "OrderLine", "NewOrder", "Product", "Customer", "StockLevel", "Problem"] {
        assert!(schemas[schema].is_object(), "schema {schema}");
    }
    assert!(doc.body["components"]["securitySchemes"]["bearer"].is_object());
}

#[tokio::test]
async fn unknown_routes_and_methods_answer_with_problems() {
    let app = spawn_app().await;
    let missing = app.get("/api/v1/nothing-here").await;
    let wrong_method = app.send(app.authed(app.client.delete(app.url("/api/v1/orders")))).await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    assert_eq!(missing.headers["content-type"], "application/problem+json");
    assert_eq!(wrong_method.status, StatusCode::METHOD_NOT_ALLOWED);
}

#[tokio::test]
async fn every_response_carries_a_request_id_and_metrics_count_requests_by_route() {
    let app = crate::helpers::spawn_app().await;
    app.product("P-1", "10").await;
    app.warehouse("SH").await;
    app.stock("SH", "P-1", 10).await;
    let customer = app.customer("C-1", "retail").await;
    app.post("/api/v1/orders", serde_json::json!({"customer_id": customer, "lines": [{"sku": "P-1", "quantity": 1}]}))
        .await;

    let health = app.client.get(app.url("/healthz")).send().await.unwrap();
    let id = health.headers()["x-request-id"].to_str().unwrap().to_string();
    assert_eq!(id.len(), 16, "{id}");
    let echoed = app.client.get(app.url("/healthz")).header("x-request-id", "from-the-proxy-1").send().await.unwrap();
    assert_eq!(echoed.headers()["x-request-id"], "from-the-proxy-1");

    let metrics = app.client.get(app.url("/metrics")).send().await.unwrap().text().await.unwrap();
    assert!(metrics.contains("orders_placed_total"), "{metrics}");
    assert!(metrics.contains(r#"http_requests_total{method="POST",route="/api/v1/orders",status="201"}"#), "{metrics}");
    assert!(metrics.contains("http_request_duration_seconds_bucket"), "{metrics}");
}

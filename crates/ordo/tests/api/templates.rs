//! A customer's usual order saved as a template, and a past order placed again: both at
//! today's prices, with the availability shown before placing.

use crate::helpers::{TestApp, spawn_app};
use reqwest::StatusCode;
use serde_json::{Value, json};

async fn shop(app: &TestApp) -> (i64, i64) {
    app.warehouse("SH").await;
    app.product("TEA", "100.00").await;
    app.product("POT", "150.00").await;
    app.stock("SH", "TEA", 50).await;
    app.stock("SH", "POT", 3).await;
    (app.customer("A", "retail").await, app.customer("B", "retail").await)
}

fn lines(order: &Value) -> Vec<(String, i64, String)> {
    order["lines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            (
                l["sku"].as_str().unwrap().into(),
                l["quantity"].as_i64().unwrap(),
                l["unit_price"].as_str().unwrap().into(),
            )
        })
        .collect()
}

#[tokio::test]
async fn a_saved_template_places_the_usual_order_at_todays_prices() {
    let app = spawn_app().await;
    let (a, b) = shop(&app).await;

    let bad = app
        .post(
            "/api/v1/order-templates",
            json!({"name": "Weekly", "customer_id": a, "lines": [{"sku": "TEA", "quantity": 0}, {"sku": "TEAA", "quantity": 1}]}),
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", bad.body);
    assert_eq!(bad.error_fields(), ["lines[0].quantity", "lines[1].sku"]);
    let saved = app
        .post(
            "/api/v1/order-templates",
            json!({"name": "Weekly restock", "customer_id": a, "lines": [{"sku": "TEA", "quantity": 5}, {"sku": "POT", "quantity": 2}]}),
        )
        .await;
    assert_eq!(saved.status, StatusCode::CREATED, "{}", saved.body);
    let template = saved.body["id"].as_i64().unwrap();

    // Tea went up to 120.00 since the template was saved: the order takes today's price.
    let tea = app.get("/api/v1/products?q=TEA").await;
    let tea_id = tea.body["items"][0]["id"].as_i64().unwrap();
    let repriced = app.patch(&format!("/api/v1/products/{tea_id}"), json!({"price": "120.00"}), None).await;
    assert_eq!(repriced.status, StatusCode::OK, "{}", repriced.body);

    let preview = app.post(&format!("/api/v1/orders/from-template/{template}"), json!({"dry_run": true})).await;
    assert_eq!(preview.status, StatusCode::OK, "{}", preview.body);
    assert_eq!(preview.body["total"], "1017.00", "(5 × 120.00 + 2 × 150.00) × 1.13");
    assert_eq!(preview.body["lines"][1]["can_reserve"], true);
    assert_eq!(app.order_count().await, 0, "a dry run places nothing");

    let placed = app.post(&format!("/api/v1/orders/from-template/{template}"), json!({"notes": "as usual"})).await;
    assert_eq!(placed.status, StatusCode::CREATED, "{}", placed.body);
    assert_eq!(placed.body["customer_id"], a);
    assert_eq!(
        lines(&placed.body),
        [("TEA".to_string(), 5, "120.00".to_string()), ("POT".to_string(), 2, "150.00".to_string())]
    );
    assert_eq!(placed.body["total"], "1017.00");

    // A's template is A's: not for B.
    let other = app.post(&format!("/api/v1/orders/from-template/{template}"), json!({"customer_id": b})).await;
    assert_eq!(other.error_fields(), ["customer_id"]);

    // A shared template needs the customer it is for.
    let shared = app
        .post("/api/v1/order-templates", json!({"name": "Starter kit", "lines": [{"sku": "TEA", "quantity": 1}]}))
        .await;
    let shared = shared.body["id"].as_i64().unwrap();
    let nobody = app.post(&format!("/api/v1/orders/from-template/{shared}"), json!({})).await;
    assert_eq!(nobody.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", nobody.body);
    let for_b = app.post(&format!("/api/v1/orders/from-template/{shared}"), json!({"customer_id": b})).await;
    assert_eq!((for_b.status, for_b.body["customer_id"].as_i64()), (StatusCode::CREATED, Some(b)));

    let listed = app.get(&format!("/api/v1/order-templates?customer_id={a}")).await;
    let names: Vec<&str> =
        listed.body["items"].as_array().unwrap().iter().map(|t| t["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["Starter kit", "Weekly restock"], "A's own and the shared ones");
    let listed_b = app.get(&format!("/api/v1/order-templates?customer_id={b}")).await;
    assert_eq!(listed_b.body["items"].as_array().unwrap().len(), 1, "B sees only the shared one");
    let deleted = app.send(app.authed(app.client.delete(app.url(&format!("/api/v1/order-templates/{shared}"))))).await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT);
    assert_eq!(app.get(&format!("/api/v1/order-templates/{shared}")).await.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_past_order_is_placed_again_once_even_when_the_request_is_retried() {
    let app = spawn_app().await;
    let (a, _) = shop(&app).await;
    let first = app
        .post(
            "/api/v1/orders",
            json!({"customer_id": a, "lines": [{"sku": "TEA", "quantity": 3}, {"sku": "POT", "quantity": 1}]}),
        )
        .await;
    assert_eq!(first.status, StatusCode::CREATED, "{}", first.body);
    let first_id = first.body["id"].as_i64().unwrap();

    let path = format!("/api/v1/orders/{first_id}/reorder");
    let again = |key: &'static str| {
        app.send(app.authed(app.client.post(app.url(&path)).header("Idempotency-Key", key).json(&json!({}))))
    };
    let second = again("reorder-1").await;
    assert_eq!(second.status, StatusCode::CREATED, "{}", second.body);
    assert_ne!(second.body["number"], first.body["number"]);
    assert_eq!(lines(&second.body), lines(&first.body));
    let retried = again("reorder-1").await;
    assert_eq!(retried.body["id"], second.body["id"], "the retry gets the same order back");
    assert_eq!(app.order_count().await, 2);

    // Two pots ordered, one left: the preview says so, and placing it is refused whole.
    let preview = app.post(&path, json!({"dry_run": true})).await;
    assert_eq!(preview.body["lines"][1]["can_reserve"], true, "{}", preview.body);
    app.post(&path, json!({})).await;
    let short = app.post(&path, json!({"dry_run": true})).await;
    assert_eq!(
        (short.body["lines"][1]["sku"].as_str(), short.body["lines"][1]["can_reserve"].as_bool()),
        (Some("POT"), Some(false))
    );

    // A template can start from an order too.
    let saved = app.post("/api/v1/order-templates", json!({"name": "Like the first", "from_order_id": first_id})).await;
    assert_eq!(saved.status, StatusCode::CREATED, "{}", saved.body);
    assert_eq!(saved.body["customer_id"], a);
    assert_eq!(saved.body["lines"], json!([{"sku": "TEA", "quantity": 3}, {"sku": "POT", "quantity": 1}]));
    assert_eq!(app.post("/api/v1/orders/999999/reorder", json!({})).await.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_sales_clerk_orders_again_and_keeps_an_order_as_a_template_from_the_console() {
    let app = spawn_app().await;
    let (a, _) = shop(&app).await;
    let first = app.post("/api/v1/orders", json!({"customer_id": a, "lines": [{"sku": "TEA", "quantity": 4}]})).await;
    let first_id = first.body["id"].as_i64().unwrap();
    let mut console = app.console_as("sales").await;

    let (_, page) = console.get(&format!("/orders/{first_id}")).await;
    assert!(page.contains("id=\"reorder\"") && page.contains("id=\"save-template\""), "{page}");
    let (status, location) = console.post(&format!("/orders/{first_id}/reorder"), &[]).await;
    assert_eq!(status, StatusCode::SEE_OTHER, "{location}");
    assert_ne!(location, format!("/orders/{first_id}"), "the new order's page");
    let (_, new_page) = console.get(&location).await;
    assert!(new_page.contains("TEA") && new_page.contains("452.00"), "4 × 100.00 × 1.13: {new_page}");
    assert_eq!(app.order_count().await, 2);

    let (status, _) = console.post(&format!("/orders/{first_id}/template"), &[("name", "Four teas")]).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let (status, _) =
        console.post(&format!("/orders/{first_id}/template"), &[("name", "Tea for anyone"), ("shared", "1")]).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let templates = app.get("/api/v1/order-templates").await;
    let kept: Vec<(&str, Option<i64>)> = templates.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| (t["name"].as_str().unwrap(), t["customer_id"].as_i64()))
        .collect();
    assert_eq!(kept, [("Four teas", Some(a)), ("Tea for anyone", None)]);

    // From the new-order page to the templates, and the shared one placed for customer B.
    let (_, new_form) = console.get("/orders/new").await;
    assert!(new_form.contains("href=\"/orders/templates\""));
    let (status, listed) = console.get("/orders/templates").await;
    assert_eq!(status, StatusCode::OK);
    assert!(listed.contains("Four teas") && listed.contains("A — Customer A") && listed.contains("Shared"), "{listed}");
    let shared = templates.body["items"][1]["id"].as_i64().unwrap();
    let (status, _) = console.post(&format!("/orders/templates/{shared}/order"), &[]).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "a shared template needs a customer");
    let (status, location) = console.post(&format!("/orders/templates/{shared}/order"), &[("customer", "B")]).await;
    assert_eq!(status, StatusCode::SEE_OTHER, "{location}");
    let (_, placed) = console.get(&location).await;
    assert!(placed.contains("Customer B") && placed.contains("452.00"), "{placed}");
    assert_eq!(app.order_count().await, 3);
}

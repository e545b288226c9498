//! What each role may do, through the API and the console, checked in one matrix.

use crate::helpers::spawn_app;
use reqwest::StatusCode;
use serde_json::json;

const ROLES: [&str; 7] = ["admin", "sales", "approver", "finance", "warehouse", "service", "viewer"];

/// (description, roles allowed) for each protected action.
fn allowed(action: &str) -> &'static [&'static str] {
    match action {
        "create product" => &["admin"],
        "create customer" => &["admin", "sales", "service"],
        "adjust stock" => &["admin", "warehouse"],
        "place order" => &["admin", "sales"],
        "read audit" => &["admin"],
        "manage users" => &["admin"],
        "manage rules" => &["admin"],
        "change settings" => &["admin"],
        "hold order" => &["admin", "sales", "approver", "service"],
        // Placing at a price other than the list's needs orders.create and prices.override.
        "override price" => &["admin"],
        _ => &[],
    }
}

#[tokio::test]
async fn each_role_may_do_what_it_should_over_the_api_and_gets_403_for_the_rest() {
    let app = spawn_app().await;
    app.product("P-1", "10").await;
    app.warehouse("W1").await;
    app.stock("W1", "P-1", 1000).await;
    let customer = app.customer("C-1", "retail").await;
    let held = app
        .post("/api/v1/orders", json!({"customer_id": customer, "lines": [{"sku": "P-1", "quantity": 5}]}))
        .await
        .body["id"]
        .clone();

    for role in ROLES {
        let token = ordo::create_token(&app.db, role, &format!("matrix-{role}")).await.unwrap();
        let call = |method: reqwest::Method, path: &str, body: Option<serde_json::Value>| {
            let mut request = app.client.request(method, app.url(path)).bearer_auth(&token);
            if let Some(body) = body {
                request = request.json(&body);
            }
            app.send(request)
        };
        let outcomes = [
            (
                "create product",
                call(
                    reqwest::Method::POST,
                    "/api/v1/products",
                    Some(json!({"sku": format!("NEW-{role}"), "name": "x", "price": "1", "currency": "CNY"})),
                )
                .await,
            ),
            (
                "create customer",
                call(
                    reqwest::Method::POST,
                    "/api/v1/customers",
                    Some(json!({"code": format!("C-{role}"), "name": "x"})),
                )
                .await,
            ),
            (
                "adjust stock",
                call(reqwest::Method::PUT, "/api/v1/stock/W1/P-1", Some(json!({"on_hand": 1000, "reason": role})))
                    .await,
            ),
            (
                "place order",
                call(
                    reqwest::Method::POST,
                    "/api/v1/orders",
                    Some(json!({"customer_id": customer, "lines": [{"sku": "P-1", "quantity": 1}]})),
                )
                .await,
            ),
            ("read audit", call(reqwest::Method::GET, "/api/v1/audit", None).await),
            (
                "manage rules",
                call(
                    reqwest::Method::POST,
                    "/api/v1/rules",
                    Some(json!({"name": role, "condition": "false", "actions": [{"kind": "tag", "tag": role}]})),
                )
                .await,
            ),
            ("change settings", call(reqwest::Method::PUT, "/api/v1/settings/orders", Some(json!({}))).await),
            ("hold order", call(reqwest::Method::POST, &format!("/api/v1/orders/{held}/hold"), Some(json!({"reason": role}))).await),
            (
                "override price",
                call(
                    reqwest::Method::POST,
                    "/api/v1/orders",
                    Some(json!({"customer_id": customer, "channel": "phone", "lines": [{"sku": "P-1", "quantity": 2, "unit_price": "9.50"}]})),
                )
                .await,
            ),
        ];
        for (action, reply) in outcomes {
            let expected_ok = allowed(action).contains(&role);
            assert_eq!(reply.status.is_success(), expected_ok, "{role} → {action}: {} {}", reply.status, reply.body);
            if !expected_ok {
                assert_eq!(reply.status, StatusCode::FORBIDDEN, "{role} → {action}");
            }
        }
        let read = call(reqwest::Method::GET, "/api/v1/orders", None).await;
        assert_eq!(read.status, StatusCode::OK, "every role may read orders ({role})");
    }
}

#[tokio::test]
async fn each_role_sees_the_console_pages_it_should() {
    let app = spawn_app().await;
    for role in ROLES {
        let mut console = app.console_as(role).await;
        for (path, action) in [
            ("/orders/new", "place order"),
            ("/customers/new", "create customer"),
            ("/products/new", "create product"),
            ("/audit", "read audit"),
            ("/rules", "manage rules"),
        ] {
            let (status, _) = console.get(path).await;
            let expected = if allowed(action).contains(&role) { StatusCode::OK } else { StatusCode::FORBIDDEN };
            assert_eq!(status, expected, "{role} → {path}");
        }
        for path in ["/", "/orders", "/customers", "/products", "/stock"] {
            assert_eq!(console.get(path).await.0, StatusCode::OK, "{role} → {path}");
        }
        let (status, _) = console
            .post("/stock/adjust", &[("warehouse", "W1"), ("sku", "P-1"), ("on_hand", "5"), ("reason", "count")])
            .await;
        let may_adjust = allowed("adjust stock").contains(&role);
        assert_eq!(status == StatusCode::FORBIDDEN, !may_adjust, "{role} → POST /stock/adjust ({status})");
    }
}

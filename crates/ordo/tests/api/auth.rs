use crate::helpers::spawn_app;
use reqwest::StatusCode;
use serde_json::json;

#[tokio::test]
async fn the_api_needs_a_valid_token() {
    let app = spawn_app().await;

    let anonymous = app.send(app.client.get(app.url("/api/v1/orders"))).await;
    let forged = app.send(app.client.get(app.url("/api/v1/orders")).bearer_auth("ordo_not-a-real-token")).await;
    let with_token = app.get("/api/v1/orders").await;

    assert_eq!(anonymous.status, StatusCode::UNAUTHORIZED);
    assert_eq!(anonymous.headers["www-authenticate"], "Bearer");
    assert_eq!(anonymous.body["status"], 401);
    assert_eq!(forged.status, StatusCode::UNAUTHORIZED);
    assert_eq!(with_token.status, StatusCode::OK);
}

#[tokio::test]
async fn a_viewer_may_read_but_not_place_orders() {
    let app = spawn_app().await;
    let viewer = ordo::create_token(&app.db, "viewer", "auditor").await.unwrap();

    let read = app.send(app.client.get(app.url("/api/v1/orders")).bearer_auth(&viewer)).await;
    let write = app
        .send(
            app.client
                .post(app.url("/api/v1/orders"))
                .bearer_auth(&viewer)
                .json(&json!({"customer_id": 1, "lines": []})),
        )
        .await;

    assert_eq!(read.status, StatusCode::OK);
    assert_eq!(write.status, StatusCode::FORBIDDEN);
    assert!(write.body["detail"].as_str().unwrap().contains("viewer"));
}

#[tokio::test]
async fn a_token_for_an_unknown_role_is_not_created() {
    let app = spawn_app().await;
    assert!(ordo::create_token(&app.db, "superuser", "x").await.is_err());
}

#[tokio::test]
async fn health_checks_need_no_token() {
    let app = spawn_app().await;
    assert_eq!(app.send(app.client.get(app.url("/healthz"))).await.status, StatusCode::OK);
    assert_eq!(app.send(app.client.get(app.url("/readyz"))).await.status, StatusCode::OK);
}

use crate::helpers::{TestApp, spawn_app};
use reqwest::StatusCode;
use serde_json::{Value, json};

async fn post_with_key(app: &TestApp, key: &str, body: &Value) -> crate::helpers::Reply {
    app.send(app.authed(app.client.post(app.url("/api/v1/orders"))).header("Idempotency-Key", key).json(body)).await
}

async fn shop() -> (TestApp, i64) {
    let app = spawn_app().await;
    app.product("TEA-1", "10").await;
    app.warehouse("SH").await;
    app.stock("SH", "TEA-1", 100).await;
    let customer = app.customer("C-1", "retail").await;
    (app, customer)
}

#[tokio::test]
async fn a_replayed_post_returns_the_first_response_and_creates_one_order() {
    let (app, customer) = shop().await;
    let body = json!({"customer_id": customer, "lines": [{"sku": "TEA-1", "quantity": 2}]});

    let first = post_with_key(&app, "order-attempt-1", &body).await;
    let replay = post_with_key(&app, "order-attempt-1", &body).await;

    assert_eq!(first.status, StatusCode::CREATED);
    assert_eq!(replay.status, StatusCode::CREATED);
    assert_eq!(replay.body, first.body);
    assert_eq!(replay.headers["idempotent-replayed"], "true");
    assert_eq!(app.order_count().await, 1);
    assert_eq!(app.level("SH", "TEA-1").await["reserved"], 2);
}

#[tokio::test]
async fn the_same_key_with_a_different_body_is_refused() {
    let (app, customer) = shop().await;
    post_with_key(&app, "k-1", &json!({"customer_id": customer, "lines": [{"sku": "TEA-1", "quantity": 1}]})).await;

    let reused =
        post_with_key(&app, "k-1", &json!({"customer_id": customer, "lines": [{"sku": "TEA-1", "quantity": 9}]})).await;

    assert_eq!(reused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(reused.body["type"], "urn:ordo:problem:idempotency-key-reused");
    assert_eq!(app.order_count().await, 1);
}

#[tokio::test]
async fn concurrent_retries_with_one_key_create_exactly_one_order() {
    let (app, customer) = shop().await;
    let body = json!({"customer_id": customer, "lines": [{"sku": "TEA-1", "quantity": 1}]});

    let attempts = (0..8).map(|_| post_with_key(&app, "racing-key", &body));
    let replies = futures_join_all(attempts).await;

    let ids: Vec<Value> = replies.iter().map(|r| r.body["id"].clone()).collect();
    assert!(
        replies.iter().all(|r| r.status == StatusCode::CREATED),
        "{:?}",
        replies.iter().map(|r| &r.body).collect::<Vec<_>>()
    );
    assert!(ids.iter().all(|id| *id == ids[0]));
    assert_eq!(app.order_count().await, 1);
    assert_eq!(app.level("SH", "TEA-1").await["reserved"], 1);
}

/// Runs futures concurrently on the test's runtime.
pub async fn futures_join_all<F: std::future::Future>(futures: impl IntoIterator<Item = F>) -> Vec<F::Output> {
    let mut set = Vec::new();
    for future in futures {
        set.push(Box::pin(future));
    }
    let mut outputs = Vec::with_capacity(set.len());
    // Poll all together: each request is already sent concurrently by reqwest's pool.
    let joined = std::future::poll_fn(|cx| {
        let mut pending = false;
        for (i, f) in set.iter_mut().enumerate() {
            if outputs.len() <= i {
                outputs.push(None);
            }
            if outputs[i].is_none() {
                match f.as_mut().poll(cx) {
                    std::task::Poll::Ready(v) => outputs[i] = Some(v),
                    std::task::Poll::Pending => pending = true,
                }
            }
        }
        if pending { std::task::Poll::Pending } else { std::task::Poll::Ready(()) }
    });
    joined.await;
    outputs.into_iter().map(|o| o.expect("every future finished")).collect()
}

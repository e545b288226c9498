use crate::helpers::{TestApp, spawn_app};
use crate::idempotency::futures_join_all;
use reqwest::StatusCode;
use serde_json::json;

/// 64 buyers race for 50 units: exactly 50 win, 14 get 409, nothing goes negative.
async fn race(app: &TestApp, targets: &[String]) {
    app.product("HOT-1", "99").await;
    app.warehouse("SH").await;
    app.stock("SH", "HOT-1", 50).await;
    let customer = app.customer("C-1", "retail").await;
    let body = json!({"customer_id": customer, "lines": [{"sku": "HOT-1", "quantity": 1}]});

    let requests = (0..64).map(|i| {
        let url = format!("{}/api/v1/orders", targets[i % targets.len()]);
        app.send(app.authed(app.client.post(url)).json(&body))
    });
    let replies = futures_join_all(requests).await;

    let confirmed = replies.iter().filter(|r| r.status == StatusCode::CREATED).count();
    let rejected = replies.iter().filter(|r| r.status == StatusCode::CONFLICT).count();
    assert_eq!(
        (confirmed, rejected),
        (50, 14),
        "{:?}",
        replies.iter().map(|r| (r.status, &r.body)).collect::<Vec<_>>()
    );
    let level = app.level("SH", "HOT-1").await;
    assert_eq!(
        (level["on_hand"].as_i64(), level["reserved"].as_i64(), level["available"].as_i64()),
        (Some(50), Some(50), Some(0))
    );
    let numbers: std::collections::BTreeSet<_> = replies.iter().filter_map(|r| r.body["number"].as_str()).collect();
    assert_eq!(numbers.len(), 50, "every confirmed order has its own number");
    assert!(
        numbers.iter().any(|n| n.ends_with("-000050")) && !numbers.iter().any(|n| n.ends_with("-000051")),
        "numbers are gap-free"
    );
    assert_eq!(app.ledger_mismatches().await, 0);
}

#[tokio::test]
async fn sixty_four_racing_orders_for_fifty_units_never_oversell() {
    let app = spawn_app().await;
    let targets = vec![app.base.clone()];
    race(&app, &targets).await;
}

/// Two `ordo serve` processes on one PostgreSQL database share the race.
#[tokio::test]
async fn two_server_processes_on_one_postgres_database_never_oversell() {
    let app = spawn_app().await;
    let Some(url) = app.test_db.url() else {
        eprintln!("skipped: two-process race needs ORDO_TEST_DATABASE_URL (PostgreSQL)");
        return;
    };
    let mut servers = Vec::new();
    let mut targets = Vec::new();
    for _ in 0..2 {
        let port = free_port();
        let child = std::process::Command::new(env!("CARGO_BIN_EXE_ordo"))
            .args(["serve", "--listen", &format!("127.0.0.1:{port}"), "--database-url", &url])
            .env("ORDO_LOG", "warn")
            .spawn()
            .expect("start ordo serve");
        servers.push(KillOnDrop(child));
        targets.push(format!("http://127.0.0.1:{port}"));
    }
    for target in &targets {
        wait_ready(&app, target).await;
    }
    race(&app, &targets).await;
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map(|a| a.port()).expect("free port")
}

async fn wait_ready(app: &TestApp, target: &str) {
    for _ in 0..200 {
        if let Ok(response) = app.client.get(format!("{target}/readyz")).send().await
            && response.status() == StatusCode::OK
        {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("{target} did not become ready");
}

struct KillOnDrop(std::process::Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Unpaid web orders are cancelled by the scheduler while two `ordo serve` processes run it
/// on one PostgreSQL database and a third worker, ignoring the lease, races them order by
/// order: every order is cancelled once and its stock released once.
#[tokio::test]
async fn the_auto_cancel_job_releases_stock_exactly_once_across_servers() {
    let app = spawn_app().await;
    let Some(url) = app.test_db.url() else {
        eprintln!("skipped: needs ORDO_TEST_DATABASE_URL (PostgreSQL)");
        return;
    };
    app.product("UNPAID-1", "10").await;
    app.warehouse("SH").await;
    app.stock("SH", "UNPAID-1", 100).await;
    let customer = app.customer("C-1", "retail").await;
    let mut ids = Vec::new();
    for i in 0..20 {
        let body =
            json!({"customer_id": customer, "channel": "web", "lines": [{"sku": "UNPAID-1", "quantity": 1 + i % 4}]});
        let reply = app.post("/api/v1/orders", body).await;
        assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
        ids.push(reply.body["id"].as_i64().unwrap());
    }
    let reserved: i64 = (0..20).map(|i| 1 + i % 4).sum();
    assert_eq!(app.level("SH", "UNPAID-1").await["reserved"], reserved);
    let policy =
        app.put("/api/v1/settings/orders", json!({"auto_cancel": [{"channel": "web", "after_minutes": 0}]})).await;
    assert_eq!(policy.status, StatusCode::OK, "{}", policy.body);

    let (mut servers, mut targets) = (Vec::new(), Vec::new());
    for _ in 0..2 {
        let port = free_port();
        let child = std::process::Command::new(env!("CARGO_BIN_EXE_ordo"))
            .args(["serve", "--listen", &format!("127.0.0.1:{port}"), "--database-url", &url])
            .env("ORDO_LOG", "warn")
            .env("ORDO_JOBS_INTERVAL_MS", "50")
            .spawn()
            .expect("start ordo serve");
        servers.push(KillOnDrop(child));
        targets.push(format!("http://127.0.0.1:{port}"));
    }
    for target in &targets {
        wait_ready(&app, target).await;
    }
    let rogue = ids.iter().map(|&id| {
        let db = app.db.clone();
        async move {
            let ctx = ordo_app::Ctx::new("test:rogue-worker", "test");
            db.write(move |tx| ordo_app::jobs::cancel_if_unpaid(tx, &ctx, id)).await.expect("cancel")
        }
    });
    let rogue_cancelled = futures_join_all(rogue).await.into_iter().filter(|done| *done).count();

    for _ in 0..400 {
        let open = app.get("/api/v1/orders?status=confirmed").await.body["items"].as_array().map_or(0, Vec::len)
            + app.get("/api/v1/orders?status=on_hold").await.body["items"].as_array().map_or(0, Vec::len);
        if open == 0 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    for id in &ids {
        let events = app.get(&format!("/api/v1/orders/{id}/events")).await.body;
        let cancellations = events["items"].as_array().unwrap().iter().filter(|e| e["action"] == "cancelled").count();
        assert_eq!(cancellations, 1, "order {id}: {events}");
    }
    assert!(rogue_cancelled <= 20);
    assert_eq!(app.level("SH", "UNPAID-1").await["reserved"], 0);
    assert_eq!(app.ledger_mismatches().await, 0);
}

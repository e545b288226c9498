//! Crash safety: `ordo serve` is killed with SIGKILL while orders pour in, several times.
//! After each restart the clients retry what was never answered, with the same
//! Idempotency-Key. In the end every order acknowledged with 201 exists exactly once, no
//! retry created a second order, and every stock level equals the sum of its movements.

use crate::helpers::{TestApp, spawn_app};
use reqwest::StatusCode;
use serde_json::json;
use std::collections::BTreeMap;
use std::process::{Child, Command};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const ROUNDS: usize = 3;
const CLIENTS: usize = 12;

pub(crate) struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

pub(crate) fn start(app: &TestApp, port: u16) -> Server {
    let mut command = Command::new(env!("CARGO_BIN_EXE_ordo"));
    command
        .args(["serve", "--listen", &format!("127.0.0.1:{port}")])
        .arg("--data-dir")
        .arg(app.test_db.data_dir())
        .env("ORDO_LOG", "error");
    if let Some(url) = app.test_db.url() {
        command.args(["--database-url", &url]);
    }
    Server(command.spawn().expect("start ordo serve"))
}

pub(crate) async fn wait_ready(client: &reqwest::Client, base: &str) {
    for _ in 0..200 {
        if client.get(format!("{base}/readyz")).send().await.is_ok_and(|r| r.status() == StatusCode::OK) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("{base} did not come back");
}

/// What the clients know: keys answered with an order, and keys never answered.
#[derive(Default)]
struct Ledger {
    acknowledged: BTreeMap<String, (i64, String)>,
    /// Keys sent but never answered, with the SKU they asked for (a retry resends the same body).
    unanswered: BTreeMap<String, &'static str>,
}

async fn place(
    client: &reqwest::Client,
    base: &str,
    token: &str,
    key: &str,
    customer: i64,
    sku: &str,
) -> Option<(StatusCode, serde_json::Value)> {
    let body =
        json!({"customer_id": customer, "channel": "api", "external_ref": key, "lines": [{"sku": sku, "quantity": 1}]});
    let response = client
        .post(format!("{base}/api/v1/orders"))
        .bearer_auth(token)
        .header("Idempotency-Key", key)
        .timeout(Duration::from_secs(5))
        .json(&body)
        .send()
        .await
        .ok()?;
    let status = response.status();
    let body = response.json().await.ok()?;
    Some((status, body))
}

#[tokio::test]
async fn acknowledged_orders_survive_sigkill_and_retries_never_duplicate() {
    // The in-process app only prepares the database; the real server is a child process.
    let app = spawn_app().await;
    app.product("CRASH-A", "10").await;
    app.product("CRASH-B", "20").await;
    app.warehouse("W1").await;
    app.stock("W1", "CRASH-A", 1_000_000).await;
    app.stock("W1", "CRASH-B", 1_000_000).await;
    let customer = app.customer("C-CRASH", "retail").await;
    let token = app.token.clone();
    let client = reqwest::Client::new();
    let ledger = Arc::new(Mutex::new(Ledger::default()));
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let base = format!("http://127.0.0.1:{port}");

    for round in 0..ROUNDS {
        let server = start(&app, port);
        wait_ready(&client, &base).await;

        // Retry first what the last crash left unanswered, with the same keys.
        let retries: Vec<(String, &str)> =
            ledger.lock().unwrap().unanswered.iter().map(|(k, s)| (k.clone(), *s)).collect();
        for (key, sku) in retries {
            let (status, body) =
                place(&client, &base, &token, &key, customer, sku).await.expect("the restarted server answers");
            assert!(status == StatusCode::CREATED || status == StatusCode::OK, "retry of {key}: {status} {body}");
            let mut l = ledger.lock().unwrap();
            l.unanswered.remove(&key);
            l.acknowledged.insert(key, (body["id"].as_i64().unwrap(), body["number"].as_str().unwrap().to_string()));
        }

        // Load, then SIGKILL at a moment that varies from round to round.
        let deadline = Instant::now() + Duration::from_millis(300 + 250 * round as u64);
        let mut tasks = Vec::new();
        for c in 0..CLIENTS {
            let (client, base, token, ledger) = (client.clone(), base.clone(), token.clone(), ledger.clone());
            tasks.push(tokio::spawn(async move {
                let mut n = 0;
                loop {
                    n += 1;
                    let key = format!("r{round}-c{c}-n{n}");
                    let sku = if n % 2 == 0 { "CRASH-A" } else { "CRASH-B" };
                    ledger.lock().unwrap().unanswered.insert(key.clone(), sku);
                    match place(&client, &base, &token, &key, customer, sku).await {
                        Some((status, body)) if status == StatusCode::CREATED => {
                            let mut l = ledger.lock().unwrap();
                            l.unanswered.remove(&key);
                            l.acknowledged.insert(
                                key,
                                (body["id"].as_i64().unwrap(), body["number"].as_str().unwrap().to_string()),
                            );
                        }
                        Some((status, body)) => panic!("unexpected answer {status} {body}"),
                        None => return, // the server is gone: this key stays unanswered
                    }
                    if Instant::now() > deadline + Duration::from_secs(5) {
                        return;
                    }
                }
            }));
        }
        tokio::time::sleep(deadline - Instant::now()).await;
        drop(server); // SIGKILL, then reap
        for task in tasks {
            task.await.expect("client task");
        }
    }

    // A last start to retry the stragglers and look at everything.
    let _server = start(&app, port);
    wait_ready(&client, &base).await;
    let retries: Vec<(String, &str)> = ledger.lock().unwrap().unanswered.iter().map(|(k, s)| (k.clone(), *s)).collect();
    for (key, sku) in retries {
        let (status, body) = place(&client, &base, &token, &key, customer, sku).await.expect("answer");
        assert!(status == StatusCode::CREATED || status == StatusCode::OK, "{status} {body}");
        ledger
            .lock()
            .unwrap()
            .acknowledged
            .insert(key, (body["id"].as_i64().unwrap(), body["number"].as_str().unwrap().to_string()));
    }
    let ledger = std::mem::take(&mut *ledger.lock().unwrap());
    assert!(ledger.acknowledged.len() > ROUNDS * CLIENTS, "enough orders went through: {}", ledger.acknowledged.len());

    // Every acknowledged order is there, under the number it was acknowledged with.
    let mut stored = BTreeMap::new();
    let mut cursor: Option<String> = None;
    loop {
        let path = match &cursor {
            Some(c) => format!("/api/v1/orders?limit=200&cursor={c}"),
            None => "/api/v1/orders?limit=200".to_string(),
        };
        let page: serde_json::Value =
            client.get(format!("{base}{path}")).bearer_auth(&token).send().await.unwrap().json().await.unwrap();
        for order in page["items"].as_array().unwrap() {
            let key = order["external_ref"].as_str().unwrap().to_string();
            assert!(
                stored
                    .insert(key, (order["id"].as_i64().unwrap(), order["number"].as_str().unwrap().to_string()))
                    .is_none(),
                "an order twice"
            );
        }
        match page["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_string()),
            None => break,
        }
    }
    assert_eq!(stored, ledger.acknowledged, "exactly the acknowledged orders exist, each once");
    // Numbers stay gap-free through the crashes.
    let mut sequence: Vec<i64> = stored.values().map(|(_, n)| n.rsplit('-').next().unwrap().parse().unwrap()).collect();
    sequence.sort_unstable();
    assert_eq!(sequence, (1..=sequence.len() as i64).collect::<Vec<_>>());
    // Stock: levels equal their movements, and reserved equals what the orders hold.
    assert_eq!(app.ledger_mismatches().await, 0);
    let reserved = app.level("W1", "CRASH-A").await["reserved"].as_i64().unwrap()
        + app.level("W1", "CRASH-B").await["reserved"].as_i64().unwrap();
    assert_eq!(reserved as usize, stored.len(), "each order holds one unit");
    eprintln!("crash test: {} orders acknowledged through {ROUNDS} SIGKILLs, all present once", stored.len());
}

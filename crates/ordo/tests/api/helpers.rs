use ordo_app::{Database, DbConfig};
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};

static NEXT: AtomicU64 = AtomicU64::new(0);

/// A unique name for this test's database (file or schema).
fn unique(prefix: &str) -> String {
    let mut random = [0u8; 4];
    let _ = getrandom::fill(&mut random);
    format!("{prefix}_{}_{}_{}", std::process::id(), NEXT.fetch_add(1, Ordering::Relaxed), u32::from_le_bytes(random))
}

/// Where this test's data lives, and how to clean it up.
pub enum TestDb {
    Sqlite(PathBuf),
    Postgres { base_url: String, schema: String },
}

impl TestDb {
    pub fn new() -> TestDb {
        match std::env::var("ORDO_TEST_DATABASE_URL").ok().filter(|u| !u.is_empty()) {
            Some(base_url) => {
                let schema = unique("t");
                let (url, statement) = (base_url.clone(), format!("CREATE SCHEMA {schema}"));
                std::thread::spawn(move || -> Result<(), String> {
                    let mut client = postgres::Client::connect(&url, postgres::NoTls).map_err(|e| e.to_string())?;
                    client.batch_execute(&statement).map_err(|e| e.to_string())
                })
                .join()
                .expect("schema thread")
                .expect("ORDO_TEST_DATABASE_URL must reach a PostgreSQL that lets us create a schema");
                TestDb::Postgres { base_url, schema }
            }
            None => TestDb::Sqlite(std::env::temp_dir().join(unique("ordo-test"))),
        }
    }

    /// The `--database-url` for this test's database (PostgreSQL), or None for SQLite.
    pub fn url(&self) -> Option<String> {
        match self {
            TestDb::Sqlite(_) => None,
            TestDb::Postgres { base_url, schema } => {
                let sep = if base_url.contains('?') { '&' } else { '?' };
                Some(format!("{base_url}{sep}options=-csearch_path%3D{schema}"))
            }
        }
    }

    pub fn data_dir(&self) -> PathBuf {
        match self {
            TestDb::Sqlite(dir) => dir.clone(),
            TestDb::Postgres { .. } => std::env::temp_dir(),
        }
    }

    pub fn config(&self) -> DbConfig {
        DbConfig::from_url_or_dir(self.url().as_deref(), &self.data_dir()).expect("test database config")
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        match self {
            TestDb::Sqlite(dir) => {
                let _ = std::fs::remove_dir_all(dir);
            }
            TestDb::Postgres { base_url, schema } => {
                let (url, statement) = (base_url.clone(), format!("DROP SCHEMA IF EXISTS {schema} CASCADE"));
                let _ = std::thread::spawn(move || {
                    if let Ok(mut client) = postgres::Client::connect(&url, postgres::NoTls) {
                        let _ = client.batch_execute(&statement);
                    }
                })
                .join();
            }
        }
    }
}

pub struct TestApp {
    pub base: String,
    pub token: String,
    pub client: reqwest::Client,
    pub db: Database,
    pub test_db: TestDb,
}

/// Starts Ordo on a random port with a fresh database and an admin token.
pub async fn spawn_app() -> TestApp {
    let test_db = TestDb::new();
    let db = Database::open(&test_db.config()).await.expect("open test database");
    let token = ordo::create_token(&db, "admin", "test-admin").await.expect("token");
    let app = ordo::Application::build(db.clone(), "127.0.0.1:0").await.expect("bind");
    let base = format!("http://127.0.0.1:{}", app.port());
    tokio::spawn(app.run_until(std::future::pending()));
    TestApp { base, token, client: reqwest::Client::new(), db, test_db }
}

pub struct Reply {
    pub status: StatusCode,
    pub headers: reqwest::header::HeaderMap,
    pub body: Value,
}

impl Reply {
    /// The field names of a validation problem's `errors`.
    pub fn error_fields(&self) -> Vec<String> {
        self.body["errors"]
            .as_array()
            .map(|e| e.iter().filter_map(|x| x["field"].as_str().map(String::from)).collect())
            .unwrap_or_default()
    }
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub async fn send(&self, request: reqwest::RequestBuilder) -> Reply {
        let response = request.send().await.expect("request");
        let status = response.status();
        let headers = response.headers().clone();
        let text = response.text().await.expect("body");
        let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
        Reply { status, headers, body }
    }

    pub fn authed(&self, request: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
        request.bearer_auth(&self.token)
    }

    pub async fn get(&self, path: &str) -> Reply {
        self.send(self.authed(self.client.get(self.url(path)))).await
    }

    pub async fn post(&self, path: &str, body: Value) -> Reply {
        self.send(self.authed(self.client.post(self.url(path))).json(&body)).await
    }

    pub async fn put(&self, path: &str, body: Value) -> Reply {
        self.send(self.authed(self.client.put(self.url(path))).json(&body)).await
    }

    pub async fn patch(&self, path: &str, body: Value, if_match: Option<&str>) -> Reply {
        let mut request = self.authed(self.client.patch(self.url(path))).json(&body);
        if let Some(tag) = if_match {
            request = request.header("If-Match", tag);
        }
        self.send(request).await
    }

    // Arrange helpers: each creates one thing and insists it worked.

    pub async fn product(&self, sku: &str, price: &str) -> Value {
        let reply = self
            .post("/api/v1/products", json!({"sku": sku, "name": format!("Product {sku}"), "price": price, "currency": "CNY", "tax_rate": "0.13"}))
            .await;
        assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
        reply.body
    }

    pub async fn warehouse(&self, code: &str) -> Value {
        let reply = self.post("/api/v1/warehouses", json!({"code": code, "name": format!("Warehouse {code}")})).await;
        assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
        reply.body
    }

    pub async fn stock(&self, warehouse: &str, sku: &str, on_hand: i64) -> Value {
        let reply =
            self.put(&format!("/api/v1/stock/{warehouse}/{sku}"), json!({"on_hand": on_hand, "reason": "count"})).await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
        reply.body
    }

    pub async fn customer(&self, code: &str, group: &str) -> i64 {
        let reply = self
            .post(
                "/api/v1/customers",
                json!({"code": code, "name": format!("Customer {code}"), "group": group, "currency": "CNY",
                       "shipping_address": {"line1": "1 Nanjing Rd", "city": "Shanghai", "country": "CN"}}),
            )
            .await;
        assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
        reply.body["id"].as_i64().expect("customer id")
    }

    pub async fn level(&self, warehouse: &str, sku: &str) -> Value {
        let reply = self.get(&format!("/api/v1/stock?sku={sku}&warehouse={warehouse}")).await;
        assert_eq!(reply.status, StatusCode::OK);
        reply.body["items"][0].clone()
    }

    pub async fn order_count(&self) -> usize {
        self.get("/api/v1/orders?limit=200").await.body["items"].as_array().map_or(0, Vec::len)
    }

    /// Stock levels that disagree with the sum of their movements (should be none).
    pub async fn ledger_mismatches(&self) -> usize {
        self.db.read(|tx| ordo_app::inventory::store::ledger_mismatches(tx)).await.expect("ledger check").len()
    }
}

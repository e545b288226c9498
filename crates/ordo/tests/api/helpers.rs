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
        // Every test starts here, before it builds an HTTP client.
        ordo::install_tls();
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

    /// A token for another role, for acting as that user.
    pub async fn token_for(&self, role: &str) -> String {
        ordo::create_token(&self.db, role, &format!("test-{role}")).await.expect("token")
    }

    pub async fn post_as(&self, token: &str, path: &str, body: Value) -> Reply {
        self.send(self.client.post(self.url(path)).bearer_auth(token).json(&body)).await
    }

    pub async fn get_as(&self, token: &str, path: &str) -> Reply {
        self.send(self.client.get(self.url(path)).bearer_auth(token)).await
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

    /// A carrier with one service, `std` (2 days), priced for one region.
    pub async fn carrier_to(&self, code: &str, region: &str) -> i64 {
        let carrier = self
            .post(
                "/api/v1/carriers",
                json!({"code": code, "name": format!("Carrier {code}"), "services": [{"code": "std", "transit_days": 2}]}),
            )
            .await;
        assert_eq!(carrier.status, StatusCode::CREATED, "{}", carrier.body);
        let id = carrier.body["id"].as_i64().expect("carrier id");
        let rates = json!({"rates": [{"service": "std", "region": region, "max_weight_kg": "30", "price": "12.00", "currency": "CNY"}]});
        let reply = self.put(&format!("/api/v1/carriers/{id}/rates"), rates).await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
        id
    }

    pub async fn level(&self, warehouse: &str, sku: &str) -> Value {
        let reply = self.get(&format!("/api/v1/stock?sku={sku}&warehouse={warehouse}")).await;
        assert_eq!(reply.status, StatusCode::OK);
        reply.body["items"][0].clone()
    }

    pub async fn order_count(&self) -> usize {
        self.get("/api/v1/orders?limit=200").await.body["items"].as_array().map_or(0, Vec::len)
    }

    /// Debits equal credits, entry by entry and in total, and every order's receivable and
    /// every supplier's payable in the ledger equal what their documents say.
    pub async fn assert_ledger_balances(&self) {
        let check = self.get("/api/v1/ledger/check").await;
        assert_eq!(check.body["ok"], true, "{}", check.body);
        let trial = self.get("/api/v1/ledger/trial-balance").await;
        assert_eq!(trial.body["total_debit"], trial.body["total_credit"], "{}", trial.body);
        let books = self.get("/api/v1/ledger/trial-balance?valuation=base").await;
        assert_eq!(books.body["total_debit"], books.body["total_credit"], "in the base currency: {}", books.body);
    }

    /// Stock levels that disagree with the sum of their movements (should be none).
    pub async fn ledger_mismatches(&self) -> usize {
        self.db.read(|tx| ordo_app::inventory::store::ledger_mismatches(tx)).await.expect("ledger check").len()
    }
}

/// A browser-like console session over plain HTTP: keeps cookies, sends the CSRF token.
pub struct Console {
    pub base: String,
    client: reqwest::Client,
    cookies: std::collections::BTreeMap<String, String>,
    pub csrf: String,
}

impl Console {
    pub async fn new(base: &str) -> Console {
        let client = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().expect("client");
        let mut console = Console { base: base.to_string(), client, cookies: Default::default(), csrf: String::new() };
        console.get("/login").await;
        console.csrf = console.cookies.get("ordo_csrf").cloned().expect("the login page sets a CSRF cookie");
        console
    }

    /// A cookie the server set, and setting one by hand (to replay it where it does not belong).
    pub fn cookie(&self, name: &str) -> Option<String> {
        self.cookies.get(name).cloned()
    }

    pub fn set_cookie(&mut self, name: &str, value: &str) {
        self.cookies.insert(name.to_string(), value.to_string());
    }

    fn cookie_header(&self) -> String {
        self.cookies.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("; ")
    }

    fn keep_cookies(&mut self, response: &reqwest::Response) {
        for value in response.headers().get_all("set-cookie") {
            let text = value.to_str().unwrap_or("");
            if let Some((name, rest)) = text
                .split(';')
                .next()
                .and_then(|pair| pair.split_once('='))
                .map(|(n, v)| (n.to_string(), v.to_string()))
            {
                if text.contains("Max-Age=0") {
                    self.cookies.remove(&name);
                } else {
                    self.cookies.insert(name, rest);
                }
            }
        }
    }

    /// GET a page: (status, Location header or body).
    pub async fn get(&mut self, path: &str) -> (StatusCode, String) {
        let response = self
            .client
            .get(format!("{}{path}", self.base))
            .header("cookie", self.cookie_header())
            .send()
            .await
            .expect("get");
        self.keep_cookies(&response);
        let status = response.status();
        let location = response.headers().get("location").and_then(|l| l.to_str().ok()).map(str::to_string);
        (status, location.unwrap_or(response.text().await.unwrap_or_default()))
    }

    /// POST a form with the CSRF token added: (status, Location header or body).
    pub async fn post(&mut self, path: &str, fields: &[(&str, &str)]) -> (StatusCode, String) {
        let mut form: Vec<(&str, &str)> = vec![("csrf", self.csrf.as_str())];
        form.extend_from_slice(fields);
        let body = form_body(&form);
        self.post_raw(path, body).await
    }

    pub async fn post_raw(&mut self, path: &str, body: String) -> (StatusCode, String) {
        let response = self
            .client
            .post(format!("{}{path}", self.base))
            .header("cookie", self.cookie_header())
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body)
            .send()
            .await
            .expect("post");
        self.keep_cookies(&response);
        let status = response.status();
        let location = response.headers().get("location").and_then(|l| l.to_str().ok()).map(str::to_string);
        (status, location.unwrap_or(response.text().await.unwrap_or_default()))
    }

    /// POST a multipart body as htmx does, the CSRF token in the `X-CSRF-Token` header.
    pub async fn post_multipart(&mut self, path: &str, content_type: &str, body: Vec<u8>) -> (StatusCode, String) {
        let response = self
            .client
            .post(format!("{}{path}", self.base))
            .header("cookie", self.cookie_header())
            .header("content-type", content_type)
            .header("x-csrf-token", self.csrf.as_str())
            .header("hx-request", "true")
            .body(body)
            .send()
            .await
            .expect("post");
        self.keep_cookies(&response);
        (response.status(), response.text().await.unwrap_or_default())
    }

    /// Signs in with a one-time password and replaces it, as a new user must.
    pub async fn sign_in_first_time(&mut self, email: &str, one_time: &str) {
        let (status, location) = self.post("/login", &[("email", email), ("password", one_time), ("next", "/")]).await;
        assert_eq!(
            (status, location.as_str()),
            (StatusCode::SEE_OTHER, "/password"),
            "a first sign-in leads to the password change"
        );
        let (status, location) =
            self.post("/password", &[("password", "a long new password"), ("confirm", "a long new password")]).await;
        assert_eq!((status, location.as_str()), (StatusCode::SEE_OTHER, "/"));
    }
}

pub fn form_body(fields: &[(&str, &str)]) -> String {
    let mut serializer = form_urlencoded::Serializer::new(String::new());
    for (k, v) in fields {
        serializer.append_pair(k, v);
    }
    serializer.finish()
}

impl TestApp {
    /// A console session of a new user with these roles.
    pub async fn console_as(&self, roles: &str) -> Console {
        let email = format!("{}@example.com", roles.replace(',', "-"));
        let password = ordo::create_user(&self.db, &email, roles, None, "test").await.expect("create user");
        let mut console = Console::new(&self.base).await;
        console.sign_in_first_time(&email, &password).await;
        console
    }
}

/// An account's balance in a trial balance (`0` when nothing was posted to it).
pub fn account(trial: &Value, code: &str) -> String {
    trial["accounts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["code"] == code)
        .map_or("0".into(), |a| a["balance"].as_str().unwrap().to_string())
}

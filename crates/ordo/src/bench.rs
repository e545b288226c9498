//! `ordo bench placement`: order placements over HTTP against a real server with N
//! concurrent clients; prints orders/s, latency percentiles, the server's CPU per order and
//! its peak memory, and writes the same as JSON.
//!
//! Without `--target` it starts its own `ordo serve` child process on a fresh database
//! (a temporary SQLite file, or a new schema in the given PostgreSQL database), so the
//! server's CPU and memory are measured apart from the load generator's.

use crate::{BoxError, create_token, open_database};
use serde::Serialize;
use serde_json::json;
use std::path::PathBuf;
use std::process::{Child, Command};
use std::sync::Arc;
use std::time::{Duration, Instant};

#[derive(clap::Subcommand)]
pub enum BenchCommand {
    /// Place 3-line orders (stock reservation, events) as fast as N clients can.
    Placement(PlacementArgs),
    /// Order list and detail reads over HTTP on a large synthetic history.
    Reads(ReadsArgs),
    /// Every report over HTTP on the same synthetic history (same arguments as `reads`).
    Reports(ReadsArgs),
    /// The floor: the rows a placement writes, issued directly through the storage layer
    /// by N concurrent tasks in this process, without HTTP, validation, pricing or rules.
    Floor(RunArgs),
    /// 1,000 orders sourced across 5 warehouses and 10 carriers (placement with sourcing,
    /// then rate shopping alone), and a check that nothing was over-allocated.
    Sourcing(crate::bench_sourcing::SourcingArgs),
    /// Webhook delivery: N events fanned out and POSTed (signed) to a local receiver.
    Events(crate::bench_events::EventsArgs),
    /// A 100,000-line orders file uploaded to a real server: dry run, then valid rows.
    Import(crate::bench_import::ImportArgs),
}

#[derive(clap::Args, Clone)]
pub struct ReadsArgs {
    /// sqlite or postgres.
    #[arg(long, default_value = "sqlite")]
    engine: String,
    #[arg(long = "bench-database-url", default_value = "postgres://postgres@127.0.0.1:5432/test")]
    bench_database_url: String,
    /// Orders in the synthetic history (two lines each).
    #[arg(long, default_value_t = 1_000_000)]
    orders: i64,
    /// Requests per read scenario.
    #[arg(long, default_value_t = 200)]
    requests: usize,
    /// Write the results as a JSON array to this file.
    #[arg(long)]
    json: Option<PathBuf>,
}

/// What every load run takes: where, how many clients, how long, where to write results.
#[derive(clap::Args, Clone)]
pub struct RunArgs {
    /// sqlite or postgres.
    #[arg(long, default_value = "sqlite")]
    engine: String,
    /// PostgreSQL database to create the benchmark schema in.
    #[arg(long = "bench-database-url", default_value = "postgres://postgres@127.0.0.1:5432/test")]
    bench_database_url: String,
    /// Concurrent clients; a comma-separated list runs one measurement each.
    #[arg(long, default_value = "1,16,64", value_delimiter = ',')]
    clients: Vec<usize>,
    /// Seconds each measurement runs (after one second of warm-up).
    #[arg(long, default_value_t = 10)]
    duration: u64,
    /// Append the results as a JSON array to this file.
    #[arg(long)]
    json: Option<PathBuf>,
}

#[derive(clap::Args, Clone)]
pub struct PlacementArgs {
    #[command(flatten)]
    run: RunArgs,
    /// Measure a running server instead of starting one (needs --token).
    #[arg(long)]
    target: Option<String>,
    #[arg(long)]
    token: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct RunResult {
    pub scenario: &'static str,
    pub engine: String,
    pub clients: usize,
    pub orders: usize,
    pub errors: usize,
    pub ops_per_s: f64,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub p999_ms: f64,
    /// Server CPU (user + system) per order, when the bench started the server.
    pub cpu_us_per_op: Option<f64>,
    /// Server peak resident memory, when the bench started the server.
    pub peak_rss_mb: Option<f64>,
}

/// `database_url` is the global `--database-url` (or `ORDO_DATABASE_URL`): with
/// `--engine postgres` the benchmark makes its own schema in that database.
pub async fn run(command: BenchCommand, database_url: Option<String>) -> Result<(), BoxError> {
    let args = match command {
        BenchCommand::Placement(mut args) => {
            args.run.bench_database_url = database_url.unwrap_or(args.run.bench_database_url);
            args
        }
        BenchCommand::Reads(mut args) => {
            args.bench_database_url = database_url.unwrap_or(args.bench_database_url);
            return reads(args, false).await;
        }
        BenchCommand::Reports(mut args) => {
            args.bench_database_url = database_url.unwrap_or(args.bench_database_url);
            return reads(args, true).await;
        }
        BenchCommand::Floor(mut args) => {
            args.bench_database_url = database_url.unwrap_or(args.bench_database_url);
            return floor(args).await;
        }
        BenchCommand::Import(mut args) => {
            args.bench_database_url = database_url.unwrap_or(args.bench_database_url);
            return crate::bench_import::import(args).await;
        }
        BenchCommand::Sourcing(args) => return crate::bench_sourcing::sourcing(args).await,
        BenchCommand::Events(mut args) => {
            args.bench_database_url = database_url.unwrap_or(args.bench_database_url);
            return crate::bench_events::events(args).await;
        }
    };
    let mut results = Vec::new();
    for &clients in &args.run.clients {
        let server = match &args.target {
            Some(target) => Server::External {
                base: target.trim_end_matches('/').to_string(),
                token: args.token.clone().ok_or("--target needs --token")?,
            },
            None => Server::start(&args.run.engine, &args.run.bench_database_url).await?,
        };
        let result = placement(&server, &args.run.engine, clients, Duration::from_secs(args.run.duration)).await;
        server.stop();
        let result = result?;
        eprintln!(
            "placement  {:<8} clients={:<3} {:>9.0} orders/s  p50 {:>7.2} ms  p99 {:>7.2} ms  p99.9 {:>7.2} ms  cpu/order {:>7}  peak rss {:>7}  errors {}",
            result.engine,
            result.clients,
            result.ops_per_s,
            result.p50_ms,
            result.p99_ms,
            result.p999_ms,
            result.cpu_us_per_op.map_or("-".into(), |c| format!("{c:.0} µs")),
            result.peak_rss_mb.map_or("-".into(), |m| format!("{m:.0} MB")),
            result.errors
        );
        results.push(result);
    }
    println!("{}", serde_json::to_string_pretty(&results)?);
    if let Some(path) = &args.run.json {
        std::fs::write(path, serde_json::to_string_pretty(&results)?)?;
    }
    Ok(())
}

pub(crate) enum Server {
    External { base: String, token: String },
    Own { base: String, token: String, child: Child, cleanup: Cleanup },
}

pub(crate) enum Cleanup {
    Dir(PathBuf),
    Schema { url: String, schema: String },
}

impl Cleanup {
    /// Removes the benchmark's database: best effort, the numbers are already taken.
    pub(crate) fn run(self) {
        match self {
            Cleanup::Dir(dir) => {
                let _ = std::fs::remove_dir_all(dir);
            }
            Cleanup::Schema { url, schema } => {
                let _ = run_sql(&url, &format!("DROP SCHEMA IF EXISTS {schema} CASCADE"));
            }
        }
    }
}

impl Server {
    async fn start(engine: &str, bench_database_url: &str) -> Result<Server, BoxError> {
        let (database_url, data_dir, cleanup) = prepare_database(engine, bench_database_url)?;
        Server::start_on(database_url, data_dir, cleanup).await
    }

    pub(crate) async fn start_on(
        database_url: Option<String>,
        data_dir: PathBuf,
        cleanup: Cleanup,
    ) -> Result<Server, BoxError> {
        let token = {
            let db = open_database(database_url.as_deref(), &data_dir).await?;
            create_token(&db, "admin", "bench").await?
        };
        let port = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
        let mut command = Command::new(std::env::current_exe()?);
        command
            .args(["serve", "--listen", &format!("127.0.0.1:{port}")])
            .arg("--data-dir")
            .arg(&data_dir)
            .env("ORDO_LOG", "warn");
        if let Some(url) = &database_url {
            command.args(["--database-url", url]);
        }
        let child = command.spawn()?;
        let base = format!("http://127.0.0.1:{port}");
        let server = Server::Own { base, token, child, cleanup };
        wait_ready(server.base()).await?;
        Ok(server)
    }

    pub(crate) fn base(&self) -> &str {
        match self {
            Server::External { base, .. } | Server::Own { base, .. } => base,
        }
    }

    pub(crate) fn token(&self) -> &str {
        match self {
            Server::External { token, .. } | Server::Own { token, .. } => token,
        }
    }

    pub(crate) fn pid(&self) -> Option<u32> {
        match self {
            Server::Own { child, .. } => Some(child.id()),
            Server::External { .. } => None,
        }
    }

    pub(crate) fn stop(self) {
        if let Server::Own { mut child, cleanup, .. } = self {
            let _ = child.kill();
            let _ = child.wait();
            cleanup.run();
        }
    }
}

/// A fresh database for a benchmark: a temporary SQLite folder, or a new schema.
pub(crate) fn prepare_database(
    engine: &str,
    bench_database_url: &str,
) -> Result<(Option<String>, PathBuf, Cleanup), BoxError> {
    let tag = format!("{}_{}", std::process::id(), Instant::now().elapsed().as_nanos() ^ u128::from(rand_u32()));
    Ok(match engine {
        "sqlite" => {
            let dir = std::env::temp_dir().join(format!("ordo-bench-{tag}"));
            (None, dir.clone(), Cleanup::Dir(dir))
        }
        "postgres" => {
            let schema = format!("bench_{tag}");
            let url = bench_database_url.to_string();
            run_sql(&url, &format!("CREATE SCHEMA {schema}"))?;
            let sep = if url.contains('?') { '&' } else { '?' };
            (
                Some(format!("{url}{sep}options=-csearch_path%3D{schema}")),
                std::env::temp_dir(),
                Cleanup::Schema { url, schema },
            )
        }
        other => return Err(format!("unknown engine {other:?}: use sqlite or postgres").into()),
    })
}

fn rand_u32() -> u32 {
    let mut bytes = [0u8; 4];
    let _ = getrandom::fill(&mut bytes);
    u32::from_le_bytes(bytes)
}

fn run_sql(url: &str, sql: &str) -> Result<(), BoxError> {
    let (url, sql) = (url.to_string(), sql.to_string());
    std::thread::spawn(move || -> Result<(), String> {
        let mut client = postgres::Client::connect(&url, postgres::NoTls).map_err(|e| e.to_string())?;
        client.batch_execute(&sql).map_err(|e| e.to_string())
    })
    .join()
    .map_err(|_| "database thread panicked")??;
    Ok(())
}

async fn wait_ready(base: &str) -> Result<(), BoxError> {
    let client = reqwest::Client::new();
    for _ in 0..300 {
        if let Ok(response) = client.get(format!("{base}/readyz")).send().await
            && response.status().is_success()
        {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    Err(format!("{base} did not become ready").into())
}

const SKUS: usize = 30;

/// Creates a warehouse, SKUs with practically endless stock and a customer; returns the
/// customer's id and code.
pub(crate) async fn seed(client: &reqwest::Client, base: &str, token: &str) -> Result<(i64, String), BoxError> {
    let post = |path: &str, body: serde_json::Value| {
        client.post(format!("{base}{path}")).bearer_auth(token).json(&body).send()
    };
    let ok = |status: reqwest::StatusCode| status.is_success() || status == reqwest::StatusCode::CONFLICT;
    let response = post("/api/v1/warehouses", json!({"code": "BENCH-W", "name": "Bench"})).await?;
    if !ok(response.status()) {
        return Err(format!("seeding warehouse: {}", response.status()).into());
    }
    for i in 0..SKUS {
        let sku = format!("BENCH-{i:03}");
        post(
            "/api/v1/products",
            json!({"sku": sku, "name": sku, "price": "9.90", "currency": "CNY", "tax_rate": "0.13"}),
        )
        .await?;
        let response = client
            .put(format!("{base}/api/v1/stock/BENCH-W/{sku}"))
            .bearer_auth(token)
            .json(&json!({"on_hand": 1_000_000_000, "reason": "bench"}))
            .send()
            .await?;
        if !response.status().is_success() {
            return Err(format!("seeding stock: {}", response.status()).into());
        }
    }
    let code = format!("BENCH-C-{}", rand_u32());
    let customer: serde_json::Value = post(
        "/api/v1/customers",
        json!({"code": code, "name": "Bench customer", "currency": "CNY",
                   "shipping_address": {"line1": "1 Bench Road", "city": "Shanghai", "region": "SH", "country": "CN"}}),
    )
    .await?
    .json()
    .await?;
    let id = customer["id"].as_i64().ok_or_else(|| format!("seeding customer: {customer}"))?;
    Ok((id, code))
}

/// CPU seconds (user + system) a process has used so far.
pub(crate) fn cpu_seconds(pid: u32) -> Option<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let after_name = stat.rsplit_once(')')?.1;
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    let ticks = fields.get(11)?.parse::<f64>().ok()? + fields.get(12)?.parse::<f64>().ok()?;
    Some(ticks / 100.0)
}

fn peak_rss_mb(pid: u32) -> Option<f64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024.0)
}

async fn placement(server: &Server, engine: &str, clients: usize, duration: Duration) -> Result<RunResult, BoxError> {
    let client = reqwest::Client::builder().pool_max_idle_per_host(clients.max(1)).build()?;
    let (customer, _) = seed(&client, server.base(), server.token()).await?;
    let url = Arc::new(format!("{}/api/v1/orders", server.base()));
    let token = Arc::new(server.token().to_string());

    // One second of warm-up, then the measured run.
    let mut measured = (Vec::new(), 0, 0.0, None);
    for (phase, length) in [("warm-up", Duration::from_secs(1)), ("run", duration)] {
        let cpu_before = server.pid().and_then(cpu_seconds);
        let started = Instant::now();
        let deadline = started + length;
        let mut tasks = Vec::new();
        for c in 0..clients {
            let (client, url, token) = (client.clone(), url.clone(), token.clone());
            tasks.push(tokio::spawn(async move {
                let mut latencies = Vec::new();
                let mut errors = 0usize;
                let mut n = c * 7919;
                while Instant::now() < deadline {
                    n += 1;
                    let lines: Vec<_> = (0..3)
                        // Quantities vary so that orders are not suspected duplicates of each other.
                        .map(|k| {
                            json!({"sku": format!("BENCH-{:03}", (n * 3 + k * 11) % SKUS), "quantity": 1 + (n / SKUS) % 10_000})
                        })
                        .collect();
                    let body = json!({"customer_id": customer, "lines": lines});
                    let sent = Instant::now();
                    match client.post(url.as_str()).bearer_auth(token.as_str()).json(&body).send().await {
                        Ok(response) if response.status() == reqwest::StatusCode::CREATED => {
                            let _ = response.bytes().await;
                            latencies.push(sent.elapsed());
                        }
                        _ => errors += 1,
                    }
                }
                (latencies, errors)
            }));
        }
        let mut latencies = Vec::new();
        let mut errors = 0;
        for task in tasks {
            let (l, e) = task.await?;
            latencies.extend(l);
            errors += e;
        }
        let elapsed = started.elapsed().as_secs_f64();
        let cpu = match (cpu_before, server.pid().and_then(cpu_seconds)) {
            (Some(before), Some(after)) => Some(after - before),
            _ => None,
        };
        if phase == "run" {
            measured = (latencies, errors, elapsed, cpu);
        }
    }
    let mut result = summarize("placement", engine, clients, measured);
    result.peak_rss_mb = server.pid().and_then(peak_rss_mb);
    Ok(result)
}

/// One measurement's latencies, errors, seconds and CPU seconds, as a result row.
fn summarize(
    scenario: &'static str,
    engine: &str,
    clients: usize,
    (mut latencies, errors, elapsed, cpu): (Vec<Duration>, usize, f64, Option<f64>),
) -> RunResult {
    latencies.sort_unstable();
    let percentile = |p: f64| -> f64 {
        if latencies.is_empty() {
            return 0.0;
        }
        let index = ((latencies.len() as f64 * p).ceil() as usize).clamp(1, latencies.len()) - 1;
        latencies[index].as_secs_f64() * 1000.0
    };
    let orders = latencies.len();
    RunResult {
        scenario,
        engine: engine.to_string(),
        clients,
        orders,
        errors,
        ops_per_s: orders as f64 / elapsed,
        p50_ms: percentile(0.50),
        p99_ms: percentile(0.99),
        p999_ms: percentile(0.999),
        cpu_us_per_op: cpu.filter(|_| orders > 0).map(|c| c * 1e6 / orders as f64),
        peak_rss_mb: None,
    }
}

/// Orders per generated batch (one statement, one transaction).
const BATCH: i64 = 500;
/// One order in this many has a hold.
const HELD_EVERY: i64 = 50;
/// Reservations in each product's stock history.
const MOVEMENTS_PER_PRODUCT: i64 = 3000;

/// Stock for the 50 products with a history of movements: a receipt a year ago, then
/// reservations one unit at a time; every fifth product has just run out, so the
/// inventory report walks its whole history back to find when.
async fn generate_stock(db: &ordo_app::Database, now: i64, span: i64) -> Result<(), BoxError> {
    db.write(move |tx| {
        let warehouse = tx.query_one("SELECT id FROM warehouses WHERE code = 'BW'", &[])?.int(0)?;
        // Five account salespeople share the trade customers.
        tx.execute(
            "UPDATE customers SET salesperson = 'rep' || CAST(id % 5 AS VARCHAR(2)) || '@bench.local' WHERE customer_group = 'wholesale'",
            &[],
        )?;
        for product in 1..=50_i64 {
            let received = if product % 5 == 0 { MOVEMENTS_PER_PRODUCT } else { 3 * MOVEMENTS_PER_PRODUCT };
            tx.execute(
                "INSERT INTO stock_levels (product_id, warehouse_id, on_hand, reserved, updated_at) VALUES (?, ?, ?, ?, ?)",
                &[product.into(), warehouse.into(), received.into(), MOVEMENTS_PER_PRODUCT.into(), now.into()],
            )?;
            let mut movements: Vec<ordo_app::db::Value> = vec![
                product.into(),
                warehouse.into(),
                "receipt".into(),
                received.into(),
                0_i64.into(),
                (now - span).into(),
            ];
            for k in 1..=MOVEMENTS_PER_PRODUCT {
                let at = now - span + span / MOVEMENTS_PER_PRODUCT * k - 1;
                movements.extend([
                    ordo_app::db::Value::Int(product),
                    warehouse.into(),
                    "reservation".into(),
                    0_i64.into(),
                    1_i64.into(),
                    at.into(),
                ]);
            }
            for chunk in movements.chunks(6 * 500) {
                let sql = format!(
                    "INSERT INTO stock_movements (product_id, warehouse_id, kind, on_hand_delta, reserved_delta, actor, at) VALUES {}",
                    vec!["(?, ?, ?, ?, ?, 'bench', ?)"; chunk.len() / 6].join(", ")
                );
                tx.execute(&sql, chunk)?;
            }
        }
        Ok::<_, ordo_app::DbError>(())
    })
    .await?;
    Ok(())
}

/// Writes a synthetic history straight into the tables (the same rows placement writes,
/// without stock or events: this measures reads). Orders spread over the last year.
async fn generate_history(db: &ordo_app::Database, orders: i64) -> Result<(), BoxError> {
    use ordo_app::common::AmountInput;
    let ctx = ordo_app::Ctx::new("bench", "cli");
    db.write(move |tx| {
        let warehouse = ordo_app::inventory::NewWarehouse {
            code: Some("BW".into()),
            name: Some("Bench".into()),
            ..Default::default()
        };
        ordo_app::inventory::create_warehouse(tx, &ctx, &warehouse)
            .map_err(|e| ordo_app::DbError::Other(e.to_string()))?;
        for i in 0..50 {
            let product = ordo_app::catalog::NewProduct {
                sku: Some(format!("R-{i:03}")),
                name: Some(format!("Read bench {i}")),
                category: Some(["tea", "teaware", "gifts", "snacks", "books"][i % 5].into()),
                price: Some(AmountInput("9.90".into())),
                currency: Some("CNY".into()),
                ..Default::default()
            };
            ordo_app::catalog::create_product(tx, &ctx, &product)
                .map_err(|e| ordo_app::DbError::Other(e.to_string()))?;
        }
        for i in 0..1000 {
            let customer = ordo_app::customers::NewCustomer {
                code: Some(format!("RC{i:04}")),
                name: Some(format!("Reader {i}")),
                group: Some(if i % 3 == 0 { "wholesale" } else { "retail" }.into()),
                region: Some(["Shanghai", "Beijing", "Guangdong", "Zhejiang"][i % 4].into()),
                ..Default::default()
            };
            ordo_app::customers::create_customer(tx, &ctx, &customer)
                .map_err(|e| ordo_app::DbError::Other(e.to_string()))?;
        }
        Ok::<_, ordo_app::DbError>(())
    })
    .await?;
    let now = ordo_domain::Timestamp::now().micros();
    let span = 365 * 86_400_000_000_i64;
    let channels = ["web", "web", "phone", "email", "store", "marketplace", "api", "import"];
    let order_sql = {
        let row = "(?, ?, ?, ?, NULL, 'CNY', ?, 'unpaid', 'unfulfilled', ?, ?, ?, 'prepaid', NULL, NULL, NULL, NULL, 'bench', 1, ?, ?, ?, ?, ?, ?)";
        format!(
            "INSERT INTO orders (id, number, customer_id, channel, external_ref, currency, status, payment_status, fulfillment_status, \
             subtotal_e4, tax_total_e4, total_e4, payment_terms, shipping_address, billing_address, notes, requested_delivery_date, \
             created_by, version, created_at, updated_at, confirmed_at, shipped_at, delivered_at, shipped_complete) VALUES {}",
            vec![row; BATCH as usize].join(", ")
        )
    };
    // One order in fifty was held an hour after it was placed (the exceptions report).
    let hold_sql = {
        let row = "(?, ?, 'held by the benchmark', 'bench', ?)";
        format!(
            "INSERT INTO order_holds (order_id, code, message, created_by, created_at) VALUES {}",
            vec![row; (BATCH / HELD_EVERY) as usize].join(", ")
        )
    };
    let line_sql = {
        let row = "(?, ?, ?, ?, 'Read bench', 1, 99000, 0, 0, 99000, 0, 1)";
        format!(
            "INSERT INTO order_lines (order_id, line_no, product_id, sku, name, quantity, unit_price_e4, discount_percent_e4, \
             tax_rate_e4, line_total_e4, tax_e4, warehouse_id) VALUES {}",
            vec![row; 2 * BATCH as usize].join(", ")
        )
    };
    let sql = std::sync::Arc::new((order_sql, line_sql, hold_sql));
    let mut first = 1;
    while first <= orders {
        let sql = sql.clone();
        let batch_first = first;
        db.write(move |tx| {
            let (order_sql, line_sql, hold_sql) = &*sql;
            let mut hold_params = Vec::new();
            let mut order_params = Vec::with_capacity(BATCH as usize * 14);
            let mut line_params = Vec::with_capacity(BATCH as usize * 8);
            for id in batch_first..batch_first + BATCH {
                // In i128: span × id overflows i64 beyond ~290,000 orders.
                let at = now - span + (i128::from(span) * i128::from(id) / i128::from(orders.max(1))) as i64;
                let total = 99_000 * 2 + (id % 7) * 10_000;
                // Milestones for the cycle-time report: confirmed within two hours, most
                // shipped within two days, many delivered one to four days later.
                const HOUR: i64 = 3_600_000_000;
                let cancelled = id % 9 == 0;
                let confirmed = (!cancelled).then_some(at + (id % 6) * HOUR / 3);
                let shipped =
                    confirmed.filter(|_| id % 10 < 8).map(|c| c + (12 + id % 36) * HOUR).filter(|t| *t <= now);
                let delivered =
                    shipped.filter(|_| id % 10 < 6).map(|s| s + (24 + id % 72) * HOUR).filter(|t| *t <= now);
                order_params.extend([
                    ordo_app::db::Value::Int(id),
                    format!("SO-B-{id:07}").into(),
                    (1 + id % 1000).into(),
                    channels[(id % 8) as usize].into(),
                    if cancelled { "cancelled" } else { "confirmed" }.into(),
                    total.into(),
                    0_i64.into(),
                    total.into(),
                    at.into(),
                    at.into(),
                    confirmed.into(),
                    shipped.into(),
                    delivered.into(),
                    // One shipped order in seven went out in two parcels (the fill rate).
                    shipped.map(|_| i64::from(id % 7 != 0)).into(),
                ]);
                if id % HELD_EVERY == 0 {
                    let code = ["credit_limit", "address", "duplicate", "manual", "payment_failed"]
                        [(id / HELD_EVERY % 5) as usize];
                    hold_params.extend([ordo_app::db::Value::Int(id), code.into(), (at + HOUR).into()]);
                }
                for line in 0..2_i64 {
                    let product = (id * 2 + line) % 50;
                    line_params.extend([
                        ordo_app::db::Value::Int(id),
                        (line + 1).into(),
                        (product + 1).into(),
                        format!("R-{product:03}").into(),
                    ]);
                }
            }
            tx.execute(order_sql, &order_params)?;
            tx.execute(line_sql, &line_params)?;
            tx.execute(hold_sql, &hold_params)?;
            Ok::<_, ordo_app::DbError>(())
        })
        .await?;
        first += BATCH;
    }
    generate_stock(db, now, span).await?;
    // Rows written behind the service's back: the sales summaries start over from them.
    let started = Instant::now();
    db.write(|tx| ordo_app::reports::summaries::rebuild(tx)).await?;
    eprintln!("rebuilt the sales summaries in {:.1} s", started.elapsed().as_secs_f64());
    Ok(())
}

async fn reads(args: ReadsArgs, reports: bool) -> Result<(), BoxError> {
    let (database_url, data_dir, cleanup) = prepare_database(&args.engine, &args.bench_database_url)?;
    let orders = (args.orders / BATCH).max(1) * BATCH;
    let started = Instant::now();
    {
        let db = open_database(database_url.as_deref(), &data_dir).await?;
        generate_history(&db, orders).await?;
        if db.dialect() == ordo_app::db::Dialect::Postgres {
            // What autovacuum does soon after a bulk load: without statistics the planner
            // would sort whole tables for a first page.
            db.write(|tx| {
                tx.batch(
                    "ANALYZE orders; ANALYZE order_lines; ANALYZE customers; ANALYZE sales_customer_days; \
                     ANALYZE sales_product_days; ANALYZE stock_movements; ANALYZE order_holds",
                )
            })
            .await?;
        }
    }
    eprintln!("generated {orders} orders ({} lines) in {:.1} s", orders * 2, started.elapsed().as_secs_f64());
    let server = Server::start_on(database_url, data_dir, cleanup).await?;
    // Stop the server whatever happens, so a failed request does not leave it running.
    let results = if reports {
        measure(&server, &args, orders, "reports", report_scenarios()).await
    } else {
        measure(&server, &args, orders, "reads", read_scenarios(orders)).await
    };
    server.stop();
    let results = results?;
    println!("{}", serde_json::to_string_pretty(&results)?);
    if let Some(path) = &args.json {
        std::fs::write(path, serde_json::to_string_pretty(&results)?)?;
    }
    Ok(())
}

/// The request path of the i-th read of a scenario.
type PathOf = Box<dyn Fn(usize) -> String>;

fn read_scenarios(orders: i64) -> Vec<(&'static str, PathOf)> {
    let month_ago = ordo_domain::Timestamp::now().minus_days(30).to_rfc3339()[..10].to_string();
    vec![
        ("list: first page", Box::new(|_| "/api/v1/orders?limit=50".to_string())),
        ("list: by status", Box::new(|_| "/api/v1/orders?status=cancelled&limit=50".to_string())),
        ("list: by customer", Box::new(|i| format!("/api/v1/orders?customer_id={}&limit=50", 1 + (i * 7919) % 1000))),
        (
            "list: channel + last 30 days",
            Box::new(move |_| format!("/api/v1/orders?channel=web&created_from={month_ago}&limit=50")),
        ),
        ("detail", Box::new(move |i| format!("/api/v1/orders/{}", 1 + (i as i64 * 104_729) % orders))),
    ]
}

/// Each report with the periods a manager would ask for; the history spans the last year.
fn report_scenarios() -> Vec<(&'static str, PathOf)> {
    let today = ordo_domain::time::Date::of(ordo_domain::Timestamp::now());
    let year_ago = today.plus_days(-364);
    let month = format!("{:04}-{:02}", today.year, today.month);
    let path = |p: String| -> PathOf { Box::new(move |_| p.clone()) };
    vec![
        ("sales by day, 30 days", path("/api/v1/reports/sales?group_by=day".into())),
        (
            "sales by month, year vs previous",
            path(format!("/api/v1/reports/sales?group_by=month&from={year_ago}&compare=previous")),
        ),
        ("sales by week, year", path(format!("/api/v1/reports/sales?group_by=week&from={year_ago}"))),
        ("sales by product, year", path(format!("/api/v1/reports/sales?group_by=product&from={year_ago}"))),
        (
            "sales by customer, year, top 50",
            path(format!("/api/v1/reports/sales?group_by=customer&from={year_ago}&limit=50")),
        ),
        (
            "sales by channel, 90 days, retail",
            path(format!("/api/v1/reports/sales?group_by=channel&from={}&customer_group=retail", today.plus_days(-89))),
        ),
        ("sales by category, 30 days (lines)", path("/api/v1/reports/sales?group_by=category".into())),
        ("sales by salesperson, year", path(format!("/api/v1/reports/sales?group_by=salesperson&from={year_ago}"))),
        ("customers rfm", path("/api/v1/reports/customers/rfm".into())),
        ("inventory abc, 90 days", path("/api/v1/reports/inventory/abc".into())),
        ("cycle times, 30 days", path("/api/v1/reports/operations/cycle-times".into())),
        ("cycle times, year", path(format!("/api/v1/reports/operations/cycle-times?from={year_ago}"))),
        ("finance summary, this month", path(format!("/api/v1/reports/finance/summary?month={month}"))),
        ("sales by day, 30 days, xlsx", path("/api/v1/reports/sales?group_by=day&format=xlsx".into())),
    ]
}

async fn measure(
    server: &Server,
    args: &ReadsArgs,
    orders: i64,
    kind: &str,
    scenarios: Vec<(&str, PathOf)>,
) -> Result<Vec<serde_json::Value>, BoxError> {
    let client = reqwest::Client::new();
    let mut results = Vec::new();
    for (name, path) in &scenarios {
        let mut latencies = Vec::with_capacity(args.requests);
        for i in 0..args.requests {
            let sent = Instant::now();
            let response =
                client.get(format!("{}{}", server.base(), path(i))).bearer_auth(server.token()).send().await?;
            if !response.status().is_success() {
                return Err(format!("{name}: {}", response.status()).into());
            }
            let _ = response.bytes().await?;
            latencies.push(sent.elapsed());
        }
        latencies.sort_unstable();
        let at = |p: f64| {
            latencies[((latencies.len() as f64 * p).ceil() as usize).clamp(1, latencies.len()) - 1].as_secs_f64()
                * 1000.0
        };
        eprintln!(
            "{kind}  {:<8} {name:<36} p50 {:>8.2} ms  p95 {:>8.2} ms  p99 {:>8.2} ms",
            args.engine,
            at(0.5),
            at(0.95),
            at(0.99)
        );
        results
            .push(json!({"scenario": format!("{kind}: {name}"), "engine": args.engine, "orders": orders, "clients": 1,
            "p50_ms": at(0.5), "p95_ms": at(0.95), "p99_ms": at(0.99)}));
    }
    Ok(results)
}

/// What the floor writes for one order: the rows placement writes, nothing else.
struct FloorIds {
    products: Vec<i64>,
    warehouse: i64,
    customer: i64,
}

/// The writes of one placed 3-line order, issued directly through the storage layer: three
/// conditional reservations, the order, its lines, an event, an audit entry, the number and
/// three movements — no HTTP, JSON, validation, pricing reads, checks or rules.
fn floor_order(tx: &mut dyn ordo_app::db::Tx, ids: &FloorIds, n: usize) -> Result<(), ordo_app::DbError> {
    use ordo_app::params;
    let now = ordo_domain::Timestamp::now().micros();
    let lines: Vec<i64> = (0..3).map(|k| ids.products[(n * 3 + k * 11) % ids.products.len()]).collect();
    for &product in &lines {
        tx.execute(
            "UPDATE stock_levels SET reserved = reserved + 1, updated_at = ? \
             WHERE product_id = ? AND warehouse_id = ? AND on_hand - reserved >= 1",
            params![now, product, ids.warehouse],
        )?;
    }
    let provisional = format!("FLOOR-{}-{n}", rand_u32());
    let order = tx.insert(
        "INSERT INTO orders (number, customer_id, channel, currency, status, payment_status, fulfillment_status, subtotal_e4, \
         tax_total_e4, total_e4, payment_terms, created_by, version, created_at, updated_at) \
         VALUES (?, ?, 'api', 'CNY', 'confirmed', 'unpaid', 'unfulfilled', 297000, 38610, 335610, 'prepaid', 'bench', 1, ?, ?)",
        params![provisional.as_str(), ids.customer, now, now],
    )?;
    let mut sql = String::from(
        "INSERT INTO order_lines (order_id, line_no, product_id, sku, name, quantity, unit_price_e4, discount_percent_e4, \
         tax_rate_e4, line_total_e4, tax_e4, warehouse_id) VALUES ",
    );
    let mut values: Vec<ordo_app::db::Value> = Vec::new();
    for (i, &product) in lines.iter().enumerate() {
        sql.push_str(if i == 0 {
            "(?, ?, ?, 'SKU', 'name', 1, 99000, 0, 1300, 99000, 12870, ?)"
        } else {
            ", (?, ?, ?, 'SKU', 'name', 1, 99000, 0, 1300, 99000, 12870, ?)"
        });
        values.extend([order.into(), (i as i64 + 1).into(), product.into(), ids.warehouse.into()]);
    }
    tx.execute(&sql, &values)?;
    tx.execute(
        "INSERT INTO order_events (order_id, at, actor, action, details) VALUES (?, ?, 'bench', 'placed', '{}')",
        params![order, now],
    )?;
    tx.execute(
        "INSERT INTO audit_log (at, actor, source, area, action, target, summary) \
         VALUES (?, 'bench', 'api', 'orders', 'order.placed', 'order', '3 lines')",
        params![now],
    )?;
    let year = ordo_domain::Timestamp(now).year();
    let sequence = ordo_app::orders::store::next_order_sequence(tx, year)?;
    tx.execute(
        "UPDATE orders SET number = ? WHERE id = ?",
        params![format!("SO-{year}-{sequence:06}").as_str(), order],
    )?;
    let mut sql = String::from(
        "INSERT INTO stock_movements (product_id, warehouse_id, kind, on_hand_delta, reserved_delta, reason, reference, actor, at) VALUES ",
    );
    let mut values: Vec<ordo_app::db::Value> = Vec::new();
    for (i, &product) in lines.iter().enumerate() {
        sql.push_str(if i == 0 {
            "(?, ?, 'reservation', 0, 1, 'order placed', ?, 'bench', ?)"
        } else {
            ", (?, ?, 'reservation', 0, 1, 'order placed', ?, 'bench', ?)"
        });
        values.extend([product.into(), ids.warehouse.into(), provisional.as_str().into(), now.into()]);
    }
    tx.execute(&sql, &values)?;
    Ok(())
}

async fn floor_seed(db: &ordo_app::Database) -> Result<FloorIds, BoxError> {
    use ordo_app::{catalog, customers, inventory};
    let ids = db
        .write(|tx| {
            let ctx = ordo_app::Ctx::new("bench", "cli");
            let input = inventory::NewWarehouse {
                code: Some("BENCH-W".into()),
                name: Some("Bench".into()),
                ..Default::default()
            };
            let warehouse =
                inventory::create_warehouse(tx, &ctx, &input).map_err(|e| ordo_app::DbError::Other(e.to_string()))?.id;
            let mut products = Vec::new();
            for i in 0..SKUS {
                let sku = format!("BENCH-{i:03}");
                let input = catalog::NewProduct {
                    sku: Some(sku.clone()),
                    name: Some(sku.clone()),
                    price: Some(ordo_app::common::AmountInput("9.90".into())),
                    currency: Some("CNY".into()),
                    ..Default::default()
                };
                products.push(
                    catalog::create_product(tx, &ctx, &input).map_err(|e| ordo_app::DbError::Other(e.to_string()))?.id,
                );
                let stock =
                    inventory::SetStock { on_hand: Some(1_000_000_000), reason: Some("bench".into()), bin: None };
                inventory::set_stock(tx, &ctx, "BENCH-W", &sku, &stock)
                    .map_err(|e| ordo_app::DbError::Other(e.to_string()))?;
            }
            let input = customers::NewCustomer {
                code: Some("BENCH-C".into()),
                name: Some("Bench".into()),
                ..Default::default()
            };
            let customer =
                customers::create_customer(tx, &ctx, &input).map_err(|e| ordo_app::DbError::Other(e.to_string()))?.id;
            Ok::<_, ordo_app::DbError>(FloorIds { products, warehouse, customer })
        })
        .await?;
    Ok(ids)
}

/// Own process CPU seconds.
pub(crate) fn own_cpu_seconds() -> Option<f64> {
    cpu_seconds(std::process::id())
}

pub async fn floor(args: RunArgs) -> Result<(), BoxError> {
    let mut results = Vec::new();
    for &clients in &args.clients {
        let (database_url, data_dir, cleanup) = prepare_database(&args.engine, &args.bench_database_url)?;
        let db = open_database(database_url.as_deref(), &data_dir).await?;
        let ids = std::sync::Arc::new(floor_seed(&db).await?);
        let mut measured = (Vec::new(), 0usize, 0.0, None);
        for (phase, length) in [("warm-up", Duration::from_secs(1)), ("run", Duration::from_secs(args.duration))] {
            let cpu_before = own_cpu_seconds();
            let started = Instant::now();
            let deadline = started + length;
            let mut tasks = Vec::new();
            for c in 0..clients {
                let (db, ids) = (db.clone(), ids.clone());
                tasks.push(tokio::spawn(async move {
                    let (mut latencies, mut errors, mut n) = (Vec::new(), 0usize, c * 7919);
                    while Instant::now() < deadline {
                        n += 1;
                        let (ids, sent) = (ids.clone(), Instant::now());
                        match db.write(move |tx| floor_order(tx, &ids, n)).await {
                            Ok(()) => latencies.push(sent.elapsed()),
                            Err(_) => errors += 1,
                        }
                    }
                    (latencies, errors)
                }));
            }
            let (mut latencies, mut errors) = (Vec::new(), 0);
            for task in tasks {
                let (l, e) = task.await?;
                latencies.extend(l);
                errors += e;
            }
            let elapsed = started.elapsed().as_secs_f64();
            let cpu = match (cpu_before, own_cpu_seconds()) {
                (Some(before), Some(after)) => Some(after - before),
                _ => None,
            };
            if phase == "run" {
                measured = (latencies, errors, elapsed, cpu);
            }
        }
        drop(db);
        cleanup.run();
        let result = summarize("floor", &args.engine, clients, measured);
        eprintln!(
            "floor      {:<8} clients={:<3} {:>9.0} orders/s  p50 {:>7.2} ms  p99 {:>7.2} ms  cpu/order {:>7}  errors {}",
            result.engine,
            result.clients,
            result.ops_per_s,
            result.p50_ms,
            result.p99_ms,
            result.cpu_us_per_op.map_or("-".into(), |c| format!("{c:.0} µs")),
            result.errors
        );
        results.push(result);
    }
    println!("{}", serde_json::to_string_pretty(&results)?);
    if let Some(path) = &args.json {
        std::fs::write(path, serde_json::to_string_pretty(&results)?)?;
    }
    Ok(())
}

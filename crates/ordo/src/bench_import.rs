//! `ordo bench import`: a file of order lines (100,000 by default, a few orders with a
//! deliberate error) uploaded to a real server, first as a dry run, then imported
//! valid-rows-only; prints seconds, lines per second and the server's CPU for each.

use crate::BoxError;
use crate::bench::{Server, cpu_seconds, prepare_database, seed};
use serde::Serialize;
use std::path::PathBuf;
use std::time::Instant;

#[derive(clap::Args, Clone)]
pub struct ImportArgs {
    /// sqlite or postgres.
    #[arg(long, default_value = "sqlite")]
    engine: String,
    #[arg(long = "bench-database-url", default_value = "postgres://postgres@127.0.0.1:5432/test")]
    pub(crate) bench_database_url: String,
    /// Order lines in the file.
    #[arg(long, default_value_t = 100_000)]
    lines: usize,
    /// Lines per order.
    #[arg(long, default_value_t = 3)]
    lines_per_order: usize,
    /// Every Nth order gets an unknown SKU on one line (0: none).
    #[arg(long, default_value_t = 100)]
    error_every: usize,
    /// Write the results as a JSON array to this file.
    #[arg(long)]
    json: Option<PathBuf>,
}

#[derive(Debug, Serialize)]
struct ImportRun {
    scenario: &'static str,
    engine: String,
    lines: usize,
    orders: usize,
    imported: u64,
    rejected: u64,
    seconds: f64,
    lines_per_s: f64,
    server_cpu_s: Option<f64>,
}

/// A multipart/form-data body with text fields and one file: (content type, body).
pub fn multipart_form(fields: &[(&str, &str)], file_name: &str, file: &[u8]) -> (String, Vec<u8>) {
    let boundary = "ordo-form-boundary-7f3a91c2";
    let mut body = Vec::with_capacity(file.len() + 512);
    for (name, value) in fields {
        body.extend_from_slice(
            format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n").as_bytes(),
        );
    }
    body.extend_from_slice(
        format!("--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{file_name}\"\r\n\r\n")
            .as_bytes(),
    );
    body.extend_from_slice(file);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

/// The orders file: `lines` rows for one customer over the seeded SKUs; every
/// `error_every`th order names a SKU that does not exist on its last line.
fn orders_csv(customer: &str, lines: usize, per_order: usize, error_every: usize) -> (String, usize) {
    let per_order = per_order.max(1);
    let mut csv = String::from("external_ref,customer_code,sku,quantity\n");
    for n in 0..lines {
        let (order, line) = (n / per_order, n % per_order);
        let broken = error_every > 0 && order % error_every == error_every - 1 && line == per_order - 1;
        let sku = if broken { "BENCH-NOPE".to_string() } else { format!("BENCH-{:03}", (order * 7 + line) % 30) };
        csv.push_str(&format!("IMP-{order:07},{customer},{sku},{}\n", 1 + (order + line) % 5));
    }
    (csv, lines.div_ceil(per_order))
}

pub async fn import(args: ImportArgs) -> Result<(), BoxError> {
    let (database_url, data_dir, cleanup) = prepare_database(&args.engine, &args.bench_database_url)?;
    let server = Server::start_on(database_url, data_dir, cleanup).await?;
    let outcome = measure(&server, &args).await;
    server.stop();
    let runs = outcome?;
    println!("{}", serde_json::to_string_pretty(&runs)?);
    if let Some(path) = &args.json {
        std::fs::write(path, serde_json::to_string_pretty(&runs)?)?;
    }
    Ok(())
}

async fn measure(server: &Server, args: &ImportArgs) -> Result<Vec<ImportRun>, BoxError> {
    let client = reqwest::Client::new();
    let (_, customer) = seed(&client, server.base(), server.token()).await?;
    let (csv, orders) = orders_csv(&customer, args.lines, args.lines_per_order, args.error_every);
    let mut runs = Vec::new();
    for (scenario, mode) in [("import_dry_run", "dry_run"), ("import_valid_rows", "valid_rows")] {
        let (content_type, body) = multipart_form(&[("kind", "orders"), ("mode", mode)], "bench.csv", csv.as_bytes());
        let cpu_before = server.pid().and_then(cpu_seconds);
        let started = Instant::now();
        let response = client
            .post(format!("{}/api/v1/imports", server.base()))
            .bearer_auth(server.token())
            .header("content-type", content_type)
            .body(body)
            .send()
            .await?;
        let status = response.status();
        let result: serde_json::Value = response.json().await?;
        let seconds = started.elapsed().as_secs_f64();
        if !status.is_success() {
            return Err(format!("{scenario}: {status} {result}").into());
        }
        let cpu = server.pid().and_then(cpu_seconds).zip(cpu_before).map(|(after, before)| after - before);
        let run = ImportRun {
            scenario,
            engine: args.engine.clone(),
            lines: args.lines,
            orders,
            imported: result["imported"].as_u64().unwrap_or(0),
            rejected: result["rejected"].as_u64().unwrap_or(0),
            seconds,
            lines_per_s: args.lines as f64 / seconds,
            server_cpu_s: cpu,
        };
        eprintln!(
            "{:<18} {:<8} {:>7} lines {:>6} orders: {:>6} imported {:>4} rejected  {:>6.1} s  {:>7.0} lines/s  server cpu {}",
            run.scenario,
            run.engine,
            run.lines,
            run.orders,
            run.imported,
            run.rejected,
            run.seconds,
            run.lines_per_s,
            run.server_cpu_s.map_or("-".into(), |c| format!("{c:.1} s"))
        );
        runs.push(run);
    }
    Ok(runs)
}

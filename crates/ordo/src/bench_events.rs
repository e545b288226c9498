//! `ordo bench events`: how fast the outbox delivers. N events (spread over many orders)
//! are written to the outbox with one webhook subscribed to them; a real `ordo serve`
//! child fans them out and POSTs each, signed, to a receiver in this process. Reports
//! events/s from the first delivery to the last, the server's CPU per event, and checks
//! that every event arrived, in order per order.

use crate::bench::{Server, cpu_seconds, prepare_database};
use crate::{BoxError, open_database};
use axum::extract::State;
use axum::http::HeaderMap;
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

#[derive(clap::Args, Clone)]
pub struct EventsArgs {
    /// sqlite or postgres.
    #[arg(long, default_value = "sqlite")]
    engine: String,
    #[arg(long = "bench-database-url", default_value = "postgres://postgres@127.0.0.1:5432/test")]
    pub(crate) bench_database_url: String,
    /// Events to deliver.
    #[arg(long, default_value_t = 20_000)]
    events: i64,
    /// Orders the events are spread over (deliveries keep order per order).
    #[arg(long, default_value_t = 2_000)]
    aggregates: i64,
    #[arg(long)]
    json: Option<PathBuf>,
}

#[derive(Default)]
struct Seen {
    first: Option<Instant>,
    last: Option<Instant>,
    hits: usize,
    /// Last event id per order, to check the order of arrival.
    last_per_order: HashMap<i64, i64>,
    out_of_order: usize,
    ids: std::collections::HashSet<i64>,
}

async fn receive(State(seen): State<Arc<Mutex<Seen>>>, _headers: HeaderMap, body: axum::body::Bytes) -> &'static str {
    let parsed: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
    let (id, order) = (parsed["id"].as_i64().unwrap_or(0), parsed["data"]["order_id"].as_i64().unwrap_or(0));
    if let Ok(mut seen) = seen.lock() {
        let now = Instant::now();
        seen.first.get_or_insert(now);
        seen.last = Some(now);
        seen.hits += 1;
        seen.ids.insert(id);
        let previous = seen.last_per_order.insert(order, id).unwrap_or(0);
        if previous > id {
            seen.out_of_order += 1;
        }
    }
    "ok"
}

pub async fn events(args: EventsArgs) -> Result<(), BoxError> {
    let seen: Arc<Mutex<Seen>> = Arc::default();
    let app = axum::Router::new().route("/hook", axum::routing::post(receive)).with_state(seen.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let url = format!("http://{}/hook", listener.local_addr()?);
    tokio::spawn(async move { axum::serve(listener, app).await });

    let (database_url, data_dir, cleanup) = prepare_database(&args.engine, &args.bench_database_url)?;
    {
        let db = open_database(database_url.as_deref(), &data_dir).await?;
        let (n, aggregates) = (args.events, args.aggregates.max(1));
        db.write(move |tx| {
            let ctx = ordo_app::Ctx::new("bench", "cli");
            let hook = ordo_app::integrations::NewWebhook {
                url: Some(url.clone()),
                events: Some(vec!["order.*".into()]),
                secret: Some("whsec_bench_0123456789abcdef".into()),
                description: None,
            };
            ordo_app::integrations::create_webhook(tx, &ctx, &hook)?;
            for i in 0..n {
                let order = i % aggregates + 1;
                let data = serde_json::json!({"order_id": order, "order": format!("SO-BENCH-{order:06}"), "seq": i});
                ordo_app::events::record(tx, "order.confirmed", ("order", order), &data, ctx.now)?;
            }
            Ok::<_, ordo_app::integrations::IntegrationError>(())
        })
        .await?;
    }
    let server = Server::start_on(database_url, data_dir, cleanup).await?;
    let cpu_before = server.pid().and_then(cpu_seconds);
    let started = Instant::now();
    let deadline = started + Duration::from_secs(600);
    loop {
        let done = seen.lock().map(|s| s.ids.len() as i64 >= args.events).unwrap_or(false);
        if done || Instant::now() > deadline {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let cpu = match (cpu_before, server.pid().and_then(cpu_seconds)) {
        (Some(a), Some(b)) => Some(b - a),
        _ => None,
    };
    server.stop();
    let seen = seen.lock().map_err(|_| "receiver state poisoned")?;
    let window = match (seen.first, seen.last) {
        (Some(a), Some(b)) => b.duration_since(a).as_secs_f64().max(1e-6),
        _ => return Err("no event was delivered".into()),
    };
    let delivered = seen.ids.len();
    let result = serde_json::json!({
        "scenario": "events", "engine": args.engine, "events": args.events, "delivered": delivered,
        "duplicates": seen.hits - delivered, "out_of_order": seen.out_of_order,
        "events_per_s": delivered as f64 / window,
        "cpu_us_per_event": cpu.map(|c| c * 1e6 / delivered.max(1) as f64),
    });
    eprintln!(
        "events  {:<8} {} delivered of {} in {:.2} s: {:.0} events/s, cpu/event {}, duplicates {}, out of order {}",
        args.engine,
        delivered,
        args.events,
        window,
        delivered as f64 / window,
        cpu.map_or("-".into(), |c| format!("{:.0} µs", c * 1e6 / delivered.max(1) as f64)),
        seen.hits - delivered,
        seen.out_of_order
    );
    println!("{}", serde_json::to_string_pretty(&result)?);
    if let Some(path) = &args.json {
        std::fs::write(path, serde_json::to_string_pretty(&[result])?)?;
    }
    if (delivered as i64) < args.events {
        return Err(format!("only {delivered} of {} events arrived within 10 minutes", args.events).into());
    }
    Ok(())
}

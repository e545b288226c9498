//! `ordo bench sourcing`: 1,000 orders sourced across 5 warehouses with 10 carriers priced
//! for every route, through the real placement use case (in process, no HTTP), under the
//! chosen strategy; then the same orders' rate shopping alone. Prints µs per order, and
//! checks afterwards that no level reserves more than it holds and the ledger agrees.

use crate::BoxError;
use crate::bench::{own_cpu_seconds, prepare_database};
use ordo_app::common::AmountInput;
use ordo_app::{Ctx, catalog, customers, fulfillment, inventory, orders};
use ordo_domain::customers::AddressInput;
use ordo_domain::fulfillment::{Consignment, Parcel};
use ordo_domain::time::Date;
use std::time::Instant;

const REGIONS: [&str; 5] = ["Beijing", "Shanghai", "Guangdong", "Sichuan", "Hubei"];

#[derive(clap::Args, Clone)]
pub struct SourcingArgs {
    /// sqlite or postgres.
    #[arg(long, default_value = "sqlite")]
    engine: String,
    #[arg(long = "bench-database-url", default_value = "postgres://postgres@127.0.0.1:5432/test")]
    bench_database_url: String,
    #[arg(long, default_value_t = 1000)]
    orders: usize,
    /// same_region, fewest_shipments, lowest_cost or priority.
    #[arg(long, default_value = "lowest_cost")]
    strategy: String,
}

fn other(e: impl std::fmt::Display) -> ordo_app::DbError {
    ordo_app::DbError::Other(e.to_string())
}

async fn seed(db: &ordo_app::Database, strategy: &str) -> Result<Vec<i64>, BoxError> {
    let strategy = strategy.to_string();
    Ok(db
        .write(move |tx| {
            let ctx = Ctx::new("bench", "cli");
            for (w, region) in REGIONS.iter().enumerate() {
                let input = inventory::NewWarehouse {
                    code: Some(format!("W{w}")),
                    name: Some(region.to_string()),
                    region: Some(region.to_string()),
                    handling_fee: Some(AmountInput(format!("{}.50", w + 1))),
                    priority: Some(w as i64),
                    ..Default::default()
                };
                inventory::create_warehouse(tx, &ctx, &input).map_err(other)?;
            }
            for c in 0..10 {
                let input = fulfillment::NewCarrier {
                    code: Some(format!("C{c}")),
                    name: Some(format!("Carrier {c}")),
                    services: Some(vec![
                        fulfillment::NewCarrierService {
                            code: Some("std".into()),
                            name: None,
                            transit_days: Some(2 + c % 3),
                        },
                        fulfillment::NewCarrierService { code: Some("exp".into()), name: None, transit_days: Some(1) },
                    ]),
                    max_weight_kg: Some(AmountInput("30".into())),
                    refuses_tags: (c % 4 == 0).then(|| vec!["fragile".to_string()]),
                    ..Default::default()
                };
                let carrier = fulfillment::create_carrier(tx, &ctx, &input).map_err(other)?;
                let mut rates = Vec::new();
                for (i, to) in REGIONS.iter().enumerate() {
                    for (j, from) in REGIONS.iter().enumerate() {
                        for (service, base) in [("std", 6), ("exp", 14)] {
                            for (band, kg) in [(0, "1"), (1, "5"), (2, "30")] {
                                let price = base + band * 4 + (c as usize * 3 + i * 5 + j * 7) % 9;
                                rates.push(fulfillment::NewRate {
                                    service: Some(service.into()),
                                    region: Some(to.to_string()),
                                    from_region: Some(from.to_string()),
                                    max_weight_kg: Some(AmountInput(kg.into())),
                                    price: Some(AmountInput(format!("{price}.00"))),
                                    currency: Some("CNY".into()),
                                });
                            }
                        }
                    }
                }
                fulfillment::set_rates(tx, &ctx, carrier.id, &fulfillment::RateTableInput { rates: Some(rates) })
                    .map_err(other)?;
            }
            for p in 0..40 {
                let input = catalog::NewProduct {
                    sku: Some(format!("S{p:02}")),
                    name: Some(format!("Product {p}")),
                    price: Some(AmountInput("20.00".into())),
                    currency: Some("CNY".into()),
                    weight_kg: Some(AmountInput("0.4".into())),
                    tags: (p % 7 == 0).then(|| vec!["fragile".to_string()]),
                    ..Default::default()
                };
                catalog::create_product(tx, &ctx, &input).map_err(other)?;
                for w in 0..REGIONS.len() {
                    // Uneven on purpose: some orders fit one warehouse, others need a split.
                    let on_hand = ((p * 13 + w * 29) % 11) as i64 * 6;
                    let stock = inventory::SetStock { on_hand: Some(on_hand), reason: Some("bench".into()), bin: None };
                    inventory::set_stock(tx, &ctx, &format!("W{w}"), &format!("S{p:02}"), &stock).map_err(other)?;
                }
            }
            let mut ids = Vec::new();
            for (i, region) in REGIONS.iter().enumerate() {
                let input = customers::NewCustomer {
                    code: Some(format!("C-{i}")),
                    name: Some(format!("Customer {region}")),
                    payment_terms: Some("net30".into()),
                    shipping_address: Some(AddressInput {
                        line1: Some("1 Main Rd".into()),
                        city: Some(region.to_string()),
                        region: Some(region.to_string()),
                        country: Some("CN".into()),
                        ..Default::default()
                    }),
                    ..Default::default()
                };
                ids.push(customers::create_customer(tx, &ctx, &input).map_err(other)?.id);
            }
            let settings = fulfillment::FulfillmentSettingsInput {
                sourcing_strategy: Some(strategy.clone()),
                ..Default::default()
            };
            fulfillment::update_fulfillment_settings(tx, &ctx, &settings).map_err(other)?;
            let policy =
                ordo_app::settings::OrderPolicyInput { duplicate_window_minutes: Some(0), ..Default::default() };
            ordo_app::settings::update_order_policy(tx, &ctx, &policy).map_err(other)?;
            Ok::<_, ordo_app::DbError>(ids)
        })
        .await?)
}

pub async fn sourcing(args: SourcingArgs) -> Result<(), BoxError> {
    let (database_url, data_dir, cleanup) = prepare_database(&args.engine, &args.bench_database_url)?;
    let db = crate::open_database(database_url.as_deref(), &data_dir).await?;
    let customers = seed(&db, &args.strategy).await?;
    let (mut placed, mut short, mut split) = (0usize, 0usize, 0usize);
    let cpu_before = own_cpu_seconds();
    let started = Instant::now();
    for n in 0..args.orders {
        let lines: Vec<orders::NewOrderLine> = (0..1 + n % 4)
            .map(|j| orders::NewOrderLine {
                sku: Some(format!("S{:02}", (n * 7 + j * 11) % 40)),
                quantity: Some(1 + ((n + j) % 3) as i64),
                ..Default::default()
            })
            .collect();
        let input = orders::NewOrder {
            customer_id: Some(customers[n % customers.len()]),
            lines: Some(lines),
            ..Default::default()
        };
        let ctx = Ctx::new("bench", "cli");
        match db.write(move |tx| orders::place_order(tx, &ctx, &input)).await {
            Ok(orders::Placed::Created(order)) => {
                placed += 1;
                split += usize::from(order.split_reason.is_some());
            }
            Ok(orders::Placed::Existing(_)) => placed += 1,
            Err(orders::OrderError::ShortStock(_)) => short += 1,
            Err(e) => return Err(e.to_string().into()),
        }
    }
    let elapsed = started.elapsed();
    let cpu = own_cpu_seconds().zip(cpu_before).map(|(after, before)| after - before);

    // Rate shopping alone: every order's parcel priced by every service of every carrier.
    let terms = db.read(|tx| fulfillment::load_terms(tx)).await?;
    let today = Date::of(ordo_domain::Timestamp::now());
    let shop_started = Instant::now();
    let mut eligible = 0usize;
    for n in 0..args.orders {
        let consignment = Consignment {
            parcels: vec![Parcel { weight_kg: rust_decimal::Decimal::new(4 + (n % 60) as i64, 1), volume_cm3: None }],
            tags: if n % 7 == 0 { vec!["fragile".into()] } else { Vec::new() },
            from_region: Some(REGIONS[n % 5].into()),
            to_region: Some(REGIONS[(n / 5) % 5].into()),
            ship_date: today,
            promised: Some(today.plus_days(2)),
        };
        let quotes = ordo_domain::fulfillment::rate_shop(&terms.services, &terms.bands, &consignment);
        eligible += quotes.iter().filter(|q| q.eligible).count();
    }
    let shop = shop_started.elapsed();

    let over = db
        .read(|tx| {
            tx.query_one("SELECT COUNT(*) FROM stock_levels WHERE reserved > on_hand OR reserved < 0", &[])
                .map(|r| r.int(0))
        })
        .await??;
    let mismatches = db.read(|tx| inventory::verify_ledger(tx).map_err(|e| other(e.to_string()))).await?.len();
    drop(db);
    cleanup.run();
    let per_order = elapsed.as_secs_f64() * 1e6 / args.orders as f64;
    let result = serde_json::json!({
        "scenario": "sourcing", "engine": args.engine, "strategy": args.strategy, "orders": args.orders,
        "placed": placed, "short": short, "split": split, "warehouses": 5, "carrier_services": terms.services.len(),
        "rate_bands": terms.bands.len(),
        "placement_us_per_order": per_order, "placement_orders_per_s": args.orders as f64 / elapsed.as_secs_f64(),
        "cpu_us_per_order": cpu.map(|c| c * 1e6 / args.orders as f64),
        "rate_shop_us_per_order": shop.as_secs_f64() * 1e6 / args.orders as f64, "eligible_quotes": eligible,
        "levels_over_allocated": over, "ledger_mismatches": mismatches,
    });
    eprintln!(
        "sourcing   {:<8} {} orders ({} placed, {} short, {} split) {:>7.0} µs/order placed with sourcing; rate shop {:>6.1} µs/order over {} services; over-allocated levels {}, ledger mismatches {}",
        args.engine,
        args.orders,
        placed,
        short,
        split,
        per_order,
        shop.as_secs_f64() * 1e6 / args.orders as f64,
        terms.services.len(),
        over,
        mismatches
    );
    println!("{}", serde_json::to_string_pretty(&result)?);
    if over > 0 || mismatches > 0 {
        return Err("sourcing allocated more than was available".into());
    }
    Ok(())
}

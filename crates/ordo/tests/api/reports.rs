//! Reports on a small fixed history whose answers are worked out by hand below.
//!
//! Products (13 % tax): TEA 100.00, POT 150.00 (cost 60.00), CUP 100.00, PLATE 20.00 (never sold).
//! Orders, placed at 10:00 UTC on the day shown:
//!   o1 2026-10-05 A web   TEA×2        200.00 + 26.00 = 226.00
//!   o2 2026-10-05 B phone POT×1        150.00 + 19.50 = 169.50
//!   o3 2026-10-12 A web   TEA×1 POT×2  400.00 + 52.00 = 452.00
//!   o4 2026-10-20 C web   TEA×3        339.00, cancelled: counts nowhere
//!   o5 2026-11-02 B phone TEA×1 CUP×1  200.00 + 26.00 = 226.00
//! A is retail, B wholesale, C retail. o1 ships 2026-10-06 10:00 and arrives 2026-10-08 10:00.

use crate::helpers::{TestApp, spawn_app};
use ordo_app::Ctx;
use ordo_domain::Timestamp;
use reqwest::StatusCode;
use serde_json::{Value, json};

async fn customer(app: &TestApp, code: &str, group: &str) -> i64 {
    let reply = app
        .post(
            "/api/v1/customers",
            json!({"code": code, "name": format!("Customer {code}"), "group": group, "currency": "CNY", "region": "Shanghai",
                   "shipping_address": {"line1": "1 Nanjing Rd", "city": "Shanghai", "region": "Shanghai", "country": "CN"}}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    reply.body["id"].as_i64().unwrap()
}

/// Places an order through the service as if it were `at` (the API always uses now).
pub(crate) async fn place_at(app: &TestApp, at: &str, body: Value) -> i64 {
    let input: ordo_app::orders::NewOrder = serde_json::from_value(body).unwrap();
    let ctx = Ctx::at("token:test", "api", Timestamp::parse(at).unwrap());
    let placed = app.db.write(move |tx| ordo_app::orders::place_order(tx, &ctx, &input)).await.unwrap();
    match placed {
        ordo_app::orders::Placed::Created(order) | ordo_app::orders::Placed::Existing(order) => order.id,
    }
}

pub(crate) struct History {
    pub(crate) a: i64,
    pub(crate) b: i64,
    pub(crate) o2: i64,
    pub(crate) o3: i64,
    o4: i64,
    pub(crate) shipment: i64,
}

pub(crate) async fn history(app: &TestApp) -> History {
    app.warehouse("SH").await;
    for (sku, price) in [("TEA", "100.00"), ("POT", "150.00"), ("CUP", "100.00"), ("PLATE", "20.00")] {
        app.product(sku, price).await;
        app.stock("SH", sku, 100).await;
    }
    // POT's moving-average cost, as a receipt at 60.00 would leave it.
    app.db.write(|tx| tx.execute("UPDATE products SET cost_e4 = 600000 WHERE sku = 'POT'", &[])).await.unwrap();
    app.carrier_to("SF", "Shanghai").await;
    let (a, b, c) =
        (customer(app, "A", "retail").await, customer(app, "B", "wholesale").await, customer(app, "C", "retail").await);
    let line = |sku: &str, quantity: i64| json!({"sku": sku, "quantity": quantity});
    let o1 =
        place_at(app, "2026-10-05T10:00:00Z", json!({"customer_id": a, "channel": "web", "lines": [line("TEA", 2)]}))
            .await;
    let o2 =
        place_at(app, "2026-10-05T10:00:00Z", json!({"customer_id": b, "channel": "phone", "lines": [line("POT", 1)]}))
            .await;
    let o3 = place_at(
        app,
        "2026-10-12T10:00:00Z",
        json!({"customer_id": a, "channel": "web", "lines": [line("TEA", 1), line("POT", 2)]}),
    )
    .await;
    let o4 =
        place_at(app, "2026-10-20T10:00:00Z", json!({"customer_id": c, "channel": "web", "lines": [line("TEA", 3)]}))
            .await;
    place_at(
        app,
        "2026-11-02T10:00:00Z",
        json!({"customer_id": b, "channel": "phone", "lines": [line("TEA", 1), line("CUP", 1)]}),
    )
    .await;
    let cancelled = app.post(&format!("/api/v1/orders/{o4}/cancel"), json!({"reason": "customer changed mind"})).await;
    assert_eq!(cancelled.status, StatusCode::OK, "{}", cancelled.body);

    let paid = app.post(&format!("/api/v1/orders/{o1}/payments"), json!({"method": "cash", "amount": "226.00"})).await;
    assert_eq!(paid.status, StatusCode::CREATED, "{}", paid.body);
    let shipment: ordo_app::fulfillment::NewShipment = serde_json::from_value(
        json!({"warehouse": "SH", "carrier": "SF", "packages": [{"lines": [{"sku": "TEA", "quantity": 2}]}]}),
    )
    .unwrap();
    let shipped_at = Ctx::at("token:test", "api", Timestamp::parse("2026-10-06T10:00:00Z").unwrap());
    let shipment =
        app.db.write(move |tx| ordo_app::fulfillment::create_shipment(tx, &shipped_at, o1, &shipment)).await.unwrap();
    let delivered: ordo_app::fulfillment::DeliveredInput =
        serde_json::from_value(json!({"at": "2026-10-08T10:00:00Z"})).unwrap();
    app.db
        .write(move |tx| {
            ordo_app::fulfillment::mark_delivered(tx, &Ctx::new("token:test", "api"), shipment.id, &delivered)
        })
        .await
        .unwrap();
    History { a, b, o2, o3, o4, shipment: shipment.id }
}

fn rows(report: &Value) -> &Vec<Value> {
    report["rows"].as_array().unwrap()
}

#[tokio::test]
async fn sales_by_day_customer_product_and_channel_match_the_hand_count() {
    let app = spawn_app().await;
    let h = history(&app).await;

    let by_day = app.get("/api/v1/reports/sales?from=2026-10-05&to=2026-10-12&group_by=day").await;
    assert_eq!(by_day.status, StatusCode::OK, "{}", by_day.body);
    let days = rows(&by_day.body);
    assert_eq!(days.len(), 8, "every day of the period, empty ones too");
    assert_eq!(
        (days[0]["key"].as_str(), days[0]["orders"].as_i64(), days[0]["units"].as_i64()),
        (Some("2026-10-05"), Some(2), Some(3))
    );
    assert_eq!(days[0]["revenue"], "395.50");
    assert_eq!(days[1]["orders"], 0);
    assert_eq!(days[1]["revenue"], "0.00");
    assert_eq!(days[7]["revenue"], "452.00");
    let totals = &by_day.body["totals"];
    assert_eq!((totals["orders"].as_i64(), totals["units"].as_i64()), (Some(3), Some(6)));
    assert_eq!((totals["revenue"].as_str(), totals["net_revenue"].as_str()), (Some("847.50"), Some("750.00")));
    assert_eq!((totals["tax"].as_str(), totals["average_order_value"].as_str()), (Some("97.50"), Some("282.50")));

    let by_customer = app.get("/api/v1/reports/sales?from=2026-10-01&to=2026-10-31&group_by=customer").await;
    let customers = rows(&by_customer.body);
    assert_eq!(customers.len(), 2, "C's only order was cancelled: {}", by_customer.body);
    assert_eq!((customers[0]["key"].as_i64(), customers[0]["orders"].as_i64()), (Some(h.a), Some(2)));
    assert_eq!((customers[0]["revenue"].as_str(), customers[0]["share"].as_str()), (Some("678.00"), Some("80.00")));
    assert_eq!((customers[1]["key"].as_i64(), customers[1]["revenue"].as_str()), (Some(h.b), Some("169.50")));

    // An order with tea and pots counts once in the totals, once for each product.
    let by_product = app.get("/api/v1/reports/sales?from=2026-10-01&to=2026-10-31&group_by=product").await;
    let products = rows(&by_product.body);
    assert_eq!(products[0]["label"], "POT Product POT");
    assert_eq!((products[0]["orders"].as_i64(), products[0]["units"].as_i64()), (Some(2), Some(3)));
    assert_eq!(products[0]["revenue"], "508.50");
    assert_eq!(
        (products[1]["label"].as_str(), products[1]["revenue"].as_str()),
        (Some("TEA Product TEA"), Some("339.00"))
    );
    assert_eq!(by_product.body["totals"]["orders"], 3);

    let by_channel = app.get("/api/v1/reports/sales?from=2026-10-01&to=2026-10-31&group_by=channel&limit=1").await;
    assert_eq!(rows(&by_channel.body).len(), 1, "top 1");
    assert_eq!(
        (rows(&by_channel.body)[0]["key"].as_str(), rows(&by_channel.body)[0]["revenue"].as_str()),
        (Some("web"), Some("678.00"))
    );
    let bottom =
        app.get("/api/v1/reports/sales?from=2026-10-01&to=2026-10-31&group_by=channel&order=bottom&limit=1").await;
    assert_eq!(rows(&bottom.body)[0]["key"], "phone");

    let wholesale =
        app.get("/api/v1/reports/sales?from=2026-10-01&to=2026-11-30&group_by=month&customer_group=wholesale").await;
    let months = rows(&wholesale.body);
    assert_eq!((months[0]["key"].as_str(), months[0]["revenue"].as_str()), (Some("2026-10"), Some("169.50")));
    assert_eq!((months[1]["key"].as_str(), months[1]["revenue"].as_str()), (Some("2026-11"), Some("226.00")));
}

#[tokio::test]
async fn november_compared_with_the_thirty_days_before_and_with_last_year() {
    let app = spawn_app().await;
    history(&app).await;

    let report = app.get("/api/v1/reports/sales?from=2026-11-01&to=2026-11-30&group_by=month&compare=previous").await;
    assert_eq!(report.status, StatusCode::OK, "{}", report.body);
    assert_eq!(
        (report.body["compared_from"].as_str(), report.body["compared_to"].as_str()),
        (Some("2026-10-02"), Some("2026-10-31"))
    );
    let november = &rows(&report.body)[0];
    assert_eq!((november["key"].as_str(), november["revenue"].as_str()), (Some("2026-11"), Some("226.00")));
    assert_eq!(november["compared"]["revenue"], "847.50");
    // (226.00 − 847.50) / 847.50 = −73.33 %
    assert_eq!(november["revenue_change"], "-73.33");
    assert_eq!(report.body["totals"]["revenue_change"], "-73.33");

    let last_year =
        app.get("/api/v1/reports/sales?from=2026-11-01&to=2026-11-30&group_by=week&compare=last_year").await;
    assert_eq!(last_year.body["compared_from"], "2025-11-01");
    assert!(rows(&last_year.body).iter().all(|r| r["revenue_change"].is_null()), "nothing sold a year ago");
}

#[tokio::test]
async fn reports_download_as_csv_and_xlsx() {
    let app = spawn_app().await;
    history(&app).await;

    let csv = app
        .send(app.authed(
            app.client.get(app.url("/api/v1/reports/sales?from=2026-10-01&to=2026-10-31&group_by=channel&format=csv")),
        ))
        .await;
    assert_eq!(csv.status, StatusCode::OK);
    assert!(csv.headers["content-type"].to_str().unwrap().starts_with("text/csv"));
    let text = csv.body.as_str().unwrap().trim_start_matches('\u{feff}');
    assert!(text.starts_with("key,label,orders,units,revenue"), "{text}");
    assert!(text.contains("\r\nweb,web,2,5,678.00,600.00,78.00,339.00,80.00\r\n"), "{text}");

    let xlsx =
        app.send(app.authed(
            app.client.get(app.url("/api/v1/reports/inventory/abc?from=2026-10-01&to=2026-11-30&format=xlsx")),
        ))
        .await;
    assert_eq!(xlsx.status, StatusCode::OK);
    assert!(xlsx.headers["content-disposition"].to_str().unwrap().contains(".xlsx"));
    assert!(xlsx.body.as_str().unwrap().starts_with("PK"), "an XLSX file is a zip archive");
}

#[tokio::test]
async fn customers_are_scored_by_recency_frequency_and_money() {
    let app = spawn_app().await;
    let h = history(&app).await;

    let report = app.get("/api/v1/reports/customers/rfm?as_of=2026-11-30").await;
    assert_eq!(report.status, StatusCode::OK, "{}", report.body);
    let (a, b) = (&rows(&report.body)[0], &rows(&report.body)[1]);
    // A: orders on 10-05 and 10-12 (678.00); 49 days since, usually every 7 days: at risk.
    assert_eq!(
        (a["key"].as_i64(), a["frequency"].as_i64(), a["recency_days"].as_i64()),
        (Some(h.a), Some(2), Some(49))
    );
    assert_eq!((a["monetary"].as_str(), a["usual_interval_days"].as_str()), (Some("678.00"), Some("7.0")));
    assert_eq!(a["at_risk"], true);
    // B: 10-05 and 11-02 (395.50), every 28 days, last 28 days ago: not yet.
    assert_eq!(
        (b["key"].as_i64(), b["recency_days"].as_i64(), b["monetary"].as_str()),
        (Some(h.b), Some(28), Some("395.50"))
    );
    assert_eq!(b["at_risk"], false);
    // Recency: B is best (5), A next (3); both ordered twice (5); A spent more (5, B 3).
    assert_eq!(
        (a["r"].as_i64(), a["f"].as_i64(), a["m"].as_i64(), a["segment"].as_str()),
        (Some(3), Some(5), Some(5), Some("loyal"))
    );
    assert_eq!((b["r"].as_i64(), b["m"].as_i64(), b["segment"].as_str()), (Some(5), Some(3), Some("champions")));
    assert_eq!(
        (report.body["totals"]["customers"].as_i64(), report.body["totals"]["at_risk"].as_i64()),
        (Some(2), Some(1))
    );
}

#[tokio::test]
async fn abc_ranks_products_by_revenue_and_puts_unsold_ones_in_c() {
    let app = spawn_app().await;
    history(&app).await;

    let report = app.get("/api/v1/reports/inventory/abc?from=2026-10-01&to=2026-11-30").await;
    assert_eq!(report.status, StatusCode::OK, "{}", report.body);
    let classes: Vec<(&str, &str, &str)> = rows(&report.body)
        .iter()
        .map(|r| (r["sku"].as_str().unwrap(), r["revenue"].as_str().unwrap(), r["class"].as_str().unwrap()))
        .collect();
    // 508.50 + 452.00 + 113.00 = 1,073.50: POT and TEA reach 89.5 % after TEA started below 80 %.
    assert_eq!(
        classes,
        [("POT", "508.50", "A"), ("TEA", "452.00", "A"), ("CUP", "113.00", "B"), ("PLATE", "0.00", "C")]
    );
    let pot = &rows(&report.body)[0];
    assert_eq!((pot["share"].as_str(), pot["units"].as_i64()), (Some("47.37"), Some(3)));
    assert_eq!(rows(&report.body)[1]["cumulative_share"], "89.47");
    // 100 on hand less 3 reserved for open orders; 100 × 60.00 at cost.
    assert_eq!(
        (pot["on_hand"].as_i64(), pot["available"].as_i64(), pot["stock_value"].as_str()),
        (Some(100), Some(97), Some("6000.00"))
    );
    assert_eq!((report.body["totals"]["a"].as_i64(), report.body["totals"]["c"].as_i64()), (Some(2), Some(1)));
}

#[tokio::test]
async fn cycle_times_measure_each_stage_and_count_cancellations() {
    let app = spawn_app().await;
    history(&app).await;

    let report = app.get("/api/v1/reports/operations/cycle-times?from=2026-10-01&to=2026-10-31").await;
    assert_eq!(report.status, StatusCode::OK, "{}", report.body);
    let stage = |key: &str| rows(&report.body).iter().find(|r| r["key"] == key).unwrap().clone();
    assert_eq!(
        (stage("placed_to_confirmed")["orders"].as_i64(), stage("placed_to_confirmed")["p50_hours"].as_str()),
        (Some(3), Some("0.00"))
    );
    assert_eq!(stage("confirmed_to_shipped")["p50_hours"], "24.00");
    assert_eq!(stage("shipped_to_delivered")["p95_hours"], "48.00");
    assert_eq!(
        (stage("placed_to_delivered")["orders"].as_i64(), stage("placed_to_delivered")["p50_hours"].as_str()),
        (Some(1), Some("72.00"))
    );
    let totals = &report.body["totals"];
    assert_eq!(
        (totals["orders"].as_i64(), totals["shipped"].as_i64(), totals["delivered"].as_i64()),
        (Some(3), Some(1), Some(1))
    );
    assert_eq!((totals["cancelled"].as_i64(), totals["cancellation_rate"].as_str()), (Some(1), Some("25.00")));

    // Four months are read in two slices at once; the figures are the same.
    let long = app.get("/api/v1/reports/operations/cycle-times?from=2026-08-01&to=2026-11-30").await;
    assert_eq!(long.body["totals"]["orders"], 4, "{}", long.body);
    let delivered = rows(&long.body).iter().find(|r| r["key"] == "placed_to_delivered").unwrap().clone();
    assert_eq!((delivered["orders"].as_i64(), delivered["p50_hours"].as_str()), (Some(1), Some("72.00")));
}

#[tokio::test]
async fn the_monthly_finance_summary_adds_up() {
    let app = spawn_app().await;
    history(&app).await;

    let report = app.get("/api/v1/reports/finance/summary?month=2026-10").await;
    assert_eq!(report.status, StatusCode::OK, "{}", report.body);
    let amount = |key: &str| {
        rows(&report.body).iter().find(|r| r["key"] == key).map(|r| r["amount"].as_str().unwrap().to_string())
    };
    assert_eq!(amount("orders_revenue").as_deref(), Some("847.50"));
    assert_eq!(amount("net_revenue").as_deref(), Some("750.00"));
    assert_eq!(amount("tax_13").as_deref(), Some("97.50"));
    // Three pots at 60.00; tea had no recorded cost.
    assert_eq!(amount("cost_of_goods").as_deref(), Some("180.00"));
    assert_eq!(amount("gross_margin").as_deref(), Some("570.00"));
    assert_eq!(report.body["totals"]["gross_margin_percent"], "76.00");
    // Receivables at month end, aged: the buckets add up to what is open.
    let bucket = |key: &str| amount(key).unwrap_or_else(|| panic!("{key} in {}", report.body)).parse::<f64>().unwrap();
    let aged: f64 =
        ["current", "1_30", "31_60", "61_90", "90_plus"].iter().map(|b| bucket(&format!("receivables_{b}"))).sum();
    assert_eq!(aged, bucket("receivables_open"));
}

#[tokio::test]
async fn summaries_follow_edits_splits_merges_and_cancellations_exactly() {
    let app = spawn_app().await;
    let h = history(&app).await;
    let order = app
        .post(
            "/api/v1/orders",
            json!({"customer_id": h.a, "lines": [{"sku": "TEA", "quantity": 4}, {"sku": "CUP", "quantity": 2}]}),
        )
        .await;
    assert_eq!(order.status, StatusCode::CREATED, "{}", order.body);
    let id = order.body["id"].as_i64().unwrap();
    let edited = app
        .patch(
            &format!("/api/v1/orders/{id}"),
            json!({"lines": [{"sku": "TEA", "quantity": 5}, {"sku": "CUP", "quantity": 2}]}),
            None,
        )
        .await;
    assert_eq!(edited.status, StatusCode::OK, "{}", edited.body);
    let split =
        app.post(&format!("/api/v1/orders/{id}/split"), json!({"lines": [{"sku": "TEA", "quantity": 2}]})).await;
    assert_eq!(split.status, StatusCode::CREATED, "{}", split.body);
    let merged = app.post("/api/v1/orders/merge", json!({"order_ids": [split.body["split"]["id"], id]})).await;
    assert_eq!(merged.status, StatusCode::OK, "{}", merged.body);
    app.post(&format!("/api/v1/orders/{}/cancel", h.o4), json!({"reason": "again"})).await;

    let problems = app.db.read(|tx| ordo_app::reports::summaries::verify(tx)).await.unwrap();
    assert!(problems.is_empty(), "{problems:#?}");
    // Today in the business's zone (+08:00 unless changed): after 16:00 UTC it is tomorrow there.
    let today = Timestamp::now().plus_seconds(8 * 3600).to_rfc3339()[..10].to_string();
    let report = app.get(&format!("/api/v1/reports/sales?from={today}&to={today}&group_by=product")).await;
    let tea = rows(&report.body).iter().find(|r| r["label"] == "TEA Product TEA").unwrap().clone();
    // 5 × 100.00 × 1.13 after the edit; the split and merge moved them, not added any.
    assert_eq!((tea["units"].as_i64(), tea["revenue"].as_str()), (Some(5), Some("565.00")));
    assert_eq!(report.body["totals"]["orders"], 1);
}

#[tokio::test]
async fn bad_report_parameters_name_the_field() {
    let app = spawn_app().await;
    let reply = app.get("/api/v1/reports/sales?group_by=hour&from=2026-11-30&to=2026-11-01&format=pdf").await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", reply.body);
    assert_eq!(reply.error_fields(), ["format"]);
    let reply = app.get("/api/v1/reports/sales?group_by=hour&from=2026-11-30&to=2026-11-01").await;
    let mut fields = reply.error_fields();
    fields.sort();
    assert_eq!(fields, ["from", "group_by"]);
    let reply = app.get("/api/v1/reports/finance/summary?month=2026-13").await;
    assert_eq!(reply.error_fields(), ["month"]);
}

#[tokio::test]
async fn a_viewer_reads_each_report_page_with_charts_and_downloads_it() {
    let app = spawn_app().await;
    let h = history(&app).await;
    let mut console = app.console_as("viewer").await;

    let (status, html) = console.get("/reports?from=2026-10-01&to=2026-10-31&group_by=customer").await;
    assert_eq!(status, StatusCode::OK, "{html}");
    assert!(html.contains("<svg class=\"chart bars\""), "a bar chart of revenue");
    assert!(html.contains("<svg class=\"chart donut\""), "and the share of each customer");
    assert!(html.contains("678.00"), "A's revenue in the table");
    let drill_down = format!("/orders?customer_id={}&#38;created_from=2026-10-01&#38;created_to=2026-10-31", h.a);
    assert!(html.contains(&drill_down), "each customer links to the orders behind the figure");
    let (status, orders) = console.get(&drill_down.replace("&#38;", "&")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(orders.matches("<tr").count() - 1, 2, "A's two October orders: {orders}");

    let (_, html) = console.get("/reports?from=2026-10-01&to=2026-11-30&group_by=week&compare=last_year").await;
    assert!(html.contains("<svg class=\"chart line\"") && html.contains("dashed"), "this period against last year");
    for (path, expect) in [
        ("/reports/customers?as_of=2026-11-30", format!("/customers/{}/360", h.a)),
        ("/reports/inventory?from=2026-10-01&to=2026-11-30", "chart stacked".to_string()),
        ("/reports/operations?from=2026-10-01&to=2026-10-31", "72.00".to_string()),
        ("/reports/finance?month=2026-10", "570.00".to_string()),
    ] {
        let (status, html) = console.get(path).await;
        assert_eq!(status, StatusCode::OK, "{path}: {html}");
        assert!(html.contains(&expect), "{path} shows {expect}");
    }

    let (status, csv) = console.get("/reports/finance?month=2026-10&format=csv").await;
    assert_eq!(status, StatusCode::OK);
    assert!(csv.contains("gross_margin,Gross margin,570.00"), "{csv}");
    console.post("/locale", &[("locale", "zh-CN")]).await;
    let (_, chinese) = console.get("/reports/customers?as_of=2026-11-30").await;
    assert!(chinese.contains("客户分群") && chinese.contains("忠诚客户"), "segments read in Chinese");
}

#[tokio::test]
async fn yesterdays_sales_are_mailed_once_in_chinese_to_the_boss() {
    use crate::integrations::{decode, eventually, smtp_sink};
    let app = spawn_app().await;
    let (port, inbox) = smtp_sink().await;
    let mail = json!({"enabled": true, "host": "127.0.0.1", "port": port, "security": "none",
        "from_address": "reports@teashop.cn", "from_name": "Tea Shop"});
    assert_eq!(app.put("/api/v1/settings/mail", mail).await.status, StatusCode::OK);
    app.warehouse("SH").await;
    app.product("TEA", "100.00").await;
    app.stock("SH", "TEA", 100).await;
    let buyer = customer(&app, "A", "retail").await;
    // Yesterday in the business's time zone (UTC+08:00); noon there is 04:00 UTC.
    let local_now = Timestamp(Timestamp::now().micros() + 8 * 3_600_000_000);
    let yesterday = ordo_domain::time::Date::of(local_now).plus_days(-1).to_string();
    place_at(
        &app,
        &format!("{yesterday}T04:00:00Z"),
        json!({"customer_id": buyer, "lines": [{"sku": "TEA", "quantity": 2}]}),
    )
    .await;

    let wrong = app
        .put(
            "/api/v1/settings/reports",
            json!({"schedules": [{"report": "sales", "frequency": "hourly", "recipients": ["boss"]}]}),
        )
        .await;
    assert_eq!(wrong.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(wrong.error_fields(), ["schedules[0].frequency", "schedules[0].recipients[0]"]);
    let schedule = json!({"schedules": [{"report": "sales", "frequency": "daily", "recipients": ["boss@teashop.cn"], "language": "zh-CN"}]});
    assert_eq!(app.put("/api/v1/settings/reports", schedule).await.status, StatusCode::OK);

    // What the background worker does once a minute, here twice in a row: one mailing.
    assert_eq!(ordo_connect::mail_reports(&app.db, "worker-1").await.unwrap(), 1);
    assert_eq!(ordo_connect::mail_reports(&app.db, "worker-1").await.unwrap(), 0, "a period goes out once");
    eventually(15, "the report in the boss's mailbox", async || {
        inbox.lock().unwrap().iter().any(|(to, _)| to == &["boss@teashop.cn"])
    })
    .await;
    let (subject, body) =
        inbox.lock().unwrap().iter().find(|(to, _)| to == &["boss@teashop.cn"]).map(|(_, m)| decode(m)).unwrap();
    assert_eq!(subject, format!("Ordo · 销售报表 {yesterday}"));
    assert!(body.contains("TEA Product TEA") && body.contains("226.00"), "{body}");
    assert_eq!(inbox.lock().unwrap().len(), 1);
}

#[tokio::test]
async fn an_admin_schedules_a_weekly_report_from_the_console_and_removes_it() {
    let app = spawn_app().await;
    let mut console = app.console_as("admin").await;
    let (_, page) = console.get("/reports/finance").await;
    assert!(page.contains("id=\"report-schedules\""), "admins see the schedule form");

    let fields = [
        ("report", "finance"),
        ("frequency", "weekly"),
        ("recipients", "cfo@teashop.cn, boss@teashop.cn"),
        ("language", "zh-TW"),
    ];
    let (status, _) = console.post("/reports/schedules", &fields).await;
    assert!(status.is_redirection() || status.is_success(), "{status}");
    let saved = app.get("/api/v1/settings/reports").await;
    assert_eq!(
        saved.body["schedules"][0]["recipients"],
        json!(["cfo@teashop.cn", "boss@teashop.cn"]),
        "{}",
        saved.body
    );
    assert_eq!(saved.body["schedules"][0]["language"], "zh-TW");
    let (_, page) = console.get("/reports/finance").await;
    assert!(page.contains("cfo@teashop.cn, boss@teashop.cn"), "the schedule is listed on its report");

    let (status, _) = console
        .post("/reports/schedules", &[("report", "finance"), ("frequency", "weekly"), ("action", "remove")])
        .await;
    assert!(status.is_redirection() || status.is_success(), "{status}");
    assert_eq!(app.get("/api/v1/settings/reports").await.body["schedules"], json!([]));

    let mut viewer = app.console_as("viewer").await;
    let (_, page) = viewer.get("/reports/finance").await;
    assert!(!page.contains("id=\"report-schedules\""), "a viewer cannot schedule");
}

#[tokio::test]
async fn sales_by_salesperson_follow_the_account_and_link_to_its_orders() {
    let app = spawn_app().await;
    let h = history(&app).await;
    ordo::create_user(&app.db, "li.wei@example.com", "sales", Some("Li Wei"), "test").await.unwrap();
    let unknown =
        app.patch(&format!("/api/v1/customers/{}", h.b), json!({"salesperson": "nobody@example.com"}), None).await;
    assert_eq!(unknown.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", unknown.body);
    assert_eq!(unknown.body["errors"][0]["field"], "salesperson");
    let assigned =
        app.patch(&format!("/api/v1/customers/{}", h.b), json!({"salesperson": "Li.Wei@example.com"}), None).await;
    assert_eq!(assigned.status, StatusCode::OK, "{}", assigned.body);
    assert_eq!(assigned.body["salesperson"], "li.wei@example.com");

    // B's two orders (169.50 + 226.00) are Li Wei's; A's two (678.00) have no salesperson.
    let report = app.get("/api/v1/reports/sales?from=2026-10-01&to=2026-11-30&group_by=salesperson").await;
    assert_eq!(report.status, StatusCode::OK, "{}", report.body);
    let found: Vec<(&str, &str, i64, &str)> = rows(&report.body)
        .iter()
        .map(|r| {
            (
                r["key"].as_str().unwrap(),
                r["label"].as_str().unwrap(),
                r["orders"].as_i64().unwrap(),
                r["revenue"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(found, [("", "", 2, "678.00"), ("li.wei@example.com", "Li Wei <li.wei@example.com>", 2, "395.50")]);
    let hers = app.get("/api/v1/reports/sales?from=2026-10-01&to=2026-11-30&salesperson=li.wei@example.com").await;
    assert_eq!(hers.body["totals"]["revenue"], "395.50");

    // The console links her row, and each month, to the orders behind the figure.
    let mut console = app.console_as("viewer").await;
    let (_, html) = console.get("/reports?from=2026-10-01&to=2026-11-30&group_by=salesperson").await;
    let hers = "/orders?salesperson=li.wei%40example.com&#38;created_from=2026-10-01&#38;created_to=2026-11-30";
    assert!(html.contains(hers), "{html}");
    let (_, orders) = console.get(&hers.replace("&#38;", "&")).await;
    assert_eq!(orders.matches("<tr").count() - 1, 2, "B's two orders: {orders}");
    assert!(orders.contains("id=\"drill-filters\""), "the list says what it is filtered by");
    let (_, html) = console.get("/reports?from=2026-10-10&to=2026-11-30&group_by=month").await;
    assert!(html.contains("/orders?created_from=2026-10-10&#38;created_to=2026-10-31"), "October inside the period");
    let (_, october) = console.get("/orders?created_from=2026-10-10&created_to=2026-10-31").await;
    assert_eq!(october.matches("<tr").count() - 1, 2, "o3 and the cancelled o4: {october}");
}

#[tokio::test]
async fn new_and_returning_customers_are_counted_month_by_month() {
    let app = spawn_app().await;
    history(&app).await;

    let report = app.get("/api/v1/reports/customers/rfm?as_of=2026-11-30").await;
    let months = report.body["new_vs_returning"].as_array().unwrap();
    assert_eq!(months.len(), 12);
    assert_eq!((months[0]["month"].as_str(), months[11]["month"].as_str()), (Some("2025-12"), Some("2026-11")));
    // October: A and B order for the first time (678.00 + 169.50); C's order was cancelled.
    let october = &months[10];
    assert_eq!((october["new_customers"].as_i64(), october["returning_customers"].as_i64()), (Some(2), Some(0)));
    assert_eq!(october["new_revenue"], "847.50");
    // November: B comes back (226.00).
    let november = &months[11];
    assert_eq!((november["new_customers"].as_i64(), november["returning_customers"].as_i64()), (Some(0), Some(1)));
    assert_eq!(november["returning_revenue"], "226.00");
    assert!(months[..10].iter().all(|m| m["new_customers"] == 0 && m["returning_customers"] == 0));

    let csv = app
        .client
        .get(format!("{}/api/v1/reports/customers/rfm?as_of=2026-11-30&format=csv", app.base))
        .bearer_auth(&app.token)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(csv.contains("\r\nnew-vs-returning\r\nmonth,new_customers,returning_customers"), "{csv}");
    assert!(csv.contains("2026-10,2,0,847.50,0.00"), "{csv}");
}

#[tokio::test]
async fn a_product_out_of_stock_shows_since_when_and_the_sales_it_is_losing() {
    let app = spawn_app().await;
    let h = history(&app).await;
    app.product("MUG", "100.00").await;
    app.stock("SH", "MUG", 5).await;
    // A takes the last five mugs on 10 November at 10:00.
    place_at(
        &app,
        "2026-11-10T10:00:00Z",
        json!({"customer_id": h.a, "channel": "web", "lines": [{"sku": "MUG", "quantity": 5}]}),
    )
    .await;

    let report = app.get("/api/v1/reports/inventory/abc?from=2026-11-01&to=2026-11-30").await;
    assert_eq!(report.status, StatusCode::OK, "{}", report.body);
    let outs = report.body["stock_outs"].as_array().unwrap();
    assert_eq!(outs.len(), 1, "only the mug is out: {}", report.body);
    let mug = &outs[0];
    assert_eq!((mug["sku"].as_str(), mug["available"].as_i64()), (Some("MUG"), Some(0)));
    assert_eq!(mug["out_since"], "2026-11-10T10:00:00.000000Z");
    // November (days from midnight UTC+08:00) has 30 days; out from the 10th 10:00 UTC to
    // the end (30th 16:00 UTC) is 20 days 6 h, so it sold five in 9 days 18 h: 5 / 9.75 =
    // 0.51 a day.
    assert_eq!(mug["daily_units"], "0.51");
    let days_out: f64 = mug["days_out"].as_str().unwrap().parse().unwrap();
    let since = Timestamp::parse("2026-11-10T10:00:00Z").unwrap();
    let expected = (Timestamp::now().micros() - since.micros()) as f64 / 86_400e6;
    assert!((days_out - expected).abs() < 0.1, "out {days_out} days, expected {expected}");
    // Lost: 0.513 a day × the days out, at 113.00 a unit (100.00 + 13 % tax).
    let lost: f64 = mug["lost_revenue"].as_str().unwrap().parse().unwrap();
    let estimate = 5.0 / 9.75 * expected * 113.0;
    assert!((lost - estimate).abs() < 1.0, "lost {lost}, expected about {estimate}");
    assert_eq!(report.body["totals"]["lost_revenue"], mug["lost_revenue"]);

    let mut console = app.console_as("viewer").await;
    let (_, html) = console.get("/reports/inventory?from=2026-11-01&to=2026-11-30").await;
    assert!(html.contains("id=\"section-stock-outs\"") && html.contains("2026-11-10"), "{html}");
}

#[tokio::test]
async fn operations_show_fill_rate_on_time_shipment_and_exceptions_by_reason() {
    let app = spawn_app().await;
    let h = history(&app).await;
    // o3 (TEA×1, POT×2) is paid and ships its tea alone a day after it was placed: not complete.
    let paid =
        app.post(&format!("/api/v1/orders/{}/payments", h.o3), json!({"method": "cash", "amount": "452.00"})).await;
    assert_eq!(paid.status, StatusCode::CREATED, "{}", paid.body);
    let partial: ordo_app::fulfillment::NewShipment = serde_json::from_value(
        json!({"warehouse": "SH", "carrier": "SF", "packages": [{"lines": [{"sku": "TEA", "quantity": 1}]}]}),
    )
    .unwrap();
    let at = Ctx::at("token:test", "api", Timestamp::parse("2026-10-13T10:00:00Z").unwrap());
    let o3 = h.o3;
    app.db.write(move |tx| ordo_app::fulfillment::create_shipment(tx, &at, o3, &partial)).await.unwrap();
    // o2 is held by hand; o1's parcel arrived damaged.
    let held = app.post(&format!("/api/v1/orders/{}/hold", h.o2), json!({"reason": "customer asked to wait"})).await;
    assert_eq!(held.status, StatusCode::OK, "{}", held.body);
    let claim = app
        .post(&format!("/api/v1/shipments/{}/claims", h.shipment), json!({"kind": "damaged", "detail": "cracked"}))
        .await;
    assert_eq!(claim.status, StatusCode::CREATED, "{}", claim.body);

    let report = app.get("/api/v1/reports/operations/cycle-times?from=2026-10-01&to=2026-10-31").await;
    assert_eq!(report.status, StatusCode::OK, "{}", report.body);
    let t = &report.body["totals"];
    // Shipped: o1 (complete, 24 h after confirmation) and o3 (partial, 24 h).
    assert_eq!(
        (t["shipped"].as_i64(), t["shipped_complete"].as_i64(), t["fill_rate"].as_str()),
        (Some(2), Some(1), Some("50.00"))
    );
    assert_eq!((t["ship_within_hours"].as_i64(), t["on_time_shipment_rate"].as_str()), (Some(48), Some("100.00")));
    // Two of the four orders placed in October had an exception.
    assert_eq!((t["exception_orders"].as_i64(), t["exception_rate"].as_str()), (Some(2), Some("50.00")));
    let reasons: Vec<(&str, i64)> = report.body["exceptions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["reason"].as_str().unwrap(), e["orders"].as_i64().unwrap()))
        .collect();
    assert_eq!(reasons, [("claim_damaged", 1), ("hold_manual", 1)]);

    let strict =
        app.get("/api/v1/reports/operations/cycle-times?from=2026-10-01&to=2026-10-31&ship_within_hours=12").await;
    assert_eq!(strict.body["totals"]["on_time_shipment_rate"], "0.00");
    let bad = app.get("/api/v1/reports/operations/cycle-times?ship_within_hours=0").await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(bad.body["errors"][0]["field"], "ship_within_hours");

    let mut console = app.console_as("viewer").await;
    console.post("/locale", &[("locale", "zh-CN")]).await;
    let (_, html) = console.get("/reports/operations?from=2026-10-01&to=2026-10-31").await;
    assert!(html.contains("包裹损坏") && html.contains("人工暂停"), "reasons in Chinese: {html}");
    assert!(html.contains("满足率"), "fill rate in Chinese");
}

#[tokio::test]
async fn days_begin_at_midnight_in_the_business_time_zone() {
    let app = spawn_app().await;
    history(&app).await;
    let buyer = customer(&app, "D", "retail").await;
    // 20:00 UTC on 5 October is 04:00 on the 6th in Shanghai.
    place_at(&app, "2026-10-05T20:00:00Z", json!({"customer_id": buyer, "lines": [{"sku": "CUP", "quantity": 1}]}))
        .await;

    let settings = app.get("/api/v1/settings/reports").await;
    assert_eq!(settings.body["utc_offset"], "+08:00", "China Standard Time unless set");
    let day = |report: &Value, key: &str| rows(report).iter().find(|r| r["key"] == key).unwrap()["revenue"].clone();
    let local = app.get("/api/v1/reports/sales?from=2026-10-05&to=2026-10-06&group_by=day").await;
    assert_eq!((day(&local.body, "2026-10-05"), day(&local.body, "2026-10-06")), (json!("395.50"), json!("113.00")));

    let wrong = app.put("/api/v1/settings/reports", json!({"schedules": [], "utc_offset": "+25:00"})).await;
    assert_eq!(wrong.error_fields(), ["utc_offset"]);
    let utc = app.put("/api/v1/settings/reports", json!({"schedules": [], "utc_offset": "+00:00"})).await;
    assert_eq!(utc.status, StatusCode::OK, "{}", utc.body);
    assert_eq!(utc.body["utc_offset"], "+00:00");
    // Every order moved to its UTC day, and the summaries still match the orders.
    let moved = app.get("/api/v1/reports/sales?from=2026-10-05&to=2026-10-06&group_by=day").await;
    assert_eq!((day(&moved.body, "2026-10-05"), day(&moved.body, "2026-10-06")), (json!("508.50"), json!("0.00")));
    assert_eq!(app.db.read(ordo_app::reports::summaries::verify).await.unwrap(), Vec::<String>::new());
    // Orders placed after the change count under the new zone too.
    place_at(&app, "2026-10-06T23:30:00Z", json!({"customer_id": buyer, "lines": [{"sku": "CUP", "quantity": 1}]}))
        .await;
    let later = app.get("/api/v1/reports/sales?from=2026-10-06&to=2026-10-06").await;
    assert_eq!(later.body["totals"]["revenue"], "113.00");
    assert_eq!(app.db.read(ordo_app::reports::summaries::verify).await.unwrap(), Vec::<String>::new());
}

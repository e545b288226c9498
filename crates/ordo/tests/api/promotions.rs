//! Pricing and promotions: price lists per group and channel with quantity breaks, member
//! tiers, automatic promotions and coupons stack in the documented order, every line says
//! why it costs what it costs, and a coupon's usage limit holds when orders race.

use crate::helpers::{TestApp, spawn_app};
use crate::idempotency::futures_join_all;
use reqwest::StatusCode;
use serde_json::{Value, json};

async fn created(app: &TestApp, path: &str, body: Value) -> Value {
    let reply = app.post(path, body).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{path}: {}", reply.body);
    reply.body
}

/// Tea and cups in stock; a wholesale price list with a break at 10 tins, a cheaper cup
/// on the web shop, and a gold tier.
async fn shop(app: &TestApp) {
    app.warehouse("SH").await;
    app.product("TEA", "20.00").await;
    app.product("CUP", "11.11").await;
    app.stock("SH", "TEA", 1000).await;
    app.stock("SH", "CUP", 1000).await;
    created(
        app,
        "/api/v1/price-lists",
        json!({"code": "WHOLESALE", "name": "Wholesale", "currency": "CNY", "customer_group": "wholesale",
            "items": [{"sku": "TEA", "price": "18.00", "breaks": [{"min_quantity": 10, "price": "16.00"}]}]}),
    )
    .await;
    created(
        app,
        "/api/v1/price-lists",
        json!({"code": "WHOLESALE-WEB", "name": "Wholesale on the web shop", "currency": "CNY",
            "customer_group": "wholesale", "channel": "web", "items": [{"sku": "CUP", "price": "10.00"}]}),
    )
    .await;
    created(app, "/api/v1/member-tiers", json!({"code": "gold", "name": "Gold", "discount_percent": "2"})).await;
}

async fn gold_wholesaler(app: &TestApp, code: &str) -> i64 {
    let id = app.customer(code, "wholesale").await;
    let customer = app.get(&format!("/api/v1/customers/{id}")).await;
    let etag = customer.headers.get("etag").and_then(|v| v.to_str().ok()).map(str::to_string);
    let tiered = app.patch(&format!("/api/v1/customers/{id}"), json!({"tier": "gold"}), etag.as_deref()).await;
    assert_eq!(tiered.status, StatusCode::OK, "{}", tiered.body);
    assert_eq!(tiered.body["tier"], "gold");
    id
}

fn codes(line: &Value) -> Vec<&str> {
    line["pricing"]["adjustments"].as_array().unwrap().iter().map(|a| a["code"].as_str().unwrap()).collect()
}

fn amount(value: &Value) -> rust_decimal::Decimal {
    value.as_str().unwrap().parse().unwrap()
}

#[tokio::test]
async fn promotions_stack_in_the_documented_order_with_exact_totals() {
    let app = spawn_app().await;
    shop(&app).await;
    let customer = gold_wholesaler(&app, "W1").await;
    created(
        &app,
        "/api/v1/promotions",
        json!({"code": "TEA5", "name": "Tea week", "benefit": "percent_off", "percent": "5", "skus": ["TEA"]}),
    )
    .await;
    created(
        &app,
        "/api/v1/promotions",
        json!({"code": "MAN250", "name": "满250减30", "scope": "order", "benefit": "amount_off", "amount": "30",
            "currency": "CNY", "min_order": "250"}),
    )
    .await;
    created(
        &app,
        "/api/v1/promotions",
        json!({"code": "SAVE5", "name": "Five off", "scope": "order", "benefit": "percent_off", "percent": "5",
            "coupon_code": "SAVE5"}),
    )
    .await;

    let order = app
        .post(
            "/api/v1/orders",
            json!({"customer_id": customer, "channel": "web", "coupon_code": "save5",
                "lines": [{"sku": "TEA", "quantity": 12}, {"sku": "CUP", "quantity": 10}]}),
        )
        .await;
    assert_eq!(order.status, StatusCode::CREATED, "{}", order.body);
    let (tea, cup) = (&order.body["lines"][0], &order.body["lines"][1]);
    // TEA: 12 × 16.00 (break from 10) = 192.00 − 9.60 TEA5 − 3.65 gold − 19.38 MAN250 − 7.97 SAVE5.
    assert_eq!((tea["unit_price"].as_str(), tea["pricing"]["price_list"].as_str()), (Some("16.00"), Some("WHOLESALE")));
    assert_eq!(tea["pricing"]["min_quantity"], 10);
    assert_eq!(codes(tea), ["TEA5", "gold", "MAN250", "SAVE5"]);
    assert_eq!(tea["line_total"], "151.40");
    // CUP: the web shop's list, 10 × 10.00 − 2.00 gold − 10.62 MAN250 − 4.37 SAVE5.
    assert_eq!(
        (cup["unit_price"].as_str(), cup["pricing"]["price_list"].as_str()),
        (Some("10.00"), Some("WHOLESALE-WEB"))
    );
    assert_eq!(codes(cup), ["gold", "MAN250", "SAVE5"]);
    assert_eq!(cup["line_total"], "83.01");
    for line in [tea, cup] {
        let taken: rust_decimal::Decimal =
            line["pricing"]["adjustments"].as_array().unwrap().iter().map(|a| amount(&a["amount"])).sum();
        let gross = amount(&line["unit_price"]) * rust_decimal::Decimal::from(line["quantity"].as_i64().unwrap());
        assert_eq!(taken + amount(&line["line_total"]), gross, "each line explains its total to the cent");
    }
    assert_eq!(
        (&order.body["subtotal"], &order.body["tax_total"], &order.body["total"], &order.body["coupon_code"]),
        (&json!("234.41"), &json!("30.47"), &json!("264.88"), &json!("SAVE5"))
    );

    // The invoice bills what the order says, to the cent.
    let id = order.body["id"].as_i64().unwrap();
    let invoice = created(&app, &format!("/api/v1/orders/{id}/invoices"), json!({})).await;
    assert_eq!(invoice["total"], "264.88", "{invoice}");

    // By phone there is no web-shop cup price: the catalog's applies, and without the
    // coupon and under 250 the order promotions stay out.
    let by_phone = app
        .post(
            "/api/v1/orders",
            json!({"customer_id": customer, "channel": "phone", "lines": [{"sku": "CUP", "quantity": 2}]}),
        )
        .await;
    assert_eq!(by_phone.status, StatusCode::CREATED, "{}", by_phone.body);
    let line = &by_phone.body["lines"][0];
    assert_eq!(
        (line["unit_price"].as_str(), line["pricing"]["price_source"].as_str()),
        (Some("11.11"), Some("catalog"))
    );
    assert_eq!(codes(line), ["gold"]);
    assert_eq!(line["line_total"], "21.78", "22.22 less 2 %");
}

#[tokio::test]
async fn a_coupons_usage_limit_holds_when_orders_race() {
    let app = spawn_app().await;
    shop(&app).await;
    let coupon = created(
        &app,
        "/api/v1/promotions",
        json!({"code": "FIRST3", "name": "First three", "scope": "order", "benefit": "amount_off", "amount": "5",
            "currency": "CNY", "coupon_code": "FIRST3", "usage_limit": 3}),
    )
    .await;
    let mut customers = Vec::new();
    for n in 0..10 {
        customers.push(app.customer(&format!("R{n}"), "retail").await);
    }
    let attempts = customers.iter().map(|customer| {
        app.post(
            "/api/v1/orders",
            json!({"customer_id": customer, "coupon_code": "FIRST3", "lines": [{"sku": "TEA", "quantity": 1}]}),
        )
    });
    let replies = futures_join_all(attempts).await;
    let placed: Vec<_> = replies.iter().filter(|r| r.status == StatusCode::CREATED).collect();
    let refused: Vec<_> = replies.iter().filter(|r| r.status == StatusCode::UNPROCESSABLE_ENTITY).collect();
    assert_eq!((placed.len(), refused.len()), (3, 7), "{:?}", replies.iter().map(|r| &r.body).collect::<Vec<_>>());
    for reply in &refused {
        assert_eq!(reply.error_fields(), ["coupon_code"]);
        assert!(reply.body.to_string().contains("used up"), "{}", reply.body);
    }
    for reply in &placed {
        assert_eq!(reply.body["total"], "16.95", "20.00 − 5.00, plus 13 % tax");
    }
    let id = coupon["id"].as_i64().unwrap();
    assert_eq!(app.get(&format!("/api/v1/promotions/{id}")).await.body["times_used"], 3);
    assert_eq!(app.order_count().await, 3, "no refused order left anything behind");

    // A cancelled order gives its use back.
    let first = placed[0].body["id"].as_i64().unwrap();
    let cancelled = app.post(&format!("/api/v1/orders/{first}/cancel"), json!({"reason": "changed mind"})).await;
    assert_eq!(cancelled.status, StatusCode::OK, "{}", cancelled.body);
    assert_eq!(app.get(&format!("/api/v1/promotions/{id}")).await.body["times_used"], 2);
}

#[tokio::test]
async fn a_once_per_customer_coupon_is_refused_the_second_time_and_says_where_it_went() {
    let app = spawn_app().await;
    shop(&app).await;
    created(
        &app,
        "/api/v1/promotions",
        json!({"code": "WELCOME", "name": "Welcome", "scope": "order", "benefit": "percent_off", "percent": "10",
            "coupon_code": "Welcome10", "once_per_customer": true}),
    )
    .await;
    let customer = app.customer("NEW", "retail").await;
    let order = json!({"customer_id": customer, "coupon_code": "WELCOME10", "lines": [{"sku": "TEA", "quantity": 1}]});
    let first = app.post("/api/v1/orders", order.clone()).await;
    assert_eq!(first.status, StatusCode::CREATED, "{}", first.body);
    let second = app.post("/api/v1/orders", order).await;
    assert_eq!(second.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", second.body);
    let number = first.body["number"].as_str().unwrap();
    assert!(second.body.to_string().contains(number), "names the order that used it: {}", second.body);
}

#[tokio::test]
async fn bad_promotions_and_coupons_are_refused_with_the_field_and_the_reason() {
    let app = spawn_app().await;
    shop(&app).await;
    let cases = [
        (json!({"code": "BIG", "name": "x", "benefit": "percent_off", "percent": "150"}), "percent"),
        (
            json!({"code": "B", "name": "x", "scope": "order", "benefit": "buy_x_get_y", "buy_quantity": 2, "get_quantity": 1}),
            "scope",
        ),
        (json!({"code": "C", "name": "x", "benefit": "percent_off", "percent": "5", "skus": ["TAE"]}), "skus[0]"),
        (json!({"code": "D", "name": "x", "benefit": "amount_off", "amount": "5"}), "currency"),
        (json!({"code": "E", "name": "x", "benefit": "percent_off", "percent": "5", "usage_limit": 3}), "coupon_code"),
        (json!({"code": "F", "name": "x", "benefit": "free_lunch"}), "benefit"),
    ];
    for (body, field) in cases {
        let reply = app.post("/api/v1/promotions", body.clone()).await;
        assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY, "{body}: {}", reply.body);
        assert!(reply.error_fields().contains(&field.to_string()), "{body}: {}", reply.body);
    }
    assert!(app.get("/api/v1/promotions").await.body.as_array().unwrap().is_empty(), "nothing was stored");

    created(
        &app,
        "/api/v1/promotions",
        json!({"code": "OLD", "name": "Last year", "benefit": "percent_off", "percent": "5", "coupon_code": "OLD",
            "starts_at": "2025-01-01T00:00:00Z", "ends_at": "2025-02-01T00:00:00Z"}),
    )
    .await;
    let customer = app.customer("C1", "retail").await;
    for (coupon, why) in [("OLD", "has expired"), ("NOPE", "no promotion has the coupon code NOPE")] {
        let reply = app
            .post(
                "/api/v1/orders",
                json!({"customer_id": customer, "coupon_code": coupon, "lines": [{"sku": "TEA", "quantity": 1}]}),
            )
            .await;
        assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", reply.body);
        assert_eq!(reply.error_fields(), ["coupon_code"]);
        assert!(reply.body.to_string().contains(why), "{}", reply.body);
    }
    assert_eq!(app.order_count().await, 0);
}

#[tokio::test]
async fn a_manager_sets_up_a_deal_in_the_console_and_the_order_page_explains_each_line() {
    let app = spawn_app().await;
    shop(&app).await;
    let mut console = app.console_as("admin").await;
    let (status, page) = console
        .post(
            "/promotions",
            &[("code", "B4G1"), ("name", "买四送一"), ("scope", "order"), ("benefit", "buy_x_get_y"), ("value", "4+1")],
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.contains("use scope line"), "what was wrong is shown: {page}");
    let (status, page) = console
        .post(
            "/promotions",
            &[
                ("code", "B4G1"),
                ("name", "买四送一"),
                ("scope", "line"),
                ("benefit", "buy_x_get_y"),
                ("value", "4+1"),
                ("skus", "TEA"),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER, "{page}");
    let (_, page) = console.get("/promotions").await;
    assert!(page.contains("<code>B4G1</code>") && page.contains("买四送一"), "listed");

    let customer = app.customer("R1", "retail").await;
    let order =
        created(&app, "/api/v1/orders", json!({"customer_id": customer, "lines": [{"sku": "TEA", "quantity": 5}]}))
            .await;
    assert_eq!(order["lines"][0]["line_total"], "80.00", "five tins for the price of four");
    let (_, page) = console.get(&format!("/orders/{}", order["id"])).await;
    assert!(page.contains("B4G1 (买四送一)") && page.contains("¥20.00"), "the line says why: {page}");

    let id = app.get("/api/v1/promotions").await.body[0]["id"].as_i64().unwrap();
    console.post(&format!("/promotions/{id}/active"), &[("active", "false")]).await;
    let later =
        created(&app, "/api/v1/orders", json!({"customer_id": customer, "lines": [{"sku": "TEA", "quantity": 5}]}))
            .await;
    assert_eq!(later["lines"][0]["line_total"], "100.00", "switched off, it no longer applies");
    let (status, _) = app
        .console_as("sales")
        .await
        .post(
            "/promotions",
            &[("code", "X"), ("name", "x"), ("scope", "line"), ("benefit", "percent_off"), ("value", "5")],
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn the_demo_loads_with_its_deals_and_prices_its_orders_with_them() {
    let app = spawn_app().await;
    ordo::demo::load(&app.db).await.expect("the demo loads");
    let promotions = app.get("/api/v1/promotions").await.body;
    let mut codes: Vec<&str> = promotions.as_array().unwrap().iter().map(|p| p["code"].as_str().unwrap()).collect();
    codes.sort_unstable();
    assert_eq!(codes, ["LONGJING-B4G1", "MAN2000", "WELCOME"]);
    let used: i64 = promotions.as_array().unwrap().iter().map(|p| p["times_used"].as_i64().unwrap()).sum();
    assert!(used > 0, "demo orders took the automatic deals: {promotions}");
    // Finance has something to look at: a paid bill and a held one, freight, paid orders.
    let bills = app.get("/api/v1/supplier-bills").await.body;
    let statuses: Vec<&str> =
        bills["items"].as_array().unwrap().iter().map(|b| b["status"].as_str().unwrap()).collect();
    assert_eq!(statuses, ["on_hold", "paid"]);
    let freight = app.get("/api/v1/costs?limit=1").await.body["items"][0].clone();
    let margin = app.get(&format!("/api/v1/orders/{}/margin", freight["allocations"][0]["order_id"])).await.body;
    assert_eq!(margin["costs"][0]["amount"], freight["amount"], "{margin}");
    let paid = app.get("/api/v1/orders?payment_status=paid&limit=5").await.body;
    assert_eq!(paid["items"].as_array().map(Vec::len), Some(5), "demo orders were paid");
    // The importer in Los Angeles buys in dollars; paying at a newer rate booked a gain.
    let dollars = app.get("/api/v1/orders?q=Importers").await.body;
    let currencies: Vec<&str> =
        dollars["items"].as_array().unwrap().iter().map(|o| o["currency"].as_str().unwrap()).collect();
    assert_eq!(currencies, ["USD", "USD"], "{dollars}");
    let books = app
        .get(&format!(
            "/api/v1/reports/books?from={}",
            ordo_domain::time::Date::of(ordo_domain::Timestamp::now()).plus_days(-90)
        ))
        .await
        .body;
    assert!(books["exchange_result"].as_str().unwrap().parse::<f64>().unwrap() > 0.0, "{books}");
    app.assert_ledger_balances().await;
}

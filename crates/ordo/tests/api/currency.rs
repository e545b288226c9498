//! Selling in the customer's currency: exchange rates by date, prices converted from the
//! catalog, the books valued in the base currency, and the exchange difference realised
//! when a foreign invoice is paid at a new rate.

use crate::helpers::{TestApp, account, spawn_app};
use reqwest::StatusCode;
use serde_json::{Value, json};

/// A tea sold at ¥71.00 (13 % tax) and a customer in Los Angeles who buys in dollars.
async fn dollar_customer(app: &TestApp) -> i64 {
    app.warehouse("SH").await;
    app.product("TEA", "71.00").await;
    app.stock("SH", "TEA", 10).await;
    let customer = app
        .post(
            "/api/v1/customers",
            json!({"code": "LA-1", "name": "Pacific Tea House", "group": "retail", "currency": "USD",
                   "shipping_address": {"line1": "1 Main St", "city": "Los Angeles", "region": "CA", "postal_code": "90012", "country": "US"}}),
        )
        .await;
    assert_eq!(customer.status, StatusCode::CREATED, "{}", customer.body);
    customer.body["id"].as_i64().expect("customer id")
}

async fn enter_rate(app: &TestApp, currency: &str, rate: &str) -> Value {
    let reply = app.put("/api/v1/exchange-rates", json!({"rates": [{"currency": currency, "rate": rate}]})).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    reply.body
}

#[tokio::test]
async fn a_dollar_order_is_priced_from_the_yuan_catalog_and_paid_at_a_new_rate_with_the_gain_booked() {
    let app = spawn_app().await;
    let customer = dollar_customer(&app).await;
    let lines = json!([{"sku": "TEA", "quantity": 1}]);

    // Without a rate there is no dollar price, and the refusal says what to do.
    let refused = app.post("/api/v1/orders", json!({"customer_id": customer, "lines": lines})).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", refused.body);
    assert_eq!(refused.error_fields(), ["lines[0].unit_price"]);
    assert!(refused.body.to_string().contains("exchange rates for USD and CNY"), "{}", refused.body);

    // Finance enters today's dollar: the order is priced in dollars from the yuan price.
    let rates = enter_rate(&app, "USD", "7.10").await;
    assert_eq!(rates["base_currency"], "CNY");
    assert_eq!(rates["rates"][0]["rate"], "7.1");
    let placed = app.post("/api/v1/orders", json!({"customer_id": customer, "lines": lines})).await;
    assert_eq!(placed.status, StatusCode::CREATED, "{}", placed.body);
    let order = &placed.body;
    assert_eq!((order["currency"].as_str(), order["total"].as_str()), (Some("USD"), Some("11.30")));
    assert_eq!(order["lines"][0]["unit_price"], "10.00");
    let converted = &order["lines"][0]["pricing"]["converted"];
    assert_eq!((converted["from"].as_str(), converted["price"].as_str()), (Some("CNY"), Some("71.00")), "{order}");
    let order_id = order["id"].as_i64().unwrap();

    // Invoiced at 7.10: the receivable is worth ¥80.23.
    let invoice = app.post(&format!("/api/v1/orders/{order_id}/invoices"), json!({})).await;
    assert_eq!(invoice.status, StatusCode::CREATED, "{}", invoice.body);
    let books = app.get("/api/v1/ledger/trial-balance?valuation=base").await.body;
    assert_eq!(
        (account(&books, "1100"), account(&books, "4000"), account(&books, "2200")),
        ("80.23".into(), "71.00".into(), "9.23".into())
    );

    // The dollar rises to 7.20 before the customer pays the 11.30 in full.
    enter_rate(&app, "USD", "7.20").await;
    let paid = app
        .post(
            &format!("/api/v1/orders/{order_id}/payments"),
            json!({"method": "bank_transfer", "amount": "11.30", "reference": "WIRE-1"}),
        )
        .await;
    assert_eq!(paid.status, StatusCode::CREATED, "{}", paid.body);

    // In dollars the books are as booked; in yuan the bank holds ¥81.36, the receivable is
    // cleared to the fen, and the ¥1.13 difference is an exchange gain.
    let dollars = app.get("/api/v1/ledger/trial-balance?currency=USD").await.body;
    assert_eq!((account(&dollars, "1010"), account(&dollars, "1100")), ("11.30".into(), "0.00".into()));
    assert!(dollars["accounts"].as_array().unwrap().iter().all(|a| a["code"] != "7900"), "no dollar moved on 7900");
    let books = app.get("/api/v1/ledger/trial-balance?valuation=base").await.body;
    assert_eq!(books["currency"], "CNY");
    assert_eq!(
        (account(&books, "1010"), account(&books, "1100"), account(&books, "7900")),
        ("81.36".into(), "0.00".into(), "1.13".into())
    );
    assert_eq!(books["total_debit"], books["total_credit"], "{books}");
    app.assert_ledger_balances().await;

    // Sales in yuan: the dollar order at the rate in force today.
    let sales = app.get("/api/v1/reports/sales?currency=base&group_by=customer").await.body;
    assert_eq!(
        (sales["currency"].as_str(), sales["totals"]["revenue"].as_str()),
        (Some("CNY"), Some("81.36")),
        "{sales}"
    );
    assert_eq!(sales["totals"]["tax"], "9.36");

    // The books report says the same, with what the dollar moved and the rate at the end.
    let report = app.get("/api/v1/reports/books").await.body;
    assert_eq!(report["exchange_result"], "1.13", "{report}");
    let usd = report["currencies"].as_array().unwrap().iter().find(|c| c["currency"] == "USD").cloned().unwrap();
    assert_eq!(
        (usd["amount"].as_str(), usd["base_amount"].as_str(), usd["rate"].as_str()),
        (Some("22.60"), Some("161.59"), Some("7.2"))
    );
    let mut finance = app.console_as("finance").await;
    let (status, csv) = finance.get("/reports/books?format=csv").await;
    assert_eq!(status, StatusCode::OK);
    assert!(csv.contains("7900") && csv.contains("Exchange gains and losses"), "{csv}");
    let (_, page) = finance.get("/reports/books").await;
    assert!(page.contains("¥1.13"), "the gain as a figure on the page");
    let (_, page) = finance.get(&format!("/orders/{order_id}")).await;
    assert!(page.contains("converted from ¥71.00 × 0.14084507"), "the line says where its price came from");

    // $1.13 refunded at the same 7.20 (¥8.14): a credit note, no exchange difference, and the
    // books still balance in yuan.
    let refund = app
        .post(
            &format!("/api/v1/payments/{}/refund", paid.body["id"]),
            json!({"amount": "1.13", "reason": "dented tin"}),
        )
        .await;
    assert_eq!(refund.status, StatusCode::CREATED, "{}", refund.body);
    let books = app.get("/api/v1/ledger/trial-balance?valuation=base").await.body;
    assert_eq!((account(&books, "1010"), account(&books, "7900")), ("73.22".into(), "1.13".into()), "{books}");
    app.assert_ledger_balances().await;
}

#[tokio::test]
async fn a_part_payment_at_a_lower_rate_books_a_loss_and_the_rest_clears_the_receivable() {
    let app = spawn_app().await;
    let customer = dollar_customer(&app).await;
    enter_rate(&app, "USD", "7.00").await;
    let placed =
        app.post("/api/v1/orders", json!({"customer_id": customer, "lines": [{"sku": "TEA", "quantity": 3}]})).await;
    let order_id = placed.body["id"].as_i64().unwrap();
    // 3 × round(71 / 7) = 3 × 10.14 = 30.42, tax 3.95: 34.37 dollars, ¥240.59.
    assert_eq!(placed.body["total"], "34.37", "{}", placed.body);
    let invoice = app.post(&format!("/api/v1/orders/{order_id}/invoices"), json!({})).await;
    assert_eq!(invoice.status, StatusCode::CREATED, "{}", invoice.body);

    enter_rate(&app, "USD", "6.90").await;
    for amount in ["20.00", "14.37"] {
        let paid = app
            .post(&format!("/api/v1/orders/{order_id}/payments"), json!({"method": "bank_transfer", "amount": amount}))
            .await;
        assert_eq!(paid.status, StatusCode::CREATED, "{}", paid.body);
    }
    // Paid ¥237.15 for a receivable booked at ¥240.59: a ¥3.44 loss, nothing left open.
    let books = app.get("/api/v1/ledger/trial-balance?valuation=base").await.body;
    assert_eq!(
        (account(&books, "1010"), account(&books, "1100"), account(&books, "7900")),
        ("237.15".into(), "0.00".into(), "-3.44".into())
    );
    app.assert_ledger_balances().await;
}

#[tokio::test]
async fn bad_rates_are_refused_by_field_and_the_base_currency_stays_while_other_currencies_are_booked() {
    let app = spawn_app().await;
    enter_rate(&app, "USD", "7.10").await;
    for (rates, field) in [
        (json!([{"currency": "CNY", "rate": "1"}]), "rates[0].currency"),
        (json!([{"currency": "USD", "rate": "-7"}]), "rates[0].rate"),
        (json!([{"currency": "USD", "rate": "7.123456789"}]), "rates[0].rate"),
        (json!([{"currency": "XXY", "rate": "1"}]), "rates[0].currency"),
        (json!([{"currency": "USD", "rate": "7.2", "date": "2026-13-01"}]), "rates[0].date"),
        (json!([{"currency": "HKD", "rate": "0.91"}, {"currency": "EUR"}]), "rates[1].rate"),
        (json!([]), "rates"),
    ] {
        let reply = app.put("/api/v1/exchange-rates", json!({"rates": rates})).await;
        assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY, "{rates}: {}", reply.body);
        assert_eq!(reply.error_fields(), [field], "{rates}");
    }
    let all = app.get("/api/v1/exchange-rates").await.body;
    assert_eq!(all["rates"].as_array().map(Vec::len), Some(1), "nothing changed: {all}");

    // A rate from an earlier day holds until the next; the list filters by currency.
    let dated = app
        .put(
            "/api/v1/exchange-rates",
            json!({"rates": [{"currency": "HKD", "date": "2026-01-02", "rate": "0.9120"}, {"currency": "USD", "date": "2026-01-02", "rate": "7.30"}]}),
        )
        .await;
    assert_eq!(dated.status, StatusCode::OK, "{}", dated.body);
    let hkd = app.get("/api/v1/exchange-rates?currency=HKD").await.body;
    assert_eq!((hkd["rates"].as_array().map(Vec::len), hkd["rates"][0]["rate"].as_str()), (Some(1), Some("0.912")));

    // The base currency can change while the books are empty or all in the new one, not after.
    let base = app.put("/api/v1/settings/base-currency", json!({"currency": "HKD"})).await;
    assert_eq!((base.status, base.body["base_currency"].as_str()), (StatusCode::OK, Some("HKD")));
    let back = app.put("/api/v1/settings/base-currency", json!({"currency": "CNY"})).await;
    assert_eq!(back.status, StatusCode::OK);
    app.warehouse("SH").await;
    app.product("TEA", "71.00").await;
    app.stock("SH", "TEA", 10).await;
    let yuan = app.customer("SH-1", "retail").await;
    let placed =
        app.post("/api/v1/orders", json!({"customer_id": yuan, "lines": [{"sku": "TEA", "quantity": 1}]})).await;
    let paid = app
        .post(&format!("/api/v1/orders/{}/payments", placed.body["id"]), json!({"method": "cash", "amount": "80.23"}))
        .await;
    assert_eq!(paid.status, StatusCode::CREATED, "{}", paid.body);
    let refused = app.put("/api/v1/settings/base-currency", json!({"currency": "USD"})).await;
    assert_eq!(refused.status, StatusCode::CONFLICT, "{}", refused.body);
    assert!(refused.body["detail"].as_str().unwrap().contains("CNY"), "{}", refused.body);
    let bad = app.put("/api/v1/settings/base-currency", json!({"currency": "yuan"})).await;
    assert_eq!(bad.error_fields(), ["currency"]);
    assert_eq!(app.get("/api/v1/exchange-rates").await.body["base_currency"], "CNY");

    // A euro order priced by hand: its sales cannot be added up in yuan without a euro rate.
    let euros = app
        .post(
            "/api/v1/orders",
            json!({"customer_id": yuan, "currency": "EUR", "lines": [{"sku": "TEA", "quantity": 1, "unit_price": "9.00"}]}),
        )
        .await;
    assert_eq!(euros.status, StatusCode::CREATED, "{}", euros.body);
    let no_rate = app.get("/api/v1/reports/sales?currency=base").await;
    assert_eq!(no_rate.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", no_rate.body);
    assert!(no_rate.body.to_string().contains("no exchange rate for EUR"), "{}", no_rate.body);
    enter_rate(&app, "EUR", "7.70").await;
    let sales = app.get("/api/v1/reports/sales?currency=base").await.body;
    // ¥80.23 and €10.17 (9.00 + 13 %) at 7.70 = ¥78.31.
    assert_eq!(sales["totals"]["revenue"], "158.54", "{sales}");
}

#[tokio::test]
async fn finance_types_the_days_rates_on_the_books_page() {
    let app = spawn_app().await;
    let mut finance = app.console_as("finance").await;
    let (status, _) = finance
        .post("/reports/books/rates", &[("rules", "date,currency,rate\n2026-11-02 USD 7.12\n2026-11-02\tHKD\t0.91")])
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let rates = app.get("/api/v1/exchange-rates").await.body;
    let entered: Vec<String> = rates["rates"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            format!(
                "{} {} {}",
                r["date"].as_str().unwrap(),
                r["currency"].as_str().unwrap(),
                r["rate"].as_str().unwrap()
            )
        })
        .collect();
    assert_eq!(entered, ["2026-11-02 HKD 0.91", "2026-11-02 USD 7.12"]);
    let (status, page) = finance.get("/reports/books").await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("2026-11-02 USD 7.12") && page.contains("id=\"save-exchange-rates\""), "the rates as lines");
    for bad in ["2026-11-02 USD seven", "USD -7"] {
        let (status, page) = finance.post("/reports/books/rates", &[("rules", bad)]).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{bad}");
        assert!(page.contains("rates[0].rate"), "the bad rate is named: {bad}");
    }
    // Sales staff read the books but cannot change the rates.
    let mut sales = app.console_as("sales").await;
    let (_, page) = sales.get("/reports/books").await;
    assert!(!page.contains("save-exchange-rates"));
}

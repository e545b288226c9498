//! Payments, refunds, invoices, the ledger, receivables and bank reconciliation.

use crate::helpers::{TestApp, account, spawn_app};
use ordo_app::payments::provider::Sandbox;
use ordo_domain::Timestamp;
use ordo_domain::time::Date;
use reqwest::StatusCode;
use serde_json::{Value, json};

/// One product at 100.00 + 13 % tax, plenty of stock, and a customer.
async fn shop(app: &TestApp, customer: &str, terms: &str) -> i64 {
    let fresh = app.get("/api/v1/warehouses").await.body.as_array().is_none_or(|w| w.is_empty());
    if fresh {
        // These stories place the same order again on purpose: no duplicate holds.
        let policy = app.put("/api/v1/settings/orders", json!({"duplicate_window_minutes": 0})).await;
        assert_eq!(policy.status, StatusCode::OK, "{}", policy.body);
        app.product("TEA-1", "100.00").await;
        app.warehouse("SH").await;
        app.stock("SH", "TEA-1", 1000).await;
    }
    let reply = app
        .post(
            "/api/v1/customers",
            json!({"code": customer, "name": format!("{customer} Trading"), "group": "wholesale", "currency": "CNY",
                   "payment_terms": terms,
                   "shipping_address": {"line1": "1 Nanjing Rd", "city": "Shanghai", "country": "CN"}}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    reply.body["id"].as_i64().unwrap()
}

async fn order(app: &TestApp, customer: i64, quantity: i64) -> Value {
    let reply = app
        .post("/api/v1/orders", json!({"customer_id": customer, "lines": [{"sku": "TEA-1", "quantity": quantity}]}))
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    reply.body
}

fn id(v: &Value) -> i64 {
    v["id"].as_i64().unwrap()
}

async fn pay(app: &TestApp, order_id: i64, method: &str, amount: &str) -> Value {
    let reply =
        app.post(&format!("/api/v1/orders/{order_id}/payments"), json!({"method": method, "amount": amount})).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    reply.body
}

async fn invoice(app: &TestApp, order_id: i64) -> Value {
    let reply = app.post(&format!("/api/v1/orders/{order_id}/invoices"), json!({})).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    reply.body
}

async fn signed(app: &TestApp, body: &Value, at: Timestamp, secret: &str) -> reqwest::RequestBuilder {
    let bytes = serde_json::to_vec(body).unwrap();
    let signature = Sandbox { secret: secret.into() }.sign(&bytes, at);
    app.client
        .post(app.url("/api/v1/payment-providers/sandbox/webhook"))
        .header("Ordo-Signature", signature)
        .header("Content-Type", "application/json")
        .body(bytes)
}

#[tokio::test]
async fn a_sandbox_payment_is_confirmed_by_a_signed_callback_and_forgeries_and_replays_change_nothing() {
    let app = spawn_app().await;
    let customer = shop(&app, "WEB", "prepaid").await;
    let placed = order(&app, customer, 1).await;
    assert_eq!(placed["payment_method"], "sandbox", "a prepaying customer defaults to the online method");

    let payment = pay(&app, id(&placed), "sandbox", "113.00").await;
    assert_eq!(payment["status"], "pending");
    let reference = payment["provider_ref"].as_str().unwrap().to_string();
    assert_eq!(payment["redirect_url"], format!("/sandbox/pay/{reference}"));
    let secret =
        app.get("/api/v1/payment-providers/sandbox").await.body["webhook_secret"].as_str().unwrap().to_string();
    let event = json!({"event_id": "evt_1", "provider_ref": reference, "outcome": "captured", "amount": "113.00"});

    let forged = app.send(signed(&app, &event, Timestamp::now(), "whsec_guess").await).await;
    assert_eq!(forged.status, StatusCode::UNAUTHORIZED, "{}", forged.body);
    let stale = app.send(signed(&app, &event, Timestamp::now().plus_seconds(-600), &secret).await).await;
    assert_eq!(stale.status, StatusCode::UNAUTHORIZED, "{}", stale.body);
    assert_eq!(app.get(&format!("/api/v1/orders/{}", id(&placed))).await.body["payment_status"], "unpaid");

    let now = Timestamp::now();
    let genuine = app.send(signed(&app, &event, now, &secret).await).await;
    assert_eq!(
        (genuine.status, genuine.body["result"].as_str()),
        (StatusCode::OK, Some("processed")),
        "{}",
        genuine.body
    );
    let replayed = app.send(signed(&app, &event, now, &secret).await).await;
    assert_eq!(replayed.body["result"], "duplicate");
    let again = json!({"event_id": "evt_2", "provider_ref": reference, "outcome": "captured", "amount": "113.00"});
    assert_eq!(app.send(signed(&app, &again, now, &secret).await).await.body["result"], "duplicate");

    let paid = app.get(&format!("/api/v1/orders/{}", id(&placed))).await.body;
    assert_eq!((paid["payment_status"].as_str(), paid["amounts"]["paid"].as_str()), (Some("paid"), Some("113.00")));
    assert_eq!(app.get(&format!("/api/v1/payments/{}", id(&payment))).await.body["status"], "captured");
    let trial = app.get("/api/v1/ledger/trial-balance").await.body;
    assert_eq!(account(&trial, "1020"), "113.00", "the provider owes us the money until it settles");
    assert_eq!(account(&trial, "1100"), "-113.00", "paid before invoicing: a customer advance");
    app.assert_ledger_balances().await;
}

#[tokio::test]
async fn a_declined_payment_holds_the_order_and_a_retry_on_the_pay_page_releases_it() {
    let app = spawn_app().await;
    let customer = shop(&app, "WEB", "prepaid").await;
    let placed = order(&app, customer, 2).await;
    let first = pay(&app, id(&placed), "sandbox", "226.00").await;
    let pay_page = app.url(first["redirect_url"].as_str().unwrap());
    let client = reqwest::Client::new();
    let page = client.get(&pay_page).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("226.00") && page.contains("<svg"), "the pay page shows the amount and a QR code");
    let form = crate::helpers::form_body(&[("outcome", "fail"), ("reason", "insufficient funds")]);
    let sent =
        client.post(&pay_page).header("Content-Type", "application/x-www-form-urlencoded").body(form).send().await;
    assert_eq!(sent.unwrap().status(), StatusCode::OK, "redirected back to the pay page");

    let held = app.get(&format!("/api/v1/orders/{}", id(&placed))).await.body;
    assert_eq!(held["status"], "on_hold");
    assert_eq!(held["hold_reasons"][0]["code"], "payment_failed");
    assert!(held["hold_reasons"][0]["message"].as_str().unwrap().contains("insufficient funds"));
    let failed = app.get(&format!("/api/v1/payments/{}", id(&first))).await.body;
    assert_eq!(
        (failed["status"].as_str(), failed["failure_reason"].as_str()),
        (Some("failed"), Some("insufficient funds"))
    );

    let retry = pay(&app, id(&placed), "sandbox", "226.00").await;
    let retry_page = app.url(retry["redirect_url"].as_str().unwrap());
    let form = crate::helpers::form_body(&[("outcome", "pay")]);
    client
        .post(&retry_page)
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body(form)
        .send()
        .await
        .unwrap();
    let released = app.get(&format!("/api/v1/orders/{}", id(&placed))).await.body;
    assert_eq!((released["status"].as_str(), released["payment_status"].as_str()), (Some("confirmed"), Some("paid")));
    let events = app.get("/api/v1/events?type=payment.failed").await.body;
    assert_eq!(events["items"].as_array().unwrap().len(), 1);
    app.assert_ledger_balances().await;
}

#[tokio::test]
async fn partial_payments_an_invoice_and_a_refund_with_its_credit_note() {
    let app = spawn_app().await;
    let customer = shop(&app, "ACME", "prepaid").await;
    let placed = order(&app, customer, 2).await;
    let order_id = id(&placed);
    assert_eq!(placed["total"], "226.00");

    let cash = pay(&app, order_id, "cash", "100.00").await;
    assert_eq!((cash["status"].as_str(), cash["amount"].as_str()), (Some("captured"), Some("100.00")));
    let part = app.get(&format!("/api/v1/orders/{order_id}")).await.body;
    assert_eq!(
        (part["payment_status"].as_str(), part["amounts"]["due"].as_str()),
        (Some("partially_paid"), Some("126.00"))
    );

    let inv = invoice(&app, order_id).await;
    let year = Date::of(Timestamp::now()).year;
    assert_eq!(inv["number"], format!("INV-{year}-000001"));
    assert_eq!(
        (inv["subtotal"].as_str(), inv["tax_total"].as_str(), inv["total"].as_str()),
        (Some("200.00"), Some("26.00"), Some("226.00"))
    );
    assert_eq!(inv["tax_lines"][0]["rate"], "0.13");
    assert_eq!(inv["open"], "126.00");
    let again = app.post(&format!("/api/v1/orders/{order_id}/invoices"), json!({})).await;
    assert_eq!(again.status, StatusCode::CONFLICT, "invoiced in full already");

    let bank = pay(&app, order_id, "bank_transfer", "126.00").await;
    assert_eq!(app.get(&format!("/api/v1/orders/{order_id}")).await.body["payment_status"], "paid");
    assert_eq!(app.get(&format!("/api/v1/invoices/{}", id(&inv))).await.body["open"], "0.00");

    let too_much =
        app.post(&format!("/api/v1/payments/{}/refund", id(&bank)), json!({"amount": "126.01", "reason": "x"})).await;
    assert_eq!(too_much.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(too_much.error_fields(), ["amount"]);
    let refund = app
        .post(
            &format!("/api/v1/payments/{}/refund", id(&bank)),
            json!({"amount": "56.50", "reason": "one tin damaged"}),
        )
        .await;
    assert_eq!(
        (refund.status, refund.body["status"].as_str()),
        (StatusCode::CREATED, Some("completed")),
        "{}",
        refund.body
    );
    let credit_note = app.get(&format!("/api/v1/invoices/{}", refund.body["credit_note_id"])).await.body;
    assert_eq!(credit_note["number"], format!("CN-{year}-000001"));
    assert_eq!((credit_note["subtotal"].as_str(), credit_note["tax_total"].as_str()), (Some("50.00"), Some("6.50")));
    assert_eq!(credit_note["corrects"], inv["number"]);
    let refunded = app.get(&format!("/api/v1/orders/{order_id}")).await.body;
    assert_eq!(refunded["payment_status"], "partially_refunded");
    assert_eq!(
        (refunded["amounts"]["paid"].as_str(), refunded["amounts"]["due"].as_str()),
        (Some("169.50"), Some("0.00"))
    );

    let trial = app.get("/api/v1/ledger/trial-balance").await.body;
    for (code, balance) in [
        ("1000", "100.00"),
        ("1010", "69.50"),
        ("1100", "0.00"),
        ("2200", "19.50"),
        ("4000", "200.00"),
        ("4100", "50.00"),
    ] {
        assert_eq!(account(&trial, code), balance, "account {code}: {trial}");
    }
    app.assert_ledger_balances().await;
}

#[tokio::test]
async fn an_overpayment_becomes_store_credit_that_pays_the_next_order() {
    let app = spawn_app().await;
    let customer = shop(&app, "ACME", "prepaid").await;
    let first = order(&app, customer, 1).await;
    let paid = pay(&app, id(&first), "bank_transfer", "150.00").await;
    assert_eq!(paid["applied"], "113.00");
    let methods = app.get(&format!("/api/v1/orders/{}/payment-methods", id(&first))).await.body;
    let store_credit = methods["methods"].as_array().unwrap().iter().find(|m| m["code"] == "store_credit").unwrap();
    assert_eq!(store_credit["available"], true, "{methods}");

    let second = order(&app, customer, 1).await;
    let too_much = app
        .post(&format!("/api/v1/orders/{}/payments", id(&second)), json!({"method": "store_credit", "amount": "40.00"}))
        .await;
    assert_eq!(too_much.status, StatusCode::UNPROCESSABLE_ENTITY, "only 37.00 of credit: {}", too_much.body);
    pay(&app, id(&second), "store_credit", "37.00").await;
    let statement = app.get(&format!("/api/v1/customers/{customer}/statement")).await.body;
    assert_eq!(statement["store_credit"], "0.00");
    assert_eq!(app.get(&format!("/api/v1/orders/{}", id(&second))).await.body["amounts"]["due"], "76.00");
    app.assert_ledger_balances().await;
}

#[tokio::test]
async fn a_large_refund_waits_for_finance() {
    let app = spawn_app().await;
    let customer = shop(&app, "ACME", "prepaid").await;
    let placed = order(&app, customer, 2).await;
    let payment = pay(&app, id(&placed), "cash", "226.00").await;
    let settings = app.put("/api/v1/settings/payments", json!({"refund_approval_above": "100.00"})).await;
    assert_eq!(settings.status, StatusCode::OK, "{}", settings.body);

    let service = app.token_for("service").await;
    let refund = app
        .post_as(
            &service,
            &format!("/api/v1/payments/{}/refund", id(&payment)),
            json!({"amount": "150.00", "reason": "goodwill"}),
        )
        .await;
    assert_eq!(refund.body["status"], "pending_approval", "{}", refund.body);
    assert_eq!(
        app.get(&format!("/api/v1/orders/{}", id(&placed))).await.body["payment_status"],
        "paid",
        "no money moved yet"
    );
    let path = format!("/api/v1/refunds/{}/approve", id(&refund.body));
    assert_eq!(app.post_as(&service, &path, json!({})).await.status, StatusCode::FORBIDDEN);
    let finance = app.token_for("finance").await;
    let approved = app.post_as(&finance, &path, json!({})).await;
    assert_eq!(approved.body["status"], "completed", "{}", approved.body);
    assert_eq!(app.get(&format!("/api/v1/orders/{}", id(&placed))).await.body["payment_status"], "partially_refunded");
    assert_eq!(app.post_as(&finance, &path, json!({})).await.status, StatusCode::CONFLICT, "decided once");
    app.assert_ledger_balances().await;
}

#[tokio::test]
async fn invoice_and_credit_note_numbers_have_no_gaps_when_issued_at_once() {
    let app = spawn_app().await;
    let customer = shop(&app, "ACME", "net30").await;
    let mut orders = Vec::new();
    for _ in 0..8 {
        orders.push(id(&order(&app, customer, 1).await));
    }
    let issue = orders.iter().map(|order_id| {
        let (client, url, token) =
            (app.client.clone(), app.url(&format!("/api/v1/orders/{order_id}/invoices")), app.token.clone());
        tokio::spawn(async move {
            client.post(url).bearer_auth(token).json(&json!({})).send().await.unwrap().json::<Value>().await.unwrap()
        })
    });
    let mut numbers: Vec<String> = Vec::new();
    for task in issue.collect::<Vec<_>>() {
        let issued = task.await.unwrap();
        numbers.push(issued["number"].as_str().unwrap_or_else(|| panic!("{issued}")).to_string());
    }
    numbers.sort();
    let year = Date::of(Timestamp::now()).year;
    assert_eq!(numbers, (1..=8).map(|n| format!("INV-{year}-{n:06}")).collect::<Vec<_>>());

    let mut payments = Vec::new();
    for order_id in &orders {
        payments.push(id(&pay(&app, *order_id, "bank_transfer", "113.00").await));
    }
    let refunds = payments.iter().map(|payment| {
        let (client, url, token) =
            (app.client.clone(), app.url(&format!("/api/v1/payments/{payment}/refund")), app.token.clone());
        tokio::spawn(async move {
            client
                .post(url)
                .bearer_auth(token)
                .json(&json!({"amount": "11.30", "reason": "late"}))
                .send()
                .await
                .unwrap()
                .json::<Value>()
                .await
                .unwrap()
        })
    });
    let mut credit_notes = Vec::new();
    for task in refunds.collect::<Vec<_>>() {
        let refund = task.await.unwrap();
        assert_eq!(refund["status"], "completed", "{refund}");
        credit_notes.push(
            app.get(&format!("/api/v1/invoices/{}", refund["credit_note_id"])).await.body["number"]
                .as_str()
                .unwrap()
                .to_string(),
        );
    }
    credit_notes.sort();
    assert_eq!(credit_notes, (1..=8).map(|n| format!("CN-{year}-{n:06}")).collect::<Vec<_>>());
    app.assert_ledger_balances().await;
}

#[tokio::test]
async fn receivables_age_by_due_date_and_a_statement_runs_the_balance() {
    let app = spawn_app().await;
    let on_terms = shop(&app, "NET", "net30").await;
    let prepaid = shop(&app, "PRE", "prepaid").await;
    let first = order(&app, on_terms, 1).await;
    assert_eq!(first["payment_method"], "credit", "net-terms customers default to their account");
    let settled = pay(&app, id(&first), "credit", "113.00").await;
    assert_eq!(settled["status"], "on_account");
    let after = app.get(&format!("/api/v1/orders/{}", id(&first))).await.body;
    assert_eq!((after["payment_status"].as_str(), after["amounts"]["due"].as_str()), (Some("paid"), Some("113.00")));
    let rejected = app
        .post(
            &format!("/api/v1/orders/{}/payments", id(&order(&app, prepaid, 1).await)),
            json!({"method": "credit", "amount": "1.00"}),
        )
        .await;
    assert_eq!(rejected.error_fields(), ["method"], "a prepaying customer has no account");

    invoice(&app, id(&first)).await;
    pay(&app, id(&first), "bank_transfer", "13.00").await;
    let second = order(&app, prepaid, 2).await;
    invoice(&app, id(&second)).await;

    let today = Date::of(Timestamp::now());
    let now_aging = app.get(&format!("/api/v1/reports/ar-aging?as_of={today}")).await.body;
    assert_eq!(
        (now_aging["totals"]["current"].as_str(), now_aging["totals"]["total"].as_str()),
        (Some("326.00"), Some("326.00"))
    );
    let later = app.get(&format!("/api/v1/reports/ar-aging?as_of={}", today.plus_days(40))).await.body;
    assert_eq!(later["totals"]["1_30"], "100.00", "net30: ten days late: {later}");
    assert_eq!(later["totals"]["31_60"], "226.00", "prepaid, due at once: forty days late");
    assert_eq!(later["customers"][0]["customer_code"], "PRE", "largest debt first");

    let statement = app.get(&format!("/api/v1/customers/{on_terms}/statement?from={today}&to={today}")).await.body;
    assert_eq!(statement["opening_balance"], "0.00");
    let lines: Vec<(String, String, String)> = statement["lines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            (
                l["kind"].as_str().unwrap().into(),
                l["debit"].as_str().unwrap().into(),
                l["balance"].as_str().unwrap().into(),
            )
        })
        .collect();
    assert_eq!(
        lines,
        [("invoice".into(), "113.00".into(), "113.00".into()), ("payment".into(), "0.00".into(), "100.00".into())]
    );
    assert_eq!(statement["closing_balance"], "100.00");
    app.assert_ledger_balances().await;
}

#[tokio::test]
async fn a_bank_statement_matches_what_is_unambiguous_and_leaves_the_rest_for_a_person() {
    let app = spawn_app().await;
    let x = shop(&app, "XCO", "net30").await;
    let y = shop(&app, "YCO", "net30").await;
    let inv_x = invoice(&app, id(&order(&app, x, 1).await)).await;
    let inv_y1 = invoice(&app, id(&order(&app, y, 2).await)).await;
    let inv_y2 = invoice(&app, id(&order(&app, y, 2).await)).await;
    let csv = format!(
        "Date;Amount;Memo;Payer\n\
         2026-11-20;113,00;\"payment {}\";Someone\n\
         2026-11-20;226.00;thanks;YCO Trading Ltd\n\
         2026-11-21;-20.00;bank fee;Bank\n\
         2026-11-21;7.00;gift;Unknown Person\n",
        inv_x["number"].as_str().unwrap()
    );
    let finance = app.token_for("finance").await;
    let imported = app
        .post_as(
            &finance,
            "/api/v1/bank-statements",
            json!({"name": "November", "csv": csv.replace("113,00", "113.00"),
                   "mapping": {"date": "Date", "amount": "Amount", "reference": "Memo", "counterparty": "Payer"}}),
        )
        .await;
    assert_eq!(imported.status, StatusCode::CREATED, "{}", imported.body);
    let statuses: Vec<&str> =
        imported.body["lines"].as_array().unwrap().iter().map(|l| l["status"].as_str().unwrap()).collect();
    assert_eq!(statuses, ["matched", "unmatched", "ignored", "unmatched"]);
    assert_eq!(imported.body["lines"][0]["invoice_number"], inv_x["number"]);
    assert_eq!(imported.body["lines"][1]["candidates"], json!([id(&inv_y1), id(&inv_y2)]), "two invoices of 226.00");
    assert_eq!(app.get(&format!("/api/v1/invoices/{}", id(&inv_x))).await.body["open"], "0.00");

    let statement_id = id(&imported.body);
    let matched = app
        .post_as(
            &finance,
            &format!("/api/v1/bank-statements/{statement_id}/match"),
            json!({"line_no": 2, "invoice_id": id(&inv_y2)}),
        )
        .await;
    assert_eq!(matched.body["lines"][1]["status"], "matched", "{}", matched.body);
    assert_eq!(app.get(&format!("/api/v1/invoices/{}", id(&inv_y2))).await.body["open"], "0.00");
    assert_eq!(app.get(&format!("/api/v1/invoices/{}", id(&inv_y1))).await.body["open"], "226.00");
    let twice = app
        .post_as(
            &finance,
            &format!("/api/v1/bank-statements/{statement_id}/match"),
            json!({"line_no": 2, "invoice_id": id(&inv_y1)}),
        )
        .await;
    assert_eq!(twice.status, StatusCode::CONFLICT);
    let bad = app.post_as(&finance, "/api/v1/bank-statements", json!({"csv": "Date,Amount\nyesterday,12"})).await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(bad.body["errors"][0]["field"].as_str().unwrap().starts_with("csv.line[2]"), "{}", bad.body);
    app.assert_ledger_balances().await;
}

#[tokio::test]
async fn method_rules_decide_what_an_order_may_use() {
    let app = spawn_app().await;
    let customer = shop(&app, "ACME", "prepaid").await;
    let settings = app
        .put(
            "/api/v1/settings/payments",
            json!({"methods": [
                {"code": "sandbox", "name": "Card", "kind": "online", "provider": "sandbox"},
                {"code": "cod", "name": "Cash on delivery", "kind": "cod", "max_amount": "200", "regions": ["CN"]},
                {"code": "bank_transfer", "name": "Bank", "kind": "bank_transfer", "channels": ["phone"]}
            ]}),
        )
        .await;
    assert_eq!(settings.status, StatusCode::OK, "{}", settings.body);
    let placed = order(&app, customer, 2).await;
    let methods = app.get(&format!("/api/v1/orders/{}/payment-methods", id(&placed))).await.body;
    let reason = |code: &str| {
        methods["methods"].as_array().unwrap().iter().find(|m| m["code"] == code).unwrap()["reason"].clone()
    };
    assert_eq!(reason("cod"), "only up to 200");
    assert_eq!(reason("bank_transfer"), "not offered on the api channel");
    assert_eq!(methods["default"], "sandbox");
    let refused = app
        .post(
            "/api/v1/orders",
            json!({"customer_id": customer, "payment_method": "cod", "lines": [{"sku": "TEA-1", "quantity": 2}]}),
        )
        .await;
    assert_eq!(refused.error_fields(), ["payment_method"], "{}", refused.body);
    let small = app
        .post(
            "/api/v1/orders",
            json!({"customer_id": customer, "payment_method": "cod", "lines": [{"sku": "TEA-1", "quantity": 1}]}),
        )
        .await;
    assert_eq!(small.body["payment_method"], "cod");
    let bad =
        app.put("/api/v1/settings/payments", json!({"methods": [{"code": "x", "name": "X", "kind": "online"}]})).await;
    assert_eq!(bad.error_fields(), ["methods[0].provider"]);
}

#[tokio::test]
async fn an_invoice_downloads_as_pdf_and_ubl() {
    let app = spawn_app().await;
    let customer = shop(&app, "ACME", "net30").await;
    let inv = invoice(&app, id(&order(&app, customer, 3).await)).await;
    let pdf = app
        .client
        .get(app.url(&format!("/api/v1/invoices/{}.pdf", id(&inv))))
        .bearer_auth(&app.token)
        .send()
        .await
        .unwrap();
    assert_eq!(pdf.headers()["content-type"], "application/pdf");
    let bytes = pdf.bytes().await.unwrap();
    assert!(bytes.starts_with(b"%PDF-1.7") && bytes.ends_with(b"%%EOF\n"));
    assert!(String::from_utf8_lossy(&bytes).contains("/STSong-Light"), "Chinese text through the Adobe CJK font");
    if let Ok(dir) = std::env::var("ORDO_TEST_ARTIFACTS") {
        let _ = std::fs::write(std::path::Path::new(&dir).join("invoice.pdf"), &bytes);
    }
    let xml = app
        .client
        .get(app.url(&format!("/api/v1/invoices/{}.xml", id(&inv))))
        .bearer_auth(&app.token)
        .send()
        .await
        .unwrap();
    let text = xml.text().await.unwrap();
    assert!(text.contains("<cbc:UBLVersionID>2.1</cbc:UBLVersionID>"));
    assert!(text.contains(&format!("<cbc:ID>{}</cbc:ID>", inv["number"].as_str().unwrap())));
    assert!(text.contains("<cbc:PayableAmount currencyID=\"CNY\">339.00</cbc:PayableAmount>"), "{text}");
    assert_eq!(app.get(&format!("/api/v1/invoices/{}.doc", id(&inv))).await.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn unpaid_orders_are_cancelled_by_their_payment_methods_time_limit() {
    let app = spawn_app().await;
    let customer = shop(&app, "WEB", "prepaid").await;
    let settings = app
        .put(
            "/api/v1/settings/payments",
            json!({"methods": [
                {"code": "sandbox", "name": "Card", "kind": "online", "provider": "sandbox", "auto_cancel_minutes": 30},
                {"code": "bank_transfer", "name": "Bank", "kind": "bank_transfer"}
            ]}),
        )
        .await;
    assert_eq!(settings.status, StatusCode::OK, "{}", settings.body);
    let by_card = id(&order(&app, customer, 3).await);
    let by_bank = app
        .post("/api/v1/orders", json!({"customer_id": customer, "payment_method": "bank_transfer", "lines": [{"sku": "TEA-1", "quantity": 2}]}))
        .await;
    let by_bank = id(&by_bank.body);
    assert_eq!(app.level("SH", "TEA-1").await["reserved"], 5);

    let later = Timestamp::now().plus_seconds(31 * 60);
    let due = app
        .db
        .write(move |tx| {
            let policy = ordo_app::settings::order_policy(tx)?;
            ordo_app::jobs::unpaid_due(tx, &policy, later)
        })
        .await
        .expect("due");
    assert_eq!(due, [by_card], "the card order's 30 minutes are up; bank transfers wait");
    let ctx = ordo_app::Ctx::at("scheduler", "cli", later);
    let cancelled = app.db.write(move |tx| ordo_app::jobs::cancel_if_unpaid(tx, &ctx, by_card)).await.expect("cancel");
    assert!(cancelled);
    assert_eq!(app.get(&format!("/api/v1/orders/{by_card}")).await.body["status"], "cancelled");
    assert_eq!(app.get(&format!("/api/v1/orders/{by_bank}")).await.body["status"], "confirmed");
    assert_eq!(app.level("SH", "TEA-1").await["reserved"], 2, "the card order's stock is released");
}

#[tokio::test]
async fn finance_records_a_payment_and_prints_the_invoice_from_the_console() {
    let app = spawn_app().await;
    let customer = shop(&app, "ACME", "net30").await;
    let order_id = id(&order(&app, customer, 1).await);
    let mut finance = app.console_as("finance").await;

    let (status, _) =
        finance.post(&format!("/orders/{order_id}/payments"), &[("method", "cash"), ("amount", "13.00")]).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let (status, _) = finance.post(&format!("/orders/{order_id}/invoices"), &[]).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let (_, page) = finance.get(&format!("/orders/{order_id}")).await;
    assert!(page.contains("id=\"amount-due\">¥100.00"), "due after 13.00 of 113.00");
    let number = format!("INV-{}-000001", Date::of(Timestamp::now()).year);
    assert!(page.contains(&number));
    let invoice_id =
        app.get(&format!("/api/v1/orders/{order_id}/invoices")).await.body["items"][0]["id"].as_i64().unwrap();
    let (status, print) = finance.get(&format!("/invoices/{invoice_id}/print")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(print.contains(&number) && print.contains("@media print") && print.contains("id=\"invoice-total\">113.00"));
    let (status, pdf) = finance.get(&format!("/invoices/{invoice_id}/pdf")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(pdf.starts_with("%PDF"));
    let (status, _) =
        finance.post(&format!("/orders/{order_id}/payments"), &[("method", "cash"), ("amount", "-1")]).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "a bad amount is refused and changes nothing");
    app.assert_ledger_balances().await;
}

#[tokio::test]
async fn a_bank_statement_imported_twice_books_nothing_twice() {
    let app = spawn_app().await;
    let finance = app.token_for("finance").await;
    let import = |csv: &'static str| {
        let finance = finance.clone();
        let app = &app;
        async move { app.post_as(&finance, "/api/v1/bank-statements", json!({"name": "Nov", "csv": csv})).await }
    };
    let first = import("date,amount,reference,counterparty\n2026-11-20,50.00,gift,Aunt May\n").await;
    assert_eq!(first.status, StatusCode::CREATED, "{}", first.body);

    // The next export overlaps: the 20th again, and a new line.
    let next = import(
        "date,amount,reference,counterparty\n2026-11-20,50.00,gift,Aunt May\n2026-11-21,80.00,another,Uncle Bob\n",
    )
    .await;
    assert_eq!(next.status, StatusCode::CREATED, "{}", next.body);
    let lines = next.body["lines"].as_array().unwrap();
    assert_eq!((lines[0]["status"].as_str(), lines[1]["status"].as_str()), (Some("duplicate"), Some("unmatched")));
    assert_eq!(lines[0]["note"], "already in \"Nov\" line 1");
    // The same file once more: nothing new at all.
    let again = import(
        "date,amount,reference,counterparty\n2026-11-20,50.00,gift,Aunt May\n2026-11-21,80.00,another,Uncle Bob\n",
    )
    .await;
    assert_eq!(again.status, StatusCode::CONFLICT, "{}", again.body);
    assert!(again.body["detail"].as_str().unwrap().contains("imported before"), "{}", again.body);
    let statements = app.get_as(&finance, "/api/v1/bank-statements").await;
    assert_eq!(statements.body["items"].as_array().map(Vec::len), Some(2), "{}", statements.body);
    app.assert_ledger_balances().await;
}

#[tokio::test]
async fn finance_imports_a_bank_statement_and_matches_the_rest_by_hand_in_the_console() {
    let app = spawn_app().await;
    let y = shop(&app, "YCO", "net30").await;
    let first = invoice(&app, id(&order(&app, y, 2).await)).await;
    let second = invoice(&app, id(&order(&app, y, 2).await)).await;
    let mut finance = app.console_as("finance").await;
    let (_, page) = finance.get("/receivables").await;
    assert!(page.contains("id=\"ar-total\">¥452.00"), "two invoices of 226.00 open");

    // One receipt of 226.00 from YCO: two invoices fit, so it waits for a person.
    let csv = "date,amount,reference,counterparty\n2026-11-20,226.00,thanks,YCO Trading Ltd\n";
    let (status, _) = finance.post("/receivables", &[("name", "ICBC Nov"), ("csv", csv)]).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let statement = app.get("/api/v1/bank-statements").await.body["items"][0].clone();
    let path = format!("/receivables/statements/{}", id(&statement));
    let (_, page) = finance.get(&path).await;
    assert!(page.contains("ICBC Nov") && page.contains("match-form"), "the line offers invoices to match");
    assert!(page.contains(&format!("★ {}", second["number"].as_str().unwrap())), "candidates are starred");

    let (status, _) = finance.post(&path, &[("line_no", "1"), ("invoice_id", &id(&second).to_string())]).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(app.get(&format!("/api/v1/invoices/{}", id(&second))).await.body["open"], "0.00");
    assert_eq!(app.get(&format!("/api/v1/invoices/{}", id(&first))).await.body["open"], "226.00");
    let (_, page) = finance.get("/receivables").await;
    assert!(page.contains("id=\"ar-total\">¥226.00"), "the aging follows");
    let mut sales = app.console_as("sales").await;
    let (_, page) = sales.get("/receivables").await;
    assert!(!page.contains("import-statement-button"), "only finance imports statements");
    app.assert_ledger_balances().await;
}

//! The console in a real headless Chromium, driven through chromedriver. Skipped, saying
//! so, where Chromium is not installed; `.ci/run` installs it so CI always runs these.

use crate::helpers::{TestApp, spawn_app};
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::json;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

struct Driver {
    process: Child,
    port: u16,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.process.kill();
        let _ = self.process.wait();
    }
}

fn installed(program: &str) -> bool {
    Command::new(program)
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// A browser session, or None where Chromium is missing — which fails the test when
/// ORDO_REQUIRE_BROWSER is set (CI sets it), so CI cannot skip these silently.
async fn browser() -> Option<(Driver, Client)> {
    let session = start_browser().await;
    if session.is_none() && std::env::var("ORDO_REQUIRE_BROWSER").is_ok_and(|v| v == "1") {
        panic!("ORDO_REQUIRE_BROWSER=1 but Chromium/chromedriver could not be started");
    }
    session
}

async fn start_browser() -> Option<(Driver, Client)> {
    let chrome = ["chromium", "chromium-browser", "google-chrome"].into_iter().find(|p| installed(p))?;
    if !installed("chromedriver") {
        return None;
    }
    let port = std::net::TcpListener::bind("127.0.0.1:0").ok()?.local_addr().ok()?.port();
    let process = Command::new("chromedriver")
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .ok()?;
    let driver = Driver { process, port };
    let binary = which(chrome)?;
    let mut caps = serde_json::Map::new();
    caps.insert(
        "goog:chromeOptions".into(),
        serde_json::json!({"binary": binary, "args": ["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
            "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run", "--lang=en-US",
            "--window-size=1280,900"]}),
    );
    for _ in 0..50 {
        let mut builder = ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new());
        builder.capabilities(caps.clone());
        if let Ok(client) = builder.connect(&format!("http://127.0.0.1:{}", driver.port)).await {
            return Some((driver, client));
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    None
}

fn which(program: &str) -> Option<String> {
    let output = Command::new("sh").arg("-c").arg(format!("command -v {program}")).output().ok()?;
    Some(String::from_utf8_lossy(&output.stdout).trim().to_string()).filter(|p| !p.is_empty())
}

async fn screenshot(client: &Client, name: &str) {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/screenshots");
    let _ = std::fs::create_dir_all(&dir);
    for (label, width) in [("desktop", 1280), ("phone", 375)] {
        let _ = client.set_window_size(width, 900).await;
        if let Ok(png) = client.screenshot().await {
            let _ = std::fs::write(dir.join(format!("{name}-{label}.png")), png);
        }
    }
    let _ = client.set_window_size(1280, 900).await;
}

async fn fill(client: &Client, css: &str, text: &str) {
    // A page still settling after a navigation can swap the element out from under us:
    // find it again and retry rather than fail on a stale reference.
    for attempt in 0..5 {
        let field = client.wait().for_element(Locator::Css(css)).await.unwrap_or_else(|e| panic!("{css}: {e}"));
        match field.clear().await {
            Ok(()) => match field.send_keys(text).await {
                Ok(()) => return,
                Err(e) if attempt < 4 => eprintln!("retrying {css}: {e}"),
                Err(e) => panic!("type into {css}: {e}"),
            },
            Err(e) if attempt < 4 => eprintln!("retrying {css}: {e}"),
            Err(e) => panic!("clear {css}: {e}"),
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn click(client: &Client, css: &str) {
    client.find(Locator::Css(css)).await.unwrap_or_else(|e| panic!("{css}: {e}")).click().await.expect("click");
}

/// Waits until the browser has navigated to a URL whose query contains `needle`.
async fn wait_for_query(client: &Client, needle: &str) {
    for _ in 0..100 {
        if client.current_url().await.is_ok_and(|u| u.query().is_some_and(|q| q.contains(needle))) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the browser never reached a URL with {needle:?}");
}

async fn page_text(client: &Client) -> String {
    client.find(Locator::Css("body")).await.expect("body").text().await.expect("text")
}

async fn sign_in(app: &TestApp, client: &Client, email: &str, password: &str) {
    client.goto(&format!("{}/login", app.base)).await.expect("goto");
    fill(client, "#email", email).await;
    fill(client, "#password", password).await;
    click(client, "button[type=submit]").await;
}

#[tokio::test]
async fn a_sales_person_works_an_order_from_sign_in_to_cancel_in_a_real_browser() {
    let Some((_driver, client)) = browser().await else {
        eprintln!(
            "skipped: Chromium and chromedriver are not installed (apt-get install chromium chromium-driver fonts-noto-cjk)"
        );
        return;
    };
    let app = spawn_app().await;
    app.product("TEA-1", "12.50").await;
    app.product("CUP-1", "8").await;
    app.warehouse("SH").await;
    app.stock("SH", "TEA-1", 10).await;
    app.stock("SH", "CUP-1", 10).await;
    let one_time = ordo::create_user(&app.db, "li@example.com", "sales", Some("李娜"), "test").await.unwrap();

    // Sign in; the one-time password must be replaced first.
    sign_in(&app, &client, "li@example.com", &one_time).await;
    screenshot(&client, "password").await;
    fill(&client, "#password", "my own long password").await;
    fill(&client, "#confirm", "my own long password").await;
    click(&client, "main button[type=submit]").await;
    client.wait().for_element(Locator::Css(".stat")).await.expect("dashboard");
    screenshot(&client, "dashboard").await;

    // Create a customer.
    client.goto(&format!("{}/customers/new", app.base)).await.unwrap();
    fill(&client, "#f-code", "C-SH-9").await;
    fill(&client, "#f-name", "上海茶行").await;
    fill(&client, "#f-line1", "南京东路 1 号").await;
    fill(&client, "#f-city", "上海").await;
    click(&client, "#save-customer").await;
    client.wait().for_element(Locator::Css(".flash")).await.expect("customer saved");

    // Place an order with two lines; the preview shows the total before placing.
    client.goto(&format!("{}/orders/new", app.base)).await.unwrap();
    fill(&client, "#customer", "C-SH-9 — 上海茶行").await;
    let skus = client.find_all(Locator::Css("input[name=sku]")).await.unwrap();
    let quantities = client.find_all(Locator::Css("input[name=quantity]")).await.unwrap();
    skus[0].send_keys("TEA-1").await.unwrap();
    quantities[0].send_keys("2").await.unwrap();
    skus[1].send_keys("CUP-1").await.unwrap();
    quantities[1].send_keys("1").await.unwrap();
    client.find(Locator::Css("#notes")).await.unwrap().click().await.unwrap();
    client
        .wait()
        .at_most(Duration::from_secs(10))
        .for_element(Locator::XPath("//div[@id='preview']//strong[contains(., '¥37.29')]"))
        .await
        .expect("the live preview shows the total");
    screenshot(&client, "new-order").await;
    click(&client, "#place-order").await;
    client.wait().for_element(Locator::Id("order-total")).await.expect("order page");
    let total = client.find(Locator::Id("order-total")).await.unwrap().text().await.unwrap();
    assert_eq!(total, "¥37.29");
    let number = client.find(Locator::Css("h1")).await.unwrap().text().await.unwrap().replace("Order ", "");
    screenshot(&client, "order-detail").await;
    client.wait().for_element(Locator::Id("amount-due")).await.expect("the payments panel");
    let _ = client.execute("document.getElementById('payments').scrollIntoView()", vec![]).await;
    screenshot(&client, "order-payments").await;

    // Find it in the list by its number, open it, cancel it (accepting the confirmation).
    client.goto(&format!("{}/orders", app.base)).await.unwrap();
    fill(&client, "#q", &number).await;
    click(&client, "form[role=search] button[type=submit]").await;
    wait_for_query(&client, "q=").await;
    client.wait().for_element(Locator::LinkText(&number)).await.expect("found by search");
    screenshot(&client, "orders-list").await;
    client.find(Locator::LinkText(&number)).await.unwrap().click().await.unwrap();
    client.wait().for_element(Locator::Id("cancel-order")).await.expect("cancel button");
    fill(&client, "#reason", "客户改单").await;
    click(&client, "#cancel-order").await;
    client.accept_alert().await.expect("confirm dialog");
    client.wait().for_element(Locator::Css(".badge.cancelled")).await.expect("cancelled");
    let timeline = client.find(Locator::Id("timeline")).await.unwrap().text().await.unwrap();
    assert!(
        timeline.contains("Placed") && timeline.contains("Cancelled") && timeline.contains("客户改单"),
        "{timeline}"
    );
    assert_eq!(app.level("SH", "TEA-1").await["reserved"], 0);

    // The same pages in simplified Chinese.
    client.find(Locator::Css("#locale-pick option[value='zh-CN']")).await.unwrap().click().await.unwrap();
    client.wait().for_element(Locator::XPath("//html[@lang='zh-CN']")).await.expect("switched language");
    let text = page_text(&client).await;
    assert!(text.contains("订单动态") && text.contains("已取消"), "{text}");
    screenshot(&client, "order-detail-zh-CN").await;
    client.goto(&format!("{}/", app.base)).await.unwrap();
    screenshot(&client, "dashboard-zh-CN").await;
    client.close().await.unwrap();
}

#[tokio::test]
async fn a_wrong_password_is_refused_in_a_real_browser() {
    let Some((_driver, client)) = browser().await else {
        eprintln!("skipped: Chromium and chromedriver are not installed");
        return;
    };
    let app = spawn_app().await;
    ordo::create_user(&app.db, "wu@example.com", "viewer", None, "test").await.unwrap();

    sign_in(&app, &client, "wu@example.com", "not the password").await;

    let alert =
        client.wait().for_element(Locator::Css("[role=alert]")).await.expect("error shown").text().await.unwrap();
    assert!(alert.contains("Wrong e-mail or password"), "{alert}");
    assert!(client.current_url().await.unwrap().path().ends_with("/login"));
    screenshot(&client, "login-refused").await;

    // A form posted from this browser without the CSRF token is refused as well.
    let status = client
        .execute(
            "return fetch('/login', {method: 'POST', headers: {'content-type': 'application/x-www-form-urlencoded'}, \
             body: 'email=wu%40example.com&password=x'}).then(r => r.status)",
            vec![],
        )
        .await
        .expect("fetch");
    assert_eq!(status, serde_json::json!(403));
    client.close().await.unwrap();
}

#[tokio::test]
async fn an_operator_writes_a_rule_tries_it_approves_releases_and_edits_in_a_real_browser() {
    let Some((_driver, client)) = browser().await else {
        eprintln!("skipped: Chromium and chromedriver are not installed");
        return;
    };
    let app = spawn_app().await;
    app.product("W-1", "100").await;
    app.warehouse("SH").await;
    app.stock("SH", "W-1", 1000).await;
    let customer = app.customer("C-1", "retail").await;
    let one_time = ordo::create_user(&app.db, "ops@example.com", "admin", Some("Ops"), "test").await.unwrap();
    sign_in(&app, &client, "ops@example.com", &one_time).await;
    fill(&client, "#password", "operations all day long").await;
    fill(&client, "#confirm", "operations all day long").await;
    click(&client, "main button[type=submit]").await;
    client.wait().for_element(Locator::Css(".stat")).await.expect("dashboard");

    // Write a rule in the editor: large orders need an approver.
    client.goto(&format!("{}/rules", app.base)).await.unwrap();
    fill(&client, "#r-name", "Large orders").await;
    fill(&client, "#r-condition", "order.total > 1000").await;
    click(&client, "#k-1 option[value=require_approval]").await;
    click(&client, "#new-rule tbody tr:first-child select[name=role] option[value=approver]").await;
    screenshot(&client, "rule-editor").await;
    click(&client, "#save-rule").await;
    client.wait().for_element(Locator::Id("test-rule")).await.expect("rule page");

    let place = |quantity: i64| {
        app.post(
            "/api/v1/orders",
            serde_json::json!({"customer_id": customer, "lines": [{"sku": "W-1", "quantity": quantity}]}),
        )
    };
    let large = place(20).await.body;
    assert_eq!(large["status"], "pending_approval");
    let number = large["number"].as_str().unwrap().to_string();

    // Would the rule fire on that order, and why?
    fill(&client, "#t-order", &number).await;
    click(&client, "#run-test").await;
    let result = client.wait().for_element(Locator::Id("test-result")).await.expect("result").text().await.unwrap();
    assert!(result.contains("Would fire") && result.contains("order.total = 2260"), "{result}");

    // The approvals inbox counts it in the navigation and approves it.
    client.goto(&format!("{}/approvals", app.base)).await.unwrap();
    assert_eq!(client.find(Locator::Id("approvals-count")).await.unwrap().text().await.unwrap(), "1");
    screenshot(&client, "approvals-inbox").await;
    fill(&client, &format!("#approval-{number} input[name=comment]"), "good customer").await;
    click(&client, &format!("#approval-{number} button.approve")).await;
    client.wait().for_element(Locator::Id("approvals-empty")).await.expect("inbox emptied");
    assert_eq!(app.get(&format!("/api/v1/orders/{}", large["id"])).await.body["status"], "confirmed");

    // A suspected duplicate waits in the exception queue until released with a reason.
    let first = place(2).await.body;
    let again = place(2).await.body;
    assert_eq!(again["status"], "on_hold");
    let held = again["number"].as_str().unwrap().to_string();
    client.goto(&format!("{}/exceptions", app.base)).await.unwrap();
    let card = client.find(Locator::Id(&format!("held-{held}"))).await.unwrap().text().await.unwrap();
    assert!(card.contains("Suspected duplicate") && card.contains(first["number"].as_str().unwrap()), "{card}");
    screenshot(&client, "exception-queue").await;
    fill(&client, &format!("#held-{held} input[name=reason]"), "customer wants two deliveries").await;
    click(&client, &format!("#held-{held} button[type=submit]")).await;
    client.wait().for_element(Locator::Id("exceptions-empty")).await.expect("queue emptied");

    // Edit the first small order: 2 → 5 units; the timeline shows the change.
    client.goto(&format!("{}/orders/{}/edit", app.base, first["id"])).await.unwrap();
    fill(&client, "#edit-qty-1", "5").await;
    screenshot(&client, "order-edit").await;
    click(&client, "#save-edit").await;
    client.wait().for_element(Locator::Id("order-total")).await.expect("order page");
    assert_eq!(client.find(Locator::Id("order-total")).await.unwrap().text().await.unwrap(), "¥565.00");
    let timeline = client.find(Locator::Id("timeline")).await.unwrap().text().await.unwrap();
    assert!(timeline.contains("Edited") && timeline.contains("W-1 2 → 5"), "{timeline}");
    assert_eq!(app.level("SH", "W-1").await["reserved"], 20 + 5 + 2);
    client.close().await.unwrap();
}

#[tokio::test]
async fn the_stock_pages_count_report_and_suggest_in_a_real_browser() {
    let Some((_driver, client)) = browser().await else {
        eprintln!("skipped: Chromium and chromedriver are not installed");
        return;
    };
    let app = spawn_app().await;
    app.post(
        "/api/v1/products",
        serde_json::json!({"sku": "TEA-1", "name": "龙井 Longjing", "price": "88", "currency": "CNY", "tags": ["tea"]}),
    )
    .await;
    app.warehouse("SH").await;
    app.stock("SH", "TEA-1", 12).await;
    let supplier = app.post("/api/v1/suppliers", serde_json::json!({"code": "SUP", "name": "杭州茶厂"})).await.body;
    app.put(
        "/api/v1/replenishment/SH/TEA-1",
        serde_json::json!({"reorder_point": 20, "safety_stock": 5, "supplier_id": supplier["id"]}),
    )
    .await;
    let one_time =
        ordo::create_user(&app.db, "wh@example.com", "warehouse,finance", Some("仓库"), "test").await.unwrap();
    sign_in(&app, &client, "wh@example.com", &one_time).await;
    fill(&client, "#password", "counting all the tea").await;
    fill(&client, "#confirm", "counting all the tea").await;
    click(&client, "main button[type=submit]").await;
    client.wait().for_element(Locator::Css(".stat")).await.expect("dashboard");

    client.goto(&format!("{}/stock/counts", app.base)).await.unwrap();
    click(&client, "#start-count-button").await;
    client.wait().for_element(Locator::Id("count-lines")).await.expect("count sheet");
    fill(&client, "input[name='counted:TEA-1']", "10").await;
    click(&client, "#save-counts").await;
    client
        .wait()
        .for_element(Locator::XPath("//div[contains(@class, 'flash') and contains(., 'saved')]"))
        .await
        .expect("saved");
    let total = client.find(Locator::Id("variance-total")).await.unwrap().text().await.unwrap();
    assert_eq!(total, "-176.00");
    screenshot(&client, "stock-count").await;

    client.goto(&format!("{}/stock/report", app.base)).await.unwrap();
    client.wait().for_element(Locator::Id("report")).await.expect("report");
    screenshot(&client, "inventory-report").await;
    client.goto(&format!("{}/replenishment", app.base)).await.unwrap();
    let row = client.wait().for_element(Locator::Id("suggestions")).await.unwrap().text().await.unwrap();
    assert!(row.contains("TEA-1") && row.contains("Low"), "{row}");
    // Nothing sold yet: the suggestion brings the 12 available back up to the reorder point of 20.
    let suggested =
        client.find(Locator::Css("#suggestions tbody tr td:last-child")).await.unwrap().text().await.unwrap();
    assert_eq!(suggested, "8");
    screenshot(&client, "replenishment").await;
    // Never bought before: no cost to price the order at, and the page says so.
    click(&client, "#order-suggestions").await;
    // Wait for the answer page itself: the old page's <main> may still be there a moment.
    client
        .wait()
        .for_element(Locator::XPath("//main[contains(., 'no purchase cost known for TEA-1')]"))
        .await
        .expect("refused with the reason");
    // Bought once by hand, then the suggestion becomes a purchase order in one click.
    client.goto(&format!("{}/purchase-orders", app.base)).await.unwrap();
    fill(&client, "#p-lines", "TEA-1 1 42.50").await;
    click(&client, "#create-purchase-order").await;
    client.wait().for_element(Locator::Id("po-PO-000001")).await.expect("first purchase");
    client.goto(&format!("{}/replenishment", app.base)).await.unwrap();
    click(&client, "#order-suggestions").await;
    client.wait().for_element(Locator::Css(".flash")).await.expect("ordered");
    client.goto(&format!("{}/purchase-orders", app.base)).await.unwrap();
    let po = client.wait().for_element(Locator::Id("po-PO-000002")).await.unwrap().text().await.unwrap();
    assert!(po.contains("TEA-1: 0/8"), "{po}");
    screenshot(&client, "purchase-orders").await;
    // The first one arrives; its bill is entered from the order, the arrived tea prefilled.
    let received = app
        .post("/api/v1/purchase-orders/1/receive", serde_json::json!({"lines": [{"sku": "TEA-1", "quantity": 1}]}))
        .await;
    assert_eq!(received.status, reqwest::StatusCode::OK, "{}", received.body);
    client.goto(&format!("{}/purchase-orders", app.base)).await.unwrap();
    click(&client, "#po-PO-000001 details.enter-bill summary").await;
    fill(&client, "#bill-ref-1", "HZ-0077").await;
    fill(&client, "#bill-tax-1", "5.53").await;
    click(&client, "#po-PO-000001 .enter-bill-button").await;
    let bill = client.wait().for_element(Locator::Id("bill-1")).await.expect("the payables page").text().await.unwrap();
    assert!(bill.contains("HZ-0077") && bill.contains("¥48.03"), "{bill}");
    screenshot(&client, "payables").await;
    // Finance sees what an order earned, and books its freight from the order page.
    let customer = app.customer("SHOP", "retail").await;
    let order = app
        .post(
            "/api/v1/orders",
            serde_json::json!({"customer_id": customer, "lines": [{"sku": "TEA-1", "quantity": 2}]}),
        )
        .await;
    assert_eq!(order.status, reqwest::StatusCode::CREATED, "{}", order.body);
    client.goto(&format!("{}/orders/{}", app.base, order.body["id"])).await.unwrap();
    fill(&client, "#cost-form input[name=amount]", "12.00").await;
    click(&client, "#record-cost").await;
    client.wait().for_element(Locator::Css(".flash")).await.expect("recorded");
    let margin = client.wait().for_element(Locator::Id("order-margin")).await.unwrap().text().await.unwrap();
    // 2 × 88.00 − 2 × 42.50 − 12.00 freight.
    assert_eq!(margin, "¥79.00");
    let _ = client.execute("document.getElementById('margin').scrollIntoView()", vec![]).await;
    screenshot(&client, "order-margin").await;
    let _ = client.set_window_size(375, 900).await;
    let _ = client.execute("document.getElementById('margin').scrollIntoView()", vec![]).await;
    phone_screenshot(&client, "order-margin").await;
    let _ = client.set_window_size(1280, 900).await;
    // The day's settlement and the tax report, with the rules editor.
    client.goto(&format!("{}/reports/settlement", app.base)).await.unwrap();
    client.wait().for_element(Locator::Id("section-by_method")).await.expect("the settlement");
    screenshot(&client, "settlement").await;
    client.goto(&format!("{}/reports/tax", app.base)).await.unwrap();
    fill(&client, "#tax-rules textarea", "tea CN 0.13").await;
    click(&client, "#save-tax-rules").await;
    client.wait().for_element(Locator::Css(".flash")).await.expect("saved");
    screenshot(&client, "tax-report").await;
    // The books in yuan, and the day's dollar rate typed in.
    client.goto(&format!("{}/reports/books", app.base)).await.unwrap();
    fill(&client, "#exchange-rates textarea", "2026-11-20 USD 7.10").await;
    click(&client, "#save-exchange-rates").await;
    let saved = client.wait().for_element(Locator::Css(".flash")).await.expect("saved").text().await.unwrap();
    assert!(saved.contains('1'), "{saved}");
    screenshot(&client, "books").await;
    // A bank line no invoice matches waits on its statement page.
    client.goto(&format!("{}/receivables", app.base)).await.unwrap();
    fill(&client, "#st-csv", "date,amount,reference,counterparty\n2026-11-20,176.00,货款,上海某公司").await;
    click(&client, "#import-statement-button").await;
    client.wait().for_element(Locator::Id("bank-lines")).await.expect("the statement");
    screenshot(&client, "bank-statement").await;
    client.close().await.unwrap();
}

#[tokio::test]
async fn the_warehouse_picks_and_ships_an_order_in_a_real_browser() {
    let Some((_driver, client)) = browser().await else {
        eprintln!("skipped: Chromium and chromedriver are not installed");
        return;
    };
    let app = spawn_app().await;
    app.post("/api/v1/warehouses", serde_json::json!({"code": "SH", "name": "上海仓", "region": "Shanghai"})).await;
    app.post("/api/v1/products", serde_json::json!({"sku": "TEA-1", "name": "龙井 Longjing", "price": "88", "currency": "CNY", "weight_kg": "0.5"}))
        .await;
    app.stock("SH", "TEA-1", 20).await;
    app.put("/api/v1/stock/SH/TEA-1", serde_json::json!({"bin": "A-03-2"})).await;
    let carrier = app
        .post("/api/v1/carriers", serde_json::json!({"code": "SF", "name": "顺丰速运", "tracking_url_template": "https://sf.example/t?n={tracking}",
            "services": [{"code": "standard", "name": "标快", "transit_days": 2}]}))
        .await
        .body;
    app.put(
        &format!("/api/v1/carriers/{}/rates", carrier["id"]),
        serde_json::json!({"rates": [{"service": "standard", "region": "Beijing", "max_weight_kg": "5", "price": "12.00", "currency": "CNY"}]}),
    )
    .await;
    let customer = app
        .post("/api/v1/customers", serde_json::json!({"code": "BJ", "name": "北京茶庄", "group": "wholesale", "currency": "CNY", "payment_terms": "net30",
            "shipping_address": {"line1": "长安街 1 号", "city": "北京", "region": "Beijing", "country": "CN"}}))
        .await
        .body;
    let order = app
        .post(
            "/api/v1/orders",
            serde_json::json!({"customer_id": customer["id"], "lines": [{"sku": "TEA-1", "quantity": 4}]}),
        )
        .await
        .body;
    let one_time = ordo::create_user(&app.db, "wh@example.com", "warehouse", Some("仓库"), "test").await.unwrap();
    sign_in(&app, &client, "wh@example.com", &one_time).await;
    fill(&client, "#password", "picking all the tea").await;
    fill(&client, "#confirm", "picking all the tea").await;
    click(&client, "main button[type=submit]").await;
    client.wait().for_element(Locator::Css(".stat")).await.expect("dashboard");

    client.goto(&format!("{}/fulfillment", app.base)).await.unwrap();
    screenshot(&client, "fulfillment-queue").await;
    click(&client, "#create-pick-list").await;
    client.wait().for_element(Locator::Id("pick-lines")).await.expect("pick list");
    assert!(page_text(&client).await.contains("A-03-2"));
    screenshot(&client, "pick-list").await;
    click(&client, "#confirm-picks").await;
    // The page already shows the "created" flash: wait for the confirmation's own, or the
    // next navigation races the form's redirect.
    client
        .wait()
        .for_element(Locator::XPath("//*[contains(@class, 'flash') and contains(., 'confirmed')]"))
        .await
        .expect("confirmed");

    client.goto(&format!("{}/orders/{}", app.base, order["id"])).await.unwrap();
    if client.wait().for_element(Locator::Id("ship-form")).await.is_err() {
        let url = client.current_url().await.map(|u| u.to_string()).unwrap_or_default();
        panic!("no ship form on the order page ({url}, order {}): {}", order["id"], page_text(&client).await);
    }
    fill(&client, "#ship-tracking", "SF100200300").await;
    screenshot(&client, "order-shipping").await;
    click(&client, "#ship-button").await;
    client.wait().for_element(Locator::Id("tracking")).await.expect("shipment page");
    assert!(page_text(&client).await.contains("SF100200300"));
    screenshot(&client, "shipment").await;
    client.goto(&format!("{}/carriers/{}", app.base, carrier["id"])).await.unwrap();
    screenshot(&client, "carrier-rates").await;
    assert_eq!(app.get(&format!("/api/v1/orders/{}", order["id"])).await.body["status"], "shipped");
}

#[tokio::test]
async fn the_service_desk_takes_a_return_refunds_it_and_answers_a_complaint_in_a_real_browser() {
    let Some((_driver, client)) = browser().await else {
        eprintln!("skipped: Chromium and chromedriver are not installed");
        return;
    };
    use serde_json::json;
    let app = spawn_app().await;
    app.post("/api/v1/warehouses", json!({"code": "SH", "name": "上海仓", "region": "Shanghai"})).await;
    app.post("/api/v1/products", json!({"sku": "TEA-1", "name": "龙井 Longjing", "price": "100", "currency": "CNY", "tax_rate": "0.13", "category": "tea"}))
        .await;
    app.stock("SH", "TEA-1", 20).await;
    let carrier = app
        .post(
            "/api/v1/carriers",
            json!({"code": "SF", "name": "顺丰速运", "services": [{"code": "standard", "transit_days": 2}]}),
        )
        .await
        .body;
    let rates = json!({"rates": [{"service": "standard", "region": "Shanghai", "max_weight_kg": "30", "price": "12.00", "currency": "CNY"}]});
    app.put(&format!("/api/v1/carriers/{}/rates", carrier["id"]), rates).await;
    let customer = app
        .post(
            "/api/v1/customers",
            json!({"code": "SH-TEA", "name": "上海茶馆", "group": "retail", "currency": "CNY",
            "shipping_address": {"line1": "南京路 1 号", "city": "上海", "region": "Shanghai", "country": "CN"}}),
        )
        .await
        .body;
    let order = app
        .post("/api/v1/orders", json!({"customer_id": customer["id"], "lines": [{"sku": "TEA-1", "quantity": 2}]}))
        .await
        .body;
    let order_id = order["id"].as_i64().unwrap();
    app.post(&format!("/api/v1/orders/{order_id}/payments"), json!({"method": "cash", "amount": "226.00"})).await;
    let shipment = app
        .post(
            &format!("/api/v1/orders/{order_id}/shipments"),
            json!({"warehouse": "SH", "packages": [{"lines": [{"sku": "TEA-1", "quantity": 2}]}]}),
        )
        .await
        .body;
    app.post(&format!("/api/v1/shipments/{}/delivered", shipment["id"]), json!({})).await;
    let rated = app
        .post(&format!("/api/v1/orders/{order_id}/feedback"), json!({"rating": 2, "comment": "茶叶受潮了"}))
        .await
        .body;
    let ticket_id = rated["ticket_id"].as_i64().expect("a complaint ticket");

    let one_time = ordo::create_user(&app.db, "kefu@example.com", "service", Some("客服"), "test").await.unwrap();
    sign_in(&app, &client, "kefu@example.com", &one_time).await;
    fill(&client, "#password", "returns handled kindly").await;
    fill(&client, "#confirm", "returns handled kindly").await;
    click(&client, "main button[type=submit]").await;
    client.wait().for_element(Locator::Css(".stat")).await.expect("dashboard");

    // The customer calls: one box of tea back, they changed their mind.
    client.goto(&format!("{}/orders/{order_id}", app.base)).await.unwrap();
    client.wait().for_element(Locator::Id("return-form")).await.expect("return form");
    fill(&client, "#ret-quantity", "1").await;
    click(&client, "#request-return").await;
    let status = client.wait().for_element(Locator::Id("return-status")).await.expect("return page");
    assert_eq!(status.text().await.unwrap(), "Approved");
    let return_id: i64 = client.current_url().await.unwrap().path().rsplit('/').next().unwrap().parse().unwrap();
    assert!(page_text(&client).await.contains("RMA-"));

    // The warehouse receives it; service pays it back from the return's page.
    let warehouse = app.token_for("warehouse").await;
    let received = app
        .post_as(
            &warehouse,
            &format!("/api/v1/returns/{return_id}/receive"),
            json!({"lines": [{"sku": "TEA-1", "quantity": 1, "disposition": "restock"}]}),
        )
        .await;
    assert_eq!(received.status, reqwest::StatusCode::OK, "{}", received.body);
    client.goto(&format!("{}/returns/{return_id}", app.base)).await.unwrap();
    client.wait().for_element(Locator::Id("refund-return")).await.expect("refund button");
    screenshot(&client, "return").await;
    click(&client, "#refund-return").await;
    client.wait().for_element(Locator::Css(".flash")).await.expect("refunded");
    assert_eq!(client.find(Locator::Id("return-status")).await.unwrap().text().await.unwrap(), "Refunded");

    // The low rating's complaint is in the queue; answer it.
    client.goto(&format!("{}/service", app.base)).await.unwrap();
    client.wait().for_element(Locator::Id("tickets")).await.expect("service desk");
    assert!(page_text(&client).await.contains("Rated 2/5"));
    screenshot(&client, "service-desk").await;
    client.goto(&format!("{}/tickets/{ticket_id}", app.base)).await.unwrap();
    fill(&client, "#reply-body", "We are sending a fresh box today.").await;
    click(&client, "#send-reply").await;
    client.wait().for_element(Locator::Css(".flash")).await.expect("replied");
    assert!(page_text(&client).await.contains("We are sending a fresh box today."));
    screenshot(&client, "ticket").await;

    // Everything about the customer on one page, with a note for the next colleague.
    client.goto(&format!("{}/customers/{}/360", app.base, customer["id"])).await.unwrap();
    fill(&client, "#customer-notes input[name=body]", "Prefers a call after 14:00").await;
    click(&client, "#add-note").await;
    client.wait().for_element(Locator::Css(".flash")).await.expect("note saved");
    let text = page_text(&client).await;
    assert!(text.contains("Prefers a call after 14:00") && text.contains("RMA-"), "{text}");
    screenshot(&client, "customer-360").await;
    assert_eq!(app.get(&format!("/api/v1/returns/{return_id}")).await.body["refunded"], "113.00");
}

#[tokio::test]
async fn an_admin_subscribes_a_webhook_and_reads_notifications_in_a_real_browser() {
    let Some((_driver, client)) = browser().await else {
        eprintln!("skipped: Chromium and chromedriver are not installed");
        return;
    };
    use serde_json::json;
    let app = spawn_app().await;
    // A receiver for the webhook: any 2xx is a delivery.
    let receiver = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let hook_url = format!("http://{}/hook", receiver.local_addr().unwrap());
    let router = axum::Router::new().route("/hook", axum::routing::post(|| async { "ok" }));
    tokio::spawn(async move { axum::serve(receiver, router).await });
    let one_time = ordo::create_user(&app.db, "ops@example.com", "admin,finance", Some("Ops"), "test").await.unwrap();
    sign_in(&app, &client, "ops@example.com", &one_time).await;
    fill(&client, "#password", "a long new password").await;
    fill(&client, "#confirm", "a long new password").await;
    click(&client, "main button[type=submit]").await;
    client.wait().for_element(Locator::Css(".stat")).await.expect("dashboard");

    client.goto(&format!("{}/integrations", app.base)).await.unwrap();
    fill(&client, "#webhooks input[name=url]", &hook_url).await;
    fill(&client, "#webhooks input[name=events]", "order.*, payment.received").await;
    click(&client, "#webhooks button[type=submit]").await;
    client.wait().for_element(Locator::Id("new-secret")).await.expect("the secret, shown once");
    screenshot(&client, "integrations").await;
    client.goto(&format!("{}/channels", app.base)).await.unwrap();
    fill(&client, "#ch-code", "tmall").await;
    fill(&client, "#ch-name", "天猫旗舰店").await;
    click(&client, "form[action='/channels'] button[type=submit]").await;
    let tmall = client.wait().for_element(Locator::XPath("//a[code='tmall']")).await.expect("the registered channel");
    screenshot(&client, "channels").await;
    tmall.click().await.expect("to the channel's page");
    client.wait().for_element(Locator::Id("c-mapping")).await.expect("the channel's page");
    screenshot(&client, "channel").await;
    // The product form, with its packs field.
    client.goto(&format!("{}/products/new", app.base)).await.unwrap();
    client.wait().for_element(Locator::Id("f-packs")).await.expect("the product form");
    screenshot(&client, "product-form").await;
    client.goto(&format!("{}/promotions", app.base)).await.unwrap();
    fill(&client, "#pr-code", "MAN500").await;
    fill(&client, "#pr-name", "满500减30").await;
    fill(&client, "#pr-value", "30").await;
    fill(&client, "#pr-min", "500").await;
    client.find(Locator::Css("#pr-scope option[value=order]")).await.unwrap().click().await.unwrap();
    client.find(Locator::Css("#pr-benefit option[value=amount_off]")).await.unwrap().click().await.unwrap();
    click(&client, "form[action='/promotions'] button[type=submit]").await;
    client.wait().for_element(Locator::XPath("//code[.='MAN500']")).await.expect("the new promotion listed");
    screenshot(&client, "promotions").await;

    app.post("/api/v1/warehouses", json!({"code": "SH", "name": "上海仓"})).await;
    app.product("TEA-1", "100").await;
    app.stock("SH", "TEA-1", 5).await;
    let customer = app.customer("SH-TEA", "retail").await;
    app.patch(&format!("/api/v1/customers/{customer}"), json!({"language": "zh-CN"}), None).await;
    client.goto(&format!("{}/customers/{customer}", app.base)).await.unwrap();
    assert!(page_text(&client).await.contains("zh-CN"), "the customer's language is shown");
    screenshot(&client, "customer-detail").await;
    client.goto(&format!("{}/customers/new", app.base)).await.unwrap();
    client.wait().for_element(Locator::Css("input[name=language]")).await.expect("a language field");
    screenshot(&client, "customer-new").await;
    let order =
        app.post("/api/v1/orders", json!({"customer_id": customer, "lines": [{"sku": "TEA-1", "quantity": 1}]})).await;
    let total = order.body["total"].as_str().unwrap().to_string();
    app.post(&format!("/api/v1/orders/{}/payments", order.body["id"]), json!({"method": "cash", "amount": total}))
        .await;

    // The webhook's log fills; finance (this user) is told about the payment.
    let hook = app.get("/api/v1/webhooks").await.body[0]["id"].as_i64().unwrap();
    for _ in 0..100 {
        let log = app.get(&format!("/api/v1/webhooks/{hook}/deliveries")).await.body;
        if log["items"].as_array().is_some_and(|i| i.len() >= 3 && i.iter().all(|d| d["status"] == "delivered")) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    client.goto(&format!("{}/integrations/webhooks/{hook}", app.base)).await.unwrap();
    client.wait().for_element(Locator::Id("deliveries")).await.expect("delivery log");
    assert!(page_text(&client).await.contains("payment.received"));
    screenshot(&client, "webhook-deliveries").await;
    client.goto(&format!("{}/notifications", app.base)).await.unwrap();
    client.wait().for_element(Locator::Id("unread-count")).await.expect("an unread notification");
    assert!(page_text(&client).await.contains("Payment received for"));
    screenshot(&client, "notifications").await;
}

#[tokio::test]
async fn a_manager_reads_the_reports_with_charts_in_english_and_chinese_in_a_real_browser() {
    let Some((_driver, client)) = browser().await else {
        eprintln!("skipped: Chromium and chromedriver are not installed");
        return;
    };
    let app = spawn_app().await;
    let h = crate::reports::history(&app).await;
    // An exception of each kind, a salesperson for B, and a product that has run out.
    app.post(&format!("/api/v1/orders/{}/hold", h.o2), json!({"reason": "wait"})).await;
    app.post(&format!("/api/v1/shipments/{}/claims", h.shipment), json!({"kind": "damaged"})).await;
    ordo::create_user(&app.db, "li.wei@example.com", "sales", Some("Li Wei"), "test").await.unwrap();
    app.patch(&format!("/api/v1/customers/{}", h.b), json!({"salesperson": "li.wei@example.com"}), None).await;
    app.product("MUG", "100.00").await;
    app.stock("SH", "MUG", 5).await;
    let mugs = json!({"customer_id": h.a, "lines": [{"sku": "MUG", "quantity": 5}]});
    crate::reports::place_at(&app, "2026-11-10T10:00:00Z", mugs).await;
    let one_time = ordo::create_user(&app.db, "boss@example.com", "viewer", Some("Boss"), "test").await.unwrap();
    sign_in(&app, &client, "boss@example.com", &one_time).await;
    fill(&client, "#password", "a long new password").await;
    fill(&client, "#confirm", "a long new password").await;
    click(&client, "main button[type=submit]").await;
    client.wait().for_element(Locator::Css(".stat")).await.expect("dashboard");

    client.goto(&format!("{}/reports?from=2026-10-01&to=2026-11-30", app.base)).await.unwrap();
    client.find(Locator::Css("#r-group option[value='week']")).await.unwrap().click().await.unwrap();
    client.find(Locator::Css("#r-compare option[value='previous']")).await.unwrap().click().await.unwrap();
    click(&client, "#report-filters button[type=submit]").await;
    wait_for_query(&client, "group_by=week").await;
    client
        .wait()
        .for_element(Locator::Css("svg.chart.line polyline.dashed"))
        .await
        .expect("a line with its comparison");
    let text = page_text(&client).await;
    // 1,073.50 from the history and 565.00 of mugs.
    assert!(text.contains("2026-W41") && text.contains("1,638.50"), "weeks and the period's revenue: {text}");
    screenshot(&client, "reports-sales").await;

    client.goto(&format!("{}/reports?from=2026-10-01&to=2026-11-30&group_by=product", app.base)).await.unwrap();
    client.wait().for_element(Locator::Css("svg.chart.donut")).await.expect("share of revenue");
    screenshot(&client, "reports-products").await;
    client.goto(&format!("{}/reports/inventory?from=2026-10-01&to=2026-11-30", app.base)).await.unwrap();
    client.wait().for_element(Locator::Css("svg.chart.stacked")).await.expect("ABC stacked");
    screenshot(&client, "reports-abc").await;
    let _ = client.execute("document.getElementById('section-stock-outs').scrollIntoView()", vec![]).await;
    assert!(page_text(&client).await.contains("2026-11-10"), "the mug has been out since 10 November");
    screenshot(&client, "reports-stock-outs").await;
    client.goto(&format!("{}/reports?from=2026-10-01&to=2026-11-30&group_by=salesperson", app.base)).await.unwrap();
    assert!(page_text(&client).await.contains("Li Wei"), "sales by salesperson");
    screenshot(&client, "reports-salesperson").await;
    client.goto(&format!("{}/reports/operations?from=2026-10-01&to=2026-10-31", app.base)).await.unwrap();
    assert!(page_text(&client).await.contains("Parcel damaged"), "exceptions by reason");
    screenshot(&client, "reports-operations").await;

    client.find(Locator::Css("#locale-pick option[value='zh-CN']")).await.unwrap().click().await.unwrap();
    client.wait().for_element(Locator::XPath("//html[@lang='zh-CN']")).await.expect("switched language");
    client.goto(&format!("{}/reports/customers?as_of=2026-11-30", app.base)).await.unwrap();
    let text = page_text(&client).await;
    assert!(text.contains("客户分群") && text.contains("忠诚客户"), "{text}");
    screenshot(&client, "reports-customers-zh-CN").await;
    client
        .goto(&format!("{}/reports?from=2026-10-01&to=2026-11-30&group_by=month&compare=last_year", app.base))
        .await
        .unwrap();
    assert!(page_text(&client).await.contains("销售额"), "the sales page in Chinese");
    screenshot(&client, "reports-sales-zh-CN").await;
    client.goto(&format!("{}/reports/operations?from=2026-10-01&to=2026-10-31", app.base)).await.unwrap();
    assert!(page_text(&client).await.contains("人工暂停"), "exception reasons in Chinese");
    screenshot(&client, "reports-operations-zh-CN").await;
    client.goto(&format!("{}/reports/inventory?from=2026-11-01&to=2026-11-30", app.base)).await.unwrap();
    let _ = client.execute("document.getElementById('section-stock-outs').scrollIntoView()", vec![]).await;
    screenshot(&client, "reports-stock-outs-zh-CN").await;
    client.goto(&format!("{}/reports/finance?month=2026-10", app.base)).await.unwrap();
    screenshot(&client, "reports-finance-zh-CN").await;
    client.close().await.unwrap();
}

#[tokio::test]
async fn a_clerk_checks_an_order_file_in_the_console_in_a_real_browser() {
    let Some((_driver, client)) = browser().await else {
        eprintln!("skipped: Chromium and chromedriver are not installed");
        return;
    };
    let app = spawn_app().await;
    app.warehouse("SH").await;
    app.product("TEA", "100.00").await;
    app.stock("SH", "TEA", 5).await;
    app.customer("C-1", "retail").await;
    let file = std::env::temp_dir().join(format!("ordo-import-{}.csv", std::process::id()));
    std::fs::write(&file, "external_ref,customer_code,sku,quantity\nPO-1,C-1,TEA,2\nPO-2,C-9,TEAA,0\n").unwrap();
    let one_time = ordo::create_user(&app.db, "clerk@example.com", "sales", Some("Clerk"), "test").await.unwrap();
    sign_in(&app, &client, "clerk@example.com", &one_time).await;
    fill(&client, "#password", "a long new password").await;
    fill(&client, "#confirm", "a long new password").await;
    click(&client, "main button[type=submit]").await;
    client.wait().for_element(Locator::Css(".stat")).await.expect("dashboard");

    for (locale, shot) in [("en", "import-check"), ("zh-CN", "import-check-zh-CN")] {
        client.goto(&format!("{}/imports", app.base)).await.unwrap();
        if locale != "en" {
            client.find(Locator::Css("#locale-pick option[value='zh-CN']")).await.unwrap().click().await.unwrap();
            client.wait().for_element(Locator::XPath("//html[@lang='zh-CN']")).await.expect("switched language");
            client.goto(&format!("{}/imports", app.base)).await.unwrap();
        }
        let input = client.wait().for_element(Locator::Id("i-file")).await.expect("the file input");
        input.send_keys(&file.to_string_lossy()).await.unwrap();
        click(&client, "#import-button").await;
        client.wait().for_element(Locator::Id("import-errors")).await.expect("the problems, row by row");
        let text = page_text(&client).await;
        assert!(text.contains("C-9") && text.contains("TEAA"), "{text}");
        screenshot(&client, shot).await;
    }
    assert_eq!(app.order_count().await, 0, "only checked");
    let _ = std::fs::remove_file(&file);

    // The templates, placed from the console in one click (in the language chosen above).
    let kept = app
        .post(
            "/api/v1/order-templates",
            json!({"name": "每周茶叶 Weekly tea", "lines": [{"sku": "TEA", "quantity": 2}]}),
        )
        .await;
    assert_eq!(kept.status, reqwest::StatusCode::CREATED, "{}", kept.body);
    client.goto(&format!("{}/orders/templates", app.base)).await.unwrap();
    client.wait().for_element(Locator::Id("templates")).await.expect("the templates table");
    assert!(page_text(&client).await.contains("每周茶叶"));
    screenshot(&client, "order-templates-zh-CN").await;
    client.close().await.unwrap();
}

/// A phone-sized screenshot that leaves the window phone-sized.
async fn phone_screenshot(client: &Client, name: &str) {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/screenshots");
    let _ = std::fs::create_dir_all(&dir);
    if let Ok(png) = client.screenshot().await {
        let _ = std::fs::write(dir.join(format!("{name}-phone.png")), png);
    }
}

#[tokio::test]
async fn a_buyer_signs_in_to_the_portal_and_orders_on_a_phone_in_simplified_chinese() {
    let Some((_driver, client)) = browser().await else {
        eprintln!("skipped: Chromium and chromedriver are not installed");
        return;
    };
    let app = spawn_app().await;
    app.warehouse("SH").await;
    let tea = json!({"sku": "LJ-250", "name": "西湖龙井 250g", "price": "88.00", "currency": "CNY", "tax_rate": "0.13",
               "packs": [{"unit": "箱", "size": 12}]});
    assert_eq!(app.post("/api/v1/products", tea).await.status, reqwest::StatusCode::CREATED);
    app.stock("SH", "LJ-250", 40).await;
    let customer = app.customer("HUALIAN", "wholesale").await;
    let invited = app
        .post(
            &format!("/api/v1/customers/{customer}/portal-users"),
            json!({"email": "wang.fang@hualian.example", "name": "王芳", "locale": "zh-CN"}),
        )
        .await;
    let link = invited.body["link"].as_str().expect("an invitation link").to_string();
    client.set_window_size(375, 812).await.expect("a phone-sized window");

    // The invitation: a password, then the shop.
    client.goto(&link).await.expect("goto");
    assert!(page_text(&client).await.contains("设置密码"), "the invitation speaks the buyer's language");
    fill(&client, "#password", "王芳的长密码 2026").await;
    fill(&client, "#confirm", "王芳的长密码 2026").await;
    click(&client, "button[type=submit]").await;
    client.wait().for_element(Locator::Css("ul.products")).await.expect("the shop");
    click(&client, "form[action='/portal/logout'] button").await;

    // Signing in, in 简体中文.
    client.wait().for_element(Locator::Css("#email")).await.expect("the sign-in page");
    assert!(page_text(&client).await.contains("客户订货门户"));
    phone_screenshot(&client, "portal-sign-in").await;
    fill(&client, "#email", "wang.fang@hualian.example").await;
    fill(&client, "#password", "王芳的长密码 2026").await;
    click(&client, "button[type=submit]").await;
    client.wait().for_element(Locator::Css("ul.products")).await.expect("the shop");
    let shop = page_text(&client).await;
    assert!(shop.contains("西湖龙井 250g") && shop.contains("¥88.00") && shop.contains("有货"), "{shop}");

    // Two into the cart (htmx answers in place), then the cart and checkout.
    fill(&client, "input.qty", "2").await;
    click(&client, "form.add-to-cart button").await;
    client.wait().for_element(Locator::Css(".added")).await.expect("added to the cart");
    phone_screenshot(&client, "portal-shop").await;
    click(&client, "a.cart-link").await;
    client.wait().for_element(Locator::Css("form.checkout")).await.expect("the cart");
    let cart = page_text(&client).await;
    assert!(cart.contains("¥176.00") && cart.contains("¥198.88"), "2 × 88.00, with 13 % tax: {cart}");
    phone_screenshot(&client, "portal-cart").await;
    // Kept as an order list for next week, then back to the cart.
    fill(&client, "#list-name", "每周补货").await;
    click(&client, "#save-list button").await;
    // The cart's own lines are `li.card` too: wait for a saved list, which only that page has.
    client.wait().for_element(Locator::Css("ul.cart-lines li[id^='list-']")).await.expect("the order lists");
    assert!(page_text(&client).await.contains("每周补货"));
    screenshot(&client, "portal-lists").await;
    client.set_window_size(375, 812).await.expect("a phone-sized window");
    click(&client, "a.cart-link").await;
    client.wait().for_element(Locator::Css("form.checkout")).await.expect("the cart");
    click(&client, "form.checkout button.big").await;
    client.wait().for_element(Locator::Css(".flash")).await.expect("the placed order");
    let placed = page_text(&client).await;
    assert!(placed.contains("已提交") && placed.contains("立即付款"), "placed, and it can be paid online: {placed}");
    screenshot(&client, "portal-order").await;
    client.set_window_size(375, 812).await.expect("a phone-sized window");

    // The page is not wider than the phone: nothing to scroll sideways.
    let wide = client.execute("return document.documentElement.scrollWidth", vec![]).await.expect("width");
    assert!(wide.as_i64().unwrap_or(9999) <= 375, "the order page fits a 375 px screen: {wide}");
    let orders = app.get("/api/v1/orders?channel=portal").await;
    assert_eq!(orders.body["items"][0]["total"], "198.88");
    assert_eq!(orders.body["items"][0]["customer_id"], customer);
    client.goto(&format!("{}/portal/orders", app.base)).await.expect("goto");
    phone_screenshot(&client, "portal-orders").await;
}

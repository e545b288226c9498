use crate::helpers::spawn_app;
use reqwest::StatusCode;
use serde_json::json;

#[tokio::test]
async fn a_new_product_is_created_and_read_back_with_exact_amounts() {
    let app = spawn_app().await;

    let created = app
        .post("/api/v1/products", json!({"sku": "TEA-1", "name": "龙井 Longjing", "price": "12345678.9999", "currency": "cny", "tax_rate": "0.13", "weight_kg": "0.25"}))
        .await;

    assert_eq!(created.status, StatusCode::CREATED);
    assert_eq!(created.body["sku"], "TEA-1");
    assert_eq!(created.body["price"], "12345678.9999");
    assert_eq!(created.body["currency"], "CNY");
    assert_eq!(created.body["unit"], "pcs");
    assert_eq!(created.body["weight_kg"], "0.25");
    let id = created.body["id"].as_i64().unwrap();
    let read = app.get(&format!("/api/v1/products/{id}")).await;
    assert_eq!(read.status, StatusCode::OK);
    assert_eq!(read.body["name"], "龙井 Longjing");
    assert_eq!(read.headers["etag"], "\"1\"");
}

#[tokio::test]
async fn a_second_product_with_the_same_sku_is_a_conflict() {
    let app = spawn_app().await;
    app.product("DUP-1", "10").await;

    let again =
        app.post("/api/v1/products", json!({"sku": "DUP-1", "name": "Other", "price": "5", "currency": "CNY"})).await;

    assert_eq!(again.status, StatusCode::CONFLICT);
    assert_eq!(again.headers["content-type"], "application/problem+json");
    assert!(again.body["detail"].as_str().unwrap().contains("DUP-1"));
}

#[tokio::test]
async fn an_update_with_a_stale_etag_is_refused_and_changes_nothing() {
    let app = spawn_app().await;
    let id = app.product("ETAG-1", "10.00").await["id"].as_i64().unwrap();
    let path = format!("/api/v1/products/{id}");

    let first = app.patch(&path, json!({"price": "11.50"}), Some("\"1\"")).await;
    let stale = app.patch(&path, json!({"price": "99"}), Some("\"1\"")).await;

    assert_eq!(first.status, StatusCode::OK);
    assert_eq!(first.body["price"], "11.50");
    assert_eq!(first.headers["etag"], "\"2\"");
    assert_eq!(stale.status, StatusCode::PRECONDITION_FAILED);
    assert_eq!(stale.body["current_version"], 2);
    assert_eq!(app.get(&path).await.body["price"], "11.50");
}

#[tokio::test]
async fn products_are_searched_and_paged_with_a_cursor() {
    let app = spawn_app().await;
    for sku in ["SILK-1", "SILK-2", "SILK-3", "TEA-9"] {
        app.product(sku, "1").await;
    }

    let first = app.get("/api/v1/products?q=silk&limit=2").await;
    let cursor = first.body["next_cursor"].as_str().expect("a second page").to_string();
    let second = app.get(&format!("/api/v1/products?q=silk&limit=2&cursor={cursor}")).await;

    let skus = |body: &serde_json::Value| {
        body["items"].as_array().unwrap().iter().map(|p| p["sku"].as_str().unwrap().to_string()).collect::<Vec<_>>()
    };
    assert_eq!(skus(&first.body), ["SILK-3", "SILK-2"]);
    assert_eq!(skus(&second.body), ["SILK-1"]);
    assert!(second.body["next_cursor"].is_null());
}

#[tokio::test]
async fn a_wholesale_customer_is_priced_from_the_group_price_list() {
    let app = spawn_app().await;
    app.product("P-1", "100.00").await;
    app.warehouse("W1").await;
    app.stock("W1", "P-1", 10).await;
    let list = app
        .post("/api/v1/price-lists", json!({"code": "WHOLESALE", "name": "Wholesale", "currency": "CNY", "customer_group": "wholesale", "items": [{"sku": "P-1", "price": "80"}]}))
        .await;
    assert_eq!(list.status, StatusCode::CREATED, "{}", list.body);
    let wholesale = app.customer("W-001", "wholesale").await;
    let retail = app.customer("R-001", "retail").await;

    let wholesale_order =
        app.post("/api/v1/orders", json!({"customer_id": wholesale, "lines": [{"sku": "P-1", "quantity": 1}]})).await;
    let retail_order =
        app.post("/api/v1/orders", json!({"customer_id": retail, "lines": [{"sku": "P-1", "quantity": 1}]})).await;
    let updated = app.put("/api/v1/price-lists/WHOLESALE/items/P-1", json!({"price": "75.5"})).await;

    assert_eq!(wholesale_order.body["lines"][0]["unit_price"], "80.00");
    assert_eq!(retail_order.body["lines"][0]["unit_price"], "100.00");
    assert_eq!(updated.body["items"][0]["price"], "75.50");
}

#[tokio::test]
async fn a_tax_inclusive_price_list_charges_its_price_and_takes_the_tax_out() {
    let app = spawn_app().await;
    app.product("P-1", "100").await;
    app.warehouse("W1").await;
    app.stock("W1", "P-1", 50).await;
    let list = app
        .post(
            "/api/v1/price-lists",
            json!({"code": "VIP", "name": "VIP 含税价", "currency": "CNY", "customer_group": "vip", "tax_included": true,
                   "items": [{"sku": "P-1", "price": "11.30"}]}),
        )
        .await;
    assert_eq!((list.status, list.body["tax_included"].as_bool()), (StatusCode::CREATED, Some(true)), "{}", list.body);
    let vip = app.customer("V-001", "vip").await;
    let retail = app.customer("R-001", "retail").await;

    // 3 × 11.30 = 33.90 is what the VIP pays; 13 % of it is tax.
    let order = app.post("/api/v1/orders", json!({"customer_id": vip, "lines": [{"sku": "P-1", "quantity": 3}]})).await;
    assert_eq!(order.status, StatusCode::CREATED, "{}", order.body);
    let line = &order.body["lines"][0];
    assert_eq!((line["unit_price"].as_str(), line["tax_included"].as_bool()), (Some("11.30"), Some(true)));
    assert_eq!((line["line_total"].as_str(), line["tax"].as_str()), (Some("30.00"), Some("3.90")));
    assert_eq!(order.body["total"], "33.90");
    // A price typed in for the VIP is read the same way; the retail list adds tax on top.
    let typed = app
        .post(
            "/api/v1/orders",
            json!({"customer_id": vip, "lines": [{"sku": "P-1", "quantity": 1, "unit_price": "22.60"}]}),
        )
        .await;
    assert_eq!(
        (typed.body["subtotal"].as_str(), typed.body["total"].as_str()),
        (Some("20.00"), Some("22.60")),
        "{}",
        typed.body
    );
    let plain =
        app.post("/api/v1/orders", json!({"customer_id": retail, "lines": [{"sku": "P-1", "quantity": 1}]})).await;
    assert_eq!(
        (plain.body["lines"][0]["tax_included"].as_bool(), plain.body["total"].as_str()),
        (Some(false), Some("113.00"))
    );

    // The invoice states the price before tax and adds up to what was charged.
    let id = order.body["id"].as_i64().unwrap();
    let invoice = app.post(&format!("/api/v1/orders/{id}/invoices"), json!({})).await;
    assert_eq!(invoice.status, StatusCode::CREATED, "{}", invoice.body);
    let invoiced = &invoice.body["lines"][0];
    assert_eq!((invoiced["unit_price"].as_str(), invoiced["line_total"].as_str()), (Some("10.00"), Some("30.00")));
    assert_eq!(invoice.body["total"], "33.90");
    app.assert_ledger_balances().await;
}

#[tokio::test]
async fn tax_rules_set_the_rate_by_product_category_and_destination() {
    let app = spawn_app().await;
    let food = app
        .post("/api/v1/products", json!({"sku": "RICE", "name": "五常大米", "price": "100.00", "currency": "CNY", "tax_rate": "0.13", "category": "food"}))
        .await;
    assert_eq!(food.status, StatusCode::CREATED, "{}", food.body);
    app.product("POT", "100.00").await;
    app.warehouse("W1").await;
    app.stock("W1", "RICE", 50).await;
    app.stock("W1", "POT", 50).await;
    // Farm produce is taxed at 9 % in China; a US state's own rate beats the country's.
    let rules = json!({"rules": [
        {"category": "food", "country": "CN", "rate": "0.09"},
        {"category": "food", "country": "US", "rate": "0.02"},
        {"category": "food", "country": "US", "region": "NY", "rate": "0.04"}]});
    let sales = app.token_for("sales").await;
    let refused =
        app.send(app.client.put(app.url("/api/v1/settings/tax-rules")).bearer_auth(&sales).json(&rules)).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    let set = app.put("/api/v1/settings/tax-rules", rules).await;
    assert_eq!(set.status, StatusCode::OK, "{}", set.body);
    assert_eq!(set.body["rules"].as_array().map(Vec::len), Some(3));
    let bad = app
        .put("/api/v1/settings/tax-rules", json!({"rules": [{"category": "food", "country": "CN", "rate": "9"}]}))
        .await;
    assert_eq!(bad.error_fields(), ["rules[0].rate"]);
    assert_eq!(
        app.get("/api/v1/settings/tax-rules").await.body["rules"].as_array().map(Vec::len),
        Some(3),
        "nothing changed"
    );

    let shanghai = app.customer("SH-1", "retail").await;
    let new_york = app
        .post(
            "/api/v1/customers",
            json!({"code": "NY-1", "name": "Brooklyn Tea", "group": "retail", "currency": "CNY",
                   "shipping_address": {"line1": "1 Main St", "city": "Brooklyn", "region": "NY", "postal_code": "11201", "country": "US"}}),
        )
        .await;
    assert_eq!(new_york.status, StatusCode::CREATED, "{}", new_york.body);
    let lines = json!([{"sku": "RICE", "quantity": 1}, {"sku": "POT", "quantity": 1}]);
    let here = app.post("/api/v1/orders", json!({"customer_id": shanghai, "lines": lines})).await;
    let rates: Vec<&str> =
        here.body["lines"].as_array().unwrap().iter().map(|l| l["tax_rate"].as_str().unwrap()).collect();
    assert_eq!(rates, ["0.09", "0.13"], "rice by its rule, the pot (no rule) at its own rate");
    assert_eq!(here.body["tax_total"], "22.00");
    let there = app.post("/api/v1/orders", json!({"customer_id": new_york.body["id"], "lines": lines})).await;
    assert_eq!(there.body["lines"][0]["tax_rate"], "0.04", "{}", there.body);

    // Finance keeps the rules as typed lines on the tax report's page.
    let mut finance = app.console_as("finance").await;
    let (_, page) = finance.get("/reports/tax").await;
    assert!(page.contains("food US NY 0.04"), "the rules as lines");
    let typed = "food CN 0.09\nbooks CN 广东 0.05\nfood US New York 0.04";
    let (status, _) = finance.post("/reports/tax/rules", &[("rules", typed)]).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let saved = app.get("/api/v1/settings/tax-rules").await.body;
    let regions: Vec<Option<&str>> = saved["rules"].as_array().unwrap().iter().map(|r| r["region"].as_str()).collect();
    assert_eq!(regions, [Some("广东"), None, Some("New York")], "by category, then country: {saved}");
    let (status, _) = finance.post("/reports/tax/rules", &[("rules", "food CN nine")]).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
}

//! Fulfillment: sourcing, rate shopping, pick lists, shipments, tracking, claims, delivery
//! and completion.

use crate::helpers::{TestApp, spawn_app};
use ordo_domain::Timestamp;
use reqwest::StatusCode;
use serde_json::{Value, json};

/// Warehouses in Beijing and Shanghai, a fragile product and a plain one, and a customer
/// in Beijing on net terms (so shipping does not wait for payment).
async fn two_warehouses(app: &TestApp) -> i64 {
    for (code, region) in [("BJ", "Beijing"), ("SH", "Shanghai")] {
        let reply = app
            .post("/api/v1/warehouses", json!({"code": code, "name": format!("{region} DC"), "region": region}))
            .await;
        assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    }
    for (sku, tags) in [("VASE", json!(["fragile"])), ("TEA", json!([]))] {
        let reply = app
            .post(
                "/api/v1/products",
                json!({"sku": sku, "name": sku, "price": "100.00", "currency": "CNY",
                "weight_kg": "2", "tags": tags}),
            )
            .await;
        assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    }
    customer_in(app, "BJ-SHOP", "Beijing").await
}

async fn customer_in(app: &TestApp, code: &str, region: &str) -> i64 {
    let reply = app
        .post(
            "/api/v1/customers",
            json!({"code": code, "name": format!("{code} Ltd"), "group": "wholesale", "currency": "CNY", "payment_terms": "net30",
                   "shipping_address": {"line1": "1 Chang'an Ave", "city": region, "region": region, "country": "CN"}}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    reply.body["id"].as_i64().unwrap()
}

async fn place(app: &TestApp, body: Value) -> Value {
    let reply = app.post("/api/v1/orders", body).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    reply.body
}

fn id(v: &Value) -> i64 {
    v["id"].as_i64().unwrap()
}

/// SF (express 1 day, standard 3 days) everywhere, YTO (cheap, refuses fragile goods),
/// EMS only to Guangdong.
async fn carriers(app: &TestApp) {
    let carriers = [
        (
            "SF",
            json!([{"code": "express", "name": "特快", "transit_days": 1}, {"code": "standard", "name": "标快", "transit_days": 3}]),
            json!({}),
        ),
        ("YTO", json!([{"code": "std", "transit_days": 4}]), json!({"refuses_tags": ["fragile"]})),
        ("EMS", json!([{"code": "std", "transit_days": 5}]), json!({"regions": ["Guangdong"]})),
    ];
    for (code, services, extra) in carriers {
        let mut body = json!({"code": code, "name": format!("{code} Express"), "services": services,
            "tracking_url_template": format!("https://{code}.example/track?n={{tracking}}"), "max_weight_kg": "30"});
        body.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
        let reply = app.post("/api/v1/carriers", body).await;
        assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
        let carrier = id(&reply.body);
        let rates = match code {
            "SF" => json!([
                {"service": "express", "region": "Beijing", "max_weight_kg": "5", "price": "30.00", "currency": "CNY"},
                {"service": "express", "region": "Beijing", "max_weight_kg": "30", "price": "60.00", "currency": "CNY"},
                {"service": "standard", "region": "Beijing", "max_weight_kg": "5", "price": "18.00", "currency": "CNY"},
                {"service": "standard", "region": "Beijing", "max_weight_kg": "30", "price": "40.00", "currency": "CNY"}]),
            "YTO" => {
                json!([{"service": "std", "region": "Beijing", "max_weight_kg": "30", "price": "9.00", "currency": "CNY"}])
            }
            _ => {
                json!([{"service": "std", "region": "Beijing", "max_weight_kg": "30", "price": "7.00", "currency": "CNY"}])
            }
        };
        let reply = app.put(&format!("/api/v1/carriers/{carrier}/rates"), json!({"rates": rates})).await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    }
}

async fn ship(app: &TestApp, order: i64, body: Value) -> (StatusCode, Value) {
    let reply = app.post(&format!("/api/v1/orders/{order}/shipments"), body).await;
    (reply.status, reply.body)
}

#[tokio::test]
async fn an_order_one_warehouse_can_fill_is_not_split_and_one_that_needs_two_says_why() {
    let app = spawn_app().await;
    let customer = two_warehouses(&app).await;
    app.stock("BJ", "VASE", 10).await;
    app.stock("SH", "VASE", 10).await;
    app.stock("SH", "TEA", 10).await;

    // Beijing is nearer, but only Shanghai has both: one shipment from Shanghai.
    let whole = place(
        &app,
        json!({"customer_id": customer, "lines": [{"sku": "VASE", "quantity": 2}, {"sku": "TEA", "quantity": 1}]}),
    )
    .await;
    assert_eq!(whole["lines"][0]["warehouse"], "SH");
    assert_eq!(whole["lines"][1]["warehouse"], "SH");
    assert_eq!(whole["split_reason"], Value::Null);
    let allocation = app.get(&format!("/api/v1/orders/{}/allocation", id(&whole))).await.body;
    assert_eq!(allocation["split"], false);

    // A single line goes to the nearer warehouse.
    let near = place(&app, json!({"customer_id": customer, "lines": [{"sku": "VASE", "quantity": 1}]})).await;
    assert_eq!(near["lines"][0]["warehouse"], "BJ");

    // Shanghai now has 8 vases free: 9 can only come from Beijing, and the tea only from Shanghai.
    let split = place(
        &app,
        json!({"customer_id": customer, "lines": [{"sku": "VASE", "quantity": 9}, {"sku": "TEA", "quantity": 1}]}),
    )
    .await;
    assert_eq!(split["lines"][0]["warehouse"], "BJ");
    assert_eq!(split["lines"][1]["warehouse"], "SH");
    let why = split["split_reason"].as_str().expect("a split says why");
    assert!(why.contains("BJ has 0 of 1 × TEA") && why.contains("SH has 8 of 9 × VASE"), "{why}");

    // Manual reallocation needs the permission, and says what a warehouse cannot fill.
    let sales = app.token_for("sales").await;
    let refused =
        app.post_as(&sales, &format!("/api/v1/orders/{}/allocate", id(&near)), json!({"warehouse": "SH"})).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    let moved = app.post(&format!("/api/v1/orders/{}/allocate", id(&near)), json!({"warehouse": "SH"})).await;
    assert_eq!(moved.status, StatusCode::OK, "{}", moved.body);
    assert_eq!(moved.body["warehouses"][0]["warehouse"], "SH");
    assert_eq!(app.level("BJ", "VASE").await["reserved"], 9);
    assert_eq!(app.level("SH", "VASE").await["reserved"], 3);
    let cannot = app.post(&format!("/api/v1/orders/{}/allocate", id(&split)), json!({"warehouse": "SH"})).await;
    assert_eq!(cannot.status, StatusCode::CONFLICT, "{}", cannot.body);
    assert!(
        cannot.body["detail"].as_str().unwrap().contains("TEA")
            || cannot.body["detail"].as_str().unwrap().contains("VASE")
    );
    // Re-running the strategy moves the order back to the nearer warehouse.
    let back = app.post(&format!("/api/v1/orders/{}/allocate", id(&near)), json!({})).await;
    assert_eq!(back.body["warehouses"][0]["warehouse"], "BJ", "{}", back.body);
    assert_eq!(app.level("SH", "VASE").await["reserved"], 2);
    assert_eq!(app.ledger_mismatches().await, 0);
}

#[tokio::test]
async fn rate_shopping_picks_the_cheapest_eligible_service_and_explains_exclusions() {
    let app = spawn_app().await;
    let customer = two_warehouses(&app).await;
    app.stock("SH", "VASE", 10).await;
    carriers(&app).await;
    let order = place(
        &app,
        json!({"customer_id": customer, "lines": [{"sku": "VASE", "quantity": 2}],
        "requested_delivery_date": Timestamp::now().plus_seconds(2 * 86_400).to_rfc3339()[..10].to_string()}),
    )
    .await;

    let options = app.get(&format!("/api/v1/orders/{}/shipping-options", id(&order))).await.body;
    let by = |carrier: &str, service: &str| {
        options
            .as_array()
            .unwrap()
            .iter()
            .find(|o| o["carrier"] == carrier && o["service"] == service)
            .cloned()
            .unwrap()
    };
    // 2 vases × 2 kg = 4 kg: SF's 5 kg bands.
    assert_eq!(by("SF", "standard")["price"], "18.00");
    assert_eq!(by("SF", "express")["price"], "30.00");
    assert_eq!(by("YTO", "std")["eligible"], false);
    assert_eq!(by("YTO", "std")["reason"], "does not take fragile goods");
    assert_eq!(by("EMS", "std")["reason"], "does not deliver to Beijing");
    assert_eq!(options[0]["carrier"], "SF");
    assert_eq!(options[0]["service"], "standard");
    assert_eq!(options[0]["recommended"], true);
    // Standard takes 3 days: later than promised.
    assert_eq!(by("SF", "standard")["on_time"], false);

    // Cheapest that arrives in time: express.
    let settings = app.put("/api/v1/settings/fulfillment", json!({"carrier_policy": "cheapest_on_time"})).await;
    assert_eq!(settings.status, StatusCode::OK, "{}", settings.body);
    let options = app.get(&format!("/api/v1/orders/{}/shipping-options", id(&order))).await.body;
    let recommended: Vec<&Value> = options.as_array().unwrap().iter().filter(|o| o["recommended"] == true).collect();
    assert_eq!((recommended.len(), &recommended[0]["service"]), (1, &json!("express")));

    // Shipping without naming a carrier takes the policy's pick and its price.
    let (status, shipment) =
        ship(&app, id(&order), json!({"warehouse": "SH", "packages": [{"lines": [{"sku": "VASE", "quantity": 2}]}], "tracking_number": "SF1001"})).await;
    assert_eq!(status, StatusCode::CREATED, "{shipment}");
    assert_eq!(
        (shipment["carrier"].as_str(), shipment["service"].as_str(), shipment["cost"].as_str()),
        (Some("SF"), Some("express"), Some("30.00"))
    );
    assert_eq!(shipment["weight_kg"], "4");
    assert_eq!(shipment["tracking_url"], "https://SF.example/track?n=SF1001");

    // Naming a carrier that cannot take the parcel is refused with its reason.
    let other = place(&app, json!({"customer_id": customer, "lines": [{"sku": "VASE", "quantity": 1}]})).await;
    let (status, problem) = ship(
        &app,
        id(&other),
        json!({"warehouse": "SH", "carrier": "YTO", "packages": [{"lines": [{"sku": "VASE", "quantity": 1}]}]}),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
    assert_eq!(problem["errors"][0]["field"], "carrier");
    assert!(problem["errors"][0]["message"].as_str().unwrap().contains("does not take fragile goods"));
}

#[tokio::test]
async fn partial_then_full_shipment_drive_statuses_and_stock_exactly() {
    let app = spawn_app().await;
    let customer = two_warehouses(&app).await;
    carriers(&app).await;
    app.stock("SH", "TEA", 20).await;
    let order = place(&app, json!({"customer_id": customer, "lines": [{"sku": "TEA", "quantity": 5}]})).await;
    let path = format!("/api/v1/orders/{}", id(&order));

    let (status, first) = ship(
        &app,
        id(&order),
        json!({"warehouse": "SH", "carrier": "SF", "service": "standard",
        "packages": [{"weight_kg": "4", "lines": [{"sku": "TEA", "quantity": 2}]}]}),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{first}");
    let after_first = app.get(&path).await.body;
    assert_eq!(
        (after_first["status"].as_str(), after_first["fulfillment_status"].as_str()),
        (Some("partially_shipped"), Some("partially_fulfilled"))
    );
    assert_eq!(after_first["lines"][0]["shipped_quantity"], 2);
    let level = app.level("SH", "TEA").await;
    assert_eq!((level["on_hand"].as_i64(), level["reserved"].as_i64()), (Some(18), Some(3)));

    // More than is left is refused and changes nothing.
    let (status, problem) = ship(
        &app,
        id(&order),
        json!({"warehouse": "SH", "carrier": "SF",
        "packages": [{"lines": [{"sku": "TEA", "quantity": 4}]}]}),
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT, "{problem}");
    assert!(problem["detail"].as_str().unwrap().contains("TEA: 4 asked, 3 reserved"), "{problem}");
    assert_eq!(app.level("SH", "TEA").await["on_hand"], 18);

    // Two packages finish the order.
    let (status, last) = ship(&app, id(&order), json!({"warehouse": "SH", "carrier": "SF", "service": "standard",
        "packages": [{"weight_kg": "2", "lines": [{"sku": "TEA", "quantity": 2}]}, {"weight_kg": "1", "lines": [{"sku": "TEA", "quantity": 1}]}]})).await;
    assert_eq!(status, StatusCode::CREATED, "{last}");
    assert_eq!(last["packages"].as_array().unwrap().len(), 2);
    assert_eq!(last["cost"], "36.00");
    let done = app.get(&path).await.body;
    assert_eq!((done["status"].as_str(), done["fulfillment_status"].as_str()), (Some("shipped"), Some("fulfilled")));
    let level = app.level("SH", "TEA").await;
    assert_eq!((level["on_hand"].as_i64(), level["reserved"].as_i64()), (Some(15), Some(0)));
    let movements = app.get("/api/v1/stock/movements?sku=TEA&kind=shipment").await.body;
    let shipped: i64 =
        movements["items"].as_array().unwrap().iter().map(|m| -m["on_hand_delta"].as_i64().unwrap()).sum();
    assert_eq!(shipped, 5);
    assert_eq!(app.ledger_mismatches().await, 0);
    let events = app.get(&format!("{path}/events")).await.body;
    assert_eq!(events["items"].as_array().unwrap().iter().filter(|e| e["action"] == "shipped").count(), 2);
    // A shipped order cannot be cancelled any more.
    let cancel = app.post(&format!("{path}/cancel"), json!({"reason": "too late"})).await;
    assert_eq!(cancel.status, StatusCode::CONFLICT);
}

#[tokio::test]
async fn a_prepaid_order_ships_only_once_paid() {
    let app = spawn_app().await;
    two_warehouses(&app).await;
    carriers(&app).await;
    app.stock("SH", "TEA", 5).await;
    let prepaid = app
        .post(
            "/api/v1/customers",
            json!({"code": "WEB-1", "name": "Web buyer", "group": "retail", "currency": "CNY",
            "shipping_address": {"line1": "8 Jianguo Rd", "city": "Beijing", "region": "Beijing", "country": "CN"}}),
        )
        .await;
    let order = place(&app, json!({"customer_id": id(&prepaid.body), "payment_method": "bank_transfer", "lines": [{"sku": "TEA", "quantity": 1}]})).await;
    let body = json!({"warehouse": "SH", "carrier": "SF", "packages": [{"lines": [{"sku": "TEA", "quantity": 1}]}]});

    let (status, problem) = ship(&app, id(&order), body.clone()).await;
    assert_eq!(status, StatusCode::CONFLICT, "{problem}");
    assert!(problem["detail"].as_str().unwrap().contains("100.00 CNY is still due"), "{problem}");
    let paid = app
        .post(
            &format!("/api/v1/orders/{}/payments", id(&order)),
            json!({"method": "bank_transfer", "amount": "100.00"}),
        )
        .await;
    assert_eq!(paid.status, StatusCode::CREATED, "{}", paid.body);
    let (status, shipment) = ship(&app, id(&order), body).await;
    assert_eq!(status, StatusCode::CREATED, "{shipment}");
}

#[tokio::test]
async fn a_pick_list_walks_by_bin_and_a_short_pick_is_backordered() {
    let app = spawn_app().await;
    let customer = two_warehouses(&app).await;
    app.stock("SH", "TEA", 10).await;
    app.stock("SH", "VASE", 10).await;
    for (sku, bin) in [("TEA", "B-02"), ("VASE", "A-07")] {
        let reply = app.put(&format!("/api/v1/stock/SH/{sku}"), json!({"bin": bin})).await;
        assert_eq!((reply.status, reply.body["bin"].as_str()), (StatusCode::OK, Some(bin)), "{}", reply.body);
    }
    let first = place(
        &app,
        json!({"customer_id": customer, "lines": [{"sku": "TEA", "quantity": 3}, {"sku": "VASE", "quantity": 1}]}),
    )
    .await;
    let second = place(&app, json!({"customer_id": customer, "lines": [{"sku": "TEA", "quantity": 2}]})).await;

    let created = app.post("/api/v1/pick-lists", json!({"warehouse": "SH"})).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    let list = created.body;
    let walk: Vec<(&str, &str, i64)> = list["lines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| (l["bin"].as_str().unwrap(), l["sku"].as_str().unwrap(), l["quantity"].as_i64().unwrap()))
        .collect();
    assert_eq!(walk, [("A-07", "VASE", 1), ("B-02", "TEA", 3), ("B-02", "TEA", 2)]);
    // Nothing is left to pick for a second wave.
    assert_eq!(app.post("/api/v1/pick-lists", json!({"warehouse": "SH"})).await.status, StatusCode::CONFLICT);
    let queue = app.get("/api/v1/fulfillment/queue?warehouse=SH").await.body;
    assert_eq!(queue["open_pick_lists"][0]["number"], list["number"]);

    // Scanned: the vase, and only 4 of the 5 teas (the shelf held one fewer).
    let scans = json!(["VASE", "TEA", "TEA", "TEA", "tea"]);
    let unknown = app.post(&format!("/api/v1/pick-lists/{}/confirm", id(&list)), json!({"scans": ["NOPE"]})).await;
    assert_eq!(unknown.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(unknown.error_fields(), ["scans[0]"]);
    let confirmed = app.post(&format!("/api/v1/pick-lists/{}/confirm", id(&list)), json!({"scans": scans})).await;
    assert_eq!(confirmed.status, StatusCode::OK, "{}", confirmed.body);
    let short_line =
        confirmed.body["lines"].as_array().unwrap().iter().find(|l| l["order_id"] == id(&second)).cloned().unwrap();
    assert_eq!((short_line["picked"].as_i64(), short_line["handling"].as_str()), (Some(1), Some("backorder")));

    let second_now = app.get(&format!("/api/v1/orders/{}", id(&second))).await.body;
    assert_eq!(
        (second_now["lines"][0]["picked_quantity"].as_i64(), second_now["lines"][0]["backordered_quantity"].as_i64()),
        (Some(1), Some(1))
    );
    let first_now = app.get(&format!("/api/v1/orders/{}", id(&first))).await.body;
    assert_eq!(first_now["lines"][0]["picked_quantity"], 3);
    // The missing tea is written off the shelf and no longer reserved.
    let level = app.level("SH", "TEA").await;
    assert_eq!((level["on_hand"].as_i64(), level["reserved"].as_i64()), (Some(9), Some(4)));
    assert_eq!(app.ledger_mismatches().await, 0);
    let queue = app.get("/api/v1/fulfillment/queue?warehouse=SH").await.body;
    assert_eq!(queue["to_allocate"][0]["number"], second["number"]);
    let to_ship: Vec<i64> = queue["to_ship"].as_array().unwrap().iter().map(|o| o["units"].as_i64().unwrap()).collect();
    assert_eq!(to_ship, [4, 1]);
    // A pick list is confirmed once.
    let again = app.post(&format!("/api/v1/pick-lists/{}/confirm", id(&list)), json!({})).await;
    assert_eq!(again.status, StatusCode::CONFLICT);
}

fn sign(secret: &str, body: &[u8], at: Timestamp) -> String {
    ordo_app::signing::sign(secret, body, at)
}

#[tokio::test]
async fn a_forged_tracking_webhook_is_refused_and_a_lost_parcel_lands_in_the_exception_queue() {
    let app = spawn_app().await;
    let customer = two_warehouses(&app).await;
    carriers(&app).await;
    app.stock("SH", "TEA", 5).await;
    let order = place(&app, json!({"customer_id": customer, "lines": [{"sku": "TEA", "quantity": 1}]})).await;
    let (_, shipment) = ship(
        &app,
        id(&order),
        json!({"warehouse": "SH", "carrier": "SF", "tracking_number": "SF2002",
        "packages": [{"lines": [{"sku": "TEA", "quantity": 1}]}]}),
    )
    .await;
    let secret = app.get("/api/v1/tracking/secret").await.body["webhook_secret"].as_str().unwrap().to_string();
    let send = |body: Value, signature: String| {
        let client = app.client.clone();
        let url = app.url("/api/v1/tracking/webhook");
        async move {
            let response =
                client.post(url).header("ordo-signature", signature).body(body.to_string()).send().await.unwrap();
            (response.status(), response.json::<Value>().await.unwrap_or(Value::Null))
        }
    };
    let moving = json!({"tracking_number": "SF2002", "status": "运输中", "at": "2026-11-20T08:00:00Z", "location": "Shanghai hub"});
    let bytes = moving.to_string().into_bytes();

    let (forged, _) = send(moving.clone(), sign("not-the-secret", &bytes, Timestamp::now())).await;
    assert_eq!(forged, StatusCode::UNAUTHORIZED);
    let (stale, _) = send(moving.clone(), sign(&secret, &bytes, Timestamp::now().plus_seconds(-3600))).await;
    assert_eq!(stale, StatusCode::UNAUTHORIZED);
    let (ok, result) = send(moving.clone(), sign(&secret, &bytes, Timestamp::now())).await;
    assert_eq!(
        (ok, result["outcome"].as_str(), result["status"].as_str()),
        (StatusCode::OK, Some("recorded"), Some("in_transit"))
    );
    let (_, replay) = send(moving.clone(), sign(&secret, &bytes, Timestamp::now())).await;
    assert_eq!(replay["outcome"], "duplicate");

    let lost = json!({"tracking_number": "SF2002", "status": "exception", "detail": "parcel lost at sorting centre", "at": "2026-11-21T09:00:00Z"});
    let (ok, _) = send(lost.clone(), sign(&secret, lost.to_string().as_bytes(), Timestamp::now())).await;
    assert_eq!(ok, StatusCode::OK);

    let now = app.get(&format!("/api/v1/shipments/{}", id(&shipment))).await.body;
    assert_eq!(now["status"], "exception");
    assert_eq!(now["tracking"].as_array().unwrap().len(), 3, "{now}");
    assert_eq!((now["claims"][0]["kind"].as_str(), now["claims"][0]["status"].as_str()), (Some("lost"), Some("open")));
    let exceptions = app.get("/api/v1/shipments?status=exception").await.body;
    assert_eq!(exceptions["items"][0]["number"], shipment["number"]);
    let feed = app.get("/api/v1/events?type=shipment.exception").await.body;
    assert_eq!(feed["items"][0]["data"]["kind"], "lost");
    let mut console = app.console_as("service").await;
    let (status, page) = console.get("/exceptions").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        page.contains(shipment["number"].as_str().unwrap()) && page.contains("parcel lost"),
        "the exception queue lists the lost parcel"
    );

    // The claim is filed with the carrier and settled by reshipping.
    let claim = now["claims"][0]["id"].as_i64().unwrap();
    let no_reason = app.post(&format!("/api/v1/claims/{claim}"), json!({"status": "settled"})).await;
    assert_eq!(no_reason.error_fields(), ["resolution"]);
    let filed = app.post(&format!("/api/v1/claims/{claim}"), json!({"status": "filed"})).await;
    assert_eq!(filed.body["status"], "filed", "{}", filed.body);
    let settled = app
        .post(
            &format!("/api/v1/claims/{claim}"),
            json!({"status": "settled", "resolution": "carrier paid 113.00; reshipped"}),
        )
        .await;
    assert_eq!(settled.body["status"], "settled");
}

#[tokio::test]
async fn delivery_moves_the_order_on_and_it_completes_after_the_window() {
    let app = spawn_app().await;
    let customer = two_warehouses(&app).await;
    carriers(&app).await;
    app.stock("SH", "TEA", 5).await;
    let order = place(&app, json!({"customer_id": customer, "lines": [{"sku": "TEA", "quantity": 2}]})).await;
    let (_, first) = ship(
        &app,
        id(&order),
        json!({"warehouse": "SH", "carrier": "SF", "packages": [{"lines": [{"sku": "TEA", "quantity": 1}]}]}),
    )
    .await;
    let (_, second) = ship(
        &app,
        id(&order),
        json!({"warehouse": "SH", "carrier": "SF", "packages": [{"lines": [{"sku": "TEA", "quantity": 1}]}]}),
    )
    .await;

    // Tracking imported from the carrier's CSV; a bad row is reported, good ones recorded.
    let csv = format!("tracking_number,status,at\nNOPE,delivered,\n{},in transit,2026-11-20T10:00:00Z\n", "SF-unknown");
    let import = app.post("/api/v1/tracking/import", json!({"csv": csv})).await;
    assert_eq!(
        (import.body["recorded"].as_i64(), import.body["errors"].as_i64()),
        (Some(0), Some(2)),
        "{}",
        import.body
    );

    let delivered = app.post(&format!("/api/v1/shipments/{}/delivered", id(&first)), json!({})).await;
    assert_eq!(delivered.body["status"], "delivered", "{}", delivered.body);
    assert_eq!(app.get(&format!("/api/v1/orders/{}", id(&order))).await.body["status"], "shipped");
    app.post(&format!("/api/v1/shipments/{}/delivered", id(&second)), json!({})).await;
    let now = app.get(&format!("/api/v1/orders/{}", id(&order))).await.body;
    assert_eq!(now["status"], "delivered");

    // Not yet: the window (7 days by default) has not passed.
    let soon = ordo_app::Ctx::at("test", "scheduler", Timestamp::now().plus_seconds(86_400));
    let order_id = id(&order);
    assert!(!app.db.write(move |tx| ordo_app::fulfillment::complete_if_due(tx, &soon, order_id)).await.unwrap());
    let later = ordo_app::Ctx::at("test", "scheduler", Timestamp::now().plus_seconds(8 * 86_400));
    assert!(app.db.write(move |tx| ordo_app::fulfillment::complete_if_due(tx, &later, order_id)).await.unwrap());
    let done = app.get(&format!("/api/v1/orders/{order_id}")).await.body;
    assert_eq!(done["status"], "completed");
    let events = app.get(&format!("/api/v1/orders/{order_id}/events")).await.body;
    let actions: Vec<&str> =
        events["items"].as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap()).collect();
    let tail: Vec<&str> = actions.iter().rev().take(2).rev().copied().collect();
    assert_eq!(tail, ["delivered", "completed"], "{actions:?}");

    // A customer may confirm receipt before the window ends.
    let other = place(&app, json!({"customer_id": customer, "lines": [{"sku": "TEA", "quantity": 1}]})).await;
    let (_, s) = ship(
        &app,
        id(&other),
        json!({"warehouse": "SH", "carrier": "SF", "packages": [{"lines": [{"sku": "TEA", "quantity": 1}]}]}),
    )
    .await;
    assert_eq!(
        app.post(&format!("/api/v1/orders/{}/complete", id(&other)), json!({})).await.status,
        StatusCode::CONFLICT
    );
    app.post(&format!("/api/v1/shipments/{}/delivered", id(&s)), json!({})).await;
    let completed = app
        .post(&format!("/api/v1/orders/{}/complete", id(&other)), json!({"reason": "customer confirmed receipt"}))
        .await;
    assert_eq!(completed.body["status"], "completed", "{}", completed.body);
}

#[tokio::test]
async fn a_late_parcel_is_flagged_and_opens_a_claim() {
    let app = spawn_app().await;
    let customer = two_warehouses(&app).await;
    carriers(&app).await;
    app.stock("SH", "TEA", 5).await;
    let order = place(&app, json!({"customer_id": customer, "lines": [{"sku": "TEA", "quantity": 1}]})).await;
    let (_, shipment) = ship(
        &app,
        id(&order),
        json!({"warehouse": "SH", "carrier": "SF", "service": "express",
        "packages": [{"lines": [{"sku": "TEA", "quantity": 1}]}]}),
    )
    .await;
    let shipment_id = id(&shipment);

    let on_time = ordo_app::Ctx::at("test", "scheduler", Timestamp::now());
    assert!(!app.db.write(move |tx| ordo_app::fulfillment::flag_if_delayed(tx, &on_time, shipment_id)).await.unwrap());
    let late = ordo_app::Ctx::at("test", "scheduler", Timestamp::now().plus_seconds(3 * 86_400));
    assert!(app.db.write(move |tx| ordo_app::fulfillment::flag_if_delayed(tx, &late, shipment_id)).await.unwrap());
    let now = app.get(&format!("/api/v1/shipments/{shipment_id}")).await.body;
    assert_eq!((now["status"].as_str(), now["claims"][0]["kind"].as_str()), (Some("exception"), Some("delayed")));
    // Once flagged, a parcel is not flagged again.
    let again = ordo_app::Ctx::at("test", "scheduler", Timestamp::now().plus_seconds(4 * 86_400));
    assert!(!app.db.write(move |tx| ordo_app::fulfillment::flag_if_delayed(tx, &again, shipment_id)).await.unwrap());
}

#[tokio::test]
async fn self_pickup_hands_over_only_with_the_customers_code() {
    let app = spawn_app().await;
    let customer = two_warehouses(&app).await;
    app.stock("BJ", "TEA", 5).await;
    let reply = app.patch("/api/v1/warehouses/BJ", json!({"pickup": true}), None).await;
    assert_eq!(reply.body["pickup"], true, "{}", reply.body);
    let order = place(
        &app,
        json!({"customer_id": customer, "shipping_service": "pickup", "lines": [{"sku": "TEA", "quantity": 1}]}),
    )
    .await;
    let options = app.get(&format!("/api/v1/orders/{}/shipping-options", id(&order))).await.body;
    let pickup = options.as_array().unwrap().iter().find(|o| o["carrier"] == "pickup").cloned().unwrap();
    assert_eq!((pickup["recommended"].as_bool(), pickup["price"].as_str()), (Some(true), Some("0")));

    let (status, shipment) =
        ship(&app, id(&order), json!({"warehouse": "BJ", "packages": [{"lines": [{"sku": "TEA", "quantity": 1}]}]}))
            .await;
    assert_eq!(status, StatusCode::CREATED, "{shipment}");
    assert_eq!(shipment["status"], "ready_for_pickup");
    let code = shipment["pickup_code"].as_str().unwrap().to_string();
    assert_eq!(code.len(), 6);
    let wrong =
        app.post(&format!("/api/v1/shipments/{}/delivered", id(&shipment)), json!({"pickup_code": "nope"})).await;
    assert_eq!(wrong.error_fields(), ["pickup_code"]);
    let handed =
        app.post(&format!("/api/v1/shipments/{}/delivered", id(&shipment)), json!({"pickup_code": code})).await;
    assert_eq!(handed.body["status"], "delivered", "{}", handed.body);
    assert_eq!(app.get(&format!("/api/v1/orders/{}", id(&order))).await.body["status"], "delivered");
}

/// 1,000 orders race for short stock across 5 warehouses with 10 carriers priced for the
/// lowest-cost strategy: whatever the interleaving, no level reserves more than it has
/// and every reserved unit belongs to an order line. (How fast sourcing is, is measured by
/// `ordo bench sourcing`, not here.)
#[tokio::test]
async fn sourcing_a_thousand_racing_orders_never_allocates_more_than_is_available() {
    let app = spawn_app().await;
    let regions = ["Beijing", "Shanghai", "Guangdong", "Sichuan", "Hubei"];
    for (i, region) in regions.iter().enumerate() {
        let reply = app
            .post("/api/v1/warehouses", json!({"code": format!("W{i}"), "name": region, "region": region, "handling_fee": format!("{}.00", i + 1)}))
            .await;
        assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    }
    for c in 0..10 {
        let carrier = app
            .post("/api/v1/carriers", json!({"code": format!("C{c}"), "name": format!("Carrier {c}"), "services": [{"code": "std", "transit_days": 1 + c % 4}]}))
            .await;
        let rates: Vec<Value> = regions
            .iter()
            .flat_map(|to| regions.iter().map(move |from| (to, from)))
            .map(|(to, from)| {
                json!({"service": "std", "region": to, "from_region": from, "max_weight_kg": "50",
                "price": format!("{}.00", 5 + (c * 7 + to.len() + from.len()) % 13), "currency": "CNY"})
            })
            .collect();
        let reply = app.put(&format!("/api/v1/carriers/{}/rates", id(&carrier.body)), json!({"rates": rates})).await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    }
    app.put("/api/v1/settings/fulfillment", json!({"sourcing_strategy": "lowest_cost"})).await;
    app.put("/api/v1/settings/orders", json!({"duplicate_window_minutes": 0})).await;
    for p in 0..8 {
        app.post("/api/v1/products", json!({"sku": format!("P{p}"), "name": format!("P{p}"), "price": "10", "currency": "CNY", "weight_kg": "0.5"})).await;
        for w in 0..5 {
            app.stock(&format!("W{w}"), &format!("P{p}"), 40 + ((p * 3 + w * 5) % 20) as i64).await;
        }
    }
    let mut customers = Vec::new();
    for (i, region) in regions.iter().enumerate() {
        customers.push(customer_in(&app, &format!("C{i}"), region).await);
    }

    let placed = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let mut tasks = Vec::new();
    for worker in 0..8_usize {
        let (client, url, token, customers, placed) =
            (app.client.clone(), app.url("/api/v1/orders"), app.token.clone(), customers.clone(), placed.clone());
        tasks.push(tokio::spawn(async move {
            for n in 0..125_usize {
                let k = worker * 125 + n;
                let lines: Vec<Value> = (0..1 + k % 3)
                    .map(|j| json!({"sku": format!("P{}", (k + j * 3) % 8), "quantity": 1 + (k + j) % 4}))
                    .collect();
                let body = json!({"customer_id": customers[k % customers.len()], "lines": lines});
                let response = client.post(&url).bearer_auth(&token).json(&body).send().await.unwrap();
                match response.status() {
                    StatusCode::CREATED => {
                        placed.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    }
                    StatusCode::CONFLICT => {}
                    other => panic!("unexpected {other}: {}", response.text().await.unwrap_or_default()),
                }
            }
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }
    let placed = placed.load(std::sync::atomic::Ordering::Relaxed);
    assert!(placed > 100 && placed < 1000, "stock runs out part way: {placed} placed");

    let levels = app.get("/api/v1/stock").await.body;
    let mut reserved_total = 0;
    for level in levels["items"].as_array().unwrap() {
        let (on_hand, reserved) = (level["on_hand"].as_i64().unwrap(), level["reserved"].as_i64().unwrap());
        assert!(reserved <= on_hand && reserved >= 0, "{level}");
        reserved_total += reserved;
    }
    let ordered = app
        .db
        .read(|tx| {
            tx.query_one("SELECT CAST(COALESCE(SUM(quantity - backordered), 0) AS BIGINT) FROM order_lines", &[])
                .map(|r| r.int(0))
        })
        .await
        .unwrap()
        .unwrap();
    assert_eq!(reserved_total, ordered);
    assert_eq!(app.ledger_mismatches().await, 0);
}

#[tokio::test]
async fn the_warehouse_works_the_queue_picks_and_ships_from_the_console() {
    let app = spawn_app().await;
    let customer = two_warehouses(&app).await;
    carriers(&app).await;
    app.stock("SH", "TEA", 10).await;
    app.put("/api/v1/stock/SH/TEA", json!({"bin": "B-02"})).await;
    let order = place(&app, json!({"customer_id": customer, "lines": [{"sku": "TEA", "quantity": 3}]})).await;
    let mut console = app.console_as("warehouse").await;

    let (status, queue) = console.get("/fulfillment?warehouse=SH").await;
    assert_eq!(status, StatusCode::OK);
    assert!(queue.contains(order["number"].as_str().unwrap()) && queue.contains("logistics-kpis"));
    let (status, _) = console.post("/fulfillment/pick-lists", &[("warehouse", "SH"), ("limit", "10")]).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let list = app.get("/api/v1/pick-lists?status=open").await.body["items"][0].clone();
    let (_, page) = console.get(&format!("/pick-lists/{}", id(&list))).await;
    assert!(page.contains("B-02") && page.contains("confirm-picks"));
    let line = format!("picked_{}", list["lines"][0]["id"]);
    let (status, _) = console.post(&format!("/pick-lists/{}", id(&list)), &[(line.as_str(), "3")]).await;
    assert_eq!(status, StatusCode::SEE_OTHER);

    // The order page offers the rate-shopped services and ships what is reserved.
    let (_, order_page) = console.get(&format!("/orders/{}", id(&order))).await;
    assert!(order_page.contains("ship-form") && order_page.contains("SF/standard"), "the order page offers shipping");
    assert!(order_page.contains("does not deliver to Beijing"), "excluded services say why");
    let (status, _) = console
        .post(
            &format!("/orders/{}/ship", id(&order)),
            &[("warehouse", "SH"), ("service", "SF/standard"), ("tracking_number", "SF3003")],
        )
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let shipment = app.get(&format!("/api/v1/orders/{}/shipments", id(&order))).await.body["items"][0].clone();
    assert_eq!(shipment["tracking_number"], "SF3003");
    assert_eq!(app.get(&format!("/api/v1/orders/{}", id(&order))).await.body["status"], "shipped");

    let (_, detail) = console.get(&format!("/shipments/{}", id(&shipment))).await;
    assert!(detail.contains("https://SF.example/track?n=SF3003"));
    let (status, _) = console
        .post(&format!("/shipments/{}", id(&shipment)), &[("status", "in_transit"), ("location", "Hangzhou")])
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let (_, slip) = console.get(&format!("/shipments/{}/packing-slip", id(&shipment))).await;
    assert!(slip.contains("TEA") && slip.contains("BJ-SHOP Ltd"));
    let (_, carriers) = console.get("/carriers").await;
    assert!(carriers.contains("SF Express") && carriers.contains("new-carrier"));
}

//! Sales channels and their partners: a partner key places and sees only its channel's
//! orders, is told of shipping, delivery and cancellation by signed callbacks, and may
//! send orders in its own JSON through the channel's mapping.

use crate::helpers::{TestApp, spawn_app};
use crate::integrations::eventually;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::HeaderMap;
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::sync::{Arc, Mutex};

/// Tea in stock in Shanghai, a carrier there, and one customer account per marketplace.
async fn shop(app: &TestApp) -> (i64, i64) {
    app.warehouse("SH").await;
    app.product("TEA", "100.00").await;
    app.stock("SH", "TEA", 50).await;
    app.carrier_to("SF", "Shanghai").await;
    (app.customer("TMALL-BUYERS", "retail").await, app.customer("JD-BUYERS", "retail").await)
}

/// Registers a channel for `customer` and returns it with a partner key.
async fn channel(app: &TestApp, code: &str, customer: i64, extra: Value) -> (Value, String) {
    let mut body =
        json!({"code": code, "name": format!("{code} shop"), "kind": "marketplace", "customer_id": customer});
    body.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
    let created = app.post("/api/v1/channels", body).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    let id = created.body["id"].as_i64().unwrap();
    let key = app.post(&format!("/api/v1/channels/{id}/keys"), json!({"name": format!("{code} connector")})).await;
    assert_eq!(key.status, StatusCode::CREATED, "{}", key.body);
    assert_eq!(key.body["channel"], code);
    (created.body, key.body["key"].as_str().unwrap().to_string())
}

fn marketplace_order(reference: &str, quantity: i64) -> Value {
    json!({"external_ref": reference, "lines": [{"sku": "TEA", "quantity": quantity}],
        "shipping_address": {"name": "张三", "phone": "13812345678", "line1": "南京路 1 号", "city": "上海市",
            "region": "Shanghai", "country": "CN"}})
}

#[tokio::test]
async fn a_partner_key_places_and_sees_only_its_own_channels_orders() {
    let app = spawn_app().await;
    let (tmall_buyers, jd_buyers) = shop(&app).await;
    let (_, tmall) = channel(&app, "tmall", tmall_buyers, json!({})).await;
    let (_, jd) = channel(&app, "jd", jd_buyers, json!({})).await;

    let ours = app.post_as(&tmall, "/api/v1/orders", marketplace_order("1001", 2)).await;
    assert_eq!(ours.status, StatusCode::CREATED, "{}", ours.body);
    assert_eq!(ours.body["channel"], "tmall");
    assert_eq!(ours.body["customer_id"], tmall_buyers, "placed for the channel's account");
    // The same reference on another channel is another order; sent again, the same one.
    let theirs = app.post_as(&jd, "/api/v1/orders", marketplace_order("1001", 1)).await;
    assert_eq!(theirs.status, StatusCode::CREATED, "{}", theirs.body);
    assert_ne!(theirs.body["id"], ours.body["id"]);
    let again = app.post_as(&tmall, "/api/v1/orders", marketplace_order("1001", 2)).await;
    assert_eq!((again.status, &again.body["id"]), (StatusCode::OK, &ours.body["id"]));

    let (ours_id, theirs_id) = (ours.body["id"].as_i64().unwrap(), theirs.body["id"].as_i64().unwrap());
    assert_eq!(app.get_as(&tmall, &format!("/api/v1/orders/{ours_id}")).await.status, StatusCode::OK);
    let peek = app.get_as(&tmall, &format!("/api/v1/orders/{theirs_id}")).await;
    assert_eq!(peek.status, StatusCode::NOT_FOUND, "another channel's order does not exist for this key");
    assert_eq!(app.get_as(&tmall, "/api/v1/orders/999999").await.status, StatusCode::NOT_FOUND);
    let cancel = app.post_as(&tmall, &format!("/api/v1/orders/{theirs_id}/cancel"), json!({})).await;
    assert_eq!(cancel.status, StatusCode::NOT_FOUND);
    assert_eq!(app.get(&format!("/api/v1/orders/{theirs_id}")).await.body["status"], "confirmed");
    let listed = app.get_as(&tmall, "/api/v1/orders?channel=jd").await;
    let ids: Vec<i64> = listed.body["items"].as_array().unwrap().iter().map(|o| o["id"].as_i64().unwrap()).collect();
    assert_eq!(ids, [ours_id], "the list holds its own orders whatever the filter says");

    // Nothing else is open to a partner key, and it cannot choose the account or the price.
    for path in
        ["/api/v1/customers", "/api/v1/products", "/api/v1/channels", &format!("/api/v1/orders/{ours_id}/events")]
    {
        assert_eq!(app.get_as(&tmall, path).await.status, StatusCode::FORBIDDEN, "{path}");
    }
    let mut other_account = marketplace_order("1002", 1);
    other_account["customer_id"] = json!(jd_buyers);
    let refused = app.post_as(&tmall, "/api/v1/orders", other_account).await;
    assert_eq!(refused.error_fields(), ["customer_id"], "{}", refused.body);
    let mut no_ref = marketplace_order("", 1);
    no_ref.as_object_mut().unwrap().remove("external_ref");
    assert_eq!(app.post_as(&tmall, "/api/v1/orders", no_ref).await.error_fields(), ["external_ref"]);
    let mut priced = marketplace_order("1003", 1);
    priced["lines"][0]["unit_price"] = json!("1.00");
    assert_eq!(app.post_as(&tmall, "/api/v1/orders", priced).await.status, StatusCode::FORBIDDEN);

    // A partner may cancel its own order.
    let cancelled = app.post_as(&tmall, &format!("/api/v1/orders/{ours_id}/cancel"), json!({"reason": "buyer"})).await;
    assert_eq!((cancelled.status, cancelled.body["status"].as_str()), (StatusCode::OK, Some("cancelled")));
    assert_eq!(app.level("SH", "TEA").await["reserved"], 1, "only jd's order holds stock now");
}

#[tokio::test]
async fn a_revoked_key_or_a_switched_off_channel_places_nothing() {
    let app = spawn_app().await;
    let (tmall_buyers, _) = shop(&app).await;
    let (tmall, key) = channel(&app, "tmall", tmall_buyers, json!({})).await;
    let id = tmall["id"].as_i64().unwrap();

    // Staff may enter a channel's order by hand under its code; an unknown code is refused.
    let by_hand = app
        .post(
            "/api/v1/orders",
            json!({"customer_id": tmall_buyers, "channel": "tmall", "lines": [{"sku": "TEA", "quantity": 1}]}),
        )
        .await;
    assert_eq!((by_hand.status, by_hand.body["channel"].as_str()), (StatusCode::CREATED, Some("tmall")));
    let unknown = app
        .post(
            "/api/v1/orders",
            json!({"customer_id": tmall_buyers, "channel": "taobao", "lines": [{"sku": "TEA", "quantity": 1}]}),
        )
        .await;
    assert_eq!(unknown.error_fields(), ["channel"], "{}", unknown.body);

    let off = app.patch(&format!("/api/v1/channels/{id}"), json!({"active": false}), Some("\"1\"")).await;
    assert_eq!((off.status, &off.body["active"]), (StatusCode::OK, &json!(false)), "{}", off.body);
    let refused = app
        .post(
            "/api/v1/orders",
            json!({"customer_id": tmall_buyers, "channel": "tmall", "lines": [{"sku": "TEA", "quantity": 1}]}),
        )
        .await;
    assert_eq!(refused.error_fields(), ["channel"]);
    let partner = app.post_as(&key, "/api/v1/orders", marketplace_order("2000", 1)).await;
    assert_eq!(partner.status, StatusCode::UNAUTHORIZED, "a switched-off channel's keys are refused");
    let on = app.patch(&format!("/api/v1/channels/{id}"), json!({"active": true}), None).await;
    assert_eq!(on.status, StatusCode::OK);

    let keys = app.get(&format!("/api/v1/channels/{id}/keys")).await.body;
    let key_id = keys[0]["id"].as_i64().unwrap();
    let revoke =
        app.send(app.authed(app.client.delete(app.url(&format!("/api/v1/channels/{id}/keys/{key_id}"))))).await;
    assert_eq!(revoke.status, StatusCode::NO_CONTENT);
    let after = app.post_as(&key, "/api/v1/orders", marketplace_order("2001", 1)).await;
    assert_eq!(after.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn channels_are_checked_when_registered() {
    let app = spawn_app().await;
    let (buyers, _) = shop(&app).await;
    let listed = app.get("/api/v1/channels").await.body;
    let codes: Vec<&str> = listed.as_array().unwrap().iter().filter_map(|c| c["code"].as_str()).collect();
    assert_eq!(codes, ["web", "phone", "email", "store", "marketplace", "distributor", "api", "import", "portal"]);

    let bad = app
        .post(
            "/api/v1/channels",
            json!({"code": "Tmall Shop", "name": "", "kind": "bazaar", "customer_id": 999, "callback_url": "ftp://x",
                "inbound_mapping": {"external_ref": "tid", "lines": "/orders", "sku": "/sku", "quantity": "/num"}}),
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        bad.error_fields(),
        ["code", "name", "kind", "callback_url", "inbound_mapping.external_ref", "customer_id"],
        "{}",
        bad.body
    );
    let taken = app.post("/api/v1/channels", json!({"code": "web", "name": "Web again", "kind": "web"})).await;
    assert_eq!(taken.error_fields(), ["code"]);
    let web = listed[0]["id"].as_i64().unwrap();
    let off = app.patch(&format!("/api/v1/channels/{web}"), json!({"active": false}), None).await;
    assert_eq!(off.error_fields(), ["active"], "the built-in channels stay active");

    // A key needs the account its orders are placed for.
    let bare = app.post("/api/v1/channels", json!({"code": "shop2", "name": "Second shop", "kind": "web"})).await;
    let bare_id = bare.body["id"].as_i64().unwrap();
    let key = app.post(&format!("/api/v1/channels/{bare_id}/keys"), json!({"name": "shop"})).await;
    assert_eq!(key.error_fields(), ["customer_id"]);
    let set = app.patch(&format!("/api/v1/channels/{bare_id}"), json!({"customer_id": buyers}), Some("\"1\"")).await;
    assert_eq!(set.status, StatusCode::OK, "{}", set.body);
    let stale = app.patch(&format!("/api/v1/channels/{bare_id}"), json!({"name": "x"}), Some("\"1\"")).await;
    assert_eq!(stale.status, StatusCode::PRECONDITION_FAILED);
    let sales = app.token_for("sales").await;
    let made = app.post_as(&sales, &format!("/api/v1/channels/{bare_id}/keys"), json!({"name": "shop"})).await;
    assert_eq!(made.status, StatusCode::FORBIDDEN, "keys are credentials: user managers make them");
}

/// One request to the partner: its `Ordo-Signature` header and its body.
type Call = (Option<String>, Bytes);

/// A partner's callback endpoint: keeps every request.
#[derive(Clone, Default)]
struct Callbacks(Arc<Mutex<Vec<Call>>>);

async fn take(State(calls): State<Callbacks>, headers: HeaderMap, body: Bytes) -> &'static str {
    let signature = headers.get("ordo-signature").and_then(|v| v.to_str().ok()).map(String::from);
    calls.0.lock().unwrap().push((signature, body));
    "ok"
}

#[tokio::test]
async fn a_channel_is_told_by_signed_callbacks_when_its_order_ships_arrives_or_is_cancelled() {
    let app = spawn_app().await;
    let (buyers, _) = shop(&app).await;
    let calls = Callbacks::default();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/ordo", listener.local_addr().unwrap());
    let receiver = axum::Router::new().route("/ordo", axum::routing::post(take)).with_state(calls.clone());
    tokio::spawn(async move { axum::serve(listener, receiver).await });
    let (tmall, key) = channel(&app, "tmall", buyers, json!({"callback_url": url})).await;
    let secret = tmall["callback_secret"].as_str().expect("the secret is shown once").to_string();
    assert!(app.get(&format!("/api/v1/channels/{}", tmall["id"])).await.body.get("callback_secret").is_none());

    let shipped = app.post_as(&key, "/api/v1/orders", marketplace_order("T-1", 2)).await.body;
    let cancelled = app.post_as(&key, "/api/v1/orders", marketplace_order("T-2", 1)).await.body;
    let staff_order =
        app.post("/api/v1/orders", json!({"customer_id": buyers, "lines": [{"sku": "TEA", "quantity": 1}]})).await.body;
    // Marketplace buyers pay the marketplace; it settles with the business.
    let paid = app
        .post(
            &format!("/api/v1/orders/{}/payments", shipped["id"]),
            json!({"method": "cash", "amount": shipped["total"]}),
        )
        .await;
    assert_eq!(paid.status, StatusCode::CREATED, "{}", paid.body);
    let shipment = app
        .post(
            &format!("/api/v1/orders/{}/shipments", shipped["id"]),
            json!({"warehouse": "SH", "packages": [{"lines": [{"sku": "TEA", "quantity": 2}]}]}),
        )
        .await;
    assert_eq!(shipment.status, StatusCode::CREATED, "{}", shipment.body);
    app.post(&format!("/api/v1/shipments/{}/delivered", shipment.body["id"]), json!({})).await;
    app.post(&format!("/api/v1/orders/{}/cancel", cancelled["id"]), json!({"reason": "out of season"})).await;
    app.post(&format!("/api/v1/orders/{}/cancel", staff_order["id"]), json!({})).await;

    eventually(20, "three callbacks", async || calls.0.lock().unwrap().len() >= 3).await;
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    let received = calls.0.lock().unwrap().clone();
    let mut told = Vec::new();
    for (signature, body) in &received {
        let now = ordo_domain::Timestamp::now();
        assert!(
            ordo_app::signing::verify(&secret, signature.as_deref(), body, now).is_ok(),
            "signed with the channel's secret"
        );
        assert!(ordo_app::signing::verify("forged", signature.as_deref(), body, now).is_err());
        let call: Value = serde_json::from_slice(body).unwrap();
        told.push((
            call["type"].as_str().unwrap().to_string(),
            call["data"]["external_ref"].as_str().unwrap().to_string(),
        ));
        if call["type"] == "order.shipped" {
            assert_eq!(call["data"]["carrier"], "SF");
            assert_eq!(call["data"]["order"], shipped["number"]);
        }
        if call["type"] == "order.cancelled" {
            assert_eq!(call["data"]["reason"], "out of season");
        }
    }
    let position = |kind: &str| told.iter().position(|(k, _)| k == kind).unwrap();
    assert_eq!(received.len(), 3, "nothing about the staff's own order: {told:?}");
    assert!(position("order.shipped") < position("order.delivered"), "in order per order: {told:?}");
    assert_eq!(told[position("order.shipped")].1, "T-1");
    assert_eq!(told[position("order.delivered")].1, "T-1");
    assert_eq!(told[position("order.cancelled")].1, "T-2");

    // The channel's callback log, and one sent again on request.
    let log = app.get(&format!("/api/v1/channels/{}/callbacks", tmall["id"])).await;
    assert_eq!(log.status, StatusCode::OK, "{}", log.body);
    let items = log.body["items"].as_array().unwrap().clone();
    assert_eq!(items.len(), 3);
    assert!(items.iter().all(|d| d["status"] == "delivered" && d["last_status"] == 200), "{items:?}");
    let shipped_call = items.iter().find(|d| d["event_type"] == "shipment.shipped").expect("the shipped callback");
    let replay = format!("/api/v1/channels/{}/callbacks/{}/replay", tmall["id"], shipped_call["id"]);
    let replayed = app.post(&replay, json!({})).await;
    assert_eq!((replayed.status, replayed.body["status"].as_str()), (StatusCode::OK, Some("pending")));
    eventually(20, "the callback sent again", async || calls.0.lock().unwrap().len() >= 4).await;
    let again: Value = serde_json::from_slice(&calls.0.lock().unwrap()[3].1).unwrap();
    assert_eq!((again["type"].as_str(), again["data"]["external_ref"].as_str()), (Some("order.shipped"), Some("T-1")));
    let elsewhere = app.post(&format!("/api/v1/channels/999/callbacks/{}/replay", shipped_call["id"]), json!({})).await;
    assert_eq!(elsewhere.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_marketplace_sends_orders_in_its_own_json_read_through_the_channel_mapping() {
    let app = spawn_app().await;
    let (buyers, jd_buyers) = shop(&app).await;
    let mapping = json!({"external_ref": "/trade/tid", "lines": "/trade/orders", "sku": "/outer_sku_id",
        "quantity": "/num", "notes": "/trade/buyer_message",
        "ship_to": {"name": "/trade/receiver_name", "phone": "/trade/receiver_mobile", "line1": "/trade/receiver_address",
            "city": "/trade/receiver_city", "district": "/trade/receiver_district", "region": "/trade/receiver_state",
            "country": "CN"}});
    let (tmall, key) = channel(&app, "tmall", buyers, json!({"inbound_mapping": mapping})).await;
    let (_, jd_key) = channel(&app, "jd", jd_buyers, json!({})).await;
    let path = format!("/api/v1/channels/{}/orders", tmall["id"]);
    let trade = json!({"trade": {"tid": 4_012_345_678_u64, "buyer_message": "周末送", "receiver_name": "李雷",
        "receiver_mobile": "13912345678", "receiver_address": "淮海中路 100 号", "receiver_city": "上海市",
        "receiver_district": "黄浦区", "receiver_state": "Shanghai",
        "orders": [{"outer_sku_id": "TEA", "num": "3", "title": "龙井"}]}});

    let placed = app.post_as(&key, &path, trade.clone()).await;
    assert_eq!(placed.status, StatusCode::CREATED, "{}", placed.body);
    assert_eq!(placed.body["external_ref"], "4012345678");
    assert_eq!(placed.body["channel"], "tmall");
    assert_eq!(placed.body["lines"][0]["quantity"], 3);
    assert_eq!(placed.body["shipping_address"]["district"], "黄浦区");
    assert_eq!(placed.body["notes"], "周末送");
    let resent = app.post_as(&key, &path, trade.clone()).await;
    assert_eq!((resent.status, &resent.body["id"]), (StatusCode::OK, &placed.body["id"]));

    let mut broken = trade.clone();
    broken["trade"]["tid"] = json!(4_012_345_679_u64);
    broken["trade"]["orders"][0]["num"] = json!("three");
    let refused = app.post_as(&key, &path, broken).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(refused.error_fields(), ["lines[0].quantity"]);
    assert!(refused.body["errors"][0]["message"].as_str().unwrap().contains("/trade/orders/0/num"));
    assert_eq!(app.get_as(&key, "/api/v1/orders").await.body["items"].as_array().unwrap().len(), 1);

    let elsewhere = app.post_as(&jd_key, &path, trade).await;
    assert_eq!(elsewhere.status, StatusCode::NOT_FOUND, "another channel's door does not exist for jd's key");
}

#[tokio::test]
async fn an_admin_registers_a_channel_in_the_console_and_hands_its_partner_a_key() {
    let app = spawn_app().await;
    let (buyers, _) = shop(&app).await;
    let mut console = app.console_as("admin").await;
    let (status, page) = console.get("/channels").await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("<code>marketplace</code>"), "the kinds are listed");

    let (status, page) = console
        .post("/channels", &[("code", "Tmall"), ("name", "Tmall"), ("kind", "marketplace"), ("customer", "")])
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.contains("lower-case"), "the code's rule is shown");
    let (status, page) = console
        .post(
            "/channels",
            &[
                ("code", "tmall"),
                ("name", "天猫旗舰店"),
                ("kind", "marketplace"),
                ("customer", "TMALL-BUYERS"),
                ("callback_url", "https://partner.example.com/ordo"),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("chsec_"), "the callback secret is shown once");
    let listed = app.get("/api/v1/channels").await.body;
    let tmall = listed.as_array().unwrap().iter().find(|c| c["code"] == "tmall").unwrap().clone();
    assert_eq!(tmall["customer_id"], buyers);
    assert_eq!(tmall["callback_url"], "https://partner.example.com/ordo");

    let id = tmall["id"].as_i64().unwrap();
    let (status, page) = console.post(&format!("/channels/{id}/keys"), &[("name", "Tmall connector")]).await;
    assert_eq!(status, StatusCode::OK);
    let key =
        page.split("<code id=\"secret\"").nth(1).and_then(|s| s.split('>').nth(1)).and_then(|s| s.split('<').next());
    let key = key.expect("the key is on the page").to_string();
    let placed = app.post_as(&key, "/api/v1/orders", marketplace_order("C-1", 1)).await;
    assert_eq!((placed.status, placed.body["channel"].as_str()), (StatusCode::CREATED, Some("tmall")));

    // The inbound mapping is edited on the channel's page; what cannot be read is shown.
    let page_path = format!("/channels/{id}");
    let (status, page) =
        console.post(&page_path, &[("name", "天猫旗舰店"), ("inbound_mapping", "{\"lines\": 3")]).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.contains("{&#34;lines&#34;: 3</textarea>"), "what was typed is kept");
    assert!(page.contains("The mapping is not a mapping Ordo can read"), "and why it was refused");
    let mapping = r#"{"external_ref": "/tid", "lines": "/orders", "sku": "/outer_sku_id", "quantity": "/num"}"#;
    let (status, _) = console
        .post(
            &page_path,
            &[
                ("name", "天猫旗舰店"),
                ("callback_url", "https://partner.example.com/ordo"),
                ("inbound_mapping", mapping),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let saved = app.get(&format!("/api/v1/channels/{id}")).await.body;
    assert_eq!(saved["inbound_mapping"]["sku"], "/outer_sku_id");
    let (status, page) = console.get(&page_path).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("/outer_sku_id"), "the mapping is shown to edit");

    console.post(&format!("/channels/{id}/active"), &[("active", "false")]).await;
    assert_eq!(app.get(&format!("/api/v1/channels/{id}")).await.body["active"], false);
    let (_, page) = console.get("/orders/new").await;
    assert!(!page.contains("value=\"tmall\""), "a switched-off channel is not offered for new orders");
    let (status, _) = app.console_as("sales").await.get("/channels").await;
    assert_eq!(status, StatusCode::FORBIDDEN);
}

//! Order processing: rules, approval chains, holds, edits, split and merge.

use crate::helpers::{TestApp, spawn_app};
use reqwest::StatusCode;
use serde_json::{Value, json};

async fn rule(app: &TestApp, name: &str, condition: &str, actions: Value) -> i64 {
    let reply = app.post("/api/v1/rules", json!({"name": name, "condition": condition, "actions": actions})).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    reply.body["id"].as_i64().expect("rule id")
}

async fn place(app: &TestApp, customer: i64, lines: Value) -> Value {
    let reply = app.post("/api/v1/orders", json!({"customer_id": customer, "lines": lines})).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    reply.body
}

/// A shop with 10,000 units of W-1 at 100.00 (+13 % tax) in one warehouse.
async fn shop() -> TestApp {
    let app = spawn_app().await;
    app.product("W-1", "100.00").await;
    app.warehouse("SH").await;
    app.stock("SH", "W-1", 10_000).await;
    app
}

fn id(order: &Value) -> i64 {
    order["id"].as_i64().expect("order id")
}

#[tokio::test]
async fn a_rule_holds_a_large_order_until_a_manager_approves_it() {
    let app = shop().await;
    rule(
        &app,
        "large orders",
        r#"order.total > 10000 && customer.group != "vip""#,
        json!([{"kind": "require_approval", "role": "approver"}]),
    )
    .await;
    let retail = app.customer("C-1", "retail").await;
    let vip = app.customer("C-2", "vip").await;

    let large = place(&app, retail, json!([{"sku": "W-1", "quantity": 100}])).await;
    let from_vip = place(&app, vip, json!([{"sku": "W-1", "quantity": 100}])).await;

    assert_eq!(large["status"], "pending_approval");
    assert_eq!(large["approvals"][0]["role"], "approver");
    assert_eq!(from_vip["status"], "confirmed");
    assert_eq!(app.level("SH", "W-1").await["reserved"], 200, "a waiting order keeps its stock");

    let approver = app.token_for("approver").await;
    let inbox = app.get_as(&approver, "/api/v1/approvals?status=pending").await;
    assert_eq!(inbox.body["items"].as_array().map(Vec::len), Some(1), "{}", inbox.body);
    assert_eq!(inbox.body["items"][0]["order_id"], large["id"]);

    let sales = app.token_for("sales").await;
    let refused = app.post_as(&sales, &format!("/api/v1/orders/{}/approve", id(&large)), json!({})).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.body);

    let approved = app
        .post_as(&approver, &format!("/api/v1/orders/{}/approve", id(&large)), json!({"comment": "known customer"}))
        .await;
    assert_eq!(approved.status, StatusCode::OK, "{}", approved.body);
    assert_eq!(approved.body["status"], "confirmed");
    let events = app.get(&format!("/api/v1/orders/{}/events", id(&large))).await.body;
    let actions: Vec<&str> = events["items"].as_array().unwrap().iter().filter_map(|e| e["action"].as_str()).collect();
    assert_eq!(actions, ["placed", "reviewed", "approved"]);
}

#[tokio::test]
async fn a_two_step_chain_needs_both_approvals_in_order() {
    let app = shop().await;
    rule(&app, "manager", "order.total > 10000", json!([{"kind": "require_approval", "role": "approver", "step": 1}]))
        .await;
    rule(&app, "finance", "order.total > 100000", json!([{"kind": "require_approval", "role": "finance", "step": 2}]))
        .await;
    let customer = app.customer("C-1", "retail").await;
    let order = place(&app, customer, json!([{"sku": "W-1", "quantity": 1000}])).await;
    let steps: Vec<(i64, &str)> = order["approvals"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| (s["step"].as_i64().unwrap(), s["role"].as_str().unwrap()))
        .collect();
    assert_eq!(steps, [(1, "approver"), (2, "finance")]);

    let (approver, finance) = (app.token_for("approver").await, app.token_for("finance").await);
    let path = format!("/api/v1/orders/{}/approve", id(&order));
    assert!(app.get_as(&finance, "/api/v1/approvals").await.body["items"].as_array().unwrap().is_empty());
    let too_early = app.post_as(&finance, &path, json!({})).await;
    assert_eq!(too_early.status, StatusCode::FORBIDDEN);
    assert!(too_early.body["detail"].as_str().unwrap().contains("approver"), "{}", too_early.body);

    let first = app.post_as(&approver, &path, json!({})).await;
    assert_eq!(first.body["status"], "pending_approval", "{}", first.body);
    assert_eq!(app.get_as(&finance, "/api/v1/approvals").await.body["items"].as_array().unwrap().len(), 1);
    let second = app.post_as(&finance, &path, json!({"comment": "ok"})).await;
    assert_eq!(second.body["status"], "confirmed", "{}", second.body);
}

#[tokio::test]
async fn a_rejection_returns_the_order_for_editing_and_resubmission() {
    let app = shop().await;
    rule(&app, "large", "order.total > 10000", json!([{"kind": "require_approval", "role": "approver"}])).await;
    let customer = app.customer("C-1", "retail").await;
    let order = place(&app, customer, json!([{"sku": "W-1", "quantity": 100}])).await;
    let approver = app.token_for("approver").await;
    let reject = format!("/api/v1/orders/{}/reject", id(&order));

    let no_comment = app.post_as(&approver, &reject, json!({})).await;
    assert_eq!(no_comment.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(no_comment.error_fields(), ["comment"]);
    let rejected = app.post_as(&approver, &reject, json!({"comment": "too many; split it"})).await;
    assert_eq!(rejected.body["status"], "draft", "{}", rejected.body);

    let edited = app
        .patch(&format!("/api/v1/orders/{}", id(&order)), json!({"lines": [{"sku": "W-1", "quantity": 50}]}), None)
        .await;
    assert_eq!(edited.status, StatusCode::OK, "{}", edited.body);
    assert_eq!(edited.body["status"], "draft");
    assert_eq!(app.level("SH", "W-1").await["reserved"], 50);
    let submitted = app.post(&format!("/api/v1/orders/{}/submit", id(&order)), json!({})).await;
    assert_eq!(submitted.body["status"], "confirmed", "{}", submitted.body);
    assert_eq!(submitted.body["total"], "5650.00");

    let another = place(&app, customer, json!([{"sku": "W-1", "quantity": 200}])).await;
    let cancelled = app
        .post_as(
            &approver,
            &format!("/api/v1/orders/{}/reject", id(&another)),
            json!({"comment": "no", "cancel": true}),
        )
        .await;
    assert_eq!(cancelled.body["status"], "cancelled", "{}", cancelled.body);
    assert_eq!(app.level("SH", "W-1").await["reserved"], 50, "the cancelled order's stock is released");
    assert_eq!(app.ledger_mismatches().await, 0);
}

#[tokio::test]
async fn a_credit_breach_and_a_suspected_duplicate_wait_on_hold_with_their_reasons() {
    let app = shop().await;
    let reply = app
        .post(
            "/api/v1/customers",
            json!({"code": "TIGHT", "name": "Tight Credit", "currency": "CNY", "credit_limit": "1000.00",
                   "shipping_address": {"line1": "1 Nanjing Rd", "city": "Shanghai", "country": "CN"}}),
        )
        .await;
    let tight = reply.body["id"].as_i64().unwrap();
    let over = place(&app, tight, json!([{"sku": "W-1", "quantity": 10}])).await;
    assert_eq!(over["status"], "on_hold");
    assert_eq!(over["hold_reasons"][0]["code"], "credit_limit", "{}", over);

    let customer = app.customer("C-1", "retail").await;
    let first = place(&app, customer, json!([{"sku": "W-1", "quantity": 3}])).await;
    let again = place(&app, customer, json!([{"sku": "W-1", "quantity": 3}])).await;
    assert_eq!(first["status"], "confirmed");
    assert_eq!(again["status"], "on_hold");
    assert_eq!(again["hold_reasons"][0]["code"], "duplicate");
    assert!(again["hold_reasons"][0]["message"].as_str().unwrap().contains(first["number"].as_str().unwrap()));

    let held = app.get("/api/v1/orders?status=on_hold").await.body;
    assert_eq!(held["items"].as_array().unwrap().len(), 2);

    let release = format!("/api/v1/orders/{}/release", id(&again));
    let sales = app.token_for("sales").await;
    assert_eq!(app.post_as(&sales, &release, json!({"reason": "fine"})).await.status, StatusCode::FORBIDDEN);
    let approver = app.token_for("approver").await;
    assert_eq!(app.post_as(&approver, &release, json!({})).await.status, StatusCode::UNPROCESSABLE_ENTITY);
    let released = app.post_as(&approver, &release, json!({"reason": "customer confirmed a second delivery"})).await;
    assert_eq!(released.body["status"], "confirmed", "{}", released.body);
    assert_eq!(released.body["hold_reasons"], json!([]));
    let audit = app.get("/api/v1/audit?area=orders").await.body;
    assert!(
        audit["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["action"] == "order.released"
                && e["summary"].as_str().unwrap_or("").contains("customer confirmed"))
    );
}

#[tokio::test]
async fn an_edit_that_raises_the_total_over_a_threshold_needs_approval_again() {
    let app = shop().await;
    rule(&app, "large", "order.total > 10000", json!([{"kind": "require_approval", "role": "approver"}])).await;
    let customer = app.customer("C-1", "retail").await;
    let order = place(&app, customer, json!([{"sku": "W-1", "quantity": 10}])).await;
    assert_eq!(order["status"], "confirmed");
    let path = format!("/api/v1/orders/{}", id(&order));

    let stale = app.patch(&path, json!({"lines": [{"sku": "W-1", "quantity": 100}]}), Some("\"0\"")).await;
    assert_eq!(stale.status, StatusCode::PRECONDITION_FAILED);
    let short = app.patch(&path, json!({"lines": [{"sku": "W-1", "quantity": 20000}]}), None).await;
    assert_eq!(short.status, StatusCode::CONFLICT, "{}", short.body);
    assert_eq!(app.level("SH", "W-1").await["reserved"], 10, "a refused edit changes nothing");

    let etag = app.get(&path).await.headers["etag"].to_str().unwrap().to_string();
    let edited = app.patch(&path, json!({"lines": [{"sku": "W-1", "quantity": 100}]}), Some(&etag)).await;
    assert_eq!(edited.status, StatusCode::OK, "{}", edited.body);
    assert_eq!(edited.body["status"], "pending_approval");
    assert_eq!(edited.body["total"], "11300.00");
    assert_eq!(app.level("SH", "W-1").await["reserved"], 100);
    let events = app.get(&format!("{path}/events")).await.body;
    let edit = events["items"].as_array().unwrap().iter().find(|e| e["action"] == "edited").unwrap().clone();
    assert_eq!(edit["details"]["lines"], json!([{"sku": "W-1", "from": 10, "to": 100}]));
    assert_eq!(app.ledger_mismatches().await, 0);
}

fn line_sum(order: &Value) -> (f64, f64) {
    let lines = order["lines"].as_array().unwrap();
    let amount = |l: &Value, k: &str| l[k].as_str().unwrap().parse::<f64>().unwrap();
    (lines.iter().map(|l| amount(l, "line_total")).sum(), lines.iter().map(|l| amount(l, "tax")).sum())
}

fn assert_totals_add_up(order: &Value) {
    let (subtotal, tax) = line_sum(order);
    let amount = |k: &str| order[k].as_str().unwrap().parse::<f64>().unwrap();
    assert!((amount("subtotal") - subtotal).abs() < 1e-9, "{order}");
    assert!((amount("tax_total") - tax).abs() < 1e-9, "{order}");
    assert!((amount("total") - subtotal - tax).abs() < 1e-9, "{order}");
}

#[tokio::test]
async fn split_and_merge_keep_reservations_and_totals_exact() {
    let app = shop().await;
    app.product("G-7", "3.335").await;
    app.stock("SH", "G-7", 100).await;
    let customer = app.customer("C-1", "retail").await;
    let order = place(&app, customer, json!([{"sku": "W-1", "quantity": 10}, {"sku": "G-7", "quantity": 7}])).await;

    let split = app
        .post(&format!("/api/v1/orders/{}/split", id(&order)), json!({"lines": [{"sku": "G-7", "quantity": 3}]}))
        .await;
    assert_eq!(split.status, StatusCode::CREATED, "{}", split.body);
    let (original, part) = (&split.body["original"], &split.body["split"]);
    assert_eq!(original["lines"][1]["quantity"], 4);
    assert_eq!(part["lines"][0]["quantity"], 3);
    assert_eq!(part["split_from"], order["id"]);
    assert_totals_add_up(original);
    assert_totals_add_up(part);
    assert_eq!(part["lines"][0]["line_total"], "10.01", "3 × 3.335 = 10.005 rounds half up");
    assert_eq!(app.level("SH", "G-7").await["reserved"], 7, "the reservation moves, it is not released");

    let too_much = app
        .post(&format!("/api/v1/orders/{}/split", id(original)), json!({"lines": [{"sku": "G-7", "quantity": 9}]}))
        .await;
    assert_eq!(too_much.error_fields(), ["lines[0].quantity"]);

    let merged = app.post("/api/v1/orders/merge", json!({"order_ids": [part["id"], original["id"]]})).await;
    assert_eq!(merged.status, StatusCode::OK, "{}", merged.body);
    assert_eq!(merged.body["id"], order["id"], "the oldest order keeps its number");
    assert_eq!(merged.body["lines"].as_array().unwrap().len(), 3);
    assert_totals_add_up(&merged.body);
    let gone = app.get(&format!("/api/v1/orders/{}", id(part))).await.body;
    assert_eq!(gone["status"], "cancelled");
    assert_eq!(gone["merged_into"], order["id"]);
    assert_eq!(app.level("SH", "G-7").await["reserved"], 7);
    assert_eq!(app.level("SH", "W-1").await["reserved"], 10);
    assert_eq!(app.ledger_mismatches().await, 0);
}

#[tokio::test]
async fn a_rule_is_checked_on_save_and_can_be_tried_on_an_order() {
    let app = shop().await;
    let bad = app
        .post(
            "/api/v1/rules",
            json!({"name": "x", "condition": "order.total >", "actions": [{"kind": "tag", "tag": "big"}]}),
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(bad.error_fields(), ["condition"]);
    assert!(bad.body["errors"][0]["message"].as_str().unwrap().starts_with("line 1, column 14"), "{}", bad.body);
    let typo = app
        .post(
            "/api/v1/rules",
            json!({"name": "x", "condition": "order.totl > 1.0", "actions": [{"kind": "tag", "tag": "big"}]}),
        )
        .await;
    assert_eq!(typo.error_fields(), ["condition"]);

    let big = rule(
        &app,
        "tag big",
        "order.total > 1000",
        json!([{"kind": "tag", "tag": "big"}, {"kind": "route", "department": "key-accounts"}]),
    )
    .await;
    let customer = app.customer("C-1", "retail").await;
    let order = place(&app, customer, json!([{"sku": "W-1", "quantity": 20}])).await;
    assert_eq!(order["tags"], json!(["big"]));
    assert_eq!(order["department"], "key-accounts");
    let tried = app.post(&format!("/api/v1/rules/{big}/test"), json!({"order_id": order["id"]})).await;
    assert_eq!(tried.body["fired"], true, "{}", tried.body);
    assert_eq!(tried.body["explanation"], "order.total = 2260: the condition holds");

    let etag = app.get(&format!("/api/v1/rules/{big}")).await.headers["etag"].to_str().unwrap().to_string();
    let off = app
        .send(
            app.authed(app.client.put(app.url(&format!("/api/v1/rules/{big}"))))
                .header("If-Match", etag)
                .json(&json!({"enabled": false})),
        )
        .await;
    assert_eq!(off.body["enabled"], false, "{}", off.body);
    let history = app.get(&format!("/api/v1/rules/{big}/history")).await.body;
    let changes: Vec<&str> =
        history["items"].as_array().unwrap().iter().map(|r| r["change"].as_str().unwrap()).collect();
    assert_eq!(changes, ["created", "updated"]);
    let sales = app.token_for("sales").await;
    let refused = app
        .post_as(
            &sales,
            "/api/v1/rules",
            json!({"name": "n", "condition": "true", "actions": [{"kind": "tag", "tag": "t"}]}),
        )
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn an_order_waiting_without_stock_held_goes_on_hold_if_stock_is_gone_and_on_when_it_arrives() {
    let app = spawn_app().await;
    app.product("W-1", "100.00").await;
    app.warehouse("SH").await;
    app.stock("SH", "W-1", 30).await;
    let settings = app.put("/api/v1/settings/orders", json!({"reserve_while_waiting": false})).await;
    assert_eq!(settings.body["reserve_while_waiting"], false, "{}", settings.body);
    rule(&app, "large", "order.total > 2000", json!([{"kind": "require_approval", "role": "approver"}])).await;
    let customer = app.customer("C-1", "retail").await;

    let waiting = place(&app, customer, json!([{"sku": "W-1", "quantity": 20}])).await;
    assert_eq!(
        (waiting["status"].as_str(), waiting["stock_reserved"].as_bool()),
        (Some("pending_approval"), Some(false))
    );
    assert_eq!(app.level("SH", "W-1").await["reserved"], 0, "a waiting order holds no stock");
    let other = app.customer("C-2", "retail").await;
    place(&app, other, json!([{"sku": "W-1", "quantity": 15}])).await;

    let approver = app.token_for("approver").await;
    let approved = app.post_as(&approver, &format!("/api/v1/orders/{}/approve", id(&waiting)), json!({})).await;
    assert_eq!(approved.body["status"], "on_hold", "{}", approved.body);
    assert_eq!(approved.body["hold_reasons"][0]["code"], "stock");

    app.stock("SH", "W-1", 50).await;
    // What the scheduler does on its next run (its lease belongs to the server's own).
    let held = id(&waiting);
    let ctx = ordo_app::Ctx::new("system:stock-recheck", "test");
    let restocked = app.db.write(move |tx| ordo_app::jobs::recheck_stock_hold(tx, &ctx, held)).await.expect("recheck");
    assert!(restocked);
    let after = app.get(&format!("/api/v1/orders/{}", id(&waiting))).await.body;
    assert_eq!((after["status"].as_str(), after["stock_reserved"].as_bool()), (Some("confirmed"), Some(true)));
    assert_eq!(app.level("SH", "W-1").await["reserved"], 35);
    assert_eq!(app.ledger_mismatches().await, 0);
}

#[tokio::test]
async fn a_price_far_from_the_list_is_held_and_a_stale_approval_is_escalated() {
    let app = shop().await;
    let customer = app.customer("C-1", "retail").await;
    let cheap = place(&app, customer, json!([{"sku": "W-1", "quantity": 2, "unit_price": "50.00"}])).await;
    assert_eq!(cheap["status"], "on_hold");
    assert_eq!(cheap["hold_reasons"][0]["code"], "price_deviation");
    assert!(cheap["hold_reasons"][0]["message"].as_str().unwrap().contains("by 50%"), "{cheap}");
    let near = place(&app, customer, json!([{"sku": "W-1", "quantity": 3, "unit_price": "95.00"}])).await;
    assert_eq!(near["status"], "confirmed", "within the 10 % tolerance");

    app.put("/api/v1/settings/orders", json!({"escalate_after_minutes": 60, "escalate_to": "finance"})).await;
    rule(&app, "large", "order.total > 1000", json!([{"kind": "require_approval", "role": "approver"}])).await;
    let waiting = place(&app, customer, json!([{"sku": "W-1", "quantity": 20}])).await;
    let finance = app.token_for("finance").await;
    assert!(app.get_as(&finance, "/api/v1/approvals").await.body["items"].as_array().unwrap().is_empty());

    // Two hours on, the scheduler escalates the step to finance.
    let mut ctx = ordo_app::Ctx::new("system:escalation", "test");
    ctx.now = ctx.now.plus_seconds(2 * 3600);
    let escalated = app
        .db
        .write(move |tx| {
            let policy = ordo_app::settings::order_policy(tx)?;
            ordo_app::approvals::escalate_stale_steps(tx, &ctx, &policy)
        })
        .await
        .expect("escalate");
    assert_eq!(escalated, 1);
    let inbox = app.get_as(&finance, "/api/v1/approvals").await.body;
    assert_eq!(inbox["items"][0]["escalated_to"], "finance", "{inbox}");
    let approved = app.post_as(&finance, &format!("/api/v1/orders/{}/approve", id(&waiting)), json!({})).await;
    assert_eq!(approved.body["status"], "confirmed", "{}", approved.body);
    let events = app.get(&format!("/api/v1/orders/{}/events", id(&waiting))).await.body;
    assert!(events["items"].as_array().unwrap().iter().any(|e| e["action"] == "escalated"));
}

#[tokio::test]
async fn a_rule_on_product_tags_routes_fragile_orders_to_packing() {
    let app = shop().await;
    let vase = app
        .post("/api/v1/products", json!({"sku": "VASE-1", "name": "青花瓷瓶", "price": "300", "currency": "CNY", "tags": [" Fragile ", "ceramics", "fragile"]}))
        .await;
    assert_eq!(vase.body["tags"], json!(["fragile", "ceramics"]), "{}", vase.body);
    app.stock("SH", "VASE-1", 10).await;
    rule(
        &app,
        "fragile",
        r#""fragile" in order.product_tags"#,
        json!([{"kind": "route", "department": "packing"}, {"kind": "tag", "tag": "handle-with-care"}]),
    )
    .await;
    let customer = app.customer("C-1", "retail").await;

    let with_vase =
        place(&app, customer, json!([{"sku": "W-1", "quantity": 1}, {"sku": "VASE-1", "quantity": 1}])).await;
    let without = place(&app, customer, json!([{"sku": "W-1", "quantity": 2}])).await;

    assert_eq!(
        (with_vase["department"].as_str(), with_vase["tags"].clone()),
        (Some("packing"), json!(["handle-with-care"]))
    );
    assert_eq!(without["department"], Value::Null);
    let packing = app.get("/api/v1/orders?department=packing").await.body;
    assert_eq!(packing["items"].as_array().unwrap().len(), 1);
    assert_eq!(app.get("/api/v1/queues").await.body["to_pick"], 2);
}

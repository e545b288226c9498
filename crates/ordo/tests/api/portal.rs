//! The customer portal, as a customer's buyer uses it: invited by staff, sets a password,
//! shops at their company's prices, checks out, and sees only their own company's records.

use crate::helpers::{Console, TestApp, spawn_app};
use reqwest::StatusCode;
use serde_json::json;

/// Staff invite `email` for `customer_id`; returns the invitation link's path.
async fn invite(app: &TestApp, customer_id: i64, email: &str) -> String {
    let reply = app
        .post(&format!("/api/v1/customers/{customer_id}/portal-users"), json!({"email": email, "name": "王芳"}))
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    let link = reply.body["link"].as_str().expect("an invitation link").to_string();
    let path = link.strip_prefix(&app.base).expect("the link points at this server").to_string();
    assert!(path.starts_with("/portal/invite/"), "{path}");
    path
}

/// A browser session of an invited buyer who set their password.
async fn buyer(app: &TestApp, customer_id: i64, email: &str) -> Console {
    let path = invite(app, customer_id, email).await;
    let mut browser = Console::new(&app.base).await;
    let (status, page) = browser.get(&path).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    let (status, location) =
        browser.post(&path, &[("password", "my own long password"), ("confirm", "my own long password")]).await;
    assert_eq!((status, location.as_str()), (StatusCode::SEE_OTHER, "/portal"));
    browser
}

/// An order placed by staff for a customer; returns (id, number).
async fn staff_order(app: &TestApp, customer_id: i64, sku: &str, quantity: i64) -> (i64, String) {
    let reply = app
        .post("/api/v1/orders", json!({"customer_id": customer_id, "lines": [{"sku": sku, "quantity": quantity}]}))
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    (reply.body["id"].as_i64().expect("id"), reply.body["number"].as_str().expect("number").to_string())
}

#[tokio::test]
async fn an_invited_buyer_shops_at_their_price_and_places_an_order_once() {
    let app = spawn_app().await;
    app.product("TEA-1", "20.00").await;
    app.warehouse("SH").await;
    app.stock("SH", "TEA-1", 100).await;
    let customer = app.customer("HUALIAN", "wholesale").await;
    let list = json!({"code": "WHOLESALE", "name": "Wholesale", "currency": "CNY", "customer_group": "wholesale",
                      "items": [{"sku": "TEA-1", "price": "16.00", "breaks": [{"min_quantity": 10, "price": "15.00"}]}]});
    assert_eq!(app.post("/api/v1/price-lists", list).await.status, StatusCode::CREATED);
    let mut browser = buyer(&app, customer, "buyer@hualian.example").await;

    let (status, shop) = browser.get("/portal").await;
    assert_eq!(status, StatusCode::OK);
    assert!(shop.contains("TEA-1") && shop.contains("¥16.00"), "the wholesale price is shown: {shop}");
    assert!(shop.contains("≥10: ¥15.00"), "and the quantity break");
    assert!(shop.contains("¥20.00"), "with the catalogue price it saves on");

    let (status, _) = browser.post("/portal/cart/items", &[("sku", "TEA-1"), ("quantity", "3"), ("mode", "add")]).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let (status, cart) = browser.get("/portal/cart").await;
    assert_eq!(status, StatusCode::OK);
    assert!(cart.contains("¥48.00"), "3 × 16.00 before tax: {cart}");
    assert!(cart.contains("1 Nanjing Rd"), "the company's address is offered");

    let checkout = [("address", "0"), ("payment_method", "bank_transfer"), ("notes", "PO 778")];
    let (status, location) = browser.post("/portal/checkout", &checkout).await;
    assert_eq!(status, StatusCode::SEE_OTHER, "{location}");
    let order_id: i64 = location.strip_prefix("/portal/orders/").and_then(|id| id.parse().ok()).expect("order page");
    let order = app.get(&format!("/api/v1/orders/{order_id}")).await.body;
    assert_eq!(order["channel"], "portal");
    assert_eq!(order["customer_id"], customer);
    assert_eq!(order["subtotal"], "48.00");
    assert_eq!(order["payment_method"], "bank_transfer");
    assert_eq!(order["created_by"], "portal:buyer@hualian.example");
    assert_eq!(app.level("SH", "TEA-1").await["reserved"], 3, "the stock is reserved like any order's");

    // The same checkout sent again finds the cart empty: still one order.
    let (status, location) = browser.post("/portal/checkout", &checkout).await;
    assert_eq!((status, location.as_str()), (StatusCode::SEE_OTHER, "/portal/orders"));
    assert_eq!(app.order_count().await, 1);

    let (status, page) = browser.get(&format!("/portal/orders/{order_id}")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains(order["number"].as_str().expect("number")) && page.contains("PO 778"));

    // Order again: the lines go back to the cart at today's prices.
    let (status, location) = browser.post(&format!("/portal/orders/{order_id}/reorder"), &[]).await;
    assert_eq!((status, location.as_str()), (StatusCode::SEE_OTHER, "/portal/cart"));
    let (_, cart) = browser.get("/portal/cart").await;
    assert!(cart.contains("¥48.00"), "{cart}");
}

#[tokio::test]
async fn a_buyer_sees_only_their_own_companys_orders_and_invoices() {
    let app = spawn_app().await;
    app.product("TEA-1", "20.00").await;
    app.warehouse("SH").await;
    app.stock("SH", "TEA-1", 100).await;
    let mine = app.customer("MINE", "wholesale").await;
    let theirs = app.customer("THEIRS", "wholesale").await;
    let (my_order, my_number) = staff_order(&app, mine, "TEA-1", 1).await;
    let (their_order, their_number) = staff_order(&app, theirs, "TEA-1", 2).await;
    let invoice = app.post(&format!("/api/v1/orders/{their_order}/invoices"), json!({})).await;
    assert_eq!(invoice.status, StatusCode::CREATED, "{}", invoice.body);
    let their_invoice = invoice.body["id"].as_i64().expect("invoice id");
    let mut browser = buyer(&app, mine, "buyer@mine.example").await;

    let (_, list) = browser.get("/portal/orders").await;
    assert!(list.contains(&my_number) && !list.contains(&their_number), "{list}");

    // Guessing the other company's ids finds nothing, in exactly the words a made-up id gets.
    let (status, guessed) = browser.get(&format!("/portal/orders/{their_order}")).await;
    let (_, made_up) = browser.get("/portal/orders/999999").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(guessed, made_up, "another company's order looks like no order at all");
    assert!(!guessed.contains(&their_number));
    for path in [format!("/portal/invoices/{their_invoice}"), format!("/portal/invoices/{their_invoice}/pdf")] {
        assert_eq!(browser.get(&path).await.0, StatusCode::NOT_FOUND, "{path}");
    }
    for action in ["reorder", "cancel", "return", "feedback"] {
        let (status, _) = browser.post(&format!("/portal/orders/{their_order}/{action}"), &[("rating", "1")]).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{action} on another company's order");
    }
    let (_, invoices) = browser.get("/portal/invoices").await;
    assert!(!invoices.contains(&their_number));
    assert_eq!(app.get(&format!("/api/v1/orders/{their_order}")).await.body["status"], "confirmed", "untouched");
    assert_eq!(browser.get(&format!("/portal/orders/{my_order}")).await.0, StatusCode::OK);

    // The portal session opens no console page, even sent as the console's cookie, and no API.
    let (status, location) = browser.get("/orders").await;
    assert_eq!((status, location.as_str()), (StatusCode::SEE_OTHER, "/login?next=%2Forders"));
    let session = browser.cookie("ordo_portal").expect("a portal session");
    browser.set_cookie("ordo_session", &session);
    let (status, location) = browser.get("/orders").await;
    assert_eq!((status, location.as_str()), (StatusCode::SEE_OTHER, "/portal"));
    let (status, _) = browser.get("/api/v1/orders").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn each_door_refuses_the_other_kind_of_account() {
    let app = spawn_app().await;
    let customer = app.customer("DOOR", "retail").await;
    buyer(&app, customer, "buyer@door.example").await;
    let mut browser = Console::new(&app.base).await;
    let staff_login = [("email", "buyer@door.example"), ("password", "my own long password"), ("next", "/")];
    assert_eq!(browser.post("/login", &staff_login).await.0, StatusCode::UNAUTHORIZED, "a buyer is not staff");
    let staff_password = ordo::create_user(&app.db, "clerk@example.com", "sales", None, "test").await.expect("user");
    let portal_login = [("email", "clerk@example.com"), ("password", staff_password.as_str()), ("next", "/portal")];
    assert_eq!(browser.post("/portal/login", &portal_login).await.0, StatusCode::UNAUTHORIZED, "staff are not buyers");
    let right = [("email", "buyer@door.example"), ("password", "my own long password"), ("next", "/portal/orders")];
    let (status, location) = browser.post("/portal/login", &right).await;
    assert_eq!((status, location.as_str()), (StatusCode::SEE_OTHER, "/portal/orders"));
}

#[tokio::test]
async fn an_invitation_link_works_once_and_switching_a_buyer_off_ends_their_session() {
    let app = spawn_app().await;
    let customer = app.customer("LINKS", "retail").await;
    let first = invite(&app, customer, "buyer@links.example").await;
    let second = invite(&app, customer, "buyer@links.example").await;
    let mut browser = Console::new(&app.base).await;
    assert_eq!(browser.get(&first).await.0, StatusCode::NOT_FOUND, "a new invitation replaces the old link");
    let forged = format!("{}0", second.trim_end_matches(|c: char| c.is_ascii_hexdigit()));
    assert_eq!(browser.get(&forged).await.0, StatusCode::NOT_FOUND, "a forged link opens nothing");
    let password = [("password", "my own long password"), ("confirm", "my own long password")];
    assert_eq!(browser.post(&second, &password).await.0, StatusCode::SEE_OTHER);
    assert_eq!(browser.post(&second, &password).await.0, StatusCode::NOT_FOUND, "the link is used up");
    assert_eq!(browser.get("/portal").await.0, StatusCode::OK);

    let users = app.get(&format!("/api/v1/customers/{customer}/portal-users")).await;
    assert_eq!(users.body[0]["status"], "active", "{}", users.body);
    let user_id = users.body[0]["id"].as_i64().expect("id");
    let off = app
        .send(app.authed(app.client.delete(app.url(&format!("/api/v1/customers/{customer}/portal-users/{user_id}")))))
        .await;
    assert_eq!(off.status, StatusCode::OK, "{}", off.body);
    assert_eq!(off.body["status"], "disabled");
    let (status, location) = browser.get("/portal").await;
    assert_eq!((status, location.as_str()), (StatusCode::SEE_OTHER, "/portal/login?next=%2Fportal"));
}

#[tokio::test]
async fn bad_invitations_and_cart_input_are_refused_and_change_nothing() {
    let app = spawn_app().await;
    let customer = app.customer("BAD", "retail").await;
    let reply =
        app.post(&format!("/api/v1/customers/{customer}/portal-users"), json!({"email": "not-an-address"})).await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(reply.error_fields(), vec!["email"]);
    let reply = app.post("/api/v1/customers/999999/portal-users", json!({"email": "a@b.example"})).await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);
    ordo::create_user(&app.db, "staff@example.com", "sales", None, "test").await.expect("user");
    let reply =
        app.post(&format!("/api/v1/customers/{customer}/portal-users"), json!({"email": "staff@example.com"})).await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY, "a staff e-mail cannot become a buyer");
    assert_eq!(app.get(&format!("/api/v1/customers/{customer}/portal-users")).await.body, json!([]));

    app.product("TEA-1", "20.00").await;
    let mut browser = buyer(&app, customer, "buyer@bad.example").await;
    let (status, page) = browser.post("/portal/cart/items", &[("sku", "NOPE"), ("quantity", "1")]).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.contains("not in the catalogue"), "{page}");
    let (status, _) = browser.post("/portal/cart/items", &[("sku", "TEA-1"), ("quantity", "-2")]).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let (_, cart) = browser.get("/portal/cart").await;
    assert!(cart.contains("class=\"empty\""), "nothing went in: {cart}");
    let (status, location) = browser.post("/portal/checkout", &[("address", "0")]).await;
    assert_eq!((status, location.as_str()), (StatusCode::SEE_OTHER, "/portal/orders"), "an empty cart places nothing");
    assert_eq!(app.order_count().await, 0);
}

#[tokio::test]
async fn a_buyer_downloads_their_invoices_and_statement() {
    let app = spawn_app().await;
    app.product("TEA-1", "20.00").await;
    app.warehouse("SH").await;
    app.stock("SH", "TEA-1", 10).await;
    let customer = app.customer("STMT", "wholesale").await;
    let (order, _) = staff_order(&app, customer, "TEA-1", 2).await;
    let invoice = app.post(&format!("/api/v1/orders/{order}/invoices"), json!({})).await;
    assert_eq!(invoice.status, StatusCode::CREATED, "{}", invoice.body);
    let (id, number) = (invoice.body["id"].as_i64().expect("id"), invoice.body["number"].as_str().expect("no"));
    let mut browser = buyer(&app, customer, "buyer@stmt.example").await;

    let (_, list) = browser.get("/portal/invoices").await;
    assert!(list.contains(number), "{list}");
    let (status, print) = browser.get(&format!("/portal/invoices/{id}")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(print.contains(number) && print.contains("45.20"), "2 × 20.00 + 13 % tax");
    let (status, _) = browser.get(&format!("/portal/invoices/{id}/pdf")).await;
    assert_eq!(status, StatusCode::OK);
    let (status, csv) = browser.get("/portal/statement.csv").await;
    assert_eq!(status, StatusCode::OK);
    assert!(csv.contains(number) && csv.contains("45.20"), "{csv}");
    let (_, page) = browser.get("/portal/statement").await;
    assert!(page.contains("¥45.20"), "the closing balance is what is owed: {page}");
}

/// Pay now: the buyer pays what is due online from the order page and is sent back to it;
/// a declined attempt is shown and can be tried again; another company's order cannot be
/// paid (or even found) from this account.
#[tokio::test]
async fn a_buyer_pays_an_order_online_and_tries_again_after_a_decline() {
    let app = spawn_app().await;
    app.product("TEA-1", "100.00").await;
    app.warehouse("SH").await;
    app.stock("SH", "TEA-1", 10).await;
    let customer = app.customer("HUALIAN", "retail").await;
    let (order_id, _) = staff_order(&app, customer, "TEA-1", 1).await;
    let mut browser = buyer(&app, customer, "buyer@hualian.example").await;
    let order_page = format!("/portal/orders/{order_id}");
    let (_, page) = browser.get(&order_page).await;
    assert!(page.contains("id=\"pay-sandbox\"") && page.contains("¥113.00"), "what is due, tax included: {page}");

    let (status, provider) = browser.post(&format!("{order_page}/pay"), &[("method", "sandbox")]).await;
    assert_eq!(status, StatusCode::SEE_OTHER, "{provider}");
    assert!(
        provider.starts_with("/sandbox/pay/") && provider.ends_with(&format!("?return={order_page}")),
        "{provider}"
    );
    let (status, _) = browser.post(&provider, &[("outcome", "fail"), ("reason", "card declined")]).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let (_, at_provider) = browser.get(&provider).await;
    assert!(at_provider.contains(&format!("href=\"{order_page}\"")), "the provider links back: {at_provider}");
    let (_, page) = browser.get(&order_page).await;
    assert!(page.contains("card declined") && page.contains("id=\"pay-sandbox\""), "shown, and it can be retried");

    let (_, provider) = browser.post(&format!("{order_page}/pay"), &[("method", "sandbox")]).await;
    let (status, _) = browser.post(&provider, &[("outcome", "pay")]).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let order = app.get(&format!("/api/v1/orders/{order_id}")).await.body;
    assert_eq!((order["payment_status"].as_str(), order["amounts"]["paid"].as_str()), (Some("paid"), Some("113.00")));
    let (_, page) = browser.get(&order_page).await;
    assert!(!page.contains("id=\"pay-sandbox\""), "nothing is left to pay");
    let (status, _) = browser.post(&format!("{order_page}/pay"), &[("method", "sandbox")]).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "a second payment is refused");

    let other = app.customer("OTHER", "retail").await;
    let (other_order, _) = staff_order(&app, other, "TEA-1", 1).await;
    let (status, _) = browser.post(&format!("/portal/orders/{other_order}/pay"), &[("method", "sandbox")]).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let payments = app.get(&format!("/api/v1/orders/{other_order}/payments")).await.body;
    assert_eq!(payments["items"], json!([]), "nothing was opened on it");
}

/// With mail on, the invitation goes out by e-mail in the buyer's language, and its link
/// opens the portal's set-password page.
#[tokio::test]
async fn a_buyer_is_invited_by_email_in_their_language_and_the_link_lets_them_in() {
    use crate::integrations::{decode, eventually, smtp_sink};
    let app = spawn_app().await;
    let (port, inbox) = smtp_sink().await;
    let settings = json!({"enabled": true, "host": "127.0.0.1", "port": port, "security": "none",
        "from_address": "orders@teashop.cn", "from_name": "Tea Shop"});
    assert_eq!(app.put("/api/v1/settings/mail", settings).await.status, StatusCode::OK);
    let customer = app.customer("HUALIAN", "wholesale").await;
    let invited = app
        .post(
            &format!("/api/v1/customers/{customer}/portal-users"),
            json!({"email": "wang@hualian.example", "name": "王芳", "locale": "zh-CN"}),
        )
        .await;
    assert_eq!(invited.status, StatusCode::CREATED, "{}", invited.body);

    eventually(15, "the invitation e-mail", async || {
        inbox.lock().unwrap().iter().any(|(to, _)| to == &["wang@hualian.example"])
    })
    .await;
    let mail = inbox.lock().unwrap().iter().find(|(to, _)| to == &["wang@hualian.example"]).map(|(_, m)| decode(m));
    let (subject, body) = mail.expect("sent");
    assert_eq!(subject, "Customer HUALIAN：客户自助门户邀请");
    assert!(body.starts_with("王芳 您好") && body.contains("7 天内有效"), "{body}");
    let link = body.lines().find(|l| l.contains("/portal/invite/")).expect("the link is in the mail").trim();
    assert_eq!(link, invited.body["link"].as_str().unwrap(), "the same link staff were shown");
    let path = link.strip_prefix(&app.base).expect("it points at this server");
    let mut browser = Console::new(&app.base).await;
    let (status, page) = browser.get(path).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("name=\"password\""), "the set-password form: {page}");
    let events = app.get("/api/v1/events?type=portal.invited").await;
    assert_eq!(events.body["items"][0]["data"]["email"], "wang@hualian.example");
    assert!(!events.body.to_string().contains(path.trim_start_matches("/portal/invite/")), "no token in the event");
}

/// Order lists: the buyer keeps the cart as a list of their company's, puts it back in the
/// cart another day, and cannot use (or even find) another company's list; lists the
/// seller shares are offered but not deleted from here.
#[tokio::test]
async fn a_buyer_keeps_an_order_list_and_puts_it_in_the_cart_again() {
    let app = spawn_app().await;
    app.product("TEA-1", "20.00").await;
    app.product("POT", "80.00").await;
    app.warehouse("SH").await;
    app.stock("SH", "TEA-1", 100).await;
    app.stock("SH", "POT", 100).await;
    let customer = app.customer("HUALIAN", "retail").await;
    let other = app.customer("OTHER", "retail").await;
    let theirs = app
        .post(
            "/api/v1/order-templates",
            json!({"name": "Theirs", "customer_id": other, "lines": [{"sku": "POT", "quantity": 9}]}),
        )
        .await;
    assert_eq!(theirs.status, StatusCode::CREATED, "{}", theirs.body);
    let shared = app
        .post("/api/v1/order-templates", json!({"name": "Starter kit", "lines": [{"sku": "TEA-1", "quantity": 1}]}))
        .await;
    assert_eq!(shared.status, StatusCode::CREATED, "{}", shared.body);
    let mut browser = buyer(&app, customer, "buyer@hualian.example").await;

    let (status, page) = browser.post("/portal/lists", &[("name", "Weekly")]).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.contains("the cart is empty"), "{page}");
    browser.post("/portal/cart/items", &[("sku", "TEA-1"), ("quantity", "3"), ("mode", "add")]).await;
    browser.post("/portal/cart/items", &[("sku", "POT"), ("quantity", "1"), ("mode", "add")]).await;
    let (status, location) = browser.post("/portal/lists", &[("name", "Weekly restock")]).await;
    assert_eq!((status, location.as_str()), (StatusCode::SEE_OTHER, "/portal/lists"));
    let kept = app.get(&format!("/api/v1/order-templates?customer_id={customer}")).await.body;
    let weekly = kept["items"].as_array().unwrap().iter().find(|t| t["name"] == "Weekly restock").cloned().unwrap();
    assert_eq!(weekly["customer_id"], customer, "the company's own list, which staff see too");
    assert_eq!(weekly["lines"], json!([{"sku": "TEA-1", "quantity": 3}, {"sku": "POT", "quantity": 1}]));

    for sku in ["TEA-1", "POT"] {
        browser.post("/portal/cart/items", &[("sku", sku), ("quantity", "0"), ("mode", "set")]).await;
    }
    let (_, page) = browser.get("/portal/lists").await;
    assert!(page.contains("Weekly restock") && page.contains("Starter kit"), "its own and the shared one");
    assert!(!page.contains("Theirs"), "not another company's");
    let (status, location) = browser.post(&format!("/portal/lists/{}/cart", weekly["id"]), &[]).await;
    assert_eq!((status, location.as_str()), (StatusCode::SEE_OTHER, "/portal/cart"));
    let (_, cart) = browser.get("/portal/cart").await;
    assert!(cart.contains("¥140.00"), "3 × 20 + 80 at today's prices: {cart}");

    let (status, _) = browser.post(&format!("/portal/lists/{}/cart", theirs.body["id"]), &[]).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = browser.post(&format!("/portal/lists/{}/delete", theirs.body["id"]), &[]).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = browser.post(&format!("/portal/lists/{}/delete", shared.body["id"]), &[]).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "the seller's list stays");
    let (status, _) = browser.post(&format!("/portal/lists/{}/delete", weekly["id"]), &[]).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let left = app.get("/api/v1/order-templates").await.body["items"].as_array().unwrap().len();
    assert_eq!(left, 2, "only the buyer's own list went");
}

use crate::helpers::{Console, form_body, spawn_app};
use reqwest::StatusCode;

#[tokio::test]
async fn a_new_user_signs_in_changes_the_one_time_password_and_sees_the_dashboard() {
    let app = spawn_app().await;
    let password = ordo::create_user(&app.db, "ana@example.com", "sales", Some("Ana"), "test").await.unwrap();
    let mut console = Console::new(&app.base).await;

    console.sign_in_first_time("ana@example.com", &password).await;
    let (status, page) = console.get("/").await;

    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("Dashboard") && page.contains("Ana"), "{page}");
}

#[tokio::test]
async fn pages_need_a_session_and_send_visitors_to_sign_in() {
    let app = spawn_app().await;
    let mut console = Console::new(&app.base).await;

    let (status, location) = console.get("/orders?status=confirmed").await;

    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(location, "/login?next=%2Forders");
}

#[tokio::test]
async fn a_wrong_password_is_refused_and_five_in_a_row_lock_the_account() {
    let app = spawn_app().await;
    let password = ordo::create_user(&app.db, "bo@example.com", "viewer", None, "test").await.unwrap();
    let mut console = Console::new(&app.base).await;

    let (first, page) = console.post("/login", &[("email", "bo@example.com"), ("password", "guess")]).await;
    for _ in 0..4 {
        console.post("/login", &[("email", "bo@example.com"), ("password", "guess")]).await;
    }
    let (locked, locked_page) = console.post("/login", &[("email", "bo@example.com"), ("password", &password)]).await;

    assert_eq!(first, StatusCode::UNAUTHORIZED);
    assert!(page.contains("Wrong e-mail or password"));
    assert_eq!(locked, StatusCode::UNAUTHORIZED, "even the right password waits out the lock");
    assert!(locked_page.contains("Too many failed sign-ins"));
}

#[tokio::test]
async fn a_form_without_the_csrf_token_is_refused() {
    let app = spawn_app().await;
    let mut console = app.console_as("admin").await;

    let (status, _) = console.post_raw("/customers/new", form_body(&[("code", "X1"), ("name", "Sneaky")])).await;
    let (wrong, _) =
        console.post_raw("/customers/new", form_body(&[("csrf", "0000"), ("code", "X1"), ("name", "Sneaky")])).await;
    let (list_status, list) = console.get("/customers").await;

    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(wrong, StatusCode::FORBIDDEN);
    assert_eq!(list_status, StatusCode::OK);
    assert!(!list.contains("Sneaky"));
}

#[tokio::test]
async fn an_order_is_placed_found_and_cancelled_from_the_console() {
    let app = spawn_app().await;
    app.product("TEA-1", "12.50").await;
    app.product("CUP-1", "8").await;
    app.warehouse("SH").await;
    app.stock("SH", "TEA-1", 10).await;
    app.stock("SH", "CUP-1", 10).await;
    app.customer("C-100", "retail").await;
    let mut console = app.console_as("sales").await;

    let (_, suggestions) = console.get("/orders/new/skus?sku=tea").await;
    assert!(
        suggestions.contains("value=\"TEA-1\"") && suggestions.contains("¥12.50") && suggestions.contains("SH 10"),
        "{suggestions}"
    );
    let (_, customers) = console.get("/orders/new/customers?customer=c-10").await;
    assert!(customers.contains("C-100 — Customer C-100"), "{customers}");
    // The same form is previewed, then placed.
    let form = [
        ("customer", "C-100 — Customer C-100"),
        ("channel", "phone"),
        ("sku", "TEA-1"),
        ("quantity", "2"),
        ("unit_price", ""),
        ("sku", "CUP-1"),
        ("quantity", "1"),
        ("unit_price", ""),
    ];
    let (preview_status, preview) = console.post("/orders/new/preview", &form).await;
    let (placed, location) = console.post("/orders/new", &form).await;
    let (_, detail) = console.get(&location).await;
    let number =
        detail.split("Order SO-").nth(1).map(|rest| format!("SO-{}", &rest[..11])).expect("the number on the page");
    let (_, found) = console.get(&format!("/orders?q={number}")).await;
    let id = location.rsplit('/').next().unwrap().to_string();
    let (cancelled, _) = console.post(&format!("/orders/{id}/cancel"), &[("reason", "phoned back")]).await;
    let (_, after) = console.get(&location).await;

    assert_eq!(preview_status, StatusCode::OK);
    assert!(preview.contains("¥33.00") && preview.contains("In stock"), "{preview}");
    assert_eq!(placed, StatusCode::SEE_OTHER, "{location}");
    assert!(detail.contains("¥37.29"), "2 × 12.50 + 8 = 33.00, plus 13 % tax");
    assert!(found.contains(&number));
    assert_eq!(cancelled, StatusCode::SEE_OTHER);
    assert!(after.contains("phoned back") && after.contains("badge cancelled"));
    assert_eq!(app.level("SH", "TEA-1").await["reserved"], 0);
}

#[tokio::test]
async fn a_bad_order_form_names_the_field_and_places_nothing() {
    let app = spawn_app().await;
    app.customer("C-1", "retail").await;
    let mut console = app.console_as("sales").await;

    let (status, page) = console
        .post("/orders/new", &[("customer", "C-1"), ("sku", "NOPE"), ("quantity", "0"), ("unit_price", "")])
        .await;

    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.contains("lines[0].quantity"), "{page}");
    assert_eq!(app.order_count().await, 0);
}

#[tokio::test]
async fn pages_speak_the_users_language() {
    let app = spawn_app().await;
    let mut console = app.console_as("viewer").await;

    console.post("/locale", &[("locale", "zh-CN")]).await;
    let (_, simplified) = console.get("/orders").await;
    console.post("/locale", &[("locale", "zh-TW")]).await;
    let (_, traditional) = console.get("/orders").await;

    assert!(simplified.contains("lang=\"zh-CN\"") && simplified.contains("订单"));
    assert!(traditional.contains("lang=\"zh-TW\"") && traditional.contains("訂單"));
}

#[tokio::test]
async fn the_order_list_exports_the_current_filter_as_csv() {
    let app = spawn_app().await;
    app.product("TEA-1", "10").await;
    app.warehouse("SH").await;
    app.stock("SH", "TEA-1", 10).await;
    let customer = app.customer("C-1", "retail").await;
    app.post("/api/v1/orders", serde_json::json!({"customer_id": customer, "external_ref": "=cmd()", "lines": [{"sku": "TEA-1", "quantity": 1}]})).await;
    let mut console = app.console_as("viewer").await;

    let (status, csv) = console.get("/orders.csv?status=confirmed").await;

    assert_eq!(status, StatusCode::OK);
    let rows: Vec<&str> = csv.lines().collect();
    assert_eq!(rows.len(), 2);
    assert!(rows[1].contains(",'=cmd(),"), "formulas are neutralised: {}", rows[1]);
}

fn between<'a>(text: &'a str, start: &str, end: &str) -> &'a str {
    let from = text.find(start).map(|i| i + start.len()).unwrap_or_else(|| panic!("{start} not in page"));
    &text[from..from + text[from..].find(end).expect("end marker")]
}

#[tokio::test]
async fn two_factor_sign_in_needs_the_authenticator_code_or_a_recovery_code() {
    use ordo_app::users::totp;
    let app = spawn_app().await;
    let password = ordo::create_user(&app.db, "kim@example.com", "sales", None, "test").await.unwrap();
    let mut console = Console::new(&app.base).await;
    console.sign_in_first_time("kim@example.com", &password).await;

    // Enrol: scan the QR code (we read the key under it) and confirm a current code.
    let (_, setup) = console.post("/account/2fa/start", &[]).await;
    assert!(setup.contains("<svg"), "a QR code is shown");
    let secret = totp::base32_decode(between(&setup, "<code id=\"totp-secret\">", "</code>")).unwrap();
    let now = ordo_domain::Timestamp::now().micros() / 1_000_000;
    let (confirmed, page) =
        console.post("/account/2fa/confirm", &[("code", &totp::code_for_step(&secret, totp::step_at(now)))]).await;
    assert_eq!(confirmed, StatusCode::OK, "{page}");
    let recovery: Vec<String> = between(&page, "<ul id=\"recovery-codes\"", "</ul>")
        .split("<li>")
        .skip(1)
        .map(|c| c.split('<').next().unwrap().to_string())
        .collect();
    assert_eq!(recovery.len(), 10);

    // Sign in again: the password alone opens nothing.
    console.post("/logout", &[]).await;
    let (_, to) = console
        .post("/login", &[("email", "kim@example.com"), ("password", "a long new password"), ("next", "/orders")])
        .await;
    assert!(to.starts_with("/login/2fa"), "{to}");
    assert_eq!(console.get("/orders").await.0, StatusCode::SEE_OTHER, "no pages before the second factor");
    let (wrong, _) = console.post("/login/2fa", &[("code", "000000"), ("next", "/orders")]).await;
    let (right, to) = console.post("/login/2fa", &[("code", &recovery[0]), ("next", "/orders")]).await;
    assert_eq!(wrong, StatusCode::UNAUTHORIZED);
    assert_eq!((right, to.as_str()), (StatusCode::SEE_OTHER, "/orders"));
    assert_eq!(console.get("/orders").await.0, StatusCode::OK);

    // A recovery code works once; the next authenticator code works.
    console.post("/logout", &[]).await;
    console.post("/login", &[("email", "kim@example.com"), ("password", "a long new password")]).await;
    let (reused, _) = console.post("/login/2fa", &[("code", &recovery[0])]).await;
    let next_code = totp::code_for_step(&secret, totp::step_at(now) + 1);
    let (fresh, _) = console.post("/login/2fa", &[("code", &next_code)]).await;
    assert_eq!(reused, StatusCode::UNAUTHORIZED);
    assert_eq!(fresh, StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn an_admin_adds_a_user_and_manages_api_tokens_from_the_console() {
    let app = spawn_app().await;
    let mut admin = app.console_as("admin").await;

    let (_, created) = admin
        .post_raw(
            "/users",
            form_body(&[
                ("csrf", &admin.csrf.clone()),
                ("email", "new@example.com"),
                ("role", "sales"),
                ("role", "approver"),
            ]),
        )
        .await;
    let one_time =
        between(&created, "<code id=\"secret\" style=\"font-size:18px;user-select:all\">", "</code>").to_string();
    let mut newcomer = Console::new(&app.base).await;
    newcomer.sign_in_first_time("new@example.com", &one_time).await;
    assert_eq!(newcomer.get("/orders/new").await.0, StatusCode::OK, "sales may enter orders");
    assert_eq!(newcomer.get("/users").await.0, StatusCode::FORBIDDEN);

    let (_, token_page) = admin.post("/tokens", &[("name", "erp-sync"), ("role", "viewer")]).await;
    let token =
        between(&token_page, "<code id=\"secret\" style=\"font-size:18px;user-select:all\">", "</code>").to_string();
    let before = app.send(app.client.get(app.url("/api/v1/orders")).bearer_auth(&token)).await;
    let (_, list) = admin.get("/tokens").await;
    let id = between(&list, "/tokens/", "/revoke").to_string();
    admin.post(&format!("/tokens/{id}/revoke"), &[]).await;
    let after = app.send(app.client.get(app.url("/api/v1/orders")).bearer_auth(&token)).await;

    assert_eq!(before.status, StatusCode::OK);
    assert_eq!(after.status, StatusCode::UNAUTHORIZED, "a revoked token stops working");
}

//! Orders from a spreadsheet: a dry run that names every problem by row and column and
//! changes nothing, the valid orders imported with a file of the rest, all-or-nothing, and
//! a round trip through the XLSX export where nothing is imported twice.

use crate::helpers::{TestApp, spawn_app};
use reqwest::StatusCode;
use serde_json::{Value, json};

/// A multipart/form-data body: (content type, body).
fn multipart(fields: &[(&str, &str)], file_name: &str, file: &[u8]) -> (String, Vec<u8>) {
    ordo::bench_import::multipart_form(fields, file_name, file)
}

async fn upload(app: &TestApp, fields: &[(&str, &str)], file_name: &str, file: &[u8]) -> (StatusCode, Value) {
    let (content_type, body) = multipart(fields, file_name, file);
    let request = app.client.post(app.url("/api/v1/imports")).header("content-type", content_type).body(body);
    let reply = app.send(app.authed(request)).await;
    (reply.status, reply.body)
}

async fn shop(app: &TestApp) {
    app.warehouse("SH").await;
    app.product("TEA", "100.00").await;
    app.product("POT", "150.00").await;
    app.stock("SH", "TEA", 20).await;
    app.stock("SH", "POT", 2).await;
    app.customer("C-1", "retail").await;
    app.customer("C-2", "retail").await;
}

const FILE: &str = "Ref,Customer,SKU,Qty,notes\n\
    PO-1,C-1,TEA,2,first\n\
    PO-1,C-1,POT,1,\n\
    PO-2,C-2,TEAA,1,\n\
    PO-2,C-2,TEA,0,\n\
    PO-3,C-9,TEA,1,\n\
    PO-4,C-2,POT,5,\n";
const MAPPING: &str = r#"{"Ref": "external_ref", "Customer": "customer_code", "SKU": "sku", "Qty": "quantity"}"#;

fn errors(result: &Value) -> Vec<(i64, String, String)> {
    result["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (e["row"].as_i64().unwrap(), e["column"].as_str().unwrap().into(), e["message"].as_str().unwrap().into())
        })
        .collect()
}

#[tokio::test]
async fn a_dry_run_names_every_problem_and_valid_rows_imports_the_good_orders_with_a_file_of_the_rest() {
    let app = spawn_app().await;
    shop(&app).await;
    let template = app.get("/api/v1/imports/templates/orders").await;
    let template = template.body.as_str().unwrap().trim_start_matches('\u{feff}').to_string();
    assert!(template.starts_with(
        "external_ref,customer_code,sku,quantity,unit_price,channel,notes,requested_delivery_date,unit\r\nPO-1001,C0001,"
    ));

    let (status, dry) =
        upload(&app, &[("kind", "orders"), ("mode", "dry_run"), ("mapping", MAPPING)], "orders.csv", FILE.as_bytes())
            .await;
    assert_eq!(status, StatusCode::OK, "{dry}");
    assert_eq!((dry["status"].as_str(), dry["rows"].as_i64()), (Some("validated"), Some(6)));
    assert_eq!((dry["imported"].as_i64(), dry["rejected"].as_i64()), (Some(1), Some(3)));
    // PO-1 takes one of the two pots, so PO-4's five cannot be had.
    assert_eq!(
        errors(&dry),
        [
            (4, "SKU".to_string(), "no product has SKU \"TEAA\"; did you mean TEA?".to_string()),
            (5, "Qty".to_string(), "must be a whole number from 1 to 1,000,000, not \"0\"".to_string()),
            (6, "Customer".to_string(), "no customer has the code \"C-9\"".to_string()),
            (7, "Qty".to_string(), "not enough stock of POT: 5 asked, 1 available".to_string()),
        ]
    );
    assert_eq!(app.order_count().await, 0, "a dry run changes nothing");
    assert_eq!(app.level("SH", "POT").await["reserved"], 0);

    let (status, done) = upload(
        &app,
        &[("kind", "orders"), ("mode", "valid_rows"), ("mapping", MAPPING)],
        "orders.csv",
        FILE.as_bytes(),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{done}");
    assert_eq!((done["status"].as_str(), done["imported"].as_i64()), (Some("partially_imported"), Some(1)));
    assert_eq!(app.order_count().await, 1);
    let order = app.get(&format!("/api/v1/orders/{}", done["order_ids"][0])).await;
    assert_eq!((order.body["external_ref"].as_str(), order.body["channel"].as_str()), (Some("PO-1"), Some("import")));
    assert_eq!((order.body["notes"].as_str(), order.body["total"].as_str()), (Some("first"), Some("395.50")));
    // The rejected orders' rows, as they were, with the reason: fix and import again.
    let rejected = done["rejected_csv"].as_str().unwrap().trim_start_matches('\u{feff}');
    let lines: Vec<&str> = rejected.lines().collect();
    assert_eq!(lines[0], "Ref,Customer,SKU,Qty,notes,error");
    assert_eq!(lines.len(), 1 + 4, "PO-2's two rows, PO-3's and PO-4's");
    assert!(lines[1].starts_with("PO-2,C-2,TEAA,1,,"), "{rejected}");
    let kept = app.get(&format!("/api/v1/imports/{}", done["id"])).await;
    assert_eq!(kept.body["order_ids"], done["order_ids"]);

    // The same file again: PO-1 is reported as already imported, not imported twice.
    let (status, again) = upload(
        &app,
        &[("kind", "orders"), ("mode", "valid_rows"), ("mapping", MAPPING)],
        "orders.csv",
        FILE.as_bytes(),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{again}");
    assert_eq!((again["imported"].as_i64(), again["duplicates"].clone()), (Some(0), json!(["PO-1"])));
    assert_eq!(app.order_count().await, 1);
}

#[tokio::test]
async fn all_or_nothing_imports_every_order_or_none_and_an_xlsx_round_trip_imports_nothing_twice() {
    let app = spawn_app().await;
    shop(&app).await;
    let (status, refused) = upload(
        &app,
        &[("kind", "orders"), ("mode", "all_or_nothing"), ("mapping", MAPPING)],
        "orders.csv",
        FILE.as_bytes(),
    )
    .await;
    assert_eq!((status, refused["status"].as_str()), (StatusCode::OK, Some("rejected")), "{refused}");
    assert_eq!(refused["order_ids"], json!([]));
    assert_eq!(app.order_count().await, 0, "one bad order keeps all of them out");

    let good = "external_ref,customer_code,sku,quantity,requested_delivery_date\n\
        PO-7,C-1,TEA,3,2026-12-24\nPO-8,C-2,TEA,1,\nPO-8,C-2,POT,1,\n";
    let (status, imported) =
        upload(&app, &[("kind", "orders"), ("mode", "all_or_nothing")], "good.csv", good.as_bytes()).await;
    assert_eq!((status, imported["imported"].as_i64()), (StatusCode::CREATED, Some(2)), "{imported}");
    assert_eq!(app.order_count().await, 2);

    // Export them as XLSX and import that file: both are already there.
    let export = app.authed(app.client.get(app.url("/api/v1/exports/orders?format=xlsx"))).send().await.unwrap();
    let xlsx = export.bytes().await.unwrap();
    let (status, round_trip) = upload(&app, &[("kind", "orders"), ("mode", "valid_rows")], "orders.xlsx", &xlsx).await;
    assert_eq!(status, StatusCode::OK, "{round_trip}");
    assert_eq!(round_trip["rows"], 3);
    assert_eq!(round_trip["duplicates"], json!(["PO-7", "PO-8"]), "{round_trip}");
    assert_eq!(app.order_count().await, 2);

    // The request itself: names the part that is wrong.
    let (status, bad) = upload(&app, &[("kind", "orders")], "x.csv", b"sku,quantity\nTEA,1\n").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let fields: Vec<&str> = bad["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap()).collect();
    assert_eq!(fields, ["external_ref", "customer_code"]);
    let (_, bad_mode) = upload(&app, &[("kind", "orders"), ("mode", "maybe")], "x.csv", good.as_bytes()).await;
    assert_eq!(bad_mode["errors"][0]["field"], "mode");
}

#[tokio::test]
async fn a_clerk_checks_then_imports_a_file_in_the_console_and_downloads_what_was_rejected() {
    let app = spawn_app().await;
    shop(&app).await;
    let mut console = app.console_as("sales").await;
    let (status, page) = console.get("/imports").await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("id=\"import-form\"") && page.contains("external_ref, customer_code, sku, quantity"));
    // A sales clerk may import orders and customers, not stock or the catalog.
    assert!(page.contains("value=\"customers\"") && !page.contains("value=\"stock\""), "{page}");
    let (status, _) = console.get("/imports/template.csv?kind=stock").await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (_, template) = console.get("/imports/template.csv").await;
    assert!(template.trim_start_matches('\u{feff}').starts_with("external_ref,customer_code,sku,quantity"));

    let (content_type, body) = multipart(&[("mode", "dry_run"), ("mapping", MAPPING)], "orders.csv", FILE.as_bytes());
    let (status, checked) = console.post_multipart("/imports", &content_type, body).await;
    assert_eq!(status, StatusCode::OK, "{checked}");
    assert!(checked.contains("Checked: nothing was changed") && checked.contains("id=\"import-errors\""), "{checked}");
    assert!(checked.contains("no customer has the code &#34;C-9&#34;"), "{checked}");
    assert_eq!(app.order_count().await, 0);

    let (content_type, body) =
        multipart(&[("mode", "valid_rows"), ("mapping", MAPPING)], "orders.csv", FILE.as_bytes());
    let (_, done) = console.post_multipart("/imports", &content_type, body).await;
    assert!(done.contains("Valid records imported") && done.contains("id=\"rejected-download\""), "{done}");
    assert_eq!(app.order_count().await, 1);
    let link = done.split("href=\"/imports/").nth(1).unwrap().split('"').next().unwrap();
    let (status, rejected) = console.get(&format!("/imports/{link}")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        rejected.trim_start_matches('\u{feff}').starts_with("Ref,Customer,SKU,Qty,notes,error\r\nPO-2,"),
        "{rejected}"
    );
}

#[tokio::test]
async fn customers_come_back_from_their_own_export_with_the_new_ones_added_and_none_twice() {
    let app = spawn_app().await;
    shop(&app).await;
    let export = app.authed(app.client.get(app.url("/api/v1/exports/customers"))).send().await.unwrap();
    let mut csv = export.text().await.unwrap();
    let header = csv.trim_start_matches('\u{feff}').lines().next().unwrap().to_string();
    let columns: Vec<&str> = header.split(',').collect();
    let row = |values: &[(&str, &str)]| {
        columns
            .iter()
            .map(|c| values.iter().find(|(k, _)| k == c).map_or("", |(_, v)| *v))
            .collect::<Vec<_>>()
            .join(",")
    };
    csv.push_str(&row(&[("code", "C-3"), ("name", "Bad Mail Ltd"), ("email", "not-an-address")]));
    csv.push_str("\r\n");
    csv.push_str(&row(&[
        ("code", "C-4"),
        ("name", "杭州茶庄"),
        ("group", "wholesale"),
        ("payment_terms", "net30"),
        ("ship_line1", "西湖路 1 号"),
        ("ship_city", "杭州"),
        ("ship_province", "浙江省"),
        ("ship_country", "CN"),
    ]));
    csv.push_str("\r\n");

    let (status, result) =
        upload(&app, &[("kind", "customers"), ("mode", "valid_rows")], "customers.csv", csv.as_bytes()).await;
    assert_eq!(status, StatusCode::CREATED, "{result}");
    assert_eq!((result["imported"].as_i64(), result["rejected"].as_i64()), (Some(1), Some(3)));
    assert_eq!(result["duplicates"], json!(["C-1", "C-2"]), "the exported ones are there already");
    let bad_mail = errors(&result).into_iter().find(|(_, column, _)| column == "email");
    assert_eq!(bad_mail.map(|e| e.0), Some(4), "C-3's e-mail, on the file's fourth row");
    let created = app.get(&format!("/api/v1/customers/{}", result["customer_ids"][0])).await;
    assert_eq!((created.body["code"].as_str(), created.body["name"].as_str()), (Some("C-4"), Some("杭州茶庄")));
    assert_eq!(created.body["shipping_address"]["city"], "杭州");

    let template = app.get("/api/v1/imports/templates/customers").await;
    assert!(template.body.as_str().unwrap().trim_start_matches('\u{feff}').starts_with("code,name,group,"));
    // Importing customers needs the right to manage them.
    let clerk = app.token_for("warehouse").await;
    let (content_type, body) = multipart(&[("kind", "customers")], "c.csv", b"code,name\nC-9,Nine\n");
    let refused = app
        .send(
            app.client
                .post(app.url("/api/v1/imports"))
                .bearer_auth(&clerk)
                .header("content-type", content_type)
                .body(body),
        )
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.body);
}

#[tokio::test]
async fn products_load_from_a_file_with_their_tax_and_tags_and_an_existing_sku_is_left_alone() {
    let app = spawn_app().await;
    shop(&app).await;
    let file = "sku,name,category,unit,price,currency,tax_rate,weight_kg,active,backorderable,tags\n\
        LJ-250,西湖龙井 250g,tea,bag,168.00,CNY,0.09,0.3,yes,no,tea;gift\n\
        TEA,Another tea,tea,bag,10.00,CNY,0.13,,yes,no,\n\
        CUP-9,Cup,teaware,pcs,abc,CNY,0.13,,maybe,no,\n\
        LJ-250,Twice,tea,bag,1.00,CNY,0.09,,yes,no,\n";
    let (status, result) =
        upload(&app, &[("kind", "products"), ("mode", "valid_rows")], "products.csv", file.as_bytes()).await;
    assert_eq!(status, StatusCode::OK, "{result}");
    // LJ-250 is on two rows, so it stays out; TEA exists; CUP-9 has a bad flag.
    assert_eq!((result["imported"].as_i64(), result["rejected"].as_i64()), (Some(0), Some(3)), "{result}");
    assert_eq!(result["duplicates"], json!(["TEA"]));
    let found = errors(&result);
    assert!(found.contains(&(5, "sku".to_string(), "this SKU is on an earlier row too".to_string())), "{found:?}");
    assert!(found.contains(&(4, "active".to_string(), "must be yes or no, not \"maybe\"".to_string())), "{found:?}");
    assert!(found.iter().any(|(row, column, _)| *row == 4 && column == "price"), "and its price: {found:?}");

    let fixed = "sku,name,category,unit,price,currency,tax_rate,weight_kg,active,backorderable,tags\n\
        LJ-250,西湖龙井 250g,tea,bag,168.00,CNY,0.09,0.3,yes,no,tea;gift\n";
    let (status, done) =
        upload(&app, &[("kind", "products"), ("mode", "all_or_nothing")], "products.csv", fixed.as_bytes()).await;
    assert_eq!(status, StatusCode::CREATED, "{done}");
    let product = app.get(&format!("/api/v1/products/{}", done["product_ids"][0])).await;
    assert_eq!(
        (product.body["name"].as_str(), product.body["price"].as_str()),
        (Some("西湖龙井 250g"), Some("168.00"))
    );
    assert_eq!(
        (product.body["tax_rate"].as_str(), product.body["tags"].clone()),
        (Some("0.09"), json!(["tea", "gift"]))
    );
}

/// A big account's month: 10,000 orders of two lines, one row in a hundred wrong in one of
/// four ways. The dry run names exactly those 200 rows; valid rows imports the other 9,800.
#[tokio::test]
async fn ten_thousand_orders_with_one_row_in_a_hundred_wrong_are_checked_then_the_valid_ones_imported() {
    let app = spawn_app().await;
    app.warehouse("SH").await;
    app.product("TEA", "10.00").await;
    app.product("POT", "25.00").await;
    app.stock("SH", "TEA", 1_000_000).await;
    app.stock("SH", "POT", 1_000_000).await;
    app.customer("C-1", "retail").await;
    let mut csv = String::from("external_ref,customer_code,sku,quantity,requested_delivery_date\n");
    let mut expected = Vec::new();
    for n in 0..20_000usize {
        let (order, row) = (n / 2, n as i64 + 2);
        let (mut customer, mut sku, mut quantity, mut date) = ("C-1", ["TEA", "POT"][n % 2], "3", "2026-12-01");
        if n % 100 == 37 {
            let (column, message) = match (n / 100) % 4 {
                0 => {
                    sku = "TEAX";
                    ("sku", "no product has SKU \"TEAX\"; did you mean TEA?")
                }
                1 => {
                    quantity = "three";
                    ("quantity", "must be a whole number from 1 to 1,000,000, not \"three\"")
                }
                2 => {
                    customer = "C-2";
                    ("customer_code", "differs from the order's first row (C-1): one order, one customer")
                }
                _ => {
                    date = "31/12/2026";
                    ("requested_delivery_date", "must be a date such as 2026-12-01, not \"31/12/2026\"")
                }
            };
            expected.push((row, column.to_string(), message.to_string()));
        }
        csv.push_str(&format!("PO-{order:05},{customer},{sku},{quantity},{date}\n"));
    }

    let (status, dry) = upload(&app, &[("kind", "orders"), ("mode", "dry_run")], "month.csv", csv.as_bytes()).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        (dry["rows"].as_i64(), dry["imported"].as_i64(), dry["rejected"].as_i64()),
        (Some(20_000), Some(9_800), Some(200))
    );
    assert_eq!(errors(&dry), expected);
    assert_eq!(app.order_count().await, 0, "a dry run changes nothing");

    let (status, done) = upload(&app, &[("kind", "orders"), ("mode", "valid_rows")], "month.csv", csv.as_bytes()).await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!((done["status"].as_str(), done["imported"].as_i64()), (Some("partially_imported"), Some(9_800)));
    assert_eq!(done["order_ids"].as_array().map(Vec::len), Some(9_800));
    // 3 teas and 3 pots at 13% tax: (30.00 + 75.00) × 1.13.
    let first = app.get(&format!("/api/v1/orders/{}", done["order_ids"][0])).await;
    assert_eq!((first.body["external_ref"].as_str(), first.body["total"].as_str()), (Some("PO-00000"), Some("118.65")));
    assert_eq!(app.level("SH", "TEA").await["reserved"], 9_800 * 3);
    assert_eq!(app.level("SH", "POT").await["reserved"], 9_800 * 3);
    let rejected = done["rejected_csv"].as_str().unwrap().trim_start_matches('\u{feff}');
    assert_eq!(rejected.lines().count(), 1 + 400, "both rows of each of the 200 rejected orders");
    assert!(rejected.lines().nth(1).unwrap().starts_with("PO-00018,C-1,TEA,3,2026-12-01,"), "{rejected:.200}");
}

async fn export_csv(app: &TestApp, kind: &str) -> String {
    let export = app.authed(app.client.get(app.url(&format!("/api/v1/exports/{kind}")))).send().await.unwrap();
    export.text().await.unwrap()
}

/// A warehouse's count comes in as a file: each level set, the difference booked as an
/// adjustment; the stock export loads back without a single movement.
#[tokio::test]
async fn a_stock_count_file_sets_each_level_and_the_stock_export_loads_back_unchanged() {
    let app = spawn_app().await;
    shop(&app).await;
    let order = app
        .post(
            "/api/v1/orders",
            json!({"customer_id": app.customer("C-3", "retail").await, "lines": [{"sku": "TEA", "quantity": 5}]}),
        )
        .await;
    assert_eq!(order.status, StatusCode::CREATED, "{}", order.body);
    let movements = "/api/v1/stock/movements?sku=TEA&warehouse=SH&limit=100";
    let before = app.get(movements).await.body["items"].as_array().map_or(0, Vec::len);
    let (status, same) = upload(
        &app,
        &[("kind", "stock"), ("mode", "valid_rows")],
        "stock.csv",
        export_csv(&app, "stock").await.as_bytes(),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{same}");
    assert_eq!(
        (same["imported"].as_i64(), same["updated"].as_i64(), same["rejected"].as_i64()),
        (Some(2), Some(2), Some(0))
    );
    let after = app.get(movements).await.body["items"].as_array().map_or(0, Vec::len);
    assert_eq!(after, before, "the same levels again move nothing");

    let count = "warehouse,sku,on_hand,bin\n\
        SH,TEA,50,A-01\n\
        SH,POT,-1,\n\
        XX,TEA,5,\n\
        SH,TEAA,5,\n\
        SH,POT,3,\n";
    let (status, dry) = upload(&app, &[("kind", "stock"), ("mode", "dry_run")], "count.csv", count.as_bytes()).await;
    assert_eq!(status, StatusCode::OK, "{dry}");
    assert_eq!(
        errors(&dry),
        [
            (6, "sku".to_string(), "this warehouse and SKU is on an earlier row too".to_string()),
            (3, "on_hand".to_string(), "must be a whole number of units, 0 or more, not \"-1\"".to_string()),
            (4, "warehouse".to_string(), "no warehouse has the code \"XX\"".to_string()),
            (5, "sku".to_string(), "no product has SKU \"TEAA\"; did you mean TEA?".to_string()),
        ]
    );
    assert_eq!(app.level("SH", "TEA").await["on_hand"], 20, "a dry run sets nothing");

    // Below what open orders hold: refused, naming the reservation.
    let (status, done) = upload(
        &app,
        &[("kind", "stock"), ("mode", "valid_rows")],
        "count.csv",
        b"warehouse,sku,on_hand,bin\nSH,TEA,50,A-01\nSH,POT,0,\nSH,TEA,3,\n",
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{done}");
    assert_eq!((done["imported"].as_i64(), done["rejected"].as_i64()), (Some(1), Some(1)), "POT set, TEA twice");
    let (status, done) = upload(
        &app,
        &[("kind", "stock"), ("mode", "valid_rows")],
        "count.csv",
        b"warehouse,sku,on_hand,bin\nSH,TEA,3,\nSH,POT,7,B-2\n",
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{done}");
    assert_eq!(
        errors(&done),
        [(
            2,
            "on_hand".to_string(),
            "on hand cannot go below the 5 units reserved for open orders (asked for 3)".to_string()
        )]
    );
    let pot = app.level("SH", "POT").await;
    assert_eq!((pot["on_hand"].as_i64(), pot["bin"].as_str()), (Some(7), Some("B-2")));
    let last = app.get("/api/v1/stock/movements?sku=POT&warehouse=SH&limit=1").await;
    assert_eq!(last.body["items"][0]["reason"], "stock import");
    assert_eq!(app.ledger_mismatches().await, 0);
}

/// Price lists come in as one row per price: a new list is created, an existing list gets
/// its prices set; a file cannot quietly change a list's currency.
#[tokio::test]
async fn price_lists_load_from_a_file_new_and_existing_and_their_export_loads_back_unchanged() {
    let app = spawn_app().await;
    shop(&app).await;
    let list = app
        .post(
            "/api/v1/price-lists",
            json!({"code": "WHOLESALE", "name": "Wholesale", "currency": "CNY", "customer_group": "wholesale",
                   "items": [{"sku": "TEA", "price": "80.00", "breaks": [{"min_quantity": 10, "price": "75.00"}]}]}),
        )
        .await;
    assert_eq!(list.status, StatusCode::CREATED, "{}", list.body);
    let exported = export_csv(&app, "price_lists").await;
    assert!(exported.contains(",TEA,80.00,10=75.00"), "the breaks are in the file: {exported}");
    let (status, same) =
        upload(&app, &[("kind", "price_lists"), ("mode", "all_or_nothing")], "p.csv", exported.as_bytes()).await;
    assert_eq!(status, StatusCode::CREATED, "{same}");
    assert_eq!((same["status"].as_str(), same["updated"].as_i64()), (Some("imported"), Some(1)));
    assert_eq!(export_csv(&app, "price_lists").await, exported, "loaded back unchanged, breaks and all");

    let file = "price_list,sku,price,name,currency,customer_group,breaks,tax_included\n\
        WHOLESALE,POT,120.00,,,,,false\n\
        WHOLESALE,TEA,70.00,,USD,,,\n\
        VIP,TEA,90.00,VIP 贵宾价,CNY,vip,20-85,\n\
        VIP,POT,abc,,,,,maybe\n\
        STAFF,TEA,60.00,Staff,CNY,staff,10=55.00;50=50.00,含税\n";
    let (status, done) =
        upload(&app, &[("kind", "price_lists"), ("mode", "valid_rows")], "p.csv", file.as_bytes()).await;
    assert_eq!(status, StatusCode::CREATED, "{done}");
    assert_eq!(
        errors(&done),
        [
            (
                3,
                "currency".to_string(),
                "differs from the list's currency \"CNY\": a file sets prices, not the list itself".to_string()
            ),
            (4, "breaks".to_string(), "\"20-85\" must be written quantity=price, e.g. 10=9.50".to_string()),
            (5, "price".to_string(), "must be an amount such as 12.50, not \"abc\"".to_string()),
            (5, "tax_included".to_string(), "must be true or false (含税 / 不含税), not \"maybe\"".to_string()),
        ]
    );
    assert_eq!((done["imported"].as_i64(), done["updated"].as_i64()), (Some(1), Some(1)), "only STAFF");
    let lists = app.get("/api/v1/price-lists").await;
    let find = |code: &str| lists.body.as_array().unwrap().iter().find(|l| l["code"] == code).cloned();
    let staff = find("STAFF").expect("the new list");
    assert_eq!((staff["currency"].as_str(), staff["customer_group"].as_str()), (Some("CNY"), Some("staff")));
    assert_eq!(staff["tax_included"], true, "含税 in the file: its prices hold the tax");
    assert_eq!(
        staff["items"],
        json!([{"sku": "TEA", "price": "60.00",
                "breaks": [{"min_quantity": 10, "price": "55.00"}, {"min_quantity": 50, "price": "50.00"}]}])
    );
    assert_eq!(
        find("WHOLESALE").unwrap()["items"],
        json!([{"sku": "TEA", "price": "80.00", "breaks": [{"min_quantity": 10, "price": "75.00"}]}]),
        "its file was rejected whole"
    );
    assert!(find("VIP").is_none());
}

/// `ordo import` loads a file straight into the database, drawing its progress, and keeps
/// the rejected rows in a file; a dry run that finds problems exits with failure.
#[test]
fn ordo_import_loads_a_file_from_the_command_line_with_its_progress_and_rejects() {
    let dir = std::env::temp_dir().join(format!("ordo-cli-import-{}-{}", std::process::id(), line!()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut file = String::from("sku,name,price,currency\n");
    for n in 1..=25 {
        let price = if n == 4 { "twelve".to_string() } else { format!("{n}.50") };
        file.push_str(&format!("CLI-{n:02},Product {n},{price},CNY\n"));
    }
    std::fs::write(dir.join("products.csv"), file).unwrap();
    let ordo = |mode: &str| {
        std::process::Command::new(env!("CARGO_BIN_EXE_ordo"))
            .env_remove("ORDO_DATABASE_URL")
            .env("ORDO_LOG", "warn")
            .arg("--data-dir")
            .arg(dir.join("data"))
            .args(["import", "--kind", "products", "--mode", mode, "--rejects"])
            .arg(dir.join("rejects.csv"))
            .arg(dir.join("products.csv"))
            .output()
            .unwrap()
    };

    let checked = ordo("dry_run");
    let stdout = String::from_utf8_lossy(&checked.stdout);
    assert!(!checked.status.success(), "problems found: {stdout}");
    assert!(stdout.contains("validated: 25 rows, 24 records imported, 1 rejected"), "{stdout}");
    assert!(stdout.contains("row      5  price"), "{stdout}");

    let loaded = ordo("valid_rows");
    let (stdout, stderr) = (String::from_utf8_lossy(&loaded.stdout), String::from_utf8_lossy(&loaded.stderr));
    assert!(loaded.status.success(), "{stdout} {stderr}");
    assert!(stdout.contains("partially_imported: 25 rows, 24 records imported, 1 rejected"), "{stdout}");
    assert!(stderr.contains("] 25/25 records 100%"), "a progress bar: {stderr}");
    let rejects = std::fs::read_to_string(dir.join("rejects.csv")).unwrap();
    assert_eq!(
        rejects.trim_start_matches('\u{feff}').lines().nth(1),
        Some(r#"CLI-04,Product 4,twelve,CNY,"must be a decimal amount such as ""12.50"", got ""twelve""""#)
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// A big account sends the same spreadsheet every month: its column names are saved once
/// under a name, and the next file needs only the name.
#[tokio::test]
async fn a_saved_mapping_reads_next_months_file_by_its_name() {
    let app = spawn_app().await;
    shop(&app).await;
    let mapping: Value = serde_json::from_str(MAPPING).unwrap();
    let saved = app.put("/api/v1/imports/mappings/orders/华联月单", json!({"mapping": mapping})).await;
    assert_eq!(saved.status, StatusCode::OK, "{}", saved.body);
    assert_eq!(saved.body["mapping"]["Qty"], "quantity");
    let wrong = app.put("/api/v1/imports/mappings/orders/bad", json!({"mapping": {"Qty": "amount"}})).await;
    assert_eq!(wrong.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(wrong.body["errors"][0]["field"], "mapping");
    let listed = app.get("/api/v1/imports/mappings?kind=orders").await;
    assert_eq!(listed.body.as_array().map(Vec::len), Some(1));

    let (status, dry) = upload(
        &app,
        &[("kind", "orders"), ("mode", "dry_run"), ("mapping_name", "华联月单")],
        "m.csv",
        FILE.as_bytes(),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{dry}");
    assert_eq!((dry["imported"].as_i64(), dry["rejected"].as_i64()), (Some(1), Some(3)), "read with the saved names");
    let (status, unknown) =
        upload(&app, &[("kind", "orders"), ("mapping_name", "nobody")], "m.csv", FILE.as_bytes()).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(unknown["errors"][0]["message"], "no mapping named \"nobody\" is saved for orders");
    let (status, both) = upload(
        &app,
        &[("kind", "orders"), ("mapping_name", "华联月单"), ("mapping", MAPPING)],
        "m.csv",
        FILE.as_bytes(),
    )
    .await;
    assert_eq!((status, both["errors"][0]["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("mapping_name")));

    // In the console: saved while importing, then offered by name.
    let mut console = app.console_as("sales").await;
    let (content_type, body) = multipart(
        &[("kind", "orders"), ("mode", "dry_run"), ("mapping", MAPPING), ("save_as", "Clerk's month")],
        "orders.csv",
        FILE.as_bytes(),
    );
    let (status, checked) = console.post_multipart("/imports", &content_type, body).await;
    assert_eq!(status, StatusCode::OK, "{checked}");
    let (_, page) = console.get("/imports").await;
    assert!(page.contains("value=\"Clerk&#39;s month\"") && page.contains("value=\"华联月单\""), "{page}");
}

/// A product file sent with `existing=update` changes the products it names (an empty cell
/// leaves a field alone) and creates the new ones; without it they are only reported.
#[tokio::test]
async fn a_product_file_with_existing_update_changes_prices_and_packs_of_the_products_there() {
    let app = spawn_app().await;
    shop(&app).await;
    let file = "sku,name,price,currency,packs\n\
        TEA,,95.00,,box=12\n\
        CUP-1,Cup,15.00,CNY,\n\
        POT,,150.00,,box=0\n";
    let (_, skipped) = upload(&app, &[("kind", "products"), ("mode", "dry_run")], "p.csv", file.as_bytes()).await;
    assert_eq!(skipped["duplicates"], json!(["TEA", "POT"]), "by default existing products are reported");

    let (status, result) =
        upload(&app, &[("kind", "products"), ("mode", "valid_rows"), ("existing", "update")], "p.csv", file.as_bytes())
            .await;
    assert_eq!(status, StatusCode::CREATED, "{result}");
    assert_eq!(
        (result["imported"].as_i64(), result["updated"].as_i64(), result["rejected"].as_i64()),
        (Some(2), Some(1), Some(1)),
        "{result}"
    );
    assert_eq!(errors(&result), [(4, "packs".to_string(), "must be 2 to 100000 pcs a box".to_string())]);
    let tea = app.get("/api/v1/products?q=TEA").await.body["items"][0].clone();
    assert_eq!((tea["name"].as_str(), tea["price"].as_str()), (Some("Product TEA"), Some("95.00")), "name kept");
    assert_eq!(tea["packs"], json!([{"unit": "box", "size": 12}]));
    let exported = export_csv(&app, "products").await;
    assert!(exported.contains(",box=12,"), "packs go out the way they came in: {exported}");

    let customers = "code,name,ship_line1,ship_city,ship_province,ship_postal_code,ship_country\n\
        C-1,上海华联,南京东路 1 号,上海,上海市,200001,CN\n\
        C-2,,西湖路 1 号,杭州,华东,310000,CN\n";
    let (status, result) = upload(
        &app,
        &[("kind", "customers"), ("mode", "valid_rows"), ("existing", "update")],
        "c.csv",
        customers.as_bytes(),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{result}");
    assert_eq!(result["updated"].as_i64(), Some(1));
    assert_eq!(errors(&result)[0].1, "ship_province", "华东 is a sales region, not a province");
    let c1 = app.get("/api/v1/customers?q=C-1").await.body["items"][0].clone();
    assert_eq!((c1["name"].as_str(), c1["shipping_address"]["region"].as_str()), (Some("上海华联"), Some("上海市")));
    let refused =
        upload(&app, &[("kind", "stock"), ("existing", "update")], "s.csv", b"warehouse,sku,on_hand\nSH,TEA,1\n").await;
    assert_eq!(refused.0, StatusCode::UNPROCESSABLE_ENTITY, "{}", refused.1);
}

//! Records out as spreadsheets, in the columns the import templates use.

use crate::helpers::spawn_app;
use reqwest::StatusCode;
use serde_json::json;

#[tokio::test]
async fn orders_customers_products_stock_and_price_lists_come_out_as_csv_and_xlsx() {
    let app = spawn_app().await;
    app.warehouse("SH").await;
    app.product("TEA", "100.00").await;
    app.stock("SH", "TEA", 10).await;
    let customer = app.customer("C-1", "retail").await;
    let placed = app
        .post(
            "/api/v1/orders",
            json!({"customer_id": customer, "external_ref": "PO-77", "channel": "email", "notes": "刻字: 福",
                   "lines": [{"sku": "TEA", "quantity": 3}]}),
        )
        .await;
    assert_eq!(placed.status, StatusCode::CREATED, "{}", placed.body);
    let app = &app;
    let download = |path: String| async move {
        let response = app.authed(app.client.get(app.url(&path))).send().await.unwrap();
        let status = response.status();
        let kind = response.headers().get("content-type").map(|v| v.to_str().unwrap().to_string()).unwrap_or_default();
        (status, kind, response.bytes().await.unwrap())
    };

    let (status, kind, body) = download("/api/v1/exports/orders".into()).await;
    assert_eq!((status, kind.as_str()), (StatusCode::OK, "text/csv; charset=utf-8"));
    let csv = String::from_utf8(body.to_vec()).unwrap();
    let mut lines = csv.trim_start_matches('\u{feff}').lines();
    assert_eq!(
        lines.next(),
        Some(
            "order_number,external_ref,customer_code,channel,status,placed_at,currency,sku,quantity,unit_price,\
             discount_percent,line_total,tax,notes,requested_delivery_date"
        )
    );
    let row: Vec<&str> = lines.next().unwrap().split(',').collect();
    assert_eq!((row[0], row[1], row[2], row[3]), ("SO-2026-000001", "PO-77", "C-1", "email"));
    assert_eq!(
        (row[7], row[8], row[9], row[11], row[12], row[13]),
        ("TEA", "3", "100.00", "300.00", "39.00", "刻字: 福")
    );

    let (_, _, body) = download("/api/v1/exports/stock".into()).await;
    let stock = String::from_utf8(body.to_vec()).unwrap();
    assert!(stock.contains("warehouse,sku,on_hand,reserved,available,damaged,bin\r\nSH,TEA,10,3,7,0,"), "{stock}");
    let (_, _, body) = download("/api/v1/exports/customers".into()).await;
    let customers = String::from_utf8(body.to_vec()).unwrap();
    assert!(customers.lines().nth(1).unwrap().starts_with("C-1,Customer C-1,retail,"), "{customers}");
    let (_, _, body) = download("/api/v1/exports/products".into()).await;
    assert!(String::from_utf8(body.to_vec()).unwrap().contains("\r\nTEA,"));

    let (status, kind, body) = download("/api/v1/exports/products?format=xlsx".into()).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(kind, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet");
    assert_eq!(&body[..2], b"PK", "an XLSX file is a zip");

    // Orders of a period that holds none: just the header.
    let (_, _, body) = download("/api/v1/exports/orders?created_from=2025-01-01&created_to=2025-01-31".into()).await;
    assert_eq!(String::from_utf8(body.to_vec()).unwrap().lines().count(), 1);
    let unknown = app.get("/api/v1/exports/invoices").await;
    assert_eq!((unknown.status, unknown.error_fields()), (StatusCode::UNPROCESSABLE_ENTITY, vec!["kind".to_string()]));
    let bad = app.get("/api/v1/exports/orders?created_from=yesterday&format=pdf").await;
    assert_eq!(bad.error_fields(), ["format"]);
}

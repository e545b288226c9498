//! Units of measure: a product sold by the piece and by the box. An order line asks for 3
//! boxes and gets 36 pieces, priced, reserved and shown that way; a unit the product is not
//! sold in is named with the ones it is.

use crate::helpers::spawn_app;
use reqwest::StatusCode;
use serde_json::json;

#[tokio::test]
async fn three_boxes_of_twelve_are_thirty_six_pieces_reserved_and_priced_by_the_piece() {
    let app = spawn_app().await;
    app.warehouse("SH").await;
    let product = app
        .post(
            "/api/v1/products",
            json!({"sku": "TEA", "name": "Longjing", "price": "10.00", "currency": "CNY", "unit": "pcs",
                   "packs": [{"unit": "carton", "size": 144}, {"unit": "box", "size": 12}]}),
        )
        .await;
    assert_eq!(product.status, StatusCode::CREATED, "{}", product.body);
    assert_eq!(product.body["packs"], json!([{"unit": "box", "size": 12}, {"unit": "carton", "size": 144}]));
    app.stock("SH", "TEA", 100).await;
    let customer = app.customer("C-1", "retail").await;

    let order = app
        .post(
            "/api/v1/orders",
            json!({"customer_id": customer, "lines": [{"sku": "TEA", "quantity": 3, "unit": "box"}]}),
        )
        .await;
    assert_eq!(order.status, StatusCode::CREATED, "{}", order.body);
    let line = &order.body["lines"][0];
    assert_eq!((line["quantity"].as_i64(), line["line_total"].as_str()), (Some(36), Some("360.00")));
    assert_eq!(line["pack"], json!({"unit": "box", "size": 12}));
    let level = app.level("SH", "TEA").await;
    assert_eq!((level["reserved"].as_i64(), level["available"].as_i64()), (Some(36), Some(64)));
    let again = app.get(&format!("/api/v1/orders/{}", order.body["id"])).await;
    assert_eq!(again.body["lines"][0]["pack"], json!({"unit": "box", "size": 12}), "kept with the line");

    let wrong = app
        .post(
            "/api/v1/orders",
            json!({"customer_id": customer, "lines": [{"sku": "TEA", "quantity": 1, "unit": "crate"}]}),
        )
        .await;
    assert_eq!(wrong.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", wrong.body);
    assert_eq!(wrong.body["errors"][0]["field"], "lines[0].unit");
    assert_eq!(wrong.body["errors"][0]["message"], "TEA is sold by pcs, box of 12, carton of 144, not by \"crate\"");
    let too_many = app
        .post(
            "/api/v1/orders",
            json!({"customer_id": customer, "lines": [{"sku": "TEA", "quantity": 100_000, "unit": "carton"}]}),
        )
        .await;
    assert_eq!(too_many.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", too_many.body);
    assert_eq!(too_many.body["errors"][0]["field"], "lines[0].quantity");
    assert_eq!(app.level("SH", "TEA").await["reserved"].as_i64(), Some(36), "refused orders reserve nothing");

    // A pack may not reuse the product's own unit, and a box holds more than one.
    let twice = app
        .patch(
            &format!("/api/v1/products/{}", product.body["id"]),
            json!({"packs": [{"unit": "PCS", "size": 6}]}),
            None,
        )
        .await;
    assert_eq!(twice.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", twice.body);
    assert_eq!(twice.body["errors"][0]["field"], "packs[0].unit");
}

#[tokio::test]
async fn an_order_file_counts_its_quantity_in_the_unit_column() {
    let app = spawn_app().await;
    app.warehouse("SH").await;
    let created = app
        .post(
            "/api/v1/products",
            json!({"sku": "RICE", "name": "Rice", "price": "5.00", "currency": "CNY", "unit": "bag",
                   "packs": [{"unit": "箱", "size": 24}]}),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    app.stock("SH", "RICE", 100).await;
    app.customer("C-1", "retail").await;
    let file = "external_ref,customer_code,sku,quantity,unit\nPO-1,C-1,RICE,2,箱\nPO-2,C-1,RICE,1,pallet\n";
    let (content_type, body) = ordo::bench_import::multipart_form(
        &[("kind", "orders"), ("mode", "valid_rows")],
        "orders.csv",
        file.as_bytes(),
    );
    let request = app.client.post(app.url("/api/v1/imports")).header("content-type", content_type).body(body);
    let result = app.send(app.authed(request)).await;
    assert_eq!(result.status, StatusCode::CREATED, "{}", result.body);
    assert_eq!(result.body["errors"][0]["row"], 3);
    assert_eq!(result.body["errors"][0]["column"], "unit");
    let order = app.get(&format!("/api/v1/orders/{}", result.body["order_ids"][0])).await;
    assert_eq!(order.body["lines"][0]["quantity"], 48);
}

use crate::helpers::spawn_app;
use reqwest::StatusCode;
use serde_json::json;

#[tokio::test]
async fn a_customer_is_created_with_defaults_and_updated_with_if_match() {
    let app = spawn_app().await;

    let created = app
        .post("/api/v1/customers", json!({"code": "C-SH-1", "name": "上海华联", "group": "Wholesale", "region": "华东", "email": "buyer@example.com",
            "payment_terms": "NET30", "credit_limit": "50000", "currency": "CNY",
            "shipping_address": {"line1": "南京东路 1 号", "city": "上海", "country": "cn"}}))
        .await;
    let id = created.body["id"].as_i64().unwrap();
    let updated = app.patch(&format!("/api/v1/customers/{id}"), json!({"region": "华南"}), Some("\"1\"")).await;

    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    assert_eq!(created.body["group"], "wholesale");
    assert_eq!(created.body["payment_terms"], "net30");
    assert_eq!(created.body["credit_limit"], "50000");
    assert_eq!(created.body["shipping_address"]["country"], "CN");
    assert_eq!(updated.status, StatusCode::OK);
    assert_eq!(updated.body["region"], "华南");
    assert_eq!(updated.body["name"], "上海华联", "fields not in the patch stay");
    assert_eq!(updated.body["version"], 2);
}

#[tokio::test]
async fn customers_are_found_by_name_and_their_orders_listed() {
    let app = spawn_app().await;
    app.product("P-1", "10").await;
    app.warehouse("W1").await;
    app.stock("W1", "P-1", 5).await;
    let tea_house = app.customer("TEA-HOUSE", "retail").await;
    app.customer("OTHER", "retail").await;
    app.post("/api/v1/orders", json!({"customer_id": tea_house, "lines": [{"sku": "P-1", "quantity": 2}]})).await;

    let found = app.get("/api/v1/customers?q=tea-h").await;
    let orders = app.get(&format!("/api/v1/customers/{tea_house}/orders")).await;
    let missing = app.get("/api/v1/customers/999999/orders").await;
    let filtered = app.get(&format!("/api/v1/orders?customer_id={tea_house}")).await;

    assert_eq!(found.body["items"].as_array().unwrap().len(), 1);
    assert_eq!(found.body["items"][0]["code"], "TEA-HOUSE");
    assert_eq!(orders.body["items"].as_array().unwrap().len(), 1);
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    assert_eq!(filtered.status, StatusCode::OK, "customer_id filters the order list: {}", filtered.body);
    assert_eq!(filtered.body["items"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn an_order_is_filled_from_the_customers_defaults() {
    let app = spawn_app().await;
    app.product("P-1", "10").await;
    app.warehouse("W1").await;
    app.stock("W1", "P-1", 5).await;
    let customer = app.customer("C-1", "retail").await;

    let order =
        app.post("/api/v1/orders", json!({"customer_id": customer, "lines": [{"sku": "P-1", "quantity": 1}]})).await;
    let elsewhere = app
        .post(
            "/api/v1/orders",
            json!({"customer_id": customer, "lines": [{"sku": "P-1", "quantity": 1}],
            "shipping_address": {"line1": "1 Queen's Rd", "city": "Hong Kong", "country": "HK"}}),
        )
        .await;

    assert_eq!(order.body["shipping_address"]["city"], "Shanghai");
    assert_eq!(order.body["currency"], "CNY");
    assert_eq!(order.body["payment_terms"], "prepaid");
    assert_eq!(elsewhere.body["shipping_address"]["city"], "Hong Kong");
}

/// A Chinese address is checked at the door: the district is kept, a phone number that is
/// not a mainland number and a postal code of the wrong form are named, and nothing is saved.
#[tokio::test]
async fn a_chinese_address_keeps_its_district_and_a_wrong_phone_or_postal_code_is_named() {
    let app = spawn_app().await;
    let address = |phone: &str, postal_code: &str| {
        json!({"name": "王经理", "phone": phone, "line1": "南京东路 100 号", "district": "黄浦区", "city": "上海",
               "region": "上海", "postal_code": postal_code, "country": "CN"})
    };
    let wrong = app
        .post(
            "/api/v1/customers",
            json!({"code": "C-SH-9", "name": "上海华联", "phone": "5555 0101",
                   "shipping_address": address("138 0013 800", "20001")}),
        )
        .await;
    assert_eq!(wrong.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", wrong.body);
    let fields: Vec<&str> =
        wrong.body["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap()).collect();
    assert_eq!(fields, ["shipping_address.phone", "shipping_address.postal_code", "phone"]);
    assert_eq!(wrong.body["errors"][1]["message"], "must be 6 digits, e.g. 200001 for CN");
    assert!(app.get("/api/v1/customers?q=C-SH-9").await.body["items"].as_array().unwrap().is_empty(), "nothing saved");

    let created = app
        .post(
            "/api/v1/customers",
            json!({"code": "C-SH-9", "name": "上海华联", "phone": "021-5555-0101",
                   "shipping_address": address("+86 138 0013 8000", "200001")}),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    assert_eq!(created.body["shipping_address"]["district"], "黄浦区");
    // The district goes out in the export and comes back in the import's column.
    let export = app.authed(app.client.get(app.url("/api/v1/exports/customers"))).send().await.unwrap();
    let csv = export.text().await.unwrap();
    assert!(
        csv.contains(",ship_city,ship_district,ship_province,") && csv.contains(",上海,黄浦区,上海,200001,CN,"),
        "{csv}"
    );
}

/// An address in mainland China names its province (a municipality as the city will do),
/// however it is written, and its postal code must be that province's.
#[tokio::test]
async fn an_address_in_china_names_its_province_and_a_postal_code_from_it() {
    let app = spawn_app().await;
    let create = |code: &'static str, address: serde_json::Value| {
        let app = &app;
        async move {
            app.post("/api/v1/customers", json!({"code": code, "name": "深圳优品", "shipping_address": address})).await
        }
    };
    let no_province = create("C-SZ", json!({"line1": "深南大道 1 号", "city": "深圳", "country": "CN"})).await;
    assert_eq!(no_province.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", no_province.body);
    assert_eq!(no_province.body["errors"][0]["field"], "shipping_address.region");
    let sales_region = create(
        "C-SZ",
        json!({"line1": "深南大道 1 号", "city": "深圳", "region": "华南", "postal_code": "518000", "country": "CN"}),
    )
    .await;
    assert_eq!(
        sales_region.body["errors"][0]["message"],
        "\"华南\" is not a province of mainland China; write it like 广东省, Guangdong or GD"
    );
    let wrong_code = create(
        "C-SZ",
        json!({"line1": "深南大道 1 号", "city": "深圳", "region": "Guangdong", "postal_code": "200001", "country": "CN"}),
    )
    .await;
    assert_eq!(wrong_code.body["errors"][0]["field"], "shipping_address.postal_code");
    assert_eq!(
        wrong_code.body["errors"][0]["message"],
        "200001 is a postal code of 上海市, not of 广东省 (whose codes start with 51, 52)"
    );
    assert!(app.get("/api/v1/customers?q=C-SZ").await.body["items"].as_array().unwrap().is_empty(), "nothing saved");

    for (code, region) in [("C-SZ", "广东省"), ("C-SZ2", "廣東"), ("C-SZ3", "GD")] {
        let good = create(
            code,
            json!({"line1": "深南大道 1 号", "city": "深圳", "region": region, "postal_code": "518000", "country": "CN"}),
        )
        .await;
        assert_eq!(good.status, StatusCode::CREATED, "{region}: {}", good.body);
        assert_eq!(good.body["shipping_address"]["region"], region, "kept as written");
    }
    let elsewhere =
        create("C-US", json!({"line1": "1 Market St", "city": "San Francisco", "region": "CA", "country": "US"})).await;
    assert_eq!(elsewhere.status, StatusCode::CREATED, "other countries keep the generic check: {}", elsewhere.body);
}

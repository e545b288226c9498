//! A realistic demo data set, created through the same use cases as the API so it obeys
//! every rule (prices, reservations, movements, events): 50 products, 3 warehouses,
//! 30 customers in several groups and regions, two price lists and 500 orders spread over
//! the last 90 days, some of them cancelled.

use crate::BoxError;
use ordo_app::catalog::{self, NewPriceList, NewProduct, PriceInput};
use ordo_app::common::AmountInput;
use ordo_app::customers::{self, NewCustomer};
use ordo_app::inventory::{self, NewWarehouse, SetStock};
use ordo_app::orders::{self, CancelOrder, NewOrder, NewOrderLine, OrderError, Placed};
use ordo_app::promotions::{self, NewMemberTier, NewPromotion};
use ordo_app::{Ctx, Database, DbError};
use ordo_domain::Timestamp;
use ordo_domain::catalog::PackInput;
use ordo_domain::customers::AddressInput;

/// A small deterministic generator, so every demo database is the same.
struct Dice(u64);

impl Dice {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

const PRODUCTS: &[(&str, &str, &str, &str)] = &[
    ("TEA", "龙井绿茶 Longjing Green Tea", "250 g tin", "88.00"),
    ("TEA", "普洱熟茶 Pu'er Ripe Tea Cake", "357 g cake", "168.00"),
    ("TEA", "铁观音 Tieguanyin Oolong", "200 g bag", "96.00"),
    ("TEA", "大红袍 Da Hong Pao", "150 g box", "238.00"),
    ("TEA", "茉莉花茶 Jasmine Tea", "250 g bag", "45.00"),
    ("TEA", "白毫银针 Silver Needle White Tea", "100 g box", "298.00"),
    ("TEA", "祁门红茶 Keemun Black Tea", "200 g tin", "120.00"),
    ("TEA", "碧螺春 Biluochun Green Tea", "125 g tin", "158.00"),
    ("CER", "青花瓷茶杯 Blue-and-White Teacup", "set of 4", "128.00"),
    ("CER", "紫砂壶 Yixing Clay Teapot", "300 ml", "460.00"),
    ("CER", "盖碗 Gaiwan", "150 ml", "68.00"),
    ("CER", "公道杯 Fairness Pitcher", "250 ml glass", "39.00"),
    ("CER", "建盏 Jian Zhan Tea Bowl", "hare's fur glaze", "350.00"),
    ("CER", "景德镇花瓶 Jingdezhen Vase", "30 cm", "680.00"),
    ("CER", "陶瓷餐盘 Porcelain Dinner Plate", "27 cm", "55.00"),
    ("CER", "茶盘 Bamboo Tea Tray", "45 × 30 cm", "189.00"),
    ("SLK", "真丝围巾 Silk Scarf", "90 × 90 cm", "399.00"),
    ("SLK", "真丝睡衣 Silk Pyjamas", "size M", "899.00"),
    ("SLK", "丝绸枕套 Silk Pillowcase", "51 × 76 cm", "259.00"),
    ("SLK", "刺绣手帕 Embroidered Handkerchief", "pack of 3", "79.00"),
    ("SLK", "丝巾礼盒 Silk Scarf Gift Box", "two scarves", "699.00"),
    ("ELE", "蓝牙耳机 Bluetooth Earbuds", "ANC, 30 h", "299.00"),
    ("ELE", "充电宝 Power Bank 20000 mAh", "PD 65 W", "199.00"),
    ("ELE", "USB-C 数据线 USB-C Cable", "2 m braided", "29.90"),
    ("ELE", "智能手环 Fitness Band", "AMOLED", "249.00"),
    ("ELE", "无线充电器 Wireless Charger", "15 W", "89.00"),
    ("ELE", "电动牙刷 Electric Toothbrush", "sonic", "159.00"),
    ("ELE", "小米台灯 Desk Lamp", "LED, dimmable", "169.00"),
    ("ELE", "便携音箱 Portable Speaker", "waterproof", "229.00"),
    ("ELE", "机械键盘 Mechanical Keyboard", "87 keys", "399.00"),
    ("FOD", "五常大米 Wuchang Rice", "5 kg", "89.00"),
    ("FOD", "东北木耳 Black Fungus", "250 g", "36.00"),
    ("FOD", "金华火腿 Jinhua Ham", "1 kg", "268.00"),
    ("FOD", "云南咖啡 Yunnan Coffee Beans", "500 g", "98.00"),
    ("FOD", "枸杞 Goji Berries", "500 g", "49.00"),
    ("FOD", "蜂蜜 Wildflower Honey", "500 g", "68.00"),
    ("FOD", "月饼礼盒 Mooncake Gift Box", "8 pieces", "188.00"),
    ("FOD", "老干妈 Chili Crisp", "280 g × 3", "39.00"),
    ("FOD", "手工挂面 Hand-Pulled Noodles", "1 kg", "25.00"),
    ("FOD", "红枣 Red Dates", "1 kg", "42.00"),
    ("HOM", "竹制砧板 Bamboo Cutting Board", "40 × 28 cm", "79.00"),
    ("HOM", "铸铁锅 Cast-Iron Wok", "32 cm", "259.00"),
    ("HOM", "羽绒被 Down Duvet", "200 × 230 cm", "1299.00"),
    ("HOM", "纯棉毛巾 Cotton Towel", "pack of 2", "59.00"),
    ("HOM", "香薰蜡烛 Scented Candle", "osmanthus", "88.00"),
    ("HOM", "收纳箱 Storage Box", "45 L", "49.00"),
    ("HOM", "保温杯 Vacuum Flask", "500 ml", "129.00"),
    ("HOM", "筷子礼盒 Chopsticks Gift Set", "5 pairs", "99.00"),
    ("HOM", "中国结 Chinese Knot", "wall hanging", "35.00"),
    ("HOM", "剪纸窗花 Paper-Cut Window Art", "set of 10", "28.00"),
];

/// The province and a postal code of each mainland city the demo customers are in.
const MAINLAND_CITIES: &[(&str, &str, &str)] = &[
    ("上海", "上海市", "200001"),
    ("杭州", "浙江省", "310000"),
    ("南京", "江苏省", "210000"),
    ("苏州", "江苏省", "215000"),
    ("广州", "广东省", "510000"),
    ("深圳", "广东省", "518000"),
    ("厦门", "福建省", "361000"),
    ("北京", "北京市", "100000"),
    ("天津", "天津市", "300000"),
    ("成都", "四川省", "610000"),
    ("重庆", "重庆市", "400000"),
    ("武汉", "湖北省", "430000"),
    ("西安", "陕西省", "710000"),
    ("青岛", "山东省", "266000"),
    ("大连", "辽宁省", "116000"),
];

fn province_of(city: &str) -> Option<&'static str> {
    MAINLAND_CITIES.iter().find(|(c, _, _)| *c == city).map(|(_, province, _)| *province)
}

fn postal_code_of(city: &str) -> Option<&'static str> {
    MAINLAND_CITIES.iter().find(|(c, _, _)| *c == city).map(|(_, _, code)| *code)
}

const CUSTOMERS: &[(&str, &str, &str, &str, &str)] = &[
    // (name, group, region, city, country)
    ("上海华联贸易有限公司", "wholesale", "华东", "上海", "CN"),
    ("杭州茶韵商行", "wholesale", "华东", "杭州", "CN"),
    ("南京百货集团", "wholesale", "华东", "南京", "CN"),
    ("苏州丝绸之家", "retail", "华东", "苏州", "CN"),
    ("广州美思贸易", "wholesale", "华南", "广州", "CN"),
    ("深圳优品电子", "wholesale", "华南", "深圳", "CN"),
    ("厦门茶叶进出口公司", "vip", "华南", "厦门", "CN"),
    ("北京京东方零售", "wholesale", "华北", "北京", "CN"),
    ("天津食品超市", "retail", "华北", "天津", "CN"),
    ("成都熊猫礼品店", "retail", "西南", "成都", "CN"),
    ("重庆山城百货", "retail", "西南", "重庆", "CN"),
    ("武汉长江商贸", "wholesale", "华中", "武汉", "CN"),
    ("西安古都文创", "retail", "西北", "西安", "CN"),
    ("青岛海滨家居", "retail", "华东", "青岛", "CN"),
    ("大连北方贸易", "wholesale", "东北", "大连", "CN"),
    ("香港利丰有限公司", "vip", "港澳台", "香港", "HK"),
    ("澳門新世紀貿易", "retail", "港澳台", "澳門", "MO"),
    ("台北永豐商行", "wholesale", "港澳台", "台北", "TW"),
    ("高雄港口貿易", "retail", "港澳台", "高雄", "TW"),
    ("Golden Dragon Imports Ltd", "wholesale", "Overseas", "London", "GB"),
    ("Pacific Tea Company", "vip", "Overseas", "San Francisco", "US"),
    ("Maple Leaf Trading", "retail", "Overseas", "Vancouver", "CA"),
    ("Sydney Asian Grocers", "retail", "Overseas", "Sydney", "AU"),
    ("Singapore Orchard Mart", "wholesale", "Overseas", "Singapore", "SG"),
    ("Berlin Ostasien Handel GmbH", "retail", "Overseas", "Berlin", "DE"),
    ("Tokyo Sakura Shoten", "retail", "Overseas", "Tokyo", "JP"),
    ("张伟", "retail", "华东", "上海", "CN"),
    ("王芳", "retail", "华南", "广州", "CN"),
    ("李娜", "vip", "华北", "北京", "CN"),
    ("陈静", "retail", "西南", "成都", "CN"),
];

const WAREHOUSES: &[(&str, &str, &str, &str)] = &[
    ("SH-01", "上海一号仓 Shanghai DC", "华东", "上海"),
    ("GZ-01", "广州南沙仓 Guangzhou DC", "华南", "广州"),
    ("BJ-01", "北京顺义仓 Beijing DC", "华北", "北京"),
];

const SALESPEOPLE: [(&str, &str); 2] =
    [("li.wei@ordo.local", "李伟 Li Wei"), ("wang.fang@ordo.local", "王芳 Wang Fang")];

pub async fn is_empty(db: &Database) -> Result<bool, BoxError> {
    let count = db
        .read(|tx| {
            let products = tx.query_one("SELECT COUNT(*) FROM products", &[])?.int(0)?;
            let orders = tx.query_one("SELECT COUNT(*) FROM orders", &[])?.int(0)?;
            Ok::<_, DbError>(products + orders)
        })
        .await?;
    Ok(count == 0)
}

fn amount(text: &str) -> Option<AmountInput> {
    Some(AmountInput(text.to_string()))
}

/// Loads the demo data set; returns a one-line summary.
pub async fn load(db: &Database) -> Result<String, BoxError> {
    let started = Timestamp::now();
    let setup = Ctx::at("demo", "demo", started.minus_days(91));
    let ctx = setup.clone();
    // Two account salespeople for the trade customers (sales by salesperson); they sign in
    // only after an admin gives them a password.
    for (email, name) in SALESPEOPLE {
        match ordo_app::users::add_user(db, &setup, email, Some(name), "sales").await {
            Ok(_) | Err(ordo_app::users::UserError::EmailTaken(_)) => {}
            Err(error) => return Err(error.into()),
        }
    }
    let product_count = db
        .write(move |tx| {
            for (code, name, region, city) in WAREHOUSES {
                let input = NewWarehouse {
                    code: Some(code.to_string()),
                    name: Some(name.to_string()),
                    region: Some(region.to_string()),
                    address: Some(AddressInput {
                        line1: Some("物流园区 1 号 Logistics Park 1".into()),
                        city: Some(city.to_string()),
                        region: province_of(city).map(str::to_string),
                        postal_code: postal_code_of(city).map(str::to_string),
                        country: Some("CN".into()),
                        ..Default::default()
                    }),
                    ..Default::default()
                };
                inventory::create_warehouse(tx, &ctx, &input).map_err(|e| e.to_string())?;
            }
            for (i, (family, name, description, price)) in PRODUCTS.iter().enumerate() {
                let input = NewProduct {
                    sku: Some(format!("{family}-{:03}", i + 1)),
                    name: Some(name.to_string()),
                    description: Some(description.to_string()),
                    price: amount(price),
                    currency: Some("CNY".into()),
                    tax_rate: amount(if *family == "FOD" { "0.09" } else { "0.13" }),
                    unit: Some(if *family == "FOD" { "bag" } else { "pcs" }.into()),
                    weight_kg: amount("0.5"),
                    active: Some(true),
                    // Rules can test these: ceramics ship as fragile, food and tea by shelf life.
                    tags: Some(match *family {
                        "CER" => vec!["ceramics".into(), "fragile".into()],
                        "ELE" => vec!["electronics".into()],
                        "FOD" => vec!["food".into(), "perishable".into()],
                        "TEA" => vec!["tea".into()],
                        "SLK" => vec!["silk".into()],
                        _ => vec!["home".into()],
                    }),
                    // Tea is made to order by the growers: it may be backordered.
                    backorderable: Some(*family == "TEA"),
                    // Wholesalers buy tea and food by the case.
                    packs: Some(match *family {
                        "TEA" => vec![PackInput { unit: Some("箱".into()), size: Some(12) }],
                        "FOD" => vec![PackInput { unit: Some("箱".into()), size: Some(24) }],
                        _ => Vec::new(),
                    }),
                    category: Some(
                        match *family {
                            "CER" => "ceramics",
                            "ELE" => "electronics",
                            "FOD" => "food",
                            "TEA" => "tea",
                            "SLK" => "silk",
                            _ => "home",
                        }
                        .into(),
                    ),
                };
                let product = catalog::create_product(tx, &ctx, &input).map_err(|e| e.to_string())?;
                for (w, (code, ..)) in WAREHOUSES.iter().enumerate() {
                    let on_hand = 300 + ((i * 37 + w * 101) % 500) as i64;
                    let input = SetStock {
                        on_hand: Some(on_hand),
                        reason: Some("opening stock".into()),
                        // Aisle by product family, shelf by number: pick lists walk in this order.
                        bin: Some(format!("{}-{:02}-{}", family, i % 20 + 1, w + 1)),
                    };
                    inventory::set_stock(tx, &ctx, code, &product.sku, &input).map_err(|e| e.to_string())?;
                }
            }
            for (code, group, discount) in [("WHOLESALE-CNY", "wholesale", 85), ("VIP-CNY", "vip", 80)] {
                let items = PRODUCTS
                    .iter()
                    .enumerate()
                    .map(|(i, (family, _, _, price))| {
                        let list: rust_decimal::Decimal = price.parse().unwrap_or_default();
                        let price = (list * rust_decimal::Decimal::from(discount) / rust_decimal::Decimal::ONE_HUNDRED)
                            .round_dp(2);
                        PriceInput {
                            sku: Some(format!("{family}-{:03}", i + 1)),
                            price: amount(&price.to_string()),
                            breaks: Vec::new(),
                        }
                    })
                    .collect();
                let input = NewPriceList {
                    code: Some(code.into()),
                    name: Some(format!("{group} prices ({discount}% of list)")),
                    currency: Some("CNY".into()),
                    customer_group: Some(group.into()),
                    channel: None,
                    // VIP shops are quoted tax-inclusive (含税价), wholesalers net of tax.
                    tax_included: Some(group == "vip"),
                    items,
                };
                catalog::create_price_list(tx, &ctx, &input).map_err(|e| e.to_string())?;
            }
            // VIP accounts are gold members; a spring deal on 龙井, 满2000减100 (100 off every
            // order from 2,000) and a welcome coupon show how promotions stack on a line.
            let tier = NewMemberTier {
                code: Some("gold".into()),
                name: Some("金卡会员 Gold".into()),
                discount_percent: amount("2"),
            };
            promotions::create_member_tier(tx, &ctx, &tier).map_err(|e| e.to_string())?;
            for input in [
                NewPromotion {
                    code: Some("LONGJING-B4G1".into()),
                    name: Some("龙井 买四送一 Buy 4 get 1".into()),
                    benefit: Some("buy_x_get_y".into()),
                    buy_quantity: Some(4),
                    get_quantity: Some(1),
                    skus: vec!["TEA-001".into()],
                    ..Default::default()
                },
                NewPromotion {
                    code: Some("MAN2000".into()),
                    name: Some("满2000减100 100 off from 2,000".into()),
                    scope: Some("order".into()),
                    benefit: Some("amount_off".into()),
                    amount: amount("100"),
                    currency: Some("CNY".into()),
                    min_order: amount("2000"),
                    ..Default::default()
                },
                NewPromotion {
                    code: Some("WELCOME".into()),
                    name: Some("新客九折 Welcome 10% off".into()),
                    scope: Some("order".into()),
                    benefit: Some("percent_off".into()),
                    percent: amount("10"),
                    coupon_code: Some("WELCOME10".into()),
                    once_per_customer: true,
                    usage_limit: Some(1000),
                    ..Default::default()
                },
            ] {
                promotions::create_promotion(tx, &ctx, &input).map_err(|e| e.to_string())?;
            }
            for (i, (name, group, region, city, country)) in CUSTOMERS.iter().enumerate() {
                let address = AddressInput {
                    name: Some(name.to_string()),
                    phone: Some(format!("+86 138 0013 {:04}", 1000 + i)),
                    line1: Some(format!("{} 路 {} 号 No. {} Commerce Road", city, 10 + i, 10 + i)),
                    city: Some(city.to_string()),
                    region: Some(province_of(city).unwrap_or(region).to_string()),
                    postal_code: Some(match *country {
                        "US" => "94103".to_string(),
                        "GB" => "EC2V 7HH".to_string(),
                        "DE" => "10115".to_string(),
                        "JP" => "100-0001".to_string(),
                        "CA" => "V6B 1A1".to_string(),
                        "AU" => "2000".to_string(),
                        "CN" => postal_code_of(city).unwrap_or("200001").to_string(),
                        _ => format!("{:06}", 200_000 + i * 1111),
                    }),
                    country: Some(country.to_string()),
                    ..Default::default()
                };
                let input = NewCustomer {
                    code: Some(format!("C{:04}", i + 1)),
                    name: Some(name.to_string()),
                    group: Some(group.to_string()),
                    region: Some(region.to_string()),
                    email: Some(format!("buyer{}@example.com", i + 1)),
                    phone: address.phone.clone(),
                    contact_name: None,
                    shipping_address: Some(address.clone()),
                    billing_address: Some(address),
                    payment_terms: Some(if *group == "retail" { "prepaid" } else { "net30" }.into()),
                    // Retail customers pay up front; trade customers buy on credit.
                    credit_limit: if *group == "retail" { None } else { amount("200000") },
                    // Every demo customer buys in CNY: the demo catalog is priced in CNY only.
                    currency: Some("CNY".into()),
                    price_list: None,
                    tier: (*group == "vip").then(|| "gold".to_string()),
                    accepts_backorders: None,
                    // Trade customers in the demo read their mail in Chinese.
                    language: Some(if *group == "retail" { "en" } else { "zh-CN" }.into()),
                    salesperson: (*group != "retail").then(|| SALESPEOPLE[i % SALESPEOPLE.len()].0.to_string()),
                };
                customers::create_customer(tx, &ctx, &input).map_err(|e| e.to_string())?;
            }
            // Two rules of the kind a business starts with, so the demo shows orders waiting
            // for a manager and fragile goods going to the packing queue.
            for (name, condition, actions) in [
                (
                    "Large orders need a manager",
                    r#"order.total > 3000 && customer.group != "vip""#,
                    vec![ordo_domain::rules::RuleAction::RequireApproval {
                        role: ordo_domain::auth::Role::Approver,
                        step: None,
                    }],
                ),
                (
                    "Fragile goods to packing",
                    r#""fragile" in order.product_tags"#,
                    vec![
                        ordo_domain::rules::RuleAction::Route { warehouse: None, department: Some("packing".into()) },
                        ordo_domain::rules::RuleAction::Tag { tag: "fragile".into() },
                    ],
                ),
            ] {
                let input = ordo_app::rules::RuleInput {
                    name: Some(name.into()),
                    condition: Some(condition.into()),
                    actions: Some(actions),
                    priority: None,
                    enabled: Some(true),
                };
                ordo_app::rules::create_rule(tx, &ctx, &input).map_err(|e| e.to_string())?;
            }
            // A Tmall shop sending orders of its own, read through a mapping of its JSON.
            let retail = CUSTOMERS.iter().position(|c| c.1 == "retail").map(|i| i as i64 + 1);
            let mapping = serde_json::json!({"external_ref": "/trade/tid", "lines": "/trade/orders",
                "sku": "/outer_sku_id", "quantity": "/num", "notes": "/trade/buyer_message",
                "ship_to": {"name": "/trade/receiver_name", "phone": "/trade/receiver_mobile",
                    "line1": "/trade/receiver_address", "city": "/trade/receiver_city",
                    "district": "/trade/receiver_district", "region": "/trade/receiver_state", "country": "CN"}});
            let tmall = ordo_app::channels::NewChannel {
                code: Some("tmall".into()),
                name: Some("天猫旗舰店 Tmall flagship store".into()),
                kind: Some("marketplace".into()),
                customer_id: retail,
                callback_url: None,
                inbound_mapping: serde_json::from_value(mapping).ok(),
            };
            ordo_app::channels::create_channel(tx, &ctx, &tmall).map_err(|e| e.to_string())?;
            Ok::<_, DemoError>(PRODUCTS.len())
        })
        .await?;

    let bills = buy_from_growers(db, started).await?;

    // 500 orders, oldest first, so numbers rise with time.
    let mut dice = Dice(0x5eed_0bd0);
    let channels = ["web", "web", "phone", "email", "store", "tmall", "api", "import"];
    let mut placed = 0;
    let mut cancelled = 0;
    let mut freighted = Vec::new();
    for n in 0..500_i64 {
        let minutes_ago = (500 - n) * 90 * 24 * 60 / 500 + dice.below(60) as i64;
        let now = Timestamp(started.micros() - minutes_ago * 60_000_000);
        let line_count = 1 + dice.below(4) as usize;
        let lines = (0..line_count)
            .map(|_| {
                let i = dice.below(PRODUCTS.len() as u64) as usize;
                NewOrderLine {
                    sku: Some(format!("{}-{:03}", PRODUCTS[i].0, i + 1)),
                    quantity: Some(1 + dice.below(5) as i64),
                    ..Default::default()
                }
            })
            .collect();
        let channel = channels[dice.below(channels.len() as u64) as usize];
        let input = NewOrder {
            customer_id: Some(1 + dice.below(CUSTOMERS.len() as u64) as i64),
            channel: Some(channel.into()),
            external_ref: (channel == "tmall").then(|| format!("TM{}", 2_026_000_000 + n * 7)),
            currency: None,
            lines: Some(lines),
            shipping_address: None,
            notes: (dice.below(5) == 0).then(|| "请在工作日送货 Please deliver on a weekday".to_string()),
            requested_delivery_date: None,
            payment_method: None,
            shipping_service: None,
            coupon_code: None,
        };
        let cancel = dice.below(100) < 12;
        // Most customers have paid by bank transfer a day later, except in the last few days.
        let pays = dice.below(10) < 7 && minutes_ago > 3 * 24 * 60;
        let ctx = Ctx::at("demo", "demo", now);
        let result = db
            .write(move |tx| {
                let order = match orders::place_order(tx, &ctx, &input)? {
                    Placed::Created(order) | Placed::Existing(order) => order,
                };
                if pays && !cancel {
                    let later = Ctx::at("demo-finance", "demo", ctx.now.plus_seconds(86_400));
                    let payment = ordo_app::payments::NewPayment {
                        method: Some("bank_transfer".into()),
                        amount: Some(AmountInput(order.total.to_string())),
                        reference: Some(format!("ICBC {}", order.number)),
                    };
                    ordo_app::payments::record_payment(tx, &later, order.id, &payment)
                        .map_err(|e| OrderError::Conflict(format!("demo payment of {}: {e}", order.number)))?;
                }
                if cancel {
                    let later = Ctx::at("demo", "demo", ctx.now.plus_seconds(3600));
                    let reason = CancelOrder { reason: Some("客户取消 customer changed their mind".into()) };
                    orders::cancel_order(tx, &later, order.id, None, &reason)?;
                } else if order.status == ordo_domain::orders::OrderStatus::PendingApproval && minutes_ago > 5 * 24 * 60
                {
                    // The manager has long approved older orders; the last five days' still wait.
                    let later = Ctx::at("demo-manager", "demo", ctx.now.plus_seconds(2 * 3600));
                    let decision = ordo_app::orders::Decision { comment: Some("OK".into()), cancel: None };
                    let roles = [ordo_domain::auth::Role::Approver];
                    ordo_app::approvals::approve_order(tx, &later, &roles, order.id, None, &decision)?;
                }
                Ok::<_, OrderError>(order.id)
            })
            .await;
        match result {
            Ok(order_id) => {
                placed += 1;
                cancelled += usize::from(cancel);
                if !cancel && n % 9 == 0 {
                    freighted.push((order_id, now));
                }
            }
            Err(OrderError::ShortStock(_)) => {}
            Err(other) => return Err(other.into()),
        }
    }
    let costs = record_freight(db, &freighted).await?;
    let abroad = sell_abroad(db, started).await?;
    Ok(format!(
        "demo data loaded: {product_count} products, {} warehouses, {} customers, 2 price lists, {placed} orders \
         ({cancelled} cancelled), {bills} supplier bills, {costs} freight costs, {abroad} orders in US dollars",
        WAREHOUSES.len(),
        CUSTOMERS.len()
    ))
}

/// An importer in Los Angeles who buys in US dollars: the dollar's rates (7.12 from 60 days
/// ago, 7.18 from 10 days ago), two orders priced from the yuan catalog and invoiced, and
/// the older one paid at the newer rate, which books an exchange gain. Returns how many
/// dollar orders were placed (one short of stock is left out).
async fn sell_abroad(db: &Database, started: Timestamp) -> Result<usize, BoxError> {
    use ordo_app::payments::fx::{RateInput, RatesInput};
    let placed = db
        .write(move |tx| {
            let at = |days: i64| Ctx::at("demo-finance", "demo", started.minus_days(days));
            let step = |e: &dyn std::fmt::Display| DemoError::Step(e.to_string());
            for (days, rate) in [(60, "7.12"), (10, "7.18")] {
                let rate = RateInput {
                    currency: Some("USD".into()),
                    date: Some(ordo_domain::time::Date::of(started.minus_days(days)).to_string()),
                    rate: Some(rate.into()),
                };
                ordo_app::payments::fx::enter_rates(tx, &at(days), &RatesInput { rates: vec![rate] })
                    .map_err(|e| step(&e))?;
            }
            let address = AddressInput {
                line1: Some("888 N Spring St".into()),
                city: Some("Los Angeles".into()),
                region: Some("CA".into()),
                postal_code: Some("90012".into()),
                country: Some("US".into()),
                ..Default::default()
            };
            let importer = NewCustomer {
                code: Some("US-LA-001".into()),
                name: Some("Golden State Tea Importers LLC".into()),
                group: Some("wholesale".into()),
                email: Some("orders@goldenstatetea.example".into()),
                shipping_address: Some(address.clone()),
                billing_address: Some(address),
                payment_terms: Some("net30".into()),
                currency: Some("USD".into()),
                language: Some("en".into()),
                ..Default::default()
            };
            let importer = customers::create_customer(tx, &at(60), &importer).map_err(|e| step(&e))?;
            let mut placed = Vec::new();
            for (days, quantity) in [(30, 6), (8, 4)] {
                let input = NewOrder {
                    customer_id: Some(importer.id),
                    channel: Some("email".into()),
                    lines: Some(vec![
                        NewOrderLine { sku: Some("TEA-001".into()), quantity: Some(quantity), ..Default::default() },
                        NewOrderLine { sku: Some("TEA-002".into()), quantity: Some(quantity), ..Default::default() },
                    ]),
                    ..Default::default()
                };
                let order = match orders::place_order(tx, &at(days), &input) {
                    Ok(Placed::Created(order) | Placed::Existing(order)) => order,
                    Err(OrderError::ShortStock(_)) => continue,
                    Err(error) => return Err(step(&error)),
                };
                let invoice = ordo_app::payments::NewInvoice::default();
                ordo_app::payments::issue_invoice(tx, &at(days), order.id, &invoice).map_err(|e| step(&e))?;
                placed.push(order);
            }
            if let Some(first) = placed.first() {
                let payment = ordo_app::payments::NewPayment {
                    method: Some("bank_transfer".into()),
                    amount: Some(AmountInput(first.total.to_string())),
                    reference: Some(format!("WIRE {}", first.number)),
                };
                ordo_app::payments::record_payment(tx, &at(5), first.id, &payment).map_err(|e| step(&e))?;
            }
            Ok::<_, DemoError>(placed.len())
        })
        .await?;
    Ok(placed)
}

/// The tea growers' purchase order, received into Shanghai 88 days ago (which gives the
/// first ten products their cost), and its two bills: one matched and paid, one dearer than
/// agreed and held for approval. Returns how many bills.
async fn buy_from_growers(db: &Database, started: Timestamp) -> Result<usize, BoxError> {
    use ordo_app::payables::{self, NewBill, NewBillLine, NewSupplierPayment};
    use ordo_app::purchasing::{self, NewPurchaseLine, NewPurchaseOrder, NewSupplier, ReceivePurchase, ReceivedLine};
    let bought: Vec<(String, String)> = PRODUCTS
        .iter()
        .take(10)
        .enumerate()
        .map(|(i, (family, _, _, price))| {
            let list: rust_decimal::Decimal = price.parse().unwrap_or_default();
            (format!("{family}-{:03}", i + 1), (list * rust_decimal::Decimal::new(55, 2)).round_dp(2).to_string())
        })
        .collect();
    db.write(move |tx| {
        let at = |days: i64| Ctx::at("demo-finance", "demo", started.minus_days(days));
        let step = |e: &dyn std::fmt::Display| DemoError::Step(e.to_string());
        let supplier = NewSupplier {
            code: Some("SUP-HZ-LJ".into()),
            name: Some("杭州龙井茶厂 Hangzhou Longjing Tea Co.".into()),
            contact_name: Some("王经理".into()),
            phone: Some("+86 571 8888 6666".into()),
            lead_time_days: Some(5),
            payment_terms: Some("net30".into()),
            ..Default::default()
        };
        let supplier = purchasing::create_supplier(tx, &at(91), &supplier).map_err(|e| step(&e))?;
        let order = NewPurchaseOrder {
            supplier_id: Some(supplier.id),
            warehouse: Some(WAREHOUSES[0].0.into()),
            expected_date: None,
            lines: Some(
                bought
                    .iter()
                    .map(|(sku, cost)| NewPurchaseLine {
                        sku: Some(sku.clone()),
                        quantity: Some(100),
                        unit_cost: Some(AmountInput(cost.clone())),
                    })
                    .collect(),
            ),
        };
        let po = purchasing::create_purchase_order(tx, &at(91), &order).map_err(|e| step(&e))?;
        purchasing::send_purchase_order(tx, &at(91), po.id).map_err(|e| step(&e))?;
        let receipt = ReceivePurchase {
            lines: Some(
                bought.iter().map(|(sku, _)| ReceivedLine { sku: Some(sku.clone()), quantity: Some(100) }).collect(),
            ),
        };
        purchasing::receive_purchase_order(tx, &at(88), po.id, &receipt).map_err(|e| step(&e))?;
        let bill_lines = |range: std::ops::Range<usize>, surcharge: bool| -> Vec<NewBillLine> {
            bought[range]
                .iter()
                .enumerate()
                .map(|(k, (sku, cost))| {
                    let cost: rust_decimal::Decimal = cost.parse().unwrap_or_default();
                    // The grower put one line up by 6 % without asking.
                    let cost = if surcharge && k == 0 {
                        (cost * rust_decimal::Decimal::new(106, 2)).round_dp(2)
                    } else {
                        cost
                    };
                    NewBillLine {
                        sku: Some(sku.clone()),
                        quantity: Some(100),
                        unit_cost: Some(AmountInput(cost.to_string())),
                    }
                })
                .collect()
        };
        let subtotal = |lines: &[NewBillLine]| -> rust_decimal::Decimal {
            lines
                .iter()
                .filter_map(|l| l.unit_cost.as_ref()?.0.parse::<rust_decimal::Decimal>().ok())
                .sum::<rust_decimal::Decimal>()
                * rust_decimal::Decimal::ONE_HUNDRED
        };
        let first = bill_lines(0..6, false);
        let tax = (subtotal(&first) * rust_decimal::Decimal::new(13, 2)).round_dp(2);
        let bill = NewBill {
            supplier_ref: Some("HZLJ-2026-0311".into()),
            lines: Some(first),
            tax: Some(AmountInput(tax.to_string())),
            ..Default::default()
        };
        let paid = payables::enter_bill(tx, &at(85), po.id, &bill).map_err(|e| step(&e))?;
        let payment = NewSupplierPayment {
            amount: Some(AmountInput(paid.total.to_string())),
            method: Some("bank_transfer".into()),
            reference: Some("ICBC 20260412-7781".into()),
        };
        payables::pay_bill(tx, &at(60), paid.id, &payment).map_err(|e| step(&e))?;
        let second = bill_lines(6..10, true);
        let tax = (subtotal(&second) * rust_decimal::Decimal::new(13, 2)).round_dp(2);
        let bill = NewBill {
            supplier_ref: Some("HZLJ-2026-0342".into()),
            lines: Some(second),
            tax: Some(AmountInput(tax.to_string())),
            ..Default::default()
        };
        payables::enter_bill(tx, &at(80), po.id, &bill).map_err(|e| step(&e))?;
        Ok::<_, DemoError>(2)
    })
    .await
    .map_err(Into::into)
}

/// The courier's freight on some orders, shared over their lines by weight. Returns how many.
async fn record_freight(db: &Database, orders: &[(i64, Timestamp)]) -> Result<usize, BoxError> {
    let orders = orders.to_vec();
    db.write(move |tx| {
        for (k, (order_id, placed)) in orders.iter().enumerate() {
            let ctx = Ctx::at("demo-finance", "demo", placed.plus_seconds(2 * 86_400));
            let input = ordo_app::payables::NewCost {
                kind: Some("freight".into()),
                amount: Some(AmountInput(format!("{}.00", 12 + (k * 7) % 20))),
                orders: vec![*order_id],
                basis: Some("weight".into()),
                reference: Some(format!("SF-{:06}", 880_000 + k)),
                ..Default::default()
            };
            ordo_app::payables::record_cost(tx, &ctx, &input).map_err(|e| DemoError::Step(e.to_string()))?;
        }
        Ok::<_, DemoError>(orders.len())
    })
    .await
    .map_err(Into::into)
}

/// Invites the demo's portal buyer (of 上海华联贸易) and returns the link where they set a
/// password, on a server reached at `base`.
pub async fn invite_portal_buyer(db: &Database, base: &str) -> Result<String, BoxError> {
    let base = base.to_string();
    let invitation = db
        .write(move |tx| {
            let ctx = Ctx::new("demo", "demo");
            let page = ordo_app::PageRequest { limit: 1, before_id: None };
            let customer = ordo_app::customers::list_customers(tx, Some("上海华联"), page)
                .map_err(|e| DemoError::Step(e.to_string()))?
                .items
                .into_iter()
                .next()
                .ok_or_else(|| DemoError::Step("the demo customer 上海华联 is missing".into()))?;
            let input = ordo_app::portal::NewPortalUser {
                email: Some("buyer@hualian.example".into()),
                name: Some("王芳".into()),
                locale: Some("zh-CN".into()),
            };
            ordo_app::portal::invite(tx, &ctx, customer.id, &input, &base).map_err(|e| DemoError::Step(e.to_string()))
        })
        .await?;
    Ok(invitation.link)
}

/// The setup step's error: any use case's message, or the database's.
#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    #[error("{0}")]
    Step(String),
    #[error(transparent)]
    Db(#[from] DbError),
}

impl From<String> for DemoError {
    fn from(message: String) -> Self {
        DemoError::Step(message)
    }
}

ordo_app::store_error!(DemoError);

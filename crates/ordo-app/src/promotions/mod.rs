//! Promotions, coupons and member tiers: what an order's lines get taken off their price.
//! The order in which they stack, and the arithmetic, live in `ordo_domain::pricing`; this
//! module keeps them, checks them at the door and counts coupon uses.

use crate::common::{AmountInput, Ctx};
use crate::db::{DbError, Row, Tx, Value};
use crate::params;
use ordo_domain::money::{MAX_AMOUNT, from_e4, to_e4};
use ordo_domain::pricing::{Applied, Benefit, BenefitKind, Promotion as Rule, Scope};
use ordo_domain::validation::{FieldError, Violations, code, optional_text, required_text};
use ordo_domain::{Currency, Invalid, Timestamp};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Debug, thiserror::Error)]
pub enum PromotionError {
    #[error(transparent)]
    Invalid(#[from] Invalid),
    #[error("{0}")]
    NotFound(String),
    #[error("the promotion changed meanwhile (now version {current})")]
    VersionMismatch { current: i64 },
    #[error(transparent)]
    Db(#[from] DbError),
}
crate::store_error!(PromotionError);

#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
pub struct NewPromotion {
    /// Letters, digits, `-` and `_`, e.g. `SPRING-TEA`; shown on every line it discounts.
    pub code: Option<String>,
    pub name: Option<String>,
    /// `line` (default): on matching lines; `order`: on the order as a whole.
    pub scope: Option<String>,
    /// percent_off, amount_off (per unit on lines, once on orders) or buy_x_get_y.
    pub benefit: Option<String>,
    /// For percent_off: 0–100.
    pub percent: Option<AmountInput>,
    /// For amount_off, in `currency`.
    pub amount: Option<AmountInput>,
    /// For buy_x_get_y: for every `buy_quantity` units, `get_quantity` more are free.
    pub buy_quantity: Option<i64>,
    pub get_quantity: Option<i64>,
    /// Needed for `amount` and `min_order`; the promotion then applies to orders in it only.
    pub currency: Option<String>,
    /// The order's subtotal (at the promotion's turn) must reach this.
    pub min_order: Option<AmountInput>,
    /// Line scope: only these SKUs (empty: every product).
    #[serde(default)]
    pub skus: Vec<String>,
    pub customer_group: Option<String>,
    /// A channel code: only that channel's orders.
    pub channel: Option<String>,
    /// RFC 3339; from when it applies.
    pub starts_at: Option<String>,
    /// RFC 3339; until when (exclusive).
    pub ends_at: Option<String>,
    /// With a coupon code the promotion applies only to orders that give the code.
    pub coupon_code: Option<String>,
    /// Coupons only: how many orders may use it in all.
    pub usage_limit: Option<i64>,
    /// Coupons only: each customer may use it once.
    #[serde(default)]
    pub once_per_customer: bool,
    /// Lower first among promotions of the same step (default 100).
    pub priority: Option<i64>,
}

#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
pub struct PromotionChange {
    pub name: Option<String>,
    /// Switching a promotion off stops it for new orders; placed orders keep their prices.
    pub active: Option<bool>,
    pub priority: Option<i64>,
    /// RFC 3339; an empty string clears it.
    pub starts_at: Option<String>,
    /// RFC 3339; an empty string clears it.
    pub ends_at: Option<String>,
    pub usage_limit: Option<i64>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Promotion {
    pub id: i64,
    pub code: String,
    pub name: String,
    #[schema(value_type = String, example = "line")]
    pub scope: Scope,
    #[schema(value_type = String, example = "percent_off")]
    pub benefit: BenefitKind,
    #[schema(value_type = Option<String>)]
    pub percent: Option<Decimal>,
    #[schema(value_type = Option<String>)]
    pub amount: Option<Decimal>,
    pub buy_quantity: Option<i64>,
    pub get_quantity: Option<i64>,
    pub currency: Option<Currency>,
    #[schema(value_type = Option<String>)]
    pub min_order: Option<Decimal>,
    pub skus: Vec<String>,
    pub customer_group: Option<String>,
    pub channel: Option<String>,
    pub starts_at: Option<Timestamp>,
    pub ends_at: Option<Timestamp>,
    pub coupon_code: Option<String>,
    pub usage_limit: Option<i64>,
    pub once_per_customer: bool,
    /// Orders that took it (coupons: counted against `usage_limit`).
    pub times_used: i64,
    pub priority: i64,
    pub active: bool,
    pub version: i64,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

impl Promotion {
    /// The promotion as the pricing reads it.
    pub fn rule(&self) -> Rule {
        let benefit = match self.benefit {
            BenefitKind::PercentOff => Benefit::PercentOff(self.percent.unwrap_or_default()),
            BenefitKind::AmountOff => Benefit::AmountOff(self.amount.unwrap_or_default()),
            BenefitKind::BuyXGetY => {
                Benefit::BuyXGetY { buy: self.buy_quantity.unwrap_or(1), get: self.get_quantity.unwrap_or(0) }
            }
        };
        Rule {
            id: self.id,
            code: self.code.clone(),
            name: self.name.clone(),
            scope: self.scope,
            benefit,
            priority: self.priority,
            skus: self.skus.clone(),
            customer_group: self.customer_group.clone(),
            channel: self.channel.clone(),
            currency: self.currency,
            min_order: self.min_order,
            starts_at: self.starts_at,
            ends_at: self.ends_at,
            coupon_code: self.coupon_code.clone(),
        }
    }
}

#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
pub struct NewMemberTier {
    #[schema(example = "gold")]
    pub code: Option<String>,
    pub name: Option<String>,
    /// Percent off every line, 0–100, taken after line promotions.
    pub discount_percent: Option<AmountInput>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct MemberTier {
    pub id: i64,
    pub code: String,
    pub name: String,
    #[schema(value_type = String, example = "3")]
    pub discount_percent: Decimal,
}

fn percent(field: &str, value: Option<&AmountInput>) -> Result<Decimal, FieldError> {
    let p = AmountInput::required(field, value, false)?;
    if p <= Decimal::ZERO || p > Decimal::ONE_HUNDRED {
        return Err(FieldError::new(field, "must be more than 0 and at most 100"));
    }
    Ok(p)
}

fn positive_amount(field: &str, value: Option<&AmountInput>) -> Result<Decimal, FieldError> {
    let a = AmountInput::required(field, value, false)?;
    if a <= Decimal::ZERO || a > Decimal::from(MAX_AMOUNT) {
        return Err(FieldError::new(field, format!("must be more than 0 and at most {MAX_AMOUNT}")));
    }
    Ok(a)
}

fn count(field: &str, value: Option<i64>, max: i64) -> Result<i64, FieldError> {
    match value {
        None => Err(FieldError::new(field, "is required")),
        Some(n) if (1..=max).contains(&n) => Ok(n),
        Some(_) => Err(FieldError::new(field, format!("must be between 1 and {max}"))),
    }
}

/// Promotion and tier codes: up to 32 ASCII letters, digits, `-` and `_` (they are shown
/// on invoices and typed by staff; case is folded).
fn ascii_code(field: &str, value: Option<&str>) -> Result<String, FieldError> {
    let text = code(field, value, 32)?;
    if text.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_') {
        Ok(text)
    } else {
        Err(FieldError::new(field, "may contain only letters A–Z, digits, - and _"))
    }
}

/// Coupon codes are matched without regard to case: customers type them.
pub fn normalize_coupon(text: &str) -> String {
    text.trim().to_uppercase()
}

fn optional_time(field: &str, value: Option<&str>) -> Result<Option<Timestamp>, FieldError> {
    Timestamp::field(field, value.map(str::trim).filter(|t| !t.is_empty()))
}

struct Valid {
    code: String,
    name: String,
    scope: Scope,
    benefit: BenefitKind,
    percent: Option<Decimal>,
    amount: Option<Decimal>,
    buy: Option<i64>,
    get: Option<i64>,
    currency: Option<Currency>,
    min_order: Option<Decimal>,
    skus: Vec<String>,
    group: Option<String>,
    channel: Option<String>,
    starts_at: Option<Timestamp>,
    ends_at: Option<Timestamp>,
    coupon: Option<String>,
    usage_limit: Option<i64>,
    once_per_customer: bool,
    priority: i64,
}

fn validate(tx: &mut dyn Tx, input: &NewPromotion) -> Result<Valid, PromotionError> {
    let mut v = Violations::new();
    let promo_code = v.check(ascii_code("code", input.code.as_deref()).map(|c| c.to_uppercase()));
    let name = v.check(required_text("name", input.name.as_deref(), 200));
    let scope = match input.scope.as_deref().map(str::trim) {
        None | Some("") => Some(Scope::Line),
        Some(s) => Scope::parse(s).or_else(|| {
            v.add("scope", format!("must be one of {}", Scope::choices()));
            None
        }),
    };
    let benefit = match input.benefit.as_deref().map(str::trim).filter(|b| !b.is_empty()) {
        None => {
            v.add("benefit", format!("is required: one of {}", BenefitKind::choices()));
            None
        }
        Some(b) => BenefitKind::parse(b).or_else(|| {
            v.add("benefit", format!("must be one of {}", BenefitKind::choices()));
            None
        }),
    };
    let currency = v.check(Currency::field("currency", input.currency.as_deref())).flatten();
    let (mut percent_off, mut amount, mut buy, mut get) = (None, None, None, None);
    match benefit {
        Some(BenefitKind::PercentOff) => percent_off = v.check(percent("percent", input.percent.as_ref())),
        Some(BenefitKind::AmountOff) => {
            amount = v.check(positive_amount("amount", input.amount.as_ref()));
            if currency.is_none() {
                v.add("currency", "is required with an amount off: the amount is in it");
            }
        }
        Some(BenefitKind::BuyXGetY) => {
            buy = v.check(count("buy_quantity", input.buy_quantity, 10_000));
            get = v.check(count("get_quantity", input.get_quantity, 10_000));
            if scope == Some(Scope::Order) {
                v.add("scope", "buy_x_get_y works on lines: use scope line");
            }
        }
        None => {}
    }
    let min_order = match &input.min_order {
        None => None,
        Some(m) => {
            let min = v.check(positive_amount("min_order", Some(m)));
            if currency.is_none() {
                v.add("currency", "is required with a minimum order amount: the minimum is in it");
            }
            min
        }
    };
    let mut skus = Vec::new();
    for (i, sku) in input.skus.iter().enumerate() {
        if let Some(sku) = v.check(ordo_domain::catalog::parse_sku(&format!("skus[{i}]"), Some(sku))) {
            skus.push((i, sku));
        }
    }
    if scope == Some(Scope::Order) && !skus.is_empty() {
        v.add("skus", "an order promotion applies to the whole order; leave skus empty or use scope line");
    }
    let wanted: Vec<&str> = skus.iter().map(|(_, s)| s.as_str()).collect();
    let known = crate::catalog::store::products_by_skus(tx, &wanted)?;
    for (i, sku) in &skus {
        if !known.iter().any(|p| &p.sku == sku) {
            v.add(format!("skus[{i}]"), crate::orders::unknown_sku(tx, sku)?);
        }
    }
    let group = v
        .check(optional_text("customer_group", input.customer_group.as_deref().map(str::to_lowercase).as_deref(), 32))
        .flatten();
    let channel = v.check(crate::channels::check_open(tx, input.channel.as_deref())?).flatten();
    let starts_at = v.check(optional_time("starts_at", input.starts_at.as_deref())).flatten();
    let ends_at = v.check(optional_time("ends_at", input.ends_at.as_deref())).flatten();
    if let (Some(s), Some(e)) = (starts_at, ends_at)
        && e <= s
    {
        v.add("ends_at", "must be after starts_at");
    }
    let coupon = v
        .check(optional_text("coupon_code", input.coupon_code.as_deref(), 32))
        .flatten()
        .map(|c| normalize_coupon(&c))
        .filter(|c| !c.is_empty());
    if let Some(c) = &coupon
        && !c.chars().all(|ch| ch.is_ascii_alphanumeric() || ch == '-' || ch == '_')
    {
        v.add("coupon_code", "may contain only letters, digits, - and _");
    }
    let usage_limit = match input.usage_limit {
        None => None,
        Some(n) => v.check(count("usage_limit", Some(n), 1_000_000_000)),
    };
    if coupon.is_none() && (input.usage_limit.is_some() || input.once_per_customer) {
        v.add("coupon_code", "usage limits are for coupons: give a coupon_code");
    }
    let priority = input.priority.unwrap_or(100);
    if !(0..=10_000).contains(&priority) {
        v.add("priority", "must be between 0 and 10000");
    }
    v.into_result()?;
    let (Some(code), Some(name), Some(scope), Some(benefit)) = (promo_code, name, scope, benefit) else {
        unreachable!("every field was checked above")
    };
    Ok(Valid {
        code,
        name,
        scope,
        benefit,
        percent: percent_off,
        amount,
        buy,
        get,
        currency,
        min_order,
        skus: skus.into_iter().map(|(_, s)| s).collect(),
        group,
        channel,
        starts_at,
        ends_at,
        coupon,
        usage_limit,
        once_per_customer: input.once_per_customer,
        priority,
    })
}

const COLUMNS: &str = "id, code, name, scope, benefit, percent_e4, amount_e4, buy_quantity, get_quantity, currency, \
     min_order_e4, skus, customer_group, channel, starts_at, ends_at, coupon_code, usage_limit, once_per_customer, \
     times_used, priority, active, version, created_at, updated_at";

fn from_row(r: &Row) -> Result<Promotion, DbError> {
    let decode = |what: &str| DbError::Decode(format!("unknown promotion {what} stored"));
    let currency = r.opt_text(9)?.map(|c| Currency::parse(&c).ok_or_else(|| decode("currency"))).transpose()?;
    let amount = |v: Option<i64>| {
        v.map(|e4| match currency {
            Some(c) => ordo_domain::money::from_e4_in(e4, c),
            None => from_e4(e4),
        })
    };
    Ok(Promotion {
        id: r.int(0)?,
        code: r.text(1)?,
        name: r.text(2)?,
        scope: Scope::parse(&r.text(3)?).ok_or_else(|| decode("scope"))?,
        benefit: BenefitKind::parse(&r.text(4)?).ok_or_else(|| decode("benefit"))?,
        percent: r.opt_int(5)?.map(|p| from_e4(p).normalize()),
        amount: amount(r.opt_int(6)?),
        buy_quantity: r.opt_int(7)?,
        get_quantity: r.opt_int(8)?,
        currency,
        min_order: amount(r.opt_int(10)?),
        skus: r.opt_text(11)?.map(|s| s.split(',').map(str::to_string).collect()).unwrap_or_default(),
        customer_group: r.opt_text(12)?,
        channel: r.opt_text(13)?,
        starts_at: r.opt_int(14)?.map(Timestamp),
        ends_at: r.opt_int(15)?.map(Timestamp),
        coupon_code: r.opt_text(16)?,
        usage_limit: r.opt_int(17)?,
        once_per_customer: r.bool(18)?,
        times_used: r.int(19)?,
        priority: r.int(20)?,
        active: r.bool(21)?,
        version: r.int(22)?,
        created_at: Timestamp(r.int(23)?),
        updated_at: Timestamp(r.int(24)?),
    })
}

fn by_id(tx: &mut dyn Tx, id: i64) -> Result<Option<Promotion>, DbError> {
    tx.query_opt(&format!("SELECT {COLUMNS} FROM promotions WHERE id = ?"), params![id])?
        .as_ref()
        .map(from_row)
        .transpose()
}

pub fn create_promotion(tx: &mut dyn Tx, ctx: &Ctx, input: &NewPromotion) -> Result<Promotion, PromotionError> {
    let p = validate(tx, input)?;
    if tx.query_opt("SELECT 1 FROM promotions WHERE code = ?", params![p.code.as_str()])?.is_some() {
        return Err(Invalid::field("code", format!("a promotion with the code {} exists already", p.code)).into());
    }
    if let Some(c) = &p.coupon
        && tx.query_opt("SELECT 1 FROM promotions WHERE coupon_code = ?", params![c.as_str()])?.is_some()
    {
        return Err(Invalid::field("coupon_code", format!("another promotion has the coupon code {c}")).into());
    }
    let skus = (!p.skus.is_empty()).then(|| p.skus.join(","));
    let id = tx.insert(
        "INSERT INTO promotions (code, name, scope, benefit, percent_e4, amount_e4, buy_quantity, get_quantity, currency, \
         min_order_e4, skus, customer_group, channel, starts_at, ends_at, coupon_code, usage_limit, once_per_customer, \
         times_used, priority, active, version, created_by, created_at, updated_at) \
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0, ?, 1, 1, ?, ?, ?)",
        params![
            p.code.as_str(), p.name.as_str(), p.scope.as_str(), p.benefit.as_str(), p.percent.map(to_e4),
            p.amount.map(to_e4), p.buy, p.get, p.currency.map(|c| c.code().to_string()), p.min_order.map(to_e4), skus,
            p.group.clone(), p.channel.clone(), p.starts_at.map(Timestamp::micros), p.ends_at.map(Timestamp::micros),
            p.coupon.clone(), p.usage_limit, p.once_per_customer, p.priority, ctx.actor.as_str(), ctx.now.micros(),
            ctx.now.micros()
        ],
    )?;
    crate::audit::record(tx, ctx, "promotions", "promotion.created", &p.code, &p.name)?;
    get_promotion(tx, id)
}

pub fn get_promotion(tx: &mut dyn Tx, id: i64) -> Result<Promotion, PromotionError> {
    by_id(tx, id)?.ok_or_else(|| PromotionError::NotFound(format!("no promotion has id {id}")))
}

/// Every promotion, newest first; `active` narrows to those switched on (or off).
pub fn list_promotions(tx: &mut dyn Tx, active: Option<bool>) -> Result<Vec<Promotion>, PromotionError> {
    let (filter, params): (&str, Vec<Value>) = match active {
        Some(a) => ("WHERE active = ?", vec![a.into()]),
        None => ("", Vec::new()),
    };
    let rows = tx.query(&format!("SELECT {COLUMNS} FROM promotions {filter} ORDER BY id DESC"), &params)?;
    Ok(rows.iter().map(from_row).collect::<Result<_, _>>()?)
}

pub fn update_promotion(
    tx: &mut dyn Tx,
    ctx: &Ctx,
    id: i64,
    expected_version: Option<i64>,
    change: &PromotionChange,
) -> Result<Promotion, PromotionError> {
    let current = get_promotion(tx, id)?;
    if let Some(expected) = expected_version
        && expected != current.version
    {
        return Err(PromotionError::VersionMismatch { current: current.version });
    }
    let mut v = Violations::new();
    let name = match &change.name {
        Some(n) => v.check(required_text("name", Some(n), 200)),
        None => Some(current.name.clone()),
    };
    let starts_at = match &change.starts_at {
        Some(t) => v.check(optional_time("starts_at", Some(t))),
        None => Some(current.starts_at),
    };
    let ends_at = match &change.ends_at {
        Some(t) => v.check(optional_time("ends_at", Some(t))),
        None => Some(current.ends_at),
    };
    if let (Some(Some(s)), Some(Some(e))) = (starts_at, ends_at)
        && e <= s
    {
        v.add("ends_at", "must be after starts_at");
    }
    let priority = change.priority.unwrap_or(current.priority);
    if !(0..=10_000).contains(&priority) {
        v.add("priority", "must be between 0 and 10000");
    }
    let usage_limit = match change.usage_limit {
        Some(n) => {
            if current.coupon_code.is_none() {
                v.add("usage_limit", "usage limits are for coupons");
            }
            v.check(count("usage_limit", Some(n), 1_000_000_000)).map(Some)
        }
        None => Some(current.usage_limit),
    };
    v.into_result()?;
    let (Some(name), Some(starts_at), Some(ends_at), Some(usage_limit)) = (name, starts_at, ends_at, usage_limit)
    else {
        unreachable!("every field was checked above")
    };
    let active = change.active.unwrap_or(current.active);
    let changed = tx.execute(
        "UPDATE promotions SET name = ?, active = ?, priority = ?, starts_at = ?, ends_at = ?, usage_limit = ?, \
         version = version + 1, updated_at = ? WHERE id = ? AND version = ?",
        params![
            name.as_str(),
            active,
            priority,
            starts_at.map(Timestamp::micros),
            ends_at.map(Timestamp::micros),
            usage_limit,
            ctx.now.micros(),
            id,
            current.version
        ],
    )?;
    if changed == 0 {
        return Err(PromotionError::VersionMismatch { current: current.version + 1 });
    }
    let what = if active == current.active {
        "changed"
    } else if active {
        "switched on"
    } else {
        "switched off"
    };
    crate::audit::record(tx, ctx, "promotions", "promotion.updated", &current.code, what)?;
    get_promotion(tx, id)
}

/// The promotions an order placed at `now` may take: the automatic ones still running,
/// and the one the coupon names (whatever its dates, so the order can say why not).
pub(crate) fn for_pricing(tx: &mut dyn Tx, now: Timestamp, coupon: Option<&str>) -> Result<Vec<Promotion>, DbError> {
    let rows = tx.query(
        &format!(
            "SELECT {COLUMNS} FROM promotions WHERE active = 1 AND \
             ((coupon_code IS NULL AND (ends_at IS NULL OR ends_at > ?)) OR coupon_code = ?)"
        ),
        params![now.micros(), coupon.unwrap_or("")],
    )?;
    rows.iter().map(from_row).collect()
}

/// Records what an order took and counts the coupon's use. The conditional update and
/// the unique once-per-customer key keep the limits even when orders race.
pub(crate) fn redeem(
    tx: &mut dyn Tx,
    ctx: &Ctx,
    order_id: i64,
    customer_id: i64,
    applied: &Applied,
    promotions: &[Promotion],
) -> Result<(), PromotionError> {
    for id in applied.promotion_ids() {
        let Some(p) = promotions.iter().find(|p| p.id == id) else { continue };
        if let Some(coupon) = &p.coupon_code {
            let counted = tx.execute(
                "UPDATE promotions SET times_used = times_used + 1 \
                 WHERE id = ? AND (usage_limit IS NULL OR times_used < usage_limit)",
                params![id],
            )?;
            if counted == 0 {
                return Err(Invalid::field("coupon_code", format!("coupon {coupon} has been used up")).into());
            }
        } else {
            tx.execute("UPDATE promotions SET times_used = times_used + 1 WHERE id = ?", params![id])?;
        }
        let once_key =
            if p.once_per_customer { format!("customer:{customer_id}") } else { format!("order:{order_id}") };
        if p.once_per_customer
            && let Some(row) = tx.query_opt(
                "SELECT o.number FROM promotion_redemptions r JOIN orders o ON o.id = r.order_id \
                 WHERE r.promotion_id = ? AND r.once_key = ?",
                params![id, once_key.as_str()],
            )?
        {
            let coupon = p.coupon_code.as_deref().unwrap_or(&p.code);
            return Err(Invalid::field(
                "coupon_code",
                format!("coupon {coupon} is once per customer, and this customer used it on {}", row.text(0)?),
            )
            .into());
        }
        tx.execute(
            "INSERT INTO promotion_redemptions (promotion_id, order_id, customer_id, once_key, amount_e4, created_at) \
             VALUES (?, ?, ?, ?, ?, ?)",
            params![id, order_id, customer_id, once_key.as_str(), to_e4(applied.total_of(id)), ctx.now.micros()],
        )?;
    }
    Ok(())
}

/// Gives the uses of a cancelled order's coupons back.
pub(crate) fn release(tx: &mut dyn Tx, order_id: i64) -> Result<(), DbError> {
    tx.execute(
        "UPDATE promotions SET times_used = times_used - 1 \
         WHERE id IN (SELECT promotion_id FROM promotion_redemptions WHERE order_id = ?)",
        params![order_id],
    )?;
    tx.execute("DELETE FROM promotion_redemptions WHERE order_id = ?", params![order_id])?;
    Ok(())
}

pub fn create_member_tier(tx: &mut dyn Tx, ctx: &Ctx, input: &NewMemberTier) -> Result<MemberTier, PromotionError> {
    let mut v = Violations::new();
    let tier_code = v.check(ascii_code("code", input.code.as_deref()).map(|c| c.to_lowercase()));
    let name = v.check(required_text("name", input.name.as_deref(), 200));
    let discount = match &input.discount_percent {
        Some(p) if p.0.trim() == "0" => Some(Decimal::ZERO),
        other => v.check(percent("discount_percent", other.as_ref())),
    };
    v.into_result()?;
    let (Some(tier_code), Some(name), Some(discount)) = (tier_code, name, discount) else {
        unreachable!("every field was checked above")
    };
    if tier_by_code(tx, &tier_code)?.is_some() {
        return Err(Invalid::field("code", format!("a member tier with the code {tier_code} exists already")).into());
    }
    let id = tx.insert(
        "INSERT INTO member_tiers (code, name, discount_percent_e4, created_at) VALUES (?, ?, ?, ?)",
        params![tier_code.as_str(), name.as_str(), to_e4(discount), ctx.now.micros()],
    )?;
    crate::audit::record(tx, ctx, "promotions", "member_tier.created", &tier_code, &format!("{discount} %"))?;
    Ok(MemberTier { id, code: tier_code, name, discount_percent: discount.normalize() })
}

fn tier_from_row(r: &Row) -> Result<MemberTier, DbError> {
    Ok(MemberTier {
        id: r.int(0)?,
        code: r.text(1)?,
        name: r.text(2)?,
        discount_percent: from_e4(r.int(3)?).normalize(),
    })
}

pub fn tier_by_code(tx: &mut dyn Tx, code: &str) -> Result<Option<MemberTier>, DbError> {
    tx.query_opt("SELECT id, code, name, discount_percent_e4 FROM member_tiers WHERE code = ?", params![code])?
        .as_ref()
        .map(tier_from_row)
        .transpose()
}

pub fn list_member_tiers(tx: &mut dyn Tx) -> Result<Vec<MemberTier>, PromotionError> {
    let rows = tx.query(
        "SELECT id, code, name, discount_percent_e4 FROM member_tiers ORDER BY discount_percent_e4, code",
        &[],
    )?;
    Ok(rows.iter().map(tier_from_row).collect::<Result<_, _>>()?)
}

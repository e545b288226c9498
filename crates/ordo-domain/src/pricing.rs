//! Pricing: the price a line starts from, and what promotions take off it, in one fixed
//! order so that the same order always costs the same and every line can say why.
//!
//! Order of application; each step works on what the steps before it left:
//! 1. **Base unit price**: a price typed on the line, else the price list that applies to
//!    the customer (its own list, then a list for its group on this channel, its group on
//!    any channel, any group on this channel), at the largest quantity break the line
//!    reaches; else the catalog price.
//! 2. **Manual discount**: the line's `discount_percent` typed by staff.
//! 3. **Line promotions** (automatic): percent off, amount off each unit, buy X get Y
//!    free; lower priority number first, then older first.
//! 4. **Member tier**: the customer's tier discount, percent off each line.
//! 5. **Order promotions** (automatic): percent or amount off the whole order, usually
//!    above a minimum order amount; spread over the lines in proportion to their amounts.
//! 6. **Coupon**: the promotion the customer's coupon code names, line or order kind.
//!
//! A minimum order amount is compared with the order's subtotal as it stands when the
//! promotion's turn comes. Every adjustment is rounded to the currency's minor unit when it
//! is taken, so a line's adjustments add up to its total exactly; no line goes below zero.

use crate::money::Currency;
use crate::time::Timestamp;
use crate::validation::FieldError;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

crate::text_enum!(
    /// Where a promotion's discount lands: on matching lines, or on the order as a whole.
    Scope { Line = "line", Order = "order" }
);

crate::text_enum!(
    /// What a promotion gives.
    BenefitKind { PercentOff = "percent_off", AmountOff = "amount_off", BuyXGetY = "buy_x_get_y" }
);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Benefit {
    /// Percent off, 0–100.
    PercentOff(Decimal),
    /// Line scope: off each unit. Order scope: off the order.
    AmountOff(Decimal),
    /// For every `buy` units, `get` more are free (line scope only).
    BuyXGetY { buy: i64, get: i64 },
}

impl Benefit {
    pub fn kind(&self) -> BenefitKind {
        match self {
            Benefit::PercentOff(_) => BenefitKind::PercentOff,
            Benefit::AmountOff(_) => BenefitKind::AmountOff,
            Benefit::BuyXGetY { .. } => BenefitKind::BuyXGetY,
        }
    }
}

/// A promotion as the pricing needs it.
#[derive(Debug, Clone, PartialEq)]
pub struct Promotion {
    pub id: i64,
    pub code: String,
    pub name: String,
    pub scope: Scope,
    pub benefit: Benefit,
    pub priority: i64,
    /// Line scope: only these SKUs (empty: every product).
    pub skus: Vec<String>,
    pub customer_group: Option<String>,
    pub channel: Option<String>,
    /// Currency of `min_order` and of an amount off; required for those.
    pub currency: Option<Currency>,
    pub min_order: Option<Decimal>,
    pub starts_at: Option<Timestamp>,
    pub ends_at: Option<Timestamp>,
    /// Upper-case; a promotion with a coupon code applies only when the code is given.
    pub coupon_code: Option<String>,
}

/// Who is buying, where and when.
#[derive(Debug, Clone, Copy)]
pub struct Buyer<'a> {
    pub group: &'a str,
    pub channel: &'a str,
    pub currency: Currency,
    /// The member tier's code and its percent off.
    pub tier: Option<(&'a str, Decimal)>,
    pub now: Timestamp,
}

/// A line as it stands after its base price and manual discount.
#[derive(Debug, Clone, Copy)]
pub struct Line<'a> {
    pub sku: &'a str,
    pub quantity: i64,
    /// Quantity × unit price less the manual discount, rounded.
    pub amount: Decimal,
}

crate::text_enum!(
    /// Why an amount was taken off a line.
    AdjustmentSource { Promotion = "promotion", Tier = "tier", Coupon = "coupon" }
);

/// One amount taken off one line, with its reason.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Adjustment {
    pub source: AdjustmentSource,
    /// The promotion's or tier's code.
    pub code: String,
    /// The promotion's or tier's name.
    pub label: String,
    /// Taken off the line, in the order's currency (positive).
    #[schema(value_type = String, example = "12.50")]
    pub amount: Decimal,
    /// The promotion that gave it; absent for a tier.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub promotion_id: Option<i64>,
}

/// Adjustments per line, in the order they were taken.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Applied {
    pub lines: Vec<Vec<Adjustment>>,
}

impl Applied {
    /// What is left of a line after its adjustments.
    pub fn net(&self, i: usize, amount: Decimal) -> Decimal {
        amount - self.lines[i].iter().map(|a| a.amount).sum::<Decimal>()
    }

    /// Ids of the promotions used, each once.
    pub fn promotion_ids(&self) -> Vec<i64> {
        let mut ids: Vec<i64> = self.lines.iter().flatten().filter_map(|a| a.promotion_id).collect();
        ids.sort_unstable();
        ids.dedup();
        ids
    }

    /// Amount a promotion took off the whole order.
    pub fn total_of(&self, promotion_id: i64) -> Decimal {
        self.lines.iter().flatten().filter(|a| a.promotion_id == Some(promotion_id)).map(|a| a.amount).sum()
    }
}

/// Why a coupon cannot be used on this order; the message names the reason.
fn coupon_refusal(p: &Promotion, buyer: &Buyer, subtotal: Decimal, lines: &[Line]) -> Option<String> {
    let code = p.coupon_code.as_deref().unwrap_or(&p.code);
    if p.starts_at.is_some_and(|t| buyer.now < t) {
        return Some(format!("coupon {code} is not valid yet"));
    }
    if p.ends_at.is_some_and(|t| buyer.now >= t) {
        return Some(format!("coupon {code} has expired"));
    }
    if p.customer_group.as_deref().is_some_and(|g| g != buyer.group) {
        return Some(format!("coupon {code} is only for {} customers", p.customer_group.as_deref().unwrap_or("")));
    }
    if p.channel.as_deref().is_some_and(|c| c != buyer.channel) {
        return Some(format!("coupon {code} is only for orders on channel {}", p.channel.as_deref().unwrap_or("")));
    }
    if p.currency.is_some_and(|c| c != buyer.currency) {
        return Some(format!(
            "coupon {code} is only for orders in {}",
            p.currency.map(|c| c.code().to_string()).unwrap_or_default()
        ));
    }
    if let Some(min) = p.min_order
        && subtotal < min
    {
        return Some(format!("coupon {code} needs an order of at least {min} {}", buyer.currency.code()));
    }
    if p.scope == Scope::Line && !lines.iter().any(|l| matches_sku(p, l.sku)) {
        return Some(format!("coupon {code} is for {} only, and the order has none of them", p.skus.join(", ")));
    }
    None
}

fn matches_sku(p: &Promotion, sku: &str) -> bool {
    p.skus.is_empty() || p.skus.iter().any(|s| s == sku)
}

/// Whether an automatic promotion applies now (everything but its minimum amount).
fn applies(p: &Promotion, buyer: &Buyer) -> bool {
    p.coupon_code.is_none()
        && p.starts_at.is_none_or(|t| buyer.now >= t)
        && p.ends_at.is_none_or(|t| buyer.now < t)
        && p.customer_group.as_deref().is_none_or(|g| g == buyer.group)
        && p.channel.as_deref().is_none_or(|c| c == buyer.channel)
        && p.currency.is_none_or(|c| c == buyer.currency)
}

/// Applies the tier and the promotions to the lines, in the documented order. `coupon`
/// is the upper-case code the customer gave; an error names `field` and says why the
/// coupon cannot be used (unknown, expired, minimum not reached…).
pub fn apply(
    currency: Currency,
    buyer: &Buyer,
    lines: &[Line],
    promotions: &[Promotion],
    coupon: Option<&str>,
    field: &str,
) -> Result<Applied, FieldError> {
    let mut state = State { currency, lines, applied: Applied { lines: vec![Vec::new(); lines.len()] } };
    let mut automatic: Vec<&Promotion> = promotions.iter().filter(|p| applies(p, buyer)).collect();
    automatic.sort_by_key(|p| (p.priority, p.id));

    for p in automatic.iter().filter(|p| p.scope == Scope::Line) {
        if p.min_order.is_none_or(|min| state.subtotal() >= min) {
            state.take_line(p, AdjustmentSource::Promotion);
        }
    }
    if let Some((code, percent)) = buyer.tier
        && percent > Decimal::ZERO
    {
        for i in 0..lines.len() {
            let amount = currency.round(state.net(i) * percent / Decimal::ONE_HUNDRED);
            state.take(i, AdjustmentSource::Tier, code, code, None, amount);
        }
    }
    for p in automatic.iter().filter(|p| p.scope == Scope::Order) {
        if p.min_order.is_none_or(|min| state.subtotal() >= min) {
            state.take_order(p, AdjustmentSource::Promotion);
        }
    }
    if let Some(code) = coupon {
        let Some(p) = promotions.iter().find(|p| p.coupon_code.as_deref() == Some(code)) else {
            return Err(FieldError::new(field, format!("no promotion has the coupon code {code}")));
        };
        if let Some(why) = coupon_refusal(p, buyer, state.subtotal(), lines) {
            return Err(FieldError::new(field, why));
        }
        match p.scope {
            Scope::Line => state.take_line(p, AdjustmentSource::Coupon),
            Scope::Order => state.take_order(p, AdjustmentSource::Coupon),
        }
    }
    Ok(state.applied)
}

struct State<'a> {
    currency: Currency,
    lines: &'a [Line<'a>],
    applied: Applied,
}

impl State<'_> {
    fn net(&self, i: usize) -> Decimal {
        self.applied.net(i, self.lines[i].amount)
    }

    fn subtotal(&self) -> Decimal {
        (0..self.lines.len()).map(|i| self.net(i)).sum()
    }

    /// Takes `amount` off line `i`, never more than is left of it; nothing is recorded for 0.
    fn take(&mut self, i: usize, source: AdjustmentSource, code: &str, label: &str, id: Option<i64>, amount: Decimal) {
        let amount = amount.min(self.net(i));
        if amount > Decimal::ZERO {
            self.applied.lines[i].push(Adjustment {
                source,
                code: code.to_string(),
                label: label.to_string(),
                amount,
                promotion_id: id,
            });
        }
    }

    fn take_line(&mut self, p: &Promotion, source: AdjustmentSource) {
        for i in 0..self.lines.len() {
            let line = self.lines[i];
            if !matches_sku(p, line.sku) || line.quantity <= 0 {
                continue;
            }
            let net = self.net(i);
            let amount = match p.benefit {
                Benefit::PercentOff(percent) => self.currency.round(net * percent / Decimal::ONE_HUNDRED),
                Benefit::AmountOff(each) => self.currency.round(each * Decimal::from(line.quantity)),
                Benefit::BuyXGetY { buy, get } => {
                    let free = line.quantity / (buy + get).max(1) * get;
                    self.currency.round(net * Decimal::from(free) / Decimal::from(line.quantity))
                }
            };
            self.take(i, source, &p.code, &p.name, Some(p.id), amount);
        }
    }

    /// An order discount, spread over the lines in proportion to what is left of each.
    fn take_order(&mut self, p: &Promotion, source: AdjustmentSource) {
        let subtotal = self.subtotal();
        let total = match p.benefit {
            Benefit::PercentOff(percent) => self.currency.round(subtotal * percent / Decimal::ONE_HUNDRED),
            Benefit::AmountOff(amount) => self.currency.round(amount).min(subtotal),
            Benefit::BuyXGetY { .. } => return,
        };
        let nets: Vec<Decimal> = (0..self.lines.len()).map(|i| self.net(i)).collect();
        for (i, share) in spread(self.currency, total, &nets).into_iter().enumerate() {
            self.take(i, source, &p.code, &p.name, Some(p.id), share);
        }
    }
}

/// Splits `total` over parts in proportion to their weights, in whole minor units: each
/// gets its share rounded down, and the units left go to the largest remainders (earlier
/// part first on a tie), so the shares add up to `total` exactly.
pub fn spread(currency: Currency, total: Decimal, weights: &[Decimal]) -> Vec<Decimal> {
    let sum: Decimal = weights.iter().copied().filter(|w| *w > Decimal::ZERO).sum();
    if sum <= Decimal::ZERO || total <= Decimal::ZERO {
        return vec![Decimal::ZERO; weights.len()];
    }
    let unit = Decimal::new(1, currency.minor_units());
    let mut shares = Vec::with_capacity(weights.len());
    let mut remainders = Vec::with_capacity(weights.len());
    for (i, w) in weights.iter().enumerate() {
        let exact = total * (*w).max(Decimal::ZERO) / sum;
        let down = (exact / unit).floor() * unit;
        shares.push(down);
        remainders.push((exact - down, i));
    }
    let mut left = ((total - shares.iter().sum::<Decimal>()) / unit).round();
    remainders.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    for (_, i) in remainders {
        if left <= Decimal::ZERO {
            break;
        }
        shares[i] += unit;
        left -= Decimal::ONE;
    }
    shares.into_iter().map(|s| currency.round(s)).collect()
}

/// One price a price list offers for a product.
#[derive(Debug, Clone, PartialEq)]
pub struct ListPrice {
    pub list_code: String,
    /// 0: the customer's own list; 1: its group on this channel; 2: its group; 3: this channel.
    pub rank: u8,
    /// 1 for the list's plain price, more for a quantity break.
    pub min_quantity: i64,
    pub price: Decimal,
    /// The list's prices include tax.
    pub tax_included: bool,
}

/// The price a line of `quantity` gets: the best-ranked list that has a price for it, at
/// the largest break the quantity reaches.
pub fn best_list_price(offers: &[ListPrice], quantity: i64) -> Option<&ListPrice> {
    offers
        .iter()
        .filter(|o| o.min_quantity <= quantity)
        .min_by(|a, b| a.rank.cmp(&b.rank).then(b.min_quantity.cmp(&a.min_quantity)))
}

crate::text_enum!(
    /// Where a line's unit price came from.
    PriceSource {
        Entered = "entered",
        CustomerPrice = "customer_price",
        PriceList = "price_list",
        Catalog = "catalog",
    }
);

/// A line's price explained: where its unit price came from and what was taken off it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct LineNote {
    pub price_source: PriceSource,
    /// The price list the unit price came from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub price_list: Option<String>,
    /// The quantity break the line reached (absent: the list's plain price).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_quantity: Option<i64>,
    /// In the order they were taken.
    #[serde(default)]
    pub adjustments: Vec<Adjustment>,
    /// A catalog price in another currency, converted at the day's exchange rates.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub converted: Option<Conversion>,
}

/// Where a converted price came from: `price` in `from`, times `rate`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Conversion {
    #[schema(value_type = String, example = "CNY")]
    pub from: Currency,
    #[schema(value_type = String, example = "71.00")]
    pub price: Decimal,
    #[schema(value_type = String, example = "0.14084507")]
    pub rate: Decimal,
}

impl LineNote {
    pub fn from_offer(offer: Option<&ListPrice>) -> LineNote {
        match offer {
            Some(o) => LineNote {
                price_source: if o.rank == 0 { PriceSource::CustomerPrice } else { PriceSource::PriceList },
                price_list: Some(o.list_code.clone()),
                min_quantity: (o.min_quantity > 1).then_some(o.min_quantity),
                adjustments: Vec::new(),
                converted: None,
            },
            None => LineNote {
                price_source: PriceSource::Catalog,
                price_list: None,
                min_quantity: None,
                adjustments: Vec::new(),
                converted: None,
            },
        }
    }

    pub fn entered() -> LineNote {
        LineNote {
            price_source: PriceSource::Entered,
            price_list: None,
            min_quantity: None,
            adjustments: Vec::new(),
            converted: None,
        }
    }

    /// Everything taken off the line.
    pub fn off(&self) -> Decimal {
        self.adjustments.iter().map(|a| a.amount).sum()
    }

    /// The share of the adjustments that goes with `take` of the line's `of` units when
    /// the line is split; what stays is reduced by as much, so no cent is lost or doubled.
    pub fn split_off(&mut self, currency: Currency, take: i64, of: i64) -> LineNote {
        let mut part = LineNote { adjustments: Vec::new(), ..self.clone() };
        if of <= 0 {
            return part;
        }
        for a in &mut self.adjustments {
            let share = currency.round(a.amount * Decimal::from(take) / Decimal::from(of));
            a.amount -= share;
            part.adjustments.push(Adjustment { amount: share, ..a.clone() });
        }
        self.adjustments.retain(|a| a.amount > Decimal::ZERO);
        part.adjustments.retain(|a| a.amount > Decimal::ZERO);
        part
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    fn d(s: &str) -> Decimal {
        Decimal::from_str(s).unwrap()
    }

    fn promo(id: i64, code: &str, scope: Scope, benefit: Benefit) -> Promotion {
        Promotion {
            id,
            code: code.into(),
            name: code.to_lowercase(),
            scope,
            benefit,
            priority: 100,
            skus: Vec::new(),
            customer_group: None,
            channel: None,
            currency: None,
            min_order: None,
            starts_at: None,
            ends_at: None,
            coupon_code: None,
        }
    }

    fn buyer(tier: Option<(&str, Decimal)>) -> Buyer<'_> {
        Buyer { group: "retail", channel: "web", currency: Currency::CNY, tier, now: Timestamp(1_000) }
    }

    fn totals(applied: &Applied, lines: &[Line]) -> Vec<Decimal> {
        lines.iter().enumerate().map(|(i, l)| applied.net(i, l.amount)).collect()
    }

    #[test]
    fn promotions_stack_line_then_tier_then_order_then_coupon() {
        let lines = [
            Line { sku: "TEA", quantity: 10, amount: d("100.00") },
            Line { sku: "CUP", quantity: 3, amount: d("33.33") },
        ];
        let mut tea = promo(1, "TEA10", Scope::Line, Benefit::PercentOff(d("10")));
        tea.skus = vec!["TEA".into()];
        let mut big = promo(2, "BIG20", Scope::Order, Benefit::AmountOff(d("20")));
        big.min_order = Some(d("100"));
        big.currency = Some(Currency::CNY);
        let mut coupon = promo(3, "WELCOME", Scope::Order, Benefit::PercentOff(d("5")));
        coupon.coupon_code = Some("HELLO5".into());
        let promotions = [coupon, big, tea];
        let applied =
            apply(Currency::CNY, &buyer(Some(("gold", d("2")))), &lines, &promotions, Some("HELLO5"), "coupon_code")
                .unwrap();
        // TEA: 100 − 10 (TEA10) = 90 − 1.80 (gold 2 %) = 88.20; CUP: 33.33 − 0.67 = 32.66.
        // BIG20 spreads 20 over 88.20 : 32.66 → 14.60 + 5.40; then 5 % of 100.86 = 5.04.
        let codes: Vec<Vec<&str>> = applied.lines.iter().map(|l| l.iter().map(|a| a.code.as_str()).collect()).collect();
        assert_eq!(codes, [vec!["TEA10", "gold", "BIG20", "WELCOME"], vec!["gold", "BIG20", "WELCOME"]]);
        let nets = totals(&applied, &lines);
        assert_eq!(nets.iter().sum::<Decimal>(), d("95.82"));
        assert_eq!(applied.total_of(2), d("20.00"));
        assert_eq!(applied.total_of(3), d("5.04"));
        assert_eq!(applied.promotion_ids(), [1, 2, 3]);
    }

    #[test]
    fn a_minimum_is_checked_against_the_subtotal_at_its_turn() {
        let lines = [Line { sku: "A", quantity: 1, amount: d("105") }];
        let mut line = promo(1, "TENOFF", Scope::Line, Benefit::AmountOff(d("10")));
        line.priority = 1;
        let mut order = promo(2, "OVER100", Scope::Order, Benefit::PercentOff(d("10")));
        order.min_order = Some(d("100"));
        let applied = apply(Currency::CNY, &buyer(None), &lines, &[line, order], None, "c").unwrap();
        assert_eq!(totals(&applied, &lines), [d("95")], "95 is under 100 once TENOFF is taken");
    }

    #[test]
    fn buy_three_get_one_free_counts_whole_sets() {
        let lines = [Line { sku: "A", quantity: 9, amount: d("90.00") }];
        let p = promo(1, "B3G1", Scope::Line, Benefit::BuyXGetY { buy: 3, get: 1 });
        let applied = apply(Currency::CNY, &buyer(None), &lines, &[p], None, "c").unwrap();
        assert_eq!(applied.lines[0][0].amount, d("20.00"), "two sets of four in nine units: two free");
    }

    #[test]
    fn no_line_goes_below_zero() {
        let lines = [Line { sku: "A", quantity: 2, amount: d("3.00") }];
        let p = promo(1, "BIG", Scope::Line, Benefit::AmountOff(d("5")));
        let applied = apply(Currency::CNY, &buyer(None), &lines, &[p], None, "c").unwrap();
        assert_eq!(totals(&applied, &lines), [d("0.00")]);
        assert_eq!(applied.lines[0][0].amount, d("3.00"));
    }

    #[test]
    fn coupons_that_cannot_be_used_say_why() {
        let lines = [Line { sku: "A", quantity: 1, amount: d("50") }];
        let mut p = promo(1, "SPRING", Scope::Order, Benefit::AmountOff(d("10")));
        p.coupon_code = Some("SPRING".into());
        p.min_order = Some(d("80"));
        let b = buyer(None);
        let unknown = apply(Currency::CNY, &b, &lines, std::slice::from_ref(&p), Some("NOPE"), "coupon_code");
        assert_eq!(unknown.unwrap_err().message, "no promotion has the coupon code NOPE");
        let short = apply(Currency::CNY, &b, &lines, std::slice::from_ref(&p), Some("SPRING"), "coupon_code");
        assert_eq!(short.unwrap_err().message, "coupon SPRING needs an order of at least 80 CNY");
        p.min_order = None;
        p.ends_at = Some(Timestamp(500));
        let expired = apply(Currency::CNY, &b, &lines, std::slice::from_ref(&p), Some("SPRING"), "coupon_code");
        assert_eq!(expired.unwrap_err().message, "coupon SPRING has expired");
        // A coupon promotion never applies by itself.
        assert!(apply(Currency::CNY, &b, &lines, &[p], None, "c").unwrap().lines[0].is_empty());
    }

    #[test]
    fn promotions_for_another_group_channel_or_time_do_not_apply() {
        let lines = [Line { sku: "A", quantity: 1, amount: d("50") }];
        let mut group = promo(1, "VIP", Scope::Line, Benefit::PercentOff(d("10")));
        group.customer_group = Some("vip".into());
        let mut channel = promo(2, "APP", Scope::Line, Benefit::PercentOff(d("10")));
        channel.channel = Some("app".into());
        let mut later = promo(3, "LATER", Scope::Line, Benefit::PercentOff(d("10")));
        later.starts_at = Some(Timestamp(2_000));
        let applied = apply(Currency::CNY, &buyer(None), &lines, &[group, channel, later], None, "c").unwrap();
        assert!(applied.lines[0].is_empty());
    }

    #[test]
    fn spreading_keeps_every_cent() {
        let shares = spread(Currency::CNY, d("10.00"), &[d("1"), d("1"), d("1")]);
        assert_eq!(shares, [d("3.34"), d("3.33"), d("3.33")]);
        let yen = spread(Currency::parse("JPY").unwrap(), d("100"), &[d("3"), d("0"), d("7")]);
        assert_eq!(yen, [d("30"), d("0"), d("70")]);
    }

    #[test]
    fn the_best_ranked_list_wins_at_the_largest_break_reached() {
        let offer = |code: &str, rank, min, price: &str| ListPrice {
            list_code: code.into(),
            rank,
            min_quantity: min,
            price: d(price),
            tax_included: false,
        };
        let offers = [
            offer("GROUP", 2, 1, "9.00"),
            offer("GROUP", 2, 10, "8.00"),
            offer("OWN", 0, 50, "7.00"),
            offer("GROUP", 2, 100, "6.50"),
        ];
        assert_eq!(best_list_price(&offers, 5).unwrap().price, d("9.00"));
        assert_eq!(best_list_price(&offers, 12).unwrap().price, d("8.00"));
        assert_eq!(best_list_price(&offers, 60).unwrap().price, d("7.00"), "own list from 50 beats the group");
        assert_eq!(best_list_price(&offers, 200).unwrap().price, d("7.00"));
        assert!(best_list_price(&offers[2..3], 10).is_none());
    }

    #[test]
    fn a_split_line_keeps_every_cent_of_its_discounts() {
        let adjustment = |amount: &str| Adjustment {
            source: AdjustmentSource::Promotion,
            code: "P".into(),
            label: "p".into(),
            amount: d(amount),
            promotion_id: Some(1),
        };
        let mut note = LineNote { adjustments: vec![adjustment("10.00"), adjustment("0.01")], ..LineNote::entered() };
        let part = note.split_off(Currency::CNY, 1, 3);
        assert_eq!(part.adjustments.iter().map(|a| a.amount).collect::<Vec<_>>(), [d("3.33")]);
        assert_eq!(note.off() + part.off(), d("10.01"));
    }

    proptest::proptest! {
        #[test]
        fn spread_shares_add_up(total in 0i64..1_000_000, weights in proptest::collection::vec(0i64..100_000, 1..8)) {
            let total = Decimal::new(total, 2);
            let weights: Vec<Decimal> = weights.into_iter().map(|w| Decimal::new(w, 2)).collect();
            let shares = spread(Currency::CNY, total, &weights);
            if weights.iter().any(|w| *w > Decimal::ZERO) {
                proptest::prop_assert_eq!(shares.iter().sum::<Decimal>(), total);
            }
            for (share, w) in shares.iter().zip(&weights) {
                proptest::prop_assert!(*share >= Decimal::ZERO);
                if *w == Decimal::ZERO { proptest::prop_assert_eq!(*share, Decimal::ZERO); }
            }
        }
    }
}

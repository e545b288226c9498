//! Fulfillment: where an order ships from (sourcing), what each carrier service would cost
//! and when it would arrive (rate shopping), and what a carrier's tracking words mean.

use crate::time::Date;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

crate::text_enum!(
    /// How an order's warehouse is chosen when several could fill it.
    SourcingStrategy {
        SameRegion = "same_region",
        FewestShipments = "fewest_shipments",
        LowestCost = "lowest_cost",
        Priority = "priority",
    }
);

crate::text_enum!(
    /// Which eligible carrier service a shipment takes when nobody named one.
    CarrierPolicy { Cheapest = "cheapest", Fastest = "fastest", CheapestOnTime = "cheapest_on_time" }
);

crate::text_enum!(
    /// A shipment's state, normalised from whatever words its carrier uses.
    TrackingStatus {
        LabelCreated = "label_created",
        ReadyForPickup = "ready_for_pickup",
        InTransit = "in_transit",
        OutForDelivery = "out_for_delivery",
        Delivered = "delivered",
        Exception = "exception",
        Returned = "returned",
    }
);

crate::text_enum!(
    /// What went wrong with a parcel; each opens a claim.
    ClaimKind { Lost = "lost", Damaged = "damaged", Delayed = "delayed", Other = "other" }
);

impl TrackingStatus {
    /// Maps a carrier's status word (English or Chinese, any case, spaces or dashes) to
    /// ours; `None` when it means nothing we know.
    pub fn normalise(raw: &str) -> Option<TrackingStatus> {
        let word = raw.trim().to_lowercase().replace([' ', '-'], "_");
        if let Some(known) = TrackingStatus::parse(&word) {
            return Some(known);
        }
        use TrackingStatus::*;
        Some(match word.as_str() {
            "created" | "label" | "info_received" | "pre_transit" | "已下单" | "已制单" => LabelCreated,
            "awaiting_pickup" | "待自提" => ReadyForPickup,
            "picked_up" | "transit" | "accepted" | "departed" | "arrived" | "已揽收" | "已揽件" | "运输中"
            | "運輸中" => InTransit,
            "out_for_delivery" | "on_vehicle" | "派送中" | "派件中" | "配送中" => OutForDelivery,
            "delivered" | "signed" | "collected" | "已签收" | "已簽收" | "签收" => Delivered,
            "lost" | "damaged" | "failed_attempt" | "delayed" | "held" | "异常" | "異常" | "丢失" | "破损" => {
                Exception
            }
            "returned" | "return_to_sender" | "rts" | "退回" | "已退回" => Returned,
            _ => return None,
        })
    }

    /// Whether the parcel is still on its way (a delay can still happen).
    pub fn open(self) -> bool {
        matches!(
            self,
            TrackingStatus::LabelCreated
                | TrackingStatus::InTransit
                | TrackingStatus::OutForDelivery
                | TrackingStatus::ReadyForPickup
        )
    }
}

impl ClaimKind {
    /// What an exception event says happened, from its raw status and detail.
    pub fn of_exception(raw_status: &str, detail: &str) -> ClaimKind {
        let text = format!("{raw_status} {detail}").to_lowercase();
        if ["lost", "missing", "丢失", "遗失", "遺失"].iter().any(|w| text.contains(w)) {
            ClaimKind::Lost
        } else if ["damage", "broken", "破损", "損壞", "损坏"].iter().any(|w| text.contains(w)) {
            ClaimKind::Damaged
        } else if ["delay", "late", "延误", "延誤"].iter().any(|w| text.contains(w)) {
            ClaimKind::Delayed
        } else {
            ClaimKind::Other
        }
    }
}

/// A warehouse as sourcing sees it.
#[derive(Debug, Clone)]
pub struct Source {
    pub id: i64,
    pub code: String,
    pub region: Option<String>,
    /// Higher is preferred.
    pub priority: i64,
    /// What picking and packing one shipment there costs.
    pub handling_fee: Decimal,
    /// The cheapest shipping of the whole order from here, when known (lowest_cost).
    pub shipping_estimate: Option<Decimal>,
}

/// One line's need.
#[derive(Debug, Clone)]
pub struct Need {
    pub product_id: i64,
    pub sku: String,
    pub quantity: i64,
}

/// Where each line is reserved; `None` for a line no single warehouse can fill.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Allocation {
    pub warehouses: Vec<Option<i64>>,
    /// Why the order ships from more than one warehouse (absent when it does not).
    pub split_reason: Option<String>,
}

fn same_region(source: &Source, destination: Option<&str>) -> bool {
    match (&source.region, destination) {
        (Some(region), Some(destination)) => crate::china::same_region(region, destination),
        _ => false,
    }
}

/// Orders warehouses best first by the strategy; the id breaks ties so plans are stable.
fn rank(sources: &[Source], destination: Option<&str>, strategy: SourcingStrategy) -> Vec<usize> {
    let mut order: Vec<usize> = (0..sources.len()).collect();
    let cost = |s: &Source| s.handling_fee + s.shipping_estimate.unwrap_or(Decimal::MAX / Decimal::TWO);
    order.sort_by(|&a, &b| {
        let (x, y) = (&sources[a], &sources[b]);
        let region = same_region(y, destination).cmp(&same_region(x, destination));
        let priority = y.priority.cmp(&x.priority);
        let first = match strategy {
            SourcingStrategy::SameRegion | SourcingStrategy::FewestShipments => region.then(priority),
            SourcingStrategy::LowestCost => cost(x).cmp(&cost(y)).then(region).then(priority),
            SourcingStrategy::Priority => priority.then(region),
        };
        first.then(x.id.cmp(&y.id))
    });
    order
}

/// Chooses the warehouse(s) for an order. One warehouse that can fill every line wins
/// (ranked by the strategy); only when none can is the order split, each time taking the
/// warehouse that fills the most remaining lines. `available` holds (product, warehouse,
/// units free to reserve).
pub fn allocate(
    needs: &[Need],
    available: &[(i64, i64, i64)],
    sources: &[Source],
    destination: Option<&str>,
    strategy: SourcingStrategy,
) -> Allocation {
    let mut free: HashMap<(i64, i64), i64> = available.iter().map(|&(p, w, q)| ((p, w), q)).collect();
    let ranked = rank(sources, destination, strategy);
    let mut total: HashMap<i64, i64> = HashMap::new();
    for need in needs {
        *total.entry(need.product_id).or_default() += need.quantity;
    }
    let fills_all = |w: i64, free: &HashMap<(i64, i64), i64>| {
        total.iter().all(|(p, q)| free.get(&(*p, w)).copied().unwrap_or(0) >= *q)
    };
    if let Some(&best) = ranked.iter().find(|&&i| fills_all(sources[i].id, &free)) {
        return Allocation { warehouses: vec![Some(sources[best].id); needs.len()], split_reason: None };
    }
    // Why no single warehouse will do: for each, the first line it cannot fill.
    let mut lacks = Vec::new();
    for &i in &ranked {
        let w = sources[i].id;
        if let Some(need) =
            needs.iter().find(|n| free.get(&(n.product_id, w)).copied().unwrap_or(0) < total[&n.product_id])
        {
            let has = free.get(&(need.product_id, w)).copied().unwrap_or(0).max(0);
            lacks.push(format!("{} has {has} of {} × {}", sources[i].code, total[&need.product_id], need.sku));
        }
    }
    let mut warehouses: Vec<Option<i64>> = vec![None; needs.len()];
    loop {
        let open: Vec<usize> = (0..needs.len()).filter(|&l| warehouses[l].is_none()).collect();
        let fits = |w: i64, free: &HashMap<(i64, i64), i64>| {
            open.iter()
                .filter(|&&l| free.get(&(needs[l].product_id, w)).copied().unwrap_or(0) >= needs[l].quantity)
                .count()
        };
        let Some(&best) = ranked.iter().filter(|&&i| fits(sources[i].id, &free) > 0).max_by(|&&a, &&b| {
            // Most lines first; among equals the better-ranked (earlier) warehouse.
            let pos = |i: usize| ranked.iter().position(|&r| r == i).unwrap_or(usize::MAX);
            fits(sources[a].id, &free).cmp(&fits(sources[b].id, &free)).then(pos(b).cmp(&pos(a)))
        }) else {
            break;
        };
        let w = sources[best].id;
        for &l in &open {
            let slot = free.entry((needs[l].product_id, w)).or_default();
            if *slot >= needs[l].quantity {
                *slot -= needs[l].quantity;
                warehouses[l] = Some(w);
            }
        }
    }
    let used: Vec<i64> = {
        let mut used: Vec<i64> = warehouses.iter().flatten().copied().collect();
        used.sort_unstable();
        used.dedup();
        used
    };
    let split_reason = (used.len() > 1 || warehouses.iter().any(Option::is_none))
        .then(|| format!("no single warehouse can fill the order: {}", lacks.join("; ")));
    Allocation { warehouses, split_reason }
}

/// A carrier's service with the carrier's constraints, as rate shopping needs it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ServiceTerms {
    pub carrier: String,
    pub service: String,
    pub transit_days: i64,
    /// Heaviest package the carrier takes (chargeable weight).
    pub max_weight_kg: Option<Decimal>,
    /// Destination regions served; empty means everywhere it has a rate.
    pub regions: Vec<String>,
    /// Product tags the carrier refuses, e.g. `fragile`, `cold_chain`.
    pub refuses_tags: Vec<String>,
    /// cm³ per kg for volumetric weight (e.g. 6000); none means actual weight only.
    pub volumetric_divisor: Option<i64>,
    pub surcharges: Vec<Surcharge>,
}

/// An extra charge on a shipment: a percentage of the base rate or a fixed amount, for
/// every shipment or only to a region / with a product tag.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, utoipa::ToSchema)]
pub struct Surcharge {
    pub name: String,
    /// Percentage of the base rate (e.g. "12" for a 12 % fuel surcharge)…
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    pub percent: Option<Decimal>,
    /// …or a fixed amount per shipment.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    pub amount: Option<Decimal>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tag: Option<String>,
}

/// One band of a rate table: the price of a package up to `max_weight_kg` to `region`
/// (from warehouses in `from_region` only, when given).
#[derive(Debug, Clone, PartialEq)]
pub struct RateBand {
    pub carrier: String,
    pub service: String,
    pub region: String,
    pub from_region: Option<String>,
    pub max_weight_kg: Decimal,
    pub price: Decimal,
}

/// A package to price: weight, and dimensions when known.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Parcel {
    pub weight_kg: Decimal,
    /// Length × width × height in cm³.
    pub volume_cm3: Option<Decimal>,
}

/// What is being shipped, from where, to where, and by when.
#[derive(Debug, Clone)]
pub struct Consignment {
    pub parcels: Vec<Parcel>,
    pub tags: Vec<String>,
    pub from_region: Option<String>,
    pub to_region: Option<String>,
    pub ship_date: Date,
    pub promised: Option<Date>,
}

/// One carrier service's answer for a consignment.
#[derive(Debug, Clone, PartialEq)]
pub struct Quote {
    pub carrier: String,
    pub service: String,
    pub price: Option<Decimal>,
    pub estimated_delivery: Date,
    pub eligible: bool,
    pub reason: Option<String>,
    /// Whether it arrives by the promised date (true when nothing was promised).
    pub on_time: bool,
}

fn eq_region(a: &str, b: &str) -> bool {
    crate::china::same_region(a, b)
}

/// The weight a carrier charges: the greater of actual and volumetric weight.
pub fn chargeable_kg(parcel: &Parcel, divisor: Option<i64>) -> Decimal {
    match (parcel.volume_cm3, divisor) {
        (Some(volume), Some(divisor)) if divisor > 0 => parcel.weight_kg.max(volume / Decimal::from(divisor)),
        _ => parcel.weight_kg,
    }
}

/// Prices one service for a consignment, or says why it cannot take it.
pub fn quote(terms: &ServiceTerms, bands: &[RateBand], c: &Consignment) -> Quote {
    let estimated_delivery = c.ship_date.plus_days(terms.transit_days);
    let on_time = c.promised.is_none_or(|p| estimated_delivery <= p);
    let refuse = |reason: String| Quote {
        carrier: terms.carrier.clone(),
        service: terms.service.clone(),
        price: None,
        estimated_delivery,
        eligible: false,
        reason: Some(reason),
        on_time,
    };
    let Some(to) = c.to_region.as_deref() else {
        return refuse("the shipping address has no region".into());
    };
    if !terms.regions.is_empty() && !terms.regions.iter().any(|r| eq_region(r, to)) {
        return refuse(format!("does not deliver to {to}"));
    }
    if let Some(tag) = c.tags.iter().find(|t| terms.refuses_tags.iter().any(|r| r.eq_ignore_ascii_case(t))) {
        return refuse(format!("does not take {tag} goods"));
    }
    let mut base = Decimal::ZERO;
    for (i, parcel) in c.parcels.iter().enumerate() {
        let kg = chargeable_kg(parcel, terms.volumetric_divisor);
        if let Some(max) = terms.max_weight_kg
            && kg > max
        {
            return refuse(format!(
                "package {} weighs {} kg; the carrier takes at most {max} kg",
                i + 1,
                kg.normalize()
            ));
        }
        let band = bands
            .iter()
            .filter(|b| b.carrier == terms.carrier && b.service == terms.service && eq_region(&b.region, to))
            .filter(|b| match (&b.from_region, &c.from_region) {
                (Some(from), Some(ours)) => eq_region(from, ours),
                (Some(_), None) => false,
                (None, _) => true,
            })
            .filter(|b| b.max_weight_kg >= kg)
            .min_by(|a, b| a.price.cmp(&b.price).then(a.max_weight_kg.cmp(&b.max_weight_kg)));
        match band {
            Some(band) => base += band.price,
            None => return refuse(format!("no rate to {to} for {} kg", kg.normalize())),
        }
    }
    let mut price = base;
    for s in &terms.surcharges {
        let region_ok = s.region.as_deref().is_none_or(|r| eq_region(r, to));
        let tag_ok = s.tag.as_deref().is_none_or(|t| c.tags.iter().any(|have| have.eq_ignore_ascii_case(t)));
        if region_ok && tag_ok {
            price +=
                s.percent.map_or(Decimal::ZERO, |p| base * p / Decimal::ONE_HUNDRED) + s.amount.unwrap_or_default();
        }
    }
    Quote {
        carrier: terms.carrier.clone(),
        service: terms.service.clone(),
        price: Some(price),
        estimated_delivery,
        eligible: true,
        reason: None,
        on_time,
    }
}

/// Every service's quote, eligible ones first, cheapest first.
pub fn rate_shop(services: &[ServiceTerms], bands: &[RateBand], c: &Consignment) -> Vec<Quote> {
    let mut quotes: Vec<Quote> = services.iter().map(|s| quote(s, bands, c)).collect();
    quotes.sort_by(|a, b| {
        b.eligible
            .cmp(&a.eligible)
            .then(a.price.cmp(&b.price))
            .then(a.estimated_delivery.cmp(&b.estimated_delivery))
            .then(a.carrier.cmp(&b.carrier))
    });
    quotes
}

/// The quote a shipment takes: the one named (carrier, or carrier and service) if it is
/// eligible, else by the policy. Cheapest-on-time falls back to the fastest when no
/// service arrives in time.
pub fn choose<'a>(
    quotes: &'a [Quote],
    policy: CarrierPolicy,
    named: Option<(&str, Option<&str>)>,
) -> Option<&'a Quote> {
    let eligible = || quotes.iter().filter(|q| q.eligible);
    let cheapest = |q: &&Quote| (q.price, q.estimated_delivery);
    let fastest = |q: &&Quote| (q.estimated_delivery, q.price);
    if let Some((carrier, service)) = named
        && let Some(q) =
            eligible().filter(|q| q.carrier == carrier && service.is_none_or(|s| q.service == s)).min_by_key(cheapest)
    {
        return Some(q);
    }
    match policy {
        CarrierPolicy::Cheapest => eligible().min_by_key(cheapest),
        CarrierPolicy::Fastest => eligible().min_by_key(fastest),
        CarrierPolicy::CheapestOnTime => {
            eligible().filter(|q| q.on_time).min_by_key(cheapest).or_else(|| eligible().min_by_key(fastest))
        }
    }
}

/// A shipment's tracking link from its carrier's template (`{tracking}` is replaced).
pub fn tracking_url(template: Option<&str>, tracking_number: Option<&str>) -> Option<String> {
    let (template, number) = (template?, tracking_number?);
    let encoded: String =
        number.chars().filter(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')).collect();
    Some(template.replace("{tracking}", &encoded))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(text: &str) -> Decimal {
        text.parse().unwrap()
    }

    fn source(id: i64, region: &str, priority: i64) -> Source {
        Source {
            id,
            code: format!("W{id}"),
            region: Some(region.into()),
            priority,
            handling_fee: Decimal::ZERO,
            shipping_estimate: None,
        }
    }

    fn need(product_id: i64, quantity: i64) -> Need {
        Need { product_id, sku: format!("SKU-{product_id}"), quantity }
    }

    #[test]
    fn one_warehouse_that_can_fill_everything_is_not_split() {
        let sources = [source(1, "Beijing", 0), source(2, "Shanghai", 0)];
        let stock = [(10, 1, 5), (11, 1, 0), (10, 2, 5), (11, 2, 5)];
        let a = allocate(&[need(10, 2), need(11, 1)], &stock, &sources, Some("Beijing"), SourcingStrategy::SameRegion);
        assert_eq!(a, Allocation { warehouses: vec![Some(2), Some(2)], split_reason: None });
    }

    #[test]
    fn same_region_wins_when_both_can_fill_and_priority_decides_under_priority() {
        let sources = [source(1, "Beijing", 0), source(2, "Shanghai", 5)];
        let stock = [(10, 1, 5), (10, 2, 5)];
        let near = allocate(&[need(10, 1)], &stock, &sources, Some("beijing"), SourcingStrategy::SameRegion);
        assert_eq!(near.warehouses, vec![Some(1)]);
        let first = allocate(&[need(10, 1)], &stock, &sources, Some("Beijing"), SourcingStrategy::Priority);
        assert_eq!(first.warehouses, vec![Some(2)]);
    }

    #[test]
    fn lowest_cost_adds_handling_to_shipping() {
        let mut sources = [source(1, "Beijing", 0), source(2, "Shanghai", 0)];
        sources[0].shipping_estimate = Some(d("10"));
        sources[0].handling_fee = d("8");
        sources[1].shipping_estimate = Some(d("15"));
        let stock = [(10, 1, 5), (10, 2, 5)];
        let a = allocate(&[need(10, 1)], &stock, &sources, Some("Beijing"), SourcingStrategy::LowestCost);
        assert_eq!(a.warehouses, vec![Some(2)]);
    }

    #[test]
    fn a_split_says_why_and_takes_the_fewest_warehouses() {
        let sources = [source(1, "A", 0), source(2, "B", 0), source(3, "C", 0)];
        // W1 has products 10 and 11, W2 only 12, W3 only 10.
        let stock = [(10, 1, 4), (11, 1, 4), (12, 2, 4), (10, 3, 9)];
        let a = allocate(
            &[need(10, 2), need(11, 2), need(12, 2)],
            &stock,
            &sources,
            None,
            SourcingStrategy::FewestShipments,
        );
        assert_eq!(a.warehouses, vec![Some(1), Some(1), Some(2)]);
        let reason = a.split_reason.unwrap();
        assert!(reason.contains("W1 has 0 of 2 × SKU-12"), "{reason}");
        assert!(reason.contains("W2 has 0 of 2 × SKU-10"), "{reason}");
    }

    #[test]
    fn two_lines_of_one_product_never_take_more_than_is_there() {
        let sources = [source(1, "A", 0), source(2, "B", 0)];
        let stock = [(10, 1, 3), (10, 2, 3)];
        let a = allocate(&[need(10, 3), need(10, 3)], &stock, &sources, None, SourcingStrategy::SameRegion);
        assert_eq!(a.warehouses, vec![Some(1), Some(2)]);
        let short = allocate(&[need(10, 4)], &stock, &sources, None, SourcingStrategy::SameRegion);
        assert_eq!(short.warehouses, vec![None]);
        assert!(short.split_reason.is_some());
    }

    fn terms(carrier: &str, days: i64) -> ServiceTerms {
        ServiceTerms {
            carrier: carrier.into(),
            service: "std".into(),
            transit_days: days,
            max_weight_kg: Some(d("30")),
            regions: vec![],
            refuses_tags: vec![],
            volumetric_divisor: None,
            surcharges: vec![],
        }
    }

    fn band(carrier: &str, max: Decimal, price: Decimal) -> RateBand {
        RateBand {
            carrier: carrier.into(),
            service: "std".into(),
            region: "Beijing".into(),
            from_region: None,
            max_weight_kg: max,
            price,
        }
    }

    fn parcel(kg: Decimal) -> Consignment {
        Consignment {
            parcels: vec![Parcel { weight_kg: kg, volume_cm3: None }],
            tags: vec![],
            from_region: Some("Shanghai".into()),
            to_region: Some("Beijing".into()),
            ship_date: Date::parse("2026-11-24").unwrap(),
            promised: None,
        }
    }

    #[test]
    fn the_cheapest_band_covering_the_weight_prices_a_parcel() {
        let bands = [band("SF", d("1"), d("12")), band("SF", d("5"), d("20")), band("SF", d("30"), d("45"))];
        assert_eq!(quote(&terms("SF", 1), &bands, &parcel(d("3"))).price, Some(d("20")));
        assert_eq!(quote(&terms("SF", 1), &bands, &parcel(d("0.5"))).price, Some(d("12")));
        let heavy = quote(&terms("SF", 1), &bands, &parcel(d("31")));
        assert_eq!(heavy.reason.as_deref(), Some("package 1 weighs 31 kg; the carrier takes at most 30 kg"));
    }

    #[test]
    fn volumetric_weight_and_surcharges_count() {
        let mut t = terms("SF", 1);
        t.volumetric_divisor = Some(6000);
        t.surcharges = vec![
            Surcharge { name: "fuel".into(), percent: Some(d("10")), amount: None, region: None, tag: None },
            Surcharge {
                name: "fragile".into(),
                percent: None,
                amount: Some(d("5")),
                region: None,
                tag: Some("fragile".into()),
            },
        ];
        let bands = [band("SF", d("1"), d("10")), band("SF", d("10"), d("30"))];
        let mut c = parcel(d("0.5"));
        // 40 × 30 × 20 cm = 24,000 cm³ → 4 kg volumetric.
        c.parcels[0].volume_cm3 = Some(d("24000"));
        c.tags = vec!["fragile".into()];
        assert_eq!(quote(&t, &bands, &c).price, Some(d("38")));
    }

    #[test]
    fn rate_shopping_explains_exclusions_and_policies_choose() {
        let mut far = terms("EMS", 4);
        far.regions = vec!["Beijing".into()];
        let mut cold = terms("YTO", 3);
        cold.refuses_tags = vec!["cold_chain".into()];
        let mut nowhere = terms("ZTO", 2);
        nowhere.regions = vec!["Guangdong".into()];
        let bands = [band("SF", d("30"), d("22")), band("EMS", d("30"), d("15")), band("YTO", d("30"), d("9"))];
        let mut c = parcel(d("2"));
        c.tags = vec!["cold_chain".into()];
        c.promised = Some(Date::parse("2026-11-26").unwrap());
        let quotes = rate_shop(&[terms("SF", 1), far, cold, nowhere], &bands, &c);
        let by = |carrier: &str| quotes.iter().find(|q| q.carrier == carrier).unwrap();
        assert_eq!(by("YTO").reason.as_deref(), Some("does not take cold_chain goods"));
        assert_eq!(by("ZTO").reason.as_deref(), Some("does not deliver to Beijing"));
        assert_eq!(quotes[0].carrier, "EMS");
        assert_eq!(choose(&quotes, CarrierPolicy::Cheapest, None).unwrap().carrier, "EMS");
        assert_eq!(choose(&quotes, CarrierPolicy::Fastest, None).unwrap().carrier, "SF");
        // EMS arrives on the 28th, after the promised 26th.
        assert_eq!(choose(&quotes, CarrierPolicy::CheapestOnTime, None).unwrap().carrier, "SF");
        assert_eq!(choose(&quotes, CarrierPolicy::Fastest, Some(("EMS", None))).unwrap().carrier, "EMS");
        // A named carrier that cannot take the parcel does not override the policy.
        assert_eq!(choose(&quotes, CarrierPolicy::Cheapest, Some(("YTO", None))).unwrap().carrier, "EMS");
    }

    #[test]
    fn carrier_words_are_normalised() {
        assert_eq!(TrackingStatus::normalise("In Transit"), Some(TrackingStatus::InTransit));
        assert_eq!(TrackingStatus::normalise("已签收"), Some(TrackingStatus::Delivered));
        assert_eq!(TrackingStatus::normalise("out-for-delivery"), Some(TrackingStatus::OutForDelivery));
        assert_eq!(TrackingStatus::normalise("LOST"), Some(TrackingStatus::Exception));
        assert_eq!(TrackingStatus::normalise("teleported"), None);
        assert_eq!(ClaimKind::of_exception("exception", "parcel lost in sorting"), ClaimKind::Lost);
        assert_eq!(ClaimKind::of_exception("damaged", ""), ClaimKind::Damaged);
    }

    #[test]
    fn tracking_links_escape_the_number() {
        let url = tracking_url(Some("https://sf.example/track?n={tracking}"), Some("SF 123/4"));
        assert_eq!(url.as_deref(), Some("https://sf.example/track?n=SF1234"));
    }
}

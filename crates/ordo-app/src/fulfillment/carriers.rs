//! Carriers, their services and rate tables; and the terms rate shopping reads.

use super::invalid;
use super::model::*;
use crate::common::{AmountInput, Ctx};
use crate::db::{DbError, Row, Tx, Value};
use crate::params;
use ordo_domain::fulfillment::{RateBand, ServiceTerms, Surcharge};
use ordo_domain::money::{from_e4, to_e4};
use ordo_domain::validation::{Violations, code, optional_text, required_text};
use ordo_domain::{Currency, Timestamp};
use rust_decimal::Decimal;

/// The code of self-pickup (自提), which is not a carrier anyone configures.
pub const PICKUP: &str = "pickup";
const MAX_RATES: usize = 5000;

struct ValidCarrier {
    code: String,
    name: String,
    template: Option<String>,
    services: Vec<CarrierService>,
    max_weight_kg: Option<Decimal>,
    regions: Vec<String>,
    refuses_tags: Vec<String>,
    divisor: Option<i64>,
    surcharges: Vec<Surcharge>,
    active: bool,
}

fn text_list(v: &mut Violations, field: &str, given: &Option<Vec<String>>) -> Vec<String> {
    let mut out = Vec::new();
    for (i, item) in given.iter().flatten().enumerate() {
        if let Some(text) = v.check(required_text(&format!("{field}[{i}]"), Some(item), 100)) {
            out.push(text);
        }
    }
    out
}

fn validate(input: &NewCarrier) -> Result<ValidCarrier, FulfillmentError> {
    let mut v = Violations::new();
    let carrier_code = v.check(code("code", input.code.as_deref(), 32));
    if carrier_code.as_deref().is_some_and(|c| c.eq_ignore_ascii_case(PICKUP)) {
        v.add("code", "`pickup` is kept for self-pickup");
    }
    let name = v.check(required_text("name", input.name.as_deref(), 200));
    let template = v.check(optional_text("tracking_url_template", input.tracking_url_template.as_deref(), 500));
    if let Some(Some(t)) = &template
        && !(t.starts_with("https://") || t.starts_with("http://"))
    {
        v.add("tracking_url_template", "must be an http(s) URL, with {tracking} where the number goes");
    }
    let mut services = Vec::new();
    match input.services.as_deref() {
        None | Some([]) => v.add("services", "a carrier needs at least one service"),
        Some(given) => {
            for (i, s) in given.iter().enumerate() {
                let service_code = v.check(code(&format!("services[{i}].code"), s.code.as_deref(), 32));
                let service_name = s.name.clone().filter(|n| !n.trim().is_empty());
                let days = match s.transit_days {
                    Some(d) if (0..=90).contains(&d) => Some(d),
                    Some(_) => {
                        v.add(format!("services[{i}].transit_days"), "must be between 0 and 90");
                        None
                    }
                    None => {
                        v.add(format!("services[{i}].transit_days"), "is required");
                        None
                    }
                };
                if let (Some(c), Some(d)) = (service_code, days) {
                    if services.iter().any(|x: &CarrierService| x.code == c) {
                        v.add(format!("services[{i}].code"), "is listed twice");
                    }
                    services.push(CarrierService {
                        name: service_name.unwrap_or_else(|| c.clone()),
                        code: c,
                        transit_days: d,
                    });
                }
            }
        }
    }
    let max_weight_kg = v.check(input.max_weight_kg.as_ref().map(|w| w.parse("max_weight_kg", false)).transpose());
    let regions = text_list(&mut v, "regions", &input.regions);
    let refuses_tags = text_list(&mut v, "refuses_tags", &input.refuses_tags);
    if input.volumetric_divisor.is_some_and(|d| !(1000..=10_000).contains(&d)) {
        v.add("volumetric_divisor", "must be between 1000 and 10000 (cm³ per kg)");
    }
    let surcharges = input.surcharges.clone().unwrap_or_default();
    for (i, s) in surcharges.iter().enumerate() {
        if s.name.trim().is_empty() {
            v.add(format!("surcharges[{i}].name"), "is required");
        }
        if s.percent.is_some() == s.amount.is_some() {
            v.add(format!("surcharges[{i}]"), "give either percent or amount");
        }
        if s.percent.is_some_and(|p| p < Decimal::ZERO || p > Decimal::ONE_HUNDRED)
            || s.amount.is_some_and(|a| a < Decimal::ZERO)
        {
            v.add(format!("surcharges[{i}]"), "must not be negative; a percent is at most 100");
        }
    }
    v.into_result()?;
    match (carrier_code, name, template) {
        (Some(code), Some(name), Some(template)) => Ok(ValidCarrier {
            code,
            name,
            template,
            services,
            max_weight_kg: max_weight_kg.flatten(),
            regions,
            refuses_tags,
            divisor: input.volumetric_divisor,
            surcharges,
            active: input.active.unwrap_or(true),
        }),
        _ => Err(invalid("code", "is required")),
    }
}

fn list_text(items: &[String]) -> Option<String> {
    (!items.is_empty()).then(|| serde_json::to_string(items).unwrap_or_default())
}

fn write_services(tx: &mut dyn Tx, carrier_id: i64, services: &[CarrierService]) -> Result<(), DbError> {
    tx.execute("DELETE FROM carrier_services WHERE carrier_id = ?", params![carrier_id])?;
    for s in services {
        tx.execute(
            "INSERT INTO carrier_services (carrier_id, code, name, transit_days) VALUES (?, ?, ?, ?)",
            params![carrier_id, s.code.as_str(), s.name.as_str(), s.transit_days],
        )?;
    }
    Ok(())
}

pub fn create_carrier(tx: &mut dyn Tx, ctx: &Ctx, input: &NewCarrier) -> Result<Carrier, FulfillmentError> {
    let c = validate(input)?;
    if carrier_id(tx, &c.code)?.is_some() {
        return Err(FulfillmentError::CarrierCodeTaken(c.code));
    }
    let id = tx.insert(
        "INSERT INTO carriers (code, name, tracking_url_template, max_weight_kg_e4, regions, refuses_tags, \
         volumetric_divisor, surcharges, active, version, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 1, ?, ?)",
        params![
            c.code.as_str(), c.name.as_str(), c.template.clone(), c.max_weight_kg.map(to_e4), list_text(&c.regions),
            list_text(&c.refuses_tags), c.divisor, serde_json::to_string(&c.surcharges).ok(), c.active,
            ctx.now.micros(), ctx.now.micros()
        ],
    )?;
    write_services(tx, id, &c.services)?;
    crate::audit::record(tx, ctx, "fulfillment", "carrier.created", &c.code, &c.name)?;
    get_carrier(tx, id)
}

pub fn update_carrier(
    tx: &mut dyn Tx,
    ctx: &Ctx,
    id: i64,
    expected_version: Option<i64>,
    input: &NewCarrier,
) -> Result<Carrier, FulfillmentError> {
    let current = get_carrier(tx, id)?;
    if expected_version.is_some_and(|v| v != current.version) {
        return Err(FulfillmentError::VersionMismatch { current: current.version });
    }
    let c = validate(input)?;
    if c.code != current.code && carrier_id(tx, &c.code)?.is_some() {
        return Err(FulfillmentError::CarrierCodeTaken(c.code));
    }
    tx.execute(
        "UPDATE carriers SET code = ?, name = ?, tracking_url_template = ?, max_weight_kg_e4 = ?, regions = ?, \
         refuses_tags = ?, volumetric_divisor = ?, surcharges = ?, active = ?, version = version + 1, updated_at = ? \
         WHERE id = ? AND version = ?",
        params![
            c.code.as_str(),
            c.name.as_str(),
            c.template.clone(),
            c.max_weight_kg.map(to_e4),
            list_text(&c.regions),
            list_text(&c.refuses_tags),
            c.divisor,
            serde_json::to_string(&c.surcharges).ok(),
            c.active,
            ctx.now.micros(),
            id,
            current.version
        ],
    )?;
    write_services(tx, id, &c.services)?;
    crate::audit::record(tx, ctx, "fulfillment", "carrier.updated", &c.code, &c.name)?;
    get_carrier(tx, id)
}

fn carrier_id(tx: &mut dyn Tx, code: &str) -> Result<Option<i64>, DbError> {
    tx.query_opt("SELECT id FROM carriers WHERE code = ?", params![code])?.map(|r| r.int(0)).transpose()
}

const CARRIER_COLUMNS: &str = "c.id, c.code, c.name, c.tracking_url_template, c.max_weight_kg_e4, c.regions, \
    c.refuses_tags, c.volumetric_divisor, c.surcharges, c.active, c.version, c.created_at, c.updated_at, \
    (SELECT COUNT(*) FROM carrier_rates r WHERE r.carrier_id = c.id)";

fn carrier_row(row: &Row) -> Result<Carrier, DbError> {
    let list = |i: usize| -> Result<Vec<String>, DbError> {
        Ok(row.opt_text(i)?.and_then(|t| serde_json::from_str(&t).ok()).unwrap_or_default())
    };
    Ok(Carrier {
        id: row.int(0)?,
        code: row.text(1)?,
        name: row.text(2)?,
        tracking_url_template: row.opt_text(3)?,
        services: Vec::new(),
        max_weight_kg: row.opt_int(4)?.map(|w| from_e4(w).normalize()),
        regions: list(5)?,
        refuses_tags: list(6)?,
        volumetric_divisor: row.opt_int(7)?,
        surcharges: row.opt_text(8)?.and_then(|t| serde_json::from_str(&t).ok()).unwrap_or_default(),
        active: row.int(9)? != 0,
        version: row.int(10)?,
        created_at: Timestamp(row.int(11)?),
        updated_at: Timestamp(row.int(12)?),
        rate_count: row.int(13)?,
    })
}

fn attach_services(tx: &mut dyn Tx, carriers: &mut [Carrier]) -> Result<(), DbError> {
    for row in tx.query(
        "SELECT carrier_id, code, name, transit_days FROM carrier_services ORDER BY carrier_id, transit_days, code",
        &[],
    )? {
        let id = row.int(0)?;
        if let Some(c) = carriers.iter_mut().find(|c| c.id == id) {
            c.services.push(CarrierService { code: row.text(1)?, name: row.text(2)?, transit_days: row.int(3)? });
        }
    }
    Ok(())
}

pub fn list_carriers(tx: &mut dyn Tx) -> Result<CarrierList, FulfillmentError> {
    let mut items: Vec<Carrier> = tx
        .query(&format!("SELECT {CARRIER_COLUMNS} FROM carriers c ORDER BY c.code"), &[])?
        .iter()
        .map(carrier_row)
        .collect::<Result<_, _>>()?;
    attach_services(tx, &mut items)?;
    Ok(CarrierList { items })
}

pub fn get_carrier(tx: &mut dyn Tx, id: i64) -> Result<Carrier, FulfillmentError> {
    let row = tx
        .query_opt(&format!("SELECT {CARRIER_COLUMNS} FROM carriers c WHERE c.id = ?"), params![id])?
        .ok_or_else(|| FulfillmentError::CarrierNotFound(id.to_string()))?;
    let mut carriers = vec![carrier_row(&row)?];
    attach_services(tx, &mut carriers)?;
    Ok(carriers.remove(0))
}

/// Replaces a carrier's rate table.
pub fn set_rates(tx: &mut dyn Tx, ctx: &Ctx, id: i64, input: &RateTableInput) -> Result<RateTable, FulfillmentError> {
    let carrier = get_carrier(tx, id)?;
    let mut v = Violations::new();
    let given = input.rates.as_deref().unwrap_or_default();
    if given.len() > MAX_RATES {
        v.add("rates", format!("at most {MAX_RATES} bands"));
    }
    let mut rates = Vec::new();
    let mut table_currency: Option<Currency> = None;
    for (i, r) in given.iter().enumerate() {
        let at = |f: &str| format!("rates[{i}].{f}");
        let service = v.check(required_text(&at("service"), r.service.as_deref(), 32));
        if let Some(s) = &service
            && !carrier.services.iter().any(|known| &known.code == s)
        {
            let known: Vec<&str> = carrier.services.iter().map(|s| s.code.as_str()).collect();
            v.add(at("service"), format!("is not a service of {}; it has {}", carrier.code, known.join(", ")));
        }
        let region = v.check(required_text(&at("region"), r.region.as_deref(), 100));
        let from_region = v.check(optional_text(&at("from_region"), r.from_region.as_deref(), 100)).flatten();
        let weight = v.check(AmountInput::required(&at("max_weight_kg"), r.max_weight_kg.as_ref(), false));
        if weight.is_some_and(|w| w <= Decimal::ZERO) {
            v.add(at("max_weight_kg"), "must be more than 0");
        }
        let price = v.check(AmountInput::required(&at("price"), r.price.as_ref(), false));
        let currency = v.check(Currency::field(&at("currency"), r.currency.as_deref())).flatten();
        match (currency, table_currency) {
            (None, _) => v.add(at("currency"), "is required"),
            (Some(c), Some(first)) if c != first => {
                v.add(at("currency"), format!("one table has one currency ({first})"))
            }
            (Some(c), _) => table_currency = Some(c),
        }
        if let (Some(service), Some(region), Some(max_weight_kg), Some(price), Some(currency)) =
            (service, region, weight, price, currency)
        {
            rates.push(Rate { service, region, from_region, max_weight_kg, price, currency: currency.code().into() });
        }
    }
    v.into_result()?;
    tx.execute("DELETE FROM carrier_rates WHERE carrier_id = ?", params![id])?;
    for chunk in rates.chunks(200) {
        let mut sql = String::from(
            "INSERT INTO carrier_rates (carrier_id, service, region, from_region, max_weight_kg_e4, price_e4, currency) VALUES ",
        );
        let mut values: Vec<Value> = Vec::with_capacity(chunk.len() * 7);
        for (i, r) in chunk.iter().enumerate() {
            sql.push_str(if i == 0 { "(?, ?, ?, ?, ?, ?, ?)" } else { ", (?, ?, ?, ?, ?, ?, ?)" });
            values.extend([
                id.into(),
                r.service.as_str().into(),
                r.region.as_str().into(),
                r.from_region.clone().into(),
                to_e4(r.max_weight_kg).into(),
                to_e4(r.price).into(),
                r.currency.as_str().into(),
            ]);
        }
        tx.execute(&sql, &values)?;
    }
    tx.execute(
        "UPDATE carriers SET version = version + 1, updated_at = ? WHERE id = ?",
        params![ctx.now.micros(), id],
    )?;
    crate::audit::record(tx, ctx, "fulfillment", "carrier.rates", &carrier.code, &format!("{} bands", rates.len()))?;
    get_rates(tx, id)
}

pub fn get_rates(tx: &mut dyn Tx, id: i64) -> Result<RateTable, FulfillmentError> {
    let carrier = get_carrier(tx, id)?;
    let rates = tx
        .query(
            "SELECT service, region, from_region, max_weight_kg_e4, price_e4, currency FROM carrier_rates \
             WHERE carrier_id = ? ORDER BY service, region, from_region, max_weight_kg_e4",
            params![id],
        )?
        .iter()
        .map(|r| {
            Ok(Rate {
                service: r.text(0)?,
                region: r.text(1)?,
                from_region: r.opt_text(2)?,
                max_weight_kg: from_e4(r.int(3)?).normalize(),
                price: {
                    let price = from_e4(r.int(4)?);
                    Currency::parse(&r.text(5)?).map_or(price, |c| c.show(price))
                },
                currency: r.text(5)?,
            })
        })
        .collect::<Result<_, DbError>>()?;
    Ok(RateTable { carrier: carrier.code, rates })
}

/// Every active carrier service as rate shopping sees it, with its rate bands and the
/// names and currency to show.
pub struct Terms {
    pub services: Vec<ServiceTerms>,
    pub bands: Vec<RateBand>,
    /// (carrier, service) → (carrier name, service name).
    pub names: Vec<((String, String), (String, String))>,
    /// carrier → its rate table's currency, and tracking link template.
    pub carriers: Vec<(String, Option<String>, Option<String>)>,
}

impl Terms {
    pub fn names_of(&self, carrier: &str, service: &str) -> (String, String) {
        self.names
            .iter()
            .find(|((c, s), _)| c == carrier && s == service)
            .map(|(_, n)| n.clone())
            .unwrap_or_else(|| (carrier.to_string(), service.to_string()))
    }

    pub fn currency_of(&self, carrier: &str) -> Option<String> {
        self.carriers.iter().find(|(c, _, _)| c == carrier).and_then(|(_, currency, _)| currency.clone())
    }

    pub fn template_of(&self, carrier: &str) -> Option<String> {
        self.carriers.iter().find(|(c, _, _)| c == carrier).and_then(|(_, _, t)| t.clone())
    }
}

pub fn load_terms(tx: &mut dyn Tx) -> Result<Terms, DbError> {
    load_terms_to(tx, None)
}

/// The terms with only the rate bands to one destination region (sourcing prices one
/// destination from every warehouse; the other regions' bands would only be filtered out).
pub fn load_terms_to(tx: &mut dyn Tx, destination: Option<&str>) -> Result<Terms, DbError> {
    let carriers = list_carriers(tx).map_err(|e| match e {
        FulfillmentError::Db(e) => e,
        other => DbError::Other(other.to_string()),
    })?;
    let mut terms = Terms { services: Vec::new(), bands: Vec::new(), names: Vec::new(), carriers: Vec::new() };
    let sql = "SELECT c.code, r.service, r.region, r.from_region, r.max_weight_kg_e4, r.price_e4, r.currency \
         FROM carrier_rates r JOIN carriers c ON c.id = r.carrier_id WHERE c.active = 1";
    let rows = match destination {
        Some(region) => tx.query(&format!("{sql} AND LOWER(r.region) = LOWER(?)"), params![region.trim()])?,
        None => tx.query(sql, &[])?,
    };
    let mut currencies: Vec<(String, String)> = Vec::new();
    for r in rows {
        let carrier = r.text(0)?;
        if !currencies.iter().any(|(c, _)| *c == carrier) {
            currencies.push((carrier.clone(), r.text(6)?));
        }
        terms.bands.push(RateBand {
            carrier,
            service: r.text(1)?,
            region: r.text(2)?,
            from_region: r.opt_text(3)?,
            max_weight_kg: from_e4(r.int(4)?),
            price: from_e4(r.int(5)?),
        });
    }
    for c in carriers.items.into_iter().filter(|c| c.active) {
        let currency = currencies.iter().find(|(code, _)| *code == c.code).map(|(_, cur)| cur.clone());
        terms.carriers.push((c.code.clone(), currency, c.tracking_url_template.clone()));
        for s in &c.services {
            terms.names.push(((c.code.clone(), s.code.clone()), (c.name.clone(), s.name.clone())));
            terms.services.push(ServiceTerms {
                carrier: c.code.clone(),
                service: s.code.clone(),
                transit_days: s.transit_days,
                max_weight_kg: c.max_weight_kg,
                regions: c.regions.clone(),
                refuses_tags: c.refuses_tags.clone(),
                volumetric_divisor: c.volumetric_divisor,
                surcharges: c.surcharges.clone(),
            });
        }
    }
    Ok(terms)
}

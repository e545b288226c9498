//! Orders in a channel's own JSON (a marketplace's trade, a distributor's purchase order),
//! read through the channel's mapping into Ordo's `NewOrder`. The order then goes through
//! the same placement as any other, with every check.

use crate::orders::{NewOrder, NewOrderLine};
use ordo_domain::Invalid;
use ordo_domain::customers::AddressInput;
use ordo_domain::validation::Violations;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;
use utoipa::ToSchema;

/// Where each field of an order is in the channel's JSON. A value starting with `/` is a
/// JSON Pointer (RFC 6901), e.g. `/trade/tid`; any other value is used as it is for every
/// order (e.g. `"CN"` for the country).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct InboundMapping {
    /// The channel's order id, e.g. `/tid`.
    pub external_ref: String,
    /// The array of lines, e.g. `/orders`.
    pub lines: String,
    /// Inside one line, e.g. `/outer_sku_id`.
    pub sku: String,
    /// Inside one line, e.g. `/num`: a whole number or a string holding one.
    pub quantity: String,
    #[serde(default)]
    pub notes: Option<String>,
    #[serde(default)]
    pub requested_delivery_date: Option<String>,
    /// The shipping address: name, phone, line1, line2, city, district, region,
    /// postal_code, country.
    #[serde(default)]
    pub ship_to: BTreeMap<String, String>,
}

const ADDRESS_FIELDS: &[&str] =
    &["name", "phone", "line1", "line2", "city", "district", "region", "postal_code", "country"];

fn is_pointer(text: &str) -> bool {
    text.starts_with('/')
}

/// The text at `source` (a pointer into `doc`, or a fixed value); numbers count as text.
fn text_at(doc: &Value, source: &str) -> Option<String> {
    if !is_pointer(source) {
        return Some(source.to_string());
    }
    match doc.pointer(source)? {
        Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_string()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

impl InboundMapping {
    /// Reports each unusable entry under `field`.
    pub fn check(&self, field: &str, v: &mut Violations) {
        for (name, source) in [("external_ref", &self.external_ref), ("lines", &self.lines)] {
            if !is_pointer(source) {
                v.add(format!("{field}.{name}"), "must be a JSON Pointer into the channel's order, e.g. /tid");
            }
        }
        for (name, source) in [("sku", &self.sku), ("quantity", &self.quantity)] {
            if source.trim().is_empty() {
                v.add(format!("{field}.{name}"), "is required: a JSON Pointer inside one line, e.g. /num");
            }
        }
        for key in self.ship_to.keys() {
            if !ADDRESS_FIELDS.contains(&key.as_str()) {
                v.add(
                    format!("{field}.ship_to.{key}"),
                    format!("is not an address field ({})", ADDRESS_FIELDS.join(", ")),
                );
            }
        }
    }

    /// The order `doc` describes. Problems name Ordo's field and where it was looked for.
    pub fn read(&self, doc: &Value) -> Result<NewOrder, Invalid> {
        let mut v = Violations::new();
        let missing = |source: &str| format!("nothing usable at {source} in the order sent");
        let external_ref = text_at(doc, &self.external_ref);
        if external_ref.is_none() {
            v.add("external_ref", missing(&self.external_ref));
        }
        let mut lines = Vec::new();
        match doc.pointer(&self.lines).and_then(Value::as_array) {
            None => v.add("lines", format!("no array of lines at {}", self.lines)),
            Some(items) => {
                for (i, item) in items.iter().enumerate() {
                    let sku = text_at(item, &self.sku);
                    if sku.is_none() {
                        v.add(format!("lines[{i}].sku"), missing(&format!("{}/{i}{}", self.lines, self.sku)));
                    }
                    let quantity = text_at(item, &self.quantity).and_then(|q| q.parse::<i64>().ok());
                    if quantity.is_none() {
                        v.add(
                            format!("lines[{i}].quantity"),
                            format!("no whole number at {}/{i}{}", self.lines, self.quantity),
                        );
                    }
                    lines.push(NewOrderLine { sku, quantity, ..Default::default() });
                }
            }
        }
        v.into_result()?;
        let field = |name: &str| self.ship_to.get(name).and_then(|source| text_at(doc, source));
        let shipping_address = (!self.ship_to.is_empty()).then(|| AddressInput {
            name: field("name"),
            phone: field("phone"),
            line1: field("line1"),
            line2: field("line2"),
            city: field("city"),
            district: field("district"),
            region: field("region"),
            postal_code: field("postal_code"),
            country: field("country"),
        });
        Ok(NewOrder {
            external_ref,
            lines: Some(lines),
            shipping_address,
            notes: self.notes.as_deref().and_then(|source| text_at(doc, source)),
            requested_delivery_date: self.requested_delivery_date.as_deref().and_then(|source| text_at(doc, source)),
            ..Default::default()
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn tmall() -> InboundMapping {
        InboundMapping {
            external_ref: "/trade/tid".into(),
            lines: "/trade/orders".into(),
            sku: "/outer_sku_id".into(),
            quantity: "/num".into(),
            notes: Some("/trade/buyer_message".into()),
            requested_delivery_date: None,
            ship_to: [("name", "/trade/receiver_name"), ("city", "/trade/receiver_city"), ("country", "CN")]
                .into_iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        }
    }

    #[test]
    fn a_marketplace_trade_becomes_an_order() {
        let trade = json!({"trade": {"tid": 4_012_345_678_u64, "buyer_message": "请周末送",
            "receiver_name": "张三", "receiver_city": "杭州市",
            "orders": [{"outer_sku_id": "TEA-100", "num": "2"}, {"outer_sku_id": "CUP-01", "num": 1}]}});
        let order = tmall().read(&trade).unwrap();
        assert_eq!(order.external_ref.as_deref(), Some("4012345678"));
        let lines = order.lines.unwrap();
        assert_eq!((lines[0].sku.as_deref(), lines[0].quantity), (Some("TEA-100"), Some(2)));
        assert_eq!((lines[1].sku.as_deref(), lines[1].quantity), (Some("CUP-01"), Some(1)));
        let to = order.shipping_address.unwrap();
        assert_eq!((to.name.as_deref(), to.country.as_deref()), (Some("张三"), Some("CN")));
        assert_eq!(order.notes.as_deref(), Some("请周末送"));
    }

    #[test]
    fn what_is_missing_is_named_with_where_it_was_looked_for() {
        let trade = json!({"trade": {"orders": [{"outer_sku_id": "TEA-100", "num": "two"}]}});
        let errors = tmall().read(&trade).unwrap_err().0;
        let named: Vec<(&str, &str)> = errors.iter().map(|e| (e.field.as_str(), e.message.as_str())).collect();
        assert_eq!(
            named,
            [
                ("external_ref", "nothing usable at /trade/tid in the order sent"),
                ("lines[0].quantity", "no whole number at /trade/orders/0/num"),
            ]
        );
    }

    #[test]
    fn a_mapping_must_point_into_the_order() {
        let mut mapping = tmall();
        mapping.lines = "orders".into();
        mapping.ship_to.insert("street".into(), "/x".into());
        let mut v = Violations::new();
        mapping.check("inbound_mapping", &mut v);
        let fields: Vec<String> = v.into_result().unwrap_err().0.into_iter().map(|e| e.field).collect();
        assert_eq!(fields, ["inbound_mapping.lines", "inbound_mapping.ship_to.street"]);
    }
}

//! Customer rules: groups, payment terms and postal addresses.

use crate::validation::{FieldError, Violations, optional_text, required_text};
use serde::{Deserialize, Serialize};

/// Groups drive price lists and, later, approval rules. Free text so each business can
/// name its own, normalised to lower case so `VIP` and `vip` are one group.
pub fn parse_group(field: &str, value: Option<&str>) -> Result<String, FieldError> {
    Ok(optional_text(field, value, 32)?.map(|g| g.to_lowercase()).unwrap_or_else(|| "retail".into()))
}

/// Payment terms as the business writes them: `prepaid`, `cod`, `net30`, `net60`…
pub fn parse_payment_terms(field: &str, value: Option<&str>) -> Result<String, FieldError> {
    let Some(terms) = optional_text(field, value, 16)?.map(|t| t.to_lowercase()) else {
        return Ok("prepaid".into());
    };
    let net_days = terms.strip_prefix("net").map(|days| days.parse::<u16>().is_ok_and(|d| d > 0 && d <= 365));
    if matches!(terms.as_str(), "prepaid" | "cod") || net_days == Some(true) {
        Ok(terms)
    } else {
        Err(FieldError::new(field, "must be prepaid, cod or netN (N days, 1–365), e.g. net30"))
    }
}

/// A postal address. Chinese addresses put province and city first; the fields are the
/// same either way, and `region` holds the province or state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default, utoipa::ToSchema)]
pub struct Address {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
    pub line1: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line2: Option<String>,
    pub city: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub postal_code: Option<String>,
    /// ISO 3166-1 alpha-2, e.g. CN, HK, TW, US.
    pub country: String,
}

/// Address fields as they arrive, every one optional so each missing one can be named.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
pub struct AddressInput {
    pub name: Option<String>,
    pub phone: Option<String>,
    pub line1: Option<String>,
    pub line2: Option<String>,
    pub city: Option<String>,
    pub region: Option<String>,
    pub postal_code: Option<String>,
    pub country: Option<String>,
}

impl AddressInput {
    pub fn parse(&self, field: &str, violations: &mut Violations) -> Option<Address> {
        let f = |name: &str| format!("{field}.{name}");
        let name = violations.check(optional_text(&f("name"), self.name.as_deref(), 100));
        let phone = violations.check(optional_text(&f("phone"), self.phone.as_deref(), 40));
        let line1 = violations.check(required_text(&f("line1"), self.line1.as_deref(), 200));
        let line2 = violations.check(optional_text(&f("line2"), self.line2.as_deref(), 200));
        let city = violations.check(required_text(&f("city"), self.city.as_deref(), 100));
        let region = violations.check(optional_text(&f("region"), self.region.as_deref(), 100));
        let postal_code = violations.check(optional_text(&f("postal_code"), self.postal_code.as_deref(), 20));
        let country = violations.check(required_text(&f("country"), self.country.as_deref(), 2).and_then(|c| {
            if c.len() == 2 && c.chars().all(|ch| ch.is_ascii_alphabetic()) {
                Ok(c.to_ascii_uppercase())
            } else {
                Err(FieldError::new(f("country"), "must be a two-letter ISO 3166 country code such as CN"))
            }
        }));
        Some(Address {
            name: name?,
            phone: phone?,
            line1: line1?,
            line2: line2?,
            city: city?,
            region: region?,
            postal_code: postal_code?,
            country: country?,
        })
    }
}

/// The languages a customer's messages can be written in.
pub const LANGUAGES: &[&str] = &["en", "zh-CN", "zh-TW"];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payment_terms_accept_common_forms_only() {
        assert_eq!(parse_payment_terms("t", Some("NET30")).unwrap(), "net30");
        assert_eq!(parse_payment_terms("t", None).unwrap(), "prepaid");
        assert!(parse_payment_terms("t", Some("net0")).is_err());
        assert!(parse_payment_terms("t", Some("whenever")).is_err());
    }

    #[test]
    fn an_address_without_city_and_country_names_both_fields() {
        let input = AddressInput { line1: Some("1 Nanjing Rd".into()), ..Default::default() };
        let mut violations = Violations::new();
        assert!(input.parse("shipping_address", &mut violations).is_none());
        let error = violations.into_result().unwrap_err();
        let fields: Vec<_> = error.0.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["shipping_address.city", "shipping_address.country"]);
    }
}

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
/// same either way, and `region` holds the province or state. An address in mainland China
/// must name a province (a municipality named as the city will do), and its postal code
/// must be one of that province's.
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
    /// District or county (区/县), between city and street in a Chinese address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub district: Option<String>,
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
    /// District or county (区/县).
    pub district: Option<String>,
    pub region: Option<String>,
    pub postal_code: Option<String>,
    pub country: Option<String>,
}

impl From<&Address> for AddressInput {
    fn from(a: &Address) -> Self {
        AddressInput {
            name: a.name.clone(),
            phone: a.phone.clone(),
            line1: Some(a.line1.clone()),
            line2: a.line2.clone(),
            city: Some(a.city.clone()),
            district: a.district.clone(),
            region: a.region.clone(),
            postal_code: a.postal_code.clone(),
            country: Some(a.country.clone()),
        }
    }
}

impl AddressInput {
    pub fn parse(&self, field: &str, violations: &mut Violations) -> Option<Address> {
        let f = |name: &str| format!("{field}.{name}");
        let name = violations.check(optional_text(&f("name"), self.name.as_deref(), 100));
        let phone = violations.check(optional_text(&f("phone"), self.phone.as_deref(), 40));
        let country_given = self.country.as_deref().map(str::trim).map(str::to_ascii_uppercase);
        let line1 = violations.check(required_text(&f("line1"), self.line1.as_deref(), 200));
        let line2 = violations.check(optional_text(&f("line2"), self.line2.as_deref(), 200));
        let city = violations.check(required_text(&f("city"), self.city.as_deref(), 100));
        let district = violations.check(optional_text(&f("district"), self.district.as_deref(), 100));
        let region = violations.check(optional_text(&f("region"), self.region.as_deref(), 100));
        let postal_code = violations.check(optional_text(&f("postal_code"), self.postal_code.as_deref(), 20));
        let country = violations.check(required_text(&f("country"), self.country.as_deref(), 2).and_then(|c| {
            if c.len() == 2 && c.chars().all(|ch| ch.is_ascii_alphabetic()) {
                Ok(c.to_ascii_uppercase())
            } else {
                Err(FieldError::new(f("country"), "must be a two-letter ISO 3166 country code such as CN"))
            }
        }));
        if let Some(Some(number)) = &phone {
            violations.check(check_phone(&f("phone"), number, country_given.as_deref()));
        }
        let postal_ok = match (&postal_code, &country_given) {
            (Some(Some(code)), Some(country)) => violations.check(check_postal_code(&f("postal_code"), code, country)),
            _ => Some(()),
        };
        if let (Some(region), Some(city), Some("CN")) = (&region, &city, country_given.as_deref()) {
            let postal = postal_code.clone().flatten().filter(|_| postal_ok.is_some());
            violations.check(crate::china::check_address(
                &f("region"),
                &f("postal_code"),
                region.as_deref(),
                Some(city.as_str()),
                postal.as_deref(),
            ));
        }
        Some(Address {
            name: name?,
            phone: phone?,
            line1: line1?,
            line2: line2?,
            city: city?,
            district: district?,
            region: region?,
            postal_code: postal_code?,
            country: country?,
        })
    }
}

/// Checks a telephone number as people write it: digits with spaces, dashes, dots and
/// brackets, a leading `+` for the country code, 6 to 15 digits (E.164). A mainland China
/// number (`+86`, or no country code on a Chinese address) must be a mobile (11 digits,
/// 13x–19x), a 400/800 service number, or a landline with its area code.
pub fn check_phone(field: &str, number: &str, country: Option<&str>) -> Result<(), FieldError> {
    let number = number.trim();
    let (plus, rest) = match number.strip_prefix('+') {
        Some(rest) => (true, rest),
        None => (false, number),
    };
    if let Some(bad) = rest.chars().find(|c| !(c.is_ascii_digit() || " -.()".contains(*c))) {
        return Err(FieldError::new(
            field,
            format!("may hold digits, spaces, dashes and a leading + only, not {bad:?}"),
        ));
    }
    let digits: String = rest.chars().filter(char::is_ascii_digit).collect();
    if !(6..=15).contains(&digits.len()) {
        return Err(FieldError::new(field, "must have 6 to 15 digits, e.g. +86 138 0013 8000"));
    }
    let national = match (plus, digits.strip_prefix("86"), digits.strip_prefix("0086")) {
        (true, Some(national), _) | (false, _, Some(national)) => Some((national, true)),
        (false, _, _) if country == Some("CN") => Some((digits.as_str(), false)),
        _ => None,
    };
    let Some((national, international)) = national else { return Ok(()) };
    let mobile = national.len() == 11 && national.starts_with('1') && national.as_bytes()[1] >= b'3';
    let service = national.len() == 10 && (national.starts_with("400") || national.starts_with("800"));
    // A landline: the area code (2–3 digits after the trunk 0) and 7–8 digits.
    let landline = match national.strip_prefix('0') {
        Some(rest) if !international => (9..=11).contains(&rest.len()),
        None if international => (9..=11).contains(&national.len()) && !national.starts_with('1'),
        _ => false,
    };
    if mobile || service || landline {
        Ok(())
    } else {
        Err(FieldError::new(
            field,
            "is not a mainland China number: a mobile has 11 digits from 13 to 19 (138 0013 8000), a landline its area code (021 5555 0101)",
        ))
    }
}

/// Checks a postal code against its country's form where Ordo knows it (China, Taiwan,
/// Japan, the United States, Germany), and against a generic form elsewhere.
pub fn check_postal_code(field: &str, code: &str, country: &str) -> Result<(), FieldError> {
    let code = code.trim();
    let numeric = |s: &str, n: usize| s.len() == n && s.chars().all(|c| c.is_ascii_digit());
    let (valid, form) = match country {
        "CN" => (numeric(code, 6), "6 digits, e.g. 200001"),
        "TW" => (numeric(code, 3) || numeric(code, 5) || numeric(code, 6), "3, 5 or 6 digits, e.g. 100"),
        "JP" => {
            let (head, tail) = code.split_once('-').unwrap_or(("", code));
            (numeric(code, 7) || (numeric(head, 3) && numeric(tail, 4)), "7 digits, e.g. 100-0001")
        }
        "US" => {
            let (zip, plus4) = code.split_once('-').unwrap_or((code, "0000"));
            (numeric(zip, 5) && numeric(plus4, 4), "a ZIP code, e.g. 94103 or 94103-1234")
        }
        "DE" => (numeric(code, 5), "5 digits, e.g. 10115"),
        _ => (
            (2..=10).contains(&code.len()) && code.chars().all(|c| c.is_ascii_alphanumeric() || c == ' ' || c == '-'),
            "2 to 10 letters, digits, spaces or dashes",
        ),
    };
    if valid { Ok(()) } else { Err(FieldError::new(field, format!("must be {form} for {country}"))) }
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
    fn phone_numbers_are_checked_as_people_write_them() {
        for good in [
            "+86 138 0013 8000",
            "13800138000",
            "021-5555-0101",
            "+86 21 5555 0101",
            "400 820 8820",
            "0086 755 8888 1234",
        ] {
            assert!(check_phone("p", good, Some("CN")).is_ok(), "{good}");
        }
        assert!(check_phone("p", "+44 20 7946 0958", Some("CN")).is_ok(), "another country's number");
        assert!(check_phone("p", "(415) 555-0101", Some("US")).is_ok());
        let message = |n: &str, c: Option<&str>| check_phone("p", n, c).unwrap_err().message;
        assert!(message("1380013800", Some("CN")).starts_with("is not a mainland China number"), "10 digits");
        assert!(message("+86 12 3456 7890 1", None).starts_with("is not a mainland China number"));
        assert!(message("5555 0101", Some("CN")).starts_with("is not a mainland China number"), "no area code");
        assert_eq!(
            message("138-0013-800O", Some("CN")),
            "may hold digits, spaces, dashes and a leading + only, not 'O'"
        );
        assert_eq!(message("12345", None), "must have 6 to 15 digits, e.g. +86 138 0013 8000");
    }

    #[test]
    fn postal_codes_follow_their_country() {
        assert!(check_postal_code("z", "200001", "CN").is_ok());
        assert_eq!(check_postal_code("z", "20001", "CN").unwrap_err().message, "must be 6 digits, e.g. 200001 for CN");
        assert!(check_postal_code("z", "94103-1234", "US").is_ok() && check_postal_code("z", "9410", "US").is_err());
        assert!(check_postal_code("z", "100-0001", "JP").is_ok() && check_postal_code("z", "10-00001", "JP").is_err());
        assert!(check_postal_code("z", "SW1A 1AA", "GB").is_ok() && check_postal_code("z", "SW1A#1AA", "GB").is_err());
    }

    #[test]
    fn a_chinese_address_names_its_district_and_a_bad_phone_is_named() {
        let input = AddressInput {
            phone: Some("138 0013".into()),
            line1: Some("南京东路 100 号".into()),
            district: Some("黄浦区".into()),
            city: Some("上海".into()),
            postal_code: Some("200001".into()),
            country: Some("cn".into()),
            ..Default::default()
        };
        let mut violations = Violations::new();
        input.parse("shipping_address", &mut violations);
        let error = violations.into_result().unwrap_err();
        assert_eq!(error.0[0].field, "shipping_address.phone");
        let fixed = AddressInput { phone: Some("138 0013 8000".into()), ..input };
        let mut violations = Violations::new();
        let address = fixed.parse("shipping_address", &mut violations).unwrap();
        assert!(violations.is_empty());
        assert_eq!((address.district.as_deref(), address.country.as_str()), (Some("黄浦区"), "CN"));
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

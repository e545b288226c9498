//! Tax rates by product class and destination: a rule names a class (the product's
//! category), a country and optionally a region, and the rate for goods of that class sent
//! there. The most specific rule wins; a product no rule covers keeps its own rate.

use crate::validation::{FieldError, Violations};
use crate::{Invalid, china};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// One rule as clients send it.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
pub struct TaxRuleInput {
    /// The product class: products whose category is this, e.g. `food`.
    pub category: Option<String>,
    /// ISO 3166-1 alpha-2, e.g. `CN`, `US`.
    pub country: Option<String>,
    /// A province or state (`广东`, `Guangdong`, `NY`); absent for the whole country.
    pub region: Option<String>,
    /// Fraction: `"0.09"` for 9 %.
    #[schema(value_type = Option<String>)]
    pub rate: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct TaxRule {
    pub category: String,
    pub country: String,
    pub region: Option<String>,
    #[schema(value_type = String)]
    pub rate: Decimal,
}

/// The region as rules compare it: a Chinese province by its one name whatever the script
/// or spelling, anything else case-blind.
fn region_key(country: &str, region: &str) -> String {
    if country == "CN"
        && let Some(p) = china::province(region)
    {
        return p.iso.to_string();
    }
    region.trim().to_lowercase()
}

/// Checks a full set of rules: each field present and sane, no two rules for the same
/// class and place.
pub fn parse_rules(inputs: &[TaxRuleInput]) -> Result<Vec<TaxRule>, Invalid> {
    let mut v = Violations::new();
    let mut rules: Vec<TaxRule> = Vec::with_capacity(inputs.len());
    if inputs.len() > 1000 {
        v.add("rules", "at most 1000 rules");
    }
    for (i, input) in inputs.iter().enumerate() {
        let at = |field: &str| format!("rules[{i}].{field}");
        let category = match input.category.as_deref().map(str::trim) {
            Some(c) if !c.is_empty() && c.chars().count() <= 64 => Some(c.to_lowercase()),
            _ => {
                v.check(Err(FieldError::new(at("category"), "is required (a product category, at most 64 characters)")))
            }
        };
        let country = match input.country.as_deref().map(str::trim) {
            Some(c) if c.len() == 2 && c.chars().all(|ch| ch.is_ascii_alphabetic()) => Some(c.to_uppercase()),
            _ => v.check(Err(FieldError::new(at("country"), "must be a two-letter country code such as CN"))),
        };
        let region = input.region.as_deref().map(str::trim).filter(|r| !r.is_empty()).map(str::to_string);
        if let (Some("CN"), Some(region)) = (country.as_deref(), region.as_deref())
            && china::province(region).is_none()
        {
            v.add(at("region"), format!("{region:?} is not a province of mainland China"));
        }
        let rate = match input.rate.as_deref().map(str::trim).map(str::parse::<Decimal>) {
            Some(Ok(r)) if r >= Decimal::ZERO && r < Decimal::ONE && r.scale() <= 4 => Some(r.normalize()),
            _ => v.check(Err(FieldError::new(at("rate"), "must be a fraction from 0 to below 1, e.g. 0.09"))),
        };
        if let (Some(category), Some(country), Some(rate)) = (category, country, rate) {
            let key = region.as_deref().map(|r| region_key(&country, r));
            let twice = rules.iter().any(|r| {
                r.category == category
                    && r.country == country
                    && r.region.as_deref().map(|x| region_key(&country, x)) == key
            });
            if twice {
                v.add(at("region"), "another rule covers the same class and place");
            }
            rules.push(TaxRule { category, country, region, rate });
        }
    }
    v.into_result()?;
    Ok(rules)
}

/// The rate for goods of `category` sent to `country`/`region`: a rule for the region
/// beats one for the whole country; `None` when no rule covers it.
pub fn rate_for(rules: &[TaxRule], category: &str, country: &str, region: Option<&str>) -> Option<Decimal> {
    let category = category.trim().to_lowercase();
    let country = country.trim().to_uppercase();
    let wanted = region.map(|r| region_key(&country, r));
    let mut whole_country = None;
    for rule in rules.iter().filter(|r| r.category == category && r.country == country) {
        match &rule.region {
            Some(r) if Some(region_key(&country, r)) == wanted => return Some(rule.rate),
            Some(_) => {}
            None => whole_country = Some(rule.rate),
        }
    }
    whole_country
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(category: &str, country: &str, region: Option<&str>, rate: &str) -> TaxRuleInput {
        TaxRuleInput {
            category: Some(category.into()),
            country: Some(country.into()),
            region: region.map(str::to_string),
            rate: Some(rate.into()),
        }
    }

    #[test]
    fn the_region_beats_the_country_and_names_match_in_any_script() {
        let rules = parse_rules(&[
            rule("food", "CN", None, "0.09"),
            rule("Food", "us", Some("NY"), "0.04"),
            rule("food", "US", None, "0"),
            rule("books", "CN", Some("广东"), "0.05"),
        ])
        .unwrap();
        let d = |t: &str| t.parse::<Decimal>().unwrap();
        assert_eq!(rate_for(&rules, "food", "CN", Some("上海")), Some(d("0.09")));
        assert_eq!(rate_for(&rules, "FOOD", "US", Some("ny")), Some(d("0.04")));
        assert_eq!(rate_for(&rules, "food", "US", Some("CA")), Some(d("0")));
        assert_eq!(rate_for(&rules, "books", "CN", Some("Guangdong")), Some(d("0.05")), "pinyin finds 广东");
        assert_eq!(rate_for(&rules, "books", "CN", Some("广西")), None, "no rule: the product's own rate");
        assert_eq!(rate_for(&rules, "tea", "CN", None), None);
    }

    #[test]
    fn bad_rules_name_their_field() {
        let error = parse_rules(&[
            rule("", "CN", None, "0.09"),
            rule("food", "China", None, "0.09"),
            rule("food", "CN", Some("华东"), "0.09"),
            rule("food", "CN", None, "9"),
            rule("tea", "CN", Some("广东省"), "0.13"),
            rule("tea", "CN", Some("Guangdong"), "0.09"),
        ])
        .unwrap_err();
        let fields: Vec<&str> = error.0.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(
            fields,
            ["rules[0].category", "rules[1].country", "rules[2].region", "rules[3].rate", "rules[5].region"]
        );
    }
}

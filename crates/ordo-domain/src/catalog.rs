//! Catalog rules: what makes a SKU, a unit of measure and a product weight acceptable.

use crate::validation::{FieldError, code};

pub const MAX_SKU_CHARS: usize = 64;
pub const DEFAULT_UNIT: &str = "pcs";

/// SKUs are case-sensitive codes, as printed on labels.
pub fn parse_sku(field: &str, value: Option<&str>) -> Result<String, FieldError> {
    code(field, value, MAX_SKU_CHARS)
}

/// Product tags for rules (`fragile`, `cold-chain`, `促销`): trimmed, lower case, each 1–30
/// characters, at most 20, duplicates dropped.
pub fn parse_tags(field: &str, tags: &[String]) -> Result<Vec<String>, FieldError> {
    let mut out: Vec<String> = Vec::new();
    for tag in tags {
        let tag = tag.trim().to_lowercase();
        if tag.is_empty() {
            continue;
        }
        if tag.chars().count() > 30 || tag.contains(',') {
            return Err(FieldError::new(field, format!("tag {tag:?} must be at most 30 characters, without commas")));
        }
        if !out.contains(&tag) {
            out.push(tag);
        }
    }
    if out.len() > 20 {
        return Err(FieldError::new(field, "at most 20 tags"));
    }
    Ok(out)
}

/// Weight in kilograms, up to three decimals (grams), stored as grams.
pub fn parse_weight_grams(field: &str, raw: &str) -> Result<i64, FieldError> {
    let kg = crate::money::parse_amount(field, raw, false)?;
    let grams = kg * rust_decimal::Decimal::from(1000);
    if grams.fract() != rust_decimal::Decimal::ZERO {
        return Err(FieldError::new(field, "must have at most 3 decimal places (grams)"));
    }
    i64::try_from(grams).map_err(|_| FieldError::new(field, "is too large"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weight_is_kept_to_the_gram() {
        assert_eq!(parse_weight_grams("weight_kg", "1.25").unwrap(), 1250);
        assert!(parse_weight_grams("weight_kg", "0.0005").is_err());
    }
}

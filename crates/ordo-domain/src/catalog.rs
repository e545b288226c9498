//! Catalog rules: what makes a SKU, a unit of measure and a product weight acceptable.

use crate::validation::{FieldError, code};

pub const MAX_SKU_CHARS: usize = 64;
pub const DEFAULT_UNIT: &str = "pcs";

/// SKUs are case-sensitive codes, as printed on labels.
pub fn parse_sku(field: &str, value: Option<&str>) -> Result<String, FieldError> {
    code(field, value, MAX_SKU_CHARS)
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

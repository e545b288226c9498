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

/// Edit distance between two SKUs, ignoring case and the separators people mistype
/// (`TEA-001`, `tea001`, `TEA 001` are the same).
fn sku_distance(a: &str, b: &str) -> usize {
    let norm = |s: &str| s.chars().filter(|c| c.is_alphanumeric()).flat_map(char::to_lowercase).collect::<Vec<_>>();
    let (a, b) = (norm(a), norm(b));
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.iter().enumerate() {
        let mut current = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            let substitution = previous[j] + usize::from(ca != cb);
            current[j + 1] = substitution.min(previous[j + 1] + 1).min(current[j] + 1);
        }
        previous = current;
    }
    previous[b.len()]
}

/// Up to `most` SKUs close to one that does not exist, nearest first: within two edits, or
/// a third of the SKU's length for long ones.
pub fn close_skus<'a>(wanted: &str, known: impl IntoIterator<Item = &'a str>, most: usize) -> Vec<String> {
    let limit = (wanted.chars().count() / 3).max(2);
    let mut near: Vec<(usize, &str)> =
        known.into_iter().map(|sku| (sku_distance(wanted, sku), sku)).filter(|(d, _)| *d <= limit).collect();
    near.sort_unstable();
    near.dedup_by(|a, b| a.1 == b.1);
    near.into_iter().take(most).map(|(_, sku)| sku.to_string()).collect()
}

#[cfg(test)]
mod close_sku_tests {
    use super::close_skus;

    #[test]
    fn a_mistyped_sku_finds_the_ones_meant() {
        let known = ["TEA-001", "TEA-002", "POT-001", "CUP-100", "TEA-010"];
        assert_eq!(close_skus("tea001", known, 3), ["TEA-001", "TEA-002", "TEA-010"]);
        assert_eq!(close_skus("TEA-0001", known, 1), ["TEA-001"]);
        assert_eq!(close_skus("POT-01", known, 3), ["POT-001"]);
        assert!(close_skus("SAUCER", known, 3).is_empty());
    }
}

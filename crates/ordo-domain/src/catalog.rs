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

/// A pack a product is also sold in: a box of 12 of the product's unit.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct Pack {
    #[schema(example = "box")]
    pub unit: String,
    /// How many of the product's own unit one pack holds.
    #[schema(example = 12)]
    pub size: i64,
}

impl Pack {
    /// `units` of the product's own unit counted in this pack, in any language: `3 箱 × 12`,
    /// or `2 box × 12 + 5` when they do not fill whole packs.
    pub fn count(&self, units: i64) -> String {
        match (units / self.size, units % self.size) {
            (packs, 0) => format!("{packs} {} × {}", self.unit, self.size),
            (0, _) => units.to_string(),
            (packs, rest) => format!("{packs} {} × {} + {rest}", self.unit, self.size),
        }
    }
}

/// A pack as it arrives.
#[derive(Debug, Clone, Default, serde::Deserialize, utoipa::ToSchema)]
pub struct PackInput {
    pub unit: Option<String>,
    pub size: Option<i64>,
}

pub const MAX_PACKS: usize = 5;
pub const MAX_PACK_SIZE: i64 = 100_000;

/// Checks a product's packs: each a named unit (not the product's own, each once) of 2 to
/// 100,000 units, at most five, smallest first.
pub fn parse_packs(field: &str, base_unit: &str, packs: &[PackInput]) -> Result<Vec<Pack>, FieldError> {
    if packs.len() > MAX_PACKS {
        return Err(FieldError::new(field, format!("at most {MAX_PACKS} packs")));
    }
    let mut out: Vec<Pack> = Vec::with_capacity(packs.len());
    for (i, pack) in packs.iter().enumerate() {
        let at = format!("{field}[{i}]");
        let unit = crate::validation::required_text(&format!("{at}.unit"), pack.unit.as_deref(), 16)?;
        if unit.contains(['=', ';', ',']) {
            return Err(FieldError::new(format!("{at}.unit"), "must not contain = ; or ,"));
        }
        if unit.eq_ignore_ascii_case(base_unit) || out.iter().any(|p| p.unit.eq_ignore_ascii_case(&unit)) {
            return Err(FieldError::new(
                format!("{at}.unit"),
                format!("{unit:?} is named twice (the product's own unit is {base_unit})"),
            ));
        }
        let size = match pack.size {
            Some(size) if (2..=MAX_PACK_SIZE).contains(&size) => size,
            Some(_) => {
                return Err(FieldError::new(
                    format!("{at}.size"),
                    format!("must be 2 to {MAX_PACK_SIZE} {base_unit} a {unit}"),
                ));
            }
            None => return Err(FieldError::new(format!("{at}.size"), "is required")),
        };
        out.push(Pack { unit, size });
    }
    out.sort_by_key(|p| p.size);
    Ok(out)
}

/// Packs as a spreadsheet cell holds them: `box=12;carton=144`.
pub fn packs_text(packs: &[Pack]) -> String {
    packs.iter().map(|p| format!("{}={}", p.unit, p.size)).collect::<Vec<_>>().join(";")
}

/// Reads a `box=12;carton=144` cell; the packs are checked by `parse_packs`.
pub fn packs_from_text(field: &str, text: &str) -> Result<Vec<PackInput>, FieldError> {
    text.split(';')
        .map(str::trim)
        .filter(|part| !part.is_empty())
        .map(|part| {
            let (unit, size) = part
                .split_once('=')
                .ok_or_else(|| FieldError::new(field, format!("{part:?} must be written unit=size, e.g. box=12")))?;
            let size = size
                .trim()
                .parse::<i64>()
                .map_err(|_| FieldError::new(field, format!("{part:?}: the size must be a whole number")))?;
            Ok(PackInput { unit: Some(unit.trim().to_string()), size: Some(size) })
        })
        .collect()
}

/// How many of the product's own unit `count` of `unit` make, and the pack used: 3 box of
/// 12 are 36 pcs. The product's own unit is 1 each.
pub fn in_base_units(
    field: &str,
    sku: &str,
    base_unit: &str,
    packs: &[Pack],
    unit: &str,
    count: i64,
) -> Result<(i64, Option<Pack>), FieldError> {
    let unit = unit.trim();
    if unit.is_empty() || unit.eq_ignore_ascii_case(base_unit) {
        return Ok((count, None));
    }
    let Some(pack) = packs.iter().find(|p| p.unit.eq_ignore_ascii_case(unit)) else {
        let sold_in: Vec<String> = std::iter::once(base_unit.to_string())
            .chain(packs.iter().map(|p| format!("{} of {}", p.unit, p.size)))
            .collect();
        return Err(FieldError::new(field, format!("{sku} is sold by {}, not by {unit:?}", sold_in.join(", "))));
    };
    let units = count.checked_mul(pack.size).ok_or_else(|| FieldError::new(field, "is too large"))?;
    Ok((units, Some(pack.clone())))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn packs() -> Vec<Pack> {
        let input = packs_from_text("packs", "carton = 144; box=12").unwrap();
        parse_packs("packs", "pcs", &input).unwrap()
    }

    #[test]
    fn three_boxes_of_twelve_are_thirty_six_pieces() {
        let packs = packs();
        assert_eq!(packs_text(&packs), "box=12;carton=144", "smallest first");
        assert_eq!(in_base_units("u", "TEA", "pcs", &packs, "BOX", 3).unwrap(), (36, Some(packs[0].clone())));
        assert_eq!(in_base_units("u", "TEA", "pcs", &packs, "pcs", 5).unwrap(), (5, None));
        assert_eq!(
            (packs[0].count(36), packs[0].count(29), packs[0].count(5)),
            ("3 box × 12".into(), "2 box × 12 + 5".into(), "5".into())
        );
        assert_eq!(in_base_units("u", "TEA", "pcs", &packs, "", 5).unwrap(), (5, None));
        assert_eq!(
            in_base_units("u", "TEA", "pcs", &packs, "crate", 1).unwrap_err().message,
            "TEA is sold by pcs, box of 12, carton of 144, not by \"crate\""
        );
    }

    #[test]
    fn a_pack_must_be_named_once_and_hold_more_than_one() {
        let pack = |unit: &str, size: i64| PackInput { unit: Some(unit.into()), size: Some(size) };
        assert_eq!(parse_packs("packs", "pcs", &[pack("PCS", 12)]).unwrap_err().field, "packs[0].unit");
        assert_eq!(parse_packs("packs", "pcs", &[pack("box", 6), pack("Box", 12)]).unwrap_err().field, "packs[1].unit");
        assert_eq!(parse_packs("packs", "pcs", &[pack("box", 1)]).unwrap_err().field, "packs[0].size");
        assert!(packs_from_text("packs", "box:12").is_err() && packs_from_text("packs", "box=twelve").is_err());
        assert!(packs_from_text("packs", "").unwrap().is_empty());
    }

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

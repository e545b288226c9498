//! Exact money. Amounts are `rust_decimal::Decimal` in code, strings in JSON and integers
//! scaled by 10^4 in storage (`*_e4` columns), so no engine ever rounds through a float.
//!
//! Rounding rule: a line total and a line's tax are rounded once each, to the currency's
//! minor unit, half away from zero (四舍五入, what Chinese and most EU invoices expect).
//! Order totals are sums of rounded lines, so lines always add up to the totals.

use crate::validation::FieldError;
use rust_decimal::{Decimal, RoundingStrategy};
use serde::{Deserialize, Serialize};
use std::fmt;

/// Storage scale of amounts: four decimal places covers every ISO 4217 minor unit and
/// wholesale unit prices below the cent.
pub const STORAGE_SCALE: u32 = 4;
/// Largest amount accepted anywhere (unit price, credit limit): keeps every product of
/// quantity and price far from both Decimal's and i64's limits.
pub const MAX_AMOUNT: i64 = 1_000_000_000_000;

/// ISO 4217 code with its number of minor-unit digits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(try_from = "String", into = "String")]
#[schema(value_type = String, example = "CNY")]
pub struct Currency([u8; 3]);

/// Active ISO 4217 codes. Codes with other than two minor digits are listed in `minor_units`.
const ISO_4217: &str = "AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BHD BIF BMD BND BOB BRL BSD \
BTN BWP BYN BZD CAD CDF CHF CLP CNY COP CRC CUP CVE CZK DJF DKK DOP DZD EGP ERN ETB EUR FJD FKP GBP GEL GHS \
GIP GMD GNF GTQ GYD HKD HNL HTG HUF IDR ILS INR IQD IRR ISK JMD JOD JPY KES KGS KHR KMF KPW KRW KWD KYD KZT \
LAK LBP LKR LRD LSL LYD MAD MDL MGA MKD MMK MNT MOP MRU MUR MVR MWK MXN MYR MZN NAD NGN NIO NOK NPR NZD OMR \
PAB PEN PGK PHP PKR PLN PYG QAR RON RSD RUB RWF SAR SBD SCR SDG SEK SGD SHP SLE SOS SRD SSP STN SVC SYP SZL \
THB TJS TMT TND TOP TRY TTD TWD TZS UAH UGX USD UYU UZS VES VND VUV WST XAF XCD XOF XPF YER ZAR ZMW ZWG";

impl Currency {
    pub const CNY: Currency = Currency(*b"CNY");
    pub const USD: Currency = Currency(*b"USD");

    pub fn parse(code: &str) -> Option<Currency> {
        let code = code.trim();
        let bytes: [u8; 3] = code.as_bytes().try_into().ok()?;
        let upper = bytes.map(|b| b.to_ascii_uppercase());
        let candidate = std::str::from_utf8(&upper).ok()?;
        ISO_4217.split_ascii_whitespace().any(|known| known == candidate).then_some(Currency(upper))
    }

    pub fn code(&self) -> &str {
        // Only ever built from ASCII codes in `ISO_4217`.
        std::str::from_utf8(&self.0).unwrap_or("XXX")
    }

    /// Digits after the decimal point of the currency's smallest unit.
    pub fn minor_units(&self) -> u32 {
        match self.code() {
            "BIF" | "CLP" | "DJF" | "GNF" | "ISK" | "JPY" | "KMF" | "KRW" | "PYG" | "RWF" | "UGX" | "VND" | "VUV"
            | "XAF" | "XOF" | "XPF" => 0,
            "BHD" | "IQD" | "JOD" | "KWD" | "LYD" | "OMR" | "TND" => 3,
            _ => 2,
        }
    }

    /// Rounds to the minor unit, half away from zero, and shows that many decimals.
    pub fn round(&self, amount: Decimal) -> Decimal {
        let mut rounded = amount.round_dp_with_strategy(self.minor_units(), RoundingStrategy::MidpointAwayFromZero);
        rounded.rescale(self.minor_units());
        rounded
    }

    /// The amount shown with at least the currency's minor digits (`30.6` → `30.60`),
    /// keeping finer unit-price digits (`0.0125` stays).
    pub fn show(&self, amount: Decimal) -> Decimal {
        let mut shown = amount.normalize();
        if shown.scale() < self.minor_units() {
            shown.rescale(self.minor_units());
        }
        shown
    }

    pub fn field(field: &str, value: Option<&str>) -> Result<Option<Currency>, FieldError> {
        match value.map(str::trim) {
            None | Some("") => Ok(None),
            Some(code) => Currency::parse(code)
                .map(Some)
                .ok_or_else(|| FieldError::new(field, "must be an ISO 4217 currency code such as CNY, USD or EUR")),
        }
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl TryFrom<String> for Currency {
    type Error = String;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Currency::parse(&value).ok_or_else(|| format!("unknown currency {value:?}"))
    }
}

impl From<Currency> for String {
    fn from(value: Currency) -> Self {
        value.code().to_string()
    }
}

/// Parses a decimal amount given as text (`"12.50"`); `what` explains the expected value.
pub fn parse_amount(field: &str, raw: &str, allow_negative: bool) -> Result<Decimal, FieldError> {
    let text = raw.trim();
    let well_formed = !text.is_empty()
        && text.chars().enumerate().all(|(i, c)| c.is_ascii_digit() || c == '.' || (i == 0 && c == '-'))
        && text.matches('.').count() <= 1
        && text.chars().any(|c| c.is_ascii_digit());
    let value = well_formed
        .then(|| text.parse::<Decimal>().ok())
        .flatten()
        .ok_or_else(|| FieldError::new(field, format!("must be a decimal amount such as \"12.50\", got {raw:?}")))?;
    if value.scale() > STORAGE_SCALE {
        return Err(FieldError::new(field, format!("must have at most {STORAGE_SCALE} decimal places")));
    }
    if !allow_negative && value.is_sign_negative() && !value.is_zero() {
        return Err(FieldError::new(field, "must not be negative"));
    }
    if value.abs() > Decimal::from(MAX_AMOUNT) {
        return Err(FieldError::new(field, format!("must not exceed {MAX_AMOUNT}")));
    }
    Ok(value.normalize())
}

/// Parses a rate given as a fraction (`"0.13"` for 13 %), between 0 and 1.
pub fn parse_rate(field: &str, raw: &str) -> Result<Decimal, FieldError> {
    let rate = parse_amount(field, raw, false)?;
    if rate > Decimal::ONE {
        return Err(FieldError::new(field, "must be a fraction between 0 and 1, e.g. \"0.13\" for 13%"));
    }
    Ok(rate)
}

/// Amount to storage integer. Callers pass validated amounts (≤ 4 decimals, bounded).
pub fn to_e4(amount: Decimal) -> i64 {
    let scaled = amount * Decimal::from(10_000);
    i64::try_from(scaled.trunc()).unwrap_or(if amount.is_sign_negative() { i64::MIN } else { i64::MAX })
}

/// Storage integer back to an amount, trimmed of trailing zeros.
pub fn from_e4(stored: i64) -> Decimal {
    Decimal::new(stored, STORAGE_SCALE).normalize()
}

/// Stored amount shown in a currency: always with the currency's minor digits (`"12.50"`).
pub fn from_e4_in(stored: i64, currency: Currency) -> Decimal {
    currency.show(Decimal::new(stored, STORAGE_SCALE))
}

/// A count of units. Whole units only for now: fractional units of measure (kg, m) come
/// with the catalog's unit conversions.
pub type Quantity = i64;
pub const MAX_LINE_QUANTITY: Quantity = 1_000_000;

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    fn d(s: &str) -> Decimal {
        Decimal::from_str(s).unwrap()
    }

    #[test]
    fn currency_codes_are_checked_against_iso_4217() {
        assert_eq!(Currency::parse("cny"), Some(Currency::CNY));
        assert_eq!(Currency::parse("RMB"), None);
        assert_eq!(Currency::parse("JPY").unwrap().minor_units(), 0);
        assert_eq!(Currency::parse("KWD").unwrap().minor_units(), 3);
    }

    #[test]
    fn rounding_is_half_away_from_zero_to_the_minor_unit() {
        assert_eq!(Currency::CNY.round(d("2.345")).to_string(), "2.35");
        assert_eq!(Currency::CNY.round(d("2.344")).to_string(), "2.34");
        assert_eq!(Currency::CNY.round(d("2")).to_string(), "2.00");
        assert_eq!(Currency::parse("JPY").unwrap().round(d("100.5")).to_string(), "101");
    }

    #[test]
    fn malformed_amounts_are_rejected_with_the_field_named() {
        for bad in ["", "abc", "1,5", "1.2.3", "1e5", "--1", "."] {
            let error = parse_amount("price", bad, false).unwrap_err();
            assert_eq!(error.field, "price", "{bad}");
        }
        assert!(parse_amount("price", "-1", false).is_err());
        assert!(parse_amount("price", "0.12345", false).is_err());
        assert_eq!(parse_amount("price", "12.50", false).unwrap(), d("12.5"));
    }

    #[test]
    fn storage_round_trip_is_exact() {
        for s in ["0", "0.0001", "12.5", "99999999.9999", "-3.25"] {
            assert_eq!(from_e4(to_e4(d(s))), d(s).normalize());
        }
        assert_eq!(from_e4_in(125_000, Currency::CNY).to_string(), "12.50");
    }
}

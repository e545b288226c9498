//! UTC timestamps as microseconds since the Unix epoch: an integer in storage on every
//! engine, RFC 3339 in JSON. The calendar arithmetic is Howard Hinnant's civil-date algorithm.

use crate::validation::FieldError;
use serde::{Serialize, Serializer};
use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, utoipa::ToSchema)]
#[schema(value_type = String, format = DateTime, example = "2026-11-23T08:00:00.000000Z")]
pub struct Timestamp(pub i64);

const MICROS_PER_SECOND: i64 = 1_000_000;
const SECONDS_PER_DAY: i64 = 86_400;

impl Timestamp {
    pub fn now() -> Timestamp {
        let since_epoch = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
        Timestamp(since_epoch.as_micros() as i64)
    }

    pub fn micros(self) -> i64 {
        self.0
    }

    pub fn minus_days(self, days: i64) -> Timestamp {
        Timestamp(self.0 - days * SECONDS_PER_DAY * MICROS_PER_SECOND)
    }

    pub fn plus_seconds(self, seconds: i64) -> Timestamp {
        Timestamp(self.0 + seconds * MICROS_PER_SECOND)
    }

    /// The UTC calendar year, used by yearly order-number sequences.
    pub fn year(self) -> i32 {
        civil_from_days(self.0.div_euclid(MICROS_PER_SECOND * SECONDS_PER_DAY)).0
    }

    pub fn to_rfc3339(self) -> String {
        let seconds = self.0.div_euclid(MICROS_PER_SECOND);
        let micros = self.0.rem_euclid(MICROS_PER_SECOND);
        let (y, m, d) = civil_from_days(seconds.div_euclid(SECONDS_PER_DAY));
        let in_day = seconds.rem_euclid(SECONDS_PER_DAY);
        format!("{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{micros:06}Z", in_day / 3600, in_day % 3600 / 60, in_day % 60)
    }

    /// Accepts `YYYY-MM-DD` (midnight UTC) or RFC 3339 with `Z` or a `±HH:MM` offset.
    pub fn parse(text: &str) -> Option<Timestamp> {
        let text = text.trim();
        let date = Date::parse(text.get(..10)?)?;
        let mut micros = date.days_since_epoch() * SECONDS_PER_DAY * MICROS_PER_SECOND;
        let rest = &text[10..];
        if rest.is_empty() {
            return Some(Timestamp(micros));
        }
        let rest = rest.strip_prefix(['T', 't', ' '])?;
        let number = |s: &str| -> Option<i64> {
            (s.len() == 2 && s.bytes().all(|b| b.is_ascii_digit())).then(|| s.parse().ok()).flatten()
        };
        let (hour, minute, second) = (number(rest.get(0..2)?)?, number(rest.get(3..5)?)?, number(rest.get(6..8)?)?);
        if rest.get(2..3)? != ":" || rest.get(5..6)? != ":" || hour > 23 || minute > 59 || second > 60 {
            return None;
        }
        micros += (hour * 3600 + minute * 60 + second) * MICROS_PER_SECOND;
        let mut rest = &rest[8..];
        if let Some(fraction) = rest.strip_prefix('.') {
            let digits = fraction.bytes().take_while(u8::is_ascii_digit).count();
            if digits == 0 {
                return None;
            }
            let padded = format!("{:0<6}", &fraction[..digits.min(6)]);
            micros += padded.parse::<i64>().ok()?;
            rest = &fraction[digits..];
        }
        let offset_seconds = match rest {
            "Z" | "z" => 0,
            _ => {
                let sign = match rest.get(0..1)? {
                    "+" => 1,
                    "-" => -1,
                    _ => return None,
                };
                if rest.len() != 6 || rest.get(3..4)? != ":" {
                    return None;
                }
                sign * (number(&rest[1..3])? * 3600 + number(&rest[4..6])? * 60)
            }
        };
        Some(Timestamp(micros - offset_seconds * MICROS_PER_SECOND))
    }

    pub fn field(field: &str, value: Option<&str>) -> Result<Option<Timestamp>, FieldError> {
        match value.map(str::trim) {
            None | Some("") => Ok(None),
            Some(text) => Timestamp::parse(text).map(Some).ok_or_else(|| {
                FieldError::new(field, "must be a date (2026-01-31) or an RFC 3339 time (2026-01-31T08:00:00Z)")
            }),
        }
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_rfc3339())
    }
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.to_rfc3339())
    }
}

impl<'de> serde::Deserialize<'de> for Timestamp {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        Timestamp::parse(&text).ok_or_else(|| serde::de::Error::custom(format!("not an RFC 3339 time: {text:?}")))
    }
}

/// A calendar date without time (requested delivery date), stored as `YYYY-MM-DD` text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Date {
    pub year: i32,
    pub month: u32,
    pub day: u32,
}

impl Date {
    pub fn parse(text: &str) -> Option<Date> {
        let bytes = text.as_bytes();
        if bytes.len() != 10 || bytes[4] != b'-' || bytes[7] != b'-' {
            return None;
        }
        let year: i32 = text[0..4].parse().ok()?;
        let month: u32 = text[5..7].parse().ok()?;
        let day: u32 = text[8..10].parse().ok()?;
        let date = Date { year, month, day };
        ((1..=12).contains(&month) && day >= 1 && day <= days_in_month(year, month)).then_some(date)
    }

    pub fn days_since_epoch(self) -> i64 {
        days_from_civil(self.year, self.month, self.day)
    }

    pub fn from_days(days: i64) -> Date {
        let (year, month, day) = civil_from_days(days);
        Date { year, month, day }
    }

    pub fn plus_days(self, days: i64) -> Date {
        Date::from_days(self.days_since_epoch() + days)
    }

    /// The UTC day a moment falls on.
    pub fn of(at: Timestamp) -> Date {
        Date::from_days(at.0.div_euclid(MICROS_PER_SECOND * SECONDS_PER_DAY))
    }

    /// Midnight UTC at the start of this day.
    pub fn start(self) -> Timestamp {
        Timestamp(self.days_since_epoch() * SECONDS_PER_DAY * MICROS_PER_SECOND)
    }

    pub fn field(field: &str, value: Option<&str>) -> Result<Option<Date>, FieldError> {
        match value.map(str::trim) {
            None | Some("") => Ok(None),
            Some(text) => Date::parse(text)
                .map(Some)
                .ok_or_else(|| FieldError::new(field, "must be a calendar date such as 2026-01-31")),
        }
    }
}

impl fmt::Display for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }
}

fn is_leap(year: i32) -> bool {
    (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
}

fn days_in_month(year: i32, month: u32) -> u32 {
    match month {
        2 if is_leap(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

fn days_from_civil(year: i32, month: u32, day: u32) -> i64 {
    let y = i64::from(year) - i64::from(month <= 2);
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(month);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn civil_from_days(days: i64) -> (i32, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = (yoe + era * 400 + i64::from(month <= 2)) as i32;
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_round_trips() {
        let t = Timestamp::parse("2026-11-23T22:29:05.123456Z").unwrap();
        assert_eq!(t.to_rfc3339(), "2026-11-23T22:29:05.123456Z");
        assert_eq!(t.year(), 2026);
    }

    #[test]
    fn offsets_are_converted_to_utc() {
        let shanghai = Timestamp::parse("2026-01-01T08:00:00+08:00").unwrap();
        assert_eq!(shanghai, Timestamp::parse("2026-01-01").unwrap());
        assert_eq!(shanghai.year(), 2026);
        assert_eq!(Timestamp::parse("2026-01-01T07:59:59+08:00").unwrap().year(), 2025);
    }

    #[test]
    fn impossible_dates_are_rejected() {
        for bad in ["2026-02-29", "2026-13-01", "2026-1-01", "20260101", "2026-01-01T25:00:00Z", "2026-01-01T10:00:00"]
        {
            assert!(Timestamp::parse(bad).is_none(), "{bad}");
        }
        assert!(Date::parse("2024-02-29").is_some());
    }

    #[test]
    fn civil_conversion_agrees_both_ways_over_centuries() {
        for days in (-800_000..800_000).step_by(997) {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y, m, d), days);
        }
    }
}

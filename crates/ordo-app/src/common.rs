//! What every area shares: who is acting and when, amount inputs, cursor pages.

use ordo_domain::validation::FieldError;
use serde::{Deserialize, Deserializer, Serialize};

/// Who does something, and when. Every use case takes one, so every event and movement
/// records its actor and time, and demo data or tests can fix the clock.
#[derive(Debug, Clone)]
pub struct Ctx {
    /// `token:NAME`, `user:EMAIL`, `cli`, `demo`…
    pub actor: String,
    pub now: ordo_domain::Timestamp,
    /// Where the request came from: `api`, `console`, `cli`, `demo`.
    pub source: &'static str,
    /// The client's address, for the audit log.
    pub ip: Option<String>,
}

impl Ctx {
    pub fn new(actor: impl Into<String>, source: &'static str) -> Ctx {
        Ctx { actor: actor.into(), now: ordo_domain::Timestamp::now(), source, ip: None }
    }

    pub fn at(actor: impl Into<String>, source: &'static str, now: ordo_domain::Timestamp) -> Ctx {
        Ctx { actor: actor.into(), now, source, ip: None }
    }

    pub fn from_ip(mut self, ip: Option<String>) -> Ctx {
        self.ip = ip;
        self
    }
}

/// A decimal amount as sent: JSON string (`"12.50"`, preferred) or number. Kept as text
/// until validation so a malformed value is reported with its field, never as a float.
#[derive(Debug, Clone, PartialEq, Eq, utoipa::ToSchema)]
#[schema(value_type = String, example = "12.50")]
pub struct AmountInput(pub String);

impl<'de> Deserialize<'de> for AmountInput {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Text(String),
            Int(i64),
            Float(f64),
        }
        Ok(AmountInput(match Raw::deserialize(deserializer)? {
            Raw::Text(text) => text,
            Raw::Int(n) => n.to_string(),
            // Shortest representation that round-trips: what the client wrote, for sane input.
            Raw::Float(f) => f.to_string(),
        }))
    }
}

impl AmountInput {
    /// A required amount: absent is "is required", present must parse.
    pub fn required(
        field: &str,
        value: Option<&AmountInput>,
        allow_negative: bool,
    ) -> Result<rust_decimal::Decimal, FieldError> {
        value.ok_or_else(|| FieldError::new(field, "is required"))?.parse(field, allow_negative)
    }

    pub fn parse(&self, field: &str, allow_negative: bool) -> Result<rust_decimal::Decimal, FieldError> {
        ordo_domain::money::parse_amount(field, &self.0, allow_negative)
    }
}

/// One page of a list and the cursor for the next one (absent on the last page).
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next_cursor: Option<String>,
}

pub const DEFAULT_PAGE: i64 = 50;
pub const MAX_PAGE: i64 = 200;

/// Keyset position in a list ordered by id, newest first.
#[derive(Debug, Clone, Copy)]
pub struct PageRequest {
    pub limit: i64,
    /// Only rows with a smaller id than this.
    pub before_id: Option<i64>,
}

impl PageRequest {
    pub fn parse(limit: Option<i64>, cursor: Option<&str>) -> Result<PageRequest, FieldError> {
        let limit = match limit {
            None => DEFAULT_PAGE,
            Some(n) if (1..=MAX_PAGE).contains(&n) => n,
            Some(_) => {
                return Err(FieldError::new("limit", format!("must be between 1 and {MAX_PAGE}")));
            }
        };
        let before_id = match cursor.map(str::trim).filter(|c| !c.is_empty()) {
            None => None,
            Some(c) => {
                Some(decode_cursor(c).ok_or_else(|| FieldError::new("cursor", "is not a cursor this server issued"))?)
            }
        };
        Ok(PageRequest { limit, before_id })
    }

    /// Asks the store for one row more than the page, to know whether another page follows.
    pub fn fetch_limit(&self) -> i64 {
        self.limit + 1
    }

    pub fn page<T>(&self, mut rows: Vec<T>, id_of: impl Fn(&T) -> i64) -> Page<T> {
        let more = rows.len() as i64 > self.limit;
        rows.truncate(self.limit as usize);
        let next_cursor = if more { rows.last().map(|last| encode_cursor(id_of(last))) } else { None };
        Page { items: rows, next_cursor }
    }
}

fn encode_cursor(id: i64) -> String {
    format!("c{:x}", id ^ 0x5a5a_5a5a)
}

fn decode_cursor(text: &str) -> Option<i64> {
    i64::from_str_radix(text.strip_prefix('c')?, 16).ok().map(|v| v ^ 0x5a5a_5a5a)
}

/// Implements `StoreError` for an area error with a `Db(DbError)` variant.
#[macro_export]
macro_rules! store_error {
    ($error:ty) => {
        impl $crate::db::StoreError for $error {
            fn db_error(&self) -> Option<&$crate::db::DbError> {
                match self {
                    Self::Db(error) => Some(error),
                    _ => None,
                }
            }
        }
    };
}

/// A JSON column that holds an optional document (addresses).
pub fn to_json_text<T: Serialize>(value: &Option<T>) -> Option<String> {
    value.as_ref().and_then(|v| serde_json::to_string(v).ok())
}

pub fn from_json_text<T: serde::de::DeserializeOwned>(text: Option<String>) -> Option<T> {
    text.and_then(|t| serde_json::from_str(&t).ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cursor_round_trips_and_garbage_is_refused() {
        let page = PageRequest { limit: 1, before_id: None };
        let cursor = page.page(vec![10_i64, 9], |v| *v).next_cursor.unwrap();
        assert_eq!(PageRequest::parse(None, Some(&cursor)).unwrap().before_id, Some(10));
        assert!(PageRequest::parse(None, Some("zzz")).is_err());
        assert!(PageRequest::parse(Some(0), None).is_err());
    }

    #[test]
    fn amounts_arrive_as_strings_or_numbers() {
        let a: AmountInput = serde_json::from_str("12.5").unwrap();
        let b: AmountInput = serde_json::from_str("\"12.50\"").unwrap();
        assert_eq!(a.parse("p", false).unwrap(), b.parse("p", false).unwrap());
        assert!(serde_json::from_str::<AmountInput>("{}").is_err());
    }
}

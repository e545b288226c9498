//! Console languages: English, 简体中文, 繁體中文. Messages live in `locales/*.ftl`, one
//! `key = text` per line (the simple-message subset of Fluent), embedded in the binary.
//! A test fails when any catalog lacks a key another has or a template uses.

use axum::http::{HeaderMap, header};
use ordo_domain::{Currency, Timestamp};
use rust_decimal::Decimal;
use std::collections::HashMap;
use std::sync::OnceLock;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Locale {
    En,
    ZhCn,
    ZhTw,
}

pub const SOURCES: [(Locale, &str, &str); 3] = [
    (Locale::En, "en", include_str!("../../locales/en.ftl")),
    (Locale::ZhCn, "zh-CN", include_str!("../../locales/zh-CN.ftl")),
    (Locale::ZhTw, "zh-TW", include_str!("../../locales/zh-TW.ftl")),
];

impl Locale {
    pub fn code(self) -> &'static str {
        SOURCES.iter().find(|(l, ..)| *l == self).map_or("en", |(_, code, _)| code)
    }

    pub fn parse(code: &str) -> Option<Locale> {
        SOURCES.iter().find(|(_, c, _)| c.eq_ignore_ascii_case(code)).map(|(l, ..)| *l)
    }

    /// The first language of `Accept-Language` that Ordo speaks; Taiwan, Hong Kong and
    /// Macau read traditional characters.
    pub fn from_accept_language(headers: &HeaderMap) -> Locale {
        let accept = headers.get(header::ACCEPT_LANGUAGE).and_then(|v| v.to_str().ok()).unwrap_or("");
        for tag in accept.split(',').map(|t| t.split(';').next().unwrap_or("").trim().to_ascii_lowercase()) {
            match tag.as_str() {
                "zh-tw" | "zh-hk" | "zh-mo" | "zh-hant" | "zh-hant-tw" | "zh-hant-hk" => return Locale::ZhTw,
                t if t.starts_with("zh") => return Locale::ZhCn,
                t if t.starts_with("en") => return Locale::En,
                _ => {}
            }
        }
        Locale::En
    }
}

pub fn parse_catalog(source: &'static str) -> HashMap<&'static str, &'static str> {
    source
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty() && !line.starts_with('#'))
        .filter_map(|line| line.split_once('='))
        .map(|(key, text)| (key.trim(), text.trim()))
        .collect()
}

fn catalogs() -> &'static [HashMap<&'static str, &'static str>; 3] {
    static CATALOGS: OnceLock<[HashMap<&'static str, &'static str>; 3]> = OnceLock::new();
    CATALOGS.get_or_init(|| SOURCES.map(|(_, _, source)| parse_catalog(source)))
}

/// Offset of the time shown in the console from UTC, `ORDO_CONSOLE_UTC_OFFSET` (e.g.
/// `+08:00`, the default: China Standard Time).
pub fn display_offset_minutes() -> i64 {
    static OFFSET: OnceLock<i64> = OnceLock::new();
    *OFFSET.get_or_init(|| {
        let text = std::env::var("ORDO_CONSOLE_UTC_OFFSET").unwrap_or_else(|_| "+08:00".into());
        let sign = if text.starts_with('-') { -1 } else { 1 };
        let digits = text.trim_start_matches(['+', '-']);
        let (h, m) = digits.split_once(':').unwrap_or((digits, "0"));
        sign * (h.parse::<i64>().unwrap_or(8) * 60 + m.parse::<i64>().unwrap_or(0))
    })
}

#[derive(Debug, Clone, Copy)]
pub struct I18n {
    pub locale: Locale,
}

impl I18n {
    pub fn new(locale: Locale) -> I18n {
        I18n { locale }
    }

    pub fn lang(&self) -> &'static str {
        self.locale.code()
    }

    /// The message for `key`; the key itself when missing (a test keeps that from happening).
    pub fn t<'a>(&self, key: &'a str) -> &'a str {
        let index = SOURCES.iter().position(|(l, ..)| *l == self.locale).unwrap_or(0);
        catalogs()[index].get(key).copied().unwrap_or(key)
    }

    /// A channel's name: the kinds are translated, a registered channel shows its code.
    pub fn channel(&self, code: &str) -> String {
        let key = format!("channel.{code}");
        let text = self.t(&key);
        if text == key { code.to_string() } else { text.to_string() }
    }

    /// A price source or adjustment source (`price_list`, `tier`, `coupon`…) in words.
    pub fn pricing(&self, what: &str) -> String {
        let key = format!("pricing.{what}");
        self.t(&key).to_string()
    }

    /// A message with `{ $name }` placeholders filled in.
    pub fn tf(&self, key: &str, args: &[(&str, &str)]) -> String {
        let mut text = self.t(key).to_string();
        for (name, value) in args {
            text = text.replace(&format!("{{ ${name} }}"), value);
        }
        text
    }

    /// A message with a `{ $count }`.
    pub fn tn(&self, key: &str, count: impl std::borrow::Borrow<i64>) -> String {
        self.tf(key, &[("count", &self.count(count))])
    }

    /// `¥1,234.50`; grouping is the same in all three languages.
    pub fn money(&self, amount: &Decimal, currency: &Currency) -> String {
        let symbol = match currency.code() {
            "CNY" => "¥",
            "HKD" => "HK$",
            "TWD" => "NT$",
            "USD" => "US$",
            "EUR" => "€",
            "GBP" => "£",
            "JPY" => "JP¥",
            _ => "",
        };
        let shown = currency.show(*amount).to_string();
        let (sign, digits) = shown.strip_prefix('-').map_or(("", shown.as_str()), |d| ("-", d));
        let (whole, fraction) = digits.split_once('.').map_or((digits, None), |(w, f)| (w, Some(f)));
        let mut grouped = String::new();
        for (i, c) in whole.chars().enumerate() {
            if i > 0 && (whole.len() - i) % 3 == 0 {
                grouped.push(',');
            }
            grouped.push(c);
        }
        let number = fraction.map_or(grouped.clone(), |f| format!("{grouped}.{f}"));
        if symbol.is_empty() { format!("{sign}{number} {currency}") } else { format!("{sign}{symbol}{number}") }
    }

    /// Date and time in the console's time zone.
    pub fn datetime(&self, at: &Timestamp) -> String {
        let local = Timestamp(at.0 + display_offset_minutes() * 60_000_000).to_rfc3339();
        let (date, time) = (&local[..10], &local[11..16]);
        match self.locale {
            Locale::En => format!("{date} {time}"),
            Locale::ZhCn | Locale::ZhTw => {
                format!(
                    "{}年{}月{}日 {time}",
                    &date[..4],
                    date[5..7].trim_start_matches('0'),
                    date[8..10].trim_start_matches('0')
                )
            }
        }
    }

    pub fn count(&self, n: impl std::borrow::Borrow<i64>) -> String {
        let text = n.borrow().to_string();
        let mut grouped = String::new();
        for (i, c) in text.chars().enumerate() {
            if i > 0 && c != '-' && (text.len() - i) % 3 == 0 {
                grouped.push(',');
            }
            grouped.push(c);
        }
        grouped
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    #[test]
    fn every_catalog_has_every_key() {
        let keys: Vec<BTreeSet<&str>> =
            SOURCES.iter().map(|(_, _, s)| parse_catalog(s).into_keys().collect()).collect();
        let all: BTreeSet<&str> = keys.iter().flatten().copied().collect();
        for ((_, code, _), have) in SOURCES.iter().zip(&keys) {
            let missing: Vec<_> = all.difference(have).collect();
            assert!(missing.is_empty(), "{code} lacks {missing:?}");
        }
    }

    #[test]
    fn every_key_a_template_uses_is_in_the_catalogs() {
        let english = parse_catalog(SOURCES[0].2);
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/templates");
        let mut sources: Vec<String> =
            std::fs::read_dir(dir).unwrap().map(|e| std::fs::read_to_string(e.unwrap().path()).unwrap()).collect();
        for src in
            [concat!(env!("CARGO_MANIFEST_DIR"), "/src/console"), concat!(env!("CARGO_MANIFEST_DIR"), "/src/portal")]
        {
            sources
                .extend(std::fs::read_dir(src).unwrap().map(|e| std::fs::read_to_string(e.unwrap().path()).unwrap()));
        }
        let mut missing = BTreeSet::new();
        for text in &sources {
            for call in [".t(\"", ".tf(\"", ".tn(\""] {
                for piece in text.split(call).skip(1) {
                    let key = piece.split('"').next().unwrap();
                    if !key.is_empty() && !english.contains_key(key) && !key.contains('{') {
                        missing.insert(key.to_string());
                    }
                }
            }
        }
        assert!(missing.is_empty(), "keys used but not in locales/en.ftl: {missing:?}");
    }

    #[test]
    fn money_is_grouped_with_its_symbol() {
        let i18n = I18n::new(Locale::ZhCn);
        assert_eq!(i18n.money(&Decimal::new(123456789, 2), &Currency::CNY), "¥1,234,567.89");
        assert_eq!(i18n.money(&Decimal::new(-5, 0), &Currency::USD), "-US$5.00");
        assert_eq!(i18n.money(&Decimal::new(100, 0), &Currency::parse("CHF").unwrap()), "100.00 CHF");
    }

    #[test]
    fn browsers_from_taiwan_and_hong_kong_get_traditional_characters() {
        let mut headers = HeaderMap::new();
        headers.insert(header::ACCEPT_LANGUAGE, "zh-HK,zh;q=0.9,en;q=0.8".parse().unwrap());
        assert_eq!(Locale::from_accept_language(&headers), Locale::ZhTw);
        headers.insert(header::ACCEPT_LANGUAGE, "zh-CN,zh;q=0.9".parse().unwrap());
        assert_eq!(Locale::from_accept_language(&headers), Locale::ZhCn);
        headers.insert(header::ACCEPT_LANGUAGE, "fr-FR".parse().unwrap());
        assert_eq!(Locale::from_accept_language(&headers), Locale::En);
    }
}

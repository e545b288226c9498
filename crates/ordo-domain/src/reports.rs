//! The arithmetic of reports: calendar buckets, comparison periods, percentiles, RFM
//! scores and ABC classes. Pure functions over numbers the storage layer has summed.

use crate::time::Date;

crate::text_enum!(
    /// How a sales report groups its rows.
    SalesGrouping {
        Day = "day",
        Week = "week",
        Month = "month",
        Quarter = "quarter",
        Year = "year",
        Product = "product",
        Category = "category",
        Customer = "customer",
        CustomerGroup = "customer_group",
        Channel = "channel",
        Region = "region",
        Salesperson = "salesperson",
    }
);

impl SalesGrouping {
    /// Whether rows are calendar periods (filled with zeros, in time order).
    pub fn is_calendar(self) -> bool {
        matches!(self, Self::Day | Self::Week | Self::Month | Self::Quarter | Self::Year)
    }
}

crate::text_enum!(
    /// What a period is compared with.
    Comparison {
        Previous = "previous",
        LastYear = "last_year",
    }
);

/// The calendar bucket a day falls in: its first day and its key (`2026-11-24`,
/// `2026-W48` (ISO week), `2026-11`, `2026-Q4`, `2026`).
pub fn bucket(day: Date, grouping: SalesGrouping) -> (Date, String) {
    match grouping {
        SalesGrouping::Week => {
            let days = day.days_since_epoch();
            // 1970-01-01 was a Thursday; ISO weeks start on Monday.
            let weekday = (days + 3).rem_euclid(7);
            let monday = Date::from_days(days - weekday);
            let thursday = Date::from_days(days - weekday + 3);
            let week =
                (thursday.days_since_epoch() - Date { year: thursday.year, month: 1, day: 1 }.days_since_epoch()) / 7
                    + 1;
            (monday, format!("{}-W{week:02}", thursday.year))
        }
        SalesGrouping::Month => (Date { day: 1, ..day }, format!("{:04}-{:02}", day.year, day.month)),
        SalesGrouping::Quarter => {
            let first = (day.month - 1) / 3 * 3 + 1;
            (Date { month: first, day: 1, ..day }, format!("{:04}-Q{}", day.year, (day.month - 1) / 3 + 1))
        }
        SalesGrouping::Year => (Date { month: 1, day: 1, ..day }, format!("{:04}", day.year)),
        _ => (day, day.to_string()),
    }
}

/// The first and last day of a bucket given by its key (`2026-W48`, `2026-11`, `2026-Q4`,
/// `2026`, or a day): the inverse of [`bucket`], for links to the orders behind a row.
pub fn bucket_days(key: &str, grouping: SalesGrouping) -> Option<(Date, Date)> {
    let year_of = |text: &str| text.parse::<i32>().ok().filter(|y| (1..=9999).contains(y));
    let month_start = |year: i32, month: u32| Date { year, month, day: 1 };
    let month_after =
        |year: i32, month: u32| if month == 12 { month_start(year + 1, 1) } else { month_start(year, month + 1) };
    match grouping {
        SalesGrouping::Week => {
            let (year, week) = key.split_once("-W")?;
            let (year, week) = (year_of(year)?, week.parse::<i64>().ok().filter(|w| (1..=53).contains(w))?);
            // ISO week 1 holds the year's first Thursday; its Monday starts the count.
            let jan4 = Date { year, month: 1, day: 4 }.days_since_epoch();
            let monday = jan4 - (jan4 + 3).rem_euclid(7) + (week - 1) * 7;
            Some((Date::from_days(monday), Date::from_days(monday + 6)))
        }
        SalesGrouping::Month => {
            let (year, month) = key.split_once('-')?;
            let (year, month) = (year_of(year)?, month.parse::<u32>().ok().filter(|m| (1..=12).contains(m))?);
            Some((month_start(year, month), month_after(year, month).plus_days(-1)))
        }
        SalesGrouping::Quarter => {
            let (year, quarter) = key.split_once("-Q")?;
            let (year, quarter) = (year_of(year)?, quarter.parse::<u32>().ok().filter(|q| (1..=4).contains(q))?);
            let first = quarter * 3 - 2;
            Some((month_start(year, first), month_after(year, first + 2).plus_days(-1)))
        }
        SalesGrouping::Year => {
            let year = year_of(key)?;
            Some((month_start(year, 1), Date { year, month: 12, day: 31 }))
        }
        _ => Date::parse(key).map(|day| (day, day)),
    }
}

/// Every bucket touching `from..=to`, in order, so a chart has no holes.
pub fn buckets(from: Date, to: Date, grouping: SalesGrouping) -> Vec<String> {
    let mut keys: Vec<String> = Vec::new();
    let mut day = from.days_since_epoch();
    while day <= to.days_since_epoch() {
        let key = bucket(Date::from_days(day), grouping).1;
        if keys.last() != Some(&key) {
            keys.push(key);
        }
        day += 1;
    }
    keys
}

/// The period a report is compared with: the same number of days just before, or the same
/// dates a year earlier (29 February becomes the 28th).
pub fn compared_period(from: Date, to: Date, comparison: Comparison) -> (Date, Date) {
    match comparison {
        Comparison::Previous => {
            let length = to.days_since_epoch() - from.days_since_epoch() + 1;
            (from.plus_days(-length), to.plus_days(-length))
        }
        Comparison::LastYear => (year_earlier(from), year_earlier(to)),
    }
}

fn year_earlier(date: Date) -> Date {
    let earlier = Date { year: date.year - 1, ..date };
    Date::parse(&earlier.to_string()).unwrap_or(Date { day: 28, ..earlier })
}

crate::text_enum!(
    /// How often a scheduled report goes out.
    Frequency {
        Daily = "daily",
        Weekly = "weekly",
        Monthly = "monthly",
    }
);

/// The last whole period before `today`: yesterday, last Monday–Sunday, or last month, with
/// its key (`2026-11-23`, `2026-W47`, `2026-10`).
pub fn last_complete_period(today: Date, frequency: Frequency) -> (Date, Date, String) {
    match frequency {
        Frequency::Daily => {
            let day = today.plus_days(-1);
            (day, day, day.to_string())
        }
        Frequency::Weekly => {
            let (monday, key) = bucket(today.plus_days(-7), SalesGrouping::Week);
            (monday, monday.plus_days(6), key)
        }
        Frequency::Monthly => {
            let last = Date { day: 1, ..today }.plus_days(-1);
            let (first, key) = bucket(last, SalesGrouping::Month);
            (first, last, key)
        }
    }
}

/// Nearest-rank percentile (`p` in 0..=100) of sorted values.
pub fn percentile(sorted: &[i64], p: u32) -> Option<i64> {
    if sorted.is_empty() {
        return None;
    }
    let rank = (u64::from(p) * sorted.len() as u64).div_ceil(100).max(1) as usize;
    sorted.get(rank.min(sorted.len()) - 1).copied()
}

/// Scores 1..=5 by quintile of rank: the top fifth of values gets 5. Ties share the
/// better score. `higher_is_better` is false for recency in days.
pub fn quintile_scores(values: &[i64], higher_is_better: bool) -> Vec<u8> {
    let n = values.len();
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by_key(|&i| if higher_is_better { -values[i] } else { values[i] });
    let mut scores = vec![1u8; n];
    let mut position = 0;
    while position < n {
        let value = values[order[position]];
        let score = 5 - (position * 5 / n) as u8;
        let mut next = position;
        while next < n && values[order[next]] == value {
            scores[order[next]] = score;
            next += 1;
        }
        position = next;
    }
    scores
}

/// The usual RFM segment names for a customer's recency, frequency and monetary scores.
pub fn rfm_segment(r: u8, f: u8, m: u8) -> &'static str {
    let fm = (u16::from(f) + u16::from(m)) / 2;
    match (r, fm) {
        (5 | 4, 4 | 5) => "champions",
        (3..=5, 3..=5) => "loyal",
        (4 | 5, _) if f <= 1 => "new",
        (4 | 5, _) => "promising",
        (3, _) => "needs_attention",
        (1 | 2, 4 | 5) => "cannot_lose",
        (2, _) => "at_risk",
        _ => "lost",
    }
}

/// ABC class of each item by its share of the total, items given in descending order of
/// value: A up to 80% of the cumulative total, B up to 95%, C the rest. The item that
/// crosses a threshold still belongs to the class below it.
pub fn abc_classes(descending: &[i64]) -> Vec<char> {
    let total: i128 = descending.iter().map(|v| i128::from(*v)).sum();
    let mut before: i128 = 0;
    descending
        .iter()
        .map(|value| {
            let class = if total <= 0 || before * 100 < total * 80 {
                'A'
            } else if before * 100 < total * 95 {
                'B'
            } else {
                'C'
            };
            before += i128::from(*value);
            class
        })
        .collect()
}

#[cfg(test)]
mod tests {

    #[test]
    fn a_bucket_key_gives_back_its_days() {
        let d = |text: &str| Date::parse(text).unwrap();
        for (day, grouping) in [
            ("2026-11-24", SalesGrouping::Week),
            ("2021-01-03", SalesGrouping::Week),
            ("2020-12-31", SalesGrouping::Week),
            ("2024-02-29", SalesGrouping::Month),
            ("2026-12-31", SalesGrouping::Quarter),
            ("2026-06-15", SalesGrouping::Year),
        ] {
            let (first, key) = bucket(d(day), grouping);
            let (from, to) = bucket_days(&key, grouping).unwrap();
            assert_eq!(from, first, "{key}");
            assert!(from <= d(day) && d(day) <= to, "{key}: {from}..{to}");
            assert_eq!(bucket(to, grouping).1, key, "{key} ends on {to}");
            assert_ne!(bucket(to.plus_days(1), grouping).1, key, "{key} ends on {to}");
        }
        assert_eq!(bucket_days("2026-W48", SalesGrouping::Week), Some((d("2026-11-23"), d("2026-11-29"))));
        assert_eq!(bucket_days("2024-02", SalesGrouping::Month), Some((d("2024-02-01"), d("2024-02-29"))));
        assert_eq!(bucket_days("2026-Q4", SalesGrouping::Quarter), Some((d("2026-10-01"), d("2026-12-31"))));
        assert_eq!(bucket_days("2026-13", SalesGrouping::Month), None);
    }

    use super::*;

    fn date(text: &str) -> Date {
        Date::parse(text).unwrap()
    }

    #[test]
    fn buckets_follow_the_calendar_and_iso_weeks() {
        assert_eq!(bucket(date("2026-11-24"), SalesGrouping::Week).1, "2026-W48");
        assert_eq!(bucket(date("2027-01-01"), SalesGrouping::Week).1, "2026-W53");
        assert_eq!(bucket(date("2024-12-30"), SalesGrouping::Week).1, "2025-W01");
        assert_eq!(bucket(date("2026-11-24"), SalesGrouping::Week).0, date("2026-11-23"));
        assert_eq!(bucket(date("2026-11-24"), SalesGrouping::Quarter).1, "2026-Q4");
        assert_eq!(bucket(date("2026-02-03"), SalesGrouping::Month).1, "2026-02");
        assert_eq!(
            buckets(date("2026-01-30"), date("2026-03-01"), SalesGrouping::Month),
            ["2026-01", "2026-02", "2026-03"]
        );
        assert_eq!(buckets(date("2026-11-01"), date("2026-11-03"), SalesGrouping::Day).len(), 3);
    }

    #[test]
    fn comparisons_take_the_period_before_or_a_year_earlier() {
        let (from, to) = compared_period(date("2026-11-01"), date("2026-11-30"), Comparison::Previous);
        assert_eq!((from.to_string(), to.to_string()), ("2026-10-02".into(), "2026-10-31".into()));
        let (from, to) = compared_period(date("2024-02-01"), date("2024-02-29"), Comparison::LastYear);
        assert_eq!((from.to_string(), to.to_string()), ("2023-02-01".into(), "2023-02-28".into()));
    }

    #[test]
    fn scheduled_reports_cover_the_last_whole_period() {
        let today = date("2026-11-24");
        assert_eq!(last_complete_period(today, Frequency::Daily).2, "2026-11-23");
        let (from, to, key) = last_complete_period(today, Frequency::Weekly);
        assert_eq!(
            (from.to_string(), to.to_string(), key),
            ("2026-11-16".into(), "2026-11-22".into(), "2026-W47".into())
        );
        let (from, to, key) = last_complete_period(date("2026-03-01"), Frequency::Monthly);
        assert_eq!(
            (from.to_string(), to.to_string(), key),
            ("2026-02-01".into(), "2026-02-28".into(), "2026-02".into())
        );
    }

    #[test]
    fn percentiles_use_the_nearest_rank() {
        let values = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
        assert_eq!(percentile(&values, 50), Some(5));
        assert_eq!(percentile(&values, 90), Some(9));
        assert_eq!(percentile(&values, 95), Some(10));
        assert_eq!(percentile(&[7], 99), Some(7));
        assert_eq!(percentile(&[], 50), None);
    }

    #[test]
    fn quintiles_give_the_best_fifth_a_five_and_ties_share() {
        assert_eq!(quintile_scores(&[10, 20, 30, 40, 50], true), [1, 2, 3, 4, 5]);
        assert_eq!(quintile_scores(&[10, 20, 30, 40, 50], false), [5, 4, 3, 2, 1]);
        assert_eq!(quintile_scores(&[5, 5, 1], true), [5, 5, 2]);
        assert_eq!(rfm_segment(5, 5, 5), "champions");
        assert_eq!(rfm_segment(1, 1, 1), "lost");
        assert_eq!(rfm_segment(5, 1, 1), "new");
        assert_eq!(rfm_segment(1, 5, 5), "cannot_lose");
    }

    #[test]
    fn abc_puts_the_first_eighty_percent_in_a() {
        // 50 + 30 = 80 reaches the A threshold with the second item; 15 takes B to 95.
        assert_eq!(abc_classes(&[50, 30, 15, 5]), ['A', 'A', 'B', 'C']);
        assert_eq!(abc_classes(&[100]), ['A']);
        assert_eq!(abc_classes(&[0, 0]), ['A', 'A']);
    }
}

//! Supply planning, pure: available-to-promise by date, demand forecasts from sales
//! history, and how much to buy.

use rust_decimal::Decimal;
use rust_decimal::prelude::{FromPrimitive, ToPrimitive};

/// Units that can be promised from `date` on (cumulative).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Promise {
    /// Days from today (0 = now).
    pub day: i64,
    pub quantity: i64,
}

/// Available-to-promise: what is free now, then what each incoming receipt (days from
/// today, quantity) adds, less demand already waiting for supply (backorders, served
/// first). Never negative.
pub fn available_to_promise(available_now: i64, incoming: &[(i64, i64)], waiting: i64) -> Vec<Promise> {
    let mut receipts: Vec<(i64, i64)> =
        incoming.iter().filter(|(_, q)| *q > 0).map(|(d, q)| ((*d).max(0), *q)).collect();
    receipts.sort();
    let mut promises = vec![Promise { day: 0, quantity: available_now - waiting }];
    for (day, quantity) in receipts {
        let last = promises.last().map(|p| p.quantity).unwrap_or(0);
        match promises.last_mut() {
            Some(p) if p.day == day => p.quantity += quantity,
            _ => promises.push(Promise { day, quantity: last + quantity }),
        }
    }
    for p in &mut promises {
        p.quantity = p.quantity.max(0);
    }
    promises
}

/// The first day on which `quantity` can be promised, if supply is planned for it.
pub fn earliest_day(promises: &[Promise], quantity: i64) -> Option<i64> {
    promises.iter().find(|p| p.quantity >= quantity).map(|p| p.day)
}

/// How a forecast was made.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    MovingAverage,
    /// Holt's linear trend.
    ExponentialSmoothing,
    /// Holt-Winters, additive weekly season.
    SeasonalSmoothing,
}

impl Method {
    pub fn as_str(self) -> &'static str {
        match self {
            Method::MovingAverage => "moving_average",
            Method::ExponentialSmoothing => "exponential_smoothing",
            Method::SeasonalSmoothing => "seasonal_smoothing",
        }
    }
}

/// Demand expected over the next `days` days from a daily sales history (oldest first):
/// Holt-Winters with a weekly season from three full weeks of history, Holt's trend from
/// one week, a plain average below that.
pub fn forecast(history: &[f64], days: usize) -> (f64, Method) {
    const SEASON: usize = 7;
    if history.len() >= 3 * SEASON {
        (holt_winters(history, SEASON, days), Method::SeasonalSmoothing)
    } else if history.len() >= SEASON {
        (holt(history, days), Method::ExponentialSmoothing)
    } else {
        let mean = if history.is_empty() { 0.0 } else { history.iter().sum::<f64>() / history.len() as f64 };
        (mean * days as f64, Method::MovingAverage)
    }
}

/// The average of the last `window` days.
pub fn moving_average(history: &[f64], window: usize) -> f64 {
    let tail = &history[history.len().saturating_sub(window)..];
    if tail.is_empty() { 0.0 } else { tail.iter().sum::<f64>() / tail.len() as f64 }
}

fn holt(history: &[f64], days: usize) -> f64 {
    let (alpha, beta) = (0.3, 0.1);
    let mut level = history[0];
    let mut trend = (history[history.len().min(7) - 1] - history[0]) / (history.len().min(7) - 1).max(1) as f64;
    for &y in &history[1..] {
        let previous = level;
        level = alpha * y + (1.0 - alpha) * (level + trend);
        trend = beta * (level - previous) + (1.0 - beta) * trend;
    }
    (1..=days).map(|h| (level + h as f64 * trend).max(0.0)).sum()
}

fn holt_winters(history: &[f64], season: usize, days: usize) -> f64 {
    let (alpha, beta, gamma) = (0.2, 0.05, 0.3);
    let weeks = history.len() / season;
    let mean = |week: usize| history[week * season..(week + 1) * season].iter().sum::<f64>() / season as f64;
    let mut level = mean(0);
    let mut trend = (mean(weeks - 1) - mean(0)) / ((weeks - 1) * season) as f64;
    // Initial seasonal offsets: each weekday's average distance from its week's mean.
    let mut seasonal: Vec<f64> = (0..season)
        .map(|d| (0..weeks).map(|w| history[w * season + d] - mean(w)).sum::<f64>() / weeks as f64)
        .collect();
    for (t, &y) in history.iter().enumerate() {
        let s = seasonal[t % season];
        let previous = level;
        level = alpha * (y - s) + (1.0 - alpha) * (level + trend);
        trend = beta * (level - previous) + (1.0 - beta) * trend;
        seasonal[t % season] = gamma * (y - level) + (1.0 - gamma) * s;
    }
    let n = history.len();
    (1..=days).map(|h| (level + h as f64 * trend + seasonal[(n + h - 1) % season]).max(0.0)).sum()
}

/// How much to order: enough for the demand over the lead time plus safety stock, and never
/// less than what brings stock back to the reorder point; less what is available and
/// already coming; rounded up to whole units and to the minimum order quantity.
pub fn suggested_quantity(
    demand_over_lead_time: f64,
    safety_stock: i64,
    reorder_point: i64,
    available: i64,
    incoming: i64,
    min_order: i64,
) -> i64 {
    let demand = Decimal::from_f64(demand_over_lead_time).unwrap_or_default().ceil().to_i64().unwrap_or(0);
    let need = (demand + safety_stock).max(reorder_point) - available - incoming;
    if need <= 0 { 0 } else { need.max(min_order.max(1)) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ten_on_hand_eight_reserved_and_twenty_in_five_days_promise_twelve_in_five_days() {
        let promises = available_to_promise(10 - 8, &[(5, 20)], 0);
        assert_eq!(promises, [Promise { day: 0, quantity: 2 }, Promise { day: 5, quantity: 22 }]);
        assert_eq!(earliest_day(&promises, 12), Some(5));
        assert_eq!(earliest_day(&promises, 2), Some(0));
        assert_eq!(earliest_day(&promises, 23), None);
    }

    #[test]
    fn backorders_are_served_from_supply_first() {
        let promises = available_to_promise(0, &[(3, 10), (9, 10)], 12);
        assert_eq!(
            promises,
            [Promise { day: 0, quantity: 0 }, Promise { day: 3, quantity: 0 }, Promise { day: 9, quantity: 8 }]
        );
    }

    /// 20 a day, rising 0.3 a day, with a weekly pattern (busy Mondays, quiet Sundays).
    fn demand(day: usize) -> f64 {
        const WEEK: [f64; 7] = [8.0, 4.0, 1.0, 0.0, -2.0, -4.0, -7.0];
        20.0 + 0.3 * day as f64 + WEEK[day % 7]
    }

    #[test]
    fn a_trend_and_a_weekly_pattern_are_forecast_within_five_percent() {
        let history: Vec<f64> = (0..56).map(demand).collect();
        let truth: f64 = (56..70).map(demand).sum();
        let (predicted, method) = forecast(&history, 14);
        assert_eq!(method, Method::SeasonalSmoothing);
        assert!((predicted - truth).abs() / truth < 0.05, "predicted {predicted:.1}, true {truth:.1}");
        // The same history without its season or trend is what a plain average sees.
        assert!((moving_average(&history, 28) * 14.0 - truth).abs() / truth > 0.05);
    }

    #[test]
    fn short_histories_fall_back_to_simpler_methods() {
        assert_eq!(forecast(&[5.0, 5.0, 5.0], 4), (20.0, Method::MovingAverage));
        let (trend, method) = forecast(&(0..10).map(|d| 10.0 + d as f64).collect::<Vec<_>>(), 2);
        assert_eq!(method, Method::ExponentialSmoothing);
        assert!((trend - 41.0).abs() < 2.0, "{trend}");
    }

    #[test]
    fn the_suggestion_covers_lead_time_demand_and_safety_stock_less_what_is_there() {
        assert_eq!(suggested_quantity(70.2, 10, 0, 30, 20, 1), 31);
        assert_eq!(suggested_quantity(70.0, 10, 0, 100, 0, 50), 0);
        assert_eq!(suggested_quantity(10.0, 0, 0, 5, 0, 24), 24, "the minimum order quantity");
        assert_eq!(suggested_quantity(0.0, 5, 20, 12, 0, 1), 8, "back up to the reorder point with no sales history");
    }
}

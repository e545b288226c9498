//! `/`: today's and this month's orders and revenue, orders by status, low stock, work
//! waiting, and a 30-day chart drawn as SVG on the server.

use super::session::Staff;
use super::{Frame, show};
use crate::AppState;
use askama::Template;
use axum::Router;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::Response;
use axum::routing::get;
use ordo_app::reports::{self, Dashboard};

pub fn router() -> Router<AppState> {
    Router::new().route("/", get(dashboard))
}

pub struct Bar {
    pub x: i64,
    pub y: i64,
    pub height: i64,
    pub label: String,
    pub title: String,
}

#[derive(Template)]
#[template(path = "dashboard.html")]
struct DashboardPage {
    page: Frame,
    d: Dashboard,
    revenue_today: String,
    revenue_month: String,
    bars: Vec<Bar>,
}

async fn dashboard(State(state): State<AppState>, staff: Staff, headers: HeaderMap) -> Response {
    let now = super::now();
    let d = match state.db.read(move |tx| reports::dashboard(tx, now)).await {
        Ok(d) => d,
        Err(error) => return super::failed(&staff, error.into()),
    };
    let i18n = staff.i18n;
    let money_list = |list: &[(ordo_domain::Currency, rust_decimal::Decimal)]| {
        if list.is_empty() {
            "—".to_string()
        } else {
            list.iter().map(|(c, a)| i18n.money(a, c)).collect::<Vec<_>>().join(" · ")
        }
    };
    let most = d.days.iter().map(|(_, n, _)| *n).max().unwrap_or(0).max(1);
    let bars = d
        .days
        .iter()
        .enumerate()
        .map(|(i, (day, count, revenue))| {
            let height = count * 100 / most;
            let date = i18n.datetime(day);
            // The chart's days are the business's days (the reports' time zone).
            let revenue = d.main_currency.map(|c| i18n.money(revenue, &c)).unwrap_or_default();
            let local = ordo_domain::Timestamp(day.0 + d.utc_offset).to_rfc3339();
            let short = format!("{}/{}", local[5..7].trim_start_matches('0'), local[8..10].trim_start_matches('0'));
            Bar {
                x: i as i64 * 20 + 2,
                y: 110 - height,
                height,
                label: if i % 5 == 0 { short } else { String::new() },
                title: format!("{} · {count} · {revenue}", date.split(' ').next().unwrap_or("")),
            }
        })
        .collect();
    let page = DashboardPage {
        revenue_today: money_list(&d.revenue_today),
        revenue_month: money_list(&d.revenue_month),
        page: Frame::new(&staff, "dashboard"),
        d,
        bars,
    };
    show(&page, &staff, &headers)
}

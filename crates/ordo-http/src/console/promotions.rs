//! Promotions in the console: what runs now, with its uses, a form for a new one, and a
//! switch. The same use cases as `/api/v1/promotions`.

use super::session::{Staff, redirect_with_flash};
use super::{Frame, failed, render, show};
use crate::AppState;
use crate::error::ApiError;
use askama::Template;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use ordo_app::common::AmountInput;
use ordo_app::promotions::{self, MemberTier, NewPromotion, Promotion, PromotionChange};
use ordo_domain::auth::Permission;

pub fn router() -> Router<AppState> {
    Router::new().route("/promotions", get(list).post(create)).route("/promotions/{id}/active", post(switch))
}

#[derive(Template)]
#[template(path = "promotions.html")]
struct PromotionsPage {
    page: Frame,
    promotions: Vec<Promotion>,
    tiers: Vec<MemberTier>,
    error: Option<String>,
}

impl PromotionsPage {
    /// "10 %", "¥5.00", "buy 4 get 1", in the page's language.
    fn benefit(&self, p: &Promotion) -> String {
        match (p.percent, p.amount, p.buy_quantity, p.get_quantity) {
            (Some(percent), _, _, _) => format!("{percent} %"),
            (_, Some(amount), _, _) => p.currency.map(|c| self.page.i18n.money(&amount, &c)).unwrap_or_default(),
            (_, _, Some(buy), Some(get)) => {
                self.page.i18n.tf("promotions.buy_get", &[("buy", &buy.to_string()), ("get", &get.to_string())])
            }
            _ => String::new(),
        }
    }

    fn when(&self, p: &Promotion) -> String {
        let day = |t: Option<ordo_domain::Timestamp>| t.map(|t| self.page.i18n.datetime(&t)).unwrap_or_default();
        match (p.starts_at, p.ends_at) {
            (None, None) => String::new(),
            (s, e) => format!("{} – {}", day(s), day(e)),
        }
    }
}

async fn page(state: &AppState, staff: &Staff, error: Option<String>) -> Result<PromotionsPage, ApiError> {
    Ok(PromotionsPage {
        page: Frame::new(staff, "promotions"),
        promotions: state.db.read(|tx| promotions::list_promotions(tx, None)).await?,
        tiers: state.db.read(promotions::list_member_tiers).await?,
        error,
    })
}

async fn list(State(state): State<AppState>, staff: Staff, headers: HeaderMap) -> Response {
    if let Err(page) = staff.require(Permission::Read) {
        return page;
    }
    match page(&state, &staff, None).await {
        Ok(view) => show(&view, &staff, &headers),
        Err(error) => failed(&staff, error),
    }
}

#[derive(serde::Deserialize)]
struct PromotionForm {
    code: String,
    name: String,
    scope: String,
    benefit: String,
    /// Percent, amount or "buy+get" depending on the benefit.
    value: String,
    #[serde(default)]
    min_order: String,
    #[serde(default)]
    skus: String,
    #[serde(default)]
    customer_group: String,
    #[serde(default)]
    coupon_code: String,
    #[serde(default)]
    usage_limit: String,
}

impl PromotionForm {
    fn to_input(&self) -> NewPromotion {
        let text = |s: &str| Some(s.trim().to_string()).filter(|s| !s.is_empty());
        let value = self.value.trim();
        let (buy, get) =
            value.split_once('+').map_or((None, None), |(b, g)| (b.trim().parse().ok(), g.trim().parse().ok()));
        let money = self.benefit == "amount_off" || !self.min_order.trim().is_empty();
        NewPromotion {
            code: text(&self.code),
            name: text(&self.name),
            scope: text(&self.scope),
            benefit: text(&self.benefit),
            percent: (self.benefit == "percent_off").then(|| AmountInput(value.to_string())),
            amount: (self.benefit == "amount_off").then(|| AmountInput(value.to_string())),
            buy_quantity: buy,
            get_quantity: get,
            // The console sells in the business's currency; the API takes any.
            currency: money.then(|| "CNY".to_string()),
            min_order: text(&self.min_order).map(AmountInput),
            skus: self.skus.split([',', ' ']).filter(|s| !s.trim().is_empty()).map(|s| s.trim().to_string()).collect(),
            customer_group: text(&self.customer_group),
            coupon_code: text(&self.coupon_code),
            usage_limit: self.usage_limit.trim().parse().ok(),
            ..Default::default()
        }
    }
}

async fn create(
    State(state): State<AppState>,
    staff: Staff,
    headers: HeaderMap,
    Form(form): Form<PromotionForm>,
) -> Response {
    let ctx = match staff.require(Permission::CatalogManage) {
        Ok(ctx) => ctx,
        Err(page) => return page,
    };
    let input = form.to_input();
    match state.db.write(move |tx| promotions::create_promotion(tx, &ctx, &input)).await {
        Ok(p) => {
            redirect_with_flash("/promotions", &staff.i18n.tf("promotions.created", &[("code", &p.code)]), &headers)
        }
        Err(promotions::PromotionError::Invalid(invalid)) => {
            match page(&state, &staff, Some(invalid.to_string())).await {
                Ok(view) => (StatusCode::UNPROCESSABLE_ENTITY, render(&view)).into_response(),
                Err(error) => failed(&staff, error),
            }
        }
        Err(error) => failed(&staff, error.into()),
    }
}

#[derive(serde::Deserialize)]
struct SwitchForm {
    active: String,
}

async fn switch(
    State(state): State<AppState>,
    staff: Staff,
    headers: HeaderMap,
    Path(id): Path<i64>,
    Form(form): Form<SwitchForm>,
) -> Response {
    let ctx = match staff.require(Permission::CatalogManage) {
        Ok(ctx) => ctx,
        Err(page) => return page,
    };
    let change = PromotionChange { active: Some(form.active == "true"), ..Default::default() };
    match state.db.write(move |tx| promotions::update_promotion(tx, &ctx, id, None, &change)).await {
        Ok(p) => {
            let key = if p.active { "promotions.switched_on" } else { "promotions.switched_off" };
            redirect_with_flash("/promotions", &staff.i18n.tf(key, &[("code", &p.code)]), &headers)
        }
        Err(error) => failed(&staff, error.into()),
    }
}

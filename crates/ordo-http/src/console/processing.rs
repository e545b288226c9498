//! Order processing pages: the approvals inbox, the exception queue, the rules editor
//! (with a test run and the order settings), order edits, and the decisions on an order.

use super::session::{Staff, redirect_with_flash};
use super::{Frame, failed, not_found, show};
use crate::AppState;
use askama::Template;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::Response;
use axum::routing::{get, post};
use ordo_app::approvals;
use ordo_app::common::AmountInput;
use ordo_app::db::Tx;
use ordo_app::orders::{
    self, ApprovalStepView, Decision, NewOrderLine, Order, OrderError, OrderFilter, OrderPatch, ReasonInput,
};
use ordo_app::rules::{self, Rule, RuleError, RuleInput, RuleRevision, RuleTest, RuleTestResult};
use ordo_app::settings::{self, OrderPolicy, OrderPolicyInput};
use ordo_app::{Ctx, PageRequest};
use ordo_domain::auth::{Permission, Role};
use ordo_domain::customers::AddressInput;
use ordo_domain::rules::RuleAction;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/approvals", get(inbox))
        .route("/exceptions", get(exceptions))
        .route("/rules", get(rules_page).post(create_rule))
        .route("/rules/settings", post(save_settings))
        .route("/rules/{id}", get(rule_page).post(update_rule))
        .route("/rules/{id}/test", post(test_rule))
        .route("/rules/{id}/delete", post(delete_rule))
        .route("/orders/{id}/edit", get(edit_page).post(edit))
        .route("/orders/{id}/approve", post(approve))
        .route("/orders/{id}/reject", post(reject))
        .route("/orders/{id}/release", post(release))
        .route("/orders/{id}/hold", post(hold))
        .route("/orders/{id}/submit", post(submit))
}

/// The form's fields, in order, repeated names kept.
use super::form_fields as fields;

fn field<'a>(fields: &'a [(String, String)], name: &str) -> Option<&'a str> {
    fields.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
}

fn all<'a>(fields: &'a [(String, String)], name: &str) -> Vec<&'a str> {
    fields.iter().filter(|(k, _)| k == name).map(|(_, v)| v.as_str()).collect()
}

fn non_empty(text: Option<&str>) -> Option<String> {
    text.map(str::trim).filter(|t| !t.is_empty()).map(str::to_string)
}

/// Where to go after a decision: back to the page it was made on.
fn back(fields: &[(String, String)], id: i64) -> String {
    match field(fields, "back") {
        Some(to @ ("/approvals" | "/exceptions")) => to.to_string(),
        _ => format!("/orders/{id}"),
    }
}

type OrderWork = Box<dyn FnMut(&mut dyn Tx, &Ctx, i64) -> Result<Order, OrderError> + Send>;

/// Runs one decision on an order and returns to where it was made, with a flash.
async fn act(
    state: AppState,
    staff: Staff,
    headers: HeaderMap,
    (permission, flash): (Permission, &'static str),
    (raw_id, body): (String, Bytes),
    make: impl FnOnce(&[(String, String)]) -> OrderWork,
) -> Response {
    let ctx = match staff.require(permission) {
        Ok(ctx) => ctx,
        Err(page) => return page,
    };
    let Ok(id) = raw_id.parse::<i64>() else { return not_found(&staff) };
    let form = fields(&body);
    let to = back(&form, id);
    let mut work = make(&form);
    match state.db.write(move |tx| work(tx, &ctx, id)).await {
        Ok(order) => redirect_with_flash(
            &to,
            &staff
                .i18n
                .tf(flash, &[("number", &order.number), ("status", staff.i18n.t(&format!("status.{}", order.status)))]),
            &headers,
        ),
        Err(error) => failed(&staff, error.into()),
    }
}

async fn approve(
    State(state): State<AppState>,
    staff: Staff,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    let roles = staff.user.roles.clone();
    act(state, staff, headers, (Permission::OrdersApprove, "approvals.approved_flash"), (id, body), move |form| {
        let decision = Decision { comment: non_empty(field(form, "comment")), cancel: None };
        Box::new(move |tx, ctx, id| approvals::approve_order(tx, ctx, &roles, id, None, &decision))
    })
    .await
}

async fn reject(
    State(state): State<AppState>,
    staff: Staff,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    let roles = staff.user.roles.clone();
    act(state, staff, headers, (Permission::OrdersApprove, "approvals.rejected_flash"), (id, body), move |form| {
        let decision =
            Decision { comment: non_empty(field(form, "comment")), cancel: Some(field(form, "cancel") == Some("on")) };
        Box::new(move |tx, ctx, id| approvals::reject_order(tx, ctx, &roles, id, None, &decision))
    })
    .await
}

async fn release(
    State(state): State<AppState>,
    staff: Staff,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    act(state, staff, headers, (Permission::OrdersRelease, "exceptions.released_flash"), (id, body), |form| {
        let input = ReasonInput { reason: non_empty(field(form, "reason")) };
        Box::new(move |tx, ctx, id| orders::release_order(tx, ctx, id, None, &input))
    })
    .await
}

async fn hold(
    State(state): State<AppState>,
    staff: Staff,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    act(state, staff, headers, (Permission::OrdersEdit, "exceptions.held_flash"), (id, body), |form| {
        let input = ReasonInput { reason: non_empty(field(form, "reason")) };
        Box::new(move |tx, ctx, id| orders::hold_order(tx, ctx, id, None, &input))
    })
    .await
}

async fn submit(
    State(state): State<AppState>,
    staff: Staff,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    act(state, staff, headers, (Permission::OrdersCreate, "orders.submitted_flash"), (id, body), |_| {
        Box::new(move |tx, ctx, id| orders::submit_order(tx, ctx, id, None))
    })
    .await
}

#[derive(Template)]
#[template(path = "approvals.html")]
struct InboxPage {
    page: Frame,
    steps: Vec<ApprovalStepView>,
    orders: Vec<Order>,
}

impl InboxPage {
    fn order(&self, id: &i64) -> Option<&Order> {
        self.orders.iter().find(|o| o.id == *id)
    }
}

async fn inbox(State(state): State<AppState>, staff: Staff, headers: HeaderMap) -> Response {
    let roles = staff.user.roles.clone();
    let loaded = state
        .db
        .read(move |tx| {
            let steps = approvals::approval_inbox(tx, &roles)?.items;
            let mut orders = Vec::new();
            for step in &steps {
                if !orders.iter().any(|o: &Order| o.id == step.order_id) {
                    orders.push(orders::get_order(tx, step.order_id)?);
                }
            }
            Ok::<_, OrderError>((steps, orders))
        })
        .await;
    match loaded {
        Ok((steps, orders)) => {
            show(&InboxPage { page: Frame::new(&staff, "approvals"), steps, orders }, &staff, &headers)
        }
        Err(error) => failed(&staff, error.into()),
    }
}

#[derive(Template)]
#[template(path = "exceptions.html")]
struct ExceptionsPage {
    page: Frame,
    orders: Vec<Order>,
    may_release: bool,
    /// Parcels lost, damaged or late, with their open claims.
    claims: Vec<ordo_app::fulfillment::Claim>,
}

async fn exceptions(State(state): State<AppState>, staff: Staff, headers: HeaderMap) -> Response {
    let filter = OrderFilter { status: Some("on_hold".into()), sort: Some("oldest".into()), ..Default::default() };
    let found = state
        .db
        .read(move |tx| {
            let page = orders::list_orders(tx, &filter, PageRequest { limit: 200, before_id: None })?;
            let claims = ordo_app::fulfillment::list_claims(tx, None).map_err(|e| match e {
                ordo_app::fulfillment::FulfillmentError::Db(e) => orders::OrderError::Db(e),
                other => orders::OrderError::Conflict(other.to_string()),
            })?;
            Ok::<_, orders::OrderError>((page, claims.items))
        })
        .await;
    match found {
        Ok((page, claims)) => {
            let may_release = staff.may(Permission::OrdersRelease);
            let claims = claims.into_iter().filter(|c| c.status == "open" || c.status == "filed").collect();
            show(
                &ExceptionsPage { page: Frame::new(&staff, "exceptions"), orders: page.items, may_release, claims },
                &staff,
                &headers,
            )
        }
        Err(error) => failed(&staff, error.into()),
    }
}

/// One action row of the rule form, as typed.
#[derive(Debug, Clone, Default)]
pub struct ActionRow {
    pub kind: String,
    pub role: String,
    pub step: String,
    pub text: String,
    pub warehouse: String,
}

impl ActionRow {
    fn of(action: &RuleAction) -> ActionRow {
        match action {
            RuleAction::RequireApproval { role, step } => ActionRow {
                kind: "require_approval".into(),
                role: role.as_str().into(),
                step: step.map(|s| s.to_string()).unwrap_or_default(),
                ..Default::default()
            },
            RuleAction::Hold { reason } => {
                ActionRow { kind: "hold".into(), text: reason.clone(), ..Default::default() }
            }
            RuleAction::Tag { tag } => ActionRow { kind: "tag".into(), text: tag.clone(), ..Default::default() },
            RuleAction::Route { warehouse, department } => ActionRow {
                kind: "route".into(),
                warehouse: warehouse.clone().unwrap_or_default(),
                text: department.clone().unwrap_or_default(),
                ..Default::default()
            },
            RuleAction::Notify { role } => {
                ActionRow { kind: "notify".into(), role: role.as_str().into(), ..Default::default() }
            }
            RuleAction::Priority { level } => {
                ActionRow { kind: "priority".into(), text: level.to_string(), ..Default::default() }
            }
            RuleAction::Ship { carrier, service } => ActionRow {
                kind: "ship".into(),
                text: match service {
                    Some(service) => format!("{carrier}/{service}"),
                    None => carrier.clone(),
                },
                ..Default::default()
            },
        }
    }

    /// The action this row describes; a row without a kind is no action.
    fn action(&self) -> Option<Result<RuleAction, String>> {
        let role = || Role::parse(&self.role).ok_or_else(|| format!("choose a role for {}", self.kind));
        let text = non_empty(Some(&self.text));
        Some(match self.kind.as_str() {
            "" => return None,
            "require_approval" => role().and_then(|role| {
                let step = match self.step.trim() {
                    "" => None,
                    s => Some(s.parse::<u32>().map_err(|_| "the step must be a number from 1 to 9".to_string())?),
                };
                Ok(RuleAction::RequireApproval { role, step })
            }),
            "hold" => Ok(RuleAction::Hold { reason: text.unwrap_or_default() }),
            "tag" => Ok(RuleAction::Tag { tag: text.unwrap_or_default() }),
            "route" => Ok(RuleAction::Route { warehouse: non_empty(Some(&self.warehouse)), department: text }),
            "notify" => role().map(|role| RuleAction::Notify { role }),
            "priority" => text
                .and_then(|t| t.parse::<i64>().ok())
                .map(|level| RuleAction::Priority { level })
                .ok_or_else(|| "a priority needs a whole number, -100 to 100".to_string()),
            "ship" => match text.as_deref().map(|t| t.split_once('/')) {
                Some(Some((carrier, service))) => {
                    Ok(RuleAction::Ship { carrier: carrier.trim().into(), service: Some(service.trim().into()) })
                }
                Some(None) => Ok(RuleAction::Ship { carrier: text.unwrap_or_default(), service: None }),
                None => Err("name a carrier, or CARRIER/SERVICE".to_string()),
            },
            other => Err(format!("unknown action {other}")),
        })
    }
}

/// The rule form as typed.
#[derive(Debug, Clone, Default)]
pub struct RuleDraft {
    pub name: String,
    pub condition: String,
    pub priority: String,
    pub enabled: bool,
    pub actions: Vec<ActionRow>,
}

const ACTION_ROWS: usize = 4;

impl RuleDraft {
    fn blank() -> RuleDraft {
        RuleDraft {
            priority: "100".into(),
            enabled: true,
            actions: vec![ActionRow::default(); ACTION_ROWS],
            ..Default::default()
        }
    }

    fn of(rule: &Rule) -> RuleDraft {
        let mut actions: Vec<ActionRow> = rule.actions.iter().map(ActionRow::of).collect();
        actions.resize(actions.len().max(ACTION_ROWS), ActionRow::default());
        RuleDraft {
            name: rule.name.clone(),
            condition: rule.condition.clone(),
            priority: rule.priority.to_string(),
            enabled: rule.enabled,
            actions,
        }
    }

    fn parse(form: &[(String, String)]) -> RuleDraft {
        let (kinds, roles, steps, texts, warehouses) =
            (all(form, "kind"), all(form, "role"), all(form, "step"), all(form, "text"), all(form, "warehouse"));
        let at = |v: &Vec<&str>, i: usize| v.get(i).map(|s| s.to_string()).unwrap_or_default();
        RuleDraft {
            name: field(form, "name").unwrap_or("").to_string(),
            condition: field(form, "condition").unwrap_or("").to_string(),
            priority: field(form, "priority").unwrap_or("").to_string(),
            enabled: field(form, "enabled") == Some("on"),
            actions: (0..kinds.len())
                .map(|i| ActionRow {
                    kind: at(&kinds, i),
                    role: at(&roles, i),
                    step: at(&steps, i),
                    text: at(&texts, i),
                    warehouse: at(&warehouses, i),
                })
                .collect(),
        }
    }

    /// The input for the service, or the rows' own errors.
    fn input(&self) -> Result<RuleInput, Vec<String>> {
        let mut actions = Vec::new();
        let mut errors = Vec::new();
        for row in &self.actions {
            match row.action() {
                Some(Ok(action)) => actions.push(action),
                Some(Err(e)) => errors.push(e),
                None => {}
            }
        }
        let priority = match self.priority.trim() {
            "" => None,
            p => match p.parse::<i64>() {
                Ok(p) => Some(p),
                Err(_) => {
                    errors.push("priority: must be a whole number".into());
                    None
                }
            },
        };
        if !errors.is_empty() {
            return Err(errors);
        }
        Ok(RuleInput {
            name: Some(self.name.clone()),
            condition: Some(self.condition.clone()),
            actions: Some(actions),
            priority,
            enabled: Some(self.enabled),
        })
    }
}

#[derive(Template)]
#[template(path = "rules.html")]
struct RulesPage {
    page: Frame,
    rules: Vec<Rule>,
    draft: RuleDraft,
    errors: Vec<String>,
    policy: OrderPolicy,
    may_settings: bool,
    roles: &'static [Role],
}

impl RulesPage {
    fn describe(&self, action: &RuleAction) -> String {
        let i18n = &self.page.i18n;
        let row = ActionRow::of(action);
        let mut text = i18n.t(&format!("action.{}", row.kind)).to_string();
        let role = if row.role.is_empty() { String::new() } else { i18n.t(&format!("role.{}", row.role)).to_string() };
        for part in [role, row.step, row.text, row.warehouse] {
            if !part.is_empty() {
                text.push_str(&format!(" · {part}"));
            }
        }
        text
    }
}

fn rule_errors(error: RuleError) -> Result<Vec<String>, RuleError> {
    match error {
        RuleError::Invalid(invalid) => Ok(invalid.0.iter().map(|e| format!("{}: {}", e.field, e.message)).collect()),
        other => Err(other),
    }
}

async fn show_rules(
    state: AppState,
    staff: Staff,
    headers: HeaderMap,
    draft: RuleDraft,
    errors: Vec<String>,
) -> Response {
    let loaded = state
        .db
        .read(|tx| {
            let policy = settings::order_policy(tx)?;
            Ok::<_, RuleError>((rules::list_rules(tx)?.items, policy))
        })
        .await;
    match loaded {
        Ok((list, policy)) => {
            let page = RulesPage {
                page: Frame::new(&staff, "rules"),
                rules: list,
                draft,
                errors,
                policy,
                may_settings: staff.may(Permission::SettingsManage),
                roles: Role::ALL,
            };
            show(&page, &staff, &headers)
        }
        Err(error) => failed(&staff, error.into()),
    }
}

async fn rules_page(State(state): State<AppState>, staff: Staff, headers: HeaderMap) -> Response {
    if let Err(page) = staff.require(Permission::RulesManage) {
        return page;
    }
    show_rules(state, staff, headers, RuleDraft::blank(), Vec::new()).await
}

async fn create_rule(State(state): State<AppState>, staff: Staff, headers: HeaderMap, body: Bytes) -> Response {
    let ctx = match staff.require(Permission::RulesManage) {
        Ok(ctx) => ctx,
        Err(page) => return page,
    };
    let draft = RuleDraft::parse(&fields(&body));
    let input = match draft.input() {
        Ok(input) => input,
        Err(errors) => return show_rules(state, staff, headers, draft, errors).await,
    };
    match state.db.write(move |tx| rules::create_rule(tx, &ctx, &input)).await {
        Ok(rule) => redirect_with_flash(
            &format!("/rules/{}", rule.id),
            &staff.i18n.tf("rules.saved_flash", &[("name", &rule.name)]),
            &headers,
        ),
        Err(error) => match rule_errors(error) {
            Ok(errors) => show_rules(state, staff, headers, draft, errors).await,
            Err(error) => failed(&staff, error.into()),
        },
    }
}

async fn save_settings(State(state): State<AppState>, staff: Staff, headers: HeaderMap, body: Bytes) -> Response {
    let ctx = match staff.require(Permission::SettingsManage) {
        Ok(ctx) => ctx,
        Err(page) => return page,
    };
    let form = fields(&body);
    let minutes = |name: &str| non_empty(field(&form, name)).map(|m| m.parse::<i64>().unwrap_or(-1));
    let auto_cancel = non_empty(field(&form, "auto_cancel_minutes")).map(|m| {
        vec![settings::AutoCancelInput {
            channel: non_empty(field(&form, "auto_cancel_channel")),
            after_minutes: Some(m.parse::<i64>().unwrap_or(-1)),
        }]
    });
    let input = OrderPolicyInput {
        price_tolerance_percent: non_empty(field(&form, "price_tolerance_percent")).map(AmountInput),
        credit_check: Some(field(&form, "credit_check") == Some("on")),
        duplicate_window_minutes: minutes("duplicate_window_minutes"),
        escalate_after_minutes: minutes("escalate_after_minutes"),
        escalate_to: non_empty(field(&form, "escalate_to")),
        reserve_while_waiting: Some(field(&form, "reserve_while_waiting") == Some("on")),
        auto_cancel: auto_cancel.or(Some(Vec::new())),
    };
    match state.db.write(move |tx| settings::update_order_policy(tx, &ctx, &input)).await {
        Ok(_) => redirect_with_flash("/rules", staff.i18n.t("rules.settings_saved"), &headers),
        Err(error) => failed(&staff, error.into()),
    }
}

#[derive(Template)]
#[template(path = "rule_edit.html")]
struct RulePage {
    page: Frame,
    rule: Rule,
    draft: RuleDraft,
    errors: Vec<String>,
    history: Vec<RuleRevision>,
    test_order: String,
    result: Option<RuleTestResult>,
    roles: &'static [Role],
}

impl RulePage {
    fn actions_text(&self, actions: &[RuleAction]) -> String {
        serde_json::to_string(actions).unwrap_or_default()
    }
}

struct RuleView {
    draft: Option<RuleDraft>,
    errors: Vec<String>,
    test_order: String,
    result: Option<RuleTestResult>,
}

async fn show_rule(state: AppState, staff: Staff, headers: HeaderMap, id: i64, view: RuleView) -> Response {
    let loaded = state
        .db
        .read(move |tx| Ok::<_, RuleError>((rules::get_rule(tx, id)?, rules::rule_history(tx, id)?.items)))
        .await;
    match loaded {
        Ok((rule, history)) => {
            let draft = view.draft.unwrap_or_else(|| RuleDraft::of(&rule));
            let page = RulePage {
                page: Frame::new(&staff, "rules"),
                rule,
                draft,
                errors: view.errors,
                history,
                test_order: view.test_order,
                result: view.result,
                roles: Role::ALL,
            };
            show(&page, &staff, &headers)
        }
        Err(RuleError::NotFound(_)) => not_found(&staff),
        Err(error) => failed(&staff, error.into()),
    }
}

async fn rule_page(
    State(state): State<AppState>,
    staff: Staff,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    if let Err(page) = staff.require(Permission::RulesManage) {
        return page;
    }
    let Ok(id) = id.parse::<i64>() else { return not_found(&staff) };
    let view = RuleView { draft: None, errors: Vec::new(), test_order: String::new(), result: None };
    show_rule(state, staff, headers, id, view).await
}

async fn update_rule(
    State(state): State<AppState>,
    staff: Staff,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    let ctx = match staff.require(Permission::RulesManage) {
        Ok(ctx) => ctx,
        Err(page) => return page,
    };
    let Ok(id) = id.parse::<i64>() else { return not_found(&staff) };
    let draft = RuleDraft::parse(&fields(&body));
    let input = match draft.input() {
        Ok(input) => input,
        Err(errors) => {
            let view = RuleView { draft: Some(draft), errors, test_order: String::new(), result: None };
            return show_rule(state, staff, headers, id, view).await;
        }
    };
    match state.db.write(move |tx| rules::update_rule(tx, &ctx, id, None, &input)).await {
        Ok(rule) => redirect_with_flash(
            &format!("/rules/{id}"),
            &staff.i18n.tf("rules.saved_flash", &[("name", &rule.name)]),
            &headers,
        ),
        Err(error) => match rule_errors(error) {
            Ok(errors) => {
                let view = RuleView { draft: Some(draft), errors, test_order: String::new(), result: None };
                show_rule(state, staff, headers, id, view).await
            }
            Err(error) => failed(&staff, error.into()),
        },
    }
}

async fn delete_rule(
    State(state): State<AppState>,
    staff: Staff,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    let ctx = match staff.require(Permission::RulesManage) {
        Ok(ctx) => ctx,
        Err(page) => return page,
    };
    let Ok(id) = id.parse::<i64>() else { return not_found(&staff) };
    match state.db.write(move |tx| rules::delete_rule(tx, &ctx, id)).await {
        Ok(()) => redirect_with_flash("/rules", staff.i18n.t("rules.deleted_flash"), &headers),
        Err(error) => failed(&staff, error.into()),
    }
}

/// "Would this rule fire on order SO-…, and why": by number or id.
async fn test_rule(
    State(state): State<AppState>,
    staff: Staff,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    let ctx = match staff.require(Permission::RulesManage) {
        Ok(ctx) => ctx,
        Err(page) => return page,
    };
    let Ok(id) = id.parse::<i64>() else { return not_found(&staff) };
    let form = fields(&body);
    let typed = field(&form, "order").unwrap_or("").trim().to_string();
    let wanted = typed.clone();
    let outcome = state
        .db
        .read(move |tx| {
            let filter = OrderFilter { q: Some(wanted.clone()), ..Default::default() };
            let found = orders::list_orders(tx, &filter, PageRequest { limit: 5, before_id: None })?;
            let order_id = found
                .items
                .iter()
                .find(|o| o.number.eq_ignore_ascii_case(&wanted))
                .map(|o| o.id)
                .or(wanted.parse().ok());
            match order_id {
                None => Ok(None),
                Some(order_id) => rules::test_rule(tx, id, &RuleTest { order_id: Some(order_id) }, ctx.now).map(Some),
            }
        })
        .await;
    let (result, errors) = match outcome {
        Ok(Some(result)) => (Some(result), Vec::new()),
        Ok(None) | Err(RuleError::Order(OrderError::NotFound(_))) => {
            (None, vec![staff.i18n.tf("rules.no_such_order", &[("order", &typed)])])
        }
        Err(error) => match rule_errors(error) {
            Ok(errors) => (None, errors),
            Err(error) => return failed(&staff, error.into()),
        },
    };
    let view = RuleView { draft: None, errors, test_order: typed, result };
    show_rule(state, staff, headers, id, view).await
}

#[derive(Template)]
#[template(path = "order_edit.html")]
struct EditPage {
    page: Frame,
    order: Order,
    /// (sku, quantity) rows, with room for two more.
    rows: Vec<(String, String)>,
    address: AddressInput,
    requested_delivery_date: String,
    notes: String,
    errors: Vec<String>,
}

fn edit_rows(order: &Order) -> Vec<(String, String)> {
    let mut rows: Vec<(String, String)> = order.lines.iter().map(|l| (l.sku.clone(), l.quantity.to_string())).collect();
    rows.extend([(String::new(), String::new()), (String::new(), String::new())]);
    rows
}

async fn edit_page(
    State(state): State<AppState>,
    staff: Staff,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    if let Err(page) = staff.require(Permission::OrdersEdit) {
        return page;
    }
    let Ok(id) = id.parse::<i64>() else { return not_found(&staff) };
    match state.db.read(move |tx| orders::get_order(tx, id)).await {
        Ok(order) => {
            let a = order.shipping_address.clone();
            let address = AddressInput {
                name: a.as_ref().and_then(|a| a.name.clone()),
                phone: a.as_ref().and_then(|a| a.phone.clone()),
                line1: a.as_ref().map(|a| a.line1.clone()),
                line2: a.as_ref().and_then(|a| a.line2.clone()),
                city: a.as_ref().map(|a| a.city.clone()),
                district: a.as_ref().and_then(|a| a.district.clone()),
                region: a.as_ref().and_then(|a| a.region.clone()),
                postal_code: a.as_ref().and_then(|a| a.postal_code.clone()),
                country: a.as_ref().map(|a| a.country.clone()),
            };
            let page = EditPage {
                page: Frame::new(&staff, "orders"),
                rows: edit_rows(&order),
                requested_delivery_date: order.requested_delivery_date.clone().unwrap_or_default(),
                notes: order.notes.clone().unwrap_or_default(),
                order,
                address,
                errors: Vec::new(),
            };
            show(&page, &staff, &headers)
        }
        Err(OrderError::NotFound(_)) => not_found(&staff),
        Err(error) => failed(&staff, error.into()),
    }
}

async fn edit(
    State(state): State<AppState>,
    staff: Staff,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    let ctx = match staff.require(Permission::OrdersEdit) {
        Ok(ctx) => ctx,
        Err(page) => return page,
    };
    let Ok(id) = id.parse::<i64>() else { return not_found(&staff) };
    let form = fields(&body);
    let (skus, quantities) = (all(&form, "sku"), all(&form, "quantity"));
    let rows: Vec<(String, String)> = skus
        .iter()
        .zip(quantities.iter().chain(std::iter::repeat(&"")))
        .map(|(s, q)| (s.trim().to_string(), q.trim().to_string()))
        .filter(|(s, q)| !s.is_empty() || !q.is_empty())
        .collect();
    let lines: Vec<NewOrderLine> = rows
        .iter()
        .map(|(sku, quantity)| NewOrderLine {
            sku: Some(sku.clone()),
            // An unreadable quantity goes through as 0, which validation names.
            quantity: Some(quantity.parse::<i64>().unwrap_or(0)),
            ..Default::default()
        })
        .collect();
    let address = AddressInput {
        name: non_empty(field(&form, "name")),
        phone: non_empty(field(&form, "phone")),
        line1: non_empty(field(&form, "line1")),
        line2: non_empty(field(&form, "line2")),
        city: non_empty(field(&form, "city")),
        district: non_empty(field(&form, "district")),
        region: non_empty(field(&form, "region")),
        postal_code: non_empty(field(&form, "postal_code")),
        country: non_empty(field(&form, "country")),
    };
    let version = field(&form, "version").and_then(|v| v.parse::<i64>().ok());
    let patch = OrderPatch {
        lines: Some(lines),
        shipping_address: address.line1.as_ref().map(|_| address.clone()),
        requested_delivery_date: non_empty(field(&form, "requested_delivery_date")),
        notes: non_empty(field(&form, "notes")),
        priority: None,
    };
    match state.db.write(move |tx| orders::edit_order(tx, &ctx, id, version, &patch)).await {
        Ok(order) => redirect_with_flash(
            &format!("/orders/{id}"),
            &staff.i18n.tf(
                "orders.edited_flash",
                &[("number", &order.number), ("status", staff.i18n.t(&format!("status.{}", order.status)))],
            ),
            &headers,
        ),
        Err(error) => {
            let api: crate::error::ApiError = error.into();
            if api.status().is_server_error() || api.status() == axum::http::StatusCode::NOT_FOUND {
                return failed(&staff, api);
            }
            let errors = match &api {
                crate::error::ApiError::Order(OrderError::Invalid(invalid)) => {
                    invalid.0.iter().map(|e| format!("{}: {}", e.field, e.message)).collect()
                }
                other => vec![other.to_string()],
            };
            match state.db.read(move |tx| orders::get_order(tx, id)).await {
                Ok(order) => {
                    let mut rows = rows;
                    rows.extend([(String::new(), String::new())]);
                    let page = EditPage {
                        page: Frame::new(&staff, "orders"),
                        order,
                        rows,
                        address,
                        requested_delivery_date: field(&form, "requested_delivery_date").unwrap_or("").to_string(),
                        notes: field(&form, "notes").unwrap_or("").to_string(),
                        errors,
                    };
                    show(&page, &staff, &headers)
                }
                Err(error) => failed(&staff, error.into()),
            }
        }
    }
}

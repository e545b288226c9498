//! `/reports`: one page per area (sales, customers, inventory, operations, finance) with
//! filters, server-drawn charts, the report's table with links to the orders behind each
//! row, CSV/XLSX downloads and a print view. Same service calls as `/api/v1/reports`.

use super::charts::{self, Series};
use super::session::{Staff, redirect_with_flash};
use super::{Frame, failed, show};
use crate::AppState;
use crate::error::ApiError;
use crate::reports::{Format, format_param, respond};
use askama::Template;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::response::Response;
use axum::routing::{get, post};
use ordo_app::reports::{
    self, AbcQuery, Cell, CycleQuery, FinanceQuery, ReportError, ReportKey, RfmQuery, SalesQuery, Table, Tabular,
};
use ordo_domain::auth::Permission;
use ordo_domain::reports::SalesGrouping;
use ordo_domain::time::Date;
use serde::Deserialize;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/reports", get(sales))
        .route("/reports/customers", get(customers))
        .route("/reports/inventory", get(inventory))
        .route("/reports/operations", get(operations))
        .route("/reports/finance", get(finance))
        .route("/reports/settlement", get(settlement))
        .route("/reports/tax", get(tax))
        .route("/reports/tax/rules", post(save_tax_rules))
        .route("/reports/books", get(books))
        .route("/reports/books/rates", post(save_rates))
        .route("/reports/schedules", post(schedule))
}

/// Adds (or replaces) the schedule of one report at one frequency, or removes it: the
/// same settings document `PUT /api/v1/settings/reports` writes.
async fn schedule(State(state): State<AppState>, staff: Staff, headers: HeaderMap, body: Bytes) -> Response {
    let ctx = match staff.require(Permission::SettingsManage) {
        Ok(ctx) => ctx,
        Err(page) => return page,
    };
    let f = super::form_fields(&body);
    let field = |name: &str| super::form_field(&f, name).unwrap_or("").trim().to_string();
    let (report, frequency) = (field("report"), field("frequency"));
    let back = match report.as_str() {
        "sales" => "/reports".to_string(),
        other => format!("/reports/{}", if reports::mailing::REPORTS.contains(&other) { other } else { "" }),
    };
    let remove = field("action") == "remove";
    // The time zone form sends only the offset; the schedules stay as they are.
    let zone = (field("action") == "zone").then(|| field("utc_offset"));
    let recipients: Vec<String> = field("recipients")
        .split([',', ';', ' ', '\n'])
        .map(str::trim)
        .filter(|r| !r.is_empty())
        .map(String::from)
        .collect();
    let language = Some(field("language")).filter(|l| !l.is_empty());
    let saved = state
        .db
        .write(move |tx| {
            let mut current = reports::report_schedules(tx)?;
            if let Some(zone) = &zone {
                current.utc_offset = Some(zone.clone());
                return reports::update_report_schedules(tx, &ctx, &current);
            }
            current.schedules.retain(|s| !(s.report == report && s.frequency == frequency));
            if !remove {
                current.schedules.push(reports::ReportSchedule {
                    report: report.clone(),
                    frequency: frequency.clone(),
                    recipients: recipients.clone(),
                    language: language.clone(),
                });
            }
            reports::update_report_schedules(tx, &ctx, &current)
        })
        .await;
    match saved {
        Ok(_) => super::session::redirect_with_flash(&back, staff.i18n.t("reports.schedule_saved"), &headers),
        Err(error) => failed(&staff, error.into()),
    }
}

/// Every filter of every report page, as text: empty form fields must not fail parsing.
#[derive(Debug, Default, Deserialize, Clone)]
pub struct ReportForm {
    from: Option<String>,
    to: Option<String>,
    group_by: Option<String>,
    compare: Option<String>,
    channel: Option<String>,
    customer_group: Option<String>,
    region: Option<String>,
    salesperson: Option<String>,
    ship_within_hours: Option<String>,
    currency: Option<String>,
    limit: Option<String>,
    order: Option<String>,
    as_of: Option<String>,
    segment: Option<String>,
    warehouse_id: Option<String>,
    class: Option<String>,
    month: Option<String>,
    by: Option<String>,
    format: Option<String>,
}

fn text(value: &Option<String>) -> Option<String> {
    value.as_deref().map(str::trim).filter(|v| !v.is_empty()).map(String::from)
}

impl ReportForm {
    fn number(value: &Option<String>) -> Option<i64> {
        text(value).and_then(|v| v.parse().ok())
    }

    /// The same filters as a query string, for the download links.
    fn query_string(&self) -> String {
        let pairs = [
            ("from", &self.from),
            ("to", &self.to),
            ("group_by", &self.group_by),
            ("compare", &self.compare),
            ("channel", &self.channel),
            ("customer_group", &self.customer_group),
            ("region", &self.region),
            ("salesperson", &self.salesperson),
            ("ship_within_hours", &self.ship_within_hours),
            ("currency", &self.currency),
            ("limit", &self.limit),
            ("order", &self.order),
            ("as_of", &self.as_of),
            ("segment", &self.segment),
            ("warehouse_id", &self.warehouse_id),
            ("class", &self.class),
            ("month", &self.month),
            ("by", &self.by),
        ];
        let mut query = form_urlencoded::Serializer::new(String::new());
        for (name, value) in pairs {
            if let Some(value) = text(value) {
                query.append_pair(name, &value);
            }
        }
        query.finish()
    }

    fn value(&self, name: &str) -> String {
        let v = match name {
            "from" => &self.from,
            "to" => &self.to,
            "group_by" => &self.group_by,
            "compare" => &self.compare,
            "channel" => &self.channel,
            "customer_group" => &self.customer_group,
            "region" => &self.region,
            "salesperson" => &self.salesperson,
            "ship_within_hours" => &self.ship_within_hours,
            "currency" => &self.currency,
            "limit" => &self.limit,
            "order" => &self.order,
            "as_of" => &self.as_of,
            "segment" => &self.segment,
            "warehouse_id" => &self.warehouse_id,
            "class" => &self.class,
            "month" => &self.month,
            "by" => &self.by,
            _ => &None,
        };
        text(v).unwrap_or_default()
    }
}

/// A table cell as shown: amounts and counts right-aligned, an optional link.
pub struct ShownCell {
    pub text: String,
    pub numeric: bool,
}

pub struct ShownRow {
    pub cells: Vec<ShownCell>,
    pub link: Option<String>,
    pub total: bool,
}

/// A further table under the report's own (stock-outs, exceptions, new vs returning).
pub struct Section {
    pub id: String,
    pub title: String,
    pub columns: Vec<String>,
    pub rows: Vec<ShownRow>,
}

#[derive(Template)]
#[template(path = "reports.html")]
struct ReportPage {
    page: Frame,
    tab: &'static str,
    form: ReportForm,
    query: String,
    /// Figures shown as cards above the chart: (label, value).
    figures: Vec<(String, String)>,
    charts: Vec<(String, String)>,
    columns: Vec<String>,
    rows: Vec<ShownRow>,
    sections: Vec<Section>,
    note: String,
    warehouses: Vec<(i64, String)>,
    groupings: Vec<&'static str>,
    channels: Vec<String>,
    /// This report's e-mail schedules, for those who may change them.
    schedules: Vec<reports::ReportSchedule>,
    may_schedule: bool,
    /// The business's time zone the report's days are in, e.g. `UTC+08:00`.
    zone: String,
    /// Settings typed as lines under the report: the tax tab's rules, the books' rates.
    editor: Option<Editor>,
}

/// A textarea of typed lines saved by one button, or shown read-only to those who may not.
struct Editor {
    id: &'static str,
    /// Message keys: `{key}` the title, `{key}_help`, `{key}_save` the button.
    key: &'static str,
    action: &'static str,
    placeholder: &'static str,
    text: String,
    may_edit: bool,
}

impl ReportPage {
    fn zone_note(&self) -> String {
        self.page.i18n.tf("reports.zone_note", &[("zone", &self.zone)])
    }
}

/// Shows a report page with its e-mail schedules filled in.
async fn show_report(state: &AppState, staff: &Staff, headers: &HeaderMap, mut view: ReportPage) -> Response {
    if let Ok(offset) = state.db.read(|tx| Ok::<_, ReportError>(reports::summaries::utc_offset(tx)?)).await {
        view.zone = reports::summaries::zone_name(offset);
    }
    if view.may_schedule {
        let tab = view.tab;
        if let Ok(all) = state.db.read(|tx| Ok::<_, ReportError>(reports::report_schedules(tx)?)).await {
            view.schedules = all.schedules.into_iter().filter(|s| s.report == tab).collect();
        }
    }
    show(&view, staff, headers)
}

fn shown(i18n: &super::i18n::I18n, cell: &Cell) -> ShownCell {
    match cell {
        Cell::Int(n) => ShownCell { text: i18n.count(*n), numeric: true },
        Cell::Amount(d) => ShownCell { text: d.to_string(), numeric: true },
        Cell::Text(t) => ShownCell { text: t.clone(), numeric: false },
        Cell::Empty => ShownCell { text: "—".into(), numeric: true },
    }
}

fn shown_rows(i18n: &super::i18n::I18n, table: &Table, links: &[Option<String>]) -> Vec<ShownRow> {
    table
        .rows
        .iter()
        .enumerate()
        .map(|(i, row)| ShownRow {
            cells: row.iter().map(|c| shown(i18n, c)).collect(),
            link: links.get(i).cloned().flatten(),
            total: row.first() == Some(&Cell::Text("total".into())),
        })
        .collect()
}

/// A section from one of the report's further tables, its headers translated.
fn section(i18n: &super::i18n::I18n, table: &Table, links: &[Option<String>]) -> Section {
    Section {
        id: table.name.clone(),
        title: i18n.t(&format!("reports.section.{}", table.name)).to_string(),
        columns: table.columns.iter().map(|c| i18n.t(&format!("reports.col.{c}")).to_string()).collect(),
        rows: shown_rows(i18n, table, links),
    }
}

/// The report page around a table: translated headers, rows linked to their orders.
#[allow(clippy::too_many_arguments)]
fn page(
    staff: &Staff,
    tab: &'static str,
    form: ReportForm,
    table: &Table,
    links: Vec<Option<String>>,
    figures: Vec<(String, String)>,
    charts: Vec<(String, String)>,
    note: String,
) -> ReportPage {
    let i18n = staff.i18n;
    let columns = table.columns.iter().map(|c| i18n.t(&format!("reports.col.{c}")).to_string()).collect();
    let rows = shown_rows(&i18n, table, &links);
    ReportPage {
        page: Frame::new(staff, "reports"),
        tab,
        query: form.query_string(),
        form,
        figures,
        charts,
        columns,
        rows,
        sections: Vec::new(),
        note,
        warehouses: Vec::new(),
        groupings: SalesGrouping::ALL.iter().map(|g| g.as_str()).collect(),
        channels: Vec::new(),
        schedules: Vec::new(),
        may_schedule: staff.may(Permission::SettingsManage),
        zone: String::new(),
        editor: None,
    }
}

/// Replaces the label column (the second) with the translation of the row's key, where
/// the catalogue has one (tax rates and ledger accounts keep their own labels).
fn relabel(table: &mut Table, prefix: &str, i18n: &super::i18n::I18n) {
    for row in &mut table.rows {
        let Some(Cell::Text(key)) = row.first() else { continue };
        let key = format!("{prefix}{key}");
        let translated = i18n.t(&key);
        if translated != key
            && let Some(label) = row.get_mut(1)
        {
            *label = Cell::Text(translated.to_string());
        }
    }
}

fn number(d: rust_decimal::Decimal) -> f64 {
    d.to_string().parse().unwrap_or(0.0)
}

/// A download of the report, or `None` to show the page.
/// Checks a report's filters against today and runs it; a CSV or XLSX download is answered
/// at once. `Err` is the page to show instead (the problem, or the download).
async fn run_report<P, R>(
    state: &AppState,
    staff: &Staff,
    form: &ReportForm,
    check: impl FnOnce(Date) -> Result<P, ordo_domain::Invalid>,
    run: fn(&mut dyn ordo_app::db::Tx, &P) -> Result<R, ReportError>,
) -> Result<R, Response>
where
    P: Send + 'static,
    R: serde::Serialize + Tabular + Send + 'static,
{
    let today = crate::reports::today(state).await.map_err(|error| failed(staff, error))?;
    let params = check(today).map_err(|invalid| failed(staff, invalid.into()))?;
    let report = state.db.read(move |tx| run(tx, &params)).await.map_err(|error| failed(staff, error.into()))?;
    match download(form, report) {
        Ok(Ok(response)) => Err(response),
        Ok(Err(report)) => Ok(report),
        Err(error) => Err(failed(staff, error)),
    }
}

fn download<T: serde::Serialize + Tabular>(form: &ReportForm, report: T) -> Result<Result<Response, T>, ApiError> {
    match format_param(form.format.as_deref())? {
        Format::Json => Ok(Err(report)),
        format => respond(report, format).map(Ok),
    }
}

async fn sales(
    State(state): State<AppState>,
    staff: Staff,
    headers: HeaderMap,
    Query(form): Query<ReportForm>,
) -> Response {
    let query = SalesQuery {
        from: text(&form.from),
        to: text(&form.to),
        group_by: text(&form.group_by),
        compare: text(&form.compare),
        channel: text(&form.channel),
        customer_group: text(&form.customer_group),
        region: text(&form.region),
        salesperson: text(&form.salesperson),
        currency: text(&form.currency),
        limit: ReportForm::number(&form.limit),
        order: text(&form.order),
        format: None,
    };
    let mut report = match run_report(&state, &staff, &form, |today| query.check(today), reports::sales).await {
        Ok(report) => report,
        Err(page) => return page,
    };
    let i18n = staff.i18n;
    // Customers with no region or salesperson: a row that says so rather than a blank.
    for row in report.rows.iter_mut().filter(|r| r.label.is_empty()) {
        row.label = i18n.t("reports.unassigned").to_string();
    }
    let currency = ordo_domain::Currency::parse(&report.currency).unwrap_or(ordo_domain::Currency::CNY);
    let t = &report.totals;
    let mut figures = vec![
        (i18n.t("reports.col.revenue").to_string(), i18n.money(&t.revenue, &currency)),
        (i18n.t("reports.col.orders").to_string(), i18n.count(t.orders)),
        (i18n.t("reports.col.units").to_string(), i18n.count(t.units)),
        (i18n.t("reports.col.average_order_value").to_string(), i18n.money(&t.average_order_value, &currency)),
    ];
    if let Some(change) = t.revenue_change {
        figures.push((i18n.t("reports.col.revenue_change").to_string(), format!("{change} %")));
    }
    let chart_label = i18n.t("reports.chart_revenue").to_string();
    let mut charts_shown = Vec::new();
    if report.group_by.is_calendar() {
        let labels: Vec<String> = report.rows.iter().map(|r| r.label.clone()).collect();
        let titles = |pick: &dyn Fn(&reports::SalesRow) -> rust_decimal::Decimal| {
            report.rows.iter().map(|r| format!("{} · {}", r.label, i18n.money(&pick(r), &currency))).collect()
        };
        let mut series = vec![Series {
            name: i18n.t("reports.this_period").to_string(),
            values: report.rows.iter().map(|r| number(r.revenue)).collect(),
            titles: titles(&|r| r.revenue),
            dashed: false,
        }];
        if report.compare.is_some() {
            series.push(Series {
                name: i18n.t("reports.compared_period").to_string(),
                values: report.rows.iter().map(|r| r.compared.as_ref().map_or(0.0, |c| number(c.revenue))).collect(),
                titles: titles(&|r| r.compared.as_ref().map_or(rust_decimal::Decimal::ZERO, |c| c.revenue)),
                dashed: true,
            });
        }
        charts_shown.push((chart_label.clone(), charts::line(&chart_label, &labels, &series)));
    } else {
        let top: Vec<(String, f64, String)> = report
            .rows
            .iter()
            .take(15)
            .map(|r| (r.label.clone(), number(r.revenue), i18n.money(&r.revenue, &currency)))
            .collect();
        charts_shown.push((chart_label.clone(), charts::bars(&chart_label, &top)));
        let share_label = i18n.t("reports.chart_share").to_string();
        let slices: Vec<(String, f64)> = report.rows.iter().map(|r| (r.label.clone(), number(r.revenue))).collect();
        charts_shown.push((share_label.clone(), charts::donut(&share_label, &slices, i18n.t("reports.other"))));
    }
    let table = report.table();
    let (from, to) = (report.from.clone(), report.to.clone());
    let links = report
        .rows
        .iter()
        .map(|r| {
            let range = |a: &str, b: &str| format!("created_from={a}&created_to={b}");
            let with = |name: &str, value: &str| {
                let mut q = form_urlencoded::Serializer::new(String::new());
                q.append_pair(name, value);
                format!("/orders?{}&{}", q.finish(), range(&from, &to))
            };
            Some(match (&report.group_by, &r.key) {
                (SalesGrouping::Day, ReportKey::Text(day)) => format!("/orders?{}", range(day, day)),
                // A week, month, quarter or year: its days inside the report's period.
                (grouping, ReportKey::Text(bucket)) if grouping.is_calendar() => {
                    let (first, last) = ordo_domain::reports::bucket_days(bucket, *grouping)?;
                    let first = first.max(Date::parse(&from)?).to_string();
                    let last = last.min(Date::parse(&to)?).to_string();
                    format!("/orders?{}", range(&first, &last))
                }
                (SalesGrouping::Region, ReportKey::Text(region)) if !region.is_empty() => with("region", region),
                (SalesGrouping::CustomerGroup, ReportKey::Text(group)) => with("customer_group", group),
                (SalesGrouping::Salesperson, ReportKey::Text(email)) if !email.is_empty() => with("salesperson", email),
                (SalesGrouping::Channel, ReportKey::Text(channel)) => {
                    format!("/orders?channel={channel}&{}", range(&from, &to))
                }
                (SalesGrouping::Customer, ReportKey::Id(id)) => {
                    format!("/orders?customer_id={id}&{}", range(&from, &to))
                }
                (SalesGrouping::Product, _) => {
                    let code = r.label.split(' ').next().unwrap_or("");
                    let mut q = form_urlencoded::Serializer::new(String::new());
                    q.append_pair("q", code);
                    format!("/orders?{}&{}", q.finish(), range(&from, &to))
                }
                _ => return None,
            })
        })
        .collect();
    let note =
        i18n.tf("reports.sales_note", &[("from", &report.from), ("to", &report.to), ("currency", &report.currency)]);
    let mut view = page(&staff, "sales", form, &table, links, figures, charts_shown, note);
    view.channels = super::channel_choices(&state).await;
    show_report(&state, &staff, &headers, view).await
}

async fn customers(
    State(state): State<AppState>,
    staff: Staff,
    headers: HeaderMap,
    Query(form): Query<ReportForm>,
) -> Response {
    let query = RfmQuery {
        as_of: text(&form.as_of),
        currency: text(&form.currency),
        limit: ReportForm::number(&form.limit),
        segment: text(&form.segment),
        format: None,
    };
    let report = match run_report(&state, &staff, &form, |today| query.check(today), reports::rfm).await {
        Ok(report) => report,
        Err(page) => return page,
    };
    let i18n = staff.i18n;
    let currency = ordo_domain::Currency::parse(&report.currency).unwrap_or(ordo_domain::Currency::CNY);
    let figures = vec![
        (i18n.t("reports.customers").to_string(), i18n.count(report.totals.customers)),
        (i18n.t("reports.new_customers").to_string(), i18n.count(report.totals.new_customers)),
        (i18n.t("reports.at_risk").to_string(), i18n.count(report.totals.at_risk)),
        (i18n.t("reports.col.monetary").to_string(), i18n.money(&report.totals.revenue, &currency)),
    ];
    let segment = |s: &str| i18n.t(&format!("reports.segment.{s}")).to_string();
    let by_customers: Vec<(String, f64)> =
        report.segments.iter().map(|s| (segment(&s.segment), s.customers as f64)).collect();
    let by_revenue: Vec<(String, f64, String)> = report
        .segments
        .iter()
        .map(|s| (segment(&s.segment), number(s.revenue), i18n.money(&s.revenue, &currency)))
        .collect();
    let (c_label, r_label) =
        (i18n.t("reports.chart_segments").to_string(), i18n.t("reports.chart_revenue").to_string());
    let n_label = i18n.t("reports.chart_new_returning").to_string();
    let new_returning = charts::stacked(
        &n_label,
        &[i18n.t("reports.col.new_customers").to_string(), i18n.t("reports.col.returning_customers").to_string()],
        &report
            .new_vs_returning
            .iter()
            .map(|m| (m.month.clone(), vec![m.new_customers as f64, m.returning_customers as f64]))
            .collect::<Vec<_>>(),
    );
    let charts_shown = vec![
        (c_label.clone(), charts::donut(&c_label, &by_customers, i18n.t("reports.other"))),
        (r_label.clone(), charts::bars(&r_label, &by_revenue)),
        (n_label, new_returning),
    ];
    let links = report.rows.iter().map(|r| Some(format!("/customers/{}/360", r.key))).collect();
    let mut table = report.table();
    for row in &mut table.rows {
        if let Some(Cell::Text(s)) = row.get_mut(10) {
            *s = segment(s);
        }
        if let Some(Cell::Text(flag)) = row.get_mut(12) {
            *flag = i18n.t(&format!("reports.{flag}")).to_string();
        }
    }
    let note = i18n.tf("reports.rfm_note", &[("as_of", &report.as_of), ("currency", &report.currency)]);
    let sections = report.sections().iter().map(|t| section(&i18n, t, &[])).collect();
    let mut view = page(&staff, "customers", form, &table, links, figures, charts_shown, note);
    view.sections = sections;
    show_report(&state, &staff, &headers, view).await
}

async fn inventory(
    State(state): State<AppState>,
    staff: Staff,
    headers: HeaderMap,
    Query(form): Query<ReportForm>,
) -> Response {
    let query = AbcQuery {
        from: text(&form.from),
        to: text(&form.to),
        warehouse_id: ReportForm::number(&form.warehouse_id),
        currency: text(&form.currency),
        class: text(&form.class),
        format: None,
    };
    let today = match crate::reports::today(&state).await {
        Ok(today) => today,
        Err(error) => return failed(&staff, error),
    };
    let params = match query.check(today) {
        Ok(params) => params,
        Err(invalid) => return failed(&staff, invalid.into()),
    };
    let loaded = state
        .db
        .read(move |tx| {
            let report = reports::abc(tx, &params)?;
            let warehouses = ordo_app::inventory::list_warehouses(tx)
                .map_err(|e| ReportError::Db(ordo_app::DbError::Other(e.to_string())))?;
            Ok::<_, ReportError>((report, warehouses))
        })
        .await;
    let (report, warehouses) = match loaded {
        Ok(loaded) => loaded,
        Err(error) => return failed(&staff, error.into()),
    };
    let report = match download(&form, report) {
        Ok(Ok(response)) => return response,
        Ok(Err(report)) => report,
        Err(error) => return failed(&staff, error),
    };
    let i18n = staff.i18n;
    let currency = ordo_domain::Currency::parse(&report.currency).unwrap_or(ordo_domain::Currency::CNY);
    let t = &report.totals;
    let figures = vec![
        (i18n.t("reports.products").to_string(), i18n.count(t.products)),
        ("A / B / C".to_string(), format!("{} / {} / {}", t.a, t.b, t.c)),
        (i18n.t("reports.out_of_stock").to_string(), i18n.count(t.out_of_stock)),
        (i18n.t("reports.col.stock_value").to_string(), i18n.money(&t.stock_value, &currency)),
        (i18n.t("reports.lost_revenue").to_string(), i18n.money(&t.lost_revenue, &currency)),
    ];
    let sum = |class: &str, f: &dyn Fn(&reports::AbcRow) -> f64| {
        report.rows.iter().filter(|r| r.class == class).map(f).sum::<f64>()
    };
    let classes = ["A", "B", "C"];
    let label = i18n.t("reports.chart_abc").to_string();
    let stacked = charts::stacked(
        &label,
        &classes.iter().map(|c| c.to_string()).collect::<Vec<_>>(),
        &[
            (i18n.t("reports.products").to_string(), classes.iter().map(|c| sum(c, &|_| 1.0)).collect()),
            (
                i18n.t("reports.col.revenue").to_string(),
                classes.iter().map(|c| sum(c, &|r| number(r.revenue))).collect(),
            ),
            (
                i18n.t("reports.col.stock_value").to_string(),
                classes.iter().map(|c| sum(c, &|r| number(r.stock_value))).collect(),
            ),
        ],
    );
    let links = report.rows.iter().map(|r| Some(format!("/products/{}", r.key))).collect();
    let table = report.table();
    let note = i18n.tf("reports.abc_note", &[("from", &report.from), ("to", &report.to)]);
    let out_links: Vec<Option<String>> =
        report.stock_outs.iter().map(|r| Some(format!("/products/{}", r.key))).collect();
    let mut tables = report.sections();
    // When each product ran out, in the console's local time.
    for (row, out) in tables[0].rows.iter_mut().zip(&report.stock_outs) {
        if let (Some(cell), Some(since)) = (row.get_mut(4), out.out_since) {
            *cell = Cell::Text(i18n.datetime(&since));
        }
    }
    let sections = tables.iter().map(|t| section(&i18n, t, &out_links)).collect();
    let mut view = page(&staff, "inventory", form, &table, links, figures, vec![(label, stacked)], note);
    view.sections = sections;
    view.warehouses = warehouses.into_iter().map(|w| (w.id, format!("{} {}", w.code, w.name))).collect();
    show_report(&state, &staff, &headers, view).await
}

async fn operations(
    State(state): State<AppState>,
    staff: Staff,
    headers: HeaderMap,
    Query(form): Query<ReportForm>,
) -> Response {
    let query = CycleQuery {
        from: text(&form.from),
        to: text(&form.to),
        channel: text(&form.channel),
        ship_within_hours: ReportForm::number(&form.ship_within_hours),
        format: None,
    };
    let today = match crate::reports::today(&state).await {
        Ok(today) => today,
        Err(error) => return failed(&staff, error),
    };
    let params = match query.check(today) {
        Ok(params) => params,
        Err(invalid) => return failed(&staff, invalid.into()),
    };
    let report = match crate::reports::cycle_times_report(&state, params).await {
        Ok(report) => report,
        Err(error) => return failed(&staff, error),
    };
    let report = match download(&form, report) {
        Ok(Ok(response)) => return response,
        Ok(Err(report)) => report,
        Err(error) => return failed(&staff, error),
    };
    let i18n = staff.i18n;
    let t = &report.totals;
    let percent = |p: &Option<rust_decimal::Decimal>| p.map_or("—".to_string(), |p| format!("{p} %"));
    let figures = vec![
        (i18n.t("reports.col.orders").to_string(), i18n.count(t.orders)),
        (i18n.t("reports.on_time").to_string(), percent(&t.on_time_delivery_rate)),
        (
            i18n.tf("reports.on_time_shipment", &[("hours", &t.ship_within_hours.to_string())]).to_string(),
            percent(&t.on_time_shipment_rate),
        ),
        (i18n.t("reports.fill_rate").to_string(), percent(&t.fill_rate)),
        (i18n.t("reports.exception_rate").to_string(), percent(&t.exception_rate)),
        (i18n.t("reports.approval_p50").to_string(), t.approval_p50_hours.map_or("—".into(), |h| format!("{h} h"))),
        (i18n.t("reports.cancellation_rate").to_string(), percent(&t.cancellation_rate)),
        (i18n.t("reports.return_rate").to_string(), percent(&t.return_rate)),
    ];
    let label = i18n.t("reports.chart_cycle").to_string();
    let bars: Vec<(String, f64, String)> = report
        .rows
        .iter()
        .map(|r| {
            let p50 = r.p50_hours.unwrap_or_default();
            (i18n.t(&format!("reports.stage.{}", r.key)).to_string(), number(p50), format!("p50 {p50} h"))
        })
        .collect();
    let mut table = report.table();
    relabel(&mut table, "reports.stage.", &i18n);
    let note = i18n.tf("reports.cycle_note", &[("from", &report.from), ("to", &report.to)]);
    let e_label = i18n.t("reports.chart_exceptions").to_string();
    let reason = |r: &str| i18n.t(&format!("reports.reason.{r}")).to_string();
    let exception_bars: Vec<(String, f64, String)> =
        report.exceptions.iter().map(|e| (reason(&e.reason), e.orders as f64, i18n.count(e.orders))).collect();
    let sections = report
        .sections()
        .into_iter()
        .map(|mut t| {
            for row in &mut t.rows {
                if let Some(Cell::Text(key)) = row.first_mut() {
                    *key = if t.name == "exceptions" {
                        reason(key)
                    } else {
                        i18n.t(&format!("reports.measure.{key}")).to_string()
                    };
                }
            }
            section(&i18n, &t, &[])
        })
        .collect();
    let mut charts_shown = vec![(label.clone(), charts::bars(&label, &bars))];
    if !exception_bars.is_empty() {
        charts_shown.push((e_label.clone(), charts::bars(&e_label, &exception_bars)));
    }
    let mut view = page(&staff, "operations", form, &table, Vec::new(), figures, charts_shown, note);
    view.sections = sections;
    show_report(&state, &staff, &headers, view).await
}

async fn finance(
    State(state): State<AppState>,
    staff: Staff,
    headers: HeaderMap,
    Query(form): Query<ReportForm>,
) -> Response {
    let query = FinanceQuery { month: text(&form.month), currency: text(&form.currency), format: None };
    let report = match run_report(&state, &staff, &form, |today| query.check(today), reports::finance_summary).await {
        Ok(report) => report,
        Err(page) => return page,
    };
    let i18n = staff.i18n;
    let currency = ordo_domain::Currency::parse(&report.currency).unwrap_or(ordo_domain::Currency::CNY);
    let t = &report.totals;
    let figures = vec![
        (i18n.t("reports.col.net_revenue").to_string(), i18n.money(&t.net_revenue, &currency)),
        (i18n.t("reports.gross_margin").to_string(), i18n.money(&t.gross_margin, &currency)),
        (
            i18n.t("reports.gross_margin_percent").to_string(),
            t.gross_margin_percent.map_or("—".into(), |p| format!("{p} %")),
        ),
        (i18n.t("reports.cash_received").to_string(), i18n.money(&t.cash_received, &currency)),
        (i18n.t("reports.receivables_open").to_string(), i18n.money(&t.receivables_open, &currency)),
    ];
    let label = i18n.t("reports.chart_finance").to_string();
    let bars: Vec<(String, f64, String)> = [
        ("reports.col.net_revenue", t.net_revenue),
        ("reports.cost_of_goods", t.cost_of_goods),
        ("reports.gross_margin", t.gross_margin),
        ("reports.cash_received", t.cash_received),
        ("reports.refunds", t.refunds),
    ]
    .iter()
    .map(|(key, amount)| (i18n.t(key).to_string(), number(*amount), i18n.money(amount, &currency)))
    .collect();
    let mut table = report.table();
    relabel(&mut table, "reports.finance.", &i18n);
    let note = i18n.tf("reports.finance_note", &[("month", &report.month), ("currency", &report.currency)]);
    let view = page(
        &staff,
        "finance",
        form,
        &table,
        Vec::new(),
        figures,
        vec![(label.clone(), charts::bars(&label, &bars))],
        note,
    );
    show_report(&state, &staff, &headers, view).await
}

async fn settlement(
    State(state): State<AppState>,
    staff: Staff,
    headers: HeaderMap,
    Query(form): Query<ReportForm>,
) -> Response {
    let query = reports::SettlementQuery {
        from: text(&form.from),
        to: text(&form.to),
        by: text(&form.by),
        currency: text(&form.currency),
        format: None,
    };
    let report = match run_report(&state, &staff, &form, |today| query.check(today), reports::settlement).await {
        Ok(report) => report,
        Err(page) => return page,
    };
    let i18n = staff.i18n;
    let (t, currency) = (&report.totals, report.currency);
    let figures = vec![
        (i18n.t("reports.col.order_value").to_string(), i18n.money(&t.order_value, &currency)),
        (i18n.t("reports.col.invoiced").to_string(), i18n.money(&t.invoiced, &currency)),
        (i18n.t("reports.col.net_received").to_string(), i18n.money(&t.net_received, &currency)),
        (i18n.t("reports.col.not_invoiced").to_string(), i18n.money(&t.not_invoiced, &currency)),
        (i18n.t("reports.col.not_collected").to_string(), i18n.money(&t.not_collected, &currency)),
    ];
    let label = i18n.t("reports.chart_settlement").to_string();
    let bars: Vec<(String, f64, String)> = report
        .rows
        .iter()
        .map(|r| (r.period.clone(), number(r.net_received), i18n.money(&r.net_received, &currency)))
        .collect();
    let table = report.table();
    let sections = report.sections().iter().map(|t| section(&i18n, t, &[])).collect();
    let note = i18n
        .tf("reports.settlement_note", &[("from", &report.from), ("to", &report.to), ("currency", currency.code())]);
    let mut view = page(
        &staff,
        "settlement",
        form,
        &table,
        Vec::new(),
        figures,
        vec![(label.clone(), charts::bars(&label, &bars))],
        note,
    );
    view.sections = sections;
    show_report(&state, &staff, &headers, view).await
}

async fn tax(
    State(state): State<AppState>,
    staff: Staff,
    headers: HeaderMap,
    Query(form): Query<ReportForm>,
) -> Response {
    let query =
        reports::TaxQuery { from: text(&form.from), to: text(&form.to), currency: text(&form.currency), format: None };
    let report = match run_report(&state, &staff, &form, |today| query.check(today), reports::tax_report).await {
        Ok(report) => report,
        Err(page) => return page,
    };
    let i18n = staff.i18n;
    let currency = report.currency;
    let figures = vec![
        (i18n.t("reports.col.output_tax").to_string(), i18n.money(&report.output_tax, &currency)),
        (i18n.t("reports.input_tax").to_string(), i18n.money(&report.input_tax, &currency)),
        (i18n.t("reports.tax_payable").to_string(), i18n.money(&report.tax_payable, &currency)),
    ];
    let table = report.table();
    let mut sections: Vec<Table> = report.sections();
    for section in &mut sections {
        for row in &mut section.rows {
            if let Some(Cell::Text(key)) = row.first_mut() {
                *key = i18n.t(&format!("reports.{key}")).to_string();
            }
        }
    }
    let sections = sections.iter().map(|t| section(&i18n, t, &[])).collect();
    let note =
        i18n.tf("reports.tax_note", &[("from", &report.from), ("to", &report.to), ("currency", currency.code())]);
    let mut view = page(&staff, "tax", form, &table, Vec::new(), figures, Vec::new(), note);
    view.sections = sections;
    if let Ok(rules) = state.db.read(ordo_app::catalog::tax_rules).await {
        view.editor = Some(Editor {
            id: "tax-rules",
            key: "reports.tax_rules",
            action: "/reports/tax/rules",
            placeholder: "food CN 0.09\nfood US NY 0.04",
            text: rules.rules.iter().map(rule_line).collect::<Vec<_>>().join("\n"),
            may_edit: staff.may(Permission::FinanceManage),
        });
    }
    show_report(&state, &staff, &headers, view).await
}

async fn books(
    State(state): State<AppState>,
    staff: Staff,
    headers: HeaderMap,
    Query(form): Query<ReportForm>,
) -> Response {
    let query = reports::BooksQuery { from: text(&form.from), to: text(&form.to), format: None };
    let report = match run_report(&state, &staff, &form, |today| query.check(today), reports::books).await {
        Ok(report) => report,
        Err(page) => return page,
    };
    let i18n = staff.i18n;
    let base = report.base_currency;
    let figures = vec![
        (i18n.t("reports.base_currency").to_string(), base.code().to_string()),
        (i18n.t("reports.exchange_result").to_string(), i18n.money(&report.exchange_result, &base)),
    ];
    let table = report.table();
    let sections = report.sections().iter().map(|t| section(&i18n, t, &[])).collect();
    let note = i18n.tf("reports.books_note", &[("from", &report.from), ("to", &report.to), ("currency", base.code())]);
    let mut view = page(&staff, "books", form, &table, Vec::new(), figures, Vec::new(), note);
    view.sections = sections;
    if let Ok(rates) = state.db.read(|tx| ordo_app::payments::fx::rates(tx, None)).await {
        view.editor = Some(Editor {
            id: "exchange-rates",
            key: "reports.rates",
            action: "/reports/books/rates",
            placeholder: "2026-11-25 USD 7.1234\n2026-11-25 HKD 0.9120",
            text: rates
                .rates
                .iter()
                .map(|r| format!("{} {} {}", r.date, r.currency, r.rate))
                .collect::<Vec<_>>()
                .join("\n"),
            may_edit: staff.may(Permission::FinanceManage),
        });
    }
    show_report(&state, &staff, &headers, view).await
}

/// Enters the rates typed on the books page; lines already there are entered again as
/// they are, so the textarea can be edited in place.
async fn save_rates(State(state): State<AppState>, staff: Staff, headers: HeaderMap, body: Bytes) -> Response {
    let ctx = match staff.require(Permission::FinanceManage) {
        Ok(ctx) => ctx,
        Err(page) => return page,
    };
    let form = super::form_fields(&body);
    let input = ordo_app::payments::fx::parse_rate_lines(super::form_field(&form, "rules").unwrap_or(""));
    let count = input.rates.len();
    match state.db.write(move |tx| ordo_app::payments::fx::enter_rates(tx, &ctx, &input)).await {
        Ok(_) => redirect_with_flash(
            "/reports/books#exchange-rates",
            &staff.i18n.tf("reports.rates_saved", &[("count", &count.to_string())]),
            &headers,
        ),
        Err(error) => failed(&staff, error.into()),
    }
}

/// A tax rule as a typed line: `food CN 0.09`, `food US NY 0.04`.
fn rule_line(rule: &ordo_domain::tax::TaxRule) -> String {
    match &rule.region {
        Some(region) => format!("{} {} {} {}", rule.category, rule.country, region, rule.rate),
        None => format!("{} {} {}", rule.category, rule.country, rule.rate),
    }
}

/// Reads typed tax rule lines: category, country, an optional region, and the rate last.
fn typed_rules(text: &str) -> Vec<ordo_domain::tax::TaxRuleInput> {
    text.lines()
        .map(|line| line.split_whitespace().collect::<Vec<_>>())
        .filter(|cells| !cells.is_empty())
        .map(|cells| {
            let text = |i: usize| cells.get(i).map(|c| c.to_string());
            let (region, rate) = match cells.len() {
                0..=3 => (None, text(2)),
                n => (Some(cells[2..n - 1].join(" ")), text(n - 1)),
            };
            ordo_domain::tax::TaxRuleInput { category: text(0), country: text(1), region, rate }
        })
        .collect()
}

async fn save_tax_rules(State(state): State<AppState>, staff: Staff, headers: HeaderMap, body: Bytes) -> Response {
    let ctx = match staff.require(Permission::FinanceManage) {
        Ok(ctx) => ctx,
        Err(page) => return page,
    };
    let form = super::form_fields(&body);
    let input =
        ordo_app::catalog::TaxRulesInput { rules: typed_rules(super::form_field(&form, "rules").unwrap_or("")) };
    match state.db.write(move |tx| ordo_app::catalog::set_tax_rules(tx, &ctx, &input)).await {
        Ok(saved) => redirect_with_flash(
            "/reports/tax#tax-rules",
            &staff.i18n.tf("reports.tax_rules_saved", &[("count", &saved.rules.len().to_string())]),
            &headers,
        ),
        Err(error) => failed(&staff, error.into()),
    }
}

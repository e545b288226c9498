//! Reports e-mailed on a schedule: daily, weekly or monthly, for the last whole period, to
//! a list of addresses, in their language. A due report becomes a `report.mailed` event in
//! the outbox (so webhooks see it too) and the mailer sends it; the `report_mailings` row
//! written in the same transaction makes each period go out once however many processes run.

use super::model::ReportError;
use super::table::{Table, Tabular};
use crate::Ctx;
use crate::db::{DbError, Tx};
use crate::params;
use ordo_domain::Timestamp;
use ordo_domain::reports::{Frequency, last_complete_period};
use ordo_domain::time::Date;
use ordo_domain::validation::Violations;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

pub const REPORTS: &[&str] = &["sales", "customers", "inventory", "operations", "finance", "settlement", "tax"];
const SETTINGS: &str = "report_schedules";

#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
pub struct ReportSchedules {
    #[serde(default)]
    pub schedules: Vec<ReportSchedule>,
    /// The business's time zone as an offset from UTC (`+08:00`, the default): where report
    /// days, weeks and months begin. Changing it re-files every order under its local day.
    #[serde(default)]
    #[schema(example = "+08:00")]
    pub utc_offset: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ReportSchedule {
    /// sales, customers, inventory, operations or finance.
    #[schema(example = "sales")]
    pub report: String,
    /// daily (yesterday), weekly (last Monday–Sunday) or monthly (last month).
    #[schema(example = "daily")]
    pub frequency: String,
    #[schema(example = json!(["boss@example.com"]))]
    pub recipients: Vec<String>,
    /// en, zh-CN or zh-TW (default en).
    #[serde(default)]
    pub language: Option<String>,
}

impl ReportSchedule {
    fn key(&self) -> String {
        format!("{}:{}", self.report, self.frequency)
    }
}

pub fn report_schedules(tx: &mut dyn Tx) -> Result<ReportSchedules, DbError> {
    let mut stored: ReportSchedules =
        crate::settings::document(tx, SETTINGS)?.and_then(|s| serde_json::from_str(&s).ok()).unwrap_or_default();
    stored.utc_offset = Some(super::summaries::offset_text(super::summaries::utc_offset(tx)?));
    Ok(stored)
}

pub fn update_report_schedules(
    tx: &mut dyn Tx,
    ctx: &Ctx,
    input: &ReportSchedules,
) -> Result<ReportSchedules, ReportError> {
    let mut v = Violations::new();
    let mut keys = Vec::new();
    for (i, s) in input.schedules.iter().enumerate() {
        let field = |name: &str| format!("schedules[{i}].{name}");
        if !REPORTS.contains(&s.report.as_str()) {
            v.add(field("report"), format!("must be one of {}", REPORTS.join(", ")));
        }
        if Frequency::parse(&s.frequency).is_none() {
            v.add(field("frequency"), format!("must be one of {}", Frequency::choices()));
        }
        if s.recipients.is_empty() || s.recipients.len() > 50 {
            v.add(field("recipients"), "needs 1 to 50 e-mail addresses");
        }
        for (j, address) in s.recipients.iter().enumerate() {
            if !crate::integrations::valid_address(address) {
                v.add(format!("schedules[{i}].recipients[{j}]"), "is not an e-mail address");
            }
        }
        if let Some(language) = &s.language
            && !ordo_domain::customers::LANGUAGES.contains(&language.as_str())
        {
            v.add(field("language"), format!("must be one of {}", ordo_domain::customers::LANGUAGES.join(", ")));
        }
        if keys.contains(&s.key()) {
            v.add(field("frequency"), "this report already has a schedule this often");
        }
        keys.push(s.key());
    }
    if input.schedules.len() > 50 {
        v.add("schedules", "at most 50 schedules");
    }
    let offset = match input.utc_offset.as_deref().map(str::trim).filter(|o| !o.is_empty()) {
        None => None,
        Some(text) => super::summaries::parse_zone(text).or_else(|| {
            v.add("utc_offset", "must be an offset from UTC such as +08:00, from -12:00 to +14:00 in quarter hours");
            None
        }),
    };
    v.into_result()?;
    // The offset lives in its own setting (the summaries' writers read it); not in here.
    let schedules = ReportSchedules { schedules: input.schedules.clone(), utc_offset: None };
    let value = serde_json::to_string(&schedules).map_err(|e| DbError::Other(e.to_string()))?;
    crate::settings::store_document(tx, ctx, SETTINGS, &value)?;
    if let Some(offset) = offset {
        super::summaries::set_utc_offset(tx, ctx, offset)?;
    }
    report_schedules(tx).map_err(Into::into)
}

/// A report ready to go: which schedule and period, and the message.
#[derive(Debug, Clone)]
pub struct DueMailing {
    pub schedule: String,
    pub period: String,
    pub data: serde_json::Value,
}

/// The scheduled reports whose last period has not gone out yet, written (a read).
pub fn due_mailings(tx: &mut dyn Tx, now: Timestamp) -> Result<Vec<DueMailing>, ReportError> {
    let offset = super::summaries::utc_offset(tx)?;
    let today = super::summaries::local_date(now, offset);
    let zone = super::summaries::zone_name(offset);
    let mut due = Vec::new();
    for schedule in report_schedules(tx)?.schedules {
        let Some(frequency) = Frequency::parse(&schedule.frequency) else { continue };
        let (from, to, period) = last_complete_period(today, frequency);
        let sent = tx.query_opt(
            "SELECT 1 FROM report_mailings WHERE schedule = ? AND period = ?",
            params![schedule.key(), period.as_str()],
        )?;
        if sent.is_some() {
            continue;
        }
        let language = schedule.language.clone().unwrap_or_else(|| "en".into());
        let tables = report_tables(tx, &schedule.report, from, to)?;
        // The report's own table, then its sections (stock-outs, exceptions…) under their names.
        let text = tables
            .iter()
            .enumerate()
            .map(|(i, t)| if i == 0 { text_table(t, 25) } else { format!("{}\n{}", t.name, text_table(t, 25)) })
            .collect::<Vec<_>>()
            .join("\n\n");
        let title = format!("{} {period}", words(&language, &schedule.report));
        let body = format!(
            "{title}\n{} {from} – {to} ({zone})\n\n{}\n{}",
            words(&language, "period"),
            text,
            words(&language, "footer")
        );
        due.push(DueMailing {
            schedule: schedule.key(),
            period: period.clone(),
            data: serde_json::json!({
                "report": schedule.report, "frequency": schedule.frequency, "period": period,
                "from": from.to_string(), "to": to.to_string(), "recipients": schedule.recipients,
                "subject": format!("Ordo · {title}"), "body": body,
            }),
        });
    }
    Ok(due)
}

/// Records each due report as sent and as a `report.mailed` event; a period another process
/// recorded first is skipped. Returns how many went out.
pub fn record_mailings(tx: &mut dyn Tx, now: Timestamp, due: &[DueMailing]) -> Result<usize, ReportError> {
    let mut sent = 0;
    for mailing in due {
        let taken = tx.query_opt(
            "SELECT 1 FROM report_mailings WHERE schedule = ? AND period = ?",
            params![mailing.schedule.as_str(), mailing.period.as_str()],
        )?;
        if taken.is_some() {
            continue;
        }
        tx.execute(
            "INSERT INTO report_mailings (schedule, period, mailed_at) VALUES (?, ?, ?)",
            params![mailing.schedule.as_str(), mailing.period.as_str(), now.micros()],
        )?;
        crate::events::record(tx, "report.mailed", ("report", 0), &mailing.data, now)?;
        sent += 1;
    }
    Ok(sent)
}

fn report_tables(tx: &mut dyn Tx, report: &str, from: Date, to: Date) -> Result<Vec<Table>, ReportError> {
    let (first, last) = (from.to_string(), to.to_string());
    Ok(match report {
        "customers" => {
            let params = super::RfmQuery { as_of: Some(last), limit: Some(25), ..Default::default() }.check(to)?;
            super::rfm(tx, &params)?.tables()
        }
        "inventory" => {
            let params = super::AbcQuery { from: Some(first), to: Some(last), ..Default::default() }.check(to)?;
            super::abc(tx, &params)?.tables()
        }
        "operations" => {
            let params = super::CycleQuery { from: Some(first), to: Some(last), ..Default::default() }.check(to)?;
            super::cycle_times(tx, &params)?.tables()
        }
        "tax" => {
            let params = super::TaxQuery { from: Some(first), to: Some(last), ..Default::default() }.check(to)?;
            super::tax_report(tx, &params)?.tables()
        }
        "settlement" => {
            let params =
                super::SettlementQuery { from: Some(first), to: Some(last), ..Default::default() }.check(to)?;
            super::settlement(tx, &params)?.tables()
        }
        "finance" => {
            let month = format!("{:04}-{:02}", to.year, to.month);
            let params = super::FinanceQuery { month: Some(month), ..Default::default() }.check(to)?;
            super::finance_summary(tx, &params)?.tables()
        }
        _ => {
            let params = super::SalesQuery {
                from: Some(first),
                to: Some(last),
                group_by: Some(if from == to { "product" } else { "day" }.into()),
                compare: Some("previous".into()),
                limit: Some(25),
                ..Default::default()
            }
            .check(to)?;
            super::sales(tx, &params)?.tables()
        }
    })
}

/// The table as aligned plain text, the first `rows` rows (and the totals row).
pub fn text_table(table: &Table, rows: usize) -> String {
    let mut shown: Vec<Vec<String>> = vec![table.columns.iter().map(|c| c.to_string()).collect()];
    let total = table.rows.last().filter(|r| r.first().is_some_and(|c| c.to_text() == "total"));
    for row in table.rows.iter().filter(|r| Some(*r) != total).take(rows).chain(total) {
        shown.push(row.iter().map(|c| c.to_text()).collect());
    }
    let columns = shown.iter().map(Vec::len).max().unwrap_or(0);
    let widths: Vec<usize> = (0..columns)
        .map(|i| shown.iter().map(|r| r.get(i).map_or(0, |c| c.chars().count())).max().unwrap_or(0))
        .collect();
    shown
        .iter()
        .map(|row| {
            row.iter()
                .enumerate()
                .map(|(i, c)| format!("{c:<width$}", width = widths[i]))
                .collect::<Vec<_>>()
                .join("  ")
                .trim_end()
                .to_string()
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn words(language: &str, key: &str) -> &'static str {
    let zh_cn = language == "zh-CN";
    let zh_tw = language == "zh-TW";
    match key {
        "sales" if zh_cn => "销售报表",
        "sales" if zh_tw => "銷售報表",
        "sales" => "Sales",
        "customers" if zh_cn => "客户 RFM 报表",
        "customers" if zh_tw => "客戶 RFM 報表",
        "customers" => "Customers (RFM)",
        "inventory" if zh_cn => "商品 ABC 与库存报表",
        "inventory" if zh_tw => "商品 ABC 與庫存報表",
        "inventory" => "Products ABC and stock",
        "operations" if zh_cn => "订单时效报表",
        "operations" if zh_tw => "訂單時效報表",
        "operations" => "Order cycle times",
        "finance" if zh_cn => "财务月报",
        "finance" if zh_tw => "財務月報",
        "finance" => "Finance summary",
        "settlement" if zh_cn => "结算报表",
        "settlement" if zh_tw => "結算報表",
        "settlement" => "Settlement",
        "tax" if zh_cn => "增值税报表",
        "tax" if zh_tw => "營業稅報表",
        "tax" => "Tax",
        "period" if zh_cn => "期间",
        "period" if zh_tw => "期間",
        "period" => "Period",
        "footer" if zh_cn => "\n完整报表（图表、导出、明细）请在 Ordo 控制台的“报表”中查看。",
        "footer" if zh_tw => "\n完整報表（圖表、匯出、明細）請在 Ordo 控制台的「報表」中查看。",
        "footer" => {
            "\nThe full report (charts, downloads, the orders behind each figure) is under Reports in the Ordo console."
        }
        _ => "",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reports::table::Cell;

    #[test]
    fn text_tables_align_and_keep_the_totals_row() {
        let table = Table {
            name: "t".into(),
            columns: vec!["key", "revenue"],
            rows: vec![
                vec!["tea".into(), Cell::Int(5)],
                vec!["teapots".into(), Cell::Int(120)],
                vec!["total".into(), Cell::Int(125)],
            ],
        };
        assert_eq!(text_table(&table, 1), "key    revenue\ntea    5\ntotal  125");
    }
}

//! Every report as a plain table (header row, typed cells), so one writer serves CSV, XLSX
//! and the console's tables alike.

use super::model::*;
use rust_decimal::Decimal;

#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    Text(String),
    Int(i64),
    Amount(Decimal),
    Empty,
}

impl From<&str> for Cell {
    fn from(text: &str) -> Self {
        Cell::Text(text.to_string())
    }
}
impl From<String> for Cell {
    fn from(text: String) -> Self {
        Cell::Text(text)
    }
}
impl From<i64> for Cell {
    fn from(n: i64) -> Self {
        Cell::Int(n)
    }
}
impl From<Decimal> for Cell {
    fn from(d: Decimal) -> Self {
        Cell::Amount(d)
    }
}
impl From<Option<Decimal>> for Cell {
    fn from(d: Option<Decimal>) -> Self {
        d.map_or(Cell::Empty, Cell::Amount)
    }
}
impl From<&ReportKey> for Cell {
    fn from(key: &ReportKey) -> Self {
        match key {
            ReportKey::Id(id) => Cell::Int(*id),
            ReportKey::Text(text) => Cell::Text(text.clone()),
        }
    }
}

#[derive(Debug, Clone)]
pub struct Table {
    /// File and sheet name.
    pub name: String,
    pub columns: Vec<&'static str>,
    pub rows: Vec<Vec<Cell>>,
}

impl Table {
    /// RFC 4180 CSV with a UTF-8 byte-order mark, so spreadsheet programs read Chinese.
    pub fn to_csv(&self) -> String {
        Table::csv_of(std::slice::from_ref(self))
    }

    /// The report's table, then each further section after an empty line and its name.
    pub fn csv_of(tables: &[Table]) -> String {
        let mut out = String::from("\u{feff}");
        let line = |cells: Vec<String>| csv_line(&cells);
        for (i, table) in tables.iter().enumerate() {
            if i > 0 {
                out.push_str("\r\n");
                out.push_str(&line(vec![table.name.clone()]));
            }
            out.push_str(&line(table.columns.iter().map(|c| c.to_string()).collect()));
            for row in &table.rows {
                out.push_str(&line(row.iter().map(Cell::to_text).collect()));
            }
        }
        out
    }
}

impl Cell {
    pub fn to_text(&self) -> String {
        match self {
            Cell::Text(text) => text.clone(),
            Cell::Int(n) => n.to_string(),
            Cell::Amount(d) => d.to_string(),
            Cell::Empty => String::new(),
        }
    }
}

fn csv_line(cells: &[String]) -> String {
    cells.iter().map(|c| quote(c)).collect::<Vec<_>>().join(",") + "\r\n"
}

/// Rows of text as CSV (BOM, quoted where needed, formulas defused).
pub fn csv_lines(rows: &[Vec<String>]) -> String {
    let mut out = String::from("\u{feff}");
    for row in rows {
        out.push_str(&csv_line(row));
    }
    out
}

fn quote(text: &str) -> String {
    // A leading = + - @ would run as a formula in a spreadsheet: prefix it.
    let text = if text.starts_with(['=', '+', '@']) || (text.starts_with('-') && text.parse::<f64>().is_err()) {
        format!("'{text}")
    } else {
        text.to_string()
    };
    if text.contains([',', '"', '\n', '\r']) { format!("\"{}\"", text.replace('"', "\"\"")) } else { text }
}

pub trait Tabular {
    fn table(&self) -> Table;

    /// Further tables the report holds (new vs returning customers, stock-outs, exceptions):
    /// more CSV blocks, more sheets, more tables on the page.
    fn sections(&self) -> Vec<Table> {
        Vec::new()
    }

    fn tables(&self) -> Vec<Table> {
        let mut all = vec![self.table()];
        all.extend(self.sections());
        all
    }
}

impl Tabular for SalesReport {
    fn table(&self) -> Table {
        let mut columns =
            vec!["key", "label", "orders", "units", "revenue", "net_revenue", "tax", "average_order_value", "share"];
        if self.compare.is_some() {
            columns.extend(["compared_orders", "compared_revenue", "revenue_change"]);
        }
        let mut rows: Vec<Vec<Cell>> = self
            .rows
            .iter()
            .map(|r| {
                let mut cells = vec![
                    Cell::from(&r.key),
                    r.label.clone().into(),
                    r.orders.into(),
                    r.units.into(),
                    r.revenue.into(),
                    r.net_revenue.into(),
                    r.tax.into(),
                    r.average_order_value.into(),
                    r.share.into(),
                ];
                if self.compare.is_some() {
                    let c = r.compared.clone().unwrap_or_default();
                    cells.extend([c.orders.into(), c.revenue.into(), r.revenue_change.into()]);
                }
                cells
            })
            .collect();
        let t = &self.totals;
        let mut total = vec![
            "total".into(),
            format!("{} – {} ({})", self.from, self.to, self.currency).into(),
            t.orders.into(),
            t.units.into(),
            t.revenue.into(),
            t.net_revenue.into(),
            t.tax.into(),
            t.average_order_value.into(),
            Decimal::new(10000, 2).into(),
        ];
        if self.compare.is_some() {
            let c = t.compared.clone().unwrap_or_default();
            total.extend([c.orders.into(), c.revenue.into(), t.revenue_change.into()]);
        }
        rows.push(total);
        Table { name: format!("sales-by-{}-{}-{}", self.group_by, self.from, self.to), columns, rows }
    }
}

impl Tabular for RfmReport {
    fn sections(&self) -> Vec<Table> {
        vec![self.new_vs_returning_table()]
    }

    fn table(&self) -> Table {
        Table {
            name: format!("customers-rfm-{}", self.as_of),
            columns: vec![
                "customer_id",
                "customer",
                "first_order",
                "last_order",
                "recency_days",
                "frequency",
                "monetary",
                "r",
                "f",
                "m",
                "segment",
                "usual_interval_days",
                "at_risk",
            ],
            rows: self
                .rows
                .iter()
                .map(|r| {
                    vec![
                        r.key.into(),
                        r.label.clone().into(),
                        r.first_order.clone().into(),
                        r.last_order.clone().into(),
                        r.recency_days.into(),
                        r.frequency.into(),
                        r.monetary.into(),
                        i64::from(r.r).into(),
                        i64::from(r.f).into(),
                        i64::from(r.m).into(),
                        r.segment.clone().into(),
                        r.usual_interval_days.into(),
                        (if r.at_risk { "yes" } else { "no" }).into(),
                    ]
                })
                .collect(),
        }
    }
}

impl RfmReport {
    fn new_vs_returning_table(&self) -> Table {
        Table {
            name: "new-vs-returning".into(),
            columns: vec!["month", "new_customers", "returning_customers", "new_revenue", "returning_revenue"],
            rows: self
                .new_vs_returning
                .iter()
                .map(|m| {
                    vec![
                        m.month.clone().into(),
                        m.new_customers.into(),
                        m.returning_customers.into(),
                        m.new_revenue.into(),
                        m.returning_revenue.into(),
                    ]
                })
                .collect(),
        }
    }
}

impl Tabular for AbcReport {
    fn sections(&self) -> Vec<Table> {
        vec![Table {
            name: "stock-outs".into(),
            columns: vec![
                "product_id",
                "sku",
                "product",
                "available",
                "out_since",
                "days_out",
                "daily_units",
                "lost_units",
                "lost_revenue",
            ],
            rows: self
                .stock_outs
                .iter()
                .map(|r| {
                    vec![
                        r.key.into(),
                        r.sku.clone().into(),
                        r.label.clone().into(),
                        r.available.into(),
                        r.out_since.map_or(Cell::Empty, |t| Cell::Text(t.to_string())),
                        r.days_out.into(),
                        r.daily_units.into(),
                        r.lost_units.into(),
                        r.lost_revenue.into(),
                    ]
                })
                .collect(),
        }]
    }

    fn table(&self) -> Table {
        Table {
            name: format!("inventory-abc-{}-{}", self.from, self.to),
            columns: vec![
                "product_id",
                "sku",
                "product",
                "class",
                "units",
                "revenue",
                "share",
                "cumulative_share",
                "on_hand",
                "available",
                "stock_value",
                "days_of_cover",
                "turnover",
            ],
            rows: self
                .rows
                .iter()
                .map(|r| {
                    vec![
                        r.key.into(),
                        r.sku.clone().into(),
                        r.label.clone().into(),
                        r.class.clone().into(),
                        r.units.into(),
                        r.revenue.into(),
                        r.share.into(),
                        r.cumulative_share.into(),
                        r.on_hand.into(),
                        r.available.into(),
                        r.stock_value.into(),
                        r.days_of_cover.into(),
                        r.turnover.into(),
                    ]
                })
                .collect(),
        }
    }
}

impl Tabular for CycleReport {
    fn sections(&self) -> Vec<Table> {
        let t = &self.totals;
        let rate = |key: &'static str, count: i64, rate: Option<Decimal>| vec![key.into(), count.into(), rate.into()];
        vec![
            Table {
                name: "rates".into(),
                columns: vec!["measure", "orders", "percent"],
                rows: vec![
                    rate("orders", t.orders, None),
                    rate("on_time_shipment", t.shipped_on_time, t.on_time_shipment_rate),
                    rate("fill_rate", t.shipped_complete, t.fill_rate),
                    rate("on_time_delivery", t.with_requested_date, t.on_time_delivery_rate),
                    rate("exceptions", t.exception_orders, t.exception_rate),
                    rate("cancelled", t.cancelled, t.cancellation_rate),
                    rate("returned", t.returned, t.return_rate),
                ],
            },
            Table {
                name: "exceptions".into(),
                columns: vec!["reason", "orders"],
                rows: self.exceptions.iter().map(|e| vec![e.reason.clone().into(), e.orders.into()]).collect(),
            },
        ]
    }

    fn table(&self) -> Table {
        Table {
            name: format!("cycle-times-{}-{}", self.from, self.to),
            columns: vec!["stage", "label", "orders", "p50_hours", "p90_hours", "p95_hours", "average_hours"],
            rows: self
                .rows
                .iter()
                .map(|r| {
                    vec![
                        r.key.clone().into(),
                        r.label.clone().into(),
                        r.orders.into(),
                        r.p50_hours.into(),
                        r.p90_hours.into(),
                        r.p95_hours.into(),
                        r.average_hours.into(),
                    ]
                })
                .collect(),
        }
    }
}

impl Tabular for FinanceSummary {
    fn table(&self) -> Table {
        Table {
            name: format!("finance-{}-{}", self.month, self.currency),
            columns: vec!["key", "label", "amount", "count"],
            rows: self
                .rows
                .iter()
                .map(|r| {
                    vec![
                        r.key.clone().into(),
                        r.label.clone().into(),
                        r.amount.into(),
                        r.count.map_or(Cell::Empty, Cell::Int),
                    ]
                })
                .collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_quotes_what_needs_it_and_defuses_formulas() {
        let table = Table {
            name: "t".into(),
            columns: vec!["a", "b"],
            rows: vec![
                vec!["x, \"y\"".into(), "=SUM(A1)".into()],
                vec![Cell::Int(-3), Cell::Amount(Decimal::new(-150, 2))],
            ],
        };
        assert_eq!(table.to_csv(), "\u{feff}a,b\r\n\"x, \"\"y\"\"\",'=SUM(A1)\r\n-3,-1.50\r\n");
    }
}

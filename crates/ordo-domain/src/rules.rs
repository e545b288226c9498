//! Order rules: a condition in CEL (Common Expression Language) over the order, its
//! customer and the time, and what to do when it holds. Conditions are parsed and run by
//! the `cel` crate; this module only decides which facts a condition sees and what the
//! actions of the rules that fired add up to.

use crate::auth::Role;
use crate::customers::Address;
use crate::validation::FieldError;
use cel::{Context, Program, Value};
use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

/// Longest condition accepted, and deepest bracket nesting: the parser recurses.
pub const MAX_CONDITION_LEN: usize = 2000;
const MAX_NESTING: usize = 12;

/// What a rule does when its condition holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum RuleAction {
    /// Someone with `role` must approve; steps run in ascending order, equal steps in parallel.
    RequireApproval {
        role: Role,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        step: Option<u32>,
    },
    /// Put the order on hold until someone releases it.
    Hold {
        reason: String,
    },
    Tag {
        tag: String,
    },
    /// Reserve from this warehouse when it can fill the order, and/or queue the order for
    /// this department.
    Route {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        warehouse: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        department: Option<String>,
    },
    /// Tell everyone with this role (on the order's timeline and their notifications).
    Notify {
        role: Role,
    },
    /// Ship by this carrier (and service, when given) whenever it can take the parcel.
    Ship {
        carrier: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        service: Option<String>,
    },
    /// Serve the order before others when stock is short: backorders are filled by
    /// priority (higher first), then by age.
    Priority {
        level: i64,
    },
}

/// A condition that parsed and ran against sample facts.
#[derive(Clone)]
pub struct Condition {
    program: Arc<Program>,
    source: String,
}

impl std::fmt::Debug for Condition {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("Condition").field(&self.source).finish()
    }
}

fn compiled_cache() -> &'static Mutex<HashMap<String, Arc<Program>>> {
    static CACHE: OnceLock<Mutex<HashMap<String, Arc<Program>>>> = OnceLock::new();
    CACHE.get_or_init(|| Mutex::new(HashMap::new()))
}

fn nesting(source: &str) -> usize {
    let (mut depth, mut deepest, mut quote) = (0usize, 0usize, None::<char>);
    for c in source.chars() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '"' | '\'') => quote = Some(c),
            (None, '(' | '[' | '{') => {
                depth += 1;
                deepest = deepest.max(depth);
            }
            (None, ')' | ']' | '}') => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    deepest
}

impl Condition {
    /// Parses `source` and runs it once against sample facts, so that a misspelt field or
    /// a comparison of a number with text is refused when the rule is saved, not when an
    /// order arrives. Errors name the line and column.
    pub fn compile(source: &str) -> Result<Condition, FieldError> {
        let field = |message: String| FieldError::new("condition", message);
        let source = source.trim();
        if source.is_empty() {
            return Err(field("is required, e.g. order.total > 10000".into()));
        }
        if source.len() > MAX_CONDITION_LEN {
            return Err(field(format!("must be at most {MAX_CONDITION_LEN} characters")));
        }
        if nesting(source) > MAX_NESTING {
            return Err(field(format!("nests brackets more than {MAX_NESTING} deep")));
        }
        let cached = compiled_cache().lock().ok().and_then(|cache| cache.get(source).cloned());
        let program = match cached {
            Some(program) => program,
            None => {
                // The generated parser is deeply recursive: parse on a thread with room.
                let text = source.to_string();
                let parsed = std::thread::Builder::new()
                    .stack_size(16 << 20)
                    .spawn(move || Program::compile(&text).map_err(|e| e.to_string()))
                    .map_err(|e| field(format!("could not be parsed: {e}")))?
                    .join()
                    .map_err(|_| field("could not be parsed".into()))?;
                let program = Arc::new(parsed.map_err(|e| field(describe_parse_error(&e)))?);
                if let Ok(mut cache) = compiled_cache().lock() {
                    if cache.len() > 1000 {
                        cache.clear();
                    }
                    cache.insert(source.to_string(), program.clone());
                }
                program
            }
        };
        let condition = Condition { program, source: source.to_string() };
        match condition.holds(&Facts::sample()) {
            Ok(_) => Ok(condition),
            Err(message) => Err(field(message)),
        }
    }

    pub fn source(&self) -> &str {
        &self.source
    }

    /// Whether the condition holds for these facts; an error says why it could not run.
    pub fn holds(&self, facts: &Facts) -> Result<bool, String> {
        match self.program.execute(&facts.context()) {
            Ok(Value::Bool(b)) => Ok(b),
            Ok(other) => Err(format!("must be true or false, but gives {}", describe_value(&other))),
            Err(e) => Err(format!("cannot be evaluated: {}", describe_execution_error(&e.to_string()))),
        }
    }

    /// "Would this rule fire, and why": the value of every field the condition reads.
    pub fn explain(&self, facts: &Facts) -> String {
        let values = fields_read(&self.source)
            .into_iter()
            .filter_map(|path| facts.lookup(&path).map(|value| format!("{path} = {value}")))
            .collect::<Vec<_>>();
        let verdict = match self.holds(facts) {
            Ok(true) => "the condition holds".to_string(),
            Ok(false) => "the condition does not hold".to_string(),
            Err(e) => format!("the condition {e}"),
        };
        if values.is_empty() { verdict } else { format!("{}: {verdict}", values.join(", ")) }
    }
}

fn describe_parse_error(text: &str) -> String {
    // "ERROR: <input>:1:14: Syntax error: …\n| source\n| ....^" → "line 1, column 14: Syntax error: …"
    let first = text.lines().next().unwrap_or(text);
    let rest = first.trim_start_matches("ERROR: ").trim_start_matches("<input>:");
    let mut parts = rest.splitn(3, ':');
    match (parts.next(), parts.next(), parts.next()) {
        (Some(line), Some(column), Some(message)) if line.parse::<u32>().is_ok() && column.parse::<u32>().is_ok() => {
            format!("line {line}, column {column}:{message}")
        }
        _ => first.to_string(),
    }
}

fn describe_execution_error(text: &str) -> String {
    let text = text.replace("No such key: ", "no field named ");
    if text.contains("Float") && text.contains("Int") {
        // CEL does not mix whole and decimal numbers in arithmetic.
        format!("{text} (amounts are decimal numbers: write 1.0, not 1)")
    } else {
        text
    }
}

fn describe_value(value: &Value) -> String {
    match value {
        Value::Int(i) => format!("the number {i}"),
        Value::UInt(u) => format!("the number {u}"),
        Value::Float(f) => format!("the number {f}"),
        Value::String(s) => format!("the text {s:?}"),
        Value::Null => "null".into(),
        Value::List(_) => "a list".into(),
        Value::Map(_) => "a map".into(),
        _ => "a value that is not true or false".into(),
    }
}

/// `order.total`, `customer.group`, `context.hour`… as written in the condition.
fn fields_read(source: &str) -> Vec<String> {
    let mut found: Vec<String> = Vec::new();
    let chars: Vec<char> = source.chars().collect();
    let mut i = 0;
    let mut quote: Option<char> = None;
    while i < chars.len() {
        let c = chars[i];
        if let Some(q) = quote {
            if c == q {
                quote = None;
            }
            i += 1;
            continue;
        }
        if c == '"' || c == '\'' {
            quote = Some(c);
            i += 1;
            continue;
        }
        if c.is_ascii_alphabetic()
            && (i == 0 || !(chars[i - 1].is_ascii_alphanumeric() || chars[i - 1] == '_' || chars[i - 1] == '.'))
        {
            let start = i;
            while i < chars.len() && (chars[i].is_ascii_alphanumeric() || chars[i] == '_' || chars[i] == '.') {
                i += 1;
            }
            let path: String = chars[start..i].iter().collect::<String>().trim_end_matches('.').to_string();
            let root = path.split('.').next().unwrap_or("");
            if ["order", "customer", "context"].contains(&root) && path.contains('.') && !found.contains(&path) {
                found.push(path);
            }
            continue;
        }
        i += 1;
    }
    found
}

/// One order line as a condition sees it (`order.lines`).
#[derive(Debug, Clone, Default)]
pub struct LineFacts {
    pub sku: String,
    pub quantity: i64,
    pub unit_price: Decimal,
    /// The price list's price, when there is one.
    pub list_price: Option<Decimal>,
    pub discount_percent: Decimal,
    pub line_total: Decimal,
    /// The product's tags.
    pub tags: Vec<String>,
}

/// Everything a condition may read. Money is a number in the order's currency.
#[derive(Debug, Clone, Default)]
pub struct Facts {
    pub total: Decimal,
    pub subtotal: Decimal,
    pub tax_total: Decimal,
    pub currency: String,
    pub channel: String,
    pub lines: Vec<LineFacts>,
    pub tags: Vec<String>,
    pub destination: Option<Address>,
    pub customer_code: String,
    pub customer_group: String,
    pub customer_region: String,
    pub credit_limit: Option<Decimal>,
    /// Open orders not yet paid, excluding this one.
    pub exposure: Decimal,
    pub payment_terms: String,
    /// UTC hour 0–23 and ISO weekday 1 (Monday)–7 of the evaluation.
    pub hour: i64,
    pub weekday: i64,
    pub date: String,
}

fn number(d: Decimal) -> Value {
    Value::Float(d.to_f64().unwrap_or(0.0))
}

fn text(s: &str) -> Value {
    Value::String(Arc::new(s.to_string()))
}

fn map(entries: Vec<(&str, Value)>) -> Value {
    let map: HashMap<String, Value> = entries.into_iter().map(|(k, v)| (k.to_string(), v)).collect();
    Value::Map(map.into())
}

impl Facts {
    /// Representative facts for checking a condition when it is saved.
    pub fn sample() -> Facts {
        Facts {
            total: Decimal::new(1130000, 2),
            subtotal: Decimal::new(1000000, 2),
            tax_total: Decimal::new(130000, 2),
            currency: "CNY".into(),
            channel: "web".into(),
            lines: vec![LineFacts {
                sku: "SAMPLE-1".into(),
                quantity: 10,
                unit_price: Decimal::new(100000, 2),
                list_price: Some(Decimal::new(100000, 2)),
                discount_percent: Decimal::ZERO,
                line_total: Decimal::new(1000000, 2),
                tags: vec!["fragile".into()],
            }],
            tags: vec!["sample".into()],
            destination: None,
            customer_code: "C-SAMPLE".into(),
            customer_group: "retail".into(),
            customer_region: "CN".into(),
            credit_limit: Some(Decimal::new(5000000, 2)),
            exposure: Decimal::ZERO,
            payment_terms: "net30".into(),
            hour: 9,
            weekday: 1,
            date: "2026-01-05".into(),
        }
    }

    /// Every tag of every product on the order, once each.
    pub fn product_tags(&self) -> Vec<&str> {
        let mut tags: Vec<&str> = self.lines.iter().flat_map(|l| l.tags.iter().map(String::as_str)).collect();
        tags.sort_unstable();
        tags.dedup();
        tags
    }

    /// Units over all lines.
    pub fn quantity(&self) -> i64 {
        self.lines.iter().map(|l| l.quantity).sum()
    }

    /// How far below list prices the order is, as a percentage of the list value.
    pub fn discount_percent(&self) -> Decimal {
        let list: Decimal =
            self.lines.iter().map(|l| l.list_price.unwrap_or(l.unit_price) * Decimal::from(l.quantity)).sum();
        if list.is_zero() {
            return Decimal::ZERO;
        }
        ((list - self.subtotal) / list * Decimal::ONE_HUNDRED).round_dp(2).max(Decimal::ZERO)
    }

    fn destination_value(&self) -> Value {
        let a = self.destination.as_ref();
        map(vec![
            ("country", text(a.map(|a| a.country.as_str()).unwrap_or(""))),
            ("region", text(a.and_then(|a| a.region.as_deref()).unwrap_or(""))),
            ("city", text(a.map(|a| a.city.as_str()).unwrap_or(""))),
        ])
    }

    fn context(&self) -> Context<'static, 'static> {
        let lines: Vec<Value> = self
            .lines
            .iter()
            .map(|l| {
                map(vec![
                    ("sku", text(&l.sku)),
                    ("quantity", Value::Int(l.quantity)),
                    ("unit_price", number(l.unit_price)),
                    ("list_price", number(l.list_price.unwrap_or(l.unit_price))),
                    ("discount_percent", number(l.discount_percent)),
                    ("line_total", number(l.line_total)),
                    ("tags", Value::List(l.tags.iter().map(|t| text(t)).collect::<Vec<_>>().into())),
                ])
            })
            .collect();
        let order = map(vec![
            ("total", number(self.total)),
            ("subtotal", number(self.subtotal)),
            ("tax_total", number(self.tax_total)),
            ("currency", text(&self.currency)),
            ("channel", text(&self.channel)),
            ("lines", Value::List(lines.into())),
            ("line_count", Value::Int(self.lines.len() as i64)),
            ("quantity", Value::Int(self.quantity())),
            ("discount_percent", number(self.discount_percent())),
            ("tags", Value::List(self.tags.iter().map(|t| text(t)).collect::<Vec<_>>().into())),
            ("product_tags", Value::List(self.product_tags().iter().map(|t| text(t)).collect::<Vec<_>>().into())),
            ("destination", self.destination_value()),
        ]);
        let customer = map(vec![
            ("code", text(&self.customer_code)),
            ("group", text(&self.customer_group)),
            ("region", text(&self.customer_region)),
            // No limit reads as -1, so `customer.credit_limit >= 0 && …` tests for one.
            ("credit_limit", self.credit_limit.map(number).unwrap_or(Value::Float(-1.0))),
            ("exposure", number(self.exposure)),
            ("payment_terms", text(&self.payment_terms)),
        ]);
        let context = map(vec![
            ("hour", Value::Int(self.hour)),
            ("weekday", Value::Int(self.weekday)),
            ("date", text(&self.date)),
        ]);
        let mut ctx = Context::default();
        ctx.add_variable_from_value("order", order);
        ctx.add_variable_from_value("customer", customer);
        ctx.add_variable_from_value("context", context);
        ctx
    }

    /// The value at a dotted path, shown for explanations.
    fn lookup(&self, path: &str) -> Option<String> {
        let money = |d: Decimal| d.normalize().to_string();
        Some(match path {
            "order.total" => money(self.total),
            "order.subtotal" => money(self.subtotal),
            "order.tax_total" => money(self.tax_total),
            "order.currency" => format!("{:?}", self.currency),
            "order.channel" => format!("{:?}", self.channel),
            "order.line_count" => self.lines.len().to_string(),
            "order.quantity" => self.quantity().to_string(),
            "order.discount_percent" => money(self.discount_percent()),
            "order.tags" => format!("{:?}", self.tags),
            "order.product_tags" => format!("{:?}", self.product_tags()),
            "order.lines" => format!(
                "[{}]",
                self.lines.iter().map(|l| format!("{} × {}", l.sku, l.quantity)).collect::<Vec<_>>().join(", ")
            ),
            "order.destination.country" => {
                format!("{:?}", self.destination.as_ref().map(|a| a.country.as_str()).unwrap_or(""))
            }
            "order.destination.region" => {
                format!("{:?}", self.destination.as_ref().and_then(|a| a.region.as_deref()).unwrap_or(""))
            }
            "order.destination.city" => {
                format!("{:?}", self.destination.as_ref().map(|a| a.city.as_str()).unwrap_or(""))
            }
            "customer.code" => format!("{:?}", self.customer_code),
            "customer.group" => format!("{:?}", self.customer_group),
            "customer.region" => format!("{:?}", self.customer_region),
            "customer.credit_limit" => self.credit_limit.map(money).unwrap_or_else(|| "none (-1)".into()),
            "customer.exposure" => money(self.exposure),
            "customer.payment_terms" => format!("{:?}", self.payment_terms),
            "context.hour" => self.hour.to_string(),
            "context.weekday" => self.weekday.to_string(),
            "context.date" => format!("{:?}", self.date),
            _ => return None,
        })
    }
}

/// A stored rule, ready to run.
#[derive(Debug, Clone)]
pub struct Rule {
    pub id: i64,
    pub name: String,
    pub condition: Condition,
    pub actions: Vec<RuleAction>,
}

/// One approval the rules ask for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApprovalStep {
    pub step: u32,
    pub role: Role,
    pub rule_id: i64,
}

/// What the rules that fired add up to.
#[derive(Debug, Clone, Default)]
pub struct Outcome {
    /// (rule id, rule name) in the order the rules ran.
    pub fired: Vec<(i64, String)>,
    /// Sorted by step; one entry per (step, role).
    pub approvals: Vec<ApprovalStep>,
    pub holds: Vec<String>,
    pub tags: Vec<String>,
    /// The first rule to route decides.
    pub warehouse: Option<String>,
    pub department: Option<String>,
    /// The first rule to name a carrier decides: `CARRIER` or `CARRIER/SERVICE`.
    pub carrier: Option<String>,
    pub notify: Vec<Role>,
    /// The highest priority any rule gave.
    pub priority: Option<i64>,
    /// Rules that could not run on this order, and why; they count as not firing.
    pub failed: Vec<(i64, String)>,
}

/// Runs `rules` (already in priority order) against the facts. Tags added by earlier
/// rules are visible to later ones in `order.tags`.
pub fn decide(rules: &[Rule], facts: &Facts) -> Outcome {
    let mut facts = facts.clone();
    let mut outcome = Outcome::default();
    for rule in rules {
        match rule.condition.holds(&facts) {
            Ok(true) => {}
            Ok(false) => continue,
            Err(why) => {
                outcome.failed.push((rule.id, why));
                continue;
            }
        }
        outcome.fired.push((rule.id, rule.name.clone()));
        for action in &rule.actions {
            match action {
                RuleAction::RequireApproval { role, step } => {
                    let step = step.unwrap_or(1);
                    if !outcome.approvals.iter().any(|a| a.step == step && a.role == *role) {
                        outcome.approvals.push(ApprovalStep { step, role: *role, rule_id: rule.id });
                    }
                }
                RuleAction::Hold { reason } => outcome.holds.push(reason.clone()),
                RuleAction::Tag { tag } => {
                    if !facts.tags.contains(tag) {
                        facts.tags.push(tag.clone());
                        outcome.tags.push(tag.clone());
                    }
                }
                RuleAction::Route { warehouse, department } => {
                    if outcome.warehouse.is_none() {
                        outcome.warehouse = warehouse.clone();
                    }
                    if outcome.department.is_none() {
                        outcome.department = department.clone();
                    }
                }
                RuleAction::Ship { carrier, service } => {
                    if outcome.carrier.is_none() {
                        outcome.carrier = Some(match service {
                            Some(service) => format!("{carrier}/{service}"),
                            None => carrier.clone(),
                        });
                    }
                }
                RuleAction::Notify { role } => {
                    if !outcome.notify.contains(role) {
                        outcome.notify.push(*role)
                    }
                }
                RuleAction::Priority { level } => {
                    outcome.priority = Some(outcome.priority.map_or(*level, |p: i64| p.max(*level)))
                }
            }
        }
    }
    outcome.approvals.sort_by_key(|a| (a.step, a.role));
    outcome
}

/// Checks the actions of a rule being saved: each field named by its path.
pub fn validate_actions(actions: &[RuleAction]) -> Vec<FieldError> {
    let mut errors = Vec::new();
    if actions.is_empty() {
        errors.push(FieldError::new("actions", "a rule needs at least one action"));
    }
    if actions.len() > 20 {
        errors.push(FieldError::new("actions", "a rule may have at most 20 actions"));
    }
    for (i, action) in actions.iter().enumerate() {
        let at = |name: &str| format!("actions[{i}].{name}");
        let text_ok = |s: &str, max: usize| !s.trim().is_empty() && s.chars().count() <= max;
        match action {
            RuleAction::RequireApproval { step, .. } if step.is_some_and(|s| s == 0 || s > 9) => {
                errors.push(FieldError::new(at("step"), "must be between 1 and 9"));
            }
            RuleAction::Hold { reason } if !text_ok(reason, 200) => {
                errors.push(FieldError::new(at("reason"), "is required, at most 200 characters"))
            }
            RuleAction::Tag { tag } if !text_ok(tag, 50) => {
                errors.push(FieldError::new(at("tag"), "is required, at most 50 characters"))
            }
            RuleAction::Priority { level } if !(-100..=100).contains(level) => {
                errors.push(FieldError::new(at("level"), "must be between -100 and 100"))
            }
            RuleAction::Ship { carrier, service } => {
                if !text_ok(carrier, 32) {
                    errors.push(FieldError::new(at("carrier"), "is required, at most 32 characters"));
                }
                if service.as_deref().is_some_and(|s| !text_ok(s, 32)) {
                    errors.push(FieldError::new(at("service"), "must be 1–32 characters"));
                }
            }
            RuleAction::Route { warehouse, department } => {
                if warehouse.is_none() && department.is_none() {
                    errors.push(FieldError::new(at("warehouse"), "give a warehouse, a department or both"));
                }
                if department.as_deref().is_some_and(|d| !text_ok(d, 50)) {
                    errors.push(FieldError::new(at("department"), "must be 1–50 characters"));
                }
            }
            _ => {}
        }
    }
    errors
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(id: i64, condition: &str, actions: Vec<RuleAction>) -> Rule {
        Rule { id, name: format!("rule {id}"), condition: Condition::compile(condition).unwrap(), actions }
    }

    fn facts(total: i64, group: &str) -> Facts {
        Facts {
            total: Decimal::from(total),
            subtotal: Decimal::from(total),
            customer_group: group.into(),
            ..Facts::sample()
        }
    }

    #[test]
    fn a_large_order_from_a_non_vip_needs_a_manager() {
        let rules = [rule(
            1,
            r#"order.total > 10000 && customer.group != "vip""#,
            vec![RuleAction::RequireApproval { role: Role::Approver, step: None }],
        )];
        assert_eq!(decide(&rules, &facts(12_000, "retail")).approvals.len(), 1);
        assert!(decide(&rules, &facts(12_000, "vip")).approvals.is_empty());
        assert!(decide(&rules, &facts(9_000, "retail")).approvals.is_empty());
    }

    #[test]
    fn chains_merge_into_ordered_steps_without_duplicates() {
        let manager = RuleAction::RequireApproval { role: Role::Approver, step: Some(1) };
        let rules = [
            rule(1, "order.total > 10000", vec![manager.clone()]),
            rule(
                2,
                "order.total > 100000",
                vec![RuleAction::RequireApproval { role: Role::Finance, step: Some(2) }, manager],
            ),
        ];
        let outcome = decide(&rules, &facts(200_000, "retail"));
        let steps: Vec<(u32, Role)> = outcome.approvals.iter().map(|a| (a.step, a.role)).collect();
        assert_eq!(steps, [(1, Role::Approver), (2, Role::Finance)]);
        assert_eq!(outcome.fired.len(), 2);
    }

    #[test]
    fn tags_from_earlier_rules_are_seen_by_later_ones() {
        let rules = [
            rule(1, r#"order.channel == "web""#, vec![RuleAction::Tag { tag: "online".into() }]),
            rule(2, r#""online" in order.tags"#, vec![RuleAction::Hold { reason: "check online order".into() }]),
        ];
        let outcome = decide(&rules, &Facts { tags: vec![], ..facts(1, "retail") });
        assert!(outcome.tags.contains(&"online".to_string()));
        assert_eq!(outcome.holds, ["check online order"]);
    }

    #[test]
    fn product_tags_are_seen_per_line_and_for_the_order() {
        let c = Condition::compile(r#""fragile" in order.product_tags && order.lines.exists(l, "fragile" in l.tags)"#)
            .unwrap();
        assert_eq!(c.holds(&Facts::sample()), Ok(true));
        assert!(c.explain(&Facts::sample()).starts_with(r#"order.product_tags = ["fragile"]"#));
    }

    #[test]
    fn conditions_over_lines_and_destination_run() {
        let c = Condition::compile(r#"order.lines.exists(l, l.quantity >= 10) && order.destination.country == """#)
            .unwrap();
        assert_eq!(c.holds(&Facts::sample()), Ok(true));
    }

    #[test]
    fn a_syntax_error_names_line_and_column() {
        let error = Condition::compile("order.total >").unwrap_err();
        assert_eq!(error.field, "condition");
        assert!(error.message.starts_with("line 1, column 14:"), "{}", error.message);
    }

    #[test]
    fn a_misspelt_field_or_a_non_boolean_is_refused_on_save() {
        let misspelt = Condition::compile("order.totl > 5").unwrap_err();
        assert!(misspelt.message.contains("totl"), "{}", misspelt.message);
        let number = Condition::compile("order.total + 1.0").unwrap_err();
        let mixed = Condition::compile("order.total + 1 > 5.0").unwrap_err();
        assert!(mixed.message.contains("write 1.0"), "{}", mixed.message);
        assert!(number.message.contains("true or false"), "{}", number.message);
        assert!(Condition::compile("").is_err());
        assert!(Condition::compile(&format!("{}1{}", "(".repeat(20), ")".repeat(20))).is_err());
    }

    #[test]
    fn an_explanation_shows_each_field_read() {
        let c = Condition::compile(r#"order.total > 10000 && customer.group != "vip""#).unwrap();
        let why = c.explain(&facts(12_000, "retail"));
        assert_eq!(why, r#"order.total = 12000, customer.group = "retail": the condition holds"#);
    }

    #[test]
    fn the_discount_is_measured_against_list_prices() {
        let mut f = Facts::sample();
        f.lines[0].unit_price = Decimal::new(80000, 2);
        f.subtotal = Decimal::new(800000, 2);
        assert_eq!(f.discount_percent(), Decimal::from(20));
    }

    #[test]
    fn actions_are_checked_field_by_field() {
        let errors = validate_actions(&[
            RuleAction::Hold { reason: " ".into() },
            RuleAction::Route { warehouse: None, department: None },
        ]);
        let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["actions[0].reason", "actions[1].warehouse"]);
        assert_eq!(validate_actions(&[]).len(), 1);
    }
}

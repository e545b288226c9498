//! E-mail: SMTP settings, the templates per event and language (built in, overridable by
//! the business), and the messages an event turns into — to the customer in their
//! language, and to the staff whose roles are told about it.

use super::notifications::StaffMember;
use super::outbox::OutboxEvent;
use super::{IntegrationError, check_patterns};
use crate::common::Ctx;
use crate::db::{DbError, Tx};
use crate::params;
use ordo_domain::validation::Violations;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// The languages messages are written in.
pub use ordo_domain::customers::LANGUAGES;

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(default)]
pub struct MailSettings {
    pub enabled: bool,
    pub host: String,
    pub port: u16,
    /// none, starttls or tls.
    pub security: String,
    pub username: Option<String>,
    /// Write-only: never shown again; leave out to keep the stored one.
    #[serde(skip_serializing)]
    pub password: Option<String>,
    /// Read-only: whether a password is stored.
    pub password_set: bool,
    pub from_address: String,
    pub from_name: String,
    /// The language of customers who have none set.
    pub default_language: String,
    /// Events that e-mail the customer.
    pub customer_events: Vec<String>,
    /// Events that e-mail the staff whose roles are told about them.
    pub staff_events: Vec<String>,
}

impl Default for MailSettings {
    fn default() -> Self {
        let list = |v: &[&str]| v.iter().map(|s| s.to_string()).collect();
        MailSettings {
            enabled: false,
            host: "localhost".into(),
            port: 25,
            security: "none".into(),
            username: None,
            password: None,
            password_set: false,
            from_address: "orders@example.com".into(),
            from_name: "Ordo".into(),
            default_language: "en".into(),
            customer_events: list(&[
                "order.confirmed",
                "payment.received",
                "shipment.shipped",
                "shipment.delivered",
                "return.approved",
                "return.rejected",
                "return.received",
                "return.refunded",
            ]),
            staff_events: list(&["order.approval_requested", "stock.low", "payment.received", "shipment.exception"]),
        }
    }
}

const SETTINGS: &str = "mail";

/// The settings with the password (for the sender).
pub fn mail_settings(tx: &mut dyn Tx) -> Result<MailSettings, DbError> {
    let mut settings: MailSettings =
        crate::settings::document(tx, SETTINGS)?.and_then(|s| serde_json::from_str(&s).ok()).unwrap_or_default();
    settings.password_set = settings.password.as_deref().is_some_and(|p| !p.is_empty());
    Ok(settings)
}

/// Stored as JSON with the password, which serialising for answers leaves out.
#[derive(Serialize)]
struct Stored<'a> {
    #[serde(flatten)]
    settings: &'a MailSettings,
    password: Option<&'a str>,
}

pub fn update_mail_settings(
    tx: &mut dyn Tx,
    ctx: &Ctx,
    input: &MailSettings,
) -> Result<MailSettings, IntegrationError> {
    let mut v = Violations::new();
    if input.enabled && input.host.trim().is_empty() {
        v.add("host", "is required to send mail");
    }
    if input.port == 0 {
        v.add("port", "must be 1–65535");
    }
    if !["none", "starttls", "tls"].contains(&input.security.as_str()) {
        v.add("security", "must be none, starttls or tls");
    }
    if !valid_address(&input.from_address) {
        v.add("from_address", "must be an e-mail address");
    }
    if !LANGUAGES.contains(&input.default_language.as_str()) {
        v.add("default_language", format!("must be one of {}", LANGUAGES.join(", ")));
    }
    check_patterns("customer_events", &input.customer_events, &mut v);
    check_patterns("staff_events", &input.staff_events, &mut v);
    v.into_result()?;
    let current = mail_settings(tx)?;
    let mut settings = input.clone();
    settings.password = input.password.clone().or(current.password);
    let value = serde_json::to_string(&Stored { settings: &settings, password: settings.password.as_deref() })
        .map_err(|e| DbError::Other(e.to_string()))?;
    // Stored directly: the settings audit entry would otherwise carry the password.
    if tx.execute(
        "UPDATE settings SET value = ?, updated_by = ?, updated_at = ? WHERE name = ?",
        params![value.as_str(), ctx.actor.as_str(), ctx.now.micros(), SETTINGS],
    )? == 0
    {
        tx.execute(
            "INSERT INTO settings (name, value, updated_by, updated_at) VALUES (?, ?, ?, ?)",
            params![SETTINGS, value.as_str(), ctx.actor.as_str(), ctx.now.micros()],
        )?;
    }
    let summary = format!("{}:{} ({}), enabled: {}", settings.host, settings.port, settings.security, settings.enabled);
    crate::audit::record(tx, ctx, "settings", "settings.mail", SETTINGS, &summary)?;
    mail_settings(tx).map_err(Into::into)
}

pub fn valid_address(address: &str) -> bool {
    let Some((local, domain)) = address.trim().split_once('@') else { return false };
    !local.is_empty() && domain.contains('.') && !domain.starts_with('.') && !address.contains(char::is_whitespace)
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct MailTemplate {
    pub event_type: String,
    pub language: String,
    /// `{name}` placeholders are filled from the event's data (`{order}`, `{total}`,
    /// `{tracking_number}`…) and `{customer_name}`.
    pub subject: String,
    pub body: String,
    /// False while the built-in text is used.
    pub customised: bool,
}

#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
pub struct TemplateInput {
    pub subject: Option<String>,
    pub body: Option<String>,
}

/// The built-in subject and body of an event in a language.
fn built_in(event: &str, language: &str) -> (&'static str, &'static str) {
    let zh_cn = language == "zh-CN";
    let zh_tw = language == "zh-TW";
    macro_rules! pick {
        ($en:expr, $cn:expr, $tw:expr) => {
            if zh_cn {
                $cn
            } else if zh_tw {
                $tw
            } else {
                $en
            }
        };
    }
    match event {
        "order.confirmed" => pick!(
            (
                "Order {order} confirmed",
                "Dear {customer_name},\n\nthank you for your order {order} of {total} {currency}. We are preparing it now.\n"
            ),
            (
                "订单 {order} 已确认",
                "尊敬的 {customer_name}：\n\n感谢您的订单 {order}，金额 {total} {currency}。我们正在为您备货。\n"
            ),
            (
                "訂單 {order} 已確認",
                "親愛的 {customer_name}：\n\n感謝您的訂單 {order}，金額 {total} {currency}。我們正在為您備貨。\n"
            )
        ),
        "payment.received" => pick!(
            (
                "Payment received for {order_number}",
                "Dear {customer_name},\n\nwe received {amount} {currency} for order {order_number}. Thank you.\n"
            ),
            (
                "已收到订单 {order_number} 的付款",
                "尊敬的 {customer_name}：\n\n我们已收到订单 {order_number} 的付款 {amount} {currency}。谢谢！\n"
            ),
            (
                "已收到訂單 {order_number} 的付款",
                "親愛的 {customer_name}：\n\n我們已收到訂單 {order_number} 的付款 {amount} {currency}。謝謝！\n"
            )
        ),
        "shipment.shipped" => pick!(
            (
                "Your order {order} has shipped",
                "Dear {customer_name},\n\nshipment {shipment} of order {order} is on its way with {carrier}.\nTracking number: {tracking_number}\n{tracking_url}\n"
            ),
            (
                "您的订单 {order} 已发货",
                "尊敬的 {customer_name}：\n\n订单 {order} 的包裹 {shipment} 已由 {carrier} 发出。\n运单号：{tracking_number}\n{tracking_url}\n"
            ),
            (
                "您的訂單 {order} 已出貨",
                "親愛的 {customer_name}：\n\n訂單 {order} 的包裹 {shipment} 已由 {carrier} 寄出。\n追蹤號碼：{tracking_number}\n{tracking_url}\n"
            )
        ),
        "shipment.delivered" => pick!(
            (
                "Shipment {shipment} delivered",
                "Dear {customer_name},\n\nshipment {shipment} of order {order} was delivered. We hope you enjoy it.\n"
            ),
            (
                "包裹 {shipment} 已送达",
                "尊敬的 {customer_name}：\n\n订单 {order} 的包裹 {shipment} 已送达，欢迎评价。\n"
            ),
            (
                "包裹 {shipment} 已送達",
                "親愛的 {customer_name}：\n\n訂單 {order} 的包裹 {shipment} 已送達，歡迎評價。\n"
            )
        ),
        "return.approved" => pick!(
            (
                "Return {number} approved",
                "Dear {customer_name},\n\nyour return {number} for order {order_number} is approved. Please send the goods back with the RMA number on the parcel.\n"
            ),
            (
                "退货 {number} 已批准",
                "尊敬的 {customer_name}：\n\n您对订单 {order_number} 的退货申请 {number} 已批准，请在包裹上注明退货单号后寄回。\n"
            ),
            (
                "退貨 {number} 已核准",
                "親愛的 {customer_name}：\n\n您對訂單 {order_number} 的退貨申請 {number} 已核准，請在包裹上註明退貨單號後寄回。\n"
            )
        ),
        "return.rejected" => pick!(
            (
                "Return {number} not accepted",
                "Dear {customer_name},\n\nwe cannot accept return {number} for order {order_number}: {reason}\n"
            ),
            (
                "退货 {number} 未获批准",
                "尊敬的 {customer_name}：\n\n很抱歉，订单 {order_number} 的退货申请 {number} 未获批准：{reason}\n"
            ),
            (
                "退貨 {number} 未獲核准",
                "親愛的 {customer_name}：\n\n很抱歉，訂單 {order_number} 的退貨申請 {number} 未獲核准：{reason}\n"
            )
        ),
        "return.received" => pick!(
            (
                "We received your return {number}",
                "Dear {customer_name},\n\nthe goods of return {number} arrived and were inspected.\n"
            ),
            ("已收到退货 {number}", "尊敬的 {customer_name}：\n\n退货 {number} 的商品已收到并完成检验。\n"),
            ("已收到退貨 {number}", "親愛的 {customer_name}：\n\n退貨 {number} 的商品已收到並完成檢驗。\n")
        ),
        "return.refunded" => pick!(
            (
                "Refund for return {number}",
                "Dear {customer_name},\n\nwe refunded {amount} for return {number} of order {order_number}.\n"
            ),
            (
                "退货 {number} 已退款",
                "尊敬的 {customer_name}：\n\n订单 {order_number} 的退货 {number} 已退款 {amount}。\n"
            ),
            (
                "退貨 {number} 已退款",
                "親愛的 {customer_name}：\n\n訂單 {order_number} 的退貨 {number} 已退款 {amount}。\n"
            )
        ),
        "portal.invited" => pick!(
            (
                "{customer_name}: your access to our customer portal",
                "Dear {name},\n\nyou are invited to order online for {customer_name}: see your prices and stock, place orders and follow them, and download invoices and statements.\n\nSet your password here (the link works for {days} days, once):\n{link}\n"
            ),
            (
                "{customer_name}：客户自助门户邀请",
                "{name} 您好：\n\n诚邀您为 {customer_name} 使用在线订货门户：查看专属价格与库存，下单并跟踪订单，下载发票和对账单。\n\n请通过以下链接设置密码（{days} 天内有效，仅可使用一次）：\n{link}\n"
            ),
            (
                "{customer_name}：客戶自助入口邀請",
                "{name} 您好：\n\n誠邀您為 {customer_name} 使用線上訂貨入口：查看專屬價格與庫存，下單並追蹤訂單，下載發票和對帳單。\n\n請透過以下連結設定密碼（{days} 天內有效，僅可使用一次）：\n{link}\n"
            )
        ),
        "order.approval_requested" => pick!(
            ("Approval needed: {order}", "Order {order} ({total} {currency}) waits for your approval.\n"),
            ("待审批：{order}", "订单 {order}（{total} {currency}）等待您审批。\n"),
            ("待審批：{order}", "訂單 {order}（{total} {currency}）等待您審批。\n")
        ),
        "stock.low" => pick!(
            (
                "Low stock: {sku} in {warehouse}",
                "{sku} in {warehouse}: {available} available, reorder point {reorder_point}.\n"
            ),
            (
                "库存不足：{warehouse} 的 {sku}",
                "{warehouse} 的 {sku} 可用 {available}，低于再订货点 {reorder_point}。\n"
            ),
            (
                "庫存不足：{warehouse} 的 {sku}",
                "{warehouse} 的 {sku} 可用 {available}，低於再訂貨點 {reorder_point}。\n"
            )
        ),
        "shipment.exception" => pick!(
            ("Delivery exception on {shipment}", "Shipment {shipment}: {kind}. {detail}\nClaim {claim} was opened.\n"),
            ("包裹 {shipment} 配送异常", "包裹 {shipment}：{kind}。{detail}\n已创建理赔单 {claim}。\n"),
            ("包裹 {shipment} 配送異常", "包裹 {shipment}：{kind}。{detail}\n已建立理賠單 {claim}。\n")
        ),
        _ => pick!(
            ("Ordo: {event}", "{event}\n\n{data}\n"),
            ("Ordo：{event}", "{event}\n\n{data}\n"),
            ("Ordo：{event}", "{event}\n\n{data}\n")
        ),
    }
}

/// A one-line title for the notification centre: the event's subject in `language`.
pub(crate) fn title(tx: &mut dyn Tx, event: &OutboxEvent, language: &str) -> Result<String, DbError> {
    let t = template(tx, &event.kind, language)?;
    Ok(render(&t.subject, event, &[("customer_name", String::new())]))
}

pub fn get_template(tx: &mut dyn Tx, event: &str, language: &str) -> Result<MailTemplate, IntegrationError> {
    check_template_key(event, language)?;
    Ok(template(tx, event, language)?)
}

fn check_template_key(event: &str, language: &str) -> Result<(), IntegrationError> {
    let mut v = Violations::new();
    if ordo_domain::events::spec(event).is_none() {
        v.add("event_type", "is not an event type (see GET /api/v1/events/catalogue)");
    }
    if !LANGUAGES.contains(&language) {
        v.add("language", format!("must be one of {}", LANGUAGES.join(", ")));
    }
    Ok(v.into_result()?)
}

fn template(tx: &mut dyn Tx, event: &str, language: &str) -> Result<MailTemplate, DbError> {
    let stored = tx.query_opt(
        "SELECT subject, body FROM mail_templates WHERE event_type = ? AND language = ?",
        params![event, language],
    )?;
    Ok(match stored {
        Some(r) => MailTemplate {
            event_type: event.into(),
            language: language.into(),
            subject: r.text(0)?,
            body: r.text(1)?,
            customised: true,
        },
        None => {
            let (subject, body) = built_in(event, language);
            MailTemplate {
                event_type: event.into(),
                language: language.into(),
                subject: subject.into(),
                body: body.into(),
                customised: false,
            }
        }
    })
}

/// The templates of every mailed event in every language.
pub fn list_templates(tx: &mut dyn Tx) -> Result<Vec<MailTemplate>, IntegrationError> {
    let settings = mail_settings(tx)?;
    let mut out = Vec::new();
    for spec in ordo_domain::events::CATALOGUE {
        let mailed = ordo_domain::events::subscribed(&settings.customer_events, spec.name)
            || ordo_domain::events::subscribed(&settings.staff_events, spec.name);
        if !mailed {
            continue;
        }
        for language in LANGUAGES {
            out.push(template(tx, spec.name, language)?);
        }
    }
    Ok(out)
}

/// Replaces a template; an empty subject and body go back to the built-in text.
pub fn put_template(
    tx: &mut dyn Tx,
    ctx: &Ctx,
    event: &str,
    language: &str,
    input: &TemplateInput,
) -> Result<MailTemplate, IntegrationError> {
    check_template_key(event, language)?;
    let subject = input.subject.as_deref().map(str::trim).unwrap_or("");
    let body = input.body.as_deref().unwrap_or("");
    tx.execute("DELETE FROM mail_templates WHERE event_type = ? AND language = ?", params![event, language])?;
    if !(subject.is_empty() && body.trim().is_empty()) {
        let mut v = Violations::new();
        if subject.is_empty() || subject.len() > 300 || subject.contains('\n') {
            v.add("subject", "is required: one line, at most 300 characters");
        }
        if body.trim().is_empty() || body.len() > 20_000 {
            v.add("body", "is required, at most 20000 characters");
        }
        v.into_result()?;
        tx.execute(
            "INSERT INTO mail_templates (event_type, language, subject, body, updated_by, updated_at) VALUES (?, ?, ?, ?, ?, ?)",
            params![event, language, subject, body, ctx.actor.as_str(), ctx.now.micros()],
        )?;
    }
    crate::audit::record(tx, ctx, "settings", "mail.template", &format!("{event} {language}"), subject)?;
    get_template(tx, event, language)
}

/// Fills `{name}` placeholders from the event's data and the extra values; unknown ones
/// are left as written so a typo shows.
pub fn render(text: &str, event: &OutboxEvent, extra: &[(&str, String)]) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find('{') {
        out.push_str(&rest[..start]);
        let after = &rest[start + 1..];
        let Some(end) = after.find('}') else {
            out.push_str(&rest[start..]);
            return out;
        };
        let name = &after[..end];
        let value = extra.iter().find(|(k, _)| *k == name).map(|(_, v)| v.clone()).or_else(|| match name {
            "event" => Some(event.kind.clone()),
            "data" => Some(event.data.to_string()),
            _ => event.data.get(name).map(|v| match v {
                serde_json::Value::String(s) => s.clone(),
                serde_json::Value::Null => String::new(),
                other => other.to_string(),
            }),
        });
        match value {
            Some(value) => out.push_str(&value),
            None => {
                out.push('{');
                out.push_str(name);
                out.push('}');
            }
        }
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    out
}

/// One message ready to send.
#[derive(Debug, Clone)]
pub struct Message {
    pub to: String,
    pub subject: String,
    pub body: String,
}

/// The messages an event turns into: to its customer (if the event is a customer one and
/// the customer has an address) and to each told staff member (if a staff one).
pub(crate) fn messages_for(
    tx: &mut dyn Tx,
    settings: &MailSettings,
    event: &OutboxEvent,
    staff: &[&StaffMember],
) -> Result<Vec<Message>, DbError> {
    let mut out = Vec::new();
    // A scheduled report carries its own text and recipients.
    if event.kind == "report.mailed" {
        let text = |key: &str| event.data.get(key).and_then(|v| v.as_str()).unwrap_or_default().to_string();
        for to in event.data.get("recipients").and_then(|r| r.as_array()).into_iter().flatten() {
            if let Some(to) = to.as_str().filter(|to| valid_address(to)) {
                out.push(Message { to: to.to_string(), subject: text("subject"), body: text("body") });
            }
        }
        return Ok(out);
    }
    // A portal invitation goes to the invited person, with a link only the mail carries.
    if event.kind == "portal.invited" {
        let text = |key: &str| event.data.get(key).and_then(|v| v.as_str()).unwrap_or_default().to_string();
        let id = event.data.get("invitation_id").and_then(|v| v.as_i64()).unwrap_or(0);
        let to = text("email");
        if let Some(link) = crate::portal::access::invitation_link(tx, id, ordo_domain::Timestamp::now())?
            && valid_address(&to)
        {
            let language = Some(text("language")).filter(|l| LANGUAGES.contains(&l.as_str()));
            let t = template(tx, &event.kind, &language.unwrap_or(settings.default_language.clone()))?;
            let extra = [("link", link), ("days", crate::portal::INVITATION_DAYS.to_string())];
            out.push(Message { to, subject: render(&t.subject, event, &extra), body: render(&t.body, event, &extra) });
        }
        return Ok(out);
    }
    if ordo_domain::events::subscribed(&settings.customer_events, &event.kind)
        && let Some((email, name, language)) = customer_of(tx, event)?
    {
        let language =
            language.filter(|l| LANGUAGES.contains(&l.as_str())).unwrap_or(settings.default_language.clone());
        let t = template(tx, &event.kind, &language)?;
        let extra = [("customer_name", name)];
        out.push(Message {
            to: email,
            subject: render(&t.subject, event, &extra),
            body: render(&t.body, event, &extra),
        });
    }
    if ordo_domain::events::subscribed(&settings.staff_events, &event.kind) {
        for member in staff {
            let t = template(tx, &event.kind, member.language())?;
            let extra = [("customer_name", member.name.clone())];
            out.push(Message {
                to: member.email.clone(),
                subject: render(&t.subject, event, &extra),
                body: render(&t.body, event, &extra),
            });
        }
    }
    Ok(out)
}

/// The customer an event concerns: by `customer_id`, else through `order_id`.
fn customer_of(tx: &mut dyn Tx, event: &OutboxEvent) -> Result<Option<(String, String, Option<String>)>, DbError> {
    let customer_id = match event.data.get("customer_id").and_then(|v| v.as_i64()) {
        Some(id) => Some(id),
        None => match event.data.get("order_id").and_then(|v| v.as_i64()) {
            Some(order) => tx
                .query_opt("SELECT customer_id FROM orders WHERE id = ?", params![order])?
                .map(|r| r.int(0))
                .transpose()?,
            None => None,
        },
    };
    let Some(customer_id) = customer_id else { return Ok(None) };
    let Some(row) = tx.query_opt("SELECT email, name, language FROM customers WHERE id = ?", params![customer_id])?
    else {
        return Ok(None);
    };
    let Some(email) = row.opt_text(0)?.filter(|e| valid_address(e)) else { return Ok(None) };
    Ok(Some((email, row.text(1)?, row.opt_text(2)?)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_come_from_the_data_and_unknown_ones_stay() {
        let event = OutboxEvent {
            id: 1,
            kind: "order.confirmed".into(),
            aggregate: "order".into(),
            aggregate_id: 1,
            data: serde_json::json!({"order": "SO-1", "total": "10.00", "n": 3, "none": null}),
            created_at: ordo_domain::Timestamp(0),
        };
        let text =
            render("{customer_name}: {order} {total} {n}{none} {missing} {", &event, &[("customer_name", "Li".into())]);
        assert_eq!(text, "Li: SO-1 10.00 3 {missing} {");
    }

    #[test]
    fn addresses_need_a_local_part_and_a_domain() {
        assert!(valid_address("a@b.cn"));
        assert!(!valid_address("a@b"));
        assert!(!valid_address("@b.cn"));
        assert!(!valid_address("a b@c.cn"));
    }
}

//! Sales channels: where orders come from. Each kind (web, phone, marketplace…) is a
//! channel of its own that always exists; a business registers more — its Tmall shop, a
//! distributor's system — each with partner API keys that see only that channel's orders,
//! a URL for signed status callbacks (shipped, delivered, cancelled), and a field mapping
//! for the channel's own order JSON (`inbound`).

pub mod inbound;

use crate::auth::{Partner, TokenError, TokenView};
use crate::common::Ctx;
use crate::db::{DbError, Row, Tx};
use crate::orders::{self, NewOrder, Order, OrderError, Placed};
use crate::params;
pub use inbound::InboundMapping;
use ordo_domain::orders::{ChannelKind, check_channel_code};
use ordo_domain::validation::{FieldError, Violations, required_text};
use ordo_domain::{Invalid, Timestamp};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Debug, thiserror::Error)]
pub enum ChannelError {
    #[error(transparent)]
    Invalid(#[from] Invalid),
    #[error("{0}")]
    NotFound(String),
    #[error("the channel changed meanwhile (now version {current})")]
    VersionMismatch { current: i64 },
    #[error(transparent)]
    Token(#[from] TokenError),
    #[error(transparent)]
    Order(#[from] OrderError),
    #[error(transparent)]
    Db(#[from] DbError),
}
crate::store_error!(ChannelError);

#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
pub struct NewChannel {
    /// 2–16 lower-case letters, digits, `-` or `_`: what orders carry as `channel`.
    pub code: Option<String>,
    pub name: Option<String>,
    /// web, phone, email, store, marketplace, distributor, api, import.
    pub kind: Option<String>,
    /// The customer account the channel's partner orders are placed for (a marketplace's
    /// buyers, or the distributor itself).
    pub customer_id: Option<i64>,
    /// Where status callbacks are POSTed (signed; the secret is shown once).
    pub callback_url: Option<String>,
    /// How to read the channel's own order JSON (`POST /channels/{id}/orders`).
    pub inbound_mapping: Option<InboundMapping>,
}

#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
pub struct ChannelChange {
    pub name: Option<String>,
    pub customer_id: Option<i64>,
    /// An empty string stops the callbacks.
    pub callback_url: Option<String>,
    pub inbound_mapping: Option<InboundMapping>,
    /// Switching a channel off refuses its new orders and its partner keys.
    pub active: Option<bool>,
    /// Makes a new callback signing secret (shown once in the answer).
    pub rotate_secret: Option<bool>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SalesChannel {
    pub id: i64,
    pub code: String,
    pub name: String,
    pub kind: ChannelKind,
    /// One of the kinds, which always exist and stay active.
    pub built_in: bool,
    pub customer_id: Option<i64>,
    pub callback_url: Option<String>,
    /// Only in the answer that made it: keep it to verify `Ordo-Signature` on callbacks.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub callback_secret: Option<String>,
    pub inbound_mapping: Option<InboundMapping>,
    pub active: bool,
    pub version: i64,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
pub struct NewPartnerKey {
    /// Who holds the key, e.g. "Tmall connector".
    pub name: Option<String>,
}

/// A partner key as made: the key itself is shown only here.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PartnerKey {
    pub id: i64,
    pub name: String,
    pub channel_id: i64,
    pub channel: String,
    pub created_at: Timestamp,
    /// `Authorization: Bearer <key>`; only its hash is kept.
    pub key: String,
}

fn built_in(code: &str) -> bool {
    ChannelKind::parse(code).is_some()
}

/// Whether orders may be placed on `code` now. The kinds need no lookup.
pub fn is_open(tx: &mut dyn Tx, code: &str) -> Result<bool, DbError> {
    if built_in(code) {
        return Ok(true);
    }
    Ok(tx.query_opt("SELECT 1 FROM channels WHERE code = ? AND active = 1", params![code])?.is_some())
}

/// An optional `channel` field that must name an open channel: `Ok(Err(..))` says why not.
pub fn check_open(tx: &mut dyn Tx, value: Option<&str>) -> Result<Result<Option<String>, FieldError>, DbError> {
    Ok(match value.map(str::trim).filter(|c| !c.is_empty()) {
        None => Ok(None),
        Some(c) if is_open(tx, c)? => Ok(Some(c.to_string())),
        Some(c) => Err(FieldError::new("channel", format!("no active channel has the code {c:?}"))),
    })
}

/// The kind of the channel `code`; rules (auto-cancel) are set per kind.
pub fn kind_of(tx: &mut dyn Tx, code: &str) -> Result<ChannelKind, DbError> {
    if let Some(kind) = ChannelKind::parse(code) {
        return Ok(kind);
    }
    let kind =
        tx.query_opt("SELECT kind FROM channels WHERE code = ?", params![code])?.map(|r| r.text(0)).transpose()?;
    Ok(kind.as_deref().and_then(ChannelKind::parse).unwrap_or(ChannelKind::Api))
}

const COLUMNS: &str =
    "id, code, name, kind, customer_id, callback_url, inbound_mapping, active, version, created_at, updated_at";

fn from_row(r: &Row) -> Result<SalesChannel, DbError> {
    let code = r.text(1)?;
    let kind = ChannelKind::parse(&r.text(3)?).ok_or_else(|| DbError::Decode("unknown channel kind stored".into()))?;
    Ok(SalesChannel {
        id: r.int(0)?,
        built_in: built_in(&code),
        code,
        name: r.text(2)?,
        kind,
        customer_id: r.opt_int(4)?,
        callback_url: r.opt_text(5)?,
        callback_secret: None,
        inbound_mapping: crate::common::from_json_text(r.opt_text(6)?),
        active: r.int(7)? == 1,
        version: r.int(8)?,
        created_at: Timestamp(r.int(9)?),
        updated_at: Timestamp(r.int(10)?),
    })
}

pub fn list_channels(tx: &mut dyn Tx) -> Result<Vec<SalesChannel>, ChannelError> {
    let rows = tx.query(&format!("SELECT {COLUMNS} FROM channels ORDER BY id"), &[])?;
    Ok(rows.iter().map(from_row).collect::<Result<_, _>>()?)
}

/// The codes an order may be placed on now, for choices in forms.
pub fn open_codes(tx: &mut dyn Tx) -> Result<Vec<String>, DbError> {
    tx.query("SELECT code FROM channels WHERE active = 1 ORDER BY id", &[])?.iter().map(|r| r.text(0)).collect()
}

pub fn get_channel(tx: &mut dyn Tx, id: i64) -> Result<SalesChannel, ChannelError> {
    tx.query_opt(&format!("SELECT {COLUMNS} FROM channels WHERE id = ?"), params![id])?
        .map(|r| from_row(&r))
        .transpose()?
        .ok_or_else(|| ChannelError::NotFound(format!("no channel with id {id}")))
}

fn check_customer(tx: &mut dyn Tx, customer_id: Option<i64>, v: &mut Violations) -> Result<(), DbError> {
    if let Some(id) = customer_id
        && tx.query_opt("SELECT 1 FROM customers WHERE id = ?", params![id])?.is_none()
    {
        v.add("customer_id", format!("no customer with id {id}"));
    }
    Ok(())
}

fn new_secret() -> Result<String, DbError> {
    Ok(format!("chsec_{}", crate::payments::provider::random_hex(24).map_err(DbError::Other)?))
}

fn mapping_text(mapping: &Option<InboundMapping>) -> Option<String> {
    crate::common::to_json_text(mapping)
}

pub fn create_channel(tx: &mut dyn Tx, ctx: &Ctx, input: &NewChannel) -> Result<SalesChannel, ChannelError> {
    let mut v = Violations::new();
    let code = v.check(check_channel_code("code", input.code.as_deref()));
    let name = v.check(required_text("name", input.name.as_deref(), 200));
    let kind = v.check(match input.kind.as_deref().map(str::trim) {
        None | Some("") => Err(FieldError::new("kind", "is required")),
        Some(text) => ChannelKind::parse(text)
            .ok_or_else(|| FieldError::new("kind", format!("must be one of {}", ChannelKind::choices()))),
    });
    let callback_url = match input.callback_url.as_deref().map(str::trim) {
        None | Some("") => None,
        url => crate::integrations::webhooks::check_url("callback_url", url, &mut v),
    };
    if let Some(mapping) = &input.inbound_mapping {
        mapping.check("inbound_mapping", &mut v);
    }
    check_customer(tx, input.customer_id, &mut v)?;
    if let Some(code) = &code
        && tx.query_opt("SELECT 1 FROM channels WHERE code = ?", params![code.as_str()])?.is_some()
    {
        v.add("code", format!("a channel with the code {code} exists already"));
    }
    v.into_result()?;
    let (Some(code), Some(name), Some(kind)) = (code, name, kind) else {
        return Err(DbError::Other("checked above".into()).into());
    };
    let secret = callback_url.as_ref().map(|_| new_secret()).transpose()?;
    let id = tx.insert(
        "INSERT INTO channels (code, name, kind, customer_id, callback_url, callback_secret, inbound_mapping, active, \
         version, created_by, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, 1, 1, ?, ?, ?)",
        params![
            code.as_str(),
            name.as_str(),
            kind.as_str(),
            input.customer_id,
            callback_url,
            secret.clone(),
            mapping_text(&input.inbound_mapping),
            ctx.actor.as_str(),
            ctx.now.micros(),
            ctx.now.micros()
        ],
    )?;
    crate::audit::record(tx, ctx, "channels", "channel.created", &code, &format!("{name} ({kind})"))?;
    let mut channel = get_channel(tx, id)?;
    channel.callback_secret = secret;
    Ok(channel)
}

pub fn update_channel(
    tx: &mut dyn Tx,
    ctx: &Ctx,
    id: i64,
    expected_version: Option<i64>,
    input: &ChannelChange,
) -> Result<SalesChannel, ChannelError> {
    let current = get_channel(tx, id)?;
    if let Some(expected) = expected_version
        && expected != current.version
    {
        return Err(ChannelError::VersionMismatch { current: current.version });
    }
    let mut v = Violations::new();
    let name = match &input.name {
        Some(name) => v.check(required_text("name", Some(name), 200)),
        None => Some(current.name.clone()),
    };
    let callback_url = match input.callback_url.as_deref().map(str::trim) {
        None => current.callback_url.clone(),
        Some("") => None,
        url => crate::integrations::webhooks::check_url("callback_url", url, &mut v),
    };
    if let Some(mapping) = &input.inbound_mapping {
        mapping.check("inbound_mapping", &mut v);
    }
    check_customer(tx, input.customer_id, &mut v)?;
    if input.active == Some(false) && current.built_in {
        v.add("active", "the built-in channels stay active");
    }
    v.into_result()?;
    let customer_id = input.customer_id.or(current.customer_id);
    let mapping = input.inbound_mapping.clone().or(current.inbound_mapping.clone());
    let active = input.active.unwrap_or(current.active);
    let rotate = input.rotate_secret == Some(true) || (current.callback_url.is_none() && callback_url.is_some());
    let secret = if rotate { Some(new_secret()?) } else { None };
    tx.execute(
        "UPDATE channels SET name = ?, customer_id = ?, callback_url = ?, callback_secret = COALESCE(?, callback_secret), \
         inbound_mapping = ?, active = ?, version = version + 1, updated_at = ? WHERE id = ?",
        params![
            name,
            customer_id,
            callback_url,
            secret.clone(),
            mapping_text(&mapping),
            active as i64,
            ctx.now.micros(),
            id
        ],
    )?;
    let what = if active { "changed" } else { "switched off" };
    crate::audit::record(tx, ctx, "channels", "channel.updated", &current.code, what)?;
    let mut channel = get_channel(tx, id)?;
    channel.callback_secret = secret;
    Ok(channel)
}

/// Makes a partner key for a channel. Its orders are placed for the channel's customer,
/// so a channel needs one before it gets keys.
pub fn create_partner_key(
    tx: &mut dyn Tx,
    ctx: &Ctx,
    channel_id: i64,
    input: &NewPartnerKey,
) -> Result<PartnerKey, ChannelError> {
    let channel = get_channel(tx, channel_id)?;
    if channel.customer_id.is_none() {
        return Err(Invalid::field(
            "customer_id",
            "set the customer account this channel's orders are placed for before making partner keys",
        )
        .into());
    }
    if !channel.active {
        return Err(Invalid::field("channel", "the channel is switched off").into());
    }
    let name = input.name.as_deref().unwrap_or("");
    // A partner key's role is never consulted: everything but its own orders is refused.
    let (key, view) = crate::auth::service::issue_token(tx, ctx, name, "viewer", Some(channel_id))?;
    Ok(PartnerKey { id: view.id, name: view.name, channel_id, channel: channel.code, created_at: view.created_at, key })
}

pub fn list_partner_keys(tx: &mut dyn Tx, channel_id: i64) -> Result<Vec<TokenView>, ChannelError> {
    get_channel(tx, channel_id)?;
    Ok(crate::auth::service::tokens(
        tx,
        "SELECT id, name, role, created_at, revoked_at, channel_id FROM api_tokens WHERE channel_id = ? ORDER BY id DESC",
        params![channel_id],
    )?)
}

pub fn revoke_partner_key(tx: &mut dyn Tx, ctx: &Ctx, channel_id: i64, key_id: i64) -> Result<(), ChannelError> {
    let owned =
        tx.query_opt("SELECT 1 FROM api_tokens WHERE id = ? AND channel_id = ?", params![key_id, channel_id])?;
    if owned.is_none() {
        return Err(ChannelError::NotFound(format!("channel {channel_id} has no key with id {key_id}")));
    }
    crate::auth::revoke_token(tx, ctx, key_id)?;
    Ok(())
}

/// Places an order for a channel: on its code, for its customer, under the channel's own
/// reference (required, so a resent order is found instead of placed twice).
pub fn place_partner_order(
    tx: &mut dyn Tx,
    ctx: &Ctx,
    partner: &Partner,
    input: &NewOrder,
) -> Result<Placed, ChannelError> {
    let mut v = Violations::new();
    if input.external_ref.as_deref().map(str::trim).unwrap_or("").is_empty() {
        v.add("external_ref", "is required: your own order id, so a resent order is not placed twice");
    }
    if input.customer_id.is_some_and(|id| Some(id) != partner.customer_id) {
        v.add("customer_id", "leave it out: a channel's orders are placed for the channel's customer account");
    }
    if input.channel.as_deref().is_some_and(|c| c.trim() != partner.channel) {
        v.add("channel", format!("leave it out: this key places orders on channel {}", partner.channel));
    }
    let Some(customer_id) = partner.customer_id else {
        return Err(Invalid::field("customer_id", "the channel has no customer account set").into());
    };
    v.into_result()?;
    let order = NewOrder { customer_id: Some(customer_id), channel: Some(partner.channel.clone()), ..input.clone() };
    Ok(orders::place_order(tx, ctx, &order)?)
}

/// Places an order sent in the channel's own JSON, read through its inbound mapping.
pub fn place_inbound_order(
    tx: &mut dyn Tx,
    ctx: &Ctx,
    channel_id: i64,
    document: &serde_json::Value,
) -> Result<Placed, ChannelError> {
    let channel = get_channel(tx, channel_id)?;
    let Some(mapping) = &channel.inbound_mapping else {
        return Err(Invalid::field("inbound_mapping", "the channel has no inbound mapping; set one first").into());
    };
    let order = mapping.read(document)?;
    let partner = Partner { channel_id, channel: channel.code.clone(), customer_id: channel.customer_id };
    place_partner_order(tx, ctx, &partner, &order)
}

/// An order as a partner sees it: its own channel's, or not found at all (a 404, so a
/// partner cannot learn which ids exist on other channels).
pub fn partner_order(tx: &mut dyn Tx, partner: &Partner, id: i64) -> Result<Order, OrderError> {
    let order = orders::get_order(tx, id)?;
    if order.channel != partner.channel {
        return Err(OrderError::NotFound(id));
    }
    Ok(order)
}

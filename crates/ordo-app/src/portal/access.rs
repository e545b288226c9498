//! Who may use the portal: staff invite a customer's people by e-mail (or hand them the
//! link), the invited person sets a password through the link, and staff can switch a
//! portal user off at any time. Signing in reuses the staff sign-in (lockout, sessions).

use super::PortalError;
use crate::audit;
use crate::common::Ctx;
use crate::db::Tx;
use crate::params;
use crate::users::{self, LOCALES, User, store as user_store};
use ordo_domain::Timestamp;
use ordo_domain::validation::{Violations, optional_text};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// How long an invitation link works.
pub const INVITATION_DAYS: i64 = 7;
const SECRET: &str = "portal_invitation_secret";

#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
pub struct NewPortalUser {
    #[schema(example = "buyer@customer.example")]
    pub email: Option<String>,
    pub name: Option<String>,
    /// en, zh-CN or zh-TW: the language of the invitation and the portal; default the
    /// customer's language.
    pub locale: Option<String>,
}

/// A person of a customer who may use the portal.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PortalUser {
    pub id: i64,
    pub customer_id: i64,
    pub email: String,
    pub name: String,
    pub locale: String,
    /// invited (has not set a password yet), active, disabled.
    pub status: String,
    pub created_at: Timestamp,
}

impl PortalUser {
    fn of(user: User, customer_id: i64) -> PortalUser {
        let status = if user.disabled {
            "disabled"
        } else if user.must_change_password {
            "invited"
        } else {
            "active"
        };
        PortalUser {
            id: user.id,
            customer_id,
            email: user.email,
            name: user.name,
            locale: user.locale,
            status: status.into(),
            created_at: user.created_at,
        }
    }
}

/// An invitation just made: the link is shown once (and e-mailed when mail is on).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Invitation {
    pub user: PortalUser,
    /// Opens the page where the invited person sets a password.
    pub link: String,
    pub expires_at: Timestamp,
}

/// What the invitation page shows before the password is set.
#[derive(Debug, Clone)]
pub struct InvitationView {
    pub email: String,
    pub name: String,
    pub customer_name: String,
    pub locale: String,
}

/// Invites a person of `customer_id` to the portal. Inviting someone already invited
/// replaces their earlier link; an e-mail that is a staff account or another customer's
/// user is refused. `link_base` is where the portal is reached (`https://shop.example`).
pub fn invite(
    tx: &mut dyn Tx,
    ctx: &Ctx,
    customer_id: i64,
    input: &NewPortalUser,
    link_base: &str,
) -> Result<Invitation, PortalError> {
    let customer = crate::customers::store::by_id(tx, customer_id)?
        .ok_or_else(|| PortalError::NotFound(format!("no customer with id {customer_id}")))?
        .customer;
    let mut v = Violations::new();
    let email = v.check(users::parse_email("email", input.email.as_deref()));
    let name = v.check(optional_text("name", input.name.as_deref(), 200)).flatten();
    let locale = input
        .locale
        .as_deref()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .or(customer.language.as_deref())
        .unwrap_or("en")
        .to_string();
    if !LOCALES.contains(&locale.as_str()) {
        v.add("locale", format!("must be one of {}", LOCALES.join(", ")));
    }
    v.into_result()?;
    let Some(email) = email else { unreachable!("checked above") };
    let user_id = match user_store::by_email(tx, &email)? {
        Some(existing) if existing.user.customer_id == Some(customer_id) => {
            if existing.user.disabled {
                user_store::set_disabled(tx, existing.user.id, false, ctx.now)?;
            }
            // A fresh link replaces any earlier one.
            tx.execute(
                "UPDATE portal_invitations SET expires_at = ? WHERE user_id = ? AND used_at IS NULL AND expires_at > ?",
                params![ctx.now.micros(), existing.user.id, ctx.now.micros()],
            )?;
            existing.user.id
        }
        Some(_) => {
            return Err(ordo_domain::Invalid::field("email", format!("{email} already has an account with us")).into());
        }
        None => {
            let display = name.clone().unwrap_or_else(|| email.split('@').next().unwrap_or(&email).to_string());
            user_store::insert_portal(tx, &email, &display, &locale, customer_id, ctx.now)?
        }
    };
    let link_base = link_base.trim_end_matches('/');
    let nonce = crate::payments::provider::random_hex(16).map_err(crate::DbError::Other)?;
    let expires_at = ctx.now.plus_seconds(INVITATION_DAYS * 86_400);
    let invitation_id = tx.insert(
        "INSERT INTO portal_invitations (user_id, nonce, link_base, created_by, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?)",
        params![user_id, nonce.as_str(), link_base, ctx.actor.as_str(), ctx.now.micros(), expires_at.micros()],
    )?;
    let secret = crate::signing::secret(tx, SECRET, "pinv_")?;
    let token = token(&secret, invitation_id, &nonce);
    let user = user_store::by_id(tx, user_id)?.ok_or_else(|| PortalError::NotFound(email.clone()))?.user;
    // The event carries no token: webhooks may see it. The mail is written from the id.
    crate::events::record(
        tx,
        "portal.invited",
        ("customer", customer_id),
        &serde_json::json!({
            "invitation_id": invitation_id,
            "customer_id": customer_id,
            "customer_name": customer.name,
            "email": user.email,
            "name": user.name,
            "language": user.locale,
        }),
        ctx.now,
    )?;
    audit::record(tx, ctx, "customers", "portal.invited", &user.email, &format!("portal user of {}", customer.code))?;
    Ok(Invitation {
        user: PortalUser::of(user, customer_id),
        link: format!("{link_base}/portal/invite/{token}"),
        expires_at,
    })
}

fn token(secret: &str, invitation_id: i64, nonce: &str) -> String {
    format!("{invitation_id}.{}", crate::signing::tag(secret, &format!("{invitation_id}.{nonce}")))
}

/// The link of a pending invitation, for its e-mail (None once used or expired).
pub(crate) fn invitation_link(
    tx: &mut dyn Tx,
    invitation_id: i64,
    now: Timestamp,
) -> Result<Option<String>, crate::DbError> {
    let Some(row) = tx.query_opt(
        "SELECT nonce, link_base FROM portal_invitations WHERE id = ? AND used_at IS NULL AND expires_at > ?",
        params![invitation_id, now.micros()],
    )?
    else {
        return Ok(None);
    };
    let secret = crate::signing::secret(tx, SECRET, "pinv_")?;
    Ok(Some(format!("{}/portal/invite/{}", row.text(1)?, token(&secret, invitation_id, &row.text(0)?))))
}

/// The invitation a token stands for, if it is genuine, unused and not expired: its id
/// and user.
fn check_token(tx: &mut dyn Tx, token: &str, now: Timestamp) -> Result<(i64, User), PortalError> {
    let (id, tag) = token.split_once('.').ok_or(PortalError::InvitationInvalid)?;
    let id: i64 = id.parse().map_err(|_| PortalError::InvitationInvalid)?;
    let row = tx
        .query_opt(
            "SELECT nonce, user_id FROM portal_invitations WHERE id = ? AND used_at IS NULL AND expires_at > ?",
            params![id, now.micros()],
        )?
        .ok_or(PortalError::InvitationInvalid)?;
    // Read only: a database that never invited anyone has no secret, and then no token is good.
    let secret = crate::settings::document(tx, SECRET)?.ok_or(PortalError::InvitationInvalid)?;
    if !crate::signing::tag_matches(&secret, &format!("{id}.{}", row.text(0)?), tag) {
        return Err(PortalError::InvitationInvalid);
    }
    let user = user_store::by_id(tx, row.int(1)?)?.ok_or(PortalError::InvitationInvalid)?.user;
    if user.disabled || user.customer_id.is_none() {
        return Err(PortalError::InvitationInvalid);
    }
    Ok((id, user))
}

/// What the invitation page shows, or `InvitationInvalid`.
pub fn open_invitation(tx: &mut dyn Tx, token: &str, now: Timestamp) -> Result<InvitationView, PortalError> {
    let (_, user) = check_token(tx, token, now)?;
    let customer_id = user.customer_id.ok_or(PortalError::InvitationInvalid)?;
    let customer = crate::customers::store::by_id(tx, customer_id)?.ok_or(PortalError::InvitationInvalid)?.customer;
    Ok(InvitationView { email: user.email, name: user.name, customer_name: customer.name, locale: user.locale })
}

/// Sets the invited person's password (hashed by the caller, outside the transaction),
/// uses up the link and signs them in: returns the session token and the user.
pub fn accept_invitation(
    tx: &mut dyn Tx,
    ctx: &Ctx,
    token: &str,
    password_hash: &str,
) -> Result<(String, User), PortalError> {
    let (invitation_id, user) = check_token(tx, token, ctx.now)?;
    // Only the first of two racing accepts uses the link.
    let used = tx.execute(
        "UPDATE portal_invitations SET used_at = ? WHERE id = ? AND used_at IS NULL",
        params![ctx.now.micros(), invitation_id],
    )?;
    if used != 1 {
        return Err(PortalError::InvitationInvalid);
    }
    user_store::set_password(tx, user.id, password_hash, false, ctx.now)?;
    let session = users::open_session(tx, ctx, user.id)?;
    audit::record(tx, ctx, "customers", "portal.joined", &user.email, "invitation accepted, password set")?;
    let user = user_store::by_id(tx, user.id)?.ok_or(PortalError::InvitationInvalid)?.user;
    Ok((session, user))
}

/// The portal users of a customer.
pub fn portal_users(tx: &mut dyn Tx, customer_id: i64) -> Result<Vec<PortalUser>, PortalError> {
    crate::customers::store::by_id(tx, customer_id)?
        .ok_or_else(|| PortalError::NotFound(format!("no customer with id {customer_id}")))?;
    Ok(user_store::of_customer(tx, customer_id)?.into_iter().map(|u| PortalUser::of(u, customer_id)).collect())
}

/// Switches a portal user off: their sessions end and their links stop working.
pub fn disable_portal_user(
    tx: &mut dyn Tx,
    ctx: &Ctx,
    customer_id: i64,
    user_id: i64,
) -> Result<PortalUser, PortalError> {
    let user = user_store::by_id(tx, user_id)?
        .map(|c| c.user)
        .filter(|u| u.customer_id == Some(customer_id))
        .ok_or_else(|| PortalError::NotFound(format!("customer {customer_id} has no portal user {user_id}")))?;
    user_store::set_disabled(tx, user_id, true, ctx.now)?;
    user_store::delete_sessions_of(tx, user_id)?;
    tx.execute(
        "UPDATE portal_invitations SET expires_at = ? WHERE user_id = ? AND used_at IS NULL AND expires_at > ?",
        params![ctx.now.micros(), user_id, ctx.now.micros()],
    )?;
    audit::record(tx, ctx, "customers", "portal.disabled", &user.email, "portal access switched off")?;
    let user = user_store::by_id(tx, user_id)?.ok_or_else(|| PortalError::NotFound(user.email.clone()))?.user;
    Ok(PortalUser::of(user, customer_id))
}

//! Customer use cases.

use super::model::*;
use super::store::{self, CustomerRow};
use crate::common::{Ctx, Page, PageRequest};
use crate::db::Tx;
use ordo_domain::Currency;
use ordo_domain::customers::{AddressInput, parse_group, parse_payment_terms};
use ordo_domain::validation::{FieldError, Violations, code, optional_text, required_text};

pub fn create_customer(tx: &mut dyn Tx, ctx: &Ctx, input: &NewCustomer) -> Result<Customer, CustomerError> {
    let mut v = Violations::new();
    let customer_code = v.check(code("code", input.code.as_deref(), 32));
    let row = parse_fields(tx, input, None, &mut v)?;
    v.into_result()?;
    let (Some(customer_code), Some(mut row)) = (customer_code, row) else { unreachable!("checked above") };
    if store::code_exists(tx, &customer_code)? {
        return Err(CustomerError::CodeTaken(customer_code));
    }
    row.code = customer_code;
    let id = store::insert(tx, &row, ctx.now)?;
    crate::audit::record(tx, ctx, "customers", "customer.created", &row.code, &row.name)?;
    get_customer(tx, id)
}

pub fn get_customer(tx: &mut dyn Tx, id: i64) -> Result<Customer, CustomerError> {
    Ok(store::by_id(tx, id)?.ok_or(CustomerError::NotFound(id))?.customer)
}

/// Changes the given fields (the code stays: orders and other systems refer to it).
pub fn update_customer(
    tx: &mut dyn Tx,
    ctx: &Ctx,
    id: i64,
    expected_version: Option<i64>,
    patch: &CustomerPatch,
) -> Result<Customer, CustomerError> {
    let current = store::by_id(tx, id)?.ok_or(CustomerError::NotFound(id))?;
    if expected_version.is_some_and(|v| v != current.customer.version) {
        return Err(CustomerError::VersionMismatch { current: current.customer.version });
    }
    let mut v = Violations::new();
    if patch.code.as_deref().is_some_and(|c| c.trim() != current.customer.code) {
        v.add("code", "cannot be changed");
    }
    let row = parse_fields(tx, patch, Some(&current), &mut v)?;
    v.into_result()?;
    let Some(mut row) = row else { unreachable!("checked above") };
    row.code = current.customer.code.clone();
    if !store::update(tx, id, current.customer.version, &row, ctx.now)? {
        let version = get_customer(tx, id)?.version;
        return Err(CustomerError::VersionMismatch { current: version });
    }
    crate::audit::record(tx, ctx, "customers", "customer.updated", &row.code, &row.name)?;
    get_customer(tx, id)
}

pub fn list_customers(tx: &mut dyn Tx, q: Option<&str>, page: PageRequest) -> Result<Page<Customer>, CustomerError> {
    let q = q.map(str::trim).filter(|q| !q.is_empty());
    let rows = store::list(tx, q, page.before_id, page.fetch_limit())?;
    Ok(page.page(rows, |c| c.id))
}

/// Parses every field but the code; with `current`, absent fields keep their stored value.
fn parse_fields(
    tx: &mut dyn Tx,
    input: &NewCustomer,
    current: Option<&store::CustomerRecord>,
    v: &mut Violations,
) -> Result<Option<CustomerRow>, CustomerError> {
    let old = current.map(|c| &c.customer);
    let keep = |given: bool| !given && old.is_some();
    let name = if keep(input.name.is_some()) {
        old.map(|c| c.name.clone())
    } else {
        v.check(required_text("name", input.name.as_deref(), 200))
    };
    let group = if keep(input.group.is_some()) {
        old.map(|c| c.group.clone())
    } else {
        v.check(parse_group("group", input.group.as_deref()))
    };
    let text =
        |v: &mut Violations, field: &str, given: &Option<String>, stored: Option<Option<String>>, max: usize| match (
            given, stored,
        ) {
            (None, Some(stored)) => Some(stored),
            _ => v.check(optional_text(field, given.as_deref(), max)),
        };
    let region = text(v, "region", &input.region, old.map(|c| c.region.clone()), 100);
    let email = text(v, "email", &input.email, old.map(|c| c.email.clone()), 200).map(|email| {
        email.filter(|e| {
            let plausible = e.split_once('@').is_some_and(|(user, host)| !user.is_empty() && host.contains('.'));
            if !plausible {
                v.add("email", "must be an e-mail address such as buyer@example.com");
            }
            plausible
        })
    });
    let phone = text(v, "phone", &input.phone, old.map(|c| c.phone.clone()), 40);
    let contact_name = text(v, "contact_name", &input.contact_name, old.map(|c| c.contact_name.clone()), 100);
    let address = |v: &mut Violations, field: &str, given: &Option<AddressInput>, stored| match (given, stored) {
        (None, Some(stored)) => Some(stored),
        (None, None) => Some(None),
        (Some(a), _) => a.parse(field, v).map(Some),
    };
    let shipping_address =
        address(v, "shipping_address", &input.shipping_address, old.map(|c| c.shipping_address.clone()));
    let billing_address = address(v, "billing_address", &input.billing_address, old.map(|c| c.billing_address.clone()));
    // The customer's own number is read in the country it ships to (China when not known).
    if input.phone.is_some()
        && let Some(Some(number)) = &phone
    {
        let country = shipping_address.as_ref().and_then(|a| a.as_ref()).map_or("CN", |a| a.country.as_str());
        v.check(ordo_domain::customers::check_phone("phone", number, Some(country)));
    }
    let payment_terms = if keep(input.payment_terms.is_some()) {
        old.map(|c| c.payment_terms.clone())
    } else {
        v.check(parse_payment_terms("payment_terms", input.payment_terms.as_deref()))
    };
    let credit_limit = match (&input.credit_limit, old) {
        (None, Some(old)) => Some(old.credit_limit),
        (None, None) => Some(None),
        (Some(raw), _) => v.check(raw.parse("credit_limit", false)).map(Some),
    };
    let currency = match (&input.currency, old) {
        (None, Some(old)) => Some(old.currency),
        _ => v.check(Currency::field("currency", input.currency.as_deref())),
    };
    let price_list_id = match (&input.price_list, current) {
        (None, Some(current)) => Some(current.price_list_id),
        (None, None) => Some(None),
        (Some(list), _) if list.trim().is_empty() => Some(None),
        (Some(list), _) => match store::price_list_id(tx, list.trim())? {
            Some(id) => Some(Some(id)),
            None => v.check(Err(FieldError::new("price_list", format!("no price list has code {:?}", list.trim())))),
        },
    };
    let tier_id = match (&input.tier, current) {
        (None, Some(current)) => Some(current.tier_id),
        (None, None) => Some(None),
        (Some(t), _) if t.trim().is_empty() => Some(None),
        (Some(t), _) => match crate::promotions::tier_by_code(tx, &t.trim().to_lowercase())? {
            Some(tier) => Some(Some(tier.id)),
            None => v.check(Err(FieldError::new("tier", format!("no member tier has code {:?}", t.trim())))),
        },
    };
    let language = match (&input.language, old) {
        (None, Some(old)) => Some(old.language.clone()),
        (None, None) => Some(None),
        (Some(l), _) if l.trim().is_empty() => Some(None),
        (Some(l), _) if ordo_domain::customers::LANGUAGES.contains(&l.trim()) => Some(Some(l.trim().to_string())),
        (Some(_), _) => {
            v.add("language", format!("must be one of {}", ordo_domain::customers::LANGUAGES.join(", ")));
            None
        }
    };
    let salesperson = match (&input.salesperson, old) {
        (None, Some(old)) => Some(old.salesperson.clone()),
        (None, None) => Some(None),
        (Some(s), _) if s.trim().is_empty() => Some(None),
        (Some(s), _) => {
            let email = s.trim().to_lowercase();
            if crate::users::store::by_email(tx, &email)?.is_some_and(|c| !c.user.disabled) {
                Some(Some(email))
            } else {
                v.add("salesperson", format!("no active staff member has the e-mail {email:?}"));
                None
            }
        }
    };
    Ok((|| {
        Some(CustomerRow {
            code: String::new(),
            name: name?,
            group: group?,
            region: region?,
            email: email?,
            phone: phone?,
            contact_name: contact_name?,
            shipping_address: shipping_address?,
            billing_address: billing_address?,
            payment_terms: payment_terms?,
            credit_limit: credit_limit?,
            currency: currency?,
            price_list_id: price_list_id?,
            tier_id: tier_id?,
            accepts_backorders: input.accepts_backorders.or(old.map(|c| c.accepts_backorders)).unwrap_or(true),
            language: language?,
            salesperson: salesperson?,
        })
    })())
}

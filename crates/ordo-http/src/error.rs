//! The one place where errors become HTTP responses: RFC 9457 `application/problem+json`.
//! Internal causes are logged, never sent to the client.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use ordo_app::DbError;
use ordo_app::aftersales::AfterSalesError;
use ordo_app::audit::AuditError;
use ordo_app::auth::TokenError;
use ordo_app::catalog::CatalogError;
use ordo_app::channels::ChannelError;
use ordo_app::customers::CustomerError;
use ordo_app::exchange::ExchangeError;
use ordo_app::fulfillment::FulfillmentError;
use ordo_app::integrations::IntegrationError;
use ordo_app::inventory::InventoryError;
use ordo_app::orders::{OrderError, ShortLine};
use ordo_app::payables::PayablesError;
use ordo_app::payments::PaymentError;
use ordo_app::portal::PortalError;
use ordo_app::promotions::PromotionError;
use ordo_app::purchasing::PurchasingError;
use ordo_app::reports::ReportError;
use ordo_app::rules::RuleError;
use ordo_app::settings::SettingsError;
use ordo_app::users::UserError;
use ordo_domain::orders::{OrderAction, OrderStatus};
use ordo_domain::{FieldError, Invalid};
use serde::Serialize;
use utoipa::ToSchema;

/// An RFC 9457 problem. Extension members appear only where they apply.
#[derive(Debug, Serialize, ToSchema)]
pub struct Problem {
    /// A URI naming the kind of problem, e.g. `urn:ordo:problem:validation`.
    #[serde(rename = "type")]
    pub kind: String,
    pub title: String,
    pub status: u16,
    pub detail: String,
    /// Each invalid field and why (validation problems).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub errors: Option<Vec<FieldErrorDoc>>,
    /// Each SKU that could not be reserved (insufficient stock).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub short: Option<Vec<ShortLine>>,
    /// The order's state when an action is not allowed in it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub current_status: Option<OrderStatus>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub allowed_actions: Option<Vec<OrderAction>>,
    /// The version the resource is at (precondition failures).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub current_version: Option<i64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct FieldErrorDoc {
    /// Path of the field in the request, e.g. `lines[1].quantity`.
    pub field: String,
    pub message: String,
}

impl From<&FieldError> for FieldErrorDoc {
    fn from(e: &FieldError) -> Self {
        FieldErrorDoc { field: e.field.clone(), message: e.message.clone() }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error(transparent)]
    Catalog(#[from] CatalogError),
    #[error(transparent)]
    Customer(#[from] CustomerError),
    #[error(transparent)]
    Channel(#[from] ChannelError),
    #[error(transparent)]
    Promotion(#[from] PromotionError),
    #[error(transparent)]
    Inventory(#[from] InventoryError),
    #[error(transparent)]
    Order(#[from] OrderError),
    #[error(transparent)]
    Payment(#[from] PaymentError),
    #[error(transparent)]
    Fulfillment(#[from] FulfillmentError),
    #[error(transparent)]
    AfterSales(#[from] AfterSalesError),
    #[error(transparent)]
    Integration(#[from] IntegrationError),
    #[error(transparent)]
    Purchasing(#[from] PurchasingError),
    #[error(transparent)]
    Payables(#[from] PayablesError),
    #[error(transparent)]
    Report(#[from] ReportError),
    #[error(transparent)]
    Exchange(#[from] ExchangeError),
    #[error(transparent)]
    Rule(#[from] RuleError),
    #[error(transparent)]
    Settings(#[from] SettingsError),
    #[error(transparent)]
    Token(#[from] TokenError),
    #[error(transparent)]
    Audit(#[from] AuditError),
    #[error(transparent)]
    User(#[from] UserError),
    #[error(transparent)]
    Db(#[from] DbError),
    #[error(transparent)]
    Invalid(#[from] Invalid),
    #[error("{0}")]
    MalformedJson(String),
    #[error("{0}")]
    UnsupportedMediaType(String),
    #[error("the request body is larger than {0} bytes")]
    PayloadTooLarge(usize),
    #[error("a valid bearer token is required (Authorization: Bearer …)")]
    Unauthenticated,
    #[error("your role {role} may not {action}")]
    Forbidden { role: &'static str, action: &'static str },
    #[error("{0}")]
    NotFound(String),
    /// The request is understood but the resource's state refuses it.
    #[error("{0}")]
    Conflict(String),
    #[error("this Idempotency-Key was already used for a different request")]
    IdempotencyKeyReused,
    #[error("If-Match does not match the current version {current}")]
    PreconditionFailed { current: i64 },
    #[error("method not allowed")]
    MethodNotAllowed,
}

struct Shape {
    status: StatusCode,
    kind: &'static str,
    title: &'static str,
}

const fn shape(status: StatusCode, kind: &'static str, title: &'static str) -> Shape {
    Shape { status, kind, title }
}

impl ApiError {
    fn catalog_shape(e: &CatalogError) -> Shape {
        use StatusCode as S;
        match e {
            CatalogError::Invalid(_) => shape(S::UNPROCESSABLE_ENTITY, "validation", "Invalid request"),
            CatalogError::ProductNotFound(_) | CatalogError::PriceListNotFound(_) => {
                shape(S::NOT_FOUND, "not-found", "Not found")
            }
            CatalogError::SkuTaken(_) | CatalogError::PriceListCodeTaken(_) => {
                shape(S::CONFLICT, "conflict", "Conflict")
            }
            CatalogError::VersionMismatch { .. } => {
                shape(S::PRECONDITION_FAILED, "precondition-failed", "Precondition failed")
            }
            CatalogError::Db(e) => db_shape(e),
        }
    }

    fn customer_shape(e: &CustomerError) -> Shape {
        use StatusCode as S;
        match e {
            CustomerError::Invalid(_) => shape(S::UNPROCESSABLE_ENTITY, "validation", "Invalid request"),
            CustomerError::NotFound(_) => shape(S::NOT_FOUND, "not-found", "Not found"),
            CustomerError::CodeTaken(_) => shape(S::CONFLICT, "conflict", "Conflict"),
            CustomerError::VersionMismatch { .. } => {
                shape(S::PRECONDITION_FAILED, "precondition-failed", "Precondition failed")
            }
            CustomerError::Db(e) => db_shape(e),
        }
    }

    fn shape(&self) -> Shape {
        use StatusCode as S;
        let invalid = shape(S::UNPROCESSABLE_ENTITY, "validation", "Invalid request");
        let conflict = shape(S::CONFLICT, "conflict", "Conflict");
        let not_found = shape(S::NOT_FOUND, "not-found", "Not found");
        let precondition = shape(S::PRECONDITION_FAILED, "precondition-failed", "Precondition failed");
        let internal = shape(S::INTERNAL_SERVER_ERROR, "internal", "Internal error");
        match self {
            ApiError::Catalog(e) => ApiError::catalog_shape(e),
            ApiError::Customer(e) => ApiError::customer_shape(e),
            ApiError::Inventory(e) => match e {
                InventoryError::Invalid(_) => invalid,
                InventoryError::WarehouseNotFound(_)
                | InventoryError::ProductNotFound(_)
                | InventoryError::TransferNotFound(_)
                | InventoryError::CountNotFound(_) => not_found,
                InventoryError::WarehouseCodeTaken(_)
                | InventoryError::BelowReserved { .. }
                | InventoryError::Conflict(_) => conflict,
                InventoryError::ShortStock(_) => shape(S::CONFLICT, "insufficient-stock", "Insufficient stock"),
                InventoryError::Db(e) => db_shape(e),
            },
            ApiError::Order(e) => order_shape(e),
            ApiError::Promotion(e) => match e {
                PromotionError::Invalid(_) => invalid,
                PromotionError::NotFound(_) => not_found,
                PromotionError::VersionMismatch { .. } => precondition,
                PromotionError::Db(e) => db_shape(e),
            },
            ApiError::Channel(e) => match e {
                ChannelError::Invalid(_) => invalid,
                ChannelError::NotFound(_) => not_found,
                ChannelError::VersionMismatch { .. } => precondition,
                ChannelError::Token(TokenError::Invalid(_)) => invalid,
                ChannelError::Token(TokenError::NoRandomness(_)) => internal,
                ChannelError::Token(TokenError::Db(e)) | ChannelError::Db(e) => db_shape(e),
                ChannelError::Order(e) => order_shape(e),
            },
            ApiError::Payment(e) => payment_shape(e),
            ApiError::Integration(e) => match e {
                IntegrationError::Invalid(_) => invalid,
                IntegrationError::WebhookNotFound(_)
                | IntegrationError::DeliveryNotFound(_)
                | IntegrationError::ChannelNotFound(_)
                | IntegrationError::NotificationNotFound(_) => not_found,
                IntegrationError::VersionMismatch { .. } => precondition,
                IntegrationError::Catalog(e) => ApiError::catalog_shape(e),
                IntegrationError::Customer(e) => ApiError::customer_shape(e),
                IntegrationError::Db(e) => db_shape(e),
            },
            ApiError::Fulfillment(e) => match e {
                FulfillmentError::Invalid(_) => invalid,
                FulfillmentError::OrderNotFound(_)
                | FulfillmentError::ShipmentNotFound(_)
                | FulfillmentError::TrackingNotFound(_)
                | FulfillmentError::PickListNotFound(_)
                | FulfillmentError::CarrierNotFound(_)
                | FulfillmentError::ClaimNotFound(_)
                | FulfillmentError::WarehouseNotFound(_) => not_found,
                FulfillmentError::CarrierCodeTaken(_) | FulfillmentError::Conflict(_) => conflict,
                FulfillmentError::BadSignature(_) => shape(S::UNAUTHORIZED, "bad-signature", "Callback not verified"),
                FulfillmentError::VersionMismatch { .. } => precondition,
                FulfillmentError::Order(e) => order_shape(e),
                FulfillmentError::Db(e) => db_shape(e),
            },
            ApiError::AfterSales(e) => match e {
                AfterSalesError::Invalid(_) => invalid,
                AfterSalesError::OrderNotFound(_)
                | AfterSalesError::ReturnNotFound(_)
                | AfterSalesError::TicketNotFound(_)
                | AfterSalesError::CustomerNotFound(_)
                | AfterSalesError::ShipmentNotFound(_)
                | AfterSalesError::ClaimNotFound(_) => not_found,
                AfterSalesError::VersionMismatch { .. } => precondition,
                AfterSalesError::Conflict(_) => conflict,
                AfterSalesError::Order(e) => order_shape(e),
                AfterSalesError::Payment(e) => payment_shape(e),
                AfterSalesError::Db(e) => db_shape(e),
            },
            ApiError::Purchasing(e) => match e {
                PurchasingError::Invalid(_) => invalid,
                PurchasingError::SupplierNotFound(_) | PurchasingError::NotFound(_) => not_found,
                PurchasingError::SupplierCodeTaken(_) | PurchasingError::State(_) => conflict,
                PurchasingError::Db(e) => db_shape(e),
            },
            ApiError::Payables(e) => match e {
                PayablesError::Invalid(_) => invalid,
                PayablesError::PurchaseOrderNotFound(_)
                | PayablesError::BillNotFound(_)
                | PayablesError::CostNotFound(_)
                | PayablesError::OrderNotFound(_) => not_found,
                PayablesError::DuplicateBill { .. } | PayablesError::State(_) => conflict,
                PayablesError::Ledger(e) => payment_shape(e),
                PayablesError::Db(e) => db_shape(e),
            },
            ApiError::Rule(e) => match e {
                RuleError::Invalid(_) => invalid,
                RuleError::NotFound(_) => not_found,
                RuleError::VersionMismatch { .. } => precondition,
                RuleError::Order(e) => order_shape(e),
                RuleError::Db(e) => db_shape(e),
            },
            ApiError::Settings(e) => match e {
                SettingsError::Invalid(_) => invalid,
                SettingsError::Db(e) => db_shape(e),
            },
            ApiError::Token(e) => match e {
                TokenError::Invalid(_) => invalid,
                TokenError::NoRandomness(_) => internal,
                TokenError::Db(e) => db_shape(e),
            },
            ApiError::Audit(e) => match e {
                AuditError::Invalid(_) => invalid,
                AuditError::Db(e) => db_shape(e),
            },
            ApiError::Report(e) => match e {
                ReportError::Invalid(_) => invalid,
                ReportError::Db(e) => db_shape(e),
            },
            ApiError::Exchange(e) => match e {
                ExchangeError::Invalid(_) => invalid,
                ExchangeError::Db(e) => db_shape(e),
                // Handled where it arises (the import's outcome is recorded and returned).
                ExchangeError::RolledBack(_) => internal,
            },
            ApiError::User(e) => match e {
                UserError::Invalid(_) => invalid,
                UserError::NotFound(_) => not_found,
                UserError::EmailTaken(_) => conflict,
                UserError::WrongCredentials | UserError::Locked(_) | UserError::WrongCode => {
                    shape(S::UNAUTHORIZED, "unauthenticated", "Unauthenticated")
                }
                UserError::Hashing(_) => internal,
                UserError::Db(e) => db_shape(e),
            },
            ApiError::Db(e) => db_shape(e),
            ApiError::Invalid(_) => invalid,
            ApiError::MalformedJson(_) => shape(S::BAD_REQUEST, "malformed-json", "Malformed JSON"),
            ApiError::UnsupportedMediaType(_) => {
                shape(S::UNSUPPORTED_MEDIA_TYPE, "unsupported-media-type", "Unsupported media type")
            }
            ApiError::PayloadTooLarge(_) => shape(S::PAYLOAD_TOO_LARGE, "payload-too-large", "Payload too large"),
            ApiError::Unauthenticated => shape(S::UNAUTHORIZED, "unauthenticated", "Unauthenticated"),
            ApiError::Forbidden { .. } => shape(S::FORBIDDEN, "forbidden", "Forbidden"),
            ApiError::NotFound(_) => not_found,
            ApiError::Conflict(_) => conflict,
            ApiError::IdempotencyKeyReused => {
                shape(S::UNPROCESSABLE_ENTITY, "idempotency-key-reused", "Idempotency key reused")
            }
            ApiError::PreconditionFailed { .. } => precondition,
            ApiError::MethodNotAllowed => shape(S::METHOD_NOT_ALLOWED, "method-not-allowed", "Method not allowed"),
        }
    }

    fn field_errors(&self) -> Option<&[FieldError]> {
        let invalid = match self {
            ApiError::Invalid(e)
            | ApiError::Catalog(CatalogError::Invalid(e))
            | ApiError::Customer(CustomerError::Invalid(e))
            | ApiError::Inventory(InventoryError::Invalid(e))
            | ApiError::Order(OrderError::Invalid(e))
            | ApiError::Channel(ChannelError::Invalid(e))
            | ApiError::Promotion(PromotionError::Invalid(e))
            | ApiError::Channel(ChannelError::Order(OrderError::Invalid(e)))
            | ApiError::Channel(ChannelError::Token(TokenError::Invalid(e)))
            | ApiError::Rule(RuleError::Invalid(e))
            | ApiError::Purchasing(PurchasingError::Invalid(e))
            | ApiError::Payables(PayablesError::Invalid(e))
            | ApiError::Payment(PaymentError::Invalid(e))
            | ApiError::Payment(PaymentError::Order(OrderError::Invalid(e)))
            | ApiError::Fulfillment(FulfillmentError::Invalid(e))
            | ApiError::Fulfillment(FulfillmentError::Order(OrderError::Invalid(e)))
            | ApiError::Integration(IntegrationError::Invalid(e))
            | ApiError::Integration(IntegrationError::Customer(CustomerError::Invalid(e)))
            | ApiError::Integration(IntegrationError::Catalog(CatalogError::Invalid(e)))
            | ApiError::AfterSales(AfterSalesError::Invalid(e))
            | ApiError::AfterSales(AfterSalesError::Order(OrderError::Invalid(e)))
            | ApiError::AfterSales(AfterSalesError::Payment(PaymentError::Invalid(e)))
            | ApiError::Rule(RuleError::Order(OrderError::Invalid(e)))
            | ApiError::Settings(SettingsError::Invalid(e))
            | ApiError::Token(TokenError::Invalid(e))
            | ApiError::Audit(AuditError::Invalid(e))
            | ApiError::Report(ReportError::Invalid(e))
            | ApiError::Exchange(ExchangeError::Invalid(e))
            | ApiError::User(UserError::Invalid(e)) => e,
            _ => return None,
        };
        Some(&invalid.0)
    }
}

fn payment_shape(error: &PaymentError) -> Shape {
    use StatusCode as S;
    let (invalid, not_found, conflict, internal) = (
        shape(S::UNPROCESSABLE_ENTITY, "validation", "Invalid request"),
        shape(S::NOT_FOUND, "not-found", "Not found"),
        shape(S::CONFLICT, "conflict", "Conflict"),
        shape(S::INTERNAL_SERVER_ERROR, "internal", "Internal error"),
    );
    match error {
        PaymentError::Invalid(_) => invalid,
        PaymentError::OrderNotFound(_)
        | PaymentError::NotFound(_)
        | PaymentError::RefundNotFound(_)
        | PaymentError::InvoiceNotFound(_)
        | PaymentError::CustomerNotFound(_)
        | PaymentError::StatementNotFound(_)
        | PaymentError::ProviderNotFound(_) => not_found,
        PaymentError::BadSignature(_) => shape(S::UNAUTHORIZED, "bad-signature", "Callback not verified"),
        PaymentError::Conflict(_) => conflict,
        PaymentError::Order(e) => order_shape(e),
        PaymentError::Unbalanced(_) => internal,
        PaymentError::Db(e) => db_shape(e),
    }
}

fn order_shape(error: &OrderError) -> Shape {
    use StatusCode as S;
    match error {
        OrderError::Invalid(_) => shape(S::UNPROCESSABLE_ENTITY, "validation", "Invalid request"),
        OrderError::NotFound(_) | OrderError::CustomerNotFound(_) | OrderError::TemplateNotFound(_) => {
            shape(S::NOT_FOUND, "not-found", "Not found")
        }
        OrderError::ShortStock(_) => shape(S::CONFLICT, "insufficient-stock", "Insufficient stock"),
        OrderError::IllegalTransition(_) => {
            shape(S::CONFLICT, "illegal-transition", "Action not allowed in this state")
        }
        OrderError::VersionMismatch { .. } => {
            shape(S::PRECONDITION_FAILED, "precondition-failed", "Precondition failed")
        }
        OrderError::NotYourStep { .. } => shape(S::FORBIDDEN, "forbidden", "Forbidden"),
        OrderError::Conflict(_) => shape(S::CONFLICT, "conflict", "Conflict"),
        OrderError::Db(e) => db_shape(e),
    }
}

fn db_shape(error: &DbError) -> Shape {
    match error {
        DbError::Unavailable(_) | DbError::Conflict(_) => {
            shape(StatusCode::SERVICE_UNAVAILABLE, "unavailable", "Service unavailable")
        }
        DbError::UniqueViolation(_) => shape(StatusCode::CONFLICT, "conflict", "Conflict"),
        DbError::Decode(_) | DbError::Other(_) => {
            shape(StatusCode::INTERNAL_SERVER_ERROR, "internal", "Internal error")
        }
    }
}

impl ApiError {
    /// The HTTP status this error answers with.
    pub fn status(&self) -> StatusCode {
        self.shape().status
    }
}

/// Portal errors are the other areas' errors seen by a customer: each maps as its area does.
impl From<PortalError> for ApiError {
    fn from(error: PortalError) -> Self {
        match error {
            PortalError::Invalid(e) => ApiError::Invalid(e),
            PortalError::NotFound(m) => ApiError::NotFound(m),
            PortalError::InvitationInvalid => ApiError::NotFound(PortalError::InvitationInvalid.to_string()),
            PortalError::Conflict(m) => ApiError::Conflict(m),
            PortalError::User(e) => e.into(),
            PortalError::Order(e) => e.into(),
            PortalError::Payment(e) => e.into(),
            PortalError::AfterSales(e) => e.into(),
            PortalError::Catalog(e) => e.into(),
            PortalError::Fulfillment(e) => e.into(),
            PortalError::Db(e) => e.into(),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let shape = self.shape();
        let detail = if shape.status.is_server_error() {
            tracing::error!(error = %self, "request failed");
            "the server could not complete the request; it has been logged".to_string()
        } else {
            self.to_string()
        };
        let mut problem = Problem {
            kind: format!("urn:ordo:problem:{}", shape.kind),
            title: shape.title.to_string(),
            status: shape.status.as_u16(),
            detail,
            errors: self.field_errors().map(|errors| errors.iter().map(FieldErrorDoc::from).collect()),
            short: None,
            current_status: None,
            allowed_actions: None,
            current_version: None,
        };
        match &self {
            ApiError::Order(OrderError::ShortStock(short))
            | ApiError::Channel(ChannelError::Order(OrderError::ShortStock(short)))
            | ApiError::Inventory(InventoryError::ShortStock(short)) => problem.short = Some(short.clone()),
            ApiError::Order(OrderError::IllegalTransition(t))
            | ApiError::Channel(ChannelError::Order(OrderError::IllegalTransition(t)))
            | ApiError::Fulfillment(FulfillmentError::Order(OrderError::IllegalTransition(t)))
            | ApiError::Rule(RuleError::Order(OrderError::IllegalTransition(t))) => {
                problem.current_status = Some(t.from);
                problem.allowed_actions = Some(t.allowed.clone());
            }
            ApiError::PreconditionFailed { current }
            | ApiError::Order(OrderError::VersionMismatch { current })
            | ApiError::Catalog(CatalogError::VersionMismatch { current })
            | ApiError::Customer(CustomerError::VersionMismatch { current })
            | ApiError::Channel(ChannelError::VersionMismatch { current })
            | ApiError::Promotion(PromotionError::VersionMismatch { current })
            | ApiError::Rule(RuleError::VersionMismatch { current })
            | ApiError::Fulfillment(FulfillmentError::VersionMismatch { current }) => {
                problem.current_version = Some(*current)
            }
            _ => {}
        }
        let body = serde_json::to_vec(&problem).unwrap_or_default();
        let mut response = (shape.status, body).into_response();
        let headers = response.headers_mut();
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/problem+json"));
        if matches!(self, ApiError::Unauthenticated) {
            headers.insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        response
    }
}

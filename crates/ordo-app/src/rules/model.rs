use ordo_domain::Timestamp;
use ordo_domain::rules::RuleAction;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// A rule as written by an operator.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
pub struct RuleInput {
    pub name: Option<String>,
    /// A CEL expression over `order`, `customer` and `context`, e.g.
    /// `order.total > 10000 && customer.group != "vip"`.
    #[schema(example = "order.total > 10000 && customer.group != \"vip\"")]
    pub condition: Option<String>,
    /// What happens when the condition holds.
    pub actions: Option<Vec<RuleAction>>,
    /// Higher runs first (default 100). The first rule to route an order decides where.
    pub priority: Option<i64>,
    /// Default true.
    pub enabled: Option<bool>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Rule {
    pub id: i64,
    pub name: String,
    pub condition: String,
    pub actions: Vec<RuleAction>,
    pub priority: i64,
    pub enabled: bool,
    pub version: i64,
    pub created_by: String,
    pub created_at: Timestamp,
    pub updated_by: String,
    pub updated_at: Timestamp,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RuleList {
    pub items: Vec<Rule>,
}

/// One saved version of a rule.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RuleRevision {
    pub version: i64,
    /// created, updated, deleted.
    pub change: String,
    pub name: String,
    pub condition: String,
    pub actions: Vec<RuleAction>,
    pub priority: i64,
    pub enabled: bool,
    pub changed_by: String,
    pub changed_at: Timestamp,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RuleHistory {
    pub items: Vec<RuleRevision>,
}

#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
pub struct RuleTest {
    pub order_id: Option<i64>,
}

/// Whether the rule would fire on the order now, and the values it read.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RuleTestResult {
    pub fired: bool,
    #[schema(example = "order.total = 12000, customer.group = \"retail\": the condition holds")]
    pub explanation: String,
}

#[derive(Debug, thiserror::Error)]
pub enum RuleError {
    #[error(transparent)]
    Invalid(#[from] ordo_domain::Invalid),
    #[error("no rule with id {0}")]
    NotFound(i64),
    #[error("the rule changed since you read it: it is at version {current}")]
    VersionMismatch { current: i64 },
    #[error(transparent)]
    Order(#[from] crate::orders::OrderError),
    #[error(transparent)]
    Db(#[from] crate::db::DbError),
}

impl crate::db::StoreError for RuleError {
    fn db_error(&self) -> Option<&crate::db::DbError> {
        match self {
            RuleError::Db(error) | RuleError::Order(crate::orders::OrderError::Db(error)) => Some(error),
            _ => None,
        }
    }
}

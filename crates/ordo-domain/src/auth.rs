//! Roles and what each may do: one table, consulted by the API and the console alike.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Admin,
    Sales,
    Approver,
    Finance,
    Warehouse,
    Service,
    Viewer,
}

crate::text_enum!(
    /// One thing a person may be allowed to do.
    Permission {
        Read = "read",
        OrdersCreate = "orders.create",
        OrdersCancel = "orders.cancel",
        PricesOverride = "prices.override",
        CatalogManage = "catalog.manage",
        CustomersManage = "customers.manage",
        WarehousesManage = "warehouses.manage",
        StockAdjust = "stock.adjust",
        UsersManage = "users.manage",
        AuditRead = "audit.read",
        OrdersEdit = "orders.edit",
        OrdersApprove = "orders.approve",
        OrdersRelease = "orders.release",
        RulesManage = "rules.manage",
        SettingsManage = "settings.manage",
        StockPostCounts = "stock.post_counts",
        PurchasingManage = "purchasing.manage",
        PaymentsRecord = "payments.record",
        PaymentsRefund = "payments.refund",
        RefundsApprove = "refunds.approve",
        InvoicesIssue = "invoices.issue",
        FinanceManage = "finance.manage",
        FulfillmentShip = "fulfillment.ship",
        FulfillmentAllocate = "fulfillment.allocate",
        FulfillmentTrack = "fulfillment.track",
        CarriersManage = "carriers.manage",
        ReturnsManage = "returns.manage",
        ReturnsReceive = "returns.receive",
        TicketsManage = "tickets.manage",
    }
);

/// The permission table. Admin may do everything; everyone signed in may read.
const GRANTS: &[(Role, &[Permission])] = {
    use Permission::*;
    &[
        (
            Role::Sales,
            &[
                OrdersCreate,
                OrdersCancel,
                OrdersEdit,
                CustomersManage,
                PaymentsRecord,
                InvoicesIssue,
                ReturnsManage,
                TicketsManage,
            ],
        ),
        (Role::Approver, &[PricesOverride, OrdersApprove, OrdersRelease, OrdersEdit]),
        // Posting a count writes stock value off or on: finance signs it.
        // Finance also moves money: refunds above the limit, write-offs, bank reconciliation.
        (
            Role::Finance,
            &[
                OrdersApprove,
                OrdersRelease,
                StockPostCounts,
                PurchasingManage,
                PaymentsRecord,
                PaymentsRefund,
                RefundsApprove,
                InvoicesIssue,
                FinanceManage,
            ],
        ),
        (
            Role::Warehouse,
            &[
                StockAdjust,
                WarehousesManage,
                PurchasingManage,
                FulfillmentShip,
                FulfillmentAllocate,
                FulfillmentTrack,
                CarriersManage,
                ReturnsReceive,
            ],
        ),
        // Service follows parcels for customers (tracking, carrier claims), decides returns
        // and exchanges, pays them back and answers tickets.
        (
            Role::Service,
            &[
                OrdersCancel,
                OrdersEdit,
                CustomersManage,
                PaymentsRefund,
                FulfillmentTrack,
                ReturnsManage,
                TicketsManage,
            ],
        ),
        (Role::Viewer, &[]),
    ]
};

impl Role {
    pub const ALL: &'static [Role] =
        &[Role::Admin, Role::Sales, Role::Approver, Role::Finance, Role::Warehouse, Role::Service, Role::Viewer];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Sales => "sales",
            Role::Approver => "approver",
            Role::Finance => "finance",
            Role::Warehouse => "warehouse",
            Role::Service => "service",
            Role::Viewer => "viewer",
        }
    }

    pub fn parse(text: &str) -> Option<Role> {
        Role::ALL.iter().copied().find(|r| r.as_str() == text.trim())
    }

    pub fn choices() -> String {
        Role::ALL.iter().map(|r| r.as_str()).collect::<Vec<_>>().join(", ")
    }

    pub fn may(self, permission: Permission) -> bool {
        self == Role::Admin
            || permission == Permission::Read
            || GRANTS.iter().any(|(role, granted)| *role == self && granted.contains(&permission))
    }
}

/// Roles stored as `sales,approver`; unknown names are dropped.
pub fn parse_roles(text: &str) -> Vec<Role> {
    let mut roles: Vec<Role> = text.split(',').filter_map(Role::parse).collect();
    roles.sort();
    roles.dedup();
    roles
}

pub fn format_roles(roles: &[Role]) -> String {
    roles.iter().map(|r| r.as_str()).collect::<Vec<_>>().join(",")
}

/// Someone with these roles may do `permission` if any of them may.
pub fn roles_may(roles: &[Role], permission: Permission) -> bool {
    roles.iter().any(|role| role.may(permission))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_viewer_may_only_read() {
        assert!(Role::Viewer.may(Permission::Read));
        assert!(Permission::ALL.iter().filter(|p| **p != Permission::Read).all(|p| !Role::Viewer.may(*p)));
    }

    #[test]
    fn sales_sell_and_warehouse_staff_count_stock() {
        assert!(Role::Sales.may(Permission::OrdersCreate));
        assert!(!Role::Sales.may(Permission::StockAdjust));
        assert!(Role::Warehouse.may(Permission::StockAdjust));
        assert!(!Role::Warehouse.may(Permission::OrdersCreate));
    }

    #[test]
    fn several_roles_add_up() {
        let roles = parse_roles("warehouse,sales,nonsense,sales");
        assert_eq!(roles, [Role::Sales, Role::Warehouse]);
        assert!(roles_may(&roles, Permission::StockAdjust) && roles_may(&roles, Permission::OrdersCreate));
        assert!(!roles_may(&roles, Permission::UsersManage));
        assert_eq!(format_roles(&roles), "sales,warehouse");
    }
}

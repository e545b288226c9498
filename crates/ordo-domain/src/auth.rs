//! Roles and what each may do. One table, consulted by the API (and later the console).

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
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

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Permission {
    /// Read anything the API lists.
    Read,
    CatalogManage,
    CustomersManage,
    WarehousesManage,
    StockAdjust,
    OrdersCreate,
    OrdersCancel,
}

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
        use Permission::*;
        match self {
            Role::Admin => true,
            Role::Sales => matches!(permission, Read | CustomersManage | OrdersCreate | OrdersCancel),
            Role::Warehouse => matches!(permission, Read | StockAdjust | WarehousesManage),
            Role::Service => matches!(permission, Read | OrdersCancel),
            Role::Approver | Role::Finance | Role::Viewer => permission == Read,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_viewer_may_only_read() {
        assert!(Role::Viewer.may(Permission::Read));
        assert!(!Role::Viewer.may(Permission::OrdersCreate));
        assert!(Role::Sales.may(Permission::OrdersCreate));
        assert!(!Role::Sales.may(Permission::StockAdjust));
    }
}

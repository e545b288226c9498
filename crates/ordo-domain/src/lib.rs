//! Ordo's pure business core. Nothing in here touches a database, a clock or the network:
//! every function takes what it needs and returns a value, so the rules can be tested alone.

/// An enum stored and sent as snake_case text, with its list of accepted values.
#[macro_export]
macro_rules! text_enum {
    ($(#[$meta:meta])* $name:ident { $($variant:ident = $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
        #[serde(rename_all = "snake_case")]
        pub enum $name { $($variant),+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }

            pub fn parse(text: &str) -> Option<$name> {
                match text { $($text => Some($name::$variant),)+ _ => None }
            }

            /// The accepted values, for error messages.
            pub fn choices() -> String {
                [$($text),+].join(", ")
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

pub mod aftersales;
pub mod auth;
pub mod catalog;
pub mod checks;
pub mod china;
pub mod csv;
pub mod customers;
pub mod events;
pub mod fulfillment;
pub mod fx;
pub mod inventory;
pub mod money;
pub mod orders;
pub mod payables;
pub mod payments;
pub mod pricing;
pub mod reports;
pub mod rules;
pub mod supply;
pub mod tax;
pub mod time;
pub mod transfers;
pub mod validation;

pub use money::{Currency, Quantity};
pub use time::Timestamp;
pub use validation::{FieldError, Invalid};

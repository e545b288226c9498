//! Exchange with spreadsheets: every kind of record as a table a person can open, edit and
//! (once imports land) load back. Column names are the import templates' names.

pub mod exports;

pub use exports::{ExportQuery, KINDS, export};

#[derive(Debug, thiserror::Error)]
pub enum ExchangeError {
    #[error(transparent)]
    Invalid(#[from] ordo_domain::Invalid),
    #[error(transparent)]
    Db(#[from] crate::db::DbError),
}
crate::store_error!(ExchangeError);

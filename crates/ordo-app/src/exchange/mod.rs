//! Exchange with spreadsheets: every kind of record as a table a person can open, edit and
//! (once imports land) load back. Column names are the import templates' names.

pub mod exports;
pub mod imports;

pub use exports::{ExportQuery, KINDS, export};
pub use imports::{ImportFile, ImportMode, ImportResult, RowError, get_import, import};

#[derive(Debug, thiserror::Error)]
pub enum ExchangeError {
    #[error(transparent)]
    Invalid(#[from] ordo_domain::Invalid),
    #[error(transparent)]
    Db(#[from] crate::db::DbError),
    /// An import that must leave nothing behind (a dry run, or all-or-nothing with errors):
    /// the transaction is rolled back and the caller records this result on its own.
    #[error("the import was rolled back")]
    RolledBack(Box<imports::ImportResult>),
}
crate::store_error!(ExchangeError);

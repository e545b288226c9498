//! Exchange with spreadsheets: every kind of record as a table a person can open, edit and
//! (once imports land) load back. Column names are the import templates' names.

pub mod exports;
pub mod imports;

pub use exports::{ExportQuery, KINDS, export};
pub use imports::{ImportFile, ImportMode, ImportResult, Progress, RowError, SavedMapping, get_import, import};

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

/// Imports a file and keeps its outcome. A dry run, or an all-or-nothing file with
/// problems, is rolled back whole and its outcome kept on its own; `valid_rows` commits
/// chunk by chunk (`imports::CHUNK` records each), so a crash keeps what was committed and
/// importing the file again reports those records as already there.
pub async fn import_file(
    db: &crate::Database,
    ctx: crate::Ctx,
    mut file: ImportFile,
) -> Result<ImportResult, ExchangeError> {
    use_saved_mapping(db, &mut file).await?;
    let parsed = std::sync::Arc::new(imports::parse(&file)?);
    let outcome = if parsed.mode() == ImportMode::ValidRows {
        let tally = import_leading_chunks(db, &ctx, parsed.clone()).await?;
        db.write(move |tx| imports::import_last_chunk(tx, &ctx, &parsed, &tally)).await
    } else {
        db.write(move |tx| imports::import_parsed(tx, &ctx, &parsed)).await
    };
    match outcome {
        Err(ExchangeError::RolledBack(result)) => keep_outcome(db, *result).await,
        other => other,
    }
}

/// Commits every chunk of a `valid_rows` file but the last, each in its own transaction.
pub async fn import_leading_chunks(
    db: &crate::Database,
    ctx: &crate::Ctx,
    parsed: std::sync::Arc<imports::Parsed>,
) -> Result<imports::Tally, ExchangeError> {
    let mut tally = imports::Tally::default();
    for start in (0..imports::last_chunk(&parsed)).step_by(imports::CHUNK) {
        let (ctx, parsed, before) = (ctx.clone(), parsed.clone(), tally.clone());
        tally = db
            .write(move |tx| {
                let mut tally = before.clone();
                imports::import_records(tx, &ctx, &parsed, start..start + imports::CHUNK, &mut tally)?;
                Ok::<_, ExchangeError>(tally)
            })
            .await?;
    }
    Ok(tally)
}

/// Records the outcome of an import whose own transaction was rolled back.
pub async fn keep_outcome(db: &crate::Database, result: ImportResult) -> Result<ImportResult, ExchangeError> {
    Ok(db.write(move |tx| imports::record(tx, result.clone())).await?)
}

/// Puts the saved mapping a file names (`mapping_name`) in the file's `mapping`.
pub async fn use_saved_mapping(db: &crate::Database, file: &mut ImportFile) -> Result<(), ExchangeError> {
    if file.mapping_name.is_none() {
        return Ok(());
    }
    let (kind, mapping, name) = (file.kind.clone(), file.mapping.clone(), file.mapping_name.clone());
    file.mapping = db.read(move |tx| imports::resolve_mapping(tx, &kind, mapping.as_deref(), name.as_deref())).await?;
    Ok(())
}

//! `ordo import FILE`: loads a file straight into the database through the same use case as
//! `POST /api/v1/imports`, drawing a progress bar on the terminal.

use crate::BoxError;
use ordo_app::exchange::{self, ImportFile, ImportResult};
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

pub struct Options {
    pub kind: String,
    pub mode: String,
    pub existing: String,
    pub mapping: Option<String>,
    pub mapping_name: Option<String>,
    pub rejects: Option<PathBuf>,
}

/// Imports the file and prints its outcome; fails when the file is refused, or a dry run
/// finds problems, so scripts can stop there.
pub async fn run(db: &ordo_app::Database, path: &Path, options: Options) -> Result<(), BoxError> {
    let bytes = std::fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let bar = Arc::new(Bar::new());
    let drawn = bar.clone();
    let file = ImportFile {
        kind: options.kind,
        mode: Some(options.mode),
        mapping: options.mapping,
        mapping_name: options.mapping_name,
        file_name: path.file_name().map_or("upload.csv".into(), |n| n.to_string_lossy().into_owned()),
        bytes,
        existing: Some(options.existing),
        // Whoever can run this holds the database itself.
        may_set_prices: true,
        progress: Some(Arc::new(move |done, total| drawn.draw(done, total))),
    };
    let started = Instant::now();
    let ctx = ordo_app::Ctx::new("cli", "cli");
    let result = exchange::import_file(db, ctx, file).await;
    bar.finish();
    let result = result?;
    print_outcome(&result, started.elapsed());
    if let (Some(rejects), Some(csv)) = (&options.rejects, &result.rejected_csv) {
        std::fs::write(rejects, csv).map_err(|e| format!("cannot write {}: {e}", rejects.display()))?;
        println!("rejected rows written to {}", rejects.display());
    }
    match result.status.as_str() {
        "rejected" => Err("nothing was imported".into()),
        "validated" if !result.errors.is_empty() => Err(format!("{} problems found", result.errors.len()).into()),
        _ => Ok(()),
    }
}

fn print_outcome(result: &ImportResult, took: Duration) {
    println!(
        "import #{} ({} {}): {}: {} rows, {} records imported, {} rejected{}, in {:.1} s",
        result.id,
        result.kind,
        serde_json::to_value(result.mode).ok().and_then(|m| m.as_str().map(String::from)).unwrap_or_default(),
        result.status,
        result.rows,
        result.imported,
        result.rejected,
        if result.updated > 0 { format!(", {} levels or prices set", result.updated) } else { String::new() },
        took.as_secs_f64()
    );
    const SHOWN: usize = 50;
    for error in result.errors.iter().take(SHOWN) {
        println!("  row {:>6}  {:<24} {}", error.row, error.column, error.message);
    }
    if result.errors.len() > SHOWN {
        println!("  … and {} more (use --rejects FILE for every rejected row)", result.errors.len() - SHOWN);
    }
}

/// A progress bar on stderr: redrawn at most ten times a second on a terminal, a line per
/// tenth of the file otherwise (logs, CI).
struct Bar {
    terminal: bool,
    last: Mutex<(Instant, usize)>,
}

impl Bar {
    fn new() -> Bar {
        Bar { terminal: std::io::stderr().is_terminal(), last: Mutex::new((Instant::now(), 0)) }
    }

    fn draw(&self, done: usize, total: usize) {
        let Ok(mut last) = self.last.lock() else { return };
        let tenth = total.div_ceil(10).max(1);
        let due = done == total
            || if self.terminal {
                last.0.elapsed() >= Duration::from_millis(100)
            } else {
                done / tenth > last.1 / tenth
            };
        if !due {
            return;
        }
        *last = (Instant::now(), done);
        let percent = (done * 100).checked_div(total).unwrap_or(100);
        let filled = percent * 30 / 100;
        let line = format!("[{}{}] {done}/{total} records {percent:>3}%", "#".repeat(filled), "-".repeat(30 - filled));
        let mut err = std::io::stderr().lock();
        let _ = if self.terminal { write!(err, "\r{line}") } else { writeln!(err, "{line}") };
        let _ = err.flush();
    }

    fn finish(&self) {
        if self.terminal {
            eprintln!();
        }
    }
}

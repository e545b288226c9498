use clap::{Parser, Subcommand};
use ordo::{Application, BoxError, create_token, open_database, shutdown_signal};
use std::path::PathBuf;
use std::process::ExitCode;

/// Ordo: order management for small and mid-sized businesses.
#[derive(Parser)]
#[command(name = "ordo", version)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    #[command(flatten)]
    db: DbArgs,
}

#[derive(clap::Args, Clone)]
struct DbArgs {
    /// PostgreSQL URL (postgres://…); without it Ordo uses the SQLite file in --data-dir.
    #[arg(long, env = "ORDO_DATABASE_URL", global = true)]
    database_url: Option<String>,
    /// Folder of the embedded database.
    #[arg(long, env = "ORDO_DATA_DIR", default_value = "./ordo-data", global = true)]
    data_dir: PathBuf,
}

#[derive(Subcommand)]
enum Command {
    /// Run the API server (the default command).
    Serve {
        #[arg(long, env = "ORDO_LISTEN", default_value = "127.0.0.1:8080")]
        listen: String,
        /// Load demo data into an empty database and print an admin token for it.
        #[arg(long)]
        demo: bool,
        /// Publish every event to this NATS server's JetStream (stream ORDO, subjects ordo.<type>).
        #[arg(long, env = "ORDO_NATS_URL")]
        nats_url: Option<String>,
    },
    /// Bring the database schema up to date, then exit.
    Migrate,
    /// Load the demo data set (products, warehouses, customers, 500 orders) into an empty database.
    Demo,
    /// Manage API tokens.
    Token {
        #[command(subcommand)]
        command: TokenCommand,
    },
    /// Manage console users.
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
    /// Check stock: `ordo stock verify` rebuilds every level from its movements.
    Stock {
        #[command(subcommand)]
        command: StockCommand,
    },
    /// Load a CSV or XLSX file of orders, customers, products, stock or price lists, with a
    /// progress bar; the same checks and modes as `POST /api/v1/imports`.
    Import {
        /// The file (.csv in UTF-8, or .xlsx: the first sheet).
        file: PathBuf,
        /// orders, customers, products, stock or price_lists.
        #[arg(long, default_value = "orders")]
        kind: String,
        /// dry_run (check only), all_or_nothing or valid_rows.
        #[arg(long, default_value = "dry_run")]
        mode: String,
        /// Customers and products already there: skip (report them) or update (change them).
        #[arg(long, default_value = "skip")]
        existing: String,
        /// JSON object naming the field each of the file's columns holds: {"Bestell-Nr": "external_ref"}.
        #[arg(long)]
        mapping: Option<String>,
        /// Or the name of a mapping saved for this kind (console or `PUT /api/v1/imports/mappings/{kind}/{name}`).
        #[arg(long)]
        mapping_name: Option<String>,
        /// Write the rejected rows here (CSV with an `error` column), to fix and load again.
        #[arg(long)]
        rejects: Option<PathBuf>,
    },
    /// Measure Ordo (see `ordo bench placement --help`).
    Bench {
        #[command(subcommand)]
        command: ordo::bench::BenchCommand,
    },
}

#[derive(Subcommand)]
enum UserCommand {
    /// Create a user; prints the one-time password alone on the last line.
    Create {
        #[arg(long)]
        email: String,
        /// One or more roles, comma-separated: admin, sales, approver, finance, warehouse, service, viewer.
        #[arg(long)]
        role: String,
        #[arg(long)]
        name: Option<String>,
    },
    /// Give a user a new one-time password; prints it alone on the last line.
    ResetPassword {
        #[arg(long)]
        email: String,
    },
}

#[derive(Subcommand)]
enum StockCommand {
    /// Rebuild every stock level from the movement ledger and list the ones that differ;
    /// exits with failure when any does.
    Verify,
}

#[derive(Subcommand)]
enum TokenCommand {
    /// Create a token and print it (one line, nothing else) on stdout.
    Create {
        #[arg(long)]
        role: String,
        #[arg(long)]
        name: String,
    },
}

fn init_logging() {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_env("ORDO_LOG").unwrap_or_else(|_| EnvFilter::new("info,tower_http=warn"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    if std::env::var("ORDO_LOG_FORMAT").is_ok_and(|f| f == "json") {
        builder.json().init();
    } else {
        builder.init();
    }
}

fn main() -> ExitCode {
    init_logging();
    ordo::install_tls();
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("ordo: cannot start the runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("ordo: {error}");
            ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> Result<(), BoxError> {
    let db_args = cli.db.clone();
    let open = || open_database(db_args.database_url.as_deref(), &db_args.data_dir);
    match cli.command.unwrap_or(Command::Serve { listen: "127.0.0.1:8080".into(), demo: false, nats_url: None }) {
        Command::Serve { listen, demo, nats_url } => {
            let db = open().await?;
            if demo {
                if ordo::demo::is_empty(&db).await? {
                    ordo::demo::load(&db).await?;
                    let token = create_token(&db, "admin", "demo").await?;
                    tracing::info!("demo data loaded; admin API token for trying it out: {token}");
                    let portal = ordo::demo::invite_portal_buyer(&db, &format!("http://{listen}")).await?;
                    eprintln!(
                        "\n  Demo admin token:  {token}\n  Try:  curl -H 'Authorization: Bearer {token}' http://{listen}/api/v1/orders?limit=5\n  Customer portal (a buyer of 上海华联 sets a password here):  {portal}\n"
                    );
                } else {
                    tracing::info!("the database already has data: demo data not loaded");
                }
            }
            if let Some(password) = ordo::ensure_first_admin(&db).await? {
                tracing::warn!(
                    "first start: created the console admin {} with the one-time password {password} — sign in at /login and choose your own",
                    ordo::FIRST_ADMIN
                );
            }
            let mut app = Application::build(db, &listen).await?;
            if let Some(url) = nats_url {
                app = app.with_bus(&url).await?;
                tracing::info!(%url, "publishing events to NATS JetStream");
            }
            tracing::info!(%listen, port = app.port(), "Ordo is serving the API under /api/v1");
            app.run_until(shutdown_signal()).await?;
            Ok(())
        }
        Command::Migrate => {
            open().await?;
            tracing::info!("database schema is up to date");
            Ok(())
        }
        Command::Demo => {
            let db = open().await?;
            if !ordo::demo::is_empty(&db).await? {
                return Err(
                    "the database already has products or orders; demo data goes into an empty database only".into()
                );
            }
            let summary = ordo::demo::load(&db).await?;
            println!("{summary}");
            Ok(())
        }
        Command::Token { command: TokenCommand::Create { role, name } } => {
            let db = open().await?;
            println!("{}", create_token(&db, &role, &name).await?);
            Ok(())
        }
        Command::User { command: UserCommand::Create { email, role, name } } => {
            let db = open().await?;
            let password = ordo::create_user(&db, &email, &role, name.as_deref(), "cli").await?;
            println!("created {email} ({role}); one-time password, to be changed at first sign-in:");
            println!("{password}");
            Ok(())
        }
        Command::User { command: UserCommand::ResetPassword { email } } => {
            let db = open().await?;
            let password = ordo::reset_password(&db, &email).await?;
            println!("new one-time password for {email}, to be changed at next sign-in:");
            println!("{password}");
            Ok(())
        }
        Command::Stock { command: StockCommand::Verify } => {
            let db = open().await?;
            let mismatches = db.read(ordo_app::inventory::verify_ledger).await?;
            for m in &mismatches {
                println!(
                    "MISMATCH {} in {}: stored on hand {} reserved {}, movements add up to on hand {} reserved {}",
                    m.sku, m.warehouse, m.stored.0, m.stored.1, m.from_movements.0, m.from_movements.1
                );
            }
            if mismatches.is_empty() {
                println!("every stock level equals the sum of its movements");
                Ok(())
            } else {
                Err(format!("{} stock levels differ from their movements", mismatches.len()).into())
            }
        }
        Command::Import { file, kind, mode, existing, mapping, mapping_name, rejects } => {
            let db = open().await?;
            let options = ordo::import::Options { kind, mode, existing, mapping, mapping_name, rejects };
            ordo::import::run(&db, &file, options).await
        }
        Command::Bench { command } => ordo::bench::run(command, cli.db.database_url.clone()).await,
    }
}

//! The `safegrade` binary: `serve`, `migrate`, `openapi`, `demo-data`.
//!
//! Reads settings (defaults → optional TOML file → `SAFEGRADE_*` environment → flags), sets up
//! tracing, opens the store and runs the chosen command. Depends on every other crate.

mod demo;
mod settings;

use std::io::Write;
use std::path::PathBuf;

use actix_web::HttpServer;
use anyhow::Context;
use clap::{Parser, Subcommand};
use safegrade_domain::SectorMapping;
use safegrade_http::{AppState, app};
use safegrade_store::{DbUrl, PoolConfig, Store};
use settings::Settings;

/// SafeGrade: the system of record for safety-production standardization (安全生产标准化)
/// regulation in Mianyang.
#[derive(Debug, Parser)]
#[command(name = "safegrade", version, about, long_about = None)]
struct Cli {
    /// TOML settings file (keys: bind, database_url, pool_size, workers).
    #[arg(long, global = true, env = "SAFEGRADE_CONFIG")]
    config: Option<PathBuf>,
    /// Database URL: sqlite://PATH (default sqlite://./data/safegrade.db) or postgres://…
    #[arg(long, global = true, env = "SAFEGRADE_DATABASE_URL")]
    database_url: Option<String>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Migrate, seed the reference data and serve the API (default 127.0.0.1:8080).
    Serve {
        /// Address to listen on; port 0 picks a free port (printed at start).
        #[arg(long, env = "SAFEGRADE_BIND")]
        bind: Option<String>,
        /// HTTP worker threads (default: one per core).
        #[arg(long, env = "SAFEGRADE_WORKERS")]
        workers: Option<usize>,
    },
    /// Run pending migrations and seed the reference data, then exit.
    Migrate,
    /// Print the OpenAPI document (`safegrade openapi > api/openapi.json` regenerates the
    /// committed contract); with --book, also write the book's API reference pages there.
    Openapi {
        /// Folder for the generated API reference (book/src/api).
        #[arg(long)]
        book: Option<PathBuf>,
    },
    /// Load synthetic enterprises spread over every area and sector (for benchmarks).
    DemoData {
        /// How many enterprises to add.
        #[arg(long, default_value_t = 100_000)]
        count: u32,
    },
}

fn init_tracing() {
    let filter = tracing_subscriber::EnvFilter::try_from_env("SAFEGRADE_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    if std::env::var("SAFEGRADE_LOG_FORMAT").is_ok_and(|f| f == "json") {
        builder.json().init();
    } else {
        builder.init();
    }
}

fn open_store(settings: &Settings) -> anyhow::Result<(Store, DbUrl)> {
    let url = DbUrl::parse(&settings.database_url)?;
    let config = PoolConfig {
        size: settings.pool_size,
        ..PoolConfig::default()
    };
    let store = Store::open(&url, &config)
        .with_context(|| format!("cannot open database {}", url.redacted()))?;
    let applied = store.migrate().context("migrations failed")?;
    let report = store
        .sync_reference_data(SectorMapping::builtin())
        .context("seeding reference data failed")?;
    tracing::info!(database = %url.redacted(), migrations_applied = applied.len(), areas = report.areas_written, sectors_rederived = report.sectors_rederived, "database ready");
    Ok((store, url))
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let mut settings = Settings::load(cli.config.as_deref())?;
    if let Some(url) = cli.database_url {
        settings.database_url = url;
    }
    match cli.command {
        Command::Openapi { book } => {
            let mut out = std::io::stdout().lock();
            out.write_all(safegrade_http::openapi_json().as_bytes())?;
            if let Some(dir) = book {
                std::fs::create_dir_all(&dir)?;
                for page in safegrade_http::apidoc::render(&safegrade_http::openapi()) {
                    std::fs::write(dir.join(&page.file), page.text)?;
                }
            }
            Ok(())
        }
        Command::Migrate => {
            init_tracing();
            open_store(&settings)?;
            Ok(())
        }
        Command::DemoData { count } => {
            init_tracing();
            let (store, _) = open_store(&settings)?;
            let added = demo::load(&store, count)?;
            println!("added {added} synthetic enterprises");
            Ok(())
        }
        Command::Serve { bind, workers } => {
            if let Some(b) = bind {
                settings.bind = b;
            }
            if let Some(w) = workers {
                settings.workers = w;
            }
            init_tracing();
            serve(settings)
        }
    }
}

#[actix_web::main]
async fn serve(settings: Settings) -> anyhow::Result<()> {
    let (store, url) = open_store(&settings)?;
    let state = AppState::new(store);
    let mut server = HttpServer::new(move || app(state.clone()))
        .bind(&settings.bind)
        .with_context(|| format!("cannot listen on {}", settings.bind))?;
    if settings.workers > 0 {
        server = server.workers(settings.workers);
    }
    let addr = server
        .addrs()
        .first()
        .copied()
        .context("no listening address")?;
    let base = format!("http://{addr}");
    println!(
        "SafeGrade listening on {base} (database {})",
        url.redacted()
    );
    println!("Try:");
    println!("  curl {base}/readyz");
    println!("  curl {base}/api/v1/areas");
    println!("  curl '{base}/api/v1/enterprises?area_code=510703&limit=10'");
    println!("  API docs: {base}/api/docs/   OpenAPI: {base}/api/openapi.json");
    println!("Stop with Ctrl-C.");
    std::io::stdout().flush()?;
    server.run().await?;
    Ok(())
}

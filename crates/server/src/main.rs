//! The `safegrade` binary: `serve`, `migrate`, `openapi`, `demo-data`.
//!
//! Reads settings (defaults → optional TOML file → `SAFEGRADE_*` environment → flags), sets up
//! tracing, opens the store and runs the chosen command. Depends on every other crate.

mod demo;
mod rules;
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
    /// TOML settings file (keys: bind, database_url, pool_size, workers,
    /// token_cache_seconds, grade_rules); each key can also be set as `SAFEGRADE_<KEY>`.
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
        /// Pin the server's "today" (YYYY-MM-DD) for demos and tests; default: the current
        /// date in China.
        #[arg(long, env = "SAFEGRADE_TODAY")]
        today: Option<chrono::NaiveDate>,
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
    /// Create principals (API callers); prints the new principal's first token once.
    Principal {
        #[command(subcommand)]
        command: PrincipalCommand,
    },
    /// Issue tokens; prints the token once (only its hash is stored).
    Token {
        #[command(subcommand)]
        command: TokenCommand,
    },
    /// Print the built-in grade rules as TOML: the template for the `grade_rules` setting.
    GradeRules,
    /// Grading standards (评定标准): import a version from a JSON file in the API's format.
    Standard {
        #[command(subcommand)]
        command: StandardCommand,
    },
    /// The book (process guide, integrator guide, API reference) as a static site.
    Book {
        #[command(subcommand)]
        command: BookCommand,
    },
    /// Import a survey ledger (摸底调查台账) from a CSV file.
    Import {
        #[command(subcommand)]
        command: ImportCommand,
    },
    /// Copy the embedded SQLite database to a new file while it is in use (for PostgreSQL,
    /// use pg_dump: see the book, 运维).
    Backup {
        /// The backup file to write (must not exist).
        #[arg(long)]
        to: std::path::PathBuf,
    },
    /// Replace the embedded SQLite database with a backup (stop the server first).
    Restore {
        /// The backup file.
        #[arg(long)]
        from: std::path::PathBuf,
        /// Replace an existing database.
        #[arg(long)]
        force: bool,
    },
    /// The tamper-evident audit trail (审计链): check the event chains, print their heads.
    Audit {
        #[command(subcommand)]
        command: AuditCommand,
    },
    /// Load synthetic enterprises spread over every area and sector (for benchmarks).
    DemoData {
        /// How many enterprises to add.
        #[arg(long, default_value_t = 100_000)]
        count: u32,
        /// Also give about 70 % of them a certificate history (for the grade benchmarks).
        #[arg(long)]
        grades: bool,
        /// Also give each a dual-prevention register: an analysis unit, two risks, a weekly
        /// inspection task with records, and ten hazards of the last year (for the hazard
        /// benchmarks).
        #[arg(long)]
        dual_prevention: bool,
        /// Add them even to a database that holds real (non-demo) enterprises.
        #[arg(long)]
        force: bool,
    },
}

#[derive(Debug, Subcommand)]
enum ImportCommand {
    /// Enterprises from a ledger in Excel (.xlsx, .xls, .ods) or CSV (UTF-8): headers
    /// through the synonym table, every problem with its row and column, then each valid row
    /// created or updated by its credit code. Nothing is written when any row has a problem,
    /// unless --valid-rows.
    Ledger {
        /// The file.
        file: std::path::PathBuf,
        /// The worksheet (default: the first).
        #[arg(long)]
        sheet: Option<String>,
        /// Only say what would change; write nothing.
        #[arg(long)]
        dry_run: bool,
        /// Import the valid rows even when others have problems (they are listed).
        #[arg(long)]
        valid_rows: bool,
        /// Import into this one supervision area (code or name, like 510703 or 涪城区): rows
        /// that leave the area blank get it, rows of other areas are refused.
        #[arg(long)]
        area: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
enum PrincipalCommand {
    /// Create a principal and issue its first token.
    Create {
        /// A name for people (the office, person or system).
        #[arg(long)]
        name: String,
        /// city_admin, city_regulator, area_regulator, enterprise or integration.
        #[arg(long)]
        role: String,
        /// A supervision area (repeat for several); area_regulator and integration only.
        #[arg(long = "area")]
        areas: Vec<String>,
        /// The enterprise id of an enterprise principal.
        #[arg(long)]
        enterprise: Option<String>,
        /// An integration that may only read.
        #[arg(long, conflicts_with = "read_write")]
        read_only: bool,
        /// An integration that may also write.
        #[arg(long)]
        read_write: bool,
        /// The unified social credit code of a reviewer's review organisation.
        #[arg(long)]
        review_org_id: Option<String>,
        /// The name of a reviewer's review organisation.
        #[arg(long)]
        review_org_name: Option<String>,
        /// When the token stops working (RFC 3339 with a time zone, like
        /// 2027-12-31T16:00:00Z); default never.
        #[arg(long)]
        expires_at: Option<chrono::DateTime<chrono::Utc>>,
    },
}

#[derive(Debug, Subcommand)]
enum StandardCommand {
    /// Import one standard version (the format of POST /api/v1/standards; book chapter
    /// 评定标准与评分), for example `safegrade standard import 仓储物流-2024.json`.
    Import {
        /// The JSON file.
        file: PathBuf,
    },
}

#[derive(Debug, Subcommand)]
enum AuditCommand {
    /// Check every event's hash and its link to the previous event of its chain, from event
    /// SEQ on (default: the whole log); exits with status 1 naming the first break.
    Verify {
        /// The first event to check (its link to the event before is checked against that
        /// event's stored hash).
        #[arg(long, default_value_t = 1)]
        from: i64,
    },
    /// Print each chain's head (its last event, that event's hash, its length): a copy kept
    /// outside the system lets anyone show later that the log was not rewritten.
    Heads,
}

#[derive(Debug, Subcommand)]
enum BookCommand {
    /// Build the site into a folder (the same site `serve` publishes at /book/).
    Build {
        /// Where to write it (created if missing).
        #[arg(long)]
        out: PathBuf,
    },
}

#[derive(Debug, Subcommand)]
enum TokenCommand {
    /// Issue a token for a principal.
    Create {
        /// The principal's id.
        #[arg(long)]
        principal: String,
        /// When the token stops working (RFC 3339 with a time zone, like
        /// 2027-12-31T16:00:00Z); default never.
        #[arg(long)]
        expires_at: Option<chrono::DateTime<chrono::Utc>>,
    },
}

/// `safegrade audit …`.
fn audit(store: &Store, command: AuditCommand) -> anyhow::Result<()> {
    match command {
        AuditCommand::Verify { from } => {
            let found = store.verify_chain(from)?;
            if let Some(b) = found.first_break {
                anyhow::bail!(
                    "the audit chain {} breaks at event {}: {} ({} events before it are intact)",
                    b.chain,
                    b.seq,
                    b.problem,
                    found.events
                );
            }
            println!(
                "{} events in {} chains from event {from} on: every hash and link is intact",
                found.events,
                found.chains.len()
            );
            for (chain, (seq, hash)) in &found.chains {
                println!("{chain}\t{seq}\t{hash}");
            }
        }
        AuditCommand::Heads => {
            println!("chain\tlast_seq\tlast_hash\tlength");
            for h in store.chain_heads()? {
                println!("{}\t{}\t{}\t{}", h.chain, h.last_seq, h.last_hash, h.length);
            }
        }
    }
    Ok(())
}

/// Issues a token from the command line and prints it on a line of its own.
fn print_token(
    store: &Store,
    principal: safegrade_domain::PrincipalId,
    expires_at: Option<chrono::DateTime<chrono::Utc>>,
) -> anyhow::Result<()> {
    safegrade_domain::check_expiry(expires_at, chrono::Utc::now())
        .map_err(|v| anyhow::anyhow!("{}", v.message))?;
    let issued = store
        .issue_token(
            principal,
            expires_at,
            &safegrade_domain::Actor::command_line(),
        )
        .map_err(|e| match e {
            safegrade_store::StoreError::NotFound => {
                anyhow::anyhow!("no principal with id {principal}")
            }
            e => e.into(),
        })?;
    println!(
        "token {} for principal {principal}, expires {}; shown only this once:",
        issued.info.id,
        issued
            .info
            .expires_at
            .map_or_else(|| "never".to_owned(), |a| a.to_rfc3339())
    );
    println!("{}", issued.secret);
    Ok(())
}

fn principal_command(store: &Store, command: PrincipalCommand) -> anyhow::Result<()> {
    let PrincipalCommand::Create {
        name,
        role,
        areas,
        enterprise,
        read_only,
        read_write,
        review_org_id,
        review_org_name,
        expires_at,
    } = command;
    let input = safegrade_domain::PrincipalInput {
        name: Some(name),
        role: Some(role),
        area_codes: (!areas.is_empty()).then_some(areas),
        enterprise_id: enterprise,
        read_only: (read_only || read_write).then_some(read_only),
        review_organisation: (review_org_id.is_some() || review_org_name.is_some())
            .then_some((review_org_id, review_org_name)),
        disabled: None,
    };
    let data = input.validate().map_err(|violations| {
        let lines: Vec<String> = violations
            .iter()
            .map(|v| {
                let field = v.pointer.trim_start_matches('/');
                let field = field.split('/').next().unwrap_or(field);
                format!("  {}: {}", flag_of(field), v.message)
            })
            .collect();
        anyhow::anyhow!(
            "invalid principal:\n{}\nfor example: safegrade principal create --name 涪城区应急管理局 --role area_regulator --area 510703",
            lines.join("\n")
        )
    })?;
    let p = store
        .create_principal(&data, &safegrade_domain::Actor::command_line())
        .map_err(|e| match e {
            safegrade_store::StoreError::MissingReference { .. } => anyhow::anyhow!(
                "--enterprise: no such enterprise in the ledger (use the id of a ledger record, from GET /api/v1/enterprises)"
            ),
            e => e.into(),
        })?;
    println!("created principal {} ({})", p.id, p.data.role);
    print_token(store, p.id, expires_at)
}

/// The command-line flag that sets a principal field, for error messages.
fn flag_of(field: &str) -> &str {
    match field {
        "name" => "--name",
        "role" => {
            "--role (city_admin, city_regulator, area_regulator, enterprise, integration, reviewer)"
        }
        "review_organisation" => "--review-org-id and --review-org-name",
        "area_codes" => "--area (repeat for several, like --area 510703 --area 510704)",
        "enterprise_id" => "--enterprise",
        "read_only" => "--read-only or --read-write",
        "expires_at" => "--expires-at (like --expires-at 2027-12-31T16:00:00Z)",
        other => other,
    }
}

/// Logging to stderr through a background writer (a log line per request must not cost the
/// request a write system call); the guard flushes it at exit and must be kept alive.
fn init_tracing() -> tracing_appender::non_blocking::WorkerGuard {
    let filter = tracing_subscriber::EnvFilter::try_from_env("SAFEGRADE_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    // Not lossy: under a burst the requests wait for the writer rather than lose lines.
    let (writer, guard) = tracing_appender::non_blocking::NonBlockingBuilder::default()
        .lossy(false)
        .finish(std::io::stderr());
    // Colours only for a person at a terminal, never in files or log collectors.
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_writer(writer);
    if std::env::var("SAFEGRADE_LOG_FORMAT").is_ok_and(|f| f == "json") {
        builder.json().init();
    } else {
        builder.init();
    }
    guard
}

fn open_store(settings: &Settings) -> anyhow::Result<(Store, DbUrl)> {
    let url = DbUrl::parse(&settings.database_url)?;
    let config = PoolConfig {
        size: settings.pool_size,
        ..PoolConfig::default()
    };
    let mut store = Store::open(&url, &config)
        .with_context(|| format!("cannot open database {}", url.redacted()))?;
    if let Some(read_url) = &settings.database_read_url {
        let replica = DbUrl::parse(read_url)?;
        store = store
            .with_replica(&replica, &config)
            .with_context(|| format!("cannot use the read replica {}", replica.redacted()))?;
        tracing::info!(replica = %replica.redacted(), "lists and statistics read from the replica");
    }
    if let Some(path) = &settings.grade_rules {
        let rules = rules::load(path)?;
        tracing::info!(version = rules.version, file = %path.display(), "grade rules loaded");
        store = store.with_grade_rules(rules);
    }
    let applied = store.migrate().context("migrations failed")?;
    let report = store
        .sync_reference_data(SectorMapping::builtin())
        .context("seeding reference data failed")?;
    tracing::info!(database = %url.redacted(), migrations_applied = applied.len(), areas = report.areas_written, sectors_rederived = report.sectors_rederived, calendar_years = report.calendar_years_written, standards = report.standards_written, "database ready");
    Ok((store, url))
}

/// Runs the command; an error is printed as one sentence chain (no debug dump or backtrace)
/// and the process exits with status 1.
fn main() -> std::process::ExitCode {
    match run() {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

fn run() -> anyhow::Result<()> {
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
        Command::Book {
            command: BookCommand::Build { out },
        } => {
            safegrade_site::build(&out)?;
            println!(
                "built the docs site into {} (open index.html)",
                out.display()
            );
            Ok(())
        }
        Command::GradeRules => {
            print!("{}", rules::builtin_toml()?);
            Ok(())
        }
        Command::Migrate => {
            let _log = init_tracing();
            open_store(&settings)?;
            Ok(())
        }
        Command::Principal { command } => {
            let _log = init_tracing();
            let (store, _) = open_store(&settings)?;
            principal_command(&store, command)
        }
        Command::Token {
            command:
                TokenCommand::Create {
                    principal,
                    expires_at,
                },
        } => {
            let _log = init_tracing();
            let (store, _) = open_store(&settings)?;
            let id = safegrade_domain::PrincipalId::parse(&principal)
                .ok_or_else(|| anyhow::anyhow!("'{principal}' is not a principal id"))?;
            print_token(&store, id, expires_at)
        }
        Command::Standard {
            command: StandardCommand::Import { file },
        } => {
            let _log = init_tracing();
            let json = std::fs::read_to_string(&file)
                .with_context(|| format!("cannot read {}", file.display()))?;
            let data = safegrade_store::standards::parse(&json).map_err(|problems| {
                let lines: Vec<String> = problems
                    .iter()
                    .map(|v| {
                        format!(
                            "  {}: {}",
                            if v.pointer.is_empty() {
                                "/"
                            } else {
                                &v.pointer
                            },
                            v.message
                        )
                    })
                    .collect();
                anyhow::anyhow!(
                    "{} is not a valid standard ({} problems):\n{}",
                    file.display(),
                    problems.len(),
                    lines.join("\n")
                )
            })?;
            let (store, _) = open_store(&settings)?;
            let stored = store
                .with_write_tx(move |tx| {
                    safegrade_store::standards::create(
                        tx,
                        &data,
                        &safegrade_domain::Actor::command_line(),
                    )
                })
                .map_err(|e| match e {
                    safegrade_store::StoreError::Conflict(_) => anyhow::anyhow!(
                        "this version of the standard is imported already: a revised standard needs a new \"version\""
                    ),
                    other => anyhow::anyhow!("import failed: {other}"),
                })?;
            println!(
                "imported {} {} ({} elements, {} check items, {} points) as {}",
                stored.standard.data.code,
                stored.standard.data.version,
                stored.standard.data.elements.len(),
                stored.standard.data.item_count(),
                stored.standard.data.full_points,
                stored.standard.id
            );
            Ok(())
        }
        Command::Import {
            command:
                ImportCommand::Ledger {
                    file,
                    sheet,
                    dry_run,
                    valid_rows,
                    area,
                },
        } => {
            let _log = init_tracing();
            let area_code = match area.as_deref() {
                Some(a) => Some(
                    safegrade_domain::ledger::sheet::area_code_of(a)
                        .with_context(|| format!("--area {a}: not a supervision area of Mianyang"))?
                        .to_owned(),
                ),
                None => None,
            };
            let (store, _) = open_store(&settings)?;
            import_ledger(
                &store,
                (&file, sheet.as_deref(), area_code),
                dry_run,
                valid_rows,
            )
        }
        Command::Backup { to } => {
            let _log = init_tracing();
            let (store, url) = open_store(&settings)?;
            let done = store
                .backup_to(&to)
                .with_context(|| format!("backing up {} failed", url.redacted()))?;
            println!(
                "backed up to {} ({} bytes: {} enterprises, {} events, {} migrations)",
                done.path.display(),
                done.bytes,
                done.enterprises,
                done.events,
                done.migrations
            );
            Ok(())
        }
        Command::Restore { from, force } => {
            let _log = init_tracing();
            let url = DbUrl::parse(&settings.database_url)?;
            let done = safegrade_store::backup::restore_sqlite(&from, &url, force)
                .with_context(|| format!("restoring {} failed", from.display()))?;
            println!(
                "restored {} from {} ({} enterprises, {} events); start the server to apply newer migrations",
                url.redacted(),
                from.display(),
                done.enterprises,
                done.events
            );
            Ok(())
        }
        Command::Audit { command } => {
            let _log = init_tracing();
            let (store, _) = open_store(&settings)?;
            audit(&store, command)
        }
        Command::DemoData {
            count,
            grades,
            dual_prevention,
            force,
        } => {
            let _log = init_tracing();
            let (store, _) = open_store(&settings)?;
            demo::check_target(&store, force)?;
            let added = demo::load(&store, count)?;
            println!("added {added} synthetic enterprises");
            if grades {
                let recorded = demo::load_grades(&store, count, safegrade_http::china_today())?;
                println!("recorded {recorded} synthetic certificates");
            }
            if dual_prevention {
                let d = demo::load_dual_prevention(&store, count, safegrade_http::china_today())?;
                println!(
                    "added {} analysis units, {} risks, {} inspection tasks, {} inspection records and {} hazards",
                    d.units, d.risks, d.tasks, d.records, d.hazards
                );
            }
            Ok(())
        }
        Command::Serve {
            bind,
            workers,
            today,
        } => {
            if let Some(b) = bind {
                settings.bind = b;
            }
            if let Some(w) = workers {
                settings.workers = w;
            }
            let _log = init_tracing();
            serve(settings, today)
        }
    }
}

#[actix_web::main]
async fn serve(settings: Settings, today: Option<chrono::NaiveDate>) -> anyhow::Result<()> {
    let (store, url) = open_store(&settings)?;
    let mut state = AppState::with_auth_cache(
        store.clone(),
        std::time::Duration::from_secs(settings.token_cache_seconds),
    );
    if let Some(day) = today {
        tracing::warn!(%day, "today is pinned (SAFEGRADE_TODAY): certificate statuses use this date");
        state.pinned_today = Some(day);
    }
    state.public_url = settings.public_url.as_deref().map(Into::into);
    state.metrics_token = settings.metrics_token.as_deref().map(Into::into);
    // The docs site at /book/: built from the embedded sources on the first request for it.
    state.site = std::sync::Arc::new(safegrade_http::plumbing::site::Site::new(Box::new(|| {
        safegrade_site::build_in_memory().map_err(|e| format!("{e:#}"))
    })));
    // Hourly, from the start: drop stored idempotent answers older than a day, count the
    // attainment counters for a new day, and record the audit chain heads of the day before (once a day per chain that grew, on whichever
    // node is first; by the real date, even when "today" is pinned).
    let housekeeping = state.clone();
    actix_web::rt::spawn(async move {
        let mut every_hour = actix_web::rt::time::interval(std::time::Duration::from_secs(3600));
        loop {
            every_hour.tick().await;
            let state = housekeeping.clone();
            let done = actix_web::web::block(move || {
                let purged = state.store.purge_idempotency_keys()?;
                let heads = state
                    .store
                    .record_chain_heads(safegrade_http::china_today())?;
                state
                    .store
                    .recount_attainment_if_due(state.today(), state.expiring_window_months)?;
                Ok::<_, safegrade_store::StoreError>((purged, heads))
            })
            .await;
            match done {
                Ok(Ok((purged, heads))) => {
                    tracing::info!(
                        purged,
                        heads,
                        "housekeeping: idempotency keys purged, chain heads recorded"
                    );
                }
                Ok(Err(e)) => tracing::warn!(error = %e, "housekeeping failed"),
                Err(e) => tracing::warn!(error = %e, "housekeeping failed"),
            }
        }
    });
    // The background worker: imports and webhook deliveries from the job table.
    let worker = safegrade_http::worker::Worker::start(&state, settings.worker());
    // Listen first: a busy port must fail before an administrator is created whose only
    // token would then be printed by a server that never runs.
    let mut server = HttpServer::new(move || app(state.clone()))
        .bind(&settings.bind)
        .with_context(|| {
            format!(
                "cannot listen on {} (is another server running there? choose another with --bind 127.0.0.1:8081)",
                settings.bind
            )
        })?;
    if settings.workers > 0 {
        server = server.workers(settings.workers);
    }
    let first_token = store
        .bootstrap_admin("市局管理员（初始）")
        .context("creating the first administrator failed")?;
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
    let token = match &first_token {
        Some((principal, issued)) => {
            println!(
                "First start: created city administrator {} with this token, shown only this once (store it now):",
                principal.id
            );
            println!("{}", issued.secret);
            issued.secret.clone()
        }
        None => {
            println!(
                "An administrator exists already; its token was shown when it was created. A new one:"
            );
            println!(
                "  safegrade principal create --name \"市局管理员\" --role city_admin --database-url \"{}\"",
                url.redacted()
            );
            "$SAFEGRADE_TOKEN".to_owned()
        }
    };
    println!("Try:");
    println!("  curl \"{base}/readyz\"");
    println!("  curl -H \"Authorization: Bearer {token}\" \"{base}/api/v1/me\"");
    println!("  curl -H \"Authorization: Bearer {token}\" \"{base}/api/v1/areas\"");
    println!(
        "  curl -H \"Authorization: Bearer {token}\" \"{base}/api/v1/enterprises?area_code=510703&limit=10\""
    );
    println!(
        "  Docs: {base}/book/   API docs: {base}/api/docs/   OpenAPI: {base}/api/openapi.json"
    );
    println!("Stop with Ctrl-C.");
    std::io::stdout().flush()?;
    server.run().await?;
    worker.stop();
    Ok(())
}

/// `safegrade import ledger`: the same import the API runs (a job of the command line, in
/// the city's jurisdiction), run here with a progress bar; then its report.
fn import_ledger(
    store: &safegrade_store::Store,
    (file, sheet, area_code): (&std::path::Path, Option<&str>, Option<String>),
    dry_run: bool,
    valid_rows: bool,
) -> anyhow::Result<()> {
    use safegrade_http::ledger::imports::{ImportReport, Submission};
    let bytes =
        std::fs::read(file).map_err(|e| anyhow::anyhow!("cannot read {}: {e}", file.display()))?;
    let submission = Submission {
        dry_run,
        valid_rows,
        sheet: sheet.map(str::to_owned),
        file_name: file.display().to_string(),
        area_code,
    };
    let state = safegrade_http::plumbing::app::AppState::new(store.clone());
    let job = safegrade_http::ledger::imports::submit(store, None, submission, bytes)?;
    let runner = {
        let state = state.clone();
        std::thread::spawn(move || {
            safegrade_http::worker::Worker::drain(&state, safegrade_domain::jobs::JobKind::Import)
        })
    };
    let bar = demo::progress(0, "导入");
    while !runner.is_finished() {
        if let Ok(j) = store.get_job(&job) {
            bar.set_length(u64::try_from(j.progress_total).unwrap_or(0));
            bar.set_position(u64::try_from(j.progress_done).unwrap_or(0));
        }
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
    bar.finish_and_clear();
    runner
        .join()
        .map_err(|_| anyhow::anyhow!("the import stopped unexpectedly"))??;
    let done = store.get_job(&job)?;
    let report: ImportReport = serde_json::from_value(done.report.unwrap_or_default())
        .map_err(|e| anyhow::anyhow!("the import left no report: {e}"))?;
    print!("{}", report.text());
    match report.outcome {
        Some(safegrade_domain::jobs::ImportOutcome::Refused) => anyhow::bail!(
            "有 {} 个问题，未写入任何记录；改正后重新导入，或加 --valid-rows 只导入无问题的行",
            report.problems.len()
        ),
        None => anyhow::bail!(
            "{}",
            report.error.unwrap_or_else(|| "导入未完成".to_owned())
        ),
        _ => Ok(()),
    }
}

//! Migrations and schema: both backends have the same migration names, every migration runs
//! up → down → up, SQLite gets its PRAGMAs, and every table round-trips through diesel.

use std::collections::BTreeSet;

use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text};
use diesel_migrations_names as names;
use safegrade_domain::{Actor, EnterpriseInput, EventType, PrincipalInput, Scope, SectorMapping};
use safegrade_store::access::tokens::hash_secret;
use safegrade_store::events::{EventFilter, EventVisibility};
use safegrade_store::idempotency::{Claim, StoredResponse, claim, complete, find_response};
use safegrade_store::{DbConn, EnterpriseFilter, Store, StoreError};
use safegrade_testkit::{Kind, TestDb, credit_code};

mod diesel_migrations_names {
    /// Migration folder names of one backend.
    pub fn of(backend: &str) -> Vec<String> {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("crates/store/migrations")
            .join(backend);
        let mut v: Vec<String> = std::fs::read_dir(dir)
            .into_iter()
            .flatten()
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    }
}

#[test]
fn migration_names_match_across_backends() {
    let sqlite = names::of("sqlite");
    assert!(!sqlite.is_empty());
    assert_eq!(sqlite, names::of("postgres"));
    for name in &sqlite {
        for backend in ["sqlite", "postgres"] {
            for file in ["up.sql", "down.sql"] {
                let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                    .join("crates/store/migrations")
                    .join(backend)
                    .join(name)
                    .join(file);
                assert!(path.is_file(), "{} missing", path.display());
            }
        }
    }
}

both!(
    migrations_run_up_down_up,
    every_table_round_trips,
    the_layout_can_be_distributed_by_area
);

fn revert_all(conn: &mut DbConn) -> usize {
    use diesel_migrations::MigrationHarness;
    let reverted = match conn {
        DbConn::Sqlite(c) => c.revert_all_migrations(safegrade_store::SQLITE_MIGRATIONS),
        DbConn::Postgres(c) => c.revert_all_migrations(safegrade_store::POSTGRES_MIGRATIONS),
    };
    reverted.unwrap_or_else(|e| panic!("revert: {e}")).len()
}

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

fn table_count(conn: &mut DbConn, backend: Kind) -> i64 {
    let sql = match backend {
        Kind::Sqlite => {
            "SELECT COUNT(*) AS n FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name <> '__diesel_schema_migrations'"
        }
        Kind::Postgres => {
            "SELECT COUNT(*) AS n FROM information_schema.tables WHERE table_schema = 'public' AND table_name <> '__diesel_schema_migrations'"
        }
    };
    diesel::sql_query(sql)
        .get_result::<Count>(conn)
        .map(|c| c.n)
        .unwrap_or(-1)
}

/// Tables the migrations make: areas, reference_versions, enterprises, idempotency_keys,
/// principals, tokens, events, certificates, accidents, grade_summaries, drives,
/// guidance_visits, calendar_years, calendar_days, standards, assessments, gradings,
/// grading_steps, hazards, risk_units, risks, risk_measures, inspection_tasks,
/// inspection_records, checklists, checklist_records, hazard_month_counts, risk_level_counts,
/// jobs, job_inputs, webhooks, webhook_deliveries, event_chains, attainment_counts,
/// attainment_anchor, credit_codes.
const TABLES: i64 = 36;

async fn migrations_run_up_down_up(db: TestDb) {
    let mut conn = db.store.read().unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(table_count(&mut conn, db.kind), TABLES, "migrated");
    assert_eq!(revert_all(&mut conn), names::of("sqlite").len());
    assert_eq!(
        table_count(&mut conn, db.kind),
        0,
        "down removes everything up made"
    );
    let applied = safegrade_store::run_migrations(&mut conn).unwrap_or_else(|e| panic!("{e:?}"));
    assert_eq!(applied.len(), names::of("sqlite").len());
    assert_eq!(table_count(&mut conn, db.kind), TABLES, "up again");
}

#[derive(QueryableByName)]
struct Column {
    #[diesel(sql_type = Text)]
    table_name: String,
    #[diesel(sql_type = Text)]
    column_name: String,
    #[diesel(sql_type = BigInt)]
    not_null: i64,
}

/// The Citus-ready layout (docs/adr/0007), checked against the migrated schema: every table
/// is classified (distributed by area, reference, or the coordinator's), and every table
/// distributed by area has an `area_code` column, not null (events: null for the `city`
/// chain).
async fn the_layout_can_be_distributed_by_area(db: TestDb) {
    use safegrade_store::ledger::area_owned::{AREA_OWNED, COORDINATOR, DISTRIBUTED, REFERENCE};
    let mut conn = db.store.read().unwrap_or_else(|e| panic!("{e}"));
    let sql = match db.kind {
        Kind::Sqlite => {
            "SELECT m.name AS table_name, p.name AS column_name, CAST(p.\"notnull\" AS BIGINT) AS not_null \
             FROM sqlite_master m JOIN pragma_table_info(m.name) p \
             WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%' AND m.name <> '__diesel_schema_migrations'"
        }
        Kind::Postgres => {
            "SELECT table_name::text AS table_name, column_name::text AS column_name, \
             CASE WHEN is_nullable = 'NO' THEN 1 ELSE 0 END::bigint AS not_null \
             FROM information_schema.columns \
             WHERE table_schema = 'public' AND table_name <> '__diesel_schema_migrations'"
        }
    };
    let columns: Vec<Column> = diesel::sql_query(sql)
        .load(&mut conn)
        .unwrap_or_else(|e| panic!("{e}"));
    let tables: BTreeSet<&str> = columns.iter().map(|c| c.table_name.as_str()).collect();
    let distributed: Vec<&str> = AREA_OWNED.iter().chain(&DISTRIBUTED).copied().collect();
    let classified: BTreeSet<&str> = distributed
        .iter()
        .chain(&REFERENCE)
        .chain(&COORDINATOR)
        .copied()
        .collect();
    assert_eq!(tables, classified, "every table is classified, once");
    assert_eq!(
        classified.len(),
        distributed.len() + REFERENCE.len() + COORDINATOR.len()
    );
    for table in distributed {
        let area = columns
            .iter()
            .find(|c| c.table_name == table && c.column_name == "area_code");
        match area {
            None => panic!("{table} has no area_code"),
            Some(c) if table != "events" => assert_eq!(c.not_null, 1, "{table}.area_code is null"),
            Some(_) => {}
        }
    }
}

#[derive(QueryableByName)]
struct Pragma {
    #[diesel(sql_type = Text)]
    value: String,
}

#[test]
fn sqlite_pragmas_take_effect_on_every_connection() {
    let db = TestDb::sqlite();
    for _ in 0..3 {
        let mut conn = db.store.read().unwrap_or_else(|e| panic!("{e}"));
        let mut pragma = |name: &str| {
            let column = if name == "busy_timeout" {
                "timeout"
            } else {
                name
            };
            diesel::sql_query(format!(
                "SELECT CAST({column} AS TEXT) AS value FROM pragma_{name}"
            ))
            .get_result::<Pragma>(&mut conn)
            .map(|p| p.value)
            .unwrap_or_default()
        };
        assert_eq!(pragma("foreign_keys"), "1");
        assert_eq!(pragma("journal_mode"), "wal");
        assert_eq!(pragma("busy_timeout"), "10000");
        assert_eq!(pragma("synchronous"), "1", "NORMAL");
    }
    // The bundled SQLite's compile options (.cargo/config.toml, docs/BENCHMARKS.md).
    let mut conn = db.store.read().unwrap_or_else(|e| panic!("{e}"));
    let options: Vec<String> =
        diesel::sql_query("SELECT compile_options AS value FROM pragma_compile_options")
            .load::<Pragma>(&mut conn)
            .unwrap_or_else(|e| panic!("{e}"))
            .into_iter()
            .map(|p| p.value)
            .collect();
    for option in ["THREADSAFE=2", "DEFAULT_MEMSTATUS=0"] {
        assert!(
            options.iter().any(|o| o == option),
            "{option} in {options:?}"
        );
    }
}

#[test]
fn other_url_schemes_are_refused() {
    for url in ["mysql://x", "./data/x.db", "sqlite:x.db", "sqlite://", ""] {
        let err = safegrade_store::DbUrl::parse(url)
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(err.contains("unsupported database URL"), "{url}: {err}");
    }
}

fn full_input(n: u32) -> EnterpriseInput {
    EnterpriseInput {
        credit_code: Some(credit_code(n)),
        name: Some("全字段企业".into()),
        area_code: Some("510700-KJC".into()),
        address: Some("科技城新区".into()),
        industry_code: Some("B1011".into()),
        mine_kind: Some("tailings_pond".into()),
        scale: Some("medium".into()),
        ownership: Some("provincial".into()),
        operating_status: Some("suspended".into()),
        principal_name: Some("王五".into()),
        principal_phone: Some("13900000000".into()),
        safety_manager_name: Some("赵六".into()),
        safety_manager_phone: Some("0816-1234567-89".into()),
        employees: Some(2_147),
        latitude: Some(31.123_456_789),
        longitude: Some(104.987_654_321),
    }
}

async fn every_table_round_trips(db: TestDb) {
    let store: &Store = &db.store;
    // enterprises: every column set, read back equal (instants truncated to microseconds).
    let data = full_input(7)
        .validate(SectorMapping::builtin())
        .unwrap_or_else(|e| panic!("{e:?}"));
    let cli = Actor::command_line();
    let created = store
        .create_enterprise(&data, &cli)
        .unwrap_or_else(|e| panic!("{e:?}"));
    let read = store
        .get_enterprise(created.id, &Scope::City)
        .unwrap_or_else(|e| panic!("{e:?}"));
    assert_eq!(read, created);
    assert_eq!(read.data, data);
    let page = store
        .list_enterprises(
            &EnterpriseFilter {
                area_code: Some("510700-KJC".into()),
                ..EnterpriseFilter::within(Scope::City)
            },
            None,
            10,
        )
        .unwrap_or_else(|e| panic!("{e:?}"));
    assert_eq!(page.items, vec![created.clone()]);
    // The foreign key to areas holds.
    let mut bad = data.clone();
    bad.area_code = "999999".into();
    bad.credit_code =
        safegrade_domain::CreditCode::parse(&credit_code(8)).unwrap_or_else(|e| panic!("{e}"));
    assert!(
        matches!(
            store.create_enterprise(&bad, &cli),
            Err(StoreError::Conflict { .. })
        ),
        "area foreign key enforced"
    );

    // areas and reference_versions: seeded, and seeding again changes nothing.
    let again = store
        .sync_reference_data(SectorMapping::builtin())
        .unwrap_or_else(|e| panic!("{e:?}"));
    assert_eq!(again.sectors_rederived, 0);
    let mut changed = SectorMapping::builtin().clone();
    changed.version = "test".into();
    changed.rules.retain(|r| r.prefix != "10");
    let report = store
        .sync_reference_data(&changed)
        .unwrap_or_else(|e| panic!("{e:?}"));
    assert_eq!(
        report.sectors_rederived, 1,
        "a new mapping version re-derives stored sectors"
    );
    assert_eq!(
        store
            .get_enterprise(created.id, &Scope::City)
            .map(|e| e.data.sector)
            .ok(),
        Some(safegrade_domain::Sector::Other)
    );

    // idempotency_keys.
    let stored = StoredResponse {
        request_hash: "{}".into(),
        status: 201,
        location: Some("/x".into()),
        body: "{\"a\":1}".into(),
    };
    store
        .with_write_tx({
            let stored = stored.clone();
            move |tx| {
                assert_eq!(claim(tx, "POST /x", "k", "{}")?, Claim::Claimed);
                complete(tx, "POST /x", "k", &stored)
            }
        })
        .unwrap_or_else(|e| panic!("{e:?}"));
    let found = store
        .with_read(|conn| find_response(conn, "POST /x", "k"))
        .unwrap_or_else(|e| panic!("{e:?}"));
    assert_eq!(found, Some(stored));

    // A failing write transaction leaves nothing behind.
    let data9 = full_input(9)
        .validate(SectorMapping::builtin())
        .unwrap_or_else(|e| panic!("{e:?}"));
    let all_events = |store: &Store| {
        store
            .list_events(&EventVisibility::All, &EventFilter::default(), 200)
            .unwrap_or_else(|e| panic!("{e:?}"))
            .events
    };
    let events_before = all_events(store).len();
    let failed: Result<(), StoreError> = store.with_write_tx(move |tx| {
        safegrade_store::ledger::enterprises::insert(tx, &data9, &Actor::command_line())?;
        Err(StoreError::NotFound)
    });
    assert!(failed.is_err());
    let all = store
        .list_enterprises(&EnterpriseFilter::within(Scope::City), None, 10)
        .unwrap_or_else(|e| panic!("{e:?}"));
    assert_eq!(all.items.len(), 1, "rolled back");
    assert_eq!(
        all_events(store).len(),
        events_before,
        "and so is its event"
    );

    // principals, tokens and events: every column set, read back equal.
    let input = PrincipalInput {
        name: Some("对接系统".into()),
        role: Some("integration".into()),
        area_codes: Some(vec!["510703".into(), "510700-GX".into()]),
        read_only: Some(true),
        disabled: Some(true),
        ..Default::default()
    };
    let p = store
        .create_principal(&input.validate().unwrap_or_else(|e| panic!("{e:?}")), &cli)
        .unwrap_or_else(|e| panic!("{e:?}"));
    assert_eq!(store.get_principal(p.id).ok(), Some(p.clone()));
    let own = PrincipalInput {
        name: Some("企业".into()),
        role: Some("enterprise".into()),
        enterprise_id: Some(created.id.to_string()),
        ..Default::default()
    };
    let e = store
        .create_principal(&own.validate().unwrap_or_else(|e| panic!("{e:?}")), &cli)
        .unwrap_or_else(|e| panic!("{e:?}"));
    assert_eq!(store.get_principal(e.id).ok(), Some(e.clone()));
    let expires = chrono::Utc::now() + chrono::Duration::days(30);
    let issued = store
        .issue_token(p.id, Some(expires), &cli)
        .unwrap_or_else(|e| panic!("{e:?}"));
    let found = store
        .find_token(&hash_secret(&issued.secret))
        .unwrap_or_else(|e| panic!("{e:?}"));
    assert_eq!(found, Some((issued.info.clone(), p.clone())));
    assert_eq!(
        issued.info.expires_at.map(|a| a.timestamp_micros()),
        Some(expires.timestamp_micros()),
        "expiry kept to the microsecond"
    );
    let revoked = store
        .revoke_token(issued.info.id, cli.clone(), Some("测试".into()))
        .await
        .unwrap_or_else(|e| panic!("{e:?}"));
    assert_eq!(store.list_tokens(p.id).ok(), Some(vec![revoked.clone()]));
    let events = all_events(store);
    let types: Vec<EventType> = events.iter().map(|e| e.event_type).collect();
    assert_eq!(
        types,
        vec![
            EventType::EnterpriseCreated,
            EventType::PrincipalCreated,
            EventType::PrincipalCreated,
            EventType::TokenCreated,
            EventType::TokenRevoked
        ]
    );
    let last = events.last().unwrap_or_else(|| panic!("events"));
    assert_certificates_and_accidents_round_trip(store, created.id).await;
    assert_eq!(last.reason.as_deref(), Some("测试"));
    assert_eq!(last.resource_id, issued.info.id.to_string());
    assert!(events.windows(2).all(|w| w[0].seq < w[1].seq));
    assert!(
        !serde_json::to_string(&events.iter().map(|e| &e.data).collect::<Vec<_>>())
            .unwrap_or_default()
            .contains(&issued.secret[3..]),
        "no event carries the token"
    );
    let _ = store.read().map(|mut c| c.batch_execute("SELECT 1"));
}

/// certificates and accidents: every column set (a revocation included), read back equal.
async fn assert_certificates_and_accidents_round_trip(
    store: &Store,
    enterprise: safegrade_domain::EnterpriseId,
) {
    use safegrade_domain::grading::{AccidentInput, CertificateInput, GradeRules, RevocationInput};
    let rules = GradeRules::builtin();
    let today = chrono::NaiveDate::from_ymd_opt(2024, 6, 1).unwrap_or_default();
    let input = CertificateInput {
        enterprise_id: Some(enterprise.to_string()),
        regime: Some("legacy_2014".into()),
        grade: Some("grade_2".into()),
        number: Some("川AQBZ二级-2020-07".into()),
        authority_level: Some("province".into()),
        authority_name: Some("四川省应急管理厅".into()),
        issued_on: Some("2020-07-15".into()),
        valid_until: Some("2023-07-14".into()),
        standard: Some("AQ/T 7009-2013".into()),
    };
    let data = input
        .validate(rules, today)
        .unwrap_or_else(|e| panic!("{e:?}"));
    let cli = Actor::command_line();
    let c = store
        .record_certificate(data.clone(), Scope::City, cli.clone())
        .await
        .unwrap_or_else(|e| panic!("{e:?}"));
    assert_eq!(c.data, data);
    let decision = RevocationInput {
        trigger: Some("licence_lost".into()),
        legal_basis: Some("定级办法".into()),
        reason: Some("许可证被吊销".into()),
        decided_on: Some("2022-01-02".into()),
    };
    let revoked = store
        .write({
            let cli = cli.clone();
            move |tx| {
                safegrade_store::grading::certificates::revoke(
                    tx,
                    c.id,
                    (&Scope::City, &cli),
                    Some(1),
                    rules,
                    |cur: &safegrade_domain::grading::Certificate| {
                        decision
                            .validate(cur.data.issued_on, today)
                            .map_err(|_| StoreError::NotFound)
                    },
                )
            }
        })
        .await
        .unwrap_or_else(|e| panic!("{e:?}"));
    assert_eq!(
        store.get_certificate(c.id, &Scope::City).ok(),
        Some(revoked.clone())
    );
    assert!(revoked.revocation.is_some());
    let accident = AccidentInput {
        enterprise_id: Some(enterprise.to_string()),
        occurred_on: Some("2021-03-04".into()),
        kind: Some("poisoning".into()),
        deaths: Some(0),
        seriously_injured: Some(4),
        direct_loss_cny: Some(1_234_567),
        concealed: Some(true),
        source: Some("调查报告".into()),
    }
    .validate(today)
    .unwrap_or_else(|e| panic!("{e:?}"));
    let recorded = store
        .record_accident(accident.clone(), Scope::City, cli)
        .await
        .unwrap_or_else(|e| panic!("{e:?}"));
    assert_eq!(recorded.accident.data, accident);
    let listed = store
        .list_accidents(
            &safegrade_store::grading::accidents::AccidentFilter {
                scope: Scope::City,
                enterprise_id: Some(enterprise),
                area_code: None,
            },
            rules,
            None,
            10,
        )
        .unwrap_or_else(|e| panic!("{e:?}"));
    assert_eq!(listed.items, vec![recorded]);
}

//! The bulk path (`insert_many`, `record_many`, `refresh_many`: demo data, and one record
//! at a time through the same code) writes what the one-at-a-time path writes: the same
//! enterprises, certificates, grade summaries, counter changes and events.

use chrono::NaiveDate;
use safegrade_domain::EnterpriseInput;
use safegrade_domain::grading::CertificateInput;
use safegrade_domain::{Actor, Scope, SectorMapping};
use safegrade_store::events::{EventFilter, EventVisibility};
use safegrade_store::grading::certificates::{record, record_many};
use safegrade_store::ledger::enterprises::{insert, insert_many};
use safegrade_testkit::{TestDb, credit_code};

both!(the_bulk_path_writes_what_one_at_a_time_writes);

fn enterprise(n: u32) -> safegrade_domain::EnterpriseData {
    EnterpriseInput {
        credit_code: Some(credit_code(n)),
        name: Some(format!("绵阳市批量示例{n}有限公司")),
        area_code: Some(["510703", "510704"][(n % 2) as usize].to_owned()),
        industry_code: Some("C3011".to_owned()),
        scale: Some("small".to_owned()),
        principal_name: Some("张三".to_owned()),
        ..Default::default()
    }
    .validate(SectorMapping::builtin())
    .unwrap_or_else(|v| panic!("{v:?}"))
}

/// Everything written about one enterprise, without ids and instants.
fn footprint(db: &TestDb, id: safegrade_domain::EnterpriseId, today: NaiveDate) -> String {
    let e = db
        .store
        .get_enterprise(id, &Scope::City)
        .unwrap_or_else(|e| panic!("{e}"));
    let events: Vec<String> = db
        .store
        .list_events(
            &EventVisibility::All,
            &EventFilter {
                enterprise_id: Some(id.to_string()),
                ..EventFilter::default()
            },
            100,
        )
        .unwrap_or_else(|e| panic!("{e}"))
        .events
        .into_iter()
        .map(|ev| {
            format!(
                "{} {:?} {:?}",
                ev.event_type, ev.area_code, ev.resource_type
            )
        })
        .collect();
    format!(
        "{} {} {:?} {:?} {:?} {events:?}",
        e.data.area_code,
        e.data.sector,
        e.grading.status(today),
        e.grading.current_grade,
        e.grading.grade_valid_until,
    )
}

async fn the_bulk_path_writes_what_one_at_a_time_writes(db: TestDb) {
    let today = NaiveDate::from_ymd_opt(2025, 6, 1).unwrap_or_default();
    let rules = db.store.grade_rules();
    db.store
        .recount_attainment(today, 3)
        .unwrap_or_else(|e| panic!("{e}"));
    let actor = Actor::command_line();
    let (one, many): (Vec<_>, Vec<_>) = {
        let actor = actor.clone();
        db.store
            .with_write_tx(move |tx| -> Result<_, safegrade_store::StoreError> {
                let one: Vec<_> = (0..4)
                    .map(|n| insert(tx, &enterprise(n), &actor).map(|e| e.id))
                    .collect::<Result<_, _>>()?;
                let many = insert_many(tx, &(4..8).map(enterprise).collect::<Vec<_>>(), &actor)?
                    .into_iter()
                    .map(|e| e.id)
                    .collect();
                Ok((one, many))
            })
            .unwrap_or_else(|e| panic!("{e}"))
    };
    let certificate = |id: safegrade_domain::EnterpriseId, n: usize| {
        CertificateInput {
            enterprise_id: Some(id.to_string()),
            grade: Some(["grade_3", "small_micro"][n % 2].into()),
            number: Some(format!("BULK-{id}")),
            authority_level: Some("city".into()),
            authority_name: Some("绵阳市应急管理局".into()),
            issued_on: Some(["2022-07-01", "2024-01-10"][n % 2].into()),
            standard: Some("AQ/T 9006-2010".into()),
            ..Default::default()
        }
        .validate(rules, today)
        .unwrap_or_else(|v| panic!("{v:?}"))
    };
    let singles: Vec<_> = one
        .iter()
        .enumerate()
        .map(|(n, id)| certificate(*id, n))
        .collect();
    let batch: Vec<_> = many
        .iter()
        .enumerate()
        .map(|(n, id)| certificate(*id, n))
        .collect();
    db.store
        .with_write_tx(move |tx| -> Result<(), safegrade_store::StoreError> {
            for c in &singles {
                record(tx, c, &Scope::City, &actor, rules)?;
            }
            record_many(tx, &batch, &Scope::City, &actor, rules)?;
            Ok(())
        })
        .unwrap_or_else(|e| panic!("{e}"));
    for (a, b) in one.iter().zip(&many) {
        assert_eq!(footprint(&db, *a, today), footprint(&db, *b, today));
    }
    // The counters moved the same way: a recount changes nothing.
    let (kept, _) = db
        .store
        .attainment_counts()
        .unwrap_or_else(|e| panic!("{e}"));
    db.store
        .recount_attainment(today, 3)
        .unwrap_or_else(|e| panic!("{e}"));
    let (recounted, _) = db
        .store
        .attainment_counts()
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(kept, recounted);
    assert_eq!(kept.values().sum::<i64>(), 8);
    // And the chains hold every event.
    safegrade_testkit::verified_chains(&db.store);
}

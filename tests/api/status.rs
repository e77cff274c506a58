//! The standardization status has one definition, `GradeSummary::status`. The ledger's status
//! filter and the statistics mirror it in SQL; this truth table compares all three over every
//! combination of the status's inputs, on several days, on both backends.

use std::collections::{BTreeMap, BTreeSet};

use chrono::NaiveDate;
use diesel::prelude::*;
use safegrade_domain::grading::{GradeSummary, StandardizationStatus};
use safegrade_domain::{Actor, CodeList, EnterpriseId, EnterpriseInput, Scope, SectorMapping};
use safegrade_store::insights::stats::StatsFilter;
use safegrade_store::schema::grade_summaries;
use safegrade_store::{EnterpriseFilter, StoreError};
use safegrade_testkit::{TestDb, credit_code};

both!(status_sql_mirrors_the_domain_for_every_input);

fn d(text: &str) -> NaiveDate {
    NaiveDate::parse_from_str(text, "%Y-%m-%d").unwrap_or_else(|e| panic!("{text}: {e}"))
}

async fn status_sql_mirrors_the_domain_for_every_input(db: TestDb) {
    let store = &db.store;
    let actor = Actor::command_line();
    let until = d("2025-06-30");
    // Every combination of the inputs: validity (none, or a last day), restart required,
    // creating, revoked; and one enterprise with no summary at all.
    let mut cases: Vec<(EnterpriseId, Option<GradeSummary>)> = Vec::new();
    let mut n = 0;
    for valid in [None, Some(until)] {
        for restart_required in [false, true] {
            for creating in [false, true] {
                for revoked in [None, Some(d("2024-01-15"))] {
                    n += 1;
                    cases.push((
                        enterprise(store, n, &actor),
                        Some(GradeSummary {
                            current_certificate: None,
                            current_grade: valid.map(|_| safegrade_domain::grading::Grade::Grade3),
                            grade_valid_until: valid,
                            restart_required,
                            revoked_on: revoked,
                            creating,
                        }),
                    ));
                }
            }
        }
    }
    cases.push((enterprise(store, 99, &actor), None));
    for (id, summary) in &cases {
        let Some(s) = summary.clone() else { continue };
        let id = id.to_string();
        store
            .with_write_tx(move |tx| {
                diesel::insert_into(grade_summaries::table)
                    .values((
                        grade_summaries::enterprise_id.eq(&id),
                        grade_summaries::current_certificate_id.eq(None::<String>),
                        grade_summaries::current_grade.eq(s.current_grade.map(|g| g.as_str())),
                        grade_summaries::grade_valid_until.eq(s.grade_valid_until),
                        grade_summaries::restart_required.eq(s.restart_required),
                        grade_summaries::creating.eq(s.creating),
                        grade_summaries::revoked_on.eq(s.revoked_on),
                        grade_summaries::area_code.eq("510703"),
                        grade_summaries::sector.eq("building_materials"),
                    ))
                    .execute(&mut **tx)?;
                Ok::<_, StoreError>(())
            })
            .unwrap_or_else(|e| panic!("{e:?}"));
    }
    for day in [d("2025-06-29"), until, d("2025-07-01")] {
        let expected: BTreeMap<StandardizationStatus, BTreeSet<String>> =
            cases.iter().fold(BTreeMap::new(), |mut m, (id, s)| {
                let status = s.clone().unwrap_or_default().status(day);
                m.entry(status).or_default().insert(id.to_string());
                m
            });
        let stats = || {
            store
                .attainment(
                    &StatsFilter {
                        scope: Scope::City,
                        area_code: None,
                        sector: None,
                    },
                    day,
                    3,
                    true,
                )
                .unwrap_or_else(|e| panic!("{e:?}"))
        };
        // Once from the summaries (the counters hold for another day), once from the
        // counters counted for this day: the same figures.
        let summarised = stats();
        assert!(summarised.recount_due, "{day}");
        store
            .recount_attainment(day, 3)
            .unwrap_or_else(|e| panic!("{e:?}"));
        let counted = stats();
        assert!(!counted.recount_due, "{day}");
        assert_eq!(counted.cells, summarised.cells, "{day}");
        let mut by_status: BTreeMap<String, i64> = BTreeMap::new();
        for cell in counted.cells.values() {
            for (k, v) in cell.by_status.iter().flatten() {
                *by_status.entry(k.clone()).or_default() += v;
            }
        }
        for status in StandardizationStatus::ALL {
            let want = expected.get(status).cloned().unwrap_or_default();
            let listed: BTreeSet<String> = store
                .list_enterprises(
                    &EnterpriseFilter {
                        standardization_status: Some(*status),
                        today: day,
                        ..EnterpriseFilter::within(Scope::City)
                    },
                    None,
                    200,
                )
                .unwrap_or_else(|e| panic!("{e:?}"))
                .items
                .into_iter()
                .map(|e| e.id.to_string())
                .collect();
            assert_eq!(listed, want, "list filter {status} on {day}");
            assert_eq!(
                by_status.get(status.as_str()).copied().unwrap_or(0),
                i64::try_from(want.len()).unwrap_or(-1),
                "statistics {status} on {day}: {by_status:?}"
            );
        }
    }
}

fn enterprise(store: &safegrade_store::Store, n: u32, actor: &Actor) -> EnterpriseId {
    let data = EnterpriseInput {
        credit_code: Some(credit_code(700 + n)),
        name: Some(format!("状态真值表企业{n}")),
        area_code: Some("510703".into()),
        industry_code: Some("C3011".into()),
        scale: Some("small".into()),
        principal_name: Some("张三".into()),
        ..Default::default()
    }
    .validate(SectorMapping::builtin())
    .unwrap_or_else(|e| panic!("{e:?}"));
    store
        .create_enterprise(&data, actor)
        .unwrap_or_else(|e| panic!("{e:?}"))
        .id
}

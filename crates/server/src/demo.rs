//! Synthetic enterprises for benchmarks and demos: valid credit codes, every area and every
//! sector, inserted in batches through the ordinary repository.

use safegrade_domain::{AREAS, EnterpriseInput, SectorMapping, credit};
use safegrade_store::Store;

/// Industry codes covering every sector (non-coal mines get a mine kind).
const INDUSTRIES: [(&str, Option<&str>); 10] = [
    ("B1011", Some("open_pit")),
    ("C3110", None),
    ("C3216", None),
    ("C3011", None),
    ("C3311", None),
    ("C1391", None),
    ("C1711", None),
    ("C1620", None),
    ("F5211", None),
    ("C2611", None),
];

const SCALES: [&str; 4] = ["large", "medium", "small", "micro"];

/// A valid synthetic credit code for sequence number `n` (region 510703, a run-specific
/// `salt` so repeated loads do not collide).
pub fn credit_code(salt: u32, n: u32) -> String {
    let first17 = format!("915107{:03}{:08}", salt % 1000, n);
    let check = credit::check_character(&first17).unwrap_or('0');
    format!("{first17}{check}")
}

/// How synthetic enterprises' names begin, so they are told apart from real records (and the
/// loader can refuse a database that holds real ones).
pub const MARK: &str = "【演示】";

/// Refuses to add synthetic records to a database that holds real ones, unless `force`.
pub fn check_target(store: &Store, force: bool) -> anyhow::Result<()> {
    let real = store.count_enterprises_not_named(MARK)?;
    anyhow::ensure!(
        real == 0 || force,
        "the database holds {real} enterprises that are not demo data; demo-data would mix synthetic records into a real ledger. Use an empty database (--database-url sqlite://./data/demo.db), or --force if you mean it"
    );
    Ok(())
}

pub fn progress(count: u32, what: &str) -> indicatif::ProgressBar {
    let bar = indicatif::ProgressBar::new(u64::from(count));
    if let Ok(style) = indicatif::ProgressStyle::with_template(&format!(
        "{what} {{bar:40}} {{pos}}/{{len}} ({{eta}} left)"
    )) {
        bar.set_style(style);
    }
    bar
}

/// Adds `count` enterprises and returns how many were added.
pub fn load(store: &Store, count: u32) -> anyhow::Result<u32> {
    let areas: Vec<&str> = AREAS
        .iter()
        .filter(|a| a.holds_enterprises())
        .map(|a| a.code)
        .collect();
    let salt = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| u32::try_from(d.as_secs() % 1000).unwrap_or(0))
        .unwrap_or(0);
    let mapping = SectorMapping::builtin();
    // Sequence numbers continue after the records already there, so a second load in the
    // same second does not repeat credit codes.
    let offset = u32::try_from(store.count_enterprises()?).unwrap_or(0);
    let mut added = 0;
    let bar = progress(count, "enterprises");
    for chunk_start in (offset..offset + count).step_by(1000) {
        let end = (chunk_start + 1000).min(offset + count);
        let areas = areas.clone();
        store.with_write_tx(move |tx| -> anyhow::Result<()> {
            let actor = safegrade_domain::Actor::command_line();
            let mut batch = Vec::with_capacity(1000);
            for n in chunk_start..end {
                let i = n as usize;
                let (industry, mine_kind) = INDUSTRIES[i % INDUSTRIES.len()];
                let input = EnterpriseInput {
                    credit_code: Some(credit_code(salt, n)),
                    name: Some(format!("{MARK}绵阳示例企业{n:06}有限公司")),
                    area_code: Some(areas[(i / 7) % areas.len()].to_owned()),
                    industry_code: Some(industry.to_owned()),
                    mine_kind: mine_kind.map(str::to_owned),
                    scale: Some(SCALES[i % SCALES.len()].to_owned()),
                    principal_name: Some("张三".to_owned()),
                    principal_phone: Some("13800000000".to_owned()),
                    employees: Some(i64::from(n % 500)),
                    ..Default::default()
                };
                batch.push(
                    input
                        .validate(mapping)
                        .map_err(|v| anyhow::anyhow!("synthetic data invalid: {v:?}"))?,
                );
            }
            safegrade_store::ledger::enterprises::insert_many(tx, &batch, &actor)?;
            Ok(())
        })?;
        added = end - offset;
        bar.set_position(u64::from(added));
        analyze_while_growing(store, added)?;
    }
    bar.finish_and_clear();
    store.analyze()?;
    Ok(added)
}

/// Refreshes the planner's statistics once the tables stop being nearly empty: after the
/// first 1,000 and 10,000 enterprises of a phase (`Store::analyze`; each phase ends with one
/// more). Plans made for empty tables would otherwise scan them whole for every lookup.
fn analyze_while_growing(store: &Store, written: u32) -> anyhow::Result<()> {
    if written == 1000 || written == 10_000 {
        store.analyze()?;
    }
    Ok(())
}

/// Runs `each` over the ledger's first `count` enterprises in id order, `size` at a time,
/// with how many came before each page.
fn in_pages(
    store: &Store,
    (count, size): (u32, u32),
    today: chrono::NaiveDate,
    mut each: impl FnMut(&[safegrade_domain::Enterprise], u32) -> anyhow::Result<()>,
) -> anyhow::Result<()> {
    let mut after = None;
    let mut n: u32 = 0;
    while n < count {
        let page = store.list_enterprises(
            &safegrade_store::EnterpriseFilter {
                today,
                ..safegrade_store::EnterpriseFilter::within(safegrade_domain::Scope::City)
            },
            after,
            i64::from(size.min(count - n)),
        )?;
        let Some(last) = page.items.last() else { break };
        after = Some(last.id);
        each(&page.items, n)?;
        n = n.saturating_add(u32::try_from(page.items.len()).unwrap_or(u32::MAX));
    }
    Ok(())
}

/// Gives about 70 % of the ledger's first `count` enterprises a certificate history: grades
/// issued over the last five years (so some are expired, some expiring), a few renewed
/// ones and a few revoked ones, the way a real city's ledger looks after a few years.
pub fn load_grades(store: &Store, count: u32, today: chrono::NaiveDate) -> anyhow::Result<u32> {
    use safegrade_domain::grading::CertificateInput;
    use safegrade_domain::{Actor, Scope};
    let rules = store.grade_rules();
    let mut recorded = 0;
    let bar = progress(count, "certificates");
    in_pages(store, (count, 1000), today, |page, before| {
        let mut batch = Vec::new();
        for (e, n) in page.iter().zip(before + 1..) {
            if n % 10 >= 7 {
                continue;
            }
            // Issue dates spread over five years before `today`.
            let days = i64::from((n * 37) % 1825);
            let issued = today - chrono::Duration::days(days + 1);
            let grade =
                ["grade_3", "grade_3", "grade_3", "grade_2", "small_micro"][(n % 5) as usize];
            let input = CertificateInput {
                enterprise_id: Some(e.id.to_string()),
                grade: Some(grade.into()),
                number: Some(format!("DEMO-{}", e.data.credit_code)),
                authority_level: Some("city".into()),
                authority_name: Some("绵阳市应急管理局".into()),
                issued_on: Some(issued.to_string()),
                standard: Some("AQ/T 9006-2010".into()),
                ..Default::default()
            };
            let data = input
                .validate(rules, today)
                .map_err(|v| anyhow::anyhow!("synthetic certificate invalid: {v:?}"))?;
            batch.push(data);
        }
        let count_batch = u32::try_from(batch.len()).unwrap_or(0);
        store.with_write_tx(move |tx| -> anyhow::Result<()> {
            let actor = Actor::command_line();
            safegrade_store::grading::certificates::record_many(
                tx,
                &batch,
                &Scope::City,
                &actor,
                rules,
            )?;
            Ok(())
        })?;
        recorded += count_batch;
        bar.set_position(u64::from(before) + page.len() as u64);
        analyze_while_growing(store, before + u32::try_from(page.len()).unwrap_or(0))?;
        Ok(())
    })?;
    bar.finish_and_clear();
    store.analyze()?;
    Ok(recorded)
}

/// What [`load_dual_prevention`] added.
#[derive(Debug, Default)]
pub struct DualPreventionLoaded {
    /// Risk analysis units.
    pub units: u64,
    /// Risks.
    pub risks: u64,
    /// Inspection tasks.
    pub tasks: u64,
    /// Inspection records.
    pub records: u64,
    /// Hidden hazards.
    pub hazards: u64,
}

/// Gives the ledger's first `count` enterprises a dual-prevention register through the
/// ordinary repository (so the events and the statistics counters are written as in use):
/// one analysis unit with two LEC-scored risks, a weekly inspection task with its records of
/// the last two weeks, and ten hazards found over the last year — a tenth major, a quarter
/// still being rectified (some past their deadline), a quarter rectified and accepted (some
/// late), the rest fixed on the spot.
pub fn load_dual_prevention(
    store: &Store,
    count: u32,
    today: chrono::NaiveDate,
) -> anyhow::Result<DualPreventionLoaded> {
    let mut loaded = DualPreventionLoaded::default();
    let rules = store.grade_rules();
    let bar = progress(count, "dual prevention");
    in_pages(store, (count, 500), today, |page, before| {
        let ids: Vec<(u32, safegrade_domain::EnterpriseId)> =
            (before..).zip(page.iter().map(|e| e.id)).collect();
        let added = store.with_write_tx(move |tx| -> anyhow::Result<DualPreventionLoaded> {
            let actor = safegrade_domain::Actor::command_line();
            let mut added = DualPreventionLoaded::default();
            for (n, id) in ids {
                register_enterprise(tx, (n, id), today, (&actor, rules), &mut added)?;
            }
            Ok(added)
        })?;
        loaded.units += added.units;
        loaded.risks += added.risks;
        loaded.tasks += added.tasks;
        loaded.records += added.records;
        loaded.hazards += added.hazards;
        bar.set_position(u64::from(before) + page.len() as u64);
        analyze_while_growing(store, before + u32::try_from(page.len()).unwrap_or(0))?;
        Ok(())
    })?;
    bar.finish_and_clear();
    store.analyze()?;
    Ok(loaded)
}

/// One enterprise's register (see [`load_dual_prevention`]).
fn register_enterprise(
    tx: &mut safegrade_store::WriteTx<'_>,
    (n, enterprise): (u32, safegrade_domain::EnterpriseId),
    today: chrono::NaiveDate,
    (actor, rules): (
        &safegrade_domain::Actor,
        &safegrade_domain::grading::GradeRules,
    ),
    added: &mut DualPreventionLoaded,
) -> anyhow::Result<()> {
    use chrono::Duration;
    use safegrade_domain::Scope;
    use safegrade_domain::grading::AccidentKind;
    use safegrade_domain::hazards::{
        Acceptance, HazardSource, HazardType, ManagementClass, Plan, Step,
    };
    use safegrade_domain::inspections::{CycleUnit, DayType, InspectionResult, Schedule, TaskType};
    use safegrade_domain::risks::{Scoring, UnitKind, assess};
    use safegrade_store::hazards::{HazardFacts, Links, NewHazard, StepRequest};
    let scope = Scope::City;
    let unit = safegrade_store::risks::create_unit(
        tx,
        &safegrade_store::risks::UnitData {
            enterprise_id: enterprise,
            kind: UnitKind::Post,
            name: "配电房值班电工".into(),
            location: Some("配电房".into()),
            department: "设备部".into(),
            responsible: "李明".into(),
            control_level: rules
                .control_levels
                .last()
                .map(|l| l.code.clone())
                .unwrap_or_default(),
            installation: None,
            stops: Vec::new(),
        },
        &scope,
        actor,
    )?;
    added.units += 1;
    let lec = |l, e, c| Scoring::lec(l, e, c, None);
    let scored = |s: Scoring| {
        assess(&s, false, &rules.band_tables)
            .map_err(|v| anyhow::anyhow!("synthetic risk invalid: {v:?}"))
    };
    for (name, inherent, residual) in [
        ("带电检修触电", lec(3.0, 6.0, 40.0), lec(1.0, 6.0, 15.0)),
        ("高处作业坠落", lec(6.0, 3.0, 15.0), lec(3.0, 3.0, 7.0)),
    ] {
        safegrade_store::risks::create_risk(
            tx,
            &safegrade_store::risks::RiskData {
                unit_id: unit.id,
                name: name.into(),
                accident_kinds: vec![AccidentKind::ElectricShock],
                inherent: scored(inherent)?,
                residual: Some(scored(residual)?),
                criterion: None,
            },
            &scope,
            actor,
        )?;
        added.risks += 1;
    }
    let task = safegrade_store::inspections::create_task(
        tx,
        &safegrade_store::inspections::TaskData {
            unit_id: unit.id,
            measure_id: None,
            content: "检查配电柜接地、绝缘和警示标识".into(),
            schedule: Schedule {
                every: 7,
                unit: CycleUnit::Day,
                day_type: DayType::EveryDay,
                window: None,
                starts_on: today - Duration::days(35),
                ends_on: None,
            },
            task_type: TaskType::Routine,
            item_no: None,
            assignee: "值班电工".into(),
        },
        &scope,
        actor,
    )?;
    added.tasks += 1;
    // Most enterprises did last two weeks' rounds; every fifth missed one.
    for week in 1..=2i64 {
        if n % 5 == 0 && week == 1 {
            continue;
        }
        let at = (today - Duration::days(week * 7 - 1)).and_hms_opt(9, 30, 0);
        safegrade_store::inspections::create_record(
            tx,
            &safegrade_store::inspections::RecordData {
                task_id: task.id,
                performed_at: at.unwrap_or_default(),
                performed_by: "值班电工".into(),
                result: InspectionResult::Normal,
                note: None,
            },
            &scope,
            actor,
        )?;
        added.records += 1;
    }
    for j in 0..10u32 {
        let found = today - Duration::days(i64::from((n * 31 + j * 37) % 365) + 1);
        let major = j == 0;
        let hazard = safegrade_store::hazards::register(
            tx,
            &NewHazard {
                facts: HazardFacts {
                    enterprise_id: enterprise,
                    found_on: found,
                    found_by: "安全员".into(),
                    source: [HazardSource::Routine, HazardSource::Comprehensive][(j % 2) as usize],
                    hazard_type: HazardType::Electrical,
                    management_class: ManagementClass::UnsafeCondition,
                    description: format!("配电箱门未关闭、警示标识缺失（{j}）"),
                    cause: None,
                    location: Some("配电房".into()),
                    links: Links::default(),
                },
                criterion: None,
                major_reason: major.then(|| "演示数据：认定为重大事故隐患".to_owned()),
            },
            &scope,
            actor,
        )?;
        added.hazards += 1;
        let mut take = |step: Step, on: chrono::NaiveDate, version: i64| {
            safegrade_store::hazards::step(
                tx,
                hazard.id,
                (&scope, actor, Some(version)),
                StepRequest {
                    step,
                    on,
                    note: None,
                    criterion: None,
                    supervision: None,
                },
            )
        };
        let deadline = found + Duration::days(i64::from(10 + (n + j) % 30));
        let rectification = if major {
            Step::Rectification {
                deadline: None,
                plan: Some(Plan {
                    measures: "停用并更换配电设备".into(),
                    responsible: "设备部 李明".into(),
                    funds_cny: 50_000,
                    deadline,
                    contingency: "设置警戒区，专人值守".into(),
                    principal: "王总".into(),
                }),
            }
        } else {
            Step::Rectification {
                deadline: Some(deadline),
                plan: None,
            }
        };
        match j % 4 {
            // Still being rectified; past its deadline when found long enough ago.
            1 => {
                take(rectification, found, 1)?;
            }
            // Rectified and accepted, a few days after the deadline for some.
            2 | 0 => {
                take(rectification, found, 1)?;
                let done = (found + Duration::days(i64::from(5 + (n + 3 * j) % 35))).min(today);
                take(Step::Completion, done, 2)?;
                take(
                    Step::Acceptance(Acceptance {
                        by: "安全科 张工".into(),
                        on: done,
                        opinion: "整改到位".into(),
                        passed: true,
                        assessment: major.then(|| "整改后评估：隐患已消除".to_owned()),
                    }),
                    done,
                    3,
                )?;
            }
            _ => {
                take(Step::FixOnTheSpot, found, 1)?;
            }
        }
    }
    Ok(())
}

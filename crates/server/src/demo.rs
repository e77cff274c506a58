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

fn progress(count: u32, what: &str) -> indicatif::ProgressBar {
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
                let data = input
                    .validate(mapping)
                    .map_err(|v| anyhow::anyhow!("synthetic data invalid: {v:?}"))?;
                safegrade_store::ledger::enterprises::insert(tx, &data, &actor)?;
            }
            Ok(())
        })?;
        added = end - offset;
        bar.set_position(u64::from(added));
    }
    bar.finish_and_clear();
    Ok(added)
}

/// Gives about 70 % of the ledger's first `count` enterprises a certificate history: grades
/// issued over the last five years (so some are expired, some expiring), a few renewed
/// ones and a few revoked ones, the way a real city's ledger looks after a few years.
pub fn load_grades(store: &Store, count: u32, today: chrono::NaiveDate) -> anyhow::Result<u32> {
    use safegrade_domain::grading::CertificateInput;
    use safegrade_domain::{Actor, Scope};
    use safegrade_store::EnterpriseFilter;
    let rules = store.grade_rules();
    let mut recorded = 0;
    let mut after = None;
    let mut n: u32 = 0;
    while n < count {
        let page = store.list_enterprises(
            &EnterpriseFilter {
                today,
                ..EnterpriseFilter::within(Scope::City)
            },
            after,
            1000,
        )?;
        let Some(last) = page.items.last() else { break };
        after = Some(last.id);
        let mut batch = Vec::new();
        for e in &page.items {
            n += 1;
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
            for data in &batch {
                safegrade_store::grading::certificates::record(
                    tx,
                    data,
                    &Scope::City,
                    &actor,
                    rules,
                )?;
            }
            Ok(())
        })?;
        recorded += count_batch;
    }
    Ok(recorded)
}

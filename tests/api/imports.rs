//! Importing a county's survey ledger (CSV): Chinese headers with synonyms and full-width
//! characters, a bad credit code, an unknown area name and a grade written 二级; read dry,
//! refused whole while a row has a problem, imported once fixed; the same file again changes
//! nothing; a changed row is an update with its fields.

use safegrade_domain::{Scope, SectorMapping};
use safegrade_http::ledger::import::read_csv;
use safegrade_store::ledger::import::{Outcome, SourceFile};
use safegrade_testkit::{TestDb, credit_code};

both!(
    a_county_ledger_is_imported_once_fixed,
    an_excel_ledger_reads_like_its_csv,
    a_partial_ledger_keeps_what_it_does_not_mention
);

fn ledger(third_code: &str, third_area: &str, scale_2: &str) -> Vec<u8> {
    format!(
        "\u{feff}企业名称,社会信用代码 ,所在区县,行业代码,单位规模,主要负责人,主要负责人联系电话,员工总数,达标等级,经营范围\n\
         绵阳示例一有限公司,{},涪城区,C3311,小型,张三,13800000001,１２,二级,五金\n\
         绵阳示例二有限公司,{},绵阳市游仙区,C3110,{scale_2},李四,13800000002,150,Ⅲ,钢\n\
         绵阳示例三有限公司,{third_code},{third_area},C3311,小型,王五,13800000003,20,二,木器\n",
        credit_code(9001),
        credit_code(9002),
    )
    .into_bytes()
}

async fn a_county_ledger_is_imported_once_fixed(db: TestDb) {
    let mapping = SectorMapping::builtin();
    let bad = read_csv(&ledger("91510703000000003X", "火星区", "中型"), &[])
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(bad.unmapped, [(9, "经营范围".to_owned())]);
    assert_eq!((bad.total, bad.rows.len()), (3, 3));
    // Dry: the plan, every problem at its row and header, nothing written.
    let plan = db
        .store
        .plan_ledger_import(&bad.rows, &Scope::City, mapping)
        .unwrap_or_else(|e| panic!("{e}"));
    let at: Vec<(usize, String, &str)> = plan
        .iter()
        .flat_map(|p| bad.problems_of(p))
        .map(|p| (p.row, p.header, safegrade_domain::CodeList::as_str(&p.code)))
        .collect();
    assert_eq!(
        at,
        [
            (4, "所在区县".to_owned(), "invalid_value"),
            (4, "社会信用代码".to_owned(), "invalid_credit_code")
        ],
        "{plan:?}"
    );
    assert_eq!(bad.importable(&plan).len(), 2);
    assert_eq!(db.store.count_enterprises().unwrap_or(-1), 0);

    // Fixed, imported: three created, each with its event.
    let fixed = ledger(&credit_code(9003), "涪城区", "中型");
    let good = read_csv(&fixed, &[]).unwrap_or_else(|e| panic!("{e}"));
    assert!(good.problems.is_empty(), "{:?}", good.problems);
    let actor = || safegrade_domain::Actor::command_line();
    let done = db
        .store
        .import_ledger(
            good.rows.clone(),
            (Scope::City, actor(), None),
            mapping,
            SourceFile {
                name: "涪城区台账.csv",
                bytes: &fixed,
            },
        )
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(done.len(), 3);
    assert_eq!(db.store.count_enterprises().unwrap_or(-1), 3);

    // The same file again changes nothing.
    let again = db
        .store
        .plan_ledger_import(&good.rows, &Scope::City, mapping)
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(
        again.iter().all(|p| p.outcome == Ok(Outcome::Unchanged)),
        "{again:?}"
    );

    // A changed scale is an update of that field only; a county's regulator cannot import
    // into another county.
    let changed = read_csv(&ledger(&credit_code(9003), "涪城区", "大型"), &[])
        .unwrap_or_else(|e| panic!("{e}"));
    let plan = db
        .store
        .plan_ledger_import(&changed.rows, &Scope::City, mapping)
        .unwrap_or_else(|e| panic!("{e}"));
    match &plan[1].outcome {
        Ok(Outcome::Updated(fields)) => {
            assert_eq!(fields.keys().collect::<Vec<_>>(), ["scale"], "{fields:?}");
        }
        other => panic!("{other:?}"),
    }
    let county = db
        .store
        .plan_ledger_import(&changed.rows, &Scope::Areas(vec!["510704".into()]), mapping)
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(
        county[0].outcome.is_err() && county[1].outcome.is_ok(),
        "{county:?}"
    );
    // Refused whole: nothing written while any row is refused.
    db.store
        .import_ledger(
            changed.rows.clone(),
            (Scope::Areas(vec!["510704".into()]), actor(), None),
            mapping,
            SourceFile {
                name: "台账.csv",
                bytes: b"",
            },
        )
        .unwrap_or_else(|e| panic!("{e}"));
    let again = db
        .store
        .plan_ledger_import(&changed.rows, &Scope::City, mapping)
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(
        matches!(again[1].outcome, Ok(Outcome::Updated(_))),
        "not written: {again:?}"
    );
    db.store
        .import_ledger(
            changed.rows,
            (Scope::City, actor(), Some("台账更新".into())),
            mapping,
            SourceFile {
                name: "台账.csv",
                bytes: b"",
            },
        )
        .unwrap_or_else(|e| panic!("{e}"));
    let events = db
        .store
        .list_events(
            &safegrade_store::events::EventVisibility::All,
            &Default::default(),
            100,
        )
        .unwrap_or_else(|e| panic!("{e}"));
    let kinds: Vec<String> = events
        .iter()
        .map(|e| format!("{:?}", e.event_type))
        .collect();
    assert_eq!(
        kinds,
        [
            "EnterpriseCreated",
            "EnterpriseCreated",
            "EnterpriseCreated",
            "ImportCompleted",
            "EnterpriseUpdated",
            "ImportCompleted"
        ],
        "one event per record written, then the import's; the refused import wrote none"
    );
    match &events[3].data {
        safegrade_store::events::EventData::ImportCompleted(f) => {
            assert_eq!(
                (f.sha256.as_str(), f.created, f.rows),
                (
                    safegrade_store::access::tokens::sha256_hex(&fixed).as_str(),
                    3,
                    3
                )
            );
            assert_eq!(events[3].resource_id, f.sha256);
        }
        other => panic!("{other:?}"),
    }
}

/// The same ledger as an Excel workbook (written here with rust_xlsxwriter: the phone and the
/// headcount as numbers, the issue date as a date cell) reads to the same enterprises as its
/// CSV.
async fn an_excel_ledger_reads_like_its_csv(db: TestDb) {
    use rust_xlsxwriter::{ExcelDateTime, Format, Workbook, XlsxError};
    let mapping = SectorMapping::builtin();
    let headers = [
        "企业名称",
        "统一社会信用代码",
        "所属县（市、区）",
        "行业代码",
        "企业规模",
        "主要负责人",
        "主要负责人联系电话",
        "从业人数",
        "标准化等级",
        "发证日期",
    ];
    let code = credit_code(9101);
    let bytes = (|| -> Result<Vec<u8>, XlsxError> {
        let mut book = Workbook::new();
        let sheet = book.add_worksheet();
        for (c, h) in (0u16..).zip(headers) {
            sheet.write_string(0, c, h)?;
        }
        for (c, v) in (0u16..).zip([
            "绵阳示例表格有限公司",
            &code,
            "510704",
            "C3311",
            "small",
            "赵六",
        ]) {
            sheet.write_string(1, c, v)?;
        }
        sheet.write_number(1, 6, 13_800_000_009.0)?;
        sheet.write_number(1, 7, 35.0)?;
        sheet.write_string(1, 8, "Ⅱ")?;
        let date = Format::new().set_num_format("yyyy-mm-dd");
        sheet.write_datetime_with_format(1, 9, ExcelDateTime::from_ymd(2021, 3, 5)?, &date)?;
        book.save_to_buffer()
    })()
    .unwrap_or_else(|e| panic!("{e}"));
    let from_excel = safegrade_http::ledger::import::read_workbook(bytes, None, &[])
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(from_excel.problems.is_empty(), "{:?}", from_excel.problems);
    let csv = format!(
        "{}\n绵阳示例表格有限公司,{code},510704,C3311,small,赵六,13800000009,35,Ⅱ,2021-03-05\n",
        headers.join(",")
    );
    let from_csv = read_csv(csv.as_bytes(), &[]).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        from_excel.rows.iter().map(|r| &r.input).collect::<Vec<_>>(),
        from_csv.rows.iter().map(|r| &r.input).collect::<Vec<_>>()
    );
    assert_eq!(from_excel.rows.len(), 1);
    let done = db
        .store
        .import_ledger(
            from_excel.rows,
            (Scope::City, safegrade_domain::Actor::command_line(), None),
            mapping,
            SourceFile {
                name: "台账.csv",
                bytes: b"",
            },
        )
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(done[0].outcome, Ok(Outcome::Created));
}

/// A ledger with fewer columns (or blank cells) updates what it gives and keeps the rest:
/// importing a phone list never wipes the addresses or the industry.
async fn a_partial_ledger_keeps_what_it_does_not_mention(db: TestDb) {
    let mapping = SectorMapping::builtin();
    let full = read_csv(&ledger(&credit_code(9203), "涪城区", "中型"), &[])
        .unwrap_or_else(|e| panic!("{e}"));
    let actor = safegrade_domain::Actor::command_line;
    db.store
        .import_ledger(
            full.rows,
            (Scope::City, actor(), None),
            mapping,
            SourceFile {
                name: "台账.csv",
                bytes: b"",
            },
        )
        .unwrap_or_else(|e| panic!("{e}"));
    let phones = format!(
        "信用代码,主要负责人联系电话,员工总数\n{},13900000001,\n",
        credit_code(9001)
    );
    let partial = read_csv(phones.as_bytes(), &[]).unwrap_or_else(|e| panic!("{e}"));
    let plan = db
        .store
        .plan_ledger_import(&partial.rows, &Scope::City, mapping)
        .unwrap_or_else(|e| panic!("{e}"));
    match &plan[0].outcome {
        Ok(Outcome::Updated(fields)) => {
            assert_eq!(
                fields.keys().collect::<Vec<_>>(),
                ["principal_phone"],
                "{fields:?}"
            );
        }
        other => panic!("{other:?}"),
    }
    // A new enterprise still needs what the API requires.
    let unknown = format!(
        "信用代码,主要负责人联系电话\n{},13900000002\n",
        credit_code(9299)
    );
    let partial = read_csv(unknown.as_bytes(), &[]).unwrap_or_else(|e| panic!("{e}"));
    let plan = db
        .store
        .plan_ledger_import(&partial.rows, &Scope::City, mapping)
        .unwrap_or_else(|e| panic!("{e}"));
    let refused = match &plan[0].outcome {
        Err(safegrade_store::ledger::import::Refused::Fields(v)) => {
            v.iter().map(|v| v.pointer.clone()).collect::<Vec<_>>()
        }
        other => panic!("{other:?}"),
    };
    assert!(refused.contains(&"/name".to_owned()), "{refused:?}");
}

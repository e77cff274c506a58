//! Importing a county's survey ledger (CSV): Chinese headers with synonyms and full-width
//! characters, a bad credit code, an unknown area name and a grade written 二级; read dry,
//! refused whole while a row has a problem, imported once fixed; the same file again changes
//! nothing; a changed row is an update with its fields.

use actix_web::http::StatusCode;
use actix_web::test::TestRequest;
use safegrade_domain::jobs::JobKind;
use safegrade_domain::{CodeList, Scope, SectorMapping};
use safegrade_http::ledger::import::read_csv;
use safegrade_http::plumbing::app::AppState;
use safegrade_http::worker::Worker;
use safegrade_store::events::EventVisibility;
use safegrade_store::ledger::import::{Outcome, SourceFile};
use safegrade_testkit::{TestApp, TestDb, credit_code, principal, send, send_as, test_app_from};
use serde_json::{Value, json};

both!(
    a_county_ledger_is_imported_once_fixed,
    an_excel_ledger_reads_like_its_csv,
    a_partial_ledger_keeps_what_it_does_not_mention,
    the_api_imports_a_ledger_in_the_background,
    an_import_interrupted_by_a_restart_resumes,
    certificates_with_legacy_numbers_are_imported,
    accidents_are_imported_once
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
        .unwrap_or_else(|e| panic!("{e}"))
        .events;
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
                (safegrade_store::digest::sha256_hex(&fixed).as_str(), 3, 3)
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

/// Uploads `bytes` to `POST /api/v1/imports?{query}` as `token`, runs the import jobs as a
/// node's worker would, and answers the import as `GET /api/v1/imports/{id}` shows it.
async fn import_via_api<S, B>(
    app: &TestApp<S>,
    state: &AppState,
    (token, query): (&str, &str),
    (content_type, bytes): (&str, Vec<u8>),
) -> Value
where
    S: actix_web::dev::Service<
            actix_http::Request,
            Response = actix_web::dev::ServiceResponse<B>,
            Error = actix_web::Error,
        >,
    B: actix_web::body::MessageBody,
{
    let posted = send_as(
        app,
        Some(token),
        TestRequest::post()
            .uri(&format!("/api/v1/imports?{query}"))
            .insert_header(("content-type", content_type))
            .set_payload(bytes),
    )
    .await;
    assert_eq!(posted.status, StatusCode::ACCEPTED, "{}", posted.body);
    assert_eq!(posted.body["state"], "queued");
    let location = posted.header("location").to_owned();
    Worker::drain(state, JobKind::Import).unwrap_or_else(|e| panic!("{e:?}"));
    let got = send_as(app, Some(token), TestRequest::get().uri(&location)).await;
    assert_eq!(got.status, StatusCode::OK, "{}", got.body);
    assert!(got.body["finished_at"].is_string(), "{}", got.body);
    got.body
}

/// The county ledger through the API: dry run with every problem at its row and header,
/// refused whole while a row is wrong, the valid rows alone on request, the fixed file
/// imported, the same file again changing nothing, an explicit header mapping, a multipart
/// upload, and a county regulator's rows outside its county refused.
async fn the_api_imports_a_ledger_in_the_background(db: TestDb) {
    let state = AppState::new(db.store.clone());
    let app = test_app_from(state.clone()).await;
    let admin = app.admin_token.clone();
    let bad = ledger("91510703000000003X", "火星区", "中型");
    let dry = import_via_api(
        &app,
        &state,
        (&admin, "dry_run=true&file_name=fucheng.csv"),
        ("text/csv", bad.clone()),
    )
    .await;
    let report = &dry["report"];
    assert_eq!(report["outcome"], "dry_run");
    assert_eq!(
        (report["rows"].as_i64(), report["valid_rows"].as_i64()),
        (Some(3), Some(2))
    );
    let problems: Vec<(i64, &str, &str)> = report["problems"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|p| {
            (
                p["row"].as_i64().unwrap_or(0),
                p["header"].as_str().unwrap_or(""),
                p["code"].as_str().unwrap_or(""),
            )
        })
        .collect();
    assert_eq!(
        problems,
        [
            (4, "所在区县", "invalid_value"),
            (4, "社会信用代码", "invalid_credit_code")
        ],
        "{report}"
    );
    assert_eq!(
        report["unmapped_headers"],
        json!([{"column": 10, "header": "经营范围"}])
    );
    assert_eq!(
        report["changes"].as_array().map(Vec::len),
        Some(2),
        "what would be created"
    );
    assert_eq!(
        db.store.count_enterprises().unwrap_or(-1),
        0,
        "a dry run writes nothing"
    );

    // Not dry, all or nothing: refused, nothing written.
    let refused = import_via_api(
        &app,
        &state,
        (&admin, "file_name=fucheng.csv"),
        ("text/csv", bad.clone()),
    )
    .await;
    assert_eq!(refused["report"]["outcome"], "refused");
    assert_eq!(db.store.count_enterprises().unwrap_or(-1), 0);

    // The valid rows alone, on request.
    let partial =
        import_via_api(&app, &state, (&admin, "mode=valid_rows"), ("text/csv", bad)).await;
    assert_eq!(partial["report"]["outcome"], "imported");
    assert_eq!(partial["report"]["created"], 2);
    assert_eq!(db.store.count_enterprises().unwrap_or(-1), 2);

    // Fixed: the third row is created, the other two are unchanged.
    let fixed = ledger(&credit_code(9003), "涪城区", "中型");
    let done = import_via_api(
        &app,
        &state,
        (&admin, "file_name=fucheng-fixed.csv"),
        ("text/csv", fixed.clone()),
    )
    .await;
    let r = &done["report"];
    assert_eq!(
        (
            r["outcome"].as_str(),
            r["created"].as_i64(),
            r["unchanged"].as_i64()
        ),
        (Some("imported"), Some(1), Some(2)),
        "{r}"
    );
    assert_eq!(done["progress"], json!({"done": 3, "total": 3}));
    assert_eq!(db.store.count_enterprises().unwrap_or(-1), 3);

    // The same file again changes nothing: no enterprise event, only import.completed.
    let seq = |store: &safegrade_store::Store| {
        store
            .list_events(&EventVisibility::All, &Default::default(), 1000)
            .map(|p| p.events)
            .unwrap_or_default()
            .into_iter()
            .map(|e| e.event_type.as_str())
            .collect::<Vec<_>>()
    };
    let before = seq(&db.store);
    let again = import_via_api(
        &app,
        &state,
        (&admin, "file_name=fucheng-fixed.csv"),
        ("text/csv", fixed.clone()),
    )
    .await;
    assert_eq!(
        (
            again["report"]["created"].as_i64(),
            again["report"]["updated"].as_i64(),
            again["report"]["unchanged"].as_i64()
        ),
        (Some(0), Some(0), Some(3))
    );
    assert_eq!(
        again["sha256"], done["sha256"],
        "the same file, the same hash"
    );
    let after = seq(&db.store);
    assert_eq!(&after[before.len()..], ["import.completed"]);

    // A header the synonym table does not know, mapped explicitly; the upload as a form.
    let odd = format!(
        "纳税人识别号,企业名称,所属县（市、区）,行业代码,企业规模,主要负责人,主要负责人联系电话\n\
         {},绵阳映射企业,游仙区,C3311,小型,赵六,13800000009\n",
        credit_code(9010)
    );
    let unmapped = import_via_api(
        &app,
        &state,
        (&admin, "dry_run=true"),
        ("text/csv", odd.clone().into_bytes()),
    )
    .await;
    assert_eq!(
        unmapped["state"], "failed",
        "without the mapping there is no credit code column"
    );
    assert_eq!(
        unmapped["report"]["error"],
        "表头无法识别：缺少“统一社会信用代码”列"
    );
    let boundary = "sgboundary";
    let columns = r#"{"纳税人识别号": "credit_code"}"#;
    let form = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"columns\"\r\n\r\n{columns}\r\n\
         --{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"游仙区.csv\"\r\nContent-Type: text/csv\r\n\r\n{odd}\r\n\
         --{boundary}--\r\n"
    );
    let mapped = import_via_api(
        &app,
        &state,
        (&admin, ""),
        (
            &format!("multipart/form-data; boundary={boundary}"),
            form.into_bytes(),
        ),
    )
    .await;
    assert_eq!(mapped["file_name"], "游仙区.csv");
    assert_eq!(mapped["report"]["created"], 1, "{mapped}");

    // A county regulator's import: rows of another county are refused, by row.
    let (_, county) = principal(
        &db.store,
        json!({"name": "游仙区应急管理局", "role": "area_regulator", "area_codes": ["510704"]}),
    );
    let foreign = import_via_api(
        &app,
        &state,
        (&county, "dry_run=true"),
        ("text/csv", ledger(&credit_code(9020), "涪城区", "中型")),
    )
    .await;
    let rows: Vec<i64> = foreign["report"]["problems"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|p| p["row"].as_i64())
        .collect();
    assert!(
        rows.contains(&2) && rows.contains(&4) && !rows.contains(&3),
        "{foreign}"
    );
    // A county's ledger without an area column, imported into its county.
    let no_area = format!(
        "统一社会信用代码,企业名称,行业代码,企业规模,主要负责人\n{},游仙区无区域列企业,C3311,小型,孙八\n",
        credit_code(9030)
    );
    let into = import_via_api(
        &app,
        &state,
        (&county, "area_code=510704"),
        ("text/csv", no_area.clone().into_bytes()),
    )
    .await;
    assert_eq!(into["area_code"], "510704");
    assert_eq!(into["report"]["created"], 1, "{into}");
    let e = send(
        &app,
        TestRequest::get().uri(&format!(
            "/api/v1/enterprises?credit_code={}",
            credit_code(9030)
        )),
    )
    .await;
    assert_eq!(e.body["items"][0]["area_code"], "510704", "{}", e.body);
    let elsewhere = send_as(
        &app,
        Some(&county),
        TestRequest::post()
            .uri("/api/v1/imports?area_code=510703")
            .insert_header(("content-type", "text/csv"))
            .set_payload(no_area),
    )
    .await;
    assert_eq!(
        elsewhere.status,
        StatusCode::FORBIDDEN,
        "{}",
        elsewhere.body
    );
    // Someone else's import is not found.
    let other = send_as(
        &app,
        Some(&county),
        TestRequest::get().uri(&format!(
            "/api/v1/imports/{}",
            done["id"].as_str().unwrap_or("")
        )),
    )
    .await;
    assert_eq!(other.status, StatusCode::NOT_FOUND);
    // Bad parameters are refused before anything is queued.
    for query in [
        "kind=hazards",
        "mode=some",
        "columns=%7B%22x%22%3A%22colour%22%7D",
        "colour=red",
    ] {
        let r = send(
            &app,
            TestRequest::post()
                .uri(&format!("/api/v1/imports?{query}"))
                .insert_header(("content-type", "text/csv"))
                .set_payload(fixed.clone()),
        )
        .await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{query}: {}", r.body);
        assert_eq!(r.body["code"], "invalid_query");
    }
}

/// A ledger of `n` rows (valid, distinct credit codes), for chunked writing.
fn big_ledger(n: u32) -> Vec<u8> {
    let mut out = String::from(
        "统一社会信用代码,企业名称,所属县（市、区）,行业代码,企业规模,主要负责人,主要负责人联系电话\n",
    );
    for i in 0..n {
        out.push_str(&format!(
            "{},绵阳续传企业{i},涪城区,C3311,小型,钱七,138{:08}\n",
            credit_code(20_000 + i),
            i
        ));
    }
    out.into_bytes()
}

/// A node that stops in the middle of an import (after its first chunk committed) leaves
/// the job's lease to run out; the next node resumes from the checkpoint: every enterprise
/// exists once, with one event, and `import.completed` counts them all. The stopped node can
/// no longer write for the job.
async fn an_import_interrupted_by_a_restart_resumes(db: TestDb) {
    use safegrade_store::ledger::import::{Chunk, Tally};
    let state = AppState::new(db.store.clone());
    let app = test_app_from(state.clone()).await;
    let rows = 1200;
    let bytes = big_ledger(rows);
    let posted = send(
        &app,
        TestRequest::post()
            .uri("/api/v1/imports?file_name=resume.csv")
            .insert_header(("content-type", "text/csv"))
            .set_payload(bytes.clone()),
    )
    .await;
    assert_eq!(posted.status, StatusCode::ACCEPTED, "{}", posted.body);
    let id = posted.body["id"].as_str().unwrap_or_default().to_owned();

    // Node A claims the job and commits the first chunk, as its lane would, then stops.
    let job = db
        .store
        .claim_job(JobKind::Import, "node-a")
        .unwrap_or_else(|e| panic!("{e:?}"));
    let job = job.unwrap_or_else(|| panic!("the import is due"));
    assert_eq!(job.id, id);
    let file = read_csv(&bytes, &[]).unwrap_or_else(|e| panic!("{e}"));
    let mapping = SectorMapping::builtin();
    let admin = safegrade_domain::Actor::command_line();
    let first: Vec<_> = file.rows[..safegrade_http::ledger::imports::CHUNK_ROWS].to_vec();
    let chunk = |owner: &str, part: Vec<_>| {
        db.store.import_ledger_chunk(
            part,
            (Scope::City, admin.clone(), None),
            mapping,
            Chunk {
                job: (id.clone(), owner.to_owned()),
                progress: (500, i64::from(rows)),
                before: Tally::default(),
                last: None,
            },
        )
    };
    let wrote = chunk("node-a", first.clone()).unwrap_or_else(|e| panic!("{e:?}"));
    assert!(wrote.is_ok(), "{wrote:?}");
    assert_eq!(db.store.count_enterprises().unwrap_or(-1), 500);
    let held = db.store.get_job(&id).unwrap_or_else(|e| panic!("{e:?}"));
    assert_eq!((held.state.as_str(), held.progress_done), ("running", 500));

    // Its lease runs out (as a minute without a sign of life would make it).
    db.store
        .with_write_tx({
            let id = id.clone();
            move |tx| {
                use diesel::prelude::*;
                use safegrade_store::schema::jobs;
                diesel::update(jobs::table.find(id))
                    .set(
                        jobs::lease_until.eq(chrono::NaiveDate::from_ymd_opt(2000, 1, 1)
                            .and_then(|d| d.and_hms_opt(0, 0, 0))),
                    )
                    .execute(&mut **tx)
                    .map_err(safegrade_store::StoreError::from)
            }
        })
        .unwrap_or_else(|e| panic!("{e:?}"));

    // Node B resumes it.
    assert_eq!(
        Worker::drain(&state, JobKind::Import).unwrap_or_else(|e| panic!("{e:?}")),
        1
    );
    let done = send(
        &app,
        TestRequest::get().uri(&format!("/api/v1/imports/{id}")),
    )
    .await;
    assert_eq!(done.body["state"], "succeeded", "{}", done.body);
    assert_eq!(done.body["report"]["created"], 1200, "{}", done.body);
    assert_eq!(done.body["progress"], json!({"done": 1200, "total": 1200}));
    assert_eq!(db.store.count_enterprises().unwrap_or(-1), 1200);
    let events = db
        .store
        .list_events(&EventVisibility::All, &Default::default(), 5000)
        .unwrap_or_else(|e| panic!("{e:?}"))
        .events;
    let created = events
        .iter()
        .filter(|e| e.event_type.as_str() == "enterprise.created")
        .count();
    assert_eq!(created, 1200, "one event per enterprise, none twice");
    let completed: Vec<_> = events
        .iter()
        .filter(|e| e.event_type.as_str() == "import.completed")
        .collect();
    assert_eq!(completed.len(), 1);
    match &completed[0].data {
        safegrade_store::events::EventData::ImportCompleted(f) => {
            assert_eq!((f.created, f.rows), (1200, 1200))
        }
        other => panic!("{other:?}"),
    }
    let job = db.store.get_job(&id).unwrap_or_else(|e| panic!("{e:?}"));
    assert_eq!(job.attempts, 2, "claimed twice");

    // Node A, back, cannot write for the job any more.
    let late = chunk("node-a", first);
    assert!(
        late.as_ref()
            .is_err_and(safegrade_store::jobs::is_lease_lost),
        "{late:?}"
    );
    assert_eq!(db.store.count_enterprises().unwrap_or(-1), 1200);
}

/// A certificate ledger (kind=certificates): legacy numbers give the grade where the grade
/// column is blank, an old mine grade (Ⅴ) and an unknown holder are reported at their rows,
/// the valid rows are recorded as certificates (with their events and statuses), and the same
/// file again records nothing.
async fn certificates_with_legacy_numbers_are_imported(db: TestDb) {
    let state = AppState::new(db.store.clone());
    let app = test_app_from(state.clone()).await;
    let admin = app.admin_token.clone();
    let enterprises = ledger(&credit_code(9003), "涪城区", "中型");
    let made = import_via_api(&app, &state, (&admin, ""), ("text/csv", enterprises)).await;
    assert_eq!(made["report"]["created"], 3, "{made}");
    let certificates = format!(
        "统一社会信用代码,企业名称,证书编号,达标等级,发证日期,有效期至,发证机关\n\
         {},绵阳示例一有限公司,川AQBJXⅢ201900012,,2019-06-01,,绵阳市安全生产监督管理局\n\
         {},绵阳示例二有限公司,绵应急三级〔2024〕017号,三级,2024年5月10日,,\n\
         {},绵阳示例三有限公司,川AQBKⅤ200800007,,2008-03-01,,\n\
         {},不在台账的企业,川AQBJXⅢ201900099,三级,2019-06-01,,\n",
        credit_code(9001),
        credit_code(9002),
        credit_code(9003),
        credit_code(9999)
    );
    let dry = import_via_api(
        &app,
        &state,
        (&admin, "kind=certificates&dry_run=true"),
        ("text/csv", certificates.clone().into_bytes()),
    )
    .await;
    let r = &dry["report"];
    assert_eq!(dry["kind"], "certificates");
    assert_eq!(
        (r["created"].as_i64(), r["valid_rows"].as_i64()),
        (Some(2), Some(2)),
        "{r}"
    );
    let rows: Vec<i64> = r["problems"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|p| p["row"].as_i64())
        .collect();
    assert_eq!(rows, [4, 5], "{r}");
    assert_eq!(
        r["problems"][0]["code"], "required",
        "the Ⅴ grade needs writing: {r}"
    );
    assert_eq!(r["changes"][0]["record"], "川AQBJXⅢ201900012");

    let done = import_via_api(
        &app,
        &state,
        (
            &admin,
            "kind=certificates&mode=valid_rows&file_name=certificates.csv",
        ),
        ("text/csv", certificates.clone().into_bytes()),
    )
    .await;
    assert_eq!(done["report"]["created"], 2, "{done}");
    let list = send(
        &app,
        TestRequest::get().uri("/api/v1/certificates?limit=10"),
    )
    .await;
    let items = list.body["items"].as_array().cloned().unwrap_or_default();
    let legacy = items
        .iter()
        .find(|c| c["number"] == "川AQBJXⅢ201900012")
        .unwrap_or_else(|| panic!("{}", list.body));
    assert_eq!(
        (
            legacy["grade"].as_str(),
            legacy["regime"].as_str(),
            legacy["valid_until"].as_str()
        ),
        (Some("grade_3"), Some("legacy_2014"), Some("2022-06-01")),
        "the grade from the number, the regime from the date, three years"
    );
    assert_eq!(legacy["authority"]["name"], "绵阳市安全生产监督管理局");
    let current = items
        .iter()
        .find(|c| c["number"] == "绵应急三级〔2024〕017号")
        .unwrap_or_else(|| panic!("{}", list.body));
    assert_eq!(current["authority"]["name"], "未注明（台账导入）");
    assert_eq!(current["standard"], "未注明（台账导入）");

    // Again: nothing new, the two are unchanged.
    let again = import_via_api(
        &app,
        &state,
        (&admin, "kind=certificates&mode=valid_rows"),
        ("text/csv", certificates.into_bytes()),
    )
    .await;
    assert_eq!(counts(&again), (0, 0, 2), "{again}");
    let events = all_events(&db);
    assert_eq!(of_type(&events, "certificate.recorded"), 2);
    let kinds: Vec<String> = events
        .iter()
        .filter_map(|e| match &e.data {
            safegrade_store::events::EventData::ImportCompleted(f) => Some(f.kind.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(kinds, ["enterprises", "certificates", "certificates"]);
}

/// An accident ledger (kind=accidents): kinds by their Chinese names, losses in 万元, a bad
/// date and an unknown holder reported at their rows; the valid rows recorded as accidents
/// (evaluated against the grades, with their events); the same file again records nothing.
async fn accidents_are_imported_once(db: TestDb) {
    let state = AppState::new(db.store.clone());
    let app = test_app_from(state.clone()).await;
    let admin = app.admin_token.clone();
    let made = import_via_api(
        &app,
        &state,
        (&admin, ""),
        ("text/csv", ledger(&credit_code(9003), "涪城区", "中型")),
    )
    .await;
    assert_eq!(made["report"]["created"], 3, "{made}");
    let accidents = format!(
        "统一社会信用代码,企业名称,事故发生日期,事故类别,死亡人数,重伤人数,直接经济损失（万元）,信息来源\n\
         {},绵阳示例一有限公司,2024-03-05,机械伤害,0,1,12.5,绵应急〔2024〕3号\n\
         {},绵阳示例二有限公司,2024年7月1日,electric_shock,1,0,,事故调查报告\n\
         {},绵阳示例二有限公司,2024年13月1日,触电,0,0,,\n\
         {},不在台账的企业,2024-03-05,火灾,0,0,,\n",
        credit_code(9001),
        credit_code(9002),
        credit_code(9002),
        credit_code(9999)
    );
    let dry = import_via_api(
        &app,
        &state,
        (&admin, "kind=accidents&dry_run=true"),
        ("text/csv", accidents.clone().into_bytes()),
    )
    .await;
    let r = &dry["report"];
    let rows: Vec<i64> = r["problems"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|p| p["row"].as_i64())
        .collect();
    assert_eq!(rows, [4, 5], "{r}");
    assert_eq!(r["problems"][0]["header"], "事故发生日期", "{r}");
    assert_eq!(r["changes"][0]["record"], "2024-03-05 machinery", "{r}");

    let done = import_via_api(
        &app,
        &state,
        (&admin, "kind=accidents&mode=valid_rows"),
        ("text/csv", accidents.clone().into_bytes()),
    )
    .await;
    assert_eq!(done["report"]["created"], 2, "{done}");
    let list = send(&app, TestRequest::get().uri("/api/v1/accidents?limit=10")).await;
    let items = list.body["items"].as_array().cloned().unwrap_or_default();
    assert_eq!(items.len(), 2, "{}", list.body);
    let machinery = items
        .iter()
        .find(|a| a["kind"] == "machinery")
        .unwrap_or_else(|| panic!("{}", list.body));
    assert_eq!(
        machinery["direct_loss_cny"], 125_000,
        "万元 × 10,000: {machinery}"
    );
    assert_eq!(machinery["seriously_injured"], 1);

    // Again: nothing new, the two are unchanged.
    let again = import_via_api(
        &app,
        &state,
        (&admin, "kind=accidents&mode=valid_rows"),
        ("text/csv", accidents.into_bytes()),
    )
    .await;
    assert_eq!(counts(&again), (0, 0, 2), "{again}");
    let events = all_events(&db);
    assert_eq!(of_type(&events, "accident.recorded"), 2);
}

/// Created, updated and unchanged of an import's report.
fn counts(import: &Value) -> (i64, i64, i64) {
    let r = &import["report"];
    let n = |k: &str| r[k].as_i64().unwrap_or(-1);
    (n("created"), n("updated"), n("unchanged"))
}

/// Every event of the log.
fn all_events(db: &TestDb) -> Vec<safegrade_store::events::Event> {
    db.store
        .list_events(&EventVisibility::All, &Default::default(), 5000)
        .unwrap_or_else(|e| panic!("{e:?}"))
        .events
}

/// How many of `events` are of type `t`.
fn of_type(events: &[safegrade_store::events::Event], t: &str) -> usize {
    events.iter().filter(|e| e.event_type.as_str() == t).count()
}

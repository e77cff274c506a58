//! Exports and the import template: an area regulator's export holds its area only; the
//! list's filters apply; the Excel and CSV files say the same; an exported ledger imported
//! again changes nothing; the template's headers are the ones the import reads.

use actix_web::http::StatusCode;
use actix_web::test::TestRequest;
use safegrade_domain::jobs::JobKind;
use safegrade_http::ledger::import::{read_csv, read_workbook};
use safegrade_http::plumbing::app::AppState;
use safegrade_http::worker::Worker;
use safegrade_testkit::{
    Reply, TestDb, credit_code, enterprise_body, json_request, principal, send, send_as,
    test_app_from,
};
use serde_json::json;

both!(
    exports_honour_jurisdiction_and_filters,
    the_template_is_what_the_import_reads
);

/// The credit codes of an exported file (CSV or Excel), in order.
fn codes_of(reply: &Reply) -> Vec<String> {
    let file = if reply.header("content-type").contains("spreadsheetml") {
        read_workbook(reply.raw.to_vec(), None, &[])
    } else {
        read_csv(&reply.raw, &[])
    }
    .unwrap_or_else(|e| panic!("{e}"));
    file.rows
        .iter()
        .filter_map(|r| r.input.credit_code.clone())
        .collect()
}

async fn exports_honour_jurisdiction_and_filters(db: TestDb) {
    let state = AppState::new(db.store.clone());
    let app = test_app_from(state.clone()).await;
    let mut by_area = (Vec::new(), Vec::new());
    for n in 0..6u32 {
        let mut body = enterprise_body(&credit_code(700 + n));
        let (area, list) = if n % 3 == 0 {
            ("510704", &mut by_area.1)
        } else {
            ("510703", &mut by_area.0)
        };
        body["area_code"] = json!(area);
        body["scale"] = json!(if n % 2 == 0 { "small" } else { "medium" });
        let r = send(
            &app,
            json_request(actix_web::http::Method::POST, "/api/v1/enterprises", &body),
        )
        .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
        list.push(credit_code(700 + n));
    }
    let (_, county) = principal(
        &db.store,
        json!({"name": "涪城区应急管理局", "role": "area_regulator", "area_codes": ["510703"]}),
    );
    for ext in ["csv", "xlsx"] {
        let mine = send_as(
            &app,
            Some(&county),
            TestRequest::get().uri(&format!("/api/v1/enterprises/export.{ext}")),
        )
        .await;
        assert_eq!(mine.status, StatusCode::OK);
        assert!(
            mine.header("content-disposition")
                .contains("filename*=UTF-8''"),
            "{}",
            mine.header("content-disposition")
        );
        assert_eq!(
            codes_of(&mine),
            by_area.0,
            "{ext}: its own area, in list order"
        );
        // Another area's filter gives nothing, not the other area's records.
        let foreign = send_as(
            &app,
            Some(&county),
            TestRequest::get().uri(&format!(
                "/api/v1/enterprises/export.{ext}?area_code=510704"
            )),
        )
        .await;
        assert!(codes_of(&foreign).is_empty(), "{ext}");
        let small = send(
            &app,
            TestRequest::get().uri(&format!("/api/v1/enterprises/export.{ext}?scale=small")),
        )
        .await;
        let expected: Vec<String> = (0..6u32)
            .filter(|n| n % 2 == 0)
            .map(|n| credit_code(700 + n))
            .collect();
        assert_eq!(codes_of(&small), expected, "{ext}: the list's filters");
    }
    // Labels and names, not codes, for people; the CSV opens in Excel (BOM).
    let csv = send(
        &app,
        TestRequest::get().uri("/api/v1/enterprises/export.csv"),
    )
    .await;
    assert!(csv.raw.starts_with(b"\xEF\xBB\xBF"));
    let text = String::from_utf8_lossy(&csv.raw);
    assert!(text.contains("涪城区") && text.contains("小型"), "{text}");

    // Exported, imported again: nothing would change.
    let posted = send(
        &app,
        TestRequest::post()
            .uri("/api/v1/imports?dry_run=true&file_name=export.xlsx")
            .insert_header(("content-type", "application/octet-stream"))
            .set_payload(
                send(
                    &app,
                    TestRequest::get().uri("/api/v1/enterprises/export.xlsx"),
                )
                .await
                .raw,
            ),
    )
    .await;
    assert_eq!(posted.status, StatusCode::ACCEPTED, "{}", posted.body);
    Worker::drain(&state, JobKind::Import).unwrap_or_else(|e| panic!("{e:?}"));
    let report = send(&app, TestRequest::get().uri(posted.header("location"))).await;
    let r = &report.body["report"];
    assert_eq!(
        (
            r["unchanged"].as_i64(),
            r["created"].as_i64(),
            r["updated"].as_i64()
        ),
        (Some(6), Some(0), Some(0)),
        "{r}"
    );
    assert_eq!(r["problems"], json!([]), "{r}");

    // Bad requests say why.
    let pdf = send(
        &app,
        TestRequest::get().uri("/api/v1/enterprises/export.pdf"),
    )
    .await;
    assert_eq!(pdf.status, StatusCode::BAD_REQUEST);
    assert_eq!(pdf.body["code"], "invalid_path");
    let typo = send(
        &app,
        TestRequest::get().uri("/api/v1/enterprises/export.csv?colour=red"),
    )
    .await;
    assert_eq!(typo.status, StatusCode::BAD_REQUEST);
    assert_eq!(typo.body["code"], "invalid_query");
    let paged = send(
        &app,
        TestRequest::get().uri("/api/v1/enterprises/export.csv?limit=5"),
    )
    .await;
    assert_eq!(
        paged.status,
        StatusCode::BAD_REQUEST,
        "an export is not paged"
    );
}

async fn the_template_is_what_the_import_reads(db: TestDb) {
    let state = AppState::new(db.store.clone());
    let app = test_app_from(state).await;
    for (kind, sheet, list) in [
        ("enterprises", "企业台账", "涪城区"),
        ("certificates", "证书台账", "三级"),
        ("accidents", "事故台账", "机械伤害"),
    ] {
        let t = send(
            &app,
            TestRequest::get().uri(&format!("/api/v1/imports/templates/{kind}.xlsx")),
        )
        .await;
        assert_eq!(t.status, StatusCode::OK, "{kind}");
        // Every header of the template maps to a column, and nothing is left over.
        let read = read_workbook(t.raw.to_vec(), Some(sheet), &[])
            .unwrap_or_else(|e| panic!("{kind}: {e}"));
        assert!(read.unmapped.is_empty(), "{kind}: {:?}", read.unmapped);
        assert_eq!(read.total, 0);
        // The dropdowns name the lists of the codes sheet, which holds the values.
        let xml = unzip_entry(&t.raw, "xl/worksheets/sheet1.xml");
        assert!(xml.contains("<dataValidation"), "{kind}: dropdowns");
        assert!(xml.contains("代码表"), "{kind}: drawn from the codes sheet");
        let strings = unzip_entry(&t.raw, "xl/sharedStrings.xml");
        assert!(strings.contains(list), "{kind}: the list holds {list}");
    }
    let none = send(
        &app,
        TestRequest::get().uri("/api/v1/imports/templates/hazards.xlsx"),
    )
    .await;
    assert_eq!(none.status, StatusCode::BAD_REQUEST);
    assert_eq!(none.body["code"], "invalid_path");
}

/// One file of a zip archive, as text (the xlsx's sheet XML), found by its local header.
fn unzip_entry(zip: &[u8], name: &str) -> String {
    let mut archive =
        zip::ZipArchive::new(std::io::Cursor::new(zip.to_vec())).unwrap_or_else(|e| panic!("{e}"));
    let mut file = archive
        .by_name(name)
        .unwrap_or_else(|e| panic!("{name}: {e}"));
    let mut text = String::new();
    std::io::Read::read_to_string(&mut file, &mut text).unwrap_or_else(|e| panic!("{e}"));
    text
}

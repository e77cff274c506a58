//! Every error is a problem+json with the right status and code; every code is documented in
//! the book and used in the code.

use actix_web::http::{Method, StatusCode};
use actix_web::test::TestRequest;
use safegrade_domain::{CodeList, ViolationCode};
use safegrade_http::ErrorCode;
use safegrade_testkit::{TestDb, json_request, post_enterprise, send, test_app};
use serde_json::json;

both!(problems_for_every_kind_of_bad_request);

async fn problems_for_every_kind_of_bad_request(db: TestDb) {
    let app = test_app(db.store.clone()).await;
    let (_, uri) = post_enterprise(&app, 1).await;
    let post = |payload: &str, content_type: &str| {
        TestRequest::post()
            .uri("/api/v1/enterprises")
            .insert_header(("content-type", content_type.to_owned()))
            .set_payload(payload.to_owned())
    };
    let enterprise_json =
        safegrade_testkit::enterprise_body(&safegrade_testkit::credit_code(2)).to_string();
    let big = format!(
        "{{\"name\": \"{}\"}}",
        "x".repeat(safegrade_http::MAX_BODY_BYTES)
    );
    let cases: Vec<(&str, TestRequest, StatusCode, ErrorCode)> = vec![
        (
            "malformed json",
            post("{\"name\":", "application/json"),
            StatusCode::BAD_REQUEST,
            ErrorCode::MalformedJson,
        ),
        (
            "array body",
            post("[1]", "application/json"),
            StatusCode::BAD_REQUEST,
            ErrorCode::MalformedJson,
        ),
        (
            "text body",
            post("name=x", "text/plain"),
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ErrorCode::UnsupportedMediaType,
        ),
        (
            "oversized",
            post(&big, "application/json"),
            StatusCode::PAYLOAD_TOO_LARGE,
            ErrorCode::PayloadTooLarge,
        ),
        (
            "invalid fields",
            post(
                "{\"credit_code\": \"914403001922038215\"}",
                "application/json",
            ),
            StatusCode::UNPROCESSABLE_ENTITY,
            ErrorCode::ValidationFailed,
        ),
        (
            "unknown query",
            TestRequest::get().uri("/api/v1/enterprises?area=510703"),
            StatusCode::BAD_REQUEST,
            ErrorCode::InvalidQuery,
        ),
        (
            "limit too big",
            TestRequest::get().uri("/api/v1/enterprises?limit=201"),
            StatusCode::BAD_REQUEST,
            ErrorCode::InvalidQuery,
        ),
        (
            "bad enum filter",
            TestRequest::get().uri("/api/v1/enterprises?sector=steel"),
            StatusCode::BAD_REQUEST,
            ErrorCode::InvalidQuery,
        ),
        (
            "bad area filter",
            TestRequest::get().uri("/api/v1/enterprises?area_code=510724"),
            StatusCode::BAD_REQUEST,
            ErrorCode::InvalidQuery,
        ),
        (
            "bad cursor",
            TestRequest::get().uri("/api/v1/enterprises?cursor=bm9wZQ"),
            StatusCode::BAD_REQUEST,
            ErrorCode::InvalidQuery,
        ),
        (
            "bad id",
            TestRequest::get().uri("/api/v1/enterprises/not-an-id"),
            StatusCode::BAD_REQUEST,
            ErrorCode::InvalidPath,
        ),
        (
            "unknown id",
            TestRequest::get().uri("/api/v1/enterprises/019ac9a4-5c1e-7d52-8a3f-5b2e6f0a1c3d"),
            StatusCode::NOT_FOUND,
            ErrorCode::NotFound,
        ),
        (
            "unknown route",
            TestRequest::get().uri("/api/v1/nothing"),
            StatusCode::NOT_FOUND,
            ErrorCode::RouteNotFound,
        ),
        (
            "wrong method",
            TestRequest::delete().uri(&uri),
            StatusCode::METHOD_NOT_ALLOWED,
            ErrorCode::MethodNotAllowed,
        ),
        (
            "bad if-match",
            json_request(Method::PATCH, &uri, &json!({})).insert_header(("if-match", "v1")),
            StatusCode::BAD_REQUEST,
            ErrorCode::InvalidPrecondition,
        ),
        (
            "bad idempotency key",
            post(&enterprise_json, "application/json")
                .insert_header(("idempotency-key", "has space")),
            StatusCode::BAD_REQUEST,
            ErrorCode::InvalidIdempotencyKey,
        ),
    ];
    for (what, req, status, code) in cases {
        let r = send(&app, req.insert_header(("x-request-id", "test-req-1"))).await;
        assert_eq!(r.status, status, "{what}: {}", r.body);
        assert_eq!(
            r.header("content-type"),
            "application/problem+json",
            "{what}"
        );
        assert_eq!(r.body["code"], code.as_str(), "{what}");
        assert_eq!(r.body["status"], status.as_u16(), "{what}");
        assert_eq!(
            r.body["type"],
            format!("/book/errors.html#{code}"),
            "{what}"
        );
        assert_eq!(r.body["title"], code.title(), "{what}");
        assert!(
            r.body["instance"]
                .as_str()
                .is_some_and(|i| i.starts_with("/api/v1/")),
            "{what}"
        );
        assert_eq!(r.body["request_id"], "test-req-1", "{what}");
        assert_eq!(r.header("x-request-id"), "test-req-1", "{what}");
    }
    let r = send(&app, TestRequest::delete().uri(&uri)).await;
    assert_eq!(r.header("allow"), "GET, PATCH, HEAD");

    let invalid = json!({"credit_code": "91440300O922038216", "name": "x", "area_code": "510799", "industry_code": "C0811", "scale": "small", "principal_name": "张三", "latitude": 31.5, "colour": "red"});
    let r = send(
        &app,
        json_request(Method::POST, "/api/v1/enterprises", &invalid),
    )
    .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    crate::assert_record_snapshot!("problem_validation_failed", r.body);
}

fn source_files(dir: &std::path::Path, out: &mut Vec<(std::path::PathBuf, String)>) {
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            source_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push((
                path.clone(),
                std::fs::read_to_string(&path).unwrap_or_default(),
            ));
        }
    }
}

/// Codes whose variant is never named as `<prefix>::Variant` in the crates' sources (the
/// declaration itself names variants bare or as `Self::`, so it does not count).
fn unused<T: CodeList + std::fmt::Debug>(prefixes: &[&str]) -> Vec<String> {
    let mut files = Vec::new();
    source_files(
        std::path::Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/crates")),
        &mut files,
    );
    T::ALL
        .iter()
        .filter(|v| {
            !files.iter().any(|(p, text)| {
                !p.to_string_lossy().contains("/tests/")
                    && prefixes.iter().any(|prefix| {
                        // Outside `#[cfg(test)]` modules, which sit at the end of a file.
                        let code = text.split("#[cfg(test)]").next().unwrap_or_default();
                        code.contains(&format!("{prefix}::{v:?}"))
                    })
            })
        })
        .map(|v| v.as_str().to_owned())
        .collect()
}

#[test]
fn every_code_is_documented_and_used() {
    let book = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/book/src/errors.md"))
        .unwrap_or_default();
    let documented = |code: &str| book.lines().any(|l| l.trim() == format!("### {code}"));
    let undocumented: Vec<&str> = ErrorCode::ALL
        .iter()
        .map(CodeList::as_str)
        .chain(ViolationCode::ALL.iter().map(CodeList::as_str))
        .filter(|c| !documented(c))
        .collect();
    assert!(
        undocumented.is_empty(),
        "codes missing a `### code` entry in book/src/errors.md: {undocumented:?}"
    );
    assert_eq!(
        unused::<ErrorCode>(&["ErrorCode"]),
        Vec::<String>::new(),
        "error codes never raised"
    );
    assert_eq!(
        unused::<ViolationCode>(&["ViolationCode", "V"]),
        Vec::<String>::new(),
        "violation codes never raised"
    );
    // And nothing is documented that does not exist.
    let known: Vec<&str> = ErrorCode::ALL
        .iter()
        .map(CodeList::as_str)
        .chain(ViolationCode::ALL.iter().map(CodeList::as_str))
        .collect();
    let stale: Vec<&str> = book
        .lines()
        .filter_map(|l| l.trim().strip_prefix("### "))
        .filter(|c| !known.contains(c))
        .collect();
    assert!(
        stale.is_empty(),
        "book/src/errors.md documents unknown codes: {stale:?}"
    );
}

#[test]
fn the_errors_page_summary_lists_every_code_with_its_status() {
    let book = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/book/src/errors.md"))
        .unwrap_or_default();
    let mut wrong = Vec::new();
    for code in ErrorCode::ALL {
        let status = code.status().as_u16();
        let retryable = if matches!(status, 429 | 503) {
            "是"
        } else {
            "否"
        };
        let row = format!("| [`{code}`](#{code}) | {status} | {retryable} |");
        if !book.lines().any(|l| l.starts_with(&row)) {
            wrong.push(row);
        }
    }
    assert!(
        wrong.is_empty(),
        "rows missing or wrong in the summary of errors.md:\n{}",
        wrong.join("\n")
    );
}

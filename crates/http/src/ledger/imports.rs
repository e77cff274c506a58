//! Imports through the API: a ledger file is uploaded (the body itself, or a
//! `multipart/form-data` field `file`), kept as a job's input, and imported by the server's
//! background worker, which reports progress (rows done of rows in all) and ends with a
//! report: every problem at its row and header with the API's error code, and per row what
//! was (or, in a dry run, would be) created or changed. Writing goes in chunks, each committed
//! with the job's checkpoint, so a server that stops in the middle resumes where it was.

use std::collections::BTreeMap;

use actix_web::http::{StatusCode, header};
use actix_web::{HttpRequest, HttpResponse, get, post, web};
use chrono::{DateTime, Utc};
use futures_util::StreamExt;
use safegrade_domain::jobs::{ImportKind, ImportMode, ImportOutcome, JobKind, JobState};
use safegrade_domain::ledger::sheet::{CellProblem, Column};
use safegrade_domain::ledger::sheet::{accident_cells, certificate_cells};
use safegrade_domain::{Action, Actor, CodeList, JobId, Scope};
use safegrade_store::grading::import::{
    Accidents, Certificates, PlannedRecord, RecordKind, RecordRow,
};
use safegrade_store::jobs::{Job, NewJob, Release};
use safegrade_store::ledger::import::{Chunk, Outcome, Planned, Refused, Tally};
use safegrade_store::{Store, StoreError};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use utoipa::{IntoParams, ToSchema};

use crate::ledger::import::{LedgerFile, read_csv, read_workbook};
use crate::plumbing::app::AppState;
use crate::plumbing::auth::Caller;
use crate::plumbing::error::{ApiError, ErrorCode, not_found_as};
use crate::plumbing::extract::{IdempotencyKey, PathId};
use crate::plumbing::list::{self, ListResponse};
use crate::plumbing::write::Answer;

/// Largest ledger file accepted, in bytes (a county ledger of 100,000 rows is well under it).
pub const MAX_FILE_BYTES: usize = 32 * 1024 * 1024;
/// Rows written per transaction (and per checkpoint).
pub const CHUNK_ROWS: usize = 500;
/// Rows whose changes a report lists (the counts cover all).
pub const REPORT_ROWS: usize = 1000;

/// Query parameters of an upload (a multipart form may give the same as fields).
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ImportQuery {
    /// What the file holds; `enterprises` (the default) for a survey ledger.
    #[param(value_type = Option<crate::plumbing::codes::ImportKind>)]
    pub kind: Option<String>,
    /// Only work out what would happen (the report), writing nothing. Default false.
    pub dry_run: Option<bool>,
    /// `all` (default): nothing is written while any row has a problem; `valid_rows`: the
    /// rows without problems are imported and the others reported.
    #[param(value_type = Option<crate::plumbing::codes::ImportMode>)]
    pub mode: Option<String>,
    /// The worksheet to read (default: the first).
    pub sheet: Option<String>,
    /// The file's name, for the report and the `import.completed` event.
    pub file_name: Option<String>,
    /// Headers the synonym table does not know, as a JSON object from the header as written
    /// to a column code: `{"纳税人识别号": "credit_code"}`.
    pub columns: Option<String>,
    /// Import into this one supervision area (a county's ledger that has no area column):
    /// rows that leave the area blank get it; rows of other areas are refused.
    pub area_code: Option<String>,
}

/// How an import was asked for (the job's parameters).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Params {
    kind: ImportKind,
    dry_run: bool,
    mode: ImportMode,
    sheet: Option<String>,
    file_name: String,
    sha256: String,
    bytes: usize,
    columns: BTreeMap<String, String>,
    #[serde(default)]
    area_code: Option<String>,
}

/// What an import is asked to do (the API's query, or the command line's flags).
#[derive(Debug, Clone, Default)]
pub struct Submission {
    /// Only the report.
    pub dry_run: bool,
    /// Import the rows without problems even when others have some.
    pub valid_rows: bool,
    /// The worksheet (default: the first).
    pub sheet: Option<String>,
    /// The file's name.
    pub file_name: String,
    /// The one supervision area imported into (a normalised code): rows that leave the area
    /// blank get it, rows of other areas are refused.
    pub area_code: Option<String>,
}

impl Params {
    fn of(
        kind: ImportKind,
        s: &Submission,
        bytes: &[u8],
        columns: BTreeMap<String, String>,
    ) -> Self {
        Self {
            kind,
            dry_run: s.dry_run,
            mode: if s.valid_rows {
                ImportMode::ValidRows
            } else {
                ImportMode::All
            },
            sheet: s.sheet.clone().filter(|n| !n.is_empty()),
            file_name: Some(s.file_name.trim())
                .filter(|n| !n.is_empty())
                .unwrap_or("ledger")
                .to_owned(),
            sha256: safegrade_store::digest::sha256_hex(bytes),
            bytes: bytes.len(),
            columns,
            area_code: s.area_code.clone(),
        }
    }
}

/// Queues the import of `bytes` for `principal` (`None`: the command line, in the whole
/// city); returns the job's id. The worker, or [`crate::worker::Worker::drain`], runs it.
pub fn submit(
    store: &Store,
    principal: Option<safegrade_domain::PrincipalId>,
    s: Submission,
    bytes: Vec<u8>,
) -> Result<String, StoreError> {
    let params = serde_json::to_value(Params::of(
        ImportKind::Enterprises,
        &s,
        &bytes,
        BTreeMap::new(),
    ))
    .map_err(|e| StoreError::Other(Box::new(e)))?;
    let job = store.with_write_tx(move |tx| {
        safegrade_store::jobs::insert(
            tx,
            NewJob {
                kind: JobKind::Import,
                subject: None,
                principal_id: principal,
                params,
                input: Some(bytes),
            },
        )
    })?;
    Ok(job.id)
}

/// Progress of a job.
#[derive(Debug, Serialize, ToSchema)]
pub struct Progress {
    /// Rows done.
    pub done: i64,
    /// Rows in all (0 until the file was read).
    pub total: i64,
}

/// An import (导入任务).
#[derive(Debug, Serialize, ToSchema)]
pub struct ImportResponse {
    /// Id.
    pub id: String,
    /// What the file holds.
    #[schema(value_type = crate::plumbing::codes::ImportKind)]
    pub kind: ImportKind,
    /// Where it is: `queued`, `running`, then `succeeded` (the report says how it ended) or
    /// `failed` (the file could not be read; the report says why).
    #[schema(value_type = crate::plumbing::codes::JobState)]
    pub state: JobState,
    /// A dry run writes nothing.
    pub dry_run: bool,
    /// Whether only a file without problems is written.
    #[schema(value_type = crate::plumbing::codes::ImportMode)]
    pub mode: ImportMode,
    /// The file's name.
    pub file_name: String,
    /// The file's SHA-256 (hex), as the `import.completed` event names it.
    pub sha256: String,
    /// The file's size in bytes.
    pub bytes: usize,
    /// The worksheet read, when one was named.
    pub sheet: Option<String>,
    /// The one supervision area imported into, when one was named.
    pub area_code: Option<String>,
    /// Rows done of rows in all.
    pub progress: Progress,
    /// When it was asked for.
    pub created_at: DateTime<Utc>,
    /// When it finished.
    pub finished_at: Option<DateTime<Utc>>,
    /// What it did (once finished).
    pub report: Option<ImportReport>,
}

/// A header no column is read from.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct UnmappedHeader {
    /// Its column number (1 = A).
    pub column: usize,
    /// As written.
    pub header: String,
}

/// A problem of a row.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct RowProblem {
    /// Row number in the sheet (the header row is 1).
    pub row: usize,
    /// The column's header as written; empty for the row as a whole.
    pub header: String,
    /// The error code the API gives for the same value.
    #[schema(value_type = crate::plumbing::codes::ViolationCode)]
    pub code: String,
    /// What is wrong, in Chinese.
    pub message: String,
}

/// What a row does (or would do).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct RowChange {
    /// Row number.
    pub row: usize,
    /// The enterprise's credit code.
    pub credit_code: String,
    /// The record the row makes, in a few words: a certificate's number, an accident's day
    /// and kind (record imports).
    pub record: Option<String>,
    /// `created` or `updated`.
    pub action: String,
    /// For an update: each changed field, old and new.
    #[schema(value_type = Object)]
    pub fields: Value,
}

/// What an import did, or in a dry run would do.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
pub struct ImportReport {
    /// How it ended.
    #[schema(value_type = Option<crate::plumbing::codes::ImportOutcome>)]
    pub outcome: Option<ImportOutcome>,
    /// Why the file could not be read (state `failed`).
    pub error: Option<String>,
    /// Data rows in the file.
    pub rows: i64,
    /// Rows without problems.
    pub valid_rows: i64,
    /// Enterprises created.
    pub created: i64,
    /// Enterprises changed.
    pub updated: i64,
    /// Rows that change nothing.
    pub unchanged: i64,
    /// Headers no column is read from (listed, never dropped silently).
    pub unmapped_headers: Vec<UnmappedHeader>,
    /// Every problem, by row.
    pub problems: Vec<RowProblem>,
    /// Per created or changed row, what it does (the first 1,000 such rows).
    pub changes: Vec<RowChange>,
    /// Created or changed rows beyond those listed.
    pub changes_not_listed: i64,
    /// How long each phase took (of the last run, when it resumed).
    pub timings: Option<Timings>,
}

impl ImportReport {
    /// The report as lines of text (the command line prints it).
    pub fn text(&self) -> String {
        use std::fmt::Write as _;
        let mut out = String::new();
        if let Some(e) = &self.error {
            let _ = writeln!(out, "{e}");
        }
        for h in &self.unmapped_headers {
            let _ = writeln!(out, "未读取的列：第 {} 列「{}」", h.column, h.header);
        }
        for c in self.changes.iter().filter(|c| c.action == "updated") {
            let fields: Vec<String> = c
                .fields
                .as_object()
                .into_iter()
                .flatten()
                .map(|(k, v)| format!("{k}: {} → {}", v["old"], v["new"]))
                .collect();
            let _ = writeln!(
                out,
                "第 {} 行 {} 将更新：{}",
                c.row,
                c.credit_code,
                fields.join("；")
            );
        }
        for p in &self.problems {
            let at = if p.header.is_empty() {
                String::new()
            } else {
                format!("「{}」", p.header)
            };
            let _ = writeln!(out, "第 {} 行{at}：{}（{}）", p.row, p.message, p.code);
        }
        let _ = writeln!(
            out,
            "共 {} 行：新增 {}，更新 {}，无变化 {}，有问题的行 {}",
            self.rows,
            self.created,
            self.updated,
            self.unchanged,
            self.rows - self.valid_rows
        );
        match self.outcome {
            Some(ImportOutcome::DryRun) => {
                let _ = writeln!(out, "试导入：未写入任何记录");
            }
            Some(ImportOutcome::Imported) => {
                let _ = writeln!(out, "已写入：新增 {}，更新 {}", self.created, self.updated);
            }
            Some(ImportOutcome::Refused) | None => {}
        }
        out
    }
}

/// Milliseconds spent reading the file, checking the rows against the ledger, and writing.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, ToSchema)]
pub struct Timings {
    /// Reading and parsing the file.
    pub read_ms: u64,
    /// Checking every row (the plan, and the dry run's report).
    pub check_ms: u64,
    /// Writing (0 for a dry run or a refused file).
    pub write_ms: u64,
}

fn ms_since(at: std::time::Instant) -> u64 {
    u64::try_from(at.elapsed().as_millis()).unwrap_or(u64::MAX)
}

fn bad_query(detail: impl Into<String>) -> ApiError {
    ApiError::new(ErrorCode::InvalidQuery, detail)
}

/// Reads an explicit header mapping: a JSON object from header to column code.
fn columns_of(raw: Option<&str>) -> Result<BTreeMap<String, String>, ApiError> {
    let Some(raw) = raw else {
        return Ok(BTreeMap::new());
    };
    let map: BTreeMap<String, String> = serde_json::from_str(raw).map_err(|_| {
        bad_query(r#"columns must be a JSON object from header to column code, like {"纳税人识别号": "credit_code"}"#)
    })?;
    for code in map.values() {
        if Column::from_code(code).is_none() {
            return Err(bad_query(format!(
                "columns: '{code}' is not a column; one of {}",
                Column::codes().join(", ")
            )));
        }
    }
    Ok(map)
}

fn explicit(columns: &BTreeMap<String, String>) -> Vec<(String, Column)> {
    columns
        .iter()
        .filter_map(|(h, c)| Column::from_code(c).map(|c| (h.clone(), c)))
        .collect()
}

/// Whether the bytes are a workbook (xlsx/ods are zip files, xls a compound document).
fn is_workbook(bytes: &[u8]) -> bool {
    bytes.starts_with(b"PK\x03\x04") || bytes.starts_with(&[0xD0, 0xCF, 0x11, 0xE0])
}

/// Reads a body or a form field whole, refusing more than [`MAX_FILE_BYTES`].
async fn read_limited<E: std::fmt::Display>(
    mut stream: impl futures_util::Stream<Item = Result<web::Bytes, E>> + Unpin,
    what: &str,
) -> Result<Vec<u8>, ApiError> {
    let mut bytes = Vec::new();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|e| bad_query(format!("{what} could not be read: {e}")))?;
        if bytes.len() + chunk.len() > MAX_FILE_BYTES {
            return Err(ApiError::new(
                ErrorCode::PayloadTooLarge,
                format!("the file is larger than {MAX_FILE_BYTES} bytes"),
            ));
        }
        bytes.extend_from_slice(&chunk);
    }
    Ok(bytes)
}

/// Reads the uploaded file: a multipart form's `file` field (its other fields as query
/// parameters), or the body itself.
async fn upload(
    req: &HttpRequest,
    payload: web::Payload,
    mut query: ImportQuery,
) -> Result<(Vec<u8>, ImportQuery), ApiError> {
    let multipart = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("multipart/form-data"));
    if !multipart {
        return Ok((read_limited(payload, "the body").await?, query));
    }
    let mut form = actix_multipart::Multipart::new(req.headers(), payload);
    let mut file = None;
    while let Some(field) = form.next().await {
        let mut field = field.map_err(|e| bad_query(format!("the form could not be read: {e}")))?;
        let name = field.name().unwrap_or_default().to_owned();
        let file_name = field
            .content_disposition()
            .and_then(|d| d.get_filename())
            .map(str::to_owned);
        let bytes = read_limited(&mut field, "the form").await?;
        let text = || String::from_utf8_lossy(&bytes).trim().to_owned();
        match name.as_str() {
            "file" => {
                if query.file_name.is_none() {
                    query.file_name = file_name;
                }
                file = Some(bytes);
            }
            "kind" => query.kind = Some(text()),
            "mode" => query.mode = Some(text()),
            "sheet" => query.sheet = Some(text()),
            "columns" => query.columns = Some(text()),
            "file_name" => query.file_name = Some(text()),
            "area_code" => query.area_code = Some(text()),
            "dry_run" => query.dry_run = Some(matches!(text().as_str(), "true" | "1")),
            other => {
                return Err(bad_query(format!(
                    "the form has an unknown field '{other}'"
                )));
            }
        }
    }
    let file = file.ok_or_else(|| bad_query("the form has no field 'file'"))?;
    Ok((file, query))
}

/// Import a file (导入台账): answered 202 with the import, which runs in the background.
///
/// Send the file as the body (`Content-Type` `text/csv` or the Excel type, or
/// `application/octet-stream`), or as the field `file` of a `multipart/form-data` form
/// (whose other fields may carry the query parameters). Excel (`.xlsx`, `.xls`, `.ods`) is
/// recognised by its content; anything else is read as CSV in UTF-8. Headers are matched
/// through the synonym table of the book's 台账导入 chapter; `columns` maps others. Follow
/// `Location` (`GET /imports/{id}`) for progress and the report. Up to 32 MiB.
#[utoipa::path(
    tag = "imports",
    operation_id = "create_import",
    params(ImportQuery),
    request_body(content = Vec<u8>, content_type = "text/csv", description = "The ledger file (CSV in UTF-8, or Excel), or a multipart/form-data form with the field `file`"),
    responses(
        (status = 202, description = "Accepted: the import is queued", body = ImportResponse,
            headers(("Location" = String, description = "URL of the import"))),
    )
)]
#[post("/imports")]
pub async fn create_import(
    req: HttpRequest,
    caller: Caller,
    state: web::Data<AppState>,
    key: IdempotencyKey,
    query: web::Query<ImportQuery>,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    caller.require(Action::WriteLedger)?;
    let (bytes, q) = upload(&req, payload, query.into_inner()).await?;
    let kind: ImportKind = q
        .kind
        .as_deref()
        .map_or(Ok(ImportKind::Enterprises), str::parse)
        .map_err(|e| bad_query(format!("kind: {e}")))?;
    let mode: ImportMode = q
        .mode
        .as_deref()
        .map_or(Ok(ImportMode::All), str::parse)
        .map_err(|e| bad_query(format!("mode: {e}")))?;
    if bytes.is_empty() {
        return Err(ApiError::new(ErrorCode::MalformedJson, "the file is empty"));
    }
    let area_code = list::area_filter(q.area_code.as_deref())?;
    if let Some(a) = &area_code {
        caller.require_area(a)?;
    }
    let params = Params::of(
        kind,
        &Submission {
            dry_run: q.dry_run.unwrap_or(false),
            valid_rows: mode == ImportMode::ValidRows,
            sheet: q.sheet,
            file_name: q.file_name.unwrap_or_default(),
            area_code,
        },
        &bytes,
        columns_of(q.columns.as_deref())?,
    );
    if params.file_name.contains('\0') || params.columns.keys().any(|k| k.contains('\0')) {
        return Err(bad_query("U+0000 is not allowed"));
    }
    let params = serde_json::to_value(&params).map_err(ApiError::internal)?;
    // The idempotent request is the file (by its hash) and the parameters.
    let mut asked = Map::new();
    asked.insert("params".into(), params.clone());
    let principal = caller.principal.id;
    let answer_state = state.clone();
    let response =
        crate::plumbing::write::post(&state, &caller, &req, key, &asked, "imports", move |tx| {
            let job = safegrade_store::jobs::insert(
                tx,
                NewJob {
                    kind: JobKind::Import,
                    subject: None,
                    principal_id: Some(principal),
                    params,
                    input: Some(bytes),
                },
            )?;
            let body = ImportResponse::of(job)?;
            Ok(Answer::new(StatusCode::ACCEPTED, &body)?
                .located(format!("/api/v1/imports/{}", body.id)))
        })
        .await?;
    answer_state.worker.nudge();
    Ok(response)
}

impl ImportResponse {
    fn of(job: Job) -> Result<Self, ApiError> {
        let params: Params =
            serde_json::from_value(job.params.clone()).map_err(ApiError::internal)?;
        let report = match (&job.report, job.state) {
            (Some(r), JobState::Succeeded | JobState::Failed) => {
                Some(serde_json::from_value(r.clone()).map_err(ApiError::internal)?)
            }
            _ => None,
        };
        Ok(Self {
            id: job.id,
            kind: params.kind,
            state: job.state,
            dry_run: params.dry_run,
            mode: params.mode,
            file_name: params.file_name,
            sha256: params.sha256,
            bytes: params.bytes,
            sheet: params.sheet,
            area_code: params.area_code,
            progress: Progress {
                done: job.progress_done,
                total: job.progress_total,
            },
            created_at: job.created_at,
            finished_at: job.finished_at,
            report,
        })
    }
}

/// The job `id` if it is an import the caller may see: its own, or any for a city
/// administrator.
fn visible(caller: &Caller, job: Job) -> Result<Job, StoreError> {
    if job.kind == JobKind::Import && caller.sees_owned_by(job.principal_id.as_deref()) {
        Ok(job)
    } else {
        Err(StoreError::NotFound)
    }
}

/// One import: state, progress and (once finished) the report.
#[utoipa::path(
    tag = "imports",
    operation_id = "get_import",
    params(("id" = uuid::Uuid, Path, description = "Import id")),
    responses(
        (status = 200, description = "The import", body = ImportResponse),
    )
)]
#[get("/imports/{id}")]
pub async fn get_import(
    caller: Caller,
    state: web::Data<AppState>,
    PathId(id, raw): PathId<JobId>,
) -> Result<HttpResponse, ApiError> {
    let c = caller.clone();
    let job = state
        .run(move |s| Ok(visible(&c, s.get_job(&id.to_string())?)?))
        .await
        .map_err(not_found_as("import", raw))?;
    Ok(HttpResponse::Ok().json(ImportResponse::of(job)?))
}

/// The caller's imports, newest first (a city administrator sees everyone's).
#[utoipa::path(
    tag = "imports",
    operation_id = "list_imports",
    params(list::PageParams),
    responses(
        (status = 200, description = "A page of imports", body = ListResponse<ImportResponse>),
    )
)]
#[get("/imports")]
pub async fn list_imports(
    caller: Caller,
    state: web::Data<AppState>,
    query: web::Query<list::PageParams>,
) -> Result<HttpResponse, ApiError> {
    let q = query.into_inner();
    let (limit, after) = list::paging(q.limit, q.cursor.as_deref(), "imports")?;
    let principal = caller.owner_filter();
    let jobs = state
        .run(move |s| {
            Ok(s.list_jobs(
                JobKind::Import,
                principal.as_deref(),
                after.as_deref(),
                i64::from(limit) + 1,
            )?)
        })
        .await?;
    let items = jobs
        .into_iter()
        .map(ImportResponse::of)
        .collect::<Result<Vec<_>, _>>()?;
    Ok(HttpResponse::Ok().json(list::page(items, limit, "imports", |i| i.id.clone())))
}

/// A problem as the report shows it.
fn row_problem(p: CellProblem) -> RowProblem {
    RowProblem {
        row: p.row,
        header: p.header,
        code: p.code.as_str().to_owned(),
        message: p.message,
    }
}

/// One row of a plan, as the report shows it.
struct RowPlan<'a> {
    row: usize,
    credit_code: &'a str,
    record: Option<&'a str>,
    outcome: &'a Result<Outcome, Refused>,
    problems: Vec<CellProblem>,
}

/// The report of a plan: counts, problems, and what the rows do.
fn report_from(file: &LedgerFile, plan: Vec<RowPlan<'_>>, tally: Tally) -> ImportReport {
    let bad_rows: std::collections::BTreeSet<usize> = plan
        .iter()
        .filter(|p| !p.problems.is_empty())
        .map(|p| p.row)
        .collect();
    let mut changes = Vec::new();
    let mut not_listed = 0;
    let mut problems = Vec::new();
    for p in plan {
        problems.extend(p.problems.into_iter().map(row_problem));
        if bad_rows.contains(&p.row) {
            continue;
        }
        let (action, fields) = match p.outcome {
            Ok(Outcome::Created) => ("created", Value::Object(Map::new())),
            Ok(Outcome::Updated(diff)) => ("updated", json!(diff)),
            _ => continue,
        };
        if changes.len() == REPORT_ROWS {
            not_listed += 1;
            continue;
        }
        changes.push(RowChange {
            row: p.row,
            credit_code: p.credit_code.to_owned(),
            record: p.record.map(str::to_owned),
            action: action.to_owned(),
            fields,
        });
    }
    ImportReport {
        outcome: None,
        error: None,
        rows: i64::try_from(file.total).unwrap_or(i64::MAX),
        valid_rows: i64::try_from(file.total.saturating_sub(bad_rows.len())).unwrap_or(0),
        created: tally.created,
        updated: tally.updated,
        unchanged: tally.unchanged,
        unmapped_headers: file
            .unmapped
            .iter()
            .map(|(i, h)| UnmappedHeader {
                column: i + 1,
                header: h.clone(),
            })
            .collect(),
        problems,
        changes,
        changes_not_listed: not_listed,
        timings: None,
    }
}

/// The report of an enterprise plan.
fn report_of(file: &LedgerFile, planned: &[Planned]) -> ImportReport {
    let plan = planned
        .iter()
        .map(|p| RowPlan {
            row: p.row,
            credit_code: &p.credit_code,
            record: None,
            outcome: &p.outcome,
            problems: file.problems_of(p),
        })
        .collect();
    report_from(file, plan, Tally::of(planned))
}

/// The report of a record plan (certificates, accidents), with the problems of its cells.
fn record_report<D>(
    file: &LedgerFile,
    cells: &[CellProblem],
    planned: &[PlannedRecord<D>],
) -> ImportReport {
    let plan = planned
        .iter()
        .map(|p| RowPlan {
            row: p.row,
            credit_code: &p.credit_code,
            record: Some(&p.key),
            outcome: &p.outcome,
            problems: file.problems_at(cells, p.row, &p.outcome),
        })
        .collect();
    report_from(file, plan, Tally::of_records(planned))
}

fn finish(
    store: &Store,
    job: (&str, &str),
    state: JobState,
    report: &ImportReport,
) -> Result<(), StoreError> {
    let report = serde_json::to_value(report).map_err(|e| StoreError::Other(Box::new(e)))?;
    store.release_job(job, Release::Finish(state, report))
}

/// Who an import writes as: the job's principal as it is now (`None`: the command line, in
/// the whole city), or why it may not.
fn importer(store: &Store, job: &Job) -> Result<Result<(Scope, Actor), String>, StoreError> {
    let Some(id) = job.principal_id.as_deref() else {
        return Ok(Ok((Scope::City, Actor::command_line())));
    };
    let principal = safegrade_domain::PrincipalId::parse(id)
        .map(|p| store.get_principal(p))
        .transpose()?;
    Ok(
        match principal.filter(|p| !p.data.disabled && p.data.may(Action::WriteLedger)) {
            Some(p) => Ok((
                p.data.scope(),
                Actor {
                    principal_id: Some(p.id),
                    role: Some(p.data.role),
                    request_id: None,
                },
            )),
            None => Err("发起导入的账号已停用或无权录入台账".to_owned()),
        },
    )
}

/// Writes `rows` in chunks of [`CHUNK_ROWS`] from the job's checkpoint, each chunk by
/// `write` (its own transaction, with the checkpoint; the last records `import.completed`).
/// `Err(report)` when a chunk's rows were refused at writing (the ledger changed meanwhile):
/// the chunks before are written.
fn write_chunks<R: Clone, P>(
    job: (&Job, &str, &Params),
    (rows, total): (&[R], i64),
    mut write: impl FnMut(Vec<R>, Chunk) -> Result<Result<Tally, Vec<P>>, StoreError>,
    refused: impl Fn(&[P]) -> ImportReport,
) -> Result<Result<Tally, ImportReport>, StoreError> {
    let (job, owner, params) = job;
    let (start, before) = job
        .checkpoint
        .as_ref()
        .map_or((0, Tally::default()), Tally::from_json);
    let start = usize::try_from(start).unwrap_or(0).min(rows.len());
    let rows_total = i64::try_from(rows.len()).unwrap_or(i64::MAX);
    let mut tally = before;
    let mut done = start;
    let chunks: Vec<&[R]> = if rows.len() == start {
        vec![&[]]
    } else {
        rows[start..].chunks(CHUNK_ROWS).collect()
    };
    let last = chunks.len() - 1;
    for (i, chunk) in chunks.into_iter().enumerate() {
        done += chunk.len();
        let written = write(
            chunk.to_vec(),
            Chunk {
                job: (job.id.clone(), owner.to_owned()),
                progress: (
                    i64::try_from(done).unwrap_or(i64::MAX),
                    total.max(rows_total),
                ),
                before: tally,
                last: (i == last).then(|| {
                    (
                        (params.file_name.clone(), params.sha256.clone()),
                        rows_total,
                    )
                }),
            },
        )?;
        match written {
            Ok(t) => tally = t,
            Err(replanned) => {
                let mut r = refused(&replanned);
                r.outcome = Some(ImportOutcome::Refused);
                r.error = Some(format!(
                    "导入过程中台账发生变化：前 {} 行已写入，其余未写入",
                    done - chunk.len()
                ));
                return Ok(Err(r));
            }
        }
    }
    Ok(Ok(tally))
}

/// What a run of an import found and, unless it only reports, wrote.
type Ran = (ImportReport, Option<Result<Tally, ImportReport>>);

/// Plans record rows of kind `K` (certificates, accidents), reports, and writes them in chunks
/// when the import is to write.
fn run_records<K, C>(
    state: &AppState,
    (job, owner, params): (&Job, &str, &Params),
    (file, rows, cells): (&LedgerFile, &[RecordRow<C>], &[CellProblem]),
    (scope, actor): (&Scope, &Actor),
    (timings, checking, total): (&mut Timings, std::time::Instant, i64),
) -> Result<Ran, StoreError>
where
    K: RecordKind<Cells = C> + 'static,
    C: Clone + Send + 'static,
{
    let store = &state.store;
    let today = state.today();
    let planned = store.plan_record_import::<K>(rows, scope, today)?;
    let report = record_report(file, cells, &planned);
    timings.check_ms = ms_since(checking);
    if !writes(params, &report) {
        return Ok((report, None));
    }
    let ok = crate::ledger::import::importable(
        rows,
        |r| r.row,
        cells,
        planned.iter().map(|p| &p.outcome),
    );
    let written = write_chunks(
        (job, owner, params),
        (&ok, total),
        |part, chunk| {
            store.import_records_chunk::<K>(part, (scope.clone(), actor.clone(), today), chunk)
        },
        |replanned| record_report(file, cells, replanned),
    )?;
    Ok((report, Some(written)))
}

/// Whether an import with this report writes: not a dry run, and no problem unless only the
/// valid rows are to be written.
fn writes(params: &Params, report: &ImportReport) -> bool {
    !params.dry_run && (report.problems.is_empty() || params.mode == ImportMode::ValidRows)
}

/// Runs import job `job` held by `owner` to its end: reads the file, plans, and (unless a
/// dry run, or a refused file) writes in chunks from the job's checkpoint.
pub fn run(state: &AppState, job: &Job, owner: &str) -> Result<(), StoreError> {
    let store = &state.store;
    let at = (job.id.as_str(), owner);
    let params: Params =
        serde_json::from_value(job.params.clone()).map_err(|e| StoreError::Other(Box::new(e)))?;
    let failed = |why: String| {
        let report = ImportReport {
            error: Some(why),
            ..ImportReport::default()
        };
        finish(store, at, JobState::Failed, &report)
    };
    let Some(bytes) = store.job_input(&job.id)? else {
        return failed("导入文件已不在（任务已结束过）".to_owned());
    };
    let columns = explicit(&params.columns);
    let started = std::time::Instant::now();
    let mut timings = Timings::default();
    let file = if is_workbook(&bytes) {
        read_workbook(bytes, params.sheet.as_deref(), &columns)
    } else {
        read_csv(&bytes, &columns)
    };
    let file = match file {
        Ok(f) => f,
        Err(e) => return failed(e.to_string()),
    };
    timings.read_ms = ms_since(started);
    let total = i64::try_from(file.total).unwrap_or(i64::MAX);
    store.job_progress(at, 0, total)?;
    let (scope, actor) = match importer(store, job)? {
        Ok(who) => who,
        Err(why) => return failed(why),
    };
    // One area named: the import is limited to it, and rows without an area are in it.
    let scope = match &params.area_code {
        Some(a) if scope.covers_area(a) => Scope::Areas(vec![a.clone()]),
        Some(a) => return failed(format!("区域 {a} 不在发起导入的账号的管辖范围内")),
        None => scope,
    };
    let mut file = file;
    if let Some(a) = &params.area_code {
        for r in &mut file.rows {
            r.input.area_code.get_or_insert_with(|| a.clone());
        }
    }
    let checking = std::time::Instant::now();
    let (mut report, written) = match params.kind {
        ImportKind::Enterprises => {
            let planned = store.plan_ledger_import(&file.rows, &scope, state.mapping)?;
            let report = report_of(&file, &planned);
            timings.check_ms = ms_since(checking);
            let written = if writes(&params, &report) {
                let rows = file.importable(&planned);
                Some(write_chunks(
                    (job, owner, &params),
                    (&rows, total),
                    |part, chunk| {
                        store.import_ledger_chunk(
                            part,
                            (scope.clone(), actor.clone(), None),
                            state.mapping,
                            chunk,
                        )
                    },
                    |replanned| report_of(&file, replanned),
                )?)
            } else {
                None
            };
            (report, written)
        }
        ImportKind::Certificates => {
            let (rows, cells) = file.record_rows(certificate_cells);
            run_records::<Certificates, _>(
                state,
                (job, owner, &params),
                (&file, &rows, &cells),
                (&scope, &actor),
                (&mut timings, checking, total),
            )?
        }
        ImportKind::Accidents => {
            let (rows, cells) = file.record_rows(accident_cells);
            run_records::<Accidents, _>(
                state,
                (job, owner, &params),
                (&file, &rows, &cells),
                (&scope, &actor),
                (&mut timings, checking, total),
            )?
        }
    };
    report.timings = Some(timings);
    match written {
        None => {
            report.outcome = Some(if params.dry_run {
                ImportOutcome::DryRun
            } else {
                ImportOutcome::Refused
            });
            finish(store, at, JobState::Succeeded, &report)
        }
        Some(Err(mut refused)) => {
            refused.timings = report.timings;
            finish(store, at, JobState::Failed, &refused)
        }
        Some(Ok(tally)) => {
            if let Some(t) = report.timings.as_mut() {
                t.write_ms = ms_since(checking).saturating_sub(t.check_ms);
            }
            report.outcome = Some(ImportOutcome::Imported);
            report.created = tally.created;
            report.updated = tally.updated;
            report.unchanged = tally.unchanged;
            finish(store, at, JobState::Succeeded, &report)
        }
    }
}

/// A template column: the column, whether a new record needs it, and how to fill it.
type TemplateColumn = (Column, bool, &'static str);

/// The columns of the enterprise template, in order: what an enterprise import reads.
const ENTERPRISE_COLUMNS: &[TemplateColumn] = &[
    (
        Column::CreditCode,
        true,
        "18 位，含校验位；按此代码新增或更新",
    ),
    (Column::Name, true, "营业执照上的名称"),
    (Column::Area, true, "从下拉列表选择，也可填区域代码"),
    (Column::Address, false, "生产经营地址"),
    (
        Column::IndustryCode,
        true,
        "GB/T 4754-2017 代码，如 C3311；监管行业由它确定",
    ),
    (Column::MineKind, false, "非煤矿山企业从下拉列表选择"),
    (Column::Scale, true, "从下拉列表选择"),
    (Column::PrincipalName, true, "主要负责人姓名"),
    (
        Column::PrincipalPhone,
        false,
        "手机或座机，如 13800000000、0816-1234567",
    ),
    (Column::SafetyManagerName, false, ""),
    (Column::SafetyManagerPhone, false, ""),
    (Column::Employees, false, "整数"),
];

/// The columns of the certificate template.
const CERTIFICATE_COLUMNS: &[TemplateColumn] = &[
    (Column::CreditCode, true, "持证企业的代码；企业须已在台账中"),
    (Column::Name, false, "便于核对，不导入"),
    (
        Column::CertificateNumber,
        true,
        "旧证书编号（如 川AQBJXⅢ201900012）照原样填写",
    ),
    (
        Column::Grade,
        true,
        "从下拉列表选择；旧证书编号能看出等级的可以不填",
    ),
    (Column::IssuedOn, true, "日期，如 2021-03-05"),
    (Column::ValidUntil, false, "不填按发证日期加 3 年"),
    (Column::AuthorityName, false, "不填记为“未注明（台账导入）”"),
    (Column::Standard, false, "不填记为“未注明（台账导入）”"),
];

/// The columns of the accident template.
const ACCIDENT_COLUMNS: &[TemplateColumn] = &[
    (
        Column::CreditCode,
        true,
        "发生事故的企业的代码；企业须已在台账中",
    ),
    (Column::Name, false, "便于核对，不导入"),
    (Column::AccidentDate, true, "日期，如 2024-03-05"),
    (Column::AccidentKind, true, "从下拉列表选择（GB 6441-1986）"),
    (Column::Deaths, false, "整数，不填按 0"),
    (Column::SeriouslyInjured, false, "整数，不填按 0"),
    (Column::DirectLossTenThousand, false, "万元"),
    (Column::Source, false, "事故调查报告、通报文号等"),
];

/// Rows of the template that carry the dropdowns.
const TEMPLATE_ROWS: u32 = 10_000;

/// The closed list a template column's dropdown offers, if any: its title and values.
fn template_list(column: Column) -> Option<(&'static str, Vec<&'static str>)> {
    use safegrade_domain::grading::{AccidentKind, Grade};
    use safegrade_domain::{AREAS, MineKind, Scale};
    fn labels<T: CodeList>() -> Vec<&'static str> {
        T::ALL.iter().map(CodeList::label_zh).collect()
    }
    Some(match column {
        Column::Area => (column.label_zh(), AREAS.iter().map(|a| a.name_zh).collect()),
        Column::Scale => (column.label_zh(), labels::<Scale>()),
        Column::MineKind => (column.label_zh(), labels::<MineKind>()),
        Column::Grade => (column.label_zh(), labels::<Grade>()),
        Column::AccidentKind => (column.label_zh(), labels::<AccidentKind>()),
        _ => return None,
    })
}

/// The template of an import kind: the sheet's name, its columns, and the notes' last lines.
fn template_of(
    kind: ImportKind,
) -> (
    &'static str,
    &'static [TemplateColumn],
    &'static [&'static str],
) {
    const COMMON: &str = "先“试导入”查看每行的问题和将要发生的变化，确认无误后再正式导入；默认有任何一行出错则整份不导入。";
    match kind {
        ImportKind::Enterprises => (
            "企业台账",
            ENTERPRISE_COLUMNS,
            &[
                "每行一家企业，第一行是表头；表头可用“也认的表头”中的写法，全角字符和多余空格会被忽略。",
                "已在台账中的企业（同一统一社会信用代码）按表中的值更新；留空的单元格保留原值。",
                COMMON,
                "等级证书和事故按证书台账、事故台账另行导入。",
            ],
        ),
        ImportKind::Certificates => (
            "证书台账",
            CERTIFICATE_COLUMNS,
            &[
                "每行一张证书，第一行是表头；持证企业须先在企业台账中。",
                "已登记的证书（同一编号、同一企业、等级和发证日期）视为无变化；已登记的证书不会被修改。",
                COMMON,
            ],
        ),
        ImportKind::Accidents => (
            "事故台账",
            ACCIDENT_COLUMNS,
            &[
                "每行一起事故，第一行是表头；企业须先在企业台账中。",
                "同一企业、同一天、同一类别、伤亡人数相同的事故视为同一起，已登记的不再登记。",
                COMMON,
            ],
        ),
    }
}

/// The template of `kind`: the headers its import reads (required ones in red), dropdowns
/// for the closed lists drawn from a sheet of codes, and a sheet of notes.
pub fn template(kind: ImportKind) -> Result<Vec<u8>, rust_xlsxwriter::XlsxError> {
    use rust_xlsxwriter::{DataValidation, Format, Formula, Workbook};
    let (sheet, columns, lines) = template_of(kind);
    let mut book = Workbook::new();
    let bold = Format::new().set_bold();
    let required = Format::new().set_bold().set_font_color("#C00000");
    let wrap = Format::new().set_text_wrap();
    let codes_name = "代码表";
    let lists: Vec<(Column, (&str, Vec<&str>))> = columns
        .iter()
        .filter_map(|(c, _, _)| template_list(*c).map(|l| (*c, l)))
        .collect();

    let ledger = book.add_worksheet();
    ledger.set_name(sheet)?;
    for (c, (column, must, _)) in columns.iter().enumerate() {
        let c = u16::try_from(c).unwrap_or(u16::MAX);
        let style = if *must { &required } else { &bold };
        ledger.write_string_with_format(0, c, column.label_zh(), style)?;
        ledger.set_column_width(c, 20)?;
        if let Some(l) = lists.iter().position(|(lc, _)| lc == column) {
            let letter = char::from(b'A' + u8::try_from(l).unwrap_or(0));
            let n = lists[l].1.1.len() + 1;
            let dv = DataValidation::new()
                .allow_list_formula(Formula::new(format!(
                    "='{codes_name}'!${letter}$2:${letter}${n}"
                )))
                .set_error_title("取值不在列表中")?
                .set_error_message("请从下拉列表中选择")?;
            ledger.add_data_validation(1, c, TEMPLATE_ROWS, c, &dv)?;
        }
    }
    ledger.set_freeze_panes(1, 0)?;

    let codes = book.add_worksheet();
    codes.set_name(codes_name)?;
    let mut reference = lists.iter().map(|(_, l)| l.clone()).collect::<Vec<_>>();
    if kind == ImportKind::Enterprises {
        // The sectors, for reference: the industry code decides an enterprise's.
        reference.push((
            "监管行业（由行业代码确定）",
            safegrade_domain::Sector::ALL
                .iter()
                .map(CodeList::label_zh)
                .collect(),
        ));
    }
    for (c, (title, values)) in reference.iter().enumerate() {
        let c = u16::try_from(c).unwrap_or(u16::MAX);
        codes.write_string_with_format(0, c, *title, &bold)?;
        codes.set_column_width(c, 24)?;
        for (r, v) in values.iter().enumerate() {
            codes.write_string(u32::try_from(r + 1).unwrap_or(u32::MAX), c, *v)?;
        }
    }

    let notes = book.add_worksheet();
    notes.set_name("填表说明")?;
    for (c, w) in [22, 8, 50, 50].into_iter().enumerate() {
        notes.set_column_width(u16::try_from(c).unwrap_or(0), w)?;
    }
    for (c, h) in ["列", "必填", "怎么填", "也认的表头"].iter().enumerate() {
        notes.write_string_with_format(0, u16::try_from(c).unwrap_or(0), *h, &bold)?;
    }
    for (r, (column, must, how)) in columns.iter().enumerate() {
        let r = u32::try_from(r + 1).unwrap_or(u32::MAX);
        let synonyms = safegrade_domain::ledger::sheet::SYNONYMS
            .iter()
            .find(|(c, _)| c == column)
            .map(|(_, s)| s.join("、"))
            .unwrap_or_default();
        notes.write_string(r, 0, column.label_zh())?;
        notes.write_string(r, 1, if *must { "是" } else { "" })?;
        notes.write_string_with_format(r, 2, *how, &wrap)?;
        notes.write_string_with_format(r, 3, &synonyms, &wrap)?;
    }
    let last = u32::try_from(columns.len() + 2).unwrap_or(u32::MAX);
    for (i, line) in lines.iter().enumerate() {
        notes.write_string(last + u32::try_from(i).unwrap_or(0), 0, *line)?;
    }
    book.save_to_buffer()
}

/// An import template (导入模板): `enterprises.xlsx` (企业台账), `certificates.xlsx` (证书台账)
/// or `accidents.xlsx` (事故台账). The headers the import reads (required ones in red),
/// dropdowns for the closed lists (areas, scales, mine kinds; grades; accident kinds) from
/// the reference lists, a sheet of codes, and a sheet of notes with the accepted synonyms.
#[utoipa::path(
    tag = "imports",
    operation_id = "get_import_template",
    params(("kind" = crate::plumbing::codes::ImportKind, Path, description = "What the file holds")),
    responses(
        (status = 200, description = "The template", content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", body = crate::plumbing::export::FileBody),
    )
)]
#[get("/imports/templates/{kind}.xlsx")]
pub async fn get_import_template(
    _caller: Caller,
    kind: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let kind = ImportKind::from_code(&kind).ok_or_else(|| {
        ApiError::new(
            ErrorCode::InvalidPath,
            format!(
                "there is a template for {}, not '{kind}'",
                ImportKind::codes().join(", ")
            ),
        )
    })?;
    let bytes = template(kind).map_err(|e| ApiError::internal(e.to_string()))?;
    let name = format!("{}导入模板.xlsx", template_of(kind).0);
    Ok(HttpResponse::Ok()
        .content_type("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
        .insert_header((
            header::CONTENT_DISPOSITION,
            format!(
                "attachment; filename=\"{}.xlsx\"; filename*=UTF-8''{}",
                kind.as_str(),
                url::form_urlencoded::byte_serialize(name.as_bytes()).collect::<String>()
            ),
        ))
        .body(bytes))
}

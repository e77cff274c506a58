//! Exports (导出): a list's records as a spreadsheet a regulator opens (Excel `.xlsx`) or a
//! system reads (CSV in UTF-8 with a byte-order mark, so spreadsheet programs show the
//! Chinese), with Chinese headers and labels.
//!
//! The rows are read from the store a page at a time on a blocking thread and never held
//! whole: CSV is sent as it is written; Excel is written with rust_xlsxwriter's
//! constant-memory worksheet to a temporary file (a workbook is a zip file, finished at the
//! end) and then sent from it in chunks.

use std::io::{Read, Seek, SeekFrom};

use actix_web::HttpResponse;
use actix_web::http::header;
use actix_web::web::Bytes;
use chrono::NaiveDate;
use safegrade_store::Store;

use crate::plumbing::app::AppState;
use crate::plumbing::error::{ApiError, ErrorCode};

/// A file in a response (an Excel workbook): in the spec, `type: string, format: binary`.
pub struct FileBody;

impl utoipa::PartialSchema for FileBody {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        utoipa::openapi::schema::ObjectBuilder::new()
            .schema_type(utoipa::openapi::schema::Type::String)
            .format(Some(utoipa::openapi::SchemaFormat::KnownFormat(
                utoipa::openapi::KnownFormat::Binary,
            )))
            .into()
    }
}

impl utoipa::ToSchema for FileBody {}

/// The file type of an export.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// CSV, UTF-8 with a byte-order mark.
    Csv,
    /// Excel 2007+.
    Xlsx,
}

impl Format {
    /// From the path's extension (`csv`, `xlsx`).
    pub fn parse(ext: &str) -> Result<Self, ApiError> {
        match ext {
            "csv" => Ok(Self::Csv),
            "xlsx" => Ok(Self::Xlsx),
            other => Err(ApiError::new(
                ErrorCode::InvalidPath,
                format!("an export is .csv or .xlsx, not .{other}"),
            )),
        }
    }

    fn content_type(self) -> &'static str {
        match self {
            Self::Csv => "text/csv; charset=utf-8",
            Self::Xlsx => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        }
    }

    fn ext(self) -> &'static str {
        match self {
            Self::Csv => "csv",
            Self::Xlsx => "xlsx",
        }
    }
}

/// One cell.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    /// Text (codes, names, labels).
    Text(String),
    /// A whole number.
    Int(i64),
    /// A number.
    Number(f64),
    /// A date (an Excel date cell).
    Date(NaiveDate),
    /// Nothing.
    Empty,
}

impl From<String> for Cell {
    fn from(s: String) -> Self {
        Self::Text(s)
    }
}

impl From<&str> for Cell {
    fn from(s: &str) -> Self {
        Self::Text(s.to_owned())
    }
}

impl<T: Into<Cell>> From<Option<T>> for Cell {
    fn from(v: Option<T>) -> Self {
        v.map_or(Self::Empty, Into::into)
    }
}

impl From<i64> for Cell {
    fn from(n: i64) -> Self {
        Self::Int(n)
    }
}

impl From<i32> for Cell {
    fn from(n: i32) -> Self {
        Self::Int(i64::from(n))
    }
}

impl From<f64> for Cell {
    fn from(n: f64) -> Self {
        Self::Number(n)
    }
}

impl From<NaiveDate> for Cell {
    fn from(d: NaiveDate) -> Self {
        Self::Date(d)
    }
}

impl Cell {
    fn text(&self) -> String {
        match self {
            Self::Text(s) => s.clone(),
            Self::Int(n) => n.to_string(),
            Self::Number(n) => n.to_string(),
            Self::Date(d) => d.to_string(),
            Self::Empty => String::new(),
        }
    }
}

/// Reads the next page of rows (`None` when done); called on a blocking thread.
pub type Pages = Box<dyn FnMut(&Store) -> Result<Option<Vec<Vec<Cell>>>, ApiError> + Send>;

/// The pages of a list read by cursor: `next` reads the page after a position (`None`: the
/// first) and gives its rows and the position to go on from (`None`: it was the last).
pub fn paged<C: Send + 'static>(
    mut next: impl FnMut(&Store, Option<C>) -> Result<(Vec<Vec<Cell>>, Option<C>), ApiError>
    + Send
    + 'static,
) -> Pages {
    let mut after: Option<C> = None;
    let mut done = false;
    Box::new(move |store| {
        if done {
            return Ok(None);
        }
        let (rows, more) = next(store, after.take())?;
        done = more.is_none();
        after = more;
        Ok(Some(rows))
    })
}

/// What is exported: the sheet's name (and the file's), its headers, and its rows.
pub struct Sheet {
    /// The worksheet's name and the file name's stem (`企业台账`).
    pub name: &'static str,
    /// Column headers, in Chinese.
    pub headers: &'static [&'static str],
    /// The rows, page by page.
    pub pages: Pages,
}

/// Bytes sent per chunk.
const CHUNK: usize = 64 * 1024;

/// The response streaming `sheet` as `format`, named `{name}-{today}.{ext}`.
pub fn respond(state: &AppState, format: Format, sheet: Sheet) -> HttpResponse {
    let file = format!("{}-{}.{}", sheet.name, state.today(), format.ext());
    stream(
        state,
        format.content_type(),
        format.ext(),
        &file,
        move |store, tx| match format {
            Format::Csv => csv(store, sheet, tx),
            Format::Xlsx => xlsx(store, sheet, tx),
        },
    )
}

/// The response streaming what `write` sends, as an attachment named `file` (an ASCII
/// fallback `export.{ext}` for old clients). `write` runs on a thread of its own and sends
/// its chunks as it goes; if it fails part-way, the body is cut short (the status line has
/// gone).
pub fn stream(
    state: &AppState,
    content_type: &'static str,
    ext: &str,
    file: &str,
    write: impl FnOnce(&Store, &Sender) -> Result<(), String> + Send + 'static,
) -> HttpResponse {
    let (tx, rx) = tokio::sync::mpsc::channel::<Result<Bytes, std::io::Error>>(8);
    let store = state.store.clone();
    let span = tracing::Span::current();
    std::thread::spawn(move || {
        let _in = span.enter();
        if let Err(e) = write(&store, &tx) {
            tracing::error!(error = %e, "an export failed part-way");
            let _ = tx.blocking_send(Err(std::io::Error::other(e)));
        }
    });
    let body = futures_util::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|chunk| (chunk, rx))
    });
    HttpResponse::Ok()
        .content_type(content_type)
        .insert_header((
            header::CONTENT_DISPOSITION,
            format!(
                "attachment; filename=\"export.{ext}\"; filename*=UTF-8''{}",
                url::form_urlencoded::byte_serialize(file.as_bytes()).collect::<String>()
            ),
        ))
        .streaming(body)
}

/// Where a streamed export sends its chunks.
pub type Sender = tokio::sync::mpsc::Sender<Result<Bytes, std::io::Error>>;

/// Sends one chunk; fails once the client went away.
pub fn send(tx: &Sender, bytes: Vec<u8>) -> Result<(), String> {
    tx.blocking_send(Ok(Bytes::from(bytes)))
        .map_err(|_| "the client went away".to_owned())
}

fn csv(store: &Store, mut sheet: Sheet, tx: &Sender) -> Result<(), String> {
    let writer = |start: Vec<u8>| {
        csv::WriterBuilder::new()
            .terminator(csv::Terminator::CRLF)
            .from_writer(start)
    };
    let mut head = writer(b"\xEF\xBB\xBF".to_vec());
    head.write_record(sheet.headers)
        .map_err(|e| e.to_string())?;
    send(tx, head.into_inner().map_err(|e| e.to_string())?)?;
    while let Some(rows) = (sheet.pages)(store).map_err(|e| e.detail.clone())? {
        let mut w = writer(Vec::new());
        for row in rows {
            w.write_record(row.iter().map(Cell::text))
                .map_err(|e| e.to_string())?;
        }
        send(tx, w.into_inner().map_err(|e| e.to_string())?)?;
    }
    Ok(())
}

fn xlsx(store: &Store, mut sheet: Sheet, tx: &Sender) -> Result<(), String> {
    use rust_xlsxwriter::{Format as Style, Workbook};
    let e = |e: rust_xlsxwriter::XlsxError| e.to_string();
    let mut book = Workbook::new();
    let bold = Style::new().set_bold();
    let date = Style::new().set_num_format("yyyy-mm-dd");
    let ws = book.add_worksheet_with_constant_memory();
    ws.set_name(sheet.name).map_err(e)?;
    for (c, h) in sheet.headers.iter().enumerate() {
        let c = u16::try_from(c).map_err(|x| x.to_string())?;
        ws.write_string_with_format(0, c, *h, &bold).map_err(e)?;
        ws.set_column_width(c, 16).map_err(e)?;
    }
    ws.set_freeze_panes(1, 0).map_err(e)?;
    let mut r: u32 = 0;
    while let Some(rows) = (sheet.pages)(store).map_err(|e| e.detail.clone())? {
        for row in rows {
            r += 1;
            for (c, cell) in row.iter().enumerate() {
                let c = u16::try_from(c).map_err(|x| x.to_string())?;
                match cell {
                    Cell::Text(s) => ws.write_string(r, c, s).map(|_| ()),
                    &Cell::Int(n) => {
                        #[expect(clippy::cast_precision_loss, reason = "counts and headcounts")]
                        let n = n as f64;
                        ws.write_number(r, c, n).map(|_| ())
                    }
                    Cell::Number(n) => ws.write_number(r, c, *n).map(|_| ()),
                    Cell::Date(d) => {
                        let dt = rust_xlsxwriter::ExcelDateTime::parse_from_str(&d.to_string())
                            .map_err(e)?;
                        ws.write_datetime_with_format(r, c, &dt, &date).map(|_| ())
                    }
                    Cell::Empty => Ok(()),
                }
                .map_err(e)?;
            }
        }
    }
    let mut file = tempfile::tempfile().map_err(|x| x.to_string())?;
    book.save_to_writer(&mut file).map_err(e)?;
    file.seek(SeekFrom::Start(0)).map_err(|x| x.to_string())?;
    let mut buf = vec![0; CHUNK];
    loop {
        let n = file.read(&mut buf).map_err(|x| x.to_string())?;
        if n == 0 {
            return Ok(());
        }
        send(tx, buf[..n].to_vec())?;
    }
}

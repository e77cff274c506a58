//! Reading a survey ledger file (Excel, or CSV in UTF-8 with or without a byte-order mark)
//! into the enterprises it describes: the header row mapped through the synonym table
//! (`domain::ledger::sheet`), each row read as the API reads a body, every problem reported
//! with its row number, column header and the API's error code.

use safegrade_domain::ledger::sheet::{
    CellProblem, Column, HeaderMap, HeaderProblem, map_headers, problems_at, row_input,
};
use safegrade_store::grading::import::RecordRow;

/// Reads one row of a sheet as a record's cells (`domain::ledger::sheet::certificate_cells`,
/// `accident_cells`).
pub type ReadRecord<C> = fn(&HeaderMap, &[String], usize, &[String]) -> (C, Vec<CellProblem>);
use safegrade_store::ledger::import::{LedgerRow, Planned, Refused};

/// A ledger file read: every row with the cells that could be read, the problems of the
/// others, and the headers that name no column (listed, not dropped silently). Whether a row makes a
/// valid enterprise is judged by the import's plan, over what is known of the enterprise;
/// [`LedgerFile::problems_of`] puts its refusals at the file's headers.
#[derive(Debug)]
pub struct LedgerFile {
    /// Every row, with the cells that could be read.
    pub rows: Vec<LedgerRow>,
    /// Problems of the cells, by row.
    pub problems: Vec<CellProblem>,
    /// Headers no column is read from, with their positions (0-based).
    pub unmapped: Vec<(usize, String)>,
    /// Data rows read.
    pub total: usize,
    /// The cells of each row read (row number, cells), for the kinds of import that read
    /// other columns than the enterprise's.
    pub cells: Vec<(usize, Vec<String>)>,
    headers: Vec<String>,
    map: HeaderMap,
}

impl LedgerFile {
    /// Every problem of a planned row: its cells', then its refusal at the file's headers (a
    /// cell already reported, like an unknown area, is not reported again as missing).
    pub fn problems_of(&self, p: &Planned) -> Vec<CellProblem> {
        self.problems_at(&self.problems, p.row, &p.outcome)
    }

    /// The problems of row `row`: those of `cells` (the problems of the cells as one kind of
    /// import reads them, in row order), then the refusal of its plan at the file's headers.
    pub fn problems_at<T>(
        &self,
        cells: &[CellProblem],
        row: usize,
        outcome: &Result<T, Refused>,
    ) -> Vec<CellProblem> {
        // Cell problems come in row order (the file is read row by row).
        let from = cells.partition_point(|c| c.row < row);
        let mut out: Vec<CellProblem> = cells[from..]
            .iter()
            .take_while(|c| c.row == row)
            .cloned()
            .collect();
        let refused = match outcome {
            Ok(_) => Vec::new(),
            Err(Refused::Fields(v)) => problems_at(&self.map, &self.headers, row, v.clone()),
            Err(Refused::Row(why)) => vec![CellProblem {
                row,
                header: String::new(),
                code: safegrade_domain::ViolationCode::InvalidValue,
                message: why.clone(),
            }],
        };
        for r in refused {
            if out
                .iter()
                .all(|c| c.header != r.header || r.header.is_empty())
            {
                out.push(r);
            }
        }
        out
    }

    /// The records of the rows as `read` reads a row (certificates, accidents), and the
    /// problems of their cells.
    pub fn record_rows<C>(&self, read: ReadRecord<C>) -> (Vec<RecordRow<C>>, Vec<CellProblem>) {
        let mut rows = Vec::with_capacity(self.cells.len());
        let mut problems = Vec::new();
        for (row, cells) in &self.cells {
            let (c, p) = read(&self.map, &self.headers, *row, cells);
            rows.push(RecordRow {
                row: *row,
                cells: c,
            });
            problems.extend(p);
        }
        (rows, problems)
    }

    /// The rows that can be imported as planned: no problem in their cells and a plan
    /// without refusal.
    pub fn importable(&self, planned: &[Planned]) -> Vec<LedgerRow> {
        importable(
            &self.rows,
            |r| r.row,
            &self.problems,
            planned.iter().map(|p| &p.outcome),
        )
    }
}

/// The rows that can be imported: those whose plan (`outcomes`, in the order of `rows`) has
/// no refusal and whose cells have no problem.
pub fn importable<'a, R: Clone, T: 'a>(
    rows: &[R],
    row_of: impl Fn(&R) -> usize,
    cells: &[CellProblem],
    outcomes: impl Iterator<Item = &'a Result<T, Refused>>,
) -> Vec<R> {
    let bad: std::collections::BTreeSet<usize> = cells.iter().map(|c| c.row).collect();
    rows.iter()
        .zip(outcomes)
        .filter(|(r, o)| o.is_ok() && !bad.contains(&row_of(r)))
        .map(|(r, _)| r.clone())
        .collect()
}

/// Why a file cannot be read at all.
#[derive(Debug, thiserror::Error)]
pub enum FileProblem {
    /// Not CSV (or not UTF-8).
    #[error("文件无法按 CSV（UTF-8）读取：{0}")]
    Csv(String),
    /// Not a workbook calamine can read, or no such sheet.
    #[error("Excel 文件无法读取：{0}")]
    Workbook(String),
    /// The header row does not map.
    #[error("表头无法识别：{}", .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("；"))]
    Headers(Vec<HeaderProblem>),
}

/// Reads a CSV ledger; `explicit` maps headers the synonym table does not know.
pub fn read_csv(bytes: &[u8], explicit: &[(String, Column)]) -> Result<LedgerFile, FileProblem> {
    let bytes = bytes.strip_prefix("\u{feff}".as_bytes()).unwrap_or(bytes);
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(true)
        .from_reader(bytes);
    let headers: Vec<String> = reader
        .headers()
        .map_err(|e| FileProblem::Csv(e.to_string()))?
        .iter()
        .map(str::to_owned)
        .collect();
    let rows = reader.into_records().map(|r| {
        r.map(|record| record.iter().map(str::to_owned).collect())
            .map_err(|e| FileProblem::Csv(e.to_string()))
    });
    read_rows(headers, rows, explicit)
}

/// Reads an Excel ledger (`.xlsx`, `.xls`, `.ods`): the sheet named `sheet`, or the first.
/// Numbers are read as written (a whole number without `.0`), dates as Excel serial numbers,
/// which the date columns accept.
pub fn read_workbook(
    bytes: Vec<u8>,
    sheet: Option<&str>,
    explicit: &[(String, Column)],
) -> Result<LedgerFile, FileProblem> {
    use calamine::{Data, Reader};
    let bad = |e: &dyn std::fmt::Display| FileProblem::Workbook(e.to_string());
    let mut book =
        calamine::open_workbook_auto_from_rs(std::io::Cursor::new(bytes)).map_err(|e| bad(&e))?;
    let name = match sheet {
        Some(s) => s.to_owned(),
        None => book
            .sheet_names()
            .first()
            .cloned()
            .ok_or_else(|| bad(&"没有工作表"))?,
    };
    let range = book.worksheet_range(&name).map_err(|e| bad(&e))?;
    let text = |c: &Data| match c {
        Data::Empty => String::new(),
        Data::String(s) | Data::DateTimeIso(s) | Data::DurationIso(s) => s.clone(),
        Data::Float(f) if f.fract() == 0.0 && f.abs() < 1e15 => format!("{}", *f as i64),
        Data::Float(f) => f.to_string(),
        Data::Int(i) => i.to_string(),
        Data::Bool(b) => b.to_string(),
        Data::DateTime(d) => d.as_f64().to_string(),
        Data::Error(e) => format!("#{e:?}"),
    };
    let mut rows = range.rows();
    let headers: Vec<String> = rows
        .next()
        .map(|r| r.iter().map(text).collect())
        .unwrap_or_default();
    let rows: Vec<Result<Vec<String>, FileProblem>> =
        rows.map(|r| Ok(r.iter().map(text).collect())).collect();
    read_rows(headers, rows.into_iter(), explicit)
}

/// Reads the rows under a header row.
fn read_rows(
    headers: Vec<String>,
    rows: impl Iterator<Item = Result<Vec<String>, FileProblem>>,
    explicit: &[(String, Column)],
) -> Result<LedgerFile, FileProblem> {
    let map: HeaderMap = map_headers(&headers, explicit).map_err(FileProblem::Headers)?;
    let mut file = LedgerFile {
        rows: Vec::new(),
        problems: Vec::new(),
        unmapped: map.unmapped.clone(),
        total: 0,
        cells: Vec::new(),
        headers: headers.clone(),
        map: map.clone(),
    };
    for (i, cells) in rows.enumerate() {
        let row = i + 2;
        let cells = cells?;
        if cells.iter().all(|c| c.trim().is_empty()) {
            continue;
        }
        file.total += 1;
        let (input, problems) = row_input(&map, &headers, row, &cells);
        file.rows.push(LedgerRow { row, input });
        file.problems.extend(problems);
        file.cells.push((row, cells));
    }
    Ok(file)
}

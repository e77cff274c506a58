//! Reading a survey ledger file (CSV, UTF-8 with or without a byte-order mark) into the
//! enterprises it describes: the header row mapped through the synonym table
//! (`domain::ledger::sheet`), each row read as the API reads a body, every problem reported
//! with its row number, column header and the API's error code.

use safegrade_domain::SectorMapping;
use safegrade_domain::ledger::sheet::{
    CellProblem, Column, HeaderMap, HeaderProblem, map_headers, problems_at, row_input,
};
use safegrade_store::ledger::import::LedgerRow;

/// A ledger file read: the valid rows, the problems of the others, and the headers that name
/// no column (listed, not dropped silently).
#[derive(Debug, Default)]
pub struct LedgerFile {
    /// The rows that can be imported.
    pub rows: Vec<LedgerRow>,
    /// Problems, by row.
    pub problems: Vec<CellProblem>,
    /// Headers no column is read from, with their positions (0-based).
    pub unmapped: Vec<(usize, String)>,
    /// Data rows read.
    pub total: usize,
}

/// Why a file cannot be read at all.
#[derive(Debug, thiserror::Error)]
pub enum FileProblem {
    /// Not CSV (or not UTF-8).
    #[error("文件无法按 CSV（UTF-8）读取：{0}")]
    Csv(String),
    /// The header row does not map.
    #[error("表头无法识别：{}", .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("；"))]
    Headers(Vec<HeaderProblem>),
}

/// Reads a CSV ledger; `explicit` maps headers the synonym table does not know.
pub fn read_csv(
    bytes: &[u8],
    explicit: &[(String, Column)],
    mapping: &SectorMapping,
) -> Result<LedgerFile, FileProblem> {
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
    let map: HeaderMap = map_headers(&headers, explicit).map_err(FileProblem::Headers)?;
    let mut file = LedgerFile {
        unmapped: map.unmapped.clone(),
        ..LedgerFile::default()
    };
    for (i, record) in reader.records().enumerate() {
        let row = i + 2;
        let record = record.map_err(|e| FileProblem::Csv(e.to_string()))?;
        let cells: Vec<String> = record.iter().map(str::to_owned).collect();
        if cells.iter().all(|c| c.trim().is_empty()) {
            continue;
        }
        file.total += 1;
        let (input, mut problems) = row_input(&map, &headers, row, &cells);
        match input.validate(mapping) {
            Ok(data) if problems.is_empty() => file.rows.push(LedgerRow { row, data }),
            Ok(_) => {}
            // A cell already reported (an unknown area) is not reported again as missing.
            Err(v) => {
                let more: Vec<CellProblem> = problems_at(&map, &headers, row, v)
                    .into_iter()
                    .filter(|p| problems.iter().all(|q| q.header != p.header))
                    .collect();
                problems.extend(more);
            }
        }
        file.problems.extend(problems);
    }
    Ok(file)
}

/// A problem as one line of a report: `第 3 行「统一社会信用代码」：… (invalid_credit_code)`.
pub fn problem_line(p: &CellProblem) -> String {
    let code = p.code;
    let at = if p.header.is_empty() {
        String::new()
    } else {
        format!("「{}」", p.header)
    };
    format!(
        "第 {} 行{at}：{}（{}）",
        p.row,
        p.message,
        safegrade_domain::CodeList::as_str(&code)
    )
}

//! Chinese search for the built site.
//!
//! mdBook's search index (elasticlunr) splits text on spaces and keeps only ASCII letters and
//! digits, so a Chinese page yields no words at all and 复评 or 撤销 find nothing. After
//! mdBook has built the site, [`index_chinese`] rebuilds the index from the documents mdBook
//! stored in it, with a tokenizer that cuts every run of Han characters into overlapping
//! pairs (复评申请 → 复评, 评申, 申请), the usual way to index Chinese without a dictionary,
//! and keeps other words as mdBook does (lower case, English stemming).
//!
//! The browser must cut a query the same way: `search-zh.js` does it, and is put at the head
//! of the index script so it runs before the index is loaded (the index is loaded only when
//! the reader opens the search bar).

use std::path::{Path, PathBuf};

use anyhow::Context as _;
use elasticlunr::lang::{English, Language};
use elasticlunr::pipeline::{FnWrapper, Pipeline};
use elasticlunr::{Index, IndexBuilder};
use serde_json::Value;

/// The browser half of the tokenizer; kept beside this file so the two are read together.
const QUERY_TOKENIZER_JS: &str = include_str!("search-zh.js");

/// The fields mdBook indexes, in its order.
const FIELDS: [&str; 3] = ["title", "body", "breadcrumbs"];

/// What mdBook writes around the index JSON in `searchindex-<hash>.js`.
const PREFIX: &str = "window.search = Object.assign(window.search, JSON.parse('";
const SUFFIX: &str = "'));";

/// Whether `c` is a Han character (CJK unified ideographs, extension A, compatibility).
fn is_han(c: char) -> bool {
    matches!(c, '\u{3400}'..='\u{4DBF}' | '\u{4E00}'..='\u{9FFF}' | '\u{F900}'..='\u{FAFF}')
}

/// Splits text into index terms: whitespace and hyphens separate words; inside a word, every
/// run of Han characters becomes its overlapping pairs (a single character stays itself) and
/// every other run stays whole. The pipeline then trims punctuation and stems English.
pub fn tokenize(text: &str) -> Vec<String> {
    let mut tokens = Vec::new();
    for word in text.split(|c: char| c.is_whitespace() || c == '-') {
        let word = word.to_lowercase();
        let chars: Vec<char> = word.chars().collect();
        let mut start = 0;
        while start < chars.len() {
            let han = is_han(chars[start]);
            let end = chars[start..]
                .iter()
                .position(|&c| is_han(c) != han)
                .map_or(chars.len(), |n| start + n);
            let run = &chars[start..end];
            if !han {
                tokens.push(run.iter().collect());
            } else if run.len() == 1 {
                tokens.push(run[0].to_string());
            } else {
                tokens.extend(run.windows(2).map(|pair| pair.iter().collect::<String>()));
            }
            start = end;
        }
    }
    tokens
}

/// Trims what is not a letter, digit or underscore from both ends (mdBook's trimmer keeps
/// only ASCII, which drops every Chinese term). Named `trimmer` so the browser's copy applies.
fn trimmer(token: String) -> Option<String> {
    let trimmed = token.trim_matches(|c: char| !c.is_alphanumeric() && c != '_');
    (!trimmed.is_empty()).then(|| trimmed.to_string())
}

/// English's pipeline (stop words, stemmer) with the Unicode trimmer in front.
struct Chinese(English);

impl Language for Chinese {
    fn name(&self) -> String {
        self.0.name()
    }
    fn code(&self) -> String {
        self.0.code()
    }
    fn tokenize(&self, text: &str) -> Vec<String> {
        tokenize(text)
    }
    fn make_pipeline(&self) -> Pipeline {
        let mut pipeline = self.0.make_pipeline();
        if let Some(first) = pipeline.queue.first_mut() {
            *first = Box::new(FnWrapper("trimmer".into(), trimmer));
        }
        pipeline
    }
}

/// The index script of a built site (`searchindex-<hash>.js`), if search is on.
fn index_script(site: &Path) -> anyhow::Result<Option<PathBuf>> {
    for entry in std::fs::read_dir(site)? {
        let path = entry?.path();
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
        if name.starts_with("searchindex") && name.ends_with(".js") {
            return Ok(Some(path));
        }
    }
    Ok(None)
}

/// Rebuilds the search index of the site built in `site` so that Chinese words are found.
pub fn index_chinese(site: &Path) -> anyhow::Result<()> {
    let Some(script) = index_script(site)? else {
        return Ok(());
    };
    let text = std::fs::read_to_string(&script)?;
    let quoted = text
        .strip_prefix(PREFIX)
        .and_then(|rest| rest.strip_suffix(SUFFIX))
        .context("the search index script is not in the form mdBook writes")?;
    // mdBook escapes `\` and `'` to put the JSON inside a single-quoted string.
    let json = unquote(quoted);
    let mut search: Value = serde_json::from_str(&json).context("reading the search index")?;
    let docs = search
        .pointer("/index/documentStore/docs")
        .and_then(Value::as_object)
        .context("the search index stores no documents")?;

    let mut index: Index = IndexBuilder::with_language(Box::new(Chinese(English::new())))
        .add_fields(FIELDS)
        .build();
    let mut refs: Vec<(&String, &Value)> = docs.iter().collect();
    refs.sort_by_key(|(r, _)| r.parse::<u64>().unwrap_or(u64::MAX));
    for (doc_ref, doc) in refs {
        let fields = FIELDS.map(|f| doc.get(f).and_then(Value::as_str).unwrap_or(""));
        index.add_doc(doc_ref, fields);
    }
    search["index"] = serde_json::to_value(&index)?;

    let json = serde_json::to_string(&search)?;
    let quoted = json.replace('\\', "\\\\").replace('\'', "\\'");
    std::fs::write(
        &script,
        format!("{QUERY_TOKENIZER_JS}\n{PREFIX}{quoted}{SUFFIX}"),
    )?;
    Ok(())
}

/// Undoes mdBook's escaping of the index JSON (`\\` → `\`, `\'` → `'`).
fn unquote(quoted: &str) -> String {
    let mut out = String::with_capacity(quoted.len());
    let mut chars = quoted.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            if let Some(next) = chars.next() {
                out.push(next);
            }
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn han_runs_become_pairs_and_other_words_stay_whole() {
        assert_eq!(
            tokenize("复评申请 API-reference 撤（销"),
            ["复评", "评申", "申请", "api", "reference", "撤", "（", "销"]
        );
        assert_eq!(
            tokenize("GB/T 33000—2016规定"),
            ["gb/t", "33000—2016", "规定"]
        );
    }

    #[test]
    fn the_trimmer_keeps_chinese_and_drops_punctuation() {
        assert_eq!(trimmer("复评".into()), Some("复评".into()));
        assert_eq!(trimmer("（".into()), None);
        assert_eq!(trimmer("\"api,".into()), Some("api".into()));
    }

    #[test]
    fn unquote_reverses_mdbooks_escaping() {
        let json = r#"{"a":"it's \"x\" \\ y"}"#;
        let quoted = json.replace('\\', "\\\\").replace('\'', "\\'");
        assert_eq!(unquote(&quoted), json);
    }
}

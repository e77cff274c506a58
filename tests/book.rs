//! Builds the book with the real mdBook (in process, through `mdbook-driver`) and fails on
//! any mdBook warning or error, on a leftover `{{#` directive, on a broken local link or
//! anchor, and when the generated API reference differs from the spec.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use tracing::Subscriber;
use tracing_subscriber::Layer;
use tracing_subscriber::layer::{Context, SubscriberExt};

const BOOK: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/book");

/// Records every WARN and ERROR event.
#[derive(Clone, Default)]
struct Complaints(Arc<Mutex<Vec<String>>>);

struct Message(String);

impl tracing::field::Visit for Message {
    fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn std::fmt::Debug) {
        self.0.push_str(&format!(" {}={value:?}", field.name()));
    }
}

impl<S: Subscriber> Layer<S> for Complaints {
    fn on_event(&self, event: &tracing::Event<'_>, _ctx: Context<'_, S>) {
        if *event.metadata().level() <= tracing::Level::WARN {
            let mut m = Message(format!(
                "{} {}:",
                event.metadata().level(),
                event.metadata().target()
            ));
            event.record(&mut m);
            self.0.lock().unwrap_or_else(|e| e.into_inner()).push(m.0);
        }
    }
}

fn html_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let p = entry.path();
        if p.is_dir() {
            html_files(&p, out);
        } else if p.extension().is_some_and(|e| e == "html") {
            out.push(p);
        }
    }
}

/// The values of `attr="…"` in `html`.
fn attributes<'a>(html: &'a str, attr: &str) -> Vec<&'a str> {
    let needle = format!("{attr}=\"");
    html.match_indices(&needle)
        .filter_map(|(i, _)| {
            let rest = &html[i + needle.len()..];
            rest.find('"').map(|end| &rest[..end])
        })
        .collect()
}

#[test]
fn book_builds_clean_with_working_links() {
    // `SAFEGRADE_BOOK_OUT=dir` keeps the built site there, to look at it in a browser.
    let kept = std::env::var_os("SAFEGRADE_BOOK_OUT").map(std::path::PathBuf::from);
    let out = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let out_dir = kept.clone().unwrap_or_else(|| out.path().to_path_buf());
    let complaints = Complaints::default();
    let subscriber = tracing_subscriber::registry().with(complaints.clone());
    let result = tracing::subscriber::with_default(subscriber, || {
        // The same build as `safegrade book build` and the server's /book/.
        safegrade_site::build(&out_dir).map_err(|e| format!("{e:#}"))
    });
    let toml = std::fs::read_to_string(format!("{BOOK}/book.toml")).unwrap_or_default();
    assert!(
        toml.contains("create-missing = false"),
        "book.toml must set create-missing = false"
    );
    assert_eq!(result, Ok(()), "mdBook failed");
    let complaints = complaints
        .0
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .clone();
    assert!(
        complaints.is_empty(),
        "mdBook warned:\n{}",
        complaints.join("\n")
    );

    let mut files = Vec::new();
    html_files(&out_dir, &mut files);
    assert!(files.len() > 10, "only {} pages built", files.len());
    let pages: HashMap<PathBuf, String> = files
        .iter()
        .map(|f| (f.clone(), std::fs::read_to_string(f).unwrap_or_default()))
        .collect();
    let ids: HashMap<&PathBuf, HashSet<&str>> = pages
        .iter()
        .map(|(p, html)| (p, attributes(html, "id").into_iter().collect()))
        .collect();
    let mut broken = Vec::new();
    let mut anchors_checked = 0;
    for (page, html) in &pages {
        if html.contains("{{#") {
            broken.push(format!("{}: leftover {{{{# directive", page.display()));
        }
        for href in attributes(html, "href") {
            if href.contains("://")
                || href.starts_with("mailto:")
                || href.starts_with("javascript:")
            {
                continue;
            }
            let (file, anchor) = href
                .split_once('#')
                .map_or((href, None), |(f, a)| (f, Some(a)));
            let target = match file {
                "" => page.clone(),
                f if f.starts_with('/') => out_dir.join(f.trim_start_matches('/')),
                f => page.parent().unwrap_or(&out_dir).join(f),
            };
            let target = normalise(&target);
            let exists = target.is_file() || target.join("index.html").is_file();
            if !exists {
                broken.push(format!("{}: link to missing {href}", page.display()));
                continue;
            }
            if let Some(anchor) = anchor.filter(|a| !a.is_empty()) {
                let decoded = percent_decode(anchor);
                anchors_checked += 1;
                if target.extension().is_some_and(|e| e == "html")
                    && !ids
                        .get(&target)
                        .is_some_and(|set| set.contains(decoded.as_str()))
                {
                    broken.push(format!("{}: link to missing anchor {href}", page.display()));
                }
            }
        }
    }
    assert!(broken.is_empty(), "broken links:\n{}", broken.join("\n"));
    assert!(
        anchors_checked > 50,
        "only {anchors_checked} anchors checked: is the link check reading the pages?"
    );

    search_finds_chinese_words(&out_dir);

    // The examples come from the snapshot files: the guide shows a real response.
    let guide = pages
        .iter()
        .find(|(p, _)| p.ends_with("integration/index.html"))
        .map(|(_, h)| h.as_str())
        .unwrap_or_default();
    assert!(
        guide.contains("building_materials")
            && guide.contains("[datetime]")
            && guide.contains("不允许使用"),
        "snapshot examples missing from the guide"
    );
}

/// The built search index answers Chinese queries: 复评 leads to the renewal page and 撤销 to
/// the revocation page (mdBook alone indexes no Chinese at all).
fn search_finds_chinese_words(site: &Path) {
    let script = std::fs::read_dir(site)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .find(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with("searchindex") && n.ends_with(".js"))
        })
        .unwrap_or_else(|| panic!("no search index in {}", site.display()));
    let text = std::fs::read_to_string(&script).unwrap_or_default();
    assert!(
        text.starts_with("// SafeGrade: cut search queries"),
        "the query tokenizer must run before the index loads"
    );
    let start = text.find("JSON.parse('").map(|i| i + 12).unwrap_or(0);
    let end = text.rfind("'));").unwrap_or(text.len());
    let json = text[start..end].replace("\\'", "'").replace("\\\\", "\\");
    // The index nests a level per character of a token (a 64-character hash is 64 levels).
    let mut de = serde_json::Deserializer::from_str(&json);
    de.disable_recursion_limit();
    let search: serde_json::Value =
        serde::Deserialize::deserialize(&mut de).unwrap_or_else(|e| panic!("search index: {e}"));
    let urls = search["doc_urls"].as_array().cloned().unwrap_or_default();
    for (query, page) in [
        ("复评", "grades/renewal.html"),
        ("撤销", "grades/revocation.html"),
        ("台账", "ledger/index.html"),
    ] {
        let mut terms = safegrade_site::tokenize(query);
        assert_eq!(terms.len(), 1, "{query} is one index term");
        let term = terms.remove(0);
        // The inverted index is a trie keyed by character.
        let mut node = &search["index"]["index"]["body"]["root"];
        for c in term.chars() {
            node = &node[c.to_string()];
        }
        let docs = node["docs"].as_object().cloned().unwrap_or_default();
        let pages: Vec<&str> = docs
            .keys()
            .filter_map(|r| r.parse::<usize>().ok())
            .filter_map(|r| urls.get(r).and_then(|u| u.as_str()))
            .collect();
        assert!(
            pages.iter().any(|u| u.starts_with(page)),
            "searching {query} does not find {page}: {pages:?}"
        );
    }
}

fn normalise(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            std::path::Component::ParentDir => {
                out.pop();
            }
            std::path::Component::CurDir => {}
            other => out.push(other),
        }
    }
    out
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && i + 2 < bytes.len()
            && let Some(b) = std::str::from_utf8(&bytes[i + 1..i + 3])
                .ok()
                .and_then(|h| u8::from_str_radix(h, 16).ok())
        {
            out.push(b);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The regulator chapters speak to regulators: no crate paths, source files, test files or
/// files outside the repository; where a rule's source could not be checked, the page says
/// so once (a callout starting "来源未能核对") and says what the bureau can do.
#[test]
fn regulator_chapters_speak_to_regulators() {
    let mut pages = Vec::new();
    for dir in ["", "ledger", "grades", "access", "dual"] {
        let path = Path::new(BOOK).join("src").join(dir);
        for entry in std::fs::read_dir(&path).into_iter().flatten().flatten() {
            let p = entry.path();
            if p.extension().is_some_and(|e| e == "md")
                && !["SUMMARY.md", "errors.md", "changelog.md"]
                    .iter()
                    .any(|n| p.ends_with(n))
            {
                pages.push(p);
            }
        }
    }
    assert!(
        pages.len() >= 12,
        "only {} regulator pages found",
        pages.len()
    );
    let mut complaints = Vec::new();
    for page in &pages {
        let text = std::fs::read_to_string(page).unwrap_or_default();
        // Snapshot includes are examples shown to the reader, not references.
        let prose: String = text
            .lines()
            .filter(|l| !l.starts_with("{{#include"))
            .collect::<Vec<_>>()
            .join("\n");
        for needle in [
            "crates/",
            "tests/",
            ".rs`",
            "::",
            "../shared",
            "domain.md",
            "safegrade_",
        ] {
            if prose.contains(needle) {
                complaints.push(format!("{}: mentions {needle}", page.display()));
            }
        }
        let notes = prose.matches("来源未能核对").count();
        if notes > 1 {
            complaints.push(format!(
                "{}: says {notes} times that a source could not be checked",
                page.display()
            ));
        }
        if prose.contains("待核对") || prose.contains("回忆") {
            complaints.push(format!(
                "{}: an unchecked source outside the one callout",
                page.display()
            ));
        }
    }
    for unchecked in ["grades/index.md", "grades/revocation.md"] {
        let text = std::fs::read_to_string(Path::new(BOOK).join("src").join(unchecked))
            .unwrap_or_default();
        if !text.contains("> **来源未能核对**") || !text.contains("定级规则") {
            complaints.push(format!(
                "{unchecked}: rules from unchecked sources without the callout"
            ));
        }
    }
    assert!(complaints.is_empty(), "{}", complaints.join("\n"));
}

#[test]
fn api_reference_is_generated_from_the_spec() {
    let dir = Path::new(BOOK).join("src/api");
    let pages = safegrade_http::apidoc::render(&safegrade_http::openapi());
    let mut expected: Vec<String> = pages.iter().map(|p| p.file.clone()).collect();
    for page in &pages {
        let committed = std::fs::read_to_string(dir.join(&page.file)).unwrap_or_default();
        assert!(
            committed == page.text,
            "book/src/api/{} is stale: run `cargo run -p safegrade -- openapi --book book/src/api > api/openapi.json`",
            page.file
        );
    }
    let mut present: Vec<String> = std::fs::read_dir(&dir)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    expected.sort();
    present.sort();
    assert_eq!(present, expected, "book/src/api holds only generated pages");
}

/// The role table of 权限与审计 says what `Role::may` does, row by row.
#[test]
fn role_table_matches_the_rules() {
    use safegrade_domain::{Action, CodeList, Role};
    let page = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/book/src/access/index.md"
    ))
    .unwrap_or_default();
    let mut rows = 0;
    for role in Role::ALL {
        let code = format!("`{}`", role.as_str());
        for line in page.lines().filter(|l| {
            l.starts_with('|')
                && l.split('|')
                    .nth(2)
                    .is_some_and(|c| c.trim().starts_with(&code))
        }) {
            let cells: Vec<&str> = line.split('|').map(str::trim).collect();
            let read_only = cells[2].contains("read_only: true");
            // One column per action, in the list's order, after the scope.
            let n = Action::ALL.len();
            let marks: Vec<bool> = cells[cells.len() - 1 - n..cells.len() - 1]
                .iter()
                .map(|c| *c == "✓")
                .collect();
            let rules: Vec<bool> = Action::ALL
                .iter()
                .map(|a| role.may(*a, read_only))
                .collect();
            assert_eq!(marks, rules, "book row for {code}: {line}");
            rows += 1;
        }
    }
    assert_eq!(
        rows,
        Role::ALL.len() + 1,
        "one row per role, two for integrations"
    );
}

/// The book's header table lists every header the import recognises (the synonym table in
/// `domain::ledger::sheet` is the one place they are defined).
#[test]
fn the_import_chapter_lists_every_header_synonym() {
    let chapter = std::fs::read_to_string("book/src/ledger/import.md")
        .unwrap_or_else(|e| panic!("book/src/ledger/import.md: {e}"));
    for (_, names) in safegrade_domain::ledger::sheet::SYNONYMS {
        for name in *names {
            assert!(
                chapter.contains(name),
                "台账导入 does not list the header {name}"
            );
        }
    }
}

//! The docs site: the book (process guide, integrator guide, API reference, error codes) is
//! embedded in the binary as sources and built with mdbook-driver, so `safegrade book build`
//! works anywhere and `serve` publishes it at `/book/` with no files beside the binary.

use std::collections::HashMap;
use std::path::Path;

use include_dir::{Dir, include_dir};

mod search;

pub use search::tokenize;

static BOOK: Dir<'static> = include_dir!("$CARGO_MANIFEST_DIR/../../book");
static SNAPSHOTS: Dir<'static> = include_dir!("$CARGO_MANIFEST_DIR/../../tests/api/snapshots");

/// Builds the site into `out` (created if missing).
pub fn build(out: &Path) -> anyhow::Result<()> {
    let sources = tempfile::tempdir()?;
    // The same layout as the repository: the book includes `../../../tests/api/snapshots`.
    let book = sources.path().join("book");
    let snapshots = sources.path().join("tests/api/snapshots");
    std::fs::create_dir_all(&book)?;
    std::fs::create_dir_all(&snapshots)?;
    BOOK.extract(&book)?;
    SNAPSHOTS.extract(&snapshots)?;
    let _ = std::fs::remove_dir_all(book.join("book"));
    let mut md = mdbook_driver::MDBook::load(&book)
        .map_err(|e| anyhow::anyhow!("loading the book: {e:#}"))?;
    md.config.build.build_dir = out.to_path_buf();
    md.build()
        .map_err(|e| anyhow::anyhow!("building the book: {e:#}"))?;
    search::index_chinese(out)?;
    Ok(())
}

/// Builds the site and reads it into memory: path inside the site (`errors.html`) → bytes.
pub fn build_in_memory() -> anyhow::Result<HashMap<String, Vec<u8>>> {
    let out = tempfile::tempdir()?;
    build(out.path())?;
    let mut files = HashMap::new();
    read_all(out.path(), out.path(), &mut files)?;
    Ok(files)
}

fn read_all(root: &Path, dir: &Path, files: &mut HashMap<String, Vec<u8>>) -> anyhow::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            read_all(root, &path, files)?;
        } else {
            let name = path
                .strip_prefix(root)?
                .to_string_lossy()
                .replace('\\', "/");
            files.insert(name, std::fs::read(&path)?);
        }
    }
    Ok(())
}

//! Rebuilds the binary when the book or the test snapshots it includes change: both are
//! embedded (`src/lib.rs`), and `include_dir!` does not track files by itself.

fn main() {
    println!("cargo:rerun-if-changed=../../book/src");
    println!("cargo:rerun-if-changed=../../book/book.toml");
    println!("cargo:rerun-if-changed=../../tests/api/snapshots");
}

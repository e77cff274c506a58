//! Rebuilds the crate when the example snapshots change: the spec carries them as examples
//! (`src/plumbing/openapi.rs`), and `include_dir!` does not track files by itself.

fn main() {
    println!("cargo:rerun-if-changed=../../tests/api/snapshots");
}

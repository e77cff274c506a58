//! Grades over time: certificates, accidents, and the per-enterprise grade summary kept in
//! the transaction of every change to them.

pub mod accidents;
pub mod certificates;
pub mod import;
pub(crate) mod summaries;

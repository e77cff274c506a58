//! Derived views over the records: the alert rules (提醒), one pure function per kind. The
//! store only runs the indexed queries that find the candidates; what is due, from when,
//! under which rule and what to do next is decided here.

pub mod alerts;
pub mod operation;

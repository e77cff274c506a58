//! The enterprise ledger (企业台账): enterprises, their credit codes, supervision areas and
//! industry classification.

pub mod area;
pub mod credit_code;
pub mod enterprise;
pub mod industry;
pub mod sheet;

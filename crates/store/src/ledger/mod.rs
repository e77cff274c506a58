//! The enterprise ledger (企业台账) and its reference data.

pub mod area_owned;
pub(crate) mod credit_codes;
pub mod enterprises;
pub mod import;
pub mod reference;

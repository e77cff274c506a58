//! SafeGrade's domain: the types and rules of safety-production standardization regulation in
//! Mianyang, with no I/O.
//!
//! It may depend on `chrono`, `serde` (derive only), `thiserror` and `uuid`, never on diesel,
//! actix-web, utoipa or serde_json (`tests/arch.rs` checks). Storage (`safegrade_store`) and the
//! HTTP API (`safegrade_http`) build on it.
//!
//! Entry points: [`CreditCode`], [`AREAS`], [`IndustryCode`] and [`SectorMapping`],
//! [`EnterpriseInput::validate`], and the [`CodeList`] enums.

mod area;
mod code_list;
mod credit_code;
mod enterprise;
mod id;
mod industry;
mod validation;

pub use area::{AREAS, Area, AreaKind, CITY_CODE, find_area};
pub use code_list::{CodeList, UnknownCode};
pub use credit_code::{CreditCode, CreditCodeError};
pub use enterprise::{
    Enterprise, EnterpriseData, EnterpriseInput, MineKind, OperatingStatus, Ownership, Scale,
    is_phone, limits,
};
pub use id::EnterpriseId;
pub use industry::{
    IndustryCode, IndustryCodeError, MappingError, SECTIONS, Sector, SectorMapping, SectorRule,
};
pub use validation::{Violation, ViolationCode, pointer_to};

/// Credit-code algorithm constants, for documentation and tests.
pub mod credit {
    pub use crate::credit_code::{ALPHABET, LENGTH, WEIGHTS, check_character, normalise};
}

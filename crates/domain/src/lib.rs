//! SafeGrade's domain: the types and rules of safety-production standardization regulation in
//! Mianyang, with no I/O.
//!
//! It may depend on `chrono`, `serde` (derive only), `thiserror` and `uuid`, never on diesel,
//! actix-web, utoipa or serde_json (`tests/arch.rs` checks). Storage (`safegrade_store`) and the
//! HTTP API (`safegrade_http`) build on it.
//!
//! Entry points: [`CreditCode`], [`AREAS`], [`IndustryCode`] and [`SectorMapping`],
//! [`EnterpriseInput::validate`], [`PrincipalInput::validate`], [`Role::may`] and
//! [`Scope::covers`] (who may do what), and the [`CodeList`] enums.

pub mod access;
pub mod assessments;
pub mod calendar;
pub mod checklists;
pub mod drives;
pub mod grading;
pub mod gradings;
pub mod hazards;
pub mod insights;
pub mod inspections;
pub mod jobs;
pub mod ledger;
pub mod plumbing;
mod refusal;
pub mod risks;
pub mod standards;

pub use access::{
    Action, Actor, EventType, OrganisationInput, Principal, PrincipalData, PrincipalFacts,
    PrincipalInput, ResourceType, ReviewOrganisation, Role, Scope, change_principal, check_expiry,
    principal_limits, token_live,
};
pub use ledger::area::{AREAS, Area, AreaKind, CITY_CODE, find_area};
pub use ledger::credit_code::{CreditCode, CreditCodeError};
pub use ledger::enterprise::{
    Enterprise, EnterpriseData, EnterpriseInput, MineKind, OperatingStatus, Ownership, Scale,
    Transfer, TransferInput, is_phone, limits,
};
pub use ledger::industry::{
    IndustryCode, IndustryCodeError, MappingError, SECTIONS, Sector, SectorMapping, SectorRule,
};
pub use plumbing::code_list::{CodeList, UnknownCode};
pub use plumbing::id::{
    AccidentId, AssessmentId, CertificateId, ChecklistId, DeliveryId, EnterpriseId, GradingId,
    HazardId, JobId, MeasureId, PrincipalId, RecordId, RiskId, RiskUnitId, StandardId, TaskId,
    TokenId, WebhookId,
};
pub use plumbing::validation::{Violation, ViolationCode, pointer_to};
pub use refusal::Refusal;

/// Credit-code algorithm constants, for documentation and tests.
pub mod credit {
    pub use crate::ledger::credit_code::{ALPHABET, LENGTH, WEIGHTS, check_character, normalise};
}

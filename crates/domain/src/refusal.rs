//! Every rule-based refusal of a change, in one type the store returns and the HTTP layer maps
//! with an exhaustive match (a new refusal without a problem code does not compile).

use crate::drives::DriveRefusal;
use crate::grading::CertificateRefusal;

/// A change refused by a rule of the domain.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    /// A certificate transition was refused.
    #[error(transparent)]
    Certificate(#[from] CertificateRefusal),
    /// A drive change was refused.
    #[error(transparent)]
    Drive(#[from] DriveRefusal),
    /// The change would leave no enabled `city_admin` (someone must be able to manage
    /// access). Checked under a lock, so concurrent changes cannot both pass.
    #[error("this would leave no enabled city_admin; make another principal city_admin first")]
    LastCityAdmin,
    /// The token was revoked already.
    #[error("this token was revoked already")]
    TokenAlreadyRevoked,
}

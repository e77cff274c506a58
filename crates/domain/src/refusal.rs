//! Every rule-based refusal of a change, in one type the store returns and the HTTP layer maps
//! with an exhaustive match (a new refusal without a problem code does not compile).

use crate::assessments::AssessmentRefusal;
use crate::drives::DriveRefusal;
use crate::grading::CertificateRefusal;
use crate::gradings::GradingRefusal;
use crate::hazards::HazardRefusal;

/// A change refused by a rule of the domain.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    /// A certificate transition was refused.
    #[error(transparent)]
    Certificate(#[from] CertificateRefusal),
    /// A drive change was refused.
    #[error(transparent)]
    Drive(#[from] DriveRefusal),
    /// An assessment change was refused.
    #[error(transparent)]
    Assessment(#[from] AssessmentRefusal),
    /// A grading application or step was refused.
    #[error(transparent)]
    Grading(#[from] GradingRefusal),
    /// A hazard step was refused.
    #[error(transparent)]
    Hazard(#[from] HazardRefusal),
    /// The change would leave no enabled `city_admin` (someone must be able to manage
    /// access). Checked under a lock, so concurrent changes cannot both pass.
    #[error("这样将没有启用的市局管理员（city_admin）：请先把另一个账号设为市局管理员")]
    LastCityAdmin,
    /// The token was revoked already.
    #[error("该令牌已经吊销")]
    TokenAlreadyRevoked,
}

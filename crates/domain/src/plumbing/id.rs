//! Identifiers: opaque, time-ordered UUIDv7 strings (time order keeps SQLite inserts cheap
//! and gives lists a stable creation order).

use std::fmt;

/// Declares a UUIDv7 id newtype.
macro_rules! id_type {
    ($(#[$meta:meta])* $name:ident) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(uuid::Uuid);

        impl $name {
            /// A new time-ordered id.
            pub fn new() -> Self {
                Self(uuid::Uuid::now_v7())
            }

            /// Parses the text form; `None` if it is not a UUID.
            pub fn parse(text: &str) -> Option<Self> {
                uuid::Uuid::try_parse(text).ok().map(Self)
            }
        }

        impl Default for $name {
            fn default() -> Self {
                Self::new()
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.as_hyphenated().fmt(f)
            }
        }
    };
}

id_type!(
    /// The id of an enterprise.
    EnterpriseId
);

id_type!(
    /// The id of a principal (an API caller).
    PrincipalId
);

id_type!(
    /// The id of a token (never the token itself).
    TokenId
);

id_type!(
    /// The id of a certificate record.
    CertificateId
);

id_type!(
    /// The id of an accident record.
    AccidentId
);

id_type!(
    /// The id of one version of a grading standard (评定标准).
    StandardId
);

id_type!(
    /// The id of an assessment (自评, 评审 or 监督检查).
    AssessmentId
);

id_type!(
    /// The id of a grading application (定级申请).
    GradingId
);

id_type!(
    /// The id of a hidden hazard (事故隐患).
    HazardId
);

id_type!(
    /// The id of a risk analysis unit (风险分析单元).
    RiskUnitId
);

id_type!(
    /// The id of a risk (风险).
    RiskId
);

id_type!(
    /// The id of a control measure (管控措施).
    MeasureId
);

id_type!(
    /// The id of an inspection task (隐患排查任务).
    TaskId
);

id_type!(
    /// The id of an inspection record (排查记录).
    RecordId
);

id_type!(
    /// The id of a list (清单).
    ChecklistId
);

id_type!(
    /// The id of a background job (an import).
    JobId
);

id_type!(
    /// The id of a webhook subscription (事件推送订阅).
    WebhookId
);

id_type!(
    /// The id of a webhook delivery attempt.
    DeliveryId
);

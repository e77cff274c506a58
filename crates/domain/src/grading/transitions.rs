//! The state changes of a certificate as pure functions over facts: each returns what the
//! change decides, or a [`CertificateRefusal`]. The store fetches the facts (the current
//! certificate, the latest revocation, the accidents during a validity period) and persists
//! the outcome; the HTTP layer maps each refusal to its problem code.

use chrono::NaiveDate;

use super::{
    AccidentFacts, Certificate, CertificateData, FastTrack, GradeRules, RenewalTrack, Revocation,
};

/// Why a change to a certificate is refused. Every variant has its own problem code in the
/// API (an exhaustive match there: a new variant without one does not compile).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CertificateRefusal {
    /// The certificate was revoked or replaced already.
    #[error("只有现行有效（未撤销、未被替代）的证书才能{action}")]
    NotInForce {
        /// What was attempted, in Chinese ("撤销", "复评", "升级").
        action: &'static str,
    },
    /// A revocation decided after the certificate's last valid day: an expired grade is no
    /// longer in force and cannot be revoked (定级办法 revokes grades in force).
    #[error(
        "证书有效期已于 {valid_until} 届满：已不在有效期内的等级不能撤销（撤销决定日期 {decided_on}）"
    )]
    RevokedAfterExpiry {
        /// The certificate's last valid day.
        valid_until: NaiveDate,
        /// The decision date asked for.
        decided_on: NaiveDate,
    },
    /// A successor (renewal or upgrade) issued after the certificate expired: the
    /// enterprise must restart creation (notice 绵应急函〔2020〕42号 二（三）).
    #[error(
        "证书有效期已于 {valid_until} 届满，早于新证书的颁发日期 {issued_on}：企业须重新创建（42号文二（三））"
    )]
    Expired {
        /// The certificate's last valid day.
        valid_until: NaiveDate,
        /// The successor's issue date.
        issued_on: NaiveDate,
    },
    /// A new grade within the bar after a revocation (定级办法, application condition 8).
    #[error(
        "企业的等级已于 {revoked_on} 被撤销：自 {opens_on} 起方可授予新的等级（定级办法：撤销满 1 年）"
    )]
    RegradeBarred {
        /// The revocation's decision date.
        revoked_on: NaiveDate,
        /// The first day a new grade may be granted.
        opens_on: NaiveDate,
    },
    /// The fast track was asked for but the accidents during the validity exclude it.
    #[error("{}", reasons.join("；"))]
    FastTrackNotAllowed {
        /// Why, one sentence per condition.
        reasons: Vec<String>,
    },
}

fn in_force(current: &Certificate, action: &'static str) -> Result<(), CertificateRefusal> {
    if current.revocation.is_some() || current.superseded_by.is_some() {
        return Err(CertificateRefusal::NotInForce { action });
    }
    Ok(())
}

/// Recording a certificate: refused within the bar after the enterprise's latest
/// revocation (`latest_revocation`). A grade issued before that revocation is history being
/// entered, not a new grade, and is accepted.
///
/// Rule: 定级办法, a revoked enterprise may re-apply one year after the revocation
/// (application condition 8; (R), the period is [`GradeRules::bar_after_revocation_months`]).
pub fn record(
    rules: &GradeRules,
    latest_revocation: Option<NaiveDate>,
    new: &CertificateData,
) -> Result<(), CertificateRefusal> {
    if let Some(revoked_on) = latest_revocation {
        let opens_on = rules.regrade_opens_on(revoked_on);
        if new.issued_on >= revoked_on && new.issued_on < opens_on {
            return Err(CertificateRefusal::RegradeBarred {
                revoked_on,
                opens_on,
            });
        }
    }
    Ok(())
}

/// Revoking a certificate: only one in force on the decision date (not revoked, not
/// replaced, not expired by then). The decision keeps the version of `rules`, which set the
/// bar after it.
pub fn revoke(
    rules: &GradeRules,
    current: &Certificate,
    mut decision: Revocation,
) -> Result<Revocation, CertificateRefusal> {
    in_force(current, "撤销")?;
    decision.rules_version = rules.version.to_owned();
    if decision.decided_on > current.data.valid_until {
        return Err(CertificateRefusal::RevokedAfterExpiry {
            valid_until: current.data.valid_until,
            decided_on: decision.decided_on,
        });
    }
    Ok(decision)
}

/// A successor must be issued while the current certificate is still valid, judged on the
/// successor's issue date (so history can be entered later), not on today.
fn successor_in_time(
    current: &Certificate,
    new: &CertificateData,
) -> Result<(), CertificateRefusal> {
    if new.issued_on > current.data.valid_until {
        return Err(CertificateRefusal::Expired {
            valid_until: current.data.valid_until,
            issued_on: new.issued_on,
        });
    }
    Ok(())
}

/// Renewing a certificate of the same grade (复评): it must be in force and not expired on
/// the renewal's issue date; the fast track needs the conditions of
/// [`GradeRules::fast_track`] over `during` (the accidents during its validity). Returns the
/// fast-track evaluation, kept with the renewal.
pub fn renew(
    rules: &GradeRules,
    current: &Certificate,
    new: &CertificateData,
    track: RenewalTrack,
    during: &[AccidentFacts],
) -> Result<FastTrack, CertificateRefusal> {
    in_force(current, "复评")?;
    successor_in_time(current, new)?;
    let fast = rules.fast_track(current.data.grade, during);
    if track == RenewalTrack::FastTrack && !fast.allowed {
        return Err(CertificateRefusal::FastTrackNotAllowed {
            reasons: fast.reasons,
        });
    }
    Ok(fast)
}

/// Upgrading a certificate (提档升级): it must be in force and not expired on the new
/// certificate's issue date (an expired grade means restarting creation, as for a renewal).
pub fn upgrade(current: &Certificate, new: &CertificateData) -> Result<(), CertificateRefusal> {
    in_force(current, "升级")?;
    successor_in_time(current, new)
}

#[cfg(test)]
mod tests {
    use chrono::{TimeZone, Utc};

    use super::*;
    use crate::grading::{AuthorityLevel, Grade, Regime, RevocationTrigger};
    use crate::{CertificateId, EnterpriseId};

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap_or(NaiveDate::MIN)
    }

    fn data(issued_on: &str, valid_until: &str) -> CertificateData {
        CertificateData {
            enterprise_id: EnterpriseId::new(),
            regime: Regime::Grading2021,
            grade: Grade::Grade3,
            number: "N-1".into(),
            authority_level: AuthorityLevel::City,
            authority_name: "绵阳市应急管理局".into(),
            issued_on: d(issued_on),
            valid_until: d(valid_until),
            standard: "S".into(),
        }
    }

    fn cert(issued_on: &str, valid_until: &str) -> Certificate {
        let at = Utc.timestamp_opt(0, 0).single().unwrap_or_default();
        Certificate {
            id: CertificateId::new(),
            data: data(issued_on, valid_until),
            revocation: None,
            superseded_by: None,
            superseded_on: None,
            rules_version: "test".into(),
            version: 1,
            created_at: at,
            updated_at: at,
        }
    }

    fn decision(on: &str) -> Revocation {
        Revocation {
            trigger: RevocationTrigger::FatalAccident,
            legal_basis: "定级办法".into(),
            reason: "r".into(),
            decided_on: d(on),
            rules_version: String::new(),
        }
    }

    #[test]
    fn an_expired_certificate_cannot_be_revoked() {
        let c = cert("2022-01-10", "2025-01-10");
        assert!(revoke(GradeRules::builtin(), &c, decision("2025-01-10")).is_ok());
        assert_eq!(
            revoke(GradeRules::builtin(), &c, decision("2025-01-11")),
            Err(CertificateRefusal::RevokedAfterExpiry {
                valid_until: d("2025-01-10"),
                decided_on: d("2025-01-11")
            })
        );
    }

    #[test]
    fn successors_are_judged_on_their_issue_date() {
        let c = cert("2022-01-10", "2025-01-10");
        // A renewal issued on the last valid day is in time, whenever it is recorded.
        let in_time = data("2025-01-10", "2028-01-10");
        assert!(
            renew(
                GradeRules::builtin(),
                &c,
                &in_time,
                RenewalTrack::FullReview,
                &[]
            )
            .is_ok()
        );
        assert!(upgrade(&c, &in_time).is_ok());
        let late = data("2025-01-11", "2028-01-11");
        let refused = Err(CertificateRefusal::Expired {
            valid_until: d("2025-01-10"),
            issued_on: d("2025-01-11"),
        });
        assert_eq!(
            renew(
                GradeRules::builtin(),
                &c,
                &late,
                RenewalTrack::FullReview,
                &[]
            )
            .map(|_| ()),
            refused
        );
        assert_eq!(upgrade(&c, &late), refused);
    }

    #[test]
    fn replaced_or_revoked_certificates_are_not_in_force() {
        let mut c = cert("2022-01-10", "2025-01-10");
        c.superseded_by = Some(CertificateId::new());
        assert_eq!(
            upgrade(&c, &data("2023-01-10", "2026-01-10")),
            Err(CertificateRefusal::NotInForce { action: "升级" })
        );
        assert_eq!(
            revoke(GradeRules::builtin(), &c, decision("2023-01-10")).map(|_| ()),
            Err(CertificateRefusal::NotInForce { action: "撤销" })
        );
    }

    #[test]
    fn the_bar_after_a_revocation() {
        let rules = GradeRules::builtin();
        let revoked = Some(d("2024-03-31"));
        assert!(record(rules, revoked, &data("2024-03-30", "2027-03-30")).is_ok());
        assert_eq!(
            record(rules, revoked, &data("2025-03-30", "2028-03-30")),
            Err(CertificateRefusal::RegradeBarred {
                revoked_on: d("2024-03-31"),
                opens_on: d("2025-03-31")
            })
        );
        assert!(record(rules, revoked, &data("2025-03-31", "2028-03-31")).is_ok());
    }

    #[test]
    fn fast_track_refusal_carries_the_reasons() {
        let c = cert("2022-01-10", "2025-01-10");
        let fatal = AccidentFacts {
            occurred_on: d("2023-05-01"),
            deaths: 1,
            seriously_injured: 0,
            direct_loss_cny: 0,
            concealed: false,
        };
        let new = data("2024-12-01", "2027-12-01");
        match renew(
            GradeRules::builtin(),
            &c,
            &new,
            RenewalTrack::FastTrack,
            &[fatal],
        ) {
            Err(CertificateRefusal::FastTrackNotAllowed { reasons }) => {
                assert_eq!(reasons.len(), 1)
            }
            other => panic!("expected a fast-track refusal, got {other:?}"),
        }
        assert!(
            renew(
                GradeRules::builtin(),
                &c,
                &new,
                RenewalTrack::FullReview,
                &[fatal]
            )
            .is_ok()
        );
    }
}

//! Standardization grades over time: certificates (标准化等级证书), their validity and
//! derived status, accidents (生产安全事故) and the revocation triggers and renewal fast track
//! they decide.
//!
//! Sources: 《企业安全生产标准化建设定级办法》 (应急〔2021〕83号, "定级办法"), the 2014 review
//! measures (安监总办〔2014〕49号) for legacy certificates, and notice 绵应急函〔2020〕42号
//! (二（三）: an expired grade, or an accident while it was valid, means starting over). The
//! thresholds marked (R) below (recalled from 定级办法, not yet checked against its published text) are data ([`GradeRules`]), one place to
//! correct them. The book chapter 等级证书与有效期 (`book/src/grades/index.md`) explains them
//! to regulators.

use chrono::{DateTime, Months, NaiveDate, Utc};

use crate::plumbing::validation::{Checker, Violation, ViolationCode as V};
use crate::{CertificateId, CodeList, EnterpriseId, code_list};

pub mod transitions;
pub use transitions::CertificateRefusal;

code_list! {
    /// Under which rules a grade was given.
    pub enum Regime {
        /// Certificates of the 2014 review measures (安监总办〔2014〕49号), issued before
        /// 2021-10-27 ("legacy").
        Legacy2014 = ("legacy_2014", "2014年评审办法（旧证）"),
        /// Gradings under the 2021 Grading Measures (定级办法).
        Grading2021 = ("grading_2021", "2021年定级办法"),
        /// The lighter small and micro enterprise track (小微企业).
        SmallMicro = ("small_micro", "小微企业达标"),
    }
}

code_list! {
    /// Standardization grade (标准化等级), highest first (定级办法 art. 4).
    pub enum Grade {
        /// 一级.
        Grade1 = ("grade_1", "一级"),
        /// 二级.
        Grade2 = ("grade_2", "二级"),
        /// 三级.
        Grade3 = ("grade_3", "三级"),
        /// Small/micro attained (小微企业达标).
        SmallMicro = ("small_micro", "小微达标"),
    }
}

impl Grade {
    /// Rank for comparisons: higher is better (一级 = 4 … 小微 = 1).
    pub fn rank(self) -> u8 {
        match self {
            Self::Grade1 => 4,
            Self::Grade2 => 3,
            Self::Grade3 => 2,
            Self::SmallMicro => 1,
        }
    }
}

code_list! {
    /// The status of a certificate, derived from the date and its history, never stored.
    pub enum CertificateStatus {
        /// Valid, and renewal not yet open.
        Valid = ("valid", "有效"),
        /// Valid, within the window before expiry in which re-application opens.
        Expiring = ("expiring", "即将到期"),
        /// Past its validity.
        Expired = ("expired", "已过期"),
        /// Revoked by the grading authority.
        Revoked = ("revoked", "已撤销"),
        /// Replaced by a renewal or an upgrade.
        Superseded = ("superseded", "已被替代"),
    }
}

code_list! {
    /// Why a grade is revoked: the closed list of 定级办法 (定级办法 撤销情形, (R)).
    pub enum RevocationTrigger {
        /// 1. A fatal production-safety accident (发生生产安全死亡事故).
        FatalAccident = ("fatal_accident", "发生生产安全死亡事故"),
        /// 2. Within 12 consecutive months, accidents totalling ≥3 seriously injured or
        /// ≥CNY 1 million direct loss.
        InjuryOrLoss12Months = ("injury_or_loss_12_months", "连续12个月内累计重伤3人以上或直接经济损失100万元以上"),
        /// 3. An event with major adverse social impact.
        MajorSocialImpact = ("major_social_impact", "发生造成重大社会不良影响的事件"),
        /// 4. An accident concealed, falsely reported, reported late or omitted.
        ConcealedAccident = ("concealed_accident", "瞒报、谎报、迟报、漏报生产安全事故"),
        /// 5. Placed on the dishonesty/punishment list.
        DishonestyList = ("dishonesty_list", "被列入安全生产失信惩戒名单"),
        /// 6. Grade obtained with false materials or other improper means.
        FalseMaterials = ("false_materials", "提供虚假材料或以其他不正当手段取得等级"),
        /// 7. Licence cancelled, revoked or withdrawn, or no longer in the industry.
        LicenceLost = ("licence_lost", "行政许可被注销、撤销、吊销或不再属于相关行业"),
        /// 8. A major accident hazard not rectified within the set time.
        OverdueMajorHazard = ("overdue_major_hazard", "重大事故隐患未在规定期限内整改"),
        /// 9. The standardization system not run continuously and effectively (serious
        /// cases) — the outcome of an operation-quality audit (运行质量审计).
        SystemNotRun = ("system_not_run", "标准化管理体系未持续有效运行且情节严重"),
    }
}

/// The facts of one accident that the rules look at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AccidentFacts {
    /// When it happened.
    pub occurred_on: NaiveDate,
    /// Deaths (死亡人数).
    pub deaths: u32,
    /// Seriously injured (重伤人数).
    pub seriously_injured: u32,
    /// Direct economic loss in CNY (直接经济损失, 元).
    pub direct_loss_cny: i64,
    /// Concealed, falsely reported, reported late or omitted (瞒报、谎报、迟报、漏报).
    pub concealed: bool,
}

/// Injury and loss limits: an accident total at or above either one counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Limits {
    /// Seriously injured, in total.
    pub seriously_injured: u32,
    /// Direct economic loss in CNY, in total.
    pub direct_loss_cny: i64,
}

impl Limits {
    /// Whether totals reach the limits (either one suffices).
    pub fn reached(&self, injured: u32, loss: i64) -> bool {
        injured >= self.seriously_injured || loss >= self.direct_loss_cny
    }
}

/// The rules of grades over time, as data: the figures the bureau may correct (the tag (R):
/// recalled from the regulation, to be checked) sit here and nowhere else.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GradeRules {
    /// Name and version of this rule set, kept with decisions made under it.
    pub version: &'static str,
    /// The 2021 Grading Measures' date: certificates issued before it are legacy ones.
    /// Rule: 定级办法, dated 2021-10-27 (定级办法, (C)).
    pub measures_2021_from: NaiveDate,
    /// Validity of a grade in months. Rule: 3 years under both regimes (定级办法 and the 2014 measures, (C)).
    pub validity_months: u32,
    /// Months before expiry in which re-application opens (status `expiring`). Rule: 定级办法
    /// / 2014 practice, 3 months (定级办法, (R); 2014 practice, (C)); the alert window defaults to it.
    pub renewal_window_months: u32,
    /// Revocation trigger 2: the window and the totals (定级办法 撤销情形第（二）项, (R)).
    pub revocation_window_months: u32,
    /// Totals that trigger revocation within the window.
    pub revocation_limits: Limits,
    /// Same-grade fast track (定级办法, same-grade re-application, (R)): totals over the validity period that
    /// exclude it, for 一级.
    pub fast_track_grade1: Limits,
    /// The same for 二级, 三级 and small/micro.
    pub fast_track_other: Limits,
    /// Months after a revocation before a new grade may be granted (定级办法, application condition 8 and
    /// the consequences of revocation, (R)).
    pub bar_after_revocation_months: u32,
    /// Months between an attained enterprise's self-assessments (定级办法: the enterprise
    /// self-assesses at least once a year, (R)); the `annual_self_assessment_missing` alert.
    pub self_assessment_interval_months: u32,
    /// The working-day limits of the grading procedure (定级办法, (R)).
    pub grading_limits: crate::gradings::GradingLimits,
    /// The weights and deductions of the weekly dual-prevention score (运行效果).
    pub operation: crate::insights::operation::OperationRules,
    /// The risk band tables in force, the first of each method its default (domain
    /// research §5.2, §14: how scores map to levels is not fixed nationally).
    pub band_tables: Vec<crate::risks::BandTable>,
    /// The control levels (管控层级) units are assigned to, in order from the top.
    pub control_levels: Vec<crate::risks::ControlLevel>,
    /// The parameters of listed supervision (挂牌督办) of major hazards.
    pub listed_supervision: crate::hazards::ListedSupervision,
}

impl GradeRules {
    /// The rules as 定级办法 states them, as far as they could be checked (tags (C)/(R) above).
    pub fn builtin() -> &'static Self {
        static RULES: std::sync::LazyLock<GradeRules> = std::sync::LazyLock::new(|| GradeRules {
            version: "定级办法2021-r1",
            measures_2021_from: match NaiveDate::from_ymd_opt(2021, 10, 27) {
                Some(d) => d,
                None => NaiveDate::MIN,
            },
            validity_months: 36,
            renewal_window_months: 3,
            revocation_window_months: 12,
            revocation_limits: Limits {
                seriously_injured: 3,
                direct_loss_cny: 1_000_000,
            },
            fast_track_grade1: Limits {
                seriously_injured: 3,
                direct_loss_cny: 1_000_000,
            },
            fast_track_other: Limits {
                seriously_injured: 5,
                direct_loss_cny: 5_000_000,
            },
            bar_after_revocation_months: 12,
            self_assessment_interval_months: 12,
            grading_limits: crate::gradings::GradingLimits::BUILTIN,
            operation: crate::insights::operation::OperationRules::BUILTIN,
            band_tables: crate::risks::builtin_band_tables(),
            control_levels: crate::risks::ControlLevel::builtin(),
            listed_supervision: crate::hazards::ListedSupervision::BUILTIN,
        });
        &RULES
    }

    /// The regime of a certificate issued on `issued_on`: legacy before 2021-10-27, else the
    /// 2021 Measures (or the small/micro track).
    pub fn regime_for(&self, issued_on: NaiveDate, small_micro: bool) -> Regime {
        if issued_on < self.measures_2021_from {
            Regime::Legacy2014
        } else if small_micro {
            Regime::SmallMicro
        } else {
            Regime::Grading2021
        }
    }

    /// The last day of validity of a grade issued on `issued_on`: the same calendar day
    /// `validity_months` later (a 29 February start ends on 28 February).
    pub fn valid_until(&self, issued_on: NaiveDate) -> NaiveDate {
        add_months(issued_on, self.validity_months)
    }

    /// The first day of the renewal window of a grade valid until `valid_until`.
    pub fn renewal_opens_on(&self, valid_until: NaiveDate) -> NaiveDate {
        sub_months(valid_until, self.renewal_window_months)
    }

    /// The status of a certificate on `today`: revoked and superseded come from its history;
    /// otherwise expired after `valid_until`, expiring from `window_months` before it, else
    /// valid.
    pub fn status(
        &self,
        valid_until: NaiveDate,
        revoked: bool,
        superseded: bool,
        today: NaiveDate,
        window_months: u32,
    ) -> CertificateStatus {
        if revoked {
            CertificateStatus::Revoked
        } else if superseded {
            CertificateStatus::Superseded
        } else if today > valid_until {
            CertificateStatus::Expired
        } else if valid_until <= Self::expiring_until(today, window_months) {
            CertificateStatus::Expiring
        } else {
            CertificateStatus::Valid
        }
    }

    /// The last day of validity that counts as `expiring` on `today`: a certificate valid
    /// until `v` is expiring from `v − window_months` (the renewal window opens then), so on
    /// `today` exactly those with `today ≤ v ≤ expiring_until(today)` are. Status, list
    /// filter, alerts and statistics all use this one bound, so they agree at month ends
    /// (valid until 05-31 opens on 02-28, and on 02-28 the bound is 05-31, not 05-28).
    pub fn expiring_until(today: NaiveDate, window_months: u32) -> NaiveDate {
        // `sub_months` is monotonic, so the valid-until days whose window has opened by
        // `today` form a range; step past `today + window` over the clamped month ends.
        let mut last = add_months(today, window_months);
        while let Some(next) = last.succ_opt() {
            if sub_months(next, window_months) > today {
                break;
            }
            last = next;
        }
        last
    }

    /// The revocation triggers an accident meets, given the enterprise's other accidents
    /// (`others` must not include `accident` itself):
    /// a death (item 1), concealment (item 4), and totals of ≥3 seriously injured or
    /// ≥CNY 1 million within any 12 consecutive months that include it (item 2).
    ///
    /// Rule: 定级办法 revocation items 1, 2 and 4 (定级办法 撤销情形, (R)).
    pub fn triggers_of(
        &self,
        accident: &AccidentFacts,
        others: &[AccidentFacts],
    ) -> Vec<RevocationTrigger> {
        let mut out = Vec::new();
        if accident.deaths > 0 {
            out.push(RevocationTrigger::FatalAccident);
        }
        if self.window_reached(accident, others) {
            out.push(RevocationTrigger::InjuryOrLoss12Months);
        }
        if accident.concealed {
            out.push(RevocationTrigger::ConcealedAccident);
        }
        out
    }

    /// Whether some window of `revocation_window_months` consecutive months that contains
    /// `accident` holds totals reaching the revocation limits. A window starting on day D
    /// runs up to the day before the same day `revocation_window_months` later, so accidents
    /// 11 months apart share one and accidents 12 months or more apart do not.
    fn window_reached(&self, accident: &AccidentFacts, others: &[AccidentFacts]) -> bool {
        let all: Vec<&AccidentFacts> = others.iter().chain(std::iter::once(accident)).collect();
        // Every window that matters starts on the date of one of the accidents in it.
        all.iter().any(|start| {
            let from = start.occurred_on;
            let to = add_months(from, self.revocation_window_months);
            let inside = |d: NaiveDate| d >= from && d < to;
            if !inside(accident.occurred_on) {
                return false;
            }
            let (injured, loss) =
                all.iter()
                    .filter(|a| inside(a.occurred_on))
                    .fold((0u32, 0i64), |(i, l), a| {
                        (
                            i.saturating_add(a.seriously_injured),
                            l.saturating_add(a.direct_loss_cny),
                        )
                    });
            self.revocation_limits.reached(injured, loss)
        })
    }

    /// Whether a same-grade renewal may take the fast track (straight to publicity and
    /// announcement), and if not, why. `accidents` are those during the validity period.
    ///
    /// Rule: 定级办法 same-grade re-application ((C) for the fast track, (R)
    /// for the conditions): no fatal accident; totals below 3 seriously injured and CNY 1
    /// million for 一级, below 5 and CNY 5 million otherwise. Conditions the system does not
    /// record (social impact, new legal requirements) are left to the regulator.
    pub fn fast_track(&self, grade: Grade, accidents: &[AccidentFacts]) -> FastTrack {
        let mut reasons = Vec::new();
        let deaths: u32 = accidents.iter().map(|a| a.deaths).sum();
        if deaths > 0 {
            reasons.push(format!(
                "有效期内发生死亡事故（死亡 {deaths} 人）：须走完整评审程序"
            ));
        }
        let injured: u32 = accidents.iter().map(|a| a.seriously_injured).sum();
        let loss: i64 = accidents.iter().map(|a| a.direct_loss_cny).sum();
        let limits = match grade {
            Grade::Grade1 => self.fast_track_grade1,
            _ => self.fast_track_other,
        };
        if limits.reached(injured, loss) {
            reasons.push(format!(
                "有效期内累计重伤 {injured} 人、直接经济损失 {loss} 元，达到{}直接公示公告的限值（重伤 {} 人或损失 {} 元）：须走完整评审程序",
                grade.label_zh(),
                limits.seriously_injured, limits.direct_loss_cny
            ));
        }
        if accidents.iter().any(|a| a.concealed) {
            reasons.push("有事故被瞒报、谎报、迟报或漏报：须走完整评审程序".into());
        }
        FastTrack {
            allowed: reasons.is_empty(),
            reasons,
        }
    }

    /// The first day a new grade may be granted after a revocation decided on `revoked_on`.
    pub fn regrade_opens_on(&self, revoked_on: NaiveDate) -> NaiveDate {
        add_months(revoked_on, self.bar_after_revocation_months)
    }
}

/// Whether a renewal may take the fast track, with the reasons when it may not.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FastTrack {
    /// The same-grade fast track applies.
    pub allowed: bool,
    /// Why not (empty when allowed).
    pub reasons: Vec<String>,
}

/// Whether an accident on `on` falls in the validity of a certificate issued on `issued_on`
/// and valid until `valid_until` — which, by notice 绵应急函〔2020〕42号 二（三）, means the
/// enterprise must start creation over.
pub fn during_validity(issued_on: NaiveDate, valid_until: NaiveDate, on: NaiveDate) -> bool {
    issued_on <= on && on <= valid_until
}

/// The totals of the accidents in the `months` months up to and including `on`: deaths,
/// seriously injured, direct loss in CNY. The record application condition 4 and the
/// safety-performance grade are judged on (定级办法, (R)).
pub fn totals_before(accidents: &[AccidentFacts], on: NaiveDate, months: u32) -> (u32, u32, i64) {
    let since = sub_months(on, months);
    accidents
        .iter()
        .filter(|a| a.occurred_on > since && a.occurred_on <= on)
        .fold((0, 0, 0), |(d, i, l), a| {
            (d + a.deaths, i + a.seriously_injured, l + a.direct_loss_cny)
        })
}

/// `date` plus `months`, clamped to the last day of a shorter month.
pub fn add_months(date: NaiveDate, months: u32) -> NaiveDate {
    date.checked_add_months(Months::new(months))
        .unwrap_or(NaiveDate::MAX)
}

/// `date` minus `months`, clamped to the last day of a shorter month.
pub fn sub_months(date: NaiveDate, months: u32) -> NaiveDate {
    date.checked_sub_months(Months::new(months))
        .unwrap_or(NaiveDate::MIN)
}

code_list! {
    /// Level of the grading authority (定级部门) that gave a grade (定级办法 on grading authorities, (R):
    /// the ministry grades 一级, the province 二级, the city 三级; some provinces let counties
    /// grade small/micro enterprises).
    pub enum AuthorityLevel {
        /// 应急管理部.
        Ministry = ("ministry", "应急管理部"),
        /// Provincial department.
        Province = ("province", "省级应急管理部门"),
        /// City department.
        City = ("city", "市级应急管理部门"),
        /// County department.
        County = ("county", "县级应急管理部门"),
    }
}

/// Limits of certificate fields.
pub mod certificate_limits {
    /// Certificate number.
    pub const NUMBER: usize = 50;
    /// Authority name, standard name.
    pub const NAME: usize = 100;
    /// Legal basis of a revocation.
    pub const LEGAL_BASIS: usize = 200;
    /// Free-text reason.
    pub const REASON: usize = 500;
}

/// The validated facts of a certificate as recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertificateData {
    /// The enterprise holding it.
    pub enterprise_id: EnterpriseId,
    /// Regime.
    pub regime: Regime,
    /// Grade.
    pub grade: Grade,
    /// Certificate number (证书编号), unique.
    pub number: String,
    /// Level of the grading authority.
    pub authority_level: AuthorityLevel,
    /// Name of the grading authority.
    pub authority_name: String,
    /// Issued (or announced) on.
    pub issued_on: NaiveDate,
    /// Last day of validity.
    pub valid_until: NaiveDate,
    /// The grading standard it was graded on (code and version).
    pub standard: String,
}

/// An enterprise's current certificate (neither revoked nor superseded), as its grade summary
/// keeps it: what the alerts about a grade need, without the whole certificate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CurrentGrade {
    /// The certificate.
    pub certificate: CertificateId,
    /// Its grade.
    pub grade: Grade,
    /// Its number (证书编号).
    pub number: String,
    /// Issued on.
    pub issued_on: NaiveDate,
    /// Last day of validity.
    pub valid_until: NaiveDate,
}

impl CurrentGrade {
    /// `c` as a current grade; `None` if it was revoked or replaced.
    pub fn of(c: &Certificate) -> Option<Self> {
        (c.revocation.is_none() && c.superseded_by.is_none()).then(|| Self {
            certificate: c.id,
            grade: c.data.grade,
            number: c.data.number.clone(),
            issued_on: c.data.issued_on,
            valid_until: c.data.valid_until,
        })
    }
}

/// A revocation decision (撤销).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Revocation {
    /// Which trigger of 定级办法.
    pub trigger: RevocationTrigger,
    /// The legal basis cited in the decision.
    pub legal_basis: String,
    /// Why, in the regulator's words.
    pub reason: String,
    /// Date of the decision.
    pub decided_on: NaiveDate,
    /// The grade-rule set that decided it (and so the bar after it); set by
    /// [`transitions::revoke`], empty before.
    pub rules_version: String,
}

/// Unvalidated certificate input, as a client sent it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CertificateInput {
    /// See [`CertificateData::enterprise_id`].
    pub enterprise_id: Option<String>,
    /// See [`CertificateData::regime`]; derived from the issue date when absent.
    pub regime: Option<String>,
    /// See [`CertificateData::grade`].
    pub grade: Option<String>,
    /// See [`CertificateData::number`].
    pub number: Option<String>,
    /// See [`CertificateData::authority_level`].
    pub authority_level: Option<String>,
    /// See [`CertificateData::authority_name`].
    pub authority_name: Option<String>,
    /// See [`CertificateData::issued_on`] (`YYYY-MM-DD`).
    pub issued_on: Option<String>,
    /// See [`CertificateData::valid_until`]; issue date + 3 years when absent.
    pub valid_until: Option<String>,
    /// See [`CertificateData::standard`].
    pub standard: Option<String>,
}

fn date(c: &mut Checker, field: &str, raw: Option<&str>) -> Option<NaiveDate> {
    let raw = raw?;
    match NaiveDate::parse_from_str(raw.trim(), "%Y-%m-%d") {
        Ok(d) => Some(d),
        Err(_) => {
            c.fail(
                field,
                V::InvalidValue,
                format!("{field} 须为日期 YYYY-MM-DD，实际为 '{raw}'"),
            );
            None
        }
    }
}

impl CertificateInput {
    /// Checks every field and reports every violation at once: required fields, a date not
    /// after `today`, a validity that ends after the issue date, and a regime consistent with
    /// the issue date (legacy before 2021-10-27) and the grade (small/micro track).
    pub fn validate(
        &self,
        rules: &GradeRules,
        today: NaiveDate,
    ) -> Result<CertificateData, Vec<Violation>> {
        let mut c = Checker::default();
        let enterprise_id = c
            .required("enterprise_id", &self.enterprise_id)
            .and_then(|raw| {
                let id = EnterpriseId::parse(raw.trim());
                if id.is_none() {
                    c.fail(
                        "enterprise_id",
                        V::InvalidValue,
                        format!("'{raw}' 不是企业 id"),
                    );
                }
                id
            });
        let grade: Option<Grade> = c
            .required("grade", &self.grade)
            .and_then(|v| c.code("grade", Some(v)));
        let number = c
            .required("number", &self.number)
            .and_then(|v| c.text("number", Some(v), certificate_limits::NUMBER));
        let authority_level: Option<AuthorityLevel> = c
            .required("authority_level", &self.authority_level)
            .and_then(|v| c.code("authority_level", Some(v)));
        let authority_name = c
            .required("authority_name", &self.authority_name)
            .and_then(|v| c.text("authority_name", Some(v), certificate_limits::NAME));
        let standard = c
            .required("standard", &self.standard)
            .and_then(|v| c.text("standard", Some(v), certificate_limits::NAME));
        let issued_on = c
            .required("issued_on", &self.issued_on)
            .and_then(|v| date(&mut c, "issued_on", Some(v)));
        if let Some(on) = issued_on.filter(|on| *on > today) {
            c.fail(
                "issued_on",
                V::OutOfRange,
                format!("issued_on {on} 晚于今天（{today}）"),
            );
        }
        let valid_until = match (
            date(&mut c, "valid_until", self.valid_until.as_deref()),
            issued_on,
        ) {
            (Some(until), Some(on)) if until <= on => {
                c.fail(
                    "valid_until",
                    V::OutOfRange,
                    format!("valid_until {until} 须晚于 issued_on {on}"),
                );
                None
            }
            (Some(until), _) => Some(until),
            (None, Some(on)) if self.valid_until.is_none() => Some(rules.valid_until(on)),
            (None, _) => None,
        };
        let regime: Option<Regime> = match (self.regime.as_deref(), issued_on, grade) {
            (Some(raw), on, g) => c.code::<Regime>("regime", Some(raw)).and_then(|r| {
                let legacy_date = on.map(|on| on < rules.measures_2021_from);
                let wrong = match r {
                    Regime::Legacy2014 => legacy_date == Some(false),
                    Regime::Grading2021 => legacy_date == Some(true) || g == Some(Grade::SmallMicro),
                    Regime::SmallMicro => g.is_some_and(|g| g != Grade::SmallMicro),
                };
                if wrong {
                    c.fail("regime", V::InvalidValue, format!(
                        "regime {r} 与 {} 颁发于 {} 的证书不符：legacy_2014 用于 {} 之前颁发的等级，small_micro 用于小微达标",
                        g.map_or("", |g| g.as_str()),
                        on.map_or_else(String::new, |d| d.to_string()),
                        rules.measures_2021_from
                    ));
                    None
                } else {
                    Some(r)
                }
            }),
            (None, Some(on), Some(g)) => Some(rules.regime_for(on, g == Grade::SmallMicro)),
            (None, _, _) => None,
        };
        match (
            enterprise_id,
            regime,
            grade,
            number,
            authority_level,
            authority_name,
            issued_on,
            valid_until,
            standard,
        ) {
            (
                Some(enterprise_id),
                Some(regime),
                Some(grade),
                Some(number),
                Some(authority_level),
                Some(authority_name),
                Some(issued_on),
                Some(valid_until),
                Some(standard),
            ) if c.violations.is_empty() => Ok(CertificateData {
                enterprise_id,
                regime,
                grade,
                number,
                authority_level,
                authority_name,
                issued_on,
                valid_until,
                standard,
            }),
            _ => Err(c.violations),
        }
    }
}

/// Unvalidated revocation input.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RevocationInput {
    /// See [`Revocation::trigger`].
    pub trigger: Option<String>,
    /// See [`Revocation::legal_basis`].
    pub legal_basis: Option<String>,
    /// See [`Revocation::reason`].
    pub reason: Option<String>,
    /// See [`Revocation::decided_on`] (`YYYY-MM-DD`).
    pub decided_on: Option<String>,
}

impl RevocationInput {
    /// Checks every field: a trigger from the closed list, a legal basis and a reason, and a
    /// decision date not after `today` nor before the certificate was issued.
    pub fn validate(
        &self,
        issued_on: NaiveDate,
        today: NaiveDate,
    ) -> Result<Revocation, Vec<Violation>> {
        let mut c = Checker::default();
        let trigger: Option<RevocationTrigger> = c
            .required("trigger", &self.trigger)
            .and_then(|v| c.code("trigger", Some(v)));
        let legal_basis = c
            .required("legal_basis", &self.legal_basis)
            .and_then(|v| c.text("legal_basis", Some(v), certificate_limits::LEGAL_BASIS));
        let reason = c
            .required("reason", &self.reason)
            .and_then(|v| c.text("reason", Some(v), certificate_limits::REASON));
        let decided_on = c
            .required("decided_on", &self.decided_on)
            .and_then(|v| date(&mut c, "decided_on", Some(v)));
        if let Some(on) = decided_on
            && (on > today || on < issued_on)
        {
            c.fail("decided_on", V::OutOfRange, format!("decided_on {on} must lie between the issue date {issued_on} and today ({today})"));
        }
        match (trigger, legal_basis, reason, decided_on) {
            (Some(trigger), Some(legal_basis), Some(reason), Some(decided_on))
                if c.violations.is_empty() =>
            {
                Ok(Revocation {
                    trigger,
                    legal_basis,
                    reason,
                    decided_on,
                    rules_version: String::new(),
                })
            }
            _ => Err(c.violations),
        }
    }
}

/// A stored certificate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Certificate {
    /// Id.
    pub id: CertificateId,
    /// The facts as recorded.
    pub data: CertificateData,
    /// The revocation, if it was revoked.
    pub revocation: Option<Revocation>,
    /// The certificate that replaced it (renewal or upgrade).
    pub superseded_by: Option<CertificateId>,
    /// The day it was replaced (the successor's issue date): from then on it is no longer
    /// in force.
    pub superseded_on: Option<NaiveDate>,
    /// The grade-rule set in force when it was recorded (it set the default validity and
    /// the regime).
    pub rules_version: String,
    /// Optimistic-concurrency version.
    pub version: i64,
    /// When it was recorded.
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
}

impl Certificate {
    /// Its status on `today` with a renewal window of `window_months`.
    pub fn status(
        &self,
        rules: &GradeRules,
        today: NaiveDate,
        window_months: u32,
    ) -> CertificateStatus {
        rules.status(
            self.data.valid_until,
            self.revocation.is_some(),
            self.superseded_by.is_some(),
            today,
            window_months,
        )
    }
}

code_list! {
    /// Kind of accident (事故类别), GB 6441-1986 《企业职工伤亡事故分类》.
    pub enum AccidentKind {
        /// 物体打击.
        StruckByObject = ("struck_by_object", "物体打击"),
        /// 车辆伤害.
        Vehicle = ("vehicle", "车辆伤害"),
        /// 机械伤害.
        Machinery = ("machinery", "机械伤害"),
        /// 起重伤害.
        Lifting = ("lifting", "起重伤害"),
        /// 触电.
        ElectricShock = ("electric_shock", "触电"),
        /// 淹溺.
        Drowning = ("drowning", "淹溺"),
        /// 灼烫.
        Burn = ("burn", "灼烫"),
        /// 火灾.
        Fire = ("fire", "火灾"),
        /// 高处坠落.
        FallFromHeight = ("fall_from_height", "高处坠落"),
        /// 坍塌.
        Collapse = ("collapse", "坍塌"),
        /// 冒顶片帮.
        RoofFall = ("roof_fall", "冒顶片帮"),
        /// 透水.
        WaterInrush = ("water_inrush", "透水"),
        /// 放炮.
        Blasting = ("blasting", "放炮"),
        /// 火药爆炸.
        ExplosiveBlast = ("explosive_blast", "火药爆炸"),
        /// 瓦斯爆炸.
        GasExplosion = ("gas_explosion", "瓦斯爆炸"),
        /// 锅炉爆炸.
        BoilerExplosion = ("boiler_explosion", "锅炉爆炸"),
        /// 容器爆炸.
        VesselExplosion = ("vessel_explosion", "容器爆炸"),
        /// 其他爆炸.
        OtherExplosion = ("other_explosion", "其他爆炸"),
        /// 中毒和窒息.
        Poisoning = ("poisoning", "中毒和窒息"),
        /// 其他伤害.
        Other = ("other", "其他伤害"),
    }
}

code_list! {
    /// The procedure of a same-grade renewal (再次申请同一等级).
    pub enum RenewalTrack {
        /// Straight to publicity and announcement, no on-site review (定级办法; needs the
        /// conditions of [`GradeRules::fast_track`]).
        FastTrack = ("fast_track", "直接公示公告"),
        /// The full procedure with on-site review.
        FullReview = ("full_review", "完整评审"),
    }
}

code_list! {
    /// A due action derived from the records (提醒). Each kind names the rule it comes from.
    pub enum AlertKind {
        /// The renewal window of a grade in force is open: re-apply before it expires.
        /// Rule: 定级办法 (re-application up to 3 months before expiry) and notice 二（三）.
        GradeExpiring = ("grade_expiring", "等级即将到期"),
        /// A grade expired and the enterprise holds none since: it must restart creation.
        /// Rule: notice 绵应急函〔2020〕42号 二（三）.
        GradeExpired = ("grade_expired", "等级已过期"),
        /// An accident happened while a grade was in force: restart creation, and the grading
        /// authority decides on revocation. Rule: notice 二（三）.
        AccidentDuringValidity = ("accident_during_validity", "有效期内发生事故"),
        /// An accident meets a revocation trigger of 定级办法 (death; ≥3 seriously injured or
        /// ≥CNY 1 million in 12 consecutive months; concealment), awaiting the decision.
        RevocationTrigger = ("revocation_trigger", "触发撤销情形"),
        /// The follow-up date of the last guidance visit passed without a new visit.
        /// Rule: notice 二（一） (guide the enterprises that are a supervision focus).
        FocusFollowUpDue = ("focus_follow_up_due", "督促指导回访到期"),
        /// The upgrade target's year has come without the target grade.
        /// Rule: notice 二（二） (push key enterprises to grade 一级 or 二级).
        UpgradeTargetDue = ("upgrade_target_due", "提档升级目标到期"),
        /// An attained enterprise has submitted no self-assessment within the interval
        /// (定级办法: at least once a year).
        AnnualSelfAssessmentMissing = ("annual_self_assessment_missing", "年度自评缺失"),
        /// A step of a grading application is past its working-day deadline.
        GradingStepOverdue = ("grading_step_overdue", "定级办理超期"),
        /// A major hazard is still open past its deadline (重大事故隐患逾期未整改); for an
        /// enterprise holding a grade it is also a `revocation_trigger` (定级办法 revocation
        /// item 8).
        MajorHazardOverdue = ("major_hazard_overdue", "重大事故隐患逾期未整改"),
    }
}

code_list! {
    /// An enterprise's standardization status (标准化状态), derived from its certificates and
    /// accidents on a given day.
    pub enum StandardizationStatus {
        /// No grade, none before.
        NotStarted = ("not_started", "未创建"),
        /// No grade in force and creation under way (the drive's stage is past
        /// `not_started`).
        Creating = ("creating", "创建中"),
        /// Holds a grade in force.
        Attained = ("attained", "已达标"),
        /// Its last grade expired: restart creation (notice 二（三）).
        Expired = ("expired", "已过期"),
        /// Its last grade was revoked.
        Revoked = ("revoked", "已撤销"),
        /// An accident happened while its grade was in force: restart creation
        /// (notice 二（三）).
        RestartRequired = ("restart_required", "须重新创建"),
    }
}

/// What an enterprise's certificates and accidents say about its grade, independent of the
/// day (the status is derived from it with [`GradeSummary::status`]).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GradeSummary {
    /// Its current certificate (neither revoked nor superseded; the latest to expire).
    pub current_certificate: Option<CertificateId>,
    /// The grade of its current certificate (neither revoked nor superseded; the latest to
    /// expire), even if that has expired since.
    pub current_grade: Option<Grade>,
    /// That certificate's last day of validity.
    pub grade_valid_until: Option<NaiveDate>,
    /// An accident happened while a grade was in force and no grade was granted since.
    pub restart_required: bool,
    /// Its last grade was revoked on this day and no grade was granted since.
    pub revoked_on: Option<NaiveDate>,
    /// Its creation drive says creation is under way (a stage after `not_started`).
    pub creating: bool,
}

impl GradeSummary {
    /// Summarises an enterprise's `certificates` and `accidents`.
    pub fn of(certificates: &[Certificate], accidents: &[AccidentFacts]) -> Self {
        let current = certificates
            .iter()
            .filter(|c| c.revocation.is_none() && c.superseded_by.is_none())
            .max_by_key(|c| (c.data.valid_until, c.data.grade.rank()));
        let granted_after = |day: NaiveDate| {
            certificates
                .iter()
                .any(|c| c.revocation.is_none() && c.data.issued_on > day)
        };
        let revoked_on = certificates
            .iter()
            .filter_map(|c| c.revocation.as_ref().map(|r| r.decided_on))
            .max()
            .filter(|on| !granted_after(*on));
        let restart_required = accidents.iter().any(|a| {
            certificates.iter().any(|c| in_force_on(c, a.occurred_on))
                && !granted_after(a.occurred_on)
        });
        Self {
            current_certificate: current.map(|c| c.id),
            current_grade: current.map(|c| c.data.grade),
            grade_valid_until: current.map(|c| c.data.valid_until),
            restart_required,
            revoked_on,
            creating: false,
        }
    }

    /// The status on `today`: a grade in force decides (attained, or restart required after
    /// an accident); without one, creation under way is `creating`, else the last outcome
    /// (revoked, restart required, expired) or `not_started`. Rule: notice 绵应急函〔2020〕42号 二（三） (expired grade, or an
    /// accident while it was valid: restart creation); 定级办法 (revocation).
    pub fn status(&self, today: NaiveDate) -> StandardizationStatus {
        let in_force = self.grade_valid_until.is_some_and(|until| until >= today);
        if in_force && self.restart_required {
            StandardizationStatus::RestartRequired
        } else if in_force {
            StandardizationStatus::Attained
        } else if self.creating {
            StandardizationStatus::Creating
        } else if self.revoked_on.is_some() {
            StandardizationStatus::Revoked
        } else if self.restart_required {
            StandardizationStatus::RestartRequired
        } else if self.grade_valid_until.is_some() {
            StandardizationStatus::Expired
        } else {
            StandardizationStatus::NotStarted
        }
    }

    /// The grade in force on `today`, if any.
    pub fn grade_on(&self, today: NaiveDate) -> Option<Grade> {
        match self.status(today) {
            StandardizationStatus::Attained | StandardizationStatus::RestartRequired
                if self.grade_valid_until.is_some_and(|u| u >= today) =>
            {
                self.current_grade
            }
            _ => None,
        }
    }
}

/// What an accident means for one certificate that was in force on its date.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertificateImpact {
    /// The certificate.
    pub certificate_id: CertificateId,
    /// Its grade.
    pub grade: Grade,
    /// Its number.
    pub number: String,
    /// Revocation triggers the accident meets (a decision for the grading authority).
    pub triggers: Vec<RevocationTrigger>,
    /// Whether same-grade fast-track renewal is still possible, and why not.
    pub fast_track: FastTrack,
}

/// The evaluation of an accident against the enterprise's certificates and other accidents.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Evaluation {
    /// Every certificate in force on the accident's date, with what it means for it.
    pub certificates: Vec<CertificateImpact>,
    /// The enterprise must start creation over: the accident happened while a grade was
    /// valid. Rule: 绵应急函〔2020〕42号 二（三）.
    pub restart_required: bool,
    /// The grade-rule set that evaluated it.
    pub rules_version: String,
}

/// Whether `c` was in force on `on`: issued by then, not past its validity, not revoked
/// and not replaced by a successor before that day (on the successor's issue date the
/// successor is the one in force).
pub fn in_force_on(c: &Certificate, on: NaiveDate) -> bool {
    during_validity(c.data.issued_on, c.data.valid_until, on)
        && c.revocation.as_ref().is_none_or(|r| r.decided_on > on)
        && c.superseded_on.is_none_or(|s| s > on)
}

impl GradeRules {
    /// Evaluates `accident` (one of the enterprise's `accidents`, which may include it)
    /// against the enterprise's `certificates`: for each certificate in force on its date,
    /// the revocation triggers met (items 1, 2, 4 of 定级办法's list, counting totals over 12
    /// consecutive months) and whether same-grade fast-track renewal is still possible
    /// (totals over that certificate's validity); and whether the enterprise must restart
    /// creation (notice 二（三）).
    pub fn evaluate(
        &self,
        accident: &AccidentFacts,
        accidents: &[AccidentFacts],
        certificates: &[Certificate],
    ) -> Evaluation {
        let mut skipped = false;
        let others: Vec<AccidentFacts> = accidents
            .iter()
            .filter(|a| {
                // Leave out the accident itself once.
                if !skipped && *a == accident {
                    skipped = true;
                    false
                } else {
                    true
                }
            })
            .copied()
            .collect();
        let triggers = self.triggers_of(accident, &others);
        let impacts: Vec<CertificateImpact> = certificates
            .iter()
            .filter(|c| in_force_on(c, accident.occurred_on))
            .map(|c| {
                let during: Vec<AccidentFacts> = others
                    .iter()
                    .chain(std::iter::once(accident))
                    .filter(|a| {
                        during_validity(c.data.issued_on, c.data.valid_until, a.occurred_on)
                    })
                    .copied()
                    .collect();
                CertificateImpact {
                    certificate_id: c.id,
                    grade: c.data.grade,
                    number: c.data.number.clone(),
                    triggers: triggers.clone(),
                    fast_track: self.fast_track(c.data.grade, &during),
                }
            })
            .collect();
        Evaluation {
            restart_required: !impacts.is_empty(),
            certificates: impacts,
            rules_version: self.version.to_owned(),
        }
    }
}

/// Limits of accident fields.
pub mod accident_limits {
    /// Most deaths or injured one record can state.
    pub const PEOPLE: i64 = 100_000;
    /// Largest direct loss in CNY.
    pub const LOSS_CNY: i64 = 1_000_000_000_000;
    /// Source text.
    pub const SOURCE: usize = 200;
}

/// A recorded accident.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccidentData {
    /// The enterprise.
    pub enterprise_id: EnterpriseId,
    /// Kind.
    pub kind: AccidentKind,
    /// The facts the rules use.
    pub facts: AccidentFacts,
    /// Where the record comes from (investigation report, notice number, ...).
    pub source: Option<String>,
}

/// Unvalidated accident input.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AccidentInput {
    /// See [`AccidentData::enterprise_id`].
    pub enterprise_id: Option<String>,
    /// `YYYY-MM-DD`, not after today.
    pub occurred_on: Option<String>,
    /// See [`AccidentData::kind`].
    pub kind: Option<String>,
    /// Deaths, 0 when absent.
    pub deaths: Option<i64>,
    /// Seriously injured, 0 when absent.
    pub seriously_injured: Option<i64>,
    /// Direct loss in CNY, 0 when absent.
    pub direct_loss_cny: Option<i64>,
    /// Concealed or reported late; false when absent.
    pub concealed: Option<bool>,
    /// See [`AccidentData::source`].
    pub source: Option<String>,
}

impl AccidentInput {
    /// Checks every field and reports every violation at once.
    pub fn validate(&self, today: NaiveDate) -> Result<AccidentData, Vec<Violation>> {
        let mut c = Checker::default();
        let enterprise_id = c
            .required("enterprise_id", &self.enterprise_id)
            .and_then(|raw| {
                let id = EnterpriseId::parse(raw.trim());
                if id.is_none() {
                    c.fail(
                        "enterprise_id",
                        V::InvalidValue,
                        format!("'{raw}' 不是企业 id"),
                    );
                }
                id
            });
        let occurred_on = c
            .required("occurred_on", &self.occurred_on)
            .and_then(|v| date(&mut c, "occurred_on", Some(v)));
        if let Some(on) = occurred_on.filter(|on| *on > today) {
            c.fail(
                "occurred_on",
                V::OutOfRange,
                format!("occurred_on {on} 晚于今天（{today}）"),
            );
        }
        let kind: Option<AccidentKind> = c
            .required("kind", &self.kind)
            .and_then(|v| c.code("kind", Some(v)));
        let mut count = |field: &str, v: Option<i64>, max: i64| -> Option<i64> {
            let n = v.unwrap_or(0);
            if (0..=max).contains(&n) {
                Some(n)
            } else {
                c.fail(
                    field,
                    V::OutOfRange,
                    format!("{field} 须在 0 到 {max} 之间，实际为 {n}"),
                );
                None
            }
        };
        let deaths = count("deaths", self.deaths, accident_limits::PEOPLE);
        let injured = count(
            "seriously_injured",
            self.seriously_injured,
            accident_limits::PEOPLE,
        );
        let loss = count(
            "direct_loss_cny",
            self.direct_loss_cny,
            accident_limits::LOSS_CNY,
        );
        let source = c.text("source", self.source.as_deref(), accident_limits::SOURCE);
        match (enterprise_id, occurred_on, kind, deaths, injured, loss) {
            (
                Some(enterprise_id),
                Some(occurred_on),
                Some(kind),
                Some(deaths),
                Some(injured),
                Some(loss),
            ) if c.violations.is_empty() => Ok(AccidentData {
                enterprise_id,
                kind,
                facts: AccidentFacts {
                    occurred_on,
                    deaths: u32::try_from(deaths).unwrap_or(u32::MAX),
                    seriously_injured: u32::try_from(injured).unwrap_or(u32::MAX),
                    direct_loss_cny: loss,
                    concealed: self.concealed.unwrap_or(false),
                },
                source,
            }),
            _ => Err(c.violations),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use RevocationTrigger as T;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap_or(NaiveDate::MIN)
    }

    fn accident(on: NaiveDate, injured: u32, loss: i64) -> AccidentFacts {
        AccidentFacts {
            occurred_on: on,
            deaths: 0,
            seriously_injured: injured,
            direct_loss_cny: loss,
            concealed: false,
        }
    }

    fn rules() -> &'static GradeRules {
        GradeRules::builtin()
    }

    #[test]
    fn validity_and_renewal_window() {
        let r = rules();
        let until = r.valid_until(d(2019, 3, 1));
        assert_eq!(until, d(2022, 3, 1));
        assert_eq!(r.renewal_opens_on(until), d(2021, 12, 1));
        assert_eq!(
            r.valid_until(d(2020, 2, 29)),
            d(2023, 2, 28),
            "leap day clamps"
        );
        let s = |today| r.status(until, false, false, today, 3);
        assert_eq!(s(d(2021, 11, 30)), CertificateStatus::Valid);
        assert_eq!(s(d(2021, 12, 1)), CertificateStatus::Expiring);
        assert_eq!(
            s(d(2022, 3, 1)),
            CertificateStatus::Expiring,
            "the last day is valid"
        );
        assert_eq!(s(d(2022, 3, 2)), CertificateStatus::Expired);
        assert_eq!(
            r.status(until, true, true, d(2020, 1, 1), 3),
            CertificateStatus::Revoked
        );
        assert_eq!(
            r.status(until, false, true, d(2020, 1, 1), 3),
            CertificateStatus::Superseded
        );
    }

    #[test]
    fn regimes_split_on_the_2021_measures() {
        let r = rules();
        assert_eq!(r.regime_for(d(2021, 10, 26), false), Regime::Legacy2014);
        assert_eq!(r.regime_for(d(2021, 10, 27), false), Regime::Grading2021);
        assert_eq!(r.regime_for(d(2022, 1, 1), true), Regime::SmallMicro);
    }

    #[test]
    fn injury_threshold_is_three_in_total() {
        let on = d(2022, 5, 1);
        assert_eq!(
            rules().triggers_of(&accident(on, 3, 0), &[]),
            vec![T::InjuryOrLoss12Months]
        );
        assert!(rules().triggers_of(&accident(on, 2, 0), &[]).is_empty());
    }

    #[test]
    fn loss_threshold_is_one_million_in_total() {
        let on = d(2022, 5, 1);
        assert!(
            rules()
                .triggers_of(&accident(on, 0, 999_999), &[])
                .is_empty()
        );
        assert_eq!(
            rules().triggers_of(&accident(on, 0, 1_000_000), &[]),
            vec![T::InjuryOrLoss12Months]
        );
        let earlier = accident(d(2022, 1, 1), 0, 500_000);
        assert_eq!(
            rules().triggers_of(&accident(on, 0, 500_000), &[earlier]),
            vec![T::InjuryOrLoss12Months],
            "totals add up"
        );
    }

    #[test]
    fn twelve_month_windows_across_year_ends() {
        let first = accident(d(2021, 11, 20), 2, 0);
        // 11 months later, across the year end: one window holds both (2 + 1 = 3).
        let near = accident(d(2022, 10, 19), 1, 0);
        assert_eq!(
            rules().triggers_of(&near, &[first]),
            vec![T::InjuryOrLoss12Months]
        );
        // Exactly 12 months later: the window [2021-11-20, 2022-11-20) no longer holds it.
        let twelve = accident(d(2022, 11, 20), 1, 0);
        assert!(rules().triggers_of(&twelve, &[first]).is_empty());
        // 13 months apart: none.
        let far = accident(d(2022, 12, 20), 1, 0);
        assert!(rules().triggers_of(&far, &[first]).is_empty());
        // The day before the 12 months end still counts.
        let last_day = accident(d(2022, 11, 19), 1, 0);
        assert_eq!(
            rules().triggers_of(&last_day, &[first]),
            vec![T::InjuryOrLoss12Months]
        );
        // An earlier accident can be the later one's partner too.
        assert_eq!(
            rules().triggers_of(&first, &[near]),
            vec![T::InjuryOrLoss12Months]
        );
    }

    #[test]
    fn two_accidents_on_one_day_both_count() {
        let on = d(2022, 5, 1);
        assert_eq!(
            rules().triggers_of(&accident(on, 2, 0), &[accident(on, 2, 0)]),
            vec![T::InjuryOrLoss12Months]
        );
    }

    #[test]
    fn deaths_and_concealment_trigger_alone() {
        let mut a = accident(d(2022, 5, 1), 0, 0);
        a.deaths = 1;
        a.concealed = true;
        assert_eq!(
            rules().triggers_of(&a, &[]),
            vec![T::FatalAccident, T::ConcealedAccident]
        );
    }

    #[test]
    fn fast_track_limits_depend_on_the_grade() {
        let four = [accident(d(2022, 5, 1), 4, 0)];
        assert!(
            rules().fast_track(Grade::Grade3, &four).allowed,
            "4 < 5 for 三级"
        );
        let f = rules().fast_track(Grade::Grade1, &four);
        assert!(!f.allowed && f.reasons.len() == 1, "4 ≥ 3 for 一级: {f:?}");
        let loss = [accident(d(2022, 5, 1), 0, 4_999_999)];
        assert!(rules().fast_track(Grade::Grade2, &loss).allowed);
        let loss = [accident(d(2022, 5, 1), 0, 5_000_000)];
        assert!(!rules().fast_track(Grade::Grade2, &loss).allowed);
        let mut fatal = accident(d(2022, 5, 1), 0, 0);
        fatal.deaths = 1;
        assert!(!rules().fast_track(Grade::Grade3, &[fatal]).allowed);
        assert!(rules().fast_track(Grade::Grade3, &[]).allowed);
    }

    #[test]
    fn revocation_bars_regrading_for_a_year() {
        assert_eq!(rules().regrade_opens_on(d(2022, 6, 15)), d(2023, 6, 15));
        assert!(during_validity(d(2019, 3, 1), d(2022, 3, 1), d(2022, 3, 1)));
        assert!(!during_validity(
            d(2019, 3, 1),
            d(2022, 3, 1),
            d(2022, 3, 2)
        ));
    }

    proptest::proptest! {
        /// Two accidents with 2 and 1 seriously injured trigger revocation exactly when the
        /// later one falls before the same day 12 months after the earlier one, whichever of
        /// the two is being recorded.
        #[test]
        fn two_accidents_share_a_window_iff_less_than_twelve_months_apart(a in 0i64..3000, b in 0i64..3000) {
            let base = d(2019, 1, 1);
            let (da, db) = (base + chrono::Duration::days(a), base + chrono::Duration::days(b));
            let (x, y) = (accident(da, 2, 0), accident(db, 1, 0));
            let (early, late) = if da <= db { (da, db) } else { (db, da) };
            let expected = late < add_months(early, 12);
            proptest::prop_assert_eq!(!rules().triggers_of(&y, &[x]).is_empty(), expected);
            proptest::prop_assert_eq!(!rules().triggers_of(&x, &[y]).is_empty(), expected);
        }
    }
}

//! The grade rules in force, from a TOML file the bureau keeps (`grade_rules` setting), so a
//! threshold checked against the published text of 定级办法 (most are tagged (R): recalled,
//! not yet checked) can be corrected without a rebuild. `safegrade grade-rules` prints the
//! built-in rule set in this format as a template. A changed rule set must carry a new
//! `version`: every decision keeps the version it was made under.

use chrono::NaiveDate;
use safegrade_domain::grading::{GradeRules, Limits};
use safegrade_domain::gradings::GradingLimits;
use safegrade_domain::hazards::ListedSupervision;
use safegrade_domain::insights::operation::OperationRules;
use safegrade_domain::risks::{BandTable, ControlLevel, builtin_band_tables};
use serde::{Deserialize, Serialize};

/// The file's shape: the fields of [`GradeRules`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct RulesFile {
    /// Name and version of the rule set, stored with every decision made under it.
    version: String,
    /// 定级办法's date: certificates issued before it are legacy (2014 regime).
    measures_2021_from: NaiveDate,
    /// Validity of a grade, months.
    validity_months: u32,
    /// Months before expiry in which renewal opens (status `expiring`).
    renewal_window_months: u32,
    /// Revocation trigger 2: the window, months.
    revocation_window_months: u32,
    /// Revocation trigger 2: the totals within the window.
    revocation_limits: Limits,
    /// Same-grade fast track: totals over the validity that exclude it, 一级.
    fast_track_grade1: Limits,
    /// The same for 二级, 三级 and small/micro.
    fast_track_other: Limits,
    /// Months after a revocation before a new grade may be granted.
    bar_after_revocation_months: u32,
    /// Months between an enterprise's self-assessments (annual duty); files written before
    /// this rule existed get the built-in 12.
    #[serde(default = "default_self_assessment_interval")]
    self_assessment_interval_months: u32,
    /// Working-day limits of the grading procedure; files written before this rule existed
    /// get the built-in ones.
    #[serde(default = "default_grading_limits")]
    grading_limits: GradingLimits,
    /// Weights and deductions of the weekly dual-prevention score; files written before
    /// this rule existed get the built-in ones.
    #[serde(default = "default_operation")]
    operation: OperationRules,
    /// The parameters of listed supervision (挂牌督办); files written before this rule
    /// existed get the built-in ones.
    #[serde(default = "default_listed_supervision")]
    listed_supervision: ListedSupervision,
    /// The control levels units are assigned to, from the top; files written before this
    /// rule existed get the built-in four.
    #[serde(default = "ControlLevel::builtin")]
    control_levels: Vec<ControlLevel>,
    /// The risk band tables in force, the first of each method its default; files written
    /// before this rule existed get the built-in ones.
    #[serde(default = "builtin_band_tables")]
    band_tables: Vec<BandTable>,
}

fn default_listed_supervision() -> ListedSupervision {
    GradeRules::builtin().listed_supervision
}

fn default_operation() -> OperationRules {
    GradeRules::builtin().operation
}

fn default_grading_limits() -> GradingLimits {
    GradeRules::builtin().grading_limits
}

fn default_self_assessment_interval() -> u32 {
    GradeRules::builtin().self_assessment_interval_months
}

/// The built-in rule set as TOML, with a header saying what the file is.
pub fn builtin_toml() -> anyhow::Result<String> {
    let r = GradeRules::builtin();
    let file = RulesFile {
        version: r.version.to_owned(),
        measures_2021_from: r.measures_2021_from,
        validity_months: r.validity_months,
        renewal_window_months: r.renewal_window_months,
        revocation_window_months: r.revocation_window_months,
        revocation_limits: r.revocation_limits,
        fast_track_grade1: r.fast_track_grade1,
        fast_track_other: r.fast_track_other,
        bar_after_revocation_months: r.bar_after_revocation_months,
        self_assessment_interval_months: r.self_assessment_interval_months,
        grading_limits: r.grading_limits,
        operation: r.operation,
        listed_supervision: r.listed_supervision,
        control_levels: r.control_levels.clone(),
        band_tables: r.band_tables.clone(),
    };
    Ok(format!(
        "# SafeGrade grade rules (《企业安全生产标准化建设定级办法》, 应急〔2021〕83号).\n\
         # Change a figure, give the set a new `version`, and point the `grade_rules` setting\n\
         # (SAFEGRADE_GRADE_RULES) at this file; restart every node. Decisions keep the version\n\
         # they were made under.\n{}",
        toml::to_string(&file)?
    ))
}

/// Reads and checks a rule-set file; the rules live for the whole process.
pub fn load(path: &std::path::Path) -> anyhow::Result<&'static GradeRules> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| anyhow::anyhow!("cannot read grade rules {}: {e}", path.display()))?;
    let rules = parse(&text).map_err(|e| anyhow::anyhow!("grade rules {}: {e}", path.display()))?;
    Ok(Box::leak(Box::new(rules)))
}

fn parse(text: &str) -> anyhow::Result<GradeRules> {
    let f: RulesFile = toml::from_str(text)?;
    let version = f.version.trim();
    anyhow::ensure!(
        !version.is_empty() && version.len() <= 64,
        "version must be 1-64 characters"
    );
    anyhow::ensure!(
        (1..=120).contains(&f.validity_months),
        "validity_months must be 1-120"
    );
    anyhow::ensure!(
        f.renewal_window_months < f.validity_months,
        "renewal_window_months must be shorter than validity_months"
    );
    anyhow::ensure!(
        (1..=120).contains(&f.revocation_window_months),
        "revocation_window_months must be 1-120"
    );
    anyhow::ensure!(
        f.bar_after_revocation_months <= 120,
        "bar_after_revocation_months must be at most 120"
    );
    anyhow::ensure!(
        (1..=60).contains(&f.self_assessment_interval_months),
        "self_assessment_interval_months must be 1-60"
    );
    let g = f.grading_limits;
    for (name, days) in [
        ("correction_notice", g.correction_notice),
        ("acceptance", g.acceptance),
        ("review", g.review),
        ("rectification", g.rectification),
        ("extension_max", g.extension_max),
        ("verification", g.verification),
        ("publicity", g.publicity),
    ] {
        anyhow::ensure!(
            (1..=120).contains(&days),
            "grading_limits.{name} must be 1-120 working days"
        );
    }
    let o = f.operation;
    anyhow::ensure!(
        o.task_weight + o.hazard_weight > 0 && o.task_weight <= 100 && o.hazard_weight <= 100,
        "operation: the weights must be 0-100 and not both 0"
    );
    anyhow::ensure!(
        (1..=52).contains(&o.quiet_weeks)
            && o.in_charge_missed_deduction <= 100
            && o.quiet_deduction <= 100,
        "operation: quiet_weeks must be 1-52 and the deductions 0-100"
    );
    let l = f.listed_supervision;
    anyhow::ensure!(
        (1..=60).contains(&l.max_rectification_months)
            && (1..=60).contains(&l.notice_working_days)
            && l.extension_lead_working_days <= 120,
        "listed_supervision: max_rectification_months and notice_working_days must be 1-60, extension_lead_working_days 0-120"
    );
    ControlLevel::check_list(&f.control_levels).map_err(anyhow::Error::msg)?;
    for (i, t) in f.band_tables.iter().enumerate() {
        t.check().map_err(|e| anyhow::anyhow!("band_tables: {e}"))?;
        anyhow::ensure!(
            f.band_tables[..i].iter().all(|o| o.id != t.id),
            "band_tables: {} appears twice",
            t.id
        );
    }
    for (name, l) in [
        ("revocation_limits", f.revocation_limits),
        ("fast_track_grade1", f.fast_track_grade1),
        ("fast_track_other", f.fast_track_other),
    ] {
        anyhow::ensure!(
            l.seriously_injured > 0 && l.direct_loss_cny > 0,
            "{name}: both limits must be positive"
        );
    }
    let builtin = GradeRules::builtin();
    let rules = GradeRules {
        version: Box::leak(version.to_owned().into_boxed_str()),
        measures_2021_from: f.measures_2021_from,
        validity_months: f.validity_months,
        renewal_window_months: f.renewal_window_months,
        revocation_window_months: f.revocation_window_months,
        revocation_limits: f.revocation_limits,
        fast_track_grade1: f.fast_track_grade1,
        fast_track_other: f.fast_track_other,
        bar_after_revocation_months: f.bar_after_revocation_months,
        self_assessment_interval_months: f.self_assessment_interval_months,
        grading_limits: f.grading_limits,
        operation: f.operation,
        band_tables: f.band_tables,
        control_levels: f.control_levels,
        listed_supervision: f.listed_supervision,
    };
    anyhow::ensure!(
        rules.version != builtin.version || rules == *builtin,
        "the figures differ from the built-in rule set {}: give the changed set a new version",
        builtin.version
    );
    Ok(rules)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_template_reads_back_as_the_builtin_rules() -> anyhow::Result<()> {
        assert_eq!(parse(&builtin_toml()?)?, *GradeRules::builtin());
        Ok(())
    }

    /// A file written before the self-assessment interval and the grading limits existed
    /// still loads, with the built-in values for them; a bad limit is refused by name.
    #[test]
    fn older_files_get_the_new_rules_built_in() -> anyhow::Result<()> {
        let template = builtin_toml()?;
        // The template with the two newer rules left out: the interval line, and the
        // grading-limits table (the last one).
        let older: String = template
            .split_once("\n[grading_limits]")
            .map_or(template.as_str(), |(before, _)| before)
            .lines()
            .filter(|l| !l.starts_with("self_assessment_interval_months"))
            .collect::<Vec<_>>()
            .join("\n");
        assert!(!older.contains("grading_limits") && !older.contains("self_assessment"));
        let rules = parse(&older)?;
        assert_eq!(rules.self_assessment_interval_months, 12);
        assert_eq!(rules.grading_limits, GradeRules::builtin().grading_limits);
        let bad = template.replace("publicity = 7", "publicity = 0");
        let err = parse(&bad).err().map(|e| e.to_string()).unwrap_or_default();
        assert!(err.contains("grading_limits.publicity"), "{err}");
        Ok(())
    }

    /// A city adds its own band table and control level and shortens the listing period;
    /// a table whose levels do not fall is refused by name.
    #[test]
    fn a_city_configures_its_dual_prevention_rules() -> anyhow::Result<()> {
        let template = builtin_toml()?.replace("定级办法2021-r1", "绵阳2027-r3");
        let ours = format!(
            "{}\n[[band_tables]]\nid = \"lec-my@2027-01-01\"\nmethod = \"lec\"\n\
             title = \"绵阳 LEC 分级\"\nbands = [[240, \"major\"], [120, \"significant\"], [50, \"general\"]]\n\
             rest = \"low\"\n\n[[control_levels]]\ncode = \"workshop\"\nlabel_zh = \"车间级\"\n",
            template.replace(
                "max_rectification_months = 12",
                "max_rectification_months = 6"
            )
        );
        let rules = parse(&ours)?;
        assert_eq!(rules.listed_supervision.max_rectification_months, 6);
        assert!(
            rules
                .band_tables
                .iter()
                .any(|t| t.id == "lec-my@2027-01-01")
        );
        assert_eq!(
            rules.control_levels.last().map(|l| l.code.as_str()),
            Some("workshop")
        );
        let bad = ours.replace("[120, \"significant\"]", "[120, \"major\"]");
        let err = parse(&bad).err().map(|e| e.to_string()).unwrap_or_default();
        assert!(err.contains("lec-my@2027-01-01"), "{err}");
        let twice = ours.replace("code = \"workshop\"", "code = \"team\"");
        assert!(parse(&twice).is_err(), "a control level twice");
        Ok(())
    }

    #[test]
    fn a_changed_rule_set_needs_a_new_version_and_sane_figures() -> anyhow::Result<()> {
        let template = builtin_toml()?;
        let changed = template.replace(
            "bar_after_revocation_months = 12",
            "bar_after_revocation_months = 24",
        );
        assert!(parse(&changed).is_err(), "same version, other figures");
        let renamed = changed.replace("定级办法2021-r1", "绵阳2027-r2");
        let rules = parse(&renamed)?;
        assert_eq!(
            (rules.version, rules.bar_after_revocation_months),
            ("绵阳2027-r2", 24)
        );
        let bad = renamed.replace("validity_months = 36", "validity_months = 2");
        assert!(parse(&bad).is_err(), "window longer than validity");
        assert!(
            parse(&format!("{renamed}\ncolour = 1\n")).is_err(),
            "unknown key"
        );
        Ok(())
    }
}

//! Is the dual-prevention mechanism running (运行效果)? A weekly score per enterprise from
//! the data SafeGrade holds, the signal look-back audits (回头看) use to choose samples.
//!
//! Rule (domain research §14, a provincial platform's scheme, (R)): E = (A + B) × α, where
//! A = completed ÷ planned inspection occurrences × the task weight (50), less a deduction for
//! each missed occurrence of a major-hazard responsible person's task; B = hazards rectified
//! by their deadline ÷ hazards due × the hazard weight (50), less a deduction when suspiciously
//! few hazards were found; α = 0 when a veto applies, else 1. SafeGrade's veto is an open major
//! hazard past its deadline at the week's end (定级办法 revocation item 8). The weights and
//! deductions are the bureau's to set (`operation` in the grade rules file).

/// The weights and deductions of the score.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OperationRules {
    /// A's full points.
    pub task_weight: u32,
    /// B's full points.
    pub hazard_weight: u32,
    /// Points off A per missed occurrence of a major-hazard responsible person's task.
    pub in_charge_missed_deduction: u32,
    /// Weeks looked back for hazards found ("suspiciously few": none in them).
    pub quiet_weeks: u32,
    /// Points off B when no hazard was found in those weeks.
    pub quiet_deduction: u32,
}

impl OperationRules {
    /// The weights of the published scheme (50 + 50); the deductions are starting values
    /// the bureau is expected to set.
    pub const BUILTIN: Self = Self {
        task_weight: 50,
        hazard_weight: 50,
        in_charge_missed_deduction: 1,
        quiet_weeks: 4,
        quiet_deduction: 10,
    };
}

/// What the score of one enterprise's week is computed from.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct OperationInputs {
    /// Inspection occurrences due in the week.
    pub planned: u32,
    /// Of those, done.
    pub done: u32,
    /// Missed occurrences of major-hazard responsible persons' tasks.
    pub in_charge_missed: u32,
    /// Hazards whose deadline fell in the week.
    pub hazards_due: u32,
    /// Of those, closed by their deadline.
    pub hazards_on_time: u32,
    /// Hazards found in the look-back weeks up to the week's end.
    pub hazards_found_recently: u32,
    /// Open major hazards past their deadline at the week's end (the veto).
    pub overdue_major: u32,
}

/// The score and its parts.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct OperationScore {
    /// A: inspection tasks.
    pub a: f64,
    /// B: hazard rectification.
    pub b: f64,
    /// α: 0 under a veto, else 1.
    pub alpha: u8,
    /// E = (A + B) × α, one decimal.
    pub score: f64,
}

fn one_decimal(x: f64) -> f64 {
    (x * 10.0).round() / 10.0
}

/// The score of `i` under `r`. Nothing due counts as complete (nothing was missed).
pub fn score(i: &OperationInputs, r: &OperationRules) -> OperationScore {
    let ratio = |part: u32, whole: u32| {
        if whole == 0 {
            1.0
        } else {
            f64::from(part) / f64::from(whole)
        }
    };
    let a = (ratio(i.done, i.planned) * f64::from(r.task_weight)
        - f64::from(i.in_charge_missed * r.in_charge_missed_deduction))
    .max(0.0);
    let quiet = if i.hazards_found_recently == 0 {
        f64::from(r.quiet_deduction)
    } else {
        0.0
    };
    let b = (ratio(i.hazards_on_time, i.hazards_due) * f64::from(r.hazard_weight) - quiet).max(0.0);
    let alpha = u8::from(i.overdue_major == 0);
    OperationScore {
        a: one_decimal(a),
        b: one_decimal(b),
        alpha,
        score: one_decimal((a + b) * f64::from(alpha)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_score_and_its_veto() {
        let r = OperationRules::BUILTIN;
        let i = OperationInputs {
            planned: 10,
            done: 8,
            in_charge_missed: 1,
            hazards_due: 2,
            hazards_on_time: 1,
            hazards_found_recently: 3,
            overdue_major: 0,
        };
        // A = 8/10 × 50 − 1 = 39; B = 1/2 × 50 = 25; E = 64.
        assert_eq!(
            score(&i, &r),
            OperationScore {
                a: 39.0,
                b: 25.0,
                alpha: 1,
                score: 64.0
            }
        );
        let quiet = OperationInputs {
            hazards_found_recently: 0,
            ..i
        };
        assert_eq!(score(&quiet, &r).b, 15.0, "no hazards found: suspicious");
        let vetoed = OperationInputs {
            overdue_major: 1,
            ..i
        };
        assert_eq!(score(&vetoed, &r).score, 0.0);
        assert_eq!(
            score(
                &OperationInputs {
                    hazards_found_recently: 1,
                    ..Default::default()
                },
                &r
            )
            .score,
            100.0
        );
    }
}

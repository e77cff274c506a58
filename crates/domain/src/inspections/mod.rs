//! Inspection tasks (隐患排查任务) and their due occurrences, computed from the cycle, never
//! stored one by one.
//!
//! Rules (domain research §14, the national reporting model): a task's cycle is a number and a
//! unit (hour, day, month, year — never an enum of "daily/weekly"); its day type says whether
//! it is due every day, on statutory working days only, or on non-working days only (the
//! holiday calendar); an hourly task runs within a shift window; a unit that is stopped
//! (检维修、停用) owes nothing while stopped. An occurrence is done by a record made within it
//! whose result is not "not inspected"; one that has ended without such a record is missed.

use chrono::{Datelike, Duration, Months, NaiveDate, NaiveDateTime, NaiveTime};

use crate::calendar::{Calendar, CalendarYearUnknown};
use crate::code_list;

code_list! {
    /// The unit of a task's cycle (排查周期单位).
    pub enum CycleUnit {
        /// 小时.
        Hour = ("hour", "小时"),
        /// 日.
        Day = ("day", "日"),
        /// 月.
        Month = ("month", "月"),
        /// 年.
        Year = ("year", "年"),
    }
}

code_list! {
    /// Which days a task is due on (工作日类型; national codes 0–2).
    pub enum DayType {
        /// 0 每天.
        EveryDay = ("every_day", "每天"),
        /// 1 法定工作日.
        WorkingDays = ("working_days", "法定工作日"),
        /// 2 法定节假日及休息日.
        NonWorkingDays = ("non_working_days", "法定节假日及休息日"),
    }
}

code_list! {
    /// Whose task it is (任务类型; national codes 0–3).
    pub enum TaskType {
        /// 0 日常排查任务.
        Routine = ("routine", "日常排查任务"),
        /// 1 重大危险源主要负责人包保任务.
        PrincipalInCharge = ("principal_in_charge", "主要负责人包保任务"),
        /// 2 重大危险源技术负责人包保任务.
        TechnicalInCharge = ("technical_in_charge", "技术负责人包保任务"),
        /// 3 重大危险源操作负责人包保任务.
        OperatingInCharge = ("operating_in_charge", "操作负责人包保任务"),
    }
}

code_list! {
    /// What an inspection found (排查结果; national codes 0–3).
    pub enum InspectionResult {
        /// 0 正常.
        Normal = ("normal", "正常"),
        /// 1 存在隐患.
        HazardFound = ("hazard_found", "存在隐患"),
        /// 2 未排查.
        NotInspected = ("not_inspected", "未排查"),
        /// 3 其他.
        Other = ("other", "其他"),
    }
}

code_list! {
    /// Where an occurrence stands.
    pub enum OccurrenceStatus {
        /// Done: a record within it.
        Done = ("done", "已排查"),
        /// Ended without a record.
        Missed = ("missed", "应查未查"),
        /// Still running.
        Open = ("open", "排查中"),
    }
}

/// A task's schedule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Schedule {
    /// Every `every` units.
    pub every: u32,
    /// The unit.
    pub unit: CycleUnit,
    /// Which days.
    pub day_type: DayType,
    /// For hourly tasks: the shift window (start inclusive, end exclusive; an end not after
    /// the start runs past midnight).
    pub window: Option<(NaiveTime, NaiveTime)>,
    /// The first day it is due.
    pub starts_on: NaiveDate,
    /// The last day, if it ends.
    pub ends_on: Option<NaiveDate>,
}

/// One due occurrence: `[start, end)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Occurrence {
    /// Start.
    pub start: NaiveDateTime,
    /// End (exclusive).
    pub end: NaiveDateTime,
}

/// Why a schedule is refused (422 at the field named).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScheduleInvalid {
    /// The member.
    pub field: &'static str,
    /// Why, in Chinese.
    pub message: String,
}

impl Schedule {
    /// Checks the schedule: a cycle of at least 1; an hourly task needs its window and a
    /// cycle that fits a day; the window only for hourly tasks; an end not before the start.
    pub fn check(&self) -> Result<(), Vec<ScheduleInvalid>> {
        let mut bad = Vec::new();
        let mut fail = |field, message: &str| {
            bad.push(ScheduleInvalid {
                field,
                message: message.to_owned(),
            })
        };
        if self.every == 0 {
            fail("every", "周期须至少为 1");
        }
        match (self.unit, self.window) {
            (CycleUnit::Hour, None) => fail("window", "按小时排查的任务须写明班次时段（window）"),
            (CycleUnit::Hour, Some(_)) if self.every > 24 => {
                fail("every", "按小时排查的周期不超过 24 小时")
            }
            (CycleUnit::Day | CycleUnit::Month | CycleUnit::Year, Some(_)) => {
                fail("window", "班次时段只适用于按小时排查的任务")
            }
            _ => {}
        }
        if self.ends_on.is_some_and(|e| e < self.starts_on) {
            fail("ends_on", "结束日期早于开始日期");
        }
        if bad.is_empty() { Ok(()) } else { Err(bad) }
    }

    fn day_counts(
        &self,
        day: NaiveDate,
        cal: &Calendar,
        stopped: &dyn Fn(NaiveDate) -> bool,
    ) -> Result<bool, CalendarYearUnknown> {
        if day < self.starts_on || self.ends_on.is_some_and(|e| day > e) || stopped(day) {
            return Ok(false);
        }
        Ok(match self.day_type {
            DayType::EveryDay => true,
            DayType::WorkingDays => cal.is_working_day(day)?,
            DayType::NonWorkingDays => !cal.is_working_day(day)?,
        })
    }

    /// The occurrences within `[from, to]` (days, inclusive): each hour slot of the window on
    /// each counted day; each period of `every` days from the start that overlaps the range
    /// and holds a counted day; each period of `every` months or years from the start month
    /// that overlaps the range and holds a day not stopped. `stopped` says whether the unit is stopped on a day.
    pub fn occurrences(
        &self,
        from: NaiveDate,
        to: NaiveDate,
        cal: &Calendar,
        stopped: &dyn Fn(NaiveDate) -> bool,
    ) -> Result<Vec<Occurrence>, CalendarYearUnknown> {
        let mut out = Vec::new();
        let from = from.max(self.starts_on);
        let to = self.ends_on.map_or(to, |e| e.min(to));
        if from > to || self.every == 0 {
            return Ok(out);
        }
        match self.unit {
            CycleUnit::Hour => {
                let Some((start, end)) = self.window else {
                    return Ok(out);
                };
                let mut day = from;
                while day <= to {
                    if self.day_counts(day, cal, stopped)? {
                        let open = day.and_time(start);
                        let close = if end > start {
                            day.and_time(end)
                        } else {
                            (day + Duration::days(1)).and_time(end)
                        };
                        let step = Duration::hours(i64::from(self.every));
                        let mut t = open;
                        while t < close {
                            out.push(Occurrence {
                                start: t,
                                end: (t + step).min(close),
                            });
                            t += step;
                        }
                    }
                    day += Duration::days(1);
                }
            }
            CycleUnit::Day => {
                let every = i64::from(self.every);
                let offset = (from - self.starts_on).num_days() / every;
                let mut start = self.starts_on + Duration::days(offset * every);
                while start <= to {
                    let end = start + Duration::days(every);
                    let mut any = false;
                    let mut d = start;
                    while d < end && !any {
                        any = self.day_counts(d, cal, stopped)?;
                        d += Duration::days(1);
                    }
                    if any {
                        out.push(Occurrence {
                            start: start.and_time(NaiveTime::MIN),
                            end: end.and_time(NaiveTime::MIN),
                        });
                    }
                    start = end;
                }
            }
            CycleUnit::Month | CycleUnit::Year => {
                let months = if self.unit == CycleUnit::Year {
                    self.every.saturating_mul(12)
                } else {
                    self.every
                };
                let first = self.starts_on.with_day(1).unwrap_or(self.starts_on);
                let mut start = first;
                while start <= to {
                    let end = start
                        .checked_add_months(Months::new(months))
                        .unwrap_or(NaiveDate::MAX);
                    if end > from {
                        let mut any = false;
                        let mut d = start.max(self.starts_on);
                        while d < end && !any {
                            any = !stopped(d)
                                && d >= self.starts_on
                                && self.ends_on.is_none_or(|e| d <= e);
                            d += Duration::days(1);
                        }
                        if any {
                            out.push(Occurrence {
                                start: start.and_time(NaiveTime::MIN),
                                end: end.and_time(NaiveTime::MIN),
                            });
                        }
                    }
                    start = end;
                }
            }
        }
        Ok(out)
    }
}

/// The status of occurrence `o` given the times of the records that count (`done_at`, any
/// order) and the moment `now`.
pub fn status(o: &Occurrence, done_at: &[NaiveDateTime], now: NaiveDateTime) -> OccurrenceStatus {
    if done_at.iter().any(|t| *t >= o.start && *t < o.end) {
        OccurrenceStatus::Done
    } else if now >= o.end {
        OccurrenceStatus::Missed
    } else {
        OccurrenceStatus::Open
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap_or(NaiveDate::MIN)
    }

    fn cal() -> Calendar {
        Calendar::new(crate::calendar::builtin().arrangements.clone())
    }

    fn daily(day_type: DayType) -> Schedule {
        Schedule {
            every: 1,
            unit: CycleUnit::Day,
            day_type,
            window: None,
            starts_on: d("2024-09-25"),
            ends_on: None,
        }
    }

    #[test]
    fn a_daily_working_day_task_across_national_day_2024() {
        // 09-25 … 10-13: working days are 09-25..27, Sunday 09-29, 09-30, 10-08..11 and
        // Saturday 10-12; 10-01..07 are off.
        let never = |_: NaiveDate| false;
        let o = daily(DayType::WorkingDays)
            .occurrences(d("2024-09-25"), d("2024-10-13"), &cal(), &never)
            .unwrap_or_default();
        let days: Vec<String> = o.iter().map(|o| o.start.date().to_string()).collect();
        assert_eq!(
            days,
            [
                "2024-09-25",
                "2024-09-26",
                "2024-09-27",
                "2024-09-29",
                "2024-09-30",
                "2024-10-08",
                "2024-10-09",
                "2024-10-10",
                "2024-10-11",
                "2024-10-12"
            ]
        );
        // Records on two of them: the rest ended are missed.
        let done = [
            d("2024-09-25").and_hms_opt(9, 0, 0).unwrap_or_default(),
            d("2024-10-08").and_hms_opt(16, 30, 0).unwrap_or_default(),
        ];
        let now = d("2024-10-12").and_hms_opt(12, 0, 0).unwrap_or_default();
        let statuses: Vec<OccurrenceStatus> = o.iter().map(|o| status(o, &done, now)).collect();
        assert_eq!(
            statuses
                .iter()
                .filter(|s| **s == OccurrenceStatus::Missed)
                .count(),
            7
        );
        assert_eq!(statuses.last(), Some(&OccurrenceStatus::Open));
        // The holiday itself is the off-day task's.
        let off = daily(DayType::NonWorkingDays)
            .occurrences(d("2024-10-01"), d("2024-10-07"), &cal(), &never)
            .unwrap_or_default();
        assert_eq!(off.len(), 7);
    }

    #[test]
    fn stops_windows_and_months() {
        let stopped = |day: NaiveDate| day >= d("2024-09-26") && day <= d("2024-09-27");
        let o = daily(DayType::EveryDay)
            .occurrences(d("2024-09-25"), d("2024-09-28"), &cal(), &stopped)
            .unwrap_or_default();
        assert_eq!(o.len(), 2, "not due while stopped");
        let rounds = Schedule {
            every: 2,
            unit: CycleUnit::Hour,
            window: NaiveTime::from_hms_opt(8, 0, 0).zip(NaiveTime::from_hms_opt(20, 0, 0)),
            ..daily(DayType::EveryDay)
        };
        let never = |_: NaiveDate| false;
        let o = rounds
            .occurrences(d("2024-09-25"), d("2024-09-25"), &cal(), &never)
            .unwrap_or_default();
        assert_eq!(o.len(), 6, "every 2 hours from 08:00 to 20:00");
        let monthly = Schedule {
            unit: CycleUnit::Month,
            ..daily(DayType::EveryDay)
        };
        let o = monthly
            .occurrences(d("2024-09-01"), d("2024-12-31"), &cal(), &never)
            .unwrap_or_default();
        assert_eq!(o.len(), 4, "September (from the 25th) to December");
        let bad = Schedule {
            every: 0,
            window: None,
            unit: CycleUnit::Hour,
            ..daily(DayType::EveryDay)
        };
        assert_eq!(bad.check().map_err(|v| v.len()), Err(2));
    }

    #[test]
    fn an_unknown_year_is_not_guessed() {
        let never = |_: NaiveDate| false;
        assert_eq!(
            daily(DayType::WorkingDays).occurrences(
                d("2026-12-30"),
                d("2027-01-02"),
                &cal(),
                &never
            ),
            Err(CalendarYearUnknown { year: 2027 })
        );
    }
}

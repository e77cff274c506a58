//! The working-day calendar (工作日): which days are working days in China, for deadlines
//! counted in working days (定级办法's steps: 5, 10 and 20 working days; publicity of at least 7).
//!
//! A working day is Monday to Friday, except the days off of the State Council's yearly
//! holiday arrangement, plus the weekend days it declares working days (调休上班). The
//! arrangements are data (`data/cn-holidays.csv`, and what a city administrator loads for a
//! new year), never code; a day in a year whose arrangement is not loaded is refused with
//! [`CalendarYearUnknown`], never guessed.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::OnceLock;

use chrono::{Datelike, Days, NaiveDate, Weekday};

use crate::{Violation, ViolationCode as V, code_list};

code_list! {
    /// A day the arrangement makes different from an ordinary week.
    pub enum DayKind {
        /// A day off inside a holiday block (weekdays and the weekend days in it).
        Off = ("off", "放假"),
        /// A weekend day declared a working day (调休上班).
        Work = ("work", "调休上班"),
    }
}

/// One day of an arrangement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpecialDay {
    /// The date.
    pub date: NaiveDate,
    /// Off or working.
    pub kind: DayKind,
    /// The holiday it belongs to (元旦, 春节, …).
    pub name: String,
}

/// One year's holiday arrangement (the year of the State Council's notice; its 元旦 block can
/// begin in the last days of the year before).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Arrangement {
    /// The year.
    pub year: i32,
    /// Its special days, by date.
    pub days: Vec<SpecialDay>,
}

/// A deadline or a day needs a year whose arrangement the calendar does not hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error(
    "工作日历中还没有 {year} 年的节假日安排（国务院办公厅每年 11 月前后公布），不能按工作日计算；请市局管理员录入 {year} 年的安排后再试"
)]
pub struct CalendarYearUnknown {
    /// The year that is missing.
    pub year: i32,
}

/// The calendar: the loaded arrangements.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Calendar {
    years: BTreeSet<i32>,
    days: BTreeMap<NaiveDate, DayKind>,
}

impl Calendar {
    /// The calendar of these arrangements (a later arrangement's day wins over an earlier
    /// one's for the same date).
    pub fn new(arrangements: impl IntoIterator<Item = Arrangement>) -> Self {
        let mut all: Vec<Arrangement> = arrangements.into_iter().collect();
        all.sort_by_key(|a| a.year);
        let mut calendar = Self::default();
        for a in all {
            calendar.years.insert(a.year);
            for d in a.days {
                calendar.days.insert(d.date, d.kind);
            }
        }
        calendar
    }

    /// The years whose arrangement is loaded.
    pub fn years(&self) -> impl Iterator<Item = i32> + '_ {
        self.years.iter().copied()
    }

    /// Whether `day` is a working day.
    pub fn is_working_day(&self, day: NaiveDate) -> Result<bool, CalendarYearUnknown> {
        if !self.years.contains(&day.year()) {
            return Err(CalendarYearUnknown { year: day.year() });
        }
        Ok(match self.days.get(&day) {
            Some(DayKind::Off) => false,
            Some(DayKind::Work) => true,
            None => !matches!(day.weekday(), Weekday::Sat | Weekday::Sun),
        })
    }

    /// The `n`-th working day after `from` (`from` itself not counted; `n = 0` is `from`):
    /// a deadline of "within n working days" from `from`.
    pub fn add_working_days(
        &self,
        from: NaiveDate,
        n: u32,
    ) -> Result<NaiveDate, CalendarYearUnknown> {
        let mut day = from;
        let mut left = n;
        while left > 0 {
            day = day
                .checked_add_days(Days::new(1))
                .ok_or(CalendarYearUnknown { year: i32::MAX })?;
            if self.is_working_day(day)? {
                left -= 1;
            }
        }
        Ok(day)
    }

    /// The working days after `from` up to and including `to` (negative when `to` is
    /// before `from`: the working days from `to`, exclusive, back to `from`).
    pub fn working_days_between(
        &self,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<i64, CalendarYearUnknown> {
        let (start, end, sign) = if to >= from {
            (from, to, 1)
        } else {
            (to, from, -1)
        };
        let mut count = 0i64;
        let mut day = start;
        while day < end {
            day = day
                .checked_add_days(Days::new(1))
                .ok_or(CalendarYearUnknown { year: i32::MAX })?;
            if self.is_working_day(day)? {
                count += 1;
            }
        }
        Ok(sign * count)
    }
}

/// The file's version line and arrangements.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BuiltinCalendar {
    /// The data version (`version,…` line).
    pub version: String,
    /// The arrangements, by year.
    pub arrangements: Vec<Arrangement>,
}

/// The arrangements shipped with SafeGrade (`crates/domain/data/cn-holidays.csv`).
pub fn builtin() -> &'static BuiltinCalendar {
    static BUILTIN: OnceLock<BuiltinCalendar> = OnceLock::new();
    #[expect(
        clippy::expect_used,
        reason = "the embedded file is checked by a unit test"
    )]
    BUILTIN.get_or_init(|| {
        parse(include_str!("../../data/cn-holidays.csv")).expect("embedded calendar parses")
    })
}

/// Parses the calendar file: `#` comments, a `version,…` line, a `date,kind,name` header,
/// then one row per special day. A December day named 元旦 belongs to the next year.
pub fn parse(text: &str) -> Result<BuiltinCalendar, String> {
    let mut version = None;
    let mut by_year: BTreeMap<i32, Vec<SpecialDay>> = BTreeMap::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') || line == "date,kind,name" {
            continue;
        }
        let cols: Vec<&str> = line.split(',').collect();
        match cols.as_slice() {
            ["version", v] => version = Some((*v).to_owned()),
            [date, kind, name] => {
                let date: NaiveDate = date
                    .parse()
                    .map_err(|e| format!("line {}: date '{date}': {e}", i + 1))?;
                let kind: DayKind = kind.parse().map_err(|e| format!("line {}: {e}", i + 1))?;
                let year = if date.month() == 12 && *name == "元旦" {
                    date.year() + 1
                } else {
                    date.year()
                };
                by_year.entry(year).or_default().push(SpecialDay {
                    date,
                    kind,
                    name: (*name).to_owned(),
                });
            }
            _ => return Err(format!("line {}: expected date,kind,name", i + 1)),
        }
    }
    Ok(BuiltinCalendar {
        version: version.ok_or("no version line")?,
        arrangements: by_year
            .into_iter()
            .map(|(year, days)| Arrangement { year, days })
            .collect(),
    })
}

/// Limits of an arrangement as the API takes it.
pub mod limits {
    /// Special days of one kind in one year, at most.
    pub const DAYS: usize = 60;
    /// Characters of a holiday's name.
    pub const NAME: usize = 20;
    /// Characters of the source (the notice's title or number).
    pub const SOURCE: usize = 200;
    /// The first and last year an arrangement may be loaded for.
    pub const YEARS: (i32, i32) = (2000, 2100);
}

/// One special day as the API takes it, unparsed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DayInput {
    /// `YYYY-MM-DD`.
    pub date: Option<String>,
    /// The holiday's name.
    pub name: Option<String>,
}

/// A year's arrangement as the API takes it, unparsed (`PUT /api/v1/calendar/{year}`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ArrangementInput {
    /// Days off.
    pub off: Vec<DayInput>,
    /// Adjusted working days.
    pub work: Vec<DayInput>,
}

impl ArrangementInput {
    /// Validates the arrangement of `year`: dates from 1 December of the year before (an
    /// 元旦 block) to the end of the year, each once; working days only on weekends (a
    /// weekday already is one); names up to [`limits::NAME`] characters.
    pub fn validate(&self, year: i32) -> Result<Arrangement, Vec<Violation>> {
        let mut violations = Vec::new();
        let (first, last) = limits::YEARS;
        if !(first..=last).contains(&year) {
            return Err(vec![Violation::field(
                "year",
                V::OutOfRange,
                format!("年份须在 {first} 到 {last} 之间，实际为 {year}"),
            )]);
        }
        let opens = NaiveDate::from_ymd_opt(year - 1, 12, 1);
        let closes = NaiveDate::from_ymd_opt(year, 12, 31);
        let mut days = Vec::new();
        for (kind, list, field) in [
            (DayKind::Off, &self.off, "off"),
            (DayKind::Work, &self.work, "work"),
        ] {
            if list.len() > limits::DAYS {
                violations.push(Violation::field(
                    field,
                    V::TooLong,
                    format!("{field} 有 {} 天，最多 {} 天", list.len(), limits::DAYS),
                ));
                continue;
            }
            for (i, day) in list.iter().enumerate() {
                let at = |member: &str| format!("/{field}/{i}/{member}");
                let date = match day.date.as_deref().map(str::parse::<NaiveDate>) {
                    None => {
                        violations.push(Violation {
                            pointer: at("date"),
                            code: V::Required,
                            message: "date 为必填".into(),
                        });
                        continue;
                    }
                    Some(Err(_)) => {
                        violations.push(Violation {
                            pointer: at("date"),
                            code: V::InvalidType,
                            message: format!(
                                "date 须为日期 YYYY-MM-DD，实际为 '{}'",
                                day.date.as_deref().unwrap_or_default()
                            ),
                        });
                        continue;
                    }
                    Some(Ok(d)) => d,
                };
                if Some(date) < opens || Some(date) > closes {
                    violations.push(Violation {
                        pointer: at("date"),
                        code: V::OutOfRange,
                        message: format!(
                            "{date} 不在 {year} 年的安排内（上一年 12 月 1 日至本年 12 月 31 日）"
                        ),
                    });
                    continue;
                }
                if kind == DayKind::Work && !matches!(date.weekday(), Weekday::Sat | Weekday::Sun) {
                    violations.push(Violation {
                        pointer: at("date"),
                        code: V::OutOfRange,
                        message: format!(
                            "{date} 是工作日（周一至周五），调休上班日只能是周六或周日"
                        ),
                    });
                    continue;
                }
                let name = day.name.as_deref().map(str::trim).unwrap_or_default();
                if name.chars().count() > limits::NAME {
                    violations.push(Violation {
                        pointer: at("name"),
                        code: V::TooLong,
                        message: format!("name 最多 {} 个字符", limits::NAME),
                    });
                    continue;
                }
                if days.iter().any(|d: &SpecialDay| d.date == date) {
                    violations.push(Violation {
                        pointer: at("date"),
                        code: V::InvalidValue,
                        message: format!("{date} 重复出现"),
                    });
                    continue;
                }
                days.push(SpecialDay {
                    date,
                    kind,
                    name: name.to_owned(),
                });
            }
        }
        if !violations.is_empty() {
            return Err(violations);
        }
        days.sort_by_key(|d| d.date);
        Ok(Arrangement { year, days })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap_or(NaiveDate::MIN)
    }

    fn calendar() -> Calendar {
        Calendar::new(builtin().arrangements.clone())
    }

    #[test]
    fn the_embedded_file_parses_with_every_year() {
        let b = builtin();
        assert!(!b.version.is_empty());
        let years: Vec<i32> = b.arrangements.iter().map(|a| a.year).collect();
        assert_eq!(years, (2019..=2026).collect::<Vec<_>>());
        // The 2019 元旦 block began in 2018.
        assert!(
            b.arrangements[0]
                .days
                .iter()
                .any(|d| d.date == self::d("2018-12-29"))
        );
    }

    #[test]
    fn national_day_2024() {
        let c = calendar();
        // Sunday 2024-09-29 and Saturday 2024-10-12 were working days; 10-01 to 10-07 off.
        assert_eq!(c.is_working_day(d("2024-09-29")), Ok(true));
        assert_eq!(c.is_working_day(d("2024-10-12")), Ok(true));
        assert_eq!(c.is_working_day(d("2024-10-07")), Ok(false));
        assert_eq!(c.is_working_day(d("2024-10-08")), Ok(true));
        assert_eq!(c.is_working_day(d("2024-09-28")), Ok(false));
        // From Friday 2024-09-27, 5 working days: 09-29, 09-30, 10-08, 10-09, 10-10.
        assert_eq!(c.add_working_days(d("2024-09-27"), 5), Ok(d("2024-10-10")));
        assert_eq!(c.add_working_days(d("2024-09-27"), 0), Ok(d("2024-09-27")));
        assert_eq!(
            c.working_days_between(d("2024-09-27"), d("2024-10-10")),
            Ok(5)
        );
        assert_eq!(
            c.working_days_between(d("2024-10-10"), d("2024-09-27")),
            Ok(-5)
        );
    }

    #[test]
    fn spring_festival_2020_extension_and_2025_statutory_days() {
        let c = calendar();
        // Extended nationally to 02-02; the 02-01 working day was cancelled.
        assert_eq!(c.is_working_day(d("2020-01-31")), Ok(false));
        assert_eq!(c.is_working_day(d("2020-02-01")), Ok(false));
        assert_eq!(c.is_working_day(d("2020-02-03")), Ok(true));
        // From 2025, 5月2日 is a statutory day off.
        assert_eq!(c.is_working_day(d("2025-05-02")), Ok(false));
    }

    #[test]
    fn an_unknown_year_is_refused_not_guessed() {
        let c = calendar();
        assert_eq!(
            c.is_working_day(d("2027-03-01")),
            Err(CalendarYearUnknown { year: 2027 })
        );
        // A deadline that runs into 2027 names the year.
        assert_eq!(
            c.add_working_days(d("2026-12-24"), 10),
            Err(CalendarYearUnknown { year: 2027 })
        );
        assert!(
            CalendarYearUnknown { year: 2027 }
                .to_string()
                .contains("2027")
        );
    }

    #[test]
    fn arrangement_input_is_checked() {
        let day = |date: &str| DayInput {
            date: Some(date.into()),
            name: Some("元旦".into()),
        };
        let ok = ArrangementInput {
            off: vec![day("2026-12-31"), day("2027-01-01")],
            work: vec![day("2027-01-09")],
        }
        .validate(2027);
        assert_eq!(ok.map(|a| a.days.len()), Ok(3));
        let bad = ArrangementInput {
            off: vec![
                day("2027-01-01"),
                day("2027-01-01"),
                day("2025-05-01"),
                day("tomorrow"),
            ],
            work: vec![day("2027-01-04")],
        }
        .validate(2027)
        .err()
        .unwrap_or_default();
        let pointers: Vec<&str> = bad.iter().map(|v| v.pointer.as_str()).collect();
        assert_eq!(
            pointers,
            ["/off/1/date", "/off/2/date", "/off/3/date", "/work/0/date"]
        );
        assert!(ArrangementInput::default().validate(1999).is_err());
    }
}

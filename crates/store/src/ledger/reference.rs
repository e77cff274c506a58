//! Reference data kept in the database: the supervision areas (so enterprises reference them
//! by foreign key) and the version of the sector mapping the stored sectors were derived with.

use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use safegrade_domain::{AREAS, CodeList, IndustryCode, SectorMapping};

use crate::plumbing::schema::{areas, enterprises, reference_versions};
use crate::{Store, StoreError};

/// What [`Store::sync_reference_data`] changed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SyncReport {
    /// Areas inserted or updated.
    pub areas_written: usize,
    /// Enterprises whose sector was re-derived because the mapping version changed.
    pub sectors_rederived: usize,
    /// Years of the working-day calendar seeded or refreshed from the shipped file.
    pub calendar_years_written: usize,
    /// Shipped grading standards stored (first start, or a release adding one).
    pub standards_written: usize,
}

const SECTOR_MAPPING: &str = "sector_mapping";

impl Store {
    /// Seeds or refreshes the supervision areas, re-derives every stored sector when the
    /// sector mapping's version differs from the one they were derived with, and seeds the
    /// working-day calendar ([`Store::sync_calendar`]) and the shipped grading standards
    /// ([`Store::sync_standards`]). Idempotent.
    pub fn sync_reference_data(&self, mapping: &SectorMapping) -> Result<SyncReport, StoreError> {
        let mut report = self.sync_areas_and_sectors(mapping)?;
        report.calendar_years_written = self.sync_calendar(safegrade_domain::calendar::builtin())?;
        report.standards_written = self.sync_standards()?;
        Ok(report)
    }

    fn sync_areas_and_sectors(&self, mapping: &SectorMapping) -> Result<SyncReport, StoreError> {
        let mapping = mapping.clone();
        self.with_write_tx(move |tx| {
            let conn: &mut crate::DbConn = tx;
            let mut report = SyncReport::default();
            for (order, a) in AREAS.iter().enumerate() {
                let values = (
                    areas::name_zh.eq(a.name_zh),
                    areas::kind.eq(a.kind.as_str()),
                    areas::gb2260_code.eq(a.gb2260_code),
                    areas::parent_code.eq(a.parent_code),
                    areas::sort_order.eq(i32::try_from(order).unwrap_or(i32::MAX)),
                );
                let updated = diesel::update(areas::table.find(a.code))
                    .set(values)
                    .execute(conn)?;
                if updated == 0 {
                    diesel::insert_into(areas::table)
                        .values((areas::code.eq(a.code), values))
                        .execute(conn)?;
                }
                report.areas_written += 1;
            }

            let stored: Option<String> = reference_versions::table
                .find(SECTOR_MAPPING)
                .select(reference_versions::version)
                .first(conn)
                .optional()?;
            if stored.as_deref() != Some(mapping.version.as_str()) {
                let codes: Vec<String> = enterprises::table
                    .select(enterprises::industry_code)
                    .distinct()
                    .load(conn)?;
                for raw in codes {
                    let Ok(code) = IndustryCode::parse(&raw) else {
                        continue;
                    };
                    report.sectors_rederived += diesel::update(
                        enterprises::table.filter(enterprises::industry_code.eq(&raw)),
                    )
                    .set(enterprises::sector.eq(mapping.sector_of(&code).as_str()))
                    .execute(conn)?;
                }
                // The grade summaries keep a copy of each enterprise's sector.
                conn.batch_execute(
                    "UPDATE grade_summaries SET sector = \
                     (SELECT e.sector FROM enterprises e WHERE e.id = grade_summaries.enterprise_id)",
                )?;
                let updated = diesel::update(reference_versions::table.find(SECTOR_MAPPING))
                    .set(reference_versions::version.eq(&mapping.version))
                    .execute(conn)?;
                if updated == 0 {
                    diesel::insert_into(reference_versions::table)
                        .values((
                            reference_versions::name.eq(SECTOR_MAPPING),
                            reference_versions::version.eq(&mapping.version),
                        ))
                        .execute(conn)?;
                }
            }
            Ok(report)
        })
    }
}

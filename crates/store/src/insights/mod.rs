//! Derived views: alerts (提醒) and attainment statistics (达标情况统计), computed from the
//! records with indexed queries, never stored.

pub mod alerts;
pub mod stats;

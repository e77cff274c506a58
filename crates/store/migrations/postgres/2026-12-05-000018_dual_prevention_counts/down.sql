DROP INDEX hazards_dates;
DROP TABLE risk_level_counts;
DROP TABLE hazard_month_counts;

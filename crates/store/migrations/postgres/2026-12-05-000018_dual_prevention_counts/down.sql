DROP TABLE risk_level_counts;
DROP TABLE hazard_day_counts;

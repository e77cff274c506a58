DROP INDEX risk_measures_risk;
DROP TABLE risk_measures;
DROP INDEX risks_unit;
DROP INDEX risks_enterprise;
DROP TABLE risks;
DROP INDEX risk_units_enterprise;
DROP TABLE risk_units;

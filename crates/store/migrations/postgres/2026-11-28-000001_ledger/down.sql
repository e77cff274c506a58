DROP TABLE idempotency_keys;
DROP TABLE enterprises;
DROP TABLE reference_versions;
DROP TABLE areas;

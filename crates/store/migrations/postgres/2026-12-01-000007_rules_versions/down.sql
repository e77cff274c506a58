DROP INDEX idempotency_keys_created_at;
ALTER TABLE accidents DROP COLUMN rules_version;
ALTER TABLE certificates DROP COLUMN revocation_rules_version;
ALTER TABLE certificates DROP COLUMN rules_version;

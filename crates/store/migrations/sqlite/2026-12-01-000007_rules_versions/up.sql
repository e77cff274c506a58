-- The grade-rule set in force when a decision was made: a certificate's validity and regime
-- (when recorded), a revocation's bar, an accident's evaluation (when recorded). Rows from
-- before this migration were decided under the first rule set.
ALTER TABLE certificates ADD COLUMN rules_version TEXT NOT NULL DEFAULT '定级办法2021-r1';
ALTER TABLE certificates ADD COLUMN revocation_rules_version TEXT;
UPDATE certificates SET revocation_rules_version = '定级办法2021-r1' WHERE revoked_on IS NOT NULL;
ALTER TABLE accidents ADD COLUMN rules_version TEXT NOT NULL DEFAULT '定级办法2021-r1';
-- Stored idempotent answers are purged by age.
CREATE INDEX idempotency_keys_created_at ON idempotency_keys (created_at);

ALTER TABLE webhooks DROP COLUMN position;

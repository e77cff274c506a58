-- Undoes the jobs and webhooks migration (postgres).
DROP TABLE webhook_deliveries;
DROP TABLE webhooks;
DROP TABLE job_inputs;
DROP TABLE jobs;

DROP INDEX inspection_records_enterprise;
DROP INDEX inspection_records_task;
DROP TABLE inspection_records;
DROP INDEX inspection_tasks_enterprise;
DROP TABLE inspection_tasks;

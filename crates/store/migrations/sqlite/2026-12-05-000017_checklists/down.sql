DROP INDEX checklist_records_list;
DROP TABLE checklist_records;
DROP INDEX checklists_enterprise;
DROP INDEX checklists_area;
DROP TABLE checklists;

-- The supervision area on every row of the area-owned tables (issue 13, Citus-ready layout,
-- docs/adr/0007-citus-ready-layout.md): each row carries its enterprise's area, copied at
-- insert and moved by a transfer (`ledger::enterprises::transfer`), so the area can serve as
-- the distribution key. Grading steps take their application's area, checklist records
-- their checklist's.
ALTER TABLE certificates ADD COLUMN area_code TEXT;
ALTER TABLE accidents ADD COLUMN area_code TEXT;
ALTER TABLE drives ADD COLUMN area_code TEXT;
ALTER TABLE guidance_visits ADD COLUMN area_code TEXT;
ALTER TABLE assessments ADD COLUMN area_code TEXT;
ALTER TABLE gradings ADD COLUMN area_code TEXT;
ALTER TABLE hazards ADD COLUMN area_code TEXT;
ALTER TABLE risk_units ADD COLUMN area_code TEXT;
ALTER TABLE risks ADD COLUMN area_code TEXT;
ALTER TABLE risk_measures ADD COLUMN area_code TEXT;
ALTER TABLE inspection_tasks ADD COLUMN area_code TEXT;
ALTER TABLE inspection_records ADD COLUMN area_code TEXT;
ALTER TABLE grading_steps ADD COLUMN area_code TEXT;
ALTER TABLE checklist_records ADD COLUMN area_code TEXT;

UPDATE certificates SET area_code = (SELECT e.area_code FROM enterprises e WHERE e.id = certificates.enterprise_id);
UPDATE accidents SET area_code = (SELECT e.area_code FROM enterprises e WHERE e.id = accidents.enterprise_id);
UPDATE drives SET area_code = (SELECT e.area_code FROM enterprises e WHERE e.id = drives.enterprise_id);
UPDATE guidance_visits SET area_code = (SELECT e.area_code FROM enterprises e WHERE e.id = guidance_visits.enterprise_id);
UPDATE assessments SET area_code = (SELECT e.area_code FROM enterprises e WHERE e.id = assessments.enterprise_id);
UPDATE gradings SET area_code = (SELECT e.area_code FROM enterprises e WHERE e.id = gradings.enterprise_id);
UPDATE hazards SET area_code = (SELECT e.area_code FROM enterprises e WHERE e.id = hazards.enterprise_id);
UPDATE risk_units SET area_code = (SELECT e.area_code FROM enterprises e WHERE e.id = risk_units.enterprise_id);
UPDATE risks SET area_code = (SELECT e.area_code FROM enterprises e WHERE e.id = risks.enterprise_id);
UPDATE risk_measures SET area_code = (SELECT e.area_code FROM enterprises e WHERE e.id = risk_measures.enterprise_id);
UPDATE inspection_tasks SET area_code = (SELECT e.area_code FROM enterprises e WHERE e.id = inspection_tasks.enterprise_id);
UPDATE inspection_records SET area_code = (SELECT e.area_code FROM enterprises e WHERE e.id = inspection_records.enterprise_id);
UPDATE grading_steps SET area_code = (SELECT g.area_code FROM gradings g WHERE g.id = grading_steps.grading_id);
UPDATE checklist_records SET area_code = (SELECT c.area_code FROM checklists c WHERE c.id = checklist_records.checklist_id);

ALTER TABLE certificates ALTER COLUMN area_code SET NOT NULL;
ALTER TABLE accidents ALTER COLUMN area_code SET NOT NULL;
ALTER TABLE drives ALTER COLUMN area_code SET NOT NULL;
ALTER TABLE guidance_visits ALTER COLUMN area_code SET NOT NULL;
ALTER TABLE assessments ALTER COLUMN area_code SET NOT NULL;
ALTER TABLE gradings ALTER COLUMN area_code SET NOT NULL;
ALTER TABLE hazards ALTER COLUMN area_code SET NOT NULL;
ALTER TABLE risk_units ALTER COLUMN area_code SET NOT NULL;
ALTER TABLE risks ALTER COLUMN area_code SET NOT NULL;
ALTER TABLE risk_measures ALTER COLUMN area_code SET NOT NULL;
ALTER TABLE inspection_tasks ALTER COLUMN area_code SET NOT NULL;
ALTER TABLE inspection_records ALTER COLUMN area_code SET NOT NULL;
ALTER TABLE grading_steps ALTER COLUMN area_code SET NOT NULL;
ALTER TABLE checklist_records ALTER COLUMN area_code SET NOT NULL;

-- Row versions for the decoded-object cache (cache.go).
--
-- Every insert and every update of an object row writes a fresh random
-- row_version, so (table, seq, row_version) names one immutable JSON value
-- and an instance can reuse its decoding of a row for as long as a query
-- returns that key. Rows written before this migration keep version 0 until
-- their next update; their seq alone already names them.

ALTER TABLE document_entries ADD COLUMN row_version BIGINT NOT NULL DEFAULT 0;
ALTER TABLE submission_sets ADD COLUMN row_version BIGINT NOT NULL DEFAULT 0;
ALTER TABLE folders ADD COLUMN row_version BIGINT NOT NULL DEFAULT 0;
ALTER TABLE associations ADD COLUMN row_version BIGINT NOT NULL DEFAULT 0;

-- A query reads the keys of a patient's objects first and only the objects
-- it has not decoded yet (objects.go). These indexes replace the
-- (patient_id, status) ones and cover that first read: it never touches
-- the table, and with one status its rows come in seq order without a sort.
DROP INDEX document_entries_patient;
CREATE INDEX document_entries_patient ON document_entries (patient_id, status, seq, row_version);
DROP INDEX submission_sets_patient;
CREATE INDEX submission_sets_patient ON submission_sets (patient_id, status, seq, row_version);
DROP INDEX folders_patient;
CREATE INDEX folders_patient ON folders (patient_id, status, seq, row_version);

-- Per-patient registry versions, for the cache of a patient's object keys
-- (keylists.go). Every transaction that inserts one of a patient's
-- DocumentEntries, SubmissionSets or Folders, or changes one, raises the
-- patient's version in the same transaction; a query reads the version
-- before the keys, so the keys an instance remembers under a version are
-- never older than it. A patient without a row is at version 0.

CREATE TABLE registry_versions (
    patient_id TEXT PRIMARY KEY,
    version    BIGINT NOT NULL
);

-- Sperring (patient blocking) records, the per-patient version the caches
-- order them by, and a check value of the key they are found by.
--
-- A patient is never stored in clear: patient_key is HMAC-SHA256 of the
-- normalised 11-digit number under a key derived from KJDD_AUDIT_KEY (the
-- only column a patient is looked up by), and patient_sealed is the number
-- encrypted with AES-256-GCM, read only to tell the caches which patient a
-- deleted record belonged to.
--
-- Cost: by patient -> sperring_records_patient; by id -> sperring_records_id;
-- the version -> sperring_versions primary key.

CREATE TABLE sperring_records (
    seq                {{serial}},
    id                 TEXT NOT NULL,
    patient_key        TEXT NOT NULL,
    patient_sealed     TEXT NOT NULL,
    kind               TEXT NOT NULL,
    document_unique_id TEXT NOT NULL,
    hpr_number         TEXT NOT NULL,
    reason             TEXT NOT NULL,
    created_at         TEXT NOT NULL,
    created_by         TEXT NOT NULL
);
CREATE UNIQUE INDEX sperring_records_id ON sperring_records (id);
CREATE INDEX sperring_records_patient ON sperring_records (patient_key);

-- Bumped in the same transaction as every change of a patient's records,
-- deletion of the last one included; the row is never deleted, so a
-- version never goes back.
CREATE TABLE sperring_versions (
    patient_key TEXT PRIMARY KEY,
    version     BIGINT NOT NULL
);

-- The check value of the lookup key in use. A changed KJDD_AUDIT_KEY would
-- otherwise find no record of anyone, silently lifting every sperring.
CREATE TABLE sperring_key_check (
    name        TEXT PRIMARY KEY,
    check_value TEXT NOT NULL
);

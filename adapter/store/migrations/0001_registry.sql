-- Registry metadata and repository content.
--
-- Each registry object is one row: the columns the registry searches by,
-- and the whole object as JSON (encoding/json of the kjdd/xds model type),
-- which is what queries return. {{serial}} is the insertion order; it is the
-- primary key (and the stable order of query results) while entry_uuid is
-- the unique key every reference uses.
--
-- Cost: every lookup the registry makes goes through one of the indexes
-- below, so it costs O(log n) to find the first row plus O(rows returned):
--   by patient (and status)      -> *_patient       (patient_id, status)
--   by entryUUID                 -> *_entry_uuid    unique
--   by uniqueId                  -> *_unique_id     unique
--   by logical id                -> *_lid
--   associations by either end   -> associations_source / associations_target
--   content by document uniqueId -> contents primary key, content_chunks primary key
-- No query scans a table, so the time for one patient's documents does not
-- grow with the number of patients in the registry.

CREATE TABLE document_entries (
    seq        {{serial}},
    entry_uuid TEXT NOT NULL,
    unique_id  TEXT NOT NULL,
    lid        TEXT NOT NULL,
    version    TEXT NOT NULL,
    patient_id TEXT NOT NULL,
    status     TEXT NOT NULL,
    object     TEXT NOT NULL
);
CREATE UNIQUE INDEX document_entries_entry_uuid ON document_entries (entry_uuid);
-- One DocumentEntry per uniqueId and version: catches two concurrent
-- registrations of the same document.
CREATE UNIQUE INDEX document_entries_unique_id ON document_entries (unique_id, version);
CREATE INDEX document_entries_patient ON document_entries (patient_id, status);
CREATE INDEX document_entries_lid ON document_entries (lid);

CREATE TABLE submission_sets (
    seq        {{serial}},
    entry_uuid TEXT NOT NULL,
    unique_id  TEXT NOT NULL,
    lid        TEXT NOT NULL,
    patient_id TEXT NOT NULL,
    status     TEXT NOT NULL,
    object     TEXT NOT NULL
);
CREATE UNIQUE INDEX submission_sets_entry_uuid ON submission_sets (entry_uuid);
CREATE UNIQUE INDEX submission_sets_unique_id ON submission_sets (unique_id);
CREATE INDEX submission_sets_patient ON submission_sets (patient_id, status);

CREATE TABLE folders (
    seq        {{serial}},
    entry_uuid TEXT NOT NULL,
    unique_id  TEXT NOT NULL,
    lid        TEXT NOT NULL,
    version    TEXT NOT NULL,
    patient_id TEXT NOT NULL,
    status     TEXT NOT NULL,
    object     TEXT NOT NULL
);
CREATE UNIQUE INDEX folders_entry_uuid ON folders (entry_uuid);
CREATE UNIQUE INDEX folders_unique_id ON folders (unique_id, version);
CREATE INDEX folders_patient ON folders (patient_id, status);
CREATE INDEX folders_lid ON folders (lid);

CREATE TABLE associations (
    seq        {{serial}},
    entry_uuid TEXT NOT NULL,
    type       TEXT NOT NULL,
    source     TEXT NOT NULL,
    target     TEXT NOT NULL,
    status     TEXT NOT NULL,
    object     TEXT NOT NULL
);
CREATE UNIQUE INDEX associations_entry_uuid ON associations (entry_uuid);
CREATE INDEX associations_source ON associations (source);
CREATE INDEX associations_target ON associations (target);

-- Content of documents received by ITI-41, in chunks of at most 256 KiB so
-- that neither storing nor retrieving holds a whole document in memory.
CREATE TABLE contents (
    unique_id TEXT PRIMARY KEY,
    size      BIGINT NOT NULL,
    sha1      TEXT NOT NULL,
    chunks    INTEGER NOT NULL
);
CREATE TABLE content_chunks (
    unique_id TEXT NOT NULL REFERENCES contents (unique_id) ON DELETE CASCADE,
    seq       INTEGER NOT NULL,
    data      {{bytes}} NOT NULL,
    PRIMARY KEY (unique_id, seq)
);

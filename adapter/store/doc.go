// Package store is kjdd's database: the XDS registry (DocumentEntries,
// SubmissionSets, Folders, Associations) and the repository's document
// content, in SQLite (embedded default) or PostgreSQL (scale-out).
//
// There is one database/sql code path; what differs between the engines
// (placeholders, column types, locks, error codes) is in dialect.go.
// Migrations are embedded SQL files applied at Open.
//
// Each registry object is stored as JSON next to the few columns it is
// found by, so every read the registry makes is an index lookup whose cost
// depends on the patient's data or the ids asked for, never on the size of
// the registry (see migrations/0001_registry.sql). Content is stored and
// read in chunks, so documents stream in and out in constant memory.
package store

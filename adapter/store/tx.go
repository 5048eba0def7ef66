package store

import (
	"context"
	"database/sql"
	"fmt"
	"io"

	"kjdd/xds/query"
	"kjdd/xds/rim"
)

// Tx is one registration transaction (see Store.Register). Reads through a
// Tx see its own writes; they bypass the decoded-object cache, which must
// never hold what a rolled-back transaction saw, and the objects they
// return are the caller's to modify.
type Tx struct {
	d  dialect
	tx *sql.Tx
}

// LockPatient serialises this transaction with every other registration for
// the same patient until it ends. Register calls it before deciding on
// anything that concurrent submissions could change (e.g. whether a
// document is still Approved). It is free in SQLite, whose write
// transactions are serial anyway.
func (t *Tx) LockPatient(ctx context.Context, patientID string) error {
	if err := t.d.lockPatient(ctx, t.tx, patientID); err != nil {
		return fmt.Errorf("store: lock patient: %w", t.d.classify(err))
	}
	return nil
}

// DocumentEntries returns the DocumentEntries of l, of every status.
func (t *Tx) DocumentEntries(ctx context.Context, l query.Lookup) ([]*rim.DocumentEntry, error) {
	return lookup[rim.DocumentEntry](ctx, t.d, t.tx, nil, tableDocumentEntries, l)
}

// SubmissionSets returns the SubmissionSets of l, of every status.
func (t *Tx) SubmissionSets(ctx context.Context, l query.Lookup) ([]*rim.SubmissionSet, error) {
	return lookup[rim.SubmissionSet](ctx, t.d, t.tx, nil, tableSubmissionSets, l)
}

// Folders returns the Folders of l, of every status.
func (t *Tx) Folders(ctx context.Context, l query.Lookup) ([]*rim.Folder, error) {
	return lookup[rim.Folder](ctx, t.d, t.tx, nil, tableFolders, l)
}

// Associations returns the associations with the given entryUUIDs.
func (t *Tx) Associations(ctx context.Context, uuids []string) ([]*rim.Association, error) {
	return byColumn[rim.Association](ctx, t.d, t.tx, nil, tableAssociations, "entry_uuid", uuids)
}

// AssociationsOf returns the associations whose source or target is one of
// uuids.
func (t *Tx) AssociationsOf(ctx context.Context, uuids []string) ([]*rim.Association, error) {
	return associationsOf(ctx, t.d, t.tx, nil, uuids)
}

// InsertSubmissionSet stores a SubmissionSet as given. A taken entryUUID or
// uniqueId gives an error satisfying errors.Is(err, ErrDuplicate).
func (t *Tx) InsertSubmissionSet(ctx context.Context, s *rim.SubmissionSet) error {
	row, err := submissionSetRow(s)
	if err != nil {
		return err
	}
	if err := insertRow(ctx, t.d, t.tx, insertSubmissionSet, row); err != nil {
		return err
	}
	return raiseRegistryVersion(ctx, t.d, t.tx, s.PatientID)
}

// InsertDocumentEntry stores a DocumentEntry as given (lid defaults to the
// entryUUID, version to "1" in the indexed columns). A taken entryUUID or
// uniqueId gives an error satisfying errors.Is(err, ErrDuplicate).
func (t *Tx) InsertDocumentEntry(ctx context.Context, e *rim.DocumentEntry) error {
	row, err := documentEntryRow(e)
	if err != nil {
		return err
	}
	if err := insertRow(ctx, t.d, t.tx, insertDocumentEntry, row); err != nil {
		return err
	}
	return raiseRegistryVersion(ctx, t.d, t.tx, e.PatientID)
}

// InsertFolder stores a Folder as given. A taken entryUUID or uniqueId gives
// an error satisfying errors.Is(err, ErrDuplicate).
func (t *Tx) InsertFolder(ctx context.Context, f *rim.Folder) error {
	row, err := folderRow(f)
	if err != nil {
		return err
	}
	if err := insertRow(ctx, t.d, t.tx, insertFolder, row); err != nil {
		return err
	}
	return raiseRegistryVersion(ctx, t.d, t.tx, f.PatientID)
}

// InsertAssociation stores an Association as given.
func (t *Tx) InsertAssociation(ctx context.Context, a *rim.Association) error {
	row, err := associationRow(a)
	if err != nil {
		return err
	}
	return insertRow(ctx, t.d, t.tx, insertAssociation, row)
}

// SetStatus sets the availability status of the object (of any kind) with
// entryUUID, in its indexed column and its JSON alike. An unknown entryUUID
// gives an error satisfying errors.Is(err, ErrNotFound).
func (t *Tx) SetStatus(ctx context.Context, entryUUID, status string) error {
	return setJSONField(ctx, t.d, t.tx, entryUUID, "status", "status", status)
}

// SetFolderLastUpdateTime records that a Folder's content changed (ITI
// TF-3: the registry maintains lastUpdateTime).
func (t *Tx) SetFolderLastUpdateTime(ctx context.Context, entryUUID, dtm string) error {
	return setJSONField(ctx, t.d, t.tx, entryUUID, "lastUpdateTime", "", dtm)
}

// PutContent stores the content of the document with uniqueId
// documentUniqueID, replacing any earlier content of that id, reading r in
// chunks and computing its size and SHA-1 (lower-case hex) on the way.
func (t *Tx) PutContent(ctx context.Context, documentUniqueID string, r io.Reader) (size int64, sha1Hex string, err error) {
	return putContent(ctx, t.d, t.tx, documentUniqueID, r)
}

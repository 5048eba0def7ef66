package query

import (
	"context"

	"kjdd/xds/rim"
)

// Lookup selects registry objects by entryUUID or by uniqueId (one of the two
// lists is set).
type Lookup struct {
	EntryUUIDs []string
	UniqueIDs  []string
}

// Source is the port stored-query execution reads the registry through. Each
// method is scoped by patient or by ids, so that the cost of a query depends
// on the patient's data, never on the size of the registry. Methods return
// objects of every availability status unless statuses is non-empty, each
// object once. The objects returned may be shared with other requests: they
// are read-only, with everything they point to.
//
// The adapter wraps its store in a Source decorator that applies the
// sperring decision: objects hidden from the caller never reach query
// execution, so they are neither returned nor counted.
type Source interface {
	DocumentEntriesByPatient(ctx context.Context, patientID string, statuses []string) ([]*rim.DocumentEntry, error)
	SubmissionSetsByPatient(ctx context.Context, patientID string, statuses []string) ([]*rim.SubmissionSet, error)
	FoldersByPatient(ctx context.Context, patientID string, statuses []string) ([]*rim.Folder, error)

	DocumentEntries(ctx context.Context, l Lookup) ([]*rim.DocumentEntry, error)
	SubmissionSets(ctx context.Context, l Lookup) ([]*rim.SubmissionSet, error)
	Folders(ctx context.Context, l Lookup) ([]*rim.Folder, error)

	// AssociationsOf returns the associations whose sourceObject or
	// targetObject is one of uuids.
	AssociationsOf(ctx context.Context, uuids []string) ([]*rim.Association, error)
}

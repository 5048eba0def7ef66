package access

import (
	"context"

	"kjdd/xds/query"
	"kjdd/xds/rim"
)

// GuardedSource wraps the registry's Source so that every DocumentEntry a
// stored query could see passes the Gate first. Entries the caller may not
// see never reach query execution: they are not returned, not counted
// against the result limit, and associations that point at them are dropped
// too, so nothing betrays that they exist.
type GuardedSource struct {
	Source query.Source
	Gate   Gate
	Caller *Caller
}

func (g GuardedSource) visible(ctx context.Context, entries []*rim.DocumentEntry, err error) ([]*rim.DocumentEntry, error) {
	if err != nil || len(entries) == 0 {
		return entries, err
	}
	return g.Gate.Visible(ctx, g.Caller, entries)
}

// DocumentEntriesByPatient implements query.Source.
func (g GuardedSource) DocumentEntriesByPatient(ctx context.Context, patientID string, statuses []string) ([]*rim.DocumentEntry, error) {
	entries, err := g.Source.DocumentEntriesByPatient(ctx, patientID, statuses)
	return g.visible(ctx, entries, err)
}

// DocumentEntries implements query.Source.
func (g GuardedSource) DocumentEntries(ctx context.Context, l query.Lookup) ([]*rim.DocumentEntry, error) {
	entries, err := g.Source.DocumentEntries(ctx, l)
	return g.visible(ctx, entries, err)
}

// SubmissionSetsByPatient implements query.Source.
func (g GuardedSource) SubmissionSetsByPatient(ctx context.Context, patientID string, statuses []string) ([]*rim.SubmissionSet, error) {
	sets, err := g.Source.SubmissionSetsByPatient(ctx, patientID, statuses)
	return visiblePackages(ctx, g, sets, err, func(s *rim.SubmissionSet) string { return s.PatientID })
}

// FoldersByPatient implements query.Source.
func (g GuardedSource) FoldersByPatient(ctx context.Context, patientID string, statuses []string) ([]*rim.Folder, error) {
	folders, err := g.Source.FoldersByPatient(ctx, patientID, statuses)
	return visiblePackages(ctx, g, folders, err, func(f *rim.Folder) string { return f.PatientID })
}

// SubmissionSets implements query.Source.
func (g GuardedSource) SubmissionSets(ctx context.Context, l query.Lookup) ([]*rim.SubmissionSet, error) {
	sets, err := g.Source.SubmissionSets(ctx, l)
	return visiblePackages(ctx, g, sets, err, func(s *rim.SubmissionSet) string { return s.PatientID })
}

// Folders implements query.Source.
func (g GuardedSource) Folders(ctx context.Context, l query.Lookup) ([]*rim.Folder, error) {
	folders, err := g.Source.Folders(ctx, l)
	return visiblePackages(ctx, g, folders, err, func(f *rim.Folder) string { return f.PatientID })
}

// visiblePackages drops the SubmissionSets or Folders of patients the
// caller may see nothing of: a patient who blocked everything is not even
// shown to have submissions.
func visiblePackages[T any](ctx context.Context, g GuardedSource, objs []T, err error, patient func(T) string) ([]T, error) {
	if err != nil || len(objs) == 0 {
		return objs, err
	}
	hidden := map[string]bool{}
	kept := objs[:0:0]
	for _, o := range objs {
		p := patient(o)
		h, seen := hidden[p]
		if !seen {
			if h, err = g.Gate.PatientHidden(ctx, g.Caller, p); err != nil {
				return nil, err
			}
			hidden[p] = h
		}
		if !h {
			kept = append(kept, o)
		}
	}
	return kept, nil
}

// AssociationsOf implements query.Source. An association whose end is a
// DocumentEntry the caller may not see is dropped.
func (g GuardedSource) AssociationsOf(ctx context.Context, uuids []string) ([]*rim.Association, error) {
	assocs, err := g.Source.AssociationsOf(ctx, uuids)
	if err != nil || len(assocs) == 0 {
		return assocs, err
	}
	ends := make([]string, 0, 2*len(assocs))
	for _, a := range assocs {
		ends = append(ends, a.Source, a.Target)
	}
	all, err := g.Source.DocumentEntries(ctx, query.Lookup{EntryUUIDs: ends})
	if err != nil {
		return nil, err
	}
	if len(all) == 0 {
		return assocs, nil
	}
	shown, err := g.Gate.Visible(ctx, g.Caller, all)
	if err != nil {
		return nil, err
	}
	hidden := make(map[string]bool, len(all))
	for _, e := range all {
		hidden[e.EntryUUID] = true
	}
	for _, e := range shown {
		delete(hidden, e.EntryUUID)
	}
	if len(hidden) == 0 {
		return assocs, nil
	}
	kept := assocs[:0:0]
	for _, a := range assocs {
		if !hidden[a.Source] && !hidden[a.Target] {
			kept = append(kept, a)
		}
	}
	return kept, nil
}

var _ query.Source = GuardedSource{}

package access

import (
	"context"
	"testing"

	"kjdd/helseid"
	"kjdd/xds/query"
	"kjdd/xds/rim"
)

// packageSource is a registry holding only SubmissionSets and Folders.
type packageSource struct {
	query.Source
	sets    []*rim.SubmissionSet
	folders []*rim.Folder
}

func (s packageSource) SubmissionSetsByPatient(context.Context, string, []string) ([]*rim.SubmissionSet, error) {
	return s.sets, nil
}
func (s packageSource) SubmissionSets(context.Context, query.Lookup) ([]*rim.SubmissionSet, error) {
	return s.sets, nil
}
func (s packageSource) FoldersByPatient(context.Context, string, []string) ([]*rim.Folder, error) {
	return s.folders, nil
}
func (s packageSource) Folders(context.Context, query.Lookup) ([]*rim.Folder, error) {
	return s.folders, nil
}

// TestGuardedSourceHidesPackagesOfHiddenPatients: a caller who may see
// nothing of a patient is not shown that patient's SubmissionSets or
// Folders either, whichever way the query asks for them.
func TestGuardedSourceHidesPackagesOfHiddenPatients(t *testing.T) {
	const (
		a = "13116900216^^^&2.16.578.1.12.4.1.4.1&ISO"
		b = "12119000465^^^&2.16.578.1.12.4.1.4.1&ISO"
	)
	src := packageSource{
		sets:    []*rim.SubmissionSet{{UniqueID: "ss.a", PatientID: a}, {UniqueID: "ss.b", PatientID: b}},
		folders: []*rim.Folder{{UniqueID: "f.b", PatientID: b}, {UniqueID: "f.a", PatientID: a}},
	}
	g := GuardedSource{Source: src, Gate: Compose(Open{}, PatientBound{Next: ShowAll{}}),
		Caller: &Caller{Principal: &helseid.Principal{PatientID: a}}}
	ctx := context.Background()
	checks := map[string]func() ([]string, error){
		"SubmissionSetsByPatient": func() ([]string, error) {
			s, err := g.SubmissionSetsByPatient(ctx, a, nil)
			return setIDs(s), err
		},
		"SubmissionSets": func() ([]string, error) { s, err := g.SubmissionSets(ctx, query.Lookup{}); return setIDs(s), err },
		"FoldersByPatient": func() ([]string, error) {
			f, err := g.FoldersByPatient(ctx, a, nil)
			return folderIDs(f), err
		},
		"Folders": func() ([]string, error) { f, err := g.Folders(ctx, query.Lookup{}); return folderIDs(f), err },
	}
	for name, check := range checks {
		t.Run(name, func(t *testing.T) {
			got, err := check()
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != 1 || got[0][len(got[0])-1] != 'a' {
				t.Fatalf("visible = %v, want only patient a's", got)
			}
		})
	}
}

func setIDs(s []*rim.SubmissionSet) (ids []string) {
	for _, x := range s {
		ids = append(ids, x.UniqueID)
	}
	return ids
}

func folderIDs(f []*rim.Folder) (ids []string) {
	for _, x := range f {
		ids = append(ids, x.UniqueID)
	}
	return ids
}

package access

import (
	"context"
	"testing"

	"kjdd/helseid"
	"kjdd/xds"
)

// packageSource is a registry holding only SubmissionSets and Folders.
type packageSource struct {
	xds.Source
	sets    []*xds.SubmissionSet
	folders []*xds.Folder
}

func (s packageSource) SubmissionSetsByPatient(context.Context, string, []string) ([]*xds.SubmissionSet, error) {
	return s.sets, nil
}
func (s packageSource) SubmissionSets(context.Context, xds.Lookup) ([]*xds.SubmissionSet, error) {
	return s.sets, nil
}
func (s packageSource) FoldersByPatient(context.Context, string, []string) ([]*xds.Folder, error) {
	return s.folders, nil
}
func (s packageSource) Folders(context.Context, xds.Lookup) ([]*xds.Folder, error) {
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
		sets:    []*xds.SubmissionSet{{UniqueID: "ss.a", PatientID: a}, {UniqueID: "ss.b", PatientID: b}},
		folders: []*xds.Folder{{UniqueID: "f.b", PatientID: b}, {UniqueID: "f.a", PatientID: a}},
	}
	g := GuardedSource{Source: src, Gate: Compose(Open{}, PatientBound{Next: ShowAll{}}),
		Caller: &Caller{Principal: &helseid.Principal{PatientID: a}}}
	ctx := context.Background()
	checks := map[string]func() ([]string, error){
		"SubmissionSetsByPatient": func() ([]string, error) {
			s, err := g.SubmissionSetsByPatient(ctx, a, nil)
			return setIDs(s), err
		},
		"SubmissionSets": func() ([]string, error) { s, err := g.SubmissionSets(ctx, xds.Lookup{}); return setIDs(s), err },
		"FoldersByPatient": func() ([]string, error) {
			f, err := g.FoldersByPatient(ctx, a, nil)
			return folderIDs(f), err
		},
		"Folders": func() ([]string, error) { f, err := g.Folders(ctx, xds.Lookup{}); return folderIDs(f), err },
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

func setIDs(s []*xds.SubmissionSet) (ids []string) {
	for _, x := range s {
		ids = append(ids, x.UniqueID)
	}
	return ids
}

func folderIDs(f []*xds.Folder) (ids []string) {
	for _, x := range f {
		ids = append(ids, x.UniqueID)
	}
	return ids
}

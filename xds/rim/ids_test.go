package rim_test

import (
	"fmt"
	"testing"

	"kjdd/xds/hl7"
	"kjdd/xds/rim"
)

// rimCounter returns a deterministic id source for tests.
func rimCounter() func() string {
	n := 0
	return func() string {
		n++
		return fmt.Sprintf("urn:uuid:00000000-0000-4000-8000-%012d", n)
	}
}

func TestAssignEntryUUIDs(t *testing.T) {
	const existing = "urn:uuid:e0985823-dc50-45a5-a6c8-a11a829893bd"
	sub := &rim.Submission{
		SubmissionSet: &rim.SubmissionSet{EntryUUID: "SubmissionSet01"},
		DocumentEntries: []*rim.DocumentEntry{
			{EntryUUID: "Document01", LogicalID: "Document01"},
			{EntryUUID: existing},
			{EntryUUID: ""},
		},
		Folders: []*rim.Folder{{EntryUUID: "Folder01"}},
		Associations: []*rim.Association{
			{EntryUUID: "as01", Source: "SubmissionSet01", Target: "Document01"},
			{EntryUUID: "as02", Source: "Document01", Target: existing},
			{EntryUUID: "as03", Source: "Folder01", Target: "NotInRequest"},
		},
		Documents: []rim.Document{{ID: "Document01"}},
	}
	rim.AssignEntryUUIDs(sub, rimCounter())

	uuid := func(n int) string { return fmt.Sprintf("urn:uuid:00000000-0000-4000-8000-%012d", n) }
	doc := sub.DocumentEntries[0]
	checks := map[string]struct{ got, want string }{
		"document entry id":                  {doc.EntryUUID, uuid(1)},
		"lid equal to old id follows":        {doc.LogicalID, uuid(1)},
		"existing uuid kept":                 {sub.DocumentEntries[1].EntryUUID, existing},
		"empty id left for validation":       {sub.DocumentEntries[2].EntryUUID, ""},
		"submission set id":                  {sub.SubmissionSet.EntryUUID, uuid(2)},
		"folder id":                          {sub.Folders[0].EntryUUID, uuid(3)},
		"association id":                     {sub.Associations[0].EntryUUID, uuid(4)},
		"association source":                 {sub.Associations[0].Source, uuid(2)},
		"association target":                 {sub.Associations[0].Target, uuid(1)},
		"reference to existing object":       {sub.Associations[1].Target, existing},
		"unresolved reference left as is":    {sub.Associations[2].Target, "NotInRequest"},
		"document content follows its entry": {sub.Documents[0].ID, uuid(1)},
	}
	for name, c := range checks {
		t.Run(name, func(t *testing.T) {
			if c.got != c.want {
				t.Errorf("got %q, want %q", c.got, c.want)
			}
		})
	}
}

func TestAssignEntryUUIDsKeepsDuplicatesDetectable(t *testing.T) {
	sub := &rim.Submission{DocumentEntries: []*rim.DocumentEntry{{EntryUUID: "Doc"}, {EntryUUID: "Doc"}}}
	rim.AssignEntryUUIDs(sub, nil)
	a, b := sub.DocumentEntries[0].EntryUUID, sub.DocumentEntries[1].EntryUUID
	if !hl7.IsURNUUID(a) || a != b {
		t.Errorf("ids %q and %q: want one shared fresh urn:uuid", a, b)
	}
}

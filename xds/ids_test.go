package xds_test

import (
	"fmt"
	"strings"
	"testing"

	"kjdd/xds"
)

func TestIsURNUUID(t *testing.T) {
	tests := map[string]struct {
		in   string
		want bool
	}{
		"lower case":           {"urn:uuid:7edca82f-054d-47f2-a032-9b2a5b5186c1", true},
		"upper case":           {"URN:UUID:7EDCA82F-054D-47F2-A032-9B2A5B5186C1", true},
		"symbolic":             {"Document01", false},
		"bare uuid":            {"7edca82f-054d-47f2-a032-9b2a5b5186c1", false},
		"missing hyphens":      {"urn:uuid:12941a89-e02e-4be5-967cce4bfc8fe492", false},
		"non-hex digit":        {"urn:uuid:7edca82f-054d-47f2-a032-9b2a5b5186cg", false},
		"hyphen misplaced":     {"urn:uuid:7edca82f0-54d-47f2-a032-9b2a5b5186c1", false},
		"too long":             {"urn:uuid:7edca82f-054d-47f2-a032-9b2a5b5186c12", false},
		"empty":                {"", false},
		"urn:uuid prefix only": {"urn:uuid:", false},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if got := xds.IsURNUUID(tc.in); got != tc.want {
				t.Errorf("IsURNUUID(%q) = %v, want %v", tc.in, got, tc.want)
			}
		})
	}
}

func TestNewURNUUIDIsRandomVersion4(t *testing.T) {
	seen := map[string]bool{}
	for range 1000 {
		u := xds.NewURNUUID()
		if !xds.IsURNUUID(u) {
			t.Fatalf("NewURNUUID() = %q, not a urn:uuid", u)
		}
		// xxxxxxxx-xxxx-4xxx-[89ab]xxx-xxxxxxxxxxxx
		s := strings.TrimPrefix(u, "urn:uuid:")
		if s[14] != '4' || !strings.ContainsRune("89ab", rune(s[19])) {
			t.Fatalf("NewURNUUID() = %q, not version 4 / RFC variant", u)
		}
		if seen[u] {
			t.Fatalf("NewURNUUID() repeated %q", u)
		}
		seen[u] = true
	}
}

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
	sub := &xds.Submission{
		SubmissionSet: &xds.SubmissionSet{EntryUUID: "SubmissionSet01"},
		DocumentEntries: []*xds.DocumentEntry{
			{EntryUUID: "Document01", LogicalID: "Document01"},
			{EntryUUID: existing},
			{EntryUUID: ""},
		},
		Folders: []*xds.Folder{{EntryUUID: "Folder01"}},
		Associations: []*xds.Association{
			{EntryUUID: "as01", Source: "SubmissionSet01", Target: "Document01"},
			{EntryUUID: "as02", Source: "Document01", Target: existing},
			{EntryUUID: "as03", Source: "Folder01", Target: "NotInRequest"},
		},
		Documents: []xds.Document{{ID: "Document01"}},
	}
	xds.AssignEntryUUIDs(sub, rimCounter())

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
	sub := &xds.Submission{DocumentEntries: []*xds.DocumentEntry{{EntryUUID: "Doc"}, {EntryUUID: "Doc"}}}
	xds.AssignEntryUUIDs(sub, nil)
	a, b := sub.DocumentEntries[0].EntryUUID, sub.DocumentEntries[1].EntryUUID
	if !xds.IsURNUUID(a) || a != b {
		t.Errorf("ids %q and %q: want one shared fresh urn:uuid", a, b)
	}
}

func TestRedactNationalIDs(t *testing.T) {
	tests := map[string]struct{ in, want string }{
		"fnr in cx":          {"13116900216^^^&2.16.578.1.12.4.1.4.1&ISO", "***********^^^&2.16.578.1.12.4.1.4.1&ISO"},
		"fnr as object id":   {"ExtrinsicObject 13116900216: missing id", "ExtrinsicObject ***********: missing id"},
		"twelve digits kept": {"id 131169002161", "id 131169002161"},
		"ten digits kept":    {"id 1311690021", "id 1311690021"},
		"two fnrs":           {"13116900216,29698496140", "***********,***********"},
		"oid kept":           {"2.16.578.1.12.4.1.4.1", "2.16.578.1.12.4.1.4.1"},
		"nothing to redact":  {"XDSRegistryMetadataError", "XDSRegistryMetadataError"},
		"empty":              {"", ""},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if got := xds.RedactNationalIDs(tc.in); got != tc.want {
				t.Errorf("RedactNationalIDs(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

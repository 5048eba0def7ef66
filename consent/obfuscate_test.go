package consent

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"kjdd/xds/rim"
)

var update = flag.Bool("update", false, "rewrite golden files under testdata/")

func TestObfuscateGolden(t *testing.T) {
	e := entry(patientA, idNORS, nors)
	got, err := json.MarshalIndent(Obfuscate(e, testKey), "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	got = append(got, '\n')
	golden := filepath.Join("testdata", "obfuscated-entry.golden.json")
	if *update {
		if err := os.WriteFile(golden, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("masked entry differs from %s:\n%s", golden, got)
	}
}

func TestObfuscateLeaksNothing(t *testing.T) {
	e := entry(patientA, idNORS, nors)
	e.Revision = rim.Revision{Row: 7, Version: 42} // as read from the store
	m := Obfuscate(e, testKey)
	if !m.Revision.IsZero() {
		// The writer would answer the masked copy with the original's
		// cached XML.
		t.Fatalf("the masked copy carries the stored entry's Revision %v", m.Revision)
	}
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	out := string(b)
	// Everything that describes the document or names a person must be
	// gone; the patient's own ids stay (the caller asked for that patient).
	secrets := []string{
		e.UniqueID, e.EntryUUID, e.Title, e.Comments, e.Hash, "1024",
		"GREVLING", "565505933", "Finnmarkssykehuset", "Danser", "19691113",
		"Epikrise", "A03-2", "A00-1", "Psykisk", "PV", "86.101", "F32", "Depressiv",
		"pdf", "20240310", "101500", "A123", "secret", "dips",
	}
	for _, s := range secrets {
		if strings.Contains(out, s) {
			t.Errorf("masked entry contains %q: %s", s, out)
		}
	}
	if m.Title != MaskedTitle {
		t.Errorf("title %q, want %q", m.Title, MaskedTitle)
	}
	if m.PatientID != e.PatientID || m.RepositoryUniqueID != e.RepositoryUniqueID || m.Home != e.Home || m.Status != e.Status || m.ObjectType != e.ObjectType {
		t.Error("masked entry lost what places it: patient, repository, home, status or object type")
	}
	if m.CreationTime != "20240315" {
		t.Errorf("creationTime %q, want the day only", m.CreationTime)
	}
	if len(m.ConfidentialityCodes) != 1 || m.ConfidentialityCodes[0].Code != CodeNORS || !IsNORS(m) {
		t.Errorf("confidentiality codes %v, want NORS only", m.ConfidentialityCodes)
	}
	if e.Title != "Epikrise etter innleggelse" || e.UniqueID != idNORS {
		t.Error("Obfuscate changed its input")
	}
}

var (
	uuidURN   = regexp.MustCompile(`^urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)
	uuidOIDre = regexp.MustCompile(`^2\.25\.(0|[1-9][0-9]*)$`)
)

func TestObfuscateIDs(t *testing.T) {
	e1 := entry(patientA, idNORS, nors)
	e2 := entry(patientA, idBoth, nors)
	otherKey := []byte("another-key-of-at-least-16-bytes")
	tests := map[string]struct {
		a, b     string
		wantSame bool
	}{
		"same entry, same key: stable uniqueId":  {Obfuscate(e1, testKey).UniqueID, Obfuscate(entry(patientA, idNORS, nors), testKey).UniqueID, true},
		"same entry, same key: stable entryUUID": {Obfuscate(e1, testKey).EntryUUID, Obfuscate(e1, testKey).EntryUUID, true},
		"other entry: other uniqueId":            {Obfuscate(e1, testKey).UniqueID, Obfuscate(e2, testKey).UniqueID, false},
		"other entry: other entryUUID":           {Obfuscate(e1, testKey).EntryUUID, Obfuscate(e2, testKey).EntryUUID, false},
		"other key: other uniqueId":              {Obfuscate(e1, testKey).UniqueID, Obfuscate(e1, otherKey).UniqueID, false},
		"other key: other entryUUID":             {Obfuscate(e1, testKey).EntryUUID, Obfuscate(e1, otherKey).EntryUUID, false},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if (tc.a == tc.b) != tc.wantSame {
				t.Errorf("%q vs %q: same=%v, want %v", tc.a, tc.b, tc.a == tc.b, tc.wantSame)
			}
		})
	}
	for _, e := range []*rim.DocumentEntry{e1, e2} {
		m := Obfuscate(e, testKey)
		if !uuidURN.MatchString(m.EntryUUID) || m.LogicalID != m.EntryUUID {
			t.Errorf("entryUUID %q / lid %q is not a version 8 UUID URN", m.EntryUUID, m.LogicalID)
		}
		if !uuidOIDre.MatchString(m.UniqueID) || len(m.UniqueID) > 64 {
			t.Errorf("uniqueId %q is not an OID of at most 64 characters under 2.25", m.UniqueID)
		}
	}
}

// TestObfuscateSaysOnlyThatSomethingIsBlocked: two blocked documents of the
// same patient that differ in everything the registry knows about them
// (one replaced and on-demand, written by another system in another
// language under its own schemes) mask to entries that differ only in
// their opaque ids and the creation day.
func TestObfuscateSaysOnlyThatSomethingIsBlocked(t *testing.T) {
	plain := entry(patientA, idNORS, nors)
	odd := entry(patientA, idBoth, nors)
	odd.Status = rim.StatusDeprecated
	odd.ObjectType = rim.ObjectTypeOnDemand
	odd.Version = "3"
	odd.LogicalID = "urn:uuid:" + uuidFor("the first version")
	odd.LanguageCode = "se-NO"
	odd.DocumentAvailability = "urn:ihe:iti:2010:DocumentAvailability:Offline"
	odd.SourcePatientID = "A77^^^&2.16.578.1.12.4.1.7.9.1&ISO"
	odd.ClassCode.Scheme = "2.16.578.1.12.4.1.7.9.2"
	odd.TypeCode.Scheme = "2.16.578.1.12.4.1.7.9.3"
	odd.FormatCode.Scheme = "2.16.578.1.12.4.1.7.9.4"
	odd.HealthcareFacilityTypeCode.Scheme = "2.16.578.1.12.4.1.7.9.5"
	odd.PracticeSettingCode.Scheme = "2.16.578.1.12.4.1.7.9.6"
	odd.CreationTime = "20230101120000"

	a, b := *Obfuscate(plain, testKey), *Obfuscate(odd, testKey)
	if b.Status != rim.StatusApproved || b.ObjectType != rim.ObjectTypeStable || b.Version != "1" || b.LogicalID != b.EntryUUID {
		t.Errorf("masked status %q, object type %q, version %q, lid %q: want Approved, stable, 1 and its own entryUUID",
			b.Status, b.ObjectType, b.Version, b.LogicalID)
	}
	if b.CreationTime != "20230101" {
		t.Errorf("creationTime %q, want the day only", b.CreationTime)
	}
	// Apart from the opaque ids and the day, nothing may differ.
	b.EntryUUID, b.LogicalID, b.UniqueID, b.CreationTime = a.EntryUUID, a.LogicalID, a.UniqueID, a.CreationTime
	ja, err := json.Marshal(a)
	if err != nil {
		t.Fatal(err)
	}
	jb, err := json.Marshal(b)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(ja, jb) {
		t.Errorf("masked entries tell the documents apart:\n%s\n%s", ja, jb)
	}
	for _, s := range []string{"Deprecated", "34268e47", "se-NO", "Offline", "A77", "2.16.578.1.12.4.1.7.9"} {
		if strings.Contains(string(jb), s) {
			t.Errorf("masked entry still carries %q", s)
		}
	}
}

package hl7_test

import (
	"strings"
	"testing"

	"kjdd/xds/hl7"
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
			if got := hl7.IsURNUUID(tc.in); got != tc.want {
				t.Errorf("IsURNUUID(%q) = %v, want %v", tc.in, got, tc.want)
			}
		})
	}
}

func TestNewURNUUIDIsRandomVersion4(t *testing.T) {
	seen := map[string]bool{}
	for range 1000 {
		u := hl7.NewURNUUID()
		if !hl7.IsURNUUID(u) {
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
			if got := hl7.RedactNationalIDs(tc.in); got != tc.want {
				t.Errorf("RedactNationalIDs(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

package devissuer

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzParseKeyPEM: whatever is in a key file, reading it returns an error
// or an RSA key, and never panics.
func FuzzParseKeyPEM(f *testing.F) {
	k, err := LoadOrCreate(filepath.Join(f.TempDir(), "dev"))
	if err != nil {
		f.Fatal(err)
	}
	for _, name := range []string{tokenKeyFile, samlFile} {
		b, err := os.ReadFile(filepath.Join(k.Dir, name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		key, _, err := parseKeyPEM(data)
		if err == nil && key == nil {
			t.Fatal("no error and no key")
		}
	})
}

// FuzzPatientCX: an accepted patient is a CX whose id part is what was
// given (or the 11 digits), and never carries markup into an assertion.
func FuzzPatientCX(f *testing.F) {
	for _, s := range []string{"13116900216", "41018012345", "abc^^^&1.2.3&ISO", "13116900216^^^&2.16.578.1.12.4.1.4.1&ISO", "<x/>", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		cx, err := PatientCX(s)
		if err != nil {
			return
		}
		if !strings.Contains(cx, "^^^&") || !strings.HasSuffix(cx, "&ISO") || strings.ContainsAny(cx, "<>\"'") {
			t.Fatalf("PatientCX(%q) = %q", s, cx)
		}
	})
}

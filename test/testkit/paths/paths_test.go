package paths

import (
	"os"
	"path/filepath"
	"testing"
)

func TestLocations(t *testing.T) {
	tests := map[string]struct {
		get  func() (string, error)
		want string // a file that must exist there
	}{
		"repo root holds go.mod":      {get: func() (string, error) { return Repo() }, want: "go.mod"},
		"shared holds DESIGN.md":      {get: func() (string, error) { return Shared() }, want: "DESIGN.md"},
		"conformance holds schemas":   {get: func() (string, error) { return Conformance("schema") }, want: "xds-all.xsd"},
		"conformance holds samples":   {get: func() (string, error) { return Conformance() }, want: "SOURCES.md"},
		"repo joins its elements too": {get: func() (string, error) { return Repo("test", "testkit") }, want: "paths"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			dir, err := tc.get()
			if err != nil {
				t.Fatal(err)
			}
			if _, err := os.Stat(filepath.Join(dir, tc.want)); err != nil {
				t.Fatal(err)
			}
		})
	}
}

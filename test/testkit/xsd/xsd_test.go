package xsd

import (
	"strings"
	"testing"

	"kjdd/test/testkit/paths"
)

func TestValidate(t *testing.T) {
	Require(t)
	tests := map[string]struct {
		doc     func(t *testing.T) []byte
		wantErr string
	}{
		"ok/official soap envelope": {
			doc: func(t *testing.T) []byte { return paths.Sample(t, "iti18-FindDocuments-ihe-official-soap.xml") },
		},
		"ok/bare body": {
			doc: func(t *testing.T) []byte { return paths.Sample(t, "iti42-request-ipf-1.xml") },
		},
		"fail/official response without status": {
			doc:     func(t *testing.T) []byte { return paths.Sample(t, "iti38-response-ihe-official-INVALID.xml") },
			wantErr: "'status' is required",
		},
		"fail/not well-formed": {
			doc:     func(*testing.T) []byte { return []byte("<a><b></a>") },
			wantErr: "schema validation failed",
		},
		"fail/undeclared root": {
			doc: func(*testing.T) []byte {
				return []byte(`<x:RegisterDocumentSetRequest xmlns:x="urn:ihe:iti:xds-b:2007"/>`)
			},
			wantErr: "No matching global declaration",
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			err := Validate(tc.doc(t))
			if tc.wantErr == "" {
				if err != nil {
					t.Fatalf("want valid, got %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("want error containing %q, got %v", tc.wantErr, err)
			}
		})
	}
}

func TestValidateAllReportsEveryFailure(t *testing.T) {
	Require(t)
	good := paths.Sample(t, "iti43-request-ihe-official-soap.xml")
	bad := paths.Sample(t, "iti38-response-ihe-official-INVALID.xml")
	if err := ValidateAll(good, good); err != nil {
		t.Fatalf("two valid documents: %v", err)
	}
	err := ValidateAll(good, bad)
	if err == nil || !strings.Contains(err.Error(), "doc1.xml") {
		t.Fatalf("want failure naming doc1.xml, got %v", err)
	}
}

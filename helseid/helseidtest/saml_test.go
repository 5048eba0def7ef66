package helseidtest

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

func schemaDir(t *testing.T) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return filepath.Join(dir, "..", "shared", "conformance", "schema")
		}
		if filepath.Dir(dir) == dir {
			t.Fatal("go.mod not found")
		}
		dir = filepath.Dir(dir)
	}
}

// TestEnvelopesAreSchemaValid validates the fake's ITI-38 requests, in
// every variant, against the official SOAP 1.2 and ebRS schemas.
func TestEnvelopesAreSchemaValid(t *testing.T) {
	xmllint, err := exec.LookPath("xmllint")
	if err != nil {
		t.Skip("xmllint is not installed")
	}
	schemas := schemaDir(t)
	s := NewSAMLSigner(t)
	variants := map[string][]SAMLOption{
		"valid":                 {},
		"old attribute names":   {XUAOldAttributeNames()},
		"wrapped":               {WrappedInEvilAssertion()},
		"moved to the body":     {SignedMovedToBody()},
		"second assertion":      {SecondUnsignedAssertion()},
		"query another patient": {XUAQueryPatient(EvilPatient)},
	}
	for name, opts := range variants {
		t.Run(name, func(t *testing.T) {
			f := filepath.Join(t.TempDir(), "env.xml")
			if err := os.WriteFile(f, s.Envelope(opts...), 0o600); err != nil {
				t.Fatal(err)
			}
			cmd := exec.Command(xmllint, "--nonet", "--noout", "--schema", filepath.Join(schemas, "xds-all.xsd"), f)
			cmd.Env = append(os.Environ(), "XML_CATALOG_FILES="+filepath.Join(schemas, "catalog.xml"))
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("xmllint: %v\n%s", err, out)
			}
		})
	}
}

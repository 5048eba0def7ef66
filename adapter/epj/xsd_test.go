package epj

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// validateXSD checks xml against the conformance corpus' xds-all.xsd with
// xmllint (kjdd/xds/internal/xsdtest does the same for package xds but is
// internal to it). Without xmllint it skips, unless CI is set.
func validateXSD(t *testing.T, xml []byte) {
	t.Helper()
	bin, err := exec.LookPath("xmllint")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("xmllint is required in CI: %v", err)
		}
		t.Skip("xmllint not installed")
	}
	dir, _ := os.Getwd()
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			break
		}
		if filepath.Dir(dir) == dir {
			t.Fatal("no go.mod above the working directory")
		}
		dir = filepath.Dir(dir)
	}
	schema := filepath.Join(filepath.Dir(dir), "shared", "conformance", "schema")
	f := filepath.Join(t.TempDir(), "message.xml")
	if err := os.WriteFile(f, xml, 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "--nonet", "--noout", "--schema", filepath.Join(schema, "xds-all.xsd"), f)
	cmd.Env = append(os.Environ(), "XML_CATALOG_FILES="+filepath.Join(schema, "catalog.xml"))
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		t.Fatalf("not valid against xds-all.xsd: %v\n%s", err, out.String())
	}
}

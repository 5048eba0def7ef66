// Package xsdtest validates XML produced in tests against the official
// schemas of the conformance corpus (../shared/conformance/schema) with
// xmllint, offline through the corpus' XML catalog.
package xsdtest

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// SchemaDir returns the conformance schema directory: ../shared/conformance/schema
// next to the directory holding go.mod, found by walking up from the
// working directory.
func SchemaDir(t testing.TB) string {
	t.Helper()
	return filepath.Join(SharedDir(t), "conformance", "schema")
}

// SharedDir returns /work/shared, i.e. ../shared relative to the module
// root found by walking up from the working directory to go.mod.
func SharedDir(t testing.TB) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatalf("xsdtest: %v", err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return filepath.Join(filepath.Dir(dir), "shared")
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatalf("xsdtest: no go.mod above the working directory")
		}
		dir = parent
	}
}

// Validate checks xml (a whole SOAP 1.2 envelope or a bare XDS body
// element) against schema/xds-all.xsd and fails the test with xmllint's
// message if it is not valid. Without xmllint the test is skipped, unless
// the environment variable CI is set: in CI a missing xmllint fails.
func Validate(t testing.TB, xml []byte) {
	t.Helper()
	bin, err := exec.LookPath("xmllint")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("xsdtest: xmllint is required in CI: %v", err)
		}
		t.Skip("xsdtest: xmllint not installed (apt-get install libxml2-utils)")
	}
	schemaDir := SchemaDir(t)
	f := filepath.Join(t.TempDir(), "message.xml")
	if err := os.WriteFile(f, xml, 0o600); err != nil {
		t.Fatalf("xsdtest: %v", err)
	}
	cmd := exec.Command(bin, "--nonet", "--noout", "--schema", filepath.Join(schemaDir, "xds-all.xsd"), f)
	cmd.Env = append(os.Environ(), "XML_CATALOG_FILES="+filepath.Join(schemaDir, "catalog.xml"))
	var out bytes.Buffer
	cmd.Stdout = &out
	cmd.Stderr = &out
	err = cmd.Run()
	var exit *exec.ExitError
	switch {
	case errors.As(err, &exit):
		t.Fatalf("xsdtest: not valid against xds-all.xsd:\n%s", relevant(out.String()))
	case err != nil:
		t.Fatalf("xsdtest: running xmllint: %v", err)
	}
}

// relevant drops the one harmless warning xmllint always prints for the
// corpus (xml.xsd imported twice).
func relevant(out string) string {
	var keep []string
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		if strings.Contains(line, "Skipping import of schema") {
			continue
		}
		keep = append(keep, line)
	}
	return strings.Join(keep, "\n")
}

// Package xsd validates XML against the official XDS.b / ebRS 3.0 / SOAP 1.2
// schemas of the shared conformance corpus, by running xmllint offline with
// the corpus' XML catalog.
package xsd

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"kjdd/test/testkit/paths"
)

// ErrNoXmllint is returned when the xmllint program is not installed.
var ErrNoXmllint = errors.New("xmllint not found (Debian package libxml2-utils)")

// Available reports whether xmllint can be run.
func Available() bool {
	_, err := exec.LookPath("xmllint")
	return err == nil
}

// Require stops t when xmllint is missing: it fails under CI (env CI set),
// where a silent skip would hide that no response was schema-checked, and
// skips otherwise.
func Require(t testing.TB) {
	t.Helper()
	if Available() {
		return
	}
	if os.Getenv("CI") != "" {
		t.Fatal(ErrNoXmllint)
	}
	t.Skip(ErrNoXmllint)
}

// SchemaDir returns the directory of the official schemas.
func SchemaDir() (string, error) {
	return paths.Conformance("schema")
}

// Validate checks doc (a SOAP 1.2 envelope or a bare message body) against
// xds-all.xsd. The error lists xmllint's complaints.
func Validate(doc []byte) error {
	return ValidateAll(doc)
}

// ValidateAll checks every document with a single xmllint run and reports
// the first that fails, by index.
func ValidateAll(docs ...[]byte) error {
	if !Available() {
		return ErrNoXmllint
	}
	dir, err := SchemaDir()
	if err != nil {
		return err
	}
	tmp, err := os.MkdirTemp("", "kjdd-xsd-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	files := make([]string, 0, len(docs))
	for i, d := range docs {
		name := filepath.Join(tmp, fmt.Sprintf("doc%d.xml", i))
		if err := os.WriteFile(name, d, 0o600); err != nil {
			return err
		}
		files = append(files, name)
	}
	// --huge: a retrieve answer with XOP reconstituted carries a document as
	// one base64 text node, larger than libxml2's default 10 MB node limit.
	args := append([]string{"--nonet", "--noout", "--huge", "--schema", filepath.Join(dir, "xds-all.xsd")}, files...)
	cmd := exec.Command("xmllint", args...)
	cmd.Env = append(os.Environ(), "XML_CATALOG_FILES="+filepath.Join(dir, "catalog.xml"))
	var out bytes.Buffer
	cmd.Stdout = &out
	cmd.Stderr = &out
	runErr := cmd.Run()
	if runErr == nil {
		return nil
	}
	if _, ok := runErr.(*exec.ExitError); !ok {
		return fmt.Errorf("run xmllint: %w", runErr)
	}
	return fmt.Errorf("schema validation failed:\n%s", complaints(out.String(), tmp))
}

// complaints keeps xmllint's error lines, without the one warning the
// corpus always produces and with temp paths shortened.
func complaints(out, tmp string) string {
	var keep []string
	for _, line := range strings.Split(out, "\n") {
		switch {
		case line == "",
			strings.Contains(line, "Skipping import of schema"),
			strings.HasSuffix(line, " validates"):
			continue
		}
		keep = append(keep, strings.ReplaceAll(line, tmp+string(filepath.Separator), ""))
	}
	const limit = 20 // enough to diagnose; a broken document can produce thousands
	if len(keep) > limit {
		keep = append(keep[:limit], fmt.Sprintf("... %d more lines", len(keep)-limit))
	}
	return strings.Join(keep, "\n")
}

// Check fails t unless doc is valid against xds-all.xsd; without xmllint it
// behaves as Require.
func Check(t testing.TB, doc []byte) {
	t.Helper()
	Require(t)
	if err := Validate(doc); err != nil {
		t.Fatalf("not valid against xds-all.xsd: %v", err)
	}
}

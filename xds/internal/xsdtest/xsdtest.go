// Package xsdtest gives package xds's tests the shared conformance corpus
// and its schema check, as helpers that fail the test. It is a thin layer
// over kjdd/test/testkit/paths and kjdd/internal/xsd, which the rest of the
// module uses directly.
package xsdtest

import (
	"testing"

	"kjdd/test/testkit/paths"
	"kjdd/test/testkit/xsd"
)

// SharedDir returns the shared project directory (../shared beside the
// module root).
func SharedDir(t testing.TB) string {
	t.Helper()
	dir, err := paths.Shared()
	if err != nil {
		t.Fatalf("xsdtest: %v", err)
	}
	return dir
}

// Validate checks xml (a whole SOAP 1.2 envelope or a bare XDS body
// element) against xds-all.xsd and fails the test if it is not valid.
// Without xmllint the test is skipped, unless the environment variable CI
// is set: in CI a missing xmllint fails.
func Validate(t testing.TB, xml []byte) {
	t.Helper()
	xsd.Check(t, xml)
}

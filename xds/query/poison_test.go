package query

import (
	"strings"
	"testing"

	"kjdd/xds/internal/xdstest"
	"kjdd/xds/rim"
	"kjdd/xds/soap"
)

// TestParsersRefuseKeptElement: the parsers of requests refuse an element
// kept past Message.Close loudly (the poisoning itself is
// TestKeptElementIsPoisoned).
func TestParsersRefuseKeptElement(t *testing.T) {
	m, err := soap.NewReader(soap.ReaderConfig{}).Read(strings.NewReader(xdstest.Envelope(xdstest.ActionHeader, xdstest.QueryBody)), soap.ContentTypeSOAP)
	if err != nil {
		t.Fatal(err)
	}
	kept := m.BodyRoot
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	mustPanic := func(what string, use func()) {
		t.Helper()
		defer func() {
			if recover() == nil {
				t.Errorf("%s on an element kept after Close did not fail", what)
			}
		}()
		use()
	}
	mustPanic("ParseAdhocQueryRequest", func() { _, _ = ParseAdhocQueryRequest(kept) })
	mustPanic("ParseRetrieveDocumentSetRequest", func() { _, _ = rim.ParseRetrieveDocumentSetRequest(kept) })
}

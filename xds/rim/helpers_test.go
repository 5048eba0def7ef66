package rim_test

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/beevik/etree"

	"kjdd/xds/internal/xsdtest"
)

// rimSharedDir returns /work/shared as seen from the module.
func rimSharedDir(t testing.TB) string {
	t.Helper()
	return xsdtest.SharedDir(t)
}

// rimSample reads conformance/samples/name.
func rimSample(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(rimSharedDir(t), "conformance", "samples", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

var rimEnvelopeRE = regexp.MustCompile(`(?s)<([A-Za-z0-9_.-]+:)?Envelope[\s>].*</([A-Za-z0-9_.-]+:)?Envelope>`)

// rimEnvelope returns the SOAP envelope of a raw capture: the whole file
// for plain XML, the root part for the MIME (MTOM) .txt captures.
func rimEnvelope(t testing.TB, raw []byte) []byte {
	t.Helper()
	if m := rimEnvelopeRE.Find(raw); m != nil {
		raw = m
	}
	if !utf8.Valid(raw) {
		// A captured NHN ITI-39 carries ISO-8859-1 in a SAML attribute
		// while declaring UTF-8; what these tests read is elsewhere.
		var b strings.Builder
		for _, c := range raw {
			b.WriteRune(rune(c))
		}
		raw = []byte(b.String())
	}
	return raw
}

// rimParseDoc parses XML bytes.
func rimParseDoc(t testing.TB, b []byte) *etree.Document {
	t.Helper()
	doc := etree.NewDocument()
	if err := doc.ReadFromBytes(b); err != nil {
		t.Fatalf("parse xml: %v", err)
	}
	return doc
}

// rimFind returns the first element {ns}local at or below el, depth first.
func rimFind(el *etree.Element, ns, local string) *etree.Element {
	if el == nil {
		return nil
	}
	if el.Tag == local && el.NamespaceURI() == ns {
		return el
	}
	for _, c := range el.ChildElements() {
		if f := rimFind(c, ns, local); f != nil {
			return f
		}
	}
	return nil
}

// rimSerialize writes el as a standalone document.
func rimSerialize(t testing.TB, el *etree.Element) []byte {
	t.Helper()
	doc := etree.NewDocument()
	doc.SetRoot(el)
	b, err := doc.WriteToBytes()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// rimValidateXSD validates XML against the official schemas.
func rimValidateXSD(t testing.TB, xml []byte) {
	t.Helper()
	xsdtest.Validate(t, xml)
}

package epj

import (
	"bytes"
	"errors"
	"testing"

	"github.com/beevik/etree"

	"kjdd/xds/rim"
	"kjdd/xds/soap"
)

// FuzzFindDocument feeds arbitrary answers (read as plain SOAP) to the
// response reader: it must never panic, must fail only with a registry
// error, and must never hand out a document other than the one asked for.
func FuzzFindDocument(f *testing.F) {
	for _, doc := range []*bytes.Buffer{
		render(f, responseWith("urn:uuid:1", rim.ResponseSuccess, [][2]string{{repoOID, "1.2.3.1"}})),
		render(f, responseWith("urn:uuid:1", rim.ResponseFailure, nil, string(rim.XDSDocumentUniqueIDError))),
		render(f, responseWith("urn:uuid:1", rim.ResponseSuccess, [][2]string{{repoOID, "1.2.3.1"}, {"1.2.9", "1.2.3.1"}})),
		render(f, soap.FaultEnvelope(&soap.Fault{Code: soap.FaultReceiver}, "")),
	} {
		f.Add(doc.Bytes())
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		m, err := soap.ReadMessage(bytes.NewReader(body), soap.ContentTypeSOAP, soap.Limits{MaxBodyBytes: 1 << 20})
		if err != nil {
			return
		}
		defer m.Close()
		dr, err := findDocument(m, repoOID, "1.2.3.1")
		if err != nil {
			var reg *rim.RegistryError
			if !errors.As(err, &reg) {
				t.Fatalf("error without a registry error: %v", err)
			}
			return
		}
		if dr.document == nil {
			t.Fatal("accepted without a Document element")
		}
		got := readDocumentResponse(dr.document.Parent())
		if got.documentUniqueID != "1.2.3.1" {
			t.Fatalf("handed out document %q", got.documentUniqueID)
		}
	})
}

// render serialises an envelope.
func render(tb testing.TB, doc *etree.Document) *bytes.Buffer {
	var buf bytes.Buffer
	if _, err := doc.WriteTo(&buf); err != nil {
		tb.Fatal(err)
	}
	return &buf
}

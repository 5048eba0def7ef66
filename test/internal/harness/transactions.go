package harness

import (
	"io"
	"strconv"
	"strings"
	"testing"
)

// SOAP actions of the transactions kjdd serves (IHE ITI TF-2).
const (
	ActionStoredQuery          = "urn:ihe:iti:2007:RegistryStoredQuery"
	ActionCrossGatewayQuery    = "urn:ihe:iti:2007:CrossGatewayQuery"
	ActionCrossGatewayRetrieve = "urn:ihe:iti:2007:CrossGatewayRetrieve"
	ActionProvideAndRegister   = "urn:ihe:iti:2007:ProvideAndRegisterDocumentSet-b"
	ActionRegister             = "urn:ihe:iti:2007:RegisterDocumentSet-b"
	ActionRetrieve             = "urn:ihe:iti:2007:RetrieveDocumentSet"
)

// Registry response statuses (ebRS 3.0, IHE ITI TF-3 4.2.4).
const (
	StatusSuccess = "urn:oasis:names:tc:ebxml-regrep:ResponseStatusType:Success"
	StatusPartial = "urn:ihe:iti:2007:ResponseStatusType:PartialSuccess"
	StatusFailure = "urn:oasis:names:tc:ebxml-regrep:ResponseStatusType:Failure"
)

// OIDFNR is the assigning authority of Norwegian fødselsnummer.
const OIDFNR = "2.16.578.1.12.4.1.4.1"

// CX is a fødselsnummer (or D-number) as an XDS patient id.
func CX(fnr string) string { return fnr + "^^^&" + OIDFNR + "&ISO" }

var xmlEscaper = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&quot;", "'", "&apos;")

// XMLEscape escapes s for XML text and attribute values.
func XMLEscape(s string) string { return xmlEscaper.Replace(s) }

// Document is one document of an ITI-41 request: the xdsb:Document id
// (the ExtrinsicObject's id in the SubmitObjectsRequest) and its content.
type Document struct {
	ID, ContentType string
	Body            io.Reader
}

// ProvideAndRegister is an ITI-41 request in MTOM: the
// SubmitObjectsRequest sor (an XML declaration is dropped) and one
// xdsb:Document per doc, each an XOP include of its own part.
func ProvideAndRegister(sor string, docs ...Document) (body []byte, contentType string, err error) {
	var b strings.Builder
	b.WriteString(`<xdsb:ProvideAndRegisterDocumentSetRequest xmlns:xdsb="urn:ihe:iti:xds-b:2007">`)
	b.WriteString(StripProlog(sor))
	parts := make([]Part, len(docs))
	for i, d := range docs {
		cid := "doc" + strconv.Itoa(i) + "@kjdd.test"
		if len(docs) == 1 {
			cid = "doc@kjdd.test"
		}
		b.WriteString(`<xdsb:Document id="` + XMLEscape(d.ID) + `">` + XOPInclude(cid) + `</xdsb:Document>`)
		parts[i] = Part{ContentID: cid, ContentType: d.ContentType, Body: d.Body}
	}
	b.WriteString(`</xdsb:ProvideAndRegisterDocumentSetRequest>`)
	return MTOM(Envelope(ActionProvideAndRegister, b.String()), ActionProvideAndRegister, parts...)
}

// Provide sends ITI-41 (sor with docs, see ProvideAndRegister) with the
// server's credentials and fails t unless it is answered with Success.
func (s *Server) Provide(t testing.TB, sor string, docs ...Document) *Response {
	t.Helper()
	msg, ct, err := ProvideAndRegister(sor, docs...)
	if err != nil {
		t.Fatal(err)
	}
	resp := s.SOAP(t, PathRepository, msg, ct)
	RequireSuccess(t, "ITI-41", resp)
	return resp
}

// Register sends ITI-42 (the SubmitObjectsRequest sor) with the server's
// credentials and fails t unless it is answered with Success.
func (s *Server) Register(t testing.TB, sor string) *Response {
	t.Helper()
	resp := s.SOAP(t, PathRegistry, Envelope(ActionRegister, sor), ContentTypeSOAP)
	RequireSuccess(t, "ITI-42", resp)
	return resp
}

// RequireSuccess fails t unless resp is a registry response with status
// Success and no SOAP Fault.
func RequireSuccess(t testing.TB, what string, resp *Response) {
	t.Helper()
	if f := resp.Fault(); f != nil || resp.Status() != StatusSuccess {
		t.Fatalf("%s not accepted: fault %v, status %s, errors %+v", what, f, resp.Status(), resp.RegistryErrors())
	}
}

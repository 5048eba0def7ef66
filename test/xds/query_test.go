package xds

import (
	"slices"
	"strings"
	"testing"

	"kjdd/test/internal/harness"
)

// param is one stored-query parameter: its slot name and the text of its
// Value(s).
type param struct {
	name   string
	values []string
}

// list is a stored-query list value: ('a','b').
func list(vs ...string) string {
	q := make([]string, len(vs))
	for i, v := range vs {
		q[i] = "'" + strings.ReplaceAll(v, "'", "''") + "'"
	}
	return "(" + strings.Join(q, ",") + ")"
}

// one is a single stored-query string value: 'a'.
func one(v string) string { return "'" + strings.ReplaceAll(v, "'", "''") + "'" }

// Return types of a stored query.
const (
	leafClass = "LeafClass"
	objectRef = "ObjectRef"
)

// Stored-query ids (ITI TF-2 3.18.4.1.2.3.7).
const (
	queryFindDocuments               = "urn:uuid:14d4debf-8f97-4251-9a74-a90016b0af0d"
	queryGetDocuments                = "urn:uuid:5c4f972b-d56b-40ac-a5fc-c8ca9b40b9d4"
	queryGetAssociations             = "urn:uuid:a7ae438b-4bc2-4642-93e9-be891f7bb155"
	queryGetSubmissionSetAndContents = "urn:uuid:e8e3cb2c-e39c-46b9-99e4-c12f57260b83"
)

const approved = "urn:oasis:names:tc:ebxml-regrep:StatusType:Approved"

// findDocuments are FindDocuments' parameters for patient's approved
// documents.
func findDocuments(patient string) []param {
	return []param{
		{"$XDSDocumentEntryPatientId", []string{one(harness.CX(patient))}},
		{"$XDSDocumentEntryStatus", []string{list(approved)}},
	}
}

// adhocQuery is an AdhocQueryRequest; an empty queryHome leaves
// AdhocQuery@home out.
func adhocQuery(queryID, returnType, queryHome string, params []param) string {
	var b strings.Builder
	b.WriteString(`<query:AdhocQueryRequest xmlns:query="urn:oasis:names:tc:ebxml-regrep:xsd:query:3.0" xmlns:rim="urn:oasis:names:tc:ebxml-regrep:xsd:rim:3.0">`)
	b.WriteString(`<query:ResponseOption returnType="` + harness.XMLEscape(returnType) + `" returnComposedObjects="true"/>`)
	b.WriteString(`<rim:AdhocQuery id="` + harness.XMLEscape(queryID) + `"`)
	if queryHome != "" {
		b.WriteString(` home="` + harness.XMLEscape(queryHome) + `"`)
	}
	b.WriteString(`>`)
	for _, p := range params {
		b.WriteString(`<rim:Slot name="` + harness.XMLEscape(p.name) + `"><rim:ValueList>`)
		for _, v := range p.values {
			b.WriteString(`<rim:Value>` + harness.XMLEscape(v) + `</rim:Value>`)
		}
		b.WriteString(`</rim:ValueList></rim:Slot>`)
	}
	b.WriteString(`</rim:AdhocQuery></query:AdhocQueryRequest>`)
	return b.String()
}

const nsRIM = "urn:oasis:names:tc:ebxml-regrep:xsd:rim:3.0"

// object is a top-level object of a query answer: its element name and id.
type object struct {
	kind, id string
}

// checkObjects requires the answer's RegistryObjectList to hold exactly
// want (any order).
func checkObjects(t testing.TB, resp *harness.Response, want []object) {
	t.Helper()
	var got []object
	for _, e := range resp.Objects() {
		kind := e.Tag
		if e.NamespaceURI() != nsRIM {
			kind = e.FullTag()
		}
		got = append(got, object{kind, e.SelectAttrValue("id", "")})
	}
	key := func(o object) string { return o.kind + " " + o.id }
	g, w := make([]string, len(got)), make([]string, len(want))
	for i, o := range got {
		g[i] = key(o)
	}
	for i, o := range want {
		w[i] = key(o)
	}
	if !sameMultiset(g, w) {
		slices.Sort(g)
		slices.Sort(w)
		t.Errorf("answer objects:\n  %s\nwant:\n  %s", strings.Join(g, "\n  "), strings.Join(w, "\n  "))
	}
}

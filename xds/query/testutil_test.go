package query

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/beevik/etree"

	"kjdd/xds/internal/xsdtest"
	"kjdd/xds/rim"
)

// sqSharedDir returns the shared project directory (../shared beside the
// module root).
func sqSharedDir(t testing.TB) string {
	t.Helper()
	return xsdtest.SharedDir(t)
}

// sqReadShared reads a file below the shared directory.
func sqReadShared(t testing.TB, rel string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(sqSharedDir(t), rel))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// sqPlaceholderRE matches NIST toolkit placeholders such as $patient_id$.
var sqPlaceholderRE = regexp.MustCompile(`\$[A-Za-z_][A-Za-z0-9_]*\$`)

// substitutePlaceholders replaces the NIST $name$ placeholders of s that
// vals defines; others are left as they are. Values are XML-escaped, as a
// CX's & must be in a document.
func substitutePlaceholders(s string, vals map[string]string) string {
	return sqPlaceholderRE.ReplaceAllStringFunc(s, func(m string) string {
		v, ok := vals[m]
		if !ok {
			return m
		}
		var b strings.Builder
		for _, r := range v {
			switch r {
			case '&':
				b.WriteString("&amp;")
			case '<':
				b.WriteString("&lt;")
			default:
				b.WriteRune(r)
			}
		}
		return b.String()
	})
}

// sqQueryElement parses XML text and returns its query:AdhocQueryRequest
// element (the body of an envelope or the document root), nil if none.
func sqQueryElement(t testing.TB, text string) *etree.Element {
	t.Helper()
	doc := etree.NewDocument()
	if err := doc.ReadFromString(text); err != nil {
		t.Fatalf("parse XML: %v", err)
	}
	return sqFind(doc.Root(), rim.NSQuery, "AdhocQueryRequest")
}

// sqFind returns the first element {ns}local at or below el.
func sqFind(el *etree.Element, ns, local string) *etree.Element {
	if el == nil {
		return nil
	}
	if el.Tag == local && el.NamespaceURI() == ns {
		return el
	}
	for _, c := range el.ChildElements() {
		if f := sqFind(c, ns, local); f != nil {
			return f
		}
	}
	return nil
}

// sqRequest builds an AdhocQueryRequest for query id with the given slots
// (name, then the Value texts, unescaped), parsed and ready for
// ParseAdhocQueryRequest.
func sqRequest(t testing.TB, returnType, id string, slots ...sqSlot) *etree.Element {
	t.Helper()
	doc := etree.NewDocument()
	req := doc.CreateElement("query:AdhocQueryRequest")
	req.CreateAttr("xmlns:query", rim.NSQuery)
	req.CreateAttr("xmlns:rim", rim.NSRIM)
	if returnType != "-" {
		ro := req.CreateElement("query:ResponseOption")
		ro.CreateAttr("returnComposedObjects", "true")
		if returnType != "" {
			ro.CreateAttr("returnType", returnType)
		}
	}
	aq := req.CreateElement("rim:AdhocQuery")
	aq.CreateAttr("id", id)
	for _, s := range slots {
		se := aq.CreateElement("rim:Slot")
		se.CreateAttr("name", s.name)
		vl := se.CreateElement("rim:ValueList")
		for _, v := range s.values {
			vl.CreateElement("rim:Value").SetText(v)
		}
	}
	// Round-trip through text so the element is exactly what a parser of a
	// real message would see.
	text, err := doc.WriteToString()
	if err != nil {
		t.Fatal(err)
	}
	return sqQueryElement(t, text)
}

// sqSlot is one rim:Slot of a test request.
type sqSlot struct {
	name   string
	values []string
}

// sqParam is shorthand for an sqSlot.
func sqParam(name string, values ...string) sqSlot { return sqSlot{name: name, values: values} }

// sqRegistry is a map-backed in-memory registry implementing Source: test
// data, standing in for the adapter's store. It records the patients and
// ids asked for, so tests can check that queries stay scoped.
type sqRegistry struct {
	docs    []*rim.DocumentEntry
	sets    []*rim.SubmissionSet
	folders []*rim.Folder
	assocs  []*rim.Association

	patientsAsked []string
	fail          error // returned by every method when set
}

var _ Source = (*sqRegistry)(nil)

func (r *sqRegistry) DocumentEntriesByPatient(_ context.Context, patientID string, statuses []string) ([]*rim.DocumentEntry, error) {
	r.patientsAsked = append(r.patientsAsked, patientID)
	if r.fail != nil {
		return nil, r.fail
	}
	var out []*rim.DocumentEntry
	for _, d := range r.docs {
		if d.PatientID == patientID && (len(statuses) == 0 || slices.Contains(statuses, d.Status)) {
			out = append(out, d)
		}
	}
	return out, nil
}

func (r *sqRegistry) SubmissionSetsByPatient(_ context.Context, patientID string, statuses []string) ([]*rim.SubmissionSet, error) {
	r.patientsAsked = append(r.patientsAsked, patientID)
	if r.fail != nil {
		return nil, r.fail
	}
	var out []*rim.SubmissionSet
	for _, s := range r.sets {
		if s.PatientID == patientID && (len(statuses) == 0 || slices.Contains(statuses, s.Status)) {
			out = append(out, s)
		}
	}
	return out, nil
}

func (r *sqRegistry) FoldersByPatient(_ context.Context, patientID string, statuses []string) ([]*rim.Folder, error) {
	r.patientsAsked = append(r.patientsAsked, patientID)
	if r.fail != nil {
		return nil, r.fail
	}
	var out []*rim.Folder
	for _, f := range r.folders {
		if f.PatientID == patientID && (len(statuses) == 0 || slices.Contains(statuses, f.Status)) {
			out = append(out, f)
		}
	}
	return out, nil
}

// sqLookupMatch reports whether an object is selected by l.
func sqLookupMatch(l Lookup, entryUUID, uniqueID string) bool {
	return slices.Contains(l.EntryUUIDs, entryUUID) || slices.Contains(l.UniqueIDs, uniqueID)
}

func (r *sqRegistry) DocumentEntries(_ context.Context, l Lookup) ([]*rim.DocumentEntry, error) {
	if r.fail != nil {
		return nil, r.fail
	}
	var out []*rim.DocumentEntry
	for _, d := range r.docs {
		if sqLookupMatch(l, d.EntryUUID, d.UniqueID) {
			out = append(out, d)
		}
	}
	return out, nil
}

func (r *sqRegistry) SubmissionSets(_ context.Context, l Lookup) ([]*rim.SubmissionSet, error) {
	if r.fail != nil {
		return nil, r.fail
	}
	var out []*rim.SubmissionSet
	for _, s := range r.sets {
		if sqLookupMatch(l, s.EntryUUID, s.UniqueID) {
			out = append(out, s)
		}
	}
	return out, nil
}

func (r *sqRegistry) Folders(_ context.Context, l Lookup) ([]*rim.Folder, error) {
	if r.fail != nil {
		return nil, r.fail
	}
	var out []*rim.Folder
	for _, f := range r.folders {
		if sqLookupMatch(l, f.EntryUUID, f.UniqueID) {
			out = append(out, f)
		}
	}
	return out, nil
}

func (r *sqRegistry) AssociationsOf(_ context.Context, uuids []string) ([]*rim.Association, error) {
	if r.fail != nil {
		return nil, r.fail
	}
	var out []*rim.Association
	for _, a := range r.assocs {
		if slices.Contains(uuids, a.Source) || slices.Contains(uuids, a.Target) {
			out = append(out, a)
		}
	}
	return out, nil
}

// sqWantCode fails unless err is a single *RegistryError with code.
func sqWantCode(t testing.TB, err error, code rim.ErrorCode) *rim.RegistryError {
	t.Helper()
	if err == nil {
		t.Fatalf("got no error, want %s", code)
	}
	var re *rim.RegistryError
	list, ok := rim.AsRegistryErrors(err)
	if !ok || len(list) != 1 {
		t.Fatalf("got %v (%T), want one RegistryError %s", err, err, code)
	}
	re = list[0]
	if re.Code != code {
		t.Fatalf("got %s (%q), want %s", re.Code, re.Context, code)
	}
	if re.IsWarning() {
		t.Fatalf("got a warning, want an error")
	}
	return re
}

// sqRoot parses text and returns its root element, nil when it is not XML.
func sqRoot(text string) *etree.Element {
	doc := etree.NewDocument()
	if err := doc.ReadFromString(text); err != nil {
		return nil
	}
	return doc.Root()
}

package query

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/beevik/etree"

	"kjdd/xds/rim"
)

var sqUpdateGolden = flag.Bool("update-query-golden", false, "rewrite xds/query/testdata/query golden files")

// Placeholder values for the NIST templates among the samples.
const (
	sqTestPatient = "17855599120^^^&2.16.578.1.12.4.1.4.1&ISO" // NHN test patient of the PJD captures
	sqTestUUID1   = "urn:uuid:8b7a3c2e-1d4f-4e6a-9b0c-2f3e4d5a6b7c"
	sqTestUUID2   = "urn:uuid:0d1e2f3a-4b5c-4d6e-8f70-8192a3b4c5d6"
)

var sqSampleValues = map[string]string{
	"$patient_id$": sqTestPatient,
	"$uuid$":       sqTestUUID1,
	"$uuid1$":      sqTestUUID1,
	"$uuid2$":      sqTestUUID2,
	"$uid1$":       "2.16.578.1.12.4.1.7.3.1.1001",
	"$uid2$":       "2.16.578.1.12.4.1.7.3.1.1002",
	"$uniqueid$":   "2.16.578.1.12.4.1.7.3.1.1003",
	"$lastyear$":   "20250101",
	"$now$":        "20260101120000",
}

// sqSampleCase is what parsing one sample must give.
type sqSampleCase struct {
	name       string        // query name; "" when the sample must be rejected
	returnType string        // for accepted samples
	code       rim.ErrorCode // for rejected samples
	context    string        // substring of the rejection context
	check      func(t *testing.T, q *StoredQuery)
}

// sqSamples covers every ITI-18 and ITI-38 request sample of the corpus.
var sqSamples = map[string]sqSampleCase{
	"iti18-FindDocuments-ehealthsuisse-projectathon-saml.xml": {name: "FindDocuments", returnType: rim.ReturnObjectRef, check: func(t *testing.T, q *StoredQuery) {
		sqWantStrings(t, "statuses", q.Params.DocumentEntryStatuses, rim.StatusApproved)
		sqWantEqual(t, "patient", q.PatientID(), "7e1c6e78-58f1-4a43-ae88-0d5a5c4ab43e^^^&1.3.6.1.4.1.21367.2017.2.5.45&ISO")
	}},
	// IHE's own example sends an unquoted patient id (and a
	// ResponseStatusType as status and typographic quotes around a code
	// without scheme): rejected on the first problem.
	"iti18-FindDocuments-ihe-official-soap.xml": {code: rim.XDSRegistryError, context: "$XDSDocumentEntryPatientId: string values must be in single quotes"},
	// The patient id opens a quote, escapes one ('') and never closes:
	// the SQL-injection payload cannot become part of a value.
	"iti18-FindDocuments-ipf-sqlinjection-NEGATIVE.xml": {code: rim.XDSRegistryError, context: "$XDSDocumentEntryPatientId: unterminated quoted string"},
	// returnType='$rt0$' is a NIST placeholder, not LeafClass or ObjectRef
	// (the reason the template fails the XSD).
	"iti18-FindDocuments-nist-all-params-INVALID-template.xml": {code: rim.XDSRegistryError, context: "returnType must be LeafClass or ObjectRef"},
	"iti18-FindDocuments-nist-classcode-practicesetting.xml": {name: "FindDocuments", returnType: rim.ReturnObjectRef, check: func(t *testing.T, q *StoredQuery) {
		sqWantCodes(t, "class", q.Params.ClassCodes, "SUMMARIES^^1.3.6.1.4.1.19376.1.2.6.1")
		sqWantCodes(t, "practice", q.Params.PracticeSettingCodes, "309927009^^2.16.840.1.113883.6.96")
	}},
	"iti18-FindDocuments-nist-creationtime-between.xml": {name: "FindDocuments", returnType: rim.ReturnObjectRef, check: func(t *testing.T, q *StoredQuery) {
		sqWantEqual(t, "creation", q.Params.CreationTime, TimeRange{From: "20040101", To: "20050101"})
	}},
	"iti18-FindDocuments-nist-creationtime-practicesetting.xml": {name: "FindDocuments", returnType: rim.ReturnObjectRef, check: func(t *testing.T, q *StoredQuery) {
		sqWantEqual(t, "creation", q.Params.CreationTime, TimeRange{From: "20020101", To: "20060101"})
		sqWantCodes(t, "practice", q.Params.PracticeSettingCodes, "Practice-D^^1.3.6.1.4.1.21367.2017.3")
	}},
	"iti18-FindDocuments-nist-eventcode-and.xml": {name: "FindDocuments", returnType: rim.ReturnObjectRef, check: func(t *testing.T, q *StoredQuery) {
		if len(q.Params.EventCodes) != 2 {
			t.Fatalf("event code groups: got %d, want 2 (AND)", len(q.Params.EventCodes))
		}
		sqWantCodes(t, "event 1", q.Params.EventCodes[0], "urn:connectathon:bppc:foundational:policy^^1.3.6.1.4.1.21367.2017.3")
		sqWantCodes(t, "event 2", q.Params.EventCodes[1], "urn:connectathon:policy:full-access^^1.3.6.1.4.1.21367.2017.3")
	}},
	"iti18-FindDocuments-pjd-no-confidentiality.xml": {name: "FindDocuments", returnType: rim.ReturnLeafClass, check: sqCheckPJDConfidentiality},
	"iti18-FindDocuments-pjd-no-saml.xml":            {name: "FindDocuments", returnType: rim.ReturnLeafClass, check: sqCheckPJDConfidentiality},
	"iti18-FindDocumentsByReferenceId-nist.xml": {name: "FindDocumentsByReferenceId", returnType: rim.ReturnObjectRef, check: func(t *testing.T, q *StoredQuery) {
		sqWantEqual(t, "reference ids", fmt.Sprint(q.Params.ReferenceIDs), "[[20061223^^^&1.2.5643.2&ISO^urn:ihe:iti:xds:2013:uniqueId]]")
	}},
	"iti18-FindDocumentsForMultiplePatients-nist.xml": {code: rim.XDSUnknownStoredQuery, context: QueryFindDocumentsForMultiplePatients},
	"iti18-FindFolders-nist-updatetime.xml": {name: "FindFolders", returnType: rim.ReturnLeafClass, check: func(t *testing.T, q *StoredQuery) {
		sqWantEqual(t, "last update", q.Params.FolderLastUpdateTime, TimeRange{From: "20250101", To: "20260101120000"})
		sqWantStrings(t, "statuses", q.Params.FolderStatuses, rim.StatusApproved)
	}},
	"iti18-FindSubmissionSets-nist-submissiontime.xml": {name: "FindSubmissionSets", returnType: rim.ReturnLeafClass, check: func(t *testing.T, q *StoredQuery) {
		sqWantEqual(t, "submission time", q.Params.SubmissionTime, TimeRange{From: "200412", To: "200501"})
	}},
	"iti18-GetAll-nist.xml": {name: "GetAll", returnType: rim.ReturnLeafClass, check: func(t *testing.T, q *StoredQuery) {
		for _, s := range [][]string{q.Params.DocumentEntryStatuses, q.Params.SubmissionSetStatuses, q.Params.FolderStatuses} {
			sqWantStrings(t, "statuses", s, rim.StatusApproved, rim.StatusDeprecated)
		}
		sqWantStrings(t, "entry types", q.Params.DocumentEntryTypes, rim.ObjectTypeStable, rim.ObjectTypeOnDemand)
	}},
	"iti18-GetAssociations-nist.xml": {name: "GetAssociations", returnType: rim.ReturnLeafClass, check: func(t *testing.T, q *StoredQuery) {
		sqWantStrings(t, "uuids", q.Params.UUIDs, sqTestUUID1)
	}},
	// NHN's sample sends the $uuid without urn:uuid:.
	"iti18-GetAssociations-pjd-no-saml.xml": {name: "GetAssociations", returnType: rim.ReturnLeafClass, check: func(t *testing.T, q *StoredQuery) {
		sqWantStrings(t, "uuids", q.Params.UUIDs, "urn:uuid:0145ca61-6ea3-44d4-95bb-3506d6c14e4f")
		sqWantEqual(t, "patient", q.PatientID(), "")
	}},
	"iti18-GetDocuments-nist-uniqueid.xml": {name: "GetDocuments", returnType: rim.ReturnLeafClass, check: func(t *testing.T, q *StoredQuery) {
		sqWantStrings(t, "unique ids", q.Params.DocumentEntryUniqueIDs, "2.16.578.1.12.4.1.7.3.1.1001", "2.16.578.1.12.4.1.7.3.1.1002")
	}},
	"iti18-GetDocuments-nist-uuid-multivalue.xml": {name: "GetDocuments", returnType: rim.ReturnLeafClass, check: func(t *testing.T, q *StoredQuery) {
		sqWantStrings(t, "uuids", q.Params.DocumentEntryUUIDs, sqTestUUID1, sqTestUUID2)
	}},
	"iti18-GetDocumentsAndAssociations-nist.xml": {name: "GetDocumentsAndAssociations", returnType: rim.ReturnLeafClass, check: func(t *testing.T, q *StoredQuery) {
		sqWantStrings(t, "uuids", q.Params.DocumentEntryUUIDs, sqTestUUID1, sqTestUUID2)
	}},
	"iti18-GetFolderAndContents-nist-confcode.xml": {name: "GetFolderAndContents", returnType: rim.ReturnLeafClass, check: func(t *testing.T, q *StoredQuery) {
		sqWantStrings(t, "folder", q.Params.FolderUUIDs, sqTestUUID1)
		if len(q.Params.ConfidentialityCodes) != 1 {
			t.Fatalf("confidentiality groups: got %d, want 1", len(q.Params.ConfidentialityCodes))
		}
		sqWantCodes(t, "confidentiality", q.Params.ConfidentialityCodes[0], "R^^2.16.840.1.113883.5.25", "N^^2.16.840.1.113883.5.25")
	}},
	"iti18-GetFolders-nist-uuid.xml": {name: "GetFolders", returnType: rim.ReturnLeafClass, check: func(t *testing.T, q *StoredQuery) {
		sqWantStrings(t, "folders", q.Params.FolderUUIDs, sqTestUUID1, sqTestUUID2)
	}},
	"iti18-GetFoldersForDocument-nist.xml": {name: "GetFoldersForDocument", returnType: rim.ReturnLeafClass, check: func(t *testing.T, q *StoredQuery) {
		sqWantStrings(t, "unique id", q.Params.DocumentEntryUniqueIDs, "2.16.578.1.12.4.1.7.3.1.1003")
	}},
	"iti18-GetRelatedDocuments-nist.xml": {name: "GetRelatedDocuments", returnType: rim.ReturnLeafClass, check: func(t *testing.T, q *StoredQuery) {
		sqWantStrings(t, "association types", q.Params.AssociationTypes, rim.AssocHasMember, rim.AssocRPLC)
	}},
	"iti18-GetSubmissionSetAndContents-nist-formatcode.xml": {name: "GetSubmissionSetAndContents", returnType: rim.ReturnLeafClass, check: func(t *testing.T, q *StoredQuery) {
		sqWantStrings(t, "submission set", q.Params.SubmissionSetUniqueIDs, "2.16.578.1.12.4.1.7.3.1.1003")
		sqWantCodes(t, "format", q.Params.FormatCodes, "urn:ihe:qrph:hw:2013^^1.3.6.1.4.1.19376.1.2.3")
	}},
	"iti18-GetSubmissionSets-nist.xml": {name: "GetSubmissionSets", returnType: rim.ReturnLeafClass, check: func(t *testing.T, q *StoredQuery) {
		sqWantStrings(t, "uuids", q.Params.UUIDs, sqTestUUID1, sqTestUUID2)
	}},
	// IHE's XCA example has an empty AdhocQueryRequest.
	"iti38-FindDocuments-ihe-official-INVALID.xml": {code: rim.XDSRegistryError, context: "ResponseOption is missing"},
	"iti38-FindDocuments-nist-xgq-objectref.xml": {name: "FindDocuments", returnType: rim.ReturnObjectRef, check: func(t *testing.T, q *StoredQuery) {
		sqWantEqual(t, "patient", q.PatientID(), sqTestPatient)
	}},
	"iti38-FindDocuments-pjd-acp-saml.xml":           {name: "FindDocuments", returnType: rim.ReturnLeafClass, check: sqCheckKjernejournal("17855599120")},
	"iti38-FindDocuments-pjd-async.xml":              {name: "FindDocuments", returnType: rim.ReturnLeafClass, check: sqCheckKjernejournal("17855599120")},
	"iti38-FindDocuments-pjd-helsenord-saml.xml":     {name: "FindDocuments", returnType: rim.ReturnLeafClass, check: sqCheckKjernejournal("27888498775")},
	"iti38-FindDocuments-pjd-kjernejournal-saml.xml": {name: "FindDocuments", returnType: rim.ReturnLeafClass, check: sqCheckKjernejournal("17855599120")},
}

// sqCheckKjernejournal checks what the national gateway sends: patient and
// Approved only, no home, no other filter.
func sqCheckKjernejournal(fnr string) func(t *testing.T, q *StoredQuery) {
	return func(t *testing.T, q *StoredQuery) {
		sqWantEqual(t, "patient", q.PatientID(), fnr+"^^^&2.16.578.1.12.4.1.4.1&ISO")
		sqWantStrings(t, "statuses", q.Params.DocumentEntryStatuses, rim.StatusApproved)
		sqWantEqual(t, "home", q.Home, "")
		sqWantEqual(t, "filters", q.Params.ClassCodes == nil && q.Params.ConfidentialityCodes == nil, true)
	}
}

// sqCheckPJDConfidentiality checks the five HL7 confidentiality codes in one
// slot: one OR group.
func sqCheckPJDConfidentiality(t *testing.T, q *StoredQuery) {
	if len(q.Params.ConfidentialityCodes) != 1 {
		t.Fatalf("confidentiality groups: got %d, want 1 (OR)", len(q.Params.ConfidentialityCodes))
	}
	var want []string
	for _, c := range []string{"L", "M", "N", "U", "R"} {
		want = append(want, c+"^^2.16.840.1.113883.5.25")
	}
	sqWantCodes(t, "confidentiality", q.Params.ConfidentialityCodes[0], want...)
}

func sqWantEqual[T comparable](t *testing.T, what string, got, want T) {
	t.Helper()
	if got != want {
		t.Errorf("%s: got %v, want %v", what, got, want)
	}
}

func sqWantStrings(t *testing.T, what string, got []string, want ...string) {
	t.Helper()
	if !slices.Equal(got, want) {
		t.Errorf("%s: got %q, want %q", what, got, want)
	}
}

func sqWantCodes(t *testing.T, what string, got []rim.Code, want ...string) {
	t.Helper()
	var g []string
	for _, c := range got {
		g = append(g, c.Code+"^^"+c.Scheme)
	}
	sqWantStrings(t, what, g, want...)
}

func TestParseAdhocQueryRequestSamples(t *testing.T) {
	dir := filepath.Join(sqSharedDir(t), "conformance", "samples")
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, e := range entries {
		n := e.Name()
		if !strings.HasPrefix(n, "iti18-") && !strings.HasPrefix(n, "iti38-") || strings.Contains(n, "-response") {
			continue
		}
		seen[n] = true
		tc, ok := sqSamples[n]
		if !ok {
			t.Errorf("request sample %s has no test case", n)
			continue
		}
		t.Run(n, func(t *testing.T) {
			text := substitutePlaceholders(sqReadShared(t, "conformance/samples/"+n), sqSampleValues)
			el := sqQueryElement(t, text)
			if el == nil {
				t.Fatal("no AdhocQueryRequest in the sample")
			}
			q, err := ParseAdhocQueryRequest(el)
			sqCheckGolden(t, n, q, err)
			if tc.name == "" {
				re := sqWantCode(t, err, tc.code)
				if !strings.Contains(re.Context, tc.context) {
					t.Errorf("context %q, want it to contain %q", re.Context, tc.context)
				}
				return
			}
			if err != nil {
				t.Fatalf("got %v, want %s", err, tc.name)
			}
			sqWantEqual(t, "name", q.Name, tc.name)
			sqWantEqual(t, "return type", q.ReturnType, tc.returnType)
			if tc.check != nil {
				tc.check(t, q)
			}
		})
	}
	for n := range sqSamples {
		if !seen[n] {
			t.Errorf("test case %s has no sample", n)
		}
	}
}

// sqCheckGolden compares the parse outcome of a sample with
// testdata/query/<sample>.json.
func sqCheckGolden(t *testing.T, sample string, q *StoredQuery, err error) {
	t.Helper()
	var v any = q
	if err != nil {
		re, _ := rim.AsRegistryErrors(err)
		v = map[string]any{"errors": re}
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false) // keep the & of CX values readable
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		t.Fatal(err)
	}
	got := buf.Bytes()
	path := filepath.Join("testdata", "query", strings.TrimSuffix(sample, ".xml")+".json")
	if *sqUpdateGolden {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, rerr := os.ReadFile(path)
	if rerr != nil {
		t.Fatalf("%v (run with -update-query-golden to create it)", rerr)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("parse of %s differs from %s:\n%s", sample, path, got)
	}
}

// TestParseAllFindDocumentsParameters fills every placeholder of NIST's
// all-parameters FindDocuments template with valid values: every
// FindDocuments parameter, several values each, must parse.
func TestParseAllFindDocumentsParameters(t *testing.T) {
	text := sqReadShared(t, "conformance/samples/iti18-FindDocuments-nist-all-params-INVALID-template.xml")
	vals := map[string]string{"$patient_id$": sqTestPatient, "$rt0$": rim.ReturnObjectRef}
	statuses := []string{rim.StatusApproved, rim.StatusDeprecated, rim.StatusSubmitted, rim.StatusApproved}
	types := []string{rim.ObjectTypeStable, rim.ObjectTypeOnDemand, rim.ObjectTypeStable, rim.ObjectTypeOnDemand}
	for i := range 4 {
		vals[fmt.Sprintf("$dst%d$", i)] = statuses[i]
		vals[fmt.Sprintf("$ot%d$", i)] = types[i]
	}
	for _, p := range []string{"clc", "tc", "fc", "hftc", "psc", "cc", "ecl"} {
		for i := range 10 {
			vals[fmt.Sprintf("$%s%d$", p, i)] = fmt.Sprintf("%s-%d^^2.16.578.1.12.4.1.1.%d", p, i, 9600+i)
		}
	}
	for i := range 10 {
		vals[fmt.Sprintf("$ap%d$", i)] = fmt.Sprintf("%%^Lege%d^%%", i)
	}
	for p, v := range map[string]string{"ctf0": "2004", "ctt0": "2005", "sstf0": "200401", "sstt0": "200402", "sttf0": "20040101", "sttt0": "20040102"} {
		vals["$"+p+"$"] = v
	}
	text = substitutePlaceholders(text, vals)
	if m := sqPlaceholderRE.FindString(text); m != "" {
		t.Fatalf("placeholder %s left", m)
	}
	q, err := ParseAdhocQueryRequest(sqQueryElement(t, text))
	if err != nil {
		t.Fatal(err)
	}
	p := q.Params
	for name, n := range map[string]int{
		"class": len(p.ClassCodes), "type": len(p.TypeCodes), "format": len(p.FormatCodes),
		"facility": len(p.HealthcareFacilityTypeCodes), "practice": len(p.PracticeSettingCodes),
		"authors": len(p.AuthorPersons),
	} {
		sqWantEqual(t, name, n, 10)
	}
	sqWantEqual(t, "confidentiality groups", len(p.ConfidentialityCodes), 1)
	sqWantEqual(t, "confidentiality codes", len(p.ConfidentialityCodes[0]), 10)
	sqWantEqual(t, "event codes", len(p.EventCodes[0]), 10)
	sqWantStrings(t, "statuses", p.DocumentEntryStatuses, statuses...)
	sqWantStrings(t, "types", p.DocumentEntryTypes, types...)
	sqWantEqual(t, "creation", p.CreationTime, TimeRange{"2004", "2005"})
	sqWantEqual(t, "service start", p.ServiceStartTime, TimeRange{"200401", "200402"})
	sqWantEqual(t, "service stop", p.ServiceStopTime, TimeRange{"20040101", "20040102"})
	sqWantEqual(t, "author 3", p.AuthorPersons[3], "%^Lege3^%")
}

// sqFnrRE finds an 11-digit number standing alone: a national identity
// number.
var sqFnrRE = regexp.MustCompile(`(^|[^0-9])[0-9]{11}([^0-9]|$)`)

func TestParseAdhocQueryRequestErrors(t *testing.T) {
	const fnrPatient = "'13116900216^^^&2.16.578.1.12.4.1.4.1&ISO'"
	approved := "('" + rim.StatusApproved + "')"
	findDocs := func(extra ...sqSlot) []sqSlot {
		return append([]sqSlot{sqParam(pDEPatientID, fnrPatient), sqParam(pDEStatus, approved)}, extra...)
	}
	uuid := "'" + sqTestUUID1 + "'"
	tests := []struct {
		name       string
		returnType string
		id         string
		slots      []sqSlot
		code       rim.ErrorCode
		context    string
	}{
		{"unknown query id", rim.ReturnLeafClass, "urn:uuid:00000000-0000-4000-8000-000000000000", nil, rim.XDSUnknownStoredQuery, "is not supported"},
		{"query id not a UUID", rim.ReturnLeafClass, "FindDocuments", nil, rim.XDSUnknownStoredQuery, "not a stored query id"},
		{"multi-patient query is not served", rim.ReturnObjectRef, QueryFindFoldersForMultiplePatients, nil, rim.XDSUnknownStoredQuery, "is not supported"},
		{"response option missing", "-", QueryFindDocuments, findDocs(), rim.XDSRegistryError, "ResponseOption is missing"},
		{"return type missing", "", QueryFindDocuments, findDocs(), rim.XDSRegistryError, "returnType is required"},
		{"return type with repository item", "LeafClassWithRepositoryItem", QueryFindDocuments, findDocs(), rim.XDSRegistryError, "must be LeafClass or ObjectRef"},
		{"patient id missing", rim.ReturnLeafClass, QueryFindDocuments, []sqSlot{sqParam(pDEStatus, approved)}, rim.XDSStoredQueryMissingParam, "$XDSDocumentEntryPatientId is required"},
		{"patient id slot without values", rim.ReturnLeafClass, QueryFindDocuments, []sqSlot{sqParam(pDEPatientID), sqParam(pDEStatus, approved)}, rim.XDSStoredQueryMissingParam, "$XDSDocumentEntryPatientId"},
		{"status missing", rim.ReturnLeafClass, QueryFindDocuments, []sqSlot{sqParam(pDEPatientID, fnrPatient)}, rim.XDSStoredQueryMissingParam, "$XDSDocumentEntryStatus is required"},
		{"submission set status missing", rim.ReturnLeafClass, QueryFindSubmissionSets, []sqSlot{sqParam(pSSPatientID, fnrPatient)}, rim.XDSStoredQueryMissingParam, "$XDSSubmissionSetStatus"},
		{"GetAll folder status missing", rim.ReturnObjectRef, QueryGetAll, []sqSlot{sqParam(pPatientID, fnrPatient), sqParam(pDEStatus, approved), sqParam(pSSStatus, approved)}, rim.XDSStoredQueryMissingParam, "$XDSFolderStatus"},
		{"reference id list missing", rim.ReturnObjectRef, QueryFindDocumentsByReferenceID, findDocs(), rim.XDSStoredQueryMissingParam, "$XDSDocumentEntryReferenceIdList"},
		{"association types missing", rim.ReturnLeafClass, QueryGetRelatedDocuments, []sqSlot{sqParam(pDEEntryUUID, uuid)}, rim.XDSStoredQueryMissingParam, "$AssociationTypes"},
		{"uuid missing", rim.ReturnLeafClass, QueryGetAssociations, nil, rim.XDSStoredQueryMissingParam, "$uuid"},
		{"neither entryUUID nor uniqueId", rim.ReturnLeafClass, QueryGetDocuments, nil, rim.XDSStoredQueryMissingParam, "$XDSDocumentEntryEntryUUID or $XDSDocumentEntryUniqueId is required"},
		{"entryUUID and uniqueId both", rim.ReturnLeafClass, QueryGetDocuments, []sqSlot{sqParam(pDEEntryUUID, uuid), sqParam(pDEUniqueID, "'1.2.3'")}, rim.XDSStoredQueryParamNumber, "mutually exclusive"},
		{"folder uuid and unique id both", rim.ReturnLeafClass, QueryGetFolderAndContents, []sqSlot{sqParam(pFolEntryUUID, uuid), sqParam(pFolUniqueID, "'1.2.3'")}, rim.XDSStoredQueryParamNumber, "mutually exclusive"},
		{"two patient ids in a list", rim.ReturnLeafClass, QueryFindDocuments, []sqSlot{sqParam(pDEPatientID, "('a^^^&1.2.3&ISO','b^^^&1.2.3&ISO')"), sqParam(pDEStatus, approved)}, rim.XDSStoredQueryParamNumber, "takes a single value"},
		{"two patient id values", rim.ReturnLeafClass, QueryFindDocuments, []sqSlot{sqParam(pDEPatientID, "'a^^^&1.2.3&ISO'", "'b^^^&1.2.3&ISO'"), sqParam(pDEStatus, approved)}, rim.XDSStoredQueryParamNumber, "takes a single value"},
		{"patient id slot repeated", rim.ReturnLeafClass, QueryFindDocuments, findDocs(sqParam(pDEPatientID, fnrPatient)), rim.XDSStoredQueryParamNumber, "$XDSDocumentEntryPatientId may be given only once"},
		{"status slot repeated", rim.ReturnLeafClass, QueryFindDocuments, findDocs(sqParam(pDEStatus, approved)), rim.XDSStoredQueryParamNumber, "$XDSDocumentEntryStatus may be given only once"},
		{"class code slot repeated", rim.ReturnLeafClass, QueryFindDocuments, findDocs(sqParam(pDEClassCode, "('a^^1.2')"), sqParam(pDEClassCode, "('b^^1.2')")), rim.XDSStoredQueryParamNumber, "$XDSDocumentEntryClassCode may be given only once"},
		{"two creation times from", rim.ReturnLeafClass, QueryFindDocuments, findDocs(sqParam(pDECreationFrom, "2004", "2005")), rim.XDSStoredQueryParamNumber, "takes a single value"},
		{"folder contents for two folders", rim.ReturnLeafClass, QueryGetFolderAndContents, []sqSlot{sqParam(pFolEntryUUID, "('"+sqTestUUID1+"','"+sqTestUUID2+"')")}, rim.XDSStoredQueryParamNumber, "takes a single value"},
		{"related documents of two documents", rim.ReturnLeafClass, QueryGetRelatedDocuments, []sqSlot{sqParam(pDEUniqueID, "('1.2','1.3')"), sqParam(pAssociationTypes, "('"+rim.AssocRPLC+"')")}, rim.XDSStoredQueryParamNumber, "takes a single value"},
		{"unquoted patient id", rim.ReturnLeafClass, QueryFindDocuments, []sqSlot{sqParam(pDEPatientID, "13116900216^^^&2.16.578.1.12.4.1.4.1&ISO"), sqParam(pDEStatus, approved)}, rim.XDSRegistryError, "must be in single quotes"},
		{"unterminated patient id", rim.ReturnLeafClass, QueryFindDocuments, []sqSlot{sqParam(pDEPatientID, "'13116900216^^^&2.16.578.1.12.4.1.4.1&ISO"), sqParam(pDEStatus, approved)}, rim.XDSRegistryError, "unterminated quoted string"},
		{"patient id with text after the quote", rim.ReturnLeafClass, QueryFindDocuments, []sqSlot{sqParam(pDEPatientID, fnrPatient+" OR 1=1"), sqParam(pDEStatus, approved)}, rim.XDSRegistryError, "unexpected text after value"},
		{"patient id without assigning authority", rim.ReturnLeafClass, QueryFindDocuments, []sqSlot{sqParam(pDEPatientID, "'13116900216'"), sqParam(pDEStatus, approved)}, rim.XDSRegistryError, "patient id must be a CX"},
		{"patient id with embedded quote", rim.ReturnLeafClass, QueryFindDocuments, []sqSlot{sqParam(pDEPatientID, "'1^^^&1.2.3.4&ISO'';''2^^^&1.2.3.4&ISO'"), sqParam(pDEStatus, approved)}, rim.XDSRegistryError, "patient id must be a CX"},
		{"empty value", rim.ReturnLeafClass, QueryFindDocuments, []sqSlot{sqParam(pDEPatientID, "  "), sqParam(pDEStatus, approved)}, rim.XDSRegistryError, "empty value"},
		{"empty quoted value", rim.ReturnLeafClass, QueryFindDocuments, findDocs(sqParam(pDEAuthorPerson, "''")), rim.XDSRegistryError, "empty value"},
		{"unknown status", rim.ReturnLeafClass, QueryFindDocuments, []sqSlot{sqParam(pDEPatientID, fnrPatient), sqParam(pDEStatus, "('urn:oasis:names:tc:ebxml-regrep:ResponseStatusType:Approved')")}, rim.XDSRegistryError, "unknown availability status"},
		{"status without urn", rim.ReturnLeafClass, QueryFindDocuments, []sqSlot{sqParam(pDEPatientID, fnrPatient), sqParam(pDEStatus, "('Approved')")}, rim.XDSRegistryError, "unknown availability status"},
		{"code without scheme", rim.ReturnObjectRef, QueryFindDocuments, findDocs(sqParam(pDEPracticeSetting, "('Dialysis')")), rim.XDSRegistryError, "$XDSDocumentEntryPracticeSettingCode: codes must be code^^scheme"},
		{"second code with empty scheme", rim.ReturnObjectRef, QueryFindDocuments, findDocs(sqParam(pDEClassCode, "('DEMO-Lab^^1.3.6.1.4.1.21367.100.1', 'a^^')")), rim.XDSRegistryError, "codes must be code^^scheme"},
		{"code with too many components", rim.ReturnObjectRef, QueryFindDocuments, findDocs(sqParam(pDEClassCode, "('a^b^c^d')")), rim.XDSRegistryError, "codes must be code^^scheme"},
		{"typographic quotes", rim.ReturnObjectRef, QueryFindDocuments, findDocs(sqParam(pDEHealthcareFac, "(‘Emergency Department’)")), rim.XDSRegistryError, "$XDSDocumentEntryHealthcareFacilityTypeCode"},
		{"time with dashes", rim.ReturnObjectRef, QueryFindDocuments, findDocs(sqParam(pDECreationFrom, "2004-01-01")), rim.XDSRegistryError, "time must be UTC"},
		{"time of odd length", rim.ReturnObjectRef, QueryFindDocuments, findDocs(sqParam(pDECreationTo, "20041")), rim.XDSRegistryError, "time must be UTC"},
		{"time with month 13", rim.ReturnObjectRef, QueryFindDocuments, findDocs(sqParam(pDECreationTo, "'200413'")), rim.XDSRegistryError, "time must be UTC"},
		{"time with zone", rim.ReturnObjectRef, QueryFindDocuments, findDocs(sqParam(pDEServiceStopTo, "20040101120000+0100")), rim.XDSRegistryError, "time must be UTC"},
		{"entryUUID not a UUID", rim.ReturnLeafClass, QueryGetDocuments, []sqSlot{sqParam(pDEEntryUUID, "('Document01')")}, rim.XDSRegistryError, "value is not a UUID"},
		{"unknown entry type", rim.ReturnLeafClass, QueryFindDocuments, findDocs(sqParam(pDEType, "('urn:uuid:7edca82f-054d-47f2-a032-9b2a5b518fff')")), rim.XDSRegistryError, "stable or on-demand"},
		{"unknown association type", rim.ReturnLeafClass, QueryGetRelatedDocuments, []sqSlot{sqParam(pDEEntryUUID, uuid), sqParam(pAssociationTypes, "('RPLC')")}, rim.XDSRegistryError, "unknown association type"},
		{"metadata level 3", rim.ReturnLeafClass, QueryFindDocuments, findDocs(sqParam(pMetadataLevel, "3")), rim.XDSRegistryError, "metadata level must be 1 or 2"},
		{"list not closed", rim.ReturnLeafClass, QueryFindDocuments, []sqSlot{sqParam(pDEPatientID, fnrPatient), sqParam(pDEStatus, "('"+rim.StatusApproved+"'")}, rim.XDSRegistryError, "list is not closed"},
		{"list without commas", rim.ReturnLeafClass, QueryFindDocuments, []sqSlot{sqParam(pDEPatientID, fnrPatient), sqParam(pDEStatus, "('"+rim.StatusApproved+"' '"+rim.StatusDeprecated+"')")}, rim.XDSRegistryError, "separated by commas"},
		{"list with a trailing comma", rim.ReturnLeafClass, QueryFindDocuments, []sqSlot{sqParam(pDEPatientID, fnrPatient), sqParam(pDEStatus, "('"+rim.StatusApproved+"',)")}, rim.XDSRegistryError, "missing list item"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			q, err := ParseAdhocQueryRequest(sqRequest(t, tc.returnType, tc.id, tc.slots...))
			if q != nil {
				t.Errorf("got a query with the error")
			}
			re := sqWantCode(t, err, tc.code)
			if !strings.Contains(re.Context, tc.context) {
				t.Errorf("context %q, want it to contain %q", re.Context, tc.context)
			}
			if sqFnrRE.MatchString(re.Error()) {
				t.Errorf("error %q carries a national id", re.Error())
			}
		})
	}
}

func TestParseAdhocQueryRequestStructure(t *testing.T) {
	tests := map[string]struct {
		xml     string
		context string
	}{
		"not an AdhocQueryRequest": {
			`<query:SubmitObjectsRequest xmlns:query="` + rim.NSQuery + `"/>`, "is not a query:AdhocQueryRequest"},
		"AdhocQueryRequest in the wrong namespace": {
			`<AdhocQueryRequest xmlns="` + rim.NSRIM + `"><ResponseOption returnType="LeafClass"/></AdhocQueryRequest>`, "is not a query:AdhocQueryRequest"},
		"AdhocQuery in the query namespace": {
			`<q:AdhocQueryRequest xmlns:q="` + rim.NSQuery + `"><q:ResponseOption returnType="LeafClass"/><q:AdhocQuery id="` + QueryFindDocuments + `"/></q:AdhocQueryRequest>`, "AdhocQuery is missing"},
		"two AdhocQuery": {
			`<q:AdhocQueryRequest xmlns:q="` + rim.NSQuery + `" xmlns:rim="` + rim.NSRIM + `"><q:ResponseOption returnType="LeafClass"/><rim:AdhocQuery id="` + QueryGetAll + `"/><rim:AdhocQuery id="` + QueryGetAll + `"/></q:AdhocQueryRequest>`, "more than one AdhocQuery"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			el := sqQueryElementAny(t, tc.xml)
			_, err := ParseAdhocQueryRequest(el)
			re := sqWantCode(t, err, rim.XDSRegistryError)
			if !strings.Contains(re.Context, tc.context) {
				t.Errorf("context %q, want it to contain %q", re.Context, tc.context)
			}
		})
	}
	t.Run("nil element", func(t *testing.T) {
		_, err := ParseAdhocQueryRequest(nil)
		sqWantCode(t, err, rim.XDSRegistryError)
	})
}

// sqQueryElementAny returns the root element of text.
func sqQueryElementAny(t *testing.T, text string) *etree.Element {
	t.Helper()
	doc := etree.NewDocument()
	if err := doc.ReadFromString(text); err != nil {
		t.Fatal(err)
	}
	return doc.Root()
}

func TestParseAdhocQueryRequestValues(t *testing.T) {
	patient := "'13116900216^^^&2.16.578.1.12.4.1.4.1&ISO'"
	approved := "('" + rim.StatusApproved + "')"
	base := []sqSlot{sqParam(pDEPatientID, patient), sqParam(pDEStatus, approved)}
	tests := []struct {
		name  string
		id    string
		slots []sqSlot
		check func(t *testing.T, q *StoredQuery)
	}{
		{"escaped quote in an author pattern", QueryFindDocuments, append(base, sqParam(pDEAuthorPerson, "('%O''Brien%', '%Ødegård%')")), func(t *testing.T, q *StoredQuery) {
			sqWantStrings(t, "authors", q.Params.AuthorPersons, "%O'Brien%", "%Ødegård%")
		}},
		{"comma and parenthesis inside quotes", QueryFindDocuments, append(base, sqParam(pDEAuthorPerson, "'%Lege, (overlege)%'")), func(t *testing.T, q *StoredQuery) {
			sqWantStrings(t, "authors", q.Params.AuthorPersons, "%Lege, (overlege)%")
		}},
		{"several values in one slot are OR-ed", QueryFindDocuments, append(base, sqParam(pDEClassCode, "('A00-1^^2.16.578.1.12.4.1.1.9602')", "('A01-2^^2.16.578.1.12.4.1.1.9602', 'A03-1^^2.16.578.1.12.4.1.1.9602')")), func(t *testing.T, q *StoredQuery) {
			sqWantCodes(t, "class", q.Params.ClassCodes, "A00-1^^2.16.578.1.12.4.1.1.9602", "A01-2^^2.16.578.1.12.4.1.1.9602", "A03-1^^2.16.578.1.12.4.1.1.9602")
		}},
		{"repeated confidentiality slots are AND-ed", QueryFindDocuments, append(base, sqParam(pDEConfidentiality, "('N^^2.16.840.1.113883.5.25','R^^2.16.840.1.113883.5.25')"), sqParam(pDEConfidentiality, "('NORS^^2.16.578.1.12.4.1.1.9603')")), func(t *testing.T, q *StoredQuery) {
			sqWantEqual(t, "groups", len(q.Params.ConfidentialityCodes), 2)
			sqWantCodes(t, "second group", q.Params.ConfidentialityCodes[1], "NORS^^2.16.578.1.12.4.1.1.9603")
		}},
		{"repeated reference id slots are AND-ed", QueryFindDocumentsByReferenceID, append(base, sqParam(pDEReferenceIDs, "('R1^^^&1.2.3&ISO^urn:ihe:iti:xds:2013:accession')"), sqParam(pDEReferenceIDs, "'R2^^^&1.2.3&ISO^urn:ihe:iti:xds:2013:order'")), func(t *testing.T, q *StoredQuery) {
			sqWantEqual(t, "groups", len(q.Params.ReferenceIDs), 2)
		}},
		{"code display name is dropped", QueryFindDocuments, append(base, sqParam(pDETypeCode, "('A00-1^Epikrise^2.16.578.1.12.4.1.1.9602')")), func(t *testing.T, q *StoredQuery) {
			sqWantEqual(t, "type code", q.Params.TypeCodes[0], rim.Code{Code: "A00-1", Scheme: "2.16.578.1.12.4.1.1.9602"})
		}},
		{"quoted and bare times", QueryFindDocuments, append(base, sqParam(pDECreationFrom, "'20221015151515'"), sqParam(pDECreationTo, " 20221016161616 ")), func(t *testing.T, q *StoredQuery) {
			sqWantEqual(t, "creation", q.Params.CreationTime, TimeRange{"20221015151515", "20221016161616"})
		}},
		{"unknown parameters are ignored", QueryFindDocuments, append(base, sqParam("$XDSDocumentEntryPracticeSettingCodeScheme", "('Connect-a-thon practiceSettingCodes')"), sqParam("$Anything", "not even quoted"), sqParam("$Anything", "twice")), func(t *testing.T, q *StoredQuery) {
			sqWantEqual(t, "practice codes", len(q.Params.PracticeSettingCodes), 0)
		}},
		{"parameters of other queries are ignored", QueryFindDocuments, append(base, sqParam(pFolStatus, "garbage")), nil},
		{"metadata level defaults to 1", QueryFindDocuments, base, func(t *testing.T, q *StoredQuery) {
			sqWantEqual(t, "level", q.Params.MetadataLevel, 1)
		}},
		{"metadata level 2", QueryFindDocuments, append(base, sqParam(pMetadataLevel, "'2'")), func(t *testing.T, q *StoredQuery) {
			sqWantEqual(t, "level", q.Params.MetadataLevel, 2)
		}},
		{"bare upper-case uuid is canonical", QueryGetDocuments, []sqSlot{sqParam(pDEEntryUUID, "('8B7A3C2E-1D4F-4E6A-9B0C-2F3E4D5A6B7C', 'URN:UUID:0d1e2f3a-4b5c-4d6e-8f70-8192a3b4c5d6')")}, func(t *testing.T, q *StoredQuery) {
			sqWantStrings(t, "uuids", q.Params.DocumentEntryUUIDs, sqTestUUID1, sqTestUUID2)
		}},
		{"single value as a one-element list", QueryGetFolderAndContents, []sqSlot{sqParam(pFolEntryUUID, "('"+sqTestUUID1+"')")}, func(t *testing.T, q *StoredQuery) {
			sqWantStrings(t, "folder", q.Params.FolderUUIDs, sqTestUUID1)
		}},
		{"submission set author is one pattern", QueryFindSubmissionSets, []sqSlot{sqParam(pSSPatientID, patient), sqParam(pSSStatus, approved), sqParam(pSSAuthorPerson, "'%Dopplemeyer%'"), sqParam(pSSSourceID, "('2.16.578.1.12.4.1.2.1', '2.16.578.1.12.4.1.2.2')")}, func(t *testing.T, q *StoredQuery) {
			sqWantEqual(t, "author", q.Params.SubmissionSetAuthorPerson, "%Dopplemeyer%")
			sqWantStrings(t, "source ids", q.Params.SubmissionSetSourceIDs, "2.16.578.1.12.4.1.2.1", "2.16.578.1.12.4.1.2.2")
		}},
		{"repeated folder code list slots are AND-ed", QueryFindFolders, []sqSlot{sqParam(pFolPatientID, patient), sqParam(pFolStatus, approved), sqParam(pFolCodeList, "('a^^1.2')"), sqParam(pFolCodeList, "('b^^1.2')")}, func(t *testing.T, q *StoredQuery) {
			sqWantEqual(t, "groups", len(q.Params.FolderCodes), 2)
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			q, err := ParseAdhocQueryRequest(sqRequest(t, rim.ReturnLeafClass, tc.id, tc.slots...))
			if err != nil {
				t.Fatal(err)
			}
			if tc.check != nil {
				tc.check(t, q)
			}
		})
	}
}

func TestParseAdhocQueryRequestIDAndHome(t *testing.T) {
	text := `<query:AdhocQueryRequest xmlns:query="` + rim.NSQuery + `" xmlns:rim="` + rim.NSRIM + `">
  <query:ResponseOption returnType=" ObjectRef "/>
  <rim:AdhocQuery id=" URN:UUID:5C4F972B-D56B-40AC-A5FC-C8CA9B40B9D4 " home="urn:oid:2.16.578.1.12.4.5.100.1">
    <rim:Slot name="$XDSDocumentEntryUniqueId"><rim:ValueList><rim:Value>('2.16.578.1.12.4.1.7.3.1.1')</rim:Value></rim:ValueList></rim:Slot>
  </rim:AdhocQuery>
</query:AdhocQueryRequest>`
	q, err := ParseAdhocQueryRequest(sqQueryElement(t, text))
	if err != nil {
		t.Fatal(err)
	}
	sqWantEqual(t, "id", q.ID, QueryGetDocuments)
	sqWantEqual(t, "name", q.Name, "GetDocuments")
	sqWantEqual(t, "return type", q.ReturnType, rim.ReturnObjectRef)
	sqWantEqual(t, "home", q.Home, "urn:oid:2.16.578.1.12.4.5.100.1")
}

func TestStoredQueryIDBasedAndPatient(t *testing.T) {
	patientBased := map[string]bool{
		QueryFindDocuments: true, QueryFindSubmissionSets: true, QueryFindFolders: true,
		QueryGetAll: true, QueryFindDocumentsByReferenceID: true,
	}
	if len(queryDefs) != 14 {
		t.Fatalf("%d stored queries defined, want the 14 of ITI-18", len(queryDefs))
	}
	for id, def := range queryDefs {
		t.Run(def.name, func(t *testing.T) {
			q := &StoredQuery{ID: id, Name: def.name, Params: Params{PatientID: sqTestPatient}}
			sqWantEqual(t, "id based", q.IDBased(), !patientBased[id])
			want := ""
			if patientBased[id] {
				want = sqTestPatient
			}
			sqWantEqual(t, "patient", q.PatientID(), want)
		})
	}
}

// TestStoredQueryIDsMatchReference checks the query ids against the table
// of reference/xds.md §3 (ids checked against IPF, NIST and PJD there).
func TestStoredQueryIDsMatchReference(t *testing.T) {
	ref := sqReadShared(t, "reference/xds.md")
	start, end := strings.Index(ref, "\n## 3."), strings.Index(ref, "\n## 4.")
	if start < 0 || end < start {
		t.Fatal("section 3 of xds.md not found")
	}
	ref = ref[start:end]
	rowRE := regexp.MustCompile(`(?m)^\| (\w+)(?: \(MPQ\))? \| (urn:uuid:[0-9a-f-]{36}) \|`)
	rows := rowRE.FindAllStringSubmatch(ref, -1)
	if len(rows) != 16 {
		t.Fatalf("found %d stored queries in xds.md, want 16", len(rows))
	}
	mpq := map[string]string{
		"FindDocumentsForMultiplePatients": QueryFindDocumentsForMultiplePatients,
		"FindFoldersForMultiplePatients":   QueryFindFoldersForMultiplePatients,
	}
	for _, r := range rows {
		name, id := r[1], r[2]
		if want, ok := mpq[name]; ok {
			sqWantEqual(t, name, id, want)
			continue
		}
		def, ok := queryDefs[id]
		if !ok {
			t.Errorf("%s %s is not defined", name, id)
			continue
		}
		sqWantEqual(t, id, def.name, name)
	}
}

func TestParseSlotValues(t *testing.T) {
	q := func(s string) slotToken { return slotToken{text: s, quoted: true} }
	bare := func(s string) slotToken { return slotToken{text: s} }
	tests := []struct {
		raw  string
		want []slotToken
		err  string
	}{
		{raw: "'abc'", want: []slotToken{q("abc")}},
		{raw: "  'abc'\n", want: []slotToken{q("abc")}},
		{raw: "'O''Brien'", want: []slotToken{q("O'Brien")}},
		{raw: "''''", want: []slotToken{q("'")}},
		{raw: "''", want: []slotToken{q("")}},
		{raw: "('a','b')", want: []slotToken{q("a"), q("b")}},
		{raw: "( 'a' ,\n 'b' )", want: []slotToken{q("a"), q("b")}},
		{raw: "('a,b', 'c)')", want: []slotToken{q("a,b"), q("c)")}},
		{raw: "(2004, '2005')", want: []slotToken{bare("2004"), q("2005")}},
		{raw: "20040101", want: []slotToken{bare("20040101")}},
		{raw: "st3498702^^^&1.2&ISO", want: []slotToken{bare("st3498702^^^&1.2&ISO")}},
		{raw: "", err: "empty value"},
		{raw: " \t", err: "empty value"},
		{raw: "'abc", err: "unterminated quoted string"},
		{raw: "'a''", err: "unterminated quoted string"},
		{raw: "'a' 'b'", err: "unexpected text after value"},
		{raw: "'a'b", err: "unexpected text after value"},
		{raw: "abc def", err: "unexpected text after value"},
		{raw: "ab'c'", err: "unexpected text after value"},
		{raw: "()", err: "missing list item"},
		{raw: "('a',)", err: "missing list item"},
		{raw: "(,'a')", err: "missing list item"},
		{raw: "('a'", err: "list is not closed"},
		{raw: "('a')x", err: "list is not closed"},
		{raw: "('a' 'b')", err: "separated by commas"},
		{raw: "('a'))", err: "separated by commas"},
		{raw: "((a))", err: "unexpected character"},
	}
	for _, tc := range tests {
		t.Run(tc.raw, func(t *testing.T) {
			got, err := parseSlotValues(tc.raw)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("got %v, %v; want error %q", got, err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("got %+v, want %+v", got, tc.want)
			}
		})
	}
}

package query

import (
	"context"
	"fmt"
	"testing"

	"kjdd/xds/rim"
)

// BenchmarkParseFindDocuments parses the body of the kjernejournal ITI-38
// capture (the XML itself is parsed once, outside the loop).
func BenchmarkParseFindDocuments(b *testing.B) {
	el := sqQueryElement(b, sqReadShared(b, "conformance/samples/iti38-FindDocuments-pjd-kjernejournal-saml.xml"))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ParseAdhocQueryRequest(el); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkExecuteFindDocuments runs a FindDocuments with a class code
// filter matching 20 of a patient's 200 entries.
func BenchmarkExecuteFindDocuments(b *testing.B) {
	reg := &sqRegistry{}
	for i := range 200 {
		class := codeEpikrise
		if i%10 == 0 {
			class = codeKriseplan
		}
		reg.docs = append(reg.docs, &rim.DocumentEntry{
			EntryUUID: fmt.Sprintf("urn:uuid:be4c0000-0000-4000-8000-%012d", i), UniqueID: fmt.Sprintf("2.16.578.1.12.4.1.7.3.1.%d", i),
			PatientID: sqPatientA, Status: rim.StatusApproved, ObjectType: rim.ObjectTypeStable,
			CreationTime: fmt.Sprintf("2023%02d01", i%12+1), ClassCode: class, TypeCode: class, FormatCode: formatMime,
			ConfidentialityCodes: []rim.Code{confN}, Authors: []rim.Author{{Person: authorKari}},
		})
	}
	q := &StoredQuery{ID: QueryFindDocuments, Name: "FindDocuments", ReturnType: rim.ReturnLeafClass, Params: Params{
		PatientID: sqPatientA, DocumentEntryStatuses: []string{rim.StatusApproved},
		ClassCodes:           []rim.Code{{Code: codeKriseplan.Code, Scheme: codeKriseplan.Scheme}},
		ConfidentialityCodes: [][]rim.Code{{{Code: "L", Scheme: schemeHL7Conf}, confN, confR}},
	}}
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		res, err := Execute(ctx, q, reg, 1000)
		if err != nil {
			b.Fatal(err)
		}
		if len(res.DocumentEntries) != 20 {
			b.Fatalf("got %d entries, want 20", len(res.DocumentEntries))
		}
	}
}

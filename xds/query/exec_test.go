package query

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"kjdd/xds/rim"
)

// A small hospital registry: two patients, DocumentEntries across codes,
// times, statuses and entry types, a replaced (RPLC) document, a folder,
// and an association to a document the Source hides (as the sperring
// decorator does), whose entryUUID must never surface.

const (
	sqPatientA = "13116900216^^^&2.16.578.1.12.4.1.4.1&ISO"
	sqPatientB = "17855599120^^^&2.16.578.1.12.4.1.4.1&ISO"

	schemeKodeverk9602 = "2.16.578.1.12.4.1.1.9602"
	schemeHL7Conf      = "2.16.840.1.113883.5.25"
	schemeSperring9603 = "2.16.578.1.12.4.1.1.9603"
	schemeICD10        = "2.16.578.1.12.4.1.1.7110"
	authorKari         = "123456789^Lege^Kari^^^^^^&2.16.578.1.12.4.1.4.4&ISO"
	authorAase         = "987654321^Ødegård^Åse^^^^^^&2.16.578.1.12.4.1.4.4&ISO"
)

var (
	codeEpikrise    = rim.Code{Code: "A00-1", Scheme: schemeKodeverk9602, Display: "Epikriser og sammenfatninger"}
	codeKriseplan   = rim.Code{Code: "A01-2", Scheme: schemeKodeverk9602, Display: "Kriseplan"}
	codeOtherScheme = rim.Code{Code: "A00-1", Scheme: "1.3.6.1.4.1.19376.1.2.6.1", Display: "same code, other system"}
	confN           = rim.Code{Code: "N", Scheme: schemeHL7Conf}
	confR           = rim.Code{Code: "R", Scheme: schemeHL7Conf}
	confNORS        = rim.Code{Code: "NORS", Scheme: schemeSperring9603, Display: "Sperret"}
	formatMime      = rim.Code{Code: "urn:ihe:iti:xds:2017:mimeTypeSufficient", Scheme: "1.3.6.1.4.1.19376.1.2.3"}
	formatPDF       = rim.Code{Code: "urn:ihe:iti:xds-sd:pdf:2008", Scheme: "1.3.6.1.4.1.19376.1.2.3"}
	facilitySomatic = rim.Code{Code: "86.101", Scheme: "2.16.578.1.12.4.1.1.1303"}
	facilityPsych   = rim.Code{Code: "86.102", Scheme: "2.16.578.1.12.4.1.1.1303"}
	practiceCardio  = rim.Code{Code: "1", Scheme: "2.16.578.1.12.4.1.1.8655"}
	eventI21        = rim.Code{Code: "I21", Scheme: schemeICD10}
	eventE11        = rim.Code{Code: "E11", Scheme: schemeICD10}
	folderCode      = rim.Code{Code: "Henvisninger", Scheme: "2.16.578.1.12.4.1.1.9999"}
)

// sqFixture is the seeded registry plus entryUUID <-> label maps.
type sqFixture struct {
	reg    *sqRegistry
	uuid   map[string]string // label -> entryUUID
	label  map[string]string // entryUUID -> label
	uidOf  map[string]string // label -> uniqueId
	nextID int
}

func (f *sqFixture) id(label string) string {
	if u, ok := f.uuid[label]; ok {
		return u
	}
	f.nextID++
	u := fmt.Sprintf("urn:uuid:5a1e0000-0000-4000-8000-%012d", f.nextID)
	f.uuid[label], f.label[u] = u, label
	f.uidOf[label] = fmt.Sprintf("2.16.578.1.12.4.1.7.3.1.%d", f.nextID)
	return u
}

func (f *sqFixture) doc(label, patient, status, objectType, created string, class rim.Code, conf []rim.Code, mod func(*rim.DocumentEntry)) {
	de := &rim.DocumentEntry{
		EntryUUID: f.id(label), UniqueID: f.uidOf[label], PatientID: patient, Status: status,
		ObjectType: objectType, MimeType: "application/pdf", Title: label, CreationTime: created,
		ClassCode: class, TypeCode: class, FormatCode: formatMime, HealthcareFacilityTypeCode: facilitySomatic,
		PracticeSettingCode: practiceCardio, ConfidentialityCodes: conf, Authors: []rim.Author{{Person: authorKari}},
	}
	if mod != nil {
		mod(de)
	}
	f.reg.docs = append(f.reg.docs, de)
}

func (f *sqFixture) set(label, patient, submitted string, author string) {
	f.reg.sets = append(f.reg.sets, &rim.SubmissionSet{
		EntryUUID: f.id(label), UniqueID: f.uidOf[label], PatientID: patient, Status: rim.StatusApproved,
		SourceID: "2.16.578.1.12.4.1.2.4711", SubmissionTime: submitted, Title: label,
		ContentTypeCode: codeEpikrise, Authors: []rim.Author{{Person: author}},
	})
}

func (f *sqFixture) assoc(label, typ, source, target string) {
	f.reg.assocs = append(f.reg.assocs, &rim.Association{
		EntryUUID: f.id(label), Type: typ, Source: f.id(source), Target: f.id(target), Status: rim.StatusApproved,
	})
}

func newSQFixture() *sqFixture {
	f := &sqFixture{reg: &sqRegistry{}, uuid: map[string]string{}, label: map[string]string{}, uidOf: map[string]string{}}
	stable, onDemand := rim.ObjectTypeStable, rim.ObjectTypeOnDemand
	f.doc("d1", sqPatientA, rim.StatusApproved, stable, "20230501101500", codeEpikrise, []rim.Code{confN}, func(d *rim.DocumentEntry) {
		d.ServiceStartTime, d.ServiceStopTime = "20230428080000", "20230501120000"
		d.EventCodes = []rim.Code{eventI21, eventE11}
		d.ReferenceIDs = []string{"R1^^^&2.16.578.1.12.4.1.2.4711&ISO^urn:ihe:iti:xds:2013:accession"}
	})
	f.doc("d2", sqPatientA, rim.StatusApproved, stable, "20240110", codeKriseplan, []rim.Code{confR}, func(d *rim.DocumentEntry) {
		d.Authors = []rim.Author{{Person: authorAase}}
		d.EventCodes = []rim.Code{eventE11}
		d.HealthcareFacilityTypeCode = facilityPsych
		d.FormatCode = formatPDF
	})
	f.doc("d3", sqPatientA, rim.StatusDeprecated, stable, "2022", codeEpikrise, []rim.Code{confN}, nil)
	f.doc("d4", sqPatientA, rim.StatusApproved, stable, "20220301", codeEpikrise, []rim.Code{confN}, nil)
	f.doc("d5", sqPatientA, rim.StatusApproved, onDemand, "20230601", codeEpikrise, []rim.Code{confN}, nil)
	f.doc("d6", sqPatientA, rim.StatusApproved, stable, "20230701", codeOtherScheme, []rim.Code{confN}, nil)
	f.doc("d7", sqPatientA, rim.StatusApproved, stable, "20231224", codeEpikrise, []rim.Code{confNORS, confN}, nil)
	f.doc("d8", sqPatientB, rim.StatusApproved, stable, "20230501", codeEpikrise, []rim.Code{confN}, nil)

	f.reg.folders = append(f.reg.folders,
		&rim.Folder{EntryUUID: f.id("f1"), UniqueID: f.uidOf["f1"], PatientID: sqPatientA, Status: rim.StatusApproved,
			LastUpdateTime: "20240110120000", CodeList: []rim.Code{folderCode}},
		&rim.Folder{EntryUUID: f.id("f2"), UniqueID: f.uidOf["f2"], PatientID: sqPatientB, Status: rim.StatusApproved,
			LastUpdateTime: "20230501", CodeList: []rim.Code{folderCode}})

	f.set("ss1", sqPatientA, "20240110120000", authorKari)
	f.set("ss2", sqPatientA, "20220101", authorKari)
	f.set("ss3", sqPatientA, "20220301", authorAase)
	f.set("ss4", sqPatientA, "20231224", authorKari)
	f.set("ss5", sqPatientB, "20230501", authorKari)

	f.assoc("ss1-d1", rim.AssocHasMember, "ss1", "d1")
	f.assoc("ss1-d2", rim.AssocHasMember, "ss1", "d2")
	f.assoc("ss1-f1", rim.AssocHasMember, "ss1", "f1")
	f.assoc("f1-d1", rim.AssocHasMember, "f1", "d1")
	f.assoc("ss1-f1d1", rim.AssocHasMember, "ss1", "f1-d1")
	f.assoc("ss2-d3", rim.AssocHasMember, "ss2", "d3")
	f.assoc("ss3-d4", rim.AssocHasMember, "ss3", "d4")
	f.assoc("d4-rplc-d3", rim.AssocRPLC, "d4", "d3")
	f.assoc("ss4-d5", rim.AssocHasMember, "ss4", "d5")
	f.assoc("ss4-d6", rim.AssocHasMember, "ss4", "d6")
	f.assoc("ss4-d7", rim.AssocHasMember, "ss4", "d7")
	f.assoc("ss4-hidden", rim.AssocHasMember, "ss4", "hidden") // "hidden" is no object the Source returns
	f.assoc("f1-hidden", rim.AssocHasMember, "f1", "hidden")
	f.assoc("ss4-f1hidden", rim.AssocHasMember, "ss4", "f1-hidden")
	f.assoc("ss5-d8", rim.AssocHasMember, "ss5", "d8")
	f.assoc("ss5-f2", rim.AssocHasMember, "ss5", "f2")
	f.assoc("f2-d8", rim.AssocHasMember, "f2", "d8")
	return f
}

// summary renders a result with labels: "D[d1 d2] S[ss1] F[f1] A[ss1-d1]".
func (f *sqFixture) summary(r *rim.QueryResult) string {
	names := func(ids []string) string {
		out := make([]string, 0, len(ids))
		for _, id := range ids {
			l, ok := f.label[id]
			if !ok {
				l = id
			}
			out = append(out, l)
		}
		slices.Sort(out)
		return strings.Join(out, " ")
	}
	var d, s, fo, a []string
	for _, x := range r.DocumentEntries {
		d = append(d, x.EntryUUID)
	}
	for _, x := range r.SubmissionSets {
		s = append(s, x.EntryUUID)
	}
	for _, x := range r.Folders {
		fo = append(fo, x.EntryUUID)
	}
	for _, x := range r.Associations {
		a = append(a, x.EntryUUID)
	}
	return fmt.Sprintf("D[%s] S[%s] F[%s] A[%s]", names(d), names(s), names(fo), names(a))
}

func sqApprovedOnly() []string { return []string{rim.StatusApproved} }
func sqAllStatuses() []string  { return []string{rim.StatusApproved, rim.StatusDeprecated} }

func TestExecuteFindDocuments(t *testing.T) {
	f := newSQFixture()
	base := func(mod func(p *Params)) Params {
		p := Params{PatientID: sqPatientA, DocumentEntryStatuses: sqApprovedOnly()}
		if mod != nil {
			mod(&p)
		}
		return p
	}
	tests := []struct {
		name   string
		params Params
		want   string
	}{
		{"approved stable entries of the patient", base(nil), "D[d1 d2 d4 d6 d7] S[] F[] A[]"},
		{"approved and deprecated", base(func(p *Params) { p.DocumentEntryStatuses = sqAllStatuses() }), "D[d1 d2 d3 d4 d6 d7] S[] F[] A[]"},
		{"deprecated only", base(func(p *Params) { p.DocumentEntryStatuses = []string{rim.StatusDeprecated} }), "D[d3] S[] F[] A[]"},
		{"on-demand only", base(func(p *Params) { p.DocumentEntryTypes = []string{rim.ObjectTypeOnDemand} }), "D[d5] S[] F[] A[]"},
		{"stable and on-demand", base(func(p *Params) { p.DocumentEntryTypes = []string{rim.ObjectTypeStable, rim.ObjectTypeOnDemand} }), "D[d1 d2 d4 d5 d6 d7] S[] F[] A[]"},
		{"other patient", base(func(p *Params) { p.PatientID = sqPatientB }), "D[d8] S[] F[] A[]"},
		{"unknown patient", base(func(p *Params) { p.PatientID = "01010112345^^^&2.16.578.1.12.4.1.4.1&ISO" }), "D[] S[] F[] A[]"},
		{"class code matches code and scheme", base(func(p *Params) { p.ClassCodes = []rim.Code{{Code: "A00-1", Scheme: schemeKodeverk9602}} }), "D[d1 d4 d7] S[] F[] A[]"},
		{"class codes are OR-ed", base(func(p *Params) {
			p.ClassCodes = []rim.Code{{Code: "A00-1", Scheme: schemeKodeverk9602}, {Code: "A01-2", Scheme: schemeKodeverk9602}}
		}), "D[d1 d2 d4 d7] S[] F[] A[]"},
		{"same code in another scheme", base(func(p *Params) { p.ClassCodes = []rim.Code{{Code: "A00-1", Scheme: "1.3.6.1.4.1.19376.1.2.6.1"}} }), "D[d6] S[] F[] A[]"},
		{"type code", base(func(p *Params) { p.TypeCodes = []rim.Code{{Code: "A01-2", Scheme: schemeKodeverk9602}} }), "D[d2] S[] F[] A[]"},
		{"format code", base(func(p *Params) { p.FormatCodes = []rim.Code{formatPDF} }), "D[d2] S[] F[] A[]"},
		{"healthcare facility type", base(func(p *Params) { p.HealthcareFacilityTypeCodes = []rim.Code{facilityPsych} }), "D[d2] S[] F[] A[]"},
		{"practice setting matching none", base(func(p *Params) { p.PracticeSettingCodes = []rim.Code{{Code: "2", Scheme: practiceCardio.Scheme}} }), "D[] S[] F[] A[]"},
		{"confidentiality OR", base(func(p *Params) { p.ConfidentialityCodes = [][]rim.Code{{confR, confNORS}} }), "D[d2 d7] S[] F[] A[]"},
		{"confidentiality AND", base(func(p *Params) { p.ConfidentialityCodes = [][]rim.Code{{confN}, {confNORS}} }), "D[d7] S[] F[] A[]"},
		{"kjernejournal's normal codes", base(func(p *Params) {
			p.ConfidentialityCodes = [][]rim.Code{{{Code: "L", Scheme: schemeHL7Conf}, {Code: "M", Scheme: schemeHL7Conf}, confN, {Code: "U", Scheme: schemeHL7Conf}, confR}}
		}), "D[d1 d2 d4 d6 d7] S[] F[] A[]"},
		{"event codes AND", base(func(p *Params) { p.EventCodes = [][]rim.Code{{eventI21}, {eventE11}} }), "D[d1] S[] F[] A[]"},
		{"event codes OR", base(func(p *Params) { p.EventCodes = [][]rim.Code{{eventI21, eventE11}} }), "D[d1 d2] S[] F[] A[]"},
		{"creation from is inclusive at the common precision", base(func(p *Params) { p.CreationTime.From = "20230501" }), "D[d1 d2 d6 d7] S[] F[] A[]"},
		{"creation to is exclusive at the common precision", base(func(p *Params) { p.CreationTime.To = "20230501" }), "D[d4] S[] F[] A[]"},
		{"creation to the minute", base(func(p *Params) { p.CreationTime = TimeRange{From: "202305011015", To: "202305011016"} }), "D[d1] S[] F[] A[]"},
		{"year-precision value meets a finer From", base(func(p *Params) {
			p.DocumentEntryStatuses = sqAllStatuses()
			p.CreationTime = TimeRange{From: "20220615", To: "2023"}
		}), "D[d3] S[] F[] A[]"},
		{"To of a year excludes that year", base(func(p *Params) {
			p.DocumentEntryStatuses = sqAllStatuses()
			p.CreationTime.To = "2022"
		}), "D[] S[] F[] A[]"},
		{"service start range", base(func(p *Params) { p.ServiceStartTime = TimeRange{From: "2023", To: "2024"} }), "D[d1] S[] F[] A[]"},
		{"service stop without the attribute excludes", base(func(p *Params) { p.ServiceStopTime.To = "2099" }), "D[d1] S[] F[] A[]"},
		{"author wildcard", base(func(p *Params) { p.AuthorPersons = []string{"%^Lege^Kari^%"} }), "D[d1 d4 d6 d7] S[] F[] A[]"},
		{"author underscore matches one letter", base(func(p *Params) { p.AuthorPersons = []string{"%^Ødegård^_se^%"} }), "D[d2] S[] F[] A[]"},
		{"author patterns are OR-ed", base(func(p *Params) { p.AuthorPersons = []string{"123456789%", "987654321%"} }), "D[d1 d2 d4 d6 d7] S[] F[] A[]"},
		{"author match is case-sensitive", base(func(p *Params) { p.AuthorPersons = []string{"%^lege^kari^%"} }), "D[] S[] F[] A[]"},
		{"reference id", base(func(p *Params) {
			p.ReferenceIDs = [][]string{{"R1^^^&2.16.578.1.12.4.1.2.4711&ISO^urn:ihe:iti:xds:2013:accession"}}
		}), "D[d1] S[] F[] A[]"},
		{"reference ids AND", base(func(p *Params) {
			p.ReferenceIDs = [][]string{{"R1^^^&2.16.578.1.12.4.1.2.4711&ISO^urn:ihe:iti:xds:2013:accession"}, {"R2^^^&1.2&ISO^urn:ihe:iti:xds:2013:order"}}
		}), "D[] S[] F[] A[]"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f.reg.patientsAsked = nil
			q := &StoredQuery{ID: QueryFindDocuments, Name: "FindDocuments", ReturnType: rim.ReturnLeafClass, Params: tc.params}
			res, err := Execute(context.Background(), q, f.reg, 0)
			if err != nil {
				t.Fatal(err)
			}
			if got := f.summary(res); got != tc.want {
				t.Errorf("got  %s\nwant %s", got, tc.want)
			}
			if !slices.Equal(f.reg.patientsAsked, []string{tc.params.PatientID}) {
				t.Errorf("source asked for patients %q, want only the query's", f.reg.patientsAsked)
			}
		})
	}
}

func TestExecuteQueries(t *testing.T) {
	f := newSQFixture()
	ids := func(labels ...string) []string {
		out := make([]string, 0, len(labels))
		for _, l := range labels {
			out = append(out, f.id(l))
		}
		return out
	}
	uids := func(labels ...string) []string {
		out := make([]string, 0, len(labels))
		for _, l := range labels {
			out = append(out, f.uidOf[l])
		}
		return out
	}
	tests := []struct {
		name       string
		id         string
		returnType string
		params     Params
		want       string
	}{
		{"FindDocumentsByReferenceId", QueryFindDocumentsByReferenceID, rim.ReturnObjectRef, Params{PatientID: sqPatientA, DocumentEntryStatuses: sqApprovedOnly(),
			ReferenceIDs: [][]string{{"R1^^^&2.16.578.1.12.4.1.2.4711&ISO^urn:ihe:iti:xds:2013:accession"}}}, "D[d1] S[] F[] A[]"},
		{"FindSubmissionSets by patient", QueryFindSubmissionSets, rim.ReturnLeafClass, Params{PatientID: sqPatientA, SubmissionSetStatuses: sqApprovedOnly()}, "D[] S[ss1 ss2 ss3 ss4] F[] A[]"},
		{"FindSubmissionSets by author", QueryFindSubmissionSets, rim.ReturnLeafClass, Params{PatientID: sqPatientA, SubmissionSetStatuses: sqApprovedOnly(),
			SubmissionSetAuthorPerson: "%Ødegård%"}, "D[] S[ss3] F[] A[]"},
		{"FindSubmissionSets by time", QueryFindSubmissionSets, rim.ReturnLeafClass, Params{PatientID: sqPatientA, SubmissionSetStatuses: sqApprovedOnly(),
			SubmissionTime: TimeRange{From: "2022", To: "20220301"}}, "D[] S[ss2] F[] A[]"},
		{"FindSubmissionSets by source id", QueryFindSubmissionSets, rim.ReturnLeafClass, Params{PatientID: sqPatientA, SubmissionSetStatuses: sqApprovedOnly(),
			SubmissionSetSourceIDs: []string{"2.16.578.1.12.4.1.2.1"}}, "D[] S[] F[] A[]"},
		{"FindSubmissionSets by content type", QueryFindSubmissionSets, rim.ReturnLeafClass, Params{PatientID: sqPatientB, SubmissionSetStatuses: sqApprovedOnly(),
			ContentTypeCodes: []rim.Code{codeEpikrise}}, "D[] S[ss5] F[] A[]"},
		{"FindFolders", QueryFindFolders, rim.ReturnLeafClass, Params{PatientID: sqPatientA, FolderStatuses: sqApprovedOnly()}, "D[] S[] F[f1] A[]"},
		{"FindFolders by code list AND", QueryFindFolders, rim.ReturnLeafClass, Params{PatientID: sqPatientA, FolderStatuses: sqApprovedOnly(),
			FolderCodes: [][]rim.Code{{folderCode}, {{Code: "x", Scheme: "1.2"}}}}, "D[] S[] F[] A[]"},
		{"FindFolders by update time", QueryFindFolders, rim.ReturnLeafClass, Params{PatientID: sqPatientA, FolderStatuses: sqApprovedOnly(),
			FolderLastUpdateTime: TimeRange{From: "2024"}}, "D[] S[] F[f1] A[]"},
		{"GetAll keeps associations among the returned objects", QueryGetAll, rim.ReturnLeafClass, Params{PatientID: sqPatientA,
			DocumentEntryStatuses: sqAllStatuses(), SubmissionSetStatuses: sqAllStatuses(), FolderStatuses: sqAllStatuses()},
			"D[d1 d2 d3 d4 d6 d7] S[ss1 ss2 ss3 ss4] F[f1] A[d4-rplc-d3 f1-d1 ss1-d1 ss1-d2 ss1-f1 ss1-f1d1 ss2-d3 ss3-d4 ss4-d6 ss4-d7]"},
		{"GetAll with approved only drops links to the deprecated entry", QueryGetAll, rim.ReturnLeafClass, Params{PatientID: sqPatientA,
			DocumentEntryStatuses: sqApprovedOnly(), SubmissionSetStatuses: sqApprovedOnly(), FolderStatuses: sqApprovedOnly(), ConfidentialityCodes: [][]rim.Code{{confN}}},
			"D[d1 d4 d6 d7] S[ss1 ss2 ss3 ss4] F[f1] A[f1-d1 ss1-d1 ss1-f1 ss1-f1d1 ss3-d4 ss4-d6 ss4-d7]"},
		{"GetDocuments by entryUUID", QueryGetDocuments, rim.ReturnLeafClass, Params{DocumentEntryUUIDs: ids("d1", "d3", "hidden")}, "D[d1 d3] S[] F[] A[]"},
		{"GetDocuments by uniqueId", QueryGetDocuments, rim.ReturnLeafClass, Params{DocumentEntryUniqueIDs: uids("d2")}, "D[d2] S[] F[] A[]"},
		{"GetDocuments of two patients as ObjectRef", QueryGetDocuments, rim.ReturnObjectRef, Params{DocumentEntryUUIDs: ids("d1", "d8")}, "D[d1 d8] S[] F[] A[]"},
		{"GetFolders by uniqueId", QueryGetFolders, rim.ReturnLeafClass, Params{FolderUniqueIDs: uids("f1")}, "D[] S[] F[f1] A[]"},
		{"GetAssociations of a submission set hides links to hidden objects", QueryGetAssociations, rim.ReturnLeafClass, Params{UUIDs: ids("ss4")}, "D[] S[] F[] A[ss4-d5 ss4-d6 ss4-d7]"},
		{"GetAssociations resolves a member folder association", QueryGetAssociations, rim.ReturnLeafClass, Params{UUIDs: ids("ss1")}, "D[] S[] F[] A[ss1-d1 ss1-d2 ss1-f1 ss1-f1d1]"},
		{"GetAssociations of a hidden object", QueryGetAssociations, rim.ReturnLeafClass, Params{UUIDs: ids("hidden")}, "D[] S[] F[] A[]"},
		{"GetDocumentsAndAssociations", QueryGetDocumentsAndAssociations, rim.ReturnLeafClass, Params{DocumentEntryUUIDs: ids("d1", "d3")},
			"D[d1 d3] S[] F[] A[d4-rplc-d3 f1-d1 ss1-d1 ss2-d3]"},
		{"GetSubmissionSets of a document and a folder", QueryGetSubmissionSets, rim.ReturnLeafClass, Params{UUIDs: ids("d1", "f1")}, "D[] S[ss1] F[] A[ss1-d1 ss1-f1]"},
		{"GetSubmissionSets of a hidden document", QueryGetSubmissionSets, rim.ReturnLeafClass, Params{UUIDs: ids("hidden")}, "D[] S[] F[] A[]"},
		{"GetSubmissionSetAndContents", QueryGetSubmissionSetAndContents, rim.ReturnLeafClass, Params{SubmissionSetUUIDs: ids("ss1")},
			"D[d1 d2] S[ss1] F[f1] A[f1-d1 ss1-d1 ss1-d2 ss1-f1 ss1-f1d1]"},
		{"GetSubmissionSetAndContents filtered by confidentiality", QueryGetSubmissionSetAndContents, rim.ReturnLeafClass, Params{SubmissionSetUniqueIDs: uids("ss1"),
			ConfidentialityCodes: [][]rim.Code{{confR}}}, "D[d2] S[ss1] F[f1] A[ss1-d2 ss1-f1]"},
		{"GetSubmissionSetAndContents skips on-demand and hidden members", QueryGetSubmissionSetAndContents, rim.ReturnObjectRef, Params{SubmissionSetUUIDs: ids("ss4")},
			"D[d6 d7] S[ss4] F[] A[ss4-d6 ss4-d7]"},
		{"GetFolderAndContents", QueryGetFolderAndContents, rim.ReturnLeafClass, Params{FolderUUIDs: ids("f1")}, "D[d1] S[] F[f1] A[f1-d1]"},
		{"GetFolderAndContents filtered by format", QueryGetFolderAndContents, rim.ReturnLeafClass, Params{FolderUniqueIDs: uids("f1"), FormatCodes: []rim.Code{formatPDF}}, "D[] S[] F[f1] A[]"},
		{"GetFoldersForDocument", QueryGetFoldersForDocument, rim.ReturnLeafClass, Params{DocumentEntryUniqueIDs: uids("d1")}, "D[] S[] F[f1] A[]"},
		{"GetFoldersForDocument of a document in none", QueryGetFoldersForDocument, rim.ReturnLeafClass, Params{DocumentEntryUUIDs: ids("d2")}, "D[] S[] F[] A[]"},
		{"GetFoldersForDocument of a hidden document", QueryGetFoldersForDocument, rim.ReturnLeafClass, Params{DocumentEntryUUIDs: ids("hidden")}, "D[] S[] F[] A[]"},
		{"GetRelatedDocuments of the replaced document", QueryGetRelatedDocuments, rim.ReturnLeafClass, Params{DocumentEntryUUIDs: ids("d3"), AssociationTypes: []string{rim.AssocRPLC}},
			"D[d3 d4] S[] F[] A[d4-rplc-d3]"},
		{"GetRelatedDocuments of the replacement", QueryGetRelatedDocuments, rim.ReturnLeafClass, Params{DocumentEntryUniqueIDs: uids("d4"), AssociationTypes: []string{rim.AssocHasMember, rim.AssocRPLC}},
			"D[d3 d4] S[] F[] A[d4-rplc-d3]"},
		{"GetRelatedDocuments of another type", QueryGetRelatedDocuments, rim.ReturnLeafClass, Params{DocumentEntryUUIDs: ids("d4"), AssociationTypes: []string{rim.AssocAPND}}, "D[] S[] F[] A[]"},
		{"GetRelatedDocuments without relatives", QueryGetRelatedDocuments, rim.ReturnLeafClass, Params{DocumentEntryUUIDs: ids("d1"), AssociationTypes: []string{rim.AssocHasMember, rim.AssocRPLC}}, "D[] S[] F[] A[]"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			q := &StoredQuery{ID: tc.id, Name: queryDefs[tc.id].name, ReturnType: tc.returnType, Params: tc.params}
			res, err := Execute(context.Background(), q, f.reg, 0)
			if err != nil {
				t.Fatal(err)
			}
			if got := f.summary(res); got != tc.want {
				t.Errorf("got  %s\nwant %s", got, tc.want)
			}
			if strings.Contains(fmt.Sprint(res.Associations), f.id("hidden")) {
				t.Errorf("an association reveals the hidden entryUUID")
			}
		})
	}
}

func TestExecuteQueryErrors(t *testing.T) {
	f := newSQFixture()
	findA := Params{PatientID: sqPatientA, DocumentEntryStatuses: sqApprovedOnly()}
	storeDown := errors.New("store unavailable")
	tests := []struct {
		name       string
		query      *StoredQuery
		maxResults int
		fail       error
		code       rim.ErrorCode // "" when err must wrap fail
	}{
		{"LeafClass across two patients", &StoredQuery{ID: QueryGetDocuments, ReturnType: rim.ReturnLeafClass,
			Params: Params{DocumentEntryUUIDs: []string{f.id("d1"), f.id("d8")}}}, 0, nil, rim.XDSResultNotSinglePatient},
		{"LeafClass folders across two patients", &StoredQuery{ID: QueryGetFolders, ReturnType: rim.ReturnLeafClass,
			Params: Params{FolderUUIDs: []string{f.id("f1"), f.id("f2")}}}, 0, nil, rim.XDSResultNotSinglePatient},
		{"more results than allowed", &StoredQuery{ID: QueryFindDocuments, ReturnType: rim.ReturnObjectRef, Params: findA}, 4, nil, rim.XDSTooManyResults},
		{"multi-patient query", &StoredQuery{ID: QueryFindDocumentsForMultiplePatients, ReturnType: rim.ReturnObjectRef}, 0, nil, rim.XDSUnknownStoredQuery},
		{"source failure is passed on", &StoredQuery{ID: QueryFindDocuments, ReturnType: rim.ReturnObjectRef, Params: findA}, 0, storeDown, ""},
		{"source failure in an id query", &StoredQuery{ID: QueryGetSubmissionSetAndContents, ReturnType: rim.ReturnObjectRef,
			Params: Params{SubmissionSetUUIDs: []string{f.id("ss1")}}}, 0, storeDown, ""},
		{"no query", nil, 0, nil, rim.XDSRegistryError},
		{"no return type", &StoredQuery{ID: QueryFindDocuments, Params: findA}, 0, nil, rim.XDSRegistryError},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f.reg.fail = tc.fail
			defer func() { f.reg.fail = nil }()
			res, err := Execute(context.Background(), tc.query, f.reg, tc.maxResults)
			if res != nil {
				t.Errorf("got a result with the error")
			}
			if tc.code == "" {
				if !errors.Is(err, tc.fail) {
					t.Fatalf("got %v, want it to wrap %v", err, tc.fail)
				}
				return
			}
			sqWantCode(t, err, tc.code)
		})
	}
}

func TestExecuteQueryResultLimit(t *testing.T) {
	f := newSQFixture()
	q := &StoredQuery{ID: QueryFindDocuments, ReturnType: rim.ReturnObjectRef, Params: Params{PatientID: sqPatientA, DocumentEntryStatuses: sqApprovedOnly()}}
	for _, tc := range []struct {
		max     int
		wantErr bool
	}{{0, false}, {5, false}, {4, true}, {1, true}} {
		t.Run(fmt.Sprint("limit ", tc.max), func(t *testing.T) {
			res, err := Execute(context.Background(), q, f.reg, tc.max)
			if tc.wantErr {
				sqWantCode(t, err, rim.XDSTooManyResults)
				return
			}
			if err != nil || res.Count() != 5 {
				t.Fatalf("got %v, %v; want 5 objects", res, err)
			}
		})
	}
}

func TestExecuteQueryCancelled(t *testing.T) {
	f := newSQFixture()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	q := &StoredQuery{ID: QueryFindDocuments, ReturnType: rim.ReturnObjectRef, Params: Params{PatientID: sqPatientA, DocumentEntryStatuses: sqApprovedOnly()}}
	if _, err := Execute(ctx, q, f.reg, 0); !errors.Is(err, context.Canceled) {
		t.Fatalf("got %v, want context.Canceled", err)
	}
	if len(f.reg.patientsAsked) != 0 {
		t.Errorf("source was asked after cancellation")
	}
}

// TestParseThenExecute runs the kjernejournal ITI-38 sample end to end
// against the fixture.
func TestParseThenExecute(t *testing.T) {
	f := newSQFixture()
	q, err := ParseAdhocQueryRequest(sqQueryElement(t, sqReadShared(t, "conformance/samples/iti38-FindDocuments-pjd-kjernejournal-saml.xml")))
	if err != nil {
		t.Fatal(err)
	}
	res, err := Execute(context.Background(), q, f.reg, 100)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := f.summary(res), "D[d8] S[] F[] A[]"; got != want {
		t.Errorf("got %s, want %s", got, want)
	}
}

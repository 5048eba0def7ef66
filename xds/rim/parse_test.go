package rim_test

import (
	"encoding/base64"
	"errors"
	"io"
	"reflect"
	"strings"
	"testing"

	"github.com/beevik/etree"

	"kjdd/xds/rim"
	"kjdd/xds/soap"
)

// rimDummyBlob is document content for tests.
type rimDummyBlob struct{ data string }

func (b rimDummyBlob) Open() (io.ReadCloser, error) {
	return io.NopCloser(strings.NewReader(b.data)), nil
}

// rimParseSample parses the ITI-41 or ITI-42 request of a sample. For
// ITI-41 the blob func decodes inline base64 and records xop:Include hrefs.
func rimParseSample(t *testing.T, file string) (*rim.Submission, error) {
	t.Helper()
	doc := rimParseDoc(t, rimEnvelope(t, rimSample(t, file)))
	if pnr := rimFind(doc.Root(), rim.NSXDSB, "ProvideAndRegisterDocumentSetRequest"); pnr != nil {
		return rim.ParseProvideAndRegister(pnr, func(d *etree.Element) (soap.Blob, error) {
			if inc := rimFind(d, soap.NSXOP, "Include"); inc != nil {
				return rimDummyBlob{data: inc.SelectAttrValue("href", "")}, nil
			}
			raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(d.Text()))
			if err != nil {
				return nil, err
			}
			return rimDummyBlob{data: string(raw)}, nil
		})
	}
	if sor := rimFind(doc.Root(), rim.NSLCM, "SubmitObjectsRequest"); sor != nil && sor.Parent() != nil && sor.Parent().NamespaceURI() != rim.NSXDSB {
		return rim.ParseSubmitObjectsRequest(sor)
	}
	// Non-standard wrappers: hand the parser whatever the body holds.
	body := rimFind(doc.Root(), soap.NSSOAP12, "Body")
	if body == nil || len(body.ChildElements()) == 0 {
		t.Fatalf("%s: no request found", file)
	}
	return rim.ParseSubmitObjectsRequest(body.ChildElements()[0])
}

// rimSampleWant is what a sample must decode to.
type rimSampleWant struct {
	entries, submissionSets, folders, associations int
	documents                                      map[string]string // Document id -> content (or xop href)

	entryUUID, patientID, uniqueID, mimeType string
	classCode, typeCode                      rim.Code
	confidentiality                          []rim.Code
	eventCodes                               int
	authorPersons                            []string
	authorInstitutions                       []string // of the first author
	sourcePatientInfo                        int
	extraSlots                               []rim.Slot
	authorExtraSlots                         []rim.Slot // of the first author

	ssUniqueID, ssSourceID, ssPatientID, ssSubmissionTime string
	ssContentType                                         rim.Code
	ssAuthors                                             int

	firstAssociation rim.Association

	errContains string // the request must be refused with this context
}

var rimIHECodes = struct{ class, typ rim.Code }{
	class: rim.Code{Code: "History and Physical", Scheme: "Connect-a-thon classCodes", Display: "History and Physical"},
	typ:   rim.Code{Code: "34108-1", Scheme: "LOINC", Display: "Outpatient Evaluation And Management"},
}

func rimIHEOfficialWant() rimSampleWant {
	return rimSampleWant{
		entries: 1, submissionSets: 1, associations: 1,
		entryUUID:          "Document01",
		patientID:          "SELF-5^^^&1.3.6.1.4.1.21367.2005.3.7&ISO",
		uniqueID:           "1.3.6.1.4.1.21367.2005.3.9999.32",
		mimeType:           "text/xml",
		classCode:          rimIHECodes.class,
		typeCode:           rimIHECodes.typ,
		confidentiality:    []rim.Code{{Code: "1.3.6.1.4.1.21367.2006.7.101", Scheme: "Connect-a-thon confidentialityCodes", Display: "Clinical-Staff"}},
		authorPersons:      []string{"Gerald Smitty"},
		authorInstitutions: []string{"Cleveland Clinic", "Parma Community"},
		sourcePatientInfo:  5,
		ssUniqueID:         "1.3.6.1.4.1.21367.2005.3.9999.33",
		ssSourceID:         "3670984664",
		ssPatientID:        "SELF-5^^^&1.3.6.1.4.1.21367.2005.3.7&ISO",
		ssSubmissionTime:   "20041225235050",
		ssContentType:      rim.Code{Code: "History and Physical", Scheme: "Connect-a-thon contentTypeCodes", Display: "History and Physical"},
		ssAuthors:          1,
		firstAssociation:   rim.Association{EntryUUID: "as01", Type: "HasMember", Source: "SubmissionSet01", Target: "Document01", SubmissionSetStatus: "Original"},
	}
}

func rimIPFWant(extra []rim.Slot) rimSampleWant {
	w := rimIHEOfficialWant()
	w.associations = 2
	w.firstAssociation.Type = rim.AssocHasMember
	w.extraSlots = extra
	// IPF's samples misspell authorSpecialty; it is kept, not dropped.
	w.authorExtraSlots = []rim.Slot{{Name: "authorSpeciality", Values: []string{"Orthopedic"}}}
	return w
}

func rimSampleWants() map[string]rimSampleWant {
	pnrOfficial := rimIHEOfficialWant()
	pnrOfficial.documents = map[string]string{"Document01": "R0lGODlhcgGSALMAAAQCAEMmCZtuMFQxDS8b"}
	return map[string]rimSampleWant{
		"iti42-request-ihe-official-soap.xml":  rimIHEOfficialWant(),
		"iti42-request-ipf-1.xml":              rimIPFWant(nil),
		"iti42-request-ipf-2.xml":              rimIPFWant(nil),
		"iti42-request-ipf-extra-metadata.xml": rimIPFWant([]rim.Slot{{Name: "urn:my:company:slot", Values: []string{"somevalue"}}}),
		"iti41-request-ihe-official-soap.xml":  pnrOfficial,
		"iti41-request-nist-reposacceptance.xml": {
			entries: 1, submissionSets: 1, associations: 1,
			entryUUID:          "myDocId1",
			patientID:          "P0924175725.3^^^&1.3.6.1.4.1.21367.13.20.1000&ISO",
			uniqueID:           "1.2.42.20180925.1.777.200",
			mimeType:           "text/plain",
			classCode:          rim.Code{Code: "IMAGES", Scheme: "1.3.6.1.4.1.19376.1.2.6.1", Display: "Images"},
			typeCode:           rim.Code{Code: "11502-2", Scheme: "2.16.840.1.113883.6.1", Display: "Laboratory report.total"},
			confidentiality:    []rim.Code{{Code: "N", Scheme: "2.16.840.1.113883.5.25", Display: "Normal"}},
			eventCodes:         1,
			authorPersons:      []string{"^Smitty^Gerald^^^", "^Dopplemeyer^Sherry^^^"},
			authorInstitutions: []string{"Cleveland Clinic", "Parma Community"},
			sourcePatientInfo:  5,
			ssUniqueID:         "1.2.42.20180925.1.777.100",
			ssSourceID:         "1.3.6.1.4.1.21367.4",
			ssPatientID:        "P0924175725.3^^^&1.3.6.1.4.1.21367.13.20.1000&ISO",
			ssSubmissionTime:   "20041225235050",
			ssContentType:      rim.Code{Code: "264372000", Scheme: "2.16.840.1.113883.6.96", Display: "Pharmacy"},
			ssAuthors:          1,
			firstAssociation:   rim.Association{EntryUUID: "myAssocId3", Type: rim.AssocHasMember, Source: "mySsId01", Target: "myDocId1", SubmissionSetStatus: "Original"},
		},
		"iti41-request-nist-mtom-xop.txt": {
			entries: 1, submissionSets: 1, associations: 1,
			documents:        map[string]string{"Document01": "cid:1.b5b57d7287e4fa4b528a8f050c41f8ad829c20332f23b48d@apache.org"},
			entryUUID:        "Document01",
			patientID:        "SR7^^^&1.2.260&ISO",
			uniqueID:         "1.42.20160705093311.6",
			mimeType:         "text/plain",
			ssPatientID:      "SR7^^^&1.2.260&ISO",
			firstAssociation: rim.Association{EntryUUID: "ID_371617681_2", Type: rim.AssocHasMember, Source: "SubmissionSet01", Target: "Document01", SubmissionSetStatus: "Original"},
		},
		"iti41-request-ehealthsuisse-mtom-http-INCONSISTENT.txt": {
			entries: 1, submissionSets: 1, associations: 1,
			documents:        map[string]string{"urn:uuid:af516d8d-c449-4a8b-bbb4-9e36489d474d": "cid:8ba22b9e-fcff-49d8-945e-438a11f25b0f-1@urn%3Aihe%3Aiti%3Axds-b%3A2007"},
			entryUUID:        "urn:uuid:af516d8d-c449-4a8b-bbb4-9e36489d474d",
			patientID:        "CHPAM3946^^^&1.3.6.1.4.1.12559.11.20.1&ISO",
			uniqueID:         "2.25.267241352778226683619515102048382761723",
			mimeType:         "application/fhir+json",
			classCode:        rim.Code{Code: "184216000", Scheme: "2.16.840.1.113883.6.96", Display: "Patient record type (record artifact)"},
			authorPersons:    []string{"^Max^Mustermann^^^Dr.Med"},
			extraSlots:       []rim.Slot{{Name: "urn:e-health-suisse:2020:originalProviderRole", Values: []string{"HCP^^^&2.16.756.5.30.1.127.3.10.6&ISO"}}},
			ssUniqueID:       "2.25.194301908197721326796925171598754063498",
			ssSourceID:       "2.16.756.5.30.1.139.1.1.11",
			ssPatientID:      "CHPAM3946^^^&1.3.6.1.4.1.12559.11.20.1&ISO",
			ssSubmissionTime: "20231219102116",
			ssContentType:    rim.Code{Code: "71388002", Scheme: "2.16.840.1.113883.6.96", Display: "Procedure (procedure)"},
			ssAuthors:        1,
			firstAssociation: rim.Association{EntryUUID: "urn:uuid:9aabf9f9-1a16-47d8-b280-281edd2fc3fc", Type: rim.AssocHasMember, Source: "urn:uuid:a459a58b-1c47-4b43-b7db-82eb1b340168", Target: "urn:uuid:af516d8d-c449-4a8b-bbb4-9e36489d474d", SubmissionSetStatus: "Original"},
		},
		// The PJD ITI-42 wrapper is not an ITI-42 body.
		"iti42-request-pjd-nonstandard-wrapper-INVALID.xml": {errContains: "expected lcm:SubmitObjectsRequest"},
	}
}

func TestParseSamples(t *testing.T) {
	for file, want := range rimSampleWants() {
		t.Run(file, func(t *testing.T) {
			sub, err := rimParseSample(t, file)
			if want.errContains != "" {
				rimWantMetadataError(t, err, want.errContains)
				return
			}
			if err != nil {
				t.Fatalf("parse: %v", err)
			}
			rimCheckSubmission(t, sub, want)
		})
	}
}

func rimCheckSubmission(t *testing.T, sub *rim.Submission, want rimSampleWant) {
	t.Helper()
	if len(sub.DocumentEntries) != want.entries || sub.SubmissionSets != want.submissionSets ||
		len(sub.Folders) != want.folders || len(sub.Associations) != want.associations {
		t.Fatalf("got %d entries, %d submission sets, %d folders, %d associations; want %d, %d, %d, %d",
			len(sub.DocumentEntries), sub.SubmissionSets, len(sub.Folders), len(sub.Associations),
			want.entries, want.submissionSets, want.folders, want.associations)
	}
	gotDocs := map[string]string{}
	for _, d := range sub.Documents {
		rc, err := d.Content.Open()
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(rc)
		gotDocs[d.ID] = string(b)
	}
	if len(gotDocs) != len(want.documents) || (len(want.documents) > 0 && !reflect.DeepEqual(gotDocs, want.documents)) {
		t.Errorf("documents = %q, want %q", gotDocs, want.documents)
	}

	d := sub.DocumentEntries[0]
	eq := func(what string, got, want any) {
		t.Helper()
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s = %#v, want %#v", what, got, want)
		}
	}
	eq("entryUUID", d.EntryUUID, want.entryUUID)
	eq("patientId", d.PatientID, want.patientID)
	eq("uniqueId", d.UniqueID, want.uniqueID)
	eq("mimeType", d.MimeType, want.mimeType)
	eq("objectType", d.ObjectType, rim.ObjectTypeStable)
	if want.classCode != (rim.Code{}) {
		eq("classCode", d.ClassCode, want.classCode)
	}
	if want.typeCode != (rim.Code{}) {
		eq("typeCode", d.TypeCode, want.typeCode)
	}
	if want.confidentiality != nil {
		eq("confidentialityCodes", d.ConfidentialityCodes, want.confidentiality)
	}
	eq("eventCodes", len(d.EventCodes), want.eventCodes)
	if want.authorPersons != nil {
		var persons []string
		for _, a := range d.Authors {
			persons = append(persons, a.Person)
		}
		eq("author persons", persons, want.authorPersons)
	}
	if want.authorInstitutions != nil {
		eq("first author institutions", d.Authors[0].Institutions, want.authorInstitutions)
	}
	if want.authorExtraSlots != nil {
		eq("first author extra slots", d.Authors[0].ExtraSlots, want.authorExtraSlots)
	}
	if want.sourcePatientInfo > 0 {
		eq("sourcePatientInfo", len(d.SourcePatientInfo), want.sourcePatientInfo)
	}
	eq("extra slots", d.ExtraSlots, want.extraSlots)

	ss := sub.SubmissionSet
	if ss == nil {
		t.Fatal("no submission set")
	}
	if want.ssUniqueID != "" {
		eq("submission set uniqueId", ss.UniqueID, want.ssUniqueID)
		eq("submission set sourceId", ss.SourceID, want.ssSourceID)
		eq("submission set submissionTime", ss.SubmissionTime, want.ssSubmissionTime)
		eq("submission set contentTypeCode", ss.ContentTypeCode, want.ssContentType)
		eq("submission set authors", len(ss.Authors), want.ssAuthors)
	}
	eq("submission set patientId", ss.PatientID, want.ssPatientID)
	eq("first association", *sub.Associations[0], want.firstAssociation)
}

// rimWantMetadataError checks that err is an XDSRegistryMetadataError whose
// context contains want.
func rimWantMetadataError(t *testing.T, err error, want string) {
	t.Helper()
	var re *rim.RegistryError
	if !errors.As(err, &re) {
		t.Fatalf("err = %v, want a *RegistryError", err)
	}
	if re.Code != rim.XDSRegistryMetadataError || !strings.Contains(re.Context, want) {
		t.Fatalf("err = %q, want XDSRegistryMetadataError containing %q", re.Error(), want)
	}
}

// rimSubmission builds a SubmitObjectsRequest around a minimal valid
// DocumentEntry, SubmissionSet and association. eo is added inside the
// ExtrinsicObject, list to the RegistryObjectList.
func rimSubmission(eo, list string) string {
	return `<lcm:SubmitObjectsRequest xmlns:lcm="urn:oasis:names:tc:ebxml-regrep:xsd:lcm:3.0" xmlns:rim="urn:oasis:names:tc:ebxml-regrep:xsd:rim:3.0">
 <rim:RegistryObjectList>
  <rim:ExtrinsicObject id="Doc1" mimeType="text/plain" objectType="urn:uuid:7edca82f-054d-47f2-a032-9b2a5b5186c1">` + eo + `
   <rim:ExternalIdentifier id="ei1" registryObject="Doc1" identificationScheme="urn:uuid:58a6f841-87b3-4a3e-92fd-a8ffeff98427" value="13116900216^^^&amp;2.16.578.1.12.4.1.4.1&amp;ISO"/>
  </rim:ExtrinsicObject>
  <rim:RegistryPackage id="SS1">
   <rim:Classification id="c1" classifiedObject="SS1" classificationNode="urn:uuid:a54d6aa5-d40d-43f9-88c5-b4633d873bdd"/>
  </rim:RegistryPackage>
  <rim:Association id="a1" associationType="urn:oasis:names:tc:ebxml-regrep:AssociationType:HasMember" sourceObject="SS1" targetObject="Doc1"/>` + list + `
 </rim:RegistryObjectList>
</lcm:SubmitObjectsRequest>`
}

func rimParseString(t *testing.T, s string) (*rim.Submission, error) {
	t.Helper()
	return rim.ParseSubmitObjectsRequest(rimParseDoc(t, []byte(s)).Root())
}

func TestParseSubmitObjectsRequestRefusesBrokenStructure(t *testing.T) {
	const slot = `<rim:Slot name="%s"><rim:ValueList>%s</rim:ValueList></rim:Slot>`
	const classCode = `<rim:Classification id="cc" classifiedObject="Doc1" classificationScheme="urn:uuid:41a5887f-8865-4c09-adf7-e362475b143a" nodeRepresentation="A00-1"/>`
	tests := map[string]struct {
		xml  string
		want string
	}{
		"missing RegistryObjectList": {
			xml:  `<lcm:SubmitObjectsRequest xmlns:lcm="urn:oasis:names:tc:ebxml-regrep:xsd:lcm:3.0"/>`,
			want: "missing rim:RegistryObjectList",
		},
		"wrong root": {
			xml:  `<query:AdhocQueryRequest xmlns:query="urn:oasis:names:tc:ebxml-regrep:xsd:query:3.0"/>`,
			want: "expected lcm:SubmitObjectsRequest",
		},
		"right name, wrong namespace": {
			xml:  `<SubmitObjectsRequest xmlns="urn:example"><RegistryObjectList/></SubmitObjectsRequest>`,
			want: "expected lcm:SubmitObjectsRequest",
		},
		"rim element in a foreign namespace": {
			xml:  rimSubmission("", `<x:ExtrinsicObject xmlns:x="urn:example" id="Doc2"/>`),
			want: "RegistryObjectList: unexpected element ExtrinsicObject",
		},
		"unsupported object": {
			xml:  rimSubmission("", `<rim:ExternalLink id="l1" externalURI="http://example.org"/>`),
			want: "unsupported object ExternalLink",
		},
		"object without id": {
			xml:  rimSubmission("", `<rim:ExtrinsicObject mimeType="text/plain"/>`),
			want: "ExtrinsicObject: missing id",
		},
		"package not classified": {
			xml:  rimSubmission("", `<rim:RegistryPackage id="P2"/>`),
			want: "RegistryPackage P2: not classified as SubmissionSet or Folder",
		},
		"package classified twice differently": {
			xml:  rimSubmission("", `<rim:Classification id="c2" classifiedObject="SS1" classificationNode="urn:uuid:d9d542f3-6cc4-48b6-8870-ea235fbc94c2"/>`),
			want: "RegistryPackage SS1: classified as both SubmissionSet and Folder",
		},
		"classification of an object not in the request": {
			xml:  rimSubmission("", `<rim:Classification id="c3" classifiedObject="Nowhere" classificationNode="urn:uuid:a54d6aa5-d40d-43f9-88c5-b4633d873bdd"/>`),
			want: "Classification c3: classifies an object not in the request",
		},
		"classification with scheme and node": {
			xml:  rimSubmission(`<rim:Classification id="c4" classifiedObject="Doc1" classificationScheme="urn:uuid:41a5887f-8865-4c09-adf7-e362475b143a" classificationNode="urn:uuid:a54d6aa5-d40d-43f9-88c5-b4633d873bdd"/>`, ""),
			want: "Classification c4: needs exactly one of classificationScheme and classificationNode",
		},
		"slot without name": {
			xml:  rimSubmission(`<rim:Slot><rim:ValueList/></rim:Slot>`, ""),
			want: "ExtrinsicObject Doc1: Slot without name",
		},
		"slot given twice": {
			xml:  rimSubmission(strings.Repeat(strings.Replace(strings.Replace(slot, "%s", "creationTime", 1), "%s", "<rim:Value>20250101</rim:Value>", 1), 2), ""),
			want: "ExtrinsicObject Doc1: slot creationTime given twice",
		},
		"single-valued slot with two values": {
			xml:  rimSubmission(`<rim:Slot name="languageCode"><rim:ValueList><rim:Value>nb-NO</rim:Value><rim:Value>nn-NO</rim:Value></rim:ValueList></rim:Slot>`, ""),
			want: "slot languageCode has more than one value",
		},
		"size not a number": {
			xml:  rimSubmission(`<rim:Slot name="size"><rim:ValueList><rim:Value>12kB</rim:Value></rim:ValueList></rim:Slot>`, ""),
			want: "slot size is not a non-negative integer",
		},
		"negative size": {
			xml:  rimSubmission(`<rim:Slot name="size"><rim:ValueList><rim:Value>-1</rim:Value></rim:ValueList></rim:Slot>`, ""),
			want: "slot size is not a non-negative integer",
		},
		"two class codes": {
			xml:  rimSubmission(classCode+classCode, ""),
			want: "more than one classification urn:uuid:41a5887f-8865-4c09-adf7-e362475b143a",
		},
		"unknown classification scheme": {
			xml:  rimSubmission(`<rim:Classification id="cx" classifiedObject="Doc1" classificationScheme="urn:uuid:00000000-0000-4000-8000-000000000000" nodeRepresentation="x"/>`, ""),
			want: "unknown classification urn:uuid:00000000-0000-4000-8000-000000000000",
		},
		"limited metadata": {
			xml:  rimSubmission(`<rim:Classification id="lm" classifiedObject="Doc1" classificationNode="urn:uuid:ab9b591b-83ab-4d03-8f5d-f93b1fb92e85"/>`, ""),
			want: "limited metadata is not accepted",
		},
		"unknown external identifier": {
			xml:  rimSubmission(`<rim:ExternalIdentifier id="e9" registryObject="Doc1" identificationScheme="urn:uuid:00000000-0000-4000-8000-000000000001" value="x"/>`, ""),
			want: "unknown external identifier urn:uuid:00000000-0000-4000-8000-000000000001",
		},
		"patient id twice": {
			xml:  rimSubmission(`<rim:ExternalIdentifier id="e8" registryObject="Doc1" identificationScheme="urn:uuid:58a6f841-87b3-4a3e-92fd-a8ffeff98427" value="x^^^&amp;1.2&amp;ISO"/>`, ""),
			want: "more than one external identifier urn:uuid:58a6f841-87b3-4a3e-92fd-a8ffeff98427",
		},
		"code with unexpected slot": {
			xml:  rimSubmission(`<rim:Classification id="cs" classifiedObject="Doc1" classificationScheme="urn:uuid:41a5887f-8865-4c09-adf7-e362475b143a" nodeRepresentation="A00-1"><rim:Slot name="codeSystemVersion"><rim:ValueList><rim:Value>1</rim:Value></rim:ValueList></rim:Slot></rim:Classification>`, ""),
			want: "unexpected slot codeSystemVersion",
		},
		"title in two languages": {
			xml:  rimSubmission(`<rim:Name><rim:LocalizedString value="Epikrise"/><rim:LocalizedString value="Discharge summary"/></rim:Name>`, ""),
			want: "more than one LocalizedString in Name",
		},
		"classified association": {
			xml:  rimSubmission("", `<rim:Association id="a2" associationType="urn:ihe:iti:2007:AssociationType:RPLC" sourceObject="Doc1" targetObject="urn:uuid:e0985823-dc50-45a5-a6c8-a11a829893bd"><rim:Classification id="ad" classifiedObject="a2" classificationScheme="urn:uuid:abd807a3-4432-4053-87b4-fd82c643d1f3" nodeRepresentation="x"/></rim:Association>`),
			want: "Association a2: classifications and external identifiers of associations are not supported",
		},
		"nested RegistryObjectList in a package": {
			xml:  rimSubmission("", `<rim:RegistryPackage id="P3"><rim:RegistryObjectList/></rim:RegistryPackage>`),
			want: "RegistryPackage P3: unsupported element RegistryObjectList",
		},
		"value list with a stray element": {
			xml:  rimSubmission(`<rim:Slot name="x"><rim:ValueList><rim:Value>a</rim:Value><rim:Other/></rim:ValueList></rim:Slot>`, ""),
			want: "unexpected element Other in Slot x",
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			_, err := rimParseString(t, tc.xml)
			rimWantMetadataError(t, err, tc.want)
		})
	}
}

func TestParseErrorsNeverQuoteANationalID(t *testing.T) {
	xml := rimSubmission("", `<rim:RegistryPackage id="13116900216"/>`)
	_, err := rimParseString(t, xml)
	if err == nil {
		t.Fatal("unclassified package accepted")
	}
	if strings.Contains(err.Error(), "13116900216") {
		t.Errorf("error %q quotes a national id", err)
	}
}

func TestParseMatchesNamespacesNotPrefixes(t *testing.T) {
	// Default namespaces and unusual prefixes; the SubmissionSet node
	// classification is top-level and the classCode is a top-level
	// Classification too.
	xml := `<a:SubmitObjectsRequest xmlns:a="urn:oasis:names:tc:ebxml-regrep:xsd:lcm:3.0">
 <RegistryObjectList xmlns="urn:oasis:names:tc:ebxml-regrep:xsd:rim:3.0">
  <ExtrinsicObject id="urn:uuid:11111111-1111-4111-8111-111111111111" mimeType="application/pdf" home="2.16.578.1.12.4.5.100.1">
   <Slot name="size"><ValueList><Value>0</Value></ValueList></Slot>
   <Slot name="hash"><ValueList><Value>DA39A3EE5E6B4B0D3255BFEF95601890AFD80709</Value></ValueList></Slot>
  </ExtrinsicObject>
  <z:RegistryPackage xmlns:z="urn:oasis:names:tc:ebxml-regrep:xsd:rim:3.0" id="F1"/>
  <Classification id="c" classifiedObject="F1" classificationNode="URN:UUID:D9D542F3-6CC4-48B6-8870-EA235FBC94C2"/>
  <Classification id="cc" classifiedObject="urn:uuid:11111111-1111-4111-8111-111111111111" classificationScheme="urn:uuid:41a5887f-8865-4c09-adf7-e362475b143a" nodeRepresentation="A00-1">
   <Slot name="codingScheme"><ValueList><Value>2.16.578.1.12.4.1.1.9602</Value></ValueList></Slot>
   <Name><LocalizedString value="Epikriser og sammenfatninger"/></Name>
  </Classification>
  <ObjectRef id="urn:uuid:e0985823-dc50-45a5-a6c8-a11a829893bd"/>
 </RegistryObjectList>
</a:SubmitObjectsRequest>`
	sub, err := rimParseString(t, xml)
	if err != nil {
		t.Fatal(err)
	}
	d := sub.DocumentEntries[0]
	tests := map[string]struct{ got, want any }{
		"folder found through top-level classification": {len(sub.Folders), 1},
		"no submission set":                             {sub.SubmissionSets, 0},
		"class code from top-level classification":      {d.ClassCode, rim.Code{Code: "A00-1", Scheme: "2.16.578.1.12.4.1.1.9602", Display: "Epikriser og sammenfatninger"}},
		"size zero is present":                          {[]any{d.Size, d.HasSize}, []any{int64(0), true}},
		"hash lower-cased":                              {d.Hash, "da39a3ee5e6b4b0d3255bfef95601890afd80709"},
		"bare home becomes urn:oid":                     {d.Home, "urn:oid:2.16.578.1.12.4.5.100.1"},
		"object refs":                                   {sub.ObjectRefs, []string{"urn:uuid:e0985823-dc50-45a5-a6c8-a11a829893bd"}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if !reflect.DeepEqual(tc.got, tc.want) {
				t.Errorf("got %#v, want %#v", tc.got, tc.want)
			}
		})
	}
}

func TestParseProvideAndRegisterStructure(t *testing.T) {
	const sor = `<lcm:SubmitObjectsRequest xmlns:lcm="urn:oasis:names:tc:ebxml-regrep:xsd:lcm:3.0"><rim:RegistryObjectList xmlns:rim="urn:oasis:names:tc:ebxml-regrep:xsd:rim:3.0"/></lcm:SubmitObjectsRequest>`
	blobErr := errors.New("mtom part missing")
	tests := map[string]struct {
		xml     string
		blobErr error
		want    string // metadata error context; "" = blobErr or success
	}{
		"no SubmitObjectsRequest": {
			xml:  `<x:ProvideAndRegisterDocumentSetRequest xmlns:x="urn:ihe:iti:xds-b:2007"/>`,
			want: "missing lcm:SubmitObjectsRequest",
		},
		"document without id": {
			xml:  `<x:ProvideAndRegisterDocumentSetRequest xmlns:x="urn:ihe:iti:xds-b:2007">` + sor + `<x:Document>AA==</x:Document></x:ProvideAndRegisterDocumentSetRequest>`,
			want: "Document: missing id",
		},
		"stray element": {
			xml:  `<x:ProvideAndRegisterDocumentSetRequest xmlns:x="urn:ihe:iti:xds-b:2007">` + sor + `<x:Other/></x:ProvideAndRegisterDocumentSetRequest>`,
			want: "unexpected element Other",
		},
		"blob error passed through": {
			xml:     `<x:ProvideAndRegisterDocumentSetRequest xmlns:x="urn:ihe:iti:xds-b:2007">` + sor + `<x:Document id="d">AA==</x:Document></x:ProvideAndRegisterDocumentSetRequest>`,
			blobErr: blobErr,
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			el := rimParseDoc(t, []byte(tc.xml)).Root()
			_, err := rim.ParseProvideAndRegister(el, func(*etree.Element) (soap.Blob, error) { return nil, tc.blobErr })
			if tc.want != "" {
				rimWantMetadataError(t, err, tc.want)
				return
			}
			if !errors.Is(err, tc.blobErr) {
				t.Errorf("err = %v, want %v", err, tc.blobErr)
			}
		})
	}
}

func TestParseRetrieveDocumentSetRequestSamples(t *testing.T) {
	tests := map[string][]rim.DocumentRequest{
		"iti43-request-ihe-official-soap.xml": {
			{RepositoryUniqueID: "1.3.6.1.4...1000", DocumentUniqueID: "1.3.6.1.4...2300"},
			{RepositoryUniqueID: "1.3.6.1.4...1000", DocumentUniqueID: "1.3.6.1.4...2301"},
		},
		"iti43-request-ehealthsuisse-projectathon-saml.xml": {
			{HomeCommunityID: "1.3.6.1.4.1.21367.2017.2.6.19", RepositoryUniqueID: "1.3.6.1.4.1.21367.2017.2.3.54", DocumentUniqueID: "1.3.6.1.4.1.21367.2017.2.1.75.20200922130227623"},
		},
		"iti43-request-pjd-no-saml.xml": {
			{HomeCommunityID: "2.16.578.1.12.4.5.100.1", RepositoryUniqueID: "2.16.578.1.12.4.5.100.1.2", DocumentUniqueID: "01f9d694-635f-40fe-a87e-706da26edb7f"},
		},
		"iti43-request-nist-two-docs.xml": {
			{RepositoryUniqueID: "$repuid$", DocumentUniqueID: "$docuid1$"},
			{RepositoryUniqueID: "$repuid$", DocumentUniqueID: "$docuid2$"},
		},
		"iti39-request-ihe-official.xml": {
			{HomeCommunityID: "1.2.3.4", RepositoryUniqueID: "1.3.6.1.4...1000", DocumentUniqueID: "1.3.6.1.4...2300"},
			{HomeCommunityID: "1.2.3.4", RepositoryUniqueID: "1.3.6.1.4...2000", DocumentUniqueID: "1.3.6.1.4...2301"},
		},
		"iti39-request-nist-missing-home-NEGATIVE.xml": {
			{RepositoryUniqueID: "$repositoryuid$", DocumentUniqueID: "$docuid$"},
		},
		"iti39-request-pjd-kjernejournal-saml.xml": {
			{HomeCommunityID: "2.16.578.1.12.4.5.100.1", RepositoryUniqueID: "2.16.578.1.12.4.5.100.1.2", DocumentUniqueID: "13fa8361-dd8f-43fd-a33c-93f3237306c3"},
		},
		"iti39-request-pjd-helsenord-saml.xml": {
			{HomeCommunityID: "2.16.578.1.12.4.5.100.1", RepositoryUniqueID: "2.16.578.1.12.4.5.100.1.2", DocumentUniqueID: "13fa8361-dd8f-43fd-a33c-93f3237306c3"},
		},
		"iti39-request-pjd-mtom-multipart.txt": {
			{HomeCommunityID: "2.16.578.1.12.4.5.100.1", RepositoryUniqueID: "2.16.578.1.12.4.5.100.1.2", DocumentUniqueID: "4955f740-0be2-49f3-9e67-039f0a00ad6c"},
		},
	}
	for file, want := range tests {
		t.Run(file, func(t *testing.T) {
			doc := rimParseDoc(t, rimEnvelope(t, rimSample(t, file)))
			el := rimFind(doc.Root(), rim.NSXDSB, "RetrieveDocumentSetRequest")
			got, err := rim.ParseRetrieveDocumentSetRequest(el)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("got %+v\nwant %+v", got, want)
			}
		})
	}
}

func TestParseRetrieveDocumentSetRequestRefusesBrokenStructure(t *testing.T) {
	const open = `<r:RetrieveDocumentSetRequest xmlns:r="urn:ihe:iti:xds-b:2007">`
	const end = `</r:RetrieveDocumentSetRequest>`
	tests := map[string]struct{ xml, want string }{
		"empty request":            {open + end, "no DocumentRequest"},
		"wrong root":               {`<r:RetrieveDocumentSetResponse xmlns:r="urn:ihe:iti:xds-b:2007"/>`, "expected xds-b:RetrieveDocumentSetRequest"},
		"missing repository id":    {open + `<r:DocumentRequest><r:DocumentUniqueId>1.2</r:DocumentUniqueId></r:DocumentRequest>` + end, "without RepositoryUniqueId"},
		"missing document id":      {open + `<r:DocumentRequest><r:RepositoryUniqueId>1.2</r:RepositoryUniqueId></r:DocumentRequest>` + end, "without DocumentUniqueId"},
		"blank document id":        {open + `<r:DocumentRequest><r:RepositoryUniqueId>1.2</r:RepositoryUniqueId><r:DocumentUniqueId> </r:DocumentUniqueId></r:DocumentRequest>` + end, "without DocumentUniqueId"},
		"document id twice":        {open + `<r:DocumentRequest><r:RepositoryUniqueId>1</r:RepositoryUniqueId><r:DocumentUniqueId>2</r:DocumentUniqueId><r:DocumentUniqueId>3</r:DocumentUniqueId></r:DocumentRequest>` + end, "DocumentUniqueId given twice"},
		"foreign namespace":        {open + `<DocumentRequest/>` + end, "unexpected element DocumentRequest"},
		"stray element in request": {open + `<r:DocumentRequest><r:RepositoryUniqueId>1</r:RepositoryUniqueId><r:DocumentUniqueId>2</r:DocumentUniqueId><r:mimeType>x</r:mimeType></r:DocumentRequest>` + end, "unexpected element mimeType"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			_, err := rim.ParseRetrieveDocumentSetRequest(rimParseDoc(t, []byte(tc.xml)).Root())
			var re *rim.RegistryError
			if !errors.As(err, &re) || re.Code != rim.XDSRepositoryError || !strings.Contains(re.Context, tc.want) {
				t.Fatalf("err = %v, want XDSRepositoryError containing %q", err, tc.want)
			}
		})
	}
}

// FuzzParseSubmitObjectsRequest feeds arbitrary XML to the parser. Whatever
// it accepts must render into a response it accepts again, and a second
// round must change nothing (the first may normalise white space and home
// ids).
func FuzzParseSubmitObjectsRequest(f *testing.F) {
	for file := range rimSampleWants() {
		f.Add(rimEnvelope(f, rimSample(f, file)))
	}
	f.Add([]byte(rimSubmission(`<rim:Slot name="size"><rim:ValueList><rim:Value>7</rim:Value></rim:ValueList></rim:Slot>`, `<rim:ObjectRef id="urn:uuid:e0985823-dc50-45a5-a6c8-a11a829893bd"/>`)))
	f.Fuzz(func(t *testing.T, data []byte) {
		doc := etree.NewDocument()
		if err := doc.ReadFromBytes(data); err != nil {
			return
		}
		el := rimFind(doc.Root(), rim.NSLCM, "SubmitObjectsRequest")
		if el == nil {
			el = doc.Root()
		}
		sub, err := rim.ParseSubmitObjectsRequest(el)
		if err != nil {
			var re *rim.RegistryError
			if !errors.As(err, &re) || re.Code != rim.XDSRegistryMetadataError {
				t.Fatalf("error %v is not an XDSRegistryMetadataError", err)
			}
			return
		}
		once := rimRoundTrip(t, sub)
		twice := rimRoundTrip(t, once)
		if !reflect.DeepEqual(once, twice) {
			t.Fatalf("second round trip changed the model:\n%s\n%s", rimDump(once.DocumentEntries), rimDump(twice.DocumentEntries))
		}
	})
}

// rimRoundTrip renders sub as a LeafClass response and parses it back.
func rimRoundTrip(t *testing.T, sub *rim.Submission) *rim.Submission {
	t.Helper()
	res := &rim.QueryResult{DocumentEntries: sub.DocumentEntries, Folders: sub.Folders, Associations: sub.Associations}
	if sub.SubmissionSet != nil {
		res.SubmissionSets = []*rim.SubmissionSet{sub.SubmissionSet}
	}
	for _, id := range sub.ObjectRefs {
		res.ObjectRefs = append(res.ObjectRefs, rim.ObjectRef{ID: id})
	}
	out := rimSerialize(t, rim.RenderAdhocQueryResponse(res, rim.ReturnLeafClass, "", nil))
	back, err := rim.ParseRegistryObjectList(rimFind(rimParseDoc(t, out).Root(), rim.NSRIM, "RegistryObjectList"))
	if err != nil {
		t.Fatalf("rendered response not accepted: %v\n%s", err, out)
	}
	return back
}

// NHN's PJD PnR sample lacks the classification node that makes its package
// a SubmissionSet. Its uniqueId and sourceId identifiers leave one reading,
// so the parser accepts it with a warning; the registry then refuses the
// submission for what is really wrong with it (its SubmissionSet and
// DocumentEntry name different patients).
func TestParsePJDSubmissionSetWithoutClassification(t *testing.T) {
	sub, err := rimParseSample(t, "iti41-request-pjd-no.xml")
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	if sub.SubmissionSets != 1 || sub.SubmissionSet == nil || sub.SubmissionSet.UniqueID != "1.2009.9.1.2456" {
		t.Fatalf("submission set not inferred: %d %+v", sub.SubmissionSets, sub.SubmissionSet)
	}
	if len(sub.Warnings) != 1 || !sub.Warnings[0].IsWarning() || sub.Warnings[0].Code != rim.XDSRegistryMetadataError ||
		!strings.Contains(sub.Warnings[0].Context, "SubmissionSet classification missing") {
		t.Fatalf("warnings = %v, want one naming the missing classification", sub.Warnings)
	}
	if len(sub.DocumentEntries) != 1 || sub.DocumentEntries[0].ClassCode.Code != "A00-1" {
		t.Fatalf("document entries = %+v", sub.DocumentEntries)
	}
	// A package with only one of the two identifiers stays refused.
	doc := rimParseDoc(t, rimEnvelope(t, rimSample(t, "iti41-request-pjd-no.xml")))
	for _, x := range doc.FindElements("//RegistryPackage/ExternalIdentifier") {
		if strings.Contains(x.SelectAttrValue("identificationScheme", ""), "554ac39e") {
			x.Parent().RemoveChild(x)
		}
	}
	pnr := rimFind(doc.Root(), rim.NSXDSB, "ProvideAndRegisterDocumentSetRequest")
	blob := func(*etree.Element) (soap.Blob, error) { return rimDummyBlob{}, nil }
	if _, err := rim.ParseProvideAndRegister(pnr, blob); err == nil || !strings.Contains(err.Error(), "not classified as SubmissionSet or Folder") {
		t.Fatalf("package without sourceId: err = %v, want refusal", err)
	}
}

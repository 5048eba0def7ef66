package rim_test

import (
	"bytes"
	"encoding/base64"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/beevik/etree"

	"kjdd/xds/hl7"
	"kjdd/xds/rim"
	"kjdd/xds/soap"
)

// The flag has its own name: every test file of the package shares one
// test binary and one flag set.
var rimUpdateGolden = flag.Bool("update-rim-golden", false, "rewrite xds/rim/testdata/rim golden files")

const (
	rimHome    = "2.16.578.1.12.4.5.100.1"
	rimHomeURN = "urn:oid:" + rimHome
	rimFNR     = "13116900216" // NHN test person
)

// rimNorwegianEntry is a realistic registered Norwegian DocumentEntry: an
// epikrise from a somatic hospital, authored by an HPR-registered doctor.
func rimNorwegianEntry(i int) *rim.DocumentEntry {
	id := fmt.Sprintf("urn:uuid:%08x-5f0c-4d2e-9a41-%012x", 0x3b6f1c00+i, 0x7e21a9c4d500+i)
	hpr := "565505933^GREVLING^KVART^^^^^^&2.16.578.1.12.4.1.4.4&ISO"
	return &rim.DocumentEntry{
		EntryUUID:                  id,
		LogicalID:                  id,
		Version:                    "1",
		UniqueID:                   fmt.Sprintf("2.16.578.1.12.4.5.100.1.3.%d", 20250206000+i),
		PatientID:                  hl7.FormatCX(rimFNR, "2.16.578.1.12.4.1.4.1"),
		ObjectType:                 rim.ObjectTypeStable,
		MimeType:                   "application/pdf",
		Status:                     rim.StatusApproved,
		Title:                      fmt.Sprintf("Epikrise etter innleggelse %d", i+1),
		ClassCode:                  rim.Code{Code: "A00-1", Scheme: "2.16.578.1.12.4.1.1.9602", Display: "Epikriser og sammenfatninger"},
		TypeCode:                   rim.Code{Code: "A03-2", Scheme: "2.16.578.1.12.4.1.1.9602", Display: "Epikrise"},
		FormatCode:                 rim.Code{Code: "urn:ihe:iti:xds:2017:mimeTypeSufficient", Scheme: "http://profiles.ihe.net/fhir/ihe.formatcode.fhir/CodeSystem-formatcode", Display: "mimeType Sufficient"},
		HealthcareFacilityTypeCode: rim.Code{Code: "86.101", Scheme: "2.16.578.1.12.4.1.1.1303", Display: "Alminnelige somatiske sykehus"},
		PracticeSettingCode:        rim.Code{Code: "S03", Scheme: "2.16.578.1.12.4.1.1.8655", Display: "Indremedisin"},
		ConfidentialityCodes: []rim.Code{
			{Code: "N", Scheme: "2.16.840.1.113883.5.25", Display: "Normal"},
			{Code: "N", Scheme: "2.16.578.1.12.4.1.1.9603", Display: "Normal"},
		},
		Authors: []rim.Author{{
			Person: hpr,
			Institutions: []string{
				"Finnmarkssykehuset HF^^^^^&2.16.578.1.12.4.1.4.101&ISO^^^^983974880",
				"Medisinsk avdeling - Hammerfest^^^^^&2.16.578.1.12.4.1.4.102&ISO^^^^4211607",
			},
			Roles: []string{"LE^^^&2.16.578.1.12.4.1.1.9060&ISO"},
		}},
		CreationTime:       "20250206141356",
		ServiceStartTime:   "20250107151403",
		ServiceStopTime:    "20250122151403",
		LanguageCode:       "nb-NO",
		SourcePatientID:    hl7.FormatCX(rimFNR, "2.16.578.1.12.4.1.4.1"),
		SourcePatientInfo:  []string{"PID-7|19691113", "PID-8|F"},
		LegalAuthenticator: hpr,
		Hash:               fmt.Sprintf("%040x", 0xda39a3ee+i),
		Size:               int64(80574 + i),
		HasSize:            true,
		RepositoryUniqueID: "2.16.578.1.12.4.5.100.1.2",
	}
}

// rimNorwegianResult is a LeafClass result of n entries, their submission
// set, a folder, the associations and one reference.
func rimNorwegianResult(n int) *rim.QueryResult {
	ssID := "urn:uuid:5d0a2b4e-1c3f-4a5b-8c6d-7e8f9a0b1c2d"
	folderID := "urn:uuid:6e1b3c5f-2d40-4b6c-9d7e-8f9a0b1c2d3e"
	res := &rim.QueryResult{
		SubmissionSets: []*rim.SubmissionSet{{
			EntryUUID:       ssID,
			LogicalID:       ssID,
			UniqueID:        "2.16.578.1.12.4.5.100.1.4.1",
			SourceID:        "2.16.578.1.12.4.5.100.1",
			PatientID:       hl7.FormatCX(rimFNR, "2.16.578.1.12.4.1.4.1"),
			Status:          rim.StatusApproved,
			SubmissionTime:  "20250206141400",
			ContentTypeCode: rim.Code{Code: "A00-1", Scheme: "2.16.578.1.12.4.1.1.9602", Display: "Epikriser og sammenfatninger"},
			Authors:         []rim.Author{{Institutions: []string{"Finnmarkssykehuset HF^^^^^&2.16.578.1.12.4.1.4.101&ISO^^^^983974880"}}},
		}},
		Folders: []*rim.Folder{{
			EntryUUID:      folderID,
			LogicalID:      folderID,
			UniqueID:       "2.16.578.1.12.4.5.100.1.5.1",
			PatientID:      hl7.FormatCX(rimFNR, "2.16.578.1.12.4.1.4.1"),
			Status:         rim.StatusApproved,
			Title:          "Innleggelse januar 2025",
			LastUpdateTime: "20250206141400",
			CodeList:       []rim.Code{{Code: "S03", Scheme: "2.16.578.1.12.4.1.1.8655", Display: "Indremedisin"}},
		}},
		ObjectRefs: []rim.ObjectRef{{ID: "urn:uuid:0f1e2d3c-4b5a-4697-8877-665544332211"}},
	}
	for i := range n {
		d := rimNorwegianEntry(i)
		res.DocumentEntries = append(res.DocumentEntries, d)
		res.Associations = append(res.Associations, &rim.Association{
			EntryUUID:           fmt.Sprintf("urn:uuid:7f2c4d60-3e51-4c7d-8e8f-%012x", i),
			Type:                rim.AssocHasMember,
			Source:              ssID,
			Target:              d.EntryUUID,
			Status:              rim.StatusApproved,
			SubmissionSetStatus: "Original",
		})
	}
	return res
}

// rimRender serialises a rendered element, indented when indent is set.
func rimRender(t testing.TB, el *etree.Element, indent bool) []byte {
	t.Helper()
	doc := etree.NewDocument()
	doc.SetRoot(el)
	if indent {
		doc.Indent(2)
	}
	b, err := doc.WriteToBytes()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestRenderAdhocQueryResponseGolden(t *testing.T) {
	tests := map[string]struct {
		returnType, home, golden string
	}{
		"xca leafclass, bare home":   {rim.ReturnLeafClass, rimHome, "iti38-leafclass-xca.xml"},
		"xca objectref, urn home":    {rim.ReturnObjectRef, rimHomeURN, "iti38-objectref-xca.xml"},
		"registry leafclass no home": {rim.ReturnLeafClass, "", "iti18-leafclass.xml"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got := rimRender(t, rim.RenderAdhocQueryResponse(rimNorwegianResult(2), tc.returnType, tc.home, nil), true)
			rimValidateXSD(t, got)
			path := filepath.Join("testdata", "rim", tc.golden)
			if *rimUpdateGolden {
				if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(path, got, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run with -update-rim-golden to create it)", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("rendered response differs from %s (run with -update-rim-golden after checking)\n%s", path, got)
			}
		})
	}
}

func TestRenderAdhocQueryResponseHomeOnEveryObject(t *testing.T) {
	tests := map[string]struct {
		returnType, home string
	}{
		"leafclass, bare home": {rim.ReturnLeafClass, rimHome},
		"leafclass, urn home":  {rim.ReturnLeafClass, rimHomeURN},
		"objectref, bare home": {rim.ReturnObjectRef, rimHome},
		"objectref, urn home":  {rim.ReturnObjectRef, rimHomeURN},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			res := rimNorwegianResult(3)
			res.DocumentEntries[0].Home = "urn:oid:9.9.9" // the gateway's home wins
			el := rim.RenderAdhocQueryResponse(res, tc.returnType, tc.home, nil)
			list := rimFind(el, rim.NSRIM, "RegistryObjectList")
			objects := list.ChildElements()
			if len(objects) != res.Count() {
				t.Fatalf("%d objects rendered, want %d", len(objects), res.Count())
			}
			for _, o := range objects {
				if got := o.SelectAttrValue("home", ""); got != rimHomeURN {
					t.Errorf("%s %s: home = %q, want %q", o.Tag, o.SelectAttrValue("id", ""), got, rimHomeURN)
				}
			}
		})
	}
}

func TestRenderAdhocQueryResponseOwnHomeOutsideXCA(t *testing.T) {
	res := &rim.QueryResult{
		DocumentEntries: []*rim.DocumentEntry{{EntryUUID: "urn:uuid:11111111-1111-4111-8111-111111111111", Home: "1.2.3"}},
		ObjectRefs:      []rim.ObjectRef{{ID: "urn:uuid:22222222-2222-4222-8222-222222222222"}},
	}
	list := rimFind(rim.RenderAdhocQueryResponse(res, rim.ReturnLeafClass, "", nil), rim.NSRIM, "RegistryObjectList")
	objs := list.ChildElements()
	if got := objs[0].SelectAttrValue("home", ""); got != "urn:oid:1.2.3" {
		t.Errorf("entry home = %q, want urn:oid:1.2.3", got)
	}
	if a := objs[1].SelectAttr("home"); a != nil {
		t.Errorf("object ref without home got home=%q", a.Value)
	}
}

func TestRenderedIDsAreUniqueUUIDs(t *testing.T) {
	tests := map[string]func() *rim.QueryResult{
		"realistic entries": func() *rim.QueryResult { return rimNorwegianResult(20) },
		// Ids a sender chose itself may differ in one digit only; derived
		// ids of neighbouring objects must still not collide.
		"sequential entryUUIDs": func() *rim.QueryResult {
			res := rimNorwegianResult(20)
			for i, d := range res.DocumentEntries {
				d.EntryUUID = fmt.Sprintf("urn:uuid:00000000-0000-4000-8000-%012d", i)
				res.Associations[i].Target = d.EntryUUID
			}
			return res
		},
	}
	for name, build := range tests {
		t.Run(name, func(t *testing.T) {
			el := rim.RenderAdhocQueryResponse(build(), rim.ReturnLeafClass, rimHome, nil)
			seen := map[string]string{}
			var walk func(e *etree.Element)
			walk = func(e *etree.Element) {
				if id := e.SelectAttrValue("id", ""); id != "" {
					if !hl7.IsURNUUID(id) {
						t.Errorf("%s id %q is not a urn:uuid", e.Tag, id)
					}
					if prev, dup := seen[id]; dup {
						t.Errorf("id %q used by %s and %s", id, prev, e.Tag)
					}
					seen[id] = e.Tag
				}
				for _, c := range e.ChildElements() {
					walk(c)
				}
			}
			walk(el)
			// Composed objects keep their ids from one response to the next.
			again := rimRender(t, rim.RenderAdhocQueryResponse(build(), rim.ReturnLeafClass, rimHome, nil), false)
			if first := rimRender(t, el, false); !bytes.Equal(first, again) {
				t.Error("rendering the same result twice gave different documents")
			}
		})
	}
}

// rimRegister turns a parsed submission into what the registry stores:
// UUIDs, lid, version, Approved, and the gateway's home.
func rimRegister(sub *rim.Submission) {
	rim.AssignEntryUUIDs(sub, rimCounter())
	for _, d := range sub.DocumentEntries {
		d.LogicalID, d.Version, d.Status, d.Home = d.EntryUUID, "1", rim.StatusApproved, rimHomeURN
	}
	if ss := sub.SubmissionSet; ss != nil {
		ss.LogicalID, ss.Status, ss.Home = ss.EntryUUID, rim.StatusApproved, rimHomeURN
	}
	for _, f := range sub.Folders {
		f.LogicalID, f.Status, f.Home = f.EntryUUID, rim.StatusApproved, rimHomeURN
	}
	for _, a := range sub.Associations {
		a.Status, a.Home = rim.StatusApproved, rimHomeURN
	}
}

// TestRoundTripSamples parses each accepted ITI-41/42 sample, registers
// it, renders it as an XCA LeafClass response, validates that against the
// XSDs, parses the rendered RegistryObjectList back and wants the same
// model.
func TestRoundTripSamples(t *testing.T) {
	for file, want := range rimSampleWants() {
		if want.errContains != "" {
			continue
		}
		t.Run(file, func(t *testing.T) {
			sub, err := rimParseSample(t, file)
			if err != nil {
				t.Fatal(err)
			}
			rimRegister(sub)
			res := &rim.QueryResult{DocumentEntries: sub.DocumentEntries, Folders: sub.Folders, Associations: sub.Associations}
			if sub.SubmissionSet != nil {
				res.SubmissionSets = []*rim.SubmissionSet{sub.SubmissionSet}
			}
			out := rimRender(t, rim.RenderAdhocQueryResponse(res, rim.ReturnLeafClass, rimHome, nil), true)
			rimValidateXSD(t, out)

			list := rimFind(rimParseDoc(t, out).Root(), rim.NSRIM, "RegistryObjectList")
			back, err := rim.ParseRegistryObjectList(list)
			if err != nil {
				t.Fatalf("re-parse: %v\n%s", err, out)
			}
			checks := map[string]struct{ got, want any }{
				"document entries": {back.DocumentEntries, sub.DocumentEntries},
				"submission set":   {back.SubmissionSet, sub.SubmissionSet},
				"submission sets":  {back.SubmissionSets, sub.SubmissionSets},
				"folders":          {back.Folders, sub.Folders},
				"associations":     {back.Associations, sub.Associations},
			}
			for what, c := range checks {
				if !reflect.DeepEqual(c.got, c.want) {
					t.Errorf("%s differ after round trip:\n got %s\nwant %s", what, rimDump(c.got), rimDump(c.want))
				}
			}
		})
	}
}

// rimDump prints pointers' targets for failure messages.
func rimDump(v any) string {
	rv := reflect.ValueOf(v)
	if rv.Kind() == reflect.Slice {
		var parts []string
		for i := range rv.Len() {
			parts = append(parts, rimDump(rv.Index(i).Interface()))
		}
		return "[" + strings.Join(parts, ", ") + "]"
	}
	if rv.Kind() == reflect.Pointer && !rv.IsNil() {
		return fmt.Sprintf("%+v", rv.Elem().Interface())
	}
	return fmt.Sprintf("%+v", v)
}

func TestRenderAdhocQueryResponseStatus(t *testing.T) {
	errs := rim.RegistryErrors{{Code: rim.XDSRegistryError, Severity: rim.SeverityError, Context: "store unavailable", Location: rimHomeURN}}
	warns := rim.RegistryErrors{rim.NewWarning(rim.XDSExtraMetadataNotSaved, "slot dropped")}
	tests := map[string]struct {
		entries     int
		errs        rim.RegistryErrors
		wantStatus  string
		wantHighest string
	}{
		"results, no errors":         {entries: 2, wantStatus: rim.ResponseSuccess},
		"no results, no errors":      {entries: 0, wantStatus: rim.ResponseSuccess},
		"results and errors":         {entries: 2, errs: errs, wantStatus: rim.ResponsePartialSuccess, wantHighest: rim.SeverityError},
		"errors only":                {entries: 0, errs: errs, wantStatus: rim.ResponseFailure, wantHighest: rim.SeverityError},
		"results and warnings only":  {entries: 1, errs: warns, wantStatus: rim.ResponseSuccess, wantHighest: rim.SeverityWarning},
		"error without severity set": {entries: 0, errs: rim.RegistryErrors{{Code: rim.XDSTooManyResults, Context: "too many"}}, wantStatus: rim.ResponseFailure, wantHighest: rim.SeverityError},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			res := &rim.QueryResult{DocumentEntries: rimNorwegianResult(tc.entries).DocumentEntries}
			el := rim.RenderAdhocQueryResponse(res, rim.ReturnLeafClass, rimHome, tc.errs)
			out := rimRender(t, el, false)
			rimValidateXSD(t, out)
			if got := el.SelectAttrValue("status", ""); got != tc.wantStatus {
				t.Errorf("status = %q, want %q", got, tc.wantStatus)
			}
			rimCheckErrorList(t, el, tc.errs, tc.wantHighest)
		})
	}
}

// rimCheckErrorList checks the RegistryErrorList under el against errs.
func rimCheckErrorList(t *testing.T, el *etree.Element, errs rim.RegistryErrors, highest string) {
	t.Helper()
	list := rimFind(el, rim.NSRS, "RegistryErrorList")
	if len(errs) == 0 {
		if list != nil {
			t.Error("RegistryErrorList rendered without errors")
		}
		return
	}
	if list == nil {
		t.Fatal("no RegistryErrorList")
	}
	if got := list.SelectAttrValue("highestSeverity", ""); got != highest {
		t.Errorf("highestSeverity = %q, want %q", got, highest)
	}
	items := list.ChildElements()
	if len(items) != len(errs) {
		t.Fatalf("%d RegistryErrors, want %d", len(items), len(errs))
	}
	for i, e := range errs {
		severity := e.Severity
		if severity == "" {
			severity = rim.SeverityError
		}
		got := []string{items[i].SelectAttrValue("errorCode", ""), items[i].SelectAttrValue("codeContext", ""), items[i].SelectAttrValue("severity", ""), items[i].SelectAttrValue("location", "")}
		want := []string{string(e.Code), e.Context, severity, e.Location}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("RegistryError %d = %q, want %q", i, got, want)
		}
	}
}

func TestRenderRegistryResponse(t *testing.T) {
	tests := map[string]struct {
		errs        rim.RegistryErrors
		wantStatus  string
		wantHighest string
	}{
		"success":       {wantStatus: rim.ResponseSuccess},
		"warnings only": {errs: rim.RegistryErrors{rim.NewWarning(rim.XDSExtraMetadataNotSaved, "urn:my:company:slot not saved")}, wantStatus: rim.ResponseSuccess, wantHighest: rim.SeverityWarning},
		"error and warning": {
			errs: rim.RegistryErrors{
				rim.NewWarning(rim.XDSExtraMetadataNotSaved, "slot not saved"),
				rim.NewError(rim.XDSPatientIDDoesNotMatch, "DocumentEntry Doc1 and SubmissionSet differ in patientId"),
			},
			wantStatus: rim.ResponseFailure, wantHighest: rim.SeverityError,
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			el := rim.RenderRegistryResponse(tc.errs)
			rimValidateXSD(t, rimRender(t, el, false))
			if got, want := rim.AppendRegistryResponse(nil, tc.errs), rimRender(t, el, false); !bytes.Equal(got, want) {
				t.Fatalf("the writer wrote\n%s\nthe tree renderer\n%s", got, want)
			}
			if el.Tag != "RegistryResponse" || el.NamespaceURI() != rim.NSRS {
				t.Errorf("root is {%s}%s", el.NamespaceURI(), el.Tag)
			}
			if got := el.SelectAttrValue("status", ""); got != tc.wantStatus {
				t.Errorf("status = %q, want %q", got, tc.wantStatus)
			}
			rimCheckErrorList(t, el, tc.errs, tc.wantHighest)
		})
	}
}

func TestRenderedErrorsNeverCarryANationalID(t *testing.T) {
	errs := rim.RegistryErrors{rim.NewError(rim.XDSUnknownPatientID, "patient "+rimFNR+" unknown")}
	if out := rimRender(t, rim.RenderRegistryResponse(errs), false); bytes.Contains(out, []byte(rimFNR)) {
		t.Errorf("response carries a national id:\n%s", out)
	}
	if out := rim.AppendRegistryResponse(nil, errs); bytes.Contains(out, []byte(rimFNR)) {
		t.Errorf("written response carries a national id:\n%s", out)
	}
}

// rimReconstituteXOP replaces every xop:Include by base64 content, which
// is how an MTOM message is validated against the XSD.
func rimReconstituteXOP(t *testing.T, b []byte) []byte {
	t.Helper()
	doc := rimParseDoc(t, b)
	for _, d := range doc.FindElements("//Document") {
		for _, inc := range d.ChildElements() {
			d.RemoveChild(inc)
		}
		d.SetText(base64.StdEncoding.EncodeToString([]byte("%PDF-1.7")))
	}
	out, err := doc.WriteToBytes()
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestRenderRetrieveDocumentSetResponse(t *testing.T) {
	doc := rim.RetrievedDocument{
		HomeCommunityID:    rimHome,
		RepositoryUniqueID: "2.16.578.1.12.4.5.100.1.2",
		DocumentUniqueID:   "2.16.578.1.12.4.5.100.1.3.1",
		MimeType:           "application/pdf",
		ContentID:          "1.doc/1@kjdd",
	}
	missing := rim.RegistryErrors{{Code: rim.XDSDocumentUniqueIDError, Severity: rim.SeverityError, Context: "document not available", Location: rimHomeURN}}
	tests := map[string]struct {
		docs       []rim.RetrievedDocument
		errs       rim.RegistryErrors
		wantStatus string
	}{
		"all found":           {docs: []rim.RetrievedDocument{doc}, wantStatus: rim.ResponseSuccess},
		"some found":          {docs: []rim.RetrievedDocument{doc}, errs: missing, wantStatus: rim.ResponsePartialSuccess},
		"none found":          {errs: missing, wantStatus: rim.ResponseFailure},
		"nothing, no errors":  {wantStatus: rim.ResponseFailure},
		"found with warnings": {docs: []rim.RetrievedDocument{doc}, errs: rim.RegistryErrors{rim.NewWarning(rim.XDSRepositoryError, "slow")}, wantStatus: rim.ResponseSuccess},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			el := rim.RenderRetrieveDocumentSetResponse(tc.docs, tc.errs)
			out := rimRender(t, el, false)
			if got := rim.AppendRetrieveDocumentSetResponse(nil, tc.docs, tc.errs); !bytes.Equal(got, out) {
				t.Fatalf("the writer wrote\n%s\nthe tree renderer\n%s", got, out)
			}
			rimValidateXSD(t, rimReconstituteXOP(t, out))
			resp := rimFind(el, rim.NSRS, "RegistryResponse")
			if got := resp.SelectAttrValue("status", ""); got != tc.wantStatus {
				t.Errorf("status = %q, want %q", got, tc.wantStatus)
			}
			var drs []*etree.Element
			for _, c := range el.ChildElements() {
				if c.Tag == "DocumentResponse" && c.NamespaceURI() == rim.NSXDSB {
					drs = append(drs, c)
				}
			}
			if len(drs) != len(tc.docs) {
				t.Fatalf("%d DocumentResponses, want %d", len(drs), len(tc.docs))
			}
			for _, dr := range drs {
				checks := map[string]struct{ got, want string }{
					"home":  {rimFind(dr, rim.NSXDSB, "HomeCommunityId").Text(), rimHomeURN},
					"mime":  {rimFind(dr, rim.NSXDSB, "mimeType").Text(), "application/pdf"},
					"href":  {rimFind(dr, soap.NSXOP, "Include").SelectAttrValue("href", ""), "cid:1.doc%2F1@kjdd"},
					"docid": {rimFind(dr, rim.NSXDSB, "DocumentUniqueId").Text(), doc.DocumentUniqueID},
				}
				for what, c := range checks {
					if c.got != c.want {
						t.Errorf("%s = %q, want %q", what, c.got, c.want)
					}
				}
			}
		})
	}
}

func TestRenderedResponseFitsIntoAnEnvelope(t *testing.T) {
	env := etree.NewElement("env:Envelope")
	env.CreateAttr("xmlns:env", soap.NSSOAP12)
	body := env.CreateElement("env:Body")
	body.AddChild(rim.RenderAdhocQueryResponse(rimNorwegianResult(1), rim.ReturnLeafClass, rimHome, nil))
	rimValidateXSD(t, rimRender(t, env, false))
}

// BenchmarkRenderLeafClass20 measures an ITI-38 answer of twenty
// DocumentEntries: building the tree alone, and building plus serialising
// it (where etree allocates once per element).
func BenchmarkRenderLeafClass20(b *testing.B) {
	res := rimNorwegianResult(20)
	b.Run("render", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			rim.RenderAdhocQueryResponse(res, rim.ReturnLeafClass, rimHome, nil)
		}
	})
	b.Run("render+serialise", func(b *testing.B) {
		doc := etree.NewDocument()
		b.ReportAllocs()
		for b.Loop() {
			doc.SetRoot(rim.RenderAdhocQueryResponse(res, rim.ReturnLeafClass, rimHome, nil))
			if _, err := doc.WriteTo(io.Discard); err != nil {
				b.Fatal(err)
			}
		}
	})
}

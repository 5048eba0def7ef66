package rim_test

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"regexp"
	"sync/atomic"
	"testing"

	"github.com/beevik/etree"

	"kjdd/xds/rim"
	"kjdd/xds/soap"
)

// The writer must write exactly the bytes etree writes for the tree
// RenderAdhocQueryResponse (the oracle, rim_render_oracle_test.go) builds.
// These tests hold it to that on the golden cases, on every accepted sample
// submission and on randomised models full of what escaping gets wrong.

// rimWriter is the writer under test, with a fragment cache.
var rimWriter = rim.NewWriter(rim.WriterConfig{FragmentCacheBytes: rim.DefaultFragmentCacheBytes})

// rimRevisions hands out Revisions no other object of this test binary
// has, as the store does for the rows it writes.
var rimRevisions atomic.Int64

func rimRevision() rim.Revision { return rim.Revision{Row: rimRevisions.Add(1), Version: 1} }

// rimStored gives every object of res a Revision of its own, as if read
// from the store.
func rimStored(res *rim.QueryResult) {
	for _, d := range res.DocumentEntries {
		d.Revision = rimRevision()
	}
	for _, s := range res.SubmissionSets {
		s.Revision = rimRevision()
	}
	for _, f := range res.Folders {
		f.Revision = rimRevision()
	}
	for _, a := range res.Associations {
		a.Revision = rimRevision()
	}
}

// rimTreeBytes serialises the etree rendering, unindented.
func rimTreeBytes(t testing.TB, res *rim.QueryResult, returnType, home string, errs rim.RegistryErrors) []byte {
	t.Helper()
	return rimRender(t, rim.RenderAdhocQueryResponse(res, returnType, home, errs), false)
}

// rimCompareWriters fails when the two renderers disagree on one input.
func rimCompareWriters(t *testing.T, res *rim.QueryResult, returnType, home string, errs rim.RegistryErrors) {
	t.Helper()
	want := rimTreeBytes(t, res, returnType, home, errs)
	prefix := []byte("kept")
	got := rimWriter.AppendAdhocQueryResponse(prefix, res, returnType, home, errs)
	if !bytes.HasPrefix(got, prefix) {
		t.Fatalf("AppendAdhocQueryResponse did not append to dst")
	}
	got = got[len(prefix):]
	if !bytes.Equal(got, want) {
		i := 0
		for i < len(got) && i < len(want) && got[i] == want[i] {
			i++
		}
		lo := max(0, i-80)
		t.Fatalf("streaming renderer differs from etree at byte %d:\n got …%q\nwant …%q", i,
			got[lo:min(len(got), i+80)], want[lo:min(len(want), i+80)])
	}
}

func TestAppendAdhocQueryResponseGoldenCases(t *testing.T) {
	tests := map[string]struct {
		returnType, home, golden string
	}{
		"xca leafclass, bare home":   {rim.ReturnLeafClass, rimHome, "iti38-leafclass-xca.xml"},
		"xca objectref, urn home":    {rim.ReturnObjectRef, rimHomeURN, "iti38-objectref-xca.xml"},
		"registry leafclass no home": {rim.ReturnLeafClass, "", "iti18-leafclass.xml"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			res := rimNorwegianResult(2)
			rimCompareWriters(t, res, tc.returnType, tc.home, nil)
			// The golden file, indented as TestRenderAdhocQueryResponseGolden
			// writes it, from the streamed bytes.
			doc := rimParseDoc(t, rimWriter.AppendAdhocQueryResponse(nil, res, tc.returnType, tc.home, nil))
			doc.Indent(2)
			got, err := doc.WriteToBytes()
			if err != nil {
				t.Fatal(err)
			}
			want, err := os.ReadFile(filepath.Join("testdata", "rim", tc.golden))
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("streamed response differs from %s:\n%s", tc.golden, got)
			}
		})
	}
}

func TestAppendAdhocQueryResponseStatusCases(t *testing.T) {
	errs := rim.RegistryErrors{{Code: rim.XDSRegistryError, Severity: rim.SeverityError, Context: "store unavailable for " + rimFNR, Location: rimHomeURN}}
	tests := map[string]struct {
		res        *rim.QueryResult
		returnType string
		errs       rim.RegistryErrors
	}{
		"nil result":                 {returnType: rim.ReturnObjectRef},
		"empty result, objectref":    {res: &rim.QueryResult{}, returnType: rim.ReturnObjectRef},
		"results and errors":         {res: rimNorwegianResult(2), returnType: rim.ReturnLeafClass, errs: errs},
		"errors only":                {res: &rim.QueryResult{}, returnType: rim.ReturnLeafClass, errs: errs},
		"warnings only":              {res: rimNorwegianResult(1), returnType: rim.ReturnLeafClass, errs: rim.RegistryErrors{rim.NewWarning(rim.XDSExtraMetadataNotSaved, "slot dropped")}},
		"nil entries among errors":   {res: &rim.QueryResult{}, returnType: rim.ReturnLeafClass, errs: rim.RegistryErrors{nil, {Code: rim.XDSTooManyResults}, nil}},
		"only nil errors":            {res: &rim.QueryResult{}, returnType: rim.ReturnLeafClass, errs: rim.RegistryErrors{nil}},
		"unknown return type":        {res: rimNorwegianResult(1), returnType: "Bogus"},
		"twenty entries, leafclass":  {res: rimNorwegianResult(20), returnType: rim.ReturnLeafClass},
		"twenty entries, objectrefs": {res: rimNorwegianResult(20), returnType: rim.ReturnObjectRef},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			for _, home := range []string{"", rimHome, rimHomeURN} {
				rimCompareWriters(t, tc.res, tc.returnType, home, tc.errs)
			}
		})
	}
}

// TestAppendAdhocQueryResponseSamples renders every accepted sample
// submission, registered, both ways.
func TestAppendAdhocQueryResponseSamples(t *testing.T) {
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
			for _, rt := range []string{rim.ReturnLeafClass, rim.ReturnObjectRef} {
				rimCompareWriters(t, res, rt, rimHome, nil)
				rimCompareWriters(t, res, rt, "", nil)
			}
		})
	}
}

// TestAppendAdhocQueryResponseRandomModels renders thousands of random
// models whose strings hold markup characters, control characters, broken
// UTF-8, non-characters and astral characters, with empty and missing
// parts everywhere.
func TestAppendAdhocQueryResponseRandomModels(t *testing.T) {
	n := 3000
	if testing.Short() {
		n = 300
	}
	for seed := range uint64(n) {
		g := rimGen{r: rand.New(rand.NewPCG(seed, 0x6b6a6464))}
		res := g.result()
		rimStored(res)
		rt := rim.ReturnLeafClass
		if g.r.IntN(4) == 0 {
			rt = rim.ReturnObjectRef
		}
		home := g.pick("", "", rimHome, rimHomeURN, "urn:oid:"+rimHome+".7", "not an oid", g.str())
		errs := g.errs()
		t.Run(fmt.Sprint("seed ", seed), func(t *testing.T) {
			rimCompareWriters(t, res, rt, home, errs)
			// Again, now from the fragment cache.
			rimCompareWriters(t, res, rt, home, errs)
			// Changed objects, stored again under new Revisions as the
			// store stores an updated row, must not come from it.
			rimStored(res)
			for _, d := range res.DocumentEntries {
				d.Status += "x"
				d.Authors = append(d.Authors, rim.Author{Person: "changed"})
			}
			for _, a := range res.Associations {
				a.ExtraSlots = append(a.ExtraSlots, rim.Slot{Name: "changed"})
			}
			for _, f := range res.Folders {
				f.LastUpdateTime += "1"
			}
			for _, s := range res.SubmissionSets {
				s.Home = "urn:oid:1.2.3.4"
			}
			rimCompareWriters(t, res, rt, home, errs)
		})
	}
}

// rimGen generates random query results.
type rimGen struct{ r *rand.Rand }

// rimNasty are fragments that exercise every branch of the escaping.
var rimNasty = []string{
	"&", "<", ">", "'", `"`, "\t", "\n", "\r", "\x00", "\x01", "\x1f", "\x7f",
	"\xff", "\xc3", "\xed\xa0\x80", "\xef\xbf\xbd", "\xef\xbf\xbe", "\xef\xbf\xbf",
	"\U0001F600", "\U0010FFFF", "\u2028", "ø", "Å", "&amp;", "]]>", "?>", "--",
	"13116900216", "urn:oid:1.2.3", "2.16.578.1.12.4.1.4.1",
}

func (g rimGen) str() string {
	switch g.r.IntN(6) {
	case 0:
		return ""
	case 1:
		return fmt.Sprintf("plain value %d", g.r.IntN(1000))
	}
	var b []byte
	for range g.r.IntN(6) + 1 {
		if g.r.IntN(2) == 0 {
			b = append(b, rimNasty[g.r.IntN(len(rimNasty))]...)
		} else {
			b = append(b, byte('a'+g.r.IntN(26)))
		}
	}
	return string(b)
}

func (g rimGen) pick(options ...string) string { return options[g.r.IntN(len(options))] }

// id is a urn:uuid most of the time, and anything otherwise (derived ids
// then come from a hashed namespace).
func (g rimGen) id() string {
	if g.r.IntN(5) == 0 {
		return g.str()
	}
	return fmt.Sprintf("urn:uuid:%08x-%04x-4%03x-8%03x-%012x", g.r.Uint32(), g.r.IntN(1<<16), g.r.IntN(1<<12), g.r.IntN(1<<12), g.r.Uint64()&(1<<48-1))
}

func (g rimGen) strs() []string {
	switch g.r.IntN(4) {
	case 0:
		return nil
	case 1:
		return []string{}
	}
	out := make([]string, g.r.IntN(4)+1)
	for i := range out {
		out[i] = g.str()
	}
	return out
}

func (g rimGen) code() rim.Code {
	if g.r.IntN(5) == 0 {
		return rim.Code{}
	}
	return rim.Code{Code: g.str(), Scheme: g.str(), Display: g.str()}
}

func (g rimGen) codes() []rim.Code {
	if g.r.IntN(3) == 0 {
		return nil
	}
	out := make([]rim.Code, g.r.IntN(3))
	for i := range out {
		out[i] = g.code()
	}
	return out
}

func (g rimGen) slots() []rim.Slot {
	if g.r.IntN(2) == 0 {
		return nil
	}
	out := make([]rim.Slot, g.r.IntN(3)+1)
	for i := range out {
		out[i] = rim.Slot{Name: g.str(), Values: g.strs()}
	}
	return out
}

func (g rimGen) authors() []rim.Author {
	if g.r.IntN(3) == 0 {
		return nil
	}
	out := make([]rim.Author, g.r.IntN(3)+1)
	for i := range out {
		out[i] = rim.Author{Person: g.str(), Institutions: g.strs(), Roles: g.strs(), Specialties: g.strs(),
			Telecommunications: g.strs(), ExtraSlots: g.slots()}
	}
	return out
}

func (g rimGen) home() string {
	return g.pick("", "", "1.2.3", "urn:oid:1.2.3", "urn:oid:", "garbage&<", g.str())
}

func (g rimGen) entry() *rim.DocumentEntry {
	return &rim.DocumentEntry{
		EntryUUID: g.id(), LogicalID: g.str(), Version: g.str(), UniqueID: g.str(), PatientID: g.str(),
		ObjectType: g.pick("", rim.ObjectTypeStable, rim.ObjectTypeOnDemand, g.str()), MimeType: g.str(),
		Status: g.pick("", rim.StatusApproved, rim.StatusDeprecated, g.str()), Home: g.home(),
		Title: g.str(), Comments: g.str(),
		ClassCode: g.code(), TypeCode: g.code(), FormatCode: g.code(), HealthcareFacilityTypeCode: g.code(),
		PracticeSettingCode: g.code(), ConfidentialityCodes: g.codes(), EventCodes: g.codes(),
		Authors:      g.authors(),
		CreationTime: g.str(), ServiceStartTime: g.str(), ServiceStopTime: g.str(), LanguageCode: g.str(),
		SourcePatientID: g.str(), SourcePatientInfo: g.strs(), LegalAuthenticator: g.str(),
		Hash: g.str(), Size: []int64{0, 0, 1, -5, 1 << 40}[g.r.IntN(5)], HasSize: g.r.IntN(2) == 0,
		RepositoryUniqueID: g.str(), ReferenceIDs: g.strs(), DocumentAvailability: g.str(), URI: g.str(),
		ExtraSlots: g.slots(),
	}
}

func (g rimGen) result() *rim.QueryResult {
	res := &rim.QueryResult{}
	for range g.r.IntN(4) {
		res.DocumentEntries = append(res.DocumentEntries, g.entry())
	}
	for range g.r.IntN(2) {
		res.SubmissionSets = append(res.SubmissionSets, &rim.SubmissionSet{
			EntryUUID: g.id(), LogicalID: g.str(), UniqueID: g.str(), SourceID: g.str(), PatientID: g.str(),
			Status: g.str(), Home: g.home(), Title: g.str(), Comments: g.str(), SubmissionTime: g.str(),
			ContentTypeCode: g.code(), Authors: g.authors(), IntendedRecipients: g.strs(), ExtraSlots: g.slots(),
		})
	}
	for range g.r.IntN(2) {
		res.Folders = append(res.Folders, &rim.Folder{
			EntryUUID: g.id(), LogicalID: g.str(), UniqueID: g.str(), PatientID: g.str(), Status: g.str(),
			Home: g.home(), Title: g.str(), Comments: g.str(), LastUpdateTime: g.str(), CodeList: g.codes(),
			ExtraSlots: g.slots(),
		})
	}
	for range g.r.IntN(3) {
		res.Associations = append(res.Associations, &rim.Association{
			EntryUUID: g.id(), Type: g.str(), Source: g.id(), Target: g.id(), Status: g.str(), Home: g.home(),
			SubmissionSetStatus: g.str(), ExtraSlots: g.slots(),
		})
	}
	for range g.r.IntN(2) {
		res.ObjectRefs = append(res.ObjectRefs, rim.ObjectRef{ID: g.id(), Home: g.home()})
	}
	return res
}

func (g rimGen) errs() rim.RegistryErrors {
	if g.r.IntN(3) != 0 {
		return nil
	}
	var out rim.RegistryErrors
	for range g.r.IntN(3) + 1 {
		if g.r.IntN(6) == 0 {
			out = append(out, nil)
			continue
		}
		out = append(out, &rim.RegistryError{Code: rim.ErrorCode(g.str()), Context: g.str(),
			Severity: g.pick("", rim.SeverityError, rim.SeverityWarning, g.str()), Location: g.str()})
	}
	return out
}

// rimMessageID matches the fresh message id of an answer envelope.
var rimMessageID = regexp.MustCompile(`<wsa:MessageID>urn:uuid:[0-9a-f-]{36}</wsa:MessageID>`)

func TestAppendEnvelopeMatchesNewEnvelope(t *testing.T) {
	res := rimNorwegianResult(3)
	body := func(dst []byte) []byte {
		return rimWriter.AppendAdhocQueryResponse(dst, res, rim.ReturnLeafClass, rimHome, nil)
	}
	tests := map[string]struct {
		action, relatesTo string
		body              func([]byte) []byte
	}{
		"query answer":              {soap.ActionCrossGatewayQueryResponse, "urn:uuid:6f1e2c1a-0d4b-4c1e-9d8a-2b7c5e0f1a11", body},
		"without relatesTo":         {soap.ActionRegistryStoredQueryResponse, "", body},
		"relatesTo needing escapes": {soap.ActionCrossGatewayQueryResponse, "<id&'\"\x01\xff>", body},
		"empty action":              {"", "x", body},
		"no body":                   {soap.ActionCrossGatewayQueryResponse, "x", nil},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			var el *etree.Element
			if tc.body != nil {
				el = rimParseDoc(t, tc.body(nil)).Root()
			}
			doc := soap.NewEnvelope(tc.action, tc.relatesTo, el)
			want, err := doc.WriteToBytes()
			if err != nil {
				t.Fatal(err)
			}
			got := soap.AppendEnvelope(nil, tc.action, tc.relatesTo, tc.body)
			if len(rimMessageID.FindAll(got, -1)) != 1 {
				t.Fatalf("no single fresh wsa:MessageID in %s", got)
			}
			norm := func(b []byte) []byte { return rimMessageID.ReplaceAll(b, []byte("<wsa:MessageID/>")) }
			if !bytes.Equal(norm(got), norm(want)) {
				t.Fatalf("AppendEnvelope differs from NewEnvelope:\n got %s\nwant %s", got, want)
			}
			if tc.body != nil {
				rimValidateXSD(t, got)
			}
		})
	}
}

// FuzzAppendEscaped holds the escaping to etree's on arbitrary strings, in
// attribute values and in text.
func FuzzAppendEscaped(f *testing.F) {
	for _, s := range rimNasty {
		f.Add(s)
	}
	f.Add("Epikrise etter innleggelse & <utskrivning> \"før\" 'etter'")
	f.Fuzz(func(t *testing.T, s string) {
		res := &rim.QueryResult{DocumentEntries: []*rim.DocumentEntry{{EntryUUID: s, Title: s, Comments: s,
			ExtraSlots: []rim.Slot{{Name: s, Values: []string{s, s}}}}}}
		want := rimTreeBytes(t, res, rim.ReturnLeafClass, "", nil)
		got := rimWriter.AppendAdhocQueryResponse(nil, res, rim.ReturnLeafClass, "", nil)
		if !bytes.Equal(got, want) {
			t.Fatalf("escaping of %q differs:\n got %q\nwant %q", s, got, want)
		}
	})
}

// BenchmarkAppendLeafClass20 is BenchmarkRenderLeafClass20 for the
// streaming renderer.
func BenchmarkAppendLeafClass20(b *testing.B) {
	res := rimNorwegianResult(20)
	var buf []byte
	b.ReportAllocs()
	for b.Loop() {
		buf = rimWriter.AppendAdhocQueryResponse(buf[:0], res, rim.ReturnLeafClass, rimHome, nil)
	}
	b.SetBytes(int64(len(buf)))
}

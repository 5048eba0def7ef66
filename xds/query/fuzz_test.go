package query

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"kjdd/xds/hl7"
	"kjdd/xds/rim"
)

// sqFuzzSeeds returns the ITI-18/ITI-38 request samples (placeholders
// filled) and a few NIST stored-query files as seed corpus.
func sqFuzzSeeds(f *testing.F) []string {
	dir := filepath.Join(sqSharedDir(f), "conformance", "samples")
	entries, err := os.ReadDir(dir)
	if err != nil {
		f.Fatal(err)
	}
	var seeds []string
	for _, e := range entries {
		n := e.Name()
		if (strings.HasPrefix(n, "iti18-") || strings.HasPrefix(n, "iti38-")) && !strings.Contains(n, "-response") {
			seeds = append(seeds, substitutePlaceholders(sqReadShared(f, "conformance/samples/"+n), sqSampleValues))
		}
	}
	for _, q := range []string{"11897/classcode_scheme_mismatch/query.xml", "11897/author/query.xml", "11909/uniqueid/query4.xml", "11906/conf_code/query5.xml"} {
		seeds = append(seeds, substitutePlaceholders(sqReadShared(f, filepath.Join(nistDir, q)), sqSampleValues))
	}
	return seeds
}

func FuzzParseAdhocQueryRequest(f *testing.F) {
	for _, s := range sqFuzzSeeds(f) {
		f.Add(s)
	}
	allowed := map[rim.ErrorCode]bool{
		rim.XDSRegistryError: true, rim.XDSUnknownStoredQuery: true,
		rim.XDSStoredQueryMissingParam: true, rim.XDSStoredQueryParamNumber: true,
	}
	f.Fuzz(func(t *testing.T, text string) {
		doc := sqRoot(text)
		if doc == nil {
			return
		}
		el := sqFind(doc, rim.NSQuery, "AdhocQueryRequest")
		if el == nil {
			el = doc
		}
		q, err := ParseAdhocQueryRequest(el)
		if err != nil {
			list, ok := rim.AsRegistryErrors(err)
			if !ok || len(list) != 1 || !allowed[list[0].Code] {
				t.Fatalf("unexpected error %v (%T)", err, err)
			}
			if sqFnrRE.MatchString(err.Error()) {
				t.Fatalf("error %q carries an 11-digit number", err.Error())
			}
			return
		}
		sqCheckParsedQuery(t, q)
	})
}

// sqCheckParsedQuery checks the invariants of a successfully parsed query.
func sqCheckParsedQuery(t *testing.T, q *StoredQuery) {
	t.Helper()
	def, ok := queryDefs[q.ID]
	if !ok || def.name != q.Name {
		t.Fatalf("query %q named %q", q.ID, q.Name)
	}
	if q.ReturnType != rim.ReturnLeafClass && q.ReturnType != rim.ReturnObjectRef {
		t.Fatalf("return type %q", q.ReturnType)
	}
	p := q.Params
	if !q.IDBased() && !hl7.ValidCX(p.PatientID) {
		t.Fatalf("patient id %q is not a CX", p.PatientID)
	}
	for _, l := range [][]string{p.DocumentEntryUUIDs, p.FolderUUIDs, p.SubmissionSetUUIDs, p.UUIDs, p.DocumentEntryTypes} {
		for _, u := range l {
			if c, ok := queryUUID(u); !ok || c != u {
				t.Fatalf("uuid %q is not canonical", u)
			}
		}
	}
	for _, r := range []TimeRange{p.CreationTime, p.ServiceStartTime, p.ServiceStopTime, p.SubmissionTime, p.FolderLastUpdateTime} {
		for _, v := range []string{r.From, r.To} {
			if v != "" && !hl7.ValidDTM(v) {
				t.Fatalf("time %q is not a DTM", v)
			}
		}
	}
	codes := [][]rim.Code{p.ClassCodes, p.TypeCodes, p.PracticeSettingCodes, p.HealthcareFacilityTypeCodes, p.FormatCodes, p.ContentTypeCodes}
	codes = append(codes, p.EventCodes...)
	codes = append(codes, p.ConfidentialityCodes...)
	codes = append(codes, p.FolderCodes...)
	for _, l := range codes {
		for _, c := range l {
			if c.Code == "" || c.Scheme == "" || strings.Contains(c.Code+c.Scheme, "^") {
				t.Fatalf("code %+v", c)
			}
		}
	}
	if p.MetadataLevel != 1 && p.MetadataLevel != 2 {
		t.Fatalf("metadata level %d", p.MetadataLevel)
	}
}

func FuzzParseSlotValues(f *testing.F) {
	for _, s := range []string{
		"'17855599120^^^&2.16.578.1.12.4.1.4.1&ISO'",
		"('urn:oasis:names:tc:ebxml-regrep:StatusType:Approved')",
		"('L^^2.16.840.1.113883.5.25', 'M^^2.16.840.1.113883.5.25')",
		"'593603^^^&2.16.756.5.33.2.5.1.5.1&ISO''%20and%20611%3d611--%20",
		"20221016161616",
		"('$uuid1$', '$uuid2$')",
		"'O''Brien'",
		"(‘Emergency Department’)",
		"(2004, '2005')",
		"()",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		toks, err := parseSlotValues(raw)
		if err != nil {
			return
		}
		if len(toks) == 0 {
			t.Fatal("no tokens and no error")
		}
		parts := make([]string, 0, len(toks))
		for _, tok := range toks {
			if !tok.quoted {
				if tok.text == "" || strings.ContainsAny(tok.text, "'(), \t\r\n") {
					t.Fatalf("bare token %q", tok.text)
				}
				parts = append(parts, tok.text)
				continue
			}
			parts = append(parts, "'"+strings.ReplaceAll(tok.text, "'", "''")+"'")
		}
		again := parts[0]
		if strings.HasPrefix(strings.TrimSpace(raw), "(") {
			again = "(" + strings.Join(parts, ",") + ")"
		}
		toks2, err := parseSlotValues(again)
		if err != nil {
			t.Fatalf("re-encoded %q does not parse: %v", again, err)
		}
		if len(toks2) != len(toks) {
			t.Fatalf("round trip %q -> %q changed %d tokens to %d", raw, again, len(toks), len(toks2))
		}
		for i := range toks {
			if toks[i] != toks2[i] {
				t.Fatalf("round trip %q -> %q: token %d %+v != %+v", raw, again, i, toks[i], toks2[i])
			}
		}
	})
}

// scanQuotedByByte is scanSlotItem's quoted case as it was first written,
// byte by byte: the oracle its substring shortcut is held to.
func scanQuotedByByte(s string) (slotToken, string, error) {
	var b strings.Builder
	for i := 1; i < len(s); i++ {
		if s[i] != '\'' {
			b.WriteByte(s[i])
			continue
		}
		if i+1 < len(s) && s[i+1] == '\'' {
			b.WriteByte('\'')
			i++
			continue
		}
		return slotToken{text: b.String(), quoted: true}, s[i+1:], nil
	}
	return slotToken{}, "", errors.New("unterminated quoted string")
}

// FuzzScanQuotedItem: a quoted slot item reads the same with and without
// the shortcut for values without a doubled quote.
func FuzzScanQuotedItem(f *testing.F) {
	for _, s := range []string{"'a'", "'a''b'", "''", "''''", "'a", "'a'')", "'x', 'y')", "'O''Brien', 'z'"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if s == "" || s[0] != '\'' {
			return
		}
		got, rest, err := scanSlotItem(s)
		want, wantRest, wantErr := scanQuotedByByte(s)
		if got != want || rest != wantRest || (err == nil) != (wantErr == nil) {
			t.Fatalf("scanSlotItem(%q) = %+v %q %v; byte by byte %+v %q %v", s, got, rest, err, want, wantRest, wantErr)
		}
	})
}

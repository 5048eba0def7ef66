package consent

import (
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

func TestNormalizePatient(t *testing.T) {
	tests := map[string]struct {
		in      string
		want    string
		wantErr bool
	}{
		"ok/bare number":                {in: "13116900216", want: "13116900216"},
		"ok/typed with spaces":          {in: " 131169 00216 ", want: "13116900216"},
		"ok/CX fødselsnummer":           {in: "13116900216^^^&2.16.578.1.12.4.1.4.1&ISO", want: "13116900216"},
		"ok/CX D-number":                {in: "41116900216^^^&2.16.578.1.12.4.1.4.2&ISO", want: "41116900216"},
		"ok/CX escaped as in XML":       {in: "17855599120^^^&amp;2.16.578.1.12.4.1.4.1&amp;ISO", want: "17855599120"},
		"ok/CX with urn:oid: in the HD": {in: "17855599120^^^&urn:oid:2.16.578.1.12.4.1.4.1&ISO", want: "17855599120"},
		"ok/CX with identifier type":    {in: "17855599120^^^&2.16.578.1.12.4.1.4.1&ISO^NNNOR", want: "17855599120"},
		"fail/empty":                    {in: "", wantErr: true},
		"fail/ten digits":               {in: "1311690021", wantErr: true},
		"fail/twelve digits":            {in: "131169002160", wantErr: true},
		"fail/letters":                  {in: "1311690021a", wantErr: true},
		"fail/unicode digits":           {in: "１３１１６９００２１６", wantErr: true},
		"fail/CX FH-number authority":   {in: "13116900216^^^&2.16.578.1.12.4.1.4.3&ISO", wantErr: true},
		"fail/CX unknown authority":     {in: "13116900216^^^&2.16.578.1.12.4.1.7.3.2.1&ISO", wantErr: true},
		"fail/CX without ISO":           {in: "13116900216^^^&2.16.578.1.12.4.1.4.1", wantErr: true},
		"fail/CX with CX.2":             {in: "13116900216^1^^&2.16.578.1.12.4.1.4.1&ISO", wantErr: true},
		"fail/CX with bad number":       {in: "1311690021^^^&2.16.578.1.12.4.1.4.1&ISO", wantErr: true},
		"fail/SQL injection sample":     {in: "' OR 1=1 --^^^&2.16.578.1.12.4.1.4.1&ISO", wantErr: true},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got, err := NormalizePatient(tc.in)
			if tc.wantErr {
				if err == nil {
					t.Fatalf("NormalizePatient(%q) = %q, want error", tc.in, got)
				}
				if !errors.Is(err, ErrInvalid) {
					t.Errorf("error %v does not wrap ErrInvalid", err)
				}
				if d := digitsOf(tc.in); len(d) >= 6 && strings.Contains(err.Error(), d[:6]) {
					t.Errorf("error %q quotes the input", err)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("NormalizePatient(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
			}
		})
	}
}

func digitsOf(s string) string {
	var b strings.Builder
	for _, r := range s {
		if r >= '0' && r <= '9' {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// cxPattern finds XDS patient ids in the real messages of the conformance
// corpus.
var cxPattern = regexp.MustCompile(`[^\s<>"']*\^\^\^&(?:amp;)?[0-9.]+&(?:amp;)?ISO`)

// conformancePatientIDs returns every CX patient id in the samples.
func conformancePatientIDs(t testing.TB) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(sharedDir(t), "conformance", "samples", "*"))
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	var out []string
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range cxPattern.FindAllString(string(b), -1) {
			if !seen[m] {
				seen[m] = true
				out = append(out, m)
			}
		}
	}
	return out
}

func TestNormalizePatientConformanceSamples(t *testing.T) {
	ids := conformancePatientIDs(t)
	if len(ids) == 0 {
		t.Fatal("no patient ids found in conformance/samples")
	}
	national := 0
	for _, id := range ids {
		got, err := NormalizePatient(id)
		cx1 := id[:strings.IndexByte(id, '^')]
		isNational := (strings.Contains(id, "&"+OIDFodselsnummer+"&") || strings.Contains(id, ";"+OIDFodselsnummer+"&") ||
			strings.Contains(id, "&"+OIDDNummer+"&") || strings.Contains(id, ";"+OIDDNummer+"&")) && validPatient(cx1)
		if isNational {
			national++
			if err != nil || got != cx1 {
				t.Errorf("NormalizePatient(sample %q) = %q, %v; want %q", id, got, err, cx1)
			}
			continue
		}
		if err == nil {
			t.Errorf("NormalizePatient(sample %q) = %q, want error (not a national id)", id, got)
		}
	}
	if national == 0 {
		t.Error("no fødselsnummer/D-number patient id among the samples")
	}
	t.Logf("%d patient ids in the samples, %d national", len(ids), national)
}

// FuzzNormalizePatient: no panic; whatever is accepted is 11 ASCII digits
// that occur in the input.
func FuzzNormalizePatient(f *testing.F) {
	for _, id := range conformancePatientIDs(f) {
		f.Add(id)
	}
	f.Add("131169 00216")
	f.Add("13116900216^^^&urn:oid:2.16.578.1.12.4.1.4.1&ISO^NNNOR")
	f.Fuzz(func(t *testing.T, s string) {
		got, err := NormalizePatient(s)
		if err != nil {
			return
		}
		if !validPatient(got) {
			t.Fatalf("accepted %q as %q", s, got)
		}
		if !strings.Contains(strings.ReplaceAll(strings.ReplaceAll(s, " ", ""), "\u00a0", ""), got) {
			t.Fatalf("result %q does not come from input %q", got, s)
		}
	})
}

package devdata

import (
	"bytes"
	"context"
	"crypto/sha1"
	"encoding/hex"
	"fmt"
	"io"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"testing"

	"kjdd/adapter/registry"
	"kjdd/adapter/store"
	"kjdd/xds/hl7"
	"kjdd/xds/rim"
	"kjdd/xds/validate"
)

func TestSeedTwice(t *testing.T) {
	ctx := context.Background()
	st, err := store.Open(ctx, "sqlite:"+filepath.Join(t.TempDir(), "kjdd.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	reg := registry.New(st, registry.Options{
		HomeCommunityID:    "2.16.578.1.12.4.5.100.1",
		RepositoryUniqueID: "2.16.578.1.12.4.5.100.1.2",
		Validation:         validate.DefaultOptions(validate.ITI41),
	}, nil, nil)

	wantPerPatient := map[string]int{"13116900216": 5, "12119000465": 3, "08077000292": 3}
	var first string
	for round := 1; round <= 2; round++ {
		if err := Seed(ctx, reg); err != nil {
			t.Fatalf("seed %d: %v", round, err)
		}
		if n, err := st.CountDocumentEntries(ctx); err != nil || n != 11 {
			t.Fatalf("seed %d: %d entries, %v; want 11", round, n, err)
		}
		var state bytes.Buffer
		nors := map[string]int{}
		for _, fnr := range Patients {
			pid := fnr + "^^^&" + hl7.OIDFNR + "&ISO"
			des, err := st.DocumentEntriesByPatient(ctx, pid, []string{rim.StatusApproved})
			if err != nil {
				t.Fatal(err)
			}
			if len(des) != wantPerPatient[fnr] {
				t.Fatalf("seed %d: %d documents for a demo patient, want %d", round, len(des), wantPerPatient[fnr])
			}
			sets, err := st.SubmissionSetsByPatient(ctx, pid, nil)
			if err != nil || len(sets) != 1 {
				t.Fatalf("seed %d: %d submission sets, %v; want 1", round, len(sets), err)
			}
			classes := map[string]bool{}
			for _, de := range des {
				fmt.Fprintf(&state, "%s %s %s\n", de.EntryUUID, de.UniqueID, de.Hash)
				classes[de.ClassCode.Code] = true
				for _, c := range de.ConfidentialityCodes {
					if c.Code == "NORS" && c.Scheme == volven9603 {
						nors[fnr]++
					}
				}
				if !slices.ContainsFunc(de.ConfidentialityCodes, func(c rim.Code) bool { return c == normal }) {
					t.Fatalf("document %s lacks confidentialityCode N", de.UniqueID)
				}
				checkContent(t, st, de)
			}
			if len(classes) < 2 {
				t.Fatalf("documents of a demo patient span only classes %v", classes)
			}
		}
		if len(nors) != 1 || nors[SperretPatient] != 1 {
			t.Fatalf("NORS documents per patient %v, want exactly one for the sperret patient", nors)
		}
		if round == 1 {
			first = state.String()
		} else if state.String() != first {
			t.Fatalf("second seed changed the registry:\n%s\nvs\n%s", first, state.String())
		}
	}
}

// checkContent reads a seeded document back and checks it against its
// metadata: hash, size, and a well-formed PDF where it claims to be one.
func checkContent(t *testing.T, st *store.Store, de *rim.DocumentEntry) {
	t.Helper()
	rc, err := st.OpenContent(context.Background(), de.UniqueID)
	if err != nil {
		t.Fatalf("content of %s: %v", de.UniqueID, err)
	}
	b, err := io.ReadAll(rc)
	_ = rc.Close()
	if err != nil {
		t.Fatal(err)
	}
	sum := sha1.Sum(b)
	if hex.EncodeToString(sum[:]) != de.Hash || int64(len(b)) != de.Size {
		t.Fatalf("content of %s does not match its hash and size", de.UniqueID)
	}
	if de.MimeType == "application/pdf" {
		if err := checkPDF(b); err != nil {
			t.Fatalf("%s: %v", de.UniqueID, err)
		}
	}
}

func TestSimplePDF(t *testing.T) {
	tests := map[string]struct {
		title string
		lines []string
		want  string // must appear in the content stream
	}{
		"ascii":                {title: "Epikrise", lines: []string{"Ingen funn."}, want: "(Ingen funn.) Tj"},
		"norwegian letters":    {title: "Røntgen", lines: []string{"Blåbær og ørret, ÆØÅ"}, want: `(Bl\345b\346r og \370rret, \306\330\305) Tj`},
		"delimiters escaped":   {title: "Notat (utkast)", lines: []string{`a\b`}, want: `(Notat \(utkast\)) Tj`},
		"outside latin-1":      {title: "€ ≥", lines: nil, want: "(? ?) Tj"},
		"no lines":             {title: "Tom", lines: nil, want: "(Tom) Tj"},
		"micro sign in a unit": {title: "Kreatinin", lines: []string{"71 µmol/L"}, want: `(71 \265mol/L) Tj`},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			pdf := simplePDF(tc.title, tc.lines)
			if err := checkPDF(pdf); err != nil {
				t.Fatal(err)
			}
			if !bytes.Contains(pdf, []byte(tc.want)) {
				t.Fatalf("content lacks %q:\n%s", tc.want, pdf)
			}
		})
	}
}

var (
	xrefEntry = regexp.MustCompile(`(?m)^(\d{10}) 00000 n $`)
	startXref = regexp.MustCompile(`startxref\n(\d+)\n%%EOF\n$`)
	lengthRE  = regexp.MustCompile(`<< /Length (\d+) >>\nstream\n`)
)

// checkPDF checks the structure a PDF reader relies on: header, every xref
// offset pointing at its object, startxref pointing at the xref table, and
// the stream length matching the stream.
func checkPDF(b []byte) error {
	if !bytes.HasPrefix(b, []byte("%PDF-1.4\n")) {
		return fmt.Errorf("no PDF header")
	}
	m := startXref.FindSubmatch(b)
	if m == nil {
		return fmt.Errorf("no startxref trailer")
	}
	x, _ := strconv.Atoi(string(m[1]))
	if x >= len(b) || !bytes.HasPrefix(b[x:], []byte("xref\n")) {
		return fmt.Errorf("startxref %d does not point at the xref table", x)
	}
	entries := xrefEntry.FindAllSubmatch(b[x:], -1)
	if len(entries) != 5 {
		return fmt.Errorf("%d xref entries, want 5", len(entries))
	}
	for i, e := range entries {
		off, _ := strconv.Atoi(string(e[1]))
		if want := fmt.Sprintf("%d 0 obj\n", i+1); off >= len(b) || !bytes.HasPrefix(b[off:], []byte(want)) {
			return fmt.Errorf("xref entry %d (offset %d) does not point at %q", i+1, off, want)
		}
	}
	lm := lengthRE.FindSubmatchIndex(b)
	if lm == nil {
		return fmt.Errorf("no content stream")
	}
	n, _ := strconv.Atoi(string(b[lm[2]:lm[3]]))
	if end := lm[1] + n; end > len(b) || !bytes.HasPrefix(b[end:], []byte("endstream")) {
		return fmt.Errorf("stream /Length %d does not end at endstream", n)
	}
	return nil
}

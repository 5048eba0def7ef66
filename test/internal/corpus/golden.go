package corpus

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/beevik/etree"

	"kjdd/test/internal/harness"
)

var update = flag.Bool("update", false, "rewrite the golden request/response files under testdata/golden")

// Volatile values that differ per run, replaced in golden files by stable
// names numbered in order of appearance (so that "the same id" stays
// visible): generated UUIDs, OIDs under 2.25, patients of the NIST runs,
// timestamps of now.
// Times are not numbered: which of them fall in the same second varies.
var volatile = []struct {
	re       *regexp.Regexp
	name     string
	numbered bool
}{
	{regexp.MustCompile(`urn:uuid:[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}`), "urn:uuid:UUID-", true},
	{regexp.MustCompile(`\b2\.25\.[0-9]{10,}`), "2.25.OID-", true},
	{regexp.MustCompile(`\b[0-9a-f]{12}\^\^\^`), "PATIENT-", true},
	{regexp.MustCompile(`\b\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)?`), "DATETIME", false},
	{regexp.MustCompile(`\b20(2[6-9]|[3-9]\d)\d{10}\b`), "TIME", false},
}

var unsafeName = regexp.MustCompile(`[^A-Za-z0-9._-]+`)

// normalise pretty-prints an XML message and replaces volatile values:
// first the literals recorded in seen, then the volatile patterns.
func normalise(doc []byte, seen map[string]string) []byte {
	d := etree.NewDocument()
	out := doc
	if err := d.ReadFromBytes(doc); err == nil {
		d.Indent(2)
		if b, err := d.WriteToBytes(); err == nil {
			out = b
		}
	}
	s := string(out)
	for k, n := range seen {
		if lit, ok := strings.CutPrefix(k, "literal"); ok && lit != "" {
			s = strings.ReplaceAll(s, lit, n)
		}
	}
	for _, v := range volatile {
		if !v.numbered {
			s = v.re.ReplaceAllString(s, v.name)
			continue
		}
		s = v.re.ReplaceAllStringFunc(s, func(m string) string {
			key := v.name + m
			if n, ok := seen[key]; ok {
				return n
			}
			count := 0
			for k := range seen {
				if strings.HasPrefix(k, v.name) {
					count++
				}
			}
			n := fmt.Sprintf("%s%d", v.name, count+1)
			if v.name == "PATIENT-" {
				n += "^^^"
			}
			seen[key] = n
			return n
		})
	}
	return []byte(s)
}

// Golden compares (or with -update writes) the normalised request (unless
// nil) and response of a case under testdata/golden/<transaction>/<name>
// of the calling test's package.
//
// literals maps run-dependent values the test itself chose (such as the
// $now$ of a query) to the stable names they are written as.
func Golden(t *testing.T, transaction, name, contentType string, request []byte, resp *harness.Response, literals map[string]string) {
	t.Helper()
	name = unsafeName.ReplaceAllString(name, "-")
	seen := map[string]string{}
	for v, n := range literals {
		seen["literal"+v] = n
	}
	req := request
	if m, err := harness.ParseMessage(contentType, request); err == nil {
		req = m.Root // the envelope (XOP resolved); MIME boundaries are volatile
	}
	files := map[string][]byte{name + ".response.xml": normalise(resp.Root, seen)}
	if request != nil {
		files[name+".request.xml"] = normalise(req, seen)
	}
	dir := filepath.Join("testdata", "golden", transaction)
	for file, got := range files {
		path := filepath.Join(dir, file)
		if *update {
			if err := os.MkdirAll(dir, 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, got, 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		want, err := os.ReadFile(path)
		if err != nil {
			t.Errorf("golden file %s missing (run go test with -update in this package): %v", path, err)
			continue
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s differs from the golden file (run with -update if the change is intended):\n%s", path, firstDiff(want, got))
		}
	}
}

func firstDiff(want, got []byte) string {
	wl, gl := strings.Split(string(want), "\n"), strings.Split(string(got), "\n")
	for i := 0; i < len(wl) || i < len(gl); i++ {
		var w, g string
		if i < len(wl) {
			w = wl[i]
		}
		if i < len(gl) {
			g = gl[i]
		}
		if w != g {
			return fmt.Sprintf("line %d:\n  want: %s\n  got:  %s", i+1, clip(w), clip(g))
		}
	}
	return "(no line differs)"
}

func clip(s string) string {
	if len(s) > 300 {
		return s[:300] + "…"
	}
	return s
}

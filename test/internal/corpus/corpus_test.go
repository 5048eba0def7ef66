package corpus

import (
	"os"
	"strings"
	"testing"

	"kjdd/test/testkit/paths"
)

// The table and the golden normaliser are checked here, without a server;
// the replays themselves run in the packages of their surface (test/xca,
// test/xds), each for its own transactions.

func TestCorpusIsListed(t *testing.T) {
	dir, err := paths.Conformance("samples")
	if err != nil {
		t.Fatal(err)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	listed := map[string]int{}
	for _, s := range samples {
		listed[s.file]++
	}
	for _, e := range entries {
		name := e.Name()
		t.Run(name, func(t *testing.T) {
			if listed[name] != 1 {
				t.Fatalf("listed %d times in the samples table, want once", listed[name])
			}
		})
		delete(listed, name)
	}
	for name := range listed {
		t.Errorf("table lists %s, which is not in the corpus", name)
	}
	for _, s := range samples {
		if got := classify(s.file); got != s.kind {
			t.Errorf("%s: table says %s, name says %s", s.file, s.kind, got)
		}
		if s.kind == kindRequest && (s.skip != "" || (s.profile != ihe && s.profile != norway)) {
			t.Errorf("%s: requests run under ihe or norway, unskipped", s.file)
		}
		if s.kind != kindRequest && s.skip == "" {
			t.Errorf("%s: non-request without a skip reason", s.file)
		}
		if strings.Contains(s.file, "pjd") != (s.profile == norway) && s.kind == kindRequest {
			t.Errorf("%s: pjd samples run under norway, others under ihe", s.file)
		}
		flagged := strings.Contains(s.file, "-INVALID") || strings.Contains(s.file, "-NEGATIVE") || strings.Contains(s.file, "-INCONSISTENT")
		if flagged && s.kind == kindRequest && s.why == "" {
			t.Errorf("%s: flagged sample needs the reason it is flagged", s.file)
		}
	}
}

// classify tells request, response and ATNA samples apart by name.
func classify(name string) kind {
	switch {
	case strings.HasPrefix(name, "atna-"):
		return kindATNA
	case strings.Contains(name, "-response"):
		return kindResponse
	default:
		return kindRequest
	}
}

func TestSkippedSamples(t *testing.T) {
	for _, s := range samples {
		if s.skip == "" {
			continue
		}
		t.Run(s.file, func(t *testing.T) { t.Skip(s.skip) })
	}
}

func TestNormalise(t *testing.T) {
	tests := map[string]struct {
		in, want string
	}{
		"uuids numbered by first appearance": {
			in:   `<a x="urn:uuid:0a1b2c3d-0000-4000-8000-000000000001"><b>urn:uuid:0a1b2c3d-0000-4000-8000-000000000002</b><c>urn:uuid:0a1b2c3d-0000-4000-8000-000000000001</c></a>`,
			want: "<a x=\"urn:uuid:UUID-1\">\n  <b>urn:uuid:UUID-2</b>\n  <c>urn:uuid:UUID-1</c>\n</a>\n",
		},
		"oids patients and times": {
			in:   `<a p="abcdef012345^^^&amp;1.2&amp;ISO" u="2.25.123456789012345" t="20261121233601" d="2026-11-21T23:36:01Z" old="20041224"/>`,
			want: "<a p=\"PATIENT-1^^^&amp;1.2&amp;ISO\" u=\"2.25.OID-1\" t=\"TIME\" d=\"DATETIME\" old=\"20041224\"/>\n",
		},
		"not xml kept as is": {in: "\x00bytes", want: "\x00bytes"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if got := string(normalise([]byte(tc.in), map[string]string{})); got != tc.want {
				t.Fatalf("got %q, want %q", got, tc.want)
			}
		})
	}
}

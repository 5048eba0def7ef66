package soap

import (
	"bytes"
	"encoding/xml"
	"io"
	"strings"
	"testing"

	"kjdd/xds/internal/xdstest"
)

// TestLimitsOrDefaults checks that unset limits take the defaults and that
// the in-memory threshold never exceeds the part limit.
func TestLimitsOrDefaults(t *testing.T) {
	tests := map[string]struct {
		in, want Limits
	}{
		"zero is the defaults": {in: Limits{}, want: DefaultLimits()},
		"negative is the defaults": {
			in:   Limits{MaxBodyBytes: -1, MaxDepth: -1, MaxElements: -1, MaxParts: -1, MaxPartBytes: -1, MemoryPartBytes: -1},
			want: DefaultLimits()},
		"set fields kept, spool dir kept": {
			in:   Limits{MaxBodyBytes: 10, MaxDepth: 5},
			want: Limits{MaxBodyBytes: 10, MaxDepth: 5, MaxElements: DefaultMaxElements, MaxParts: DefaultMaxParts, MaxPartBytes: DefaultMaxPartBytes, MemoryPartBytes: DefaultMemoryPartBytes}},
		"memory threshold clipped to the part limit": {
			in:   Limits{MaxPartBytes: 1000},
			want: Limits{MaxBodyBytes: DefaultMaxBodyBytes, MaxDepth: DefaultMaxDepth, MaxElements: DefaultMaxElements, MaxParts: DefaultMaxParts, MaxPartBytes: 1000, MemoryPartBytes: 1000}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if got := tc.in.orDefaults(); got != tc.want {
				t.Errorf("got %+v, want %+v", got, tc.want)
			}
		})
	}
}

// TestDefaultLimitsFitCorpus backs the reasons given in DefaultLimits: the
// real messages use at most a quarter of the depth limit and a hundredth
// of the element limit, and the largest is far under the body limit.
func TestDefaultLimitsFitCorpus(t *testing.T) {
	lim := DefaultLimits()
	for _, name := range corpusFiles(t) {
		data := xdstest.ReadSample(t, name)
		if strings.HasSuffix(name, ".txt") {
			c := loadCapture(t, name)
			_, after, _ := bytes.Cut(c.Body, []byte("\n\n"))
			data, _, _ = bytes.Cut(after, []byte("\n--"))
		}
		depth, elements := xmlShape(t, repairUTF8(data))
		if depth > lim.MaxDepth/4 || elements > lim.MaxElements/100 || int64(len(data)) > lim.MaxBodyBytes/1000 {
			t.Errorf("%s: depth %d, %d elements, %d bytes: the default limits leave too little headroom", name, depth, elements, len(data))
		}
	}
}

// xmlShape measures the nesting depth and element count of an XML text.
func xmlShape(t *testing.T, data []byte) (maxDepth, elements int) {
	dec := xml.NewDecoder(bytes.NewReader(data))
	dec.Strict = false
	depth := 0
	for {
		tok, err := dec.RawToken()
		if err == io.EOF {
			return maxDepth, elements
		}
		if err != nil {
			t.Fatalf("%v", err)
		}
		switch tok.(type) {
		case xml.StartElement:
			depth++
			elements++
			maxDepth = max(maxDepth, depth)
		case xml.EndElement:
			depth--
		}
	}
}

package httpapi

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"kjdd/adapter/access"
	"kjdd/test/testkit/fixture"
	"kjdd/xds/query"
	"kjdd/xds/rim"
	"kjdd/xds/soap"
)

var messageIDElement = regexp.MustCompile(`<wsa:MessageID>[^<]*</wsa:MessageID>`)

// TestQueryAnswerIsTheWritersBytes answers ITI-38 and ITI-18 queries
// through the handler and wants, byte for byte (but for the fresh message
// id), what a writer without a fragment cache gives for the same result in
// an envelope, with the same headers. Each query is asked twice, the second
// time from the store's and the writer's caches. (xds holds the writer to
// the tree renderer, its oracle.)
func TestQueryAnswerIsTheWritersBytes(t *testing.T) {
	ctx := context.Background()
	var entries []*rim.DocumentEntry
	for i := range 5 {
		e := fixture.DocumentEntry(i, benchPatient, benchRepo)
		e.Title = fmt.Sprintf("Epikrise & <vurdering> \"%d\" 'før'", i)
		entries = append(entries, e)
	}
	h, reg := openWorld(t, entries, rim.NewWriter(rim.WriterConfig{FragmentCacheBytes: rim.DefaultFragmentCacheBytes}))
	uncached := rim.NewWriter(rim.WriterConfig{})

	iti18 := strings.Replace(benchFindDocuments, soap.ActionCrossGatewayQuery, soap.ActionRegistryStoredQuery, 1)
	tests := map[string]struct {
		path, body, action string
		tx                 access.Transaction
		home               string
	}{
		"ITI-38 LeafClass":  {"/xca", benchFindDocuments, soap.ActionCrossGatewayQueryResponse, access.ITI38, benchHome},
		"ITI-38 ObjectRef":  {"/xca", strings.Replace(benchFindDocuments, `returnType="LeafClass"`, `returnType="ObjectRef"`, 1), soap.ActionCrossGatewayQueryResponse, access.ITI38, benchHome},
		"ITI-18 LeafClass":  {"/xds/registry", iti18, soap.ActionRegistryStoredQueryResponse, access.ITI18, ""},
		"ITI-38 no results": {"/xca", strings.Replace(benchFindDocuments, "13116900216", "12119000465", 1), soap.ActionCrossGatewayQueryResponse, access.ITI38, benchHome},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			m, err := soap.ReadMessage(strings.NewReader(tc.body), soap.ContentTypeSOAP, soap.DefaultLimits())
			if err != nil {
				t.Fatal(err)
			}
			q, err := query.ParseAdhocQueryRequest(m.BodyRoot)
			if err != nil {
				t.Fatal(err)
			}
			res, err := reg.Query(ctx, access.Credentials{Transaction: tc.tx}, q)
			if err != nil {
				t.Fatal(err)
			}
			want := soap.AppendEnvelope(nil, tc.action, m.MessageID, func(dst []byte) []byte {
				return uncached.AppendAdhocQueryResponse(dst, res, q.ReturnType, tc.home, nil)
			})
			for round := range 2 {
				req := httptest.NewRequest(http.MethodPost, tc.path, strings.NewReader(tc.body))
				req.Header.Set("Content-Type", "application/soap+xml; charset=UTF-8")
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, req)
				got := rec.Body.Bytes()
				if rec.Code != http.StatusOK {
					t.Fatalf("round %d: status %d: %s", round, rec.Code, got)
				}
				if ct := rec.Header().Get("Content-Type"); ct != soap.SOAPContentType(tc.action) {
					t.Errorf("round %d: Content-Type %q", round, ct)
				}
				if cl := rec.Header().Get("Content-Length"); cl != strconv.Itoa(len(got)) {
					t.Errorf("round %d: Content-Length %q for %d bytes", round, cl, len(got))
				}
				norm := func(b []byte) []byte { return messageIDElement.ReplaceAll(b, []byte("<wsa:MessageID/>")) }
				if !bytes.Equal(norm(got), norm(want)) {
					t.Fatalf("round %d: answer differs from the writer's:\n got %s\nwant %s", round, got, want)
				}
			}
		})
	}
}

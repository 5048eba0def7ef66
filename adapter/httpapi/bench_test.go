package httpapi

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"kjdd/adapter/access"
	"kjdd/adapter/registry"
	"kjdd/adapter/store"
	"kjdd/test/testkit/fixture"
	"kjdd/xds/rim"
	"kjdd/xds/soap"
)

const (
	benchHome    = "2.16.578.1.12.4.5.100.1"
	benchRepo    = "2.16.578.1.12.4.5.100.1.2"
	benchPatient = "13116900216^^^&2.16.578.1.12.4.1.4.1&ISO"
)

const benchFindDocuments = `<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope" xmlns:a="http://www.w3.org/2005/08/addressing">
<s:Header><a:Action s:mustUnderstand="1">urn:ihe:iti:2007:CrossGatewayQuery</a:Action><a:MessageID>urn:uuid:6f1e2c1a-0d4b-4c1e-9d8a-2b7c5e0f1a11</a:MessageID></s:Header>
<s:Body><query:AdhocQueryRequest xmlns:query="urn:oasis:names:tc:ebxml-regrep:xsd:query:3.0" xmlns:rim="urn:oasis:names:tc:ebxml-regrep:xsd:rim:3.0">
<query:ResponseOption returnType="LeafClass" returnComposedObjects="true"/>
<rim:AdhocQuery id="urn:uuid:14d4debf-8f97-4251-9a74-a90016b0af0d">
<rim:Slot name="$XDSDocumentEntryPatientId"><rim:ValueList><rim:Value>'13116900216^^^&amp;2.16.578.1.12.4.1.4.1&amp;ISO'</rim:Value></rim:ValueList></rim:Slot>
<rim:Slot name="$XDSDocumentEntryStatus"><rim:ValueList><rim:Value>('urn:oasis:names:tc:ebxml-regrep:StatusType:Approved')</rim:Value></rim:ValueList></rim:Slot>
</rim:AdhocQuery></query:AdhocQueryRequest></s:Body></s:Envelope>`

// BenchmarkITI38FindDocuments20 is the whole ITI-38 path in process: read
// the SOAP request, query SQLite for a patient with 20 entries, render and
// write the LeafClass answer. Authentication and sperring are the open
// gate here; their costs are measured in helseid and consent.
func BenchmarkITI38FindDocuments20(b *testing.B) {
	var entries []*rim.DocumentEntry
	for i := range 20 {
		entries = append(entries, fixture.DocumentEntry(i, benchPatient, benchRepo))
	}
	for i := 20; i < 1020; i++ {
		entries = append(entries, fixture.DocumentEntry(i, fmt.Sprintf("%011d^^^&2.16.578.1.12.4.1.4.1&ISO", i), benchRepo))
	}
	h, _ := openWorld(b, entries, rim.NewWriter(rim.WriterConfig{FragmentCacheBytes: rim.DefaultFragmentCacheBytes}))
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		req := httptest.NewRequest(http.MethodPost, "/xca", strings.NewReader(benchFindDocuments))
		req.Header.Set("Content-Type", "application/soap+xml; charset=UTF-8")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK || strings.Count(rec.Body.String(), "<ExtrinsicObject ") != 20 {
			b.Fatalf("status %d, body %.300s", rec.Code, rec.Body.String())
		}
	}
}

// BenchmarkITI38FindDocuments20Cold is BenchmarkITI38FindDocuments20 without
// the help of the caches: 400 patients of 20 entries are asked in turn,
// more than the renderer's fragment cache holds, so every answer is
// rendered anew (a cyclic pattern is the worst case of an LRU); with the
// store's object cache disabled every entry is also decoded anew.
func BenchmarkITI38FindDocuments20Cold(b *testing.B) {
	const patients = 400
	for name, opts := range map[string][]store.Option{
		"decoded objects cached": nil,
		"nothing cached":         {store.WithObjectCache(0)},
	} {
		b.Run(name, func(b *testing.B) {
			var entries []*rim.DocumentEntry
			bodies := make([]string, patients)
			for p := range patients {
				fnr := fmt.Sprintf("%011d", 20_000_000_000+p)
				for i := range 20 {
					entries = append(entries, fixture.DocumentEntry(p*20+i, fnr+"^^^&2.16.578.1.12.4.1.4.1&ISO", benchRepo))
				}
				bodies[p] = strings.Replace(benchFindDocuments, "13116900216", fnr, 1)
			}
			h, _ := openWorld(b, entries, rim.NewWriter(rim.WriterConfig{FragmentCacheBytes: rim.DefaultFragmentCacheBytes}), opts...)
			b.ReportAllocs()
			b.ResetTimer()
			n := 0
			for b.Loop() {
				req := httptest.NewRequest(http.MethodPost, "/xca", strings.NewReader(bodies[n%patients]))
				n++
				req.Header.Set("Content-Type", "application/soap+xml; charset=UTF-8")
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, req)
				if rec.Code != http.StatusOK || strings.Count(rec.Body.String(), "<ExtrinsicObject ") != 20 {
					b.Fatalf("status %d, body %.300s", rec.Code, rec.Body.String())
				}
			}
		})
	}
}

// openWorld is the in-process world of the handler tests and benchmarks: a
// SQLite store holding entries, the registry over it behind the open gate,
// and the handler with writer (nil: none).
func openWorld(tb testing.TB, entries []*rim.DocumentEntry, writer *rim.Writer, opts ...store.Option) (http.Handler, *registry.Registry) {
	tb.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, "sqlite:"+filepath.Join(tb.TempDir(), "world.db"), opts...)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = st.Close() })
	if err := st.BulkInsertDocumentEntries(ctx, entries); err != nil {
		tb.Fatal(err)
	}
	reg := registry.New(st, registry.Options{HomeCommunityID: benchHome, RepositoryUniqueID: benchRepo},
		nil, access.Compose(access.Open{}, access.ShowAll{}))
	h := New(Options{Registry: reg, Limits: soap.DefaultLimits(), Writer: writer, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	return h, reg
}

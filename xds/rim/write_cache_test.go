package rim

import (
	"bytes"
	"fmt"
	"sync"
	"testing"

	"github.com/beevik/etree"

	"kjdd/internal/checked"
)

// TestFragmentKeyedByRevision: a fragment is reused for the same stored
// version of an object only, for the same home; an object without a
// Revision is rendered afresh every time; and in checked builds an object
// changed under its Revision is caught at its next reuse instead of being
// answered with its old XML.
func TestFragmentKeyedByRevision(t *testing.T) {
	entry := func(title string, r Revision) *DocumentEntry {
		return &DocumentEntry{Revision: r, EntryUUID: "urn:uuid:00000000-0000-4000-8000-000000000001", UniqueID: "1.2.3",
			PatientID: "p", Status: "s", Title: title, ClassCode: Code{Code: "c", Scheme: "s"}}
	}
	oracle := func(d *DocumentEntry, home string) []byte {
		t.Helper()
		doc := etree.NewDocument()
		doc.SetRoot(RenderAdhocQueryResponse(&QueryResult{DocumentEntries: []*DocumentEntry{d}}, ReturnLeafClass, home, nil))
		b, err := doc.WriteToBytes()
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	w := NewWriter(WriterConfig{FragmentCacheBytes: DefaultFragmentCacheBytes})
	write := func(d *DocumentEntry, home string) []byte {
		return w.AppendAdhocQueryResponse(nil, &QueryResult{DocumentEntries: []*DocumentEntry{d}}, ReturnLeafClass, home, nil)
	}
	cases := []struct {
		name string
		obj  *DocumentEntry
		home string
	}{
		{"first version", entry("one", Revision{Row: 1, Version: 10}), "1.2.3"},
		{"first version again", entry("one", Revision{Row: 1, Version: 10}), "1.2.3"},
		{"first version, another home", entry("one", Revision{Row: 1, Version: 10}), "1.2.4"},
		{"the row updated", entry("two", Revision{Row: 1, Version: 11}), "1.2.3"},
		{"another row, same content", entry("one", Revision{Row: 2, Version: 10}), "1.2.3"},
		{"no revision", entry("three", Revision{}), "1.2.3"},
		{"no revision, changed", entry("four", Revision{}), "1.2.3"},
	}
	for _, tc := range cases {
		if got, want := write(tc.obj, tc.home), oracle(tc.obj, tc.home); !bytes.Equal(got, want) {
			t.Fatalf("%s: the writer answered\n%s\nnot\n%s", tc.name, got, want)
		}
	}
	if s := w.FragmentCache(); s.Hits != 1 || s.Entries != 4 {
		t.Fatalf("fragment cache %+v, want one reuse and four fragments (objects without a revision are not kept)", s)
	}
	if !checked.Build() {
		t.Skip("not a checked build: this binary runs benchmarks (internal/checked)")
	}
	defer func() {
		if recover() == nil {
			t.Fatal("an object changed under its Revision was answered from the cache")
		}
	}()
	write(entry("changed in memory", Revision{Row: 1, Version: 10}), "1.2.3")
}

func TestFragmentCacheBound(t *testing.T) {
	c := newFragmentCache(64 * 2048)
	xml := bytes.Repeat([]byte("x"), 1000)
	key := func(kind fragmentKind, row int64) fragmentKey {
		return fragmentKey{kind: kind, revision: Revision{Row: row, Version: 1}}
	}
	for i := range 500 {
		c.put(key(fragmentDocumentEntry, int64(i)), xml)
		if s := c.stats(); s.Bytes > c.maxBytes {
			t.Fatalf("after %d puts the cache holds %d bytes, bound %d", i+1, s.Bytes, c.maxBytes)
		}
	}
	if _, ok := c.get(key(fragmentDocumentEntry, 0)); ok {
		t.Error("the least recently used fragment was kept")
	}
	if got, ok := c.get(key(fragmentDocumentEntry, 499)); !ok || !bytes.Equal(got, xml) {
		t.Error("the most recent fragment is missing")
	}
	// Replacing a fragment keeps the accounting exact.
	before := c.stats().Bytes
	c.put(key(fragmentDocumentEntry, 499), xml)
	if after := c.stats().Bytes; after != before {
		t.Errorf("replacing a fragment changed the byte count from %d to %d", before, after)
	}
	c.put(key(fragmentFolder, 1), make([]byte, c.maxBytes/64+1))
	if _, ok := c.get(key(fragmentFolder, 1)); ok {
		t.Error("an outsized fragment was cached")
	}
}

// TestAppendConcurrently renders results from several goroutines through a
// fragment cache too small to hold them, so that fragments are evicted and
// replaced while others read them (run with -race), and wants the tree
// renderer's bytes every time.
func TestAppendConcurrently(t *testing.T) {
	w := NewWriter(WriterConfig{FragmentCacheBytes: 64 * 4096})
	results := make([]*QueryResult, 4)
	want := make([][]byte, len(results))
	for r := range results {
		res := &QueryResult{}
		for i := range 12 {
			res.DocumentEntries = append(res.DocumentEntries, &DocumentEntry{
				Revision:  Revision{Row: int64(i + 1), Version: int64(r + 1)},
				EntryUUID: fmt.Sprintf("urn:uuid:00000000-0000-4000-8000-%012d", i), Status: fmt.Sprint("status ", r),
				ClassCode: Code{Code: "c", Scheme: "s", Display: "d"}, ConfidentialityCodes: []Code{{Code: "N", Scheme: "x"}},
				PatientID: "p", UniqueID: fmt.Sprint("1.2.", i),
			})
		}
		results[r] = res
		doc := etree.NewDocument()
		doc.SetRoot(RenderAdhocQueryResponse(res, ReturnLeafClass, "1.2.3", nil))
		b, err := doc.WriteToBytes()
		if err != nil {
			t.Fatal(err)
		}
		want[r] = b
	}
	var wg sync.WaitGroup
	failed := make(chan int, 8)
	for g := range 8 {
		wg.Go(func() {
			for i := range 40 {
				r := (g + i) % len(results)
				if got := w.AppendAdhocQueryResponse(nil, results[r], ReturnLeafClass, "1.2.3", nil); !bytes.Equal(got, want[r]) {
					failed <- r
					return
				}
			}
		})
	}
	wg.Wait()
	close(failed)
	for r := range failed {
		t.Fatalf("concurrent rendering of result %d differs from the tree renderer's", r)
	}
}

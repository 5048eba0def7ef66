package xds

import (
	"bytes"
	"fmt"
	"reflect"
	"sync"
	"testing"

	"github.com/beevik/etree"
)

// fillValue sets every field of v, recursively, to a non-zero value:
// strings, numbers, true, and slices of one filled element.
func fillValue(v reflect.Value) {
	switch v.Kind() {
	case reflect.String:
		v.SetString("v")
	case reflect.Int, reflect.Int64:
		v.SetInt(7)
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Struct:
		for i := range v.NumField() {
			fillValue(v.Field(i))
		}
	case reflect.Slice:
		s := reflect.MakeSlice(v.Type(), 1, 1)
		fillValue(s.Index(0))
		v.Set(s)
	default:
		panic("fillValue: unhandled kind " + v.Kind().String())
	}
}

// deepCopyValue returns a copy of v that shares no slice with it.
func deepCopyValue(v reflect.Value) reflect.Value {
	out := reflect.New(v.Type()).Elem()
	switch v.Kind() {
	case reflect.Struct:
		for i := range v.NumField() {
			out.Field(i).Set(deepCopyValue(v.Field(i)))
		}
	case reflect.Slice:
		if v.IsNil() {
			return out
		}
		s := reflect.MakeSlice(v.Type(), v.Len(), v.Len())
		for i := range v.Len() {
			s.Index(i).Set(deepCopyValue(v.Index(i)))
		}
		out.Set(s)
	default:
		out.Set(v)
	}
	return out
}

// mutator changes one leaf of a value (a field, a slice's length, a field
// of a slice's first element) and names it.
type mutator struct {
	name   string
	mutate func(v reflect.Value)
}

// mutators lists one mutator per leaf of type t.
func mutators(t reflect.Type) []mutator {
	switch t.Kind() {
	case reflect.String:
		return []mutator{{"", func(v reflect.Value) { v.SetString(v.String() + "!") }}}
	case reflect.Int, reflect.Int64:
		return []mutator{{"", func(v reflect.Value) { v.SetInt(v.Int() + 1) }}}
	case reflect.Bool:
		return []mutator{{"", func(v reflect.Value) { v.SetBool(!v.Bool()) }}}
	case reflect.Struct:
		var out []mutator
		for i := range t.NumField() {
			for _, m := range mutators(t.Field(i).Type) {
				out = append(out, mutator{"." + t.Field(i).Name + m.name, func(v reflect.Value) { m.mutate(v.Field(i)) }})
			}
		}
		return out
	case reflect.Slice:
		out := []mutator{
			{" longer", func(v reflect.Value) { v.Set(reflect.Append(v, v.Index(0))) }},
			{" emptied", func(v reflect.Value) { v.Set(v.Slice(0, 0)) }},
		}
		for _, m := range mutators(t.Elem()) {
			out = append(out, mutator{"[0]" + m.name, func(v reflect.Value) { m.mutate(v.Index(0)) }})
		}
		return out
	}
	panic("mutators: unhandled kind " + t.Kind().String())
}

// TestFragmentEqualityCoversEveryField changes each field of each cached
// model type in turn (recursively, slices included) and wants the equality
// that guards the fragment cache to notice: a field it missed would let a
// changed object be answered with its old XML. It also wants the cache's
// copies to share no slice with the original.
func TestFragmentEqualityCoversEveryField(t *testing.T) {
	tests := map[string]struct {
		obj   any // pointer to the model type
		equal func(a, b any) bool
		clone func(a any) any
	}{
		"DocumentEntry": {&DocumentEntry{},
			func(a, b any) bool { return equalDocumentEntry(a.(*DocumentEntry), b.(*DocumentEntry)) },
			func(a any) any { return cloneDocumentEntry(a.(*DocumentEntry)) }},
		"SubmissionSet": {&SubmissionSet{},
			func(a, b any) bool { return equalSubmissionSet(a.(*SubmissionSet), b.(*SubmissionSet)) },
			func(a any) any { return cloneSubmissionSet(a.(*SubmissionSet)) }},
		"Folder": {&Folder{},
			func(a, b any) bool { return equalFolder(a.(*Folder), b.(*Folder)) },
			func(a any) any { return cloneFolder(a.(*Folder)) }},
		"Association": {&Association{},
			func(a, b any) bool { return equalAssociation(a.(*Association), b.(*Association)) },
			func(a any) any { return cloneAssociation(a.(*Association)) }},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			base := reflect.ValueOf(tc.obj)
			fillValue(base.Elem())
			same := deepCopyValue(base.Elem()).Addr()
			if !tc.equal(base.Interface(), same.Interface()) {
				t.Fatal("a deep copy is not equal")
			}
			ms := mutators(base.Elem().Type())
			for _, m := range ms {
				changed := deepCopyValue(base.Elem()).Addr()
				m.mutate(changed.Elem())
				if tc.equal(base.Interface(), changed.Interface()) {
					t.Errorf("a change of %s%s goes unnoticed", name, m.name)
				}
			}
			// The cache's copy is its own: changing it anywhere leaves
			// the original as it was.
			pristine := deepCopyValue(base.Elem())
			for _, m := range ms {
				c := reflect.ValueOf(tc.clone(base.Interface()))
				if !tc.equal(base.Interface(), c.Interface()) {
					t.Fatal("the clone is not equal to the original")
				}
				m.mutate(c.Elem())
				if !reflect.DeepEqual(base.Elem().Interface(), pristine.Interface()) {
					t.Fatalf("changing the clone's %s changed the original", m.name)
				}
			}
		})
	}
}

func TestFragmentCacheBound(t *testing.T) {
	c := newFragmentCache(64 * 2048)
	xml := bytes.Repeat([]byte("x"), 1000)
	for i := range 500 {
		c.put(fragmentKey{kind: fragmentDocumentEntry, id: fmt.Sprint(i)}, &DocumentEntry{}, xml)
		if c.bytes > c.maxBytes {
			t.Fatalf("after %d puts the cache holds %d bytes, bound %d", i+1, c.bytes, c.maxBytes)
		}
	}
	if _, _, ok := c.get(fragmentKey{kind: fragmentDocumentEntry, id: "0"}); ok {
		t.Error("the least recently used fragment was kept")
	}
	if _, got, ok := c.get(fragmentKey{kind: fragmentDocumentEntry, id: "499"}); !ok || !bytes.Equal(got, xml) {
		t.Error("the most recent fragment is missing")
	}
	// Replacing a fragment keeps the accounting exact.
	before := c.bytes
	c.put(fragmentKey{kind: fragmentDocumentEntry, id: "499"}, &DocumentEntry{}, xml)
	if c.bytes != before {
		t.Errorf("replacing a fragment changed the byte count from %d to %d", before, c.bytes)
	}
	c.put(fragmentKey{kind: fragmentFolder, id: "huge"}, &Folder{}, make([]byte, c.maxBytes/64+1))
	if _, _, ok := c.get(fragmentKey{kind: fragmentFolder, id: "huge"}); ok {
		t.Error("an outsized fragment was cached")
	}
}

// TestAppendConcurrently renders results from several goroutines through a
// fragment cache too small to hold them, so that fragments are evicted and
// replaced while others read them (run with -race), and wants the tree
// renderer's bytes every time.
func TestAppendConcurrently(t *testing.T) {
	saved := renderedObjects
	renderedObjects = newFragmentCache(64 * 4096)
	defer func() { renderedObjects = saved }()
	results := make([]*QueryResult, 4)
	want := make([][]byte, len(results))
	for r := range results {
		res := &QueryResult{}
		for i := range 12 {
			res.DocumentEntries = append(res.DocumentEntries, &DocumentEntry{
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
				if got := AppendAdhocQueryResponse(nil, results[r], ReturnLeafClass, "1.2.3", nil); !bytes.Equal(got, want[r]) {
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

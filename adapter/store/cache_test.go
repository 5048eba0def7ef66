package store

import (
	"context"
	"database/sql"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"kjdd/internal/checked"
	"kjdd/xds/query"
	"kjdd/xds/rim"
)

// seedEntries registers n Approved entries of testPatient.
func seedEntries(t *testing.T, s *Store, n int) {
	t.Helper()
	mustRegister(t, s, func(tx *Tx) error {
		for i := range n {
			if err := tx.InsertDocumentEntry(context.Background(), entry(i, testPatient, rim.StatusApproved)); err != nil {
				return err
			}
		}
		return nil
	})
}

// TestObjectCacheServesSharedObjects reads the same objects cold and warm,
// by every read path, and wants equal objects, the warm ones the very
// objects the cache holds (they are read-only; cache.go).
func TestObjectCacheServesSharedObjects(t *testing.T) {
	ctx := context.Background()
	for _, b := range backends(t) {
		t.Run(b.name, func(t *testing.T) {
			s := b.open(t)
			seedEntries(t, s, 3)
			reads := map[string]func() ([]*rim.DocumentEntry, error){
				"by patient": func() ([]*rim.DocumentEntry, error) {
					return s.DocumentEntriesByPatient(ctx, testPatient, []string{rim.StatusApproved})
				},
				"by entryUUID": func() ([]*rim.DocumentEntry, error) {
					return s.DocumentEntries(ctx, query.Lookup{EntryUUIDs: []string{uuid("0de0", 0), uuid("0de0", 1), uuid("0de0", 2)}})
				},
				"by uniqueId": func() ([]*rim.DocumentEntry, error) {
					return s.DocumentEntries(ctx, query.Lookup{UniqueIDs: []string{"2.25.1000.0", "2.25.1000.1", "2.25.1000.2"}})
				},
			}
			for name, read := range reads {
				t.Run(name, func(t *testing.T) {
					cold, err := read()
					if err != nil || len(cold) != 3 {
						t.Fatalf("cold read: %d entries, %v", len(cold), err)
					}
					warm, err := read()
					if err != nil || len(warm) != 3 {
						t.Fatalf("warm read: %d entries, %v", len(warm), err)
					}
					for i, e := range warm {
						if want := entry(i, testPatient, rim.StatusApproved); !reflect.DeepEqual(withoutRevision(e), want) {
							t.Fatalf("warm entry %d = %+v, want %+v", i, e, want)
						}
						if e != cold[i] {
							t.Fatal("a warm read decoded an object again instead of sharing the cached one")
						}
					}
				})
			}
			if n := s.objects.len(); n != 3 {
				t.Errorf("cache holds %d objects, want the 3 read", n)
			}
		})
	}
}

// TestObjectCacheNeverStale changes objects after they were cached, through
// this Store and through a second instance on the same database, and wants
// every read to see the change.
func TestObjectCacheNeverStale(t *testing.T) {
	ctx := context.Background()
	for _, b := range fileBackends(t) {
		t.Run(b.name, func(t *testing.T) {
			s := b.open(t)
			other := b.open(t)
			seedEntries(t, s, 2)
			mustRegister(t, s, func(tx *Tx) error { return tx.InsertFolder(ctx, folder(1, testPatient)) })
			// Cache everything in s.
			if got, err := s.DocumentEntriesByPatient(ctx, testPatient, nil); err != nil || len(got) != 2 {
				t.Fatalf("warm-up: %d, %v", len(got), err)
			}
			if got, err := s.Folders(ctx, query.Lookup{EntryUUIDs: []string{uuid("f01d", 1)}}); err != nil || len(got) != 1 {
				t.Fatalf("warm-up folder: %d, %v", len(got), err)
			}
			writers := map[string]*Store{"same instance": s, "other instance": other}
			for name, w := range writers {
				t.Run(name, func(t *testing.T) {
					status := rim.StatusDeprecated
					if name == "other instance" {
						status = "urn:kjdd:test:status"
					}
					mustRegister(t, w, func(tx *Tx) error { return tx.SetStatus(ctx, uuid("0de0", 1), status) })
					stamp := "2026112112" + fmt.Sprint(len(name))
					mustRegister(t, w, func(tx *Tx) error { return tx.SetFolderLastUpdateTime(ctx, uuid("f01d", 1), stamp) })

					all, err := s.DocumentEntriesByPatient(ctx, testPatient, nil)
					if err != nil || len(all) != 2 || all[1].Status != status {
						t.Fatalf("by patient after SetStatus: %v, %v", all, err)
					}
					byID, err := s.DocumentEntries(ctx, query.Lookup{EntryUUIDs: []string{uuid("0de0", 1)}})
					if err != nil || len(byID) != 1 || byID[0].Status != status {
						t.Fatalf("by entryUUID after SetStatus: %v, %v", byID, err)
					}
					approved, err := s.DocumentEntriesByPatient(ctx, testPatient, []string{rim.StatusApproved})
					if err != nil || !slices.Equal(entryUUIDs(approved), []string{uuid("0de0", 0)}) {
						t.Fatalf("approved after SetStatus: %v, %v", entryUUIDs(approved), err)
					}
					f, err := s.Folders(ctx, query.Lookup{EntryUUIDs: []string{uuid("f01d", 1)}})
					if err != nil || len(f) != 1 || f[0].LastUpdateTime != stamp {
						t.Fatalf("folder after SetFolderLastUpdateTime: %+v, %v", f, err)
					}
				})
			}
		})
	}
}

// racingQuerier runs hook before the query with index at (counting from 0).
type racingQuerier struct {
	querier
	at    int32
	calls atomic.Int32
	hook  func()
}

func (r *racingQuerier) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	if r.calls.Add(1)-1 == r.at {
		r.hook()
	}
	return r.querier.QueryContext(ctx, query, args...)
}

// TestKeyedReadRetriesWhenRowsChange deprecates an entry between the two
// statements of a cached read of Approved entries. The result must be
// consistent: the entry is not returned as Deprecated by a query for
// Approved ones.
func TestKeyedReadRetriesWhenRowsChange(t *testing.T) {
	ctx := context.Background()
	for _, b := range fileBackends(t) {
		t.Run(b.name, func(t *testing.T) {
			s := b.open(t)
			writer := b.open(t)
			seedEntries(t, s, 2)
			rq := &racingQuerier{querier: s.reads, at: 1, hook: func() {
				mustRegister(t, writer, func(tx *Tx) error { return tx.SetStatus(ctx, uuid("0de0", 1), rim.StatusDeprecated) })
			}}
			got, err := byPatient[rim.DocumentEntry](ctx, s.d, rq, s.objects, nil, tableDocumentEntries, testPatient, []string{rim.StatusApproved})
			if err != nil {
				t.Fatal(err)
			}
			for _, e := range got {
				if e.Status != rim.StatusApproved {
					t.Fatalf("a read of Approved entries returned %s as %s", e.EntryUUID, e.Status)
				}
			}
			if ids := entryUUIDs(got); !slices.Equal(ids, []string{uuid("0de0", 0)}) {
				t.Fatalf("read after the change = %v, want only the entry still Approved", ids)
			}
			if n := rq.calls.Load(); n < 3 {
				t.Fatalf("%d queries: the read did not start over", n)
			}
		})
	}
}

func TestObjectCacheBound(t *testing.T) {
	c := newObjectCache(3)
	for i := range 5 {
		c.put(cacheKey{table: tableDocumentEntries, seq: int64(i)}, &rim.DocumentEntry{EntryUUID: fmt.Sprint(i)})
	}
	if c.len() != 3 {
		t.Fatalf("cache holds %d objects, bound 3", c.len())
	}
	// 2, 3, 4 are left; using 2 makes 3 the least recently used.
	if _, ok := c.get(cacheKey{table: tableDocumentEntries, seq: 2}); !ok {
		t.Fatal("object 2 missing")
	}
	c.put(cacheKey{table: tableDocumentEntries, seq: 5}, &rim.DocumentEntry{})
	tests := map[string]struct {
		seq  int64
		want bool
	}{
		"evicted first":           {0, false},
		"least recently used":     {3, false},
		"used again":              {2, true},
		"recent":                  {4, true},
		"newest":                  {5, true},
		"other table, same seq":   {-1, false},
		"same seq, other version": {-2, false},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			k := cacheKey{table: tableDocumentEntries, seq: tc.seq}
			switch tc.seq {
			case -1:
				k = cacheKey{table: tableFolders, seq: 2}
			case -2:
				k = cacheKey{table: tableDocumentEntries, seq: 2, version: 1}
			}
			if _, ok := c.get(k); ok != tc.want {
				t.Fatalf("cached = %v, want %v", ok, tc.want)
			}
		})
	}
}

func TestObjectCacheDisabled(t *testing.T) {
	s, err := Open(context.Background(), "sqlite::memory:", WithObjectCache(0))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	seedEntries(t, s, 2)
	for range 2 {
		got, err := s.DocumentEntriesByPatient(context.Background(), testPatient, nil)
		if err != nil || len(got) != 2 {
			t.Fatalf("read without cache: %d, %v", len(got), err)
		}
	}
	if s.objects != nil || s.objects.len() != 0 {
		t.Fatal("a disabled cache holds objects")
	}
}

// TestPreparedReadsBound reads with more distinct queries than are kept
// prepared: the rest run unprepared, with the same answers.
func TestPreparedReadsBound(t *testing.T) {
	ctx := context.Background()
	s := backend{name: "sqlite-memory", dsn: "sqlite::memory:"}.open(t)
	seedEntries(t, s, 3)
	for n := 1; n <= maxPreparedQueries+10; n++ {
		ids := []string{uuid("0de0", 0), uuid("0de0", 2)}
		for i := range n {
			ids = append(ids, fmt.Sprintf("urn:uuid:unknown-%d", i))
		}
		got, err := s.DocumentEntries(ctx, query.Lookup{EntryUUIDs: ids})
		if err != nil || !slices.Equal(entryUUIDs(got), []string{uuid("0de0", 0), uuid("0de0", 2)}) {
			t.Fatalf("lookup of %d ids: %v, %v", len(ids), entryUUIDs(got), err)
		}
	}
	s.reads.mu.Lock()
	n := len(s.reads.stmts)
	s.reads.mu.Unlock()
	if n > maxPreparedQueries {
		t.Fatalf("%d statements prepared, bound %d", n, maxPreparedQueries)
	}
}

// TestPatientKeyQueriesAreCovered checks with SQLite's planner that the
// first statement of a patient's read is answered from the index alone,
// and for one status without sorting.
func TestPatientKeyQueriesAreCovered(t *testing.T) {
	s := backend{name: "sqlite-memory", dsn: "sqlite::memory:"}.open(t)
	for _, table := range []string{tableDocumentEntries, tableSubmissionSets, tableFolders} {
		t.Run(table, func(t *testing.T) {
			query, args := byPatientQuery(table, "p", []string{"s"})
			plan := queryPlan(t, s, query, args)
			if len(plan) != 1 || !strings.Contains(plan[0], "COVERING INDEX") {
				t.Fatalf("plan %q: want one covering index search and no sort", plan)
			}
		})
	}
}

// TestObjectCacheGetAll: one lookup of several keys finds the cached ones
// in their places, nil for the others, and marks those it found recently
// used, as get does one by one.
func TestObjectCacheGetAll(t *testing.T) {
	key := func(seq int64) cacheKey { return cacheKey{table: tableDocumentEntries, seq: seq} }
	c := newObjectCache(3)
	for i := range 3 {
		c.put(key(int64(i)), &rim.DocumentEntry{EntryUUID: fmt.Sprint(i)})
	}
	var got []string
	c.getAll([]cacheKey{key(0), key(9), key(2)}, func(i int, obj any) {
		if obj == nil {
			got = append(got, fmt.Sprintf("%d:-", i))
			return
		}
		got = append(got, fmt.Sprintf("%d:%s", i, obj.(*rim.DocumentEntry).EntryUUID))
	})
	if want := []string{"0:0", "1:-", "2:2"}; !slices.Equal(got, want) {
		t.Fatalf("getAll found %v, want %v", got, want)
	}
	c.put(key(3), &rim.DocumentEntry{})
	for seq, want := range map[int64]bool{0: true, 1: false, 2: true, 3: true} {
		if _, ok := c.get(key(seq)); ok != want {
			t.Errorf("object %d cached = %v, want %v (1 was the least recently used)", seq, ok, want)
		}
	}
	var nilCache *objectCache
	n := 0
	nilCache.getAll([]cacheKey{key(0), key(1)}, func(_ int, obj any) {
		if obj == nil {
			n++
		}
	})
	if n != 2 {
		t.Fatalf("a nil cache reported %d of 2 keys missing", n)
	}
}

// TestRevisionNamesStoredVersion: every object the store reads carries the
// Revision of the row version it was decoded from, the same for every read
// and every instance while the row stands, and a new one once the row is
// updated: so the writer's fragment cache can key by it (rim.Revision).
func TestRevisionNamesStoredVersion(t *testing.T) {
	ctx := context.Background()
	for _, b := range fileBackends(t) {
		t.Run(b.name, func(t *testing.T) {
			s, other := b.open(t), b.open(t)
			if err := s.BulkInsertDocumentEntries(ctx, []*rim.DocumentEntry{entry(1, testPatient, rim.StatusApproved), entry(2, testPatient, rim.StatusApproved)}); err != nil {
				t.Fatal(err)
			}
			read := func(st *Store) []rim.Revision {
				t.Helper()
				des, err := st.DocumentEntries(ctx, query.Lookup{EntryUUIDs: []string{uuid("0de0", 1), uuid("0de0", 2)}})
				if err != nil || len(des) != 2 {
					t.Fatalf("read: %d entries, %v", len(des), err)
				}
				out := make([]rim.Revision, len(des))
				for i, d := range des {
					if d.Revision.IsZero() {
						t.Fatalf("entry %s read without a Revision", d.EntryUUID)
					}
					out[i] = d.Revision
				}
				return out
			}
			first := read(s)
			if first[0] == first[1] {
				t.Fatal("two rows read under one Revision")
			}
			if again, elsewhere := read(s), read(other); !slices.Equal(again, first) || !slices.Equal(elsewhere, first) {
				t.Fatalf("the same rows read as %v, %v by another instance, first %v", again, elsewhere, first)
			}
			if err := other.Register(ctx, func(tx *Tx) error { return tx.SetStatus(ctx, uuid("0de0", 1), rim.StatusDeprecated) }); err != nil {
				t.Fatal(err)
			}
			after := read(s)
			if after[0] == first[0] || after[0].Row != first[0].Row || after[1] != first[1] {
				t.Fatalf("after updating the first row: %v, before %v", after, first)
			}
		})
	}
}

// TestModifiedSharedObjectFailsLoudly: in checked builds a reader that
// modifies an object the store shares makes the next hand-out of it panic,
// instead of every later request seeing the change.
func TestModifiedSharedObjectFailsLoudly(t *testing.T) {
	if !checked.Build() {
		t.Skip("not a checked build: this binary runs benchmarks (internal/checked)")
	}
	ctx := context.Background()
	s := backends(t)[0].open(t)
	if err := s.BulkInsertDocumentEntries(ctx, []*rim.DocumentEntry{entry(1, testPatient, rim.StatusApproved)}); err != nil {
		t.Fatal(err)
	}
	read := func() *rim.DocumentEntry {
		t.Helper()
		des, err := s.DocumentEntriesByPatient(ctx, testPatient, nil)
		if err != nil || len(des) != 1 {
			t.Fatalf("read: %d entries, %v", len(des), err)
		}
		return des[0]
	}
	shared := read()
	if again := read(); again != shared {
		t.Fatal("the second read did not hand out the cached object")
	}
	shared.Title = "changed by a reader"
	defer func() {
		if recover() == nil {
			t.Fatal("a modified shared object was handed out again without complaint")
		}
	}()
	read()
}

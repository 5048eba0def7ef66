package consent

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
)

// counter records Resolver events.
type counter struct {
	mu sync.Mutex
	n  map[Event]int
}

func (c *counter) count(e Event) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.n == nil {
		c.n = map[Event]int{}
	}
	c.n[e]++
}

func (c *counter) get(e Event) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.n[e]
}

func TestResolverWithMemoryCache(t *testing.T) {
	ctx := context.Background()
	store := newRecordStore()
	rec := store.add(t, Sperring{Patient: patientA, Kind: KindDocument, DocumentUniqueID: idRecorded})
	var ev counter
	r := NewResolver(store, NewMemoryCache(0, 0), ResolverSettings{Count: ev.count})

	first, err := r.Inputs(ctx, patientA)
	if err != nil || len(first.Records) != 1 || first.Records[0].ID != rec.ID {
		t.Fatalf("Inputs() = %+v, %v", first, err)
	}
	second, err := r.Inputs(ctx, patientA)
	if err != nil || second.Version != first.Version {
		t.Fatalf("second Inputs() = %+v, %v", second, err)
	}
	if store.calls.Load() != 1 || ev.get(EventMiss) != 1 || ev.get(EventHit) != 1 {
		t.Errorf("store calls %d, misses %d, hits %d; want 1, 1, 1", store.calls.Load(), ev.get(EventMiss), ev.get(EventHit))
	}

	// A change is seen at once through Changed, not after the TTL.
	blockAll := store.add(t, Sperring{Patient: patientA, Kind: KindPatient})
	if err := r.Changed(ctx, patientA); err != nil {
		t.Fatal(err)
	}
	third, err := r.Inputs(ctx, patientA)
	if err != nil || len(third.Records) != 2 || third.Version <= first.Version {
		t.Fatalf("after change Inputs() = %+v, %v; want both records and a newer version", third, err)
	}
	d := Policy{}.Decide(Requester{HPRNumber: hprOther, PurposeOfUse: "TREAT"}, third, tableEntries())
	if !d.PatientBlocked {
		t.Error("patient-level record added through Changed not applied")
	}

	// Deleting the last record is a change too.
	store.remove(patientA, rec.ID)
	store.remove(patientA, blockAll.ID)
	if err := r.Changed(ctx, patientA); err != nil {
		t.Fatal(err)
	}
	if in, _ := r.Inputs(ctx, patientA); len(in.Records) != 0 {
		t.Errorf("after deleting every record Inputs() has %d records", len(in.Records))
	}
}

func TestResolverDeniesWhenStoreFails(t *testing.T) {
	ctx := context.Background()
	tests := map[string]struct {
		cache Cache
		warm  bool // read once before the store fails
		ok    bool
	}{
		"no cache":          {cache: nil},
		"cold memory cache": {cache: NewMemoryCache(0, 0)},
		// The store is the truth: without it a cached copy cannot be known
		// to be current (issue 10), so a warm cache is denied as well.
		"warm memory cache, denied too": {cache: NewMemoryCache(0, 0), warm: true},
		"store only, warmed nothing":    {cache: nil, warm: true},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			store := newRecordStore()
			store.add(t, Sperring{Patient: patientA, Kind: KindPractitioner, HPRNumber: hprBlocked})
			var ev counter
			r := NewResolver(store, tc.cache, ResolverSettings{Count: ev.count})
			if tc.warm {
				if _, err := r.Inputs(ctx, patientA); err != nil {
					t.Fatal(err)
				}
			}
			store.failing.Store(true)
			in, err := r.Inputs(ctx, patientA)
			if tc.ok {
				if err != nil || len(in.Records) != 1 {
					t.Fatalf("Inputs() = %+v, %v; want the cached inputs", in, err)
				}
				return
			}
			if !errors.Is(err, ErrUnavailable) {
				t.Fatalf("Inputs() error = %v, want ErrUnavailable", err)
			}
			if in.Patient != "" || in.Records != nil {
				t.Errorf("Inputs() returned %+v with its error", in)
			}
			if strings.Contains(err.Error(), patientA) {
				t.Errorf("error %q contains the national id", err)
			}
			if ev.get(EventStoreError) != 1 {
				t.Errorf("store errors counted %d, want 1", ev.get(EventStoreError))
			}
		})
	}
}

// foreignStore answers with another patient's inputs: a store bug that
// must not turn into a decision.
type foreignStore struct{ in Inputs }

func (s foreignStore) Inputs(context.Context, string) (Inputs, error) { return s.in, nil }

func (s foreignStore) Version(context.Context, string) (int64, error) { return s.in.Version, nil }

func TestResolverRefusesStoreInputsOfAnotherPatient(t *testing.T) {
	tests := map[string]Inputs{
		"inputs of another patient": {Patient: patientB},
		"record of another patient": {Patient: patientA, Records: []Sperring{{Patient: patientB, Kind: KindPatient}}},
		"invalid record":            {Patient: patientA, Records: []Sperring{{Patient: patientA, Kind: KindDocument}}},
		"negative version":          {Patient: patientA, Version: -1},
	}
	for name, in := range tests {
		t.Run(name, func(t *testing.T) {
			r := NewResolver(foreignStore{in: in}, NewMemoryCache(0, 0), ResolverSettings{})
			if _, err := r.Inputs(context.Background(), patientA); !errors.Is(err, ErrUnavailable) {
				t.Fatalf("Inputs() error = %v, want ErrUnavailable", err)
			}
		})
	}
}

func TestResolverRejectsBadPatient(t *testing.T) {
	r := NewResolver(newRecordStore(), nil, ResolverSettings{})
	for _, p := range []string{"", "1311690021", patientA + "^^^&2.16.578.1.12.4.1.4.1&ISO"} {
		if _, err := r.Inputs(context.Background(), p); !errors.Is(err, ErrInvalid) {
			t.Errorf("Inputs(%q) error = %v, want ErrInvalid", p, err)
		}
	}
}

func TestResolverWarnIsRateLimited(t *testing.T) {
	var buf bytes.Buffer
	r := NewResolver(newRecordStore(), nil, ResolverSettings{Logger: slog.New(slog.NewTextHandler(&buf, nil))})
	for range 100 {
		r.warn("sperring cache failed, reading the store", errors.New("boom"))
	}
	if n := strings.Count(buf.String(), "\n"); n != 1 {
		t.Errorf("%d log lines for 100 failures within the interval, want 1", n)
	}
}

// TestResolverSeesChangesTheCacheMissed: a change the cache never heard of
// (its write-through failed, its announcement never came) holds at the
// very next read: the cache's copy is older than the store's version, so
// the store is read and the cache repaired; a copy as new as the store's
// is used as it is.
func TestResolverSeesChangesTheCacheMissed(t *testing.T) {
	ctx := context.Background()
	for name, cache := range map[string]Cache{"memory cache": NewMemoryCache(0, 0)} {
		t.Run(name, func(t *testing.T) {
			store := newRecordStore()
			store.add(t, Sperring{Patient: patientA, Kind: KindPractitioner, HPRNumber: hprBlocked})
			var ev counter
			r := NewResolver(store, cache, ResolverSettings{Count: ev.count})
			if _, err := r.Inputs(ctx, patientA); err != nil { // fills the cache
				t.Fatal(err)
			}
			if in, err := r.Inputs(ctx, patientA); err != nil || len(in.Records) != 1 || ev.get(EventHit) != 1 {
				t.Fatalf("second read %+v, %v, %d hits; want the cached copy", in, err, ev.get(EventHit))
			}
			// A second record reaches the store only.
			store.add(t, Sperring{Patient: patientA, Kind: KindPatient})
			in, err := r.Inputs(ctx, patientA)
			if err != nil || len(in.Records) != 2 {
				t.Fatalf("after a change the cache missed: %+v, %v; want both records", in, err)
			}
			if ev.get(EventStale) != 1 {
				t.Fatalf("stale reads counted %d, want 1", ev.get(EventStale))
			}
			reads := store.calls.Load()
			if in, err := r.Inputs(ctx, patientA); err != nil || len(in.Records) != 2 || store.calls.Load() != reads {
				t.Fatalf("after the repair: %+v, %v, %d store reads; want the repaired cache's copy", in, err, store.calls.Load()-reads)
			}
		})
	}
}

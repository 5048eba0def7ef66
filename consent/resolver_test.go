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
		"no cache":                   {cache: nil},
		"cold memory cache":          {cache: NewMemoryCache(0, 0)},
		"warm memory cache answers":  {cache: NewMemoryCache(0, 0), warm: true, ok: true},
		"store only, warmed nothing": {cache: nil, warm: true},
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

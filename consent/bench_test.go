package consent

import (
	"context"
	"fmt"
	"testing"

	"kjdd/xds/rim"
)

// BenchmarkDecide20 decides a typical listing: 20 entries, a few of them
// NORS, two document records and a block of another practitioner.
func BenchmarkDecide20(b *testing.B) {
	var entries []*rim.DocumentEntry
	for i := range 20 {
		id := fmt.Sprintf("2.16.578.1.12.4.5.100.1.3.%d", i)
		if i%7 == 0 {
			entries = append(entries, entry(patientA, id, nors))
		} else {
			entries = append(entries, entry(patientA, id))
		}
	}
	in := Inputs{Patient: patientA, Version: 1, Records: []Sperring{
		{ID: "rec-1", Patient: patientA, Kind: KindDocument, DocumentUniqueID: entries[3].UniqueID},
		{ID: "rec-2", Patient: patientA, Kind: KindDocument, DocumentUniqueID: entries[11].UniqueID},
		{ID: "rec-3", Patient: patientA, Kind: KindPractitioner, HPRNumber: hprOther},
	}}
	policies := map[string]Policy{
		"hide":      {OverridePurposes: DefaultOverridePurposes},
		"obfuscate": {OverridePurposes: DefaultOverridePurposes, Visibility: VisibilityObfuscate, ObfuscationKey: testKey},
	}
	for name, p := range policies {
		b.Run(name, func(b *testing.B) {
			req := Requester{HPRNumber: hprBlocked, PurposeOfUse: "TREAT"}
			b.ReportAllocs()
			for b.Loop() {
				d := p.Decide(req, in, entries)
				if len(d.Visible()) != 20-3-2 && len(d.Visible()) != 20 {
					b.Fatalf("%d visible", len(d.Visible()))
				}
			}
		})
	}
}

// BenchmarkResolverWarm reads a cached patient: from the in-process layer
// in front of Redis, from Redis itself, and from the single-instance
// memory cache.
func BenchmarkResolverWarm(b *testing.B) {
	srv := startRedis(b)
	ctx := context.Background()
	store := newRecordStore()
	store.add(b, Sperring{Patient: patientA, Kind: KindDocument, DocumentUniqueID: idRecorded})
	store.add(b, Sperring{Patient: patientA, Kind: KindPractitioner, HPRNumber: hprOther})
	caches := map[string]func() Cache{
		"redis+local": func() Cache {
			c := newRedisCache(b, srv, RedisSettings{})
			waitFor(b, "subscribed", c.Subscribed)
			return c
		},
		"redis":  func() Cache { return newRedisCache(b, srv, RedisSettings{LocalSize: -1}) },
		"memory": func() Cache { return NewMemoryCache(0, 0) },
	}
	for name, mk := range caches {
		b.Run(name, func(b *testing.B) {
			r := NewResolver(store, mk(), ResolverSettings{})
			if err := r.Changed(ctx, patientA); err != nil {
				b.Fatal(err)
			}
			if _, err := r.Inputs(ctx, patientA); err != nil {
				b.Fatal(err)
			}
			calls := store.calls.Load()
			b.ReportAllocs()
			for b.Loop() {
				if _, err := r.Inputs(ctx, patientA); err != nil {
					b.Fatal(err)
				}
			}
			if n := store.calls.Load() - calls; n > 2 {
				b.Fatalf("warm reads went to the store %d times", n)
			}
		})
	}
}

// BenchmarkResolverMiss reads patients Redis has never seen: Redis miss,
// store read, write-through to Redis (with its notification).
func BenchmarkResolverMiss(b *testing.B) {
	srv := startRedis(b)
	ctx := context.Background()
	store := newRecordStore()
	c := newRedisCache(b, srv, RedisSettings{})
	waitFor(b, "subscribed", c.Subscribed)
	r := NewResolver(store, c, ResolverSettings{})
	var i int64
	b.ReportAllocs()
	for b.Loop() {
		i++
		if _, err := r.Inputs(ctx, fmt.Sprintf("%011d", 10_000_000_000+i)); err != nil {
			b.Fatal(err)
		}
	}
	if got := store.calls.Load(); got != i {
		b.Fatalf("%d store reads for %d misses", got, i)
	}
}

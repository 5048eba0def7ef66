package consent

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

var redisKeyPattern = regexp.MustCompile(`^kjdd:sperring:[0-9a-f]{64}$`)

func TestRedisKeysAndValuesHideIdentity(t *testing.T) {
	srv := startRedis(t)
	ctx := context.Background()
	raw := srv.client(t)
	sub := raw.Subscribe(ctx, RedisChannel)
	defer sub.Close()
	if _, err := sub.Receive(ctx); err != nil {
		t.Fatal(err)
	}

	c := newRedisCache(t, srv, RedisSettings{})
	in := Inputs{Patient: patientA, Version: 3, Records: []Sperring{
		{ID: "rec-1", Patient: patientA, Kind: KindPractitioner, HPRNumber: hprBlocked, Reason: "Naboen Kari Nordmann", CreatedBy: "dips"},
		{ID: "rec-2", Patient: patientA, Kind: KindDocument, DocumentUniqueID: idRecorded, Reason: "Pasientens ønske"},
	}}
	if err := c.Put(ctx, in); err != nil {
		t.Fatal(err)
	}

	keys, err := raw.Keys(ctx, "*").Result()
	if err != nil {
		t.Fatal(err)
	}
	if len(keys) != 1 || !redisKeyPattern.MatchString(keys[0]) {
		t.Fatalf("keys %q, want one kjdd:sperring:<64 hex>", keys)
	}
	fields, err := raw.HGetAll(ctx, keys[0]).Result()
	if err != nil {
		t.Fatal(err)
	}
	for name, v := range fields {
		for _, secret := range []string{patientA, "Nordmann", "ønske", "dips"} {
			if strings.Contains(v, secret) {
				t.Errorf("field %s contains %q: %s", name, secret, v)
			}
		}
	}
	if ttl := raw.PTTL(ctx, keys[0]).Val(); ttl <= 0 || ttl > DefaultRedisTTL {
		t.Errorf("key TTL %v, want within (0, %v]", ttl, DefaultRedisTTL)
	}

	msg, err := sub.ReceiveMessage(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if RedisKeyPrefix+msg.Payload != keys[0] {
		t.Errorf("notification %q does not name key %q", msg.Payload, keys[0])
	}

	got, ok, err := c.Get(ctx, patientA)
	if err != nil || !ok {
		t.Fatalf("Get() = %v, %v", ok, err)
	}
	d := Policy{}.Decide(Requester{HPRNumber: hprBlocked}, got, tableEntries())
	if !d.PractitionerBlocked {
		t.Error("inputs read back from Redis lost the practitioner block")
	}
	if got.Records[1].DocumentUniqueID != idRecorded || got.Records[1].ID != "rec-2" || got.Records[0].Reason != "" {
		t.Errorf("read back %+v, want decision fields only", got.Records)
	}
}

func TestRedisCacheVersions(t *testing.T) {
	srv := startRedis(t)
	ctx := context.Background()
	c := newRedisCache(t, srv, RedisSettings{LocalSize: -1})
	put := func(v int64) {
		t.Helper()
		if err := c.Put(ctx, Inputs{Patient: patientA, Version: v}); err != nil {
			t.Fatal(err)
		}
	}
	version := func() int64 {
		t.Helper()
		in, ok, err := c.Get(ctx, patientA)
		if err != nil || !ok {
			t.Fatalf("Get() = %v, %v", ok, err)
		}
		return in.Version
	}
	const big = int64(1) << 62 // beyond what a Lua double holds exactly
	steps := []struct {
		name string
		put  int64
		want int64
	}{
		{"first put", 5, 5},
		{"newer replaces", 9, 9},
		{"older never replaces", 3, 9},
		{"same version rewrites", 9, 9},
		{"large version", big, big},
		{"large version one less never replaces", big - 1, big},
		{"large version one more replaces", big + 1, big + 1},
	}
	for _, s := range steps {
		t.Run(s.name, func(t *testing.T) {
			put(s.put)
			if got := version(); got != s.want {
				t.Errorf("after Put(%d) version %d, want %d", s.put, got, s.want)
			}
		})
	}
	if err := c.Invalidate(ctx, patientA); err != nil {
		t.Fatal(err)
	}
	if _, ok, err := c.Get(ctx, patientA); ok || err != nil {
		t.Errorf("after Invalidate Get() = %v, %v; want a miss", ok, err)
	}
}

// TestRedisChangeSeenByOtherInstance: two instances share Redis; a change
// made through one is used by the other although the other holds the old
// inputs in its in-process layer with a TTL far beyond the deadline.
func TestRedisChangeSeenByOtherInstance(t *testing.T) {
	srv := startRedis(t)
	ctx := context.Background()
	store := newRecordStore()
	settings := RedisSettings{LocalTTL: time.Minute}
	cacheA, cacheB := newRedisCache(t, srv, settings), newRedisCache(t, srv, settings)
	var evB counter
	a := NewResolver(store, cacheA, ResolverSettings{})
	b := NewResolver(store, cacheB, ResolverSettings{Count: evB.count})
	waitFor(t, "both instances subscribed", func() bool { return cacheA.Subscribed() && cacheB.Subscribed() })

	store.add(t, Sperring{Patient: patientA, Kind: KindDocument, DocumentUniqueID: idRecorded})
	if err := a.Changed(ctx, patientA); err != nil {
		t.Fatal(err)
	}
	old, err := b.Inputs(ctx, patientA)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.Inputs(ctx, patientA); err != nil {
		t.Fatal(err)
	}
	if cacheB.local.len() != 1 || evB.get(EventHit) != 2 || store.calls.Load() != 1 {
		t.Fatalf("instance B: local entries %d, hits %d, store calls %d; want 1, 2, 1 (served from cache)",
			cacheB.local.len(), evB.get(EventHit), store.calls.Load())
	}

	for round := range 3 {
		committed := time.Now()
		store.add(t, Sperring{Patient: patientA, Kind: KindPractitioner, HPRNumber: hprBlocked})
		if err := a.Changed(ctx, patientA); err != nil {
			t.Fatal(err)
		}
		writeThrough := time.Since(committed)
		var seen Inputs
		waitFor(t, "instance B sees the change", func() bool {
			seen, err = b.Inputs(ctx, patientA)
			return err == nil && seen.Version > old.Version
		})
		t.Logf("round %d: change visible on the other instance %v after commit (write-through %v)",
			round, time.Since(committed), writeThrough)
		d := Policy{}.Decide(Requester{HPRNumber: hprBlocked, PurposeOfUse: "BTG"}, seen, tableEntries())
		if !d.PractitionerBlocked || len(d.Visible()) != 0 {
			t.Fatalf("instance B does not apply the new practitioner block: %+v", d)
		}
		old = seen
	}
}

// TestRedisSubscriptionBreakDropsLocalLayer: when an instance loses its
// subscription it cannot know what it missed, so it drops and bypasses its
// in-process layer, and uses it again after re-subscribing.
func TestRedisSubscriptionBreakDropsLocalLayer(t *testing.T) {
	srv := startRedis(t)
	ctx := context.Background()
	raw := srv.client(t)
	store := newRecordStore()
	c := newRedisCache(t, srv, RedisSettings{LocalTTL: time.Minute})
	r := NewResolver(store, c, ResolverSettings{})
	waitFor(t, "subscribed", c.Subscribed)

	store.add(t, Sperring{Patient: patientA, Kind: KindDocument, DocumentUniqueID: idRecorded})
	err := r.Changed(ctx, patientA)
	if err != nil {
		t.Fatal(err)
	}
	// The instance's own notification of that change drops its copy too,
	// so read until the copy stays.
	var v1 Inputs
	waitFor(t, "inputs in the in-process layer", func() bool {
		v1, err = r.Inputs(ctx, patientA)
		return err == nil && c.local.len() == 1
	})

	// Break the subscription, then change the value behind the
	// instance's back: its notification is lost for certain. Nothing is
	// read until the instance has re-subscribed, so only dropping the
	// layer on the break can make it see the change.
	confirmed := c.confirmed.Load()
	if err := raw.Do(ctx, "CLIENT", "KILL", "TYPE", "pubsub").Err(); err != nil {
		t.Fatal(err)
	}
	store.add(t, Sperring{Patient: patientA, Kind: KindPatient})
	v2, err := store.Inputs(ctx, patientA)
	if err != nil {
		t.Fatal(err)
	}
	h := c.hash(patientA)
	data, err := encodeCached(v2, h)
	if err != nil {
		t.Fatal(err)
	}
	if err := raw.HSet(ctx, RedisKeyPrefix+h, "v", fmt.Sprintf("%019d", v2.Version), "d", data).Err(); err != nil {
		t.Fatal(err)
	}
	took := waitFor(t, "re-subscribed", func() bool { return c.confirmed.Load() > confirmed && c.Subscribed() })
	t.Logf("re-subscribed %v after the subscription was killed", took)
	in, err := r.Inputs(ctx, patientA)
	if err != nil || in.Version != v2.Version {
		t.Fatalf("after re-subscribing Inputs() = version %d, %v; want %d, not the old %d", in.Version, err, v2.Version, v1.Version)
	}

	// Notifications work again after re-subscribing.
	if _, err := r.Inputs(ctx, patientA); err != nil {
		t.Fatal(err)
	}
	other := newRedisCache(t, srv, RedisSettings{})
	store.add(t, Sperring{Patient: patientA, Kind: KindPractitioner, HPRNumber: hprBlocked})
	if err := NewResolver(store, other, ResolverSettings{}).Changed(ctx, patientA); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "change after re-subscribing seen", func() bool {
		in, err := r.Inputs(ctx, patientA)
		return err == nil && len(in.Records) == 3
	})
}

func TestRedisDownReadsStoreThenDenies(t *testing.T) {
	srv := startRedis(t)
	ctx := context.Background()
	store := newRecordStore()
	c := newRedisCache(t, srv, RedisSettings{})
	var ev counter
	r := NewResolver(store, c, ResolverSettings{Count: ev.count})
	waitFor(t, "subscribed", c.Subscribed)
	store.add(t, Sperring{Patient: patientA, Kind: KindPatient})
	if _, err := r.Inputs(ctx, patientA); err != nil {
		t.Fatal(err)
	}

	srv.stop()
	waitFor(t, "subscription loss noticed", func() bool { return !c.Subscribed() })

	before := store.calls.Load()
	for i := range 3 {
		start := time.Now()
		in, err := r.Inputs(ctx, patientA)
		if err != nil || len(in.Records) != 1 || in.Records[0].Kind != KindPatient {
			t.Fatalf("with Redis down Inputs() = %+v, %v; want the store's records", in, err)
		}
		t.Logf("read %d with Redis down took %v", i, time.Since(start))
	}
	if store.calls.Load()-before != 3 || ev.get(EventCacheError) != 3 {
		t.Errorf("store reads %d, cache errors %d; want 3 and 3", store.calls.Load()-before, ev.get(EventCacheError))
	}

	store.failing.Store(true)
	in, err := r.Inputs(ctx, patientA)
	if !errors.Is(err, ErrUnavailable) {
		t.Fatalf("with Redis and store down Inputs() error = %v, want ErrUnavailable", err)
	}
	if in.Patient != "" || in.Records != nil {
		t.Errorf("Inputs() returned %+v with its error", in)
	}
	if err := r.Changed(ctx, patientA); err == nil {
		t.Error("Changed() = nil although neither store nor Redis can be written")
	}
}

func TestRedisBadValueReadsStore(t *testing.T) {
	srv := startRedis(t)
	ctx := context.Background()
	raw := srv.client(t)
	c := newRedisCache(t, srv, RedisSettings{})
	other, err := encodeCached(Inputs{Patient: patientB, Version: 99}, c.hash(patientB))
	if err != nil {
		t.Fatal(err)
	}
	tests := map[string]string{
		"not JSON":                       "{",
		"value of another patient's key": other,
		"record of unknown kind":         `{"k":"` + c.hash(patientA) + `","v":1,"r":[{"kind":"folder"}]}`,
		"document record without id":     `{"k":"` + c.hash(patientA) + `","v":1,"r":[{"kind":"document"}]}`,
	}
	for name, value := range tests {
		t.Run(name, func(t *testing.T) {
			store := newRecordStore()
			store.add(t, Sperring{Patient: patientA, Kind: KindPatient})
			var ev counter
			r := NewResolver(store, newRedisCache(t, srv, RedisSettings{}), ResolverSettings{Count: ev.count})
			if err := raw.HSet(ctx, RedisKeyPrefix+c.hash(patientA), "v", "0000000000000000099", "d", value).Err(); err != nil {
				t.Fatal(err)
			}
			in, err := r.Inputs(ctx, patientA)
			if err != nil || len(in.Records) != 1 || in.Records[0].Kind != KindPatient {
				t.Fatalf("Inputs() = %+v, %v; want the store's records", in, err)
			}
			if ev.get(EventCacheError) != 1 || store.calls.Load() != 1 {
				t.Errorf("cache errors %d, store calls %d; want 1, 1", ev.get(EventCacheError), store.calls.Load())
			}
			// The bad value is gone: the next read is a clean miss that
			// refills Redis, and the one after that a hit.
			for range 2 {
				if _, err := r.Inputs(ctx, patientA); err != nil {
					t.Fatal(err)
				}
			}
			if ev.get(EventMiss) != 1 || ev.get(EventHit) != 1 || ev.get(EventCacheError) != 1 {
				t.Errorf("after the bad value: misses %d, hits %d, cache errors %d; want 1, 1, 1",
					ev.get(EventMiss), ev.get(EventHit), ev.get(EventCacheError))
			}
		})
	}
}

func TestNewRedisCacheValidates(t *testing.T) {
	client := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1"})
	defer client.Close()
	tests := map[string]struct {
		client redis.UniversalClient
		secret []byte
	}{
		"no client":    {client: nil, secret: testKey},
		"no secret":    {client: client},
		"short secret": {client: client, secret: testKey[:MinKeyLength-1]},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			c, err := NewRedisCache(tc.client, RedisSettings{KeySecret: tc.secret})
			if err == nil {
				_ = c.Close()
				t.Fatal("NewRedisCache() = nil error")
			}
		})
	}
}

// FuzzDecodeCached: whatever is in Redis, decoding either fails or yields
// valid inputs of the asked patient that encode back to the same records.
func FuzzDecodeCached(f *testing.F) {
	const key = "5f1d0cbbd1a6f7bd4f0e8b6c2b9a4f2ad3b5e1c7a9f0d2e4c6b8a0f1e3d5c7b9"
	seeds := []Inputs{
		{Patient: patientA, Version: 1},
		{Patient: patientA, Version: 7, Records: []Sperring{recDoc3, recDoc4, recPrac, recPat}},
	}
	for _, in := range seeds {
		s, err := encodeCached(in, key)
		if err != nil {
			f.Fatal(err)
		}
		f.Add([]byte(s))
	}
	f.Add([]byte(`{"k":"` + key + `","v":-1}`))
	f.Add([]byte(`{"k":"` + key + `","v":1,"r":[{"kind":"practitioner","hpr":"12a"}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		in, err := decodeCached(data, key, patientA)
		if err != nil {
			if in.Patient != "" || in.Records != nil {
				t.Fatalf("partial inputs %+v with error %v", in, err)
			}
			return
		}
		if err := checkInputs(in, patientA); err != nil {
			t.Fatalf("decoded invalid inputs: %v", err)
		}
		s, err := encodeCached(in, key)
		if err != nil {
			t.Fatal(err)
		}
		back, err := decodeCached([]byte(s), key, patientA)
		if err != nil {
			t.Fatal(err)
		}
		a, _ := json.Marshal(in)
		b, _ := json.Marshal(back)
		if string(a) != string(b) {
			t.Fatalf("round trip changed %s into %s", a, b)
		}
	})
}

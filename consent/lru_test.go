package consent

import (
	"testing"
	"time"
)

// clock is a settable time source for TTL tests.
type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

func TestLRU(t *testing.T) {
	in := func(v int64) Inputs { return Inputs{Patient: patientA, Version: v} }
	tests := map[string]struct {
		run  func(c *lru, clk *clock)
		key  string
		want int64 // version expected under key; -1: absent
	}{
		"ok/put then get": {
			run: func(c *lru, _ *clock) { c.put("a", in(3)) }, key: "a", want: 3,
		},
		"ok/newer version replaces": {
			run: func(c *lru, _ *clock) { c.put("a", in(3)); c.put("a", in(4)) }, key: "a", want: 4,
		},
		"ok/older version never replaces a live newer one": {
			run: func(c *lru, _ *clock) { c.put("a", in(4)); c.put("a", in(3)) }, key: "a", want: 4,
		},
		"ok/older version replaces an expired newer one": {
			run: func(c *lru, clk *clock) { c.put("a", in(4)); clk.t = clk.t.Add(time.Minute); c.put("a", in(3)) }, key: "a", want: 3,
		},
		"expired/after ttl": {
			run: func(c *lru, clk *clock) { c.put("a", in(3)); clk.t = clk.t.Add(10 * time.Second) }, key: "a", want: -1,
		},
		"live/just before ttl": {
			run: func(c *lru, clk *clock) { c.put("a", in(3)); clk.t = clk.t.Add(10*time.Second - 1) }, key: "a", want: 3,
		},
		"evicted/least recently used goes first": {
			run: func(c *lru, _ *clock) {
				c.put("a", in(1))
				c.put("b", in(1))
				c.get("a") // a is now more recent than b
				c.put("c", in(1))
			}, key: "b", want: -1,
		},
		"kept/recently used survives eviction": {
			run: func(c *lru, _ *clock) {
				c.put("a", in(1))
				c.put("b", in(1))
				c.get("a")
				c.put("c", in(1))
			}, key: "a", want: 1,
		},
		"removed": {
			run: func(c *lru, _ *clock) { c.put("a", in(1)); c.remove("a") }, key: "a", want: -1,
		},
		"purged": {
			run: func(c *lru, _ *clock) { c.put("a", in(1)); c.put("b", in(1)); c.purge() }, key: "a", want: -1,
		},
		"refused/put with a generation older than a remove": {
			run: func(c *lru, _ *clock) { g := c.generation(); c.remove("other"); c.putIfGen("a", in(1), g) }, key: "a", want: -1,
		},
		"refused/put with a generation older than a purge": {
			run: func(c *lru, _ *clock) { g := c.generation(); c.purge(); c.putIfGen("a", in(1), g) }, key: "a", want: -1,
		},
		"ok/put with the current generation": {
			run: func(c *lru, _ *clock) { c.remove("other"); g := c.generation(); c.putIfGen("a", in(1), g) }, key: "a", want: 1,
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			clk := &clock{t: time.Unix(1700000000, 0)}
			c := newLRU(2, 10*time.Second, clk.now)
			tc.run(c, clk)
			got, ok := c.get(tc.key)
			switch {
			case tc.want < 0 && ok:
				t.Errorf("get(%q) = version %d, want absent", tc.key, got.Version)
			case tc.want >= 0 && (!ok || got.Version != tc.want):
				t.Errorf("get(%q) = %d, %v; want version %d", tc.key, got.Version, ok, tc.want)
			}
			if c.len() > 2 {
				t.Errorf("len() = %d beyond size 2", c.len())
			}
		})
	}
}

func TestLRUDisabled(t *testing.T) {
	c := newLRU(0, time.Minute, nil)
	c.put("a", Inputs{Patient: patientA})
	if _, ok := c.get("a"); ok {
		t.Error("a size-0 lru stored an entry")
	}
}

package lru

import (
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

// clock is a settable time source.
type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

func (c *clock) advance(d time.Duration) { c.t = c.t.Add(d) }

func TestCache(t *testing.T) {
	type cache = Cache[string, int]
	tests := map[string]struct {
		opts func(clk *clock) Options[int]
		run  func(c *cache, clk *clock)
		want map[string]int // key -> value expected by Get; -1: absent
		cost int            // Cost() after run, checked when want is met
	}{
		"add then get": {
			run:  func(c *cache, _ *clock) { c.Add("a", 1) },
			want: map[string]int{"a": 1, "b": -1}, cost: 1,
		},
		"add replaces": {
			run:  func(c *cache, _ *clock) { c.Add("a", 1); c.Add("a", 2) },
			want: map[string]int{"a": 2}, cost: 1,
		},
		"least recently added goes first": {
			run:  func(c *cache, _ *clock) { c.Add("a", 1); c.Add("b", 2); c.Add("c", 3) },
			want: map[string]int{"a": -1, "b": 2, "c": 3}, cost: 2,
		},
		"get marks used": {
			run:  func(c *cache, _ *clock) { c.Add("a", 1); c.Add("b", 2); c.Get("a"); c.Add("c", 3) },
			want: map[string]int{"a": 1, "b": -1, "c": 3}, cost: 2,
		},
		"peek does not mark used": {
			run:  func(c *cache, _ *clock) { c.Add("a", 1); c.Add("b", 2); c.Peek("a"); c.Add("c", 3) },
			want: map[string]int{"a": -1, "b": 2, "c": 3}, cost: 2,
		},
		"replacing marks used": {
			run:  func(c *cache, _ *clock) { c.Add("a", 1); c.Add("b", 2); c.Add("a", 9); c.Add("c", 3) },
			want: map[string]int{"a": 9, "b": -1, "c": 3}, cost: 2,
		},
		"remove": {
			run:  func(c *cache, _ *clock) { c.Add("a", 1); c.Add("b", 2); c.Remove("a") },
			want: map[string]int{"a": -1, "b": 2}, cost: 1,
		},
		"clear": {
			run:  func(c *cache, _ *clock) { c.Add("a", 1); c.Add("b", 2); c.Clear(); c.Add("c", 3) },
			want: map[string]int{"a": -1, "b": -1, "c": 3}, cost: 1,
		},
		"nothing kept without a bound": {
			opts: func(*clock) Options[int] { return Options[int]{} },
			run:  func(c *cache, _ *clock) { c.Add("a", 1) },
			want: map[string]int{"a": -1}, cost: 0,
		},
		"cost bounds the sum": {
			opts: func(*clock) Options[int] { return Options[int]{Max: 10, Cost: func(v int) int { return v }} },
			run:  func(c *cache, _ *clock) { c.Add("a", 4); c.Add("b", 4); c.Add("c", 3) },
			want: map[string]int{"a": -1, "b": 4, "c": 3}, cost: 7,
		},
		"a replacement is costed anew": {
			opts: func(*clock) Options[int] { return Options[int]{Max: 10, Cost: func(v int) int { return v }} },
			run:  func(c *cache, _ *clock) { c.Add("a", 2); c.Add("b", 2); c.Add("a", 7) },
			want: map[string]int{"a": 7, "b": 2}, cost: 9,
		},
		"an entry over the bound goes with everything": {
			opts: func(*clock) Options[int] { return Options[int]{Max: 10, Cost: func(v int) int { return v }} },
			run:  func(c *cache, _ *clock) { c.Add("a", 2); c.Add("b", 11) },
			want: map[string]int{"a": -1, "b": -1}, cost: 0,
		},
		"free entries do not count": {
			opts: func(*clock) Options[int] { return Options[int]{Max: 1, Cost: func(v int) int { return v }} },
			run:  func(c *cache, _ *clock) { c.Add("a", 0); c.Add("b", 0); c.Add("c", 1) },
			want: map[string]int{"a": 0, "b": 0, "c": 1}, cost: 1,
		},
		"live just before the ttl": {
			opts: ttl, run: func(c *cache, clk *clock) { c.Add("a", 1); clk.advance(10*time.Second - 1) },
			want: map[string]int{"a": 1}, cost: 1,
		},
		"expired at the ttl": {
			opts: ttl, run: func(c *cache, clk *clock) { c.Add("a", 1); clk.advance(10 * time.Second) },
			want: map[string]int{"a": -1}, cost: 0,
		},
		"peek sees no expired entry": {
			opts: ttl, run: func(c *cache, clk *clock) {
				c.Add("a", 1)
				clk.advance(time.Minute)
				if _, ok := c.Peek("a"); ok {
					panic("peek found an expired entry")
				}
			},
			want: map[string]int{"a": -1}, cost: 0,
		},
		"replacing restarts the ttl": {
			opts: ttl, run: func(c *cache, clk *clock) {
				c.Add("a", 1)
				clk.advance(9 * time.Second)
				c.Add("a", 2)
				clk.advance(9 * time.Second)
			},
			want: map[string]int{"a": 2}, cost: 1,
		},
		"getting does not extend the ttl": {
			opts: ttl, run: func(c *cache, clk *clock) {
				c.Add("a", 1)
				clk.advance(9 * time.Second)
				c.Get("a")
				clk.advance(time.Second)
			},
			want: map[string]int{"a": -1}, cost: 0,
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			clk := &clock{t: time.Unix(1700000000, 0)}
			o := Options[int]{Max: 2}
			if tc.opts != nil {
				o = tc.opts(clk)
			}
			c := New[string](o)
			tc.run(c, clk)
			for k, want := range tc.want {
				got, ok := c.Get(k)
				switch {
				case want < 0 && ok:
					t.Errorf("Get(%q) = %d, want absent", k, got)
				case want >= 0 && (!ok || got != want):
					t.Errorf("Get(%q) = %d, %v; want %d", k, got, ok, want)
				}
			}
			if c.Cost() != tc.cost {
				t.Errorf("Cost() = %d, want %d", c.Cost(), tc.cost)
			}
		})
	}
}

func ttl(clk *clock) Options[int] {
	return Options[int]{Max: 2, TTL: 10 * time.Second, Now: clk.now}
}

// oracle is the obvious LRU: a slice in use order, most recent first,
// scanned in full on every step.
type oracle struct {
	max     int
	ttl     time.Duration
	now     func() time.Time
	entries []oracleEntry
}

type oracleEntry struct {
	key, val int
	expires  time.Time
}

func (o *oracle) cost() int {
	n := 0
	for _, e := range o.entries {
		n += cost(e.val)
	}
	return n
}

func (o *oracle) find(k int) int {
	return slices.IndexFunc(o.entries, func(e oracleEntry) bool { return e.key == k })
}

func (o *oracle) expired(i int) bool { return o.ttl > 0 && !o.now().Before(o.entries[i].expires) }

func (o *oracle) get(k int, touch bool) (int, bool) {
	i := o.find(k)
	if i < 0 {
		return 0, false
	}
	if o.expired(i) {
		o.entries = slices.Delete(o.entries, i, i+1)
		return 0, false
	}
	e := o.entries[i]
	if touch {
		o.entries = slices.Insert(slices.Delete(o.entries, i, i+1), 0, e)
	}
	return e.val, true
}

func (o *oracle) add(k, v int) {
	if o.max <= 0 {
		return
	}
	if i := o.find(k); i >= 0 {
		o.entries = slices.Delete(o.entries, i, i+1)
	}
	o.entries = slices.Insert(o.entries, 0, oracleEntry{key: k, val: v, expires: o.now().Add(o.ttl)})
	for o.cost() > o.max {
		o.entries = o.entries[:len(o.entries)-1]
	}
}

func (o *oracle) remove(k int) bool {
	i := o.find(k)
	if i >= 0 {
		o.entries = slices.Delete(o.entries, i, i+1)
	}
	return i >= 0
}

// cost makes some values free and some larger than small bounds.
func cost(v int) int { return v % 7 }

// check runs ops (two bytes each: operation and key, value from the
// second) on a Cache and on the oracle and fails at the first difference.
func check(t *testing.T, max int, withTTL bool, ops []byte) {
	t.Helper()
	clk := &clock{t: time.Unix(1700000000, 0)}
	o := Options[int]{Max: max, Cost: cost}
	if withTTL {
		o.TTL, o.Now = 5*time.Second, clk.now
	}
	c := New[int](o)
	want := &oracle{max: max, ttl: o.TTL, now: clk.now}
	for i := 0; i+1 < len(ops); i += 2 {
		op, k, v := ops[i]%6, int(ops[i+1]%16), int(ops[i+1])
		switch op {
		case 0, 1:
			c.Add(k, v)
			want.add(k, v)
		case 2:
			got, ok := c.Get(k)
			w, wok := want.get(k, true)
			if got != w || ok != wok {
				t.Fatalf("step %d: Get(%d) = %d, %v; oracle %d, %v", i/2, k, got, ok, w, wok)
			}
		case 3:
			got, ok := c.Peek(k)
			w, wok := want.get(k, false)
			if got != w || ok != wok {
				t.Fatalf("step %d: Peek(%d) = %d, %v; oracle %d, %v", i/2, k, got, ok, w, wok)
			}
		case 4:
			if got, w := c.Remove(k), want.remove(k); got != w {
				t.Fatalf("step %d: Remove(%d) = %v; oracle %v", i/2, k, got, w)
			}
		case 5:
			if v%5 == 0 {
				c.Clear()
				want.entries = nil
			} else {
				clk.advance(time.Duration(v%4) * time.Second)
			}
		}
		if c.Len() != len(want.entries) || c.Cost() != want.cost() {
			t.Fatalf("step %d: Len %d Cost %d; oracle %d, %d", i/2, c.Len(), c.Cost(), len(want.entries), want.cost())
		}
	}
	// Same entries in the same order of use.
	var order []int
	for n := c.root.next; n != &c.root; n = n.next {
		order = append(order, n.key)
	}
	var wantOrder []int
	for _, e := range want.entries {
		wantOrder = append(wantOrder, e.key)
	}
	if !slices.Equal(order, wantOrder) {
		t.Fatalf("use order %v; oracle %v", order, wantOrder)
	}
}

// TestCacheAgainstOracle runs random operation sequences, with and
// without TTL, over bounds that do and do not bite.
func TestCacheAgainstOracle(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for round := range 300 {
		ops := make([]byte, 2*(1+rng.IntN(200)))
		for i := range ops {
			ops[i] = byte(rng.UintN(256))
		}
		max := rng.IntN(40)
		check(t, max, round%2 == 1, ops)
	}
}

func FuzzCache(f *testing.F) {
	f.Add(uint8(10), false, []byte{0, 1, 0, 2, 2, 1, 0, 3, 4, 2})
	f.Add(uint8(3), true, []byte{0, 6, 5, 3, 2, 6, 5, 5, 0, 13})
	f.Fuzz(func(t *testing.T, max uint8, withTTL bool, ops []byte) {
		check(t, int(max%64), withTTL, ops)
	})
}

// Package lru is a bounded map that lets its least recently used entries go
// first: the one cache shape behind kjdd's in-process caches (the store's
// decoded objects, consent's sperring inputs, xds' rendered fragments).
//
// A Cache is bounded by the summed cost of its entries: one per entry
// unless a cost function says otherwise (bytes, for instance). Entries may
// also expire a fixed time after they were added, by an injected clock.
//
// A Cache is not safe for concurrent use. Every caller in kjdd does more
// than one step under one lock (look up several keys at once, compare a
// version before replacing, check a generation), so it holds its own mutex
// around the Cache; a lock in here would be a second one on the hot path.
package lru

import "time"

// Options configure a Cache.
type Options[V any] struct {
	// Max bounds the summed cost of the entries. A Cache with Max <= 0
	// keeps nothing.
	Max int
	// Cost is what a value counts against Max; nil counts 1 per entry.
	// It must not be negative and must give the same answer for a value
	// every time (values are taken as immutable).
	Cost func(V) int
	// TTL, when positive, is how long an entry lives after it was added;
	// an expired entry is a miss and goes at the next look-up.
	TTL time.Duration
	// Now is the clock of TTL; time.Now when nil. Unused without TTL.
	Now func() time.Time
}

// Cache is a least-recently-used map from K to V. See the package comment
// for what it bounds and why it does not lock.
type Cache[K comparable, V any] struct {
	max   int
	cost  func(V) int
	ttl   time.Duration
	now   func() time.Time
	epoch time.Time // expiry times are offsets from it (8 bytes a node, not 24)
	total int
	items map[K]*node[K, V]
	// root is the sentinel of a circular list: root.next is the most
	// recently used entry, root.prev the least.
	root node[K, V]
}

type node[K comparable, V any] struct {
	key        K
	val        V
	cost       int
	expires    time.Duration // since epoch; zero without TTL
	prev, next *node[K, V]
}

// New returns an empty Cache.
func New[K comparable, V any](o Options[V]) *Cache[K, V] {
	c := &Cache[K, V]{max: o.Max, cost: o.Cost, ttl: o.TTL, now: o.Now, items: make(map[K]*node[K, V])}
	if c.ttl > 0 {
		if c.now == nil {
			c.now = time.Now
		}
		c.epoch = c.now()
	}
	c.root.next, c.root.prev = &c.root, &c.root
	return c
}

// Get returns the value under k and marks it most recently used.
func (c *Cache[K, V]) Get(k K) (V, bool) {
	n := c.live(k)
	if n == nil {
		var zero V
		return zero, false
	}
	c.unlink(n)
	c.pushFront(n)
	return n.val, true
}

// Peek returns the value under k without marking it used.
func (c *Cache[K, V]) Peek(k K) (V, bool) {
	n := c.live(k)
	if n == nil {
		var zero V
		return zero, false
	}
	return n.val, true
}

// live returns the unexpired node of k, dropping an expired one.
func (c *Cache[K, V]) live(k K) *node[K, V] {
	n, ok := c.items[k]
	if !ok {
		return nil
	}
	if c.ttl > 0 && c.now().Sub(c.epoch) >= n.expires {
		c.remove(n)
		return nil
	}
	return n
}

// Add puts v under k as the most recently used entry, replacing what was
// there (and restarting its TTL), then lets the least recently used
// entries go until the cost is within Max. An entry costing more than Max
// on its own therefore goes at once, with everything else; callers that
// mind refuse such values before adding them.
func (c *Cache[K, V]) Add(k K, v V) {
	if c.max <= 0 {
		return
	}
	cost := 1
	if c.cost != nil {
		cost = c.cost(v)
	}
	n, ok := c.items[k]
	if ok {
		c.total -= n.cost
		n.val, n.cost = v, cost
		c.unlink(n)
	} else {
		n = &node[K, V]{key: k, val: v, cost: cost}
		c.items[k] = n
	}
	if c.ttl > 0 {
		n.expires = c.now().Sub(c.epoch) + c.ttl
	}
	c.total += cost
	c.pushFront(n)
	for c.total > c.max {
		c.remove(c.root.prev)
	}
}

// Remove drops k and reports whether it was there (expired or not).
func (c *Cache[K, V]) Remove(k K) bool {
	n, ok := c.items[k]
	if ok {
		c.remove(n)
	}
	return ok
}

// Clear drops every entry.
func (c *Cache[K, V]) Clear() {
	clear(c.items)
	c.root.next, c.root.prev = &c.root, &c.root
	c.total = 0
}

// Len is the number of entries, expired ones not yet dropped included.
func (c *Cache[K, V]) Len() int { return len(c.items) }

// Cost is the summed cost of the entries.
func (c *Cache[K, V]) Cost() int { return c.total }

func (c *Cache[K, V]) remove(n *node[K, V]) {
	c.unlink(n)
	delete(c.items, n.key)
	c.total -= n.cost
}

func (c *Cache[K, V]) unlink(n *node[K, V]) {
	n.prev.next, n.next.prev = n.next, n.prev
	n.prev, n.next = nil, nil
}

func (c *Cache[K, V]) pushFront(n *node[K, V]) {
	n.prev, n.next = &c.root, c.root.next
	c.root.next.prev = n
	c.root.next = n
}

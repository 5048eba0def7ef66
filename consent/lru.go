package consent

import (
	"container/list"
	"sync"
	"time"
)

// lru is a size-bounded, time-bounded map of Inputs, least recently used
// out first. It keeps a generation counter that every invalidation bumps,
// so that a reader who fetched inputs before an invalidation cannot put
// them back after it (see putIfGen).
type lru struct {
	mu    sync.Mutex
	size  int
	ttl   time.Duration
	now   func() time.Time
	order *list.List // front: most recently used; values are *lruEntry
	items map[string]*list.Element
	gen   uint64
}

type lruEntry struct {
	key     string
	in      Inputs
	expires time.Time
}

func newLRU(size int, ttl time.Duration, now func() time.Time) *lru {
	if now == nil {
		now = time.Now
	}
	return &lru{size: size, ttl: ttl, now: now, order: list.New(), items: make(map[string]*list.Element)}
}

// get returns the live entry for key.
func (c *lru) get(key string) (Inputs, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	el, ok := c.items[key]
	if !ok {
		return Inputs{}, false
	}
	e := el.Value.(*lruEntry)
	if !c.now().Before(e.expires) {
		c.removeElement(el)
		return Inputs{}, false
	}
	c.order.MoveToFront(el)
	return e.in, true
}

// generation returns the current generation, to be passed to putIfGen.
func (c *lru) generation() uint64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.gen
}

// put stores in under key unless a live entry holds a newer version.
func (c *lru) put(key string, in Inputs) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.putLocked(key, in)
}

// putIfGen stores in under key only if nothing was invalidated since gen
// was read; it reports whether it stored.
func (c *lru) putIfGen(key string, in Inputs, gen uint64) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.gen != gen {
		return false
	}
	return c.putLocked(key, in)
}

func (c *lru) putLocked(key string, in Inputs) bool {
	if c.size <= 0 {
		return false
	}
	now := c.now()
	if el, ok := c.items[key]; ok {
		e := el.Value.(*lruEntry)
		if now.Before(e.expires) && e.in.Version > in.Version {
			return false
		}
		e.in, e.expires = in, now.Add(c.ttl)
		c.order.MoveToFront(el)
		return true
	}
	c.items[key] = c.order.PushFront(&lruEntry{key: key, in: in, expires: now.Add(c.ttl)})
	for c.order.Len() > c.size {
		c.removeElement(c.order.Back())
	}
	return true
}

// remove drops key and bumps the generation.
func (c *lru) remove(key string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	if el, ok := c.items[key]; ok {
		c.removeElement(el)
	}
}

// purge drops everything and bumps the generation.
func (c *lru) purge() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	c.order.Init()
	clear(c.items)
}

func (c *lru) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.order.Len()
}

func (c *lru) removeElement(el *list.Element) {
	c.order.Remove(el)
	delete(c.items, el.Value.(*lruEntry).key)
}
